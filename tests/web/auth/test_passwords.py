"""argon2id hashing, rehash checks, and the dummy verify for unknown users."""

from __future__ import annotations

import pytest

from transom.web.auth import InvalidPassword, PasswordHasher, Passwords, SQLiteUserStore
from transom.web.auth import passwords as passwords_module
from transom.web.auth.passwords import default_hasher, hash_password, verify_password

from .conftest import cheap_hasher


def test_hash_password_is_argon2id_and_salted() -> None:
    first = hash_password("correct horse", hasher=cheap_hasher())
    second = hash_password("correct horse", hasher=cheap_hasher())
    assert first.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    assert first != second


def test_verify_password_right_wrong_and_malformed() -> None:
    stored = hash_password("correct horse", hasher=cheap_hasher())
    assert verify_password(stored, "correct horse", hasher=cheap_hasher())
    assert not verify_password(stored, "correct horsE", hasher=cheap_hasher())
    assert not verify_password("not a hash", "correct horse", hasher=cheap_hasher())
    assert not verify_password(stored, "x" * 2000, hasher=cheap_hasher())


def test_default_hasher_is_rfc_9106_low_memory() -> None:
    hasher = default_hasher()
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (3, 65536, 4)
    assert hasher.type.name == "ID"


@pytest.mark.parametrize("password", ["", "x" * 1025, None], ids=["empty", "long", "none"])
def test_hash_password_refuses_unusable_passwords(password: str) -> None:
    with pytest.raises(InvalidPassword):
        hash_password(password, hasher=cheap_hasher())


async def test_passwords_needs_rehash_when_parameters_change() -> None:
    cheap = Passwords(cheap_hasher())
    stored = await cheap.hash("correct horse")
    assert not cheap.needs_rehash(stored)
    assert Passwords(PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1)).needs_rehash(
        stored
    )
    assert cheap.needs_rehash("garbage")


async def test_passwords_dummy_hash_uses_the_same_hasher() -> None:
    passwords = Passwords(cheap_hasher())
    await passwords.verify_dummy("anything")
    assert passwords._dummy is not None
    assert passwords._dummy.startswith("$argon2id$v=19$m=8192,t=1,p=1$")


async def test_unknown_user_costs_one_dummy_verify(
    sqlite_store: SQLiteUserStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sqlite_store.create("alice", "correct horse")
    verified: list[str] = []
    real = passwords_module.verify_password

    def spy(stored: str, password: str, *, hasher: PasswordHasher | None = None) -> bool:
        verified.append(stored)
        return real(stored, password, hasher=hasher)

    monkeypatch.setattr(passwords_module, "verify_password", spy)
    assert await sqlite_store.authenticate("nobody", "correct horse") is None
    assert await sqlite_store.authenticate("\x00", "correct horse") is None  # invalid name too
    assert await sqlite_store.authenticate("alice", "wrong") is None
    dummy = sqlite_store.passwords._dummy
    assert dummy is not None
    credentials = await sqlite_store._find_credentials("alice")
    assert credentials is not None
    # One argon2 verify each: against the dummy for unknown names, the real hash else.
    assert verified == [dummy, dummy, credentials[1]]
