"""`qa calibrate` on the seed: both readers' weights are fitted and written."""

import json

from qa.calibration import calibrate
from qa.evaluate import Question, read_questions
from qa.span import SpanReader
from tests.conftest import ROOT


def test_calibrate_fits_the_sentence_and_span_weights_and_writes_them(seed_index, embedder, tmp_path):
    from qa.api import Engine

    docs, index = seed_index
    engine = Engine(docs, index, embedder=embedder)  # calibration swaps the readers: not the shared engine
    answerable = [
        Question("a", "Who is Armenia's Prime Minister?", ["Nikol Pashinyan"]),
        Question("b", "When did Armenia freeze its CSTO participation?", ["Feb. 23"]),
        Question("c", "What did Armenia threaten to do?", ["withdraw"]),
        Question("d", "Who is Armenia's Foreign Minister?", ["Ararat Mirzoyan"]),
    ]
    off_topic = read_questions(ROOT / "tests" / "data" / "offtopic_questions.jsonl")[:20]
    weights = calibrate(engine, answerable, [(engine, answerable + off_topic)], tmp_path / "weights.json")
    assert set(weights) == {"select", "found", "threshold", "span"}
    assert set(weights["span"]) == {"margin", "null", "sentence", "bias", "threshold"}
    assert 0.0 < weights["span"]["threshold"] <= 1.0
    assert json.loads((tmp_path / "weights.json").read_text()) == weights
    assert isinstance(engine.reader, SpanReader)
