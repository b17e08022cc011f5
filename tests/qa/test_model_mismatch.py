"""An index embedded by another model is refused with the command that fixes it, never used."""

from __future__ import annotations

import pytest

from index.errors import StoreError
from index.store import Store
from qa.api import Engine
from qa.cli import main


def test_an_index_of_another_model_names_the_fix(seed_index, tmp_path, embedder, capsys):
    import shutil

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
