"""Side by side with txtai and Haystack: the same chunks and the same model, index build time and hybrid
retrieval latency. Writes benchmarks/peers.md.

    pip install --no-deps txtai   # its dependencies are already ours
    pip install haystack-ai && pip install --no-deps sentence-transformers-haystack
    python benchmarks/peers.py --docs ../shared/eval/squad-v1.1-dev/docs \
        --questions ../shared/eval/squad-v1.1-dev/questions.jsonl [--limit 1000]

Our build is timed as `qa index` does it (chunking, embedding with the default runtime, BM25, FAISS, saving);
txtai (hybrid: BM25 and dense, content stored) and Haystack (in-memory store; BM25 and embedding retrievers
joined by reciprocal rank fusion) index the texts of our chunks with the same packaged model.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
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


def haystack(texts: list[str], model: str, questions: list[str]) -> tuple[float, dict]:
    """Build time and retrieval latency of a Haystack hybrid pipeline over `texts`."""
    os.environ["HAYSTACK_TELEMETRY_ENABLED"] = "False"
    from haystack import Document, Pipeline
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersDocumentEmbedder,
        SentenceTransformersTextEmbedder,
    )

    store = InMemoryDocumentStore()
    embedder = SentenceTransformersDocumentEmbedder(model=model, progress_bar=False)
    embedder.warm_up()
    documents = [Document(id=str(row), content=text) for row, text in enumerate(texts)]
    seconds, _ = timed(lambda: store.write_documents(embedder.run(documents)["documents"]))
    pipeline = Pipeline()
    pipeline.add_component("question", SentenceTransformersTextEmbedder(model=model, progress_bar=False))
    pipeline.add_component("dense", InMemoryEmbeddingRetriever(document_store=store, top_k=5))
    pipeline.add_component("bm25", InMemoryBM25Retriever(document_store=store, top_k=5))
    pipeline.add_component("joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=5))
    pipeline.connect("question.embedding", "dense.query_embedding")
    pipeline.connect("dense", "joiner")
    pipeline.connect("bm25", "joiner")
    return seconds, latencies(lambda q: pipeline.run({"question": {"text": q}, "bm25": {"query": q}}), questions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", required=True)
    parser.add_argument("--questions", required=True)
    parser.add_argument("--limit", type=int, default=1000, help="questions timed")
    args = parser.parse_args()
    try:
        import haystack_integrations  # noqa: F401
        from txtai import Embeddings
    except ImportError:
        sys.exit("txtai and Haystack are needed: see this script's docstring for the install commands")
    questions = [q.question for q in read_questions(args.questions, args.limit)]
    embedder = Embedder()
    embedder.encode(["warm up"])  # as Haystack's embedder is warmed up before its build is timed
    with tempfile.TemporaryDirectory() as work:
        ours_s, summary = timed(build, Path(args.docs), Path(work) / "index", embedder=embedder)
        engine = Engine(Path(args.docs), Path(work) / "index", embedder=embedder)
        texts = [chunk.text for chunk in engine.store.chunks]
        ours = latencies(lambda q: engine.retrieve(q, 5), questions)
    model = resolve_model(DEFAULT_MODEL)
    txtai = Embeddings(path=model, content=True, hybrid=True)
    txtai.index([(0, "warm up", None)])  # loads its model; the timed index() below replaces this one
    txtai_s, _ = timed(txtai.index, [(row, text, None) for row, text in enumerate(texts)])
    theirs = latencies(lambda q: txtai.search(q, 5), questions)
    haystack_s, hay = haystack(texts, model, questions)
    lines = [
        "# Side by side with txtai and Haystack",
        "",
        f"Machine: {machine()}; txtai {version('txtai')}, haystack-ai {version('haystack-ai')}, "
        f"sentence-transformers-haystack {version('sentence-transformers-haystack')}.",
        "",
        f"Command: `python benchmarks/peers.py {' '.join(sys.argv[1:])}`. The same {len(texts)} chunks and the same "
        f"model; {len(questions)} questions, one at a time, 5 passages each.",
        "",
        "| system | index build | hybrid retrieval p50 / p95 |",
        "|---|---|---|",
        f"| qa ({embedder.runtime} embeddings) | {ours_s:.1f} s | {ours['p50_ms']:.1f} / {ours['p95_ms']:.1f} ms |",
        f"| txtai (hybrid, content) | {txtai_s:.1f} s | {theirs['p50_ms']:.1f} / {theirs['p95_ms']:.1f} ms |",
        f"| Haystack (BM25 + embeddings, reciprocal rank fusion) | {haystack_s:.1f} s | "
        f"{hay['p50_ms']:.1f} / {hay['p95_ms']:.1f} ms |",
        "",
        f"qa against txtai: build {txtai_s / ours_s:.2f}x faster, retrieval {theirs['p50_ms'] / ours['p50_ms']:.2f}x "
        f"faster; against Haystack: build {haystack_s / ours_s:.2f}x, retrieval {hay['p50_ms'] / ours['p50_ms']:.2f}x.",
        "",
        f"qa's build also chunks the documents ({summary.documents} files) and pools sentence vectors; the others "
        "are given the chunk texts. Every system's model is loaded and has run once before its build is timed. "
        "qa's `answer()` reads the passages for a short answer on top of retrieval "
        "(see BENCHMARKS.md); the others' searches return passages only. Neither peer reads a short answer with "
        "transformers 5: Haystack 3 no longer ships an extractive reader (`haystack.components.readers` is gone), "
        "and txtai's `Extractor` runs transformers' question-answering pipeline, which transformers 5 removed.",
        "",
    ]
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
