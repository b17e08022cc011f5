"""Documents to a searchable index: reading, chunking, embedding, storing; knows nothing of questions."""

from index.build import BuildSummary, build
from index.chunking import Chunk, Chunker, split_sentences
from index.config import IndexConfig
from index.documents import Document, Skipped, read_folder
from index.errors import DocsError, IndexingError, StoreError
from index.store import Store

__all__ = [
    "BuildSummary",
    "Chunk",
    "Chunker",
    "Document",
    "DocsError",
    "IndexConfig",
    "Skipped",
    "IndexingError",
    "Store",
    "StoreError",
    "build",
    "read_folder",
    "split_sentences",
]
