"""Authentication flows: Basic, Bearer and Digest (RFC 7617, RFC 6750, RFC 7616).

An auth is a generator-based *flow*, so one implementation serves ``Client``
and ``AsyncClient``: ``auth_flow(request)`` yields a request to send, is
sent back the response, and may yield another (Digest answers a 401
challenge this way). The client drives the generator; the flow never does I/O.

>>> client = Client(auth=("user", "pass"))                 # Basic
>>> client = Client(auth=DigestAuth("user", "pass"))
>>> client = Client(auth=BearerAuth("token"))
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from base64 import b64encode
from collections.abc import Callable, Generator
from typing import Any

from transom.client.models import Request, Response
from transom.exceptions import ConfigurationError

__all__ = ["Auth", "BasicAuth", "BearerAuth", "DigestAuth", "FunctionAuth", "build_auth"]

AuthFlow = Generator[Request, Response, None]


class Auth:
    """The base of every auth: override ``auth_flow``."""

    #: The flow needs the response body before deciding (the client reads it first).
    requires_response_body = False

    def auth_flow(self, request: Request) -> AuthFlow:
        yield request


class BasicAuth(Auth):
    """``Authorization: Basic`` (RFC 7617), sent with every request."""

    def __init__(self, username: str | bytes, password: str | bytes) -> None:
        self._header = basic_header(username, password)

    def auth_flow(self, request: Request) -> AuthFlow:
        request.headers["authorization"] = self._header
        yield request


def basic_header(username: str | bytes, password: str | bytes) -> str:
    user = username.encode() if isinstance(username, str) else username
    secret = password.encode() if isinstance(password, str) else password
    # RFC 7617 §2.1: user-id and password as UTF-8, joined by a colon.
    return "Basic " + b64encode(user + b":" + secret).decode("ascii")


class BearerAuth(Auth):
    """``Authorization: Bearer <token>`` (RFC 6750 §2.1)."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: Request) -> AuthFlow:
        request.headers["authorization"] = self._header
        yield request


class FunctionAuth(Auth):
    """Any callable ``Request -> Request``."""

    def __init__(self, func: Callable[[Request], Request]) -> None:
        self._func = func

    def auth_flow(self, request: Request) -> AuthFlow:
        yield self._func(request)


_HASHES: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5,
    "SHA-256": hashlib.sha256,
    "SHA-512-256": lambda data: hashlib.new("sha512_256", data),
}
# RFC 9110 §11.2: auth-param = token BWS "=" BWS ( token / quoted-string )
_PARAM = re.compile(r'\s*([!#$%&\'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``'Digest realm="x", qop="auth"'`` -> ``("digest", {"realm": "x", "qop": "auth"})``."""
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    for name, value in _PARAM.findall(rest):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[name.lower()] = value
    return scheme.lower(), params


class _Challenge:
    __slots__ = ("algorithm", "nonce", "opaque", "qop", "realm", "session", "stale")

    def __init__(self, params: dict[str, str]) -> None:
        algorithm = params.get("algorithm", "MD5").upper()
        self.session = algorithm.endswith("-SESS")
        self.algorithm = algorithm.removesuffix("-SESS")
        if self.algorithm not in _HASHES:
            raise ConfigurationError(f"Digest algorithm {algorithm!r} is not supported")
        self.realm = params.get("realm", "")
        self.nonce = params.get("nonce", "")
        self.opaque = params.get("opaque")
        qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
        # qop=auth-int would hash the body: offered alone we cannot answer it.
        self.qop = "auth" if "auth" in qops else (None if not qops else "auth-int")
        self.stale = params.get("stale", "").lower() == "true"


class DigestAuth(Auth):
    """HTTP Digest (RFC 7616): MD5, SHA-256 and their ``-sess`` variants, ``qop=auth``.

    After the first challenge the flow answers later requests at once, with
    ``nc`` counting up for the same nonce (RFC 7616 §3.4); a 401 with
    ``stale=true`` is retried once with the new nonce.
    """

    def __init__(self, username: str, password: str) -> None:
        self._username = username
        self._password = password
        self._challenge: _Challenge | None = None
        self._nc = 0
        self._lock = threading.Lock()

    def auth_flow(self, request: Request) -> AuthFlow:
        sent_with = self._challenge
        if sent_with is not None:  # answer at once with the nonce we already have
            request.headers["authorization"] = self._authorization(request, sent_with)
        response = yield request
        challenge = self._challenge_of(response)
        if challenge is None:
            return
        if sent_with is not None and not challenge.stale and challenge.nonce == sent_with.nonce:
            return  # the server refused our answer to this very nonce: wrong credentials
        response = yield self._answer(request, challenge)
        challenge = self._challenge_of(response)
        if challenge is not None and challenge.stale:  # RFC 7616 §3.3: retry with the new nonce
            yield self._answer(request, challenge)

    def _answer(self, request: Request, challenge: _Challenge) -> Request:
        with self._lock:
            self._challenge, self._nc = challenge, 0
        request.headers["authorization"] = self._authorization(request, challenge)
        return request

    @staticmethod
    def _challenge_of(response: Response) -> _Challenge | None:
        if response.status_code != 401:
            return None
        for header in response.headers.get_list("www-authenticate"):
            scheme, params = parse_challenge(header)
            if scheme == "digest":
                challenge = _Challenge(params)
                return None if challenge.qop == "auth-int" else challenge
        return None

    def _authorization(self, request: Request, challenge: _Challenge) -> str:
        hash_fn = _HASHES[challenge.algorithm]

        def digest(*parts: str) -> str:
            return str(hash_fn(":".join(parts).encode()).hexdigest())

        with self._lock:
            self._nc += 1
            nc = f"{self._nc:08x}"
        cnonce = _cnonce()
        uri = request.url.raw_path + (f"?{request.url.query}" if request.url.query else "")
        ha1 = digest(self._username, challenge.realm, self._password)
        if challenge.session:  # RFC 7616 §3.4.2
            ha1 = digest(ha1, challenge.nonce, cnonce)
        ha2 = digest(request.method, uri)
        if challenge.qop:
            response = digest(ha1, challenge.nonce, nc, cnonce, challenge.qop, ha2)
        else:  # RFC 2069 compatibility
            response = digest(ha1, challenge.nonce, ha2)
        algorithm = challenge.algorithm + ("-sess" if challenge.session else "")
        fields = [
            f'username="{_quote(self._username)}"',
            f'realm="{_quote(challenge.realm)}"',
            f'nonce="{_quote(challenge.nonce)}"',
            f'uri="{_quote(uri)}"',
            f"algorithm={algorithm}",
            f'response="{response}"',
        ]
        if challenge.opaque is not None:
            fields.append(f'opaque="{_quote(challenge.opaque)}"')
        if challenge.qop:
            fields += [f"qop={challenge.qop}", f"nc={nc}", f'cnonce="{cnonce}"']
        return "Digest " + ", ".join(fields)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _cnonce() -> str:
    return hashlib.sha256(os.urandom(16) + str(time.time()).encode()).hexdigest()[:16]


def build_auth(auth: Any) -> Auth | None:
    """``None``, an ``Auth``, a ``(user, password)`` tuple (Basic) or a callable."""
    if auth is None or isinstance(auth, Auth):
        return auth
    if isinstance(auth, tuple) and len(auth) == 2:
        return BasicAuth(auth[0], auth[1])
    if callable(auth):
        return FunctionAuth(auth)
    raise ConfigurationError(
        "auth must be an Auth instance, a (username, password) tuple or a callable"
    )
