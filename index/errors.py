"""Errors a user can act on: each message says what went wrong and what to do."""


class IndexingError(Exception):
    """A problem with the documents or the index that the user can fix; the message says how."""


class DocsError(IndexingError):
    """The documents folder is missing, empty or unreadable."""


class NoDocumentsError(DocsError):
    """The documents folder holds no document that can be indexed."""


class StoreError(IndexingError):
    """The index on disk is missing, unreadable or made with other settings."""
