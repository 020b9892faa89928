"""WebSocket: the handshake, messages, closing and misuse, driven as ASGI in-process.

``talk(app, ...)`` plays the server: it queues the client's messages (the
``websocket.connect``, then the given ones, then a ``websocket.disconnect``)
and records what the app sends. The other ``test_websockets_*`` modules use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from transom import WebSocket as PublicWebSocket
from transom import WebSocketDisconnect as PublicWebSocketDisconnect
from transom._types import ASGIApp, Message
from transom.exceptions import ConfigurationError, LocalProtocolError, WebSocketDisconnect
from transom.http.headers import Headers
from transom.web.application import App
from transom.web.responses import PlainTextResponse
from transom.web.websockets import WebSocket

# -- the in-process server ----------------------------------------------------


def ws_scope(
    path: str = "/ws",
    headers: Sequence[tuple[str, str]] = (),
    *,
    subprotocols: Sequence[str] = (),
    extension: bool = True,
    scheme: str = "ws",
    query_string: bytes = b"",
    raise_exceptions: bool = False,
) -> dict[str, Any]:
    """An ASGI 2.4 websocket scope as a server makes it; the Host defaults to testserver."""
    raw = Headers(list(headers)).raw
    if not any(name == b"host" for name, _ in raw):
        raw.insert(0, (b"host", b"testserver"))
    extensions: dict[str, Any] = {"websocket.http.response": {}} if extension else {}
    if raise_exceptions:
        extensions["transom.raise_server_exceptions"] = {}
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query_string,
        "headers": raw,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "subprotocols": list(subprotocols),
        "state": {},
        "extensions": extensions,
    }


@dataclass
class Outcome:
    """What the app sent for one connection."""

    sent: list[Message] = field(default_factory=list)

    @property
    def accept(self) -> Message | None:
        return next((m for m in self.sent if m["type"] == "websocket.accept"), None)

    @property
    def status(self) -> int:
        """The handshake's HTTP status: 101, a denial's, or 403 for a close before accept."""
        first = self.sent[0]
        if first["type"] == "websocket.accept":
            return 101
        if first["type"] == "websocket.close":
            return 403  # what a server answers (ASGI spec)
        assert first["type"] == "websocket.http.response.start", first
        status: int = first["status"]
        return status

    @property
    def headers(self) -> Headers:
        return Headers(raw=list(self.sent[0].get("headers", [])))

    @property
    def body(self) -> bytes:
        return b"".join(m["body"] for m in self.sent if m["type"] == "websocket.http.response.body")

    @property
    def messages(self) -> list[str | bytes]:
        """The data messages the app sent, in order."""
        return [
            m["text"] if m.get("text") is not None else m["bytes"]
            for m in self.sent
            if m["type"] == "websocket.send"
        ]

    @property
    def close(self) -> Message | None:
        """The app's close after accept, if it sent one."""
        closes = [m for m in self.sent if m["type"] == "websocket.close"]
        return closes[-1] if closes and self.accept is not None else None


async def talk(
    app: ASGIApp,
    path: str = "/ws",
    client: Sequence[str | bytes] = (),
    *,
    close: tuple[int, str] | None = (1000, ""),
    **scope_options: Any,
) -> Outcome:
    """Open ``path`` on ``app``, send ``client``'s messages, then close with ``close``."""
    scope = ws_scope(path, **scope_options)
    inbox: list[Message] = [{"type": "websocket.connect"}]
    for message in client:
        key = "text" if isinstance(message, str) else "bytes"
        inbox.append({"type": "websocket.receive", key: message})
    if close is not None:
        inbox.append({"type": "websocket.disconnect", "code": close[0], "reason": close[1]})
    outcome = Outcome()

    async def receive() -> Message:
        if not inbox:
            raise AssertionError("the app called receive() after the connection ended")
        return inbox.pop(0)

    async def send(message: Message) -> None:
        outcome.sent.append(message)

    await app(scope, receive, send)
    return outcome


def make_ws(
    client: Sequence[Message] = (), **scope_options: Any
) -> tuple[WebSocket, list[Message]]:
    """A WebSocket over queued client messages (connect first) and the list it sends to."""
    inbox: list[Message] = [{"type": "websocket.connect"}, *client]
    sent: list[Message] = []

    async def receive() -> Message:
        return inbox.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    return WebSocket(ws_scope(**scope_options), receive, send), sent


def echo_app() -> App:
    app = App()

    @app.websocket("/ws")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        async for message in ws:
            if isinstance(message, str):
                await ws.send_text(message)
            else:
                await ws.send_bytes(message)

    return app


# -- the public names ----------------------------------------------------------


