"""A request that reads and writes the session, over the wire: each session store against Starlette.

Every server runs the one route of ``benchmarks/apps/session_apps.py``:
``GET /session`` adds one to ``session["n"]`` and answers ``{"n": n}``.
Transom's App runs on its own server (``transom run``, one worker) with
``CookieStore`` (the default), ``SQLiteStore`` (a file in a temporary
folder), ``RedisStore`` (the local Redis, a key prefix of its own per run)
and ``MemoryStore``; the baseline is Starlette with its ``SessionMiddleware``
(an itsdangerous signed cookie) on uvicorn (httptools, uvloop, no access
log).

Method, per round (``--rounds``, the order of the servers shuffled per
round, the seed printed): the server is started pinned to CPU 0; one first
request without a cookie gets a session cookie; that cookie is checked
(below); ``wrk`` pinned to CPU 1 sends ``GET /session`` with that one
``Cookie`` header, a warm-up then the timed run (``-t1 -c64``); the check
runs again after the load; the server is stopped. The checks make sure
every server does the read and the write on every request:

- cookie stores (transom ``CookieStore``, Starlette): each request with the
  first cookie (``n`` = 1) answers ``n`` = 2 and carries a ``Set-Cookie``
  whose payload decodes to ``{"n": 2}``;
- server-side stores: two requests with the cookie answer ``n`` = 2 then 3,
  with no ``Set-Cookie`` (the signed id stays; only the record is written);
  after the load ``n`` has grown by at least the requests wrk counted;
- a tampered cookie is a new session (``n`` = 1) everywhere.

Reported per server: median req/s, the median over rounds of the ratio to
Starlette in the same round, the server's CPU per request (user + system
of its process group over the timed run, kernel included), Redis's own
CPU per request for ``RedisStore``, p99 latency, the load average and the
CPU used by anything else during each timed run (``others``, in % of one
core: a run above 30% is repeated once, the quieter try kept).

    python benchmarks/sessions_bench.py [--rounds 3] [--duration 5] [--warmup 2]
        [--servers cookie,sqlite,redis,memory,starlette] [--seed N] [--max-minutes 10]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from _harness import (
    TICK,
    children_cpu,
    free_port,
    group_cpu,
    parse_wrk,
    process_cpu,
    run_wrk,
    stop,
    wait_listening,
)

HERE = Path(__file__).resolve().parent
APPS = HERE / "apps"
VENV_BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/0"
BASELINE = "starlette"
SETTLE = 0.5  # seconds for requests still in the server when wrk stops
NOISY = 0.30  # of one core, used by neither server, wrk nor Redis

# name -> (factory in session_apps, server-side store?)
SERVERS = {
    "cookie": ("cookie_app", False),
    "sqlite": ("sqlite_app", True),
    "redis": ("redis_app", True),
    "memory": ("memory_app", True),
    "starlette": ("starlette_app", False),
}
LABELS = {
    "cookie": "transom CookieStore",
    "sqlite": "transom SQLiteStore",
    "redis": "transom RedisStore",
    "memory": "transom MemoryStore",
    "starlette": "Starlette SessionMiddleware / uvicorn",
}


@dataclass
class Run:
    rps: float
    requests: int
    cpu_us: float
    store_us: float | None
    p99_ms: float | None
    others: float
    load: float
    notes: list[str] = field(default_factory=list)


# -- processes and CPU ------------------------------------------------------


def command_for(name: str, port: int) -> list[str]:
    factory = SERVERS[name][0]
    pin = ["taskset", "-c", "0"]
    common = ["--factory", "--app-dir", str(APPS), "--port", str(port), "--no-access-log"]
    if name == BASELINE:
        return [
            *pin,
            str(VENV_BIN / "uvicorn"),
            f"session_apps:{factory}",
            *common,
            "--http",
            "httptools",
            "--loop",
            "uvloop",
            "--log-level",
            "warning",
        ]
    return [
        *pin,
        str(VENV_BIN / "transom"),
        "run",
        f"session_apps:{factory}",
        *common,
        "--workers",
        "1",
        "--log-level",
        "warning",
    ]


def start(name: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(command_for(name, port), env=env, start_new_session=True)
    wait_listening(process, name, port)
    return process, port


def redis_pid() -> str | None:
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "redis-server":
                    return pid
            except OSError:
                continue
    return None


def pid_cpu(pid: str | None) -> float:
    return 0.0 if pid is None else process_cpu(pid)


def machine_busy() -> float:
    """Seconds of CPU used so far on the machine, all cores (not idle, not iowait)."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / TICK


# -- checks -----------------------------------------------------------------


