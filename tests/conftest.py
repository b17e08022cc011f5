"""Shared fixtures: one embedding model per test session, and a seed index built once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.build import build
from index.embedding import Embedder

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def cache_home(tmp_path_factory) -> str:
    """The test session's cache folder (indexes, exported ONNX models), never the user's."""
    return str(tmp_path_factory.getbasetemp() / "cache")


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory):
    """Session fixtures (the embedder, the seed engine) also export models into the session's cache: autouse
    fixtures of a scope come before the others of that scope."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", cache_home(tmp_path_factory))
        yield


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory, monkeypatch):
    """No test reads the user's settings or writes to the user's cache."""
    for name in ("QA_DOCS", "QA_INDEX", "QA_MODEL", "QA_READER", "QA_READER_MODEL", "QA_DENSE_INDEX",
                 "QA_RUNTIME", "QA_READER_RUNTIME", "QA_READ_WINDOWS", "QA_MAX_UPLOAD_MB", "QA_AUTH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", cache_home(tmp_path_factory))


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder(device="cpu")


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, embedder) -> tuple[Path, Path]:
    """(docs folder, index folder) over a copy of the seed article."""
    root = tmp_path_factory.mktemp("seed")
    docs = root / "docs"
    shutil.copytree(SEEDS, docs)
    build(docs, root / "index", embedder=embedder)
    return docs, root / "index"


@pytest.fixture(scope="session")
def seed_engine(seed_index, embedder):
    from qa.api import Engine

    docs, index = seed_index
    return Engine(docs, index, embedder=embedder)
