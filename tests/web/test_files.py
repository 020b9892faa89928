from __future__ import annotations

import os
import re
from contextlib import asynccontextmanager

import pytest

import transom.web.files as files_module
from transom.client import ASGITransport, AsyncClient
from transom.exceptions import FileResponseError
from transom.http.dates import format_http_date
from transom.web.files import FileResponse, content_disposition, file_etag, guess_media_type

DATA = bytes(range(256)) * 1000  # 256000 bytes: several 64 KiB chunks


@pytest.fixture
def path(tmp_path):
    p = tmp_path / "data.bin"
    p.write_bytes(DATA)
    return p


@asynccontextmanager
async def serving(factory):
    async def app(scope, receive, send):
        await factory()(scope, receive, send)

    transport = ASGITransport(app)
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def get(path, method="GET", headers=None, **kwargs):
    async with serving(lambda: FileResponse(path, **kwargs)) as client:
        return await client.request(method, "/", headers=headers or {})


async def capture(response, method="GET", headers=(), extensions=None):
    """Call the response as the server would; return the messages it sent."""
    scope = {"type": "http", "method": method, "headers": list(headers), "path": "/"}
    scope["extensions"] = extensions or {}
    messages = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        messages.append(message)

    await response(scope, receive, send)
    return messages


async def test_files_whole_file_with_validators(path):
    r = await get(path)
    st = os.stat(path)
    assert r.status_code == 200
    assert r.content == DATA
    assert r.headers["content-length"] == str(len(DATA))
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["etag"] == f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
    assert r.headers["last-modified"] == format_http_date(st.st_mtime)


async def test_files_read_in_64k_chunks(path):
    messages = await capture(FileResponse(path))
    bodies = [m["body"] for m in messages[1:]]
    assert max(len(b) for b in bodies) == 64 * 1024
    assert b"".join(bodies) == DATA
    assert messages[-1].get("more_body", False) is False


async def test_files_head_never_opens_the_file(path, monkeypatch):
    def no_open(*args, **kwargs):
        raise AssertionError("HEAD opened the file")

    monkeypatch.setattr(files_module, "open", no_open, raising=False)
    messages = await capture(FileResponse(path), "HEAD")
    assert dict(messages[0]["headers"])[b"content-length"] == str(len(DATA)).encode()
    assert messages[1:] == [{"type": "http.response.body", "body": b""}]


def test_files_etag_is_strong_size_and_mtime(path):
    st = os.stat(path)
    assert file_etag(st) == f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
    assert not file_etag(st).startswith("W/")


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("a.html", "text/html; charset=utf-8"),
        ("a.js", "text/javascript; charset=utf-8"),
        ("a.css", "text/css; charset=utf-8"),
        ("a.json", "application/json"),
        ("a.png", "image/png"),
        ("a.woff2", "font/woff2"),
        ("a.unknownext", "application/octet-stream"),
    ],
)
async def test_files_media_type_guessed(tmp_path, name, media_type):
    p = tmp_path / name
    p.write_bytes(b"x")
    r = await get(p)
    assert r.headers["content-type"] == media_type


def test_files_guess_media_type_is_case_insensitive():
    assert guess_media_type("LOGO.SVG") == "image/svg+xml"


async def test_files_media_type_override(path):
    r = await get(path, media_type="text/csv")
    assert r.headers["content-type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("report.pdf", 'attachment; filename="report.pdf"'),
        (
            "résumé.pdf",
            "attachment; filename=\"resume.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
        ),
        ('a"b\\c.txt', "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%22b%5Cc.txt"),
        ("日本.txt", "attachment; filename=\".txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt"),
        ("数据", "attachment; filename=\"download\"; filename*=UTF-8''%E6%95%B0%E6%8D%AE"),
    ],
    ids=["ascii", "accents", "quotes", "cjk", "no-ascii-left"],
)
def test_files_content_disposition(filename, expected):
    assert content_disposition("attachment", filename) == expected


