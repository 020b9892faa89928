"""CSRF protection: a synchronizer token bound to the session, and origin checks.

Theory of operation
-------------------
This follows the OWASP CSRF Prevention Cheat Sheet ("Synchronizer Token
Pattern", "Verifying Origin With Standard Headers"). Each session holds a
secret of 32 random bytes (``secrets``), kept in ``session["_csrf"]`` and
created the first time a page asks for ``csrf_token(request)``. Pages put
the token in their forms (``csrf_input(request)``) or hand it to scripts,
which send it back in the ``X-CSRF-Token`` header.

The token a page gets is *masked*: ``b64(mask + (mask XOR secret))`` with a
fresh random mask each time, as Django does, so the bytes of the token
differ on every response and a compressed HTTPS response cannot leak the
secret byte by byte (BREACH). Every masked token unmasks to the same
secret, so any token the session was given verifies. One request gets one
token (it is kept in the scope), so every form on a page carries the same
value. ``rotate_token(request)`` replaces the secret; ``login()`` calls it,
so tokens handed out before log-in stop working.

``check_request(request)`` runs before the handler of every route not
marked ``@csrf_exempt``, for the unsafe methods POST, PUT, PATCH and DELETE
(RFC 9110 §9.2.1: GET, HEAD, OPTIONS and TRACE change nothing, so they are
never checked). In order:

1. A request with an ``Authorization`` header and no session cookie
   passes: the browser does not attach it by itself, so a forged request
   cannot ride on it.
2. Origin (OWASP "Identifying Source Origin"): an ``Origin`` header must be
   the request's own origin (``scheme://host[:port]`` of ``request.url``)
   or one of ``CSRFConfig.trusted_origins``; ``Origin: null`` (sandboxed
   frames, privacy redirects) is refused. Without ``Origin``, a
   ``Referer`` is held to the same rule. A request that carries the
   session cookie over https with neither header is refused, as Django
   does: a browser that hides both cannot be told apart from a forgery.
   This rule also holds for requests with no session at all (log-in CSRF,
   where a foreign page logs the victim into the attacker's account).
3. Token: a request that carries the session cookie must send a token,
   in the header or in the form field ``csrf_token`` (urlencoded or
   multipart), that unmasks to the session's secret (compared with
   ``hmac.compare_digest``). The body is read only for a form with no
   header token; ``request.form()`` keeps what it parsed, so the handler
   reads the same form again at no cost.

A failure is a 403 whose message says which rule failed, as JSON or HTML
depending on ``Accept`` (``transom.web.errors.error_response``).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from markupsafe import Markup, escape

from transom.exceptions import ConfigurationError, InvalidURL
from transom.http.url import URL
from transom.web.guards import set_route_option
from transom.web.signing import b64decode, b64encode

if TYPE_CHECKING:
    from transom.web.requests import Request
    from transom.web.responses import Response

__all__ = [
    "SAFE_METHODS",
    "CSRFConfig",
    "check_request",
    "csrf_exempt",
    "csrf_input",
    "csrf_token",
    "rotate_token",
]

#: Methods that must not change state (RFC 9110 §9.2.1); never checked.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

#: The session key of the secret (base64url).
SESSION_KEY = "_csrf"
#: Scope key: this request's masked token, so a page gets one value.
SCOPE_KEY = "transom.csrf_token"
#: The route option ``csrf_exempt`` sets.
EXEMPT_OPTION = "csrf_exempt"

_SECRET_BYTES = 32
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

_T = TypeVar("_T")


def origin_of(text: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL (RFC 6454 §6.1), else ``None``.

    Shared with the WebSocket origin check (``transom.web.websockets``).
    """
    try:
        url = URL(text)
    except InvalidURL:
        return None
    if url.scheme not in ("http", "https") or not url.host:
        return None
    return url.origin


