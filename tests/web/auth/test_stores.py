"""The UserStore protocol, run against SQLiteUserStore and PostgresUserStore alike."""

from __future__ import annotations

import gc
import sqlite3
import warnings
from contextlib import closing
from pathlib import Path

import pytest

from transom.web.auth import (
    InvalidPassword,
    InvalidUsername,
    PasswordHasher,
    UnknownUser,
    User,
    UserExists,
    UserStore,
)
from transom.web.auth.base import BaseUserStore

from .conftest import StoreFactory, cheap_hasher


def test_store_implements_the_protocol(store: BaseUserStore) -> None:
    assert isinstance(store, UserStore)


async def test_store_create_returns_the_user_with_roles(store: BaseUserStore) -> None:
    alice = await store.create("Alice", "correct horse", roles=["admin", "editor"])
    assert isinstance(alice, User)
    assert alice.username == "Alice"
    assert alice.roles == frozenset({"admin", "editor"})
    assert alice.permissions == frozenset()
    assert alice.is_authenticated


async def test_store_get_and_get_by_username(store: BaseUserStore) -> None:
    alice = await store.create("Alice", "correct horse")
    assert await store.get(alice.id) == alice
    assert await store.get_by_username("ALICE") == alice
    assert await store.get_by_username("bob") is None
    assert await store.get(alice.id + 1000) is None


@pytest.mark.parametrize("user_id", ["1", None, True, 1.0], ids=["str", "none", "bool", "float"])
async def test_store_get_with_a_non_int_id_is_none(store: BaseUserStore, user_id: object) -> None:
    await store.create("alice", "correct horse")
    assert await store.get(user_id) is None  # type: ignore[arg-type]


async def test_store_create_duplicate_username_raises_user_exists(store: BaseUserStore) -> None:
    await store.create("Alice", "correct horse")
    with pytest.raises(UserExists, match="taken"):
        await store.create("alice", "another password")
    with pytest.raises(UserExists):  # full-width letters fold to the same name (NFKC)
        await store.create("\uff41lice", "another password")


@pytest.mark.parametrize(
    "username",
    ["", "   ", "a\x00b", "a\nb", "a\u200bb", "x" * 151],
    ids=["empty", "spaces", "nul", "newline", "zero-width", "too-long"],
)
async def test_store_create_refuses_invalid_usernames(store: BaseUserStore, username: str) -> None:
    with pytest.raises(InvalidUsername):
        await store.create(username, "correct horse")


@pytest.mark.parametrize("password", ["", "x" * 1025], ids=["empty", "too-long"])
async def test_store_create_refuses_invalid_passwords(store: BaseUserStore, password: str) -> None:
    with pytest.raises(InvalidPassword):
        await store.create("alice", password)


async def test_store_authenticate_right_and_wrong(store: BaseUserStore) -> None:
    alice = await store.create("Alice", "correct horse")
    assert await store.authenticate("alice", "correct horse") == alice
    assert await store.authenticate(" ALICE ", "correct horse") == alice
    assert await store.authenticate("alice", "Correct horse") is None
    assert await store.authenticate("nobody", "correct horse") is None
    assert await store.authenticate("", "correct horse") is None
    assert await store.authenticate("alice", "x" * 5000) is None


async def test_store_set_password(store: BaseUserStore) -> None:
    alice = await store.create("alice", "correct horse")
    await store.set_password(alice.id, "battery staple")
    assert await store.authenticate("alice", "correct horse") is None
    assert await store.authenticate("alice", "battery staple") == alice
    with pytest.raises(UnknownUser):
        await store.set_password(alice.id + 1000, "battery staple")


async def test_store_session_stamp_changes_with_the_password_only(store: BaseUserStore) -> None:
    alice = await store.create("alice", "correct horse")
    assert len(alice.session_stamp) == 32
    assert alice.session_stamp not in repr(alice)
    again = await store.get(alice.id)
    assert again is not None and again.session_stamp == alice.session_stamp
    await store.add_role(alice.id, "editor")
    with_role = await store.get(alice.id)
    assert with_role is not None and with_role.session_stamp == alice.session_stamp
    # The same password set again is a new salt, so a new stamp: sessions end too.
    await store.set_password(alice.id, "correct horse")
    changed = await store.get(alice.id)
    assert changed is not None and changed.session_stamp != alice.session_stamp
    assert changed == with_role  # the stamp is not part of a user's identity


async def test_store_delete(store: BaseUserStore) -> None:
    alice = await store.create("alice", "correct horse", roles=["admin"])
    await store.delete(alice.id)
    assert await store.get(alice.id) is None
    assert await store.authenticate("alice", "correct horse") is None
    with pytest.raises(UnknownUser):
        await store.delete(alice.id)


