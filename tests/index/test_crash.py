"""A build killed with SIGKILL while embedding or while writing leaves the previous index loading and
answering; the next build finishes the job."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

from index.build import build
from index.store import Store
from qa.api import Engine
from tests.conftest import ROOT, SEEDS

KILLERS = {
    "embedding": """
        from index.embedding import Embedder
        def encode_passages(self, texts, spans, progress=None, tokens=()):
            os.kill(os.getpid(), signal.SIGKILL)
        Embedder.encode_passages = encode_passages
    """,
    "writing": """
        from index.store import Store
        def write(self, folder):
            (folder / "chunks.npy").write_bytes(b"half written")
            os.kill(os.getpid(), signal.SIGKILL)
        Store._write = write
    """,
}


@pytest.mark.parametrize("moment", sorted(KILLERS))
def test_a_killed_build_keeps_the_previous_index(moment, tmp_path, embedder):
    docs, index = tmp_path / "docs", tmp_path / "index"
    shutil.copytree(SEEDS, docs)
    build(docs, index, embedder=embedder)
    before = Store.load(index).chunks
    (docs / "sevan.md").write_text("Lake Sevan\n\nLake Sevan is the largest lake in Armenia.\n")
    script = "import os, signal, sys\n" + textwrap.dedent(KILLERS[moment]) + (
        f"from index.build import build\nbuild({str(docs)!r}, {str(index)!r})\n"
    )
    killed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert Store.load(index).chunks == before
    assert Engine(docs, index, embedder=embedder).answer("Who is Armenia's Prime Minister?").found
    summary = build(docs, index, embedder=embedder)
    assert summary.added == ["sevan.md"] and len(list(index.glob("gen-*"))) == 1
    assert Engine(docs, index, embedder=embedder).answer("What is the largest lake in Armenia?").found
