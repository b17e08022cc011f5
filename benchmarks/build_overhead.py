"""Build overhead: the whole index build (`index.build`) over copies of a docs folder, with the embedding model's
forward pass and span pooling replaced by constant outputs, so that only the build's own CPU work is timed
(reading, chunking in worker processes, batching, BM25, the FAISS index, writing): the speed that no GPU can
take the build past on this machine. Measured twice: as the build runs, and with every document chunked
beforehand, which leaves the work that one process does however many cores chunk.

    python benchmarks/build_overhead.py --docs ../shared/eval/squad-v1.1-dev/docs --copies 26 \
        --out benchmarks/build_overhead.md
"""

from __future__ import annotations

import importlib
import os
import platform
import statistics
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from gpu_build import STAGES, copies_parser, copy_docs, timed_build

from index.config import IndexConfig
from index.embedding import Embedder
from index.preparation import Prepared, Preparer, prepare
from index.store import Store

#: The modules whose names are patched (`index.build` is also the name of a function in `index`).
BUILD, EMBEDDING = importlib.import_module("index.build"), importlib.import_module("index.embedding")


class _ConstantModel:
    """Stands in for a sentence-transformers model: ones for every output, made without work (a broadcast view)."""

    device = "cpu"

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension

    def __call__(self, features: dict) -> dict:
        import torch

        rows, tokens = features["input_ids"].shape
        return {"sentence_embedding": torch.ones(rows, self.dimension),
                "token_embeddings": torch.ones(1, 1, self.dimension).expand(rows, tokens, self.dimension)}


def _constant_pooling(tokens, offsets, spans, fallback) -> list[np.ndarray]:
    return [np.zeros((len(row_spans), tokens.shape[-1]), dtype=np.float16) for row_spans in spans]


#: Documents chunked before the build, by sha256 (by the first build that asked for them).
_PREPARED: dict[str, Prepared] = {}


class _PreparedBeforehand(Preparer):
    """A Preparer whose documents were all chunked before the build."""

    def prepare(self, documents):
        for document in documents:
            if document.sha256 not in _PREPARED:
                _PREPARED[document.sha256] = prepare(self.chunker, document)
        return (_PREPARED[document.sha256] for document in documents)


@contextmanager
def without_model(embedder: Embedder, prepared_beforehand: bool):
    """The embedder's model and the span pooling replaced by constants; with `prepared_beforehand`, the build's
    Preparer too."""
    backend = embedder.backend
    saved = backend.model, EMBEDDING.pool_spans_batch, BUILD.Preparer
    backend.model = _ConstantModel(embedder.dimension)
    EMBEDDING.pool_spans_batch = _constant_pooling
    if prepared_beforehand:
        BUILD.Preparer = _PreparedBeforehand
    try:
        yield
    finally:
        backend.model, EMBEDDING.pool_spans_batch, BUILD.Preparer = saved


def main() -> None:
    parser = copies_parser(__doc__)
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    args = parser.parse_args()
    config = IndexConfig(runtime="torch", device="cpu", batch_size=args.batch_size)
    embedder = Embedder(config.model, config.device, config.batch_size, config.runtime)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        docs = copy_docs(args.docs, Path(work) / "docs", args.copies)
        folder = Path(work) / "index"
        for name, beforehand in (("as it runs (chunked in worker processes)", False), ("documents chunked beforehand", True)):
            with without_model(embedder, beforehand):
                timed_build(docs, folder, config, embedder)  # warms up (and, beforehand, chunks every document)
                runs = [timed_build(docs, folder, config, embedder) for _ in range(args.repeat)]
            chunks = len(Store.load(folder).chunks)
            medians = {part: statistics.median(run[part] for run in runs) for part in runs[0]}
            rows.append(f"| {name} | {chunks / medians['total']:,.0f} | {medians['total']:.2f} | "
                        + " | ".join(f"{medians[stage]:.2f}" for stage in STAGES) + " |")
    command = "python benchmarks/build_overhead.py " + " ".join(sys.argv[1:])
    table = "\n".join([
        (f"Build without the model: {chunks:,} chunks ({args.copies} copies of {args.docs}), batches of {args.batch_size}, "
         f"{os.cpu_count()} CPU cores, Python {platform.python_version()}, medians of {args.repeat} builds; `{command}`"),
        "",
        "| build | chunks/s | seconds | " + " | ".join(STAGES) + " |",
        "|---|---|---|" + "---|" * len(STAGES),
        *rows,
        "",
        "Stages overlap: embedding (here only batching and copying) runs in a thread beside chunking and BM25.",
    ]) + "\n"
    print(table)
    if args.out:
        args.out.write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
