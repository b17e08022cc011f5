"""Questions to cited extractive answers over an index of documents."""

from index.errors import IndexingError, NoDocumentsError
from qa.api import SUPPORTED_SUFFIXES, Chat, Engine, answer, engine, retrieve, update
from qa.errors import QuestionError
from qa.read import Answer, Citation
from qa.retrieve import Passage

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Answer",
    "Chat",
    "Citation",
    "Engine",
    "IndexingError",
    "NoDocumentsError",
    "Passage",
    "QuestionError",
    "answer",
    "engine",
    "retrieve",
    "update",
]
