"""QA settings and their defaults, in one place; environment variables override the defaults."""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from index.config import RUNTIMES, IndexConfig, cache_home, require_numbers
from qa.reader_model import SHIPPED_READER
from qa.retrieve import FusionWeights

#: The readers a QAConfig can name: short answers (span) or whole sentences (sentence).
READERS = ("span", "sentence")
#: The readers' fitted weights and thresholds that ship with the project (`qa calibrate` writes others).
SHIPPED_WEIGHTS = Path(__file__).resolve().with_name("reader_weights.json")

#: The seed corpus that ships with the project: seeds/ beside the packages (a clone, an editable install), else
#: where a wheel puts it (`[tool.setuptools.data-files]` in pyproject.toml).
SEEDS = next((folder for folder in (Path(__file__).resolve().parent.parent / "seeds",
                                    Path(sys.prefix) / "share" / "qa" / "seeds") if folder.is_dir()),
             Path(__file__).resolve().parent.parent / "seeds")


def default_docs() -> Path:
    """`QA_DOCS`, else the project's `seeds/` folder."""
    return Path(os.environ.get("QA_DOCS") or SEEDS)


def default_index(docs: Path) -> Path:
    """`QA_INDEX`, else a folder under the user's cache named after the documents folder."""
    if os.environ.get("QA_INDEX"):
        return Path(os.environ["QA_INDEX"])
    resolved = Path(docs).resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:10]
    return cache_home() / f"{resolved.name}-{digest}"


def folders(docs: Path | str | None = None, index: Path | str | None = None) -> tuple[Path, Path]:
    """The documents folder and index folder to use: those given, else the defaults above; with an index and no
    documents folder (nor `QA_DOCS`), the folder that index was built from, so that updating it never swaps
    its documents for the seed corpus."""
    if docs is None and index is not None and not os.environ.get("QA_DOCS"):
        from index.store import Store

        docs = Store.recorded_docs(Path(index))
    docs_path = Path(docs) if docs is not None else default_docs()
    return docs_path, Path(index) if index is not None else default_index(docs_path)


def _whole_number(name: str, default: int) -> int:
    """The environment variable `name` as a whole number, else `default`."""
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None


@dataclass(frozen=True)
class QAConfig:
    """Where the documents and index are, and how questions are answered."""

    index: IndexConfig = field(default_factory=IndexConfig)
    k: int = 5  # passages returned by retrieve()
    fusion: FusionWeights = field(default_factory=FusionWeights)  # chunk cosine, best sentence cosine, BM25
    candidates: int = 50  # passages each retriever proposes for fusion
    read_passages: int = 3  # passages whose sentences the reader scores
    threshold: float | None = None  # answer only when the calibrated score reaches this (None: the calibrated one)
    max_question_chars: int = 2000
    reader: str = field(default_factory=lambda: os.environ.get("QA_READER", "span"))  # "span" or "sentence"
    reader_model: str = field(default_factory=lambda: os.environ.get("QA_READER_MODEL", str(SHIPPED_READER)))
    reader_runtime: str = field(default_factory=lambda: os.environ.get("QA_READER_RUNTIME", "auto"))  # see index.onnx_model
    # The readers' weights and thresholds: a file `qa calibrate` wrote.
    reader_weights: str = field(default_factory=lambda: os.environ.get("QA_READER_WEIGHTS", str(SHIPPED_WEIGHTS)))
    # Best sentences the span reader reads (each with the sentence before it).
    read_windows: int = field(default_factory=lambda: _whole_number("QA_READ_WINDOWS", 3))

    def __post_init__(self) -> None:
        if not isinstance(self.index, IndexConfig):
            raise TypeError(f"index must be an IndexConfig, not {self.index!r}")
        if not isinstance(self.fusion, FusionWeights):
            raise TypeError(f"fusion must be FusionWeights(dense, sentence, lexical), not {self.fusion!r}")
        require_numbers(self, whole=("k", "candidates", "read_passages", "max_question_chars", "read_windows"),
                        real=() if self.threshold is None else ("threshold",))
        if self.reader not in READERS:
            raise ValueError(f"reader must be one of {', '.join(READERS)}, not {self.reader!r} (check QA_READER)")
        if self.reader_runtime not in RUNTIMES:
            raise ValueError(f"reader_runtime must be one of {', '.join(RUNTIMES)}, not {self.reader_runtime!r} "
                             "(check QA_READER_RUNTIME)")
        if self.read_windows < 1:
            raise ValueError(f"read_windows must be 1 or more, not {self.read_windows} (check QA_READ_WINDOWS)")
        for name in ("k", "candidates", "read_passages", "max_question_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be 1 or more, not {getattr(self, name)}")
        if self.threshold is not None and not 0 <= self.threshold <= 1:
            raise ValueError(f"threshold must be a probability between 0 and 1 (or None: the calibrated one), "
                             f"not {self.threshold}")
