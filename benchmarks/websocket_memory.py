"""WebSocket memory per connection with permessage-deflate: transom against uvicorn and aiohttp.

Each server runs the echo of ``websocket_bench.py`` (same commands, pinned
to CPU 0). The load generator opens ``--connections`` WebSockets that
negotiate permessage-deflate as a browser does (``client_max_window_bits``
offered, context takeover both ways), then each sends one message of
``--size`` bytes of text-like data, compressed, and waits for its echo;
then all stay open and idle. Reported: the RSS of the server's process
group before, after the handshakes and after the messages, per connection.

A server that takes the context over keeps a compressor and a
decompressor per connection for as long as it lives: that, not the
message, is what the second figure measures.

    python benchmarks/websocket_memory.py [--servers transom,uvicorn,aiohttp]
        [--connections 1000] [--size 1024]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
from typing import Any

from _harness import stop
from websocket_bench import SERVERS, EchoClient, payload_for, start


def group_rss_kib(pgid: int) -> int:
    """KiB resident in the processes of group ``pgid``."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.getpgid(int(pid)) != pgid:
                continue
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except (OSError, ValueError):
            continue  # gone meanwhile
    return total


async def measure(port: int, pgid: int, connections: int, size: int) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    payload = payload_for(size)
    before = group_rss_kib(pgid)
    clients: list[EchoClient] = []
    for _ in range(connections):
        _, client = await loop.create_connection(
            lambda: EchoClient("127.0.0.1", port, payload, True, True), "127.0.0.1", port
        )
        await client.handshaken
        clients.append(client)
    await asyncio.sleep(0.5)
    connected = group_rss_kib(pgid)
    for client in clients:
        client.start()  # one message; the echo stops it (running is cleared below)
    await asyncio.sleep(1.0)
    for client in clients:
        client.running = False
    await asyncio.sleep(1.0)
    if not all(client.count >= 1 and client.last == payload for client in clients):
        raise SystemExit("not every connection had its message echoed")
    if not all(client.negotiated for client in clients):
        raise SystemExit("the server did not negotiate permessage-deflate")
    after = group_rss_kib(pgid)
    for client in clients:
        if client.transport is not None:
            client.transport.close()
    return {"before": before, "connected": connected, "after": after}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--servers", default="transom,uvicorn,aiohttp")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--size", type=int, default=1024)
    options = parser.parse_args()
    servers = [name for name in options.servers.split(",") if name]
    unknown = sorted(set(servers) - set(SERVERS) - {"floor"})
    if unknown or "floor" in servers:
        raise SystemExit(f"unknown servers {unknown or ['floor']}; choose from {SERVERS[:4]}")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one socket per connection
    n = options.connections
    print(f"{n} connections, one {options.size}-byte message each, permessage-deflate on")
    print(f"  {'server':14} {'KiB/conn connected':>20} {'+ after a message':>18} {'RSS MiB':>9}")
    for name in servers:
        process, port = start(name, True)
        try:
            figures = asyncio.run(measure(port, process.pid, n, options.size))
        finally:
            stop(process)
        connected = (figures["connected"] - figures["before"]) / n
        message = (figures["after"] - figures["connected"]) / n
        total = figures["after"] / 1024
        print(f"  {name:14} {connected:20.1f} {message:18.1f} {total:9.1f}")


if __name__ == "__main__":
    main()
