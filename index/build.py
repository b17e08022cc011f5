"""build(docs_dir, index_dir): bring the index in line with the folder, embedding only what changed."""

from __future__ import annotations

import fcntl
import json
import sys
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np
from tqdm import tqdm

from index.chunking import CHUNKER_VERSION, Chunk, Chunker, Passage
from index.config import IndexConfig
from index.dense import dense_kind
from index.documents import (
    DOCUMENT_SUFFIXES,
    Document,
    Skipped,
    fingerprint,
    not_an_index,
    read_folder,
)
from index.embedding import Embedder, configured_precision
from index.errors import NoDocumentsError, StoreError
from index.lexical import LexicalIndex
from index.preparation import Preparer
from index.store import Embedded, Store
from index.terms import TermIds
from index.wording import counted

#: Lock file inside an index folder, held while a build runs.
LOCK = ".lock"
#: A document's (sha256 of its file, sha256 of the text read from it); None where the index did not record it.
Contents = tuple[str | None, str | None]
#: New chunks are embedded as soon as this many batches of them are ready (chunking goes on meanwhile).
BATCHES_PER_BLOCK = 4
#: Characters of new documents from which a build shows a progress bar.
PROGRESS_MIN_CHARACTERS = 100_000


@dataclass
class BuildSummary:
    """What a build did, against the documents of the index before it. Unchanged and renamed documents were not
    embedded again, except in a full rebuild (`full_rebuild_reason`), which embeds everything; when every
    document is cut again (`recut_reason`), only the chunks that come out different are embedded."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (old id, new id)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    flagged: list[Skipped] = field(default_factory=list)  # indexed, with a warning
    other_types: dict[str, int] = field(default_factory=dict)  # files of types not read: suffix -> count
    documents: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    full_rebuild_reason: str = ""
    recut_reason: str = ""  # why every document was cut again (only chunks that came out different were embedded)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.renamed or self.full_rebuild_reason
                    or self.recut_reason)

    @property
    def headline(self) -> str:
        """How many documents and chunks, how many were embedded, and why everything was (a full rebuild)."""
        return (
            f"{counted(self.documents, 'document')}, {counted(self.chunks, 'chunk')}; embedded "
            f"{counted(self.embedded_chunks, 'chunk')} in {self.seconds:.1f} s"
            + (f" (full rebuild: {self.full_rebuild_reason})" if self.full_rebuild_reason else "")
            + (f" (every document cut again: {self.recut_reason})" if self.recut_reason else "")
        )

    def __str__(self) -> str:
        lines = [self.headline]
        for label, ids in (("added", self.added), ("updated", self.updated), ("removed", self.removed)):
            if ids:
                lines.append(f"{label} ({len(ids)}): {', '.join(ids)}")
        if self.renamed:
            lines.append(f"renamed ({len(self.renamed)}): " + ", ".join(f"{a} -> {b}" for a, b in self.renamed))
        lines.append(f"unchanged: {len(self.unchanged)}")
        for skip in self.skipped:
            lines.append(f"skipped {skip.id}: {skip.reason}")
        for flag in self.flagged:
            lines.append(f"flagged {flag.id}: {flag.reason}")
        if self.other_types:
            counts = ", ".join(f"{count} {suffix}" for suffix, count in sorted(self.other_types.items()))
            lines.append(f"not read, other types: {counts} (read: {', '.join(DOCUMENT_SUFFIXES)})")
        return "\n".join(lines)


def settings_of(config: IndexConfig, embedder: Embedder | None = None) -> dict:
    """The manifest entries that decide whether stored chunks and vectors can be reused."""
    settings = {
        "model": config.model,
        "precision": embedder.precision if embedder else configured_precision(config.model, config.runtime, config.device),
        "chunker": {"chunk_tokens": config.chunk_tokens, "overlap_tokens": config.overlap_tokens,
                    "version": CHUNKER_VERSION},
    }
    if embedder is not None:
        settings["chunker"]["model_limit"] = embedder.max_tokens
    return settings


def vectors_outdated_by(previous: dict, config: IndexConfig, embedder: Embedder | None) -> str:
    """Why the vectors of the index whose manifest is `previous` can't be kept with `config`'s settings ("" when
    they can): the next build embeds everything again."""
    wanted = settings_of(config, embedder)
    if previous.get("model") != wanted["model"]:
        return f"model changed from {previous.get('model')!r} to {wanted['model']!r}"
    if previous.get("precision", "float32") != wanted["precision"]:
        return f"embedding precision changed from {previous.get('precision', 'float32')} to {wanted['precision']}"
    return ""


def chunks_outdated_by(previous: dict, config: IndexConfig, embedder: Embedder | None) -> str:
    """Why the chunks of the index whose manifest is `previous` can't be kept ("" when they can): other chunk
    sizes, or cut by another version of the chunker. The next build cuts every document again, and embeds only
    the chunks that come out different."""
    wanted = settings_of(config, embedder)["chunker"]
    recorded = previous.get("chunker")
    stored = {key: value for key, value in recorded.items() if key in wanted} if isinstance(recorded, dict) else {}
    if stored.get("version") != wanted["version"]:
        return f"cut by chunker version {stored.get('version', 1)}, this program's is {wanted['version']}"
    if stored != wanted:
        return f"chunker settings changed from {stored} to {wanted}"
    return ""


def _previous_manifest(index_dir: Path) -> tuple[dict | None, str]:
    """The manifest in use (None when there is none or it is unreadable) and why it can't be used."""
    if not Store.exists(index_dir):
        return None, ""
    try:
        pointer = (index_dir / "CURRENT").read_text().strip()
        return json.loads((index_dir / pointer / "manifest.json").read_text(encoding="utf-8")), ""
    except (OSError, ValueError) as error:
        return None, f"the previous index could not be read ({error})"


