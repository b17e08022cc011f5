"""OnnxModel: a PyTorch transformer exported once to ONNX (optionally int8-quantized), cached on disk under a
hash of its model files, and run with ONNX Runtime on the CPU (no PyTorch needed once it is cached)."""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from index.config import RUNTIMES, TORCH_RUNTIMES, cache_home

#: Bump to re-export every cached model (for example after changing how models are exported). 2: exports are
#: float32 however the model's weights are stored (a half-precision model was exported in half precision).
EXPORT_VERSION = 2


def quiet_transformers() -> None:
    """Loading a transformers model shows no progress bars and no advice, only errors: the command's own
    output stays readable."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()


def resolve_runtime(runtime: str, device: str, cpu_default: str, gpu_default: str = "torch") -> str:
    """`auto` is `cpu_default` on the CPU and `gpu_default` on any other device (ONNX Runtime runs here on the
    CPU only)."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
    if runtime == "auto":
        return cpu_default if device == "cpu" else gpu_default
    if runtime not in TORCH_RUNTIMES and device != "cpu":
        raise ValueError(f"The {runtime} runtime runs on the CPU only; use a torch runtime on {device}.")
    return runtime


def cache_dir() -> Path:
    """Where exported models are kept: `onnx/` in the project's cache folder."""
    return cache_home() / "onnx"


def files_digest(*folders: Path, details: str = "") -> str:
    """A hash of the files under `folders` (their paths, sizes and modification times) and of `details`:
    the cache key of a model exported from them."""
    digest = hashlib.sha256(f"{EXPORT_VERSION} {details}".encode())
    for folder in folders:
        folder = Path(folder).resolve()
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            stat = path.stat()
            digest.update(f"{path.relative_to(folder)} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:24]


class OnnxModel:
    """An ONNX Runtime session over an exported model: `run` takes numpy inputs by name and returns the outputs
    in the order they were exported."""

    def __init__(self, path: Path) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Threads that spin after a run would take the cores from the next model's run (the embedder's query,
        # then the reader): sleep instead.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.path = path
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = [node.name for node in self.session.get_inputs()]

    @classmethod
    def exported(cls, key: str, load: Callable[[], tuple[object, Mapping[str, object]]], outputs: Sequence[str],
                 quantize: bool = False, what: str = "the model") -> OnnxModel:
        """The session for the model cached under `key`, exported first when it is not there: `load()` gives
        the torch module and example keyword inputs (torch tensors); the module's result has the attributes
        `outputs`. `what` names the model in the notice of an export."""
        folder = cache_dir()
        plain, quantized = folder / f"{key}.onnx", folder / f"{key}-int8.onnx"
        if not plain.exists():
            print(f"Exporting {what} to ONNX (once; kept in {folder})...", file=sys.stderr, flush=True)
            quiet_transformers()
            module, example = load()
            _export(module, example, outputs, plain)
        if quantize and not quantized.exists():
            _quantize(plain, quantized)
        return cls(quantized if quantize else plain)

    def run(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """The outputs for `inputs` (extra inputs the model does not take are ignored)."""
        return self.session.run(None, {name: np.asarray(inputs[name], dtype=np.int64) for name in self.inputs})


def _export(module, example: Mapping[str, object], outputs: Sequence[str], path: Path) -> None:
    """Write `module` as ONNX with dynamic batch and sequence axes, atomically (temp file, then rename)."""
    import torch

    class Positional(torch.nn.Module):
        """The module with positional inputs and a tuple of outputs, as the exporter wants them."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = module

        def forward(self, *values):
            result = self.inner(**dict(zip(example, values)))
            return tuple(getattr(result, name) for name in outputs)

    path.parent.mkdir(parents=True, exist_ok=True)
    axes = {name: {0: "batch", 1: "sequence"} for name in [*example, *outputs]}
    handle, temporary = tempfile.mkstemp(suffix=".onnx", dir=path.parent)
    os.close(handle)
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(Positional().eval(), tuple(example.values()), temporary, input_names=list(example),
                              output_names=list(outputs), dynamic_axes=axes, opset_version=17, dynamo=False)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def _quantize(plain: Path, path: Path) -> None:
    """Dynamic int8 quantization of the weights, one scale per output channel, written atomically."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    handle, temporary = tempfile.mkstemp(suffix=".onnx", dir=path.parent)
    os.close(handle)
    root = logging.getLogger()
    level, handlers = root.level, root.handlers[:]
    try:
        root.setLevel(logging.ERROR)  # quantize_dynamic advises pre-processing on the root logger
        quantize_dynamic(str(plain), temporary, weight_type=QuantType.QInt8, per_channel=True)
        os.replace(temporary, path)
    finally:
        # That advice also gives a root logger without handlers one to stderr, through which every library's
        # log records would then print (bm25s logs at DEBUG): take it away again.
        root.setLevel(level)
        root.handlers[:] = handlers
        Path(temporary).unlink(missing_ok=True)
