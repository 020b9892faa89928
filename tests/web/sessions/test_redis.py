"""RedisStore against real servers: the one at 127.0.0.1:6379 and one a test starts and stops.

Redis missing is a failure, not a skip: the fixtures connect before each test.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import pathlib
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio

from transom.exceptions import ConfigurationError
from transom.web.sessions._resp import Address, ReplyError
from transom.web.sessions.redis import RedisStore, _parse_url
from transom.web.sessions.store import MemoryStore, SessionStore, StoreUnavailable

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A prefix no other test uses; its keys are deleted afterwards."""
    prefix = f"transom-test:{secrets.token_hex(8)}:"
    yield prefix
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
async def redis_store(redis_prefix: str) -> AsyncIterator[RedisStore]:
    store = RedisStore(REDIS_URL, prefix=redis_prefix)
    await store.ping()  # the server must be there
    yield store
    await store.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A ``redis-server`` child process on its own port, without persistence."""

    def __init__(self, *options: str) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.options = list(options)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", *self.options]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.02)
        raise AssertionError(f"redis-server did not listen on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(10)

    def pause(self, paused: bool) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP if paused else signal.SIGCONT)


@pytest.fixture
def own_redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


async def test_redis_store_load_returns_saved_record(redis_store: RedisStore) -> None:
    await redis_store.save("a" * 43, b'{"cart": [3, 7]}\x00\xff', 60)
    assert await redis_store.load("a" * 43) == b'{"cart": [3, 7]}\x00\xff'
    assert await redis_store.load("nobody") is None


async def test_redis_store_save_replaces_record(redis_store: RedisStore) -> None:
    await redis_store.save("id", b"first", 60)
    await redis_store.save("id", b"second", 60)
    assert await redis_store.load("id") == b"second"


async def test_redis_store_delete_forgets_record(redis_store: RedisStore) -> None:
    await redis_store.save("id", b"x", 60)
    await redis_store.delete("id")
    await redis_store.delete("id")
    assert await redis_store.load("id") is None


async def test_redis_store_expired_record_is_absent(redis_store: RedisStore) -> None:
    await redis_store.save("short", b"x", 0.05)
    await redis_store.save("past", b"x", 0)
    assert await redis_store.load("short") == b"x"
    assert await redis_store.load("past") is None
    await asyncio.sleep(0.1)
    assert await redis_store.load("short") is None


async def test_redis_store_keys_carry_prefix_and_ttl(redis_store: RedisStore) -> None:
    await redis_store.save("id", b"x", 100)
    await redis_store.hit("k", 30)
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    keys = {key async for key in client.scan_iter(match=redis_store.prefix + "*")}
    assert keys == {(redis_store.prefix + "s:id").encode(), (redis_store.prefix + "c:k").encode()}
    assert 99_000 < await client.pttl(redis_store.prefix + "s:id") <= 100_000
    assert 29_000 < await client.pttl(redis_store.prefix + "c:k") <= 30_000
    await client.aclose()


async def test_redis_store_hit_counts_within_window(redis_store: RedisStore) -> None:
    assert (await redis_store.hit("k", 60))[0] == 1
    assert (await redis_store.hit("k", 60))[0] == 2
    count, remaining = await redis_store.hit("k", 60, cost=5)
    assert count == 7
    assert 59 < remaining <= 60
    assert (await redis_store.hit("other", 60))[0] == 1


async def test_redis_store_hit_starts_new_window_after_end(redis_store: RedisStore) -> None:
    await redis_store.hit("k", 0.05, cost=3)
    await asyncio.sleep(0.1)
    count, remaining = await redis_store.hit("k", 0.05)
    assert count == 1
    assert 0 < remaining <= 0.05


async def test_redis_store_counters_match_memory_store(redis_store: RedisStore) -> None:
    stores: list[SessionStore] = [MemoryStore(), redis_store]
    script = [("a", 2), ("a", 0), ("b", 1), ("a", 3), ("reset", 0), ("a", 1), ("b", 0), ("c", 0)]
    answers: list[list[int]] = [[], []]
    for store, seen in zip(stores, answers, strict=True):
        for key, cost in script:
            if key == "reset":
                await store.reset("a")
            else:
                seen.append((await store.hit(key, 60, cost))[0])
    assert answers[0] == answers[1] == [2, 2, 1, 5, 1, 1, 0]


async def test_redis_store_concurrent_hits_are_atomic(redis_store: RedisStore) -> None:
    await asyncio.gather(*(redis_store.hit("k", 60) for _ in range(200)))
    assert (await redis_store.hit("k", 60, cost=0))[0] == 200


async def test_redis_store_uses_a_client_passed_in(redis_prefix: str) -> None:
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    store = RedisStore(client, prefix=redis_prefix)
    await store.save("id", b"x", 60)
    await store.close()  # not ours to close
    assert await client.get(redis_prefix + "s:id") == b"x"
    await client.aclose()


async def test_redis_store_refuses_decoded_responses() -> None:
    client = redis.asyncio.Redis.from_url(REDIS_URL, decode_responses=True)
    with pytest.raises(ConfigurationError, match="decode_responses=False"):
        RedisStore(client)
    with pytest.raises(ConfigurationError, match="on the client you pass"):
        RedisStore(redis.asyncio.Redis.from_url(REDIS_URL), timeout=1)
    await client.aclose()


def test_redis_store_refuses_timeouts_that_are_not_positive() -> None:
    with pytest.raises(ConfigurationError, match="timeout must be more than 0"):
        RedisStore(REDIS_URL, timeout=0)
    with pytest.raises(ConfigurationError, match="connect_timeout must be more than 0"):
        RedisStore(REDIS_URL, connect_timeout=-1)


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("redis://cache", Address(host="cache")),
        ("redis://:p%40ss@cache:7000/2", Address(host="cache", port=7000, password="p@ss", db=2)),
        (
            "rediss://me:pw@cache?db=5",
            Address(host="cache", tls=True, username="me", password="pw", db=5),
        ),
        ("unix:///run/redis.sock?db=1", Address(path="/run/redis.sock", db=1)),
    ],
)
def test_redis_store_reads_url(url: str, address: Address) -> None:
    assert _parse_url(url) == address


@pytest.mark.parametrize(
    "url", ["http://cache", "redis://cache:port", "redis://cache/x", "redis://c?pool=3", "unix://"]
)
def test_redis_store_bad_url_is_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="bad URL"):
        RedisStore(url.replace("cache", "user:sekret@cache"))


def test_redis_store_from_url_needs_no_redis_package(
    redis_prefix: str,  # first: its clean-up must run after monkeypatch's
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [name for name in sys.modules if name == "redis" or name.startswith("redis.")]:
        monkeypatch.setitem(sys.modules, name, None)

    async def main() -> bytes | None:
        store = RedisStore(REDIS_URL, prefix=redis_prefix)
        await store.save("id", b"x", 60)
        found = await store.load("id")
        await store.close()
        return found

    assert asyncio.run(main()) == b"x"


async def test_redis_store_unreachable_server_is_unavailable_quickly() -> None:
    store = RedisStore(f"redis://user:sekret@127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1") as caught:
        await store.ping()
    assert time.monotonic() - started < 2
    assert "sekret" not in str(caught.value)
    assert "sekret" not in repr(store)
    await store.close()


async def test_redis_store_survives_server_restart(own_redis_server: RedisServer) -> None:
    store = RedisStore(own_redis_server.url, prefix="t:")
    await store.save("id", b"x", 60)
    assert (await store.hit("k", 60))[0] == 1
    own_redis_server.stop()
    for call in (store.load("id"), store.save("id", b"y", 60), store.hit("k", 60), store.ping()):
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await call
        assert time.monotonic() - started < 2
    own_redis_server.start()  # same port, empty: nothing was persisted
    assert await store.load("id") is None
    await store.save("id", b"back", 60)
    assert await store.load("id") == b"back"
    assert (await store.hit("k", 60))[0] == 1  # the script is sent again in full
    await store.close()


async def test_redis_store_silent_server_is_unavailable_not_a_hang(
    own_redis_server: RedisServer,
) -> None:
    store = RedisStore(own_redis_server.url, prefix="t:", timeout=0.2)
    await store.save("id", b"x", 60)
    own_redis_server.pause(True)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="Timeout"):
        await store.load("id")
    assert time.monotonic() - started < 1
    own_redis_server.pause(False)
    assert await store.load("id") == b"x"
    await store.close()


def _use_inherited_store(store: RedisStore) -> None:
    async def main() -> None:
        await store.save("child", b"c", 60)
        await store.hit("k", 60)
        await store.close()

    asyncio.run(main())


def test_redis_store_opens_new_connections_after_fork(redis_prefix: str) -> None:
    store = RedisStore(REDIS_URL, prefix=redis_prefix)

    async def in_parent() -> tuple[bytes | None, int]:
        await store.hit("k", 60)  # the parent's pool now holds a connection
        child = multiprocessing.get_context("fork").Process(
            target=_use_inherited_store, args=(store,)
        )
        child.start()
        await asyncio.get_running_loop().run_in_executor(None, child.join, 30)
        assert child.exitcode == 0
        found = await store.load("child"), (await store.hit("k", 60, cost=0))[0]
        await store.close()
        return found

    assert asyncio.run(in_parent()) == (b"c", 2)


def test_redis_store_keeps_a_client_per_event_loop(redis_prefix: str) -> None:
    store = RedisStore(REDIS_URL, prefix=redis_prefix)
    loops = [asyncio.new_event_loop(), asyncio.new_event_loop()]
    try:
        for loop in loops * 2:  # connections of one loop cannot serve the other
            loop.run_until_complete(store.hit("k", 60))
        assert loops[1].run_until_complete(store.hit("k", 60, cost=0))[0] == 4
    finally:
        for loop in loops:
            loop.run_until_complete(store.close())
            loop.close()


async def test_redis_store_pipelined_replies_reach_their_callers(redis_store: RedisStore) -> None:
    ids = [f"id{n}" for n in range(300)]
    await asyncio.gather(*(redis_store.save(i, i.encode() * 50, 60) for i in ids))
    found = await asyncio.gather(*(redis_store.load(i) for i in ids), redis_store.load("none"))
    assert found == [i.encode() * 50 for i in ids] + [None]
    hits = await asyncio.gather(*(redis_store.hit(f"k{n % 3}", 60) for n in range(30)))
    assert sorted(count for count, _ in hits) == sorted(list(range(1, 11)) * 3)


async def test_redis_store_cancelled_call_leaves_others_their_replies(
    redis_store: RedisStore,
) -> None:
    await redis_store.save("a", b"A", 60)
    await redis_store.save("b", b"B", 60)
    first = asyncio.ensure_future(redis_store.load("a"))
    second = asyncio.ensure_future(redis_store.load("b"))
    await asyncio.sleep(0)
    first.cancel()
    assert await second == b"B"
    assert await redis_store.load("a") == b"A"


async def test_redis_store_error_reply_is_raised_and_store_goes_on(
    redis_store: RedisStore,
) -> None:
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    await client.set(redis_store.prefix + "c:k", b"not a number")
    await client.aclose()
    with pytest.raises(ReplyError, match="not an integer"):
        await redis_store.hit("k", 60)
    await redis_store.save("id", b"x", 60)
    assert await redis_store.load("id") == b"x"


async def test_redis_store_reconnects_to_restarted_server_at_first_call(
    own_redis_server: RedisServer,
) -> None:
    store = RedisStore(own_redis_server.url, prefix="t:")
    await store.save("id", b"x", 60)
    own_redis_server.stop()
    own_redis_server.start()  # no call while it was down
    await store.save("id", b"y", 60)
    assert await store.load("id") == b"y"
    await store.close()


def test_redis_store_logs_in_and_selects_database(tmp_path: pathlib.Path) -> None:
    server = RedisServer("--requirepass", "pa ss", "--unixsocket", str(tmp_path / "r.sock"))
    server.start()
    base = f"redis://:pa%20ss@127.0.0.1:{server.port}"

    async def main() -> None:
        urls = {"tcp": base + "/3", "unix": f"unix://:pa%20ss@{tmp_path}/r.sock?db=3"}
        for name, url in urls.items():
            store = RedisStore(url, prefix="t:")
            await store.save(name, b"x", 60)
            await store.close()
        checker = redis.asyncio.Redis.from_url(base + "/3")
        assert sorted(await checker.keys()) == [b"t:s:tcp", b"t:s:unix"]
        await checker.aclose()
        wrong = RedisStore(f"redis://:wrong@127.0.0.1:{server.port}")
        with pytest.raises(StoreUnavailable, match="refused"):
            await wrong.ping()
        await wrong.close()

    try:
        asyncio.run(main())
    finally:
        server.stop()


@pytest.mark.parametrize("passed_in", [False, True], ids=["url", "redis-py-client"])
async def test_redis_store_sends_script_again_after_flush(
    own_redis_server: RedisServer, passed_in: bool
) -> None:
    client = redis.asyncio.Redis.from_url(own_redis_server.url)
    store = RedisStore(client if passed_in else own_redis_server.url, prefix="t:")
    assert (await store.hit("k", 60))[0] == 1
    await client.script_flush()
    assert (await store.hit("k", 60))[0] == 2
    await store.close()
    await client.aclose()


async def test_redis_store_client_passed_in_errors_are_unavailable() -> None:
    client = redis.asyncio.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    store = RedisStore(client)
    with pytest.raises(StoreUnavailable, match="ConnectionError"):
        await store.load("id")
    await client.aclose()