def _kept_index(index_dir: Path, manifest: dict | None) -> str:
    """What a build that finds no documents says of the index it leaves as it is."""
    if manifest is None:
        return ""
    held = sorted(manifest.get("documents", {}))
    listed = ", ".join(held[:3]) + (f" and {len(held) - 3} more" if len(held) > 3 else "")
    return (f" The index at {index_dir} was left as it is: it still answers from the {counted(len(held), 'document')} "
            "indexed before "
            f"({listed}); delete that folder if they should go.")


def build(
    docs_dir: Path | str,
    index_dir: Path | str,
    config: IndexConfig | None = None,
    rebuild: bool = False,
    embedder: Embedder | None = None,
) -> BuildSummary:
    """Index every document under `docs_dir` into `index_dir`. Documents whose sha256 is already in the
    index keep their chunks and vectors; the rest are chunked and embedded; deleted ones are dropped.
    `rebuild=True` embeds everything again. The index in use is replaced only once the new one is saved."""
    docs_dir, index_dir, config = Path(docs_dir), Path(index_dir), config or IndexConfig()
    with build_lock(index_dir):
        return _build(docs_dir, index_dir, config, rebuild, embedder)


@contextmanager
def build_lock(index_dir: Path):
    """Hold the index folder's build lock; a second build waits for the first (and says so)."""
    if index_dir.exists() and not index_dir.is_dir():
        raise StoreError(f"{index_dir} is a file, not an index folder: pass a folder with --index.")
    if not Store.exists(index_dir) and (refusal := not_an_index(index_dir)):
        raise StoreError(refusal)
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"Another build of {index_dir} is running; waiting for it to finish...", file=sys.stderr, flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build(docs_dir: Path, index_dir: Path, config: IndexConfig, rebuild: bool, embedder: Embedder | None) -> BuildSummary:
    started = time.perf_counter()
    stamps = fingerprint(docs_dir)
    others: Counter = Counter()
    documents, skipped, flagged = read_folder(docs_dir, others)
    manifest, reason = _previous_manifest(index_dir)
    if not documents:
        raise NoDocumentsError(
            f"No documents to index in {docs_dir}: add {', '.join(DOCUMENT_SUFFIXES)} files"
            + (f" ({counted(len(skipped), 'file')} skipped: " + "; ".join(f"{s.id}: {s.reason}" for s in skipped) + ")" if skipped else "")
            + "." + _kept_index(index_dir, manifest)
        )
    summary = BuildSummary(skipped=skipped, flagged=flagged, documents=len(documents), other_types=dict(others))
    recut = ""  # why every document is cut again, its chunks' vectors kept where they come out the same
    if rebuild:
        reason = "asked for"
    elif manifest is not None:
        reason = vectors_outdated_by(manifest, config, embedder)
        recut = "" if reason else chunks_outdated_by(manifest, config, embedder)
    previous = None
    if manifest is not None and not reason:
        # A title read differently (by a newer version) is written again, with no document embedded again; a text
        # read differently is chunked and embedded again (an index made before text was recorded is looked into).
        current = {doc.id: (doc.sha256, doc.title, doc.text_sha256) for doc in documents}
        stored = {doc_id: (entry["sha256"], entry.get("title"), entry.get("text_sha256"))
                  for doc_id, entry in manifest["documents"].items()}
        same_dense = manifest.get("dense_index", "flat") == dense_kind(config.dense_index, manifest["chunks"])
        damage = Store.damage(index_dir, manifest)
        if damage:
            reason = f"the index is damaged: {damage}"
        elif current == stored and same_dense and not recut:
            recorded = {"files": stamps, "docs": str(docs_dir.resolve())}
            if any(manifest.get(key) != value for key, value in recorded.items()):  # touched or moved, not changed
                Store.update_manifest(index_dir, recorded)
            summary.unchanged = sorted(current)
            summary.chunks = manifest["chunks"]
            summary.seconds = time.perf_counter() - started
            return summary
        else:
            try:
                previous = Store.load(index_dir, docs_dir)
            except StoreError as error:
                reason = f"the previous index could not be read ({error})"
    summary.full_rebuild_reason = reason
    summary.recut_reason = recut if previous is not None else ""
    embedder = embedder or Embedder(config.model, config.device, config.batch_size, config.runtime)
    before = {doc_id: (entry.get("sha256"), entry.get("text_sha256"))
              for doc_id, entry in (manifest or {}).get("documents", {}).items()}
    chunks, embedded, terms, bm25 = _contents(documents, previous, before, config, embedder, summary,
                                              recut=bool(summary.recut_reason))
    manifest = settings_of(config, embedder) | {"files": stamps, "docs": str(docs_dir.resolve())}
    store = Store.create(manifest, documents, chunks, embedded, dense_index=config.dense_index, terms=terms, bm25=bm25)
    store.save(index_dir)
    summary.chunks = len(chunks)
    summary.seconds = time.perf_counter() - started
    return summary


