"""Turning exceptions into responses: handlers, default error pages, the 500 layer.

Two layers catch exceptions, like Starlette's ExceptionMiddleware /
ServerErrorMiddleware split, and for the same reason:

- **Inside** user middleware, an ``HTTPError`` (404, 405, 413, or one a
  handler raised) and any exception class with a registered handler become
  a response. User middleware then sees that response like any other (CORS
  headers get added to a 404, a timing middleware times it).
- **Outside** user middleware, anything still unhandled (a bug in a handler
  or in a middleware) becomes a 500: logged with its traceback on the
  ``transom.web`` logger, answered with the handler registered for ``500``
  or ``Exception`` if any, else a plain error page (a traceback page with
  ``App(debug=True)``). If the response had already started, the exception
  is re-raised instead: only the server can end a half-sent response, by
  closing the connection.

Default error bodies are negotiated: ``{"detail": ...}`` JSON when the
client prefers JSON (``Accept``) or sent JSON, else a small HTML page with
the detail HTML-escaped.
"""

from __future__ import annotations

import html
import inspect
import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from transom._types import ASGIApp, Message, Receive, Scope, Send
from transom.exceptions import ConfigurationError, HTTPError
from transom.status import carries_no_body, reason_phrase
from transom.web.concurrency import run_sync
from transom.web.requests import Request
from transom.web.responses import HTMLResponse, JSONResponse, Response, to_response

__all__ = [
    "RAISE_SERVER_EXCEPTIONS",
    "ExceptionHandlers",
    "HTTPError",
    "ServerErrorMiddleware",
    "error_response",
    "logger",
]

logger = logging.getLogger("transom.web")

#: A scope extension (``scope["extensions"]``) that asks the app to re-raise an
#: unhandled exception after sending its 500, so a test client can report it.
RAISE_SERVER_EXCEPTIONS = "transom.raise_server_exceptions"

Handler = Callable[[Request, Any], Any]


def _quality(accept: str, wanted: tuple[str, ...]) -> float:
    """The highest q the ``Accept`` header gives any of ``wanted`` (RFC 9110 §12.5.1)."""
    best = 0.0
    for item in accept.split(","):
        media, _, params = item.strip().partition(";")
        media = media.strip().lower()
        if media not in wanted:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best = max(best, q)
    return best


def wants_json(scope: Scope) -> bool:
    """Whether the client prefers JSON to HTML, by ``Accept`` or by what it sent."""
    accept = content_type = ""
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            accept = value.decode("latin-1")
        elif name == b"content-type":
            content_type = value.decode("latin-1")
    if accept:
        json_q = _quality(accept, ("application/json", "application/*"))
        html_q = _quality(accept, ("text/html", "text/*"))
        if json_q != html_q:
            return json_q > html_q
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


_PAGE = (
    "<!doctype html>\n<html><head><meta charset=utf-8><title>{title}</title></head>"
    "<body><h1>{title}</h1><p>{detail}</p></body></html>\n"
)


def error_response(
    scope: Scope, status_code: int, detail: Any, headers: dict[str, str] | None = None
) -> Response:
    """The default body for an error status, in JSON or HTML as the client prefers."""
    if carries_no_body(status_code):
        return Response(status_code=status_code, headers=headers)
    if wants_json(scope):
        return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)
    title = f"{status_code} {reason_phrase(status_code)}".strip()
    page = _PAGE.format(title=html.escape(title), detail=html.escape(str(detail)))
    return HTMLResponse(page, status_code=status_code, headers=headers)


def _debug_page(scope: Scope, exc: BaseException) -> Response:
    trace = "".join(traceback.format_exception(exc))
    if wants_json(scope):
        return JSONResponse(
            {"detail": f"{type(exc).__name__}: {exc}", "traceback": trace}, status_code=500
        )
    method, path = scope.get("method", ""), scope.get("path", "")
    page = (
        "<!doctype html>\n<html><head><meta charset=utf-8><title>500 Internal Server Error"
        "</title><style>pre{background:#f6f6f6;padding:1em;overflow:auto}</style></head>"
        f"<body><h1>{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</h1>"
        f"<p>{html.escape(method)} {html.escape(path)}</p><pre>{html.escape(trace)}</pre>"
        "<p>This page shows because the app runs with debug=True; never in production.</p>"
        "</body></html>\n"
    )
    return HTMLResponse(page, status_code=500)


