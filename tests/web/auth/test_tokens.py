"""API tokens on both stores: issued once, stored hashed, revocable, expiring."""

from __future__ import annotations

import hashlib

import pytest

from transom.web.auth import UnknownUser
from transom.web.auth.base import EXPIRED_TOKENS_KEPT, BaseUserStore
from transom.web.auth.tokens import TOKEN_PREFIX, new_token, token_digest

from .conftest import Clock, StoreFactory


async def test_token_issue_and_verify(store: BaseUserStore) -> None:
    alice = await store.create("alice", "correct horse", roles=["admin"])
    token_id, token = await store.issue_token(alice, "ci")
    assert token.startswith(TOKEN_PREFIX) and len(token) == len(TOKEN_PREFIX) + 43
    assert token_id not in token
    assert await store.verify_token(token) == alice


async def test_token_issue_by_user_id(store: BaseUserStore) -> None:
    alice = await store.create("alice", "correct horse")
    _, token = await store.issue_token(alice.id)
    assert await store.verify_token(token) == alice


async def test_token_each_issue_is_different(store: BaseUserStore) -> None:
    alice = await store.create("alice", "correct horse")
    first, second = await store.issue_token(alice), await store.issue_token(alice)
    assert first[0] != second[0] and first[1] != second[1]


async def test_token_is_stored_only_as_sha256(
    store: BaseUserStore, make_store: StoreFactory
) -> None:
    alice = await store.create("alice", "correct horse")
    _, token = await store.issue_token(alice, "ci")
    values = [str(value) for row in make_store.stored_rows() for value in row]
    assert not any(token in value or token[len(TOKEN_PREFIX) :] in value for value in values)
    assert hashlib.sha256(token.encode()).hexdigest() in values


async def test_token_is_not_shown_again(store: BaseUserStore) -> None:
    alice = await store.create("alice", "correct horse")
    token_id, token = await store.issue_token(alice, "ci")
    (info,) = await store.list_tokens(alice)
    assert info.id == token_id and info.name == "ci" and info.user_id == alice.id
    assert token not in repr(info)


async def test_token_revoked_is_refused(store: BaseUserStore) -> None:
    alice = await store.create("alice", "correct horse")
    token_id, token = await store.issue_token(alice)
    _, other = await store.issue_token(alice)
    await store.revoke_token(token_id)
    assert await store.verify_token(token) is None
    assert await store.verify_token(other) == alice
    assert token_id not in [info.id for info in await store.list_tokens(alice)]
    await store.revoke_token(token_id)  # twice: no error


async def test_token_expires(store: BaseUserStore, clock: Clock) -> None:
    alice = await store.create("alice", "correct horse")
    _, token = await store.issue_token(alice, expires_in=60)
    (info,) = await store.list_tokens(alice)
    assert info.expires_at == clock.now + 60
    clock.now += 59
    assert await store.verify_token(token) == alice
    clock.now += 1
    assert await store.verify_token(token) is None


async def test_token_expired_long_ago_is_deleted_at_the_next_issue(
    store: BaseUserStore, clock: Clock
) -> None:
    alice = await store.create("alice", "correct horse")
    bob = await store.create("bob", "correct horse")
    await store.issue_token(alice, "old", expires_in=60)
    clock.now += 1  # tokens are listed in the order they were made
    await store.issue_token(alice, "recent", expires_in=EXPIRED_TOKENS_KEPT)
    clock.now += 1
    await store.issue_token(alice, "forever")
    await store.issue_token(bob, "bob's old", expires_in=60)
    clock.now += 60 + EXPIRED_TOKENS_KEPT  # "old" expired more than EXPIRED_TOKENS_KEPT ago
    assert [t.name for t in await store.list_tokens(alice)] == ["old", "recent", "forever"]
    await store.issue_token(alice, "new")
    # Expired but recent tokens stay listed; another user's are left to their own next issue.
    assert [t.name for t in await store.list_tokens(alice)] == ["recent", "forever", "new"]
    assert [t.name for t in await store.list_tokens(bob)] == ["bob's old"]


async def test_token_of_a_deleted_user_is_refused(store: BaseUserStore) -> None:
    alice = await store.create("alice", "correct horse")
    _, token = await store.issue_token(alice)
    await store.delete(alice.id)
    assert await store.verify_token(token) is None


async def test_token_for_an_unknown_user_raises(store: BaseUserStore) -> None:
    with pytest.raises(UnknownUser):
        await store.issue_token(12345)


@pytest.mark.parametrize("expires_in", [0, -1, float("inf"), float("nan")])
async def test_token_bad_expiry_raises(store: BaseUserStore, expires_in: float) -> None:
    alice = await store.create("alice", "correct horse")
    with pytest.raises(ValueError, match="expires_in"):
        await store.issue_token(alice, expires_in=expires_in)


async def test_token_list_is_per_user(store: BaseUserStore) -> None:
    alice = await store.create("alice", "correct horse")
    bob = await store.create("bob", "correct horse")
    first, _ = await store.issue_token(alice, "one")
    await store.issue_token(bob, "two")
    assert [info.id for info in await store.list_tokens(alice)] == [first]


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "tsm_",
        "not-a-token",
        TOKEN_PREFIX + "A" * 43,
        TOKEN_PREFIX + "!" * 43,
        "Bearer " + TOKEN_PREFIX + "A" * 43,
        TOKEN_PREFIX + "A" * 44,
    ],
    ids=["empty", "prefix-only", "junk", "unknown", "bad-alphabet", "with-scheme", "too-long"],
)
async def test_token_unknown_or_malformed_is_none(store: BaseUserStore, presented: str) -> None:
    alice = await store.create("alice", "correct horse")
    await store.issue_token(alice)
    assert await store.verify_token(presented) is None


def test_token_digest_refuses_wrong_shapes_before_any_lookup() -> None:
    _, plaintext, digest = new_token()
    assert token_digest(plaintext) == digest
    assert token_digest(plaintext[:-1]) is None
    assert token_digest("xxx_" + plaintext[4:]) is None
    assert token_digest(plaintext[:-1] + "é") is None


async def test_token_found_digest_is_compared_in_constant_time(
    sqlite_store: BaseUserStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import transom.web.auth.base as base

    calls: list[tuple[str, str]] = []

    def spy(stored: str, computed: str) -> bool:
        calls.append((stored, computed))
        return False

    monkeypatch.setattr(base, "digest_matches", spy)
    alice = await sqlite_store.create("alice", "correct horse")
    _, token = await sqlite_store.issue_token(alice)
    assert await sqlite_store.verify_token(token) is None  # the spy said no
    assert calls == [(token_digest(token), token_digest(token))]
