"""WordPieces: a batch built from a document's token slices is the batch the tokenizer makes of the texts."""

import numpy as np
import pytest

from index.chunking import Chunker
from index.documents import read_folder
from index.embedding import Embedder
from tests.conftest import SEEDS


def test_a_batch_from_token_slices_is_the_tokenizers_batch(embedder):
    wordpieces = embedder.wordpieces
    assert wordpieces.sliceable  # the default model's tokenizer cuts each word alone
    # one "word" too long for a window (a URL, say) is cut inside it: those chunks' rows have no token slices
    text = read_folder(SEEDS)[0][0].text + " " + "".join(f"pneumonoultramicroscopic{i}" for i in range(300))
    passages = Chunker(200, 80, embedder.max_tokens, wordpieces).passages("x", text)
    texts, tokens = [p.chunk.text for p in passages], [p.tokens for p in passages]
    assert any(t is None for t in tokens) and any(t is not None for t in tokens)  # both kinds of rows
    for limit in (embedder.backend.max_seq_length, 40):  # whole texts, and texts cut to the limit
        expected, built = wordpieces.batch(texts, limit), wordpieces.batch(texts, limit, tokens)
        for name, array in expected.arrays.items():
            np.testing.assert_array_equal(built.arrays[name], array, err_msg=name)
        np.testing.assert_array_equal(built.offsets, expected.offsets)
        assert built.sequence_ids == expected.sequence_ids and built.rows_of == expected.rows_of


def test_a_tokenizer_that_adds_context_is_not_sliced(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers

    from index.wordpieces import WordPieces

    tokenizer = Tokenizer(models.BPE(vocab={"a": 0, "Ġ": 1}, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    assert not WordPieces(tokenizer, 0).sliceable


@pytest.mark.parametrize("runtime", ["onnx-int8", "torch"])
def test_sliced_tokens_give_the_vectors_of_tokenized_texts_batch_after_batch(runtime, embedder, monkeypatch):
    embedder = embedder if runtime == embedder.runtime else Embedder(device="cpu", runtime=runtime)
    text = read_folder(SEEDS)[0][0].text * 3
    passages = Chunker(200, 80, embedder.max_tokens, embedder.wordpieces).passages("x", text)
    texts, spans = [p.chunk.text for p in passages], [p.sentences - p.chunk.start for p in passages]
    monkeypatch.setattr(embedder, "batch_size", 2)  # many batches
    vectors, pooled = embedder.encode_passages(texts, spans, tokens=[p.tokens for p in passages])
    expected_vectors, expected_pooled = embedder.encode_passages(texts, spans)
    assert len(texts) > 4 and all(p.tokens is not None for p in passages)
    np.testing.assert_allclose(vectors, expected_vectors, atol=1e-6)
    for got, want in zip(pooled, expected_pooled):
        np.testing.assert_array_equal(got, want)


def test_a_long_text_is_tokenized_in_pieces_to_the_same_tokens(embedder, monkeypatch):
    text = read_folder(SEEDS)[0][0].text + "\n\n东京 Café naïve, U.S.-made.\tend"
    whole = embedder.wordpieces.tokens(text)
    monkeypatch.setattr("index.wordpieces.SEGMENT_CHARS", 50)  # dozens of pieces
    pieces = embedder.wordpieces.tokens(text)
    for name in ("ids", "starts", "ends"):
        np.testing.assert_array_equal(getattr(pieces, name), getattr(whole, name), err_msg=name)
    assert pieces.starts.dtype == np.int32 and len(np.unique(pieces.words)) == len(np.unique(whole.words))
    assert all(pieces.window(s, e) is not None for s, e in [(0, text.index(" ", 40)), (len(text) - 3, len(text))])
