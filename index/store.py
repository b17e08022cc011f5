"""Store: the index on disk (FAISS vectors, BM25 arrays, chunk table, documents, manifest); no pickle.

Layout of an index folder:
    CURRENT                  name of the generation folder in use (replaced atomically)
    <generation>/manifest.json   format version, model, dimension, chunker settings, the sha256 of each document's
                                 file and of its text, and the size of every other file (a file deleted or cut
                                 short is found without reading it)
    <generation>/documents.json  [{"id", "title", "sha256", "text", "pages"?}]: the text citations index into
    <generation>/chunks.npy      int64 rows (document number, start, end)
    <generation>/dense.faiss     FAISS inner-product index (exact, or HNSW for large corpora); row i is chunk i
    <generation>/sentences.npy   int64 rows (chunk row, start, end): the sentences of each chunk, in order
    <generation>/sentence_vectors.npy  float16 unit vectors of those sentences, pooled inside their chunk
    <generation>/bm25/           bm25s arrays (npy) and vocabulary (json)
    <generation>/terms.npy       int32 ids into that vocabulary: every chunk's BM25 terms, chunk after chunk
    <generation>/term_counts.npy int32: each chunk's number of terms (an index written without the two: found again)
A build writes a new generation folder, then points CURRENT at it, so a crash never harms the index in use.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import bm25s
import faiss
import numpy as np

from index.chunking import Chunk
from index.dense import dense_kind, make_dense, searchable
from index.documents import Document, not_an_index
from index.errors import StoreError
from index.lexical import LexicalIndex
from index.rows import RowFile
from index.terms import ChunkTerms, PassageTerms, TermIds

FORMAT_VERSION = 1
POINTER = "CURRENT"
#: Times `Store.load` reads the index when a build switched generations under it.
LOAD_ATTEMPTS = 3


def rebuilding(docs: Path | str, index_dir: Path | str) -> str:
    """The command, and the Python call, that rebuild the index in `index_dir` from `docs`."""
    return (f"`qa index --rebuild --docs {docs} --index {index_dir}` (in Python: "
            f"`qa.build_index({str(docs)!r}, {str(index_dir)!r}, rebuild=True)`)")


@dataclass(frozen=True)
class Embedded:
    """A chunk's unit vector, and the spans (document offsets) and unit vectors of its sentences."""

    vector: np.ndarray  # (dimension,)
    sentences: np.ndarray  # (count, 2) int64
    sentence_vectors: np.ndarray  # (count, dimension)


