"""Running ``transom demo`` as a child process for the browser and README tests.

The child gets an environment built here, not the caller's: no proxy variables, its own HOME and
TMPDIR under the test's temp dir, UTC and a UTF-8 C locale.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
# The server's start-up log line names the port it bound (the tests pass ``--port 0``).
SERVING = re.compile(r"serving on http://127\.0\.0\.1:(\d+)")


def clean_env(home: Path) -> dict[str, str]:
    """A child's environment that does not depend on the caller's."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        "TMPDIR": str(home),
        "TZ": "UTC",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_PROXY": "*",
        "no_proxy": "*",
    }


def http_get(port: int, path: str, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """``GET path`` on 127.0.0.1:port straight over a socket (no proxy can intervene)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": "application/json"})
        response = conn.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, response.read()
    finally:
        conn.close()


class DemoProcess:
    """A running ``transom demo`` child; its output goes to ``log`` (read on failure)."""

    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self, path: str) -> None:
        """Until the port is logged and ``GET path`` answers 200; fails with the child's output."""
        deadline = time.monotonic() + START_TIMEOUT
        last_error = "no port in the log"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"transom demo exited with {self.process.returncode}:\n{self.output()}"
                )
            if not self.port:
                match = SERVING.search(self.output())
                if match:
                    self.port = int(match.group(1))
            if self.port:
                try:
                    status, _, _ = http_get(self.port, path, timeout=2.0)
                except OSError as exc:
                    last_error = repr(exc)
                else:
                    if status == 200:
                        return
                    last_error = f"GET {path} answered {status}"
            time.sleep(0.05)
        raise AssertionError(
            f"transom demo not ready after {START_TIMEOUT} s ({last_error}):\n{self.output()}"
        )

    def stop(self) -> int:
        """Ctrl-C, as a user stops it; killed if it does not exit in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        return self.process.returncode


@contextmanager
def running_demo(
    argv: Sequence[str], *, cwd: Path, env: dict[str, str], ready_path: str = "/get"
) -> Iterator[DemoProcess]:
    """Start ``argv`` (a ``transom demo`` command with ``--port 0``) in ``cwd``; wait until it
    serves; stop it with Ctrl-C."""
    log = cwd / "demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
    demo = DemoProcess(process, log)
    try:
        demo.wait_ready(ready_path)
        yield demo
    finally:
        demo.stop()
