"""The web chat: presentation only, calling qa's public API."""