async def test_files_content_disposition_header_and_inline(path):
    r = await get(path, filename="Bericht 2024.pdf", content_disposition_type="inline")
    assert r.headers["content-disposition"] == 'inline; filename="Bericht 2024.pdf"'
    assert r.headers["content-type"] == "application/pdf"


# -- conditional requests -------------------------------------------------------


async def test_files_if_none_match_gives_304(path):
    etag = file_etag(os.stat(path))
    r = await get(path, headers={"If-None-Match": f'"other", W/{etag}'})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["etag"] == etag
    assert "content-length" not in r.headers


async def test_files_if_modified_since_gives_304(path):
    st = os.stat(path)
    r = await get(path, headers={"If-Modified-Since": format_http_date(st.st_mtime)})
    assert r.status_code == 304


async def test_files_if_modified_since_ignored_with_if_none_match(path):
    st = os.stat(path)
    headers = {"If-None-Match": '"stale"', "If-Modified-Since": format_http_date(st.st_mtime)}
    r = await get(path, headers=headers)
    assert r.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{"If-Match": '"other"'}, {"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}],
    ids=["if-match", "if-unmodified-since"],
)
async def test_files_failed_precondition_gives_412(path, headers):
    r = await get(path, headers=headers)
    assert r.status_code == 412
    assert r.content == b""


async def test_files_if_match_current_etag_sends_file(path):
    r = await get(path, headers={"If-Match": file_etag(os.stat(path))})
    assert (r.status_code, len(r.content)) == (200, len(DATA))


async def test_files_other_status_skips_conditionals(path):
    r = await get(path, status_code=404, headers={"If-None-Match": "*", "Range": "bytes=0-1"})
    assert r.status_code == 404
    assert r.content == DATA