def test_websocket_public_names_are_the_framework_ones() -> None:
    assert PublicWebSocket is WebSocket
    assert PublicWebSocketDisconnect is WebSocketDisconnect


# -- messages ------------------------------------------------------------------


async def test_websocket_echo_iterates_until_the_peer_closes() -> None:
    outcome = await talk(echo_app(), client=["hello", b"\x00\x01", ""])
    assert outcome.accept == {"type": "websocket.accept", "subprotocol": None, "headers": []}
    assert outcome.messages == ["hello", b"\x00\x01", ""]
    # The peer closed: nothing more is sent, not even a close.
    assert outcome.sent[-1]["type"] == "websocket.send"


async def test_websocket_receive_raises_disconnect_with_code_and_reason_every_time() -> None:
    ws, _ = make_ws([{"type": "websocket.disconnect", "code": 4001, "reason": "bye"}])
    await ws.accept()
    for _ in range(2):
        with pytest.raises(WebSocketDisconnect) as caught:
            await ws.receive()
        assert (caught.value.code, caught.value.reason) == (4001, "bye")
    assert (ws.close_code, ws.close_reason) == (4001, "bye")


async def test_websocket_disconnect_without_code_is_1005() -> None:
    ws, _ = make_ws([{"type": "websocket.disconnect"}])
    await ws.accept()
    with pytest.raises(WebSocketDisconnect) as caught:
        await ws.receive()
    assert caught.value.code == 1005


async def test_websocket_receive_text_and_bytes_check_the_type() -> None:
    ws, _ = make_ws(
        [
            {"type": "websocket.receive", "bytes": b"abc"},
            {"type": "websocket.receive", "text": "héllo"},
            {"type": "websocket.receive", "text": "ok"},
            {"type": "websocket.receive", "bytes": b"ok"},
        ]
    )
    await ws.accept()
    with pytest.raises(
        LocalProtocolError, match=r"receive_text\(\) got a binary message \(3 bytes"
    ):
        await ws.receive_text()
    with pytest.raises(LocalProtocolError, match=r"got a text message \(5 characters"):
        await ws.receive_bytes()
    assert await ws.receive_text() == "ok"
    assert await ws.receive_bytes() == b"ok"


async def test_websocket_receive_json_reads_text_and_binary_messages() -> None:
    ws, _ = make_ws(
        [
            {"type": "websocket.receive", "text": '{"a": [1, 2]}'},
            {"type": "websocket.receive", "bytes": '{"é": true}'.encode()},
            {"type": "websocket.receive", "text": "{nope"},
        ]
    )
    await ws.accept()
    assert await ws.receive_json() == {"a": [1, 2]}
    assert await ws.receive_json() == {"é": True}
    with pytest.raises(ValueError, match="Expecting property name"):
        await ws.receive_json()


async def test_websocket_send_json_is_compact_text_or_binary() -> None:
    ws, sent = make_ws()
    await ws.accept()
    await ws.send_json({"a": "é", "b": [1]})
    await ws.send_json([1], mode="binary")
    assert sent[1:] == [
        {"type": "websocket.send", "text": '{"a":"é","b":[1]}'},
        {"type": "websocket.send", "bytes": b"[1]"},
    ]
    with pytest.raises(LocalProtocolError, match="'text' or 'binary'"):
        await ws.send_json(1, mode="base64")  # type: ignore[arg-type]


async def test_websocket_send_checks_the_type() -> None:
    ws, _ = make_ws()
    await ws.accept()
    with pytest.raises(LocalProtocolError, match=r"send_text\(\) takes a str, not bytes"):
        await ws.send_text(b"x")  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match=r"send_bytes\(\) takes bytes, not str"):
        await ws.send_bytes("x")  # type: ignore[arg-type]


async def test_websocket_send_bytes_takes_any_bytes_like() -> None:
    ws, sent = make_ws()
    await ws.accept()
    await ws.send_bytes(bytearray(b"ab"))
    await ws.send_bytes(memoryview(b"cd"))
    assert [m["bytes"] for m in sent[1:]] == [b"ab", b"cd"]


async def test_websocket_send_to_a_peer_that_left_raises_disconnect_1006() -> None:
    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        if message["type"] == "websocket.send":
            raise ConnectionResetError("the client went away")

    ws = WebSocket(ws_scope(), receive, send)
    await ws.accept()
    with pytest.raises(WebSocketDisconnect) as caught:
        await ws.send_text("hi")
    assert caught.value.code == 1006
    assert isinstance(caught.value.__cause__, ConnectionResetError)
    with pytest.raises(WebSocketDisconnect):  # and from then on
        await ws.send_text("again")
    await ws.close()  # nothing to close: no error


