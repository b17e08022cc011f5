"""Terms: the lowercased, stemmed content words that BM25 and lexical evidence count; PassageTerms, a few
texts' terms in whole arrays; TermIds, the terms of every chunk as ids into one vocabulary, as BM25 indexes them;
and ChunkTerms, those ids as an index keeps them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import Stemmer

#: Function words, question words included: they say little about which passage holds an answer.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is isn it its itself just me
    more most my myself no nor not of off on once only or other our ours ourselves out over own s same
    she should so some such t than that the their theirs them themselves then there these they this
    those through to too under until up very was we were what when where which while who whom whose
    why will with would you your yours yourself yourselves also may might must shall one ones get got
    did does done many much""".split()
)
_WORD = re.compile(r"\w+")


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def terms(text: str) -> list[str]:
    """Stemmed content words of `text`, in order, repeats kept."""
    words = [word for word in _WORD.findall(text.lower()) if word not in STOPWORDS]
    return _stemmer().stemWords(words)


@dataclass(frozen=True)
class PassageTerms:
    """The terms of a few texts (a document's passages): the distinct ones (`words`), every term as an index into
    them (`ids`, int32, text after text) and how many terms each text has (`counts`). A worker process makes them,
    so that the build's own process looks up each distinct word of a document once, not every word."""

    words: list[str]
    ids: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, texts: Iterable[str]) -> PassageTerms:
        """The terms of `texts`, in order."""
        vocabulary: dict[str, int] = {}
        ids: list[int] = []
        counts: list[int] = []
        for text in texts:
            found = terms(text)
            counts.append(len(found))
            ids.extend(vocabulary.setdefault(word, len(vocabulary)) for word in found)
        return cls(list(vocabulary), np.array(ids, dtype=np.int32), np.array(counts, dtype=np.int32))


class TermIds:
    """Chunks' terms as ids into one vocabulary (`vocab`) that grows as chunks are added (id 0 is the empty term,
    which scores nothing). bm25s indexes an object with `vocab` and `ids`; here `ids` are every chunk's term ids in
    one array and the number of terms of each chunk (index.lexical reads them)."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {"": 0}
        self._ids: list[np.ndarray] = []
        self._counts: list[np.ndarray] = []

    def add(self, passages: PassageTerms) -> None:
        """The next chunks' terms."""
        vocabulary = self.vocab
        known = np.fromiter((vocabulary.setdefault(word, len(vocabulary)) for word in passages.words),
                            dtype=np.int32, count=len(passages.words))
        self._ids.append(known[passages.ids])
        self._counts.append(passages.counts)

    @property
    def ids(self) -> tuple[np.ndarray, np.ndarray]:
        """(every term id, chunk after chunk; the number of terms of each chunk)."""
        none = np.zeros(0, dtype=np.int32)
        return np.concatenate([none, *self._ids]), np.concatenate([none, *self._counts])


@dataclass(frozen=True)
class ChunkTerms:
    """Every chunk's term ids (`ids`, chunk after chunk) into `vocabulary`, and each chunk's number of terms: what an
    index keeps, so that a later build takes an unchanged document's terms from it instead of finding them again."""

    vocabulary: dict[str, int]
    ids: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, term_ids: TermIds) -> ChunkTerms:
        return cls(term_ids.vocab, *term_ids.ids)

    @cached_property
    def _starts(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.counts, dtype=np.int64)])

    @cached_property
    def _words(self) -> list[str]:
        words = [""] * len(self.vocabulary)
        for word, number in self.vocabulary.items():
            words[number] = word
        return words

    def passages(self, rows: list[int]) -> PassageTerms:
        """The terms of chunks `rows`, as PassageTerms."""
        starts = self._starts
        found = np.concatenate([np.zeros(0, dtype=np.int32), *(self.ids[starts[row] : starts[row + 1]] for row in rows)])
        distinct, ids = np.unique(found, return_inverse=True)
        return PassageTerms([self._words[number] for number in distinct.tolist()], ids.astype(np.int32),
                            np.asarray(self.counts[rows], dtype=np.int32))
