"""Document: one file of the documents folder, with the exact text that citations index into."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from index.errors import DocsError
from index.formats import READERS, Unreadable, title_of

#: File types read from a documents folder.
DOCUMENT_SUFFIXES = tuple(READERS)


@dataclass(frozen=True)
class Document:
    """A document as the index stores it: `text` is what every citation's offsets point into."""

    id: str  # path relative to the documents folder, with forward slashes
    title: str  # the file's own title (HTML, Word), else its first non-empty line; cut at TITLE_CHARACTERS
    text: str
    sha256: str  # of the file's bytes
    pages: tuple[tuple[int, int], ...] = ()  # PDF: page i+1 is text[start:end]

    @cached_property
    def text_sha256(self) -> str:
        """The sha256 of `text`: a newer reader may read the same file into other text."""
        return hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()

    def pages_of(self, start: int, end: int) -> list[int]:
        """Page numbers (from 1) that the span `[start, end)` touches; empty when the file has no pages."""
        return [n for n, (s, e) in enumerate(self.pages, 1) if s < end and start < max(e, s + 1)]


#: Every citation shows its document's title: a longer one (a first line that is a whole paragraph) is cut.
TITLE_CHARACTERS = 100


def shortened(title: str) -> str:
    """`title` with its white space runs made one space, and cut with "…" at the last word boundary within
    TITLE_CHARACTERS when it is longer (at TITLE_CHARACTERS where that leaves less than half)."""
    title = " ".join(title.split())
    if len(title) <= TITLE_CHARACTERS:
        return title
    cut = title.rfind(" ", 0, TITLE_CHARACTERS + 1)
    return title[: cut if cut > TITLE_CHARACTERS // 2 else TITLE_CHARACTERS].rstrip() + "…"


def read_document(path: Path, doc_id: str) -> tuple[Document, str]:
    """One file as a Document, and a note worth flagging ("" when none); Unreadable when it can't be read."""
    data = path.read_bytes()
    extracted = READERS[path.suffix.lower()](data)
    title = shortened(extracted.title or title_of(extracted.text, doc_id))
    document = Document(doc_id, title, extracted.text, hashlib.sha256(data).hexdigest(), extracted.pages)
    return document, extracted.note


def documents_held(folder: Path) -> list[str]:
    """The names of the documents directly in `folder` (none when it is not a folder)."""
    if not folder.is_dir():
        return []
    return sorted(path.name for path in folder.iterdir() if path.suffix.lower() in DOCUMENT_SUFFIXES)


def not_an_index(folder: Path) -> str:
    """Why `folder`, which holds documents, is refused as an index folder ("" when it holds none)."""
    held = documents_held(folder)
    if not held:
        return ""
    return (f"{folder} holds documents ({', '.join(held[:3])}{' ...' if len(held) > 3 else ''}), not an index: "
            "pass it as the documents folder (--docs), and a new or empty folder as the index (--index).")


def document_paths(folder: Path, others: Counter | None = None) -> dict[str, Path]:
    """Every readable document under `folder`, recursively, by id; hidden files and folders are skipped. Files
    of other types are counted by suffix in `others`, when given."""
    if not folder.exists():
        raise DocsError(f"The documents folder {folder} does not exist: create it and put documents in it.")
    if not folder.is_dir():
        raise DocsError(f"{folder} is not a folder: pass the folder that holds your documents.")
    paths = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if path.suffix.lower() in DOCUMENT_SUFFIXES:
            paths[relative.as_posix()] = path
        elif others is not None:
            others[path.suffix.lower() or "(no suffix)"] += 1
    return paths


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    id: str
    reason: str


def read_folder(folder: Path, others: Counter | None = None) -> tuple[list[Document], list[Skipped], list[Skipped]]:
    """The documents under `folder`, sorted by id; the files that could not be read or repeat an earlier
    document's content, and why; and the documents that were read with a warning (flagged), and why. Files of
    other types are counted by suffix in `others`, when given."""
    documents, skipped, flagged = [], [], []
    first_with: dict[str, str] = {}  # sha256 -> the first document with that content
    for doc_id, path in document_paths(Path(folder), others).items():
        document, note = read_file(path, doc_id)
        if document is None:
            skipped.append(Skipped(doc_id, note))
            continue
        if document.sha256 in first_with:  # indexed once: a second copy would only be cited twice
            skipped.append(Skipped(doc_id, f"the same content as {first_with[document.sha256]}"))
            continue
        first_with[document.sha256] = doc_id
        documents.append(document)
        if note:
            flagged.append(Skipped(doc_id, note))
    return documents, skipped, flagged


def read_file(path: Path, doc_id: str) -> tuple[Document | None, str]:
    """One file as (its Document, a note worth flagging or ""), or (None, why it can't be indexed)."""
    try:
        document, note = read_document(path, doc_id)
    except Unreadable as error:
        return None, str(error)
    except OSError as error:
        return None, f"unreadable ({error.strerror or error})"
    if not document.text.strip():
        scanned = " (a scanned PDF has no text layer: run OCR on it first)" if path.suffix.lower() == ".pdf" else ""
        return None, f"empty (no text){scanned}"
    return document, note


def fingerprint(folder: Path) -> dict[str, list[int]]:
    """Size and modification time (ns) of every document under `folder`, by id: a cheap check of whether
    the folder changed since an index was built (no file is read)."""
    stamps = {}
    for doc_id, path in document_paths(Path(folder)).items():
        try:
            status = path.stat()
        except OSError:
            continue
        stamps[doc_id] = [status.st_size, status.st_mtime_ns]
    return stamps