async def test_websocket_send_after_the_peer_closed_raises_disconnect() -> None:
    ws, sent = make_ws([{"type": "websocket.disconnect", "code": 1001}])
    await ws.accept()
    with pytest.raises(WebSocketDisconnect):
        await ws.receive()
    with pytest.raises(WebSocketDisconnect) as caught:
        await ws.send_text("late")
    assert caught.value.code == 1001
    assert len(sent) == 1


# -- the handshake -------------------------------------------------------------


async def test_websocket_accept_sends_subprotocol_and_headers() -> None:
    ws, sent = make_ws(subprotocols=["chat", "superchat"])
    assert ws.subprotocols == ["chat", "superchat"]
    await ws.accept(subprotocol="superchat", headers={"X-Room": "lobby"})
    assert sent == [
        {"type": "websocket.accept", "subprotocol": "superchat", "headers": [(b"x-room", b"lobby")]}
    ]
    assert ws.accepted and ws.application_state == "accepted"


async def test_websocket_accept_refuses_a_subprotocol_not_offered() -> None:
    ws, sent = make_ws(subprotocols=["chat"])
    with pytest.raises(LocalProtocolError, match=r"the client offered chat.*RFC 6455 §4.2.2"):
        await ws.accept(subprotocol="mqtt")
    assert sent == []
    assert ws.application_state == "connecting"


async def test_websocket_accept_twice_is_an_error() -> None:
    ws, _ = make_ws()
    await ws.accept()
    with pytest.raises(LocalProtocolError, match=r"accept\(\) after accept\(\)"):
        await ws.accept()


async def test_websocket_accept_when_the_client_already_left_raises_disconnect() -> None:
    ws = WebSocket(ws_scope(), _messages({"type": "websocket.disconnect", "code": 1001}), _drop)
    with pytest.raises(WebSocketDisconnect) as caught:
        await ws.accept()
    assert caught.value.code == 1001


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda ws: ws.send_text("x"), r"send_text\(\) before accept\(\)"),
        (lambda ws: ws.send_bytes(b"x"), r"send_bytes\(\) before accept\(\)"),
        (lambda ws: ws.receive(), r"receive\(\) before accept\(\)"),
        (lambda ws: ws.receive_text(), r"receive\(\) before accept\(\)"),
    ],
    ids=["send_text", "send_bytes", "receive", "receive_text"],
)
async def test_websocket_use_before_accept_says_to_accept(call: Any, message: str) -> None:
    ws, sent = make_ws()
    with pytest.raises(LocalProtocolError, match=message):
        await call(ws)
    assert sent == []


async def test_websocket_deny_sends_the_response_through_the_extension() -> None:
    ws, sent = make_ws()
    await ws.deny(PlainTextResponse("go away", status_code=401, headers={"X-Why": "no"}))
    assert sent[0]["type"] == "websocket.http.response.start"
    assert sent[0]["status"] == 401
    assert (b"x-why", b"no") in sent[0]["headers"]
    assert sent[1] == {"type": "websocket.http.response.body", "body": b"go away"}
    assert ws.application_state == "denied"


async def test_websocket_deny_without_the_extension_closes_for_a_403() -> None:
    ws, sent = make_ws(extension=False)
    await ws.deny(PlainTextResponse("no", status_code=401))
    assert sent == [{"type": "websocket.close", "code": 1000}]


async def test_websocket_refusal_takes_the_connect_message_first() -> None:
    # Servers expect the app to have taken websocket.connect before it answers (ASGI).
    taken: list[Message] = []
    inbox: list[Message] = [{"type": "websocket.connect"}]

    async def receive() -> Message:
        taken.append(inbox.pop(0))
        return taken[-1]

    async def send(message: Message) -> None:
        assert taken, "answered before websocket.connect was taken"

    await WebSocket(ws_scope(), receive, send).deny(PlainTextResponse("no", status_code=403))
    assert taken == [{"type": "websocket.connect"}]


@pytest.mark.parametrize("refusal", ["deny", "close"])
async def test_websocket_refusal_to_a_client_that_left_sends_nothing(refusal: str) -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    ws = WebSocket(ws_scope(), _messages({"type": "websocket.disconnect", "code": 1001}), send)
    if refusal == "deny":
        await ws.deny(PlainTextResponse("no", status_code=403))
    else:
        await ws.close()
    assert sent == []
    assert ws.close_code == 1001


async def test_websocket_deny_after_accept_is_an_error() -> None:
    ws, _ = make_ws()
    await ws.accept()
    with pytest.raises(LocalProtocolError, match=r"deny\(\) after accept\(\)"):
        await ws.deny(PlainTextResponse("no", status_code=403))


