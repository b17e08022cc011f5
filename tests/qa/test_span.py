"""Span decoding: exact character offsets across windows, no-answer, and loading models from folders."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from index.config import DEFAULT_MODEL
from index.embedding import resolve_model
from qa.reader_model import FROZEN, ReaderModel, base_model, pretrained, save_shipped
from qa.span import SPAN_FOUND_FEATURES, Decoding, Window, decode, merged


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_model(DEFAULT_MODEL))


class PointingModel(torch.nn.Module):
    """A stand-in QA model whose start logit peaks on one token id and end logit on another (or on [CLS])."""

    def __init__(self, start_id: int, end_id: int, null: float = 0.0) -> None:
        super().__init__()
        self.start_id, self.end_id, self.null = start_id, end_id, null
        self.device = torch.device("cpu")

    def forward(self, input_ids, **_):
        start = (input_ids == self.start_id).float() * 10
        end = (input_ids == self.end_id).float() * 10
        start[:, 0] = end[:, 0] = self.null
        return SimpleNamespace(start_logits=start, end_logits=end)


def pointing(tokenizer, first: str, last: str, null: float = 0.0) -> ReaderModel:
    """Points at the first wordpiece of `first` and the last wordpiece of `last`."""
    start_id = tokenizer(first, add_special_tokens=False)["input_ids"][0]
    end_id = tokenizer(last, add_special_tokens=False)["input_ids"][-1]
    return ReaderModel(tokenizer, PointingModel(start_id, end_id, null), "pointing")


def test_offsets_map_back_exactly_from_a_later_window(tokenizer):
    filler = "The delegation met again in the afternoon. " * 40  # far more than one window of 64 tokens
    text = filler + "Armenia's foreign minister, Ararat Mirzoyan, spoke on Feb. 23 in Yerevan. " + filler
    reader = pointing(tokenizer, "ararat", "yerevan")
    decoding = Decoding(max_length=64, stride=16, max_answer_tokens=30)
    (span,) = decode(reader, "Who spoke?", [text], decoding)
    assert text[span.start : span.end] == "Ararat Mirzoyan, spoke on Feb. 23 in Yerevan"
    assert span.margin > 0


def test_spans_longer_than_the_limit_are_not_taken(tokenizer):
    text = "Ararat Mirzoyan, the foreign minister of Armenia since 2021, spoke in Yerevan."
    reader = pointing(tokenizer, "ararat", "yerevan")
    (span,) = decode(reader, "Who?", [text], Decoding(max_answer_tokens=5))
    assert span is None or span.end - span.start < len("Ararat Mirzoyan, the foreign minister of Armenia since 2021, spoke in Yerevan")


def test_a_span_never_runs_across_a_blank_line(tokenizer):
    """A title over its paragraph: the best start is in the title and the best end in the paragraph."""
    text = "Ararat Mirzoyan\n\nThe foreign minister spoke in Yerevan."
    (span,) = decode(pointing(tokenizer, "ararat", "yerevan"), "Who?", [text])
    assert span is not None and "\n\n" not in text[span.start : span.end]


@pytest.mark.parametrize("text, first, expected", [
    ("Northwind paid 212 million kroner.", "212", "212 million kroner"),  # the sentence's period is not the answer's
    ("The stations opened in Tromvik, Alta;", "tromvik", "Tromvik, Alta"),
    ("Armenia froze its participation in Feb.", "feb", "Feb."),  # an abbreviation keeps its period
])
def test_a_span_ends_before_the_punctuation_that_closes_its_sentence(text, first, expected, tokenizer):
    (span,) = decode(pointing(tokenizer, first, text[-1]), "What?", [text])
    assert text[span.start : span.end] == expected


@pytest.mark.parametrize("text, first, last, expected", [
    ("Report bugs to procps@freelists.org today.", "@", "org", "procps@freelists.org"),  # not "@freelists.org"
    ("It needs Python 3.8 or later.", "3", "3", "3.8"),
    ("Set binary:Version in the file.", "version", "version", "binary:Version"),
    ("Armenia's lake lies 1,900 metres up.", "900", "metres", "1,900 metres"),
    ("Armenia's Anglo-Saxon name.", "armenia", "armenia", "Armenia"),  # an apostrophe or a hyphen stays a border
    ("Armenia's Anglo-Saxon name.", "saxon", "saxon", "Saxon"),
    ("Build it with `make` first.", "`", "make", "make"),  # inline code, answered without its mark
    ("Run:\n\n```\npip install routerctl\n```", "pip", "`", "pip install routerctl"),  # not the closing fence
])
def test_a_span_is_grown_to_whole_tokens_and_loses_the_marks_around_code(text, first, last, expected, tokenizer):
    (span,) = decode(pointing(tokenizer, first, last), "What?", [text])
    assert text[span.start : span.end] == expected


def test_no_answer_beats_every_span_when_cls_scores_highest(tokenizer):
    text = "Ararat Mirzoyan spoke in Yerevan."
    reader = pointing(tokenizer, "ararat", "yerevan", null=50.0)
    (span,) = decode(reader, "Who?", [text])
    assert span.margin < 0


def test_each_text_gets_its_own_span_in_one_batch(tokenizer):
    texts = ["Nothing here matters.", "Then Ararat Mirzoyan left Yerevan.", "Ararat came to Yerevan."]
    reader = pointing(tokenizer, "ararat", "yerevan")
    spans = decode(reader, "Who?", texts)
    assert [s.text_index for s in spans] == [0, 1, 2]
    assert texts[1][spans[1].start : spans[1].end] == "Ararat Mirzoyan left Yerevan"
    assert texts[2][spans[2].start : spans[2].end] == "Ararat came to Yerevan"
    assert spans[0].margin < spans[1].margin


def test_a_very_long_question_still_leaves_room_for_the_text(tokenizer):
    reader = pointing(tokenizer, "ararat", "yerevan")
    (span,) = decode(reader, "who " * 500, ["Ararat Mirzoyan spoke in Yerevan."], Decoding(max_length=128))
    assert span is not None


def tiny_random_bert(folder, tokenizer, runtime: str = "auto", half: bool = False) -> ReaderModel:
    """A one-layer BERT question-answering model with random weights, saved to `folder` (in float16 if `half`)
    and loaded from it."""
    from transformers import BertConfig, BertForQuestionAnswering

    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512)
    torch.manual_seed(0)
    model = BertForQuestionAnswering(config)
    (model.half() if half else model).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return ReaderModel.load(folder, runtime=runtime)


def test_a_model_name_runs_on_pytorch_by_default(tmp_path, tokenizer, monkeypatch):
    """ONNX Runtime exports local folders only: a model name (downloaded by transformers) runs on PyTorch."""
    tiny_random_bert(tmp_path, tokenizer, runtime="torch")
    monkeypatch.setattr("index.embedding.hub_model", lambda name: name)  # as if the hub could be reached
    monkeypatch.setattr("qa.reader_model.pretrained", lambda location: pretrained(str(tmp_path)))  # as if downloaded
    reader = ReaderModel.load("someone/tiny-squad")
    assert reader.onnx is None and reader.name == "someone/tiny-squad"
    (span,) = decode(reader, "Who?", ["Ararat Mirzoyan spoke in Yerevan."])
    assert span is not None


def test_a_tiny_random_bert_loads_from_a_folder_and_decodes_valid_offsets(tmp_path, tokenizer):
    reader = tiny_random_bert(tmp_path, tokenizer)
    texts = ["Pashinyan said on Feb. 23 that Armenia froze its participation. " * 30, "Short text here."]
    spans = decode(reader, "When did Armenia freeze it?", texts, Decoding(max_length=96, stride=32))
    for span, text in zip(spans, texts):
        assert 0 <= span.start < span.end <= len(text)
        assert text[span.start : span.end] == text[span.start : span.end].strip()


def test_a_roberta_model_reads_alike_on_both_runtimes(tmp_path):
    """The RoBERTa family (deepset/tinyroberta-squad2, say): byte-level BPE, no token types, two separators."""
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        pre_tokenizers,
        processors,
        trainers,
    )
    from transformers import (
        RobertaConfig,
        RobertaForQuestionAnswering,
        RobertaTokenizerFast,
    )

    texts = ["Pashinyan said on Feb. 23 that Armenia froze its participation in the CSTO. " * 8, "Short text here."]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer, bpe.decoder = pre_tokenizers.ByteLevel(add_prefix_space=False), decoders.ByteLevel()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    bpe.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=400, special_tokens=specials, show_progress=False,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    bpe.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    RobertaTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
                         unk_token="<unk>", pad_token="<pad>", mask_token="<mask>").save_pretrained(tmp_path)
    config = RobertaConfig(vocab_size=bpe.get_vocab_size(), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                           intermediate_size=64, max_position_embeddings=514, type_vocab_size=1, pad_token_id=1)
    torch.manual_seed(0)
    RobertaForQuestionAnswering(config).save_pretrained(tmp_path)
    question = "When did Armenia freeze it?"
    plain, onnx = (ReaderModel.load(tmp_path, runtime=runtime) for runtime in ("torch", "onnx"))
    batch = onnx.wordpieces.windows(question, texts, 64, 16)
    assert len(batch.rows_of) > len(texts)  # the long text took several windows
    for window, text_index in enumerate(batch.rows_of):
        sequences, offsets = batch.sequence_ids[window], batch.offsets[window]
        pieces = [texts[text_index][start:end] for (start, end), sequence in zip(offsets, sequences) if sequence == 1]
        assert "".join(pieces).replace(" ", "") in texts[text_index].replace(" ", "")  # offsets in the text
    spans = [decode(reader, question, texts, Decoding(max_length=64, stride=16)) for reader in (plain, onnx)]
    for span, same, text in zip(*spans, texts):
        assert (span.start, span.end) == (same.start, same.end) and span.score == pytest.approx(same.score, abs=1e-4)
        assert 0 <= span.start < span.end <= len(text)


def test_a_model_stored_in_half_precision_is_read_in_float32(tmp_path, tokenizer):
    plain = tiny_random_bert(tmp_path, tokenizer, runtime="torch", half=True)
    assert next(plain.model.parameters()).dtype == torch.float32
    arrays = plain.wordpieces.windows("Who spoke?", ["Ararat Mirzoyan spoke in Yerevan."], 64, 16).arrays
    onnx = ReaderModel.load(tmp_path, runtime="onnx")
    for expected, got in zip(plain.logits(arrays), onnx.logits(arrays)):
        np.testing.assert_allclose(got, expected, atol=1e-4)


def test_token_types_reach_the_model_even_when_the_tokenizer_does_not_list_them(tmp_path, tokenizer):
    reader = tiny_random_bert(tmp_path, tokenizer, runtime="torch")
    arrays = reader.wordpieces.windows("Who spoke?", ["Ararat Mirzoyan spoke."], 64, 16).arrays
    expected, _ = reader.logits(arrays)
    without_types, _ = reader.logits(arrays | {"token_type_ids": np.zeros_like(arrays["token_type_ids"])})
    assert not np.allclose(expected, without_types)  # the segments matter to this model
    reader.tokenizer.model_input_names = ["input_ids", "attention_mask"]
    np.testing.assert_allclose(reader.logits(arrays)[0], expected)


def test_shipped_form_stores_no_word_embeddings_and_reloads_the_same_model(tmp_path):
    _, model = base_model(DEFAULT_MODEL)
    torch.manual_seed(0)
    torch.nn.init.normal_(model.qa_outputs.weight, std=0.5)
    files = save_shipped(model, tmp_path, DEFAULT_MODEL, {"trained": {"steps": 0}}, shard_mb=8)
    assert len([f for f in files if f.suffix == ".safetensors"]) >= 2  # sharded under the size limit
    assert all(f.stat().st_size <= 8 * 2**20 + 2**16 for f in files)
    from safetensors import safe_open

    for f in files:
        if f.suffix == ".safetensors":
            with safe_open(str(f), "pt") as tensors:
                assert not set(tensors.keys()) & set(FROZEN)
    loaded = ReaderModel.load(tmp_path, runtime="torch")
    inputs = loaded.tokenizer("Who?", "Ararat Mirzoyan spoke.", return_tensors="pt")
    model.eval()
    with torch.inference_mode():
        expected, got = model(**inputs).start_logits, loaded.model(**inputs).start_logits
    assert torch.allclose(expected, got, atol=0.05)
    exported = ReaderModel.load(tmp_path)  # ONNX Runtime, exported from the shipped form
    starts, _ = exported.logits(exported.wordpieces.windows("Who?", ["Ararat Mirzoyan spoke."], 64, 16).arrays)
    np.testing.assert_allclose(starts, got.numpy(), atol=1e-4)


def test_a_missing_reader_folder_says_what_to_do(tmp_path):
    with pytest.raises(ValueError, match=f"there is no folder at {tmp_path / 'nowhere'}. .*extractive question-answering model"):
        ReaderModel.load(tmp_path / "nowhere")


def test_the_onnx_reader_gives_the_logits_of_pytorch(tokenizer):
    reader, plain = ReaderModel.load(runtime="onnx"), ReaderModel.load(runtime="torch")
    assert reader.model is None and plain.onnx is None
    texts = ["Nikol Pashinyan leads Armenia. " * 40, "No one."]  # the first needs several windows
    batch = reader.wordpieces.windows("Who leads Armenia?", texts, 128, 32)
    expected = tokenizer(["Who leads Armenia?"] * 2, texts, truncation="only_second", max_length=128, stride=32,
                         return_overflowing_tokens=True, return_offsets_mapping=True, padding=True)
    assert batch.arrays["input_ids"].tolist() == expected["input_ids"]
    assert batch.rows_of == expected["overflow_to_sample_mapping"] == [0, 0, 0, 0, 1]
    np.testing.assert_array_equal(batch.offsets, np.array(expected["offset_mapping"]))  # padded with (0, 0) alike
    starts, ends = reader.logits(batch.arrays)
    expected_starts, expected_ends = plain.logits(batch.arrays)
    np.testing.assert_allclose(starts, expected_starts, atol=1e-4)
    np.testing.assert_allclose(ends, expected_ends, atol=1e-4)
    padding = batch.arrays["attention_mask"] == 0  # "No one." is padded to the long text's windows
    assert padding.any() and np.isneginf(starts[padding]).all() and np.isneginf(expected_ends[padding]).all()
    assert np.isfinite(starts[~padding]).all() and np.isfinite(expected_ends[~padding]).all()
    for got, want in zip(decode(reader, "Who leads Armenia?", texts), decode(plain, "Who leads Armenia?", texts)):
        assert (got.start, got.end) == (want.start, want.end) and got.margin == pytest.approx(want.margin, abs=1e-3)


def test_overlapping_windows_are_read_as_one():
    def window(doc, rank, *sentences):
        passage = SimpleNamespace(doc=doc)
        return Window(SimpleNamespace(passage=passage, rank=rank), sentences[0][0], sentences[-1][1], list(sentences))

    first, second = window("a", 1, (10, 20), (20, 30)), window("a", 2, (20, 30), (30, 45))
    apart, elsewhere = window("a", 3, (50, 60), (60, 70)), window("b", 4, (10, 20), (20, 30))
    joined, *rest = merged([first, second, apart, elsewhere])
    assert (joined.start, joined.end, joined.sentences) == (10, 45, [(10, 20), (20, 30), (30, 45)])
    assert joined.candidate is first.candidate
    assert rest == [apart, elsewhere]


def test_a_number_name_or_negation_the_text_lacks_lowers_the_found_score(seed_engine):
    from qa.calibration import searched

    question = "When did Armenia freeze its CSTO participation?"
    reader = seed_engine.reader
    ranking, readings = reader.spans(*searched(seed_engine, question))
    span, window = readings[0]
    gaps = slice(SPAN_FOUND_FEATURES.index("number"), SPAN_FOUND_FEATURES.index("negation") + 1)
    plain = reader.score(question, span, window, ranking)
    assert reader.found_features(question, span, window, ranking)[gaps] == [0.0, 0.0, 0.0]
    for gap, other in enumerate(("When did Armenia freeze its CSTO participation in 1994?",
                                 "When did Portugal freeze its CSTO participation?",
                                 "When did Armenia not freeze its CSTO participation?")):
        assert reader.found_features(other, span, window, ranking)[gaps] == [float(i == gap) for i in range(3)]
        assert reader.score(other, span, window, ranking) < plain, other


def test_the_found_score_weighs_the_similarity_of_the_sentence_holding_the_span(seed_engine):
    from qa.calibration import searched

    question = "When did Armenia freeze its CSTO participation?"
    reader = seed_engine.reader
    text, vector, passages = searched(seed_engine, question)
    ranking, readings = reader.spans(text, vector, passages)
    span, window = readings[0]
    doc, start = window.candidate.passage.doc, window.start + span.start
    assert seed_engine.store.document(doc).text[start : window.start + span.end] == "Feb. 23"
    stored = [seed_engine.store.embedded(passage.chunk) for passage in passages if passage.doc == doc]
    held = [float(sentence_vector @ vector) for embedded in stored
            for (first, last), sentence_vector in zip(embedded.sentences.tolist(), embedded.sentence_vectors)
            if first <= start < last]
    features = reader.found_features(question, span, window, ranking)
    assert features[SPAN_FOUND_FEATURES.index("cosine")] == pytest.approx(held[0], abs=1e-6)
    assert reader.weights.cosine > 0  # a sentence closer to the question makes an answer likelier


FAQ = ("Router FAQ\n\nWhy does the light blink orange? The router blinks orange while it installs an update.\n\n"
       "How do I reset the router? Hold the reset button on the back for ten seconds.\n\n"
       "Setup\n\nTo install the command line tool, run the following:\n\n    pip install routerctl\n")


@pytest.fixture(scope="module")
def faq_engine(tmp_path_factory, embedder):
    from qa.api import Engine

    root = tmp_path_factory.mktemp("faq")
    (root / "docs").mkdir()
    (root / "docs" / "faq.txt").write_text(FAQ)
    return Engine(root / "docs", root / "index", embedder=embedder)


def test_a_sentence_that_ends_with_a_colon_is_read_with_what_it_introduces(faq_engine):
    question = "How do I install the command line tool?"
    vector = faq_engine.embedder.encode([question], progress=False)[0]
    ranking = faq_engine.reader.sentences.rank(question, vector, faq_engine.retriever.search(question, 5, vector))
    (colon,) = [c for c in ranking.candidates if c.text.endswith("run the following:")]
    assert faq_engine.reader.text(faq_engine.reader.window(colon)).endswith("run the following:\n\n    pip install routerctl")


def test_a_span_in_a_sentence_that_asks_gives_way_to_one_in_a_sentence_that_answers(faq_engine, monkeypatch):
    import qa.span
    from qa.span import Span

    def in_the_question(reader, question, texts, decoding=None):  # the model's best span: inside the question
        spans = []
        for index, text in enumerate(texts):
            asked = text.find("Why does the light blink orange")
            start, end = (asked + 4, asked + 31) if asked >= 0 else (text.find("Hold"), text.find(" on the back"))
            spans.append(Span(index, start, end, 9.0 if asked >= 0 else 4.0, 0.0) if start >= 0 else None)
        return spans

    monkeypatch.setattr(qa.span, "decode", in_the_question)
    question = "Why does the light blink?"
    vector = faq_engine.embedder.encode([question], progress=False)[0]
    _, readings = faq_engine.reader.spans(question, vector, faq_engine.retriever.search(question, 5, vector))
    span, window = readings[0]
    assert faq_engine.reader.text(window)[span.start : span.end] == "Hold the reset button"


def test_a_fair_span_in_the_sentence_the_question_points_to_beats_a_slightly_better_one_elsewhere(faq_engine):
    from qa.span import Span

    question = "How long do I hold the reset button?"
    vector = faq_engine.embedder.encode([question], progress=False)[0]
    ranking = faq_engine.reader.sentences.rank(question, vector, faq_engine.retriever.search(question, 5, vector))
    (top, *_, low) = ranking.candidates
    assert ranking.shares[0] > 2 * ranking.shares[-1]
    readings = []
    for candidate, margin in ((low, 5.0), (top, 4.0)):  # the span in the least likely sentence has the higher margin
        window = faq_engine.reader.window(candidate)
        readings.append((Span(0, candidate.start - window.start, candidate.end - window.start, margin, 0.0), window))
    assert faq_engine.reader.best_first(readings, ranking)[0][1].candidate is top


@pytest.mark.parametrize("question, answer", [
    ("How do I install the command line tool?", "pip install routerctl"),  # asks how: the step it introduces
    ("What should I run to install the command line tool?", "run the following"),  # the span as read
])
def test_a_how_to_answer_in_a_sentence_that_introduces_a_step_gives_way_to_the_step(question, answer, faq_engine,
                                                                                     monkeypatch):
    import qa.span
    from qa.span import Span

    def in_the_introduction(reader, question, texts, decoding=None):  # the model's best span: "run the following"
        return [Span(index, text.find("run the following"), text.find(":", text.find("run the following")), 5.0,
                     -5.0) if "run the following" in text else None for index, text in enumerate(texts)]

    monkeypatch.setattr(qa.span, "decode", in_the_introduction)
    found = faq_engine.answer(question)
    citation = found.citations[0]
    document = faq_engine.store.document(citation.doc).text
    assert found.text == answer == document[citation.answer_start : citation.answer_end]
    assert citation.quote == document[citation.start : citation.end]
    assert citation.quote.startswith("To install the command line tool") and citation.quote.endswith(
        "routerctl" if answer.startswith("pip") else "run the following:")





@pytest.mark.parametrize("text", ["### Loading a model\n\nCall load() first.", "```python\nmodel = load()\n```"])
def test_markup_alone_is_never_the_span(text, tokenizer):
    """The model's best pair is a heading's marks or a code fence's language: the span is taken elsewhere."""
    marks = "###" if text.startswith("#") else "python"
    (span,) = decode(pointing(tokenizer, marks, marks), "How do I load it?", [text])
    assert span is None or (text[span.start : span.end] != marks and any(c.isalnum() for c in text[span.start : span.end]))
    assert span is None or text.find("\n") < span.start or not text.startswith("```")





