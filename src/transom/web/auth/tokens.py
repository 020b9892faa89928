"""API tokens: made here, kept by a user store as a SHA-256 digest.

A token is ``tsm_`` followed by 43 URL-safe characters: 256 random bits
from ``secrets`` (the prefix lets secret scanners and people recognise a
leaked token). The plaintext is returned once, by ``issue_token``; the
store keeps only its SHA-256 digest, so a copy of the database yields no
usable token. A fast hash is right here, unlike for passwords: the input
already has 256 bits of entropy, so there is nothing to brute-force
(OWASP ASVS 3.5.2 / 2.9).

A presented token is checked in three steps: its shape (prefix and
length; a wrong shape never reaches the database), a lookup by digest
(an index lookup on the hash of a secret reveals nothing about the
secret), and ``hmac.compare_digest`` of the stored digest with the
computed one before the token counts.

Each token also has a public id (``token_id``), which is what lists show
and what ``revoke_token`` takes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

__all__ = ["TOKEN_PREFIX", "TokenInfo", "digest_matches", "new_token", "token_digest"]

TOKEN_PREFIX = "tsm_"  # noqa: S105 - a public marker, not a secret
_RANDOM_BYTES = 32  # 256 bits
_TOKEN_LENGTH = len(TOKEN_PREFIX) + 43  # token_urlsafe(32) is 43 characters
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a store knows of a token: never the token itself.

    ``created_at`` and ``expires_at`` are Unix times; ``expires_at`` is
    ``None`` for a token that does not expire.
    """

    id: str
    user_id: int
    name: str
    created_at: float
    expires_at: float | None

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def new_token() -> tuple[str, str, str]:
    """A fresh ``(token_id, plaintext, digest)``."""
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(_RANDOM_BYTES)
    return secrets.token_hex(8), plaintext, _digest(plaintext)


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("ascii")).hexdigest()


def token_digest(plaintext: str) -> str | None:
    """The digest to look ``plaintext`` up by, or ``None`` if it is no token of ours."""
    if (
        not isinstance(plaintext, str)
        or len(plaintext) != _TOKEN_LENGTH
        or not plaintext.startswith(TOKEN_PREFIX)
        or not _ALPHABET.issuperset(plaintext[len(TOKEN_PREFIX) :])
    ):
        return None
    return _digest(plaintext)


def digest_matches(stored: str, computed: str) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(stored.encode("ascii"), computed.encode("ascii"))
