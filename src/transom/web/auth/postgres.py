"""``PostgresUserStore``: users, roles and tokens in PostgreSQL, shared by instances.

Needs ``psycopg`` 3 (``pip install 'transom[postgres]'``), imported when a
store is made, so apps that do not use it do not need it.

Theory of operation: a small pool of ``psycopg.AsyncConnection`` objects,
at most ``max_connections`` at once (a semaphore; callers over the limit
wait), opened on demand and reused. Connections work in autocommit mode;
the few multi-statement writes run in an explicit transaction. A
connection that broke is dropped, and the error surfaces as
``StoreUnavailable`` (the app answers 503). Connections belong to the
event loop and process that opened them: when either changes (a test
client's loop, a forked worker) the pool starts afresh.

``schema`` puts the tables in their own PostgreSQL schema (created if
missing; set as each connection's ``search_path``). The schema and tables
are created on first use under an advisory lock, so instances starting
together do not race on ``CREATE SCHEMA`` or ``CREATE TABLE``. A
connection whose setting up fails is closed before the error is raised.
"""

from __future__ import annotations

import asyncio
import builtins
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher

from transom.exceptions import ConfigurationError
from transom.web.auth.base import BaseUserStore, user_id_of
from transom.web.auth.errors import UnknownUser, UserExists
from transom.web.auth.tokens import TokenInfo
from transom.web.auth.users import User, check_name, session_stamp_of
from transom.web.sessions.store import StoreUnavailable

if TYPE_CHECKING:
    from psycopg import AsyncConnection

__all__ = ["PostgresUserStore"]

_SCHEMA_LOCK = 0x7472_616E_736F_6D  # advisory lock id for table creation ("transom")

# PostgreSQL's name for the UNIQUE constraint on transom_users.lookup_key (the username's key).
_USERNAME_KEY = "transom_users_lookup_key_key"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS transom_users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username TEXT NOT NULL,
    lookup_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS transom_user_roles (
    user_id BIGINT NOT NULL REFERENCES transom_users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);
