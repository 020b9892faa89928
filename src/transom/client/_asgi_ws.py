"""``ASGISession``: a WebSocket to an ASGI app in this process (the test clients').

Theory of operation
-------------------
The app runs as a concurrent task, as it would under a server (on the
caller's loop under ``AsyncClient``, on the backend's loop thread under
``Client``), with a ``websocket`` scope (ASGI spec 2.4) built from the
handshake request. Its ``send`` messages cross to the caller through a
bounded channel, so an app that sends faster than the test reads waits
(back-pressure); the caller's messages reach the app's ``receive`` through a
queue on the app's loop.

The handshake is the app's first answer: ``websocket.accept`` opens the
session (a ``101`` response carrying the accept's headers);
``websocket.close`` before it is the ASGI spec's 403; a
``websocket.http.response`` (the extension is offered) is the denial
response as the app built it; an app that fails or returns first is a 500.
A refused handshake raises ``WebSocketHandshakeError`` in the client, as
over the network.

After ``websocket.close`` from the app, the caller's ``receive`` raises
``WebSocketDisconnect(code, reason)``; an app that returns without closing
is closed with 1000, one that fails with 1011. The caller's ``close`` hands
the app ``websocket.disconnect`` and waits for it to return; messages it
sends meanwhile stay readable. An app ``send`` after that raises
``ClientDisconnected``, as a server's does. An app that does neither (it
waits on something else, as a push loop does) is cancelled once
``close_timeout`` has passed, as over the network a client gives up on a
server that does not answer its close: leaving the ``with`` block never
waits longer than that (``close_timeout=None`` waits for the app's end).
An exception from the app is raised in the caller (``raise_app_exceptions``),
at its next ``receive`` or at ``close``; else it is only the 500 or the 1011.

In-process there are no pings: ``ping()`` returns at once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any

from transom._types import ASGIApp, Message, Scope
from transom.client.models import Request, Response
from transom.client.websocket import Session, WebSocketOptions
from transom.exceptions import ClientDisconnected, WebSocketDisconnect, WebSocketHandshakeError
from transom.http.headers import Headers
from transom.http.websocket import client_request

if TYPE_CHECKING:
    from transom.client._asgi import ASGITransport

__all__ = ["open_websocket"]

_ACCEPT, _MESSAGE, _CLOSE, _DENY, _ERROR, _END = range(6)
_SKIPPED = frozenset((b"accept-encoding", b"content-length", b"transfer-encoding"))


async def open_websocket(
    transport: ASGITransport, request: Request, options: WebSocketOptions
) -> tuple[Response, Session | None]:
    """Start the app on a ``websocket`` scope for ``request``; its answer."""
    _, fields = client_request(subprotocols=options.subprotocols)
    headers = [field for field in request.headers.raw if field[0] not in _SKIPPED] + fields
    scope = transport.scope_for(request, headers)
    scope.update(
        type="websocket",
        asgi={"version": "3.0", "spec_version": "2.4"},
        scheme="wss" if request.url.scheme == "https" else "ws",
        subprotocols=list(options.subprotocols),
        extensions={"websocket.http.response": {}},
    )
    del scope["method"]
    session = ASGISession(transport, options)
    session.task = transport.backend.spawn(session.run(transport.app, scope))
    return await session.handshake(request)


class ASGISession:
    """One WebSocket to an in-process app (see the module docstring)."""

    def __init__(self, transport: ASGITransport, options: WebSocketOptions) -> None:
        self._backend = transport.backend
        self._raise = transport.raise_app_exceptions
        self._offered = options.subprotocols
        self._close_timeout = options.close_timeout
        self._expired = False  # the app outlived close_timeout and was cancelled
        self._channel = self._backend.channel(16)  # app -> caller
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()  # caller -> app, on its loop
        self._pending: deque[str | bytes] = deque()
        self._gone = False  # the caller closed: the app's sends fail
        self._ended = False  # the app closed, returned or failed
        self._released = False
        self._finished = False  # the app returned or failed
        self._error: BaseException | None = None
        self._raised = False
        self.task: Any = None
        self.subprotocol: str | None = None
        self.close_code: int | None = None
        self.close_reason = ""

    # --- the app's side (on its loop) -------------------------------------------------
    async def run(self, app: ASGIApp, scope: Scope) -> None:
        connected = False
        denial: list[Any] = []

        async def receive() -> Message:
            nonlocal connected
            if not connected:
                connected = True
                return {"type": "websocket.connect"}
            message = await self._inbox.get()
            if message["type"] == "websocket.disconnect":
                self._inbox.put_nowait(message)  # every later receive() says it again
            return message

        async def send(message: Message) -> None:
            item = self._item(message, denial)
            if item is None:
                return
            if self._gone or not await self._channel.put(item):
                raise ClientDisconnected("the test client closed the WebSocket")

        try:
            await app(scope, receive, send)
        except asyncio.CancelledError:
            if self._expired:  # close() is waiting for the app's last item
                await self._channel.put((_END, None))
            raise
        except BaseException as exc:  # reported to the caller, like an HTTP app's
            self._error = exc
            await self._channel.put((_ERROR, exc))
        else:
            await self._channel.put((_END, None))

    def _item(self, message: Message, denial: list[Any]) -> tuple[Any, ...] | None:
        kind = message["type"]
        if kind == "websocket.send":
            text = message.get("text")
            return (_MESSAGE, text if text is not None else bytes(message.get("bytes") or b""))
        if kind == "websocket.accept":
            return (_ACCEPT, message.get("subprotocol"), list(message.get("headers") or []))
        if kind == "websocket.close":
            return (_CLOSE, int(message.get("code", 1000)), message.get("reason") or "")
        if kind == "websocket.http.response.start" and not denial:
            denial += [int(message["status"]), list(message.get("headers") or []), []]
            return None
        if kind == "websocket.http.response.body" and denial:
            denial[2].append(bytes(message.get("body", b"")))
            if message.get("more_body", False):
                return None
            return (_DENY, denial[0], denial[1], b"".join(denial[2]))
        raise RuntimeError(f"ASGI app sent {kind!r} out of order")

    # --- the caller's side ------------------------------------------------------------
    async def handshake(self, request: Request) -> tuple[Response, Session | None]:
        item = await self._channel.get()
        kind = item[0]
        if kind == _ACCEPT:
            subprotocol, extra = item[1], item[2]
            if subprotocol is not None and subprotocol not in self._offered:
                await self.abort()
                raise WebSocketHandshakeError(
                    f"the app chose the subprotocol {subprotocol!r}, which was not offered",
                    status_code=101,
                )
            self.subprotocol = subprotocol
            headers = [(b"upgrade", b"websocket"), (b"connection", b"Upgrade")]
            if subprotocol is not None:
                headers.append((b"sec-websocket-protocol", subprotocol.encode("latin-1")))
            headers += [(bytes(n).lower(), bytes(v)) for n, v in extra]
            return Response(101, headers=Headers(raw=headers), request=request), self
        if kind == _MESSAGE:
            await self.abort()
            raise RuntimeError("ASGI app sent 'websocket.send' before 'websocket.accept'")
        if kind == _DENY:
            response = Response(item[1], headers=Headers(item[2]), content=item[3])
        elif kind == _CLOSE:  # ASGI spec: a close before the accept is a 403
            response = Response(403, headers={"content-length": "0"})
        else:  # the app failed or returned without answering: a server sends 500
            response = Response(500, headers={"content-type": "text/plain"})
        response.request = request
        self._end(item)
        await self.close(1000, "")
        return response, None

    async def send(self, data: str | bytes) -> None:
        if self._ended or self._gone:
            raise WebSocketDisconnect(self.close_code or 1006, self.close_reason)
        key = "text" if type(data) is str else "bytes"
        await self._deliver({"type": "websocket.receive", key: data})

    async def receive(self) -> str | bytes:
        if self._pending:
            return self._pending.popleft()
        if not self._ended:
            item = await self._channel.get()
            if item[0] == _MESSAGE:
                return item[1]  # type: ignore[no-any-return]
            self._end(item)
        self._raise_error()
        raise WebSocketDisconnect(self.close_code or 1006, self.close_reason)

    async def ping(self, payload: bytes) -> None:
        if self._ended or self._gone:
            raise WebSocketDisconnect(self.close_code or 1006, self.close_reason)

    async def close(self, code: int, reason: str) -> None:
        if self._released:
            return
        self._released = True
        self._gone = True
        await self._deliver({"type": "websocket.disconnect", "code": code, "reason": reason})
        if self._close_timeout is not None and not self._finished:
            self._backend.call_soon(self._arm, self._close_timeout)
        # Wait for the app to return (its last item), keeping what it still says.
        while not self._finished:
            item = await self._channel.get()
            if item[0] == _MESSAGE:
                self._pending.append(item[1])
            else:
                self._end(item)
        self._channel.close()
        await self.task.join()
        self._raise_error()

    def _arm(self, seconds: float) -> None:
        """On the app's loop: cancel the app if it is still running in ``seconds``."""
        asyncio.get_running_loop().call_later(seconds, self._expire)

    def _expire(self) -> None:
        if not self.task.done():
            self._expired = True
            self.task.cancel()

    async def abort(self) -> None:
        self._released = self._gone = self._ended = True
        self._channel.close()
        self.task.cancel()
        await self.task.join()

    def _end(self, item: tuple[Any, ...]) -> None:
        self._finished = self._finished or item[0] in (_ERROR, _END)
        if self._ended:
            return
        self._ended = True
        if item[0] == _CLOSE:
            self.close_code, self.close_reason = item[1], item[2]
        elif item[0] == _ERROR:
            self.close_code, self.close_reason = 1011, ""
        else:  # the app returned without closing: the server closes normally
            self.close_code, self.close_reason = 1000, ""

    def _raise_error(self) -> None:
        if self._raise and self._error is not None and not self._raised:
            self._raised = True
            raise self._error

    async def _deliver(self, message: Message) -> None:
        """Hand ``message`` to the app's ``receive`` (on its loop)."""
        self._backend.call_soon(self._inbox.put_nowait, message)
