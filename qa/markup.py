"""Markup around code in an answer: Markdown's code fences and backticks, a console's prompts and output."""

from __future__ import annotations

import re

#: A code fence's line ("```", "```bash", "~~~"), which is no part of the code it holds.
_FENCE_LINE = re.compile(r"[ \t]*(?:`{3,}|~{3,})[^`\n]*")
_LINE = re.compile(r"[^\n]+")
_INLINE_CODE = re.compile(r"(`+)([^`]+)\1")
_BACKTICKS = re.compile(r"`+")
#: A console's prompt before a command: "$ pip install x", ">>> import x".
_PROMPT = re.compile(r"[ \t]*(?:\$|>>>)[ \t]+")


def is_markup(text: str, start: int, end: int) -> bool:
    """True when `text[start:end]` holds no letter or digit ("###", "*") or lies in a code fence's line (the
    "python" of "```python")."""
    if not any(character.isalnum() for character in text[start:end]):
        return True
    line_start, line_end = _line_around(text, start)
    return end <= line_end and bool(_FENCE_LINE.fullmatch(text, line_start, line_end))


def _line_around(text: str, at: int) -> tuple[int, int]:
    """The `[start, end)` span of the line of `text` that holds position `at`."""
    end = text.find("\n", at)
    return text.rfind("\n", 0, at) + 1, len(text) if end < 0 else end


def without_code_marks(text: str, start: int, end: int) -> tuple[int, int]:
    """`[start, end)` without the Markdown marks around code at its ends: code fence lines (or what of them it
    holds: the "python" of "```python"), then the white space around what is left, then the backticks of inline
    code that is all of it ("`make`") or that it cuts ("FILE`"), then a console's prompt and output
    (`_commands`). Unchanged when only marks are left."""
    lines = [line.span() for line in _LINE.finditer(text, start, end)]
    while lines and _FENCE_LINE.fullmatch(text, *_line_around(text, lines[0][0])):
        lines.pop(0)
    while lines and _FENCE_LINE.fullmatch(text, *_line_around(text, lines[-1][0])):
        lines.pop()
    if not lines:
        return start, end
    first, last = _stripped(text, lines[0][0], lines[-1][1])
    quoted = _INLINE_CODE.fullmatch(text, first, last)
    if quoted:
        return quoted.span(2)
    marks = [mark.span() for mark in _BACKTICKS.finditer(text, first, last)]
    if len(marks) == 1 and marks[0][0] == first and marks[0][1] < last:  # "`zstd -D name FILE": opened, not closed
        first = marks[0][1]
    elif len(marks) == 1 and marks[0][1] == last and marks[0][0] > first:  # closed, not opened
        last = marks[0][0]
    return _commands(text, *_stripped(text, first, last))


def _commands(text: str, start: int, end: int) -> tuple[int, int]:
    """In a console transcript (`[start, end)` starts with a prompt, "$ " or ">>> "), its commands without the
    output after the last one (a line that ends with a backslash goes on to the next), and without the prompt
    when there is one command; anything else as it is."""
    lines = [line.span() for line in _LINE.finditer(text, start, end)]
    prompt = _PROMPT.match(text, start)
    if not prompt:
        return start, end
    commands = [number for number, (first, _) in enumerate(lines) if _PROMPT.match(text, first)]
    last = commands[-1]
    while last + 1 < len(lines) and text[lines[last][0] : lines[last][1]].rstrip().endswith("\\"):
        last += 1
    return (prompt.end() if len(commands) == 1 else start), lines[last][1]


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    """`[start, end)` without the white space at its ends."""
    inside = text[start:end]
    return start + len(inside) - len(inside.lstrip()), end - len(inside) + len(inside.rstrip())
