"""The RESP2 client of ``RedisStore``: the parser alone, and a connection over a fake transport.

Against a real server, see ``test_redis.py``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transom.web.sessions._resp import (
    INCOMPLETE,
    Address,
    Connection,
    ConnectionLost,
    ProtocolError,
    Reply,
    ReplyError,
    encode,
    parse,
)
from transom.web.sessions.store import StoreUnavailable

# One of each reply type, as Redis sends it, and what parse makes of it.
REPLIES: list[tuple[bytes, Any]] = [
    (b"+OK\r\n", b"OK"),
    (b":-42\r\n", -42),
    (b"$5\r\nhe\r\no\r\n", b"he\r\no"),  # a bulk string may hold CR LF
    (b"$0\r\n\r\n", b""),
    (b"$-1\r\n", None),
    (b"*-1\r\n", None),
    (b"*0\r\n", []),
    (b"*3\r\n:1\r\n$1\r\nx\r\n*1\r\n+PONG\r\n", [1, b"x", [b"PONG"]]),
]


@pytest.mark.parametrize(("data", "expected"), REPLIES, ids=[repr(d) for d, _ in REPLIES])
def test_parse_reads_each_reply_type(data: bytes, expected: Any) -> None:
    assert parse(b"junk" + data + b"+next\r\n", 4) == (expected, 4 + len(data))


def test_parse_reads_error_reply_with_code() -> None:
    reply, end = parse(b"-WRONGTYPE Operation against a key\r\n", 0)
    assert isinstance(reply, ReplyError)
    assert (reply.code, str(reply)) == ("WRONGTYPE", "WRONGTYPE Operation against a key")
    assert end == 36


@pytest.mark.parametrize(("data", "expected"), REPLIES, ids=[repr(d) for d, _ in REPLIES])
def test_parse_waits_for_reply_cut_at_every_byte(data: bytes, expected: Any) -> None:
    for cut in range(len(data)):
        assert parse(data[:cut], 0) == (INCOMPLETE, 0), cut
    assert parse(data, 0) == (expected, len(data))


@pytest.mark.parametrize("data", [b"?1\r\n", b":x\r\n", b"$ab\r\nxx\r\n", b"*z\r\n"])
def test_parse_refuses_what_is_not_resp2(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse(data, 0)


@given(st.lists(st.binary(max_size=40), min_size=1, max_size=6))
def test_encode_gives_what_parse_reads_back(args: list[bytes]) -> None:
    data = encode(*args)
    assert parse(data, 0) == (args, len(data))


def test_address_handshake_logs_in_and_selects_database() -> None:
    assert Address().handshake() == []
    assert Address(password="pw", db=3).handshake() == [
        encode(b"AUTH", b"pw"),
        encode(b"SELECT", b"3"),
    ]
    assert Address(username="u", password="pw").handshake() == [encode(b"AUTH", b"u", b"pw")]


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def abort(self) -> None:
        self.aborted = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


def connected(timeout: float = 5.0) -> tuple[Connection, FakeTransport]:
    connection = Connection(asyncio.get_running_loop(), timeout, "here")
    transport = FakeTransport()
    connection.connection_made(transport)
    return connection, transport


async def settle(waiters: list[asyncio.Future[Reply]]) -> list[Any]:
    return await asyncio.gather(*waiters, return_exceptions=True)


async def test_connection_writes_one_turn_of_commands_at_once() -> None:
    connection, transport = connected()
    waiters = [connection.send(encode(b"GET", b"%d" % n)) for n in range(3)]
    assert transport.written == []
    await asyncio.sleep(0)
    assert transport.written == [b"".join(encode(b"GET", b"%d" % n) for n in range(3))]
    connection.data_received(b"$1\r\n0\r\n$1\r\n1\r\n$-1\r\n")
    assert await settle(waiters) == [b"0", b"1", None]


async def test_connection_answers_in_order_across_split_data() -> None:
    connection, _ = connected()
    waiters = [connection.send(b"x") for _ in range(4)]
    data = b":1\r\n$3\r\nabc\r\n*2\r\n:5\r\n:6\r\n+OK\r\n"
    for byte in range(len(data)):
        connection.data_received(data[byte : byte + 1])
    assert await settle(waiters) == [1, b"abc", [5, 6], b"OK"]


async def test_connection_cancelled_caller_keeps_reply_order() -> None:
    connection, _ = connected()
    first, second = connection.send(b"x"), connection.send(b"y")
    first.cancel()
    connection.data_received(b"$5\r\nfirst\r\n$6\r\nsecond\r\n")
    assert await second == b"second"


async def test_connection_raises_error_replies() -> None:
    connection, transport = connected()
    waiters = [connection.send(b"x") for _ in range(3)]
    connection.data_received(b"-NOSCRIPT No matching script\r\n-LOADING loading\r\n:7\r\n")
    wrong, loading, fine = await settle(waiters)
    assert isinstance(wrong, ReplyError)
    assert wrong.code == "NOSCRIPT"
    assert isinstance(loading, StoreUnavailable)
    assert "LOADING" in str(loading)
    assert fine == 7
    assert connection.usable
    assert not transport.aborted


async def test_connection_without_reply_in_time_gives_up() -> None:
    connection, transport = connected(timeout=0.05)
    answered = connection.send(b"x")
    connection.data_received(b":1\r\n")
    late = [connection.send(b"y"), connection.send(b"z")]
    results = await settle([answered, *late])
    assert results[0] == 1
    assert all(isinstance(r, StoreUnavailable) and "Timeout" in str(r) for r in results[1:])
    assert transport.aborted
    assert not connection.usable
    with pytest.raises(StoreUnavailable):
        await connection.send(b"after")


async def test_connection_deadline_follows_oldest_waiter() -> None:
    connection, _ = connected(timeout=0.6)
    first = connection.send(b"x")
    await asyncio.sleep(0.3)
    second = connection.send(b"y")
    connection.data_received(b":1\r\n")
    await asyncio.sleep(0.4)  # past the first deadline, not the second's
    assert connection.usable
    connection.data_received(b":2\r\n")
    assert (await first, await second) == (1, 2)


async def test_connection_lost_fails_waiters_for_retry() -> None:
    connection, _ = connected()
    waiter = connection.send(b"x")
    connection.connection_lost(ConnectionResetError("reset by peer"))
    with pytest.raises(ConnectionLost, match="reset by peer"):
        await waiter
    await connection.close()  # already closed: returns at once


@pytest.mark.parametrize("data", [b"?what\r\n", b":1\r\n"], ids=["not-resp", "unasked-reply"])
async def test_connection_gives_up_on_garbage(data: bytes) -> None:
    connection, transport = connected()
    connection.data_received(data)
    assert transport.aborted
    assert not connection.usable
