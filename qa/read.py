"""Citation, Answer, the Reader interface and SentenceReader: the best supporting sentences of the top
passages, with a calibrated score and an explicit no-answer."""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from index.store import Store
from index.terms import terms
from qa.config import SHIPPED_WEIGHTS
from qa.retrieve import Passage

from qa.converse import NOT_FOUND  # noqa: E402  (what a not-found answer says)


@dataclass(frozen=True)
class Citation:
    """A verbatim span of a stored document: `quote == stored text of doc [start:end]`, checked."""

    doc: str
    title: str
    start: int
    end: int
    quote: str
    score: float  # span reader: the calibrated probability of its span; sentence reader: its share of the evidence
    pages: list[int] = field(default_factory=list)  # PDF pages (from 1) the quote is on
    answer_start: int | None = None  # the short answer inside the quote, in document offsets (span reader)
    answer_end: int | None = None

    @property
    def answer(self) -> str:
        """The short answer (`quote` when the reader answers with whole sentences)."""
        return self.parts()[1]

    def parts(self) -> tuple[str, str, str]:
        """The quote cut around the short answer: (before, answer, after); ("", quote, "") without one."""
        if self.answer_start is None or self.answer_end is None:
            return "", self.quote, ""
        start, end = self.answer_start - self.start, self.answer_end - self.start
        return self.quote[:start], self.quote[start:end], self.quote[end:]


@dataclass(frozen=True)
class Answer:
    """`text` is the answer (the span reader's short answer, or the sentence reader's sentence; NOT_FOUND when
    the documents don't say); `score` is the calibrated probability that the documents answer the question;
    `citations` support the answer, best first: the sentences holding it, with the short answer's own offsets
    inside (`answer_start`, `answer_end`); `passages` are the closest passages and `closest` the best
    sentence, kept also when nothing was found."""

    question: str
    text: str
    found: bool
    score: float
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    closest: Citation | None = None  # the best sentence found, also when it was not good enough
    added: tuple[str, ...] = ()  # words of earlier turns added to the question before searching
    stale: bool = False  # the documents folder changed since the index was built: run `qa index`

    @property
    def query(self) -> str:
        """What was searched: the question, plus the words added from the conversation."""
        return " ".join((self.question, *self.added))

    def record(self) -> dict:
        """The JSON form: {"question", "query", "answer", "found", "score", "citations": [{"doc", "title",
        "start", "end", "quote", "score", "pages", "answer_start", "answer_end"}]}, as `qa ask --json` prints."""
        return {
            "question": self.question,
            "query": self.query,
            "answer": self.text,
            "found": self.found,
            "score": round(self.score, 4),
            "citations": [asdict(c) | {"score": round(c.score, 4)} for c in self.citations],
        }


class Reader(Protocol):
    """What every reader offers: an Answer from the retrieved passages, and the score it answers from."""

    threshold: float

    def read(self, question: str, vector: np.ndarray, passages: list[Passage]) -> Answer:
        """The answer to `question` from `passages` (best first); `vector` is the question's embedding."""


@dataclass(frozen=True)
class Ranking:
    """Sentences of the retrieved passages, most likely answering first, with their shares of the evidence
    (softmax of the sentence logits) and the logit that the documents answer the question at all."""

    candidates: list[Candidate]
    shares: list[float]
    found: float


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage and the evidence that it answers the question."""

    passage: Passage
    start: int
    end: int
    text: str
    evidence: dict[str, float]


#: Evidence the sentence choice weighs (see `evidence_of`).
SELECT_FEATURES = (
    "cosine", "coverage", "cosine_x_coverage", "coverage_squared", "passage_cosine", "passage_bm25",
    "log_length", "bigrams", "previous_coverage", "answer_type",
)
#: Evidence the found/not-found score weighs: the best sentence's, and how clearly it beats the rest.
FOUND_FEATURES = ("select", "margin", "cosine", "coverage", "passage_cosine", "passage_score", "bias")

_WORD = re.compile(r"\w+")
_ASKS_NUMBER = re.compile(r"\b(when|what year|which year|how many|how much|what percentage|how long|how old)\b")
_ASKS_NAME = re.compile(r"\b(who|whom|whose|where)\b")


def _answer_type(question: str, sentence: str) -> float:
    """1 when the question asks for a number (or a name) and the sentence holds one the question doesn't."""
    lowered = question.lower()
    if _ASKS_NUMBER.search(lowered):
        def matches(word: str) -> bool:
            return any(character.isdigit() for character in word)
    elif _ASKS_NAME.search(lowered):
        def matches(word: str) -> bool:
            return word[:1].isupper()
    else:
        return 0.0
    asked = set(_WORD.findall(lowered))
    return float(any(matches(word) for word in _WORD.findall(sentence) if word.lower() not in asked))


