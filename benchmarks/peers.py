"""Side by side with txtai: the same chunks and the same model, index build time and hybrid retrieval latency.
Writes benchmarks/peers.md.

    pip install --no-deps txtai   # its dependencies are already ours
    python benchmarks/peers.py --docs ../shared/eval/squad-v1.1-dev/docs \
        --questions ../shared/eval/squad-v1.1-dev/questions.jsonl [--limit 1000]

Our build is timed as `qa index` does it (chunking, embedding with the default runtime, BM25, FAISS, saving);
txtai (hybrid: BM25 and dense, content stored) indexes the texts of our chunks with the same packaged model.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

from index.build import build
from index.config import DEFAULT_MODEL
from index.embedding import Embedder, resolve_model
from qa.api import Engine
from qa.evaluate import read_questions
from suite import machine, timed

OUT = Path(__file__).resolve().parent / "peers.md"


def latencies(search, questions: list[str]) -> dict:
    search(questions[0])
    times = [timed(search, question)[0] for question in questions]
    return {"p50_ms": 1000 * statistics.median(times), "p95_ms": 1000 * float(np.percentile(times, 95))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", required=True)
    parser.add_argument("--questions", required=True)
    parser.add_argument("--limit", type=int, default=1000, help="questions timed")
    args = parser.parse_args()
    try:
        from txtai import Embeddings
    except ImportError:
        sys.exit("txtai is not installed: pip install --no-deps txtai")
    questions = [q.question for q in read_questions(args.questions, args.limit)]
    embedder = Embedder()
    with tempfile.TemporaryDirectory() as work:
        ours_s, summary = timed(build, Path(args.docs), Path(work) / "index", embedder=embedder)
        engine = Engine(Path(args.docs), Path(work) / "index", embedder=embedder)
        texts = [chunk.text for chunk in engine.store.chunks]
        ours = latencies(lambda q: engine.retrieve(q, 5), questions)
    txtai = Embeddings(path=resolve_model(DEFAULT_MODEL), content=True, hybrid=True)
    txtai_s, _ = timed(txtai.index, [(row, text, None) for row, text in enumerate(texts)])
    theirs = latencies(lambda q: txtai.search(q, 5), questions)
    lines = [
        "# Side by side with txtai",
        "",
        f"Machine: {machine()}; txtai {version('txtai')}.",
        "",
        f"Command: `python benchmarks/peers.py {' '.join(sys.argv[1:])}`. The same {len(texts)} chunks and the same "
        f"model; {len(questions)} questions, one at a time, 5 passages each.",
        "",
        "| system | index build | hybrid retrieval p50 / p95 |",
        "|---|---|---|",
        f"| qa ({embedder.runtime} embeddings) | {ours_s:.1f} s | {ours['p50_ms']:.1f} / {ours['p95_ms']:.1f} ms |",
        f"| txtai (hybrid, content) | {txtai_s:.1f} s | {theirs['p50_ms']:.1f} / {theirs['p95_ms']:.1f} ms |",
        f"| ratio | {txtai_s / ours_s:.2f}x faster | {theirs['p50_ms'] / ours['p50_ms']:.2f}x faster |",
        "",
        f"qa's build also chunks the documents ({summary.documents} files) and pools sentence vectors; txtai's "
        "is given the chunk texts. qa's `answer()` reads the passages for a short answer on top of retrieval "
        "(see BENCHMARKS.md); txtai's search returns passages only.",
        "",
    ]
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
