"""The span reader's training script: data, labels, and a few CPU steps that save a loadable reader."""

import json
import random

import pytest

from index.config import DEFAULT_MODEL
from qa.reader_model import MANIFEST, ReaderModel, base_model
from qa.span import decode
from qa.training import (
    Example, TrainingSettings, features, gold_paragraph, hard_negatives, measure, negated, opposite, read_squad, train,
)

CONTEXTS = [
    "Armenia froze its participation in the CSTO on Feb. 23, Prime Minister Nikol Pashinyan announced.",
    "Ararat Mirzoyan is the foreign minister of Armenia. He spoke in Yerevan on March 8.",
]


@pytest.fixture
def squad_file(tmp_path):
    def qa(question, context, answer):
        return {"id": question, "question": question, "answers": [{"text": answer, "answer_start": context.index(answer)}]}

    data = {"version": "1.1", "data": [{"title": "Armenia", "paragraphs": [
        {"context": CONTEXTS[0], "qas": [qa("When did Armenia freeze it?", CONTEXTS[0], "Feb. 23"),
                                         qa("Who announced it?", CONTEXTS[0], "Nikol Pashinyan")]},
        {"context": CONTEXTS[1], "qas": [qa("Who is the foreign minister?", CONTEXTS[1], "Ararat Mirzoyan")]},
    ]}]}
    path = tmp_path / "train.json"
    path.write_text(json.dumps(data))
    return path


def test_negatives_ask_a_question_of_another_paragraph(squad_file):
    examples = read_squad([squad_file], negatives=1.0)
    positives = [e for e in examples if e.answer_start >= 0]
    negatives = [e for e in examples if e.answer_start < 0]
    assert len(positives) == len(negatives) == 3
    for example in positives:
        assert example.context[example.answer_start :].startswith(example.answer_text)
    assert all(e.context != p.context for e, p in zip(negatives, positives))


ARMENIA = "Armenia froze its CSTO participation on Feb. 23. Pashinyan said so in Yerevan. Russia objected."


def armenia(question: str) -> Example:
    return Example(question, ARMENIA, ARMENIA.index("Feb. 23"), "Feb. 23")


def test_hard_negatives_drop_the_answer_swap_a_name_and_negate():
    example = armenia("When did Armenia freeze its CSTO participation?")
    for seed in range(5):
        dropped, swapped, negative = hard_negatives(example, random.Random(seed))
        assert dropped == Example(example.question, "Pashinyan said so in Yerevan. Russia objected.", -1, "")
        assert swapped.context == ARMENIA and swapped.answer_start == -1
        (changed,) = set(swapped.question.split()) - set(example.question.split())
        assert changed in {"Feb", "Pashinyan", "Yerevan", "Russia"}  # a name of the context the question lacks
        assert swapped.question.startswith("When did ")  # the first word is never swapped
        assert negative == Example("When didn't Armenia freeze its CSTO participation?", ARMENIA, -1, "")


def test_negated_puts_not_after_be_and_have_and_contracts_do():
    assert negated(armenia("What was the date?"), random.Random(0)).question == "What was not the date?"
    assert negated(armenia("Who has frozen it?"), random.Random(0)).question == "Who has not frozen it?"
    assert negated(armenia("Did Armenia freeze it?"), random.Random(0)).question == "Didn't Armenia freeze it?"


def test_negated_needs_an_auxiliary_and_no_negation_yet():
    assert negated(armenia("Who froze it?"), random.Random(0)) is None
    assert negated(armenia("What did Armenia not do?"), random.Random(0)) is None
    denial = "Armenia did not leave. It froze its participation on Feb. 23."
    assert negated(Example("When did it freeze?", denial, denial.index("Feb. 23"), "Feb. 23"), random.Random(0)).question \
        == "When didn't it freeze?"  # a "not" outside the answering sentence does not count
    assert negated(Example("What did it not leave?", denial, 0, "Armenia"), random.Random(0)) is None


def test_opposite_swaps_a_word_the_context_never_uses():
    assert opposite(armenia("What was the first date?"), random.Random(0)).question == "What was the last date?"
    assert opposite(armenia("What was the latest date?"), random.Random(0)).question == "What was the earliest date?"
    assert opposite(armenia("What did Russia do?"), random.Random(0)) is None
    said = ARMENIA + " It was the first freeze."
    assert opposite(Example("What was the last freeze?", said, said.index("Feb. 23"), "Feb. 23"), random.Random(0)) is None


def test_hard_negatives_need_another_sentence_and_something_to_change():
    context = "the answer is blue"
    assert hard_negatives(Example("what colour?", context, context.index("blue"), "blue"), random.Random(0)) == []


