"""``SQLiteUserStore``: users, roles, permissions and API tokens in one SQLite file.

The embedded default, beside ``SQLiteStore`` for sessions (the same file
may hold both; every table name starts with ``transom_``).

Theory of operation: one connection per process, opened on first use and
set up as ``SQLiteStore``'s is (``transom.web._sqlite``: WAL, never used
across ``fork()``, a missing directory a ``ConfigurationError``, a locked or
read-only file ``StoreUnavailable``, which an ``App`` answers with 503).
Each call is one short statement (or a short transaction), run inline on
the event loop: SQLite answers in microseconds, far less than a thread
hand-off would cost. The argon2 work, the slow part, runs in the thread
pool (see ``transom.web.auth.passwords``). ``busy_timeout`` makes a writer
wait for another process's write instead of failing, so several
``--workers`` can share the file. A lock serialises use of the connection
by event loops in different threads.
"""

from __future__ import annotations

import builtins
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from argon2 import PasswordHasher

from transom.web._sqlite import ProcessConnection, close_unclosed
from transom.web.auth.base import BaseUserStore, user_id_of
from transom.web.auth.errors import UnknownUser, UserExists
from transom.web.auth.tokens import TokenInfo
from transom.web.auth.users import User, check_name, session_stamp_of

__all__ = ["SQLiteUserStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS transom_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    lookup_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS transom_user_roles (
    user_id INTEGER NOT NULL REFERENCES transom_users(id) ON DELETE CASCADE,
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
    user_id INTEGER NOT NULL REFERENCES transom_users(id) ON DELETE CASCADE,
    digest TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL
);
CREATE INDEX IF NOT EXISTS transom_tokens_user ON transom_tokens (user_id);
"""

# One statement loads a user with its roles and permissions (JSON arrays).
_USER = """
SELECT u.id, u.username,
    (SELECT json_group_array(role) FROM transom_user_roles WHERE user_id = u.id),
    (SELECT json_group_array(DISTINCT p.permission)
        FROM transom_user_roles r JOIN transom_role_permissions p ON p.role = r.role
        WHERE r.user_id = u.id),
    u.password_hash
