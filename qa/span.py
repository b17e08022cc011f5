"""SpanReader: short answers from an extractive question-answering model, with our own span decoding (windows
with stride, top-k start/end logits, a length limit, character offsets through the tokenizer's offset mapping,
a no-answer score)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from index.chunking import BLOCK_BREAK, is_abbreviation
from index.store import Store
from index.wordpieces import WordPieces
from qa.converse import NOT_FOUND
from qa.gaps import Gaps
from qa.markup import Code, is_code, is_markup, tidied
from qa.config import SHIPPED_WEIGHTS
from qa.read import Answer, Candidate, Citation, Ranking, SentenceReader, cite, sigmoid, weights_file
from qa.reader_model import ReaderModel
from qa.retrieve import Passage


@dataclass(frozen=True)
class Span:
    """The best span of one text: `text[start:end]`, its logit score (start + end), and the no-answer
    logit score (the [CLS] start + end) of the window it came from."""

    text_index: int
    start: int
    end: int
    score: float
    null: float

    @property
    def margin(self) -> float:
        """How much the span beats "no answer"; comparable across texts and questions."""
        return self.score - self.null


@dataclass(frozen=True)
class Decoding:
    """How texts are cut into windows and spans chosen."""

    max_length: int = 256  # tokens per window, question included
    stride: int = 96  # tokens shared by consecutive windows of a long text
    max_question_tokens: int = 64  # a longer question is cut to this many tokens
    top_k: int = 20  # start and end candidates per window
    max_answer_tokens: int = 30


def _short_question(wordpieces: WordPieces, question: str, limit: int) -> str:
    """The question cut after `limit` tokens (at a token's character end), so windows keep room for text."""
    offsets = wordpieces.offsets(question)
    return question if len(offsets) <= limit else question[: offsets[limit - 1][1]]


def decode(reader: ReaderModel, question: str, texts: list[str], decoding: Decoding = Decoding()) -> list[Span | None]:
    """The best span of each text (None where the text gives no token), reading all windows in one call."""
    if not texts:
        return []
    question = _short_question(reader.wordpieces, question, decoding.max_question_tokens)
    batch = reader.wordpieces.windows(question, texts, decoding.max_length, decoding.stride)
    starts, ends = reader.logits(batch.arrays)
    paragraph_breaks = [np.array([m.start() for m in BLOCK_BREAK.finditer(text)], dtype=np.int64) for text in texts]
    best: list[Span | None] = [None] * len(texts)
    for window, text_index in enumerate(batch.rows_of):
        in_text = np.array([sequence == 1 for sequence in batch.sequence_ids[window]])
        breaks = paragraph_breaks[text_index]
        span = _best_span(starts[window], ends[window], in_text, batch.offsets[window], decoding, breaks,
                          texts[text_index])
        if span is None:
            continue
        start, end, score = span
        start, end = _snapped(texts[text_index], start, end)
        start, end = tidied(texts[text_index], start, _trimmed(texts[text_index], start, end))
        null = float(starts[window][0] + ends[window][0])
        current = best[text_index]
        if current is None or score - null > current.margin:
            best[text_index] = Span(text_index, start, end, score, null)
    return best


#: Characters that join the parts of one token between letters or digits: an address, an identifier, a number
#: ("procps@freelists.org", "binary:Version", "fetch.fsck", "3.8", "TCP/IP", "1,900"). Not a hyphen or an
#: apostrophe: "Anglo-Saxon" and "Armenia's" hold answers of their own.
JOINERS = frozenset("@_.:=/,")


def _joined(text: str, at: int) -> bool:
    """True when `text[at - 1]` and `text[at]` are parts of one token (see JOINERS)."""
    if at <= 0 or at >= len(text):
        return False
    before, after = text[at - 1], text[at]
    if before.isalnum() and after.isalnum():
        return True
    if after in JOINERS and before.isalnum():
        return at + 1 < len(text) and text[at + 1].isalnum() and (after != "," or (before + text[at + 1]).isdigit())
    if before in JOINERS and after.isalnum():
        return at >= 2 and text[at - 2].isalnum() and (before != "," or (text[at - 2] + after).isdigit())
    return False


def _snapped(text: str, start: int, end: int) -> tuple[int, int]:
    """The span grown to whole tokens: the model's word pieces can start or end an answer inside a word or an
    address ("@freelists.org" for "procps@freelists.org", "3" for "3.8")."""
    while _joined(text, start):
        start -= 1
    while _joined(text, end):
        end += 1
    return start, end


#: Punctuation that ends a span without being part of the answer ("212 million kroner." at a sentence's end).
TRAILING_PUNCTUATION = ",;:."


def _trimmed(text: str, start: int, end: int) -> int:
    """`end` moved back over punctuation that closes the sentence or clause rather than the answer; the period
    of an abbreviation or an initial ("Feb.", "U.S.", "John F.") stays."""
    while end - start > 1 and text[end - 1] in TRAILING_PUNCTUATION:
        if text[end - 1] == "." and is_abbreviation(text, end):
            break
        end -= 1
    return end


def _best_span(
    start_logits: np.ndarray, end_logits: np.ndarray, in_text: np.ndarray, offsets: list, decoding: Decoding,
    paragraph_breaks: np.ndarray, text: str,
) -> tuple[int, int, float] | None:
    """The highest start + end logit pair inside the text, end not before start, within the length limit, not
    across a paragraph break (`paragraph_breaks`: the sorted character positions of the text's blank lines; an
    answer never runs from a title into the paragraph under it), and not markup alone (`is_markup`)."""
    positions = np.flatnonzero(in_text)
    if positions.size == 0:
        return None
    k = min(decoding.top_k, positions.size)
    top_starts = positions[np.argsort(-start_logits[positions])[:k]]
    top_ends = positions[np.argsort(-end_logits[positions])[:k]]
    best = None
    for start in top_starts:
        for end in top_ends:
            if end < start or end - start + 1 > decoding.max_answer_tokens:
                continue
            score = float(start_logits[start] + end_logits[end])
            if best is None or score > best[2]:
                first, last = int(offsets[start][0]), int(offsets[end][1])
                if np.searchsorted(paragraph_breaks, first) == np.searchsorted(paragraph_breaks, last) and \
                        not is_markup(text, first, last):
                    best = (first, last, score)
    return best


#: A question that asks for the steps to do something: "How do I ...", "How can we ...", "How to ...".
ASKS_HOW_TO = re.compile(r"^\W*how\s+(?:(?:do|can|could|should|would|may|must|shall)\s+(?:i|you|we|one)\b|to\b)",
                         re.IGNORECASE)
_HEADING = re.compile(r"\s*#{1,6}\s")


def introduces(sentence: str, following: str = "") -> bool:
    """True when `sentence` introduces what follows it (`following`, the next sentence): it ends with a colon,
    it is a Markdown heading, or code follows it."""
    return sentence.rstrip().endswith(":") or bool(_HEADING.match(sentence)) or bool(following and is_code(following))


#: The found score's features, as `SpanReader.found_features` lists them and `SpanWeights` names their weights.
SPAN_FOUND_FEATURES = ("margin", "null", "sentence", "cosine", "number", "name", "negation", "bias")

#: Other windows are cited too when their span's margin is within this many logits of the best.
CITATION_MARGIN = 2.0
#: The answer is the span with the best margin + SENTENCE_WEIGHT * the log of its sentence's share of the
#: sentence reader's evidence: a fair span in the sentence the question most points to beats a slightly
#: better one elsewhere (SQuAD v1.1 dev hit@1 0.855 at 0, 0.866 at 2, 0.865 at 3 and 4).
SENTENCE_WEIGHT = 3.0


@dataclass(frozen=True)
class Window:
    """A stretch of one document read for a short answer: a likely sentence and the sentence before it."""

    candidate: Candidate
    start: int
    end: int
    sentences: list[tuple[int, int]]  # the sentences it spans, in document offsets

    def sentence_around(self, start: int, end: int) -> tuple[int, int]:
        """The sentences of the window that hold `[start, end)`."""
        first = next((s for s, e in reversed(self.sentences) if s <= start), self.sentences[0][0])
        last = next((e for s, e in self.sentences if e >= end), self.sentences[-1][1])
        return first, last


def merged(windows: list[Window]) -> list[Window]:
    """The windows, with any that share a sentence with an earlier one joined to it (one longer text reads
    faster than two overlapping ones, and keeps their context); each keeps the earlier window's candidate."""
    result: list[Window] = []
    for window in windows:
        doc = window.candidate.passage.doc
        overlapping = next((i for i, kept in enumerate(result) if kept.candidate.passage.doc == doc
                            and kept.start < window.end and window.start < kept.end), None)
        if overlapping is None:
            result.append(window)
            continue
        kept = result[overlapping]
        sentences = sorted(set(kept.sentences) | set(window.sentences))
        result[overlapping] = Window(kept.candidate, sentences[0][0], sentences[-1][1], sentences)
    return result


@dataclass(frozen=True)
class SpanWeights:
    """The calibrated found score: sigmoid(margin * the span's margin over no-answer + null * the no-answer logit
    + sentence * the sentence reader's found logit + cosine * the question's embedding similarity to the sentence
    holding the span + number, name and negation * the question's `Gaps` + bias)."""

    margin: float = 1.0
    null: float = 0.0
    sentence: float = 0.0
    cosine: float = 0.0
    number: float = 0.0
    name: float = 0.0
    negation: float = 0.0
    bias: float = 0.0
    threshold: float = 0.5

    @classmethod
    def load(cls, path: Path | str = SHIPPED_WEIGHTS) -> SpanWeights:
        data = weights_file(path).get("span", {})
        try:
            return cls(**data)
        except TypeError:
            raise ValueError(f"The span weights in {path} are not those `qa calibrate` writes: write them again with "
                             f"`qa calibrate --out {path}`.") from None


def _holding(ranking: Ranking, window: Window, span: Span) -> Candidate:
    """The ranked sentence where the span starts (windows are made of ranked sentences; the window's own one
    should a sentence cut differently in two overlapping passages leave the start outside every one)."""
    doc, start = window.candidate.passage.doc, window.start + span.start
    return next((candidate for candidate in ranking.candidates
                 if candidate.passage.doc == doc and candidate.start <= start < candidate.end), window.candidate)


class SpanReader:
    """Short answers: the sentence reader ranks the sentences of the best passages, then an extractive QA
    model reads a small window around each of the best few (the sentence and the one before it) and answers
    with the span that most beats its own no-answer score, cited by the sentence that holds it."""

    def __init__(self, store: Store, sentences: SentenceReader, model: ReaderModel, windows: int = 3,
                 threshold: float | None = None, weights: SpanWeights | None = None,
                 decoding: Decoding = Decoding()) -> None:
        self.store = store
        self.sentences = sentences
        self.model = model
        self.windows = windows
        self.weights = weights or SpanWeights.load()
        self.threshold = self.weights.threshold if threshold is None else threshold
        self.decoding = decoding
        self._code: dict[str, Code] = {}  # document id -> where its code is

    def window(self, candidate: Candidate) -> Window:
        """The candidate sentence and the sentence before it in its chunk (its subject is often named there), and
        the sentence after it when it introduces what follows (see `introduces`: a step, a command, a list, a
        section), from the next chunk when it ends its own."""
        row = candidate.passage.chunk
        bounds = [tuple(pair) for pair in self.store.chunk_sentences(row).tolist()]
        position = bounds.index((candidate.start, candidate.end))
        covered = bounds[max(position - 1, 0) : position + 1]
        following = bounds[position + 1 : position + 2]
        if not following and row + 1 < len(self.store.chunks) and \
                self.store.chunks[row + 1].doc_id == candidate.passage.doc:
            following = [tuple(pair) for pair in self.store.chunk_sentences(row + 1).tolist()
                         if pair[0] >= candidate.end][:1]
        text = self.store.document(candidate.passage.doc).text
        if following and introduces(candidate.text, text[following[0][0] : following[0][1]]):
            covered += following
        return Window(candidate, covered[0][0], covered[-1][1], covered)

    def text(self, window: Window) -> str:
        """The window's stored text."""
        return self.store.document(window.candidate.passage.doc).text[window.start : window.end]

    def found_features(self, question: str, span: Span, window: Window, ranking: Ranking) -> list[float]:
        """What the found score weighs, in `SPAN_FOUND_FEATURES` order (`ranking`: the sentences read)."""
        passage = window.candidate.passage
        gaps = Gaps.between(question, self.text(window), passage.text, passage.title)
        return [span.margin, span.null, ranking.found, _holding(ranking, window, span).evidence["cosine"],
                *gaps.values(), 1.0]

    def score(self, question: str, span: Span, window: Window, ranking: Ranking) -> float:
        """The calibrated probability that the span answers the question (`ranking`: the sentences read)."""
        weights = [getattr(self.weights, name) for name in SPAN_FOUND_FEATURES]
        return sigmoid(float(np.dot(weights, self.found_features(question, span, window, ranking))))

    def spans(self, question: str, vector: np.ndarray, passages: list[Passage]) -> tuple[Ranking, list[tuple[Span, Window]]] | None:
        """The sentence ranking, and the best span of each window read, best first (by its margin and its
        sentence's share, see SENTENCE_WEIGHT; None when the passages hold no sentence)."""
        ranking = self.sentences.rank(question, vector, passages)
        if ranking is None:
            return None
        windows = merged([self.window(candidate) for candidate in ranking.candidates[: self.windows]])
        found = zip(decode(self.model, question, [self.text(w) for w in windows], self.decoding), windows)
        readings = self.best_first([(self._whole_code(span, window), window) for span, window in found if span],
                                   ranking)
        # A sentence that asks (an FAQ's question, a heading's "Why ...?") holds no answer while another can.
        answering = [(span, window) for span, window in readings if not self._asks(span, window)]
        return ranking, answering or readings

    def code(self, doc: str) -> Code:
        """Where the code of document `doc` is (found once)."""
        if doc not in self._code:
            self._code[doc] = Code.of(self.store.document(doc).text)
        return self._code[doc]

    def _whole_code(self, span: Span, window: Window) -> Span:
        """The span, when it lies in code, grown to whole lines of it (within the window) and without the marks
        around it (see `Code.whole_lines`, `tidied`)."""
        start, end = self._code_answer(window, window.start + span.start, window.start + span.end)
        return replace(span, start=start - window.start, end=end - window.start) if end > start else span

    def _code_answer(self, window: Window, start: int, end: int) -> tuple[int, int]:
        """Document span `[start, end)` grown to whole lines where it lies in code (within the window), then
        without the marks around it."""
        code = self.code(window.candidate.passage.doc)
        start, end = code.whole_lines(start, end)
        return tidied(code.text, max(start, window.start), min(end, window.end))

    @staticmethod
    def best_first(readings: list[tuple[Span, Window]], ranking: Ranking) -> list[tuple[Span, Window]]:
        """The spans read, best first: by margin + SENTENCE_WEIGHT * the log of the share of the sentence
        holding each."""
        shares = {id(candidate): share for candidate, share in zip(ranking.candidates, ranking.shares)}

        def weighed(pair: tuple[Span, Window]) -> float:
            share = shares.get(id(_holding(ranking, pair[1], pair[0])), 0.0)
            return pair[0].margin + SENTENCE_WEIGHT * math.log(max(share, 1e-9))

        return sorted(readings, key=weighed, reverse=True)

    def _asks(self, span: Span, window: Window) -> bool:
        text = self.store.document(window.candidate.passage.doc).text
        start, end = window.sentence_around(window.start + span.start, window.start + span.end)
        return text[start:end].rstrip().endswith("?")

    def read(self, question: str, vector: np.ndarray, passages: list[Passage]) -> Answer:
        """The short answer to `question` from `passages` (best first); `vector` is the question's embedding."""
        read = self.spans(question, vector, passages)
        if read is None or not read[1]:
            return self.sentences.read(question, vector, passages)
        ranking, readings = read
        best_margin, how_to = readings[0][0].margin, bool(ASKS_HOW_TO.match(question))
        cited = [
            self.cite(span, window, self.score(question, span, window, ranking), how_to)
            for span, window in readings
            if span.margin >= best_margin - CITATION_MARGIN
        ]
        score = cited[0].score
        if score < self.threshold:
            return Answer(question, NOT_FOUND, False, score, [], passages, closest=cited[0])
        return Answer(question, cited[0].answer, True, score, cited, passages, closest=cited[0])

    def cite(self, span: Span, window: Window, score: float, how_to: bool = False) -> Citation:
        """The sentence(s) holding the span, with the span marked inside. For a question that asks how to do
        something (`how_to`), a span in a sentence that introduces the next one ("To test it, run the
        following:", "## Running the tests") gives way to that next sentence, the command or step it introduces,
        without the marks around its code (`qa.markup.tidied`); the two sentences are cited together."""
        start, end = window.start + span.start, window.start + span.end
        sentence_start, sentence_end = window.sentence_around(start, end)
        text = self.store.document(window.candidate.passage.doc).text
        following = next(((s, e) for s, e in window.sentences if s >= sentence_end), None)
        if how_to and following and not self.code(window.candidate.passage.doc).holds(start) and \
                introduces(text[sentence_start:sentence_end], text[following[0] : following[1]]):
            step = self._code_answer(window, *following)
            if not is_markup(text, *step):  # an empty code block introduces nothing
                (start, end), sentence_end = step, following[1]
        return cite(self.store, window.candidate.passage.doc, sentence_start, sentence_end,
                    score, answer=(start, end))