@pytest.mark.parametrize("sentence, expected", [
    ("To install the tool, run the following:", True),
    ("## Running the tests", True),
    ("#1 on the charts for a year.", False),
    ("It installs in a minute.", False),
    ("After installing pytest, use this command to run tests.", False),
])
def test_a_sentence_introduces_what_follows_when_it_ends_with_a_colon_is_a_heading_or_code_follows(sentence,
                                                                                                    expected):
    from qa.span import introduces

    assert introduces(sentence) is expected
    assert introduces(sentence, "```\npytest\n```")  # code follows it


def test_what_a_sentence_introduces_is_read_from_the_next_chunk_when_it_ends_its_own(tmp_path, embedder):
    from qa.api import Engine

    docs = tmp_path / "docs"
    docs.mkdir()
    steps = " ".join(f"Step {n} of the router setup checks cable number {n} and lamp number {n + 10} twice."
                     for n in range(1, 9))
    (docs / "setup.md").write_text(f"{steps} To install the command line tool, run the following:\n\n"
                                   "    pip install routerctl\n\nThe tool prints the router's status.\n")
    engine = Engine(docs, tmp_path / "index", embedder=embedder)
    chunks = engine.store.chunks
    assert chunks[0].text.endswith("run the following:") and "pip install" not in chunks[0].text  # as laid out
    question = "How do I install the command line tool?"
    vector = engine.embedder.encode([question], progress=False)[0]
    ranking = engine.reader.sentences.rank(question, vector, engine.retriever.search(question, 5, vector))
    colon = next(c for c in ranking.candidates if c.text.endswith("run the following:") and c.passage.chunk == 0)
    assert engine.reader.text(engine.reader.window(colon)).endswith("run the following:\n\n    pip install routerctl")


