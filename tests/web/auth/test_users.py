"""User, AnonymousUser and username normalisation."""

from __future__ import annotations

import dataclasses

import pytest

from transom.web.auth import ANONYMOUS, AnonymousUser, InvalidUsername, User
from transom.web.auth.users import lookup_key, normalize_username


def test_user_roles_and_permissions() -> None:
    user = User(1, "alice", frozenset({"admin"}), frozenset({"notes.delete"}))
    assert user.is_authenticated
    assert user.has_role("admin") and not user.has_role("editor")
    assert user.has_permission("notes.delete") and not user.has_permission("notes.edit")


def test_user_is_frozen_and_slotted() -> None:
    user = User(1, "alice")
    with pytest.raises(dataclasses.FrozenInstanceError):
        user.username = "bob"  # type: ignore[misc]
    assert not hasattr(user, "__dict__")


def test_anonymous_user_has_nothing() -> None:
    assert not ANONYMOUS.is_authenticated
    assert ANONYMOUS.id is None and ANONYMOUS.roles == frozenset()
    assert not ANONYMOUS.has_role("admin") and not ANONYMOUS.has_permission("x")
    assert AnonymousUser() == ANONYMOUS


@pytest.mark.parametrize(
    ("given", "display", "key"),
    [
        ("Alice", "Alice", "alice"),
        ("  Alice ", "Alice", "alice"),
        ("\uff21lice", "Alice", "alice"),
        ("Stra\u00dfe", "Stra\u00dfe", "strasse"),
        ("e\u0301", "\u00e9", "\u00e9"),
    ],
    ids=["case", "spaces", "full-width", "sharp-s", "combining"],
)
def test_normalize_username(given: str, display: str, key: str) -> None:
    assert normalize_username(given) == display
    assert lookup_key(given) == key


@pytest.mark.parametrize(
    "username",
    ["", " ", "a\tb", "a\x7fb", "a\u202eb", "a" * 151, 42],
    ids=["empty", "space", "tab", "del", "bidi-override", "too-long", "not-str"],
)
def test_normalize_username_refuses(username: str) -> None:
    with pytest.raises(InvalidUsername):
        normalize_username(username)
