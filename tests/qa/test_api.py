"""answer() and retrieve() on the seed article: verbatim citations, abstention, bad questions."""

from __future__ import annotations

import re

import pytest

from qa import Answer, Engine, QuestionError, answer, retrieve

SEED_QUESTIONS = {
    "Who is Armenia's Prime Minister?": "Nikol Pashinyan",
    "What did Armenia threaten to do?": "withdraw from the Collective Security Treaty Organization",
    "What did Pashinyan say about peacekeepers?": "Peacekeepers are neutral",
}


def assert_verbatim(result: Answer, engine) -> None:
    for citation in result.citations:
        assert engine.store.document(citation.doc).text[citation.start : citation.end] == citation.quote


@pytest.mark.parametrize("question, fact", SEED_QUESTIONS.items())
def test_seed_questions_are_answered_with_a_citation_holding_the_fact(question, fact, seed_engine):
    result = answer(question, index=seed_engine)
    assert result.found, result
    assert fact in result.citations[0].quote
    assert result.text == result.citations[0].answer and result.text in result.citations[0].quote
    assert 0.0 <= result.score <= 1.0
    assert_verbatim(result, seed_engine)


SHORT_ANSWERS = {
    "When did Armenia freeze its CSTO participation?": "Feb. 23",
    "Who is Armenia's Prime Minister?": "Nikol Pashinyan",
    "Who is Armenia's Foreign Minister?": "Ararat Mirzoyan",
}


@pytest.mark.parametrize("question, short", SHORT_ANSWERS.items())
def test_the_shipped_span_reader_answers_with_a_short_span_inside_its_cited_sentence(question, short, seed_engine):
    result = answer(question, index=seed_engine)
    assert result.found, result
    assert short in result.text and len(result.text) <= len(short) + 12, result.text
    citation = result.citations[0]
    text = seed_engine.store.document(citation.doc).text
    assert text[citation.answer_start : citation.answer_end] == result.text
    assert citation.start <= citation.answer_start < citation.answer_end <= citation.end
    assert_verbatim(result, seed_engine)


def test_the_sentence_reader_stays_selectable_and_answers_with_whole_sentences(seed_index, embedder):
    from qa.api import Engine
    from qa.config import QAConfig

    docs, index = seed_index
    sentences = Engine(docs, index, QAConfig(reader="sentence"), embedder=embedder)
    result = answer("Who is Armenia's Prime Minister?", index=sentences)
    assert result.found and result.text == result.citations[0].quote
    assert "Nikol Pashinyan" in result.text and result.citations[0].answer_start is None


def test_an_unknown_reader_is_refused_with_the_choices():
    from qa.config import QAConfig

    with pytest.raises(ValueError, match="span, sentence"):
        QAConfig(reader="llm")


def test_sentences_read_come_from_qa_read_windows_and_must_be_a_positive_whole_number(monkeypatch):
    from qa.config import QAConfig

    assert QAConfig().read_windows == 3
    monkeypatch.setenv("QA_READ_WINDOWS", "4")
    assert QAConfig().read_windows == 4
    for value, message in (("four", "QA_READ_WINDOWS must be a whole number, not 'four'"), ("0", "1 or more, not 0")):
        monkeypatch.setenv("QA_READ_WINDOWS", value)
        with pytest.raises(ValueError, match=message):
            QAConfig()


def test_settings_out_of_range_are_refused_when_made():
    from index.config import IndexConfig
    from qa.config import QAConfig

    for setting in ({"k": 0}, {"candidates": -1}, {"read_passages": 0}, {"max_question_chars": 0}):
        with pytest.raises(ValueError, match=f"{next(iter(setting))} must be 1 or more"):
            QAConfig(**setting)
    with pytest.raises(ValueError, match="threshold must be a probability"):
        QAConfig(threshold=2.0)
    with pytest.raises(ValueError, match="batch_size must be 1 or more"):
        IndexConfig(batch_size=0)
    with pytest.raises(ValueError, match="bm25_k1 must be 0 or more and bm25_b between 0 and 1"):
        IndexConfig(bm25_k1=-1)


