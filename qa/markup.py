"""Markup in an answer: Markdown's code fences, backticks and links, a console's prompts and output."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from index.chunking import FENCE_LINE, code_blocks

_LINE = re.compile(r"[^\n]+")
_INLINE_CODE = re.compile(r"(`+)([^`]+)\1")
_BACKTICKS = re.compile(r"`+")
#: A console's prompt before a command: "$ pip install x", ">>> import x".
_PROMPT = re.compile(r"[ \t]*(?:\$|>>>)[ \t]+")
#: An autolink of Markdown, "<https://example.org>", and the rest of a link from inside its text: "tracker](url)".
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^\s<>]+)>")
_LINK_REST = re.compile(r"[^\[\]\n]*\]\([^()\s]*\)")
#: A line that is a shell or Python comment, or a Markdown heading.
_HASH_LINE = re.compile(r"[ \t]*#+[ \t]")
#: A comment at the end of a line of shell or Python code.
_COMMENT = re.compile(r"[ \t]+#[ \t][^\n]*$", re.MULTILINE)


def is_markup(text: str, start: int, end: int) -> bool:
    """True when `text[start:end]` holds no letter or digit ("###", "*") or lies in code fence lines alone (the
    "python" of "```python", an empty block's "```yaml\n```")."""
    if not any(character.isalnum() for character in text[start:end]):
        return True
    lines = [_line_around(text, line.start()) for line in _LINE.finditer(text, start, end)]
    return all(FENCE_LINE.fullmatch(text, *line) for line in lines)


def _line_around(text: str, at: int) -> tuple[int, int]:
    """The `[start, end)` span of the line of `text` that holds position `at`."""
    end = text.find("\n", at)
    return text.rfind("\n", 0, at) + 1, len(text) if end < 0 else end


def is_code(text: str) -> bool:
    """True when `text` is code: a fenced block or a console transcript (with more than fences in it), or lines
    all indented by 4 or more."""
    lines = [line for line in text.strip("\n").split("\n") if line.strip()]
    if not lines or all(FENCE_LINE.fullmatch(line) for line in lines):
        return False
    return bool(FENCE_LINE.fullmatch(lines[0]) or _PROMPT.match(lines[0])) or all(
        line.startswith(("    ", "\t")) for line in lines)


@dataclass(frozen=True)
class Code:
    """Where a document's code is: `blocks` holds the `[start, end)` spans of the fenced code blocks of `text`, in
    order (`index.chunking.code_blocks`: an unclosed fence is no block)."""

    text: str
    blocks: list[tuple[int, int]]

    @classmethod
    def of(cls, text: str) -> Code:
        return cls(text, code_blocks(text))

    def holds(self, at: int) -> bool:
        """True when position `at` is on a console's command line or inside a fenced code block."""
        line_start = _line_around(self.text, at)[0]
        block = bisect_right(self.blocks, (at, len(self.text))) - 1
        return bool(_PROMPT.match(self.text, line_start)) or (block >= 0 and at < self.blocks[block][1])

    def whole_lines(self, start: int, end: int) -> tuple[int, int]:
        """A span in code grown to the whole lines it touches, without a comment that ends its last line of code
        (a closing fence aside), nor what follows that comment ("pip install 'httpx[cli]'  # optional"): part of
        a command or a statement is no answer. Others as they are."""
        if end <= start or not (self.holds(start) or self.holds(end - 1)):
            return start, end
        first, (last_line, last) = _line_around(self.text, start)[0], _line_around(self.text, end - 1)
        code_end = last
        while last_line > first and FENCE_LINE.fullmatch(self.text, last_line, code_end):  # a closing fence
            last_line, code_end = _line_around(self.text, last_line - 1)
        comment = _COMMENT.search(self.text, last_line, code_end)
        if comment and comment.start() > first and not _quoted(self.text[last_line : comment.start()]):
            last = comment.start()
        return _stripped(self.text, first, last)


def _quoted(line: str) -> bool:
    """True when the end of `line` is inside a quoted string ("grep -rn ' # TODO'": no comment starts there)."""
    return line.count("'") % 2 == 1 or line.count('"') % 2 == 1


def tidied(text: str, start: int, end: int) -> tuple[int, int]:
    """`[start, end)` with the links and inline code it cuts made whole (`_completed`), then without the marks
    around code at its ends: code fence lines (or what of them it holds: the "python" of "```python"), comment
    or heading lines ("# Install with:") while other lines are left, the white space around what is left, the
    backticks of inline code that is all of it ("`make`") or that it cuts ("FILE`"), and a console's prompt and
    output (`_commands`). Unchanged when only marks are left."""
    start, end = _completed(text, start, end)
    lines = [line.span() for line in _LINE.finditer(text, start, end)]
    while lines and FENCE_LINE.fullmatch(text, *_line_around(text, lines[0][0])):
        lines.pop(0)
    while lines and FENCE_LINE.fullmatch(text, *_line_around(text, lines[-1][0])):
        lines.pop()
    if not lines:
        return start, end
    while len(lines) > 1 and _HASH_LINE.match(text, lines[0][0]):  # a comment or a heading over the code
        lines.pop(0)
    while len(lines) > 1 and _HASH_LINE.match(text, lines[-1][0]):
        lines.pop()
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


def _completed(text: str, start: int, end: int) -> tuple[int, int]:
    """A span that cuts a Markdown link ("post questions in the [issue tracker") grown to the link's end, its
    target with it ("...(https://github.com/openai/tiktoken/issues)"), and one that cuts inline code ("use `pip
    install") to the code's closing backticks; an autolink ("<https://...>") without its angle brackets."""
    autolink = _AUTOLINK.fullmatch(text, start, end)
    if autolink:
        return autolink.span(1)
    opened = text.rfind("[", start, end)
    if opened >= 0 and "]" not in text[opened:end]:
        link = _LINK_REST.match(text, end)
        if link:
            return start, link.end()
    marks = list(_BACKTICKS.finditer(text, start, end))
    if len(marks) % 2 == 1 and marks[-1].end() < end:  # the last mark opens code that the span cuts
        code_rest = re.compile(r"[^`\n]*" + re.escape(marks[-1].group())).match(text, end)
        if code_rest:
            return start, code_rest.end()
    return start, end


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
