"""Password hashing with argon2id (argon2-cffi), and the checks around it.

Theory of operation:

- Hashes are argon2id in the PHC string format (``$argon2id$v=19$m=...``),
  which carries its own salt and parameters, so a store keeps one string
  per user and parameters can change over time. The default parameters are
  argon2-cffi's: RFC 9106's second recommended ("low-memory") profile,
  t=3, m=64 MiB, p=4. Tests pass a cheap ``PasswordHasher`` instead.
- ``Passwords.needs_rehash`` says whether a stored hash was made with other
  parameters than the hasher's; the stores rehash on a successful log-in,
  the one moment the plaintext is at hand (OWASP Password Storage Cheat
  Sheet, "Upgrading the work factor").
- An unknown username must cost what a wrong password costs, or response
  times tell an attacker which names exist (OWASP Authentication Cheat
  Sheet, "Authentication and error messages"). ``Passwords.verify_dummy``
  verifies against a hash made once, with the same hasher, of a random
  secret, and always fails.
- Hashing takes tens of milliseconds of CPU by design. The async helpers
  run it in the framework's thread pool (argon2-cffi releases the GIL), so
  the event loop goes on serving other requests meanwhile.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from transom.web.auth.errors import InvalidPassword
from transom.web.concurrency import run_sync

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "PasswordHasher",
    "Passwords",
    "hash_password",
    "verify_password",
]

#: Longer passwords are refused: argon2 would take them, but a megabyte
#: "password" is a denial-of-service lever, not a secret (OWASP ASVS 2.1.2
#: asks that at least 64 characters be allowed).
MAX_PASSWORD_LENGTH = 1024

_default_hasher: PasswordHasher | None = None


def default_hasher() -> PasswordHasher:
    """argon2-cffi's defaults: argon2id, RFC 9106 low-memory profile."""
    global _default_hasher
    if _default_hasher is None:
        _default_hasher = PasswordHasher()
    return _default_hasher


def check_password(password: str) -> None:
    """Raise ``InvalidPassword`` for an empty or over-long password."""
    if not isinstance(password, str) or not password:
        raise InvalidPassword("a password must be a non-empty string")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidPassword(f"a password may have at most {MAX_PASSWORD_LENGTH} characters")


def hash_password(password: str, *, hasher: PasswordHasher | None = None) -> str:
    """The argon2id hash of ``password`` (PHC string; the salt is inside).

    >>> stored = hash_password("correct horse battery staple")
    >>> verify_password(stored, "correct horse battery staple")
    True
    """
    check_password(password)
    return (hasher or default_hasher()).hash(password)


def verify_password(
    stored_hash: str, password: str, *, hasher: PasswordHasher | None = None
) -> bool:
    """Whether ``password`` matches ``stored_hash``; a malformed hash is a mismatch."""
    if not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return (hasher or default_hasher()).verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class Passwords:
    """One store's hashing policy: its hasher, and a dummy hash for unknown users.

    >>> passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    >>> stored = await passwords.hash("s3cret!")
    >>> await passwords.verify(stored, "s3cret!")
    True
    """

    __slots__ = ("_dummy", "hasher")

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or default_hasher()
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        check_password(password)
        return await run_sync(self.hasher.hash, password)

    async def verify(self, stored_hash: str, password: str) -> bool:
        return await run_sync(verify_password, stored_hash, password, hasher=self.hasher)

    async def verify_dummy(self, password: str) -> None:
        """Spend what a wrong password costs, for a user that does not exist."""
        if self._dummy is None:
            self._dummy = await run_sync(self.hasher.hash, secrets.token_urlsafe(32))
        await run_sync(verify_password, self._dummy, password, hasher=self.hasher)

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether ``stored_hash`` was made with other parameters than the hasher's."""
        try:
            return self.hasher.check_needs_rehash(stored_hash)
        except (InvalidHashError, ValueError):
            return True
