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
    """Adds to a question that refers back (`refers_back`) the salient words it lacks from the turns since
    the last question that set the topic (one that did not refer back), at most `turns` turns and
    `max_words` words: the content words of those questions first (the topic-setting question's before the
    others), then the capitalized words (names) of their answers, rarer words (IDF in the index) first
    (history-aware query expansion, after QuReTeC). Answers that found nothing add nothing, and a question
    that doesn't refer back is searched as asked, so unrelated earlier turns can't pull it off course."""

    def __init__(self, store: Store, max_words: int = 8, turns: int = 3) -> None:
        self.store = store
        self.max_words = max_words
        self.turns = turns

    def expand(self, question: str, history: list[tuple[str, str]] | None) -> Query:
        if not history or not refers_back(question):
            return Query(question)
        turns = []
        for earlier_question, earlier_answer in reversed(history[-self.turns :]):
            turns.append((earlier_question, earlier_answer))
            if not refers_back(earlier_question):
                break  # the turn that set the topic
        asked = set(terms(question))
        rank_of: dict[str, tuple[int, str]] = {}  # stem -> (rank of its source, word as written)
        sources = [(q, 0 if i == len(turns) - 1 else 1, False) for i, (q, _) in enumerate(turns)]
        sources += [(a, 2, True) for _, a in turns if a and a != NOT_FOUND]
        for source, rank, names_only in sources:
            for word in _WORD.findall(source):
                stems = terms(word)
                if not stems or stems[0] in asked or word.lower() in STOPWORDS:
                    continue
                if names_only and not word[0].isupper():
                    continue
                if rank < rank_of.get(stems[0], (3, ""))[0]:
                    rank_of[stems[0]] = (rank, word.rstrip(".,"))
        if not rank_of:
            return Query(question)
        stems = sorted(rank_of)
        idf = dict(zip(stems, self.store.idf(stems).tolist()))
        ranked = sorted(stems, key=lambda stem: (rank_of[stem][0], -idf[stem]))
        return Query(question, tuple(rank_of[stem][1] for stem in ranked[: self.max_words]))
