"""A page rendered from a template: Transom on its server against Starlette's Jinja2Templates
on uvicorn.

The same template text (a table of 50 rows, a ``url_for`` link per row)
and the same context, rendered per request by

- ``transom``: ``render(request, "page.html", ...)`` in a Transom ``App``,
  served by ``transom run``;
- ``starlette``: ``Jinja2Templates.TemplateResponse`` (its ``url_for`` is
  ``request.url_for``), served by uvicorn with httptools and uvloop.

Each server runs alone, pinned to CPU 0 (``taskset``), and is loaded by
``wrk -t1 -c64`` pinned to CPU 1, as ``../shared/bench/compare.py`` does:
a warm-up, then the timed run. Rounds alternate the servers (the order
flipped every round) so that load from elsewhere falls on both; reported:
median requests per second of each and the median of the per-round ratios,
and each server's CPU time per request (user + system of its processes,
from ``/proc``), which other load on the machine disturbs less.
Both pages are fetched and compared first (same HTML, the host aside).

    python benchmarks/templates_bench.py [--rounds 5] [--duration 5] [--connections 64]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from _harness import free_port, parse_wrk, run_wrk, session_cpu

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent

TEMPLATE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body>
<h1>{{ title }}</h1>
<table>
<tr><th>#</th><th>Name</th><th>Price</th><th>Tags</th></tr>
{% for row in rows %}
<tr class="{{ loop.cycle('odd', 'even') }}">
  <td>{{ row.id }}</td>
  <td><a href="{{ url_for('item', item_id=row.id) }}">{{ row.name }}</a></td>
  <td>{{ "%.2f" | format(row.price) }}</td>
  <td>{{ row.tags | join(", ") }}</td>
</tr>
{% endfor %}
</table>
</body></html>
"""

TITLE = "Items <& co>"
ROWS = [
    {"id": i, "name": f"Item {i} <b>", "price": i * 1.25, "tags": ["new", f"t{i % 7}"]}
    for i in range(1, 51)
]


def _template_dir() -> str:
    directory = os.environ["TEMPLATES_DIR"]
    return directory


def transom_factory() -> Any:
    """The Transom app (``transom run templates_bench:transom_factory --factory``)."""
    from transom import App, Request
    from transom.web.templates import render

    app = App(templates=_template_dir())

    @app.get("/")
    async def home() -> str:
        return "home"

    @app.get("/about")
    async def about() -> str:
        return "about"

    @app.get("/page")
    async def page(request: Request) -> Any:
        return render(request, "page.html", title=TITLE, rows=ROWS)

    @app.get("/items/{item_id:int}", name="item")
    async def item(item_id: int) -> str:
        return str(item_id)

    return app


def starlette_factory() -> Any:
    """The Starlette app (``uvicorn templates_bench:starlette_factory --factory``)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route
    from starlette.templating import Jinja2Templates

    templates = Jinja2Templates(directory=_template_dir())

    async def home(request: Request) -> Response:
        return PlainTextResponse("home")

    async def about(request: Request) -> Response:
        return PlainTextResponse("about")

    async def page(request: Request) -> Response:
        return templates.TemplateResponse(request, "page.html", {"title": TITLE, "rows": ROWS})

    async def item(request: Request) -> Response:
        return PlainTextResponse(str(request.path_params["item_id"]))

    routes = [
        Route("/", home, name="home"),
        Route("/about", about, name="about"),
        Route("/page", page, name="page"),
        Route("/items/{item_id:int}", item, name="item"),
    ]
    return Starlette(routes=routes)


def command(name: str, port: int) -> list[str]:
    pin = ["taskset", "-c", "0"]
    where = ["--factory", "--app-dir", str(HERE), "--port", str(port), "--no-access-log"]
    if name == "transom":
        return [*pin, str(VENV_BIN / "transom"), "run", "templates_bench:transom_factory", *where]
    uvicorn = [*pin, str(VENV_BIN / "uvicorn"), "templates_bench:starlette_factory", *where]
    return [*uvicorn, "--http", "httptools", "--loop", "uvloop", "--log-level", "warning"]


def start(name: str, directory: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "TEMPLATES_DIR": directory}
    process = subprocess.Popen(command(name, port), env=env, start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            fetch(port)
            return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"{name} did not answer on port {port}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def fetch(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/page", timeout=5) as response:
        if response.status != 200:
            raise SystemExit(f"/page answered {response.status}")
        return str(response.read().decode())


def wrk(port: int, seconds: int, connections: int) -> tuple[float, int]:
    """Requests per second and requests made, of one wrk run against ``/page``."""
    figures = parse_wrk(run_wrk(f"http://127.0.0.1:{port}/page", seconds, connections))
    for problem in figures.problems:
        print(f"  note (port {port}): {problem}", file=sys.stderr)
    return figures.rps, figures.requests


def measure(name: str, directory: str, seconds: int, connections: int) -> tuple[float, float]:
    """Requests per second, and the server's CPU microseconds per request."""
    process, port = start(name, directory)
    try:
        wrk(port, 2, connections)  # warm-up, discarded
        before = session_cpu(process.pid)
        rate, count = wrk(port, seconds, connections)
        return rate, (session_cpu(process.pid) - before) / count * 1e6
    finally:
        stop(process)


def check_same_page(directory: str) -> None:
    pages = {}
    for name in ("transom", "starlette"):
        process, port = start(name, directory)
        try:
            pages[name] = fetch(port).replace(f"127.0.0.1:{port}", "HOST")
        finally:
            stop(process)
    if pages["transom"] != pages["starlette"]:
        raise SystemExit("the two servers render different pages; the comparison would be unfair")


def main(rounds: int, seconds: int, connections: int) -> None:
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed: apt-get install -y {tool}")
    rates: dict[str, list[float]] = {"transom": [], "starlette": []}
    cpu: dict[str, list[float]] = {"transom": [], "starlette": []}
    ratios, cpu_ratios = [], []
    with tempfile.TemporaryDirectory() as directory:
        Path(directory, "page.html").write_text(TEMPLATE)
        check_same_page(directory)
        for round_number in range(rounds):
            order = ["transom", "starlette"][:: 1 if round_number % 2 == 0 else -1]
            got = {name: measure(name, directory, seconds, connections) for name in order}
            for name, (rate, micros) in got.items():
                rates[name].append(rate)
                cpu[name].append(micros)
            ratios.append(got["transom"][0] / got["starlette"][0])
            cpu_ratios.append(got["starlette"][1] / got["transom"][1])
            print(
                f"round {round_number + 1}: transom {got['transom'][0]:.0f} req/s "
                f"({got['transom'][1]:.0f} us CPU/req), starlette {got['starlette'][0]:.0f} "
                f"req/s ({got['starlette'][1]:.0f} us CPU/req), ratio {ratios[-1]:.2f}",
                flush=True,
            )
    print(
        f"\ntemplate page, 50 rows with url_for, wrk -t1 -c{connections} -d{seconds}s, "
        f"{rounds} rounds (medians)"
    )
    print("| server | req/s | server CPU us/req | req/s per round |")
    print("|---|---:|---:|---|")
    for name, values in rates.items():
        each = ", ".join(f"{v:.0f}" for v in values)
        micros = statistics.median(cpu[name])
        print(f"| {name} | {statistics.median(values):.0f} | {micros:.0f} | {each} |")
    print(
        f"ratio transom/starlette: req/s {statistics.median(ratios):.2f}, "
        f"CPU per request {statistics.median(cpu_ratios):.2f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    main(args.rounds, args.duration, args.connections)
