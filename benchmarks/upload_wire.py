"""A 1 MiB file upload over the wire: Transom's App on its server against Starlette on uvicorn.

Each server runs in its own process on 127.0.0.1 (a free port): ``transom
run`` for the apps of ``benchmarks/upload.py``, and uvicorn with httptools
and uvloop for the Starlette ones. One client, the same for both, sends the
same pre-encoded ``multipart/form-data`` request ``--count`` times over one
keep-alive connection with a plain socket, reading each response before the
next request; so a figure is the server's and the framework's time to take
a 1 MiB body off the socket, parse it (``/parse``) and also write the file
to disk (``/save``, ``/save-new``: see ``benchmarks/upload.py``). Reported
per scenario: uploads per second for each (median of ``--rounds``; within
a round the servers take turns in batches of ten uploads, so that load from
elsewhere on the machine falls on both), the spread of the rounds, and the
ratio.

    python benchmarks/upload_wire.py [--size 1048576] [--count 300] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import free_port
from starlette.applications import Starlette
from upload import SCENARIOS, report, starlette_app, transom_app

from transom import App
from transom.http.multipart import MultipartEncoder

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent


def transom_factory() -> App:
    """The Transom app, saving into ``$UPLOAD_DIR`` (``transom run --factory``)."""
    return transom_app(Path(os.environ["UPLOAD_DIR"]))


def starlette_factory() -> Starlette:
    """The Starlette app, saving into ``$UPLOAD_DIR`` (``uvicorn --factory``)."""
    return starlette_app(Path(os.environ["UPLOAD_DIR"]))


def start(name: str, directory: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    if name == "transom":
        command = [str(VENV_BIN / "transom"), "run", "upload_wire:transom_factory", "--factory"]
        command += ["--app-dir", str(HERE), "--port", str(port), "--no-access-log"]
    else:
        command = [str(VENV_BIN / "uvicorn"), "upload_wire:starlette_factory", "--factory"]
        command += ["--app-dir", str(HERE), "--port", str(port), "--no-access-log"]
        command += ["--http", "httptools", "--loop", "uvloop", "--log-level", "warning"]
    env = {**os.environ, "UPLOAD_DIR": str(directory)}
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"{name} did not start listening on port {port}")


def read_response(sock: socket.socket, pending: bytearray) -> int:
    """Read one response off ``sock`` (``pending`` holds bytes read past it); its status."""
    while b"\r\n\r\n" not in pending:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        pending += data
    end = pending.index(b"\r\n\r\n") + 4
    head = bytes(pending[:end]).decode("latin-1").split("\r\n")
    length = 0
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    while len(pending) < end + length:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        pending += data
    del pending[: end + length]
    return int(head[0].split()[1])


BATCH = 10  # uploads per turn: the servers take turns, so a load spike hits both


def upload(sock: socket.socket, pending: bytearray, request: bytes) -> None:
    sock.sendall(request)
    status = read_response(sock, pending)
    if status != 200:
        raise SystemExit(f"upload answered {status}")


def measure(ports: dict[str, int], request: bytes, count: int) -> dict[str, float]:
    """Uploads per second for each server, taking turns in batches of ``BATCH``."""
    sockets = {name: socket.create_connection(("127.0.0.1", port)) for name, port in ports.items()}
    pending = {name: bytearray() for name in ports}
    spent = dict.fromkeys(ports, 0.0)
    batches = max(1, count // BATCH)
    try:
        for name, sock in sockets.items():
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for _ in range(5):
                upload(sock, pending[name], request)
        for _ in range(batches):
            for name, sock in sockets.items():
                start = time.perf_counter()
                for _ in range(BATCH):
                    upload(sock, pending[name], request)
                spent[name] += time.perf_counter() - start
    finally:
        for sock in sockets.values():
            sock.close()
    return {name: batches * BATCH / seconds for name, seconds in spent.items()}


def build_request(path: str, size: int) -> bytes:
    encoder = MultipartEncoder(
        [("title", "holiday photos")], [("file", ("photo.jpg", os.urandom(size), "image/jpeg"))]
    )
    body = b"".join(encoder)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: {encoder.content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def main(size: int, count: int, rounds: int) -> None:
    scenarios = SCENARIOS
    requests = {scenario: build_request(f"/{scenario}", size) for scenario in scenarios}
    rates: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        servers = {}
        try:
            for name in ("transom", "starlette"):
                directory = Path(tmp, name)
                directory.mkdir()
                servers[name] = start(name, directory)
            ports = {name: port for name, (_, port) in servers.items()}
            for _ in range(rounds):
                for scenario in scenarios:
                    for name, rate in measure(ports, requests[scenario], count).items():
                        rates.setdefault((scenario, name), []).append(rate)
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait(10)
    mib = size / 2**20
    title = f"upload of {mib:.2f} MiB over the wire, {count} per round, median of {rounds} rounds"
    report(rates, scenarios, title, size)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024 * 1024)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    main(args.size, args.count, args.rounds)
