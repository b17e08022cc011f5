"""Gradio chat over qa.answer (a placeholder until the web chat issue lands)."""

from __future__ import annotations

from pathlib import Path


def launch(docs: Path, index: Path, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Start the web chat."""
    raise NotImplementedError("The web chat is not built yet: use `qa ask QUESTION` meanwhile.")
