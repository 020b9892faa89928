"""The smallest ASGI app: ``transom run examples.hello:app`` (or ``python examples/hello.py``)."""

from __future__ import annotations

from transom._types import Receive, Scope, Send

BODY = b"Hello, World!"


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer every HTTP request with a plain-text greeting."""
    if scope["type"] != "http":
        return  # no lifespan needs: the server carries on without it
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"13")],
        }
    )
    await send({"type": "http.response.body", "body": BODY})


if __name__ == "__main__":
    import transom

    raise SystemExit(transom.serve(app, port=8000))
