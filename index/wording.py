"""Wording shared by the messages people read."""


def counted(number: int, noun: str) -> str:
    """`number` with `noun`, plural unless the number is one: "1 document", "3 documents"."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
