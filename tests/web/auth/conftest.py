"""Fixtures for the auth tests: cheap argon2, and both user stores.

``store`` runs a test once on ``SQLiteUserStore`` and once on
``PostgresUserStore``. The PostgreSQL store talks to the real server at
127.0.0.1:5432 (``.ci/run`` starts it), in a schema of its own with a
random name, dropped after the test. A server that cannot be reached
fails the test: it is never skipped.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from transom.web.auth import PasswordHasher, PostgresUserStore, SQLiteUserStore
from transom.web.auth.base import BaseUserStore

POSTGRES_DSN = os.environ.get("TRANSOM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def cheap_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


class Clock:
    """A settable clock for token expiry."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def hasher() -> PasswordHasher:
    return cheap_hasher()


@pytest.fixture
def pg_schema() -> Iterator[str]:
    schema = "transom_test_" + secrets.token_hex(6)
    yield schema
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


class StoreFactory:
    """Makes stores of one kind over one database (two calls: two views of it)."""

    def __init__(self, kind: str, path: Path, schema: str, clock: Clock) -> None:
        self.kind, self.path, self.schema, self.clock = kind, path, schema, clock

    def __call__(self, hasher: PasswordHasher | None = None) -> BaseUserStore:
        hasher = hasher or cheap_hasher()
        if self.kind == "sqlite":
            return SQLiteUserStore(self.path, hasher=hasher, clock=self.clock)
        return PostgresUserStore(POSTGRES_DSN, schema=self.schema, hasher=hasher, clock=self.clock)

    def stored_rows(self) -> list[tuple[object, ...]]:
        """Every row of every auth table, read past the store (to look for secrets)."""
        tables = (
            "transom_users",
            "transom_user_roles",
            "transom_role_permissions",
            "transom_tokens",
        )
        if self.kind == "sqlite":
            with closing(sqlite3.connect(self.path)) as db:
                return [row for table in tables for row in db.execute(f"SELECT * FROM {table}")]
        with psycopg.connect(POSTGRES_DSN) as db:
            db.execute(f'SET search_path TO "{self.schema}"')
            return [row for t in tables for row in db.execute(f"SELECT * FROM {t}").fetchall()]


@pytest.fixture(params=["sqlite", "postgres"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> StoreFactory:
    schema = request.getfixturevalue("pg_schema") if request.param == "postgres" else ""
    return StoreFactory(request.param, tmp_path / "users.db", schema, clock)


@pytest.fixture
async def store(make_store: StoreFactory) -> AsyncIterator[BaseUserStore]:
    users = make_store()
    yield users
    await users.close()


@pytest.fixture
async def sqlite_store(tmp_path: Path, clock: Clock) -> AsyncIterator[SQLiteUserStore]:
    users = SQLiteUserStore(tmp_path / "users.db", hasher=cheap_hasher(), clock=clock)
    yield users
    await users.close()
