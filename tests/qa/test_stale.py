"""A documents folder that changed since the build is noticed, and updating clears it."""

from __future__ import annotations

import os
import shutil

import pytest

import qa.api
from index.build import build
from qa.api import Engine, update
from qa.cli import main
from tests.conftest import SEEDS


@pytest.fixture
def folders(tmp_path, embedder, monkeypatch):
    monkeypatch.setattr(qa.api, "STALE_CHECK_SECONDS", 0.0)
    docs, index = tmp_path / "docs", tmp_path / "index"
    shutil.copytree(SEEDS, docs)
    build(docs, index, embedder=embedder)
    return docs, index


def test_changes_are_noticed_and_an_update_clears_them(folders, embedder):
    docs, index = folders
    engine = Engine(docs, index, embedder=embedder)
    assert not engine.answer("Who is Armenia's Prime Minister?").stale
    (docs / "new.md").write_text("Lake Sevan\n\nLake Sevan is the largest lake in Armenia.\n")
    assert engine.answer("Who is Armenia's Prime Minister?").stale
    fresh, summary = update(engine)
    assert summary.added == ["new.md"] and not fresh.answer("What is the largest lake in Armenia?").stale
    assert fresh.reader.model is engine.reader.model  # the span reader model is not loaded again


def test_a_touched_file_is_not_stale_and_one_edited_in_place_is(folders, embedder):
    docs, index = folders
    seed = next(docs.iterdir())
    os.utime(seed, ns=(seed.stat().st_atime_ns, seed.stat().st_mtime_ns + 10**9))  # as a clone or checkout does
    engine = Engine(docs, index, embedder=embedder)
    assert not engine.stale() and not engine.answer("Who is Armenia's Prime Minister?").stale
    assert build(docs, index, embedder=embedder).embedded_chunks == 0
    assert not Engine(docs, index, embedder=embedder).stale()
    text = seed.read_bytes()
    seed.write_bytes(text.replace(b"Armenia", b"Armeniz", 1))  # the same size, another time and content
    assert engine.stale()


def test_qa_ask_warns_about_a_stale_index(folders, capsys):
    docs, index = folders
    (docs / "seed-copy.txt").write_text("Another note about Armenia.\n")
    assert main(["ask", "Who is Armenia's Prime Minister?", "--docs", str(docs), "--index", str(index)]) == 0
    captured = capsys.readouterr()
    assert "changed since the index was built" in captured.err and "qa index" in captured.err
    assert "Pashinyan" in captured.out


def test_qa_ask_says_when_the_documents_folder_is_gone(folders, capsys):
    docs, index = folders
    shutil.rmtree(docs)
    assert main(["ask", "Who is Armenia's Prime Minister?", "--docs", str(docs), "--index", str(index)]) == 0
    captured = capsys.readouterr()
    assert f"the documents folder {docs} is gone" in captured.err and "qa index" not in captured.err
    assert "Pashinyan" in captured.out
