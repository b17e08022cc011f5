"""Passage and Retriever: dense (FAISS) and BM25 (bm25s) search, fused by a convex combination."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.config import require_numbers
from index.embedding import Embedder
from index.store import Store
from index.terms import terms
from qa.converse import Query


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk: `text == stored text of doc [start:end]`; `score` is the fused score."""

    doc: str
    title: str
    start: int
    end: int
    text: str
    score: float
    dense: float  # cosine similarity of question and passage
    sentence: float  # cosine similarity of question and the passage's closest sentence
    lexical: float  # BM25 score divided by the best BM25 score for this question
    chunk: int  # row of the chunk in the index


#: Weight of the expanded query's scores against the follow-up question's own (measured on tests/data dialogs).
EXPANSION_WEIGHT = 0.7


@dataclass(frozen=True)
class FusionWeights:
    """Weights of the three scores fused; measured on SQuAD dev (see README)."""

    dense: float = 0.1
    sentence: float = 0.6
    lexical: float = 0.3

    def __post_init__(self) -> None:
        require_numbers(self, real=("dense", "sentence", "lexical"))
        if min(self.dense, self.sentence, self.lexical) < 0 or self.dense + self.sentence + self.lexical == 0:
            raise ValueError(f"fusion weights must be 0 or more, and not all 0, not {self}")


class Retriever:
    """Scores chunks by `dense * cosine(question, chunk) + sentence * max cosine(question, chunk's sentences)
    + lexical * BM25 / best BM25`. Exact inner-product search over the FAISS index and BM25 (bm25s) each
    propose `candidates` chunks; the union is fused with every score known for every candidate."""

    def __init__(
        self, store: Store, embedder: Embedder, weights: FusionWeights = FusionWeights(), candidates: int = 50
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.weights = weights
        self.candidates = candidates

    def search(self, question: str, k: int = 5, vector: np.ndarray | None = None) -> list[Passage]:
        """The `k` best passages for `question`, best first. `vector` is the question's embedding, if known."""
        if vector is None:
            vector = self.embedder.encode([question], progress=False)[0]
        return self._top(self._scores(terms(question), vector, k), k)

    def search_expanded(self, query: Query, k: int, vectors: np.ndarray) -> list[Passage]:
        """Retrieval of a question and of its expansion with earlier turns' words, if any (`vectors` embed
        both), ranked by `(1 - EXPANSION_WEIGHT) * question score + EXPANSION_WEIGHT * expansion score`
        (a score is 0 where a chunk was not a candidate)."""
        own = terms(query.question)
        scores = self._scores(own, vectors[0], k)
        if not query.added:
            return self._top(scores, k)
        expanded = self._scores(own + terms(" ".join(query.added)), vectors[1], k)
        blended = {
            row: ((1 - EXPANSION_WEIGHT) * scores.get(row, (0.0,))[0] + EXPANSION_WEIGHT * values[0], *values[1:])
            for row, values in expanded.items()
        }
        for row, values in scores.items():
            blended.setdefault(row, ((1 - EXPANSION_WEIGHT) * values[0], *values[1:]))
        return self._top(blended, k)

    def _scores(self, words: list[str], vector: np.ndarray, k: int) -> dict[int, tuple[float, float, float, float]]:
        """Fused, chunk cosine, best-sentence cosine and normalized BM25 of every candidate chunk, by row;
        each side proposes `candidates` chunks, or `k` when more are asked for."""
        count = self.store.dense.ntotal
        pool = min(count, max(self.candidates, k))
        _, dense_rows = self.store.dense.search(vector[None, :].astype(np.float32), pool)
        lexical_all = self.store.bm25.get_scores(words) if words else np.zeros(count)  # "Why?" has no terms
        lexical_rows = np.argpartition(-lexical_all, pool - 1)[:pool] if pool < count else np.arange(count)
        rows = np.union1d(dense_rows[0][dense_rows[0] >= 0], lexical_rows)
        cosine = np.vstack([self.store.dense.reconstruct(int(row)) for row in rows]) @ vector
        sentence = self._best_sentences(vector, rows)
        best = float(lexical_all.max())
        lexical = lexical_all[rows] / best if best > 0 else np.zeros(len(rows))
        w = self.weights
        fused = w.dense * cosine + w.sentence * sentence + w.lexical * lexical
        return {int(r): (float(f), float(c), float(s), float(x)) for r, f, c, s, x in zip(rows, fused, cosine, sentence, lexical)}

    def _top(self, scores: dict[int, tuple[float, float, float, float]], k: int) -> list[Passage]:
        ranked = sorted(scores.items(), key=lambda item: (-item[1][0], item[0]))[:k]
        return [self._passage(row, *values) for row, values in ranked]

    def _best_sentences(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Highest cosine between the question and a sentence of each chunk."""
        starts = self.store.sentence_starts
        first, last = starts[rows], starts[rows + 1]
        gathered = np.concatenate([np.arange(a, b) for a, b in zip(first, last)])
        cosines = np.asarray(self.store.sentence_vectors[gathered], dtype=np.float32) @ vector
        return np.maximum.reduceat(cosines, np.concatenate([[0], np.cumsum(last - first)[:-1]]))

    def _passage(self, row: int, score: float, dense: float, sentence: float, lexical: float) -> Passage:
        chunk = self.store.chunks[row]
        title = self.store.document(chunk.doc_id).title
        return Passage(chunk.doc_id, title, chunk.start, chunk.end, chunk.text, score, dense, sentence, lexical, row)