async def test_websocket_use_after_deny_is_an_error() -> None:
    ws, _ = make_ws()
    await ws.deny(PlainTextResponse("no", status_code=403))
    with pytest.raises(LocalProtocolError, match="refused"):
        await ws.accept()
    with pytest.raises(LocalProtocolError, match="refused"):
        await ws.send_text("x")
    with pytest.raises(LocalProtocolError, match="refused"):
        await ws.receive()


# -- closing -------------------------------------------------------------------


async def test_websocket_close_sends_code_and_reason_once() -> None:
    ws, sent = make_ws()
    await ws.accept()
    await ws.close(4000, "done")
    await ws.close()  # a second close does nothing
    assert sent[1:] == [{"type": "websocket.close", "code": 4000, "reason": "done"}]
    assert ws.application_state == "closed"
    with pytest.raises(LocalProtocolError, match=r"send_text\(\) after close\(\)"):
        await ws.send_text("x")


async def test_websocket_close_before_accept_refuses_the_handshake() -> None:
    ws, sent = make_ws()
    await ws.close()
    assert sent == [{"type": "websocket.close", "code": 1000, "reason": ""}]
    assert ws.application_state == "denied"
    assert not ws.accepted


@pytest.mark.parametrize(
    ("code", "reason", "message"),
    [
        (1005, "", "may not be sent"),
        (1006, "", "may not be sent"),
        (2000, "", "may not be sent"),
        (5000, "", "may not be sent"),
        (True, "", "must be an int"),
        (1000, "x" * 124, "at most 123"),
        (1000, "é" * 62, "at most 123"),
    ],
    ids=["1005", "1006", "2000", "5000", "bool", "long-reason", "long-utf8-reason"],
)
async def test_websocket_close_refuses_codes_and_reasons_rfc6455_forbids(
    code: Any, reason: str, message: str
) -> None:
    ws, _ = make_ws()
    await ws.accept()
    with pytest.raises(LocalProtocolError, match=message):
        await ws.close(code, reason)


async def test_websocket_close_to_a_peer_that_left_is_quiet() -> None:
    async def send(message: Message) -> None:
        if message["type"] == "websocket.close":
            raise BrokenPipeError

    ws = WebSocket(ws_scope(), _messages({"type": "websocket.connect"}), send)
    await ws.accept()
    await ws.close()
    assert ws.close_code == 1006


# -- what it shares with Request -----------------------------------------------


async def test_websocket_shares_the_request_properties() -> None:
    ws, _ = make_ws(
        path="/ws/lobby",
        headers=[("Host", "chat.example:8000"), ("Cookie", "a=1; b=2"), ("X-Token", "t")],
        query_string=b"page=2&page=3",
        scheme="wss",
    )
    ws.scope["path_params"] = {"room": "lobby"}
    assert str(ws.url) == "wss://chat.example:8000/ws/lobby?page=2&page=3"
    assert str(ws.base_url) == "wss://chat.example:8000/"
    assert ws.headers["x-token"] == "t"
    assert ws.query_params.get_list("page") == ["2", "3"]
    assert ws.cookies == {"a": "1", "b": "2"}
    assert ws.client == ("127.0.0.1", 50000)
    assert ws.path_params == {"room": "lobby"}
    ws.state.seen = True
    assert ws.scope["state"] == {"seen": True}
    assert ws.user.is_authenticated is False
    assert ws.auth is None
    assert ws.app is None
    with pytest.raises(ConfigurationError, match="needs sessions"):
        _ = ws.session
    assert repr(ws) == "<WebSocket '/ws/lobby' connecting>"


def test_websocket_scheme_defaults_to_ws() -> None:
    ws, _ = make_ws()
    del ws.scope["scheme"]
    assert str(ws.url) == "ws://testserver/ws"


def test_websocket_needs_a_websocket_scope() -> None:
    with pytest.raises(ConfigurationError, match="needs a 'websocket' ASGI scope, not 'http'"):
        WebSocket({"type": "http"}, _messages(), _drop)


async def test_websocket_unexpected_asgi_message_is_an_error() -> None:
    ws, _ = make_ws([{"type": "http.request"}])
    await ws.accept()
    with pytest.raises(LocalProtocolError, match=r"unexpected ASGI message 'http\.request'"):
        await ws.receive()


def _messages(*messages: Message) -> Any:
    inbox = list(messages)

    async def receive() -> Message:
        return inbox.pop(0)

    return receive


async def _drop(message: Message) -> None:
    pass