@dataclass
class Store:
    """An index in memory: `chunks[i]` is row i of `dense` and document i of `bm25`; the sentences of
    chunk i are rows `sentence_starts[i]:sentence_starts[i + 1]` of `sentences` and `sentence_vectors`."""

    manifest: dict
    documents: list[Document]
    chunks: list[Chunk]
    dense: faiss.Index
    bm25: bm25s.BM25
    sentences: np.ndarray  # (count, 3) int64: chunk row, start, end
    sentence_vectors: np.ndarray | RowFile  # (count, dimension) float16; a RowFile once loaded
    terms: ChunkTerms | None  # what BM25 counted (None: an index written before they were kept)

    @classmethod
    def create(
        cls,
        manifest: dict,
        documents: list[Document],
        chunks: list[Chunk],
        embedded: list[Embedded],
        k1: float = 0.5,
        b: float = 0.5,
        dense_index: str = "auto",
        terms: TermIds | None = None,
        bm25: bm25s.BM25 | None = None,
    ) -> Store:
        """A store over `chunks`, `embedded[i]` holding chunk i's vectors, with BM25(k1, b) over the chunks' terms
        (`terms`, else found here; or `bm25`, made from them by index.lexical with its own k1 and b) and the dense
        index `dense_index` names ("auto": exact, or HNSW for a large corpus; see index.dense). The vectors are
        copied once into arrays of their final size and BM25 counts term ids, so a large corpus is not held in
        memory several times over."""
        dimension = int(embedded[0].vector.shape[0])
        counts = [len(e.sentences) for e in embedded]
        sentences = np.empty((sum(counts), 3), dtype=np.int64)
        sentences[:, 0] = np.repeat(np.arange(len(embedded)), counts)
        sentences[:, 1:] = np.concatenate([e.sentences for e in embedded]).reshape(-1, 2)
        # Cast into the float16 table as they are copied: reused rows come as float32, and no float32 table is made.
        sentence_vectors = np.empty((len(sentences), dimension), dtype=np.float16)
        np.concatenate([e.sentence_vectors for e in embedded], out=sentence_vectors, casting="same_kind")
        kind = dense_kind(dense_index, len(chunks))
        dense = make_dense(np.stack([e.vector for e in embedded]).astype(np.float32, copy=False), kind)
        if terms is None:
            terms = TermIds()
            terms.add(PassageTerms.of(chunk.text for chunk in chunks))
        if bm25 is None:
            bm25 = LexicalIndex.of(terms, k1, b)
        manifest = {
            **manifest,
            "format_version": FORMAT_VERSION,
            "dimension": dimension,
            "bm25": {"k1": bm25.k1, "b": bm25.b},
            "dense_index": kind,
            "chunks": len(chunks),
            "sentences": len(sentences),
            "documents": {doc.id: {"sha256": doc.sha256, "title": doc.title, "text_sha256": doc.text_sha256}
                          for doc in documents},
            "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        return cls(manifest, documents, chunks, dense, bm25, sentences, sentence_vectors, ChunkTerms.of(terms))

    @cached_property
    def sentence_starts(self) -> np.ndarray:
        """First sentence row of each chunk, and the total at the end."""
        return np.searchsorted(self.sentences[:, 0], np.arange(len(self.chunks) + 1))

    def embedded(self, row: int) -> Embedded:
        """The stored vectors of chunk `row`."""
        first, last = self.sentence_starts[row], self.sentence_starts[row + 1]
        return Embedded(
            self.dense.reconstruct(row),
            self.sentences[first:last, 1:],
            self.sentence_vectors[first:last].astype(np.float32),
        )

    def chunk_sentences(self, row: int) -> np.ndarray:
        """The `[start, end)` document spans of chunk `row`'s sentences, (count, 2)."""
        return self.sentences[self.sentence_starts[row] : self.sentence_starts[row + 1], 1:]

    def passage_terms(self, rows: list[int]) -> PassageTerms:
        """The BM25 terms of chunks `rows`: as the index keeps them, or found again where it does not."""
        if self.terms is None:
            return PassageTerms.of(self.chunks[row].text for row in rows)
        return self.terms.passages(rows)

    @cached_property
    def _document_by_id(self) -> dict[str, Document]:
        return {doc.id: doc for doc in self.documents}

    def document(self, doc_id: str) -> Document:
        """The stored document `doc_id`."""
        return self._document_by_id[doc_id]

    def idf(self, words: list[str]) -> np.ndarray:
        """BM25 inverse document frequency over chunks of each term (terms never seen get the highest)."""
        total = int(self.bm25.scores["num_docs"])
        counts = np.diff(self.bm25.scores["indptr"])
        vocabulary = self.bm25.vocab_dict
        frequency = np.array([counts[vocabulary[w]] if w in vocabulary else 0 for w in words], dtype=np.float64)
        return np.log(1 + (total - frequency + 0.5) / (frequency + 0.5))

    def vectors(self) -> np.ndarray:
        """The chunk vectors, one row per chunk."""
        return self.dense.reconstruct_n(0, self.dense.ntotal)

    def save(self, index_dir: Path) -> None:
        """Write a new generation folder, then switch CURRENT to it and remove older generations."""
        index_dir = Path(index_dir)
        index_dir.mkdir(parents=True, exist_ok=True)
        generation = Path(tempfile.mkdtemp(prefix="gen-", dir=index_dir))
        try:
            self._write(generation)
            pointer = index_dir / f".{POINTER}.tmp"
            pointer.write_text(generation.name + "\n")
            _fsync(pointer)
            os.replace(pointer, index_dir / POINTER)
            _fsync(index_dir)
        except BaseException:
            shutil.rmtree(generation, ignore_errors=True)
            raise
        for old in index_dir.glob("gen-*"):
            if old.name != generation.name:
                shutil.rmtree(old, ignore_errors=True)

    def _write(self, folder: Path) -> None:
        document_number = {doc.id: n for n, doc in enumerate(self.documents)}
        rows = np.array([(document_number[c.doc_id], c.start, c.end) for c in self.chunks], dtype=np.int64)
        np.save(folder / "chunks.npy", rows.reshape(-1, 3), allow_pickle=False)
        documents = [
            {"id": d.id, "title": d.title, "sha256": d.sha256, "text": d.text} | ({"pages": d.pages} if d.pages else {})
            for d in self.documents
        ]
        (folder / "documents.json").write_text(json.dumps(documents, ensure_ascii=False), encoding="utf-8")
        faiss.write_index(self.dense, str(folder / "dense.faiss"))
        np.save(folder / "sentences.npy", self.sentences, allow_pickle=False)
        np.save(folder / "sentence_vectors.npy", self.sentence_vectors, allow_pickle=False)
        self.bm25.save(str(folder / "bm25"), show_progress=False)
        if self.terms is not None:
            np.save(folder / "terms.npy", self.terms.ids, allow_pickle=False)
            np.save(folder / "term_counts.npy", self.terms.counts, allow_pickle=False)
        self.manifest["sizes"] = _sizes(folder)
        (folder / "manifest.json").write_text(json.dumps(self.manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        for path in folder.rglob("*"):
            if path.is_file():
                _fsync(path)

    @staticmethod
    def update_manifest(index_dir: Path, entries: dict) -> None:
        """Change entries of the manifest in use, atomically (a temporary file renamed over it)."""
        folder = Path(index_dir) / (Path(index_dir) / POINTER).read_text().strip()
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8")) | entries
        temporary = folder / "manifest.json.tmp"
        temporary.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, folder / "manifest.json")

    @staticmethod
    def recorded_docs(index_dir: Path) -> Path | None:
        """The documents folder the index in `index_dir` was last built from (None when none is recorded)."""
        try:
            folder = Path(index_dir) / (Path(index_dir) / POINTER).read_text().strip()
            docs = json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("docs")
        except (OSError, ValueError):
            return None
        return Path(docs) if docs else None

    @staticmethod
    def exists(index_dir: Path) -> bool:
        """True when `index_dir` holds a saved index."""
        return (Path(index_dir) / POINTER).is_file()

    @staticmethod
    def damage(index_dir: Path, manifest: dict) -> str:
        """What is wrong with the files of the index in use, whose manifest is `manifest` ("" when every file the
        manifest lists is there at its size; an index saved before sizes were recorded is not checked)."""
        return _damage(Path(index_dir) / (Path(index_dir) / POINTER).read_text().strip(), manifest)

    @staticmethod
    def missing(index_dir: Path, docs: Path | str) -> str:
        """What to do when `index_dir` holds no index: build it from `docs`, unless it is a documents folder."""
        return not_an_index(Path(index_dir)) or f"No index at {index_dir}: build it with `qa index --docs {docs} --index {index_dir}`."

    @classmethod
    def load(cls, index_dir: Path, docs: Path | str = "DOCS") -> Store:
        """The index saved in `index_dir`; a StoreError says how to fix a missing or damaged one (with the command
        that rebuilds it from `docs`, its documents folder). A build that switches CURRENT to a new generation
        (and removes the one being read) meanwhile is not damage: the new generation is read."""
        index_dir = Path(index_dir)
        if not cls.exists(index_dir):
            raise StoreError(cls.missing(index_dir, docs))
        for attempt in range(1, LOAD_ATTEMPTS + 1):
            pointer = (index_dir / POINTER).read_text().strip()
            try:
                return cls._load(index_dir, index_dir / pointer, docs)
            except StoreError:
                if attempt == LOAD_ATTEMPTS or (index_dir / POINTER).read_text().strip() == pointer:
                    raise

    @classmethod
    def _load(cls, index_dir: Path, folder: Path, docs: Path | str) -> Store:
        """The index in generation `folder` of `index_dir`."""
        rebuild = f"rebuild it with {rebuilding(docs, index_dir)}"
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            if manifest.get("format_version") != FORMAT_VERSION:
                raise StoreError(
                    f"The index at {index_dir} has format version {manifest.get('format_version')}, this program "
                    f"reads version {FORMAT_VERSION}: {rebuild}."
                )
            damage = _damage(folder, manifest)
            if damage:
                raise StoreError(f"The index at {index_dir} is damaged ({damage}): {rebuild}.")
            raw = json.loads((folder / "documents.json").read_text(encoding="utf-8"))
            documents = [
                Document(d["id"], d["title"], d["text"], d["sha256"], tuple(map(tuple, d.get("pages", ())))) for d in raw
            ]
            rows = np.load(folder / "chunks.npy", allow_pickle=False)
            chunks = [
                Chunk(documents[n].id, int(s), int(e), documents[n].text[s:e]) for n, s, e in rows.tolist()
            ]
            dense = searchable(faiss.read_index(str(folder / "dense.faiss")))
            bm25 = bm25s.BM25.load(str(folder / "bm25"), show_progress=False)
            sentences = np.load(folder / "sentences.npy", allow_pickle=False)
            sentence_vectors = RowFile(folder / "sentence_vectors.npy")  # read as needed: it is the largest table
            terms = None
            if (folder / "terms.npy").exists():  # mapped, not read: only a build reads the ids, as it needs them
                terms = ChunkTerms(bm25.vocab_dict, np.load(folder / "terms.npy", mmap_mode="r", allow_pickle=False),
                                   np.load(folder / "term_counts.npy", mmap_mode="r", allow_pickle=False))
        except StoreError:
            raise
        except (OSError, ValueError, KeyError, IndexError, RuntimeError) as error:
            raise StoreError(
                f"The index at {index_dir} cannot be read ({type(error).__name__}: {error}): {rebuild}."
            ) from error
        tables_fit = dense.ntotal == manifest.get("chunks") == len(chunks) and len(sentences) == len(sentence_vectors)
        terms_fit = terms is None or len(terms.counts) == len(chunks) and int(terms.counts.sum()) == len(terms.ids)
        if not (tables_fit and terms_fit):
            raise StoreError(
                f"The index at {index_dir} is inconsistent ({dense.ntotal} vectors, {len(chunks)} chunks): {rebuild}."
            )
        return cls(manifest, documents, chunks, dense, bm25, sentences, sentence_vectors, terms)


def _damage(folder: Path, manifest: dict) -> str:
    """What is wrong with the files of generation `folder`, against its manifest (see `Store.damage`)."""
    if "sizes" not in manifest:
        return ""
    found = _sizes(folder)
    for name, size in manifest["sizes"].items():
        if name not in found:
            return f"{name} is missing"
        if found[name] != size:
            return f"{name} has {found[name]} bytes, not the {size} written"
    return ""


def _sizes(folder: Path) -> dict[str, int]:
    """The size in bytes of every file in a generation folder but its manifest (and a manifest being replaced),
    by path inside it."""
    return {path.relative_to(folder).as_posix(): path.stat().st_size
            for path in sorted(folder.rglob("*")) if path.is_file() and not path.name.startswith("manifest.json")}


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
