"""GPU build benchmark: the whole index build (`index.build`) on one GPU over copies of a docs folder, by each torch
runtime (half precision, the GPU default, and float32), against plain sentence-transformers `encode` of the same
chunks in the same run (fp32 and fp16), as chunks per second, with the time of each stage of the build.

    python benchmarks/gpu_build.py --docs ../shared/eval/squad-v1.1-dev/docs --copies 26 --out gpu_build.json
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from index.build import build
from index.config import IndexConfig
from index.embedding import Embedder
from index.lexical import LexicalIndex
from index.store import Store

#: The runtimes the build is measured with: the GPU default first.
BUILD_RUNTIMES = ("torch-fp16", "torch")
#: Stages of a build timed apart: (what, the object and attribute of the function that does it). Embedding runs in
#: a thread of its own, alongside chunking and BM25.
STAGES = {"embedding": (Embedder, "encode_passages"), "bm25": (LexicalIndex, "of"), "store": (Store, "create"),
          "writing": (Store, "save")}
#: The figures of the last run; the suite's BENCHMARKS.md quotes them (`section`).
RESULTS = Path(__file__).with_name("gpu_build.json")
PACKAGES = ("torch", "sentence-transformers", "transformers", "tokenizers", "faiss-cpu", "bm25s", "numpy")


def copy_docs(docs: Path, folder: Path, copies: int) -> Path:
    """`copies` copies of every document of `docs`, each with its own first line (so each is new to the index)."""
    for number in range(copies):
        for source in sorted(path for path in docs.rglob("*") if path.is_file()):
            target = folder / f"copy-{number:03d}" / source.relative_to(docs)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f"Copy {number}.\n" + source.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def copies_parser(description: str) -> argparse.ArgumentParser:
    """The arguments of a build over copies of a docs folder: --docs, --copies, --batch-size, --repeat."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=Path, required=True, help="documents folder to copy")
    parser.add_argument("--copies", type=int, default=26, help="copies of the folder (26 of the SQuAD v1.1 dev docs: 21,190 chunks)")
    parser.add_argument("--batch-size", type=int, default=1024, help="texts per batch (for `encode` too)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (medians are reported)")
    return parser


def seconds_of(function, *args, **kwargs) -> float:
    """Wall time of one call, the GPU's queued work included."""
    import torch

    synchronize = torch.cuda.synchronize if torch.cuda.is_available() else lambda: None
    synchronize()
    started = time.perf_counter()
    function(*args, **kwargs)
    synchronize()
    return time.perf_counter() - started


def timed_build(docs: Path, index: Path, config: IndexConfig, embedder: Embedder) -> dict[str, float]:
    """Seconds of a whole build from nothing ("total"), and of each of its STAGES within it (embedding overlaps
    the others; the rest is reading the documents and taking the chunks from the worker processes that cut them)."""
    spent = dict.fromkeys(STAGES, 0.0)
    originals = {stage: getattr(owner, name) for stage, (owner, name) in STAGES.items()}
    descriptors = {stage: owner.__dict__[name] for stage, (owner, name) in STAGES.items()}  # classmethod and all

    def timing(stage: str, function):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            result = function(*args, **kwargs)
            spent[stage] += time.perf_counter() - started
            return result

        return timed

    try:
        for stage, (owner, name) in STAGES.items():
            setattr(owner, name, timing(stage, originals[stage]))
        shutil.rmtree(index, ignore_errors=True)
        total = seconds_of(build, docs, index, config, embedder=embedder)
    finally:
        for stage, (owner, name) in STAGES.items():
            setattr(owner, name, descriptors[stage])
    return {"total": total, **spent}


