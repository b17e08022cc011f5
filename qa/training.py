"""ReaderTraining: fine-tune the packaged embedding model as a start/end span reader on SQuAD-format files,
with its word embeddings frozen, and measure it on SQuAD-format questions given the gold paragraph."""

from __future__ import annotations

import json
import math
import random
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from index.chunking import split_sentences
from index.config import DEFAULT_MODEL
from index.terms import STOPWORDS
from qa.evaluate import auroc, exact_match, token_f1
from qa.reader_model import FROZEN, MANIFEST, SHIPPED_READER, ReaderModel, base_model, load_shipped, save_shipped
from qa.span import Decoding, decode


@dataclass(frozen=True)
class Example:
    """A question about a context; `answer_start` < 0 means the context does not answer it."""

    question: str
    context: str
    answer_start: int
    answer_text: str

    @property
    def answer_end(self) -> int:
        return self.answer_start + len(self.answer_text)

    def sentences(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """The context's sentences (`[start, end)`) that hold part of the answer, and the others."""
        answering, others = [], []
        for start, end in split_sentences(self.context):
            (answering if start < self.answer_end and end > self.answer_start else others).append((start, end))
        return answering, others


@dataclass(frozen=True)
class TrainingSettings:
    """The hyperparameters of one run; recorded in the shipped `reader.json`."""

    base: str = DEFAULT_MODEL
    epochs: float = 3.0
    batch_size: int = 32
    learning_rate: float = 1e-4
    warmup: float = 0.05  # share of the run spent warming the learning rate up
    max_length: int = 384
    stride: int = 128
    negatives: float = 0.2  # per question, the chance of also asking it of another paragraph (answer: none)
    hard_negatives: float = 0.0  # per question, the chance of each hard negative (see `hard_negatives`)
    start: str | None = None  # a shipped reader folder to continue training from (default: the base model)
    minutes: float | None = None  # stop after this much training time; the learning rate decays to it
    max_steps: int | None = None  # stop after this many steps (smoke tests)
    threads: int | None = None
    seed: int = 0
    data: list[str] = field(default_factory=list)


def read_squad(paths: list[Path], negatives: float = 0.0, seed: int = 0, hard: float = 0.0) -> list[Example]:
    """Every answerable question of SQuAD JSON files (first answer); with probability `negatives` the same
    question asked of another paragraph of its article, and with probability `hard` each of its hard negatives
    (see `hard_negatives`): none of these answer it."""
    rng = random.Random(seed)
    examples = []
    for path in paths:
        for article in json.loads(Path(path).read_text(encoding="utf-8"))["data"]:
            contexts = [paragraph["context"] for paragraph in article["paragraphs"]]
            for paragraph in article["paragraphs"]:
                for question in paragraph["qas"]:
                    if not question.get("answers"):
                        continue
                    gold = question["answers"][0]
                    example = Example(question["question"], paragraph["context"], gold["answer_start"], gold["text"])
                    examples.append(example)
                    others = [context for context in contexts if context != paragraph["context"]]
                    if others and rng.random() < negatives:
                        examples.append(Example(question["question"], rng.choice(others), -1, ""))
                    if hard:  # (drawing nothing otherwise keeps runs without them reproducible)
                        examples.extend(negative for negative in hard_negatives(example, rng) if rng.random() < hard)
    return examples


#: A name (a capitalized word) or a number: what a swapped-name negative swaps in a question.
_NAME_OR_NUMBER = re.compile(r"\b(?:[A-Z][\w'-]*|\d[\d,.]*\d|\d)\b")
#: A question's auxiliary verb and its negation: "not" after a form of "be" or "have" ("What was not ..."),
#: the contraction for "do" and the modals ("When didn't ...", whose "not" would go after the subject).
_NEGATED = {
    "is": "is not", "was": "was not", "are": "are not", "were": "were not", "has": "has not", "have": "have not",
    "had": "had not", "do": "don't", "does": "doesn't", "did": "didn't", "can": "can't", "could": "couldn't",
    "will": "won't", "would": "wouldn't", "should": "shouldn't",
}
_AUXILIARY = re.compile(r"\b(?:" + "|".join(_NEGATED) + r")\b", re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:not|never|no|none|nor|neither|cannot)\b|n't\b", re.IGNORECASE)
#: Words and their opposites: a question with one swapped asks what its context does not say.
_OPPOSITES = (
    ("most", "least"), ("first", "last"), ("largest", "smallest"), ("biggest", "smallest"), ("highest", "lowest"),
    ("higher", "lower"), ("larger", "smaller"), ("longest", "shortest"), ("oldest", "newest"), ("older", "younger"),
    ("earliest", "latest"), ("early", "late"), ("before", "after"), ("more", "less"), ("best", "worst"),
    ("strongest", "weakest"), ("increase", "decrease"), ("increased", "decreased"), ("rise", "fall"),
    ("won", "lost"), ("win", "lose"), ("began", "ended"), ("start", "end"), ("major", "minor"),
    ("positive", "negative"), ("maximum", "minimum"), ("north", "south"), ("east", "west"),
    ("northern", "southern"), ("eastern", "western"), ("upper", "lower"), ("inside", "outside"),
    ("above", "below"), ("public", "private"), ("internal", "external"), ("legal", "illegal"),
    ("accepted", "rejected"), ("success", "failure"), ("common", "rare"), ("ancient", "modern"),
    ("male", "female"), ("true", "false"),
)
_OPPOSITE = {**{b: a for a, b in _OPPOSITES}, **{a: b for a, b in _OPPOSITES}}


def without_answer(example: Example, rng: random.Random) -> Example | None:
    """The context without the sentences that hold the answer (None when nothing else is left)."""
    answering, kept = example.sentences()
    if not kept or not answering:
        return None
    return Example(example.question, " ".join(example.context[s:e] for s, e in kept), -1, "")


def swapped_name(example: Example, rng: random.Random) -> Example | None:
    """The question with one of its names or numbers (one the context holds, not its first word) swapped for
    another name or number of the context (not a capitalized function word)."""
    in_question = [m for m in _NAME_OR_NUMBER.finditer(example.question) if m.start() > 0 and m.group() in example.context]
    if not in_question:
        return None
    swapped = rng.choice(in_question)
    kind = swapped.group()[0].isdigit()
    asked = set(_NAME_OR_NUMBER.findall(example.question))
    others = sorted({word for word in _NAME_OR_NUMBER.findall(example.context)
                     if word[0].isdigit() == kind and word not in asked and word.lower() not in STOPWORDS})
    if not others:
        return None
    return Example(example.question[: swapped.start()] + rng.choice(others) + example.question[swapped.end():],
                   example.context, -1, "")


def negated(example: Example, rng: random.Random) -> Example | None:
    """The question negated at its first auxiliary verb (see _NEGATED), where neither it nor the sentences
    holding the answer say "not" already."""
    auxiliary = _AUXILIARY.search(example.question)
    if auxiliary is None or _NEGATION.search(example.question):
        return None
    answering = " ".join(example.context[s:e] for s, e in example.sentences()[0])  # (split only when needed)
    if _NEGATION.search(answering):
        return None
    word = auxiliary.group()
    negation = word[0] + _NEGATED[word.lower()][1:]  # (keeps a capital first letter)
    return Example(example.question[: auxiliary.start()] + negation + example.question[auxiliary.end():],
                   example.context, -1, "")


def opposite(example: Example, rng: random.Random) -> Example | None:
    """The question with a word swapped for its opposite ("largest" for "smallest"), where the context never
    uses that opposite."""
    words = [m for m in re.finditer(r"\b[a-z]+\b", example.question) if m.group() in _OPPOSITE
             and not re.search(rf"\b{_OPPOSITE[m.group()]}\b", example.context, re.IGNORECASE)]
    if not words:
        return None
    word = rng.choice(words)
    return Example(example.question[: word.start()] + _OPPOSITE[word.group()] + example.question[word.end():],
                   example.context, -1, "")


#: The unanswerable look-alikes made of each answerable example, in the manner of SQuAD 2.0's.
HARD_NEGATIVES = (without_answer, swapped_name, negated, opposite)


def hard_negatives(example: Example, rng: random.Random) -> list[Example]:
    """Unanswerable look-alikes of an answerable example, written as SQuAD 2.0's are, so that the context still
    looks as if it answered them: the context without the answer; the question with a name swapped, negated,
    or with a word swapped for its opposite (see HARD_NEGATIVES)."""
    return [negative for make in HARD_NEGATIVES if (negative := make(example, rng)) is not None]


def features(tokenizer, examples: list[Example], max_length: int, stride: int) -> list[dict]:
    """Token windows of each example with the answer's start and end token ([CLS] = 0 when the window lacks it)."""
    windows = []
    for first in tqdm(range(0, len(examples), 1000), desc="tokenizing", unit="k questions"):
        batch = examples[first : first + 1000]
        encoded = tokenizer(
            [example.question for example in batch],
            [example.context for example in batch],
            truncation="only_second",
            max_length=max_length,
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        for window, example_index in enumerate(encoded["overflow_to_sample_mapping"]):
            example = batch[example_index]
            sequence = encoded.sequence_ids(window)
            offsets = encoded["offset_mapping"][window]
            start_token = end_token = 0
            if example.answer_start >= 0:
                in_text = [i for i, s in enumerate(sequence) if s == 1]
                if offsets[in_text[0]][0] <= example.answer_start and offsets[in_text[-1]][1] >= example.answer_end:
                    start_token = next(i for i in in_text if offsets[i][1] > example.answer_start)
                    end_token = next(i for i in reversed(in_text) if offsets[i][0] < example.answer_end)
            windows.append(
                {
                    "input_ids": encoded["input_ids"][window],
                    "token_type_ids": encoded["token_type_ids"][window],
                    "start_positions": start_token,
                    "end_positions": end_token,
                }
            )
    return windows


def batches(windows: list[dict], size: int, rng: random.Random) -> list[list[dict]]:
    """Shuffled batches of windows of similar length (less padding), in shuffled order."""
    order = windows[:]
    rng.shuffle(order)
    pool = size * 50
    grouped = []
    for first in range(0, len(order), pool):
        block = sorted(order[first : first + pool], key=lambda window: len(window["input_ids"]))
        grouped.extend(block[i : i + size] for i in range(0, len(block), size))
    rng.shuffle(grouped)
    return grouped


def collate(batch: list[dict]) -> dict:
    """Pad a batch to its longest window."""
    import torch

    length = max(len(window["input_ids"]) for window in batch)
    ids = torch.zeros(len(batch), length, dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for row, window in enumerate(batch):
        n = len(window["input_ids"])
        ids[row, :n] = torch.tensor(window["input_ids"])
        types[row, :n] = torch.tensor(window["token_type_ids"])
        mask[row, :n] = 1
    return {
        "input_ids": ids,
        "token_type_ids": types,
        "attention_mask": mask,
        "start_positions": torch.tensor([window["start_positions"] for window in batch]),
        "end_positions": torch.tensor([window["end_positions"] for window in batch]),
    }


def train(settings: TrainingSettings, out: Path = SHIPPED_READER, evaluate_on: Path | None = None,
          evaluate_limit: int | None = 1000) -> dict:
    """Fine-tune, save the shipped form to `out`, and (given a questions file) measure EM/F1 on gold paragraphs."""
    import torch

    if settings.threads:
        torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tokenizer, model = load_shipped(Path(settings.start)) if settings.start else base_model(settings.base)
    print(f"Training from {settings.start}" if settings.start else
          f"Training from {settings.base}: its encoder, with a new span head (start and end logits)", flush=True)
    started_from = json.loads((Path(settings.start) / MANIFEST).read_text()) if settings.start else None
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name not in FROZEN
    model.to(device).train()

    examples = read_squad([Path(path) for path in settings.data], settings.negatives, settings.seed,
                          settings.hard_negatives)
    windows = features(tokenizer, examples, settings.max_length, settings.stride)
    steps_per_epoch = math.ceil(len(windows) / settings.batch_size)
    total = math.ceil(steps_per_epoch * settings.epochs)
    if settings.max_steps:
        total = min(total, settings.max_steps)
    budget = settings.minutes * 60 if settings.minutes else None
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=settings.learning_rate, weight_decay=0.01)
    use_bf16 = device == "cuda" and torch.cuda.is_bf16_supported()

    started = time.monotonic()
    step = 0
    progress = tqdm(total=total, desc="training", unit="step")
    while step < total:
        for batch in batches(windows, settings.batch_size, rng):
            elapsed = time.monotonic() - started
            done = max(step / total, elapsed / budget if budget else 0.0)
            if step >= total or done >= 1.0:
                break
            rate = min(1.0, done / settings.warmup) if done < settings.warmup else (1 - done) / (1 - settings.warmup)
            for group in optimizer.param_groups:
                group["lr"] = settings.learning_rate * rate
            inputs = {name: value.to(device) for name, value in collate(batch).items()}
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=use_bf16):
                loss = model(**inputs).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            progress.update(1)
            progress.set_postfix(loss=f"{loss.item():.3f}")
        else:
            continue
        break
    progress.close()
    seconds = time.monotonic() - started
    model.eval()
    details = {
        "trained": {
            **asdict(settings),
            "steps": step,
            "windows": len(windows),
            "epochs_done": round(step * settings.batch_size / len(windows), 3),
            "seconds": round(seconds, 1),
            "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        }
    }
    if started_from:
        details["started_from"] = {key: started_from[key] for key in ("trained", "measured", "started_from")
                                   if key in started_from}
    result = {"steps": step, "seconds": round(seconds, 1), "epochs_done": details["trained"]["epochs_done"]}
    if evaluate_on:
        reader = ReaderModel(tokenizer=tokenizer, model=model, name="training")
        result.update(measure(reader, evaluate_on, evaluate_limit))
        details["measured"] = {**result, "questions_file": str(evaluate_on)}
    save_shipped(model, Path(out), settings.base, details)
    return result


def gold_paragraph(docs: Path, doc: str, paragraph: int) -> str:
    """The `paragraph`-th blank-line-separated paragraph (from 0) of a document of the eval folders; a ValueError
    says which document or paragraph is missing."""
    try:
        text = (docs / doc).read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"The gold paragraph's document {docs / doc} cannot be read ({error.strerror or error}): "
                         "the gold paragraphs are read from the docs folder next to the questions file.") from error
    paragraphs = [part for part in text.split("\n\n") if part.strip()]
    if not 0 <= paragraph < len(paragraphs):
        raise ValueError(f"{docs / doc} has {len(paragraphs)} paragraphs (numbered from 0), so no paragraph {paragraph}.")
    return paragraphs[paragraph]


def measure(reader: ReaderModel, questions_file: Path, limit: int | None = None,
            decoding: Decoding = Decoding()) -> dict:
    """Exact match and token F1 (in percent) of the reader given each answerable question's gold paragraph;
    where the file has unanswerable questions too, the AUROC with which the span's margin over no-answer
    tells the answerable ones from them."""
    questions_file = Path(questions_file)
    docs = questions_file.parent / "docs"
    records = [json.loads(line) for line in questions_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = records[: limit or None]
    em = f1 = 0.0
    margins: dict[bool, list[float]] = {True: [], False: []}
    for record in tqdm(records, desc="reading gold paragraphs", unit="question"):
        context = gold_paragraph(docs, record["doc"], record["paragraph"])
        span = decode(reader, record["question"], [context], decoding)[0]
        golds = record["answers"]
        margins[bool(golds)].append(span.margin if span else -math.inf)
        if golds:
            prediction = context[span.start : span.end] if span else ""
            em += exact_match(prediction, golds)
            f1 += token_f1(prediction, golds)
    answerable = len(margins[True])
    result: dict = {"questions": answerable}
    if answerable:
        result |= {"em": round(100 * em / answerable, 1), "f1": round(100 * f1 / answerable, 1)}
    if margins[False]:
        result |= {"unanswerable": len(margins[False]), "no_answer_auroc": round(auroc(margins[True], margins[False]), 3)}
    return result
