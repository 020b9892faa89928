"""``BaseUserStore``: the rules every SQL user store shares, over a few primitives.

The policy lives here once (validation, hashing, rehash on log-in, the
dummy verify for unknown users, token issue and checks); a backend
(``SQLiteUserStore``, ``PostgresUserStore``) supplies only storage: the
methods marked abstract, each one short SQL statement or two.

User ids are never reused (AUTOINCREMENT / identity columns): a session
or token that named a deleted user must not come to name a new one.
"""

from __future__ import annotations

import builtins
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable

from argon2 import PasswordHasher

from transom.web.auth.errors import InvalidUsername, UnknownUser
from transom.web.auth.passwords import Passwords, check_password
from transom.web.auth.tokens import TokenInfo, digest_matches, new_token, token_digest
from transom.web.auth.users import User, check_name, lookup_key, normalize_username

__all__ = ["EXPIRED_TOKENS_KEPT", "BaseUserStore", "user_id_of"]

#: Seconds an expired token stays listed (as expired) before ``issue_token`` deletes it.
EXPIRED_TOKENS_KEPT = 30 * 86400


def user_id_of(user: User | int) -> int:
    user_id = user.id if isinstance(user, User) else user
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise TypeError(f"expected a User or a user id (int), got {user!r}")
    return user_id


