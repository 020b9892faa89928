"""WebSockets of ``transom demo`` in a real browser: headless Debian Chromium through Playwright.

This is the interoperability test with a browser's WebSocket client. The live page
(``/site/live``) connects to ``/ws/echo``, echoes what is typed and shows the connection's state,
including the close when the user closes it or the server goes away; a logged-in visitor is
greeted by a second socket that knows them from the session cookie sent with the handshake. Raw
``new WebSocket(url)`` calls in the page check what the page's script does not show: binary
messages as ``ArrayBuffer``, permessage-deflate negotiated (Chromium offers it, RFC 7692), and a
page of another origin refused (RFC 6455 §10.2).

The browser and ``demo`` fixtures are those of ``test_browser``: same Chromium, same set-up.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from .conftest import DemoProcess, clean_env, running_demo
from .test_browser import browser, demo, new_page, register

__all__ = ["browser", "demo"]  # fixtures, imported to be used here

# A browser's launch (LAUNCH_TIMEOUT_MS in test_browser) fits in the test's time.
pytestmark = pytest.mark.timeout(180)

ROUND_TRIP = """async (url) => {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const early = (reject) => (event) => reject(new Error(`closed: ${event.code} ${event.reason}`));
  const receive = () => new Promise((resolve, reject) => {
    ws.onmessage = (event) => resolve(event.data);
    ws.onclose = early(reject);
  });
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onclose = early(reject); });
  const sent = new Uint8Array(60000);  // under the demo's 64 KiB, over a 16-bit frame length
  for (let i = 0; i < sent.length; i++) sent[i] = (i * 7) % 256;
  let next = receive();
  ws.send(sent.buffer);
  const data = await next;
  next = receive();
  ws.send("κόσμε");
  const text = await next;
  const closed = new Promise((resolve) => { ws.onclose = resolve; });
  ws.close(1000, "done");
  const close = await closed;
  const got = new Uint8Array(data);
  return {
    extensions: ws.extensions,
    isArrayBuffer: data instanceof ArrayBuffer,
    same: got.length === sent.length && got.every((byte, i) => byte === sent[i]),
    text: text,
    closeCode: close.code,
    wasClean: close.wasClean,
  };
}"""

REFUSED = """async (url) => {
  const ws = new WebSocket(url);
  return await new Promise((resolve) => {
    ws.onopen = () => resolve({ opened: true });
    ws.onclose = (event) => resolve({ opened: false, code: event.code });
  });
}"""


@pytest.fixture
def own_demo(tmp_path: Path) -> Iterator[DemoProcess]:
    """A ``transom demo`` of the test's own, for a test that stops it."""
    argv = [
        sys.executable,
        "-m",
        "transom",
        "demo",
        "--port",
        "0",
        "--data-dir",
        str(tmp_path / "d"),
    ]
    with running_demo(
        argv, cwd=tmp_path, env=clean_env(tmp_path / "home"), ready_path="/healthz"
    ) as process:
        yield process


def open_live_page(page: Page, base: str) -> None:
    response = page.goto(f"{base}/site/live")
    assert response is not None and response.status == 200
    page.wait_for_selector("#live[data-state=open]")


def send_message(page: Page, text: str) -> None:
    page.fill("#live-message", text)
    page.click("#live-form button[type=submit]")


def watch_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_browser_live_page_echoes_and_shows_the_close_when_the_user_closes(
    demo: DemoProcess, browser: Browser
) -> None:
    context, page = new_page(browser)
    errors = watch_errors(page)
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    open_live_page(page, demo.url)
    assert sockets == [f"ws://127.0.0.1:{demo.port}/ws/echo"]
    assert page.inner_text("#live-state") == "open"

    for text in ("hello from Chromium", "κόσμε <b>not bold</b>"):
        send_message(page, text)
        page.locator("#live-log li.echo", has_text=text).wait_for()
    assert page.locator("#live-log li.echo").all_inner_texts() == [
        "hello from Chromium",
        "κόσμε <b>not bold</b>",  # shown as text, never as HTML
    ]
    assert page.locator("#live-log b").count() == 0

    page.click("#live-close")
    page.wait_for_selector("#live[data-state=closed]")
    # The server echoes the code of the browser's close frame (RFC 6455 §5.5.1).
    assert page.inner_text("#live-state").startswith("closed (code 1000")
    assert page.is_disabled("#live-message")
    assert errors == []
    context.close()


def test_browser_live_page_greets_the_logged_in_user(demo: DemoProcess, browser: Browser) -> None:
    context, page = new_page(browser)
    errors = watch_errors(page)
    open_live_page(page, demo.url)
    assert page.locator("#live-hello").count() == 0  # no greeting socket for a visitor
    register(page, demo.url, "erin")  # registering logs in
    open_live_page(page, demo.url)
    page.locator("#live-hello", has_text="Hello, erin.").wait_for()
    send_message(page, "still echoing")
    page.locator("#live-log li.echo", has_text="still echoing").wait_for()
    assert errors == []
    context.close()


def test_browser_raw_websocket_binary_round_trip_with_permessage_deflate(
    demo: DemoProcess, browser: Browser
) -> None:
    context, page = new_page(browser)
    page.goto(f"{demo.url}/")
    result: dict[str, Any] = page.evaluate(ROUND_TRIP, f"ws://127.0.0.1:{demo.port}/ws/echo")
    assert result["extensions"].startswith("permessage-deflate")
    assert result["isArrayBuffer"] is True
    assert result["same"] is True
    assert result["text"] == "κόσμε"
    assert (result["closeCode"], result["wasClean"]) == (1000, True)
    context.close()


def test_browser_raw_websocket_from_another_origin_is_refused(
    demo: DemoProcess, browser: Browser
) -> None:
    """A page at http://localhost:PORT is another origin than the socket's 127.0.0.1:PORT."""
    context, page = new_page(browser)
    page.goto(f"http://localhost:{demo.port}/")
    refused = page.evaluate(REFUSED, f"ws://127.0.0.1:{demo.port}/ws/echo")
    assert refused == {"opened": False, "code": 1006}  # what a page sees of a 403
    allowed = page.evaluate(REFUSED, f"ws://localhost:{demo.port}/ws/echo")
    assert allowed == {"opened": True}
    context.close()


def test_browser_live_page_shows_the_close_when_the_server_goes_away(
    own_demo: DemoProcess, browser: Browser
) -> None:
    context, page = new_page(browser)
    errors = watch_errors(page)
    open_live_page(page, own_demo.url)
    send_message(page, "before the shutdown")
    page.locator("#live-log li.echo", has_text="before the shutdown").wait_for()

    assert own_demo.stop() == 0  # Ctrl-C: a graceful shutdown closes WebSockets with 1001
    page.wait_for_selector("#live[data-state=closed]")
    assert page.inner_text("#live-state").startswith("closed (code 1001")
    assert page.is_disabled("#live-form button[type=submit]")
    assert errors == []
    context.close()
