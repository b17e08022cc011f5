"""ONNX Runtime: the exported embedder gives PyTorch's vectors (int8: nearly), exports are cached, bad runtimes are refused."""

import json

import numpy as np
import pytest

from index.config import IndexConfig
from index.embedding import Embedder
from index.onnx_model import cache_dir, resolve_runtime

TEXTS = ["Armenia froze its participation in the CSTO on Feb. 23.", "Lake Sevan lies at 1,900 metres.", "Hi."]
SPANS = [[(0, 6), (7, 56), (56, 56)], [], [(0, 3)]]  # (56, 56) holds no token: it gets its text's vector


@pytest.fixture(scope="module")
def torch_embedder():
    return Embedder(device="cpu", runtime="torch")


def test_onnx_gives_the_vectors_of_pytorch_and_int8_nearly(torch_embedder, embedder):
    onnx = Embedder(device="cpu", runtime="onnx")
    assert embedder.runtime == "onnx-int8" and embedder.precision == "int8"  # the CPU default
    assert onnx.precision == torch_embedder.precision == "float32"
    expected = torch_embedder.encode(TEXTS)
    np.testing.assert_allclose(onnx.encode(TEXTS), expected, atol=1e-5)
    assert np.all(np.sum(embedder.encode(TEXTS) * expected, axis=1) > 0.97)  # 0.978 for "Hi."
    vectors, pooled = onnx.encode_passages(TEXTS, SPANS)
    expected_vectors, expected_pooled = torch_embedder.encode_passages(TEXTS, SPANS)
    np.testing.assert_allclose(vectors, expected_vectors, atol=1e-5)
    for got, want in zip(pooled, expected_pooled):
        np.testing.assert_allclose(got.astype(np.float32), want.astype(np.float32), atol=2e-3)  # float16 storage
    assert [len(rows) for rows in pooled] == [3, 0, 1]
    np.testing.assert_allclose(expected_pooled[0][2].astype(np.float32), expected_vectors[0], atol=2e-3)
    np.testing.assert_allclose(np.linalg.norm(embedder.encode(TEXTS), axis=1), 1.0, rtol=1e-5)


def test_half_precision_torch_gives_float32_vectors_nearly(torch_embedder):
    half = Embedder(device="cpu", runtime="torch-fp16")  # the GPU default; PyTorch runs float16 on the CPU too
    assert half.precision == "float16" and next(half.backend.model.parameters()).dtype.itemsize == 2
    vectors, pooled = half.encode_passages(TEXTS, SPANS)
    expected_vectors, expected_pooled = torch_embedder.encode_passages(TEXTS, SPANS)
    assert vectors.dtype == np.float32 and np.all(np.sum(vectors * expected_vectors, axis=1) > 0.999)
    for got, want in zip(pooled, expected_pooled):
        np.testing.assert_allclose(got.astype(np.float32), want.astype(np.float32), atol=5e-3)
    assert np.all(np.sum(half.encode(TEXTS) * torch_embedder.encode(TEXTS), axis=1) > 0.999)


def test_an_export_is_made_once_and_reused(embedder):
    exported = sorted(cache_dir().glob("*.onnx"))
    assert exported, "the session's embedder exported its model"
    times = [path.stat().st_mtime_ns for path in exported]
    Embedder(device="cpu")
    assert sorted(cache_dir().glob("*.onnx")) == exported
    assert [path.stat().st_mtime_ns for path in exported] == times


def test_auto_runs_a_pipeline_it_cannot_reproduce_on_torch(tmp_path):
    import shutil

    from index.embedding import embedding_runtime, resolve_model

    model = tmp_path / "model"
    shutil.copytree(resolve_model("all-MiniLM-L6-v2"), model)
    assert embedding_runtime(str(model), "auto", "cpu") == "onnx-int8"
    modules = json.loads((model / "modules.json").read_text())
    modules.append({"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"})
    (model / "modules.json").write_text(json.dumps(modules))
    assert embedding_runtime(str(model), "auto", "cpu") == "torch"
    assert embedding_runtime(str(model), "onnx", "cpu") == "onnx"  # asked for: Embedder then says why it can't
    with pytest.raises(ValueError, match="Dense"):
        Embedder(str(model), device="cpu", runtime="onnx")


