"""Request items and URL shorthands of ``transom http``, parsed in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from transom.client._cli_download import filename_for
from transom.client._cli_items import ItemError, parse_items, parse_url
from transom.client._cli_nested import NestedJSONError
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
    assert items.json() == {"name": "v", "n": 3, "url": "http://x", "a:b": "c"}
    assert items.files == [("f", ("a.txt", str(upload), None))]
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


@pytest.mark.parametrize(
    ("items", "body"),
    [
        (
            ["user[name]=x", "user[tags][]=a", "user[tags][]=b"],
            {"user": {"name": "x", "tags": ["a", "b"]}},
        ),
        (["list[0]=x", "list[2]:=3"], {"list": ["x", None, 3]}),
        (["[]=x", "[]:=2"], ["x", 2]),
        (["[1]=x"], [None, "x"]),
        ([r"a\[b\]=1", r"x[\1]=2"], {"a[b]": "1", "x": {"1": "2"}}),
        (["a[b][c]:=true", "a[b][d]=e"], {"a": {"b": {"c": True, "d": "e"}}}),
    ],
    ids=["object", "index", "top-array", "top-index", "escapes", "deep"],
)
def test_cli_items_nested_json(items: list[str], body: object) -> None:
    assert parse_items(items).json() == body


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (
            ["a=1", "a[b]=2"],
            "Type Error: Cannot perform 'key' based access on 'a' which has a type of 'string' "
            "but this operation requires a type of 'object'.\na[b]\n ^^^",
        ),
        (
            ["a[]=1", "a[x]=2"],
            "Type Error: Cannot perform 'key' based access on 'a' which has a type of 'array' "
            "but this operation requires a type of 'object'.\na[x]\n ^^^",
        ),
        (
            ["[]=1", "a=2"],
            "Type Error: Cannot perform 'key' based access on '' which has a type of 'array' "
            "but this operation requires a type of 'object'.\na\n^",
        ),
        (["x[=1"], "Syntax Error: Expecting TEXT, NUMBER or RIGHT_BRACKET\nx[\n  ^"),
        (["x]=1"], "Syntax Error: Expecting LEFT_BRACKET\nx]\n ^"),
        (["[a]=1"], "Syntax Error: Expecting NUMBER or RIGHT_BRACKET\n[a]\n ^"),
    ],
    ids=["string-as-object", "array-as-object", "array-root", "open", "close", "root-key"],
)
def test_cli_items_nested_json_errors(items: list[str], message: str) -> None:
    with pytest.raises(NestedJSONError) as caught:
        parse_items(items).json()
    assert str(caught.value) == message


def test_cli_items_empty_and_unset_headers_and_file_values(tmp_path: Path) -> None:
    (tmp_path / "v.json").write_text('{"x": [1]}')
    (tmp_path / "t.txt").write_text("hello\n")
    items = parse_items(
        ["X-Empty;", "User-Agent:", f"j:=@{tmp_path / 'v.json'}", f"t=@{tmp_path / 't.txt'}"]
    )
    assert items.headers == [("X-Empty", "")]
    assert items.unset == ["User-Agent"]
    assert items.json() == {"j": {"x": [1]}, "t": "hello\n"}


def test_cli_items_form_keeps_keys_flat() -> None:
    assert parse_items(["a[b]=1", "n:=2"]).form() == [("a[b]", "1"), ("n", "2")]
