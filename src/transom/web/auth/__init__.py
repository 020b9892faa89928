"""Authentication and authorization: users, passwords, log-in, tokens, ``requires``.

>>> from transom.web.auth import SQLiteUserStore, BearerAuth, login, requires, safe_next
>>> users = SQLiteUserStore("app.db")
>>> app = App(secret_key=KEY, user_store=users, auth_backends=[BearerAuth(users)])
>>> @app.post("/login")
... async def do_login(request):
...     form = await request.form()
...     user = await authenticate(request, form["username"], form["password"])  # throttled
...     if user is None:
...         return render(request, "login.html", status_code=400)
...     await login(request, user)
...     return RedirectResponse(safe_next(request, request.query_params.get("next")), 303)

Modules, one concept each: ``passwords`` (argon2id), ``users`` (``User``,
``AnonymousUser``, the ``UserStore`` protocol), ``tokens`` (API tokens),
``base`` (the rules shared by the SQL stores), ``sqlite`` and ``postgres``
(the stores), ``backends`` (``Authenticator``, ``BasicAuth``,
``BearerAuth``), ``login`` (``login``, ``logout``, throttled
``authenticate``), ``guards`` (``requires``), ``redirects``
(``safe_next``), ``errors``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from transom.web.auth.backends import (
    SESSION_KEY,
    STAMP_KEY,
    AuthBackend,
    Authenticator,
    BasicAuth,
    BearerAuth,
)
from transom.web.auth.errors import (
    AuthError,
    InvalidPassword,
    InvalidUsername,
    UnknownUser,
    UserExists,
)
from transom.web.auth.guards import requires
from transom.web.auth.login import DEFAULT_THROTTLE, LoginThrottle, authenticate, login, logout
from transom.web.auth.passwords import PasswordHasher, Passwords, hash_password, verify_password
from transom.web.auth.redirects import safe_next
from transom.web.auth.sqlite import SQLiteUserStore
from transom.web.auth.tokens import TokenInfo
from transom.web.auth.users import ANONYMOUS, AnonymousUser, User, UserStore

if TYPE_CHECKING:
    from transom.web.auth.postgres import PostgresUserStore

__all__ = [
    "ANONYMOUS",
    "DEFAULT_THROTTLE",
    "SESSION_KEY",
    "STAMP_KEY",
    "AnonymousUser",
    "AuthBackend",
    "AuthError",
    "Authenticator",
    "BasicAuth",
    "BearerAuth",
    "InvalidPassword",
    "InvalidUsername",
    "LoginThrottle",
    "PasswordHasher",
    "Passwords",
    "PostgresUserStore",
    "SQLiteUserStore",
    "TokenInfo",
    "UnknownUser",
    "User",
    "UserExists",
    "UserStore",
    "authenticate",
    "hash_password",
    "login",
    "logout",
    "requires",
    "safe_next",
    "verify_password",
]


def __getattr__(name: str) -> Any:
    # PostgresUserStore loads on first use: its module imports psycopg lazily,
    # but there is no need to load it at all in apps that never name it.
    if name == "PostgresUserStore":
        from transom.web.auth.postgres import PostgresUserStore

        return PostgresUserStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
