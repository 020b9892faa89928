"""A raw ASGI app with the routes the client tests need (served by uvicorn and by transom)."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import zlib
from typing import Any
from urllib.parse import parse_qsl

import brotli

DIGEST_USER, DIGEST_PASSWORD, DIGEST_REALM = "alice", "wonderland", "tests@transom"


async def _body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def _send(
    send: Any, status: int, body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    fields = [*(headers or []), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": fields})
    await send({"type": "http.response.body", "body": body})


def _json(data: Any) -> bytes:
    return json.dumps(data).encode()


async def app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path: str = scope["path"]
    query = dict(parse_qsl(scope["query_string"].decode()))
    headers = {k.decode().lower(): v.decode("latin-1") for k, v in scope["headers"]}
    body = await _body(receive)
    json_type = [(b"content-type", b"application/json")]

    if path == "/plaintext":
        await _send(send, 200, b"Hello, World!", [(b"content-type", b"text/plain")])
    elif path == "/echo":
        payload = {
            "method": scope["method"],
            "path": path,
            "query": scope["query_string"].decode(),
            "headers": [[k.decode(), v.decode("latin-1")] for k, v in scope["headers"]],
            "body": body.decode("latin-1"),
        }
        await _send(send, 200, _json(payload), json_type)
    elif path.startswith("/redirect/"):
        status = int(path.rsplit("/", 1)[1])
        location = query.get("to", "/echo")
        await _send(send, status, b"", [(b"location", location.encode())])
    elif path == "/loop":
        await _send(send, 302, b"", [(b"location", b"/loop")])
    elif path == "/set-cookie":
        fields = [(b"set-cookie", f"{k}={v}; Path=/".encode()) for k, v in query.items()]
        await _send(send, 200, b"set", fields)
    elif path == "/cookies":
        await _send(send, 200, _json({"cookie": headers.get("cookie")}), json_type)
    elif path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(int(query.get("n", "3"))):
            await send(
                {"type": "http.response.body", "body": f"line {i}\n".encode(), "more_body": True}
            )
            await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b""})
    elif path == "/encoded":
        coding = query["coding"]
        text = b"compressed " * 100
        encoded = {
            "gzip": gzip.compress(text),
            "deflate": zlib.compress(text),
            "br": brotli.compress(text),
        }[coding]
        await _send(send, 200, encoded, [(b"content-encoding", coding.encode())])
    elif path == "/slow":
        await asyncio.sleep(float(query.get("delay", "1")))
        await _send(send, 200, b"slow")
    elif path.startswith("/status/"):
        await _send(send, int(path.rsplit("/", 1)[1]), b"")
    elif path == "/digest":
        await _digest(scope, headers, query, send)
    elif path == "/basic":
        await _send(send, 200, _json({"authorization": headers.get("authorization")}), json_type)
    else:
        await _send(send, 404, b"not found")


_nonce_counts: dict[str, int] = {}


def _h(algorithm: str, text: str) -> str:
    name = "sha256" if algorithm.startswith("SHA-256") else "md5"
    return hashlib.new(name, text.encode()).hexdigest()


async def _digest(scope: Any, headers: dict[str, str], query: dict[str, str], send: Any) -> None:
    """RFC 7616 server side: a fresh nonce per challenge, nc checked, ``stale`` when asked."""
    algorithm = query.get("algorithm", "MD5")
    authorization = headers.get("authorization", "")
    if authorization.startswith("Digest "):
        from transom.client.auth import parse_challenge

        _, params = parse_challenge(authorization)
        nonce = params.get("nonce", "")
        ha1 = _h(algorithm, f"{DIGEST_USER}:{DIGEST_REALM}:{DIGEST_PASSWORD}")
        if algorithm.endswith("-sess"):
            ha1 = _h(algorithm, f"{ha1}:{nonce}:{params.get('cnonce')}")
        uri = scope["raw_path"].decode() + (
            "?" + scope["query_string"].decode() if scope["query_string"] else ""
        )
        ha2 = _h(algorithm, f"{scope['method']}:{uri}")
        expected = _h(
            algorithm,
            f"{ha1}:{nonce}:{params.get('nc')}:{params.get('cnonce')}:{params.get('qop')}:{ha2}",
        )
        nc = int(params.get("nc", "0"), 16)
        known = nonce in _nonce_counts
        fresh_nc = known and nc > _nonce_counts[nonce]
        stale_wanted = query.get("stale") == "1" and nonce.startswith("first")
        if params.get("response") == expected and params.get("uri") == uri and fresh_nc:
            _nonce_counts[nonce] = nc
            if not stale_wanted:
                body = _json({"authenticated": True, "nc": params.get("nc")})
                await _send(send, 200, body, [(b"content-type", b"application/json")])
                return
            await _challenge(send, algorithm, stale=True, prefix="second")
            return
    await _challenge(send, algorithm, stale=False, prefix="first")


async def _challenge(send: Any, algorithm: str, *, stale: bool, prefix: str) -> None:
    nonce = f"{prefix}{len(_nonce_counts)}"
    _nonce_counts[nonce] = 0
    value = (
        f'Digest realm="{DIGEST_REALM}", qop="auth", algorithm={algorithm}, '
        f'nonce="{nonce}", opaque="xyz"' + (", stale=true" if stale else "")
    )
    await _send(send, 401, b"", [(b"www-authenticate", value.encode())])
