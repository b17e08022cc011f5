"""Readers: the visible text of each supported file type, and a PDF's page ranges."""

from __future__ import annotations

import codecs
import io
import logging
import re
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, replace
from html.parser import HTMLParser


@dataclass(frozen=True)
class Extracted:
    """What a reader got from a file; `pages[i]` is page i+1's `[start, end)` range in `text`."""

    text: str
    title: str | None = None
    pages: tuple[tuple[int, int], ...] = ()
    note: str = ""  # a warning worth showing, e.g. a fallback encoding


class Unreadable(Exception):
    """A file that can't be indexed; the message says why."""


#: Byte-order marks of the Unicode encodings other than UTF-8 (UTF-32 first: its little-endian mark begins with
#: UTF-16's), as Windows Notepad's "Unicode" writes them.
BYTE_ORDER_MARKS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def read_text(data: bytes) -> Extracted:
    """UTF-8 text (a byte-order mark is dropped), or UTF-16 or UTF-32 text that starts with its byte-order mark;
    other bytes are decoded as Windows-1252 and flagged."""
    for mark, encoding in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            try:
                return Extracted(_lines(data.decode(encoding)))
            except UnicodeDecodeError as error:
                raise Unreadable(f"damaged {encoding.upper()} text ({error.reason} at byte {error.start})") from None
    if b"\x00" in data[:8192]:
        raise Unreadable("binary file (it holds NUL bytes), not text")
    try:
        return Extracted(_lines(data.decode("utf-8-sig")))
    except UnicodeDecodeError as error:
        note = f"not UTF-8 ({error.reason} at byte {error.start}): decoded as Windows-1252"
        return Extracted(_lines(data.decode("cp1252", errors="replace")), note=note)


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def title_of(text: str, fallback: str) -> str:
    """The first non-empty line of `text` (a Markdown heading without its "#" marks), or `fallback` when there is
    none."""
    for line in text.splitlines():
        heading = line.strip().lstrip("#").strip()
        if heading:
            return heading
    return fallback


#: YAML front matter at the top of a Markdown file, and its title field.
_FRONT_MATTER = re.compile(r"---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|$)", re.DOTALL)
_TITLE_FIELD = re.compile(r"^title:[ \t]*(.+?)[ \t]*$", re.MULTILINE)


#: A level-1 heading: "# Title", "Title" over "=====", or an HTML <h1> block.
_H1 = re.compile(r"^ {0,3}#[ \t]+(.+?)[ \t#]*$|^ {0,3}(\S[^\n]*)\n {0,3}=+[ \t]*$|<h1\b[^>]*>(.*?)</h1>",
                 re.MULTILINE | re.DOTALL | re.IGNORECASE)
_BADGE = re.compile(r"\[!\[[^\]]*\]\([^)]*\)\]\([^)]*\)")  # a linked image: a build badge, say
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_ALT = re.compile(r"<img\b[^>]*\balt=[\"']([^\"']*)[\"'][^>]*>", re.IGNORECASE)


def read_markdown(data: bytes) -> Extracted:
    """Markdown as text; the title is the front matter's `title:` field, else the first level-1 heading, else
    the first line with words once markup is left out (badges, images, HTML; the front matter stays in the
    text: its dates and authors can be asked about)."""
    extracted = read_text(data)
    front = _FRONT_MATTER.match(extracted.text)
    field = _TITLE_FIELD.search(front.group(1)) if front else None
    title = field.group(1).strip("\"'") if field else ""
    return replace(extracted, title=title or _markdown_title(extracted.text[front.end() if front else 0 :]) or None)


def _markdown_title(text: str) -> str:
    """The first level-1 heading's words (an image in it gives its alt text), else the first line that has words
    once images, link targets, HTML tags and emphasis are left out ("" when none has)."""
    heading = _H1.search(text)
    if heading:
        words = _words_of(next(group for group in heading.groups() if group is not None), images=True)
        if words:
            return words
    for line in text.splitlines():
        if not line.lstrip().startswith("|"):  # a table row
            words = _words_of(line.strip().lstrip("#"), images=False)
            if words:
                return words
    return ""


