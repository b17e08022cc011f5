"""Store: FAISS agrees with brute force; saving and loading give the same index; no pickle on disk."""

from __future__ import annotations

import json

import numpy as np
import pytest

from index.chunking import Chunk
from index.config import IndexConfig
from index.dense import APPROXIMATE_FROM, dense_kind
from index.documents import Document
from index.errors import StoreError
from index.store import POINTER, Embedded, Store
from index.terms import terms


def _store(count: int = 40, dimension: int = 16, dense_index: str = "auto") -> Store:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(count, dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    text = " ".join(f"word{i} alpha beta" for i in range(count))
    document = Document("a.txt", "A", text, "0" * 64)
    chunks, position = [], 0
    for i in range(count):
        piece = f"word{i} alpha beta"
        start = text.index(piece, position)
        chunks.append(Chunk("a.txt", start, start + len(piece), piece))
        position = start + len(piece)
    embedded = [
        Embedded(vector, np.array([[chunk.start, chunk.end]]), vector[None, :]) for vector, chunk in zip(vectors, chunks)
    ]
    return Store.create({"model": "test"}, [document], chunks, embedded, dense_index=dense_index)


def test_faiss_search_matches_brute_force():
    store = _store()
    vectors = store.vectors()
    queries = vectors[:5] + 0.1
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    scores, rows = store.dense.search(queries, 10)
    brute = queries @ vectors.T
    expected = np.argsort(-brute, axis=1)[:, :10]
    np.testing.assert_array_equal(rows, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(brute, expected, 1), rtol=1e-5)


def test_hnsw_finds_what_exact_search_finds_and_survives_a_round_trip(tmp_path):
    store = _store(count=400, dense_index="hnsw")
    assert store.manifest["dense_index"] == "hnsw" and _store().manifest["dense_index"] == "flat"
    vectors = store.vectors()
    queries = vectors[:20] + 0.05
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    _, rows = store.dense.search(queries, 10)
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    recall = np.mean([len(set(found) & set(wanted)) / 10 for found, wanted in zip(rows, exact)])
    assert recall >= 0.95
    store.save(tmp_path)
    loaded = Store.load(tmp_path)
    np.testing.assert_array_equal(loaded.dense.search(queries, 10)[1], rows)
    np.testing.assert_array_equal(loaded.embedded(7).vector, vectors[7])


def test_auto_picks_hnsw_for_large_corpora_and_bad_kinds_are_refused():
    assert dense_kind("auto", APPROXIMATE_FROM - 1) == "flat" and dense_kind("auto", APPROXIMATE_FROM) == "hnsw"
    assert dense_kind("flat", 10**6) == "flat"
    with pytest.raises(ValueError, match="QA_DENSE_INDEX"):
        IndexConfig(dense_index="ivf")


def test_save_and_load_round_trip(tmp_path):
    store = _store()
    store.save(tmp_path)
    loaded = Store.load(tmp_path)
    assert loaded.chunks == store.chunks
    assert loaded.documents == store.documents
    np.testing.assert_array_equal(loaded.vectors(), store.vectors())
    np.testing.assert_allclose(loaded.bm25.get_scores(["word3"]), store.bm25.get_scores(["word3"]))
    np.testing.assert_array_equal(loaded.sentences, store.sentences)
    np.testing.assert_array_equal(loaded.sentence_vectors, store.sentence_vectors)
    assert loaded.embedded(3).sentences.tolist() == [[store.chunks[3].start, store.chunks[3].end]]
    assert loaded.manifest == json.loads(json.dumps(store.manifest))
    generation = tmp_path / (tmp_path / POINTER).read_text().strip()
    for path in generation.rglob("*.npy"):
        np.load(path, allow_pickle=False)  # raises if anything was pickled
    assert not list(tmp_path.rglob("*.pkl")) and not list(tmp_path.rglob("*.pickle"))


def test_saving_again_replaces_the_generation_and_leaves_one(tmp_path):
    store = _store()
    store.save(tmp_path)
    store.save(tmp_path)
    assert len(list(tmp_path.glob("gen-*"))) == 1
    assert Store.load(tmp_path).chunks == store.chunks


def test_a_failed_save_keeps_the_previous_index(tmp_path, monkeypatch):
    store = _store()
    store.save(tmp_path)

    def broken(self, folder):
        (folder / "manifest.json").write_text("{half")
        raise OSError("disk full")

    monkeypatch.setattr(Store, "_write", broken)
    with pytest.raises(OSError):
        _store(count=10).save(tmp_path)
    assert len(Store.load(tmp_path).chunks) == 40
    assert len(list(tmp_path.glob("gen-*"))) == 1


def test_missing_and_damaged_indexes_say_how_to_fix_them(tmp_path):
    with pytest.raises(StoreError, match="qa index"):
        Store.load(tmp_path / "nowhere")
    _store().save(tmp_path)
    generation = tmp_path / (tmp_path / POINTER).read_text().strip()
    (generation / "chunks.npy").write_bytes(b"garbage")
    with pytest.raises(StoreError, match="--rebuild"):
        Store.load(tmp_path)


@pytest.mark.parametrize("damage", ["missing", "cut short"])
def test_a_damaged_file_is_found_on_load_and_the_fix_names_the_documents(damage, tmp_path):
    store = _store()
    store.save(tmp_path)
    generation = tmp_path / (tmp_path / POINTER).read_text().strip()
    assert Store.damage(tmp_path, store.manifest) == ""
    vectors = generation / "sentence_vectors.npy"
    if damage == "missing":
        vectors.unlink()
    else:
        vectors.write_bytes(vectors.read_bytes()[:-64])  # rows are read as needed, so only the size tells
    with pytest.raises(StoreError, match=r"damaged \(sentence_vectors.npy .*`qa index --rebuild --docs notes --index "):
        Store.load(tmp_path, docs="notes")


def test_kept_terms_load_with_the_index_and_must_fit_its_chunks(tmp_path):
    store = _store()
    store.save(tmp_path)
    loaded = Store.load(tmp_path)
    assert loaded.terms.ids.tolist() == store.terms.ids.tolist() and loaded.terms.vocabulary == store.terms.vocabulary
    rows = list(range(len(store.chunks)))
    assert loaded.passage_terms(rows).counts.tolist() == [len(terms(chunk.text)) for chunk in store.chunks]
    generation = tmp_path / (tmp_path / POINTER).read_text().strip()
    np.save(generation / "term_counts.npy", np.zeros(len(store.chunks) + 1, dtype=np.int32))
    with pytest.raises(StoreError, match="--rebuild"):
        Store.load(tmp_path)


def test_an_index_saved_again_while_it_is_loaded_is_read_from_its_new_generation(tmp_path, monkeypatch):
    """Another process's build switches CURRENT and removes the generation being read: that is not damage."""
    import bm25s

    store = _store()
    store.save(tmp_path)
    load = bm25s.BM25.load
    saves = []

    def save_meanwhile(*args, **kwargs):
        if not saves:
            saves.append(store.save(tmp_path))
        return load(*args, **kwargs)

    monkeypatch.setattr(bm25s.BM25, "load", save_meanwhile)
    assert Store.load(tmp_path).chunks == store.chunks and saves