FROM transom_users u
"""


def _user(row: tuple[Any, ...]) -> User:
    return User(
        row[0],
        row[1],
        frozenset(json.loads(row[2])),
        frozenset(json.loads(row[3])),
        session_stamp=session_stamp_of(row[4]),
    )


def _token(row: tuple[Any, ...]) -> TokenInfo:
    return TokenInfo(row[0], row[1], row[2], row[3], row[4])


class SQLiteUserStore(BaseUserStore):
    """Users in the SQLite file at ``path``; tables are created on first use.

    >>> users = SQLiteUserStore("app.db")
    >>> alice = await users.create("alice", "correct horse battery staple", roles=["admin"])
    >>> await users.grant("admin", "notes.delete")

    ``hasher`` sets the argon2 parameters (tests pass a cheap
    ``PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)``);
    ``clock`` gives the time for token expiry. ``close()`` closes the
    connection (an ``App`` closes its ``user_store`` when its lifespan ends);
    a store garbage-collected unclosed closes it itself and issues a
    ``ResourceWarning`` naming the store.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = 5.0,
    ) -> None:
        super().__init__(hasher=hasher, clock=clock)
        self.path = os.fspath(path)
        self.busy_timeout = busy_timeout
        self._sqlite = ProcessConnection(
            self.path, busy_timeout=busy_timeout, schema=_SCHEMA, what="SQLite user store"
        )
        self._lock = threading.Lock()

    @contextmanager
    def _db(self, transaction: bool = False) -> Iterator[sqlite3.Connection]:
        """This process's connection, one caller at a time; a locked, read-only or
        broken database is ``StoreUnavailable`` (a constraint still raises as itself)."""
        with self._lock:
            connection = self._sqlite.get()
            try:
                if not transaction:
                    yield connection
                    return
                connection.execute("BEGIN IMMEDIATE")
                try:
                    yield connection
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
                connection.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise self._sqlite.unavailable(exc) from exc

    def _fetchone(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        with self._db() as db:
            row: tuple[Any, ...] | None = db.execute(sql, params).fetchone()
            return row

    def _change(self, sql: str, params: tuple[Any, ...]) -> int:
        """Run one write; the number of rows it changed."""
        with self._db() as db:
            return db.execute(sql, params).rowcount

    # -- primitives for BaseUserStore -----------------------------------------

    async def _load_user(self, user_id: int) -> User | None:
        row = self._fetchone(_USER + "WHERE u.id = ?", (user_id,))
        return None if row is None else _user(row)

    async def _find_credentials(self, key: str) -> tuple[int, str] | None:
        row = self._fetchone(
            "SELECT id, password_hash FROM transom_users WHERE lookup_key = ?", (key,)
        )
        return None if row is None else (row[0], row[1])

    async def _insert_user(
        self, username: str, key: str, password_hash: str, roles: builtins.list[str]
    ) -> int:
        try:
            with self._db(transaction=True) as db:
                cursor = db.execute(
                    "INSERT INTO transom_users (username, lookup_key, password_hash, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (username, key, password_hash, self._clock()),
                )
                user_id = cursor.lastrowid
                db.executemany(
                    "INSERT INTO transom_user_roles (user_id, role) VALUES (?, ?)",
                    [(user_id, role) for role in roles],
                )
        except sqlite3.IntegrityError:
            raise UserExists(f"the username {username!r} is taken; choose another") from None
        if user_id is None:  # pragma: no cover - sqlite3 always sets it after an INSERT
            raise RuntimeError("SQLite returned no id for the new user")
        return user_id

    async def _update_hash(self, user_id: int, password_hash: str) -> bool:
        return bool(
            self._change(
                "UPDATE transom_users SET password_hash = ? WHERE id = ?", (password_hash, user_id)
            )
        )

    async def _insert_token(self, info: TokenInfo, digest: str) -> None:
        try:
            self._change(
                "INSERT INTO transom_tokens (id, user_id, name, created_at, expires_at, digest)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (info.id, info.user_id, info.name, info.created_at, info.expires_at, digest),
            )
        except sqlite3.IntegrityError:
            raise UnknownUser(f"no user has id {info.user_id!r}") from None

    async def _find_token(self, digest: str) -> tuple[TokenInfo, str] | None:
        row = self._fetchone(
            "SELECT id, user_id, name, created_at, expires_at, digest FROM transom_tokens"
            " WHERE digest = ?",
            (digest,),
        )
        return None if row is None else (_token(row), row[5])

    async def _list_tokens(self, user_id: int) -> builtins.list[TokenInfo]:
        with self._db() as db:
            rows = db.execute(
                "SELECT id, user_id, name, created_at, expires_at FROM transom_tokens"
                " WHERE user_id = ?"
                " ORDER BY created_at, id",
                (user_id,),
            ).fetchall()
        return [_token(row) for row in rows]

    async def _delete_tokens_expired_before(self, user_id: int, when: float) -> None:
        self._change(
            "DELETE FROM transom_tokens WHERE user_id = ? AND expires_at < ?", (user_id, when)
        )

    # -- the rest of the UserStore protocol ------------------------------------

    async def delete(self, user_id: int) -> None:
        if not self._change("DELETE FROM transom_users WHERE id = ?", (user_id_of(user_id),)):
            raise UnknownUser(f"no user has id {user_id!r}")

    async def list(self) -> builtins.list[User]:
        with self._db() as db:
            rows = db.execute(_USER + "ORDER BY u.id").fetchall()
        return [_user(row) for row in rows]

    async def add_role(self, user_id: int, role: str) -> None:
        params = (user_id_of(user_id), check_name(role, "role"))
        try:
            self._change(
                "INSERT OR IGNORE INTO transom_user_roles (user_id, role) VALUES (?, ?)", params
            )
        except sqlite3.IntegrityError:
            raise UnknownUser(f"no user has id {user_id!r}") from None

    async def remove_role(self, user_id: int, role: str) -> None:
        self._change(
            "DELETE FROM transom_user_roles WHERE user_id = ? AND role = ?",
            (user_id_of(user_id), role),
        )

    async def grant(self, role: str, permission: str) -> None:
        self._change(
            "INSERT OR IGNORE INTO transom_role_permissions (role, permission) VALUES (?, ?)",
            (check_name(role, "role"), check_name(permission, "permission")),
        )

    async def revoke(self, role: str, permission: str) -> None:
        self._change(
            "DELETE FROM transom_role_permissions WHERE role = ? AND permission = ?",
            (role, permission),
        )

    async def revoke_token(self, token_id: str) -> None:
        self._change("DELETE FROM transom_tokens WHERE id = ?", (token_id,))

    async def close(self) -> None:
        with self._lock:
            self._sqlite.close()

    def __del__(self) -> None:
        connection = getattr(self, "_sqlite", None)  # None: __init__ failed before making it
        if connection is not None:
            close_unclosed(self, connection)  # a store dropped while open: close, and warn

    def __repr__(self) -> str:
        return f"SQLiteUserStore({self.path!r})"
