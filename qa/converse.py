"""Query and Expander: a follow-up question plus the salient words of the turns before it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.store import Store
from index.terms import STOPWORDS, terms

#: The answer text of a turn that found nothing (qa.read.NOT_FOUND; repeated here, qa.read imports this module).
NOT_FOUND = "The documents don't say."

_WORD = re.compile(r"[A-Za-z][\w'-]*|\d[\d,.]*")
#: Words that point back to an earlier turn, and openings of elliptical follow-ups ("And Russia?").
_REFERS_BACK = re.compile(
    r"\b(it|its|itself|they|them|their|theirs|he|him|his|she|her|hers|this|that|these|those|there|then|"
    r"the same|such)\b|^\s*(and|but|so|also|what about|how about|why|when|where|who|how)\b[^?]{0,12}\??\s*$|^\s*(and|what about|how about)\b",
    re.IGNORECASE,
)


def refers_back(question: str) -> bool:
    """True for a question that needs an earlier turn: a pronoun or demonstrative ("When was it founded?"),
    an elliptical opening ("And Russia?", "What about Iran?") or a bare question word ("Why?")."""
    return bool(_REFERS_BACK.search(question))


@dataclass(frozen=True)
class Query:
    """How a question was understood: `text` is what was searched, the question plus `added` words."""

    question: str
    added: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return " ".join((self.question, *self.added))


class Expander:
    """Adds to a question the salient words of the last `turns` turns that it lacks, at most `max_words`:
    the content words of earlier questions and the capitalized words (names) of earlier answers, the
    latest turn first, rarer words (IDF in the index) before commoner ones (history-aware query expansion,
    after QuReTeC). Only a question that refers back (`refers_back`) is expanded, and answers that found
    nothing add nothing, so a standalone question after unrelated turns is searched as asked."""

    def __init__(self, store: Store, max_words: int = 8, turns: int = 2) -> None:
        self.store = store
        self.max_words = max_words
        self.turns = turns

    def expand(self, question: str, history: list[tuple[str, str]] | None) -> Query:
        if not history or not refers_back(question):
            return Query(question)
        asked = set(terms(question))
        weight_of: dict[str, tuple[float, str]] = {}  # stem -> (weight, word as written)
        for age, (earlier_question, earlier_answer) in enumerate(reversed((history or [])[-self.turns :])):
            recency = 1.0 / (1 + age)
            sources = [(earlier_question, False)]
            if earlier_answer and earlier_answer != NOT_FOUND:
                sources.append((earlier_answer, True))
            for source, names_only in sources:
                for word in _WORD.findall(source):
                    stems = terms(word)
                    if not stems or stems[0] in asked or word.lower() in STOPWORDS:
                        continue
                    if names_only and not word[0].isupper():
                        continue
                    if recency > weight_of.get(stems[0], (0.0, ""))[0]:
                        weight_of[stems[0]] = (recency, word.rstrip(".,"))
        if not weight_of:
            return Query(question)
        stems = sorted(weight_of)
        idf = dict(zip(stems, self.store.idf(stems).tolist()))
        ranked = sorted(stems, key=lambda stem: (-weight_of[stem][0], -idf[stem]))
        return Query(question, tuple(weight_of[stem][1] for stem in ranked[: self.max_words]))
