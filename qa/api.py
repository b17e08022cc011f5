"""The public face: answer() and retrieve(), over an Engine that loads the model and index once."""

from __future__ import annotations

import hashlib
import threading
import time
import warnings
from dataclasses import replace
from pathlib import Path

from index.build import BuildSummary, build, chunks_outdated_by, vectors_outdated_by
from index.config import IndexConfig
from index.documents import DOCUMENT_SUFFIXES, fingerprint, read_file
from index.errors import DocsError, StoreError
from index.embedding import Embedder, resolve_device
from index.store import Store, rebuilding
from index.terms import terms
from index.wording import counted
from qa.config import QAConfig, folders
from qa.converse import Expander, Query
from qa.errors import QuestionError
from qa.read import Answer, Reader, ReaderWeights, SentenceReader
from qa.reader_model import ReaderModel
from qa.retrieve import Passage, Retriever
from qa.span import SpanReader, SpanWeights

History = list[tuple[str, str]]
#: File types a documents folder is read for.
SUPPORTED_SUFFIXES = DOCUMENT_SUFFIXES
#: How often answer() looks at the documents folder for changes since the build.
STALE_CHECK_SECONDS = 2.0


class SettingsWarning(UserWarning):
    """An index built with other settings than the engine's (chunk sizes, embedding precision) is used as it is."""


def unreadable(path: Path) -> str:
    """Why the index would skip the file at `path` (binary, a damaged PDF, no text ...), or "" when it reads it."""
    document, note = read_file(Path(path), Path(path).name)
    return "" if document is not None else note


def load_reader_model(config: QAConfig) -> ReaderModel:
    """The configured span reader model, on the device the embedding model uses (a GPU when there is one)."""
    return ReaderModel.load(config.reader_model, device=resolve_device(config.index.device), runtime=config.reader_runtime)


def make_reader(config: QAConfig, store: Store, model: ReaderModel | None = None) -> Reader:
    """The reader the configuration names: short spans (the default; `model`, else the configured one, loaded)
    or whole sentences."""
    weights = ReaderWeights.load(config.reader_weights)
    if config.reader == "sentence":
        return SentenceReader(store, config.read_passages, config.threshold, weights)
    sentences = SentenceReader(store, config.read_passages, weights=weights)
    return SpanReader(store, sentences, model or load_reader_model(config), config.read_windows, config.threshold,
                      SpanWeights.load(config.reader_weights))


