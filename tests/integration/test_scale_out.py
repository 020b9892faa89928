"""Scale-out: ``transom demo`` instances behind nginx, on PostgreSQL and Redis, real processes.

- two instances behind nginx (the ``nginx.conf`` of ``docs/deploy.md``, with
  only paths and ports changed): a user registers and logs in through nginx,
  then 2,000 requests with that session (the notes page, and new notes sent
  with the page's CSRF token) are spread over both; one instance gets
  SIGKILL midway. Every GET succeeds (nginx retries it on the other
  instance); a POST fails only when it was in flight at the kill; the
  session still works and every note created is listed;
- SIGTERM to one instance during load: no request fails, it exits 0;
- Redis restarted during load (``--workers 2``): 503 while it is down,
  service again within a second of its return, no worker dies.

Users and notes go to the local PostgreSQL (a schema of their own); each
test runs its own ``redis-server`` (no persistence) on a free port, and its
own nginx (Debian's package) as a child process with a config in a temp dir.
A missing nginx, redis-server or PostgreSQL fails the tests.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import transom.demo
from tests.demo.test_site_support import SiteUser, pg_database_url  # noqa: F401 - a fixture
from transom.client import AsyncClient, Client

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
STATIC = Path(transom.demo.__file__).resolve().parent / "static"
WAIT = 20.0
NOTE_LINK = re.compile(r'/site/notes/(\d+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.02)
    raise AssertionError(f"{what} did not listen on port {port}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


# --- nginx, configured by the deployment guide ----------------------------------


def deploy_nginx_conf() -> str:
    """The one ``nginx`` block of docs/deploy.md."""
    blocks = re.findall(r"```nginx\n(.*?)```", DEPLOY_DOC.read_text(), re.S)
    assert len(blocks) == 1, "docs/deploy.md should hold exactly one nginx.conf"
    return str(blocks[0])


def nginx_conf(directory: Path, port: int, upstreams: tuple[int, int]) -> str:
    """The guide's config with this machine's paths and ports: nothing else changes."""
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join(
        f"    {kind}_temp_path {directory}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    changes = {
        "user www-data;\n": user,
        "pid /run/nginx.pid;": f"pid {directory}/nginx.pid;\ndaemon off;",
        "error_log /var/log/nginx/error.log;": f"error_log {directory}/error.log;",
        "    include /etc/nginx/mime.types;\n": "    types { text/css css; text/html html; }\n"
        + temp,
        "access_log /var/log/nginx/access.log upstreams;": (
            f"access_log {directory}/access.log upstreams;"
        ),
        "server 127.0.0.1:8001 ": f"server 127.0.0.1:{upstreams[0]} ",
        "server 127.0.0.1:8002 ": f"server 127.0.0.1:{upstreams[1]} ",
        "listen 80;": f"listen 127.0.0.1:{port};",
        "alias /srv/notes/static/;": f"alias {STATIC}/;",
    }
    text = deploy_nginx_conf()
    for old, new in changes.items():
        assert text.count(old) == 1, f"docs/deploy.md's nginx.conf no longer has {old!r}"
        text = text.replace(old, new)
    return text


class Nginx:
    """nginx as a child process, its config, logs and temp files in ``directory``."""

    def __init__(self, directory: Path, upstreams: tuple[int, int]) -> None:
        directory.mkdir()
        self.directory = directory
        self.port = free_port()
        conf = directory / "nginx.conf"
        conf.write_text(nginx_conf(directory, self.port, upstreams))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        assert Path(nginx).exists(), "nginx is not installed (apt-get install nginx)"
        command = [nginx, "-p", f"{directory}/", "-c", str(conf), "-e", f"{directory}/error.log"]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        wait_for_port(self.port, self.process, "nginx")

    def access_log(self) -> list[str]:
        return (self.directory / "access.log").read_text().splitlines()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish, then exit
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                stop(self.process)


class RedisServer:
    """``redis-server`` without persistence on a free port; stop and start it again."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        server = shutil.which("redis-server")
        assert server is not None, "redis-server is not installed"
        command = [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self.directory)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_for_port(self.port, self.process, "redis-server")

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)


class Demo:
    """One ``transom demo`` instance, its output in a log file."""

    def __init__(
        self, directory: Path, key: str, database_url: str, redis_url: str, *extra: str
    ) -> None:
        data = directory / "data"
        data.mkdir(parents=True)
        key_file = data / "secret_key"
        key_file.write_text(key + "\n")  # one key for every instance: shared sessions
        key_file.chmod(0o600)
        self.port = free_port()
        self.log = directory / "demo.log"
        command = [sys.executable, "-m", "transom", "demo", "--port", str(self.port)]
        command += ["--data-dir", str(data), "--no-access-log", *extra]
        command += ["--database-url", database_url, "--redis-url", redis_url]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=directory, stdin=subprocess.DEVNULL, stdout=out, stderr=out
            )
        wait_for_port(self.port, self.process, f"transom demo (log: {self.output()})")
        with Client(trust_env=False) as client:
            health = client.get(f"http://127.0.0.1:{self.port}/healthz")
        assert health.status_code == 200, health.text

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass(slots=True)
class Sent:
    """One request of the load: when it left and came back, and how it ended."""

    method: str
    started: float
    ended: float = 0.0
    status: int = 0
    error: str = ""
    note_id: int | None = None


