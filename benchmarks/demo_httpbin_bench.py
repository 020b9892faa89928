"""Benchmark: ``GET /get`` on the demo's httpbin API against httpbin itself.

- ``transom``: ``transom.demo.httpbin.router()`` in an ``App``, served by
  ``transom run --workers 1`` (the factory below);
- ``httpbin``: httpbin 0.10 (the Flask app from PyPI) on gunicorn, one sync
  worker, as httpbin's own image runs it (there with more workers).

Each server is pinned to CPU 0 and ``wrk`` to CPU 1; the servers take
turns, ``--rounds`` times (3 by default), each after a warm-up. Printed:
requests per second per round, the median, and ours over httpbin's.
Needs ``wrk``, ``taskset``, and ``httpbin`` and ``gunicorn`` in the venv::

    .venv/bin/python benchmarks/demo_httpbin_bench.py [--duration 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent


def create_app() -> object:
    """The factory ``transom run`` serves: the httpbin router, nothing else."""
    from transom import App
    from transom.demo.httpbin import router

    app = App()
    app.include(router())
    return app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def command_for(name: str, port: int) -> list[str]:
    pin = ["taskset", "-c", "0"]
    if name == "transom":
        return [
            *pin,
            str(VENV_BIN / "transom"),
            "run",
            "demo_httpbin_bench:create_app",
            "--factory",
            "--app-dir",
            str(HERE),
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    return [
        *pin,
        str(VENV_BIN / "gunicorn"),
        "--workers",
        "1",
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "httpbin:app",
    ]


def start(name: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    process = subprocess.Popen(command_for(name, port), env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with status {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    stop(process)
    raise SystemExit(f"{name} did not start listening on port {port}")


def stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    except ProcessLookupError:
        process.wait(10)


def check(name: str, port: int) -> None:
    """Both must answer ``/get`` with httpbin's JSON before they are measured."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://127.0.0.1:{port}/get?x=1", timeout=5) as response:
        body = json.loads(response.read())
    if response.status != 200 or body.get("args") != {"x": "1"}:
        raise SystemExit(f"{name}: unexpected answer to /get: {body!r}")


def wrk(port: int, seconds: int, connections: int) -> tuple[float, list[str]]:
    command = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    command.append(f"http://127.0.0.1:{port}/get")
    output = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
    notes = [
        found[0]
        for pattern in (r"Non-2xx or 3xx responses: \d+", r"Socket errors: [^\n]+")
        if (found := re.search(pattern, output))
    ]
    return rps, notes


def main(args: argparse.Namespace) -> None:
    names = ["transom", "httpbin"]
    results: dict[str, list[float]] = {name: [] for name in names}
    print(f"GET /get; {args.rounds} rounds; wrk -t1 -c{args.connections} -d{args.duration}s")
    print("server on CPU 0, wrk on CPU 1; transom: 1 worker; httpbin: gunicorn, 1 sync worker")
    for round_number in range(1, args.rounds + 1):
        order = names if round_number % 2 else names[::-1]
        for name in order:
            process, port = start(name)
            try:
                check(name, port)
                wrk(port, args.warmup, args.connections)
                rps, notes = wrk(port, args.duration, args.connections)
            finally:
                stop(process)
            results[name].append(rps)
            extra = f"  ({'; '.join(notes)})" if notes else ""
            print(f"round {round_number}  {name:8} {rps:10.0f} req/s{extra}", flush=True)
    medians = {name: statistics.median(values) for name, values in results.items()}
    print()
    for name in names:
        rounds = ", ".join(f"{v:.0f}" for v in results[name])
        print(f"{name:8} median {medians[name]:10.0f} req/s   rounds: {rounds}")
    print(f"ratio transom / httpbin: {medians['transom'] / medians['httpbin']:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per run")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of warm-up per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    main(parser.parse_args())
