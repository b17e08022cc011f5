"""Span pooling: unit mean vectors of the token embeddings that start inside character spans of a text, in NumPy
(one text, for ONNX Runtime) and in PyTorch (a padded batch, pooled where the model ran, the GPU included)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Spans = Sequence[tuple[int, int]]


def pool_spans(tokens: np.ndarray, offsets: np.ndarray, spans: Spans, fallback: np.ndarray) -> np.ndarray:
    """Unit mean vectors of the tokens that start inside each span (`fallback`, a unit vector, for a span with
    none); `offsets` are the tokens' character spans ((0, 0) for special tokens)."""
    _check(len(offsets), len(tokens))
    starts, real = offsets[:, 0], offsets[:, 1] > offsets[:, 0]
    pooled = np.zeros((len(spans), tokens.shape[1]), dtype=np.float32)
    for row, (start, end) in enumerate(spans):
        inside = real & (starts >= start) & (starts < end)
        vector = tokens[inside].mean(axis=0) if inside.any() else fallback
        pooled[row] = vector / max(float(np.linalg.norm(vector)), 1e-12)
    return pooled


def pool_spans_batch(tokens, offsets: np.ndarray, spans: Sequence[Spans], fallback) -> list[np.ndarray]:
    """`pool_spans` for a padded batch of PyTorch token embeddings (rows, tokens, dimension) on their device, one
    matrix product for the batch; `offsets` (rows, tokens, 2) are the tokens' character spans ((0, 0) for special
    and padding tokens) and `fallback` the rows' unit vectors. Only the pooled vectors leave the device, in
    float16 (as the index stores them)."""
    import torch

    rows = tokens.shape[0]
    if offsets.shape[:2] != tuple(tokens.shape[:2]):
        raise ValueError(f"tokenizer gave offsets for {offsets.shape[:2]} tokens, the model {tuple(tokens.shape[:2])}")
    most = max((len(row_spans) for row_spans in spans), default=0)
    bounds = np.zeros((rows, max(most, 1), 2), dtype=np.int64)  # (0, 0) pads: no token starts inside
    for row, row_spans in enumerate(spans):
        if len(row_spans):
            bounds[row, : len(row_spans)] = row_spans
    device = tokens.device
    offsets_on, bounds_on = torch.from_numpy(offsets).to(device), torch.from_numpy(bounds).to(device)
    starts, real = offsets_on[..., 0], offsets_on[..., 1] > offsets_on[..., 0]
    inside = real[:, None, :] & (starts[:, None, :] >= bounds_on[..., :1]) & (starts[:, None, :] < bounds_on[..., 1:])
    counts = inside.sum(dim=2, keepdim=True)
    means = torch.bmm(inside.to(tokens.dtype), tokens).float() / counts.clamp(min=1)
    pooled = torch.where(counts > 0, means, fallback.float()[:, None, :])
    pooled = torch.nn.functional.normalize(pooled, dim=2, eps=1e-12).half().cpu().numpy()
    return [pooled[row, : len(row_spans)] for row, row_spans in enumerate(spans)]


def _check(offsets: int, tokens: int) -> None:
    if offsets != tokens:
        raise ValueError(f"tokenizer gave {offsets} offsets for {tokens} token embeddings")