def _bigrams(words: list[str]) -> set[tuple[str, str]]:
    return set(zip(words, words[1:]))


@dataclass(frozen=True)
class ReaderWeights:
    """Weights of the two logistic models, by feature name; fitted by `qa calibrate` (see README)."""

    select: dict[str, float]
    found: dict[str, float]
    threshold: float  # answer when the found probability reaches this

    @classmethod
    def load(cls, path: Path | str = SHIPPED_WEIGHTS) -> ReaderWeights:
        data = weights_file(path)
        try:
            return cls(data["select"], data["found"], data["threshold"])
        except KeyError as missing:
            raise ValueError(f"The reader weights {path} have no {missing}: write them with `qa calibrate --out "
                             f"{path}`, or unset QA_READER_WEIGHTS for the shipped ones.") from None


def weights_file(path: Path | str) -> dict:
    """The JSON object in the reader weights file `path`; a ValueError says how to fix a missing or bad one."""
    fix = f"write them with `qa calibrate --out {path}`, or unset QA_READER_WEIGHTS for the shipped ones"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"No reader weights at {path}: {fix}.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"The reader weights {path} can't be read ({error}): {fix}.") from None
    if not isinstance(data, dict):
        raise ValueError(f"The reader weights {path} are not a JSON object: {fix}.")
    return data


