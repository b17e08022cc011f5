"""An index that cannot be used (embedded by another model, damaged) is refused with the command that fixes it
from the same documents, never used."""

from __future__ import annotations

import re
import shlex
import shutil

import pytest

from index.errors import StoreError
from index.store import Store
from qa.api import Engine
from qa.cli import main


def test_an_index_of_another_model_names_the_fix(seed_index, tmp_path, embedder, capsys):
    docs, index = seed_index
    other = tmp_path / "other-model-index"
    shutil.copytree(index, other)
    Store.update_manifest(other, {"model": "some/other-model", "dimension": 768})
    with pytest.raises(StoreError, match="qa index --rebuild"):
        Engine(docs, other, embedder=embedder)
    assert main(["ask", "Who?", "--docs", str(docs), "--index", str(other)]) == 1
    error = capsys.readouterr().err
    assert "some/other-model" in error and "QA_MODEL" in error and error.count("\n") == 1
    assert main(["index", "--docs", str(docs), "--index", str(other)]) == 0  # a build replaces it
    assert "full rebuild: model changed" in capsys.readouterr().out
    assert Engine(docs, other, embedder=embedder).answer("Who is Armenia's Prime Minister?").found


def test_the_fix_a_damaged_index_names_rebuilds_it_from_its_own_documents(seed_index, tmp_path, embedder, capsys):
    docs, index = seed_index
    damaged = tmp_path / "damaged-index"
    shutil.copytree(index, damaged)
    next(damaged.glob("gen-*/dense.faiss")).unlink()
    with pytest.raises(StoreError, match="damaged") as refused:
        Engine(docs, damaged, embedder=embedder)
    command = shlex.split(re.search(r"`qa (index [^`]*)`", str(refused.value)).group(1))
    assert command[command.index("--docs") + 1] == str(docs)
    assert main(command) == 0
    assert Engine(docs, damaged, embedder=embedder).answer("Who is Armenia's Prime Minister?").found
