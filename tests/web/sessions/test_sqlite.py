"""SQLiteStore: records, expiry, counters, clean-up, failures, and several processes."""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import sqlite3
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest

from transom.exceptions import ConfigurationError
from transom.web.sessions.sqlite import SQLiteStore
from transom.web.sessions.store import MemoryStore, SessionStore, StoreUnavailable


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "sessions.db")
    yield store
    await store.close()


def count_rows(path: Path, table: str) -> int:
    with closing(sqlite3.connect(path)) as connection:
        (count,) = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(count)


async def test_sqlite_store_load_returns_saved_record(sqlite_store: SQLiteStore) -> None:
    await sqlite_store.save("a" * 43, b'{"cart": [3, 7]}\x00\xff', 60)
    assert await sqlite_store.load("a" * 43) == b'{"cart": [3, 7]}\x00\xff'


async def test_sqlite_store_load_of_unknown_id_is_none(sqlite_store: SQLiteStore) -> None:
    assert await sqlite_store.load("nobody") is None


async def test_sqlite_store_save_replaces_record_and_deadline(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    await store.save("id", b"first", 0.05)
    await store.save("id", b"second", 60)
    await asyncio.sleep(0.1)
    assert await store.load("id") == b"second"
    assert count_rows(tmp_path / "s.db", "sessions") == 1
    await store.close()


async def test_sqlite_store_delete_forgets_record(sqlite_store: SQLiteStore) -> None:
    await sqlite_store.save("id", b"x", 60)
    await sqlite_store.delete("id")
    await sqlite_store.delete("id")  # absent: no error
    assert await sqlite_store.load("id") is None


async def test_sqlite_store_expired_record_is_absent(sqlite_store: SQLiteStore) -> None:
    await sqlite_store.save("short", b"x", 0.05)
    await sqlite_store.save("past", b"x", -1)
    assert await sqlite_store.load("short") == b"x"
    assert await sqlite_store.load("past") is None
    await asyncio.sleep(0.1)
    assert await sqlite_store.load("short") is None


async def test_sqlite_store_deadline_is_wall_clock(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    await store.save("id", b"x", 1000)
    with closing(sqlite3.connect(tmp_path / "s.db")) as connection:
        (expires,) = connection.execute("SELECT expires FROM sessions").fetchone()
    assert time.time() + 999 < expires <= time.time() + 1000
    await store.close()


async def test_sqlite_store_hit_counts_within_window(sqlite_store: SQLiteStore) -> None:
    assert (await sqlite_store.hit("k", 60))[0] == 1
    assert (await sqlite_store.hit("k", 60))[0] == 2
    count, remaining = await sqlite_store.hit("k", 60, cost=5)
    assert count == 7
    assert 59 < remaining <= 60
    assert (await sqlite_store.hit("other", 60))[0] == 1


async def test_sqlite_store_hit_starts_new_window_after_end(sqlite_store: SQLiteStore) -> None:
    await sqlite_store.hit("k", 0.05, cost=3)
    await asyncio.sleep(0.1)
    count, remaining = await sqlite_store.hit("k", 0.05)
    assert count == 1
    assert 0 < remaining <= 0.05


async def test_sqlite_store_hit_with_cost_zero_reads(sqlite_store: SQLiteStore) -> None:
    await sqlite_store.hit("k", 60, cost=2)
    assert (await sqlite_store.hit("k", 60, cost=0))[0] == 2
    assert (await sqlite_store.hit("fresh", 60, cost=0))[0] == 0


async def test_sqlite_store_reset_clears_counter(sqlite_store: SQLiteStore) -> None:
    await sqlite_store.hit("k", 60, cost=4)
    await sqlite_store.reset("k")
    await sqlite_store.reset("never")
    assert (await sqlite_store.hit("k", 60))[0] == 1


async def test_sqlite_store_counters_match_memory_store(tmp_path: Path) -> None:
    stores: list[SessionStore] = [MemoryStore(), SQLiteStore(tmp_path / "s.db")]
    script = [("a", 2), ("a", 0), ("b", 1), ("a", 3), ("reset", 0), ("a", 1), ("b", 0)]
    answers: list[list[int]] = [[], []]
    for store, seen in zip(stores, answers, strict=True):
        for key, cost in script:
            if key == "reset":
                await store.reset("a")
            else:
                seen.append((await store.hit(key, 60, cost))[0])
        await store.close()
    assert answers[0] == answers[1] == [2, 2, 1, 5, 1, 1]


async def test_sqlite_store_cleanup_deletes_expired_rows(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteStore(path, cleanup_interval=0)
    for n in range(5):
        await store.save(f"short{n}", b"x", 0.05)
        await store.hit(f"short{n}", 0.05)
    await store.save("long", b"x", 60)
    await store.hit("long", 60)
    assert count_rows(path, "sessions") == 6
    await asyncio.sleep(0.1)
    await store.save("another", b"x", 60)
    assert count_rows(path, "sessions") == 2
    assert count_rows(path, "counters") == 1
    assert await store.load("long") == b"x"
    await store.close()


async def test_sqlite_store_cleanup_waits_for_its_interval(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteStore(path, cleanup_interval=3600)
    await store.save("short", b"x", 0.05)  # the first write cleans; the next hour none does
    await asyncio.sleep(0.1)
    await store.save("long", b"x", 60)
    await store.hit("k", 60)
    assert count_rows(path, "sessions") == 2
    assert await store.load("short") is None
    assert store.clean_up() == 1
    assert count_rows(path, "sessions") == 1
    await store.close()


async def test_sqlite_store_file_is_wal(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    await store.ping()
    with closing(sqlite3.connect(tmp_path / "s.db")) as connection:
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
    assert mode == "wal"
    await store.close()


async def test_sqlite_store_keeps_session_across_restart(tmp_path: Path) -> None:
    first = SQLiteStore(tmp_path / "s.db")
    await first.save("id", b"kept", 60)
    await first.hit("k", 60, cost=2)
    await first.close()
    second = SQLiteStore(tmp_path / "s.db")
    assert await second.load("id") == b"kept"
    assert (await second.hit("k", 60))[0] == 3
    await second.close()


async def test_sqlite_store_works_again_after_close(sqlite_store: SQLiteStore) -> None:
    await sqlite_store.save("id", b"x", 60)
    await sqlite_store.close()
    assert await sqlite_store.load("id") == b"x"


async def test_sqlite_store_missing_directory_is_configuration_error(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "nowhere" / "s.db")  # nothing is touched until first use
    with pytest.raises(ConfigurationError, match=r"directory .*nowhere.* does not exist"):
        await store.load("id")
    assert not (tmp_path / "nowhere").exists()


async def test_sqlite_store_directory_as_path_is_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="is a directory"):
        await SQLiteStore(tmp_path).ping()


@pytest.mark.parametrize(
    ("option", "value"), [("cleanup_interval", -1.0), ("busy_timeout", -0.5)], ids=str
)
def test_sqlite_store_rejects_negative_setting(option: str, value: float) -> None:
    with pytest.raises(ConfigurationError, match=option):
        SQLiteStore("s.db", **{option: value})


async def test_sqlite_store_locked_database_is_unavailable(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", busy_timeout=0.1)
    await store.save("id", b"x", 60)
    holder = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer keeps the write lock
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="locked"):
        await store.save("id", b"y", 60)
    assert time.monotonic() - started < 2
    assert await store.load("id") == b"x"  # WAL: readers are not blocked
    holder.execute("ROLLBACK")
    holder.close()
    await store.save("id", b"y", 60)
    assert await store.load("id") == b"y"
    await store.close()


async def test_sqlite_store_file_not_a_database_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "s.db").write_bytes(b"not a database, just some text\n" * 200)
    store = SQLiteStore(tmp_path / "s.db")
    with pytest.raises(StoreUnavailable, match="not a database"):
        await store.save("id", b"x", 60)
    with pytest.raises(StoreUnavailable):
        await store.ping()


def _use_inherited_store(store: SQLiteStore, tag: str) -> None:
    async def main() -> None:
        for n in range(50):
            await store.save(f"{tag}{n}", tag.encode(), 60)
            await store.hit("shared", 60)

    asyncio.run(main())


def test_sqlite_store_reopens_its_connection_after_fork(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    asyncio.run(store.save("parent", b"p", 60))  # the parent's connection is open
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=_use_inherited_store, args=(store, t)) for t in "ab"]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
    assert [child.exitcode for child in children] == [0, 0]
    assert asyncio.run(store.load("parent")) == b"p"  # the parent's connection still works
    assert asyncio.run(store.load("b49")) == b"b"
    assert asyncio.run(store.hit("shared", 60, cost=0))[0] == 100
    asyncio.run(store.close())


HAMMER = textwrap.dedent(
    """
    import asyncio, os, sys, time
    from transom.web.sessions.sqlite import SQLiteStore

    path, tag, go, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

    async def main():
        store = SQLiteStore(path, cleanup_interval=0)
        while not os.path.exists(go):
            time.sleep(0.001)
        for n in range(rounds):
            await store.save(f"{tag}-{n}", f"{tag}:{n}".encode(), 60)
            await store.hit("shared", 60)
            await store.load(f"{tag}-{n // 2}")
        await store.close()

    asyncio.run(main())
    """
)


def test_sqlite_store_two_processes_write_at_once_without_loss(tmp_path: Path) -> None:
    path, go, rounds = tmp_path / "s.db", tmp_path / "go", 400
    workers = [
        subprocess.Popen([sys.executable, "-c", HAMMER, str(path), tag, str(go), str(rounds)])
        for tag in ("a", "b")
    ]
    time.sleep(0.3)  # both import, then start at once on a new file
    go.touch()
    assert [worker.wait(30) for worker in workers] == [0, 0]

    async def check() -> None:
        store = SQLiteStore(path)
        for tag in ("a", "b"):
            for n in range(rounds):
                assert await store.load(f"{tag}-{n}") == f"{tag}:{n}".encode()
        assert (await store.hit("shared", 60, cost=0))[0] == 2 * rounds
        await store.close()

    asyncio.run(check())
    assert count_rows(path, "sessions") == 2 * rounds


async def test_sqlite_store_left_unclosed_closes_and_warns(tmp_path: Path) -> None:
    # The same on every Python version (3.13 warns on its own only for the sqlite3 object).
    store = SQLiteStore(tmp_path / "s.db")
    await store.ping()
    connection = store._db._connection
    assert connection is not None
    with pytest.warns(ResourceWarning, match=r"SQLiteStore\(.*\) was garbage-collected unclosed"):
        del store
        gc.collect()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        connection.execute("SELECT 1")
    closed = SQLiteStore(tmp_path / "s.db")
    await closed.ping()
    await closed.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        del closed
        gc.collect()