class SentenceReader:
    """Scores every sentence of the best passages by its evidence (embedding similarity, question-term
    coverage, its passage's retrieval scores); answers with the best one, cites it and any sentence nearly
    as likely, or abstains when the calibrated score is under the threshold."""

    def __init__(
        self,
        store: Store,
        passages: int = 3,
        threshold: float | None = None,
        weights: ReaderWeights | None = None,
        max_citations: int = 3,
        citation_ratio: float = 0.5,
    ) -> None:
        self.store = store
        self.passages = passages
        self.weights = weights or ReaderWeights.load()
        self.threshold = self.weights.threshold if threshold is None else threshold
        self.max_citations = max_citations
        self.citation_ratio = citation_ratio
        self._select = np.array([self.weights.select.get(name, 0.0) for name in SELECT_FEATURES])
        self._found = np.array([self.weights.found.get(name, 0.0) for name in FOUND_FEATURES])

    def candidates(self, question: str, vector: np.ndarray, passages: list[Passage]) -> list[Candidate]:
        """Every distinct sentence of the first `self.passages` passages, with its evidence. Sentence vectors
        come from the index (pooled when the chunk was embedded), so reading embeds nothing."""
        question_words = terms(question)
        question_terms = sorted(set(question_words))
        idf = dict(zip(question_terms, self.store.idf(question_terms).tolist()))
        total = sum(idf.values()) or 1.0
        question_bigrams = _bigrams(question_words)
        seen: set[tuple[str, int]] = set()
        candidates = []
        for passage in passages[: self.passages]:
            embedded = self.store.embedded(passage.chunk)
            text = self.store.document(passage.doc).text
            previous_coverage = 0.0
            for (start, end), cosine in zip(embedded.sentences.tolist(), embedded.sentence_vectors @ vector):
                sentence = text[start:end]
                words = terms(sentence)
                coverage = sum(idf.get(word, 0.0) for word in set(words)) / total
                evidence = {
                    "cosine": float(cosine),
                    "coverage": coverage,
                    "cosine_x_coverage": float(cosine) * coverage,
                    "coverage_squared": coverage * coverage,
                    "passage_cosine": passage.dense,
                    "passage_bm25": passage.lexical,
                    "passage_score": passage.score,
                    "log_length": math.log1p(len(sentence)),
                    "bigrams": len(question_bigrams & _bigrams(words)) / max(len(question_bigrams), 1),
                    "previous_coverage": previous_coverage,
                    "answer_type": _answer_type(question, sentence),
                }
                previous_coverage = coverage
                if (passage.doc, start) not in seen:
                    seen.add((passage.doc, start))
                    candidates.append(Candidate(passage, start, end, sentence, evidence))
        return candidates

    @staticmethod
    def select_matrix(candidates: list[Candidate]) -> np.ndarray:
        """The candidates' evidence, one row each, in SELECT_FEATURES order."""
        return np.array([[c.evidence[name] for name in SELECT_FEATURES] for c in candidates])

    def select_scores(self, candidates: list[Candidate]) -> np.ndarray:
        """Logit of each candidate being the answering sentence (comparable within one question)."""
        return self.select_matrix(candidates) @ self._select

    def found_features(self, candidates: list[Candidate], scores: np.ndarray) -> dict[str, float]:
        """The evidence for "the documents answer this": the best candidate's, and its margin over the next."""
        order = np.argsort(-scores)
        best = candidates[order[0]].evidence
        margin = float(scores[order[0]] - scores[order[1]]) if len(order) > 1 else 5.0
        return {
            "select": float(scores[order[0]]),
            "margin": min(margin, 5.0),
            "cosine": best["cosine"],
            "coverage": best["coverage"],
            "passage_cosine": best["passage_cosine"],
            "passage_score": best["passage_score"],
            "bias": 1.0,
        }

    def rank(self, question: str, vector: np.ndarray, passages: list[Passage]) -> Ranking | None:
        """The sentences of the best passages, most likely answering first, with the found logit (None when the
        passages hold no sentence)."""
        candidates = self.candidates(question, vector, passages)
        if not candidates:
            return None
        scores = self.select_scores(candidates)
        features = self.found_features(candidates, scores)
        found = float(np.dot(self._found, [features[name] for name in FOUND_FEATURES]))
        shares = np.exp(scores - scores.max())
        shares /= shares.sum()
        order = np.argsort(-shares)
        return Ranking([candidates[i] for i in order], shares[order].tolist(), found)

    def read(self, question: str, vector: np.ndarray, passages: list[Passage]) -> Answer:
        """The answer to `question` from `passages` (best first); `vector` is the question's embedding."""
        ranking = self.rank(question, vector, passages)
        if ranking is None:
            return Answer(question, NOT_FOUND, False, 0.0, [], passages)
        score = sigmoid(ranking.found)
        cited = [
            self.cite(candidate, share)
            for candidate, share in zip(ranking.candidates[: self.max_citations], ranking.shares)
            if share >= self.citation_ratio * ranking.shares[0]
        ]
        if score < self.threshold:
            return Answer(question, NOT_FOUND, False, score, [], passages, closest=cited[0])
        return Answer(question, cited[0].quote, True, score, cited, passages, closest=cited[0])

    def cite(self, candidate: Candidate, score: float) -> Citation:
        """A citation of `candidate`, its quote checked against the stored document text."""
        return cite(self.store, candidate.passage.doc, candidate.start, candidate.end, score, expected=candidate.text)


def cite(store: Store, doc: str, start: int, end: int, score: float, answer: tuple[int, int] | None = None,
         expected: str | None = None) -> Citation:
    """A citation of `doc[start:end]` (holding the short answer `answer`, in document offsets), its quote taken
    from the stored text and checked against `expected` when given."""
    document = store.document(doc)
    quote = document.text[start:end]
    if expected is not None and quote != expected:
        raise AssertionError(f"citation offsets of {document.id} do not match its stored text")
    if answer is not None and not (start <= answer[0] < answer[1] <= end):
        raise AssertionError(f"the short answer {answer} lies outside its citation [{start}, {end}) in {document.id}")
    answer_start, answer_end = answer or (None, None)
    return Citation(document.id, document.title, start, end, quote, score, document.pages_of(start, end),
                    answer_start, answer_end)


def sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-value))
