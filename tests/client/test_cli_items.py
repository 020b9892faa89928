"""Request items and URL shorthands of ``transom http``, parsed in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from transom.client._cli_download import filename_for
from transom.client._cli_items import ItemError, parse_items, parse_url
from transom.client.models import Request, Response


@pytest.mark.parametrize(
    ("text", "url"),
    [
        (":8000/path", "http://localhost:8000/path"),
        (":8000", "http://localhost:8000"),
        (":/x", "http://localhost/x"),
        ("example.org/a", "http://example.org/a"),
        ("https://example.org", "https://example.org"),
    ],
)
def test_cli_items_parse_url(text: str, url: str) -> None:
    assert parse_url(text) == url


def test_cli_items_sorts_every_kind(tmp_path: Path) -> None:
    upload = tmp_path / "a.txt"
    upload.write_text("x")
    items = parse_items(
        ["X-A:1", "q==2", "name=v", "n:=3", f"f@{upload}", "url=http://x", r"a\:b=c", "H: spaced "]
    )
    assert items.headers == [("X-A", "1"), ("H", "spaced")]
    assert items.params == [("q", "2")]
    assert items.data == {"name": "v", "n": 3, "url": "http://x", "a:b": "c"}
    assert items.files == [("f", ("a.txt", str(upload)))]
    assert items.has_data


@pytest.mark.parametrize(
    ("item", "message"),
    [("novalue", "not a request item"), ("=x", "empty"), ("a:=nope", "not valid JSON")],
)
def test_cli_items_reject_bad_items(item: str, message: str) -> None:
    with pytest.raises(ItemError, match=message):
        parse_items([item])


@pytest.mark.parametrize(
    ("disposition", "path", "name"),
    [
        ('attachment; filename="report.pdf"', "/x", "report.pdf"),
        ('attachment; filename="../../etc/passwd"', "/x", "passwd"),
        (None, "/files/data.csv", "data.csv"),
        (None, "/", "index.html"),
        ('attachment; filename=".."', "/x", "index.html"),
    ],
    ids=["header", "traversal", "url", "root", "dots"],
)
def test_cli_download_filename_is_safe(disposition: str | None, path: str, name: str) -> None:
    headers = {"content-disposition": disposition} if disposition else {}
    response = Response(200, headers=headers, request=Request("GET", "http://h" + path))
    assert filename_for(response) == name
