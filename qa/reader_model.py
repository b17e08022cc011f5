"""ReaderModel: an extractive question-answering model (start/end logits) and its tokenizer, loaded from a
folder, a model name, or the weights shipped in `qa/span_reader/` (stored without the word embeddings,
which load from the packaged embedding model)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from index.embedding import resolve_model

#: The reader trained by `qa train-reader` and shipped with the project.
SHIPPED_READER = Path(__file__).resolve().parent / "span_reader"

#: What describes a folder of shipped weights: the base model, the tensors it lends, the shards.
MANIFEST = "reader.json"

#: Tensors that are frozen while training and load from the base model instead of the shipped files.
FROZEN = ("bert.embeddings.word_embeddings.weight",)


@dataclass
class ReaderModel:
    """A tokenizer and an `AutoModelForQuestionAnswering` in eval mode, on the CPU unless told otherwise."""

    tokenizer: object
    model: object
    name: str

    @classmethod
    def load(cls, location: str | Path = SHIPPED_READER, device: str = "cpu") -> ReaderModel:
        """A folder with `reader.json` (our shipped form), a full model folder, or a model name."""
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()
        folder = Path(location)
        try:
            if (folder / MANIFEST).exists():
                tokenizer, model = load_shipped(folder)
            else:
                tokenizer = AutoTokenizer.from_pretrained(str(location))
                model = AutoModelForQuestionAnswering.from_pretrained(str(location))
        except OSError as error:
            raise ValueError(
                f"Cannot load the reader model {str(location)!r}: {error}. "
                "Use a local folder holding an extractive question-answering model (no download is possible offline)."
            ) from error
        model.to(device).eval()
        return cls(tokenizer=tokenizer, model=model, name=str(location))


def base_model(name: str) -> tuple[object, object]:
    """The tokenizer and a question-answering model initialized from the base (embedding) model `name`."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    location = resolve_model(name)
    return AutoTokenizer.from_pretrained(location), AutoModelForQuestionAnswering.from_pretrained(location)


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