def _words_of(markdown: str, images: bool) -> str:
    """The words a reader sees in a line of Markdown: images give their alt text (with `images`) or nothing,
    links their text; badges (linked images), HTML tags, emphasis and code marks go."""
    markdown = _BADGE.sub("", markdown)
    markdown = _ALT.sub(lambda alt: alt.group(1) if images else "", markdown)
    markdown = _IMAGE.sub(lambda image: image.group(1) if images else "", markdown)
    markdown = re.sub(r"<[^>]+>", " ", _LINK.sub(r"\1", markdown))
    return " ".join(re.sub(r"[*_`]+", "", markdown).split()).strip(" -=#")


class _VisibleText(HTMLParser):
    """Collects the text a browser shows: no scripts, styles or markup; blocks become paragraphs, <br> a line
    break, and a table row's cells are kept apart by " | "."""

    HIDDEN = {"script", "style", "head", "template", "noscript", "svg"}
    BLOCKS = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
              "header", "footer", "blockquote", "pre", "table", "ul", "ol", "dd", "dt", "hr"}
    CELLS = frozenset({"td", "th"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self.hidden = 0
        self.in_title = False
        self.cells = 0  # cells begun in the current table row

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        self.in_title = self.in_title or tag == "title"
        if tag in self.BLOCKS:
            self.parts.append("\n\n")
        if tag == "tr":
            self.cells = 0
        elif tag in self.CELLS:
            self.parts.append(" | " if self.cells else "")
            self.cells += 1
        elif tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1
        if tag == "title":
            self.in_title = False
        if tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        elif not self.hidden:
            self.parts.append(re.sub(r"\s+", " ", data))


def read_html(data: bytes) -> Extracted:
    """The visible text of an HTML page; its <title>, when it has one."""
    parser = _VisibleText()
    parser.feed(read_text(data).text)
    parser.close()
    title = " ".join("".join(parser.title).split()) or None
    return Extracted(_paragraphs("".join(parser.parts)), title)


def _paragraphs(text: str) -> str:
    """`text` as paragraphs kept apart by one blank line, each of lines with single spaces and no empty line."""
    paragraphs = []
    for block in text.split("\n\n"):
        lines = (" ".join(line.split()) for line in block.split("\n"))
        paragraphs.append("\n".join(line for line in lines if line))
    return "\n\n".join(p for p in paragraphs if p)


@contextmanager
def _quiet(logger: str):
    """Only errors of `logger` reach standard error meanwhile: what is wrong with a file is said once, by us."""
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def read_pdf(data: bytes) -> Extracted:
    """The text of every page without its running header and footer (see `_running_lines`), with each page's
    character range; pages are kept apart by a line break, so that a sentence goes on across them. The title is
    the PDF's own, when it has a real one."""
    import pypdf

    try:
        with _quiet("pypdf"):
            pdf = pypdf.PdfReader(io.BytesIO(data))
            if pdf.is_encrypted and not pdf.decrypt(""):
                raise Unreadable("encrypted PDF: save an unencrypted copy to index it")
            texts = [_lines(page.extract_text() or "").strip() for page in pdf.pages]
            title = _pdf_title(pdf)
    except Unreadable:
        raise
    except Exception as error:  # pypdf raises many kinds on damaged files
        raise Unreadable(f"damaged PDF ({type(error).__name__}: {error})") from None
    pages, parts, position = [], [], 0
    for text in _dehyphenated(_without_running_lines(texts)):
        pages.append((position, position + len(text)))
        parts.append(text)
        position += len(text) + 1
    return Extracted("\n".join(parts), title, pages=tuple(pages))


def _pdf_title(pdf) -> str | None:
    """The PDF's title field, unless it is empty, "untitled" or a file name (what some writers put there)."""
    try:
        title = " ".join(str((pdf.metadata or {}).get("/Title") or "").split())
    except Exception:  # a damaged information dictionary  # noqa: BLE001
        return None
    junk = not title or title.lower() in ("untitled", "title") or re.search(r"\.[A-Za-z]{2,4}$", title)
    return None if junk else title


#: A page's first and last lines, where running headers and footers are.
EDGE_LINES = 2
#: A line that is only a page number: "7", "- 7 -", "Page 7", "7 / 12", "page 7 of 12".
_PAGE_NUMBER = re.compile(r"[\W_]*(?:page\s*)?\d+(?:\s*(?:/|of)\s*\d+)?[\W_]*", re.IGNORECASE)


def _without_running_lines(pages: list[str]) -> list[str]:
    """The pages of a document of several without their running headers and footers: among each page's first and
    last EDGE_LINES lines, those that recur (numbers aside) at the edges of at least half the pages, and page
    numbers."""
    if len(pages) < 2:
        return pages
    lines = [page.split("\n") for page in pages]
    edges = [{i for i in (*range(EDGE_LINES), *range(len(page) - EDGE_LINES, len(page))) if 0 <= i < len(page)}
             for page in lines]
    recurring = Counter(shape for page, rows in zip(lines, edges) for shape in {_shape(page[i]) for i in rows})
    running = {shape for shape, count in recurring.items() if shape and count >= max(2, len(pages) / 2)}
    return ["\n".join(line for i, line in enumerate(page)
                      if i not in rows or not (_shape(line) in running or _PAGE_NUMBER.fullmatch(line.strip())))
            .strip() for page, rows in zip(lines, edges)]


#: A word broken at a line's end by a hyphen, and the lower-case rest of it on the next line ("invest-\nment").
_BROKEN_WORD = re.compile(r"(\w[\w-]*)-\n([a-z][\w-]*)")


def _dehyphenated(pages: list[str]) -> list[str]:
    """The pages with words broken across lines made whole ("invest-\nment" is "investment"). The hyphen stays
    (the line break goes) in a compound: one with another hyphen ("state-of-\nthe-art"), or one that the document
    writes hyphenated elsewhere and never whole ("self-\nreported")."""
    text = "\n".join(pages).lower()
    whole, compounds = set(re.findall(r"\w+", text)), set(re.findall(r"\w+(?:-\w+)+", text))

    def mended(match: re.Match) -> str:
        first, rest = match.groups()
        compound = f"{first}-{rest}"
        chained = "-" in first or "-" in rest
        if chained or (compound.lower() in compounds and f"{first}{rest}".lower() not in whole):
            return compound
        return first + rest

    return [_BROKEN_WORD.sub(mended, page) for page in pages]


def _shape(line: str) -> str:
    """A line with its numbers made "#" and its white space single: what a running header keeps page to page."""
    return re.sub(r"\d+", "#", " ".join(line.split())).lower()


def read_docx(data: bytes) -> Extracted:
    """The paragraphs and tables of a Word document in their order, a blank line between paragraphs and between
    table rows, a row's cells kept apart by " | "."""
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = []
        for item in document.iter_inner_content():
            blocks.extend(_table_rows(item) if isinstance(item, Table) else [item.text.strip()])
    except Exception as error:  # python-docx raises many kinds on damaged files
        raise Unreadable(f"damaged Word file ({type(error).__name__}: {error})") from None
    return Extracted("\n\n".join(block for block in blocks if block), document.core_properties.title or None)


def _table_rows(table) -> list[str]:
    """Each row of a Word table as its cells' text joined by " | " (a merged cell once)."""
    rows = []
    for row in table.rows:
        cells, previous = [], None
        for cell in row.cells:
            if cell._tc is not previous:  # a merged cell is listed once per grid column it spans
                cells.append(" ".join(cell.text.split()))
            previous = cell._tc
        rows.append(" | ".join(cell for cell in cells if cell))
    return rows


#: The reader of each supported file suffix.
READERS: dict[str, Callable[[bytes], Extracted]] = {
    ".txt": read_text,
    ".md": read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".docx": read_docx,
}