def get(port: int, cookie: str | None) -> tuple[int, int | None, list[str], list[str]]:
    """``GET /session``: status, ``n``, the Set-Cookie values for ``session``, Vary values."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {} if cookie is None else {"Cookie": f"session={cookie}"}
        connection.request("GET", "/session", headers=headers)
        response = connection.getresponse()
        body = response.read()
        set_cookies = [
            value.split(";", 1)[0].partition("=")[2]
            for value in response.headers.get_all("set-cookie") or []
            if value.startswith("session=")
        ]
        vary = response.headers.get_all("vary") or []
    finally:
        connection.close()
    n = json.loads(body).get("n") if response.status == 200 else None
    return response.status, n, set_cookies, vary


def cookie_data(name: str, value: str) -> object:
    """What a cookie store's cookie holds (the check reads it; it does not verify it)."""
    if name == BASELINE:  # itsdangerous TimestampSigner: base64(json).timestamp.signature
        text = value.split(".", 1)[0]
        return json.loads(base64.b64decode(text + "=" * (-len(text) % 4)))
    body = value.rpartition(".")[0]  # transom: base64url([created, last_seen, data]).mac
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))[2]


def first_cookie(name: str, port: int) -> str:
    status, n, cookies, _ = get(port, None)
    if status != 200 or n != 1 or len(cookies) != 1:
        raise SystemExit(f"{name}: the first request answered {status}, n={n}, cookies={cookies}")
    return cookies[0]


def check(name: str, port: int, cookie: str, before: int | None = None) -> int:
    """Check that ``cookie`` is read and the session written (see the module docstring).

    For a server-side store, the ``n`` the second request answered.
    """
    server_side = SERVERS[name][1]
    answers = [get(port, cookie) for _ in range(2)]
    for status, _, _, vary in answers:
        if status != 200:
            raise SystemExit(f"{name}: /session with the cookie answered {status}")
        if name != BASELINE and "Cookie" not in vary:
            raise SystemExit(f"{name}: a response that read the session has no Vary: Cookie")
    if server_side:
        (_, n1, set1, _), (_, n2, set2, _) = answers
        if n1 is None or n2 != n1 + 1 or (before is not None and n1 <= before):
            raise SystemExit(f"{name}: the stored count did not grow ({before} -> {n1} -> {n2})")
        if set1 or set2:
            raise SystemExit(f"{name}: an existing server-side session was sent a new cookie")
        result = n2
    else:
        for _, n, cookies, _ in answers:
            if n != 2 or len(cookies) != 1 or cookie_data(name, cookies[0]) != {"n": 2}:
                raise SystemExit(f"{name}: the cookie was not read and rewritten: n={n} {cookies}")
        result = 2
    tampered = cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB")
    status, n, _, _ = get(port, tampered)
    if status != 200 or n != 1:
        raise SystemExit(f"{name}: a tampered cookie answered {status}, n={n} (expected n=1)")
    return result


# -- load -------------------------------------------------------------------


def wrk(port: int, cookie: str, seconds: int, connections: int) -> tuple[str, float]:
    """Run wrk pinned to CPU 1; its output and its CPU seconds."""
    url = f"http://127.0.0.1:{port}/session"
    cpu = children_cpu()
    output = run_wrk(url, seconds, connections, "--latency", "-H", f"Cookie: session={cookie}")
    return output, children_cpu() - cpu


def measure(name: str, env: dict[str, str], args: argparse.Namespace) -> Run:
    """Start ``name``, check it, load it, check it again, stop it."""
    process, port = start(name, env)
    try:
        cookie = first_cookie(name, port)
        n = check(name, port, cookie)
        wrk(port, cookie, args.warmup, args.connections)
        time.sleep(SETTLE)
        n = check(name, port, cookie, n)
        redis = redis_pid() if name == "redis" else None
        calls0 = redis_calls() if redis else {}
        load = float(Path("/proc/loadavg").read_text().split()[0])
        server0, redis0, busy0 = group_cpu(process.pid), pid_cpu(redis), machine_busy()
        output, wrk_cpu = wrk(port, cookie, args.duration, args.connections)
        server = group_cpu(process.pid) - server0
        store = pid_cpu(redis) - redis0
        others = (machine_busy() - busy0 - server - store - wrk_cpu) / args.duration
        figures = parse_wrk(output)
        requests, notes = figures.requests, list(figures.problems)
        time.sleep(SETTLE)
        after = check(name, port, cookie, n)
        if redis:
            calls = redis_calls()
            notes += [
                f"fewer Redis {command.upper()} calls than requests"
                for command in ("get", "set")
                if calls.get(command, 0) - calls0.get(command, 0) < requests
            ]
        elif SERVERS[name][1] and after - n < requests:
            notes.append(f"store count grew by {after - n} for {requests} requests")
    finally:
        stop(process)
    return Run(
        rps=figures.rps,
        requests=requests,
        cpu_us=server / requests * 1e6,
        store_us=store / requests * 1e6 if redis else None,
        p99_ms=figures.p99_ms,
        others=max(0.0, others),
        load=load,
        notes=notes,
    )


