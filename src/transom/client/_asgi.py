"""``ASGITransport``: call an ASGI app in-process, as a real server would.

Theory of operation
-------------------
The app runs as a concurrent task (on the caller's loop under
``AsyncClient``; on the backend's private loop thread under ``Client``).
Its ``send`` messages cross to the caller through a bounded channel: the
response head is returned as soon as ``http.response.start`` arrives, and
each ``http.response.body`` is read when the caller asks for it, so a
streaming response is consumed while the app is still producing it (and the
app waits when the caller lags: back-pressure, not buffering).

``receive`` hands out the request body piece by piece, then waits until the
response is complete and answers ``http.disconnect``. Closing a response
before its end cancels the app, as a dropped connection would. An exception
from the app reaches the caller (``raise_app_exceptions=True``) or becomes a
500 response.

WebSockets (``open_websocket``) run the app on a ``websocket`` scope; see
``_asgi_ws.py``.

With ``lifespan=True`` the app's lifespan protocol runs on ``open()``
(client ``__enter__``) and shutdown on ``aclose()``, on the same loop as
the requests.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from transom._types import ASGIApp, Message, Scope
from transom.client._content import BodyStream
from transom.client.models import ByteStream, Request, Response
from transom.client.transports import BaseTransport
from transom.exceptions import TransportError
from transom.http.headers import Headers

if TYPE_CHECKING:
    from transom.client.websocket import Session, WebSocketOptions

__all__ = ["ASGITransport"]

_START, _BODY, _ERROR, _END = "start", "body", "error", "end"


class _Exchange:
    """One request/response cycle between the caller and the running app."""

    __slots__ = ("channel", "complete", "error", "raised", "request", "task")

    def __init__(self, transport: ASGITransport, request: Request) -> None:
        self.request = request
        self.channel = transport.backend.channel(16)
        self.complete = False
        self.error: BaseException | None = None
        self.raised = False
        self.task: Any = None

    async def run(self, app: ASGIApp, scope: Scope) -> None:
        body = self.request.body
        chunks = body.chunks() if isinstance(body, BodyStream) else None
        sent_body = False
        done = asyncio.Event()
        started = False

        async def receive() -> Message:
            nonlocal sent_body
            if chunks is not None and not sent_body:
                try:
                    return {"type": "http.request", "body": await anext(chunks), "more_body": True}
                except StopAsyncIteration:
                    sent_body = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal started
            kind = message["type"]
            last = False
            if kind == "http.response.start" and not started:
                started = True
                item: tuple[Any, ...] = (_START, message)
            elif kind == "http.response.body" and started and not done.is_set():
                last = not message.get("more_body", False)
                item = (_BODY, bytes(message.get("body", b"")), not last)
            else:
                raise RuntimeError(f"ASGI app sent {kind!r} out of order")
            if not await self.channel.put(item):
                # The caller closed the response early. Its close() cancels this
                # task, but under Client that cancellation crosses threads and
                # may land only after this returns: an app sending in a loop
                # would never suspend to receive it. Stop it here instead, as
                # the cancellation would.
                raise asyncio.CancelledError("the response was closed before its end")
            if last:
                done.set()

        try:
            await app(scope, receive, send)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the app's failure is reported to the caller
            self.error = exc
            await self.channel.put((_ERROR, exc))
        else:
            await self.channel.put((_END, None))

    async def body(self, raise_errors: bool) -> Any:
        while True:
            item = await self.channel.get()
            if item[0] == _BODY:
                if item[1]:
                    yield item[1]
                if not item[2]:
                    self.complete = True
                    return
            elif item[0] == _ERROR:
                self.complete = True
                if raise_errors:
                    self.raised = True
                    raise item[1]
                return
            else:  # the app returned without finishing its body
                self.complete = True
                return

    async def close(self, raise_errors: bool) -> None:
        self.channel.close()
        if not self.complete:
            self.task.cancel()
        await self.task.join()
        if raise_errors and self.error is not None and not self.raised:
            self.raised = True
            raise self.error


class ASGITransport(BaseTransport):
    """Send requests to an ASGI app in this process.

    >>> client = Client(transport=ASGITransport(app), base_url="http://testserver")
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        raise_app_exceptions: bool = True,
        client: tuple[str, int] = ("127.0.0.1", 123),
        root_path: str = "",
        lifespan: bool = False,
    ) -> None:
        self.app = app
        self.raise_app_exceptions = raise_app_exceptions
        self.client = client
        self.root_path = root_path
        self.lifespan = lifespan
        self.state: dict[str, Any] = {}
        self._lifespan: _Lifespan | None = None

    def _scope(self, request: Request) -> Scope:
        return self.scope_for(request, list(request.headers.raw))

    def scope_for(self, request: Request, headers: list[tuple[bytes, bytes]]) -> Scope:
        """The ``http`` scope of ``request`` with these header fields."""
        url = request.url
        raw_path = url.raw_path
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": self.root_path + url.path,
            "raw_path": (self.root_path + raw_path).encode("ascii"),
            "query_string": url.query.encode("ascii"),
            "root_path": self.root_path,
            "headers": headers,
            "client": self.client,
            "server": (url.host, url.effective_port),
            "state": dict(self.state),
            "extensions": {},
        }

    async def handle_request(self, request: Request) -> Response:
        exchange = _Exchange(self, request)
        exchange.task = self.backend.spawn(exchange.run(self.app, self._scope(request)))
        item = await exchange.channel.get()
        if item[0] == _START:
            message = item[1]
            stream = ByteStream(
                exchange.body(self.raise_app_exceptions),
                lambda: exchange.close(self.raise_app_exceptions),
            )
            return Response(
                int(message["status"]),
                headers=Headers(message.get("headers", [])),
                stream=stream,
                request=request,
            )
        exchange.complete = True
        await exchange.close(self.raise_app_exceptions)
        if item[0] == _END:
            raise TransportError("the ASGI app returned without sending a response")
        return Response(
            500,
            headers={"content-type": "text/plain"},
            content=b"Internal Server Error",
            request=request,
        )

    async def open_websocket(
        self, request: Request, options: WebSocketOptions
    ) -> tuple[Response, Session | None]:
        """Run the app on a ``websocket`` scope (``_asgi_ws``)."""
        from transom.client._asgi_ws import open_websocket

        return await open_websocket(self, request, options)

    async def open(self) -> None:
        if self.lifespan and self._lifespan is None:
            self._lifespan = _Lifespan(self)
            await self._lifespan.startup()

    async def aclose(self) -> None:
        lifespan, self._lifespan = self._lifespan, None
        if lifespan is not None:
            await lifespan.shutdown()


