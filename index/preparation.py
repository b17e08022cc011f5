"""Preparer: new documents cut into passages (index.chunking) with their BM25 terms, in worker processes when
there is much text, so that chunking keeps up with a GPU."""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from index.chunking import Chunker, Passage
from index.documents import Document
from index.terms import PassageTerms

#: Characters of new text from which documents are prepared in worker processes; below, starting them costs more
#: than it saves.
PARALLEL_FROM_CHARS = 2_000_000
#: Characters of text per worker process at least (fewer processes for less text).
CHARS_PER_WORKER = 500_000
#: Documents sent to a worker at a time, at most.
DOCUMENTS_PER_TASK = 4


@dataclass(frozen=True)
class Prepared:
    """A document's passages, and their BM25 terms (index.terms)."""

    passages: list[Passage]
    terms: PassageTerms


def prepare(chunker: Chunker, document: Document) -> Prepared:
    """One document, prepared in this process."""
    passages = chunker.passages(document.id, document.text)
    return Prepared(passages, PassageTerms.of(passage.chunk.text for passage in passages))


class Preparer:
    """Prepares documents with `chunker`, in up to `workers` processes (0: one per available CPU core, and never
    more than there are documents) when there is at least PARALLEL_FROM_CHARS of text, else here."""

    def __init__(self, chunker: Chunker, workers: int = 0) -> None:
        self.chunker = chunker
        self.workers = workers or _available_cores()

    def prepare(self, documents: list[Document]) -> Iterator[Prepared]:
        """Each document's Prepared, in order, as soon as it is ready (workers run ahead of the caller)."""
        characters = sum(len(document.text) for document in documents)
        workers = min(self.workers, math.ceil(characters / CHARS_PER_WORKER), len(documents))
        done = 0
        if characters >= PARALLEL_FROM_CHARS and workers > 1:
            try:
                for prepared in self._in_workers(documents, workers):
                    yield prepared
                    done += 1
            except BrokenProcessPool:  # a worker died (say, killed for memory): do the rest here
                pass
        for document in documents[done:]:
            yield prepare(self.chunker, document)

    def _in_workers(self, documents: list[Document], workers: int) -> Iterator[Prepared]:
        # Forked workers start at once and need no importable main script; they use no GPU and no PyTorch.
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        pool = ProcessPoolExecutor(workers, multiprocessing.get_context(method), initializer=_start,
                                   initargs=(self.chunker,))
        try:
            # Tasks of a few documents cost less to hand over; small ones still share large folders evenly.
            per_task = max(1, min(DOCUMENTS_PER_TASK, len(documents) // (4 * workers)))
            yield from pool.map(_prepare_here, documents, chunksize=per_task)
        finally:  # a build that stops early (an error, Ctrl-C) does not wait for the documents left
            pool.shutdown(wait=True, cancel_futures=True)


def _available_cores() -> int:
    """The CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


_chunker: Chunker | None = None


def _start(chunker: Chunker) -> None:
    global _chunker
    _chunker = chunker


def _prepare_here(document: Document) -> Prepared:
    return prepare(_chunker, document)
