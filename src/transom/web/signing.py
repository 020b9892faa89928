"""HMAC-SHA256 signatures over short values, with key rotation.

Theory of operation
-------------------
``App(secret_key=...)`` takes one key or a list of keys. The first key
signs; every key verifies, so a deployment rotates by putting the new key
first and dropping the old one once the cookies it signed have expired.

Keys are never used raw. Each use (``salt``: "session", "csrf" ...) gets
its own key, ``HMAC-SHA256(secret, "transom.signing." + salt)``, so a
signature made for one purpose is refused for every other (a session
cookie cannot be replayed as a CSRF token).

A signed token is ``base64url(payload) "." base64url(mac)`` without
padding, where the MAC covers the salt-derived key and the encoded
payload. ``unsign`` answers ``None`` for anything that is not a token
this app made: wrong shape, bad base64, a MAC that matches no key. It
compares with ``hmac.compare_digest`` (constant time) and never raises
for what a client sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

from transom.exceptions import ConfigurationError

__all__ = ["SecretKey", "Signer", "b64decode", "b64encode", "secret_keys"]

#: What ``App(secret_key=...)`` accepts: one key, or keys newest first.
SecretKey = str | bytes | Sequence[str | bytes]

_MIN_KEY_BYTES = 16


def secret_keys(secret_key: SecretKey) -> tuple[bytes, ...]:
    """The keys as bytes, newest first; ``ConfigurationError`` for an empty or short key."""
    keys = [secret_key] if isinstance(secret_key, (str, bytes)) else list(secret_key)
    if not keys:
        raise ConfigurationError("secret_key is an empty list: give at least one key")
    out = []
    for key in keys:
        if not isinstance(key, (str, bytes)):
            raise ConfigurationError(
                f"secret_key entries must be str or bytes, not {type(key).__name__}"
            )
        raw = key.encode("utf-8") if isinstance(key, str) else key
        if len(raw) < _MIN_KEY_BYTES:
            raise ConfigurationError(
                f"secret_key is {len(raw)} bytes; use at least {_MIN_KEY_BYTES} random bytes, "
                'e.g. python -c "import secrets; print(secrets.token_urlsafe(32))"'
            )
        out.append(raw)
    return tuple(out)


def b64encode(data: bytes) -> str:
    """URL-safe base64 without padding (cookie- and URL-safe)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes | None:
    """The inverse of ``b64encode``; ``None`` for anything ``b64encode`` would not make.

    Strict: padding, other alphabets and non-canonical trailing bits are refused.
    """
    try:
        raw = text.encode("ascii")
        data = base64.b64decode(raw + b"=" * (-len(raw) % 4), altchars=b"-_", validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return None
    return data if b64encode(data) == text else None


class Signer:
    """Signs and verifies byte strings for one purpose (``salt``).

    >>> signer = Signer(["new-key-0123456789", "old-key-0123456789"], salt="session")
    >>> token = signer.sign(b"hello")
    >>> signer.unsign(token)
    b'hello'
    >>> signer.unsign(token[:-2]) is None
    True
    """

    __slots__ = ("_keys", "salt")

    def __init__(self, secret_key: SecretKey, *, salt: str) -> None:
        self.salt = salt
        info = b"transom.signing." + salt.encode("utf-8")
        self._keys = tuple(
            hmac.new(key, info, hashlib.sha256).digest() for key in secret_keys(secret_key)
        )

    def sign(self, payload: bytes) -> str:
        """``payload`` and its MAC under the newest key, as one URL- and cookie-safe string."""
        body = b64encode(payload)
        return body + "." + b64encode(self._mac(self._keys[0], body))

    def unsign(self, token: str) -> bytes | None:
        """The payload if ``token`` was signed by any of the keys, else ``None``."""
        body, dot, mac_text = token.rpartition(".")
        if not dot or not body.isascii():
            return None
        mac = b64decode(mac_text)
        if mac is None or len(mac) != 32:
            return None
        valid = False
        for key in self._keys:  # every key is tried: the time does not tell which one matched
            valid |= hmac.compare_digest(self._mac(key, body), mac)
        return b64decode(body) if valid else None

    @staticmethod
    def _mac(key: bytes, body: str) -> bytes:
        return hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()