@pytest.mark.parametrize("k", [0, -1, 2.5, "3", True])
def test_a_number_of_passages_that_is_not_a_count_is_refused(k, seed_engine):
    with pytest.raises(ValueError, match="k, the number of passages, must be a whole number of 1 or more"):
        retrieve("Who is Armenia's Prime Minister?", k=k, index=seed_engine)


@pytest.mark.parametrize("history", [["Who founded it?"], [("Who?", "Pashinyan", "extra")], [("Who?", None)]])
def test_a_malformed_history_says_what_each_turn_must_be(history, seed_engine):
    with pytest.raises(QuestionError, match="history turn 1 is .*: each turn must be a \\(question, answer text\\) pair"):
        answer("When did he speak?", history=history, index=seed_engine)


def test_unrelated_question_is_not_answered_but_keeps_the_closest_passages(seed_engine):
    result = answer("What is the capital of France?", index=seed_engine)
    assert not result.found
    assert result.citations == []
    assert "don't say" in result.text
    assert result.passages


def test_retrieve_returns_ranked_passages_with_exact_offsets(seed_engine):
    passages = retrieve("When did Armenia freeze its CSTO participation?", k=3, index=seed_engine)
    assert len(passages) == 3
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    assert "Feb. 23" in passages[0].text
    for passage in passages:
        assert seed_engine.store.document(passage.doc).text[passage.start : passage.end] == passage.text
        assert passage.title.startswith("Armenia will withdraw")


def test_history_is_accepted(seed_engine):
    result = answer("Who is Armenia's Prime Minister?", history=[("What is the CSTO?", "A military alliance.")], index=seed_engine)
    assert result.found


@pytest.mark.parametrize("question", ["", "   \n\t", "x" * 100_000])
def test_bad_questions_raise_a_clear_error(question, seed_engine):
    with pytest.raises(QuestionError, match="empty|limit"):
        answer(question, index=seed_engine)


def test_default_index_is_built_on_first_use_over_qa_docs(seed_index, monkeypatch, tmp_path):
    docs, _ = seed_index
    monkeypatch.setenv("QA_DOCS", str(docs))
    monkeypatch.setenv("QA_INDEX", str(tmp_path / "default-index"))
    result = answer("Who is Armenia's Prime Minister?")
    assert result.found and (tmp_path / "default-index" / "CURRENT").is_file()
    assert "Nikol Pashinyan" in result.citations[0].quote


def test_questions_about_other_articles_are_refused(seed_engine):
    """60 SQuAD v1.1 dev questions (CC BY-SA 4.0, tests/data) asked of the seed article alone."""
    from qa.evaluate import read_questions
    from tests.conftest import ROOT

    questions = read_questions(ROOT / "tests" / "data" / "offtopic_questions.jsonl")
    found = [answer(q.question, index=seed_engine).found for q in questions]
    assert len(found) == 60 and sum(found) / len(found) <= 0.05


def test_asking_for_more_passages_than_the_candidate_pool_gets_them(seed_engine, monkeypatch):
    monkeypatch.setattr(seed_engine.retriever, "candidates", 2)
    assert len(retrieve("Armenia", k=5, index=seed_engine)) == 5


def test_the_reader_model_runs_on_the_embedding_models_device(monkeypatch):
    """On a GPU machine (device "auto" resolving to cuda) the reader's auto runtime is PyTorch on the GPU."""
    import qa.api
    from index.config import IndexConfig
    from qa.config import QAConfig

    asked = {}
    monkeypatch.setattr(qa.api.ReaderModel, "load", lambda location, **settings: asked.update(settings))
    monkeypatch.setattr(qa.api, "resolve_device", lambda device: "cuda" if device == "auto" else device)
    qa.api.load_reader_model(QAConfig())
    assert asked == {"device": "cuda", "runtime": "auto"}
    qa.api.load_reader_model(QAConfig(index=IndexConfig(device="cpu"), reader_runtime="onnx-int8"))
    assert asked == {"device": "cpu", "runtime": "onnx-int8"}


