"""The Hugging Face hub for a model named by its hub id: reached only when it can be, else its local cache."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

#: Environment variables that route downloads through a proxy (the hub's own host need not resolve then).
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


def hub_unreachable() -> str:
    """Why the hub can't be reached from here, or "" when it may be (its host resolves, or a proxy is set).
    Without this check a missing model costs a minute of retried downloads before it fails."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return "HF_HUB_OFFLINE is set"
    if any(os.environ.get(variable) for variable in PROXY_VARIABLES):
        return ""
    host = urlparse(constants.ENDPOINT).hostname or constants.ENDPOINT
    try:
        socket.getaddrinfo(host, 443)
    except OSError as error:
        return f"{host} can't be reached ({error.strerror or error})"
    return ""


def hub_model(name: str) -> str:
    """`name` when the hub can be reached (the model is downloaded or updated as usual), else the folder of its
    copy in the Hugging Face cache; an OSError says why neither is possible."""
    unreachable = hub_unreachable()
    if not unreachable:
        return name
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(name, local_files_only=True)
    except (OSError, ValueError) as error:  # not cached, or not a valid hub id
        raise OSError(f"{unreachable}, and no copy of {name!r} is in the Hugging Face cache") from error