class BaseUserStore(ABC):
    """The ``UserStore`` protocol over storage primitives; see the module docstring."""

    def __init__(
        self, *, hasher: PasswordHasher | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.passwords = Passwords(hasher)
        self._clock = clock

    # -- users ---------------------------------------------------------------

    async def get(self, user_id: int) -> User | None:
        """The user with ``user_id``, or ``None`` (also for an id that is not an int)."""
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            return None
        return await self._load_user(user_id)

    async def get_by_username(self, username: str) -> User | None:
        """The user named ``username`` (case-insensitively), or ``None``."""
        try:
            key = lookup_key(username)
        except InvalidUsername:
            return None
        found = await self._find_credentials(key)
        return None if found is None else await self._load_user(found[0])

    async def authenticate(self, username: str, password: str) -> User | None:
        """The user if ``password`` is theirs, else ``None``; not throttled.

        Prefer ``transom.web.auth.authenticate(request, ...)`` in handlers:
        it adds log-in throttling. An unknown or invalid username costs one
        argon2 verify, as a wrong password does.
        """
        try:
            found = await self._find_credentials(lookup_key(username))
        except InvalidUsername:
            found = None
        if found is None:
            await self.passwords.verify_dummy(password if isinstance(password, str) else "")
            return None
        user_id, stored_hash = found
        if not await self.passwords.verify(stored_hash, password):
            return None
        if self.passwords.needs_rehash(stored_hash):
            await self._update_hash(user_id, await self.passwords.hash(password))
        return await self._load_user(user_id)

    async def create(self, username: str, password: str, roles: Iterable[str] = ()) -> User:
        """A new user; ``UserExists`` if the name is taken (case-insensitively).

        >>> alice = await users.create("alice", "correct horse", roles=["admin"])
        """
        display = normalize_username(username)
        role_names = sorted({check_name(role, "role") for role in roles})
        check_password(password)
        password_hash = await self.passwords.hash(password)
        user_id = await self._insert_user(display, lookup_key(display), password_hash, role_names)
        user = await self._load_user(user_id)
        if user is None:  # deleted between the insert and the load
            raise UnknownUser(f"user {user_id} was deleted while being created")
        return user

    async def set_password(self, user_id: int, password: str) -> None:
        """Replace the user's password; ``UnknownUser`` if there is no such user."""
        password_hash = await self.passwords.hash(password)
        if not await self._update_hash(user_id_of(user_id), password_hash):
            raise UnknownUser(f"no user has id {user_id!r}")

    # -- tokens --------------------------------------------------------------

    async def issue_token(
        self, user: User | int, name: str = "", expires_in: float | None = None
    ) -> tuple[str, str]:
        """A new API token for ``user``: ``(token_id, plaintext)``.

        Show the plaintext to the user now: the store keeps only its digest.
        The user's tokens that expired more than ``EXPIRED_TOKENS_KEPT``
        seconds ago are deleted on the way, so the table does not keep them.

        >>> token_id, token = await users.issue_token(alice, "ci", expires_in=90 * 86400)
        """
        user_id = user_id_of(user)
        if name:
            check_name(name, "token name")
        if expires_in is not None and not (math.isfinite(expires_in) and expires_in > 0):
            raise ValueError(f"expires_in must be a positive number of seconds, not {expires_in}")
        token_id, plaintext, digest = new_token()
        now = self._clock()
        expires_at = None if expires_in is None else now + expires_in
        await self._insert_token(TokenInfo(token_id, user_id, name, now, expires_at), digest)
        await self._delete_tokens_expired_before(user_id, now - EXPIRED_TOKENS_KEPT)
        return token_id, plaintext

    async def verify_token(self, plaintext: str) -> User | None:
        """The user a live token belongs to; ``None`` if unknown, revoked or expired."""
        digest = token_digest(plaintext)
        if digest is None:
            return None
        found = await self._find_token(digest)
        if found is None:
            return None
        info, stored = found
        if not digest_matches(stored, digest) or info.expired(self._clock()):
            return None
        return await self._load_user(info.user_id)

    async def list_tokens(self, user: User | int) -> builtins.list[TokenInfo]:
        """The user's tokens that were not revoked (expired ones included), oldest first."""
        return await self._list_tokens(user_id_of(user))

    # -- what a backend implements -------------------------------------------

    @abstractmethod
    async def _load_user(self, user_id: int) -> User | None:
        """The user with its roles and their permissions, or ``None``."""

    @abstractmethod
    async def _find_credentials(self, key: str) -> tuple[int, str] | None:
        """``(user_id, password_hash)`` of the user whose lookup key is ``key``."""

    @abstractmethod
    async def _insert_user(
        self, username: str, key: str, password_hash: str, roles: builtins.list[str]
    ) -> int:
        """Insert a user and its roles; its new id. ``UserExists`` if ``key`` is taken."""

    @abstractmethod
    async def _update_hash(self, user_id: int, password_hash: str) -> bool:
        """Store a new hash; ``False`` if there is no such user."""

    @abstractmethod
    async def _insert_token(self, info: TokenInfo, digest: str) -> None:
        """Keep a token's digest and details; ``UnknownUser`` if the user is gone."""

    @abstractmethod
    async def _find_token(self, digest: str) -> tuple[TokenInfo, str] | None:
        """``(info, stored digest)`` of the token with ``digest``, or ``None``."""

    @abstractmethod
    async def _list_tokens(self, user_id: int) -> builtins.list[TokenInfo]:
        """The user's tokens, oldest first."""

    @abstractmethod
    async def _delete_tokens_expired_before(self, user_id: int, when: float) -> None:
        """Delete the user's tokens whose ``expires_at`` is before ``when``."""

    @abstractmethod
    async def delete(self, user_id: int) -> None:
        """Delete a user, its roles and tokens; ``UnknownUser`` if there is no such user."""

    @abstractmethod
    async def list(self) -> builtins.list[User]:
        """Every user, by id."""

    @abstractmethod
    async def add_role(self, user_id: int, role: str) -> None:
        """Give the user ``role`` (no error if it has it); ``UnknownUser`` if none."""

    @abstractmethod
    async def remove_role(self, user_id: int, role: str) -> None:
        """Take ``role`` from the user (no error if it did not have it)."""

    @abstractmethod
    async def grant(self, role: str, permission: str) -> None:
        """Give every user with ``role`` the ``permission``."""

    @abstractmethod
    async def revoke(self, role: str, permission: str) -> None:
        """Take ``permission`` from ``role``."""

    @abstractmethod
    async def revoke_token(self, token_id: str) -> None:
        """Revoke a token for good (no error if there is no such token)."""

    @abstractmethod
    async def close(self) -> None:
        """Release the connection(s); the store reopens if used again."""