CREATE TABLE IF NOT EXISTS transom_role_permissions (
    role TEXT NOT NULL,
    permission TEXT NOT NULL,
    PRIMARY KEY (role, permission)
);
CREATE TABLE IF NOT EXISTS transom_tokens (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES transom_users(id) ON DELETE CASCADE,
    digest TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS transom_tokens_user ON transom_tokens (user_id);
"""

_USER = """
SELECT u.id, u.username,
    ARRAY(SELECT role FROM transom_user_roles WHERE user_id = u.id),
    ARRAY(SELECT DISTINCT p.permission
        FROM transom_user_roles r JOIN transom_role_permissions p ON p.role = r.role
        WHERE r.user_id = u.id),
    u.password_hash
FROM transom_users u
"""


def _psycopg() -> ModuleType:
    try:
        import psycopg
    except ImportError as exc:
        raise ConfigurationError(
            "PostgresUserStore needs psycopg 3: pip install 'transom[postgres]'"
        ) from exc
    return psycopg


def _user(row: tuple[Any, ...]) -> User:
    return User(
        row[0],
        row[1],
        frozenset(row[2]),
        frozenset(row[3]),
        session_stamp=session_stamp_of(row[4]),
    )


def _token(row: tuple[Any, ...]) -> TokenInfo:
    return TokenInfo(row[0], row[1], row[2], row[3], row[4])


class _Pool:
    """At most ``size`` connections, opened on demand; see the module docstring."""

    def __init__(self, connect: Callable[[], Any], size: int) -> None:
        self._connect = connect
        self._size = size
        self._idle: list[AsyncConnection[Any]] = []
        self._orphans: list[AsyncConnection[Any]] = []
        self._owner: tuple[int, asyncio.AbstractEventLoop] | None = None
        self._slots = asyncio.Semaphore(size)

    def _check_owner(self) -> None:
        owner = (os.getpid(), asyncio.get_running_loop())
        if self._owner == owner:
            return
        # Another loop or process: these connections cannot be used here.
        if self._owner is not None and self._owner[0] == owner[0]:
            for connection in self._idle:  # same process: close at once, no loop needed
                connection.pgconn.finish()
        else:
            # A forked child must not close its parent's connections (that would
            # end the parent's sessions); keep them referenced, never used.
            self._orphans.extend(self._idle)
        self._idle = []
        self._slots = asyncio.Semaphore(self._size)
        self._owner = owner

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        self._check_owner()
        slots = self._slots
        async with slots:
            connection = self._idle.pop() if self._idle else await self._connect()
            try:
                yield connection
            except BaseException:
                await connection.close()
                raise
            if connection.closed or connection.info.transaction_status != 0:  # 0: IDLE
                await connection.close()
            elif slots is self._slots:
                self._idle.append(connection)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        if self._owner is not None and self._owner[0] == os.getpid():
            for connection in idle:
                await connection.close()


class PostgresUserStore(BaseUserStore):
    """Users in PostgreSQL at ``dsn``; tables made on first use.

    >>> users = PostgresUserStore("postgresql://app@db/app", schema="auth")

    Keyword arguments as for ``SQLiteUserStore`` (``hasher``, ``clock``),
    plus ``max_connections``.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str | None = None,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], float] = time.time,
        max_connections: int = 10,
    ) -> None:
        super().__init__(hasher=hasher, clock=clock)
        self._psycopg = _psycopg()
        if schema is not None and not (schema and schema.isascii() and schema.isprintable()):
            raise ConfigurationError(f"schema {schema!r} must be a printable ASCII name")
        if max_connections < 1:
            raise ConfigurationError("max_connections must be at least 1")
        self.dsn = dsn
        self.schema = schema
        self._ready = False
        self._pool = _Pool(self._open, max_connections)

    async def _open(self) -> AsyncConnection[Any]:
        psycopg = self._psycopg
        try:
            connection: AsyncConnection[Any] = await psycopg.AsyncConnection.connect(
                self.dsn, autocommit=True
            )
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc
        try:
            if self.schema is not None:
                # A schema that does not exist yet may be named: it is created below.
                name = psycopg.sql.Identifier(self.schema)
                await connection.execute(psycopg.sql.SQL("SET search_path TO {}").format(name))
            if not self._ready:
                # Under the lock: CREATE ... IF NOT EXISTS is not safe against another
                # session creating the same schema or table at the same moment.
                async with connection.transaction():
                    await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                    if self.schema is not None:
                        await connection.execute(
                            psycopg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name)
                        )
                    await connection.execute(_SCHEMA)
                self._ready = True
        except BaseException:
            await connection.close()
            raise
        return connection

    @asynccontextmanager
    async def _db(self) -> AsyncIterator[AsyncConnection[Any]]:
        try:
            async with self._pool.connection() as connection:
                yield connection
        except self._psycopg.OperationalError as exc:
            raise StoreUnavailable(f"PostgreSQL failed: {exc}") from exc

    async def _fetchone(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        async with self._db() as db:
            cursor = await db.execute(sql, params)
            row: tuple[Any, ...] | None = await cursor.fetchone()
            return row

    async def _fetchall(self, sql: str, params: tuple[Any, ...]) -> builtins.list[Any]:
        async with self._db() as db:
            cursor = await db.execute(sql, params)
            return await cursor.fetchall()

    async def _change(self, sql: str, params: tuple[Any, ...]) -> int:
        async with self._db() as db:
            cursor = await db.execute(sql, params)
            return cursor.rowcount

    # -- primitives for BaseUserStore -----------------------------------------

    async def _load_user(self, user_id: int) -> User | None:
        row = await self._fetchone(_USER + "WHERE u.id = %s", (user_id,))
        return None if row is None else _user(row)

    async def _find_credentials(self, key: str) -> tuple[int, str] | None:
        row = await self._fetchone(
            "SELECT id, password_hash FROM transom_users WHERE lookup_key = %s", (key,)
        )
        return None if row is None else (row[0], row[1])

    async def _insert_user(
        self, username: str, key: str, password_hash: str, roles: builtins.list[str]
    ) -> int:
        try:
            async with self._db() as db, db.transaction():
                cursor = await db.execute(
                    "INSERT INTO transom_users (username, lookup_key, password_hash, created_at)"
                    " VALUES (%s, %s, %s, %s) RETURNING id",
                    (username, key, password_hash, self._clock()),
                )
                row = await cursor.fetchone()
                if row is None:  # pragma: no cover - INSERT ... RETURNING gives one row
                    raise RuntimeError("PostgreSQL returned no id for the new user")
                async with db.cursor() as roles_cursor:
                    await roles_cursor.executemany(
                        "INSERT INTO transom_user_roles (user_id, role) VALUES (%s, %s)",
                        [(row[0], role) for role in roles],
                    )
        except self._psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name != _USERNAME_KEY:
                raise
            raise UserExists(f"the username {username!r} is taken; choose another") from None
        user_id: int = row[0]
        return user_id

    async def _update_hash(self, user_id: int, password_hash: str) -> bool:
        changed = await self._change(
            "UPDATE transom_users SET password_hash = %s WHERE id = %s", (password_hash, user_id)
        )
        return bool(changed)

    async def _insert_token(self, info: TokenInfo, digest: str) -> None:
        try:
            await self._change(
                "INSERT INTO transom_tokens (id, user_id, name, created_at, expires_at, digest)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (info.id, info.user_id, info.name, info.created_at, info.expires_at, digest),
            )
        except self._psycopg.errors.ForeignKeyViolation:
            raise UnknownUser(f"no user has id {info.user_id!r}") from None

    async def _find_token(self, digest: str) -> tuple[TokenInfo, str] | None:
        row = await self._fetchone(
            "SELECT id, user_id, name, created_at, expires_at, digest FROM transom_tokens"
            " WHERE digest = %s",
            (digest,),
        )
        return None if row is None else (_token(row), row[5])

    async def _list_tokens(self, user_id: int) -> builtins.list[TokenInfo]:
        rows = await self._fetchall(
            "SELECT id, user_id, name, created_at, expires_at FROM transom_tokens"
            " WHERE user_id = %s"
            " ORDER BY created_at, id",
            (user_id,),
        )
        return [_token(row) for row in rows]

    async def _delete_tokens_expired_before(self, user_id: int, when: float) -> None:
        await self._change(
            "DELETE FROM transom_tokens WHERE user_id = %s AND expires_at < %s", (user_id, when)
        )

    # -- the rest of the UserStore protocol ------------------------------------

    async def delete(self, user_id: int) -> None:
        if not await self._change(
            "DELETE FROM transom_users WHERE id = %s", (user_id_of(user_id),)
        ):
            raise UnknownUser(f"no user has id {user_id!r}")

    async def list(self) -> builtins.list[User]:
        return [_user(row) for row in await self._fetchall(_USER + "ORDER BY u.id", ())]

    async def add_role(self, user_id: int, role: str) -> None:
        try:
            await self._change(
                "INSERT INTO transom_user_roles (user_id, role) VALUES (%s, %s)"
                " ON CONFLICT DO NOTHING",
                (user_id_of(user_id), check_name(role, "role")),
            )
        except self._psycopg.errors.ForeignKeyViolation:
            raise UnknownUser(f"no user has id {user_id!r}") from None

    async def remove_role(self, user_id: int, role: str) -> None:
        await self._change(
            "DELETE FROM transom_user_roles WHERE user_id = %s AND role = %s",
            (user_id_of(user_id), role),
        )

    async def grant(self, role: str, permission: str) -> None:
        await self._change(
            "INSERT INTO transom_role_permissions (role, permission) VALUES (%s, %s)"
            " ON CONFLICT DO NOTHING",
            (check_name(role, "role"), check_name(permission, "permission")),
        )

    async def revoke(self, role: str, permission: str) -> None:
        await self._change(
            "DELETE FROM transom_role_permissions WHERE role = %s AND permission = %s",
            (role, permission),
        )

    async def revoke_token(self, token_id: str) -> None:
        await self._change("DELETE FROM transom_tokens WHERE id = %s", (token_id,))

    async def close(self) -> None:
        await self._pool.close()

    def __repr__(self) -> str:
        return f"PostgresUserStore(schema={self.schema!r})"
