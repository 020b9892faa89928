"""The opening handshake, both roles (RFC 6455 §4) with deflate negotiation."""

from __future__ import annotations

import pytest

from transom.exceptions import LocalProtocolError, WebSocketHandshakeError
from transom.http.events import HeaderList
from transom.http.websocket import (
    DeflateOptions,
    Role,
    WebSocketLimits,
    accept,
    accept_key,
    check_request,
    check_response,
    client_request,
    is_websocket_upgrade,
)

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3


def request_headers(**changes: bytes | None) -> HeaderList:
    fields = {
        b"host": b"example.com",
        b"upgrade": b"websocket",
        b"connection": b"Upgrade",
        b"sec-websocket-key": KEY,
        b"sec-websocket-version": b"13",
    }
    for name, value in changes.items():
        fields[name.replace("_", "-").encode()] = value  # type: ignore[assignment]
    return [(name, value) for name, value in fields.items() if value is not None]


def test_accept_key_rfc_example() -> None:
    assert accept_key(KEY) == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@pytest.mark.parametrize(
    ("method", "headers", "expected"),
    [
        (b"GET", [(b"upgrade", b"websocket")], True),
        (b"GET", [(b"upgrade", b"h2c, WebSocket")], True),
        (b"GET", [(b"upgrade", b"h2c"), (b"upgrade", b" ,websocket")], True),
        (b"POST", [(b"upgrade", b"websocket")], False),
        (b"GET", [(b"upgrade", b"websockets")], False),
        (b"GET", [], False),
    ],
    ids=["plain", "list", "several-fields", "post", "other-token", "none"],
)
def test_is_websocket_upgrade(method: bytes, headers: HeaderList, expected: bool) -> None:
    assert is_websocket_upgrade(method, headers) is expected


def test_check_request_valid() -> None:
    headers = [
        *request_headers(connection=b"keep-alive, , UPGRADE", origin=b"https://a.example"),
        (b"sec-websocket-protocol", b"chat, , v2.chat"),
        (b"sec-websocket-protocol", b"soap"),
        (b"sec-websocket-extensions", b"permessage-deflate"),
        (b"sec-websocket-extensions", b"x-other"),
    ]
    request = check_request(b"GET", b"1.1", headers)
    assert request.key == KEY
    assert request.subprotocols == ["chat", "v2.chat", "soap"]
    assert request.extensions == [b"permessage-deflate", b"x-other"]
    assert request.origin == "https://a.example"


@pytest.mark.parametrize(
    ("method", "version", "changes"),
    [
        (b"POST", b"1.1", {}),
        (b"GET", b"1.0", {}),
        (b"GET", b"1.1", {"upgrade": None}),
        (b"GET", b"1.1", {"upgrade": b"h2c"}),
        (b"GET", b"1.1", {"connection": b"keep-alive"}),
        (b"GET", b"1.1", {"connection": None}),
        (b"GET", b"1.1", {"sec_websocket_key": None}),
        (b"GET", b"1.1", {"sec_websocket_key": b"c2hvcnQ="}),
        (b"GET", b"1.1", {"sec_websocket_key": b"dGhlIHNhbXBsZSBub25jZQ!!"}),
        (b"GET", b"1.1", {"sec_websocket_key": b"dGhlIHNhbXBsZSBub25jZXh4eA=="}),
        (b"GET", b"1.1", {"sec_websocket_protocol": b"a b"}),
    ],
    ids=[
        "post",
        "http10",
        "no-upgrade",
        "other-upgrade",
        "no-connection-upgrade",
        "no-connection",
        "no-key",
        "short-key",
        "not-base64",
        "long-key",
        "protocol-not-token",
    ],
)
def test_check_request_refuses_with_400(
    method: bytes, version: bytes, changes: dict[str, bytes | None]
) -> None:
    with pytest.raises(WebSocketHandshakeError) as info:
        check_request(method, version, request_headers(**changes))
    assert info.value.status_code == 400


def test_check_request_refuses_two_keys_and_two_origins() -> None:
    with pytest.raises(WebSocketHandshakeError):
        check_request(b"GET", b"1.1", [*request_headers(), (b"sec-websocket-key", KEY)])
    with pytest.raises(WebSocketHandshakeError):
        check_request(b"GET", b"1.1", [*request_headers(), (b"origin", b"a"), (b"origin", b"b")])


@pytest.mark.parametrize("version", [None, b"8", b"13, 8", b"14"])
def test_check_request_wrong_version_is_426(version: bytes | None) -> None:
    with pytest.raises(WebSocketHandshakeError) as info:
        check_request(b"GET", b"1.1", request_headers(sec_websocket_version=version))
    assert info.value.status_code == 426
    assert info.value.headers == [(b"sec-websocket-version", b"13")]