def machine() -> dict:
    import torch

    return {"gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else "none", "cpus": os.cpu_count(), "python": platform.python_version(),
            **{name: _version(name) for name in PACKAGES}}


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def section(path: Path = RESULTS) -> list[str]:
    """BENCHMARKS.md lines for the last GPU run written to `path` (none when there is no such file)."""
    if not path.exists():
        return []
    results = json.loads(path.read_text(encoding="utf-8"))
    machine, chunks = results["machine"], results["chunks"]
    batch = results["settings"]["batch_size"]
    lines = [
        "## GPU build",
        "",
        f"Machine: {machine['gpu']}, {machine['cpus']} CPU cores; Python {machine['python']}; "
        + ", ".join(f"{name} {machine[name]}" for name in PACKAGES) + ".",
        "",
        (f"Command: `{results['command']}`, {chunks:,} chunks of {results['wordpieces_per_chunk']:.0f} wordpieces "
         f"on average, batches of {batch}."),
        "",
        "| what | chunks/s | seconds | / plain fp32 `encode` |",
        "|---|---|---|---|",
    ]
    for name, measured in results["encode"].items():
        lines.append(f"| plain sentence-transformers `encode`, {name} | {measured['chunks_per_s']:,.0f} | "
                     f"{measured['seconds']:.1f} | |")
    for runtime, measured in results["build"].items():
        stages = ", ".join(f"{stage.replace('_', ' ')} {measured[stage]:.2f}" for stage in STAGES)
        lines.append(f"| whole build (`index.build`), runtime {runtime} | {measured['chunks_per_s']:,.0f} | "
                     f"{measured['total']:.2f} ({stages}) | {measured['over_encode_fp32']:.2f} |")
    lines += ["", "Target: at least 10,000 chunks/s for the whole build. " + results.get("notes", ""), ""]
    return lines


def main() -> None:
    parser = copies_parser(__doc__)
    parser.add_argument("--device", default="cuda", help="torch device (cpu only to try the script out)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON file for the figures")
    args = parser.parse_args()

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("no CUDA GPU is visible to PyTorch: this benchmark measures the build on a GPU")
    results: dict = {"command": "python benchmarks/gpu_build.py " + " ".join(sys.argv[1:]), "machine": machine(),
                     "settings": vars(args) | {"docs": str(args.docs), "out": str(args.out)}}
    with tempfile.TemporaryDirectory() as work:
        docs = copy_docs(args.docs, Path(work) / "docs", args.copies)
        index = Path(work) / "index"
        builds: dict[str, list[dict[str, float]]] = {}
        for runtime in BUILD_RUNTIMES:
            config = IndexConfig(runtime=runtime, device=args.device, batch_size=args.batch_size)
            embedder = Embedder(config.model, config.device, config.batch_size, config.runtime)
            embedder.encode_passages(["A first batch warms the GPU up."], [[(0, 7)]])
            builds[runtime] = [timed_build(docs, index, config, embedder) for _ in range(args.repeat)]
            print("build", runtime, builds[runtime], flush=True)
        texts = [chunk.text for chunk in Store.load(index).chunks]
        tokens = embedder.count_tokens(texts)
        model = embedder.backend.model  # float32: the last runtime measured
        half = copy.deepcopy(model).half()
        # Plain sentence-transformers as a user runs it: the tokenizers library on all cores, its default where
        # nothing turned that off (the Embedder does, for its own process: its builds tokenize in worker processes).
        os.environ["TOKENIZERS_PARALLELISM"] = "true"
        encodes: dict[str, list[float]] = {"fp32": [], "fp16": []}
        for name, plain in (("fp32", model), ("fp16", half)):
            plain.encode(texts[: args.batch_size], batch_size=args.batch_size)  # warm up
            for _ in range(args.repeat):
                encodes[name].append(seconds_of(plain.encode, texts, batch_size=args.batch_size, convert_to_numpy=True))
                print("encode", name, encodes[name][-1], flush=True)
    encoded = {name: {"seconds": statistics.median(runs), "chunks_per_s": len(texts) / statistics.median(runs),
                      "runs": runs} for name, runs in encodes.items()}
    built = {}
    for runtime, runs in builds.items():
        medians = {part: statistics.median(run[part] for run in runs) for part in runs[0]}
        built[runtime] = {**medians, "chunks_per_s": len(texts) / medians["total"],
                          **{f"over_encode_{name}": medians["total"] / figures["seconds"] for name, figures in encoded.items()},
                          "runs": runs}
    results |= {"chunks": len(texts), "wordpieces_per_chunk": float(np.mean(tokens)), "build": built, "encode": encoded}
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
