"""LexicalIndex: bm25s's BM25 (Lucene variant) with its scores computed in whole arrays from TermIds."""

from __future__ import annotations

import logging

import bm25s
import numpy as np

from index.terms import TermIds

# bm25s sets its logger to DEBUG when imported, so an application that logs at the default WARNING
# (logging.basicConfig()) would print "DEBUG:bm25s:Building index ..." on every build: let its level decide.
logging.getLogger("bm25s").setLevel(logging.NOTSET)


class LexicalIndex(bm25s.BM25):
    """BM25(k1, b) as bm25s scores it (`method="lucene"`), built by `index(term_ids)` from a TermIds in a few array
    operations instead of bm25s's loop over documents in Python; saved and loaded as a plain bm25s.BM25."""

    def __init__(self, k1: float, b: float) -> None:
        super().__init__(k1=k1, b=b, method="lucene")

    def build_index_from_ids(self, unique_token_ids: list[int], corpus_token_ids: tuple[np.ndarray, np.ndarray],
                             show_progress: bool = True, leave_progress: bool = False) -> dict:
        """bm25s's scores matrix (CSC: a column per term, a row per chunk) from TermIds.ids."""
        ids, counts = corpus_token_ids
        chunks, terms = len(counts), len(unique_token_ids)
        rows, stride = np.repeat(np.arange(chunks, dtype=np.int64), counts), max(chunks, 1)
        # One key per (term, chunk) pair, in CSC order; how often it repeats is the term's frequency in the chunk.
        keys, frequencies = np.unique(ids.astype(np.int64) * stride + rows, return_counts=True)
        term_of, row_of = np.divmod(keys, stride)
        document_frequencies = np.bincount(term_of, minlength=terms)
        self.nonoccurrence_array = None
        idf = np.log(1 + (chunks - document_frequencies + 0.5) / (document_frequencies + 0.5)).astype(self.dtype)
        average = counts.mean() if chunks else 1.0
        frequencies = frequencies.astype(self.dtype)
        scores = idf[term_of] * (frequencies / (self.k1 * ((1 - self.b) + self.b * counts[row_of] / average) + frequencies))
        return {
            "data": scores.astype(self.dtype),
            "indices": row_of.astype(self.int_dtype),
            "indptr": np.concatenate([[0], np.cumsum(document_frequencies)]),
            "num_docs": chunks,
        }

    @classmethod
    def of(cls, term_ids: TermIds, k1: float, b: float) -> LexicalIndex:
        """BM25(k1, b) over the chunks whose terms `term_ids` holds."""
        index = cls(k1, b)
        index.index(term_ids, show_progress=False)
        return index
