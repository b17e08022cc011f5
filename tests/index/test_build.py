"""build(): incremental updates embed only what changed; bad folders leave the index as it was."""

from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pytest

from index.build import build
from index.chunking import CHUNKER_VERSION
from index.config import IndexConfig
from index.embedding import Embedder
from index.errors import DocsError
from index.formats import READERS, Extracted
from index.store import Store
from index.terms import terms
from tests.conftest import SEEDS

NEW_DOCUMENT = "Lake Sevan\n\nLake Sevan is the largest lake in Armenia. It lies at 1,900 metres above sea level.\n"


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "docs"
    shutil.copytree(SEEDS, folder)
    return folder


class CountingEmbedder:
    """Wraps the real embedder and counts the texts it embeds."""

    def __init__(self, embedder):
        self.inner, self.embedded = embedder, 0
        self.dimension, self.max_tokens, self.precision = embedder.dimension, embedder.max_tokens, embedder.precision
        self.wordpieces, self.batch_size = embedder.wordpieces, embedder.batch_size

    def encode_passages(self, texts, spans, progress=None, tokens=()):
        self.embedded += len(texts)
        self.blocks = getattr(self, "blocks", 0) + 1
        return self.inner.encode_passages(texts, spans, progress, tokens)


def test_adding_changing_renaming_and_deleting(docs, tmp_path, embedder):
    index = tmp_path / "index"
    counting = CountingEmbedder(embedder)
    first = build(docs, index, embedder=counting)
    seed_chunks = first.chunks
    assert first.added == ["000_f79ba8ae3d3a940e.txt"] and counting.embedded == seed_chunks

    (docs / "sub").mkdir()
    (docs / "sub" / "sevan.md").write_text(NEW_DOCUMENT)
    counting.embedded = 0
    added = build(docs, index, embedder=counting)
    new_chunks = added.chunks - seed_chunks
    assert added.added == ["sub/sevan.md"] and added.unchanged == ["000_f79ba8ae3d3a940e.txt"]
    assert counting.embedded == added.embedded_chunks == new_chunks >= 1

    counting.embedded = 0
    again = build(docs, index, embedder=counting)
    assert counting.embedded == 0 and not again.changed

    (docs / "sub" / "sevan.md").write_text(NEW_DOCUMENT + "\nIt is fed by 28 rivers.\n")
    updated = build(docs, index, embedder=counting)
    assert updated.updated == ["sub/sevan.md"] and counting.embedded == updated.embedded_chunks

    (docs / "sub" / "sevan.md").rename(docs / "lake.md")
    counting.embedded = 0
    renamed = build(docs, index, embedder=counting)
    assert renamed.renamed == [("sub/sevan.md", "lake.md")] and counting.embedded == 0

    (docs / "lake.md").unlink()
    removed = build(docs, index, embedder=counting)
    assert removed.removed == ["lake.md"] and counting.embedded == 0
    store = Store.load(index)
    assert [d.id for d in store.documents] == ["000_f79ba8ae3d3a940e.txt"]
    assert len(store.chunks) == seed_chunks
    for chunk in store.chunks:
        assert store.document(chunk.doc_id).text[chunk.start : chunk.end] == chunk.text


def _scores(store: Store) -> list[np.ndarray]:
    return [store.bm25.get_scores(words) for words in (["armenia"], ["lake", "sevan"], ["csto", "participation"])]


@pytest.mark.parametrize("kept", [True, False])
def test_unchanged_documents_bring_their_bm25_terms_from_the_index(kept, docs, tmp_path, embedder, monkeypatch):
    """A document added to a folder: only its chunks' terms are found, the others come from the index (or, from an
    index written before it kept them, are found again), and BM25 scores as a build from nothing does."""
    index = tmp_path / "index"
    build(docs, index, embedder=embedder)
    if not kept:  # an index written before the terms were kept, and before the files' sizes were recorded
        for name in ("terms.npy", "term_counts.npy"):
            next(index.glob(f"gen-*/{name}")).unlink()
        manifest = next(index.glob("gen-*/manifest.json"))
        manifest.write_text(json.dumps({k: v for k, v in json.loads(manifest.read_text()).items() if k != "sizes"}))
        assert Store.load(index).terms is None
    (docs / "sevan.md").write_text(NEW_DOCUMENT)
    found = []
    monkeypatch.setattr("index.terms.terms", lambda text: found.append(text) or terms(text))
    summary = build(docs, index, embedder=embedder)
    monkeypatch.undo()
    store = Store.load(index)
    new_texts = [chunk.text for chunk in store.chunks if chunk.doc_id == "sevan.md"]
    assert found == (new_texts if kept else [chunk.text for chunk in store.chunks if chunk.doc_id != "sevan.md"] + new_texts)
    assert store.terms is not None and len(store.terms.counts) == summary.chunks
    scratch = build(docs, tmp_path / "scratch", embedder=embedder, rebuild=True)
    assert scratch.chunks == summary.chunks
    for ours, theirs in zip(_scores(store), _scores(Store.load(tmp_path / "scratch"))):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert _scores(store)[1].max() > 0


