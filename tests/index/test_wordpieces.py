"""WordPieces: a batch built from a document's token slices is the batch the tokenizer makes of the texts."""

import numpy as np

from index.chunking import Chunker
from index.documents import read_folder
from tests.conftest import SEEDS


def test_a_batch_from_token_slices_is_the_tokenizers_batch(embedder):
    wordpieces = embedder.wordpieces
    assert wordpieces.sliceable  # the default model's tokenizer cuts each word alone
    text = read_folder(SEEDS)[0][0].text + " " + " ".join(f"pneumonoultramicroscopic{i}" for i in range(300))
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
