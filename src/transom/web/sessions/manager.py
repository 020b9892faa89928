"""The session manager: from the cookie to ``request.session`` and back.

Theory of operation
-------------------
``App(secret_key=...)`` builds one ``SessionManager`` over its store. For
each request to a route it ``load``s the session before the handler and
``commit``s it into the response after, with no ASGI layer in between.

Load. No cookie, or a cookie that fails the signature check, cannot be
decoded, or has expired, is an empty new session, never an error. For a
server-side store the cookie is the signed 256-bit id (``secrets``); the
record is looked up under it. For the ``CookieStore`` the cookie is the
signed record itself. A record is ``[created, last_seen, data]`` in JSON.

Lifetime. ``max_age`` bounds a session from its creation (the cookie's
``Max-Age`` is what is left of it); ``idle_timeout``, when set, ends it
after that long without a request. An idle clock is kept fresh with at
most one write per tenth of the timeout (a "touch"), not one per request.

Commit. Nothing is written unless the session was modified (or is due a
touch). A session emptied by the handler is deleted and its cookie
expired. ``regenerate()`` deletes the old record and issues a new id. A
read of the session adds ``Vary: Cookie``: the response depends on it
(RFC 9110 §12.5.5), so shared caches must not serve it to others.

Cookie attributes: ``HttpOnly``, ``SameSite=Lax`` and ``Path=/`` by
default; ``Secure`` when the request came over https (``secure=None``),
always or never when set.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from transom._types import Scope
from transom.exceptions import ConfigurationError, SessionTooLarge
from transom.http.cookies import SetCookie
from transom.web.sessions.session import Session
from transom.web.sessions.store import SessionStore
from transom.web.signing import Signer, b64encode

__all__ = ["SessionConfig", "SessionManager"]

_ID_BYTES = 32  # 256 bits (OWASP session management: at least 64 bits of entropy)


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """How the session cookie is made and how long a session lives.

    >>> App(secret_key=KEY, session_config=SessionConfig(idle_timeout=1800))

    ``max_age``: seconds a session lives from its creation (14 days).
    ``idle_timeout``: seconds without a request that end it (off by default).
    ``browser_session``: send the cookie without ``Max-Age``, so the browser
    drops it when it closes (the server still holds ``max_age``).
    ``secure``: ``None`` sets ``Secure`` on https requests only.
    """

    cookie_name: str = "session"
    max_age: int = 14 * 24 * 3600
    idle_timeout: int | None = None
    browser_session: bool = False
    domain: str | None = None
    path: str = "/"
    secure: bool | None = None
    samesite: Literal["lax", "strict", "none"] = "lax"

    def __post_init__(self) -> None:
        if not isinstance(self.max_age, int) or self.max_age <= 0:
            raise ConfigurationError("SessionConfig.max_age must be a positive number of seconds")
        if self.idle_timeout is not None and (
            not isinstance(self.idle_timeout, int) or self.idle_timeout <= 0
        ):
            raise ConfigurationError(
                "SessionConfig.idle_timeout must be a positive number of seconds, or None"
            )
        if self.samesite == "none" and self.secure is not True:
            raise ConfigurationError(
                "SameSite=None cookies must be Secure: pass secure=True (browsers drop them else)"
            )
        SetCookie(self.cookie_name, "x", domain=self.domain, path=self.path).serialize()


class SessionManager:
    """Loads and saves ``request.session`` for one app (see the module docstring)."""

    __slots__ = (
        "_attributes",
        "_check",
        "_cookie_key",
        "_max_cookie",
        "_room",
        "_server_side",
        "_signer",
        "_touch_after",
        "_verified",
        "config",
        "store",
    )

    def __init__(self, store: SessionStore, signer: Signer, config: SessionConfig) -> None:
        if not isinstance(store, SessionStore):
            raise ConfigurationError(
                f"session_store must be a SessionStore (CookieStore, MemoryStore, SQLiteStore, "
                f"RedisStore), not {type(store).__name__}"
            )
        self.store = store
        self.config = config
        self._signer = signer
        self._cookie_key = config.cookie_name
        idle = config.idle_timeout
        self._touch_after = None if idle is None else max(1.0, idle / 10)
        # The fixed attributes of the cookie line, without and with Secure, made once
        # (the config was checked by SetCookie in SessionConfig).
        self._attributes = (_attributes(config, False), _attributes(config, True))
        # Cookie values this process signed or verified, and their payloads: a browser sends
        # back the cookie it was last given (a session id, or the record it was sent), so
        # most requests find theirs here and skip the MAC. Only a string that was signed or
        # verified with our keys can be found: this skips work, never a check (expiry is
        # still checked on the record). Bounded: cleared when full.
        self._verified: dict[str, bytes] = {}
        self._server_side = store.server_side
        # With the CookieStore, each assignment checks that the session still fits a cookie.
        self._check = None if store.server_side else self._check_size
        self._max_cookie: int = getattr(store, "max_size", 4096)
        # The JSON length the data may reach before a CookieStore session needs an exact
        # check (see Session): what fits in the cookie after its name, MAC and timestamps.
        self._room = max(0, (self._max_cookie - len(config.cookie_name) - 45) * 3 // 4)
        self._room = max(0, self._room - _RECORD_OVERHEAD)

    @property
    def cookie_name(self) -> str:
        return self._cookie_key

    def has_cookie(self, scope: Scope) -> bool:
        """Whether the request carries a session cookie (valid or not)."""
        return bool(_cookie(scope, self._cookie_key))

    def _remember(self, value: str, payload: bytes) -> None:
        verified = self._verified
        if len(verified) >= _VERIFIED_MAX:
            verified.clear()
        verified[value] = payload

    # -- load ----------------------------------------------------------------

    async def load(self, scope: Scope) -> Session:
        """The request's session; an empty new one for anything not valid."""
        value = _cookie(scope, self._cookie_key)
        if value:
            payload = self._verified.get(value)
            if payload is None:
                payload = self._signer.unsign(value)
                if payload is not None:
                    self._remember(value, payload)
            if payload is not None:
                session_id = None
                if self._server_side:
                    if len(payload) != _ID_BYTES:
                        return self._new_session()
                    session_id = b64encode(payload)
                    record = await self.store.load(session_id)
                else:
                    record = payload  # the cookie is the record: no store to ask
                parsed = None if record is None else self._open(record)
                if parsed is not None and record is not None:
                    # The record's length bounds its data's (see Session's size check).
                    return self._new_session(
                        parsed[2], session_id, parsed[0], parsed[1], len(record)
                    )
        return self._new_session()

    def _open(self, record: bytes) -> tuple[float, float, dict[str, Any]] | None:
        """``(created, last_seen, data)`` of a record still alive, else ``None``."""
        parsed = _parse_record(record)
        if parsed is None:
            return None
        created, last_seen, _ = parsed
        now = time.time()
        config = self.config
        if now - created >= config.max_age or (
            config.idle_timeout is not None and now - last_seen >= config.idle_timeout
        ):
            return None
        return parsed

    # -- commit --------------------------------------------------------------

    async def commit(
        self, session: Session, scope: Scope, raw_headers: list[tuple[bytes, bytes]]
    ) -> None:
        """Save ``session`` if needed and add its ``Set-Cookie`` / ``Vary`` to ``raw_headers``."""
        if session.accessed:
            raw_headers.append((b"vary", b"Cookie"))
        now = time.time()
        if not session.modified:
            touch_after = self._touch_after
            if touch_after is None or session.new or now - (session.last_seen or 0) < touch_after:
                return
        data = session.to_dict()
        if not data:
            await self._discard(session, scope, raw_headers)
            return
        if session.new or session.regenerated:
            session.created = now
        created = session.created
        assert created is not None  # set just above for new sessions
        session.last_seen = now
        record = _dump_record(created, now, data)
        remaining = self.config.max_age - (now - created)
        if self.store.server_side:
            await self._save_server_side(session, record, remaining, scope, raw_headers)
        else:
            cookie = self._signer.sign(record)
            self._check_length(cookie)
            self._remember(cookie, record)
            raw_headers.append(self._set_cookie(scope, cookie, remaining))

    async def _save_server_side(
        self,
        session: Session,
        record: bytes,
        remaining: float,
        scope: Scope,
        raw_headers: list[tuple[bytes, bytes]],
    ) -> None:
        store = self.store
        if session.previous_id is not None:
            await store.delete(session.previous_id)
            session.previous_id = None
        ttl = remaining
        if self.config.idle_timeout is not None:
            ttl = min(ttl, self.config.idle_timeout)
        if session.id is None:
            raw_id = secrets.token_bytes(_ID_BYTES)
            session.id = b64encode(raw_id)
            await store.save(session.id, record, ttl)
            cookie = self._signer.sign(raw_id)
            self._remember(cookie, raw_id)
            raw_headers.append(self._set_cookie(scope, cookie, remaining))
        else:
            await store.save(session.id, record, ttl)

    async def _discard(
        self, session: Session, scope: Scope, raw_headers: list[tuple[bytes, bytes]]
    ) -> None:
        """An emptied session: delete its record(s) and expire the client's cookie."""
        for session_id in (session.previous_id, session.id):
            if session_id is not None and self.store.server_side:
                await self.store.delete(session_id)
        session.previous_id = session.id = None
        if self.has_cookie(scope):
            raw_headers.append(self._set_cookie(scope, "", 0))

    # -- the cookie ----------------------------------------------------------

    def _set_cookie(self, scope: Scope, value: str, remaining: float) -> tuple[bytes, bytes]:
        config = self.config
        secure = config.secure
        if secure is None:
            secure = scope.get("scheme") in ("https", "wss")
        if remaining > 0:  # the common case, from the ready attribute text
            attributes = self._attributes[secure]
            if config.browser_session:
                line = f"{self._cookie_key}={value}{attributes}"
            else:
                line = f"{self._cookie_key}={value}; Max-Age={math.ceil(remaining)}{attributes}"
            return (b"set-cookie", line.encode("latin-1"))
        cookie = SetCookie(
            self._cookie_key,
            value,
            max_age=0,
            expires=0,
            domain=config.domain,
            path=config.path,
            secure=secure,
            httponly=True,
            samesite=config.samesite,
        )
        return (b"set-cookie", cookie.serialize().encode("latin-1"))

    def _check_length(self, cookie: str) -> None:
        size = len(self._cookie_key) + 1 + len(cookie)
        if size > self._max_cookie:
            raise _too_large(size, self._max_cookie)

    def _check_size(self, data: dict[str, Any]) -> int:
        """The CookieStore's check at ``session[key] = value``: fail at the assignment.

        The cookie's length follows from the record's: unpadded base64 of n bytes is
        ceil(4n/3) characters, then a dot and the 43-character MAC. Nothing is signed
        here. Returns the JSON length of ``data``.
        """
        record = len(_dump_record(_TIMESTAMP, _TIMESTAMP, data))
        size = len(self._cookie_key) + 1 + -(-4 * record // 3) + 1 + 43
        if size > self._max_cookie:
            raise _too_large(size, self._max_cookie)
        return record - _RECORD_OVERHEAD

    def _new_session(
        self,
        data: dict[str, Any] | None = None,
        session_id: str | None = None,
        created: float | None = None,
        last_seen: float | None = None,
        bound: int = 2,
    ) -> Session:
        return Session(data, session_id, created, last_seen, self._check, self._room, bound)


_TIMESTAMP = 9_999_999_999  # as wide as any timestamp a record will hold
_RECORD_OVERHEAD = len("[9999999999,9999999999,]")  # a record's length less its data's
_VERIFIED_MAX = 4096
_SAMESITE = {"lax": "Lax", "strict": "Strict", "none": "None"}


def _attributes(config: SessionConfig, secure: bool) -> str:
    """``; Domain=...; Path=...; Secure; HttpOnly; SameSite=...`` (RFC 6265 §4.1.1)."""
    text = "" if config.domain is None else f"; Domain={config.domain}"
    text += f"; Path={config.path}"
    if secure:
        text += "; Secure"
    return text + f"; HttpOnly; SameSite={_SAMESITE[config.samesite]}"


def _too_large(size: int, limit: int) -> SessionTooLarge:
    return SessionTooLarge(
        f"the session would make a {size}-byte cookie; browsers keep at most {limit} "
        "(RFC 6265 §6.1). Keep less in the session (ids, not objects), or use a "
        "server-side store: App(session_store=SQLiteStore('app.db'))"
    )


def _cookie(scope: Scope, name: str) -> str | None:
    """The value of cookie ``name`` in the request, without parsing every cookie."""
    prefix = name + "="
    for header, value in scope["headers"]:
        if header != b"cookie":
            continue
        text = value.decode("latin-1")
        if prefix not in text:
            continue
        for part in text.split(";"):
            part = part.strip()
            if part.startswith(prefix):
                found: str = part[len(prefix) :].strip('"')
                return found
    return None


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _json_coders() -> tuple[Callable[[Any], str], Callable[[str], Any]]:
    """Compact JSON in and out, built once: records are coded on every request.

    ``JSONEncoder.encode`` builds a new C encoder per call and ``JSONDecoder.decode``
    runs two regular expressions around the C scanner; where CPython's C
    accelerators exist (``json.encoder.c_make_encoder``, the decoder's
    ``scan_once``) they are called directly, else the plain coders are used.
    """
    make_encoder = getattr(json.encoder, "c_make_encoder", None)
    decoder = json.JSONDecoder()
    if make_encoder is None:  # pragma: no cover - CPython always has the accelerator
        encode: Callable[[Any], str] = json.JSONEncoder(separators=(",", ":")).encode
        return encode, decoder.decode
    # No circular-reference markers: a cycle ends in RecursionError, reported as below.
    c_encode = make_encoder(
        None, _refuse, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, False
    )
    scan: Callable[[str, int], tuple[Any, int]] = getattr(decoder, "scan_once")  # noqa: B009 - not in the stubs

    def encode_fast(value: Any) -> str:
        return "".join(c_encode(value, 0))

    def decode_fast(text: str) -> Any:
        value, end = scan(text, 0)
        if end != len(text):
            raise ValueError("extra data after the record")
        return value

    return encode_fast, decode_fast


_encode, _decode = _json_coders()


def _dump_record(created: float, last_seen: float, data: dict[str, Any]) -> bytes:
    try:
        text = _encode([int(created), int(last_seen), data])
    except (TypeError, ValueError, RecursionError) as exc:
        raise TypeError(
            f"session values must be JSON-serialisable (str, int, float, bool, None, lists and "
            f"dicts of them): {exc}"
        ) from None
    return text.encode("utf-8")


def _parse_record(record: bytes) -> tuple[float, float, dict[str, Any]] | None:
    try:
        parsed = _decode(record.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError, StopIteration):
        return None
    if (
        type(parsed) is not list
        or len(parsed) != 3
        or type(parsed[0]) is not int
        or type(parsed[1]) is not int
        or type(parsed[2]) is not dict
    ):
        return None
    return float(parsed[0]), float(parsed[1]), parsed[2]