def test_another_dense_index_kind_is_built_without_embedding_again(docs, tmp_path, embedder):
    index = tmp_path / "index"
    build(docs, index, embedder=embedder)
    assert Store.load(index).manifest["dense_index"] == "flat"
    counting = CountingEmbedder(embedder)
    summary = build(docs, index, IndexConfig(dense_index="hnsw"), embedder=counting)
    store = Store.load(index)
    assert store.manifest["dense_index"] == "hnsw" and counting.embedded == 0 and summary.chunks == len(store.chunks)
    assert build(docs, index, IndexConfig(dense_index="hnsw"), embedder=counting).unchanged  # and then it stays


def test_vectors_of_another_precision_are_embedded_again(docs, tmp_path, embedder):
    index = tmp_path / "index"
    build(docs, index, embedder=embedder)
    assert Store.load(index).manifest["precision"] == embedder.precision == "int8"
    counting = CountingEmbedder(embedder)
    counting.precision = "float32"  # as an embedder run by PyTorch would say
    summary = build(docs, index, embedder=counting)
    assert "precision changed from int8 to float32" in summary.full_rebuild_reason
    assert counting.embedded == summary.chunks and Store.load(index).manifest["precision"] == "float32"


def test_a_document_embedded_in_several_blocks_gets_the_same_vectors(docs, tmp_path):
    embedder = Embedder(device="cpu", runtime="onnx")  # float32: int8 activations are scaled per batch
    build(docs, tmp_path / "one", embedder=embedder)
    counting = CountingEmbedder(embedder)
    counting.batch_size = 1  # a block of BATCHES_PER_BLOCK chunks: the seed article's 5 chunks take two
    build(docs, tmp_path / "blocks", embedder=counting)
    assert counting.blocks == 2 and counting.embedded == len(Store.load(tmp_path / "one").chunks)
    one, blocks = Store.load(tmp_path / "one"), Store.load(tmp_path / "blocks")
    np.testing.assert_allclose(blocks.vectors(), one.vectors(), atol=1e-5)
    np.testing.assert_allclose(np.asarray(blocks.sentence_vectors, dtype=np.float32),
                               np.asarray(one.sentence_vectors, dtype=np.float32), atol=2e-3)
    np.testing.assert_array_equal(blocks.sentences, one.sentences)


def test_rebuild_embeds_everything(docs, tmp_path, embedder):
    index = tmp_path / "index"
    build(docs, index, embedder=embedder)
    counting = CountingEmbedder(embedder)
    summary = build(docs, index, rebuild=True, embedder=counting)
    assert summary.full_rebuild_reason == "asked for" and counting.embedded == summary.chunks
    # the summary still compares with the documents indexed before
    indexed = [doc.id for doc in Store.load(index).documents]
    assert summary.unchanged == indexed and not summary.added
    other = tmp_path / "other"
    other.mkdir()
    (other / "sevan.md").write_text(NEW_DOCUMENT)
    summary = build(other, index, rebuild=True, embedder=embedder)  # another folder: what goes is said
    assert summary.added == ["sevan.md"] and summary.removed == indexed and not summary.unchanged
    assert f"removed ({len(indexed)}): {indexed[0]}" in str(summary)


