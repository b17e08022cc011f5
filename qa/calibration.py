"""Fitting the reader's two logistic models on SQuAD-format questions (`qa calibrate`)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from qa.api import Engine
from qa.evaluate import Question
from qa.read import FOUND_FEATURES, SELECT_FEATURES, WEIGHTS_FILE, Candidate, ReaderWeights, SentenceReader

#: Negative sentences paired with each answering sentence when fitting the sentence choice.
PAIRS_PER_POSITIVE = 8


@dataclass(frozen=True)
class Reading:
    """The candidates the reader saw for one question, and which hold a gold answer."""

    candidates: list[Candidate]
    labels: np.ndarray
    answerable: bool
    off_topic: bool  # about a document that is not in the index


def collect(engine: Engine, questions: list[Question], progress: bool = True) -> list[Reading]:
    """Run retrieval and candidate generation for every question. A question about a document that is not
    in the engine's index counts as unanswerable (an off-topic question)."""
    readings = []
    indexed = {doc.id for doc in engine.store.documents}
    for question in tqdm(questions, desc="reading", unit="q", disable=not progress):
        text = engine.check(question.question)
        vector = engine.embedder.encode([text], progress=False)[0]
        passages = engine.retriever.search(text, engine.config.k, vector)
        candidates = engine.reader.candidates(text, vector, passages)
        if candidates:
            labels = np.array([any(gold in c.text for gold in question.answers) for c in candidates])
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
    if not off_topic.any():
        raise ValueError("The found-score questions need off-topic ones (about documents not in the index).")
    probability = 1 / (1 + np.exp(-rows[off_topic] @ weights))
    threshold = math.ceil(100 * float(np.quantile(probability, OFF_TOPIC_REFUSED))) / 100
    return dict(zip(FOUND_FEATURES, np.round(weights, 4).tolist())), threshold


def calibrate(
    select_engine: Engine,
    select_questions: list[Question],
    found_sets: list[tuple[Engine, list[Question]]],
    out: Path = WEIGHTS_FILE,
) -> dict:
    """Fit the sentence choice on the answerable questions of the first set, then the found score and its
    threshold on the found sets together (they must hold unanswerable or off-topic questions too), and
    write all to `out`."""
    select = fit_select([r for r in collect(select_engine, select_questions) if r.answerable])
    readings = []
    for engine, questions in found_sets:
        engine.reader = SentenceReader(
            engine.store, engine.config.read_passages, engine.config.threshold,
            ReaderWeights(select, engine.reader.weights.found, engine.reader.weights.threshold),
        )
        readings.extend(collect(engine, questions))
    if all(r.answerable for r in readings) or not any(r.answerable for r in readings):
        raise ValueError("The found-score questions need both answerable and unanswerable questions.")
    found, threshold = fit_found(found_sets[0][0], readings)
    weights = {"select": select, "found": found, "threshold": threshold}
    Path(out).write_text(json.dumps(weights, indent=2) + "\n", encoding="utf-8")
    return weights
