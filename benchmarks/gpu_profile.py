"""Where a GPU build's time goes: one whole build (`index.build`, the device's default runtime) under cProfile,
then its stages alone: reading the documents, preparing their chunks in worker processes, and embedding the
chunks with the tokens sliced from their documents' against tokenizing each chunk again.

    python benchmarks/gpu_profile.py --docs ../shared/eval/squad-v1.1-dev/docs --copies 26 --out gpu_profile.txt
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

from gpu_build import copy_docs

from index.build import build
from index.chunking import Chunker
from index.config import IndexConfig
from index.documents import read_folder
from index.embedding import Embedder
from index.preparation import Preparer

#: Rows of each cProfile listing.
ROWS = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=Path, required=True, help="documents folder to copy")
    parser.add_argument("--copies", type=int, default=26, help="copies of the folder")
    parser.add_argument("--batch-size", type=int, default=1024, help="texts per embedding batch")
    parser.add_argument("--device", default="cuda", help="torch device (cpu only to try the script out)")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("gpu_profile.txt"), help="report file")
    args = parser.parse_args()

    import torch

    synchronize = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    report = io.StringIO()

    def say(*words) -> None:
        print(*words, file=report)
        print(*words, flush=True)

    say("command: python benchmarks/gpu_profile.py " + " ".join(sys.argv[1:]))
    with tempfile.TemporaryDirectory() as work:
        docs, index = copy_docs(args.docs, Path(work) / "docs", args.copies), Path(work) / "index"
        config = IndexConfig(device=args.device, batch_size=args.batch_size)
        embedder = Embedder(config.model, config.device, config.batch_size, config.runtime)
        say("runtime", embedder.runtime, "on", args.device)
        build(docs, index, config, embedder=embedder)  # warms the GPU up
        shutil.rmtree(index)
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        summary = build(docs, index, config, embedder=embedder)
        profile.disable()
        say(f"whole build under cProfile: {summary.chunks} chunks in {time.perf_counter() - started:.2f} s")
        for order in ("cumulative", "tottime"):
            pstats.Stats(profile, stream=report).sort_stats(order).print_stats(ROWS)
        started = time.perf_counter()
        documents = read_folder(docs)[0]
        say(f"reading {len(documents)} documents: {time.perf_counter() - started:.2f} s")
        chunker = Chunker(config.chunk_tokens, config.overlap_tokens, embedder.max_tokens, embedder.wordpieces)
        started = time.perf_counter()
        prepared = list(Preparer(chunker).prepare(documents))
        say(f"preparing them in worker processes: {time.perf_counter() - started:.2f} s")
        passages = [passage for ready in prepared for passage in ready.passages]
        spans = [[(start - p.chunk.start, end - p.chunk.start) for start, end in p.sentences] for p in passages]
        texts, tokens = [p.chunk.text for p in passages], [p.tokens for p in passages]
        say(f"chunks with tokens sliced from their document's: {sum(t is not None for t in tokens)} of {len(tokens)}")
        for label, given in (("with the sliced tokens", tokens), ("tokenizing every chunk", ())):
            profile = cProfile.Profile()
            synchronize()
            started = time.perf_counter()
            profile.enable()
            embedder.encode_passages(texts, spans, progress=False, tokens=given)
            synchronize()
            profile.disable()
            say(f"encode_passages {label}: {time.perf_counter() - started:.2f} s")
            pstats.Stats(profile, stream=report).sort_stats("tottime").print_stats(ROWS // 2)
    args.out.write_text(report.getvalue())


if __name__ == "__main__":
    main()
