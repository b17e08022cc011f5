"""ReaderModel: an extractive question-answering model (start/end logits) and its tokenizer, loaded from a
folder, a model name, or the weights shipped in `qa/span_reader/` (stored without the word embeddings,
which load from the packaged embedding model)."""

from __future__ import annotations

import inspect
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.config import TORCH_RUNTIMES
from index.embedding import resolve_model
from index.onnx_model import (
    OnnxModel,
    files_digest,
    quiet_transformers,
    resolve_runtime,
)
from index.wordpieces import WordPieces

#: The reader trained by `qa train-reader` and shipped with the project.
SHIPPED_READER = Path(__file__).resolve().parent / "span_reader"

#: What describes a folder of shipped weights: the base model, the tensors it lends, the shards.
MANIFEST = "reader.json"

#: Tensors that are frozen while training and load from the base model instead of the shipped files.
FROZEN = ("bert.embeddings.word_embeddings.weight",)

#: The runtime `auto` picks on the CPU for the reader (measured in BENCHMARKS.md).
CPU_RUNTIME = "onnx"


@dataclass
class ReaderModel:
    """A tokenizer and an `AutoModelForQuestionAnswering` in eval mode, on the CPU unless told otherwise; or,
    with `onnx`, the same model exported to ONNX Runtime (and no PyTorch model)."""

    tokenizer: object  # a transformers tokenizer, or WordPieces
    model: object | None
    name: str
    onnx: OnnxModel | None = None
    wordpieces: WordPieces = field(init=False)  # the tokenizer as decoding uses it

    def __post_init__(self) -> None:
        tokenizer = self.tokenizer
        self.wordpieces = tokenizer if isinstance(tokenizer, WordPieces) else WordPieces.from_transformers(tokenizer)

    @classmethod
    def load(cls, location: str | Path = SHIPPED_READER, device: str = "cpu", runtime: str = "auto") -> ReaderModel:
        """A folder with `reader.json` (our shipped form), a full model folder, or a model name; run by
        `runtime` (see index.config.RUNTIMES). On ONNX Runtime the PyTorch model is loaded only to export
        it, the first time; ONNX Runtime exports local folders only, so `auto` runs a model name on PyTorch
        (as the embedder does)."""
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        runtime = "torch" if runtime == "auto" and not Path(location).expanduser().is_dir() else resolve_runtime(runtime, device, CPU_RUNTIME)
        try:
            location = resolve_model(str(location))
            folder = Path(location)
            if runtime in TORCH_RUNTIMES:
                tokenizer, model = _load_torch(folder, str(location))
                model = model.half() if runtime == "torch-fp16" else model
                return cls(tokenizer=tokenizer, model=model.to(device).eval(), name=str(location))
            tokenizer, onnx = _load_onnx(folder, quantize=runtime == "onnx-int8")
            return cls(tokenizer=tokenizer, model=None, name=str(location), onnx=onnx)
        except OSError as error:
            raise ValueError(
                f"Cannot load the reader model {str(location)!r}: {error}. "
                "Use a local folder holding an extractive question-answering model (no download is possible offline)."
            ) from error

    def logits(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Start and end logits, one row per window, of tokenized windows (WordPieces arrays, padded on the
        right); -inf at padding, where no span starts or ends."""
        if self.onnx is not None:
            return self._onnx_logits(inputs)
        import torch

        with torch.inference_mode():
            output = self.model(**{name: torch.from_numpy(value).to(self.model.device)
                                   for name, value in model_inputs(self.model, inputs).items()})
        starts, ends = output.start_logits.float().cpu().numpy(), output.end_logits.float().cpu().numpy()
        padding = inputs["attention_mask"] == 0
        starts[padding] = ends[padding] = -np.inf
        return starts, ends

    def _onnx_logits(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """`logits` on ONNX Runtime, each window run at its own length: on the CPU a few windows run faster
        one by one than padded to the longest (about a fifth of a question's batch is padding)."""
        starts = np.full(inputs["input_ids"].shape, -np.inf, dtype=np.float32)
        ends = starts.copy()
        for row, length in enumerate(inputs["attention_mask"].sum(axis=1).tolist()):
            start, end = self.onnx.run({name: array[row : row + 1, :length] for name, array in inputs.items()})
            starts[row, :length], ends[row, :length] = start[0], end[0]
        return starts, ends


def model_inputs(model, inputs: dict) -> dict:
    """The arrays among `inputs` that the model's forward takes: token types wherever it has them, whether or not
    its tokenizer lists them (some transformers versions load a tokenizer that does not), and not otherwise."""
    parameters = inspect.signature(model.forward).parameters
    if any(parameter.kind is parameter.VAR_KEYWORD for parameter in parameters.values()):
        return dict(inputs)
    return {name: value for name, value in inputs.items() if name in parameters}


def _load_torch(folder: Path, location: str) -> tuple[object, object]:
    """The tokenizer and PyTorch model of a shipped folder, a full model folder or a model name."""
    quiet_transformers()
    if (folder / MANIFEST).exists():
        return load_shipped(folder)
    return pretrained(location)


def _load_onnx(folder: Path, quantize: bool) -> tuple[WordPieces, OnnxModel]:
    """The tokenizer and the ONNX Runtime session of a shipped or full model folder (no transformers nor
    PyTorch is imported unless the model must be exported)."""
    if not folder.is_dir():
        raise OSError(f"{folder} is not a folder; ONNX Runtime exports local models only (or set QA_READER_RUNTIME=torch)")
    shipped = (folder / MANIFEST).exists()
    sources = [folder]
    if shipped:
        sources.append(Path(resolve_model(json.loads((folder / MANIFEST).read_text())["base"])))
    wordpieces = WordPieces.from_folder(sources[-1])

    def load():
        tokenizer, model = _load_torch(folder, str(folder))
        return model.eval(), model_inputs(model, tokenizer("Who?", "Someone.", return_tensors="pt", return_token_type_ids=True))

    key = files_digest(*sources, details="question answering")
    return wordpieces, OnnxModel.exported(key, load, ["start_logits", "end_logits"], quantize, "the reader model")


def pretrained(location: str) -> tuple[object, object]:
    """The tokenizer and question-answering model at `location` (a folder or a model name), in float32 however
    its weights are stored: transformers loads the stored precision (torch-fp16 halves the model afterwards)."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    quiet_transformers()  # a base model's load report (no span head yet, an unused pooler) is expected, not news
    return AutoTokenizer.from_pretrained(location), AutoModelForQuestionAnswering.from_pretrained(location).float()


def base_model(name: str) -> tuple[object, object]:
    """The tokenizer and a question-answering model initialized from the base (embedding) model `name`."""
    return pretrained(resolve_model(name))


def load_shipped(folder: Path) -> tuple[object, object]:
    """Build the model from its base, then overwrite every tensor but the frozen ones with the shipped fp16 ones."""
    import torch
    from safetensors.torch import load_file

    manifest = json.loads((folder / MANIFEST).read_text())
    tokenizer, model = base_model(manifest["base"])
    state = {}
    for shard in manifest["shards"]:
        state.update(load_file(str(folder / shard)))
    expected = set(model.state_dict()) - set(manifest["frozen"])
    missing = expected - set(state)
    if missing:
        raise OSError(f"{folder} lacks the tensors {sorted(missing)[:3]}; retrain with `qa train-reader`")
    model.load_state_dict({name: tensor.to(torch.float32) for name, tensor in state.items()}, strict=False)
    return tokenizer, model


def save_shipped(model, folder: Path, base: str, details: dict, shard_mb: int = 15) -> list[Path]:
    """Write the trained tensors (all but the frozen ones) as fp16 safetensors shards of at most `shard_mb`
    MB, and `reader.json` saying how to rebuild the model. Returns the files written."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    shards: list[dict] = [{}]
    size = 0
    for name, tensor in model.state_dict().items():
        if name in FROZEN:
            continue
        tensor = tensor.detach().to("cpu").half().contiguous()
        if size + tensor.numel() * 2 > shard_mb * 2**20 and shards[-1]:
            shards.append({})
            size = 0
        shards[-1][name] = tensor
        size += tensor.numel() * 2
    names = [f"reader-{number + 1:02d}.safetensors" for number in range(len(shards))]
    for name, tensors in zip(names, shards):
        save_file(tensors, str(folder / name))
    manifest = {"base": base, "frozen": list(FROZEN), "shards": names, **details}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return [folder / name for name in (*names, MANIFEST)]
