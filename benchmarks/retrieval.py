"""Answer-recall@1/5/10 of each retrieval signal and of their fusions, on one index and questions file.

    python benchmarks/retrieval.py --docs ../shared/eval/squad-v1.1-dev/docs \
        --questions ../shared/eval/squad-v1.1-dev/questions.jsonl [--out benchmarks/retrieval.md]

Scores every chunk exhaustively (no candidate pool), so it measures the signals, not the search.
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import bm25s
import numpy as np

from index.terms import terms
from qa.api import engine
from qa.evaluate import read_questions


def recall(scores: np.ndarray, gold: np.ndarray) -> list[float]:
    top = np.take_along_axis(gold, np.argsort(-scores, axis=1)[:, :10], axis=1)
    return [float(top[:, :k].any(axis=1).mean()) for k in (1, 5, 10)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", required=True)
    parser.add_argument("--questions", required=True)
    parser.add_argument("--out", help="also write the table to this Markdown file")
    args = parser.parse_args()
    qa = engine(args.docs)
    store = qa.store
    questions = [q for q in read_questions(args.questions) if q.answers]
    vectors = qa.embedder.encode([q.question for q in questions])
    gold = np.array([[any(a in c.text for a in q.answers) for c in store.chunks] for q in questions])
    chunk = vectors @ store.vectors().T
    sentence_cosines = vectors @ np.asarray(store.sentence_vectors, dtype=np.float32).T
    starts = store.sentence_starts
    sentence = np.maximum.reduceat(sentence_cosines, starts[:-1], axis=1)
    query_terms = [terms(q.question) for q in questions]

    def bm25(k1: float, b: float) -> np.ndarray:
        model = bm25s.BM25(k1=k1, b=b)
        model.index([terms(c.text) for c in store.chunks], show_progress=False)
        scores = np.vstack([model.get_scores(t) for t in query_terms])
        return scores / np.maximum(scores.max(axis=1, keepdims=True), 1e-9)

    lexical_default, lexical = bm25(1.5, 0.75), bm25(0.5, 0.5)
    ranks = lambda s: np.argsort(np.argsort(-s, axis=1), axis=1)  # noqa: E731
    rows = [
        ("BM25 (k1 1.5, b 0.75)", lexical_default),
        ("BM25 (k1 0.5, b 0.5)", lexical),
        ("chunk cosine", chunk),
        ("best-sentence cosine", sentence),
        ("reciprocal rank fusion (k 60) of BM25 and chunk cosine", 1 / (60 + ranks(lexical)) + 1 / (60 + ranks(chunk))),
        ("0.5 chunk cosine + 0.5 BM25", 0.5 * chunk + 0.5 * lexical),
        ("0.1 chunk + 0.6 best-sentence cosine + 0.3 BM25 (default)", 0.1 * chunk + 0.6 * sentence + 0.3 * lexical),
    ]
    lines = [
        f"Retrieval on {args.questions} ({len(questions)} answerable questions, {len(store.chunks)} chunks); "
        f"Python {platform.python_version()}, `python benchmarks/retrieval.py --docs {args.docs} --questions {args.questions}`",
        "",
        "| scoring | recall@1 | recall@5 | recall@10 |",
        "|---|---|---|---|",
    ]
    lines += ["| {} | {:.3f} | {:.3f} | {:.3f} |".format(name, *recall(scores, gold)) for name, scores in rows]
    table = "\n".join(lines)
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
