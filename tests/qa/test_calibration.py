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
    weights = calibrate([(engine, ANSWERABLE + off_topic)], (engine, ANSWERABLE), tmp_path / "weights.json")
    assert set(weights) == {"select", "found", "threshold", "span"}
    assert set(weights["span"]) == {"margin", "null", "sentence", "cosine", "number", "name", "negation", "bias", "threshold"}
    assert 0.0 < weights["span"]["threshold"] <= 1.0
    assert json.loads((tmp_path / "weights.json").read_text()) == weights
    assert isinstance(engine.reader, SpanReader)


def test_without_select_questions_only_the_span_found_score_is_fitted(seed_index, embedder, tmp_path):
    from qa.read import ReaderWeights

    engine = fresh_engine(seed_index, embedder)
    off_topic = read_questions(ROOT / "tests" / "data" / "offtopic_questions.jsonl")[:20]
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
    with pytest.raises(ValueError, match="both answerable and unanswerable"):
        calibrate([(engine, ANSWERABLE)], out=tmp_path / "weights.json")
