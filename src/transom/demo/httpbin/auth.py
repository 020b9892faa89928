"""Authentication: Basic, hidden Basic, Bearer and Digest (RFC 7616: MD5, SHA-256, SHA-512).

Digest follows httpbin: ``/digest-auth/{qop}/{user}/{passwd}[/{algorithm}
[/{stale_after}]]``. ``qop`` is ``auth``, ``auth-int`` or anything else
(both offered). The challenge sets the cookies ``stale_after`` and
``fake``; a nonce seen before (cookie ``last_nonce``) or a
``stale_after`` count run down to 0 answers ``stale=TRUE``;
``?require-cookie=1`` insists that the client sends cookies back.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import time

from transom import Request, Response
from transom.demo.httpbin._common import (
    Registrar,
    json_response,
    raw_response,
    status_response,
)
from transom.demo.httpbin.cookies import set_plain_cookie

__all__ = ["add_routes", "digest_response", "parse_auth_params"]

REALM = "me@kennethreitz.com"
_ALGORITHMS = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256, "SHA-512": hashlib.sha512}


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def _basic_ok(request: Request, user: str, passwd: str) -> bool:
    given = _basic_credentials(request)
    if given is None:
        return False
    return hmac.compare_digest(given[0].encode(), user.encode()) & hmac.compare_digest(
        given[1].encode(), passwd.encode()
    )


async def view_basic_auth(request: Request, user: str, passwd: str) -> Response:
    if not _basic_ok(request, user, passwd):
        return status_response(request, 401)
    return json_response({"authenticated": True, "user": user})


async def view_hidden_basic_auth(request: Request, user: str, passwd: str) -> Response:
    if not _basic_ok(request, user, passwd):
        return status_response(request, 404)
    return json_response({"authenticated": True, "user": user})


async def view_bearer(request: Request) -> Response:
    authorization = request.headers.get("authorization")
    if not authorization or not authorization.startswith("Bearer "):
        return raw_response(status_code=401, headers=[("WWW-Authenticate", "Bearer")])
    return json_response({"authenticated": True, "token": authorization[len("Bearer ") :]})


def parse_auth_params(text: str) -> dict[str, str]:
    """``a=b, c="d, e"`` as a dict (RFC 9110 §11.2 auth-params; quoted strings unescaped)."""
    params: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t,":
            i += 1
        start = i
        while i < n and text[i] not in "=, \t":
            i += 1
        key = text[start:i].strip().lower()
        while i < n and text[i] in " \t":
            i += 1
        if i >= n or text[i] != "=":
            while i < n and text[i] != ",":
                i += 1
            continue
        i += 1
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            i += 1
            value = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                value.append(text[i])
                i += 1
            i += 1
            params[key] = "".join(value)
        else:
            start = i
            while i < n and text[i] != ",":
                i += 1
            params[key] = text[start:i].strip()
    return params


def _h(data: bytes, algorithm: str) -> str:
    return _ALGORITHMS.get(algorithm, hashlib.md5)(data).hexdigest()


def digest_response(
    credentials: dict[str, str], password: str, method: str, uri: str, body: bytes
) -> str | None:
    """The ``response`` a client with ``credentials`` should send (RFC 7616 §3.4.1), or ``None``."""
    algorithm = credentials.get("algorithm", "MD5")
    qop = credentials.get("qop")
    a1 = ":".join((credentials.get("username", ""), credentials.get("realm", ""), password))
    ha1 = _h(a1.encode("utf-8"), algorithm)
    if qop in (None, "auth"):
        ha2 = _h(f"{method}:{uri}".encode(), algorithm)
    elif qop == "auth-int":
        ha2 = _h(f"{method}:{uri}:{_h(body, algorithm)}".encode(), algorithm)
    else:
        return None
    nonce = credentials.get("nonce", "")
    if qop is None:
        return _h(f"{ha1}:{nonce}:{ha2}".encode(), algorithm)
    if any(key not in credentials for key in ("nc", "cnonce")):
        return None
    parts = (ha1, nonce, credentials["nc"], credentials["cnonce"], qop, ha2)
    return _h(":".join(parts).encode("utf-8"), algorithm)


def _challenge(request: Request, qop: str | None, algorithm: str, stale: bool = False) -> Response:
    client = request.client[0] if request.client else ""
    nonce = _h(f"{client}:{time.time()}:".encode() + os.urandom(10), algorithm)
    opaque = _h(os.urandom(10), algorithm)
    offered = "auth, auth-int" if qop is None else qop
    header = (
        f'Digest realm="{REALM}", nonce="{nonce}", opaque="{opaque}", qop="{offered}", '
        f"algorithm={algorithm}, stale={stale}"
    )
    return raw_response(status_code=401, headers=[("WWW-Authenticate", header)])


def _request_target(request: Request) -> str:
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if raw else request.url.path
    query = request.scope.get("query_string", b"")
    return path + ("?" + query.decode("latin-1") if query else "")


async def view_digest_auth(
    request: Request,
    qop: str,
    user: str,
    passwd: str,
    algorithm: str = "MD5",
    stale_after: str = "never",
) -> Response:
    require_cookie = request.query_params.get("require-cookie", "").lower() in ("1", "t", "true")
    if algorithm not in _ALGORITHMS:
        algorithm = "MD5"
    chosen_qop = qop if qop in ("auth", "auth-int") else None
    authorization = request.headers.get("authorization", "")
    scheme, _, rest = authorization.partition(" ")
    credentials = parse_auth_params(rest) if scheme.lower() == "digest" else {}
    cookies = request.cookies
    if not credentials or (require_cookie and "cookie" not in request.headers):
        response = _challenge(request, chosen_qop, algorithm)
        set_plain_cookie(request, response, "stale_after", stale_after)
        set_plain_cookie(request, response, "fake", "fake_value")
        return response
    if require_cookie and cookies.get("fake") != "fake_value":
        response = json_response({"errors": ["missing cookie set on challenge"]}, 403)
        set_plain_cookie(request, response, "fake", "fake_value")
        return response
    nonce = credentials.get("nonce", "")
    stale_after_value = cookies.get("stale_after")
    seen = "last_nonce" in cookies and nonce == cookies.get("last_nonce")
    body = await request.body() if credentials.get("qop") == "auth-int" else b""
    expected = digest_response(credentials, passwd, request.method, _request_target(request), body)
    given = credentials.get("response", "")
    if (
        seen
        or stale_after_value == "0"
        or expected is None
        or not (credentials.get("username") == user and hmac.compare_digest(given, expected))
    ):
        response = _challenge(
            request, chosen_qop, algorithm, stale=seen or stale_after_value == "0"
        )
        set_plain_cookie(request, response, "stale_after", stale_after)
        set_plain_cookie(request, response, "last_nonce", nonce)
        set_plain_cookie(request, response, "fake", "fake_value")
        return response
    response = json_response({"authenticated": True, "user": user})
    set_plain_cookie(request, response, "fake", "fake_value")
    if stale_after_value:
        try:
            following = str(int(stale_after_value) - 1)
        except ValueError:
            following = "never"
        set_plain_cookie(request, response, "stale_after", following)
    return response


def add_routes(add: Registrar) -> None:
    add("/basic-auth/{user}/{passwd}", view_basic_auth, name="httpbin_basic_auth")
    add("/hidden-basic-auth/{user}/{passwd}", view_hidden_basic_auth,
        name="httpbin_hidden_basic_auth")  # fmt: skip
    add("/bearer", view_bearer, name="httpbin_bearer")
    add("/digest-auth/{qop}/{user}/{passwd}", view_digest_auth, name="httpbin_digest_auth")
    add("/digest-auth/{qop}/{user}/{passwd}/{algorithm}", view_digest_auth,
        name="httpbin_digest_auth_algorithm")  # fmt: skip
    add("/digest-auth/{qop}/{user}/{passwd}/{algorithm}/{stale_after}", view_digest_auth,
        name="httpbin_digest_auth_stale_after")  # fmt: skip
