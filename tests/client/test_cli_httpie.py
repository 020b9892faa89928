"""``transom http`` at HTTPie's level: each option against a real server (the demo httpbin)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from transom import App
from transom.demo.httpbin import router

from .servers import ServerThread

_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of its own, no proxies, no config, a fixed locale and zone: the runs inherit it."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    for name in ("XDG_CONFIG_HOME", "TRANSOM_CONFIG_DIR", "NETRC"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("TZ", "UTC")
    return home


@pytest.fixture(scope="module")
def httpbin() -> Iterator[str]:
    app = App()
    app.include(router())
    server = ServerThread("transom", app)
    yield f":{server.port}"
    server.stop()


def http(
    *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "transom", "http", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=cwd,
    )


def echoed(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


def headers_of(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    headers = echoed(result)["headers"]
    assert isinstance(headers, dict)
    return headers


# --- the body ---------------------------------------------------------------------------


def test_cli_httpie_piped_stdin_is_the_body(httpbin: str) -> None:
    data = echoed(http(httpbin + "/post", stdin='{"a": 1}'))
    assert data["json"] == {"a": 1}
    assert data["headers"]["Content-Type"] == "application/json"  # type: ignore[index]


def test_cli_httpie_ignore_stdin(httpbin: str) -> None:
    data = echoed(http("-I", httpbin + "/get", stdin="not sent"))
    assert data["url"].endswith("/get")  # type: ignore[attr-defined]
    assert "Content-Length" not in data["headers"]  # type: ignore[operator]


def test_cli_httpie_stdin_and_items_conflict(httpbin: str) -> None:
    result = http(httpbin + "/post", "a=1", stdin="body")
    assert result.returncode == 2
    assert "cannot be mixed. Pass --ignore-stdin" in result.stderr


def test_cli_httpie_raw(httpbin: str) -> None:
    data = echoed(http("--raw", "plain words", "POST", httpbin + "/post"))
    assert data["data"] == "plain words"


def test_cli_httpie_nested_json_items(httpbin: str) -> None:
    result = http(httpbin + "/post", "user[name]=x", "user[tags][]=a", "user[tags][]=b", "n[1]:=2")
    assert echoed(result)["json"] == {"user": {"name": "x", "tags": ["a", "b"]}, "n": [None, 2]}


def test_cli_httpie_top_level_array(httpbin: str) -> None:
    assert echoed(http(httpbin + "/post", "[]=a", "[]:=1"))["json"] == ["a", 1]


def test_cli_httpie_nested_json_conflict_is_httpie_error(httpbin: str) -> None:
    result = http(httpbin + "/post", "a=1", "a[b]=2")
    assert result.returncode == 2
    assert result.stderr == (
        "transom http: error: Type Error: Cannot perform 'key' based access on 'a' which has "
        "a type of 'string' but this operation requires a type of 'object'.\na[b]\n ^^^\n"
    )


def test_cli_httpie_values_from_files(httpbin: str, tmp_path: Path) -> None:
    (tmp_path / "v.json").write_text('{"deep": [1, 2]}')
    (tmp_path / "t.txt").write_text("some text")
    result = http(httpbin + "/post", f"j:=@{tmp_path / 'v.json'}", f"t=@{tmp_path / 't.txt'}")
    assert echoed(result)["json"] == {"j": {"deep": [1, 2]}, "t": "some text"}


def test_cli_httpie_empty_header_and_unset_header(httpbin: str) -> None:
    headers = headers_of(http(httpbin + "/headers", "X-Empty;", "User-Agent:"))
    assert headers["X-Empty"] == ""
    assert "User-Agent" not in headers


def test_cli_httpie_multipart_and_boundary(httpbin: str) -> None:
    result = http("--multipart", "--boundary", "xyzBOUNDARY", httpbin + "/post", "a=1", "b=2")
    data = echoed(result)
    assert data["form"] == {"a": "1", "b": "2"}
    assert data["headers"]["Content-Type"] == "multipart/form-data; boundary=xyzBOUNDARY"  # type: ignore[index]


def test_cli_httpie_chunked(httpbin: str) -> None:
    data = echoed(http("--chunked", httpbin + "/post", "a=1"))
    assert data["headers"]["Transfer-Encoding"] == "chunked"  # type: ignore[index]
    assert data["json"] == {"a": "1"}


@pytest.mark.parametrize(
    ("flag", "size", "deflated"),
    [("-x", 2000, True), ("-x", 1, False), ("-xx", 1, True)],
    ids=["smaller", "not-smaller", "always"],
)
def test_cli_httpie_compress(httpbin: str, flag: str, size: int, deflated: bool) -> None:
    headers = headers_of(http(flag, httpbin + "/post", "a=" + "x" * size))
    assert (headers.get("Content-Encoding") == "deflate") is deflated


# --- output -----------------------------------------------------------------------------


def test_cli_httpie_all_prints_every_redirect(httpbin: str) -> None:
    result = http("--follow", "--all", "-p", "h", httpbin + "/redirect/2")
    statuses = [line for line in result.stdout.splitlines() if line.startswith("HTTP/1.1")]
    assert statuses == ["HTTP/1.1 302 Found", "HTTP/1.1 302 Found", "HTTP/1.1 200 OK"]


def test_cli_httpie_all_prints_the_auth_challenge(httpbin: str) -> None:
    result = http(
        "--all", "-p", "Hh", "-A", "digest", "-a", "u:p", httpbin + "/digest-auth/auth/u/p"
    )
    assert result.stdout.count("GET /digest-auth/auth/u/p HTTP/1.1") == 2
    assert result.stdout.index("401 Unauthorized") < result.stdout.index("200 OK")


def test_cli_httpie_history_print(httpbin: str) -> None:
    result = http("--follow", "--all", "-P", "H", "-p", "h", httpbin + "/redirect/1")
    assert result.stdout.startswith("GET /redirect/1 HTTP/1.1\n")
    assert "302" not in result.stdout
    assert result.stdout.count("HTTP/1.1 200 OK") == 1


@pytest.mark.parametrize("flag", ["--meta", "-m", "-vv"])
def test_cli_httpie_meta(httpbin: str, flag: str) -> None:
    result = http(flag, httpbin + "/get")
    assert "Elapsed time: " in result.stdout
    assert "Remote: http://localhost:" in result.stdout
    assert ("GET /get HTTP/1.1" in result.stdout) is (flag == "-vv")


def test_cli_httpie_quiet(httpbin: str) -> None:
    once = http("-q", "--check-status", httpbin + "/status/404")
    twice = http("-qq", "--check-status", httpbin + "/status/404")
    assert (once.stdout, once.returncode, twice.stdout, twice.returncode) == ("", 4, "", 4)
    assert "HTTP 404" in once.stderr
    assert twice.stderr == ""


def test_cli_httpie_stream_formats_each_line(httpbin: str) -> None:
    result = http("-S", "--pretty", "format", httpbin + "/stream/3")
    assert result.stdout.count('\n    "id": ') == 3


def _b64(text: str) -> str:
    import base64

    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((), '{\n    "a": 22,\n    "b": 1\n}'),
        (("--unsorted",), '{\n    "b": 1,\n    "a": 22\n}'),
        (("--format-options", "json.indent:2,json.sort_keys:false"), '{\n  "b": 1,\n  "a": 22\n}'),
    ],
    ids=["sorted", "unsorted", "indent"],
)
def test_cli_httpie_sorting_and_format_options(
    httpbin: str, flags: tuple[str, ...], expected: str
) -> None:
    url = httpbin + "/base64/" + _b64('{"b":1,"a":22}')
    result = http("--pretty", "format", "--response-mime", "application/json", *flags, url)
    assert result.stdout == expected


def test_cli_httpie_sorted_headers(httpbin: str) -> None:
    result = http("--pretty", "format", "-h", httpbin + "/get")
    names = [line.split(":")[0] for line in result.stdout.splitlines()[1:] if line]
    assert names == sorted(names, key=str.lower)


def test_cli_httpie_style(httpbin: str) -> None:
    assert "\x1b[38;5;" in http("--pretty", "all", "--style", "monokai", httpbin + "/get").stdout
    result = http("--style", "nope", httpbin + "/get")
    assert result.returncode == 2
    assert "--style: choose one of" in result.stderr


def test_cli_httpie_response_mime_and_charset(httpbin: str) -> None:
    url = httpbin + "/base64/" + _b64('{"w":"caf\u00e9\u00e9"}')
    plain = http("--pretty", "format", url)
    assert plain.stdout.startswith('{"w"')  # not JSON by its Content-Type: as received
    result = http(
        "--pretty", "format", "--response-mime", "application/json",
        "--response-charset", "latin-1", url,
    )  # fmt: skip
    assert result.stdout == '{\n    "w": "caf\u00c3\u00a9\u00c3\u00a9"\n}'


# --- network ----------------------------------------------------------------------------


def test_cli_httpie_path_as_is(httpbin: str) -> None:
    normalised = echoed(http(httpbin + "/anything/../get"))
    assert normalised["url"] == f"http://localhost{httpbin}/get"
    kept = echoed(http("--path-as-is", httpbin + "/anything/../get"))
    assert kept["url"].endswith("/anything/../get")  # type: ignore[attr-defined]


def test_cli_httpie_max_headers(httpbin: str) -> None:
    result = http("--max-headers", "2", httpbin + "/get")
    assert result.returncode == 1
    assert "got more than 2 headers" in result.stderr


def test_cli_httpie_proxy(httpbin: str) -> None:
    proxy = "http:http://127.0.0.1" + httpbin
    data = echoed(http("--proxy", proxy, "http://example.invalid/anything"))
    assert data["headers"]["Host"] == "example.invalid"  # type: ignore[index]


def test_cli_httpie_bad_proxy_is_usage_error(httpbin: str) -> None:
    result = http("--proxy", "nonsense", httpbin + "/get")
    assert result.returncode == 2
    assert "PROTOCOL:URL" in result.stderr


def test_cli_httpie_version_and_traceback() -> None:
    from transom import __version__

    assert http("--version").stdout == f"{__version__}\n"
    result = http("--traceback", ":1/x")
    assert "Traceback (most recent call last)" in result.stderr
    assert "ConnectError" in result.stderr


def test_cli_httpie_download_continue(httpbin: str, tmp_path: Path) -> None:
    target = tmp_path / "part.bin"
    full = bytes(ord("a") + n % 26 for n in range(100))
    target.write_bytes(full[:40])
    result = http("-d", "-c", "-o", str(target), httpbin + "/range/100")
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == full
    assert "(resumed at 40 B)" in result.stderr


def test_cli_httpie_continue_needs_output(httpbin: str) -> None:
    result = http("-d", "-c", httpbin + "/range/100")
    assert result.returncode == 2
    assert "--continue needs --download and --output" in result.stderr


# --- credentials and configuration ------------------------------------------------------


def test_cli_httpie_netrc(httpbin: str, clean_env: Path) -> None:
    netrc = clean_env / ".netrc"
    netrc.write_text("machine localhost login u password p\n")
    netrc.chmod(0o600)
    assert echoed(http(httpbin + "/basic-auth/u/p"))["authenticated"] is True
    assert http("--ignore-netrc", "--check-status", httpbin + "/basic-auth/u/p").returncode == 4


def test_cli_httpie_config_default_options(httpbin: str, clean_env: Path) -> None:
    config = clean_env / ".config" / "transom"
    config.mkdir(parents=True)
    (config / "config.json").write_text(json.dumps({"default_options": ["--follow", "-p", "h"]}))
    followed = http(httpbin + "/redirect/1")
    assert followed.stdout.startswith("HTTP/1.1 200 OK\n")
    not_followed = http("--no-follow", httpbin + "/redirect/1")
    assert not_followed.stdout.startswith("HTTP/1.1 302 Found\n")


def test_cli_httpie_bad_config_is_reported(
    httpbin: str, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = clean_env / "cfg"
    config.mkdir()
    (config / "config.json").write_text('{"default_options": "--follow"}')
    monkeypatch.setenv("TRANSOM_CONFIG_DIR", str(config))
    result = http(httpbin + "/get")
    assert result.returncode == 2
    assert "default_options must be a list of strings" in result.stderr
