"""``transom demo`` as a user runs it: a child process that serves, then stops on a signal."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

SERVING = re.compile(r"serving on http://127\.0\.0\.1:(\d+)")


def environment(home: Path) -> dict[str, str]:
    """The child's environment, independent of the caller's (no proxies, UTC, C locale)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TZ": "UTC",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Demo:
    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process, self.log = process, log

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def port(self, known: int | None = None) -> int:
        """The port it serves on, once it answers; from its log line when it chose one."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"exited early:\n{self.output()}"
            match = SERVING.search(self.output())
            if match or known:
                port = known or int(match.group(1))  # type: ignore[union-attr]
                try:
                    get(port, "/healthz")
                    return port
                except OSError:
                    pass
            time.sleep(0.05)
        raise AssertionError(f"transom demo did not start:\n{self.output()}")

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        try:
            return self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"transom demo ignored signal {signum}:\n{self.output()}"
            ) from None


@contextmanager
def demo(cwd: Path, args: Sequence[str]) -> Iterator[Demo]:
    log = cwd / "demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "transom", "demo", *args],
            cwd=cwd,
            env=environment(cwd),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
    try:
        yield Demo(process, log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_cli_demo_serves_and_stops_cleanly(tmp_path: Path, signum: int) -> None:
    with demo(tmp_path, ["--port", "0", "--no-access-log"]) as running:
        port = running.port()
        status, body = get(port, "/site/")
        assert status == 200 and b"Notes" in body
        status, body = get(port, "/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        assert get(port, "/get")[0] == 200
        assert running.stop(signum) == 0
        output = running.output()
    assert (tmp_path / ".transom-demo" / "secret_key").is_file()  # the default data dir
    assert "Three things to try:" in output
    assert "transom http :PORT/get" in output
    assert "/site/" in output and "curl" in output


def test_cli_demo_workers_share_users_and_sessions(tmp_path: Path) -> None:
    port = free_port()
    args = ["--port", str(port), "--workers", "2", "--data-dir", str(tmp_path / "data")]
    with demo(tmp_path, args) as running:
        running.port(known=port)
        statuses = {get(port, "/healthz")[0] for _ in range(10)}
        assert statuses == {200}
        assert running.stop(signal.SIGINT) == 0
    assert f"Transom demo on http://127.0.0.1:{port}" in running.output()
    assert f"transom http :{port}/get" in running.output()


def test_cli_demo_refuses_half_a_tls_setting(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "transom", "demo", "--ssl-certfile", "cert.pem"],
        cwd=tmp_path,
        env=environment(tmp_path),
        capture_output=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert b"--ssl-certfile and --ssl-keyfile together" in result.stderr
    assert not (tmp_path / ".transom-demo").exists()
