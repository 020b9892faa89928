"""WebSocket echo over the wire: transom's server against uvicorn (websockets) and aiohttp.

Every server runs an echo (``benchmarks/apps/ws_apps.py``): the raw ASGI
app ``echo`` on transom (``transom run``, one worker) and on uvicorn with its
``websockets`` implementation (httptools, uvloop, no access log), aiohttp's
own ``WebSocketResponse`` echo on uvloop, and, for reference, the same echo
written with the transom framework (``transom-app``). ``floor`` (not in the
default list) is no server: a blocking-socket loop that answers each frame
with the least possible work, the bound on what any server can reach on
this machine, chiefly for ``small1``, where the kernel's round trip rules.
It speaks no permessage-deflate, so it is left out of the deflate-on runs.

Scenarios (``--scenario``), each with and without permessage-deflate:

- ``small1``: one connection sends a 64-byte text message and waits for its
  echo, again and again: round trips per second;
- ``small64``: 64 connections do the same at once: messages per second;
- ``large``: one connection echoes 1 MiB binary messages (text-like, so that
  deflate has something to do): MB/s of payload echoed.

The load generator is a process of its own pinned to CPU 1 (the server to
CPU 0): raw asyncio protocols on uvloop that send pre-built masked frames
and count whole echoed messages. With deflate it offers
``permessage-deflate; client_max_window_bits`` as browsers do (context
takeover both ways), compresses each message with its own context and
inflates every answer. The first and last echo of each connection are
checked byte for byte against what was sent.

Reported per scenario: the median over rounds of each server's rate, its
ratio to uvicorn and to aiohttp in the same round, and the server's CPU
per message (user + system of its process group over the timed run).

    python benchmarks/websocket_bench.py [--rounds 3] [--duration 4]
        [--servers transom,uvicorn,aiohttp,transom-app] [--scenario small1,small64,large]
        [--deflate off,on]

aiohttp is not in the dev extra: install it into the venv first
(``pip install aiohttp``), or leave it out with ``--servers``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import statistics
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any, cast

from _harness import free_port, group_cpu, stop, wait_listening

HERE = Path(__file__).resolve().parent
APPS = HERE / "apps"
VENV_BIN = Path(sys.executable).parent
SCENARIOS = {"small1": (1, 64), "small64": (64, 64), "large": (1, 1024 * 1024)}
SERVERS = ("transom", "uvicorn", "aiohttp", "transom-app", "uvicorn-sansio", "floor")


# -- servers ----------------------------------------------------------------


def command_for(name: str, port: int, deflate: bool) -> list[str]:
    pin = ["taskset", "-c", "0"]
    if name in ("transom", "transom-app"):
        target = "ws_apps:echo" if name == "transom" else "ws_apps:framework"
        command = [*pin, str(VENV_BIN / "transom"), "run", target, "--app-dir", str(APPS)]
        command += ["--port", str(port), "--workers", "1", "--no-access-log"]
        command += ["--log-level", "warning"]
        if name == "transom-app":
            command.append("--factory")
        if not deflate:
            command.append("--no-ws-per-message-deflate")
        return command
    if name.startswith("uvicorn"):
        implementation = "websockets" if name == "uvicorn" else "websockets-sansio"
        command = [*pin, str(VENV_BIN / "uvicorn"), "ws_apps:echo", "--app-dir", str(APPS)]
        command += ["--port", str(port), "--ws", implementation, "--http", "httptools"]
        command += ["--loop", "uvloop", "--no-access-log", "--log-level", "warning"]
        command += ["--ws-per-message-deflate", "true" if deflate else "false"]
        return command
    kind = "floor" if name == "floor" else "aiohttp"
    command = [*pin, sys.executable, str(APPS / "ws_apps.py"), kind, "--port", str(port)]
    return command if deflate else [*command, "--no-deflate"]


def start(name: str, deflate: bool) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    # uvicorn warns that its `websockets` implementation is deprecated, on every start.
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    command = command_for(name, port, deflate)
    process = subprocess.Popen(command, start_new_session=True, env=env)
    wait_listening(process, name, port)
    return process, port


# -- the load generator (runs in its own process) ---------------------------


def payload_for(size: int) -> bytes:
    """Text-like bytes of ``size``: words drawn from a small vocabulary, seeded."""
    if size <= 64:
        return (b"The quick brown fox jumps over the lazy dog; 0123456789 ABCDEFGH" * 2)[:size]
    words = [b"alpha", b"beta", b"gamma", b"delta", b"omega", b"echo", b"socket", b"frame"]
    chooser = random.Random(7)
    out = bytearray()
    while len(out) < size:
        out += chooser.choice(words) + b" " + str(chooser.randrange(100000)).encode() + b" "
    return bytes(out[:size])


def mask_frame(opcode: int, payload: bytes, rsv1: bool = False) -> bytes:
    first = 0x80 | opcode | (0x40 if rsv1 else 0)
    length = len(payload)
    if length < 126:
        head = bytes([first, 0x80 | length])
    elif length < 65536:
        head = bytes([first, 0x80 | 126]) + length.to_bytes(2, "big")
    else:
        head = bytes([first, 0x80 | 127]) + length.to_bytes(8, "big")
    key = os.urandom(4)
    repeated = (key * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")).to_bytes(
        length, "little"
    )
    return head + key + masked


class EchoClient(asyncio.Protocol):
    """One connection: handshake, then send one message per echo received until told to stop."""

    def __init__(self, host: str, port: int, payload: bytes, text: bool, deflate: bool) -> None:
        self.host, self.port = host, port
        self.payload, self.opcode, self.deflate = payload, 1 if text else 2, deflate
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.handshaken = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.negotiated = False
        self.running = False
        self.count = 0
        self.fragments: list[bytes] = []
        self.compressed = False
        self.first: bytes | None = None
        self.last: bytes | None = None
        self.compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.decompressor = zlib.decompressobj(-15)
        self.frame = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        key = base64.b64encode(os.urandom(16))
        lines = [
            b"GET / HTTP/1.1",
            b"Host: %s:%d" % (self.host.encode(), self.port),
            b"Upgrade: websocket",
            b"Connection: Upgrade",
            b"Sec-WebSocket-Key: " + key,
            b"Sec-WebSocket-Version: 13",
        ]
        if self.deflate:
            lines.append(b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
        self.transport.write(b"\r\n".join(lines) + b"\r\n\r\n")

    def next_frame(self) -> bytes:
        if not self.negotiated:
            if not self.frame:
                self.frame = mask_frame(self.opcode, self.payload)
            return self.frame
        data = self.compressor.compress(self.payload) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
        return mask_frame(self.opcode, data[:-4], rsv1=True)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.handshaken.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            del self.buffer[: end + 4]
            if not head.startswith(b"http/1.1 101"):
                self.handshaken.set_exception(RuntimeError(head.decode(errors="replace")))
                return
            self.negotiated = b"permessage-deflate" in head
            self.handshaken.set_result(None)
        self._frames()

    def _frames(self) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            length = second & 0x7F
            offset = 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, offset = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, offset = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < offset + length:
                return
            chunk = bytes(buffer[offset : offset + length])
            del buffer[: offset + length]
            opcode = first & 0x0F
            if opcode >= 8:
                if opcode == 8 and not self.closed.done():
                    self.closed.set_result(None)
                continue
            if opcode:
                self.compressed = bool(first & 0x40)
            self.fragments.append(chunk)
            if first & 0x80:
                self._message(b"".join(self.fragments))
                self.fragments.clear()

    def _message(self, data: bytes) -> None:
        if self.compressed:
            data = self.decompressor.decompress(data + b"\x00\x00\xff\xff")
        self.count += 1
        if self.first is None:
            self.first = data
        self.last = data
        if self.running and self.transport is not None:
            self.transport.write(self.next_frame())

    def start(self) -> None:
        self.running = True
        assert self.transport is not None
        self.transport.write(self.next_frame())

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        if not self.handshaken.done():
            self.handshaken.set_exception(ConnectionError("closed during the handshake"))


async def load(
    port: int, connections: int, size: int, deflate: bool, duration: float
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    payload = payload_for(size)
    text = size <= 64
    clients: list[EchoClient] = []
    for _ in range(connections):
        _, client = await loop.create_connection(
            lambda: EchoClient("127.0.0.1", port, payload, text, deflate), "127.0.0.1", port
        )
        await client.handshaken
        clients.append(client)
    warmup = min(1.0, duration / 4)
    for client in clients:
        client.start()
    await asyncio.sleep(warmup)
    before = sum(client.count for client in clients)
    began = time.perf_counter()
    await asyncio.sleep(duration)
    counted = sum(client.count for client in clients) - before
    elapsed = time.perf_counter() - began
    for client in clients:
        client.running = False
    await asyncio.sleep(0.2 if size <= 64 else 1.0)
    for client in clients:
        if client.first != payload or client.last != payload:
            raise SystemExit("an echo did not match what was sent")
        if deflate and not client.negotiated:
            raise SystemExit("the server did not negotiate permessage-deflate")
        assert client.transport is not None
        client.transport.write(mask_frame(8, (1000).to_bytes(2, "big")))
    await asyncio.wait([asyncio.ensure_future(c.closed) for c in clients], timeout=2)
    for client in clients:
        if client.transport is not None:
            client.transport.close()
    return {"messages": counted, "elapsed": elapsed, "negotiated": clients[0].negotiated}


def run_load(
    port: int, connections: int, size: int, deflate: bool, duration: float
) -> dict[str, Any]:
    command = [
        "taskset", "-c", "1", sys.executable, __file__, "--load",
        json.dumps([port, connections, size, deflate, duration]),
    ]  # fmt: skip
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


# -- the driver -------------------------------------------------------------


def measure(name: str, scenario: str, deflate: bool, duration: float) -> tuple[float, float]:
    """(rate, server CPU µs per message): messages/s, or MB/s of payload for ``large``."""
    connections, size = SCENARIOS[scenario]
    process, port = start(name, deflate)
    try:
        cpu_before = group_cpu(process.pid)
        result = run_load(port, connections, size, deflate, duration)
        cpu = group_cpu(process.pid) - cpu_before
    finally:
        stop(process)
    rate = result["messages"] / result["elapsed"]
    # The CPU window covers the warm-up and drain too; count their messages at the same rate.
    total = rate * (result["elapsed"] + min(1.0, duration / 4))
    cpu_us = cpu / total * 1e6 if total else float("nan")
    if scenario == "large":
        rate = rate * size / 1e6
    return rate, cpu_us


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--servers", default="transom,uvicorn,aiohttp,transom-app")
    parser.add_argument("--scenario", default="small1,small64,large")
    parser.add_argument("--deflate", default="off,on")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.load:
        import uvloop

        port, connections, size, deflate, duration = json.loads(options.load)
        result = uvloop.run(load(port, connections, size, deflate, duration))
        print(json.dumps(result))
        return
    servers = [s for s in options.servers.split(",") if s]
    unknown = sorted(set(servers) - set(SERVERS))
    if unknown:
        raise SystemExit(f"unknown servers {unknown}; choose from {', '.join(SERVERS)}")
    seed = options.seed if options.seed is not None else random.randrange(1 << 30)
    chooser = random.Random(seed)
    print(f"seed {seed}; {options.rounds} rounds of {options.duration} s; load average "
          f"{os.getloadavg()[0]:.2f}")  # fmt: skip
    results: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    for scenario in options.scenario.split(","):
        for mode in options.deflate.split(","):
            for _ in range(options.rounds):
                order = [n for n in servers if not (n == "floor" and mode == "on")]
                chooser.shuffle(order)
                for name in order:
                    figures = measure(name, scenario, mode == "on", options.duration)
                    results.setdefault((scenario, mode, name), []).append(figures)
            unit = "MB/s" if scenario == "large" else "msg/s"
            print(f"\n{scenario}, deflate {mode} ({unit}, median of {options.rounds}):")
            for name in servers:
                if (scenario, mode, name) not in results:
                    continue
                runs = results[(scenario, mode, name)]
                rate = statistics.median(r for r, _ in runs)
                cpu = statistics.median(c for _, c in runs)
                ratios = []
                for peer in ("uvicorn", "aiohttp"):
                    if peer in servers and peer != name:
                        per_round = [
                            mine / theirs
                            for (mine, _), (theirs, _) in zip(
                                runs, results[(scenario, mode, peer)], strict=True
                            )
                        ]
                        ratios.append(f"x{statistics.median(per_round):.2f} {peer}")
                print(f"  {name:14} {rate:12,.1f}  cpu {cpu:8.1f} µs/msg  {'  '.join(ratios)}")
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
