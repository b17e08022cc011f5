"""Abstention AUROC of the span reader's found score, in-sample and cross-validated by article, with and
without the question's gaps (qa/gaps.py) and its sentence's cosine, on the questions `qa calibrate` fits it on.

    python benchmarks/found_score.py --docs ../shared/eval/squad-v2.0-dev/docs \
        --questions ../shared/eval/squad-v2.0-dev/questions.jsonl \
        --off-topic ../shared/eval/squad-v1.1-dev/questions.jsonl [--out benchmarks/found_score.md]

The found score is fitted on the same SQuAD v2.0 dev questions that measure it, so the in-sample AUROC
flatters it. Cross-validated, each article's questions are scored by a model fitted on every other row
(the off-topic ones, about articles that DOCS lacks, always among them): how the score does on an article
it has not seen.
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import numpy as np

from qa.api import engine
from qa.calibration import logistic, span_rows
from qa.evaluate import auroc, read_questions
from qa.span import SPAN_FOUND_FEATURES

#: The features without the gaps and the cosine; and the gaps.
BASE = ("margin", "null", "sentence", "bias")
GAPS = ("number", "name", "negation")


def aurocs(features: np.ndarray, labels: np.ndarray, measured: np.ndarray, docs: np.ndarray) -> tuple[float, float]:
    """(in-sample, cross-validated by article) AUROC on the `measured` rows."""
    fitted = features @ logistic(features, labels)
    held_out = np.zeros(len(labels))
    for doc in sorted(set(docs[measured])):
        test = measured & (docs == doc)
        held_out[test] = features[test] @ logistic(features[~test], labels[~test])

    def measure(scores: np.ndarray) -> float:
        return auroc(scores[measured & (labels == 1)].tolist(), scores[measured & (labels == 0)].tolist())

    return measure(fitted), measure(held_out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", required=True)
    parser.add_argument("--questions", required=True, help="measured: answerable and unanswerable questions of DOCS")
    parser.add_argument("--off-topic", required=True, help="questions whose documents DOCS lacks are added to the fit")
    parser.add_argument("--out", help="also write the table to this Markdown file")
    args = parser.parse_args()
    qa = engine(args.docs)
    indexed = {doc.id for doc in qa.store.documents}
    off_topic = [q for q in read_questions(args.off_topic) if q.doc is not None and q.doc not in indexed]
    measured_rows, off_topic_rows = span_rows([(qa, read_questions(args.questions))]), span_rows([(qa, off_topic)])
    features = np.vstack([measured_rows.features, off_topic_rows.features])
    labels = np.concatenate([measured_rows.labels, off_topic_rows.labels])
    measured = np.arange(len(labels)) < len(measured_rows.labels)
    docs = np.array([str(doc) for doc in measured_rows.docs + off_topic_rows.docs])
    columns = {name: i for i, name in enumerate(SPAN_FOUND_FEATURES)}
    sets = [("margin, no-answer logit, sentence found logit", BASE)]
    sets += [(f"... + {feature}", BASE + (feature,)) for feature in (*GAPS, "cosine")]
    sets += [("... + all three gaps", BASE + GAPS), ("... + all three gaps + cosine (shipped)", SPAN_FOUND_FEATURES)]
    command = f"python benchmarks/found_score.py --docs {args.docs} --questions {args.questions} --off-topic {args.off_topic}"
    lines = [
        (f"Found-score AUROC on {args.questions} ({int(measured.sum())} questions read, "
         f"{int(labels[measured].sum())} answerable), fitted with {len(off_topic_rows.labels)} off-topic questions; "
         f"Python {platform.python_version()}, `{command}`"),
        "",
        "| features | in-sample AUROC | cross-validated by article |",
        "|---|---|---|",
    ]
    for name, chosen in sets:
        fitted, held_out = aurocs(features[:, [columns[c] for c in chosen]], labels, measured, docs)
        lines.append(f"| {name} | {fitted:.3f} | {held_out:.3f} |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        Path(args.out).write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
