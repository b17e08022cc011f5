"""Preparer: documents prepared in worker processes come back in order, the same as prepared here."""

from index.chunking import Chunker
from index.documents import Document
from index.preparation import Preparer, prepare
from index.terms import terms
from tests.conftest import SEEDS


def test_workers_prepare_what_this_process_prepares(embedder, monkeypatch):
    text = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")
    documents = [Document(f"d{i}.txt", "", f"Copy {i}.\n" + text * (1 + i % 3), str(i)) for i in range(12)]
    chunker = Chunker(200, 80, embedder.max_tokens, embedder.wordpieces)
    monkeypatch.setattr("index.preparation.PARALLEL_FROM_CHARS", 1)
    monkeypatch.setattr("index.preparation.CHARS_PER_WORKER", 1)
    from_workers = []
    in_workers = Preparer._in_workers

    def counted(self, documents, workers):
        for prepared in in_workers(self, documents, workers):
            from_workers.append(workers)
            yield prepared

    monkeypatch.setattr(Preparer, "_in_workers", counted)
    here = [prepare(chunker, document) for document in documents]
    in_workers = list(Preparer(chunker, workers=2).prepare(documents))
    assert from_workers == [2] * 12 and len(in_workers) == len(here) == 12
    assert len(list(Preparer(chunker, workers=2).prepare(documents[:1]))) == 1 and len(from_workers) == 12  # one: here
    for got, expected in zip(in_workers, here):
        assert got.terms.words == expected.terms.words
        assert got.terms.ids.tolist() == expected.terms.ids.tolist()
        assert got.terms.counts.tolist() == expected.terms.counts.tolist() == [len(terms(p.chunk.text)) for p in got.passages]
        assert [p.chunk for p in got.passages] == [p.chunk for p in expected.passages]
        assert [p.sentences.tolist() for p in got.passages] == [p.sentences.tolist() for p in expected.passages]
        assert [p.tokens.ids.tolist() for p in got.passages] == [p.tokens.ids.tolist() for p in expected.passages]
        assert len({id(p.tokens.tokens) for p in got.passages}) == 1  # the document's tokens travelled once

