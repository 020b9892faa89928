"""Users as handlers see them, and the ``UserStore`` interface stores implement.

``request.user`` is a ``User`` when the request is authenticated, else the
``ANONYMOUS`` user; both answer ``is_authenticated``, ``roles``,
``permissions``, ``has_role()`` and ``has_permission()``, so templates and
handlers never need to test for ``None``.

A ``User`` is a frozen snapshot loaded once per request: roles are names,
and a user's permissions are the union of the permissions granted to its
roles (``grant("editor", "notes.delete")``).

``session_stamp`` is a digest of the user's stored password hash
(``session_stamp_of``): it changes whenever the password does (a new hash
has a new salt). ``login()`` keeps it in the session and every request
compares it with the user's current one, so a password change ends every
session logged in with the old password: the OWASP Session Management
Cheat Sheet's "Renew the Session ID After Any Privilege Level Change" for
the case where the change happens elsewhere, as when a user who suspects a
stolen session changes the password. A store that keeps no passwords leaves
it empty, which turns the check off.

Usernames are normalised before they are stored or compared: NFKC (so a
full-width "admin", U+FF41 U+FF44..., is "admin", as Unicode TR 36 and RFC 8265's
UsernameCaseMapped profile advise), surrounding white space removed. The
display form keeps its case; lookups use the case-folded form, so "Alice"
and "alice" are one account and cannot be registered twice.
"""

from __future__ import annotations

import builtins
import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

from transom.web.auth.errors import InvalidUsername

if TYPE_CHECKING:
    from transom.web.auth.tokens import TokenInfo

__all__ = [
    "ANONYMOUS",
    "MAX_NAME_LENGTH",
    "AnonymousUser",
    "User",
    "UserStore",
    "check_name",
    "lookup_key",
    "normalize_username",
    "session_stamp_of",
]

#: Usernames, role and permission names have at most this many characters.
MAX_NAME_LENGTH = 150


@dataclass(frozen=True, slots=True)
class User:
    """An authenticated user: id, display username, roles and permissions.

    >>> user.has_role("admin"), user.has_permission("notes.delete")
    (False, True)
    """

    id: int
    username: str
    roles: frozenset[str] = field(default_factory=frozenset)
    permissions: frozenset[str] = field(default_factory=frozenset)
    is_authenticated: bool = True
    #: Changes with the password; see the module docstring.
    session_stamp: str = field(default="", repr=False, compare=False)

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def has_permission(self, permission: str) -> bool:
        return permission in self.permissions


@dataclass(frozen=True, slots=True)
class AnonymousUser:
    """Nobody logged in: no id, no roles, no permissions."""

    id: None = None
    username: str = ""
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    is_authenticated: bool = False

    def has_role(self, role: str) -> bool:
        return False

    def has_permission(self, permission: str) -> bool:
        return False


#: The one anonymous user (it has no state, so one instance serves every request).
ANONYMOUS: Final = AnonymousUser()


def session_stamp_of(password_hash: str) -> str:
    """The ``session_stamp`` for a stored password hash: a digest, not the hash.

    Sessions may live in a cookie the user can read; a digest of the salted
    hash gives nothing to guess passwords against.
    """
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:32]


def _has_control(text: str) -> bool:
    # Cc: C0/C1 controls; Cf: format characters (zero-width joiners, bidi
    # overrides) that make two names look alike (Unicode TR 36 §3).
    return any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in text)


def check_name(name: str, what: str = "name") -> str:
    """``name`` itself if it is a usable role or permission name, else ``ValueError``."""
    if not isinstance(name, str) or not name or name != name.strip():
        raise ValueError(f"a {what} must be a non-empty string without surrounding spaces")
    if len(name) > MAX_NAME_LENGTH or _has_control(name):
        raise ValueError(
            f"{what} {name[:40]!r} is over {MAX_NAME_LENGTH} characters or has control characters"
        )
    return name


def normalize_username(username: str) -> str:
    """The display form of ``username`` (NFKC, trimmed); ``InvalidUsername`` if unusable."""
    if not isinstance(username, str):
        raise InvalidUsername(f"a username must be a string, not {type(username).__name__}")
    name = unicodedata.normalize("NFKC", username).strip()
    if not name:
        raise InvalidUsername("a username may not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidUsername(f"a username may have at most {MAX_NAME_LENGTH} characters")
    if _has_control(name):
        raise InvalidUsername("a username may not hold control or invisible format characters")
    return name


def lookup_key(username: str) -> str:
    """The form stores compare usernames by: normalised, then case-folded."""
    return unicodedata.normalize("NFKC", normalize_username(username).casefold())


@runtime_checkable
class UserStore(Protocol):
    """What the framework needs of a user store; ``SQLiteUserStore`` and
    ``PostgresUserStore`` implement it, and so may your own class.

    Every method is a coroutine. ``authenticate`` returns ``None`` for an
    unknown user or a wrong password alike, after the same work.
    """

    async def get(self, user_id: int) -> User | None: ...

    async def get_by_username(self, username: str) -> User | None: ...

    async def authenticate(self, username: str, password: str) -> User | None: ...

    async def create(self, username: str, password: str, roles: Iterable[str] = ()) -> User: ...

    async def set_password(self, user_id: int, password: str) -> None: ...

    async def delete(self, user_id: int) -> None: ...

    async def list(self) -> builtins.list[User]: ...

    async def add_role(self, user_id: int, role: str) -> None: ...

    async def remove_role(self, user_id: int, role: str) -> None: ...

    async def grant(self, role: str, permission: str) -> None: ...

    async def revoke(self, role: str, permission: str) -> None: ...

    async def issue_token(
        self, user: User | int, name: str = "", expires_in: float | None = None
    ) -> tuple[str, str]: ...

    async def verify_token(self, plaintext: str) -> User | None: ...

    async def revoke_token(self, token_id: str) -> None: ...

    async def list_tokens(self, user: User | int) -> builtins.list[TokenInfo]: ...

    async def close(self) -> None: ...
