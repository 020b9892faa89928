"""The Transom web framework: an ASGI app, routing, requests, responses and forms.

>>> from transom.web import App, Request
>>> app = App()
>>> @app.get("/hello/{name}")
... async def hello(request: Request, name: str):
...     return {"hello": name}

Middleware classes live in ``transom.web.middleware``; sessions, users,
CSRF and rate limits in ``transom.web.sessions``, ``transom.web.auth``,
``transom.web.csrf`` and ``transom.web.ratelimit``; WebSocket routes
(``@app.websocket``) hand their handler a ``WebSocket``.
"""

from __future__ import annotations

from transom.exceptions import HTTPError, WebSocketDisconnect
from transom.web.application import App, Middleware
from transom.web.background import BackgroundTask, BackgroundTasks
from transom.web.conditional import conditional_response
from transom.web.files import FileResponse
from transom.web.flash import flash, get_flashed_messages
from transom.web.forms import FormData, FormLimits, UploadFile, safe_filename
from transom.web.requests import Request, State
from transom.web.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from transom.web.routing import Converter, Mount, Route, Router
from transom.web.sse import EventSourceResponse, ServerSentEvent
from transom.web.staticfiles import StaticFiles
from transom.web.templates import Templates, render, render_async
from transom.web.websockets import WebSocket

__all__ = [
    "App",
    "BackgroundTask",
    "BackgroundTasks",
    "Converter",
    "EventSourceResponse",
    "FileResponse",
    "FormData",
    "FormLimits",
    "HTMLResponse",
    "HTTPError",
    "JSONResponse",
    "Middleware",
    "Mount",
    "PlainTextResponse",
    "RedirectResponse",
    "Request",
    "Response",
    "Route",
    "Router",
    "ServerSentEvent",
    "State",
    "StaticFiles",
    "StreamingResponse",
    "Templates",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "conditional_response",
    "flash",
    "get_flashed_messages",
    "render",
    "render_async",
    "safe_filename",
]
