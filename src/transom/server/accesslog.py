"""The access log: one line per response on the ``transom.access`` logger.

``127.0.0.1:51234 - "GET /notes?page=2 HTTP/1.1" 200 1532 4.2ms``: client,
request line, status, body bytes sent, time from the request head to the
end of the response. Nothing here runs when the access log is off.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["access_logger", "log_access"]

access_logger = logging.getLogger("transom.access")


def log_access(scope: dict[str, Any] | Any, status: int, body_bytes: int, seconds: float) -> None:
    """Emit the access line for one finished exchange."""
    if not access_logger.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    who = f"{client[0]}:{client[1]}" if client else "-"
    target = scope["raw_path"].decode("latin-1")
    query = scope["query_string"]
    if query:
        target = f"{target}?{query.decode('latin-1')}"
    access_logger.info(
        '%s - "%s %s HTTP/%s" %d %d %.1fms',
        who,
        scope.get("method", "GET"),  # a WebSocket handshake's scope has none
        target,
        scope["http_version"],
        status,
        body_bytes,
        seconds * 1000.0,
    )
