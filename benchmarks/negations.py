"""How well the span reader's margin over no-answer tells answerable from unanswerable questions, for negated
questions ("not", "never", "no", "n't") and the others apart, end to end on one index and questions file.

    python benchmarks/negations.py --docs ../shared/eval/squad-v2.0-dev/docs \
        --questions ../shared/eval/squad-v2.0-dev/questions.jsonl

`QA_READER_MODEL=FOLDER` measures another reader. Negated questions are where the training's negated hard
negatives should help, and where a reader could learn the shortcut "negated, so unanswerable": the last line
compares the answerable negated questions with the other answerable ones.
"""

from __future__ import annotations

import argparse
import re

from tqdm import tqdm

from qa.api import engine
from qa.calibration import searched
from qa.evaluate import auroc, read_questions

NEGATED = re.compile(r"\b(?:not|never|no)\b|n't\b", re.IGNORECASE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", required=True)
    parser.add_argument("--questions", required=True)
    args = parser.parse_args()
    qa = engine(args.docs)
    margins: dict[tuple[bool, bool], list[float]] = {(n, a): [] for n in (True, False) for a in (True, False)}
    for question in tqdm(read_questions(args.questions), desc="questions", unit="q"):
        read = qa.reader.spans(*searched(qa, question.question))
        if read is None or not read[1]:
            continue
        negated = bool(NEGATED.search(question.question))
        margins[negated, bool(question.answers)].append(read[1][0][0].margin)
    for negated, name in ((True, "negated"), (False, "other")):
        answerable, unanswerable = margins[negated, True], margins[negated, False]
        print(f"{name}: {len(answerable)} answerable, {len(unanswerable)} unanswerable, "
              f"margin AUROC {auroc(answerable, unanswerable):.3f}")
    print(f"answerable, other above negated: AUROC {auroc(margins[False, True], margins[True, True]):.3f}")


if __name__ == "__main__":
    main()