class ExceptionHandlers:
    """Handlers keyed by status code (for ``HTTPError``) or by exception class."""

    def __init__(self) -> None:
        self.by_status: dict[int, Handler] = {}
        self.by_class: dict[type[BaseException], Handler] = {}

    def add(self, key: int | type[BaseException], handler: Handler) -> None:
        if not callable(handler):
            raise ConfigurationError(f"exception handler {handler!r} is not callable")
        if isinstance(key, int) and not isinstance(key, bool):
            if not 400 <= key <= 599:
                raise ConfigurationError(
                    f"exception handler status {key} must be an error status, 400-599"
                )
            self.by_status[key] = handler
        elif isinstance(key, type) and issubclass(key, BaseException):
            self.by_class[key] = handler
        else:
            raise ConfigurationError(
                f"exception handler key {key!r} must be a status code (404) or an "
                "exception class (ValueError)"
            )

    def for_request_error(self, exc: Exception) -> Handler | None:
        """The handler for ``exc`` inside user middleware; 500/``Exception`` ones excluded."""
        if isinstance(exc, HTTPError):
            handler = self.by_status.get(exc.status_code)
            if handler is not None:
                return handler
        for cls in type(exc).__mro__:
            if cls is Exception:
                break
            handler = self.by_class.get(cls)
            if handler is not None:
                return handler
        return None

    def for_server_error(self) -> Handler | None:
        return self.by_status.get(500) or self.by_class.get(Exception)


async def call_handler(handler: Handler, request: Request, exc: BaseException) -> Response:
    if inspect.iscoroutinefunction(handler):
        result = await handler(request, exc)
    else:
        result = await run_sync(handler, request, exc)
    return to_response(result, handler)


async def handle_request_error(
    handlers: ExceptionHandlers, scope: Scope, receive: Receive, exc: Exception
) -> Response | None:
    """The response for an exception raised before a response was chosen; None if unhandled."""
    handler = handlers.for_request_error(exc)
    if handler is not None:
        return await call_handler(handler, Request(scope, receive), exc)
    if isinstance(exc, HTTPError):
        return error_response(scope, exc.status_code, exc.detail, exc.headers)
    return None


async def server_error_response(
    handlers: ExceptionHandlers, scope: Scope, receive: Receive, exc: Exception, debug: bool
) -> Response:
    """Log ``exc`` and build the 500 for it."""
    logger.error(
        "Unhandled exception in %s %s", scope.get("method"), scope.get("path"), exc_info=exc
    )
    handler = handlers.for_server_error()
    if handler is not None:
        try:
            return await call_handler(handler, Request(scope, receive), exc)
        except Exception as handler_exc:
            logger.error("The 500 handler %r failed too", handler, exc_info=handler_exc)
    if debug:
        return _debug_page(scope, exc)
    return error_response(scope, 500, "Internal Server Error")


def should_reraise(scope: Scope) -> bool:
    """Whether a test client asked to see unhandled exceptions (RAISE_SERVER_EXCEPTIONS)."""
    extensions = scope.get("extensions")
    return extensions is not None and RAISE_SERVER_EXCEPTIONS in extensions


class ServerErrorMiddleware:
    """The outermost layer when the app has user middleware: unhandled -> 500."""

    def __init__(self, app: ASGIApp, handlers: ExceptionHandlers, debug: bool) -> None:
        self.app = app
        self.handlers = handlers
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            response = await server_error_response(self.handlers, scope, receive, exc, self.debug)
            await response(scope, receive, send)
            if should_reraise(scope):
                raise


ExceptionHandler = Callable[[Request, Any], Awaitable[Any] | Any]