@dataclass
class Site:
    nginx: Nginx
    demos: list[Demo]
    redis: RedisServer
    cookie: str
    token: str


@pytest.fixture
def site(tmp_path: Path, pg_database_url: str) -> Iterator[Site]:  # noqa: F811 - the fixture
    """Redis, two demo instances on one PostgreSQL schema, nginx; a logged-in user."""
    redis = RedisServer(tmp_path)
    key = secrets.token_urlsafe(32)
    demos: list[Demo] = []
    nginx: Nginx | None = None
    try:
        for name in ("one", "two"):
            demos.append(Demo(tmp_path / name, key, pg_database_url, redis.url))
        nginx = Nginx(tmp_path / "nginx", (demos[0].port, demos[1].port))
        with Client(base_url=nginx.url, trust_env=False) as client:
            user = SiteUser(client, "carol")
            assert user.register().status_code == 303
            assert user.logout().status_code == 303
            assert user.login().status_code == 303
            cookie = client.cookies["session"]
            token = user.token("/site/notes/new")
        yield Site(nginx, demos, redis, cookie, token)
    finally:
        if nginx is not None:
            nginx.stop()
        for demo in demos:
            stop(demo.process)
        redis.stop()


async def load(
    base_url: str,
    cookie: str,
    token: str,
    total: int,
    *,
    post_every: int = 0,
    concurrency: int = 8,
    at: int = -1,
    action: object = None,
    pause: float = 0.0,
    duration: float = 0.0,
) -> list[Sent]:
    """``total`` requests, ``concurrency`` at a time: the notes page, and every
    ``post_every``-th a new note. ``action()`` is called once request ``at`` is sent.
    With a ``duration``, no request starts after that many seconds."""
    sent: list[Sent] = []
    stop_at = time.monotonic() + duration if duration else float("inf")
    counter = iter(range(total))
    headers = {"Cookie": f"session={cookie}", "Origin": base_url}

    async def one(client: AsyncClient, n: int) -> None:
        post = post_every and n % post_every == post_every - 1
        record = Sent("POST" if post else "GET", time.monotonic())
        sent.append(record)
        if n == at and callable(action):
            asyncio.get_running_loop().call_soon(action)
        try:
            if post:
                form = {"csrf_token": token, "title": f"note {n}", "body": "scale-out"}
                response = await client.post("/site/notes/new", data=form, headers=headers)
                if response.status_code == 303:
                    record.note_id = int(response.headers["location"].rsplit("/", 1)[1])
            else:
                response = await client.get("/site/notes", headers=headers)
            record.status = response.status_code
        except Exception as exc:  # counted, judged by the test
            record.error = repr(exc)
        record.ended = time.monotonic()

    async def worker() -> None:
        async with AsyncClient(
            base_url=base_url, trust_env=False, follow_redirects=False, timeout=30
        ) as client:
            for n in counter:
                if time.monotonic() > stop_at:
                    break
                await one(client, n)
                if pause:
                    await asyncio.sleep(pause)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sent


def listed_notes(site: Site) -> set[int]:
    with Client(base_url=site.nginx.url, trust_env=False) as client:
        page = client.get("/site/notes", headers={"Cookie": f"session={site.cookie}"})
    assert page.status_code == 200, "the session no longer works"
    return {int(n) for n in NOTE_LINK.findall(page.text)}


def upstream_ports(lines: list[str]) -> set[str]:
    """The ports of the instances that answered: the last of the addresses nginx tried."""
    ports = set()
    for line in lines:
        tried = re.search(r"up=(.*?) ups=", line)
        if tried is not None:
            answered = re.split(r"[,:] ", tried.group(1))[-1]
            ports.add(answered.rsplit(":", 1)[-1])
    return ports