# -- ranges ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [("bytes=0-99", 0, 99), ("bytes=-500", 255500, 255999), ("bytes=255000-", 255000, 255999)],
    ids=["first-last", "suffix", "open"],
)
async def test_files_single_range_gives_206(path, value, start, end):
    r = await get(path, headers={"Range": value})
    assert r.status_code == 206
    assert r.content == DATA[start : end + 1]
    assert r.headers["content-range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert r.headers["content-length"] == str(end - start + 1)


async def test_files_range_across_chunks(path):
    r = await get(path, headers={"Range": "bytes=65000-200000"})
    assert r.content == DATA[65000:200001]


def parse_multipart(content_type, body):
    boundary = re.search(r"boundary=(\S+)", content_type).group(1).encode()
    parts = body.split(b"--" + boundary)
    assert parts[0] == b""
    assert parts[-1] == b"--\r\n"
    out = []
    for part in parts[1:-1]:
        head, _, data = part.partition(b"\r\n\r\n")
        out.append((head.strip().decode(), data.removesuffix(b"\r\n")))
    return out


async def test_files_multiple_ranges_give_multipart(path):
    r = await get(path, headers={"Range": "bytes=0-9, 100-109, -5"})
    assert r.status_code == 206
    assert r.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert r.headers["content-length"] == str(len(r.content))
    parts = parse_multipart(r.headers["content-type"], r.content)
    size = len(DATA)
    assert [data for _, data in parts] == [DATA[0:10], DATA[100:110], DATA[-5:]]
    assert parts[2][0] == (
        "Content-Type: application/octet-stream\r\n"
        f"Content-Range: bytes {size - 5}-{size - 1}/{size}"
    )


async def test_files_overlapping_ranges_are_coalesced(path):
    r = await get(path, headers={"Range": "bytes=0-99, 50-149"})
    assert r.status_code == 206
    assert r.headers["content-range"] == f"bytes 0-149/{len(DATA)}"


async def test_files_unsatisfiable_range_gives_416(path):
    r = await get(path, headers={"Range": f"bytes={len(DATA)}-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{len(DATA)}"
    assert r.content == b""


@pytest.mark.parametrize("value", ["bytes=9-1", "items=0-1", "bytes=abc", "bytes=" + "0-0," * 101])
async def test_files_malformed_or_abusive_range_gives_200(path, value):
    r = await get(path, headers={"Range": value})
    assert r.status_code == 200
    assert r.content == DATA


async def test_files_if_range_matching_etag_honours_range(path):
    etag = file_etag(os.stat(path))
    r = await get(path, headers={"Range": "bytes=0-3", "If-Range": etag})
    assert (r.status_code, r.content) == (206, DATA[:4])


@pytest.mark.parametrize(
    "if_range", ['"stale"', "Mon, 01 Jan 2001 00:00:00 GMT"], ids=["etag", "date"]
)
async def test_files_if_range_stale_sends_whole_file(path, if_range):
    r = await get(path, headers={"Range": "bytes=0-3", "If-Range": if_range})
    assert (r.status_code, len(r.content)) == (200, len(DATA))


async def test_files_if_range_date_matching(path):
    date = format_http_date(os.stat(path).st_mtime)
    r = await get(path, headers={"Range": "bytes=0-3", "If-Range": date})
    assert r.status_code == 206


@pytest.mark.parametrize("method", ["HEAD", "POST"])
async def test_files_range_only_for_get(path, method):
    r = await get(path, method, headers={"Range": "bytes=0-3"})
    assert r.status_code == 200
    assert r.headers["content-length"] == str(len(DATA))


async def test_files_empty_file(tmp_path):
    p = tmp_path / "empty"
    p.write_bytes(b"")
    r = await get(p, headers={"Range": "bytes=-10"})
    assert (r.status_code, r.content) == (200, b"")
    r = await get(p, headers={"Range": "bytes=0-"})
    assert r.status_code == 416


# -- pathsend and errors ---------------------------------------------------------


async def test_files_pathsend_when_server_offers_it(path):
    messages = await capture(FileResponse(path), extensions={"http.response.pathsend": {}})
    assert messages[1] == {"type": "http.response.pathsend", "path": str(path.resolve())}


async def test_files_pathsend_not_used_for_ranges(path):
    messages = await capture(
        FileResponse(path),
        headers=[(b"range", b"bytes=0-1")],
        extensions={"http.response.pathsend": {}},
    )
    assert messages[0]["status"] == 206
    assert messages[1]["body"] == DATA[:2]


async def test_files_missing_file_raises_clear_error(tmp_path):
    with pytest.raises(FileResponseError, match=r"nope\.txt"):
        await capture(FileResponse(tmp_path / "nope.txt"))


async def test_files_directory_raises(tmp_path):
    with pytest.raises(FileResponseError, match="not a regular file"):
        FileResponse(tmp_path)


async def test_files_file_shrinking_while_sent_raises(path):
    response = FileResponse(path)
    path.write_bytes(b"short")
    with pytest.raises(FileResponseError, match="shrank"):
        await capture(response)


async def test_files_client_gone_stops_quietly(path):
    response = FileResponse(path)
    sent = []

    async def send(message):
        sent.append(message)
        if len(sent) == 3:
            raise OSError("client disconnected")

    scope = {"type": "http", "method": "GET", "headers": [], "path": "/"}
    await response(scope, None, send)
    assert len(sent) == 3


async def test_files_created_after_the_response_is_stat_when_sent(tmp_path):
    p = tmp_path / "later.txt"
    response = FileResponse(p)
    p.write_bytes(b"late")
    messages = await capture(response)
    assert messages[0]["status"] == 200
    assert b"".join(m.get("body", b"") for m in messages[1:]) == b"late"


async def test_files_background_runs_and_content_type_header_is_kept(path):
    from transom.web.background import BackgroundTask

    ran = []
    response = FileResponse(
        path, headers={"Content-Type": "text/x-custom"}, background=BackgroundTask(ran.append, 1)
    )
    messages = await capture(response)
    assert dict(messages[0]["headers"])[b"content-type"] == b"text/x-custom"
    assert ran == [1]
