"""Errors in what was asked: the message says what to change."""


class QuestionError(ValueError):
    """The question is empty, blank or too long."""
