"""Metrics on SQuAD-format question files: retrieval recall, citation hit, EM/F1, abstention."""

from __future__ import annotations

import json
import re
import string
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from qa.api import Engine
from qa.errors import QuestionsFileError

RECALL_DEPTHS = (1, 5, 10)


@dataclass(frozen=True)
class Question:
    """One record of a questions file; no `answers` means the documents don't answer it."""

    id: str
    question: str
    answers: list[str]
    doc: str | None = None  # the document the question was written about, when known
    dialog_id: str | None = None  # dialogs: the conversation this turn belongs to
    turn: int = 0  # dialogs: position in the conversation, from 1
    kind: str = ""  # dialogs: "opening", "follow-up" or "standalone" (a topic switch)


def read_questions(path: Path | str, limit: int | None = None, gold: bool = False) -> list[Question]:
    """Records of a JSON-lines file: {"id", "question", "answers": [...], ...}; with `gold`, each must also name
    its gold paragraph: "doc" and "paragraph". A QuestionsFileError names the file (and the line of a bad
    record)."""
    questions = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise QuestionsFileError(f"No questions file at {path}: pass a JSON-lines file of questions.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise QuestionsFileError(f"The questions file {path} can't be read ({error}).") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            questions.append(_question(json.loads(line), number, gold))
        except (ValueError, KeyError, TypeError) as error:
            raise QuestionsFileError(f"{path}, line {number}: {error}") from None
        if limit and len(questions) >= limit:
            break
    if not questions:
        raise QuestionsFileError(f"{path} holds no questions: one JSON record a line, as README's `qa eval` says.")
    return questions


def _question(record: dict, number: int, gold: bool) -> Question:
    """One line's record as a Question; a ValueError says what is wrong with it."""
    shape = 'not a question record: {"question": "...", "answers": ["...", ...], ...}'
    if not isinstance(record, dict):
        raise ValueError(shape)
    question, answers = record.get("question"), record.get("answers")
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f'{shape} ("question" must be text)')
    if not isinstance(answers, list) or not all(isinstance(answer, str) for answer in answers):
        raise ValueError(f'{shape} ("answers" must be a list of strings, empty when unanswerable)')
    if gold and not (isinstance(record.get("doc"), str) and isinstance(record.get("paragraph"), int)):
        raise ValueError('--gold needs each question\'s gold paragraph: "doc" (its file in the docs folder next '
                         'to the questions file) and "paragraph" (its number in that file, from 0)')
    return Question(str(record.get("id", number)), question, answers, record.get("doc"), record.get("dialog_id"),
                    int(record.get("turn", 0)), record.get("kind", ""))


def holds(text: str, golds: Iterable[str]) -> bool:
    """True when `text` holds one of the gold answers, white space aside (a line break in a document where the
    gold answer has a space still counts)."""
    flat = " ".join(text.split())
    return any(" ".join(gold.split()) in flat for gold in golds)


