"""Transom: a fast asyncio HTTP/1.1 server, an ASGI framework and an HTTP client.

The public names are re-exported here; ``tests/test_public_api.py`` pins them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from transom._version import __version__
from transom.exceptions import (
    ConfigurationError,
    HTTPError,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    TransomError,
    WebSocketDisconnect,
)

if TYPE_CHECKING:
    from transom.client import AsyncClient, Client
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
        Templates,
        UploadFile,
        WebSocket,
        flash,
        get_flashed_messages,
        render,
        render_async,
    )

# The layers are imported on first use of one of their names, so that
# `transom http` does not load the server and the framework (PEP 562).
_LAZY = {
    **dict.fromkeys(("AsyncClient", "Client"), "transom.client"),
    **dict.fromkeys(("Server", "ServerConfig", "serve"), "transom.server"),
    **dict.fromkeys(
        (
            "App",
            "BackgroundTask",
            "BackgroundTasks",
            "EventSourceResponse",
            "FileResponse",
            "HTMLResponse",
            "JSONResponse",
            "Middleware",
            "PlainTextResponse",
            "RedirectResponse",
            "Request",
            "Response",
            "Router",
            "ServerSentEvent",
            "StaticFiles",
            "StreamingResponse",
            "Templates",
            "UploadFile",
            "WebSocket",
            "flash",
            "get_flashed_messages",
            "render",
            "render_async",
        ),
        "transom.web",
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'transom' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain global
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
    "Templates",
    "TransomError",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "__version__",
    "flash",
    "get_flashed_messages",
    "render",
    "render_async",
    "serve",
]