class Engine:
    """A loaded index with its embedding model, retriever and reader; a missing index is built over `docs`
    first (so the default corpus is indexed on first use), and `built` says what that build did (None when the
    index was there)."""

    def __init__(
        self,
        docs: Path | str | None = None,
        index: Path | str | None = None,
        config: QAConfig | None = None,
        embedder: Embedder | None = None,
        reader_model: ReaderModel | None = None,
    ) -> None:
        self.config = config or QAConfig()
        self.docs, self.index = folders(docs, index)
        index_config = self.config.index
        self.embedder = embedder or Embedder(index_config.model, index_config.device, index_config.batch_size, index_config.runtime)
        self.built = None if Store.exists(self.index) else build(self.docs, self.index, index_config, embedder=self.embedder)
        self.store = Store.load(self.index, self.docs)
        self._check_model()
        vectors = vectors_outdated_by(self.store.manifest, index_config, self.embedder)
        outdated = vectors or chunks_outdated_by(self.store.manifest, index_config, self.embedder)
        if outdated:
            update = ("embeds everything again" if vectors else
                      "cuts every document again, embedding only the chunks that come out different")
            warnings.warn(f"The index at {self.index} was built with other settings ({outdated}): it is used as it "
                          f"is, and its next update (`qa index --docs {self.docs} --index {self.index}`) {update}.",
                          SettingsWarning, stacklevel=2)
        self.retriever = Retriever(self.store, self.embedder, self.config.fusion, self.config.candidates)
        self.reader = make_reader(self.config, self.store, reader_model)
        self.expander = Expander(self.store)
        self._stale_checked = (-STALE_CHECK_SECONDS, False)
        self._same_content: dict | None = None  # the folder's sizes and times last found to hold the indexed bytes

    def description(self) -> str:
        """One line on the index in use: its documents and chunks, model, last update and folder."""
        manifest = self.store.manifest
        return (
            f"{counted(len(manifest['documents']), 'document')}, {counted(manifest['chunks'], 'chunk')} · "
            f"model {manifest['model']} · updated {manifest['updated']} · folder {self.docs}"
        )

    def stale(self) -> bool:
        """True when the documents folder changed (files added, removed, edited) since the index was built;
        checked from file sizes and times, at most every STALE_CHECK_SECONDS. A file whose time changed but
        not its content (touched, copied, checked out again) is read once to tell."""
        checked_at, stale = self._stale_checked
        if time.monotonic() - checked_at >= STALE_CHECK_SECONDS:
            try:
                stamps = fingerprint(self.docs)
                stale = stamps not in (self.store.manifest.get("files"), self._same_content) and self._edited(stamps)
                if not stale:
                    self._same_content = stamps
            except DocsError:
                stale = True  # the folder is gone
            self._stale_checked = (time.monotonic(), stale)
        return stale

    def _edited(self, stamps: dict[str, list[int]]) -> bool:
        """True when a file was added or removed, or one whose size or time differs from the build's holds other
        bytes than the document indexed under its name."""
        recorded, indexed = self.store.manifest.get("files") or {}, self.store.manifest["documents"]
        if set(stamps) != set(recorded):
            return True
        for doc_id, stamp in stamps.items():
            if stamp != recorded[doc_id]:
                try:
                    data = (self.docs / doc_id).read_bytes()
                except OSError:
                    return True
                if doc_id not in indexed or hashlib.sha256(data).hexdigest() != indexed[doc_id]["sha256"]:
                    return True
        return False

    def _check_model(self) -> None:
        """A StoreError, naming the fix, when the index was embedded by another model than this engine's."""
        built_with, dimension = self.store.manifest.get("model"), self.store.manifest.get("dimension")
        if built_with != self.embedder.name or dimension != self.embedder.dimension:
            raise StoreError(
                f"The index at {self.index} was built with the model {built_with!r} ({dimension} dimensions); "
                f"this program uses {self.embedder.name!r} ({self.embedder.dimension} dimensions). Rebuild it with "
                f"{rebuilding(self.docs, self.index)}, or set QA_MODEL={built_with}."
            )

    def updated(self, rebuild: bool = False) -> tuple[Engine, BuildSummary]:
        """A new engine over the index brought in line with the documents folder (only what changed is
        embedded), and what the build did. This engine keeps answering from the old index meanwhile."""
        summary = build(self.docs, self.index, self.config.index, rebuild=rebuild, embedder=self.embedder)
        model = self.reader.model if isinstance(self.reader, SpanReader) else None
        return Engine(self.docs, self.index, self.config, self.embedder, model), summary

    def check(self, question: str) -> str:
        """The question without surrounding white space; a QuestionError when it is blank or too long."""
        if not isinstance(question, str):
            raise QuestionError(f"The question must be text, not {type(question).__name__}.")
        question = question.strip()
        try:
            question.encode("utf-8")
        except UnicodeEncodeError as error:
            raise QuestionError(f"The question holds a character that is not text ({question[error.start]!r} at "
                                f"{error.start}): remove it.") from None
        if not question:
            raise QuestionError("The question is empty: ask something about the documents.")
        if len(question) > self.config.max_question_chars:
            raise QuestionError(
                f"The question is {len(question):,} characters long; the limit is "
                f"{self.config.max_question_chars:,}. Ask a shorter question."
            )
        return question

    def passages_wanted(self, k: int | None) -> int:
        """`k`, checked (a ValueError unless it is 1 or more), or the configured number when None."""
        if k is None:
            return self.config.k
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k, the number of passages, must be a whole number of 1 or more, not {k!r}.")
        return k

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        """The `k` passages that best match the question, best first."""
        return self.retriever.search(self.check(question), self.passages_wanted(k))

    def answer(self, question: str, history: History | None = None, k: int | None = None) -> Answer:
        """A cited extractive answer. `history` holds earlier (question, answer text) pairs, oldest first."""
        question = self.check(question)
        query = self.expander.expand(question, checked_history(history))
        vectors = self.embedder.encode([question, query.text] if query.added else [question], progress=False)
        passages = self.retriever.search_expanded(query, self.passages_wanted(k), vectors)
        text, expanded = self.reading(query)
        answer = self.reader.read(text, vectors[-1] if expanded else vectors[0], passages)
        return replace(answer, question=question, added=query.added, stale=self.stale())

    @staticmethod
    def reading(query: Query) -> tuple[str, bool]:
        """What the reader reads as the question, and whether it judges sentences by the vector of the question
        with the words added from earlier turns rather than the question's own. The fewer content words a
        follow-up has, the more it leans on those: with none ("When?", "Why?", "And Russia?") it is read with
        them, since they name what it asks about; with one ("Who founded it?") its own vector is too weak to
        judge sentences by. A question with more stands on its own; the added words only steered the search."""
        if not query.added:
            return query.question, False
        own = len(set(terms(query.question)))
        return (query.question if own else query.text), own <= 1


