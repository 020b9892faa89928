from __future__ import annotations

import itertools

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from transom.web.ranges import MAX_RANGES, ByteRanges, content_range, parse_range_header

SIZE = 1000


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bytes=0-99", [(0, 99)]),
        ("bytes=-500", [(500, 999)]),
        ("bytes=500-", [(500, 999)]),
        ("bytes=-5000", [(0, 999)]),
        ("bytes=900-5000", [(900, 999)]),
        ("bytes=999-999", [(999, 999)]),
        ("BYTES=0-0", [(0, 0)]),
        ("bytes = 0-1 , 4-5", [(0, 1), (4, 5)]),
        ("bytes=0-1,,4-5,", [(0, 1), (4, 5)]),
        ("bytes=10-19,0-9", [(0, 19)]),
        ("bytes=0-50,40-99,200-299", [(0, 99), (200, 299)]),
        ("bytes=0-99,100-199", [(0, 199)]),
        ("bytes=0-9,2000-3000", [(0, 9)]),
    ],
    ids=[
        "first-last",
        "suffix",
        "open",
        "suffix-longer-than-file",
        "last-beyond-end",
        "last-byte",
        "unit-case",
        "whitespace",
        "empty-elements",
        "sorted-and-adjacent-merged",
        "overlap-merged",
        "adjacent-merged",
        "unsatisfiable-dropped",
    ],
)
def test_ranges_satisfiable(value, expected):
    assert parse_range_header(value, SIZE) == expected


@pytest.mark.parametrize(
    "value",
    ["bytes=1000-", "bytes=5000-6000", "bytes=-0", "bytes=1000-1001,2000-"],
    ids=["start-at-size", "beyond", "zero-suffix", "all-beyond"],
)
def test_ranges_unsatisfiable_is_empty_list(value):
    assert parse_range_header(value, SIZE) == []


@pytest.mark.parametrize(
    "value",
    [
        "bytes=",
        "bytes=-",
        "bytes=abc",
        "bytes=5-1",
        "bytes=0-1,5-1",
        "bytes=+1-2",
        "bytes=1-2-3",
        "bytes=0x10-20",
        "lines=0-1",
        "0-1",
        "bytes=" + "9" * 40 + "-",
        "bytes=" + "0-0," * 5000,
    ],
    ids=[
        "empty",
        "dash",
        "letters",
        "reversed",
        "one-reversed",
        "plus",
        "three-parts",
        "hex",
        "other-unit",
        "no-unit",
        "huge-number",
        "huge-header",
    ],
)
def test_ranges_malformed_is_ignored(value):
    assert parse_range_header(value, SIZE) is None


def test_ranges_too_many_are_ignored():
    value = "bytes=" + ",".join(f"{i * 2}-{i * 2}" for i in range(MAX_RANGES + 1))
    assert parse_range_header(value, SIZE) is None


def test_ranges_at_the_cap_are_honoured():
    value = "bytes=" + ",".join(f"{i * 3}-{i * 3}" for i in range(MAX_RANGES))
    assert len(parse_range_header(value, SIZE)) == MAX_RANGES


def test_ranges_overlap_abuse_is_ignored():
    assert parse_range_header("bytes=0-,0-,0-", SIZE) is None


def test_ranges_empty_file_suffix_sends_whole():
    assert parse_range_header("bytes=-10", 0) is None


def test_ranges_empty_file_first_pos_unsatisfiable():
    assert parse_range_header("bytes=0-", 0) == []


def test_ranges_content_range():
    assert content_range(5, 9, 10) == "bytes 5-9/10"


def test_ranges_multipart_framing_and_length():
    data = bytes(range(100))
    body = ByteRanges([(0, 9), (50, 59)], 100, "application/octet-stream", boundary="B")
    out = b"".join(head + data[s : e + 1] for head, s, e in body.parts()) + body.trailer
    assert len(out) == body.content_length
    assert out == (
        b"--B\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-9/100\r\n\r\n"
        + data[0:10]
        + b"\r\n--B\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 50-59/100"
        b"\r\n\r\n" + data[50:60] + b"\r\n--B--\r\n"
    )


def test_ranges_multipart_random_boundary():
    a = ByteRanges([(0, 1), (3, 4)], 10, "text/plain")
    b = ByteRanges([(0, 1), (3, 4)], 10, "text/plain")
    assert a.boundary != b.boundary
    assert a.content_type == f"multipart/byteranges; boundary={a.boundary}"


@given(
    size=st.integers(min_value=1, max_value=300),
    specs=st.lists(
        st.tuples(st.integers(0, 400), st.integers(0, 400) | st.none()), min_size=1, max_size=8
    ),
)
def test_ranges_cover_exactly_the_requested_bytes(size, specs):
    specs = [(a, b) for a, b in specs if b is None or b >= a]
    assume(specs)
    value = "bytes=" + ",".join(f"{a}-{'' if b is None else b}" for a, b in specs)
    wanted = set()
    for a, b in specs:
        wanted.update(range(a, size if b is None else min(b + 1, size)))
    result = parse_range_header(value, size)
    requested = sum(len(range(a, size if b is None else min(b + 1, size))) for a, b in specs)
    if requested > 2 * size:
        assert result is None
        return
    assert result is not None
    covered = [i for start, end in result for i in range(start, end + 1)]
    assert sorted(covered) == sorted(wanted)  # no byte twice, none missing
    assert all(a[1] + 1 < b[0] for a, b in itertools.pairwise(result))  # sorted, disjoint, apart
