"""Where an answer's time goes: `answer()` over dev questions, one at a time and warm, with the time of the
question's embedding and of the span reader's forward pass apart, and what the reader reads (windows per
question, tokens per window, and the share of padding in the batch that holds a question's windows, which the
ONNX reader does not run: it runs each window at its own length).

    python benchmarks/answer_profile.py --docs ../shared/eval/squad-v1.1-dev/docs \
        --questions ../shared/eval/squad-v1.1-dev/questions.jsonl --limit 300
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from index.embedding import Embedder
from qa.api import Engine
from qa.evaluate import read_questions
from qa.reader_model import ReaderModel


def timing(owner: type, name: str, seconds: list[float], seen: list | None = None) -> None:
    """Wrap `owner.name` so that each call's seconds land in `seconds` (and its first argument after self in
    `seen`)."""
    function = getattr(owner, name)

    def timed(self, *args, **kwargs):
        started = time.perf_counter()
        result = function(self, *args, **kwargs)
        seconds.append(time.perf_counter() - started)
        if seen is not None:
            seen.append(args[0])
        return result

    setattr(owner, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, required=True)
    parser.add_argument("--index", type=Path, help="index folder (default: the one `qa` uses for --docs)")
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=300, help="questions answered")
    args = parser.parse_args()
    engine = Engine(args.docs, args.index)
    questions = [question.question for question in read_questions(args.questions, args.limit)]
    engine.answer(questions[0])  # warm
    embedding, reading, batches = [], [], []
    timing(Embedder, "encode", embedding)
    timing(ReaderModel, "logits", reading, batches)
    answers = []
    for question in questions:
        started = time.perf_counter()
        engine.answer(question)
        answers.append(time.perf_counter() - started)
    rows = np.array([batch["input_ids"].shape[0] for batch in batches])
    width = np.array([batch["input_ids"].shape[1] for batch in batches])
    real = np.array([int(batch["attention_mask"].sum()) for batch in batches])
    total = sum(answers)
    print(json.dumps({
        "questions": len(questions),
        "answer_ms_mean": 1000 * total / len(questions),
        "answer_ms_p50": 1000 * float(np.median(answers)),
        "reader_forward_share": sum(reading) / total,
        "question_embedding_share": sum(embedding) / total,
        "windows_per_question": float(rows.sum() / len(questions)),
        "tokens_per_window": float(real.sum() / rows.sum()),
        "padding_share": float(1 - real.sum() / (rows * width).sum()),
    }, indent=2))


if __name__ == "__main__":
    main()