@dataclass(frozen=True, slots=True)
class CSRFConfig:
    """Settings of CSRF protection; ``App(csrf=CSRFConfig(...))``.

    >>> CSRFConfig(trusted_origins=["https://admin.example.com", "https://*.example.com"])

    ``trusted_origins``: other origins whose pages may post here, as
    ``scheme://host[:port]``; ``scheme://*.domain`` trusts every subdomain
    of ``domain`` (not ``domain`` itself). ``header_name`` and
    ``field_name``: where the token is looked for. ``enabled=False`` turns
    every check off (``App(csrf=False)`` does the same).
    """

    trusted_origins: Sequence[str] = ()
    header_name: str = "X-CSRF-Token"
    field_name: str = "csrf_token"
    enabled: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.trusted_origins, str):
            raise ConfigurationError(
                "CSRFConfig(trusted_origins=...) takes a list of origins, not one string: "
                f"write [{self.trusted_origins!r}]"
            )
        origins = tuple(normalise_trusted_origin(origin) for origin in self.trusted_origins)
        object.__setattr__(self, "trusted_origins", origins)
        if not self.header_name or not self.field_name:
            raise ConfigurationError("CSRFConfig header_name and field_name must not be empty")

    def trusts(self, origin: str) -> bool:
        """Whether ``origin`` (normalised) is one of the trusted origins."""
        return origin_trusted(self.trusted_origins, origin)


def origin_trusted(trusted_origins: Sequence[str], origin: str) -> bool:
    """Whether ``origin`` (normalised) is one of ``trusted_origins`` (normalised patterns)."""
    for trusted in trusted_origins:
        if trusted == origin:
            return True
        scheme, star, domain = trusted.partition("://*.")
        if star and origin.startswith(scheme + "://") and origin.endswith("." + domain):
            return True
    return False


def normalise_trusted_origin(origin: str, setting: str = "trusted origin") -> str:
    """``origin`` normalised as browsers send it; ``ConfigurationError`` if it is none.

    ``scheme://*.domain`` is kept as a pattern for every subdomain of ``domain``.
    """
    if not isinstance(origin, str):
        raise ConfigurationError(f"{setting} {origin!r} must be a string")
    wildcard = "://*." in origin
    probe = origin.replace("://*.", "://", 1) if wildcard else origin
    try:
        url = URL(probe)
    except InvalidURL:
        url = None
    if (
        url is None
        or url.scheme not in ("http", "https")
        or not url.host
        or url.userinfo
        or url.raw_path not in ("", "/")
        or url.query
        or url.fragment
    ):
        raise ConfigurationError(
            f"{setting} {origin!r} must be http(s)://host[:port] with no path, "
            "as in 'https://admin.example.com' or 'https://*.example.com'"
        )
    return url.origin.replace("://", "://*.", 1) if wildcard else url.origin


def _config(request: Request) -> CSRFConfig:
    """The app's CSRF settings: ``app.csrf_config`` (a CSRFConfig or a bool), else defaults."""
    found = getattr(request.app, "csrf_config", None)
    if isinstance(found, CSRFConfig):
        return found
    return _DISABLED if found is False else _DEFAULT


_DEFAULT = CSRFConfig()
_DISABLED = CSRFConfig(enabled=False)


# -- tokens -------------------------------------------------------------------


def _stored_secret(request: Request) -> bytes | None:
    """The session's secret, or ``None`` when it has none (or a damaged one)."""
    stored = request.session.get(SESSION_KEY)
    secret = b64decode(stored) if isinstance(stored, str) else None
    return secret if secret is not None and len(secret) == _SECRET_BYTES else None


def _new_secret(request: Request) -> bytes:
    secret = secrets.token_bytes(_SECRET_BYTES)
    request.session[SESSION_KEY] = b64encode(secret)
    return secret


def _xor(left: bytes, right: bytes) -> bytes:
    return (int.from_bytes(left, "big") ^ int.from_bytes(right, "big")).to_bytes(len(left), "big")


def _mask(secret: bytes) -> str:
    mask = secrets.token_bytes(_SECRET_BYTES)
    return b64encode(mask + _xor(mask, secret))


def _unmask(token: str) -> bytes | None:
    raw = b64decode(token)
    if raw is None or len(raw) != 2 * _SECRET_BYTES:
        return None
    return _xor(raw[:_SECRET_BYTES], raw[_SECRET_BYTES:])


def csrf_token(request: Request) -> str:
    """The CSRF token for this request's session, masked (one value per request).

    >>> csrf_token(request)
    'q3Jt...'   # 86 URL-safe characters; differs per request, all verify

    Creates the session's secret if it has none, so the session is saved.
    Needs sessions (``App(secret_key=...)``).
    """
    token: str | None = request.scope.get(SCOPE_KEY)
    if token is None:
        token = _mask(_stored_secret(request) or _new_secret(request))
        request.scope[SCOPE_KEY] = token
    return token


