"""WordPieces: a model's own tokenizer run by the `tokenizers` library alone (no transformers, no PyTorch): token
counts, a document's tokens that its chunks slice, padded batches with character offsets, and question/text pairs
cut into overlapping windows."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: The arrays a batch holds, as transformers names them.
INPUTS = ("input_ids", "token_type_ids", "attention_mask")
#: Texts tokenized at once when counting tokens.
COUNT_BLOCK = 1024
#: Characters of a long text tokenized at a time (`WordPieces.tokens`).
SEGMENT_CHARS = 1_000_000
_WHITE_SPACE = re.compile(r"[ \t\n\r]")
#: Tokenizer steps under which a text's tokens are those of the whole text that fall inside it, wherever the text
#: is cut between two words: each word is split alone (no pieces join across a word break, no context is added).
SLICEABLE = {"model": ("WordPiece",), "pre_tokenizer": ("BertPreTokenizer",), "normalizer": (None, "BertNormalizer")}


def length_sorted_batches(texts: list[str], size: int) -> list[np.ndarray]:
    """The indices of `texts` in batches of `size`, longest texts first: batches of similar lengths pad little."""
    order = np.argsort([-len(text) for text in texts], kind="stable")
    return [order[first : first + size] for first in range(0, len(texts), size)]


@dataclass(frozen=True)
class Tokens:
    """A text's tokens without special tokens: ids, `[start, end)` character offsets, and the word (piece of the
    pre-tokenizer) each comes from; int32 arrays, searched without copies."""

    ids: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    words: np.ndarray

    @property
    def offsets(self) -> np.ndarray:
        """(count, 2): each token's start and end."""
        return np.stack((self.starts, self.ends), axis=1)

    def window(self, start: int, end: int) -> TokenSpan | None:
        """The tokens of the text's `[start, end)` when no word crosses either end (then they are what tokenizing
        that text alone gives); None when one does."""
        first, last = np.searchsorted(self.starts, np.array((start, end), dtype=self.starts.dtype))  # same dtype: no copy
        if not (self._clean(first, start) and self._clean(last, end)):
            return None
        return TokenSpan(self, int(first), int(last), start)

    def _clean(self, token: int, position: int) -> bool:
        """Whether the cut at character `position`, just before token number `token`, falls between words."""
        if token == 0:
            return True
        before_ends_first = self.ends[token - 1] <= position
        return bool(before_ends_first and (token == len(self.ids) or self.words[token - 1] != self.words[token]))


@dataclass(frozen=True)
class TokenSpan:
    """Tokens `first` to `last` of a text's `tokens`, for the part of the text that starts at character `start`:
    a chunk's tokens, sharing its document's arrays (one copy of them travels from a worker process)."""

    tokens: Tokens
    first: int
    last: int
    start: int

    @property
    def ids(self) -> np.ndarray:
        return self.tokens.ids[self.first : self.last]

    @property
    def offsets(self) -> np.ndarray:
        """Offsets counted from `start`."""
        first, last = self.first, self.last
        return np.stack((self.tokens.starts[first:last], self.tokens.ends[first:last]), axis=1) - self.start


@dataclass
class Batch:
    """Token arrays padded to the longest row (INPUTS, int64), each token's `[start, end)` character offsets
    ((rows, width, 2), (0, 0) for special and padding tokens), which sequence each token belongs to (None, 0 or
    1), and which input each row came from (a long pair gives several windows)."""

    arrays: dict[str, np.ndarray]
    offsets: np.ndarray
    sequence_ids: list[list[int | None]]
    rows_of: list[int]


