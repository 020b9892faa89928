"""Transom: a fast asyncio HTTP/1.1 server, an ASGI framework and an HTTP client.

The public names are re-exported here; ``tests/test_public_api.py`` pins them.
"""

from __future__ import annotations

from transom.exceptions import (
    ConfigurationError,
    HTTPError,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    TransomError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigurationError",
    "HTTPError",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "TransomError",
    "__version__",
]