async def test_store_ids_are_not_reused_after_delete(store: BaseUserStore) -> None:
    alice = await store.create("alice", "correct horse")
    await store.delete(alice.id)
    bob = await store.create("bob", "correct horse")
    assert bob.id != alice.id


async def test_store_list_in_id_order(store: BaseUserStore) -> None:
    alice = await store.create("alice", "correct horse", roles=["admin"])
    bob = await store.create("bob", "correct horse")
    assert await store.list() == [alice, bob]


async def test_store_roles_add_and_remove(store: BaseUserStore) -> None:
    alice = await store.create("alice", "correct horse")
    await store.add_role(alice.id, "editor")
    await store.add_role(alice.id, "editor")  # twice: no error
    found = await store.get(alice.id)
    assert found is not None and found.has_role("editor")
    await store.remove_role(alice.id, "editor")
    await store.remove_role(alice.id, "editor")
    found = await store.get(alice.id)
    assert found is not None and not found.has_role("editor")
    with pytest.raises(UnknownUser):
        await store.add_role(alice.id + 1000, "editor")
    with pytest.raises(ValueError, match="role"):
        await store.add_role(alice.id, "")


async def test_store_permissions_come_from_roles(store: BaseUserStore) -> None:
    alice = await store.create("alice", "correct horse", roles=["editor"])
    bob = await store.create("bob", "correct horse", roles=["viewer"])
    await store.grant("editor", "notes.delete")
    await store.grant("editor", "notes.edit")
    await store.grant("viewer", "notes.edit")
    await store.grant("editor", "notes.edit")  # twice: no error
    found = await store.get(alice.id)
    assert found is not None
    assert found.permissions == frozenset({"notes.delete", "notes.edit"})
    assert found.has_permission("notes.delete")
    found = await store.get(bob.id)
    assert found is not None and found.permissions == frozenset({"notes.edit"})
    await store.revoke("editor", "notes.delete")
    found = await store.get(alice.id)
    assert found is not None and not found.has_permission("notes.delete")


async def test_store_rehashes_on_login_when_parameters_change(make_store: StoreFactory) -> None:
    old = make_store(PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    await old.create("alice", "correct horse")
    stronger = PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1)
    new = make_store(stronger)
    credentials = await new._find_credentials("alice")
    assert credentials is not None and stronger.check_needs_rehash(credentials[1])
    assert await new.authenticate("alice", "correct horse") is not None
    credentials = await new._find_credentials("alice")
    assert credentials is not None and not stronger.check_needs_rehash(credentials[1])
    assert "t=2" in credentials[1]
    await old.close()
    await new.close()


async def test_store_wrong_password_does_not_rehash(make_store: StoreFactory) -> None:
    old = make_store(PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    await old.create("alice", "correct horse")
    new = make_store(PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1))
    before = await new._find_credentials("alice")
    assert await new.authenticate("alice", "wrong") is None
    assert await new._find_credentials("alice") == before
    await old.close()
    await new.close()


async def test_store_two_instances_share_users(make_store: StoreFactory) -> None:
    first, second = make_store(), make_store()
    alice = await first.create("alice", "correct horse")
    assert await second.authenticate("alice", "correct horse") == alice
    await first.close()
    await second.close()


async def test_store_keeps_no_plaintext_password(
    store: BaseUserStore, make_store: StoreFactory
) -> None:
    await store.create("alice", "correct horse")
    rows = make_store.stored_rows()
    assert rows
    assert not any("correct horse" in str(value) for row in rows for value in row)
    assert any(str(value).startswith("$argon2id$") for row in rows for value in row)


async def test_store_close_then_reuse_reopens(store: BaseUserStore) -> None:
    alice = await store.create("alice", "correct horse")
    await store.close()
    assert await store.get(alice.id) == alice


async def test_store_get_by_invalid_username_is_none(store: BaseUserStore) -> None:
    assert await store.get_by_username("\x00") is None


async def test_store_user_argument_must_be_a_user_or_an_id(store: BaseUserStore) -> None:
    with pytest.raises(TypeError, match="user id"):
        await store.issue_token("alice")  # type: ignore[arg-type]


async def test_store_refuses_bad_role_and_permission_names(store: BaseUserStore) -> None:
    with pytest.raises(ValueError, match="role"):
        await store.create("alice", "correct horse", roles=[" admin"])
    with pytest.raises(ValueError, match="permission"):
        await store.grant("admin", "p" * 151)
    with pytest.raises(ValueError, match="permission"):
        await store.grant("admin", "notes\x00delete")


