"""Log-in and log-out, and the throttled password check handlers should use.

``authenticate(request, username, password)`` is the log-in check for
handlers (and for ``BasicAuth``): it adds throttling to the store's
``authenticate``. Throttling follows the OWASP Authentication Cheat Sheet
("Protect against automated attacks"): failed attempts are counted per
username and per client address in fixed windows, in the app's counter
store (``request.app.counters``: the session store's backend, so every
instance shares them). Over a limit, the request is answered 429 with
``Retry-After`` (RFC 6585 §4, RFC 9110 §10.2.3) *before* any password is
checked, so a guess over the limit learns nothing and costs no argon2 work.

- Per username (default 5 failures / 15 minutes) stops guessing one
  account's password. It counts every attempt as it starts, so a burst of
  parallel guesses cannot slip past the limit, and a success resets it.
  Unknown usernames are counted like known ones (no enumeration).
- Per address (default 20 failures / 15 minutes) stops one client from
  trying a few passwords on many accounts. It counts failures only, so an
  office behind one address can log in all day; a success does not reset
  it, or an attacker could clear it with an account of their own.

The per-username limit lets anyone lock an account out for the window by
failing on purpose; the window is short, and the address limit caps how
many accounts one client can lock. Set ``LoginThrottle`` to what fits.

``login(request, user)`` makes ``user`` the session's user with a new
session id and a new CSRF token (no fixation: OWASP Session Management
Cheat Sheet, "Renew the Session ID After Any Privilege Level Change").
``logout(request)`` empties the session and gives it a new id; the old
record is deleted server-side, so an old cookie replayed later is
anonymous.

``login`` also keeps the user's ``session_stamp`` in the session: once the
password changes, every session logged in before is anonymous at its next
request (see ``transom.web.auth.users``). To keep the session that made the
change, log it in again with the user as it now is:

>>> await users.set_password(request.user.id, new_password)
>>> await login(request, await users.get(request.user.id))
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from transom.exceptions import ConfigurationError, HTTPError
from transom.web.auth.backends import SESSION_KEY, STAMP_KEY
from transom.web.auth.errors import InvalidUsername
from transom.web.auth.users import ANONYMOUS, User, UserStore, lookup_key

if TYPE_CHECKING:
    from transom.web.requests import Request

__all__ = ["DEFAULT_THROTTLE", "LoginThrottle", "authenticate", "login", "logout"]


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    """Limits on failed log-ins; ``None`` turns a limit off.

    >>> app.state.login_throttle = LoginThrottle(per_username=10, window=600)
    """

    per_username: int | None = 5
    per_address: int | None = 20
    #: The length of a counting window, in seconds.
    window: float = 15 * 60

    def __post_init__(self) -> None:
        for limit in (self.per_username, self.per_address):
            if limit is not None and (not isinstance(limit, int) or limit < 1):
                raise ConfigurationError(f"a log-in limit must be a positive int, not {limit!r}")
        if not (math.isfinite(self.window) and self.window > 0):
            raise ConfigurationError(f"window must be a positive number of seconds: {self.window}")


#: The throttle used when neither the call nor ``app.state.login_throttle`` sets one.
DEFAULT_THROTTLE = LoginThrottle()


def _throttle_of(request: Request, given: LoginThrottle | None) -> LoginThrottle:
    if given is not None:
        return given
    state = getattr(request.app, "state", None)
    found = getattr(state, "login_throttle", None)
    return found if isinstance(found, LoginThrottle) else DEFAULT_THROTTLE


def _keys(request: Request, username: str) -> tuple[str, str]:
    # Counter keys must be short ASCII: the username goes in as a digest, of
    # the form the store compares, so "Alice" and "alice" count together.
    try:
        name = lookup_key(username)
    except InvalidUsername:
        name = username if isinstance(username, str) else ""
    digest = hashlib.sha256(name.encode("utf-8", "replace")).hexdigest()[:32]
    client = request.client
    address = client[0] if client is not None else "unknown"
    return f"login:user:{digest}", f"login:addr:{address[:100]}"


def _too_many(seconds: float) -> HTTPError:
    retry = str(max(1, math.ceil(seconds)))
    return HTTPError(
        429,
        f"too many failed log-ins; try again in {retry} seconds",
        headers={"Retry-After": retry},
    )


def _users_of(request: Request, given: UserStore | None) -> UserStore:
    users = given if given is not None else getattr(request.app, "user_store", None)
    if users is None:
        raise ConfigurationError(
            "authenticate() needs a user store: App(user_store=SQLiteUserStore('app.db'))"
        )
    return users


async def authenticate(
    request: Request,
    username: str,
    password: str,
    *,
    users: UserStore | None = None,
    throttle: LoginThrottle | None = None,
) -> User | None:
    """The user if the password is right, else ``None``; 429 when throttled.

    >>> user = await authenticate(request, form["username"], form["password"])

    ``users`` defaults to the app's ``user_store``; ``throttle`` to
    ``app.state.login_throttle``, else ``DEFAULT_THROTTLE``.
    """
    store = _users_of(request, users)
    limits = _throttle_of(request, throttle)
    counters: Any = getattr(request.app, "counters", None)
    if counters is None:
        raise ConfigurationError("authenticate() needs a request served by a transom App")
    user_key, address_key = _keys(request, username)
    if limits.per_address is not None:
        count, left = await counters.hit(address_key, limits.window, 0)
        if count >= limits.per_address:
            raise _too_many(left)
    if limits.per_username is not None:
        count, left = await counters.hit(user_key, limits.window)
        if count > limits.per_username:
            raise _too_many(left)
    user = await store.authenticate(username, password)
    if user is None:
        if limits.per_address is not None:
            await counters.hit(address_key, limits.window)
        return None
    if limits.per_username is not None:
        await counters.reset(user_key)
    return user


async def login(request: Request, user: User) -> None:
    """Make ``user`` the session's user: new session id, new CSRF token.

    >>> await login(request, user)
    >>> return RedirectResponse(safe_next(request, request.query_params.get("next")), 303)
    """
    from transom.web.csrf import rotate_token

    if not isinstance(user, User):
        raise TypeError(f"login() needs a User, got {user!r}")
    session = request.session
    if session.get(SESSION_KEY) not in (None, user.id):
        session.clear()  # another user's data must not carry over
    session[SESSION_KEY] = user.id
    session[STAMP_KEY] = user.session_stamp
    session.regenerate()
    rotate_token(request)
    request.scope["user"] = user
    request.scope["auth"] = "session"


async def logout(request: Request) -> None:
    """Forget the session's user and data; the old session id stops working."""
    session = request.session
    session.clear()
    session.regenerate()
    request.scope["user"] = ANONYMOUS
    request.scope["auth"] = None