class WordPieces:
    """A `tokenizers.Tokenizer` with its padding token; each truncation setting gets its own copy, so calls
    never change each other's settings."""

    def __init__(self, tokenizer, pad_id: int) -> None:
        self._source = tokenizer.to_str()
        self.pad_id = pad_id
        self._copies: dict[tuple, object] = {}
        steps = json.loads(self._source)
        self.sliceable = all((steps.get(step) or {}).get("type") in kinds for step, kinds in SLICEABLE.items())
        probe = self._tokenizer(None).encode("a")
        inner = len(self._tokenizer(None).encode("a", add_special_tokens=False).ids)
        first = probe.special_tokens_mask.index(0) if 0 in probe.special_tokens_mask else len(probe.ids)
        #: Special tokens around a single text (ids and type ids), e.g. [CLS] before and [SEP] after, and the
        #: type id of the text's own tokens.
        self._before = (probe.ids[:first], probe.type_ids[:first])
        self._after = (probe.ids[first + inner :], probe.type_ids[first + inner :])
        self._text_type = probe.type_ids[first] if inner else 0

    def __getstate__(self) -> dict:  # worker processes get the tokenizer as its JSON text
        return {"_source": self._source, "pad_id": self.pad_id}

    def __setstate__(self, state: dict) -> None:
        from tokenizers import Tokenizer

        self.__init__(Tokenizer.from_str(state["_source"]), state["pad_id"])

    @classmethod
    def from_folder(cls, folder: str | Path) -> WordPieces:
        """The tokenizer of a model folder (its `tokenizer.json`)."""
        from tokenizers import Tokenizer

        folder = Path(folder)
        path = folder / "tokenizer.json"
        if not path.exists():
            raise OSError(f"{folder} has no tokenizer.json (a fast tokenizer is needed)")
        tokenizer = Tokenizer.from_file(str(path))
        settings = {}
        for name in ("special_tokens_map.json", "tokenizer_config.json"):
            if (folder / name).exists():
                settings |= json.loads((folder / name).read_text(encoding="utf-8"))
        pad = settings.get("pad_token")
        pad = pad.get("content") if isinstance(pad, dict) else pad
        pad_id = tokenizer.token_to_id(pad) if pad else None
        return cls(tokenizer, pad_id or 0)

    @classmethod
    def from_transformers(cls, tokenizer) -> WordPieces:
        """The tokenizer inside a transformers fast tokenizer."""
        return cls(tokenizer.backend_tokenizer, tokenizer.pad_token_id or 0)

    def _tokenizer(self, max_length: int | None = None, stride: int = 0, strategy: str = "longest_first"):
        key = (max_length, stride, strategy)
        if key not in self._copies:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_str(self._source)
            tokenizer.no_padding()
            if max_length is None:
                tokenizer.no_truncation()
            else:
                tokenizer.enable_truncation(max_length, stride=stride, strategy=strategy)
            self._copies[key] = tokenizer
        return self._copies[key]

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens in each text, without special tokens and untruncated; in blocks of COUNT_BLOCK texts, so that a
        large file's token ids never pile up."""
        counts = []
        for first in range(0, len(texts), COUNT_BLOCK):
            block = list(texts[first : first + COUNT_BLOCK])
            counts.extend(len(encoding.ids) for encoding in self._tokenizer().encode_batch(block, add_special_tokens=False))
        return counts

    def tokens(self, text: str) -> Tokens:
        """All tokens of `text`, without special tokens, untruncated. A sliceable tokenizer reads a long text in
        pieces of about SEGMENT_CHARS cut at white space (the same tokens), which bounds the memory it takes."""
        parts, first = [], 0
        while first < len(text):
            cut = _WHITE_SPACE.search(text, first + SEGMENT_CHARS) if self.sliceable else None
            last = cut.start() if cut else len(text)
            parts.append(self._segment(text[first:last], first, parts[-1][3].max(initial=-1) + 1 if parts else 0))
            first = last
        return Tokens(*(np.concatenate([part[column] for part in parts]) if parts else np.zeros(0, np.int32)
                        for column in range(4)))

    def _segment(self, text: str, shift: int, first_word: int) -> tuple[np.ndarray, ...]:
        """ids, starts, ends and words of `text`, its offsets shifted by `shift` and its words by `first_word`."""
        encoding = self._tokenizer().encode(text, add_special_tokens=False)
        count = len(encoding.ids)
        offsets = np.fromiter(itertools.chain.from_iterable(encoding.offsets), dtype=np.int32, count=2 * count)
        words = np.fromiter((-1 if word is None else word for word in encoding.word_ids), dtype=np.int32, count=count)
        offsets = offsets.reshape(-1, 2) + shift
        return (np.array(encoding.ids, dtype=np.int32), offsets[:, 0].copy(), offsets[:, 1].copy(),
                np.where(words < 0, -1, words + first_word).astype(np.int32))

    def offsets(self, text: str) -> list[tuple[int, int]]:
        """The character span of each token of `text`, without special tokens, untruncated."""
        return self._tokenizer().encode(text, add_special_tokens=False).offsets

    def batch(self, texts: list[str], max_length: int, tokens: Sequence[TokenSpan | None] = ()) -> Batch:
        """`texts` with special tokens, each cut to `max_length` tokens; a text whose `tokens` are given (by
        `Tokens.window`) is not tokenized again."""
        tokens = list(tokens) or [None] * len(texts)
        missing = [row for row, given in enumerate(tokens) if given is None]
        batch = self._padded(self._tokenizer(max_length).encode_batch([texts[row] for row in missing]), missing)
        given = [row for row, known in enumerate(tokens) if known is not None]
        if not given:
            return batch
        return self._with_tokens(batch, given, [tokens[row] for row in given], len(texts), max_length)

    def _with_tokens(self, encoded: Batch, rows: list[int], tokens: list[TokenSpan], count: int, max_length: int) -> Batch:
        """A batch of `count` texts: rows `rows` built from `tokens` (special tokens around, cut to `max_length`
        in all) the way the tokenizer encodes a single text, in whole arrays; the others from `encoded` (whose
        `rows_of` names their rows)."""
        (before, before_types), (after, after_types) = self._before, self._after
        kept = max(max_length - len(before) - len(after), 0)
        lengths = np.array([min(t.last - t.first, kept) for t in tokens], dtype=np.int64)
        width = max(int(lengths.max()) + len(before) + len(after), encoded.arrays["input_ids"].shape[1])
        columns = np.arange(width)
        body = (columns >= len(before)) & (columns < len(before) + lengths[:, None])
        ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        types = np.zeros((len(rows), width), dtype=np.int64)
        offsets = np.zeros((len(rows), width, 2), dtype=np.int64)
        kept_tokens = [(t.tokens, t.first, t.first + length, t.start) for t, length in zip(tokens, lengths.tolist())]
        ids[body] = np.concatenate([whole.ids[first:last] for whole, first, last, _ in kept_tokens])
        shifts = np.repeat(np.array([start for *_, start in kept_tokens], dtype=np.int64), lengths)
        offsets[body, 0] = np.concatenate([whole.starts[first:last] for whole, first, last, _ in kept_tokens]) - shifts
        offsets[body, 1] = np.concatenate([whole.ends[first:last] for whole, first, last, _ in kept_tokens]) - shifts
        types[body] = self._text_type
        ids[:, : len(before)], types[:, : len(before)] = before, before_types
        for position, (token, token_type) in enumerate(zip(after, after_types)):
            ids[np.arange(len(rows)), len(before) + lengths + position] = token
            types[np.arange(len(rows)), len(before) + lengths + position] = token_type
        mask = (columns < len(before) + lengths[:, None] + len(after)).astype(np.int64)
        batch = Batch({name: np.zeros((count, width), dtype=np.int64) for name in INPUTS},
                      np.zeros((count, width, 2), dtype=np.int64), [[]] * count, list(range(count)))
        batch.arrays["input_ids"].fill(self.pad_id)
        for name, array in zip(INPUTS, (ids, types, mask)):
            batch.arrays[name][rows] = array
        batch.offsets[rows] = offsets
        for row, length in zip(rows, lengths.tolist()):
            batch.sequence_ids[row] = [None] * len(before) + [0] * length + [None] * len(after)
        old_width = encoded.arrays["input_ids"].shape[1]
        for name in INPUTS:
            batch.arrays[name][encoded.rows_of, :old_width] = encoded.arrays[name]
        batch.offsets[encoded.rows_of, :old_width] = encoded.offsets
        for position, row in enumerate(encoded.rows_of):
            batch.sequence_ids[row] = encoded.sequence_ids[position]
        return batch

    def windows(self, question: str, texts: list[str], max_length: int, stride: int) -> Batch:
        """(question, text) pairs; a text too long for one window of `max_length` tokens continues in further
        windows that repeat `stride` tokens of the one before."""
        encodings = self._tokenizer(max_length, stride, "only_second").encode_batch([(question, text) for text in texts])
        flat = [window for encoding in encodings for window in (encoding, *encoding.overflowing)]
        return self._padded(flat, [index for index, encoding in enumerate(encodings) for _ in range(1 + len(encoding.overflowing))])

    def _padded(self, flat: list, rows_of: list[int]) -> Batch:
        """The windows `flat` as one padded batch; `rows_of[i]`: the input window i came from."""
        width = max((len(window.ids) for window in flat), default=0)
        arrays = {name: np.zeros((len(flat), width), dtype=np.int64) for name in INPUTS}
        arrays["input_ids"].fill(self.pad_id)
        offsets = np.zeros((len(flat), width, 2), dtype=np.int64)
        for row, window in enumerate(flat):
            length = len(window.ids)
            arrays["input_ids"][row, :length] = window.ids
            arrays["token_type_ids"][row, :length] = window.type_ids
            arrays["attention_mask"][row, :length] = window.attention_mask
            if length:
                offsets[row, :length] = window.offsets
        return Batch(arrays, offsets, [window.sequence_ids for window in flat], rows_of)
