"""Document: one file of the documents folder, with the exact text that citations index into."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from index.config import DOCUMENT_SUFFIXES
from index.errors import DocsError


@dataclass(frozen=True)
class Document:
    """A document as the index stores it: `text` is what every citation's offsets point into."""

    id: str  # path relative to the documents folder, with forward slashes
    title: str  # first non-empty line
    text: str
    sha256: str  # of the file's bytes


def title_of(text: str, fallback: str) -> str:
    """The first non-empty line of `text`, or `fallback` when there is none."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return fallback


def read_document(path: Path, doc_id: str) -> Document:
    """Read one file as UTF-8 (a byte-order mark is dropped); line endings become "\\n"."""
    data = path.read_bytes()
    text = data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    return Document(id=doc_id, title=title_of(text, doc_id), text=text, sha256=hashlib.sha256(data).hexdigest())


def document_paths(folder: Path) -> dict[str, Path]:
    """Every readable document under `folder`, recursively, by id; hidden files and folders are skipped."""
    if not folder.exists():
        raise DocsError(f"The documents folder {folder} does not exist: create it and put .txt or .md files in it.")
    if not folder.is_dir():
        raise DocsError(f"{folder} is not a folder: pass the folder that holds your documents.")
    paths = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.suffix.lower() in DOCUMENT_SUFFIXES and path.is_file():
            paths[relative.as_posix()] = path
    return paths


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    id: str
    reason: str


def read_folder(folder: Path) -> tuple[list[Document], list[Skipped]]:
    """The documents under `folder`, sorted by id, and the files that could not be read."""
    documents, skipped = [], []
    for doc_id, path in document_paths(Path(folder)).items():
        try:
            document = read_document(path, doc_id)
        except UnicodeDecodeError as error:
            skipped.append(Skipped(doc_id, f"not UTF-8 text ({error.reason} at byte {error.start})"))
        except OSError as error:
            skipped.append(Skipped(doc_id, f"unreadable ({error.strerror or error})"))
        else:
            if document.text.strip():
                documents.append(document)
            else:
                skipped.append(Skipped(doc_id, "empty"))
    return documents, skipped


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
