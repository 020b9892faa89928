"""``transom http --ws``: a WebSocket session from the command line, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from http import HTTPStatus
from typing import Any

from .test_websocket import thread_server


def ws_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "transom", "http", *args],
        capture_output=True,
        text=True,
        timeout=30,
        input=stdin,
        encoding="utf-8",
    )


def cli_process(*args: str) -> subprocess.Popen[str]:
    """``transom http ARGS`` with pipes for its three standard streams."""
    return subprocess.Popen(
        [sys.executable, "-m", "transom", "http", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def interactive(*args: str, lines: list[str]) -> tuple[list[str], int, str]:
    """Type each line and read its answer before the next (then end stdin):
    what was printed, the exit code and stderr."""
    process = cli_process(*args)
    assert process.stdin and process.stdout and process.stderr
    printed = []
    try:
        for line in lines:
            process.stdin.write(line + "\n")
            process.stdin.flush()
            printed.append(process.stdout.readline())
        process.stdin.close()
        printed += process.stdout.readlines()
        stderr = process.stderr.read()
        process.wait(timeout=30)
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
        process.stderr.close()
    return printed, process.returncode, stderr


def test_cli_ws_sends_stdin_lines_and_prints_the_answers() -> None:
    with thread_server() as port:
        printed, code, stderr = interactive("--ws", f":{port}/echo", lines=["hello", "wörld"])
    assert code == 0, stderr
    assert printed == ["hello\n", "wörld\n"]


def test_cli_ws_url_scheme_implies_ws() -> None:
    with thread_server() as port:
        printed, code, _ = interactive(f"ws://127.0.0.1:{port}/echo", lines=["one"])
    assert (code, printed) == (0, ["one\n"])


def test_cli_ws_piped_stdin_reaches_the_server() -> None:
    received: list[str] = []

    def recorder(ws: Any) -> None:
        received.extend(ws)

    with thread_server(recorder) as port:
        result = ws_cli("--ws", f":{port}", stdin="a\nb\r\n")
    assert result.returncode == 0, result.stderr
    assert received == ["a", "b"]


def test_cli_ws_headers_subprotocol_and_binary() -> None:
    def greeter(ws: Any) -> None:
        ws.recv()
        ws.send(f"{ws.request.headers['X-Name']} {ws.subprotocol}")
        ws.send(b"\x00\x01\x02")
        for _ in ws:
            pass

    with thread_server(greeter, subprotocols=["chat"]) as port:
        printed, code, stderr = interactive(
            "--ws", "--subprotocol", "chat", f":{port}", "X-Name:ann", lines=["go"]
        )
    assert code == 0, stderr
    assert printed[0] == "ann chat\n"
    assert printed[1:] in ([], ["[binary message: 3 bytes]\n"])  # the close may come first


def test_cli_ws_server_close_ends_the_session() -> None:
    def closer(ws: Any) -> None:
        ws.send("bye")
        ws.close(4000, "go away")

    with thread_server(closer) as port:
        # Standard input stays open: at its end the CLI would close first.
        process = cli_process("--ws", f":{port}")
        assert process.stdin and process.stdout and process.stderr
        try:
            stdout = process.stdout.read()  # until the CLI exits
            stderr = process.stderr.read()
            process.wait(timeout=30)
        finally:
            process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout, process.stderr):
                stream.close()
    assert process.returncode == 1
    assert stdout == "bye\n"
    assert "4000: go away" in stderr


def test_cli_ws_refused_handshake_exits_like_an_http_error() -> None:
    def refuse(connection: Any, request: Any) -> Any:
        return connection.respond(HTTPStatus.FORBIDDEN, "no\n")

    with thread_server(process_request=refuse) as port:
        result = ws_cli("--ws", f":{port}")
    assert result.returncode == 4
    assert "403" in result.stderr
