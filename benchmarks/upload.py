"""A 1 MiB file upload, parsed and saved to disk: Transom's App against Starlette.

Both apps are called in-process through ASGI, the body fed in 64 KiB
``http.request`` messages as a server would; each handler reads the form
(Transom: ``transom.http.multipart``; Starlette: python-multipart) and, in
the save scenarios, copies the file into a temporary directory, then
answers with its size. ``parse`` stops after the form is read, which
isolates the framework's work from the disk's. ``save`` writes the same
file name each time (an existing file replaced), ``save-new`` a new name
each time (the handler deletes the file after, in both apps).

Reported per scenario: uploads per second for each (median of
``--rounds``; within a round the two apps take turns in batches of ten
uploads, so that load from elsewhere on the machine falls on both), the
spread of the rounds, and the ratio.

    python benchmarks/upload.py [--size 1048576] [--count 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request as StarletteRequest
from starlette.responses import PlainTextResponse as StarlettePlainText
from starlette.routing import Route

from transom import App, PlainTextResponse, Request, UploadFile
from transom.http.multipart import MultipartEncoder

CHUNK = 64 * 1024
SCENARIOS = ("parse", "save", "save-new")


def transom_app(directory: Path) -> App:
    app = App(max_body_size=64 * 1024 * 1024)
    counter = itertools.count()

    @app.post("/save")
    async def save(request: Request) -> PlainTextResponse:
        form = await request.form()
        file = form["file"]
        assert isinstance(file, UploadFile)
        await file.save(directory)
        return PlainTextResponse(str(file.size))

    @app.post("/save-new")
    async def save_new(request: Request) -> PlainTextResponse:
        form = await request.form()
        file = form["file"]
        assert isinstance(file, UploadFile)
        target = await file.save(directory / f"{next(counter)}-{file.filename}")
        target.unlink()  # a new file each time, but never a disk full of them
        return PlainTextResponse(str(file.size))

    @app.post("/parse")
    async def parse(request: Request) -> PlainTextResponse:
        form = await request.form()
        file = form["file"]
        assert isinstance(file, UploadFile)
        return PlainTextResponse(str(file.size))

    return app


def starlette_app(directory: Path) -> Starlette:
    async def save(request: StarletteRequest) -> StarlettePlainText:
        async with request.form() as form:
            file = form["file"]
            assert not isinstance(file, str)

            def copy() -> None:
                file.file.seek(0)
                with (directory / Path(file.filename or "upload").name).open("wb") as out:
                    shutil.copyfileobj(file.file, out, 1024 * 1024)

            await run_in_threadpool(copy)
            return StarlettePlainText(str(file.size))

    async def save_new(request: StarletteRequest) -> StarlettePlainText:
        async with request.form() as form:
            file = form["file"]
            assert not isinstance(file, str)
            target = directory / f"{next(counter)}-{Path(file.filename or 'upload').name}"

            def copy() -> None:
                file.file.seek(0)
                with target.open("wb") as out:
                    shutil.copyfileobj(file.file, out, 1024 * 1024)

            await run_in_threadpool(copy)
            target.unlink()
            return StarlettePlainText(str(file.size))

    async def parse(request: StarletteRequest) -> StarlettePlainText:
        async with request.form() as form:
            file = form["file"]
            assert not isinstance(file, str)
            return StarlettePlainText(str(file.size))

    counter = itertools.count()
    return Starlette(
        routes=[
            Route("/save", save, methods=["POST"]),
            Route("/save-new", save_new, methods=["POST"]),
            Route("/parse", parse, methods=["POST"]),
        ]
    )


def split(body: bytes) -> list[bytes]:
    """The body as a server hands it over: 64 KiB messages (cut once, outside the timing)."""
    return [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]


async def post(app: Any, path: str, pieces: list[bytes], content_type: str) -> int:
    length = sum(map(len, pieces))
    position = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal position
        if position < len(pieces):
            position += 1
            return {
                "type": "http.request",
                "body": pieces[position - 1],
                "more_body": position < len(pieces),
            }
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    headers = [
        (b"host", b"bench"),
        (b"content-type", content_type.encode()),
        (b"content-length", str(length).encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("bench", 80),
        "state": {},
    }
    await app(scope, receive, send)
    return status


BATCH = 10  # uploads per turn: the apps take turns, so a load spike hits both


async def measure(
    apps: dict[str, Any], path: str, body: bytes, content_type: str, count: int
) -> dict[str, float]:
    """Uploads per second for each app, the apps taking turns in batches of ``BATCH``."""
    pieces = split(body)
    for app in apps.values():
        for _ in range(5):
            assert await post(app, path, pieces, content_type) == 200
    spent = dict.fromkeys(apps, 0.0)
    for _ in range(max(1, count // BATCH)):
        for name, app in apps.items():
            start = time.perf_counter()
            for _ in range(BATCH):
                await post(app, path, pieces, content_type)
            spent[name] += time.perf_counter() - start
    return {name: max(1, count // BATCH) * BATCH / seconds for name, seconds in spent.items()}


async def main(size: int, count: int, rounds: int) -> None:
    encoder = MultipartEncoder(
        [("title", "holiday photos")], [("file", ("photo.jpg", os.urandom(size), "image/jpeg"))]
    )
    body = b"".join(encoder)
    with tempfile.TemporaryDirectory() as tmp:
        ours_dir, theirs_dir = Path(tmp, "transom"), Path(tmp, "starlette")
        ours_dir.mkdir()
        theirs_dir.mkdir()
        apps = {"transom": transom_app(ours_dir), "starlette": starlette_app(theirs_dir)}
        rates: dict[tuple[str, str], list[float]] = {}
        for _ in range(rounds):
            for scenario in SCENARIOS:
                measured = await measure(apps, f"/{scenario}", body, encoder.content_type, count)
                for name, rate in measured.items():
                    rates.setdefault((scenario, name), []).append(rate)
    report(
        rates,
        SCENARIOS,
        f"upload of {size / 2**20:.2f} MiB, {count} per round, median of {rounds} rounds",
        size,
    )


def report(
    rates: dict[tuple[str, str], list[float]], scenarios: tuple[str, ...], title: str, size: int
) -> None:
    """Print uploads/s per app and scenario (median of the rounds) and the ratio."""
    mib = size / 2**20
    print(title)
    for scenario in scenarios:
        ours, theirs = rates[scenario, "transom"], rates[scenario, "starlette"]
        print(f"{scenario}:")
        for name, values in (("transom", ours), ("starlette", theirs)):
            median = statistics.median(values)
            print(
                f"  {name:10} {median:8.1f} uploads/s  ({median * mib:7.1f} MiB/s)"
                f"  rounds {min(values):.0f}-{max(values):.0f}"
            )
        ratios = sorted(a / b for a, b in zip(ours, theirs, strict=True))
        print(
            f"  ratio transom/starlette {statistics.median(ours) / statistics.median(theirs):.2f}"
            f"  (per round {ratios[0]:.2f}-{ratios[-1]:.2f})"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024 * 1024)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.size, args.count, args.rounds))
