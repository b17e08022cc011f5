"""Questions to cited extractive answers over an index of documents."""

from index.config import IndexConfig
from index.errors import IndexingError, NoDocumentsError
from qa.api import SUPPORTED_SUFFIXES, Chat, Engine, answer, build_index, engine, retrieve, update
from qa.config import QAConfig
from qa.errors import QuestionError
from qa.read import Answer, Citation
from qa.retrieve import FusionWeights, Passage

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Answer",
    "Chat",
    "Citation",
    "Engine",
    "FusionWeights",
    "IndexConfig",
    "IndexingError",
    "NoDocumentsError",
    "Passage",
    "QAConfig",
    "QuestionError",
    "answer",
    "build_index",
    "engine",
    "retrieve",
    "update",
]
