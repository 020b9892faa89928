"""WebSockets in the demo: ``/ws/echo`` and the live page at ``/site/live``.

Theory of operation:

- ``/ws/echo`` is the API's WebSocket companion (httpbin has none): every text message comes
  back as text, every binary one as binary, until the client closes. It is open to anyone, as
  the httpbin routes are, and checks the ``Origin`` as every Transom app does by default: a page
  of another site is refused with 403 (RFC 6455 §10.2), a client that sends no ``Origin`` (not a
  browser) is let in. It keeps no state and never touches the session.
- A message over ``MAX_MESSAGE_SIZE`` bytes ends the connection with 1009, "message too big"
  (RFC 6455 §7.4.1). ``transom demo`` passes the same figure to the server (``ws_max_size``), so
  there a message is refused while it arrives, before it is buffered whole; the check here
  holds the limit under any other server too (``TestClient``, uvicorn).
- ``/site/live`` is a page whose script (``static/live.js``; the site needs no inline script)
  opens ``/ws/echo`` on the page's own host, sends what the visitor types and shows the echoes
  and the connection's state. A logged-in visitor's page also opens ``/site/live/hello``: it
  greets the user named by the session cookie the browser sent with the handshake, and refuses
  anyone else with 403 (``@requires("login")``), which shows cookie authentication on a
  WebSocket. Without JavaScript the page says that it needs it; the rest of the site does not.
"""

from __future__ import annotations

from transom.web import Request, Response, Router, WebSocket, render
from transom.web.auth import requires

__all__ = ["MAX_MESSAGE_SIZE", "router"]

#: The largest message ``/ws/echo`` takes, in bytes (UTF-8 for text; after inflating).
MAX_MESSAGE_SIZE = 64 * 1024

router = Router()


def _too_big(message: str | bytes) -> bool:
    if isinstance(message, bytes):
        return len(message) > MAX_MESSAGE_SIZE
    # At most 4 UTF-8 bytes a character: a short message need not be encoded to be measured.
    return len(message) * 4 > MAX_MESSAGE_SIZE and len(message.encode()) > MAX_MESSAGE_SIZE


@router.websocket("/ws/echo", name="ws_echo")
async def echo(ws: WebSocket) -> None:
    await ws.accept()
    async for message in ws:
        if _too_big(message):
            await ws.close(1009, f"message too big (at most {MAX_MESSAGE_SIZE} bytes)")
            return
        if isinstance(message, str):
            await ws.send_text(message)
        else:
            await ws.send_bytes(message)


@router.websocket("/site/live/hello", name="live_hello")
@requires("login")
async def hello(ws: WebSocket) -> None:
    await ws.accept()
    await ws.send_text(f"Hello, {ws.user.username}.")
    await ws.close()


@router.get("/site/live", name="live")
async def live_page(request: Request) -> Response:
    # Paths, not URLs: the script puts ws: or wss: in front, from the page's own scheme, which
    # holds behind a TLS-terminating proxy too.
    return render(
        request,
        "site/live.html",
        echo_path=request.url_for("ws_echo").path,
        hello_path=request.url_for("live_hello").path,
        max_message_size=MAX_MESSAGE_SIZE,
    )
