"""Passage and Retriever: dense (FAISS) and BM25 (bm25s) search, fused by a convex combination."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.embedding import Embedder
from index.store import Store
from index.terms import terms


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk: `text == stored text of doc [start:end]`; `score` is the fused score in [0, 1]."""

    doc: str
    title: str
    start: int
    end: int
    text: str
    score: float
    dense: float  # cosine similarity of question and passage
    lexical: float  # BM25 score divided by the best BM25 score for this question
    chunk: int  # row of the chunk in the index


class Retriever:
    """Scores chunks with `weight * cosine + (1 - weight) * BM25 / best BM25`. The dense side is exact
    inner product search over the FAISS index; BM25 scores come from bm25s; each side proposes
    `candidates` chunks and the union is fused with both scores known for every candidate."""

    def __init__(self, store: Store, embedder: Embedder, weight: float = 0.5, candidates: int = 50) -> None:
        self.store = store
        self.embedder = embedder
        self.weight = weight
        self.candidates = candidates

    def search(self, question: str, k: int = 5, vector: np.ndarray | None = None) -> list[Passage]:
        """The `k` best passages for `question`, best first. `vector` is the question's embedding, if known."""
        if vector is None:
            vector = self.embedder.encode([question])[0]
        count = self.store.dense.ntotal
        pool = min(count, max(self.candidates, k))
        dense_scores, dense_rows = self.store.dense.search(vector[None, :].astype(np.float32), pool)
        lexical_all = self.store.bm25.get_scores(terms(question))
        lexical_rows = np.argpartition(-lexical_all, pool - 1)[:pool] if pool < count else np.arange(count)
        rows = np.union1d(dense_rows[0][dense_rows[0] >= 0], lexical_rows)
        cosine = self._cosines(vector, rows)
        best = float(lexical_all.max())
        lexical = lexical_all[rows] / best if best > 0 else np.zeros(len(rows))
        fused = self.weight * cosine + (1 - self.weight) * lexical
        order = np.argsort(-fused, kind="stable")[:k]
        return [self._passage(int(rows[i]), float(fused[i]), float(cosine[i]), float(lexical[i])) for i in order]

    def _cosines(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        vectors = np.vstack([self.store.dense.reconstruct(int(row)) for row in rows])
        return vectors @ vector

    def _passage(self, row: int, score: float, dense: float, lexical: float) -> Passage:
        chunk = self.store.chunks[row]
        title = self.store.document(chunk.doc_id).title
        return Passage(chunk.doc_id, title, chunk.start, chunk.end, chunk.text, score, dense, lexical, row)
