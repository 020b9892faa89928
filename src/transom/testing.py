"""Test clients: the HTTP client API, talking to an ASGI app in this process.

``TestClient(app)`` is a ``transom.client.Client`` whose transport calls
the app directly (``transom.client.ASGITransport``): no socket, but the
same request and response objects, cookies kept between requests, and
streaming for real (a streamed response is read while the app is still
producing it). ``AsyncTestClient`` is the same over ``AsyncClient``, for
``async def`` tests.

``client.websocket("/ws")`` opens a WebSocket to the app in-process (a
``websocket`` scope, the app running as a task while the test sends and
receives); a refused handshake raises ``WebSocketHandshakeError``.

Used as a context manager, the client runs the app's lifespan: startup on
enter (a failed startup raises), shutdown on exit.

By default an exception the app does not handle is raised in the test
(``raise_server_exceptions=True``), after the app has sent its 500, so the
test fails with the real traceback. Pass ``False`` to see the 500 instead.

>>> from transom.testing import TestClient
>>> with TestClient(app) as client:
...     response = client.get("/users/3")
...     assert response.status_code == 200
...     assert response.json() == {"id": 3}
"""

from __future__ import annotations

from typing import Any

from transom._types import ASGIApp, Receive, Scope, Send
from transom.client import ASGITransport, AsyncClient, Client
from transom.web.errors import RAISE_SERVER_EXCEPTIONS

__all__ = ["AsyncTestClient", "TestClient"]


class _RaiseServerExceptions:
    """Asks a Transom app, through a scope extension, to re-raise after its 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope.setdefault("extensions", {})[RAISE_SERVER_EXCEPTIONS] = {}
        await self.app(scope, receive, send)


def _transport(
    app: ASGIApp, raise_server_exceptions: bool, root_path: str, client: tuple[str, int]
) -> ASGITransport:
    wrapped = _RaiseServerExceptions(app) if raise_server_exceptions else app
    return ASGITransport(
        wrapped,
        raise_app_exceptions=raise_server_exceptions,
        client=client,
        root_path=root_path,
        lifespan=True,
    )


class TestClient(Client):
    """A blocking client for ``app``; see the module docstring.

    Every ``transom.client.Client`` argument works (``headers``, ``cookies``,
    ``follow_redirects``...).
    """

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        client: tuple[str, int] = ("testclient", 50000),
        **kwargs: Any,
    ) -> None:
        self.app = app
        transport = _transport(app, raise_server_exceptions, root_path, client)
        super().__init__(transport=transport, base_url=base_url, **kwargs)


class AsyncTestClient(AsyncClient):
    """``TestClient`` for async tests: ``async with AsyncTestClient(app) as client``."""

    __test__ = False

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        client: tuple[str, int] = ("testclient", 50000),
        **kwargs: Any,
    ) -> None:
        self.app = app
        transport = _transport(app, raise_server_exceptions, root_path, client)
        super().__init__(transport=transport, base_url=base_url, **kwargs)
