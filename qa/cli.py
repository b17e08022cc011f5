"""The `qa` command: index, ask, eval, chat."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

from index.errors import DocsError, IndexingError

USAGE_ERROR = 2
FAILURE = 1
#: The highest TCP port number.
LAST_PORT = 65535


def positive(kind: type[int | float], most: float = math.inf) -> Callable[[str], int | float]:
    """An argparse type: a number of `kind` above 0 and at most `most`; anything else is a usage error that
    says what is accepted."""
    accepted = f"{'a whole number' if kind is int else 'a number'} above 0"
    if most < math.inf:
        accepted += f" and at most {most}"

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and 0 < value <= most):
            raise argparse.ArgumentTypeError(f"{text!r} is not allowed: use {accepted}")
        return value

    return parse


def _paths(args: argparse.Namespace) -> tuple[Path, Path, bool]:
    """The documents and index folders, and whether the index may be built when it is missing."""
    from qa.config import folders

    docs, index = folders(args.docs or None, args.index or None)
    return docs, index, not (args.index or os.environ.get("QA_INDEX"))


def _add_location(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--docs", help="documents folder (default: $QA_DOCS, else seeds/)")
    parser.add_argument("--index", help="index folder (default: $QA_INDEX, else a folder under ~/.cache/qa)")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="qa", description="Cited extractive answers from a folder of documents.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    index = commands.add_parser("index", help="build or update the index over the documents folder")
    _add_location(index)
    index.add_argument("--rebuild", action="store_true", help="embed every document again")

    ask = commands.add_parser("ask", help="answer one question with citations")
    ask.add_argument("question")
    _add_location(ask)
    ask.add_argument("--k", type=positive(int), default=5, help="passages to retrieve (default 5)")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument("--history", help='JSON file of earlier turns: [["question", "answer"], ...], oldest first')

    evaluate = commands.add_parser("eval", help="measure retrieval and answers on a questions file")
    _add_location(evaluate)
    evaluate.add_argument("--questions", required=True, help="JSON-lines file of {question, answers}")
    evaluate.add_argument("--limit", type=positive(int), help="use only the first N questions")
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON")
    evaluate.add_argument("--gold", action="store_true",
                          help="measure the span reader alone, given each question's gold paragraph (EM/F1), read from "
                               "the docs folder next to the questions file")

    calibrate = commands.add_parser("calibrate", help="fit the readers' sentence choice and found scores")
    calibrate.add_argument("--select", nargs=2, metavar=("DOCS", "QUESTIONS"),
                           help="documents folder and answerable questions for the sentence choice (without it, the "
                                "sentence reader's weights are kept and only the span reader's found score is fitted)")
    calibrate.add_argument("--found", nargs=2, metavar=("DOCS", "QUESTIONS"), action="append", required=True,
                           help="documents folder and questions for the found score (repeatable). Questions with no "
                                "answers are unanswerable; those whose doc is not in DOCS are off-topic, and some "
                                "are needed: the threshold refuses 95%% of them")
    calibrate.add_argument("--out", required=True,
                           help="weights file to write; answer with it by QA_READER_WEIGHTS=FILE "
                                "(qa/reader_weights.json replaces the shipped weights)")

    train = commands.add_parser("train-reader", help="fine-tune the span reader on SQuAD-format files")
    train.add_argument("data", nargs="+", help="SQuAD JSON training files")
    train.add_argument("--out", required=True,
                       help="folder for the weights (qa/span_reader replaces the shipped reader; use it with "
                            "QA_READER_MODEL=DIR otherwise)")
    train.add_argument("--eval", dest="evaluate_on", help="questions.jsonl of an eval folder: EM/F1 on gold paragraphs")
    train.add_argument("--eval-limit", type=positive(int), default=1000, help="questions to measure (default 1000)")
    for name, kind, help_text in (
        ("epochs", positive(float), "passes over the data (default 3)"),
        ("batch-size", positive(int), "windows per step (default 32)"),
        ("learning-rate", float, "peak learning rate (default 1e-4)"),
        ("max-length", positive(int), "tokens per window (default 384)"),
        ("stride", int, "tokens shared by consecutive windows (default 128)"),
        ("negatives", float, "chance of also asking a question of another paragraph (default 0.2)"),
        ("hard-negatives", float, "chance of each hard negative of a question: its paragraph without the answer, "
                                  "a name or number swapped, negated, a word swapped for its opposite (default 0)"),
        ("start", str, "a trained reader folder to continue from (default: the base model)"),
        ("minutes", positive(float), "stop after this many minutes of training"),
        ("max-steps", positive(int), "stop after this many steps"),
        ("threads", positive(int), "CPU threads"),
        ("seed", int, "seed of the data's order and its negatives (default 0)"),
    ):
        train.add_argument(f"--{name}", type=kind, help=help_text)

    chat = commands.add_parser("chat", help="open the web chat")
    _add_location(chat)
    chat.add_argument("--host", default="127.0.0.1",
                      help="address to serve on (default 127.0.0.1: this machine only; any other needs --auth)")
    chat.add_argument("--port", type=positive(int, most=LAST_PORT), default=7860,
                      help=f"TCP port, 1 to {LAST_PORT} (default 7860)")
    chat.add_argument("--auth", help="user:password required to use the chat (default: $QA_AUTH)")
    return parser.parse_args(argv)


def _engine(args: argparse.Namespace):
    from index.store import Store
    from qa.api import engine

    docs, index, may_build = _paths(args)
    if not may_build and not Store.exists(index):
        raise IndexingError(Store.missing(index, docs))
    return engine(docs, index)


def run_index(args: argparse.Namespace) -> int:
    from index.build import build

    docs, index, _ = _paths(args)
    summary = build(docs, index, rebuild=args.rebuild)
    print(summary)
    print(f"index: {index}")
    return 0


def _history(path: str | None) -> list[tuple[str, str]]:
    if not path:
        return []
    from qa.api import checked_history
    from qa.errors import QuestionError

    try:
        turns = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(turns, list):
            raise TypeError(f"it holds a JSON {type(turns).__name__}, not a list")
        return checked_history(turns)
    except (OSError, ValueError, TypeError, QuestionError) as error:
        raise HistoryError(f"{path} is not a history file ([[question, answer], ...]): {error}") from error


class HistoryError(ValueError):
    """The --history file can't be read."""


