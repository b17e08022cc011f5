"""WordPieces: a model's own tokenizer run by the `tokenizers` library alone (no transformers, no PyTorch): token
counts, padded batches with character offsets, and question/text pairs cut into overlapping windows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: The arrays a batch holds, as transformers names them.
INPUTS = ("input_ids", "token_type_ids", "attention_mask")


def length_sorted_batches(texts: list[str], size: int) -> list[np.ndarray]:
    """The indices of `texts` in batches of `size`, longest texts first: batches of similar lengths pad little."""
    order = np.argsort([-len(text) for text in texts], kind="stable")
    return [order[first : first + size] for first in range(0, len(texts), size)]


@dataclass
class Batch:
    """Token arrays padded to the longest row (INPUTS, int64), each row's `[start, end)` character offsets
    ((0, 0) for special and padding tokens), which sequence each token belongs to (None, 0 or 1), and which
    input each row came from (a long pair gives several windows)."""

    arrays: dict[str, np.ndarray]
    offsets: list[list[tuple[int, int]]]
    sequence_ids: list[list[int | None]]
    rows_of: list[int]


class WordPieces:
    """A `tokenizers.Tokenizer` with its padding token; each truncation setting gets its own copy, so calls
    never change each other's settings."""

    def __init__(self, tokenizer, pad_id: int) -> None:
        self._source = tokenizer.to_str()
        self.pad_id = pad_id
        self._copies: dict[tuple, object] = {}

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

    def count(self, texts: list[str]) -> list[int]:
        """Tokens in each text, without special tokens and untruncated."""
        return [len(encoding.ids) for encoding in self._tokenizer().encode_batch(texts, add_special_tokens=False)]

    def offsets(self, text: str) -> list[tuple[int, int]]:
        """The character span of each token of `text`, without special tokens, untruncated."""
        return self._tokenizer().encode(text, add_special_tokens=False).offsets

    def batch(self, texts: list[str], max_length: int) -> Batch:
        """`texts` with special tokens, each cut to `max_length` tokens."""
        return self._padded(self._tokenizer(max_length).encode_batch(texts), list(range(len(texts))))

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
        for row, window in enumerate(flat):
            length = len(window.ids)
            arrays["input_ids"][row, :length] = window.ids
            arrays["token_type_ids"][row, :length] = window.type_ids
            arrays["attention_mask"][row, :length] = window.attention_mask
        return Batch(arrays, [window.offsets for window in flat], [window.sequence_ids for window in flat], rows_of)
