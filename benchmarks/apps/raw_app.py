"""A raw ASGI app (no framework) with the benchmark routes, for server-against-server runs.

GET  /plaintext                        200 text/plain "Hello, World!"
GET  /json                             200 {"message": "Hello, World!"}
GET  /users/{id}/posts/{slug}?page=N   200 {"user_id": id, "slug": slug, "page": N}
POST /echo                             200 text/plain: the body's length in decimal
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:  # the app itself imports nothing of transom: uvicorn runs it too
    from transom._types import Receive, Scope, Send

TEXT = [(b"content-type", b"text/plain")]
JSON = [(b"content-type", b"application/json")]
HELLO_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [*TEXT, (b"content-length", b"13")],
}
HELLO_BODY = {"type": "http.response.body", "body": b"Hello, World!"}


async def respond(
    send: Send, headers: list[tuple[bytes, bytes]], body: bytes, status: int = 200
) -> None:
    start = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


async def lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        await send({"type": message["type"] + ".complete"})
        if message["type"] == "lifespan.shutdown":
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
        return
    path = scope["path"]
    if path == "/plaintext":
        await send(HELLO_START)
        await send(HELLO_BODY)
    elif path == "/json":
        await respond(send, JSON, json.dumps({"message": "Hello, World!"}).encode())
    elif path == "/echo" and scope["method"] == "POST":
        size, more = 0, True
        while more:
            message = await receive()
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
        await respond(send, TEXT, str(size).encode())
    else:
        await params(scope, send, path.split("/"))


async def params(scope: Scope, send: Send, parts: list[str]) -> None:
    if len(parts) == 5 and parts[1] == "users" and parts[3] == "posts" and parts[2].isdigit():
        query: dict[str, Any] = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        page = int(query["page"]) if query.get("page", "").isdigit() else 1
        data = {"user_id": int(parts[2]), "slug": parts[4], "page": page}
        await respond(send, JSON, json.dumps(data).encode())
    else:
        await respond(send, TEXT, b"Not Found", 404)