def checked_history(history: History | None) -> History:
    """`history` as a list of (question, answer text) pairs; a QuestionError says what a malformed one should be."""
    if history is not None and not isinstance(history, (list, tuple)):
        raise QuestionError(f"history must be a list of (question, answer text) pairs, oldest first, not "
                            f"{type(history).__name__}.")
    pairs = list(history or [])
    for turn, pair in enumerate(pairs, 1):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(isinstance(text, str) for text in pair)):
            shown = repr(pair) if len(repr(pair)) <= 80 else repr(pair)[:79] + "…"
            raise QuestionError(f"history turn {turn} is {shown}: each turn must be a (question, answer text) pair "
                                "of strings, oldest first.")
    return [(question, answer) for question, answer in pairs]


class Chat:
    """A conversation: each question is answered with the turns before it as history."""

    def __init__(self, index: Engine | Path | str | None = None, docs: Path | str | None = None) -> None:
        """`index` and `docs` as `answer()` takes them: a loaded Engine, or the folders (by default the index over
        `QA_DOCS`, else `seeds/`)."""
        self.index, self.docs = index, docs
        self.history: History = []

    def ask(self, question: str) -> Answer:
        """Answer `question` as a follow-up of the earlier turns, and remember the turn."""
        result = _engine_for(self.index, self.docs).answer(question, self.history)
        self.history.append((result.question, result.text))
        return result


_engines: dict[tuple[Path, Path], Engine] = {}
_lock = threading.Lock()  # guards the two tables
_loading: dict[tuple[Path, Path], threading.Lock] = {}  # one per pair of folders: loading one never waits for another


def engine(docs: Path | str | None = None, index: Path | str | None = None) -> Engine:
    """The process-wide engine for this documents folder and index, loaded on first use (built first when the
    index is missing; the engines of other folders answer meanwhile)."""
    docs_path, index_path = folders(docs, index)
    key = (docs_path.resolve(), index_path.resolve())
    with _lock:
        loading = _loading.setdefault(key, threading.Lock())
    with loading:
        with _lock:
            if key in _engines:
                return _engines[key]
            shared = next(iter(_engines.values())).embedder if _engines else None
        loaded = Engine(docs_path, index_path, embedder=shared)
        with _lock:
            _engines[key] = loaded
        return loaded


def update(qa: Engine, rebuild: bool = False) -> tuple[Engine, BuildSummary]:
    """Bring `qa`'s index in line with its folder and return the new engine with what the build did. When `qa`
    is the one `engine()` returns for its folders, later `engine()` calls return the new one; an engine made
    with its own settings (`Engine(docs, index, config)`) is never handed out by `engine()`."""
    if not isinstance(qa, Engine):
        raise TypeError(f"update() takes an Engine (qa.engine(docs, index)), not {type(qa).__name__}")
    fresh, summary = qa.updated(rebuild)
    key = (qa.docs.resolve(), qa.index.resolve())
    with _lock:
        if _engines.get(key) is qa:
            _engines[key] = fresh
    return fresh, summary


def build_index(docs: Path | str | None = None, index: Path | str | None = None, rebuild: bool = False,
                config: IndexConfig | None = None) -> BuildSummary:
    """Build or update the index over `docs` as `qa index` does (the same defaults): only what changed is
    embedded, a damaged index is rebuilt, and `rebuild=True` embeds everything again. Later `engine()` calls
    load the new index. Returns what the build did (`print(summary)` gives `qa index`'s summary)."""
    docs_path, index_path = folders(docs, index)
    with _lock:  # the loaded model, unless other settings are asked for
        shared = next(iter(_engines.values())).embedder if _engines and config is None else None
    summary = build(docs_path, index_path, config, rebuild=rebuild, embedder=shared)
    with _lock:
        _engines.pop((docs_path.resolve(), index_path.resolve()), None)
    return summary


def _engine_for(index: Engine | Path | str | None, docs: Path | str | None) -> Engine:
    return index if isinstance(index, Engine) else engine(docs, index)


def answer(
    question: str,
    history: History | None = None,
    index: Engine | Path | str | None = None,
    docs: Path | str | None = None,
) -> Answer:
    """Answer `question` from the documents with cited verbatim spans (see Answer). `index` is an Engine
    or an index folder; by default the index over `QA_DOCS` (or `seeds/`), built on first use."""
    return _engine_for(index, docs).answer(question, history)


def retrieve(
    question: str, k: int | None = None, index: Engine | Path | str | None = None, docs: Path | str | None = None
) -> list[Passage]:
    """The `k` passages (doc, title, start, end, text, score) that best match `question`, best first (by default
    the engine's `QAConfig.k`, 5)."""
    return _engine_for(index, docs).retrieve(question, k)