def test_read_squad_adds_hard_negatives_when_asked(squad_file):
    plain = read_squad([squad_file])
    hard = read_squad([squad_file], hard=1.0)
    assert len(plain) == 3 and len(hard) > len(plain)
    assert all(e.answer_start < 0 for e in hard if e not in plain)


def test_labels_point_at_the_answer_tokens_in_every_window():
    tokenizer, _ = base_model(DEFAULT_MODEL)
    context = "Filler words keep coming here. " * 20 + CONTEXTS[0]
    examples = [Example("When did Armenia freeze it?", context, context.index("Feb. 23"), "Feb. 23")]
    windows = features(tokenizer, examples, max_length=48, stride=16)
    assert len(windows) > 1
    labelled = [w for w in windows if w["start_positions"] > 0]
    assert labelled, "the window holding the answer is labelled"
    for window in labelled:
        tokens = window["input_ids"][window["start_positions"] : window["end_positions"] + 1]
        assert tokenizer.decode(tokens) == "feb. 23"
    assert any(w["start_positions"] == 0 == w["end_positions"] for w in windows)  # the others point at [CLS]


def test_a_few_cpu_steps_save_a_reader_that_loads_and_reads(squad_file, tmp_path, capfd):
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_warning()  # as in a fresh process: the base model's load report would show
    eval_dir = tmp_path / "eval"
    (eval_dir / "docs").mkdir(parents=True)
    (eval_dir / "docs" / "armenia.txt").write_text("\n\n".join(CONTEXTS))
    records = [{"id": "q", "question": "Who is the foreign minister?", "answers": ["Ararat Mirzoyan"], "doc": "armenia.txt", "paragraph": 1},
               {"id": "n", "question": "Who won the Super Bowl?", "answers": [], "doc": "armenia.txt", "paragraph": 0}]
    (eval_dir / "questions.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    settings = TrainingSettings(batch_size=2, max_steps=2, max_length=64, stride=16, data=[str(squad_file)])
    result = train(settings, tmp_path / "reader", eval_dir / "questions.jsonl")
    out, err = capfd.readouterr()
    assert "LOAD REPORT" not in out + err and "with a new span head" in out
    assert result["steps"] == 2 and result["questions"] == 1 and 0 <= result["f1"] <= 100
    manifest = json.loads((tmp_path / "reader" / MANIFEST).read_text())
    assert manifest["trained"]["steps"] == 2 and manifest["measured"]["questions"] == 1
    reader = ReaderModel.load(tmp_path / "reader")
    (span,) = decode(reader, "Who is the foreign minister?", [CONTEXTS[1]])
    assert 0 <= span.start < span.end <= len(CONTEXTS[1])
    measured = measure(reader, eval_dir / "questions.jsonl")
    assert measured["questions"] == 1 == measured["unanswerable"] and measured["no_answer_auroc"] in (0.0, 1.0)


def test_training_continues_from_a_shipped_reader_and_records_it(squad_file, tmp_path):
    settings = TrainingSettings(batch_size=2, max_steps=2, max_length=64, stride=16, data=[str(squad_file)])
    train(settings, tmp_path / "first")  # the second step moves the weights (the first has no learning rate yet)
    first = ReaderModel.load(tmp_path / "first", runtime="torch").model.state_dict()
    again = {"start": str(tmp_path / "first"), "learning_rate": 0.0, "max_steps": 1}
    started = train(TrainingSettings(**{**settings.__dict__, **again}), tmp_path / "second")
    assert started["steps"] == 1
    manifest = json.loads((tmp_path / "second" / MANIFEST).read_text())
    assert manifest["started_from"]["trained"]["steps"] == 2 and manifest["trained"]["start"] == str(tmp_path / "first")
    second = ReaderModel.load(tmp_path / "second", runtime="torch").model.state_dict()
    assert all((first[name] == second[name]).all() for name in first)  # a zero learning rate keeps the weights


def test_a_missing_gold_document_or_paragraph_says_which(tmp_path):
    (tmp_path / "a.txt").write_text("Title\n\nFirst paragraph.\n\nSecond paragraph.")
    assert gold_paragraph(tmp_path, "a.txt", 2) == "Second paragraph."
    with pytest.raises(ValueError, match="a.txt has 3 paragraphs \\(numbered from 0\\), so no paragraph 3"):
        gold_paragraph(tmp_path, "a.txt", 3)
    with pytest.raises(ValueError, match="b.txt cannot be read .*docs folder next to the questions file"):
        gold_paragraph(tmp_path, "b.txt", 0)
