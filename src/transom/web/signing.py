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
from typing import Any

from transom.exceptions import ConfigurationError

__all__ = ["SecretKey", "Signer", "b64decode", "b64encode", "secret_keys"]

#: What ``App(secret_key=...)`` accepts: one key, or keys newest first.
SecretKey = str | bytes | Sequence[str | bytes]

_MIN_KEY_BYTES = 16
_MAC_TEXT_LENGTH = 43  # 32 bytes of HMAC-SHA256 in unpadded base64


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

    __slots__ = ("_macs", "salt")

    def __init__(self, secret_key: SecretKey, *, salt: str) -> None:
        self.salt = salt
        info = b"transom.signing." + salt.encode("utf-8")
        # Per key, HMAC's inner and outer hashes already fed their padded keys (RFC 2104 §2),
        # copied per use: cheaper than keying a new HMAC for every signature.
        self._macs = tuple(
            _keyed(hmac.new(key, info, hashlib.sha256).digest()) for key in secret_keys(secret_key)
        )

    def sign(self, payload: bytes) -> str:
        """``payload`` and its MAC under the newest key, as one URL- and cookie-safe string."""
        body = _b64(payload)
        return (body + b"." + self._mac_text(self._macs[0], body)).decode("ascii")

    def unsign(self, token: str) -> bytes | None:
        """The payload if ``token`` was signed by any of the keys, else ``None``."""
        if not token.isascii():
            return None
        raw = token.encode("ascii")
        body, dot, mac_text = raw.rpartition(b".")
        if not dot or len(mac_text) != _MAC_TEXT_LENGTH:
            return None
        valid = False
        for mac in self._macs:  # every key is tried: the time does not tell which one matched
            # The MAC's own text is compared, so only the canonical encoding can match.
            valid |= hmac.compare_digest(self._mac_text(mac, body), mac_text)
        if not valid:
            return None
        # Our own signed text: canonical base64url, so a plain decode is exact.
        return base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))

    @staticmethod
    def _mac_text(keyed: tuple[Any, Any], body: bytes) -> bytes:
        inner = keyed[0].copy()
        inner.update(body)
        outer = keyed[1].copy()
        outer.update(inner.digest())
        return _b64(outer.digest())


def _keyed(key: bytes) -> tuple[Any, Any]:
    """SHA-256 objects that have hashed ``key ^ ipad`` and ``key ^ opad`` (RFC 2104 §2)."""
    key = key.ljust(64, b"\0")  # 32-byte derived keys: shorter than SHA-256's 64-byte block
    inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
    outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))
    return inner, outer


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64(data: bytes) -> bytes:
    """Unpadded base64url, without the stdlib's layers of wrappers (a hot path)."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")