@pytest.mark.parametrize("case", ["missing", "empty", "only-unreadable"])
def test_bad_documents_folder_keeps_the_existing_index(case, docs, tmp_path, embedder):
    index = tmp_path / "index"
    build(docs, index, embedder=embedder)
    before = Store.load(index).chunks
    target = tmp_path / "other"
    if case != "missing":
        target.mkdir()
    if case == "only-unreadable":
        (target / "binary.txt").write_bytes(b"\x00\x01\x02 not text")
    with pytest.raises(DocsError, match="No documents to index|does not exist") as refused:
        build(target, index, embedder=embedder)
    assert Store.load(index).chunks == before
    if case != "missing":  # what the index still holds, and how to drop it
        assert f"still answers from the 1 document indexed before ({before[0].doc_id})" in str(refused.value)
        assert "delete that folder" in str(refused.value)


@pytest.mark.parametrize("damage", ["dense.faiss", "sentence_vectors.npy", "bm25"])
def test_an_index_damaged_on_disk_is_rebuilt_by_a_plain_update(damage, docs, tmp_path, embedder):
    index = tmp_path / "index"
    build(docs, index, embedder=embedder)
    target = index / (index / "CURRENT").read_text().strip() / damage
    if damage == "sentence_vectors.npy":  # cut short
        target.write_bytes(target.read_bytes()[:-100])
    elif damage == "bm25":
        shutil.rmtree(target)
    else:
        target.unlink()
    counting = CountingEmbedder(embedder)
    summary = build(docs, index, embedder=counting)
    assert "the index is damaged" in summary.full_rebuild_reason and counting.embedded == summary.chunks
    assert len(Store.load(index).chunks) == summary.chunks


def test_titles_read_differently_are_written_again_without_embedding(docs, tmp_path, embedder, monkeypatch):
    index = tmp_path / "index"
    build(docs, index, embedder=embedder)
    monkeypatch.setattr("index.documents.TITLE_CHARACTERS", 12)  # as a newer version reads titles
    counting = CountingEmbedder(embedder)
    summary = build(docs, index, embedder=counting)
    assert counting.embedded == 0 and summary.unchanged and not summary.full_rebuild_reason
    assert all(len(doc.title) <= 13 for doc in Store.load(index).documents)


def test_a_file_read_differently_by_a_newer_reader_is_embedded_again_alone(tmp_path, embedder, monkeypatch):
    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    (docs / "events.html").write_text("<table><tr><td>Tall ship regatta</td><td>July 16, 2023</td></tr></table>")
    (docs / "sevan.txt").write_text("Lake Sevan\n\nLake Sevan is the largest lake in Armenia.\n")
    older = dict(READERS, **{".html": lambda data: Extracted("Tall ship regattaJuly 16, 2023")})  # cells run together
    monkeypatch.setattr("index.documents.READERS", older)
    build(docs, index, embedder=embedder)
    monkeypatch.undo()
    counting = CountingEmbedder(embedder)
    summary = build(docs, index, embedder=counting)
    assert summary.updated == ["events.html"] and summary.unchanged == ["sevan.txt"] and not summary.full_rebuild_reason
    assert counting.embedded == summary.embedded_chunks == 1
    assert Store.load(index).document("events.html").text == "Tall ship regatta | July 16, 2023"
    # An index made before the text's sha256 was recorded: looked into once, nothing embedded, then recorded.
    manifest = json.loads((index / (index / "CURRENT").read_text().strip() / "manifest.json").read_text())
    Store.update_manifest(index, {"documents": {doc_id: {key: value for key, value in entry.items() if key != "text_sha256"}
                                                for doc_id, entry in manifest["documents"].items()}})
    summary = build(docs, index, embedder=counting)
    assert counting.embedded == 1 and sorted(summary.unchanged) == ["events.html", "sevan.txt"]
    assert all("text_sha256" in entry for entry in Store.load(index).manifest["documents"].values())


