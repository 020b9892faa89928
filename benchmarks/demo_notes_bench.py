"""The notes page of a logged-in user on ``transom demo``: session read + SQLite query + template.

Method: ``transom demo`` (one worker, no access log, a fresh data dir in a
temporary folder) runs pinned to CPU 0. A user registers through the form
(CSRF token and session cookie as a browser has them) and writes
``--notes`` notes. Checked before and after the load: ``GET /site/notes``
with that cookie answers 200, lists every note, and sets no cookie (the
page only reads the session). ``wrk`` pinned to CPU 1 then sends that
request (``-t1 -c64``, a warm-up, then the timed run), per round.

Reported per round and as the median: req/s, and req/s per core (requests
divided by the CPU seconds the server's process group used in the timed
run, user + system), with p99 latency.

    python benchmarks/demo_notes_bench.py [--rounds 3] [--duration 5] [--warmup 2] [--notes 20]
"""

from __future__ import annotations

import argparse
import http.client
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from _harness import free_port, group_cpu, parse_wrk, run_wrk, stop, wait_listening

VENV_BIN = Path(sys.executable).parent
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "benchmark password"


def start(data_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = ["taskset", "-c", "0", str(VENV_BIN / "transom"), "demo", "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--no-access-log"]
    process = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_listening(process, "transom demo", port)
    return process, port


class Browser:
    """Just enough of a browser: one session cookie, forms with the page's CSRF token."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Cookie": f"session={self.cookie}"} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        found = {name.lower(): value for name, value in response.getheaders()}
        text = response.read().decode()
        connection.close()
        cookie = re.match(r"session=([^;]*)", found.get("set-cookie", ""))
        if cookie:
            self.cookie = cookie[1]
        return response.status, found, text

    def submit(self, path: str, fields: dict[str, str]) -> int:
        token = TOKEN.search(self.request("GET", path)[2])
        assert token is not None, f"no CSRF token on {path}"
        return self.request("POST", path, {"csrf_token": token[1], **fields})[0]


def check(browser: Browser, titles: list[str]) -> None:
    status, headers, text = browser.request("GET", "/site/notes")
    assert status == 200, status
    assert all(title in text for title in titles), "a note is missing from the page"
    assert "set-cookie" not in headers, "the notes page wrote the session"


def wrk(port: int, cookie: str, seconds: int) -> str:
    url = f"http://127.0.0.1:{port}/site/notes"
    return run_wrk(url, seconds, 64, "--latency", "-H", f"Cookie: session={cookie}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--notes", type=int, default=20)
    args = parser.parse_args()
    results = []
    for round_ in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory() as tmp:
            process, port = start(Path(tmp) / "data")
            try:
                browser = Browser(port)
                fields = {"username": "bench", "password": PASSWORD, "password2": PASSWORD}
                assert browser.submit("/site/register", fields) == 303
                titles = [f"Note number {n}" for n in range(args.notes)]
                for title in titles:
                    body = f"Body of {title}, long enough to be truncated on the list. " * 3
                    assert browser.submit("/site/notes/new", {"title": title, "body": body}) == 303
                browser.request("GET", "/site/notes")  # take the flashed message
                check(browser, titles)
                wrk(port, browser.cookie, args.warmup)
                before = group_cpu(process.pid)
                output = wrk(port, browser.cookie, args.duration)
                time.sleep(0.3)
                cpu = group_cpu(process.pid) - before
                check(browser, titles)
            finally:
                stop(process, timeout=15)
        figures = parse_wrk(output)
        if figures.problems:
            raise SystemExit(f"round {round_}: {list(figures.problems)}")
        rps = figures.rps
        per_core = figures.requests / cpu if cpu else float("nan")
        results.append((rps, per_core))
        print(f"round {round_}: {rps:8.0f} req/s  {per_core:8.0f} req/s per core"
              f"  p99 {figures.p99 or '?'}  (server CPU {cpu:.2f} s)")  # fmt: skip
    print(
        f"median: {statistics.median(r for r, _ in results):.0f} req/s, "
        f"{statistics.median(c for _, c in results):.0f} req/s per core "
        f"(notes page of a logged-in user, {args.notes} notes, SQLite, one worker)"
    )


if __name__ == "__main__":
    main()
