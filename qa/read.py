"""Citation, Answer and SentenceReader: the best supporting sentences of the top passages, with a
calibrated score and an explicit no-answer."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from index.store import Store
from index.terms import terms
from qa.retrieve import Passage

#: What a not-found answer says.
NOT_FOUND = "The documents don't say."


@dataclass(frozen=True)
class Citation:
    """A verbatim span of a stored document: `quote == stored text of doc [start:end]`, checked."""

    doc: str
    title: str
    start: int
    end: int
    quote: str
    score: float


@dataclass(frozen=True)
class Answer:
    """`text` is the answer span (or NOT_FOUND); `score` is the calibrated probability that the documents
    answer the question; `citations` support the answer, best first; `passages` are the closest passages,
    kept also when nothing was found."""

    question: str
    text: str
    found: bool
    score: float
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage and the evidence that it answers the question."""

    passage: Passage
    start: int
    end: int
    text: str
    cosine: float  # embedding similarity of question and sentence
    coverage: float  # share of the question's term weight (IDF) found in the sentence
    context: float  # the same share over the sentence's whole passage


def _sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-value))


@dataclass(frozen=True)
class SentenceWeights:
    """Logistic models over a candidate's evidence; fitted as the README's calibration section says."""

    # Which sentence answers: P(sentence holds the answer).
    select: tuple[float, ...] = (6.0, 4.0, 1.0, 2.0, -6.0)  # cosine, coverage, context, passage score, bias
    # Whether anything answers: P(answerable) from the best sentence's evidence.
    found: tuple[float, ...] = (6.0, 4.0, 1.0, 2.0, -6.0)


class SentenceReader:
    """Scores every sentence of the best passages by embedding similarity and question-term coverage;
    answers with the best one, cites it and any sentence nearly as good, or abstains."""

    def __init__(
        self,
        store: Store,
        passages: int = 3,
        threshold: float = 0.5,
        weights: SentenceWeights = SentenceWeights(),
        max_citations: int = 3,
        citation_margin: float = 0.1,
    ) -> None:
        self.store = store
        self.passages = passages
        self.threshold = threshold
        self.weights = weights
        self.max_citations = max_citations
        self.citation_margin = citation_margin

    def candidates(self, question: str, vector: np.ndarray, passages: list[Passage]) -> list[Candidate]:
        """Every distinct sentence of the first `self.passages` passages, with its evidence. Sentence vectors
        come from the index (pooled when the chunk was embedded), so reading embeds nothing."""
        question_terms = sorted(set(terms(question)))
        weights = self.store.idf(question_terms)
        total = float(weights.sum()) or 1.0
        seen: set[tuple[str, int]] = set()
        candidates = []
        for passage in passages[: self.passages]:
            context = _coverage(question_terms, weights, passage.text) / total
            embedded = self.store.embedded(passage.chunk)
            text = self.store.document(passage.doc).text
            for (start, end), cosine in zip(embedded.sentences.tolist(), embedded.sentence_vectors @ vector):
                if (passage.doc, start) in seen:
                    continue
                seen.add((passage.doc, start))
                sentence = text[start:end]
                coverage = _coverage(question_terms, weights, sentence) / total
                candidates.append(Candidate(passage, start, end, sentence, float(cosine), coverage, context))
        return candidates

    @staticmethod
    def features(candidate: Candidate) -> tuple[float, ...]:
        return (candidate.cosine, candidate.coverage, candidate.context, candidate.passage.score, 1.0)

    def select_score(self, candidate: Candidate) -> float:
        """P(this sentence holds the answer)."""
        return _sigmoid(float(np.dot(self.weights.select, self.features(candidate))))

    def found_score(self, candidate: Candidate) -> float:
        """P(the documents answer the question), judged from the best sentence."""
        return _sigmoid(float(np.dot(self.weights.found, self.features(candidate))))

    def read(self, question: str, vector: np.ndarray, passages: list[Passage]) -> Answer:
        """The answer to `question` from `passages` (best first); `vector` is the question's embedding."""
        candidates = self.candidates(question, vector, passages)
        if not candidates:
            return Answer(question, NOT_FOUND, False, 0.0, [], passages)
        scored = sorted(((self.select_score(c), c) for c in candidates), key=lambda sc: -sc[0])
        best_score, best = scored[0]
        score = self.found_score(best)
        if score < self.threshold:
            return Answer(question, NOT_FOUND, False, score, [], passages)
        citations = [
            self.cite(c, s) for s, c in scored[: self.max_citations] if s >= best_score - self.citation_margin
        ]
        return Answer(question, best.text, True, score, citations, passages)

    def cite(self, candidate: Candidate, score: float) -> Citation:
        """A citation of `candidate`, its quote checked against the stored document text."""
        document = self.store.document(candidate.passage.doc)
        quote = document.text[candidate.start : candidate.end]
        if quote != candidate.text:
            raise AssertionError(f"citation offsets of {document.id} do not match its stored text")
        return Citation(document.id, document.title, candidate.start, candidate.end, quote, score)


def _coverage(question_terms: list[str], weights: np.ndarray, text: str) -> float:
    """Summed weight of the question terms that occur in `text`."""
    present = set(terms(text))
    return float(sum(w for t, w in zip(question_terms, weights) if t in present))