def test_sqlite_store_reopens_after_fork(tmp_path: Path) -> None:
    import asyncio
    import multiprocessing

    from transom.web.auth import SQLiteUserStore

    store = SQLiteUserStore(tmp_path / "users.db", hasher=cheap_hasher())
    alice = asyncio.run(store.create("alice", "correct horse"))
    parent_connection = store._sqlite._connection

    def child() -> None:
        # No password work here: the child uses only SQL (the thread pool that
        # runs argon2 does not survive fork() once started).
        async def work() -> None:
            assert await store.get_by_username("alice") == alice
            assert store._sqlite._connection is not parent_connection
            await store.add_role(alice.id, "from-child")

        asyncio.run(work())

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(30)
    if process.exitcode is None:
        process.kill()
    assert process.exitcode == 0
    found = asyncio.run(store.get(alice.id))
    assert found is not None and found.has_role("from-child")
    asyncio.run(store.close())


async def test_sqlite_user_store_left_unclosed_closes_and_warns(tmp_path: Path) -> None:
    from transom.web.auth import SQLiteUserStore

    # The same on every Python version (3.13 warns on its own only for the sqlite3 object).
    store = SQLiteUserStore(tmp_path / "u.db", hasher=cheap_hasher())
    await store.list()
    connection = store._sqlite._connection
    assert connection is not None
    with pytest.warns(
        ResourceWarning, match=r"SQLiteUserStore\(.*\) was garbage-collected unclosed"
    ):
        del store
        gc.collect()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        connection.execute("SELECT 1")
    closed = SQLiteUserStore(tmp_path / "u.db", hasher=cheap_hasher())
    await closed.list()
    await closed.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        del closed
        gc.collect()


async def test_sqlite_user_store_missing_directory_is_a_configuration_error(
    tmp_path: Path,
) -> None:
    from transom.exceptions import ConfigurationError
    from transom.web.auth import SQLiteUserStore

    store = SQLiteUserStore(tmp_path / "nowhere" / "u.db", hasher=cheap_hasher())
    with pytest.raises(ConfigurationError, match=r"directory .*nowhere.* does not exist"):
        await store.list()
    assert not (tmp_path / "nowhere").exists()
    with pytest.raises(ConfigurationError, match="is a directory"):
        await SQLiteUserStore(tmp_path, hasher=cheap_hasher()).list()


async def test_sqlite_user_store_locked_database_is_unavailable(tmp_path: Path) -> None:
    # As SQLiteStore's: the App answers StoreUnavailable with 503, not a 500 with a traceback.
    from transom.exceptions import StoreUnavailable
    from transom.web.auth import SQLiteUserStore

    store = SQLiteUserStore(tmp_path / "u.db", hasher=cheap_hasher(), busy_timeout=0.1)
    alice = await store.create("alice", "correct horse")
    holder = sqlite3.connect(tmp_path / "u.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process keeps the write lock
    with pytest.raises(StoreUnavailable, match=r"SQLite user store .*locked"):
        await store.add_role(alice.id, "editor")
    with pytest.raises(StoreUnavailable, match="locked"):
        await store.create("bob", "correct horse")  # a transaction: rolled back
    assert await store.get(alice.id) == alice  # WAL: readers are not blocked
    holder.execute("ROLLBACK")
    holder.close()
    await store.add_role(alice.id, "editor")
    with pytest.raises(UserExists):  # a constraint is still itself, not "unavailable"
        await store.create("ALICE", "correct horse")
    await store.close()


def test_sqlite_user_store_workers_open_a_new_file_at_once(tmp_path: Path) -> None:
    # Several processes opening a new file together: switching it to WAL answers
    # "locked" at once to all but one, and the set-up retries instead of failing.
    import subprocess
    import sys
    import textwrap
    import time

    script = textwrap.dedent(
        """
        import asyncio, os, sys, time
        from argon2 import PasswordHasher
        from transom.web.auth import SQLiteUserStore

        path, go, name = sys.argv[1], sys.argv[2], sys.argv[3]
        hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)

        async def main():
            store = SQLiteUserStore(path, hasher=hasher)
            while not os.path.exists(go):
                time.sleep(0.001)
            await store.create(name, "correct horse")
            await store.close()

        asyncio.run(main())
        """
    )
    path, go = tmp_path / "u.db", tmp_path / "go"
    workers = [
        subprocess.Popen([sys.executable, "-c", script, str(path), str(go), f"user{n}"])
        for n in range(4)
    ]
    time.sleep(0.5)  # all import, then start at once on a new file
    go.touch()
    assert [worker.wait(60) for worker in workers] == [0, 0, 0, 0]
    with closing(sqlite3.connect(path)) as db:  # a sqlite3 "with" alone does not close
        assert db.execute("SELECT count(*) FROM transom_users").fetchone() == (4,)
