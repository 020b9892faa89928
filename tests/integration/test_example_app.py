"""examples/app.py over real sockets, under uvicorn and under ``transom run``."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from transom.client import Client

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def uvicorn_url() -> Iterator[str]:
    import uvicorn
    from examples.app import app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(15)
    sock.close()


@pytest.fixture(scope="module")
def transom_url() -> Iterator[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "transom",
            "run",
            "examples.app:app",
            "--port",
            "0",
            "--no-access-log",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
    )
    assert process.stderr is not None
    lines = []
    port = None
    deadline = time.monotonic() + 20
    while port is None and time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(r"serving on http://127\.0\.0\.1:(\d+)", line)
        if match:
            port = int(match.group(1))
    if port is None:
        process.kill()
        process.wait(10)
        process.stderr.close()
        pytest.fail("transom run did not start:\n" + "".join(lines))
    # Keep draining stderr so the child never blocks on a full pipe.
    drain = threading.Thread(target=process.stderr.read, daemon=True)
    drain.start()
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(15)
    drain.join(15)
    process.stderr.close()


@pytest.fixture(params=["uvicorn", "transom"])
def client(request: pytest.FixtureRequest) -> Iterator[Client]:
    url = request.getfixturevalue(f"{request.param}_url")
    with Client(base_url=url, timeout=10) as http:
        yield http


def test_example_index_page(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>Notes</h1>" in response.text


def test_example_form_post_redirects_to_index(client: Client) -> None:
    title = f"note {time.monotonic_ns()}"
    response = client.post("/notes", data={"title": title}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].endswith("/")
    assert title in client.get(response.headers["location"]).text


def test_example_form_without_title_is_400(client: Client) -> None:
    response = client.post("/notes", data={"title": " "})
    assert response.status_code == 400


def test_example_upload(client: Client) -> None:
    data = os.urandom(1_500_000)
    response = client.post("/upload", files={"file": ("../secret.bin", data)})
    assert response.json() == {
        "filename": "../secret.bin",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def test_example_json_api(client: Client) -> None:
    created = client.post("/api/notes", json={"title": "from the API"}).json()
    assert created["title"] == "from the API"
    assert created in client.get("/api/notes").json()


def test_example_json_api_rejects_bad_input(client: Client) -> None:
    response = client.post(
        "/api/notes", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("invalid JSON body")


def test_example_streaming(client: Client) -> None:
    assert client.get("/count/5").text == "1\n2\n3\n4\n5\n"


def test_example_not_found_negotiates_json(client: Client) -> None:
    response = client.get("/notes/999", headers={"accept": "application/json"})
    assert response.status_code == 404
    assert response.json() == {"detail": "no note 999"}


def test_example_head_and_method_not_allowed(client: Client) -> None:
    head = client.head("/api/notes")
    assert head.status_code == 200 and head.content == b""
    assert client.delete("/api/notes").headers["allow"] == "GET, HEAD, OPTIONS, POST"