# -- the run and the report -------------------------------------------------


def redis_calls() -> dict[str, int]:
    """Calls per Redis command so far (server-wide: other clients add to them)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return {key.removeprefix("cmdstat_"): int(value["calls"]) for key, value in stats.items()}


def clean_redis(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def report(names: list[str], runs: dict[str, list[Run]], title: str) -> None:
    base = runs.get(BASELINE)
    print(f"\n### {title}\n")
    print(
        "| server | req/s (median) | ratio to Starlette | CPU µs/req | Redis µs/req | p99 ms "
        "| req/s per round | others % core | load 1 min | notes |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---|---|---|")
    for name in names:
        own = runs[name]
        ratio = "1.00" if name == BASELINE else "n/a"
        if base and name != BASELINE:
            ratio = (
                f"{statistics.median(r.rps / b.rps for r, b in zip(own, base, strict=True)):.2f}"
            )
        store = [r.store_us for r in own if r.store_us is not None]
        p99 = [r.p99_ms for r in own if r.p99_ms is not None]
        notes = sorted({note for r in own for note in r.notes})
        print(
            f"| {LABELS[name]} | {statistics.median(r.rps for r in own):,.0f} | {ratio} "
            f"| {statistics.median(r.cpu_us for r in own):.1f} "
            f"| {f'{statistics.median(store):.1f}' if store else ''} "
            f"| {f'{statistics.median(p99):.2f}' if p99 else ''} "
            f"| {' / '.join(f'{r.rps:,.0f}' for r in own)} "
            f"| {' / '.join(f'{100 * r.others:.0f}' for r in own)} "
            f"| {' / '.join(f'{r.load:.2f}' for r in own)} | {'; '.join(notes)} |"
        )
    if base:
        print()
        for name in names:
            if name != BASELINE:
                ratios = [r.rps / b.rps for r, b in zip(runs[name], base, strict=True)]
                rounds = ", ".join(f"{x:.2f}" for x in ratios)
                median = statistics.median(ratios)
                print(f"ratio {name}/{BASELINE} = {median:.2f} (rounds: {rounds})")


def main(args: argparse.Namespace) -> None:
    names = [name.strip() for name in args.servers.split(",")]
    unknown = [name for name in names if name not in SERVERS]
    if unknown:
        raise SystemExit(f"unknown server(s) {unknown}; choose from {', '.join(SERVERS)}")
    minutes = args.rounds * len(names) * (args.warmup + args.duration + 3) / 60
    if minutes > args.max_minutes:
        raise SystemExit(
            f"the plan takes about {minutes:.1f} minutes, over --max-minutes {args.max_minutes}: "
            "fewer rounds, servers or seconds"
        )
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    prefix = f"transom-bench:{os.getpid()}:{int(time.time())}:"
    print(f"seed {seed}; {args.rounds} rounds; wrk -t1 -c{args.connections} -d{args.duration}s")
    runs: dict[str, list[Run]] = {name: [] for name in names}
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sessions-bench-") as tmp:
        try:
            for round_ in range(args.rounds):
                order = names[:]
                rng.shuffle(order)
                for name in order:
                    env = {
                        **os.environ,
                        "PYTHONUNBUFFERED": "1",
                        "SESSION_DB": str(Path(tmp, f"sessions-{round_}.db")),
                        "SESSION_REDIS_URL": REDIS_URL,
                        "SESSION_REDIS_PREFIX": f"{prefix}{round_}:",
                    }
                    run = measure(name, env, args)
                    if run.others > NOISY:
                        retry = measure(name, env, args)
                        run = retry if retry.others < run.others else run
                        if run.others > NOISY:
                            run.notes.append("noisy")
                    runs[name].append(run)
                    print(
                        f"round {round_ + 1} {name:9} {run.rps:10,.0f} req/s "
                        f"{run.cpu_us:6.1f} µs/req others {100 * run.others:3.0f}% "
                        f"load {run.load:.2f} {' '.join(run.notes)}",
                        flush=True,
                    )
        except KeyboardInterrupt:
            print("interrupted: the rounds measured so far")
            done = min(len(r) for r in runs.values())
            runs = {name: r[:done] for name, r in runs.items()}
        finally:
            if "redis" in names:
                clean_redis(prefix)
    minutes = (time.monotonic() - began) / 60
    title = (
        f"GET /session (read + write), median of {min(len(r) for r in runs.values())} rounds, "
        f"wrk -t1 -c{args.connections} -d{args.duration}s, server on CPU 0, wrk on CPU 1 "
        f"({minutes:.1f} min)"
    )
    if all(runs.values()):
        report(names, runs, title)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--seed", type=int)
    parser.add_argument("--max-minutes", type=float, default=10)
    main(parser.parse_args())
