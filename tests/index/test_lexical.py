"""LexicalIndex: the same BM25 scores as bm25s's own index, built in whole arrays from TermIds."""

import logging

import bm25s
import numpy as np

from index.lexical import LexicalIndex
from index.terms import PassageTerms, TermIds, terms

TEXTS = [
    "Armenia froze its participation in the CSTO on Feb. 23, Armenia's prime minister said.",
    "The the of and",  # no terms at all
    "Nikol Pashinyan met Ararat Mirzoyan; Pashinyan spoke first, then Mirzoyan, then Pashinyan again.",
    "Prime minister",
    "Participation participation participation in the alliance was frozen, not ended.",
]


def test_scores_equal_bm25s_own_index(tmp_path):
    term_ids = TermIds()
    term_ids.add(PassageTerms.of(TEXTS[:2]))  # two documents: the second repeats words of the first
    term_ids.add(PassageTerms.of(TEXTS[2:]))
    ours = LexicalIndex.of(term_ids, k1=0.9, b=0.4)
    theirs = bm25s.BM25(k1=0.9, b=0.4)
    theirs.index(([[term_ids.vocab[word] for word in terms(text)] for text in TEXTS], dict(term_ids.vocab)),
                 show_progress=False)
    assert ours.vocab_dict == theirs.vocab_dict
    np.testing.assert_array_equal(ours.scores["indptr"], theirs.scores["indptr"])
    np.testing.assert_array_equal(ours.scores["indices"], theirs.scores["indices"])
    np.testing.assert_allclose(ours.scores["data"], theirs.scores["data"], rtol=1e-6)
    assert ours.scores["data"].dtype == theirs.scores["data"].dtype and ours.scores["num_docs"] == len(TEXTS)
    for query in (["pashinyan"], terms("prime minister participation"), ["missing"]):
        np.testing.assert_allclose(ours.get_scores(query), theirs.get_scores(query), rtol=1e-6)
    assert ours.get_scores(["pashinyan"]).argmax() == 2
    ours.save(str(tmp_path / "bm25"), show_progress=False)  # and it loads as a plain bm25s index
    loaded = bm25s.BM25.load(str(tmp_path / "bm25"), show_progress=False)
    np.testing.assert_allclose(loaded.get_scores(["frozen"]), theirs.get_scores(["frozen"]), rtol=1e-6)


def test_passage_terms_index_each_document_distinct_word_once():
    passages = PassageTerms.of(TEXTS[2:4])
    assert len(passages.words) == len(set(passages.words))
    assert [passages.words[i] for i in passages.ids] == terms(TEXTS[2]) + terms(TEXTS[3])
    assert passages.counts.tolist() == [len(terms(TEXTS[2])), len(terms(TEXTS[3]))]


def test_bm25s_logs_at_the_applications_level():
    """An application logging at WARNING sees no bm25s debug lines, though bm25s sets DEBUG on import."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    try:
        assert not logging.getLogger("bm25s").isEnabledFor(logging.DEBUG)
    finally:
        root.setLevel(level)