def test_an_index_given_alone_keeps_the_documents_folder_it_was_built_from(tmp_path, embedder, monkeypatch):
    """Before, `answer(q, index=I)` took seeds/ for the folder: answers were marked stale, and an update()
    swapped the user's documents for the seed article."""
    import qa.api as qa_api
    from index.build import build
    from qa import update
    from qa.api import engine

    shared = embedder
    monkeypatch.setattr(qa_api, "_engines", {})
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "acme.txt").write_text("Acme\n\nThe Acme factory opened in 1921 in Dundee.\n")
    build(docs, tmp_path / "index", embedder=embedder)
    monkeypatch.setattr(qa_api, "Embedder", lambda *args, **kwargs: shared)  # the session's model, loaded once
    qa = engine(index=tmp_path / "index")
    assert qa.docs == docs.resolve()
    first = answer("When did the Acme factory open?", index=tmp_path / "index")
    assert first.found and first.text == "1921" and not first.stale
    _, summary = update(qa)
    assert summary.unchanged == ["acme.txt"] and not summary.removed


def test_a_documents_folder_given_as_the_index_is_refused_untouched(tmp_path, embedder):
    from index.build import build
    from index.errors import StoreError

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "acme.txt").write_text("The Acme factory opened in 1921.\n")
    with pytest.raises(StoreError, match="holds documents \\(acme.txt\\), not an index: pass it as the documents folder"):
        build(tmp_path / "elsewhere", docs, embedder=embedder)
    assert sorted(path.name for path in docs.iterdir()) == ["acme.txt"]


def test_the_engine_answers_with_the_weights_file_it_is_given(seed_index, embedder, tmp_path, monkeypatch):
    import json

    from qa.config import SHIPPED_WEIGHTS, QAConfig

    docs, index = seed_index
    custom = json.loads(SHIPPED_WEIGHTS.read_text())
    custom["threshold"], custom["span"]["threshold"] = 0.123, 0.456
    (tmp_path / "custom.json").write_text(json.dumps(custom))
    monkeypatch.setenv("QA_READER_WEIGHTS", str(tmp_path / "custom.json"))
    engine = Engine(docs, index, QAConfig(), embedder=embedder)
    assert (engine.reader.threshold, engine.reader.sentences.threshold) == (0.456, 0.123)
    monkeypatch.setenv("QA_READER_WEIGHTS", str(tmp_path / "none.json"))
    with pytest.raises(ValueError, match=f"No reader weights at {tmp_path / 'none.json'}: write them with `qa calibrate"):
        Engine(docs, index, QAConfig(), embedder=embedder)


def test_a_damaged_index_is_rebuilt_from_python_as_its_message_says(seed_index, embedder, tmp_path):
    import shutil

    import qa
    from index.errors import StoreError

    docs, index = tmp_path / "docs", tmp_path / "index"
    shutil.copytree(seed_index[0], docs)
    shutil.copytree(seed_index[1], index)
    (index / (index / "CURRENT").read_text().strip() / "dense.faiss").unlink()
    with pytest.raises(StoreError, match=re.escape(f"(in Python: `qa.build_index({str(docs)!r}, {str(index)!r}, "
                                                   "rebuild=True)`)")):
        Engine(docs, index, embedder=embedder)
    summary = qa.build_index(docs, index)
    assert "damaged" in summary.full_rebuild_reason
    assert qa.answer("Who is Armenia's Prime Minister?", index=index, docs=docs).text == "Nikol Pashinyan"


def test_updating_an_engine_made_with_its_own_settings_leaves_the_shared_one(seed_index, embedder, monkeypatch):
    import qa.api as qa_api
    from qa import update
    from qa.config import QAConfig

    monkeypatch.setattr(qa_api, "_engines", {})
    monkeypatch.setattr(qa_api, "Embedder", lambda *args, **kwargs: embedder)
    shared = qa_api.engine(*seed_index)
    update(qa_api.Engine(*seed_index, QAConfig(reader="sentence", threshold=0.99), embedder=embedder))
    assert qa_api.engine(*seed_index) is shared  # before, the custom engine answered every later engine() call
    fresh, _ = update(shared)
    assert qa_api.engine(*seed_index) is fresh
    with pytest.raises(TypeError, match="update\\(\\) takes an Engine"):
        update(str(seed_index[1]))