class _Pending:
    """New chunks waiting to be embedded. `embed` hands them to a thread that embeds them and stores their vectors
    in `embedded`, so that the model (a GPU) works while chunking and BM25 go on here; `finish` waits for it."""

    def __init__(self, embedder: Embedder, embedded: list[Embedded | None], bar: tqdm) -> None:
        self.embedder, self.store_in, self.bar = embedder, embedded, bar
        self.rows: list[int] = []
        self.passages: list[Passage] = []
        self.characters = 0  # of their documents, for the progress bar
        self.embedded = 0
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="embedding")
        self._jobs: list[Future] = []

    def add(self, row: int, passage: Passage, characters: int) -> None:
        self.rows.append(row)
        self.passages.append(passage)
        self.characters += characters

    def embed(self, minimum: int = 1) -> None:
        """Start embedding the pending chunks if there are at least `minimum`; then raise what a finished job
        raised."""
        if len(self.rows) < minimum:
            return
        for job in [job for job in self._jobs if job.done()]:
            job.result()
            self._jobs.remove(job)
        self._jobs.append(self._thread.submit(self._embed, self.rows, self.passages, self.characters))
        self.embedded += len(self.rows)
        self.rows, self.passages, self.characters = [], [], 0

    def finish(self) -> None:
        """Wait until every chunk handed over is embedded."""
        for job in self._jobs:
            job.result()

    def __enter__(self) -> _Pending:
        return self

    def __exit__(self, *exception) -> None:
        self._thread.shutdown(cancel_futures=True)

    def _embed(self, rows: list[int], passages: list[Passage], characters: int) -> None:
        spans = [p.sentences - p.chunk.start for p in passages]
        vectors, sentence_vectors = self.embedder.encode_passages(
            [p.chunk.text for p in passages], spans, progress=False, tokens=[p.tokens for p in passages])
        for i, (row, passage) in enumerate(zip(rows, passages)):
            self.store_in[row] = Embedded(vectors[i], passage.sentences, sentence_vectors[i])
        self.bar.update(characters)


def _record(summary: BuildSummary, doc: Document, old_ids: dict[str, Contents], old_id: str | None,
            current_ids: set[str]) -> None:
    """File `doc` in the summary as unchanged, updated (its file, or the text read from it), renamed or added,
    against the previous index's documents (`old_ids`; `old_id`: a previous document with the same file content,
    if any)."""
    sha256, text_sha256 = old_ids.get(doc.id, (None, None))
    if sha256 == doc.sha256 and text_sha256 in (None, doc.text_sha256):  # None: text not recorded then
        summary.unchanged.append(doc.id)
    elif doc.id in old_ids:
        summary.updated.append(doc.id)
    elif old_id is not None and old_id not in current_ids:
        summary.renamed.append((old_id, doc.id))
    else:
        summary.added.append(doc.id)


