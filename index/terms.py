"""Terms: the lowercased, stemmed content words that BM25 and lexical evidence count, and TermIds, their ids
as BM25 indexes them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

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


class TermIds:
    """Chunks' terms as ids into one vocabulary that grows as chunks are added (id 0 is the empty term, which
    scores nothing): what bm25s indexes, a list of shared ints per chunk instead of a list of new strings."""

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {"": 0}
        self.ids: list[list[int]] = []

    def add(self, words: Iterable[str]) -> None:
        """The next chunk's terms."""
        vocabulary = self.vocabulary
        self.ids.append([vocabulary.setdefault(word, len(vocabulary)) for word in words])
