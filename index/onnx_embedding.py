"""OnnxEmbedding: a sentence-transformers model (transformer, pooling, normalization) run by ONNX Runtime, with
its own tokenizer and pooling settings read from the model folder, so that no PyTorch is loaded once the
export is cached."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.onnx_model import OnnxModel, files_digest
from index.pooling import Spans, pool_spans
from index.wordpieces import TokenSpan, WordPieces, length_sorted_batches

#: The sentence-transformers modules this runtime reproduces; other pipelines need the torch runtime.
TRANSFORMER, POOLING, NORMALIZE = "Transformer", "Pooling", "Normalize"
#: Pooling modes it reproduces, by their sentence-transformers config key.
POOLING_MODES = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls", "pooling_mode_max_tokens": "max"}


class UnsupportedModel(ValueError):
    """The model's sentence-transformers pipeline holds a step this runtime does not reproduce."""


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


@dataclass(frozen=True)
class Pipeline:
    """What sentence-transformers does after the transformer, read from a model folder's config files."""

    transformer: Path  # the folder of the transformer and its tokenizer
    max_seq_length: int | None
    dimension: int
    pooling: str  # "mean", "cls" or "max"
    normalize: bool

    @classmethod
    def read(cls, location: str) -> Pipeline:
        """The pipeline of the model folder `location`; UnsupportedModel when it holds other steps."""
        folder = Path(location)
        if not folder.is_dir():
            raise UnsupportedModel(f"{location} is not a model folder on this machine: ONNX Runtime here exports "
                                   "local models only; use the torch runtime (QA_RUNTIME=torch).")
        modules = _read_json(folder / "modules.json") or [{"path": "", "type": TRANSFORMER}, {"path": "1_Pooling", "type": POOLING}]
        kinds = [module["type"].rsplit(".", 1)[-1] for module in modules]
        if kinds[:2] != [TRANSFORMER, POOLING] or any(kind != NORMALIZE for kind in kinds[2:]):
            raise UnsupportedModel(f"{location} has the modules {kinds}; ONNX Runtime here runs only "
                                   f"{TRANSFORMER}, {POOLING} and {NORMALIZE}: use the torch runtime (QA_RUNTIME=torch).")
        transformer = folder / modules[0]["path"]
        if not (transformer / "tokenizer.json").exists():
            raise UnsupportedModel(f"{transformer} has no tokenizer.json, which ONNX Runtime here tokenizes with: "
                                   "use the torch runtime (QA_RUNTIME=torch).")
        settings = _read_json(transformer / "sentence_bert_config.json")
        pooling = _read_json(folder / modules[1]["path"] / "config.json")
        chosen = [mode for key, mode in POOLING_MODES.items() if pooling.get(key)]
        others = [key for key, on in pooling.items() if key.startswith("pooling_mode") and on and key not in POOLING_MODES]
        if len(chosen) != 1 or others or settings.get("do_lower_case") or "word_embedding_dimension" not in pooling:
            raise UnsupportedModel(f"{location} pools by {chosen + others} (lower case: {settings.get('do_lower_case')}); "
                                   "ONNX Runtime here reproduces one of mean, cls or max pooling: use QA_RUNTIME=torch.")
        return cls(transformer, settings.get("max_seq_length"), int(pooling["word_embedding_dimension"]), chosen[0],
                   NORMALIZE in kinds)


class OnnxEmbedding:
    """Token and sentence embeddings of texts, as sentence-transformers computes them, by ONNX Runtime."""

    def __init__(self, location: str, quantize: bool) -> None:
        pipeline = self.pipeline = Pipeline.read(location)
        transformer = pipeline.transformer
        self.wordpieces = WordPieces.from_folder(transformer)
        limit = pipeline.max_seq_length or _read_json(transformer / "tokenizer_config.json").get("model_max_length")
        if not limit or limit > 100_000:  # transformers writes a huge number when there is no limit
            raise UnsupportedModel(f"{location} does not say how many tokens the model takes (max_seq_length)")
        self.max_seq_length = int(limit)
        self.dimension = pipeline.dimension

        def load():
            import torch
            from transformers import AutoModel

            arrays = self.wordpieces.batch(["An example text."], self.max_seq_length).arrays
            model = AutoModel.from_pretrained(str(transformer)).float()  # exported in float32, however it is stored
            return model, {k: torch.from_numpy(v) for k, v in arrays.items()}

        key = files_digest(Path(location), details="sentence-transformers embedding")
        self.onnx = OnnxModel.exported(key, load, ["last_hidden_state"], quantize, "the embedding model")

    def outputs(self, texts: list[str], batch_size: int, tokens: Sequence[TokenSpan | None] = ()
                ) -> list[tuple[np.ndarray, np.ndarray, list]]:
        """Per text: its token embeddings (no padding), its sentence embedding pooled as the model says, and
        its tokens' character offsets. A text's `tokens`, where given, spare tokenizing it again."""
        outputs: list = [None] * len(texts)
        tokens = list(tokens) or [None] * len(texts)
        for rows in length_sorted_batches(texts, batch_size):
            batch = self.wordpieces.batch([texts[row] for row in rows], self.max_seq_length, [tokens[row] for row in rows])
            hidden = self.onnx.run(batch.arrays)[0]
            mask = batch.arrays["attention_mask"].astype(bool)
            for position, row in enumerate(rows):
                embeddings = hidden[position][mask[position]]
                outputs[row] = (embeddings, self._pool(embeddings), batch.offsets[position][mask[position]])
        return outputs

    def passages(self, texts: list[str], spans: Sequence[Spans], batch_size: int,
                 tokens: Sequence[TokenSpan | None]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text: its unit sentence embedding and its spans' pooled vectors (index.pooling)."""
        result = []
        for (embeddings, vector, offsets), text_spans in zip(self.outputs(texts, batch_size, tokens), spans):
            unit = vector / max(float(np.linalg.norm(vector)), 1e-12)
            result.append((unit, pool_spans(embeddings, offsets, text_spans, unit)))
        return result

    def vectors(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Sentence embeddings only (the offsets come free with the tokens here)."""
        return np.array([vector for _, vector, _ in self.outputs(texts, batch_size)]).reshape(len(texts), -1)

    def _pool(self, tokens: np.ndarray) -> np.ndarray:
        if self.pipeline.pooling == "mean":
            vector = tokens.mean(axis=0)
        elif self.pipeline.pooling == "cls":
            vector = tokens[0]
        else:
            vector = tokens.max(axis=0)
        if self.pipeline.normalize:
            vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return vector