def normalize(text: str) -> str:
    """SQuAD normalization: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str, golds: Iterable[str]) -> float:
    return max(float(normalize(prediction) == normalize(gold)) for gold in golds)


def token_f1(prediction: str, golds: Iterable[str]) -> float:
    def f1(gold: str) -> float:
        predicted, expected = normalize(prediction).split(), normalize(gold).split()
        common = sum((Counter(predicted) & Counter(expected)).values())
        if not common:
            return 0.0
        precision, recall = common / len(predicted), common / len(expected)
        return 2 * precision * recall / (precision + recall)

    return max(f1(gold) for gold in golds)


def auroc(positive: list[float], negative: list[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if not positive or not negative:
        return float("nan")
    scores = np.array(positive + negative)
    ranks = np.empty(len(scores))
    order = scores.argsort(kind="mergesort")
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):  # average ranks of ties
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    return float((ranks[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2) / (len(positive) * len(negative)))


def evaluate(engine: Engine, questions: list[Question], progress: bool = True) -> dict:
    """Run every question through `engine` and score the answers. hit@1 judges the best citation the reader
    found (`Answer.closest`, the first citation of every found answer) and exact match and F1 its short answer
    (the whole sentence for the sentence reader), whatever the threshold; `answered` is the share of answerable questions answered and `answered_hit@1` the share
    answered with a citation that holds a gold answer."""
    recall = {k: [] for k in RECALL_DEPTHS}
    hits, answered_hits, exact, f1, found_right, latencies = [], [], [], [], [], []
    answerable_scores, unanswerable_scores = [], []
    for question in tqdm(questions, desc="questions", unit="q", disable=not progress):
        started = time.perf_counter()
        answer = engine.answer(question.question, k=max(RECALL_DEPTHS))
        latencies.append(time.perf_counter() - started)
        golds = question.answers
        found_right.append(answer.found == bool(golds))
        if not golds:
            unanswerable_scores.append(answer.score)
            continue
        answerable_scores.append(answer.score)
        for k in RECALL_DEPTHS:
            recall[k].append(any(holds(p.text, golds) for p in answer.passages[:k]))
        best = answer.closest.quote if answer.closest else ""
        short = answer.closest.answer if answer.closest else ""
        hits.append(holds(best, golds))
        answered_hits.append(answer.found and hits[-1])
        exact.append(exact_match(short, golds))
        f1.append(token_f1(short, golds))
    metrics = {
        "questions": len(questions),
        "answerable": len(answerable_scores),
        **{f"recall@{k}": _mean(values) for k, values in recall.items()},
        "hit@1": _mean(hits),
        "exact_match": _mean(exact),
        "f1": _mean(f1),
        "answered": _mean([s >= engine.reader.threshold for s in answerable_scores]),
        "answered_hit@1": _mean(answered_hits),
        "latency_p50_ms": 1000 * float(np.percentile(latencies, 50)) if latencies else float("nan"),
        "latency_p95_ms": 1000 * float(np.percentile(latencies, 95)) if latencies else float("nan"),
    }
    if unanswerable_scores:
        metrics["unanswerable"] = len(unanswerable_scores)
        metrics["abstention_accuracy"] = _mean(found_right)
        metrics["abstention_auroc"] = auroc(answerable_scores, unanswerable_scores)
    return metrics


def _mean(values: list) -> float:
    return float(np.mean(values)) if values else float("nan")


def evaluate_dialogs(engine: Engine, questions: list[Question], progress: bool = True) -> dict:
    """Ask each dialog's turns in order, with the system's own earlier answers as history, and each
    follow-up and standalone turn alone too, by kind of turn: hit@1 of both (the best citation, whatever the
    threshold), the share answered, and the F1 of what is shown (an answer's short span; 0 for "The documents
    don't say.")."""
    dialogs: dict[str, list[Question]] = {}
    for question in questions:
        dialogs.setdefault(question.dialog_id, []).append(question)
    hits: dict[str, list[bool]] = {}
    latencies = []

    def record(name: str, answer, golds) -> None:
        hits.setdefault(f"{name} hit@1", []).append(bool(answer.closest) and holds(answer.closest.quote, golds))
        hits.setdefault(f"{name} answered", []).append(answer.found)
        hits.setdefault(f"{name} shown F1", []).append(token_f1(answer.text, golds) if answer.found else 0.0)

    for turns in tqdm(list(dialogs.values()), desc="dialogs", unit="dialog", disable=not progress):
        history: list[tuple[str, str]] = []
        for question in sorted(turns, key=lambda q: q.turn):
            started = time.perf_counter()
            answer = engine.answer(question.question, history)
            latencies.append(time.perf_counter() - started)
            history.append((question.question, answer.text))
            record(f"{question.kind} with history", answer, question.answers)
            if question.kind != "opening":
                record(f"{question.kind} alone", engine.answer(question.question), question.answers)
    metrics = {"dialogs": len(dialogs), "turns": len(questions)}
    metrics |= {name: _mean(values) for name, values in sorted(hits.items())}
    metrics["latency_p50_ms"] = 1000 * float(np.percentile(latencies, 50)) if latencies else float("nan")
    metrics["latency_p95_ms"] = 1000 * float(np.percentile(latencies, 95)) if latencies else float("nan")
    return metrics