def run_ask(args: argparse.Namespace) -> int:
    qa = _engine(args)
    answer = qa.answer(args.question, _history(args.history), k=args.k)
    if answer.stale and not qa.docs.is_dir():
        print(f"qa: the documents folder {qa.docs} is gone; answering from the index at {qa.index} as built.",
              file=sys.stderr)
    elif answer.stale:
        print(
            f"qa: the documents in {qa.docs} changed since the index was built; answering from the index as "
            f"built. Run `qa index --docs {qa.docs} --index {qa.index}` to update it.",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(answer.record(), ensure_ascii=False, indent=2))
        return 0
    print(answer.text)
    if answer.added:
        print(f"searched for: {answer.query}")
    print(f"score: {answer.score:.2f}")
    for number, citation in enumerate(answer.citations, 1):
        where = f"page {', '.join(map(str, citation.pages))}, " if citation.pages else ""
        print(f"[{number}] {citation.title} ({citation.doc}, {where}characters {citation.start}-{citation.end}, score {citation.score:.2f})")
        before, short, after = citation.parts()
        quote = f"{before}**{short}**{after}" if before or after else short
        print(f"    \"{quote}\"".replace("\n", "\n     "))  # a quote's later lines stay under its first
    if not answer.found and answer.passages:
        print("closest passages:")
        for passage in answer.passages[:3]:
            pages = qa.store.document(passage.doc).pages_of(passage.start, passage.end)
            where = f"page {', '.join(map(str, pages))}, " if pages else ""
            print(f"  - {passage.doc} [{where}characters {passage.start}-{passage.end}] "
                  f"{' '.join(passage.text[:120].split())}...")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from qa.evaluate import evaluate, evaluate_dialogs, read_questions

    # A bad record stops here, before any model loads.
    questions = read_questions(args.questions, args.limit, gold=args.gold)
    if args.gold:
        from qa.api import load_reader_model
        from qa.config import QAConfig
        from qa.training import measure

        config = QAConfig()
        metrics = measure(load_reader_model(config), Path(args.questions), args.limit)
    else:
        dialogs = any(question.dialog_id for question in questions)
        metrics = (evaluate_dialogs if dialogs else evaluate)(_engine(args), questions)
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        width = max(map(len, metrics)) + 1
        for name, value in metrics.items():
            label = f"{name}:".ljust(width)
            print(f"{label} {value:.4f}" if isinstance(value, float) else f"{label} {value}")
    return 0


def run_calibrate(args: argparse.Namespace) -> int:
    from qa.api import engine
    from qa.calibration import calibrate
    from qa.evaluate import read_questions

    weights = calibrate(
        [(engine(docs), read_questions(questions)) for docs, questions in args.found],
        (engine(args.select[0]), read_questions(args.select[1])) if args.select else None,
        out=Path(args.out),
    )
    print(json.dumps(weights, indent=2))
    return 0


def run_train_reader(args: argparse.Namespace) -> int:
    from dataclasses import fields

    from qa.training import TrainingSettings, train

    chosen = {f.name: getattr(args, f.name) for f in fields(TrainingSettings) if getattr(args, f.name, None) is not None}
    settings = TrainingSettings(**{**chosen, "data": list(args.data)})
    result = train(settings, Path(args.out),
                   Path(args.evaluate_on) if args.evaluate_on else None, args.eval_limit)
    print(json.dumps(result, indent=2))
    return 0


def run_chat(args: argparse.Namespace) -> int:
    from ui.app import launch

    docs, index, _ = _paths(args)
    launch(docs, index, host=args.host, port=args.port, auth=args.auth)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from qa.errors import QuestionError, QuestionsFileError

    warnings.formatwarning = lambda message, *_, **__: f"qa: {message}\n"  # one line, as the errors are

    commands = {"index": run_index, "ask": run_ask, "eval": run_eval, "calibrate": run_calibrate,
                "train-reader": run_train_reader, "chat": run_chat}
    try:
        return commands[args.command](args)
    except (QuestionError, QuestionsFileError, DocsError, HistoryError) as error:
        print(f"qa: {error}", file=sys.stderr)
        return USAGE_ERROR
    except (IndexingError, OSError, ValueError) as error:
        print(f"qa: {error}", file=sys.stderr)
        return FAILURE
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
