"""What only PostgresUserStore does: its pool, its schema, its errors."""

from __future__ import annotations

import asyncio
import builtins
import sys
from typing import Any

import psycopg
import pytest

from transom.exceptions import ConfigurationError
from transom.web.auth import PostgresUserStore, User
from transom.web.sessions.store import StoreUnavailable

from .conftest import POSTGRES_DSN, cheap_hasher


async def test_postgres_unreachable_is_store_unavailable() -> None:
    store = PostgresUserStore("postgresql://postgres@127.0.0.1:1/test?connect_timeout=2")
    with pytest.raises(StoreUnavailable, match="cannot connect"):
        await store.get(1)


@pytest.mark.parametrize(
    "options",
    [{"schema": ""}, {"schema": "bad\nname"}, {"max_connections": 0}],
    ids=["empty-schema", "control-in-schema", "no-connections"],
)
def test_postgres_bad_settings(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        PostgresUserStore(POSTGRES_DSN, **options)


def test_postgres_without_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_psycopg(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "psycopg" or name.startswith("psycopg."):
            raise ImportError("No module named 'psycopg'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "psycopg")
    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    with pytest.raises(ConfigurationError, match=r"transom\[postgres\]"):
        PostgresUserStore(POSTGRES_DSN)


async def test_postgres_schema_holds_the_tables(pg_schema: str) -> None:
    store = PostgresUserStore(POSTGRES_DSN, schema=pg_schema, hasher=cheap_hasher())
    await store.create("alice", "correct horse")
    await store.close()
    with psycopg.connect(POSTGRES_DSN) as db:
        rows = db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
            " ORDER BY table_name",
            (pg_schema,),
        ).fetchall()
    assert [row[0] for row in rows] == [
        "transom_role_permissions",
        "transom_tokens",
        "transom_user_roles",
        "transom_users",
    ]


async def test_postgres_pool_limits_connections(pg_schema: str) -> None:
    store = PostgresUserStore(
        POSTGRES_DSN, schema=pg_schema, hasher=cheap_hasher(), max_connections=2
    )
    alice = await store.create("alice", "correct horse")
    found = await asyncio.gather(*(store.get(alice.id) for _ in range(20)))
    assert found == [alice] * 20
    assert len(store._pool._idle) <= 2
    await store.close()
    assert store._pool._idle == []


def test_postgres_store_works_from_two_event_loops(pg_schema: str) -> None:
    # A test client or a second thread may run another loop: the pool starts afresh.
    store = PostgresUserStore(POSTGRES_DSN, schema=pg_schema, hasher=cheap_hasher())
    alice = asyncio.run(store.create("alice", "correct horse"))
    assert asyncio.run(store.get(alice.id)) == alice
    asyncio.run(store.close())


async def test_postgres_broken_connection_is_dropped(pg_schema: str) -> None:
    store = PostgresUserStore(POSTGRES_DSN, schema=pg_schema, hasher=cheap_hasher())
    alice = await store.create("alice", "correct horse")
    (connection,) = store._pool._idle
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (connection.info.backend_pid,))
    with pytest.raises(StoreUnavailable):
        await store.get(alice.id)
    assert store._pool._idle == []
    assert await store.get(alice.id) == alice  # a new connection
    await store.close()


async def test_postgres_concurrent_duplicate_create(pg_schema: str) -> None:
    from transom.web.auth import UserExists

    store = PostgresUserStore(POSTGRES_DSN, schema=pg_schema, hasher=cheap_hasher())
    results = await asyncio.gather(
        *(store.create("alice", "correct horse") for _ in range(5)), return_exceptions=True
    )
    assert sum(isinstance(result, UserExists) for result in results) == 4
    assert sum(isinstance(result, User) for result in results) == 1
    await store.close()


async def test_postgres_stores_starting_together_create_the_schema_once(pg_schema: str) -> None:
    # Each store's first connection creates the schema and tables: under one lock, so
    # none of them fails on another's CREATE SCHEMA (not safe on its own when concurrent).
    stores = [
        PostgresUserStore(POSTGRES_DSN, schema=pg_schema, hasher=cheap_hasher()) for _ in range(6)
    ]
    try:
        users = await asyncio.gather(
            *(store.create(f"user{i}", "correct horse") for i, store in enumerate(stores))
        )
        assert sorted(user.username for user in users) == [f"user{i}" for i in range(6)]
    finally:
        for store in stores:
            await store.close()


async def test_postgres_only_the_username_key_means_user_exists(pg_schema: str) -> None:
    from transom.web.auth import UserExists

    store = PostgresUserStore(POSTGRES_DSN, schema=pg_schema, hasher=cheap_hasher())
    try:
        await store.create("alice", "correct horse")
        with pytest.raises(UserExists):
            await store.create("alice", "correct horse")
        # Another unique violation (here a role given twice, past create()'s checks) is
        # not a taken username: it propagates as it is.
        with pytest.raises(psycopg.errors.UniqueViolation) as raised:
            await store._insert_user("bob", "bob-key", "hash", ["admin", "admin"])
        assert raised.value.diag.constraint_name == "transom_user_roles_pkey"
    finally:
        await store.close()


async def test_postgres_connection_closed_when_setting_up_fails(
    pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import transom.web.auth.postgres as module

    opened: list[psycopg.AsyncConnection[Any]] = []
    connect = psycopg.AsyncConnection.connect

    async def recording_connect(*args: Any, **kwargs: Any) -> psycopg.AsyncConnection[Any]:
        connection = await connect(*args, **kwargs)
        opened.append(connection)
        return connection

    monkeypatch.setattr(psycopg.AsyncConnection, "connect", recording_connect)
    monkeypatch.setattr(module, "_SCHEMA", "CREATE TABLE transom_users (")  # a syntax error
    store = PostgresUserStore(POSTGRES_DSN, schema=pg_schema, hasher=cheap_hasher())
    with pytest.raises(psycopg.errors.SyntaxError):
        await store.get(1)
    assert len(opened) == 1
    assert opened[0].closed
    assert store._pool._idle == []
    await store.close()


def test_postgres_store_loads_on_first_use_of_its_name() -> None:
    import transom.web.auth as auth

    assert auth.PostgresUserStore is PostgresUserStore
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        auth.Nope  # noqa: B018
