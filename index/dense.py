"""The dense vector index: exact inner product (flat) or approximate (HNSW), chosen by a small factory."""

from __future__ import annotations

import faiss
import numpy as np

#: What `IndexConfig.dense_index` may name: "auto" picks by the number of chunks.
DENSE_KINDS = ("auto", "flat", "hnsw")
#: From this many chunks on, "auto" builds an approximate (HNSW) index; below, exact search is fast enough.
APPROXIMATE_FROM = 50_000
#: HNSW graph settings: neighbours per node, search depth while building and while searching.
HNSW_NEIGHBORS = 32
HNSW_BUILD_DEPTH = 80
HNSW_SEARCH_DEPTH = 256


def dense_kind(requested: str, count: int) -> str:
    """The index kind to build for `count` vectors: "flat" or "hnsw"."""
    if requested not in DENSE_KINDS:
        raise ValueError(f"dense index must be one of {', '.join(DENSE_KINDS)}, not {requested!r}")
    if requested == "auto":
        return "hnsw" if count >= APPROXIMATE_FROM else "flat"
    return requested


def make_dense(vectors: np.ndarray, kind: str) -> faiss.Index:
    """An inner-product index over unit `vectors` (float32, one row per chunk); row i is chunk i."""
    dimension = vectors.shape[1]
    if kind == "flat":
        index = faiss.IndexFlatIP(dimension)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBORS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_BUILD_DEPTH
    else:
        raise ValueError(f"unknown dense index kind {kind!r}")
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return searchable(index)


def searchable(index: faiss.Index) -> faiss.Index:
    """`index` set up for searching (an HNSW index searches HNSW_SEARCH_DEPTH deep)."""
    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = HNSW_SEARCH_DEPTH
    return index
