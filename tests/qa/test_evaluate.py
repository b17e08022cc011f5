"""Metrics: SQuAD normalization, EM/F1, AUROC, question files; and the evaluation loop on the seed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qa.calibration import logistic
from qa.evaluate import Question, auroc, evaluate, exact_match, normalize, read_questions, token_f1


def test_squad_normalization_and_scores():
    assert normalize("The  Prime Minister, Nikol!") == "prime minister nikol"
    assert exact_match("the Feb. 23", ["Feb 23", "March"]) == 1.0
    assert token_f1("Nikol Pashinyan said", ["Nikol Pashinyan"]) == pytest.approx(0.8)
    assert token_f1("nothing", ["Nikol"]) == 0.0


def test_a_gold_answer_is_held_across_a_line_break():
    from qa.evaluate import holds

    assert holds("requires Python 3.8\n  or later.", ["3.8 or later"]) and holds("Feb. 23", ["x", "Feb.  23"])
    assert not holds("requires Python 3.8", ["3.8 or later"])


def test_auroc_counts_ties_as_half():
    assert auroc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auroc([0.1], [0.9]) == 0.0
    assert auroc([0.5], [0.5]) == 0.5


def test_logistic_recovers_a_separating_direction():
    rng = np.random.default_rng(0)
    features = np.column_stack([rng.normal(size=400), np.ones(400)])
    labels = (features[:, 0] + 0.1 * rng.normal(size=400) > 0.5).astype(float)
    weights = logistic(features, labels)
    assert weights[0] > 1 and -weights[1] / weights[0] == pytest.approx(0.5, abs=0.2)


def test_read_questions_reports_the_bad_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"id": "1", "question": "Who?", "answers": ["me"], "doc": "a.txt"}) + "\n{oops\n")
    with pytest.raises(ValueError, match="line 2"):
        read_questions(path)
    assert read_questions(path, limit=1) == [Question("1", "Who?", ["me"], "a.txt")]


def test_read_questions_for_gold_paragraphs_needs_doc_and_paragraph(tmp_path):
    path = tmp_path / "q.jsonl"
    records = [{"question": "Who?", "answers": ["me"], "doc": "a.txt", "paragraph": 0},
               {"question": "When?", "answers": ["now"], "doc": "a.txt"}]
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    assert len(read_questions(path)) == 2
    with pytest.raises(ValueError, match='line 2: --gold needs .*"paragraph"'):
        read_questions(path, gold=True)
    assert len(read_questions(path, limit=1, gold=True)) == 1


def test_evaluate_on_the_seed(seed_engine):
    questions = [
        Question("a", "Who is Armenia's Prime Minister?", ["Nikol Pashinyan"]),
        Question("b", "When did Armenia freeze its CSTO participation?", ["Feb. 23"]),
        Question("c", "What is the capital of France?", []),
    ]
    metrics = evaluate(seed_engine, questions, progress=False)
    assert metrics["recall@1"] == 1.0 and metrics["hit@1"] == 1.0
    assert metrics["exact_match"] == 1.0  # the span reader's short answers
    assert metrics["unanswerable"] == 1 and metrics["abstention_auroc"] == 1.0
