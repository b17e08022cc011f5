"""Fitting the readers' logistic models and thresholds on SQuAD-format questions (`qa calibrate`)."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from qa.api import Engine
from qa.evaluate import Question, holds
from qa.read import FOUND_FEATURES, SELECT_FEATURES, Candidate, ReaderWeights, SentenceReader
from qa.retrieve import Passage
from qa.span import SPAN_FOUND_FEATURES, SpanReader, SpanWeights

#: Negative sentences paired with each answering sentence when fitting the sentence choice.
PAIRS_PER_POSITIVE = 8


@dataclass(frozen=True)
class Reading:
    """The candidates the reader saw for one question, and which hold a gold answer."""

    candidates: list[Candidate]
    labels: np.ndarray
    answerable: bool
    off_topic: bool  # about a document that is not in the index


def searched(engine: Engine, question: str) -> tuple[str, np.ndarray, list[Passage]]:
    """The checked question, its embedding and its passages, as `Engine.answer` gets them without history."""
    text = engine.check(question)
    vector = engine.embedder.encode([text], progress=False)[0]
    return text, vector, engine.retriever.search(text, engine.config.k, vector)


def collect(engine: Engine, questions: list[Question], progress: bool = True) -> list[Reading]:
    """Run retrieval and candidate generation for every question. A question about a document that is not
    in the engine's index counts as unanswerable (an off-topic question)."""
    readings = []
    indexed = {doc.id for doc in engine.store.documents}
    for question in tqdm(questions, desc="reading", unit="q", disable=not progress):
        candidates = engine.reader.candidates(*searched(engine, question.question))
        if candidates:
            labels = np.array([holds(c.text, question.answers) for c in candidates])
            off_topic = question.doc is not None and question.doc not in indexed
            answerable = bool(question.answers) and not off_topic
            readings.append(Reading(candidates, labels & answerable, answerable, off_topic))
    return readings


def logistic(features: np.ndarray, labels: np.ndarray, l2: float = 1.0, iterations: int = 50) -> np.ndarray:
    """Weights of an L2-regularized logistic regression (no separate intercept), by Newton's method."""
    weights = np.zeros(features.shape[1])
    for _ in range(iterations):
        probability = 1 / (1 + np.exp(-features @ weights))
        gradient = features.T @ (probability - labels) + l2 * weights
        hessian = (features * (probability * (1 - probability))[:, None]).T @ features + l2 * np.eye(len(weights))
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return weights


def fit_select(readings: list[Reading], seed: int = 0) -> dict[str, float]:
    """Pairwise logistic regression: the answering sentence should outscore the others of its question."""
    rng = np.random.default_rng(seed)
    differences = []
    for reading in readings:
        positives, negatives = np.flatnonzero(reading.labels), np.flatnonzero(~reading.labels)
        if not len(positives) or not len(negatives):
            continue
        matrix = SentenceReader.select_matrix(reading.candidates)
        for positive in positives:
            for negative in rng.choice(negatives, min(len(negatives), PAIRS_PER_POSITIVE), replace=False):
                differences.append(matrix[positive] - matrix[negative])
    differences = np.array(differences)
    features = np.vstack([differences, -differences])
    labels = np.concatenate([np.ones(len(differences)), np.zeros(len(differences))])
    return dict(zip(SELECT_FEATURES, np.round(logistic(features, labels), 4).tolist()))


#: Share of off-topic questions that must be refused: the threshold is the lowest that refuses this many.
OFF_TOPIC_REFUSED = 0.95


def fit_found(engine: Engine, readings: list[Reading]) -> tuple[dict[str, float], float]:
    """Logistic regression of "answerable" on the best candidate's evidence, and the threshold on its
    probability: the lowest that refuses OFF_TOPIC_REFUSED of the off-topic questions, so that questions
    the documents answer are answered as often as that allows."""
    rows, labels = [], []
    for reading in readings:
        scores = engine.reader.select_scores(reading.candidates)
        features = engine.reader.found_features(reading.candidates, scores)
        rows.append([features[name] for name in FOUND_FEATURES])
        labels.append(float(reading.answerable))
    rows, labels = np.array(rows), np.array(labels)
    weights = logistic(rows, labels)
    off_topic = np.array([reading.off_topic for reading in readings])
    return dict(zip(FOUND_FEATURES, np.round(weights, 4).tolist())), off_topic_threshold(rows, weights, off_topic)


def off_topic_threshold(rows: np.ndarray, weights: np.ndarray, off_topic: np.ndarray) -> float:
    """The lowest probability (rounded up to 0.01) that refuses OFF_TOPIC_REFUSED of the off-topic rows."""
    if not off_topic.any():
        raise ValueError("The found-score questions need off-topic ones: questions whose `doc` is not in the "
                         "index (ask one set's questions of another documents folder, as README's Calibration does).")
    probability = 1 / (1 + np.exp(-rows[off_topic] @ weights))
    return math.ceil(100 * float(np.quantile(probability, OFF_TOPIC_REFUSED))) / 100


def sentence_reader(engine: Engine, weights: ReaderWeights | None = None) -> SentenceReader:
    """A sentence reader over the engine's index (with `weights`, else the engine's own)."""
    current = engine.reader.sentences if isinstance(engine.reader, SpanReader) else engine.reader
    return SentenceReader(engine.store, engine.config.read_passages, engine.config.threshold, weights or current.weights)


