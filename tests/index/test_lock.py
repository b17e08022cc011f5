"""Two builds of one index at once: the second waits for the first and says so."""

from __future__ import annotations

import shutil
import threading
import time

from index.build import build, build_lock
from index.store import Store
from tests.conftest import SEEDS


def test_a_second_build_waits_for_the_first(tmp_path, embedder, capfd):
    docs, index = tmp_path / "docs", tmp_path / "index"
    shutil.copytree(SEEDS, docs)
    results = []
    with build_lock(index):
        worker = threading.Thread(target=lambda: results.append(build(docs, index, embedder=embedder)))
        worker.start()
        time.sleep(1.0)
        assert worker.is_alive() and not Store.exists(index)
    worker.join(timeout=120)
    assert results and results[0].chunks > 0 and Store.exists(index)
    assert "Another build" in capfd.readouterr().err