def test_accept_headers_and_connection() -> None:
    request = check_request(
        b"GET", b"1.1", [*request_headers(), (b"sec-websocket-protocol", b"chat, soap")]
    )
    limits = WebSocketLimits(max_message_size=10)
    headers, conn = accept(
        request, subprotocol="soap", limits=limits, extra_headers=[(b"X-Server", b"t")]
    )
    assert headers == [
        (b"upgrade", b"websocket"),
        (b"connection", b"Upgrade"),
        (b"sec-websocket-accept", b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        (b"sec-websocket-protocol", b"soap"),
        (b"x-server", b"t"),
    ]
    assert conn.role is Role.SERVER
    assert conn.limits is limits
    assert conn.deflate is None


def test_accept_refuses_a_subprotocol_not_offered() -> None:
    request = check_request(b"GET", b"1.1", request_headers())
    with pytest.raises(LocalProtocolError):
        accept(request, subprotocol="chat")


@pytest.mark.parametrize(
    "header",
    [
        (b"x-a", b"a\r\nb"),
        (b"x-a", b"\x00"),
        (b"x a", b"v"),
        (b"sec-websocket-accept", b"v"),
        (b"Connection", b"close"),
    ],
)
def test_accept_refuses_bad_extra_headers(header: tuple[bytes, bytes]) -> None:
    request = check_request(b"GET", b"1.1", request_headers())
    with pytest.raises(LocalProtocolError):
        accept(request, extra_headers=[header])


def test_accept_without_deflate_ignores_the_offer() -> None:
    request = check_request(
        b"GET", b"1.1", [*request_headers(), (b"sec-websocket-extensions", b"permessage-deflate")]
    )
    headers, conn = accept(request)
    assert b"sec-websocket-extensions" not in dict(headers)
    assert conn.deflate is None


def test_accept_with_a_malformed_extensions_field_goes_without_deflate() -> None:
    request = check_request(
        b"GET", b"1.1", [*request_headers(), (b"sec-websocket-extensions", b"permessage-deflate;")]
    )
    headers, conn = accept(request, deflate=DeflateOptions())
    assert b"sec-websocket-extensions" not in dict(headers)
    assert conn.deflate is None


def test_client_request_headers() -> None:
    key, headers = client_request(subprotocols=["chat", "soap"], key=KEY)
    assert key == KEY
    assert headers == [
        (b"upgrade", b"websocket"),
        (b"connection", b"Upgrade"),
        (b"sec-websocket-key", KEY),
        (b"sec-websocket-version", b"13"),
        (b"sec-websocket-protocol", b"chat, soap"),
    ]


def test_client_request_fresh_keys_are_valid() -> None:
    first, headers = client_request(deflate=DeflateOptions())
    second, _ = client_request()
    assert first != second
    check_request(b"GET", b"1.1", [(b"host", b"h"), *headers])
    assert (b"sec-websocket-extensions", b"permessage-deflate; client_max_window_bits") in headers


@pytest.mark.parametrize(
    ("kwargs"),
    [{"key": b"short"}, {"subprotocols": ["a b"]}, {"subprotocols": "chat"}],
    ids=["bad-key", "protocol-not-token", "protocols-as-str"],
)
def test_client_request_refuses(kwargs: dict[str, object]) -> None:
    with pytest.raises(LocalProtocolError):
        client_request(**kwargs)  # type: ignore[arg-type]  # misuse on purpose


def response_headers(**changes: bytes | None) -> HeaderList:
    fields = {
        b"upgrade": b"websocket",
        b"connection": b"Upgrade",
        b"sec-websocket-accept": accept_key(KEY),
    }
    for name, value in changes.items():
        fields[name.replace("_", "-").encode()] = value  # type: ignore[assignment]
    return [(name, value) for name, value in fields.items() if value is not None]


def test_check_response_valid() -> None:
    headers = response_headers(upgrade=b"WebSocket", sec_websocket_protocol=b"soap")
    subprotocol, conn = check_response(101, headers, key=KEY, subprotocols=["chat", "soap"])
    assert subprotocol == "soap"
    assert conn.role is Role.CLIENT
    assert conn.deflate is None


@pytest.mark.parametrize(
    ("status", "changes"),
    [
        (200, {}),
        (101, {"upgrade": None}),
        (101, {"connection": b"close"}),
        (101, {"sec_websocket_accept": None}),
        (101, {"sec_websocket_accept": b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}),
        (101, {"sec_websocket_protocol": b"other"}),
        (101, {"sec_websocket_protocol": b"chat, soap"}),
        (101, {"sec_websocket_extensions": b"permessage-deflate"}),
    ],
    ids=[
        "status",
        "no-upgrade",
        "no-connection-upgrade",
        "no-accept",
        "wrong-accept",
        "protocol-not-offered",
        "two-protocols",
        "extension-not-offered",
    ],
)
def test_check_response_refuses(status: int, changes: dict[str, bytes | None]) -> None:
    headers = response_headers(**changes)
    with pytest.raises(WebSocketHandshakeError) as info:
        check_response(status, headers, key=b"x3JJHMbDL1EzLkh9GBhXDw==", subprotocols=["chat"])
    assert info.value.status_code == status
    assert info.value.headers == headers


def test_full_handshake_round_trip_with_deflate() -> None:
    options = DeflateOptions()
    key, headers = client_request(subprotocols=["chat"], deflate=options)
    request = check_request(b"GET", b"1.1", [(b"host", b"h"), *headers])
    answer, server = accept(request, subprotocol="chat", deflate=options)
    subprotocol, client = check_response(
        101, answer, key=key, subprotocols=["chat"], deflate=options
    )
    assert subprotocol == "chat"
    assert server.deflate is not None
    assert client.deflate is not None
    server.receive_data(client.send_text("hello " * 100))
    assert server.next_event() is not None