def test_torch_tokenizes_once_only_where_our_tokenizer_is_the_models(tmp_path, torch_embedder):
    import shutil

    from index.embedding import resolve_model

    assert torch_embedder.backend.tokenized_alike
    model = tmp_path / "model"
    shutil.copytree(resolve_model("all-MiniLM-L6-v2"), model)
    settings = json.loads((model / "sentence_bert_config.json").read_text())
    (model / "sentence_bert_config.json").write_text(json.dumps(settings | {"do_lower_case": True}))
    lowercasing = Embedder(str(model), device="cpu", runtime="torch")
    assert not lowercasing.backend.tokenized_alike  # sentence-transformers lowercases first: its tokenization is used
    vectors, pooled = lowercasing.encode_passages(TEXTS, SPANS)
    expected_vectors, expected_pooled = torch_embedder.encode_passages(TEXTS, SPANS)  # the tokenizer is uncased
    np.testing.assert_allclose(vectors, lowercasing.backend.model.encode(TEXTS, normalize_embeddings=True), atol=1e-5)
    np.testing.assert_allclose(vectors, expected_vectors, atol=1e-5)
    for got, want in zip(pooled, expected_pooled):
        np.testing.assert_array_equal(got, want)


def test_runtimes_resolve_by_device_and_bad_ones_are_refused(monkeypatch):
    assert resolve_runtime("auto", "cpu", "onnx-int8") == "onnx-int8"
    assert resolve_runtime("auto", "cuda", "onnx-int8") == "torch"
    assert resolve_runtime("auto", "cuda", "onnx-int8", "torch-fp16") == "torch-fp16"
    assert resolve_runtime("torch-fp16", "cuda", "onnx-int8") == "torch-fp16"
    with pytest.raises(ValueError, match="CPU only"):
        resolve_runtime("onnx", "cuda", "onnx")
    monkeypatch.setenv("QA_RUNTIME", "tensorrt")
    with pytest.raises(ValueError, match="QA_RUNTIME"):
        IndexConfig()


def test_a_model_path_to_no_folder_is_refused_with_what_to_give(tmp_path):
    """transformers takes a path to nothing for a malformed model name (and says so); we say what is wrong."""
    for path in ("/no/such/model", "./no-such-model", str(tmp_path / "missing")):
        with pytest.raises(ValueError, match=f"there is no folder at {path}. Use a model folder on this machine"):
            Embedder(path, device="cpu")


def tiny_model(folder, half: bool = False):
    """The packaged pipeline and tokenizer around a tiny random BERT, stored in float16 if `half`: `folder`."""
    import shutil

    import torch
    from transformers import BertConfig, BertModel

    from index.embedding import resolve_model

    shutil.copytree(resolve_model("all-MiniLM-L6-v2"), folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    model = BertModel(config)
    (model.half() if half else model).save_pretrained(folder)
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling | {"word_embedding_dimension": 32}))
    return folder


def test_a_model_stored_in_half_precision_runs_in_float32(tmp_path):
    import torch

    model = tiny_model(tmp_path / "model", half=True)
    plain = Embedder(str(model), device="cpu", runtime="torch")
    assert plain.precision == "float32" and next(plain.backend.model.parameters()).dtype == torch.float32
    expected = plain.encode(TEXTS)
    np.testing.assert_allclose(Embedder(str(model), device="cpu", runtime="onnx").encode(TEXTS), expected, atol=1e-5)
    assert np.all(np.sum(Embedder(str(model), device="cpu").encode(TEXTS) * expected, axis=1) > 0.97)  # int8


def test_exporting_leaves_the_root_logger_without_handlers(tmp_path, monkeypatch, capfd):
    import logging

    from transformers.utils import logging as transformers_logging

    transformers_logging.enable_progress_bar()  # as in a fresh process (an earlier test may have disabled it)
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # as in a command, before anything logs
    Embedder(str(tiny_model(tmp_path / "model")), device="cpu")  # exported, then quantized to int8
    assert logging.getLogger().handlers == []  # else bm25s's DEBUG records would print through one
    err = capfd.readouterr().err
    assert "Exporting the embedding model" in err and "Loading weights" not in err  # no transformers progress bar
