// The live page (/site/live): a WebSocket to /ws/echo on this page's own host, and, for a
// logged-in visitor, one to the greeting socket, which knows the user from the session cookie
// the browser sends with the handshake. A file, not an inline script, so the site can forbid
// inline scripts with a Content-Security-Policy.
"use strict";

(function () {
  const panel = document.getElementById("live");
  if (!panel) return;
  const state = document.getElementById("live-state");
  const form = document.getElementById("live-form");
  const input = document.getElementById("live-message");
  const send = form.querySelector("button[type=submit]");
  const close = document.getElementById("live-close");
  const log = document.getElementById("live-log");

  // ws: for an http page, wss: for an https one (also behind a TLS-terminating proxy).
  function socketUrl(path) {
    const url = new URL(path, window.location.href);
    url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
    return url.href;
  }

  function note(kind, text) {
    const item = document.createElement("li");
    item.className = kind;
    item.textContent = text;
    log.append(item);
  }

  function describe(data) {
    return typeof data === "string" ? data : `(${data.byteLength} bytes)`;
  }

  // data-state (connecting, open, closed) is for the stylesheet and for tests.
  function setState(kind, text) {
    state.textContent = text;
    panel.dataset.state = kind;
    input.disabled = send.disabled = close.disabled = kind !== "open";
  }

  const echo = new WebSocket(socketUrl(panel.dataset.socket));
  echo.binaryType = "arraybuffer";
  setState("connecting", "connecting…");
  echo.addEventListener("open", () => {
    setState("open", "open");
    input.focus();
  });
  echo.addEventListener("message", (event) => note("echo", describe(event.data)));
  echo.addEventListener("close", (event) => {
    const reason = event.reason ? `, ${event.reason}` : "";
    setState("closed", `closed (code ${event.code}${reason})`);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (echo.readyState !== WebSocket.OPEN || !input.value) return;
    echo.send(input.value);
    note("sent", input.value);
    input.value = "";
  });
  // Leaving the page closes the socket too: the browser sends 1001, "going away".
  close.addEventListener("click", () => echo.close(1000, "closed by you"));

  const hello = document.getElementById("live-hello");
  if (hello && panel.dataset.hello) {
    const greeter = new WebSocket(socketUrl(panel.dataset.hello));
    greeter.addEventListener("message", (event) => {
      hello.textContent = event.data;
    });
    greeter.addEventListener("close", (event) => {
      if (event.code !== 1000) hello.textContent = `refused (code ${event.code})`;
    });
  }
})();
