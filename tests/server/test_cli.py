"""``transom run`` as a user runs it: error exits and shutdown on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path

import pytest

from transom.server.cli import build_parser

from .processes import SLOW_APP, ServerProcess, run_to_exit
from .rawhttp import RawClient, get

NO_START = """
async def app(scope, receive, send):
    await receive()
    await send({"type": "lifespan.startup.failed", "message": "no database"})
"""


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "slowapp.py").write_text(SLOW_APP)
    (tmp_path / "broken.py").write_text("x = 1 / 0\n")
    (tmp_path / "nostart.py").write_text(NO_START)
    return tmp_path


@pytest.mark.parametrize(
    ("target", "message"),
    [
        pytest.param("nosuchmodule:app", "no module named 'nosuchmodule'", id="no-module"),
        pytest.param("slowapp:missing", "has no attribute 'missing'", id="no-attribute"),
        pytest.param("broken:app", "ZeroDivisionError", id="module-raises"),
        pytest.param("slowapp", "module:attribute", id="no-colon"),
    ],
)
async def test_cli_bad_app_exits_2_with_one_line(app_dir: Path, target: str, message: str) -> None:
    code, err = await run_to_exit(app_dir, target, "--port", "0")
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


async def test_cli_lifespan_startup_failure_exits_3(app_dir: Path) -> None:
    code, err = await run_to_exit(app_dir, "nostart:app", "--port", "0")
    assert code == 3
    assert "no database" in err


async def test_cli_port_in_use_exits_2(app_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = await run_to_exit(app_dir, "slowapp:app", "--port", str(port))
    assert code == 2
    assert "cannot listen" in err
    assert "Traceback" not in err


async def test_cli_bad_option_value_exits_2(app_dir: Path) -> None:
    code, err = await run_to_exit(app_dir, "slowapp:app", "--workers", "0")
    assert code == 2
    assert "workers must be at least 1" in err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
async def test_cli_signal_lets_in_flight_requests_finish(app_dir: Path, signum: int) -> None:
    server = await ServerProcess.start(app_dir, "slowapp:app", "--port", "0", "--no-access-log")
    clients = [await RawClient.connect(server.port) for _ in range(5)]
    try:
        for client in clients:
            client.send(get("/?0.5"))
        await asyncio.sleep(0.2)
        server.signal(signum)
        responses = await asyncio.gather(*(client.response() for client in clients))
        assert [r.status for r in responses] == [200] * 5
        assert await server.wait() == 0
    finally:
        for client in clients:
            await client.close()
        await server.stop()


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(["--loop", "asyncio", "--http-parser", "python"], id="asyncio-python"),
        pytest.param(["--loop", "uvloop", "--http-parser", "llhttp"], id="uvloop-llhttp"),
    ],
)
async def test_cli_serves_on_each_loop_and_parser(app_dir: Path, options: list[str]) -> None:
    server = await ServerProcess.start(app_dir, "slowapp:app", "--port", "0", *options)
    client = await RawClient.connect(server.port)
    try:
        assert (await client.request(get("/"))).status == 200
        server.signal()
        assert await server.wait() == 0
    finally:
        await client.close()
        await server.stop()


async def test_cli_serves_the_hello_example() -> None:
    root = Path(__file__).resolve().parents[2]
    server = await ServerProcess.start(root, "examples.hello:app", "--port", "0")
    client = await RawClient.connect(server.port)
    try:
        assert (await client.request(get("/"))).body == b"Hello, World!"
        server.signal()
        assert await server.wait() == 0
    finally:
        await client.close()
        await server.stop()


def test_cli_wire_limit_options_reach_the_config() -> None:
    args = build_parser().parse_args(["m:app", "--body-min-rate", "0", "--max-header-count", "50"])
    assert (args.body_min_rate, args.max_header_count) == (0.0, 50)
    defaults = build_parser().parse_args(["m:app"])
    assert (defaults.body_min_rate, defaults.max_header_count) == (256.0, 256)
