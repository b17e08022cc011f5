"""`qa calibrate` on the seed: both readers' weights are fitted and written, or the span reader's alone."""

import json

import pytest

from qa.calibration import calibrate
from qa.evaluate import Question, read_questions
from qa.span import SpanReader
from tests.conftest import ROOT

ANSWERABLE = [
    Question("a", "Who is Armenia's Prime Minister?", ["Nikol Pashinyan"]),
    Question("b", "When did Armenia freeze its CSTO participation?", ["Feb. 23"]),
    Question("c", "What did Armenia threaten to do?", ["withdraw"]),
    Question("d", "Who is Armenia's Foreign Minister?", ["Ararat Mirzoyan"]),
]


def fresh_engine(seed_index, embedder, reader: str = "span"):
    """Calibration swaps the readers: not the shared engine."""
    from qa.api import Engine
    from qa.config import QAConfig

    docs, index = seed_index
    return Engine(docs, index, QAConfig(reader=reader), embedder=embedder)


def test_calibrate_fits_the_sentence_and_span_weights_and_writes_them(seed_index, embedder, tmp_path):
    engine = fresh_engine(seed_index, embedder)
    off_topic = read_questions(ROOT / "tests" / "data" / "offtopic_questions.jsonl")[:20]
    with pytest.warns(UserWarning, match="on 24 questions: fewer than 200"):
        weights = calibrate([(engine, ANSWERABLE + off_topic)], (engine, ANSWERABLE), out=tmp_path / "weights.json")
    assert set(weights) == {"select", "found", "threshold", "span"}
    assert set(weights["span"]) == {"margin", "null", "sentence", "cosine", "number", "name", "negation", "bias", "threshold"}
    assert 0.0 < weights["span"]["threshold"] <= 1.0
    assert json.loads((tmp_path / "weights.json").read_text()) == weights
    assert isinstance(engine.reader, SpanReader)


def test_without_select_questions_only_the_span_found_score_is_fitted(seed_index, embedder, tmp_path):
    from qa.read import ReaderWeights

    engine = fresh_engine(seed_index, embedder)
    off_topic = read_questions(ROOT / "tests" / "data" / "offtopic_questions.jsonl")[:20]
    with pytest.warns(UserWarning, match="on 24 questions"):
        weights = calibrate([(engine, ANSWERABLE + off_topic)], out=tmp_path / "weights.json")
    shipped = ReaderWeights.load()
    assert (weights["select"], weights["found"], weights["threshold"]) == (shipped.select, shipped.found, shipped.threshold)
    assert set(weights["span"]) == {"margin", "null", "sentence", "cosine", "number", "name", "negation", "bias", "threshold"}
    assert json.loads((tmp_path / "weights.json").read_text()) == weights


def test_nothing_to_fit_is_refused(seed_index, embedder, tmp_path):
    engine = fresh_engine(seed_index, embedder, reader="sentence")
    with pytest.raises(ValueError, match="--select"):
        calibrate([(engine, ANSWERABLE)], out=tmp_path / "weights.json")
    assert not (tmp_path / "weights.json").exists()


def test_found_questions_of_one_kind_are_refused(seed_index, embedder, tmp_path):
    engine = fresh_engine(seed_index, embedder)
    with pytest.raises(ValueError, match="both answerable and unanswerable"), pytest.warns(UserWarning):
        calibrate([(engine, ANSWERABLE)], out=tmp_path / "weights.json")


def test_the_sentence_reader_alone_keeps_the_span_weights(seed_index, embedder, tmp_path, monkeypatch):
    from dataclasses import asdict

    from qa.span import SpanWeights

    custom = json.loads((ROOT / "qa" / "reader_weights.json").read_text())
    custom["span"]["threshold"] = 0.42
    (tmp_path / "custom.json").write_text(json.dumps(custom))
    monkeypatch.setenv("QA_READER_WEIGHTS", str(tmp_path / "custom.json"))
    engine = fresh_engine(seed_index, embedder, reader="sentence")
    off_topic = read_questions(ROOT / "tests" / "data" / "offtopic_questions.jsonl")[:20]
    with pytest.warns(UserWarning, match="fewer than 200"):
        weights = calibrate([(engine, ANSWERABLE + off_topic)], (engine, ANSWERABLE), out=tmp_path / "new.json")
    assert weights["span"] == asdict(SpanWeights.load(tmp_path / "custom.json")) and weights["span"]["threshold"] == 0.42


def test_found_questions_without_off_topic_ones_say_how_to_make_them(seed_index, embedder, tmp_path):
    engine = fresh_engine(seed_index, embedder)
    unanswerable = [Question("u", "What colour is the CSTO flag?", [])]
    with pytest.raises(ValueError, match="need off-topic ones: questions whose `doc` is not in the index"), \
            pytest.warns(UserWarning):
        calibrate([(engine, ANSWERABLE + unanswerable)], out=tmp_path / "weights.json")


def test_the_command_needs_a_file_to_write(capsys):
    from qa.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["calibrate", "--found", "docs", "questions.jsonl"])
    assert exit_.value.code == 2 and "--out" in capsys.readouterr().err