@pytest.mark.parametrize("step, answer", [
    ("```shell\npip install routerctl  # the stable release\n```", "pip install routerctl"),  # no comment
    ("```yaml\n```", "run the following"),  # an empty block introduces nothing: the span as read
])
def test_an_introduced_step_is_answered_without_its_comment_and_an_empty_block_is_not_one(step, answer, tmp_path,
                                                                                          embedder, monkeypatch):
    import qa.span
    from qa.api import Engine
    from qa.span import Span

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "setup.md").write_text(f"# Router setup\n\nTo install the tool, run the following:\n\n{step}\n")
    engine = Engine(docs, tmp_path / "index", embedder=embedder)

    def in_the_introduction(reader, question, texts, decoding=None):
        return [Span(index, text.find("run the following"), text.find(":", text.find("run the following")), 5.0,
                     -5.0) if "run the following" in text else None for index, text in enumerate(texts)]

    monkeypatch.setattr(qa.span, "decode", in_the_introduction)
    assert engine.answer("How do I install the tool?").text == answer


def test_a_span_in_code_is_answered_with_the_whole_command(tmp_path, embedder, monkeypatch):
    import qa.span
    from qa.api import Engine
    from qa.span import Span

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "cli.md").write_text("# Router CLI\n\nThe command line client is an optional extra.\n\n```shell\n"
                                 "$ pip install 'routerctl[cli]'  # the client\n```\n")
    engine = Engine(docs, tmp_path / "index", embedder=embedder)

    def on_pip(reader, question, texts, decoding=None):  # the model's best span: "pip" alone
        return [Span(index, text.find("pip"), text.find("pip") + 3, 5.0, -5.0) if "$ pip" in text else None
                for index, text in enumerate(texts)]

    monkeypatch.setattr(qa.span, "decode", on_pip)
    found = engine.answer("How do I install the command line client?")
    citation = found.citations[0]
    assert found.text == "pip install 'routerctl[cli]'"
    assert engine.store.document("cli.md").text[citation.answer_start : citation.answer_end] == found.text
