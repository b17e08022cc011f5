"""Readers: the visible text of each supported file type, and a PDF's page ranges."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
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


def read_text(data: bytes) -> Extracted:
    """UTF-8 text (a byte-order mark is dropped); other bytes are decoded as Windows-1252 and flagged."""
    if b"\x00" in data[:8192]:
        raise Unreadable("binary file (it holds NUL bytes), not text")
    try:
        return Extracted(_lines(data.decode("utf-8-sig")))
    except UnicodeDecodeError as error:
        note = f"not UTF-8 ({error.reason} at byte {error.start}): decoded as Windows-1252"
        return Extracted(_lines(data.decode("cp1252", errors="replace")), note=note)


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _VisibleText(HTMLParser):
    """Collects the text a browser shows: no scripts, styles or markup; blocks become paragraphs."""

    HIDDEN = {"script", "style", "head", "template", "noscript", "svg"}
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
              "header", "footer", "blockquote", "pre", "table", "ul", "ol", "dd", "dt", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self.hidden = 0
        self.in_title = False

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        self.in_title = self.in_title or tag == "title"
        if tag in self.BLOCKS:
            self.parts.append("\n\n")

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
    paragraphs = [" ".join(p.split()) for p in "".join(parser.parts).split("\n\n")]
    title = " ".join("".join(parser.title).split()) or None
    return Extracted("\n\n".join(p for p in paragraphs if p), title)


def read_pdf(data: bytes) -> Extracted:
    """The text of every page (pages separated by a blank line), with each page's character range."""
    import pypdf

    try:
        pdf = pypdf.PdfReader(io.BytesIO(data))
        if pdf.is_encrypted and not pdf.decrypt(""):
            raise Unreadable("encrypted PDF: save an unencrypted copy to index it")
        texts = [_lines(page.extract_text() or "").strip() for page in pdf.pages]
    except Unreadable:
        raise
    except Exception as error:  # pypdf raises many kinds on damaged files
        raise Unreadable(f"damaged PDF ({type(error).__name__}: {error})") from None
    pages, parts, position = [], [], 0
    for text in texts:
        pages.append((position, position + len(text)))
        parts.append(text)
        position += len(text) + 2
    return Extracted("\n\n".join(parts), pages=tuple(pages))


def read_docx(data: bytes) -> Extracted:
    """The paragraphs of a Word document, a blank line between them."""
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises many kinds on damaged files
        raise Unreadable(f"damaged Word file ({type(error).__name__}: {error})") from None
    paragraphs = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    return Extracted("\n\n".join(paragraphs), document.core_properties.title or None)


#: The reader of each supported file suffix.
READERS: dict[str, Callable[[bytes], Extracted]] = {
    ".txt": read_text,
    ".md": read_text,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".docx": read_docx,
}
