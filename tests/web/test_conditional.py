from __future__ import annotations

import pytest

from transom.http.dates import format_http_date
from transom.http.headers import Headers
from transom.web.background import BackgroundTask
from transom.web.conditional import (
    body_etag,
    conditional_response,
    evaluate_preconditions,
    if_range_matches,
    not_modified_headers,
    parse_etags,
)
from transom.web.responses import JSONResponse, PlainTextResponse, StreamingResponse

ETAG = '"v2"'
MTIME = 1_700_000_000.0
BEFORE = format_http_date(MTIME - 60)
AT = format_http_date(MTIME)
AFTER = format_http_date(MTIME + 60)


def evaluate(method="GET", etag=ETAG, last_modified=MTIME, **headers):
    h = Headers({k.replace("_", "-"): v for k, v in headers.items()})
    return evaluate_preconditions(method, h, etag=etag, last_modified=last_modified)


def test_conditional_parse_etags():
    assert parse_etags('"a", W/"b" ,junk, ""') == ['"a"', 'W/"b"', '""']
    assert parse_etags(" * ") == ["*"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"v2"', 304),
        ('W/"v2"', 304),
        ('"v1", "v2"', 304),
        ("*", 304),
        ('"v1"', None),
        ("garbage", None),
    ],
    ids=["exact", "weak-match", "list", "star", "other", "malformed"],
)
def test_conditional_if_none_match_weak_comparison(value, expected):
    assert evaluate(if_none_match=value) == expected


def test_conditional_if_none_match_on_unsafe_method_is_412():
    assert evaluate("PUT", if_none_match="*") == 412


def test_conditional_if_none_match_with_weak_etag():
    assert evaluate(etag='W/"v2"', if_none_match='"v2"') == 304


@pytest.mark.parametrize(
    ("date", "expected"), [(AT, 304), (AFTER, 304), (BEFORE, None), ("not a date", None)]
)
def test_conditional_if_modified_since(date, expected):
    assert evaluate(if_modified_since=date) == expected


def test_conditional_if_modified_since_ignored_when_if_none_match_present():
    # RFC 9110 §13.1.3: the ETag says "changed", so the date must not say "not modified".
    assert evaluate(if_none_match='"v1"', if_modified_since=AFTER) is None


def test_conditional_if_modified_since_ignored_for_post():
    assert evaluate("POST", if_modified_since=AFTER) is None


def test_conditional_subsecond_mtime_compares_by_second():
    assert evaluate(last_modified=MTIME + 0.7, if_modified_since=AT) == 304


@pytest.mark.parametrize(
    ("value", "etag", "expected"),
    [
        ('"v2"', ETAG, None),
        ("*", ETAG, None),
        ('"v1"', ETAG, 412),
        ('W/"v2"', ETAG, 412),
        ('"v2"', 'W/"v2"', 412),
        ('"v2"', None, 412),
    ],
    ids=["match", "star", "other", "weak-tag-in-header", "weak-etag", "no-etag"],
)
def test_conditional_if_match_strong_comparison(value, etag, expected):
    assert evaluate("PUT", etag=etag, if_match=value) == expected


@pytest.mark.parametrize(("date", "expected"), [(BEFORE, 412), (AT, None), (AFTER, None)])
def test_conditional_if_unmodified_since(date, expected):
    assert evaluate("PUT", if_unmodified_since=date) == expected


def test_conditional_if_unmodified_since_ignored_when_if_match_present():
    assert evaluate("PUT", if_match=ETAG, if_unmodified_since=BEFORE) is None


def test_conditional_if_match_checked_before_if_none_match():
    assert evaluate(if_match='"v1"', if_none_match=ETAG) == 412


def test_conditional_no_last_modified_ignores_dates():
    assert evaluate(last_modified=None, if_modified_since=AFTER) is None
    assert evaluate("PUT", last_modified=None, if_unmodified_since=BEFORE) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(ETAG, True), ('"v1"', False), ('W/"v2"', False), (AT, True), (AFTER, False), ("x", False)],
    ids=["etag", "other-etag", "weak", "date", "other-date", "junk"],
)
def test_conditional_if_range(value, expected):
    assert if_range_matches(value, etag=ETAG, last_modified=MTIME) is expected


def test_conditional_not_modified_headers_keep_validators_only():
    raw = [
        (b"content-type", b"text/plain"),
        (b"content-length", b"5"),
        (b"etag", b'"x"'),
        (b"cache-control", b"max-age=60"),
        (b"vary", b"Accept-Encoding"),
    ]
    assert not_modified_headers(raw) == raw[2:]


def test_conditional_body_etag_is_strong_and_stable():
    assert body_etag(b"hello") == body_etag(b"hello") != body_etag(b"hello!")
    assert body_etag(b"").startswith('"')


def scope_with(method="GET", **headers):
    raw = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return {"type": "http", "method": method, "headers": raw}


def test_conditional_response_adds_body_etag():
    response = conditional_response(scope_with(), JSONResponse({"a": 1}))
    assert response.status_code == 200
    assert response.headers["etag"] == body_etag(b'{"a":1}')


def test_conditional_response_304_keeps_validators_and_background():
    task = BackgroundTask(print)
    original = JSONResponse({"a": 1}, headers={"Cache-Control": "max-age=5"}, background=task)
    tag = body_etag(original.body)
    response = conditional_response(scope_with(if_none_match=tag), original)
    assert response.status_code == 304
    assert response.body == b""
    assert response.headers == {"etag": tag, "cache-control": "max-age=5"}
    assert response.background is task


def test_conditional_response_412_for_failed_if_match():
    response = conditional_response(scope_with("GET", if_match='"nope"'), PlainTextResponse("x"))
    assert response.status_code == 412


def test_conditional_response_uses_existing_etag():
    original = PlainTextResponse("x", headers={"ETag": 'W/"v7"'})
    assert conditional_response(scope_with(if_none_match='"v7"'), original).status_code == 304


def test_conditional_response_leaves_streams_and_errors_alone():
    stream = StreamingResponse(iter([b"a"]))
    assert conditional_response(scope_with(if_none_match="*"), stream) is stream
    missing = PlainTextResponse("no", status_code=404)
    assert conditional_response(scope_with(if_none_match="*"), missing) is missing


def test_conditional_response_in_an_app():
    from transom.testing import TestClient
    from transom.web.application import App

    app = App()

    @app.get("/note")
    async def note(request):
        return conditional_response(request, JSONResponse({"title": "hi"}))

    with TestClient(app) as client:
        first = client.get("/note")
        again = client.get("/note", headers={"If-None-Match": first.headers["etag"]})
        head = client.head("/note", headers={"If-None-Match": first.headers["etag"]})
    assert (first.status_code, again.status_code, head.status_code) == (200, 304, 304)
    assert again.content == b""
