"""Transom: a fast asyncio HTTP/1.1 server, an ASGI framework and an HTTP client.

The public names are re-exported here; ``tests/test_public_api.py`` pins them.
"""

from __future__ import annotations

from transom._version import __version__
from transom.client import AsyncClient, Client
from transom.exceptions import (
    ConfigurationError,
    HTTPError,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    TransomError,
)
from transom.server import Server, ServerConfig, serve
from transom.web import (
    App,
    BackgroundTask,
    BackgroundTasks,
    EventSourceResponse,
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Middleware,
    PlainTextResponse,
    RedirectResponse,
    Request,
    Response,
    Router,
    ServerSentEvent,
    StaticFiles,
    StreamingResponse,
    UploadFile,
)

__all__ = [
    "App",
    "AsyncClient",
    "BackgroundTask",
    "BackgroundTasks",
    "Client",
    "ConfigurationError",
    "EventSourceResponse",
    "FileResponse",
    "HTMLResponse",
    "HTTPError",
    "JSONResponse",
    "LocalProtocolError",
    "Middleware",
    "PlainTextResponse",
    "ProtocolError",
    "RedirectResponse",
    "RemoteProtocolError",
    "Request",
    "Response",
    "Router",
    "Server",
    "ServerConfig",
    "ServerSentEvent",
    "StaticFiles",
    "StreamingResponse",
    "TransomError",
    "UploadFile",
    "__version__",
    "serve",
]
