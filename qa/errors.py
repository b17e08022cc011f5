"""Errors in what was asked: the message says what to change."""


class QuestionError(ValueError):
    """The question is empty, blank or too long."""


class QuestionsFileError(ValueError):
    """A questions file (`qa eval`, `qa calibrate`) is missing, unreadable, empty or holds a bad record."""
