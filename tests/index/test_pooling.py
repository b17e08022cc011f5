"""Span pooling: the batched PyTorch pooling gives the per-text NumPy one, padding, empty spans and all."""

import numpy as np
import pytest
import torch

from index.pooling import pool_spans, pool_spans_batch


def test_the_batched_pooling_gives_the_per_text_one():
    rng = np.random.default_rng(0)
    lengths = [6, 3]
    offsets = [[(0, 0), (0, 4), (5, 9), (10, 12), (12, 13), (0, 0)], [(0, 0), (0, 2), (0, 0), (0, 0), (0, 0), (0, 0)]]
    spans = [[(0, 9), (10, 13), (20, 30)], [(0, 2)]]
    tokens = rng.normal(size=(2, 6, 8)).astype(np.float32)  # the second row is padded after 3 tokens
    fallback = rng.normal(size=(2, 8)).astype(np.float32)
    fallback /= np.linalg.norm(fallback, axis=1, keepdims=True)
    batched = pool_spans_batch(torch.from_numpy(tokens), np.array(offsets), spans, torch.from_numpy(fallback))
    for row in range(2):
        expected = pool_spans(tokens[row, : lengths[row]], np.array(offsets[row][: lengths[row]]), spans[row], fallback[row])
        assert batched[row].dtype == np.float16  # as the index stores them
        np.testing.assert_allclose(batched[row], expected, atol=1e-3)
    np.testing.assert_allclose(batched[0][2], fallback[0], atol=1e-3)  # no token starts in (20, 30)


def test_rows_without_spans_and_mismatched_offsets():
    tokens = torch.ones(1, 2, 4)
    assert pool_spans_batch(tokens, np.array([[(0, 0), (0, 1)]]), [[]], torch.ones(1, 4))[0].shape == (0, 4)
    with pytest.raises(ValueError, match="offsets"):
        pool_spans_batch(tokens, np.array([[(0, 1)]]), [[(0, 1)]], torch.ones(1, 4))