def test_retrieve_gives_the_engines_own_number_of_passages(seed_index, embedder):
    from qa.config import QAConfig

    custom = Engine(*seed_index, QAConfig(k=2), embedder=embedder)
    assert len(retrieve("What is the CSTO?", index=custom)) == 2
    assert len(retrieve("What is the CSTO?", k=3, index=custom)) == 3


def test_loading_one_folder_does_not_wait_for_another_being_built(tmp_path, monkeypatch):
    import threading
    import time

    import qa.api as qa_api

    release = threading.Event()

    class SlowEngine:
        def __init__(self, docs, index, embedder=None):
            self.embedder = embedder
            if docs.name == "first":
                release.wait(30)  # a long build

    monkeypatch.setattr(qa_api, "Engine", SlowEngine)
    monkeypatch.setattr(qa_api, "_engines", {})
    building = threading.Thread(target=qa_api.engine, args=(tmp_path / "first", tmp_path / "index1"))
    building.start()
    time.sleep(0.2)
    started = time.monotonic()
    qa_api.engine(tmp_path / "second", tmp_path / "index2")
    waited = time.monotonic() - started
    release.set()
    building.join()
    assert waited < 5


@pytest.mark.parametrize("settings, message", [
    ({"k": 2.5}, "k must be a whole number, not 2.5"),
    ({"k": "5"}, "k must be a whole number, not '5'"),
    ({"threshold": "0.5"}, "threshold must be a finite number"),
    ({"fusion": (0.1, 0.6, 0.3)}, "fusion must be FusionWeights"),
    ({"index": None}, "index must be an IndexConfig"),
])
def test_settings_of_the_wrong_type_are_refused_when_made(settings, message):
    from qa import QAConfig

    with pytest.raises(TypeError, match=re.escape(message)):
        QAConfig(**settings)


def test_fusion_weights_and_index_settings_are_checked_when_made():
    from qa import FusionWeights, IndexConfig

    for weights in ((-1, 0, 0), (0, 0, 0)):
        with pytest.raises(ValueError, match="fusion weights must be 0 or more, and not all 0"):
            FusionWeights(*weights)
    with pytest.raises(TypeError, match="dense must be a finite number, not nan"):
        FusionWeights(float("nan"), 0, 0)
    with pytest.raises(TypeError, match="chunk_tokens must be a whole number, not '200'"):
        IndexConfig(chunk_tokens="200")


@pytest.mark.parametrize("history, message", [
    (5, "history must be a list of (question, answer text) pairs, oldest first, not int"),
    ("hello", "history must be a list of (question, answer text) pairs, oldest first, not str"),
    ([("Who?", "x" * 500, "extra")], "history turn 1 is ('Who?', 'xxxxx"),
])
def test_a_history_that_is_not_a_list_of_pairs_is_refused_in_a_line(history, message, seed_engine):
    with pytest.raises(QuestionError, match=re.escape(message)) as refused:
        answer("When did he speak?", history=history, index=seed_engine)
    assert len(str(refused.value)) < 250


def test_a_question_with_a_lone_surrogate_is_refused_with_where_it_is(seed_engine):
    with pytest.raises(QuestionError, match="not text \\('\\\\ud800' at 9\\): remove it"):
        answer("When did \ud800 Armenia freeze?", index=seed_engine)


def test_a_chat_takes_an_index_folder_as_answer_does(seed_index):
    from qa import Chat

    docs, index = seed_index
    chat = Chat(index, docs)
    assert chat.ask("Who is Armenia's Prime Minister?").found and chat.history


def test_an_index_built_with_other_settings_is_used_with_a_warning(seed_index, embedder):
    from qa import IndexConfig, QAConfig
    from qa.api import SettingsWarning

    with pytest.warns(SettingsWarning, match="built with other settings \\(chunker settings changed .*next update "
                      "\\(`qa index --docs .*\\) cuts every document again, embedding only the chunks that come out"):
        qa = Engine(*seed_index, QAConfig(index=IndexConfig(chunk_tokens=100, overlap_tokens=20)), embedder=embedder)
    assert qa.answer("Who is Armenia's Prime Minister?").found