def test_a_second_copy_is_skipped_and_other_types_are_counted(docs, tmp_path, embedder):
    seed = next(docs.glob("*.txt"))
    (docs / "copies").mkdir()
    shutil.copy(seed, docs / "copies" / "same.txt")
    (docs / "table.csv").write_text("a,b\n1,2\n")
    (docs / "photo.png").write_bytes(b"\x89PNG")
    (docs / "notes").write_text("no suffix")
    index = tmp_path / "index"
    summary = build(docs, index, embedder=embedder)
    assert [(s.id, s.reason) for s in summary.skipped] == [("copies/same.txt", f"the same content as {seed.name}")]
    assert summary.added == [seed.name] and summary.documents == 1
    assert "not read, other types: 1 (no suffix), 1 .csv, 1 .png (read: .txt, .md" in str(summary)
    seed.unlink()  # the copy takes the first one's place, with its vectors
    counting = CountingEmbedder(embedder)
    summary = build(docs, index, embedder=counting)
    assert summary.renamed == [(seed.name, "copies/same.txt")] and counting.embedded == 0


def _report(town: int) -> str:
    """A paragraph of about 120 tokens: a chunk of its own (a window ends at a paragraph break once half full)."""
    return " ".join(f"Report {town}.{line} says the market of town number {town} sold {town * 7 + line} baskets of "
                    f"apples and {line + 3} carts of grain on day {line}." for line in range(1, 6))


def test_an_edited_document_embeds_only_the_chunks_that_came_out_different(tmp_path):
    """One word changed in the middle of a long document: its one chunk is embedded, the others keep their vectors
    (moved to their new offsets), and the index is the one a build from nothing makes."""
    embedder = Embedder(device="cpu", runtime="onnx")  # float32: int8 activations are scaled per batch
    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    reports = [_report(town) for town in range(1, 11)]
    (docs / "markets.txt").write_text("\n\n".join(reports) + "\n")
    before = build(docs, index, embedder=embedder)
    assert before.chunks == len(reports)
    moved = Store.load(index).chunks[5]
    reports[4] = reports[4].replace("sold", "sold, by the reckoning of its oldest clerk,", 1)
    (docs / "markets.txt").write_text("\n\n".join(reports) + "\n")
    counting = CountingEmbedder(embedder)
    summary = build(docs, index, embedder=counting)
    assert summary.updated == ["markets.txt"] and counting.embedded == summary.embedded_chunks == 1
    scratch = build(docs, tmp_path / "scratch", embedder=embedder)
    ours, theirs = Store.load(index), Store.load(tmp_path / "scratch")
    assert ours.chunks == theirs.chunks and ours.chunks[5].text == moved.text and ours.chunks[5].start > moved.start
    np.testing.assert_array_equal(ours.sentences, theirs.sentences)
    np.testing.assert_allclose(ours.vectors(), theirs.vectors(), atol=1e-5)
    np.testing.assert_allclose(np.asarray(ours.sentence_vectors, dtype=np.float32),
                               np.asarray(theirs.sentence_vectors, dtype=np.float32), atol=2e-3)
    assert scratch.embedded_chunks == len(reports)


def test_an_index_cut_by_another_chunker_version_is_cut_again_keeping_its_vectors(docs, tmp_path, embedder,
                                                                                  monkeypatch):
    index = tmp_path / "index"
    build(docs, index, embedder=embedder)
    assert Store.load(index).manifest["chunker"]["version"] == CHUNKER_VERSION
    # as a newer version of this program (sys.modules: the package's `index.build` is the function)
    monkeypatch.setattr(sys.modules["index.build"], "CHUNKER_VERSION", CHUNKER_VERSION + 1)
    counting = CountingEmbedder(embedder)
    summary = build(docs, index, embedder=counting)
    assert summary.changed and not summary.full_rebuild_reason and counting.embedded == 0
    assert summary.unchanged == ["000_f79ba8ae3d3a940e.txt"]
    assert f"every document cut again: cut by chunker version {CHUNKER_VERSION}, this program's is " \
           f"{CHUNKER_VERSION + 1}" in summary.headline
    assert Store.load(index).manifest["chunker"]["version"] == CHUNKER_VERSION + 1
    assert not build(docs, index, embedder=counting).changed  # and then it stays
    # An index from before the version was recorded
    Store.update_manifest(index, {"chunker": {k: v for k, v in Store.load(index).manifest["chunker"].items()
                                              if k != "version"}})
    assert "cut by chunker version 1," in build(docs, index, embedder=counting).recut_reason
    assert counting.embedded == 0
    Store.update_manifest(index, {"chunker": None})  # damaged by hand: cut again, not a crash
    assert "cut by chunker version 1," in build(docs, index, embedder=counting).recut_reason