class _Lifespan:
    """The ASGI lifespan protocol, run on the app's loop."""

    def __init__(self, transport: ASGITransport) -> None:
        self._transport = transport
        self._channel = transport.backend.channel(4)
        self._stop: asyncio.Event | None = None
        self._task: Any = None
        self._supported = False

    async def _run(self) -> None:
        self._stop = asyncio.Event()
        startup_sent = False

        async def receive() -> Message:
            nonlocal startup_sent
            if not startup_sent:
                startup_sent = True
                return {"type": "lifespan.startup"}
            assert self._stop is not None
            await self._stop.wait()
            return {"type": "lifespan.shutdown"}

        async def send(message: Message) -> None:
            await self._channel.put((message["type"], message.get("message", "")))

        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self._transport.state}
        try:
            await self._transport.app(scope, receive, send)
        except Exception as exc:
            await self._channel.put(("error", repr(exc)))
        else:
            await self._channel.put(("returned", ""))

    async def _expect(self, phase: str) -> bool:
        kind, message = await self._channel.get()
        if kind == f"lifespan.{phase}.complete":
            return True
        if kind == f"lifespan.{phase}.failed":
            raise RuntimeError(f"the app's lifespan {phase} failed: {message}")
        if phase == "startup" and kind in ("returned", "error"):
            # ASGI lifespan spec: an app without lifespan support returns or raises.
            return False
        raise RuntimeError(f"the app's lifespan sent {kind!r} during {phase}: {message}")

    async def startup(self) -> None:
        self._task = self._transport.backend.spawn(self._run())
        self._supported = await self._expect("startup")

    async def shutdown(self) -> None:
        if not self._supported or self._task.done():
            return

        async def stop() -> None:
            assert self._stop is not None
            self._stop.set()

        await self._transport.backend.spawn(stop()).join()
        await self._expect("shutdown")
        await self._task.join()
