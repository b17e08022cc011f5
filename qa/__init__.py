"""Questions to cited extractive answers over an index of documents."""

from qa.api import Engine, answer, engine, retrieve
from qa.errors import QuestionError
from qa.read import Answer, Citation
from qa.retrieve import Passage

__all__ = ["Answer", "Citation", "Engine", "Passage", "QuestionError", "answer", "engine", "retrieve"]