def csrf_input(request: Request) -> Markup:
    """A hidden form field carrying the token: ``<form method=post>{{ csrf_input() }}``."""
    name = _config(request).field_name
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        escape(name), escape(csrf_token(request))
    )


def rotate_token(request: Request) -> None:
    """Give the session a new secret: every token handed out before stops verifying.

    ``transom.web.auth.login`` calls this, so a token an attacker obtained
    before the log-in is useless after it (OWASP: renew on privilege change).
    """
    _new_secret(request)
    request.scope.pop(SCOPE_KEY, None)


def csrf_exempt(target: _T) -> _T:
    """Skip the CSRF check for a handler, or every route of a Router.

    >>> @app.post("/webhooks/payments")
    ... @csrf_exempt
    ... async def payment_hook(request: Request): ...

    For endpoints that authenticate some other way (a signed webhook body);
    a route that reads the session cookie should stay protected.
    """
    set_route_option(target, EXEMPT_OPTION, True)
    return target


# -- the check ------------------------------------------------------------------


async def check_request(request: Request) -> Response | None:
    """``None`` when the request may go on, else the 403 to answer with.

    The app calls this before the guards and handler of each route not
    marked ``@csrf_exempt``; the rules are in the module docstring.
    """
    config = _config(request)
    if not config.enabled or request.method in SAFE_METHODS:
        return None
    has_cookie = _has_session_cookie(request)
    if not has_cookie and "authorization" in request.headers:
        return None  # not cookie-authenticated: nothing for a forged request to ride
    failure = _check_origin(request, config, has_cookie)
    if failure is None and has_cookie:
        failure = await _check_token(request, config)
    if failure is None:
        return None
    from transom.web.errors import error_response

    return error_response(request.scope, 403, failure)


def _has_session_cookie(request: Request) -> bool:
    sessions = getattr(request.app, "sessions", None)
    return sessions is not None and bool(sessions.has_cookie(request.scope))


def _check_origin(request: Request, config: CSRFConfig, has_cookie: bool) -> str | None:
    """What is wrong with the request's ``Origin`` / ``Referer``, or ``None``.

    OWASP CSRF cheat sheet, "Verifying Origin With Standard Headers";
    RFC 6454 §7 for ``Origin``, RFC 9110 §10.1.3 for ``Referer``.
    """
    own = request.url.origin
    headers = request.headers
    origin = headers.get("origin")
    if origin is not None:
        if origin.strip() == "null":
            return "Origin null refused: the request came from a sandboxed or opaque origin"
        if _allowed(origin_of(origin.strip()), own, config):
            return None
        return f"Origin {origin} does not match {own} or a trusted origin"
    referer = headers.get("referer")
    if referer is not None:
        if _allowed(origin_of(referer.strip()), own, config):
            return None
        return f"Referer {referer} is not of origin {own} or a trusted origin"
    if has_cookie and request.url.scheme == "https":
        return "Origin and Referer missing: an https request with the session cookie must send one"
    return None


def _allowed(origin: str | None, own: str, config: CSRFConfig) -> bool:
    return origin is not None and (origin == own or config.trusts(origin))


async def _check_token(request: Request, config: CSRFConfig) -> str | None:
    """What is wrong with the request's token, or ``None`` when it is the session's."""
    token = request.headers.get(config.header_name)
    if token is None and _is_form(request):
        value: Any = (await request.form()).get(config.field_name)
        token = value if isinstance(value, str) else None
    where = f"the form field {config.field_name!r} or the {config.header_name} header"
    if not token:
        return f"CSRF token missing: send the token from csrf_token() in {where}"
    sent = _unmask(token.strip())
    secret = _stored_secret(request)
    if sent is None or secret is None or not hmac.compare_digest(sent, secret):
        return (
            f"CSRF token incorrect: the token in {where} is not this session's "
            "(the page may be stale, or the session was renewed at log-in): reload the page"
        )
    return None


def _is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.partition(";")[0].strip().lower() in _FORM_TYPES