def _cut_as(chunk: Chunk, sentences: np.ndarray) -> tuple[str, bytes]:
    """What a chunk's vectors depend on: its text, and the offsets in it of its sentences (`sentences`: their
    document spans)."""
    return chunk.text, (sentences - chunk.start).astype(np.int64).tobytes()


def _contents(
    documents: list[Document],
    previous: Store | None,
    old_ids: dict[str, Contents],
    config: IndexConfig,
    embedder: Embedder,
    summary: BuildSummary,
    recut: bool = False,
) -> tuple[list[Chunk], list[Embedded], TermIds, bm25s.BM25]:
    """All chunks in document order with their vectors, their terms and BM25 over them, reusing the previous
    index's chunks, vectors and terms where the document's file and the text read from it are unchanged (none
    without `previous`: a full rebuild; none with `recut`: every document is cut again), and filling in the
    summary against the documents indexed before (`old_ids`). Documents not reused are cut in worker processes
    (index.preparation); a chunk that comes out as one of the previous index (same text, same sentences) keeps its
    vectors, and the others are embedded in blocks by a thread as they come."""
    reused: dict[Contents, tuple[str, list[int]]] = {}  # -> (old id, chunk rows in the previous store)
    kept: dict[tuple[str, bytes], int] = {}  # (chunk text, its sentences' offsets in it) -> previous chunk row
    if previous is not None:
        rows_of: dict[str, list[int]] = {}
        for row, chunk in enumerate(previous.chunks):
            rows_of.setdefault(chunk.doc_id, []).append(row)
            kept.setdefault(_cut_as(chunk, previous.chunk_sentences(row)), row)
        for doc in previous.documents if not recut else ():
            reused.setdefault((doc.sha256, doc.text_sha256), (doc.id, rows_of.get(doc.id, [])))
        old_ids = old_ids | {doc.id: (doc.sha256, doc.text_sha256) for doc in previous.documents}
    old_id_of = {}  # sha256 -> a previous document's id
    for doc_id, (sha256, _) in old_ids.items():
        old_id_of.setdefault(sha256, doc_id)
    chunker = Chunker(config.chunk_tokens, config.overlap_tokens, embedder.max_tokens, embedder.wordpieces)
    new_documents = [doc for doc in documents if (doc.sha256, doc.text_sha256) not in reused]
    chunks: list[Chunk] = []
    embedded: list[Embedded | None] = []
    term_ids = TermIds()  # filled as chunks come, while worker processes cut the next ones
    current_ids = {doc.id for doc in documents}
    characters = sum(len(doc.text) for doc in new_documents)
    with closing(Preparer(chunker, config.workers).prepare(new_documents)) as prepared, \
            tqdm(total=characters, desc="indexing", unit="char", unit_scale=True,
                 disable=characters < PROGRESS_MIN_CHARACTERS) as bar, _Pending(embedder, embedded, bar) as pending:
        for doc in documents:
            if (doc.sha256, doc.text_sha256) in reused:
                old_id, rows = reused[doc.sha256, doc.text_sha256]
                for row in rows:
                    old = previous.chunks[row]
                    chunks.append(Chunk(doc.id, old.start, old.end, old.text))
                    embedded.append(previous.embedded(row))
                term_ids.add(previous.passage_terms(rows))
                _record(summary, doc, old_ids, old_id, current_ids)
                continue
            ready = next(prepared)  # the new documents come in order
            covered = 0  # characters of the document up to the end of its last chunk
            term_ids.add(ready.terms)
            for passage in ready.passages:
                chunks.append(passage.chunk)
                row = kept.get(_cut_as(passage.chunk, passage.sentences))
                if row is not None:
                    old = previous.embedded(row)
                    embedded.append(Embedded(old.vector, passage.sentences, old.sentence_vectors))
                    bar.update(passage.chunk.end - covered)
                else:
                    embedded.append(None)
                    pending.add(len(chunks) - 1, passage, passage.chunk.end - covered)
                    pending.embed(minimum=embedder.batch_size * BATCHES_PER_BLOCK)  # a long document in blocks
                covered = passage.chunk.end
            bar.update(len(doc.text) - covered)
            _record(summary, doc, old_ids, old_id_of.get(doc.sha256), current_ids)
        pending.embed()
        bm25 = LexicalIndex.of(term_ids, config.bm25_k1, config.bm25_b)  # while the last chunks embed
        pending.finish()
    renamed_from = {old for old, _ in summary.renamed}
    summary.removed = sorted(i for i in old_ids if i not in current_ids and i not in renamed_from)
    summary.embedded_chunks = pending.embedded
    return chunks, embedded, term_ids, bm25