@dataclass(frozen=True)
class SpanRows:
    """The span reader's found features (`SpanReader.found_features`) of each question it read a span for,
    with its label (answerable), whether it is off-topic, and its gold document."""

    features: np.ndarray
    labels: np.ndarray
    off_topic: np.ndarray
    docs: list[str | None]


def span_rows(found_sets: list[tuple[Engine, list[Question]]]) -> SpanRows:
    """Read every question's best span; questions about a document not in the index are off-topic."""
    rows, labels, off_topic, docs = [], [], [], []
    for engine, questions in found_sets:
        indexed = {doc.id for doc in engine.store.documents}
        for question in tqdm(questions, desc="reading spans", unit="q"):
            text, vector, passages = searched(engine, question.question)
            read = engine.reader.spans(text, vector, passages)
            if read is None or not read[1]:
                continue
            ranking, readings = read
            outside = question.doc is not None and question.doc not in indexed
            rows.append(engine.reader.found_features(text, *readings[0], ranking))
            labels.append(float(bool(question.answers) and not outside))
            off_topic.append(outside)
            docs.append(question.doc)
    return SpanRows(np.array(rows), np.array(labels), np.array(off_topic, dtype=bool), docs)


def fit_span(found_sets: list[tuple[Engine, list[Question]]]) -> dict[str, float]:
    """Logistic regression of "answerable" on the best span's `SpanReader.found_features` (its margin over
    no-answer, its no-answer logit, the sentence found logit, its sentence's cosine, the question's gaps), and the threshold that
    refuses OFF_TOPIC_REFUSED of the off-topic questions."""
    rows = span_rows(found_sets)
    require_both(rows.labels.tolist())
    weights = logistic(rows.features, rows.labels)
    threshold = off_topic_threshold(rows.features, weights, rows.off_topic)
    return {**dict(zip(SPAN_FOUND_FEATURES, np.round(weights, 4).tolist())), "threshold": threshold}


def require_both(answerable: list) -> None:
    """Refuse to fit a found score on questions that are all answerable, or all not."""
    if all(answerable) or not any(answerable):
        raise ValueError("The found-score questions need both answerable and unanswerable questions.")


#: Fewer found-score questions than this get a warning: a found score and threshold fitted on them do not hold.
FEW_QUESTIONS = 200


def calibrate(
    found_sets: list[tuple[Engine, list[Question]]],
    select: tuple[Engine, list[Question]] | None = None,
    *,
    out: Path,
) -> dict:
    """With `select`, fit the sentence choice on its answerable questions, then the sentence found score and
    its threshold on the found sets together (they must hold answerable and unanswerable questions, and
    off-topic ones: the threshold refuses OFF_TOPIC_REFUSED of them); without, keep the sentence reader's
    weights that the engines loaded. Then, when the engines read spans, fit the span reader's found score on
    the same sets, else keep the loaded one. Write all to `out` (a new file unless named: answer with it by
    QA_READER_WEIGHTS or `QAConfig.reader_weights`)."""
    span_model = next((e.reader.model for e, _ in found_sets if isinstance(e.reader, SpanReader)), None)
    if select is None and span_model is None:
        raise ValueError("Nothing to fit: give questions for the sentence choice (--select), or use the span reader.")
    asked = sum(len(questions) for _, questions in found_sets)
    if asked < FEW_QUESTIONS:
        warnings.warn(f"Fitting the found score on {asked} questions: fewer than {FEW_QUESTIONS} give a score and "
                      "threshold that do not hold; use a few hundred, answerable, unanswerable and off-topic.",
                      stacklevel=2)
    if select is not None:
        weights = fit_sentences(select, found_sets)
    else:
        loaded = sentence_reader(found_sets[0][0]).weights
        weights = {"select": loaded.select, "found": loaded.found, "threshold": loaded.threshold}
    if span_model is not None:
        for engine, _ in found_sets:
            reader = sentence_reader(engine, ReaderWeights(**weights))
            engine.reader = SpanReader(engine.store, reader, span_model, engine.config.read_windows)
        weights["span"] = fit_span(found_sets)
    else:
        weights["span"] = asdict(SpanWeights.load(found_sets[0][0].config.reader_weights))
    Path(out).write_text(json.dumps(weights, indent=2) + "\n", encoding="utf-8")
    return weights


def fit_sentences(select: tuple[Engine, list[Question]], found_sets: list[tuple[Engine, list[Question]]]) -> dict:
    """The sentence reader's weights: its sentence choice fitted on the answerable questions of `select`, then
    its found score and threshold on the found sets."""
    select_engine, select_questions = select
    select_engine.reader = sentence_reader(select_engine)
    choice = fit_select([r for r in collect(select_engine, select_questions) if r.answerable])
    readings = []
    for engine, questions in found_sets:
        current = sentence_reader(engine)
        engine.reader = sentence_reader(engine, ReaderWeights(choice, current.weights.found, current.weights.threshold))
        readings.extend(collect(engine, questions))
    require_both([r.answerable for r in readings])
    found, threshold = fit_found(found_sets[0][0], readings)
    return {"select": choice, "found": found, "threshold": threshold}
