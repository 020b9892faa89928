"""Forms: urlencoded and multipart bodies, UploadFile, limits, bad input."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest

from transom.exceptions import ConfigurationError
from transom.http.multipart import MultipartEncoder
from transom.testing import TestClient
from transom.web.application import App
from transom.web.forms import SPOOL_MAX_SIZE, FormLimits, UploadFile, safe_filename
from transom.web.requests import Request

uploads: list[UploadFile] = []


def form_app(**options: Any) -> App:
    app = App(**options)

    @app.post("/form")
    async def form(request: Request) -> dict[str, Any]:
        data = await request.form()
        out: dict[str, Any] = {}
        for key, value in data.multi_items():
            if isinstance(value, UploadFile):
                uploads.append(value)
                content = await value.read()
                out[key] = {
                    "filename": value.filename,
                    "type": value.content_type,
                    "size": value.size,
                    "read": len(content),
                    "head": content[:5].decode("latin-1"),
                    "on_disk": not value._in_memory,
                }
            else:
                out.setdefault(key, []).append(value)
        return out

    @app.post("/few")
    async def few(request: Request) -> dict[str, int]:
        data = await request.form(max_fields=2, max_files=1, max_part_size=10)
        return {"count": len(data.multi_items())}

    @app.post("/save", max_body_size=8 * 1024 * 1024)
    async def save(request: Request) -> dict[str, str]:
        data = await request.form()
        upload = data["file"]
        assert isinstance(upload, UploadFile)
        target = await upload.save(request.query_params["dir"])
        return {"saved": str(target)}

    return app


def multipart(
    fields: list[tuple[str, str]], files: list[tuple[str, Any]]
) -> tuple[bytes, dict[str, str]]:
    encoder = MultipartEncoder(fields, files)
    return b"".join(encoder), {"content-type": encoder.content_type}


def test_form_urlencoded() -> None:
    response = TestClient(form_app()).post("/form", data={"a": ["1", "2"], "b": "x y"})
    assert response.json() == {"a": ["1", "2"], "b": ["x y"]}


def test_form_multipart_fields_and_file() -> None:
    response = TestClient(form_app()).post(
        "/form",
        data={"title": "héllo"},
        files={"photo": ("cat.png", b"\x89PNG" + b"x" * 100, "image/png")},
    )
    assert response.json() == {
        "title": ["héllo"],
        "photo": {
            "filename": "cat.png",
            "type": "image/png",
            "size": 104,
            "read": 104,
            "head": "\x89PNGx",
            "on_disk": False,
        },
    }


def test_form_large_file_spools_to_disk_and_is_closed_after_response() -> None:
    uploads.clear()
    size = SPOOL_MAX_SIZE + 300_000
    body, headers = multipart([], [("big", ("big.bin", os.urandom(size)))])
    client = TestClient(form_app(max_body_size=4 * 1024 * 1024))
    data = client.post("/form", content=body, headers=headers).json()
    assert data["big"]["size"] == size and data["big"]["read"] == size
    assert data["big"]["on_disk"] is True
    assert uploads[-1].file.closed


def test_form_save_into_directory_uses_safe_name(tmp_path: Path) -> None:
    body, headers = multipart([], [("file", ("../../etc/passwd", b"root:x"))])
    response = TestClient(form_app()).post(
        "/save", params={"dir": str(tmp_path)}, content=body, headers=headers
    )
    saved = Path(response.json()["saved"])
    assert saved == tmp_path / "passwd"
    assert saved.read_bytes() == b"root:x"


def test_form_save_to_explicit_path(tmp_path: Path) -> None:
    upload = UploadFile(filename="a.txt")

    async def scenario() -> Path:
        await upload.write(b"content")
        try:
            return await upload.save(tmp_path / "chosen.txt")
        finally:
            await upload.close()

    import asyncio

    assert asyncio.run(scenario()).read_bytes() == b"content"


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\report.pdf", "report.pdf"),
        ("..", "upload"),
        ("", "upload"),
        (None, "upload"),
        ("a\x00b<c>.txt", "a_b_c_.txt"),
        ("résumé.pdf", "résumé.pdf"),
        (".hidden", "hidden"),
    ],
    ids=["traversal", "windows", "dotdot", "empty", "none", "controls", "unicode", "dotfile"],
)
def test_safe_filename(name: str | None, safe: str) -> None:
    assert safe_filename(name) == safe


def test_form_wrong_content_type_is_415() -> None:
    response = TestClient(form_app()).post("/form", json={"a": 1})
    assert response.status_code == 415
    assert "multipart/form-data" in response.text


def test_form_multipart_without_boundary_is_400() -> None:
    response = TestClient(form_app()).post(
        "/form", content=b"x", headers={"content-type": "multipart/form-data"}
    )
    assert response.status_code == 400
    assert "boundary" in response.text


@pytest.mark.parametrize(
    "body",
    [
        b'--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated',
        b"garbage without any delimiter",
        b"--B\r\nno-colon-header\r\n\r\nx\r\n--B--\r\n",
    ],
    ids=["unterminated", "no-delimiter", "bad-header"],
)
def test_form_malformed_multipart_is_400(body: bytes) -> None:
    response = TestClient(form_app()).post(
        "/form", content=body, headers={"content-type": "multipart/form-data; boundary=B"}
    )
    assert response.status_code == 400
    assert "invalid multipart body" in response.text


def test_form_too_many_fields_is_413() -> None:
    body, headers = multipart([("a", "1"), ("b", "2"), ("c", "3")], [])
    response = TestClient(form_app()).post("/few", content=body, headers=headers)
    assert response.status_code == 413
    assert "more than 2 fields" in response.text


def test_form_too_many_files_is_413() -> None:
    body, headers = multipart([], [("f", ("a.txt", b"1")), ("g", ("b.txt", b"2"))])
    response = TestClient(form_app()).post("/few", content=body, headers=headers)
    assert response.status_code == 413
    assert "more than 1 files" in response.text


def test_form_file_too_large_is_413() -> None:
    body, headers = multipart([], [("f", ("a.txt", b"x" * 11))])
    response = TestClient(form_app()).post("/few", content=body, headers=headers)
    assert response.status_code == 413


def test_form_field_too_large_is_413() -> None:
    body, headers = multipart([("a", "x" * 11)], [])
    response = TestClient(form_app()).post("/few", content=body, headers=headers)
    assert response.status_code == 413


def test_form_urlencoded_too_many_fields_is_413() -> None:
    response = TestClient(form_app()).post("/few", data={"a": "1", "b": "2", "c": "3"})
    assert response.status_code == 413


def test_form_body_over_app_limit_is_413() -> None:
    body, headers = multipart([], [("f", ("a.bin", b"x" * 5000))])
    response = TestClient(form_app(max_body_size=1000)).post("/form", content=body, headers=headers)
    assert response.status_code == 413


def test_form_app_limits_apply() -> None:
    body, headers = multipart([], [("f", ("a.txt", b"1")), ("g", ("b.txt", b"2"))])
    client = TestClient(form_app(form_limits=FormLimits(max_files=1)))
    assert client.post("/form", content=body, headers=headers).status_code == 413


def test_form_non_utf8_field_is_400() -> None:
    body = b'--B\r\nContent-Disposition: form-data; name="a"\r\n\r\n\xff\xfe\r\n--B--\r\n'
    response = TestClient(form_app()).post(
        "/form", content=body, headers={"content-type": "multipart/form-data; boundary=B"}
    )
    assert response.status_code == 400
    assert "not valid UTF-8" in response.text


def test_form_limits_validate() -> None:
    with pytest.raises(ConfigurationError, match="max_files"):
        FormLimits(max_files=-1)


def test_form_app_limits_wrong_type_is_clear() -> None:
    client = TestClient(form_app(form_limits={"max_files": 1}))
    with pytest.raises(ConfigurationError, match="FormLimits"):
        client.post("/form", data={"a": "1"})


def test_form_large_file_save_copies_from_disk(tmp_path: Path) -> None:
    data = os.urandom(SPOOL_MAX_SIZE + 100_000)
    body, headers = multipart([], [("file", ("big.bin", data))])
    response = TestClient(form_app()).post(
        "/save", params={"dir": str(tmp_path)}, content=body, headers=headers
    )
    assert Path(response.json()["saved"]).read_bytes() == data


def test_upload_file_repr_and_default_headers() -> None:
    import asyncio

    upload = UploadFile(filename="a.txt", content_type="text/plain")
    try:
        assert repr(upload) == "UploadFile(filename='a.txt', size=0, content_type='text/plain')"
        assert len(upload.headers) == 0
    finally:
        asyncio.run(upload.close())


def test_form_file_size_limit_message() -> None:
    body, headers = multipart([], [("f", ("a.txt", b"x" * 11))])
    response = TestClient(form_app()).post(
        "/few", content=body, headers={**headers, "accept": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["detail"].startswith("invalid multipart body")


@pytest.mark.parametrize(
    ("size", "on_disk"),
    [(SPOOL_MAX_SIZE - 1, False), (SPOOL_MAX_SIZE, False), (SPOOL_MAX_SIZE + 1, True)],
    ids=["under", "exactly", "one-over"],
)
def test_form_file_rolls_to_disk_only_past_the_spool_limit(size: int, on_disk: bool) -> None:
    body, headers = multipart([], [("f", ("f.bin", os.urandom(size)))])
    data = TestClient(form_app()).post("/form", content=body, headers=headers).json()
    assert (data["f"]["size"], data["f"]["read"], data["f"]["on_disk"]) == (size, size, on_disk)


@pytest.mark.parametrize("size", [SPOOL_MAX_SIZE, SPOOL_MAX_SIZE + 1], ids=["in-memory", "on-disk"])
def test_form_save_replaces_a_longer_existing_file(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    (tmp_path / "f.bin").write_bytes(b"old" * SPOOL_MAX_SIZE)
    body, headers = multipart([], [("file", ("f.bin", data))])
    response = TestClient(form_app()).post(
        "/save", params={"dir": str(tmp_path)}, content=body, headers=headers
    )
    assert (tmp_path / "f.bin").read_bytes() == data
    assert response.json() == {"saved": str(tmp_path / "f.bin")}


async def test_upload_file_save_writes_many_pieces_in_order(tmp_path: Path) -> None:
    upload = UploadFile(filename="a.bin")
    pieces = [bytes([i % 256]) * (i % 500 + 1) for i in range(2000)]  # two writev batches
    for piece in pieces:
        await upload.write(piece)
    assert upload._in_memory
    try:
        saved = await upload.save(tmp_path / "out.bin")
    finally:
        await upload.close()
    assert saved.read_bytes() == b"".join(pieces)


async def test_upload_file_reads_from_where_it_was_seeked() -> None:
    upload = UploadFile()
    await upload.write(b"hello ")
    await upload.write(b"world")
    assert upload.size == 11 and upload._in_memory
    await upload.seek(6)
    assert await upload.read() == b"world"
    await upload.seek(0)
    assert await upload.read(5) == b"hello"
    await upload.close()


async def test_upload_file_write_after_a_seek_overwrites() -> None:
    upload = UploadFile()
    await upload.write(b"hello")
    await upload.seek(0)
    await upload.write(b"J")
    await upload.seek(0)
    assert await upload.read() == b"Jello"
    await upload.close()


async def test_upload_file_file_attribute_stands_at_the_write_position() -> None:
    upload = UploadFile()
    await upload.write(b"abc")
    assert upload.file.read() == b""
    upload.file.seek(0)
    assert upload.file.read() == b"abc"
    await upload.close()


async def test_upload_file_write_past_the_spool_limit_moves_to_disk() -> None:
    upload = UploadFile()
    first, second = os.urandom(SPOOL_MAX_SIZE), os.urandom(10)
    await upload.write(first)
    assert upload._in_memory
    await upload.write(second)
    assert not upload._in_memory and upload.size == SPOOL_MAX_SIZE + 10
    await upload.seek(0)
    assert await upload.read() == first + second
    await upload.close()
    assert upload.file.closed


async def test_upload_file_in_memory_past_the_limit_after_file_use_moves_to_disk() -> None:
    upload = UploadFile()
    await upload.write(b"abc")
    assert upload.file.read() == b""  # joined into an io.BytesIO
    await upload.write(bytes(SPOOL_MAX_SIZE))
    assert not upload._in_memory
    await upload.seek(0)
    assert await upload.read(4) == b"abc\x00"
    await upload.close()


async def test_upload_file_close_in_memory_leaves_a_closed_file() -> None:
    upload = UploadFile()
    await upload.write(b"abc")
    await upload.close()
    assert upload.file.closed


async def test_upload_file_write_in_memory_past_the_limit_is_refused() -> None:
    upload = UploadFile()
    upload.write_in_memory(b"x" * SPOOL_MAX_SIZE)
    with pytest.raises(ValueError, match="use await write"):
        upload.write_in_memory(b"x")
    await upload.close()


async def test_upload_file_given_a_file_uses_it(tmp_path: Path) -> None:
    target = tmp_path / "given.bin"
    with target.open("w+b") as handle:
        upload = UploadFile(handle, filename="given.bin")
        await upload.write(b"given content")
        await upload.seek(0)
        assert await upload.read() == b"given content"
        saved = await upload.save(tmp_path / "copy.bin")
    assert saved.read_bytes() == b"given content"


@pytest.mark.parametrize(
    "size", [500_000, SPOOL_MAX_SIZE + 300_000], ids=["in-memory", "rolled-over"]
)
def test_form_file_streamed_in_many_chunks_arrives_whole(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    body, headers = multipart([("title", "t")], [("file", ("f.bin", data))])
    pieces = iter([body[i : i + 65536] for i in range(0, len(body), 65536)])
    response = TestClient(form_app()).post(
        "/save", params={"dir": str(tmp_path)}, content=pieces, headers=headers
    )
    assert response.status_code == 200
    assert (tmp_path / "f.bin").read_bytes() == data


def test_form_small_chunk_after_rollover_keeps_its_place(tmp_path: Path) -> None:
    # The chunk that crosses the spool limit waits for disk; a later one small
    # enough to fit in memory must not overtake it.
    data = os.urandom(SPOOL_MAX_SIZE + 15)
    body, headers = multipart([], [("file", ("f.bin", data))])
    start = body.index(data)
    cuts = [start + SPOOL_MAX_SIZE - 10, start + SPOOL_MAX_SIZE + 10]
    pieces = iter([body[: cuts[0]], body[cuts[0] : cuts[1]], body[cuts[1] :]])
    response = TestClient(form_app()).post(
        "/save", params={"dir": str(tmp_path)}, content=pieces, headers=headers
    )
    assert response.status_code == 200
    assert (tmp_path / "f.bin").read_bytes() == data


@pytest.mark.parametrize("size", [10, SPOOL_MAX_SIZE + 10], ids=["small", "over-the-spool-limit"])
async def test_upload_file_save_of_a_given_file_copies_all_of_it(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    for given in (io.BytesIO(data), (tmp_path / "given.bin").open("w+b")):
        if not isinstance(given, io.BytesIO):
            given.write(data)
        upload = UploadFile(given, filename="given.bin")  # size not given: 0
        saved = await upload.save(tmp_path / "copy.bin")
        await upload.close()
        assert saved.read_bytes() == data
