"""``transom http``, driven as a subprocess the way a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .servers import ServerThread


def http(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "transom", "http", *args],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env=env,
    )


def _port(server: ServerThread) -> str:
    return f":{server.port}"


def test_cli_get_prints_body_when_piped(uvicorn_server: ServerThread) -> None:
    result = http(_port(uvicorn_server) + "/plaintext")
    assert result.returncode == 0
    assert result.stdout == "Hello, World!"
    assert result.stderr == ""


def test_cli_json_items_post(uvicorn_server: ServerThread) -> None:
    result = http(
        _port(uvicorn_server) + "/echo", "name=Ann", "age:=30", "tags:=[1,2]", "q==x", "X-Test:yes"
    )
    data = json.loads(result.stdout)
    assert data["method"] == "POST"
    assert json.loads(data["body"]) == {"name": "Ann", "age": 30, "tags": [1, 2]}
    assert data["query"] == "q=x"
    headers = dict(data["headers"])
    assert headers["x-test"] == "yes"
    assert headers["content-type"] == "application/json"


def test_cli_form_items(uvicorn_server: ServerThread) -> None:
    result = http("--form", "PUT", _port(uvicorn_server) + "/echo", "a=1", "b=two words")
    data = json.loads(result.stdout)
    assert data["method"] == "PUT"
    assert data["body"] == "a=1&b=two+words"


def test_cli_file_upload_is_multipart(uvicorn_server: ServerThread, tmp_path: Path) -> None:
    upload = tmp_path / "notes.txt"
    upload.write_text("file text")
    result = http(_port(uvicorn_server) + "/echo", f"doc@{upload}", "title=t")
    data = json.loads(result.stdout)
    assert 'filename="notes.txt"' in data["body"]
    assert "file text" in data["body"]
    assert dict(data["headers"])["content-type"].startswith("multipart/form-data")


def test_cli_body_from_file(uvicorn_server: ServerThread, tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(b'{"raw": true}')
    result = http(_port(uvicorn_server) + "/echo", f"@{body}", "Content-Type:application/json")
    data = json.loads(result.stdout)
    assert data["method"] == "POST"
    assert data["body"] == '{"raw": true}'


def test_cli_verbose_prints_request_and_response(uvicorn_server: ServerThread) -> None:
    result = http("-v", _port(uvicorn_server) + "/plaintext")
    assert result.stdout.startswith("GET /plaintext HTTP/1.1\n")
    assert "\nHTTP/1.1 200 OK\n" in result.stdout
    assert result.stdout.endswith("Hello, World!")
    assert "\x1b[" not in result.stdout  # no colours when piped


def test_cli_pretty_all_colours_and_formats(uvicorn_server: ServerThread) -> None:
    result = http("--pretty", "all", _port(uvicorn_server) + "/echo", "a=1")
    assert "\x1b[34m" in result.stdout
    assert '\n    \x1b[34m"method"' in result.stdout


def test_cli_headers_only(uvicorn_server: ServerThread) -> None:
    result = http("--headers", _port(uvicorn_server) + "/plaintext")
    assert result.stdout.startswith("HTTP/1.1 200 OK\n")
    assert "Hello" not in result.stdout


def test_cli_print_selection(uvicorn_server: ServerThread) -> None:
    result = http("--print", "Hh", _port(uvicorn_server) + "/plaintext")
    assert result.stdout.startswith("GET /plaintext HTTP/1.1\n")
    assert "Hello" not in result.stdout


def test_cli_offline_prints_request_without_sending() -> None:
    result = http("--offline", "-a", "u:p", "example.invalid/x", "k=v")
    assert result.returncode == 0
    assert result.stdout.startswith("POST /x HTTP/1.1\nHost: example.invalid\n")
    assert "Authorization: Basic dTpw" in result.stdout
    assert result.stdout.rstrip().endswith('{"k": "v"}')


@pytest.mark.parametrize(("status", "code"), [(200, 0), (302, 3), (404, 4), (503, 5)])
def test_cli_check_status_exit_codes(uvicorn_server: ServerThread, status: int, code: int) -> None:
    result = http("--check-status", _port(uvicorn_server) + f"/status/{status}")
    assert result.returncode == code
    assert (f"HTTP {status}" in result.stderr) is (code != 0)


def test_cli_follow_redirects(uvicorn_server: ServerThread) -> None:
    not_followed = http("--headers", _port(uvicorn_server) + "/redirect/302?to=/plaintext")
    followed = http("--follow", _port(uvicorn_server) + "/redirect/302?to=/plaintext")
    assert not_followed.stdout.startswith("HTTP/1.1 302")
    assert followed.stdout == "Hello, World!"


def test_cli_max_redirects(uvicorn_server: ServerThread) -> None:
    result = http("--follow", "--max-redirects", "2", _port(uvicorn_server) + "/loop")
    assert result.returncode == 6
    assert result.stderr.count("\n") == 1


def test_cli_digest_auth(uvicorn_server: ServerThread) -> None:
    result = http(
        "-a", "alice:wonderland", "--auth-type", "digest", _port(uvicorn_server) + "/digest"
    )
    assert json.loads(result.stdout)["authenticated"] is True


def test_cli_bearer_auth(uvicorn_server: ServerThread) -> None:
    result = http("-A", "bearer", "-a", "tok", _port(uvicorn_server) + "/basic")
    assert json.loads(result.stdout) == {"authorization": "Bearer tok"}


def test_cli_download_reports_one_line_off_a_terminal(
    uvicorn_server: ServerThread, tmp_path: Path
) -> None:
    result = http("--download", _port(uvicorn_server) + "/plaintext", cwd=tmp_path)
    assert result.returncode == 0
    assert (tmp_path / "plaintext").read_bytes() == b"Hello, World!"
    assert result.stderr.startswith("Downloaded http://localhost:")
    assert "/plaintext to plaintext: 13 B in " in result.stderr
    assert result.stderr.count("\n") == 1
    assert "\r" not in result.stderr


def test_cli_download_to_output(uvicorn_server: ServerThread, tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    result = http("-d", "-o", str(target), _port(uvicorn_server) + "/encoded?coding=gzip")
    assert result.returncode == 0
    assert target.read_bytes() == b"compressed " * 100


def test_cli_session_keeps_cookies_headers_and_auth(
    uvicorn_server: ServerThread, tmp_path: Path
) -> None:
    session = str(tmp_path / "s.json")
    base = _port(uvicorn_server)
    first = http("--session", session, "-a", "u:p", base + "/set-cookie?sid=42", "X-Kept:1")
    assert first.returncode == 0
    second = http("--session", session, base + "/echo")
    headers = dict(json.loads(second.stdout)["headers"])
    assert headers["cookie"] == "sid=42"
    assert headers["x-kept"] == "1"
    assert headers["authorization"].startswith("Basic ")
    assert (tmp_path / "s.json").stat().st_mode & 0o777 == 0o600


def test_cli_named_session_lives_in_config_dir(
    uvicorn_server: ServerThread, tmp_path: Path
) -> None:
    import os

    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path))
    http("--session", "dev", _port(uvicorn_server) + "/set-cookie?a=b", env=env)
    files = list((tmp_path / "transom" / "sessions").rglob("dev.json"))
    assert len(files) == 1
    assert "localhost_" in str(files[0])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "a URL is required"),
        ((":1/x",), "ConnectError"),
        ((":1/x", "nonsense"), "not a request item"),
        ((":1/x", "f@/no/such/file"), "no such file"),
        ((":1/x", "a:=[1"), "not valid JSON"),
        (("--verify", "maybe", "https://localhost:1/"), "CA bundle"),
    ],
    ids=["no-url", "refused", "bad-item", "missing-file", "bad-json", "bad-verify"],
)
def test_cli_errors_are_one_line(args: tuple[str, ...], message: str) -> None:
    result = http(*args)
    assert result.returncode != 0
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_cli_timeout(uvicorn_server: ServerThread) -> None:
    result = http("--timeout", "0.2", _port(uvicorn_server) + "/slow?delay=3")
    assert result.returncode == 2
    assert "timed out" in result.stderr


def test_cli_options_after_items() -> None:
    result = http("--offline", "example.invalid", "a=1", "--form", "-a", "u:p", "b=2")
    assert result.returncode == 0
    assert "Authorization: Basic dTpw" in result.stdout
    assert result.stdout.rstrip().endswith("a=1&b=2")


def test_cli_colours_on_a_terminal(uvicorn_server: ServerThread) -> None:
    import os
    import pty

    leader, follower = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "transom", "http", _port(uvicorn_server) + "/echo", "a=1"],
            stdout=follower,
            stderr=subprocess.PIPE,
            timeout=30,
        )
        os.close(follower)
        output = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other side is closed: all read
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(leader)
    assert process.returncode == 0
    text = output.decode()
    assert "\x1b[32m200 OK" in text  # status line in colour, headers shown
    assert '\n    \x1b[34m"method"' in text  # indented, coloured JSON


def test_cli_download_of_an_error_saves_nothing(
    uvicorn_server: ServerThread, tmp_path: Path
) -> None:
    result = http("--download", _port(uvicorn_server) + "/status/404", cwd=tmp_path)
    assert result.returncode == 4
    assert "HTTP 404" in result.stderr
    assert list(tmp_path.iterdir()) == []
