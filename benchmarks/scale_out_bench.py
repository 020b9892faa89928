"""Requests per second through nginx for a logged-in notes page, and a Redis round trip.

Setups, each behind nginx configured by ``docs/deploy.md`` (the same config
``tests/integration/test_scale_out.py`` runs), users and notes in the local
PostgreSQL (a fresh schema), sessions in a ``redis-server`` of our own:

- one ``transom demo`` instance;
- two instances;
- one instance with ``--workers 2``.

A user registers, logs in and writes 20 notes; ``wrk`` then sends
``GET /site/notes`` with that session cookie (``-t1 -c32``, a 3 s warm-up,
then ``--seconds``). Everything (nginx, the instances, PostgreSQL, Redis,
wrk) shares this machine's cores: the figures compare setups on one
machine; they do not measure what separate machines would add.

Then, in-process: the cost of one session read (``store.load``) against
``RedisStore`` (the local Redis at 127.0.0.1:6379) and ``SQLiteStore``
(a file in a temp dir), sequential calls, microseconds per call.

    .venv/bin/python benchmarks/scale_out_bench.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.demo.test_site_support import POSTGRES_DSN, SiteUser
from tests.integration.test_scale_out import Demo, Nginx, RedisServer, stop

from transom.client import Client
from transom.web.sessions import RedisStore, SQLiteStore

REQUESTS = re.compile(r"Requests/sec:\s+([\d.]+)")


def wrk(url: str, cookie: str, seconds: int) -> float:
    base = ["wrk", "-t1", "-c32", "-H", f"Cookie: session={cookie}"]
    subprocess.run([*base, "-d3s", url], capture_output=True, check=True)
    out = subprocess.run([*base, f"-d{seconds}s", url], capture_output=True, check=True, text=True)
    match = REQUESTS.search(out.stdout)
    assert match is not None, out.stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    assert errors is None, out.stdout
    return float(match.group(1))


def setup(root: Path, name: str, instances: int, workers: int, seconds: int) -> float:
    schema = "transom_bench_" + secrets.token_hex(4)
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{POSTGRES_DSN}?options=-csearch_path%3D{schema}"
    here = root / name
    here.mkdir()
    redis = RedisServer(here)
    key = secrets.token_urlsafe(32)
    extra = ("--workers", str(workers)) if workers > 1 else ()
    demos: list[Demo] = []
    nginx = None
    try:
        demos.extend(Demo(here / f"demo{n}", key, url, redis.url, *extra) for n in range(instances))
        ports = (demos[0].port, demos[-1].port)
        nginx = Nginx(here / "nginx", ports)
        with Client(base_url=nginx.url, trust_env=False) as client:
            user = SiteUser(client, "bench")
            assert user.register().status_code == 303
            for n in range(20):
                user.new_note_id(f"note {n}", body="benchmark")
            cookie = client.cookies["session"]
        return wrk(f"{nginx.url}/site/notes", cookie, seconds)
    finally:
        if nginx is not None:
            nginx.stop()
        for demo in demos:
            stop(demo.process)
        redis.stop()
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


async def round_trip(store: RedisStore | SQLiteStore, calls: int) -> float:
    session_id = secrets.token_urlsafe(32)
    await store.save(session_id, b'{"user": 1}', 3600)
    for _ in range(200):
        await store.load(session_id)
    started = time.perf_counter()
    for _ in range(calls):
        await store.load(session_id)
    elapsed = time.perf_counter() - started
    await store.delete(session_id)
    await store.close()
    return elapsed / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, instances, workers in (
            ("one instance", 1, 1),
            ("two instances", 2, 1),
            ("one instance, --workers 2", 1, 2),
        ):
            rate = setup(
                root, name.replace(" ", "_").replace(",", ""), instances, workers, args.seconds
            )
            print(f"{name:28} {rate:8.0f} req/s  (GET /site/notes through nginx)")
        redis_us = asyncio.run(round_trip(RedisStore(prefix="bench:"), 5000))
        sqlite_us = asyncio.run(round_trip(SQLiteStore(root / "sessions.db"), 5000))
    print(f"session read, RedisStore (local Redis): {redis_us:6.1f} us per call")
    print(f"session read, SQLiteStore (temp file):   {sqlite_us:6.1f} us per call")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