def test_scale_out_instance_killed_midway(site: Site) -> None:
    victim = site.demos[0]
    killed: dict[str, float] = {}

    def kill() -> None:
        killed["at"] = time.monotonic()
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        killed["dead"] = time.monotonic()

    sent = asyncio.run(
        load(site.nginx.url, site.cookie, site.token, 2000, post_every=8, at=1000, action=kill)
    )
    assert len(sent) == 2000 and "dead" in killed
    before = site.nginx.access_log()[: len(sent) // 3]
    assert upstream_ports(before) == {str(d.port) for d in site.demos}, "not spread over both"

    gets = [s for s in sent if s.method == "GET"]
    posts = [s for s in sent if s.method == "POST"]
    assert [s for s in gets if s.status != 200] == [], "a GET failed: nginx should retry it"
    failed = [s for s in posts if s.status != 303]
    in_flight = [s for s in failed if s.started <= killed["dead"] and s.ended >= killed["at"]]
    assert failed == in_flight, "a POST failed that was not in flight at the kill"
    assert len(failed) <= 8, "more POSTs failed than were in flight at once"
    assert all(s.status == 502 for s in failed), [(s.status, s.error) for s in failed]

    created = {s.note_id for s in posts if s.note_id is not None}
    assert len(created) == len(posts) - len(failed)
    assert created <= listed_notes(site)
    retried = [line for line in site.nginx.access_log() if "ups=" in line and ", " in line]
    assert retried, "nothing was retried: was the instance killed while busy?"


def test_scale_out_nginx_serves_hashed_static_urls_for_a_year(site: Site) -> None:
    with Client(base_url=site.nginx.url, trust_env=False) as client:
        page = client.get("/site/", headers={"Cookie": f"session={site.cookie}"})
        match = re.search(r'href="[^"]*?(/static/site\.css\?v=[^"]+)"', page.text)
        assert match is not None
        hashed = client.get(match.group(1))
        plain = client.get("/static/site.css")
    assert hashed.status_code == 200 and hashed.content == (STATIC / "site.css").read_bytes()
    assert hashed.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert plain.headers["cache-control"] == "no-cache"
    served = [line for line in site.nginx.access_log() if "/static/site.css" in line]
    assert served and all("up=- " in line for line in served), "static went to an instance"


def test_scale_out_sigterm_during_load_fails_nothing(site: Site) -> None:
    leaving = site.demos[0]
    stopped: dict[str, float] = {}

    def terminate() -> None:
        stopped["at"] = time.monotonic()
        leaving.process.send_signal(signal.SIGTERM)

    sent = asyncio.run(
        load(site.nginx.url, site.cookie, site.token, 800, post_every=8, at=300, action=terminate)
    )
    assert leaving.process.wait(15) == 0, leaving.output()
    assert "at" in stopped
    failed = [(s.method, s.status, s.error) for s in sent if s.status not in (200, 303)]
    assert failed == []
    posts = [s for s in sent if s.method == "POST"]
    assert {s.note_id for s in posts} <= listed_notes(site)
    after = site.nginx.access_log()[-200:]
    assert upstream_ports(after) == {str(site.demos[1].port)}


def test_scale_out_redis_restart_is_503_then_service(
    tmp_path: Path,
    pg_database_url: str,  # noqa: F811 - the fixture
) -> None:
    redis = RedisServer(tmp_path)
    key = secrets.token_urlsafe(32)
    demo = Demo(tmp_path / "one", key, pg_database_url, redis.url, "--workers", "2")
    base = f"http://127.0.0.1:{demo.port}"
    try:
        with Client(base_url=base, trust_env=False) as client:
            user = SiteUser(client, "dave")
            assert user.register().status_code == 303
            cookie = client.cookies["session"]
            token = user.token("/site/notes/new")
        moments: dict[str, float] = {}

        def outage() -> None:
            async def down_and_up() -> None:
                await asyncio.sleep(0.3)
                moments["down"] = time.monotonic()
                redis.stop()
                await asyncio.sleep(1.0)
                moments["starting"] = time.monotonic()
                await asyncio.to_thread(redis.start)
                moments["up"] = time.monotonic()

            tasks.append(asyncio.ensure_future(down_and_up()))

        tasks: list[asyncio.Future[None]] = []

        async def run() -> list[Sent]:
            sent = await load(
                base,
                cookie,
                token,
                100_000,
                concurrency=4,
                at=50,
                action=outage,
                pause=0.01,
                duration=3.5,
            )
            await asyncio.gather(*tasks)
            return sent

        sent = asyncio.run(run())
        down, up = moments["down"], moments["up"]
        assert [s for s in sent if s.error] == [], "a request failed instead of a 503"
        assert max(s.ended - s.started for s in sent) < 5, "a request hung"
        during = [s for s in sent if s.started > down + 0.05 and s.ended < moments["starting"]]
        assert during and {s.status for s in during} == {503}
        assert {s.status for s in sent} <= {200, 303, 503}
        late = [s for s in sent if s.started > up + 1.0]
        assert late, "the load ended before Redis came back"
        # Sessions were not persisted: the user is anonymous again (a redirect to log in).
        assert {s.status for s in late} <= {200, 303}
        served = [s.ended for s in sent if s.started > up and s.status != 503]
        assert served and min(served) - up < 1.0
        assert demo.process.poll() is None
        assert "died" not in demo.output(), demo.output()
        demo.process.send_signal(signal.SIGTERM)
        assert demo.process.wait(15) == 0
    finally:
        stop(demo.process)
        redis.stop()
