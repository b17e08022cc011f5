"""Gaps: what a question asks about that the text read for it lacks (a number, a name, a negation), evidence
that the documents do not answer it however well a span fits."""

from __future__ import annotations

import re
from dataclasses import astuple, dataclass

from index.terms import STOPWORDS

_WORD = re.compile(r"\w+")
#: Digits, with the commas and points inside them ("1,850", "3.5"); compared without the commas.
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
#: A capitalized word that does not start the question: most often a name.
_NAME = re.compile(r"(?<=\W)[A-Z][\w-]*")
NEGATIONS = frozenset({"not", "never", "no", "none", "nothing", "neither", "nor", "without", "cannot"})


def _numbers(text: str) -> set[str]:
    return {number.replace(",", "") for number in _NUMBER.findall(text)}


def _known(word: str, known: set[str]) -> bool:
    """True when `word` or a word of `known` is the other's start ("Armenia", "Armenian"), both of 4 letters
    or more, or equal."""
    return word in known or any(
        other.startswith(word) or word.startswith(other) for other in known if min(len(word), len(other)) >= 4
    )


def _negative(text: str) -> bool:
    return not NEGATIONS.isdisjoint(_WORD.findall(text.lower().replace("n't", " not")))


@dataclass(frozen=True)
class Gaps:
    """1.0 where the question holds something the text read for it does not, else 0.0: `number`, a number
    that the window around the span lacks; `name`, a capitalized word (not the question's first, nor a
    function word such as "I" or "The") that neither the span's passage nor its document's title holds, not
    even as the start of a word ("Armenia" of "Armenian") or its own start; `negation`, a "not", "never",
    "n't" ... where the window says none."""

    number: float
    name: float
    negation: float

    @classmethod
    def between(cls, question: str, window: str, passage: str, title: str = "") -> Gaps:
        known = set(_WORD.findall(f"{passage} {title}".lower()))
        names = {word for name in _NAME.findall(question) for word in _WORD.findall(name.lower())} - STOPWORDS
        return cls(
            number=float(bool(_numbers(question) - _numbers(window))),
            name=float(any(not _known(word, known) for word in names)),
            negation=float(_negative(question) and not _negative(window)),
        )

    def values(self) -> list[float]:
        """The gaps in field order (`number`, `name`, `negation`), as the found score weighs them."""
        return list(astuple(self))
