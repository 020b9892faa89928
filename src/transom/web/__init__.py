"""The Transom web framework: an ASGI app, routing, requests and responses."""

from __future__ import annotations

from transom.web.background import BackgroundTask, BackgroundTasks
from transom.web.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

__all__ = [
    "BackgroundTask",
    "BackgroundTasks",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
]
