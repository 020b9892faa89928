"""Who made a request: the session's user, or an ``Authorization`` header.

The app calls ``Authenticator.resolve(request)`` once per request to a
route, before CSRF checks and guards, and puts the answer in
``scope["user"]`` and ``scope["auth"]``:

1. the session first: a session naming a user that still exists is that
   user, ``how == "session"`` (a session naming a deleted user counts as
   no session; one whose ``STAMP_KEY`` is not the user's current
   ``session_stamp``, logged in before the password changed, is emptied
   and counts as none);
2. else the ``Authorization`` header, given to the backend whose scheme it
   names (schemes are case-insensitive, RFC 9110 §11.1): ``BearerAuth``
   for API tokens, ``BasicAuth`` for username and password;
3. else the anonymous user, ``how is None``.

A header the backends cannot accept (unknown scheme, malformed, wrong
credentials, revoked or expired token) is answered 401 at once, with a
``WWW-Authenticate`` challenge for every backend (RFC 9110 §11.6.1),
``error="invalid_token"`` for a bad bearer token (RFC 6750 §3): a client
that sent credentials must learn they failed, not be served as anonymous.
An app with no backends ignores the header (a proxy may use it).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from transom.exceptions import HTTPError
from transom.web.auth.users import ANONYMOUS, AnonymousUser, User, UserStore

if TYPE_CHECKING:
    from transom.web.requests import Request

__all__ = [
    "SESSION_KEY",
    "STAMP_KEY",
    "AuthBackend",
    "Authenticator",
    "BasicAuth",
    "BearerAuth",
]

#: The session key ``login()`` stores the user's id under.
SESSION_KEY = "_user_id"
#: The session key ``login()`` stores the user's ``session_stamp`` under.
STAMP_KEY = "_user_stamp"


def _stamp_matches(session_value: object, user: User) -> bool:
    """Whether a session's stamp is the user's current one (constant time)."""
    if not user.session_stamp:
        return True  # the store keeps no password: nothing to compare
    if not isinstance(session_value, str):
        return False
    return hmac.compare_digest(
        session_value.encode("utf-8", "replace"), user.session_stamp.encode("utf-8")
    )


class AuthBackend(Protocol):
    """One ``Authorization`` scheme: ``scheme`` (lower case) and how to check it."""

    scheme: str
    #: What ``request.auth`` says for users this backend authenticated.
    how: str

    def challenge(self, error: bool = False) -> str:
        """The ``WWW-Authenticate`` challenge; ``error`` after bad credentials."""

    async def authenticate(self, request: Request, credentials: str) -> User:
        """The user the credentials name; ``HTTPError(401)`` if they do not."""


def _quote(value: str) -> str:
    """A quoted-string (RFC 9110 §5.6.4)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class BearerAuth:
    """``Authorization: Bearer <token>`` with API tokens from ``users.issue_token``.

    >>> app = App(user_store=users, auth_backends=[BearerAuth(users)])
    """

    scheme = "bearer"
    how = "bearer"

    def __init__(self, users: UserStore, realm: str = "transom") -> None:
        self.users = users
        self.realm = realm

    def challenge(self, error: bool = False) -> str:
        text = f"Bearer realm={_quote(self.realm)}"
        # RFC 6750 §3.1: invalid_token for an expired, revoked or malformed token.
        return text + ', error="invalid_token"' if error else text

    async def authenticate(self, request: Request, credentials: str) -> User:
        user = await self.users.verify_token(credentials.strip())
        if user is None:
            raise _unauthorized(request, "the bearer token is invalid, expired or revoked", self)
        return user


class BasicAuth:
    """``Authorization: Basic base64(username:password)`` (RFC 7617), throttled.

    Each attempt goes through ``transom.web.auth.authenticate``, so failed
    passwords count toward the same log-in throttle as the log-in form.
    Basic sends the password with every request: use it over HTTPS only.
    """

    scheme = "basic"
    how = "basic"

    def __init__(self, users: UserStore, realm: str = "transom") -> None:
        self.users = users
        self.realm = realm

    def challenge(self, error: bool = False) -> str:
        # RFC 7617 §2.1: the charset parameter announces UTF-8 credentials.
        return f'Basic realm={_quote(self.realm)}, charset="UTF-8"'

    async def authenticate(self, request: Request, credentials: str) -> User:
        from transom.web.auth.login import authenticate

        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise _unauthorized(request, "malformed Basic credentials", self) from None
        username, colon, password = decoded.partition(":")
        if not colon:
            raise _unauthorized(request, "Basic credentials need username:password", self)
        user = await authenticate(request, username, password, users=self.users)
        if user is None:
            raise _unauthorized(request, "wrong username or password", self)
        return user


def _challenges(request: Request, failed: AuthBackend) -> str:
    """Every challenge the app offers, the failed backend's with its error."""
    authenticator = getattr(request.app, "authenticator", None)
    backends = authenticator.backends if isinstance(authenticator, Authenticator) else []
    if failed not in backends:  # a backend used on its own, outside the app's list
        backends = [failed, *backends]
    return ", ".join(backend.challenge(backend is failed) for backend in backends)


def _unauthorized(request: Request, detail: str, failed: AuthBackend) -> HTTPError:
    return HTTPError(401, detail, headers={"WWW-Authenticate": _challenges(request, failed)})


class Authenticator:
    """Resolves ``request.user``; see the module docstring. The app makes one:

    >>> App(secret_key=KEY, user_store=users, auth_backends=[BearerAuth(users)])
    """

    def __init__(self, user_store: UserStore | None, backends: Sequence[AuthBackend] = ()) -> None:
        self.user_store = user_store
        self.backends = list(backends)
        self._by_scheme = {backend.scheme.lower(): backend for backend in self.backends}

    def challenges(self) -> str:
        """The ``WWW-Authenticate`` value for a 401 (``requires`` uses it)."""
        if not self.backends:
            return 'Bearer realm="transom"'
        return ", ".join(backend.challenge() for backend in self.backends)

    async def resolve(self, request: Request) -> tuple[User | AnonymousUser, str | None]:
        """``(user, how)``: how is ``"session"``, a backend's name, or ``None``."""
        session = request.scope.get("session")
        if session is not None and self.user_store is not None:
            user_id = session.get(SESSION_KEY)
            if user_id is not None:
                user = await self.user_store.get(user_id)
                if user is not None:
                    if _stamp_matches(session.get(STAMP_KEY), user):
                        return user, "session"
                    session.clear()  # logged in with a password since changed
        header = request.headers.get("authorization")
        if header is None or not self.backends:
            return ANONYMOUS, None
        scheme, _, credentials = header.strip().partition(" ")
        backend = self._by_scheme.get(scheme.lower())
        if backend is None or not credentials.strip():
            raise HTTPError(
                401,
                f"unsupported or malformed Authorization header (scheme {scheme[:20]!r})",
                headers={"WWW-Authenticate": self.challenges()},
            )
        return await backend.authenticate(request, credentials), backend.how
