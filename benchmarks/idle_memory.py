"""Memory per idle keep-alive connection: transom against uvicorn, same raw ASGI app.

Each server runs in its own process. The script measures the server's RSS,
opens N connections that each make one request (so the connection is fully
set up and kept alive), waits for the server to settle, measures RSS again
and reports the growth per connection.

    python benchmarks/idle_memory.py --connections 5000

Needs ``uvicorn`` and ``httptools`` (dev dependencies). The file-descriptor
limit is raised as far as the hard limit allows; the servers inherit it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _harness import free_port

HERE = Path(__file__).resolve().parent
REQUEST = b"GET /plaintext HTTP/1.1\r\nHost: bench\r\n\r\n"


def commands(port: int) -> dict[str, list[str]]:
    bindir = Path(sys.executable).parent
    transom = [str(bindir / "transom"), "run", "apps.raw_app:app", "--app-dir", str(HERE)]
    transom += ["--port", str(port), "--no-access-log", "--keep-alive-timeout", "600"]
    uvicorn = [shutil.which("uvicorn", path=str(bindir)) or "uvicorn", "apps.raw_app:app"]
    uvicorn += ["--app-dir", str(HERE), "--port", str(port), "--no-access-log"]
    uvicorn += ["--http", "httptools", "--loop", "uvloop", "--timeout-keep-alive", "600"]
    return {"transom": transom, "uvicorn": uvicorn}


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def wait_ready(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return
    raise RuntimeError(f"server on port {port} did not start")


async def open_idle(port: int, count: int, batch: int = 250) -> list[asyncio.StreamWriter]:
    writers: list[asyncio.StreamWriter] = []

    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(REQUEST)
        await reader.readuntil(b"Hello, World!")
        writers.append(writer)

    for start in range(0, count, batch):
        await asyncio.gather(*(one() for _ in range(min(batch, count - start))))
    return writers


async def measure(name: str, command: list[str], port: int, count: int) -> float:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        await wait_ready(port)
        await open_idle(port, 10)  # warm up: imports and first-request allocations
        await asyncio.sleep(0.5)
        before = rss_kib(process.pid)
        writers = await open_idle(port, count)
        await asyncio.sleep(1.0)
        after = rss_kib(process.pid)
        per_connection = (after - before) * 1024 / count
        print(f"{name:8} rss {before} KiB -> {after} KiB: {per_connection:,.0f} bytes/connection")
        for writer in writers:
            writer.close()
        return per_connection
    finally:
        process.terminate()
        process.wait(10)


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < needed:
        sys.exit(f"RLIMIT_NOFILE hard limit {hard} is below the {needed} descriptors needed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=5000)
    args = parser.parse_args()
    raise_fd_limit(2 * args.connections + 200)
    results = {}
    for name in ("transom", "uvicorn"):
        port = free_port()
        results[name] = asyncio.run(measure(name, commands(port)[name], port, args.connections))
    ratio = results["transom"] / results["uvicorn"] if results["uvicorn"] else float("nan")
    print(f"transom/uvicorn bytes per idle connection: {ratio:.2f}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
