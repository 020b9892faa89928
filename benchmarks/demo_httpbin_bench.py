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
import statistics
import subprocess
import sys
import urllib.request
from pathlib import Path

from _harness import free_port, parse_wrk, run_wrk, stop, wait_listening

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent


def create_app() -> object:
    """The factory ``transom run`` serves: the httpbin router, nothing else."""
    from transom import App
    from transom.demo.httpbin import router

    app = App()
    app.include(router())
    return app


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
    wait_listening(process, name, port)
    return process, port


def check(name: str, port: int) -> None:
    """Both must answer ``/get`` with httpbin's JSON before they are measured."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://127.0.0.1:{port}/get?x=1", timeout=5) as response:
        body = json.loads(response.read())
    if response.status != 200 or body.get("args") != {"x": "1"}:
        raise SystemExit(f"{name}: unexpected answer to /get: {body!r}")


def wrk(port: int, seconds: int, connections: int) -> tuple[float, list[str]]:
    """Requests per second of one wrk run against ``/get``, and wrk's notes of errors."""
    result = parse_wrk(run_wrk(f"http://127.0.0.1:{port}/get", seconds, connections))
    return result.rps, list(result.problems)


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
