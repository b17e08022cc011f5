"""Query and Expander: a follow-up question plus the salient words of the turns before it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.store import Store
from index.terms import STOPWORDS, terms

#: What a not-found answer says (defined here because qa.read imports this module).
NOT_FOUND = "The documents don't say."

_WORD = re.compile(r"[A-Za-z][\w'-]*|\d[\d,.]*")
#: Words that point back to an earlier turn, and openings of elliptical follow-ups ("And Russia?").
_REFERS_BACK = re.compile(
    r"\b(it|its|itself|they|them|their|theirs|he|him|his|she|her|hers|this|that|these|those|there|then|"
    r"the same|such)\b|^\s*(and|but|so|also|what about|how about|why|when|where|who|how)\b[^?]{0,12}\??\s*$|^\s*(and|what about|how about)\b",
    re.IGNORECASE,
)

#: A follow-up that asks the same of something else, named in a few words ("And the UK?", "What about Apollo 12?").
_SAME_OF_ANOTHER = re.compile(r"^\s*(?:and|what about|how about)\s+([^?]{1,40}?)\s*\??\s*$", re.IGNORECASE)
#: Words that make "And ..." a question of its own ("And when was it founded?"), not a thing put in another's place.
_ASKS_ITSELF = frozenset("when what who whom whose where why how which did does do is was were are has have had can "
                         "could will would it its he she they him her them this that".split())

#: "that" after a noun phrase ("the program that followed"): a relative pronoun, not one that points back.
_RELATIVE_THAT = re.compile(r"(\b(?:the|a|an)\s+[\w-]+\s+)that\b", re.IGNORECASE)


def refers_back(question: str) -> bool:
    """True for a question that needs an earlier turn: a pronoun or demonstrative ("When was it founded?"),
    an elliptical opening ("And Russia?", "What about Iran?") or at most one content word ("On what date?")."""
    without_relatives = _RELATIVE_THAT.sub(r"\1", question)  # "the program that followed X" points nowhere
    return bool(_REFERS_BACK.search(without_relatives)) or len(set(terms(question))) <= 1


@dataclass(frozen=True)
class Query:
    """How a question was understood: `text` is what was searched, the question plus `added` words."""

    question: str
    added: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return " ".join((self.question, *self.added))


class Expander:
    """Adds to a question that refers back (`refers_back`) the content words it lacks from the questions
    since the last one that set the topic (one that did not refer back), at most `turns` turns and
    `max_words` words: the topic-setting question's words first, rarer words (IDF in the index) first
    (history-aware query expansion, after QuReTeC). Earlier answers add nothing: their other names pulled
    the search away more often than they helped. A question that doesn't refer back is searched as asked,
    so unrelated earlier turns can't pull it off course."""

    def __init__(self, store: Store, max_words: int = 8, turns: int = 3) -> None:
        self.store = store
        self.max_words = max_words
        self.turns = turns

    def expand(self, question: str, history: list[tuple[str, str]] | None) -> Query:
        if not history or not refers_back(question):
            return Query(question)
        earlier = []
        for earlier_question, _ in reversed(history[-self.turns :]):
            earlier.append(earlier_question)
            if not refers_back(earlier_question):
                break  # the question that set the topic
        asked = set(terms(question))
        # "And the UK?" puts the UK in the place of the earlier questions' names and numbers: they are left out.
        replaced = _replaces_names(question)
        rank_of: dict[str, tuple[int, str]] = {}  # stem -> (0 for the topic-setting question, else 1; word)
        for position, source in enumerate(earlier):
            rank = 0 if position == len(earlier) - 1 else 1
            for index, word in enumerate(_WORD.findall(source)):
                if replaced and index and _names(word):
                    continue
                stems = terms(word)
                if stems and stems[0] not in asked and word.lower() not in STOPWORDS:
                    if rank < rank_of.get(stems[0], (2, ""))[0]:
                        rank_of[stems[0]] = (rank, word.rstrip(".,"))
        if not rank_of:
            return Query(question)
        stems = sorted(rank_of)
        idf = dict(zip(stems, self.store.idf(stems).tolist()))
        ranked = sorted(stems, key=lambda stem: (rank_of[stem][0], -idf[stem]))
        return Query(question, tuple(rank_of[stem][1] for stem in ranked[: self.max_words]))


def _replaces_names(question: str) -> bool:
    """True for "And the UK?" or "What about Apollo 12?": a few words that name something else, in the place of
    what the earlier questions named."""
    same = _SAME_OF_ANOTHER.match(question)
    words = _WORD.findall(same.group(1)) if same else []
    return 0 < len(words) <= 4 and not {word.lower() for word in words} & _ASKS_ITSELF and any(map(_names, words))


def _names(word: str) -> bool:
    """True for a word that names something or counts: capitalized ("UK", "Apollo") or a number ("12")."""
    return word[0].isupper() or word[0].isdigit()
