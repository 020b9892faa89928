"""QueryParams, quote, unquote and urlencode."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

import transom.http.query
from transom.http.multidict import MultiDict
from transom.http.query import QueryParams, quote, unquote, urlencode


def test_query_module_examples_run() -> None:
    assert doctest.testmod(transom.http.query).failed == 0


@pytest.mark.parametrize(
    ("source", "pairs"),
    [
        ("a=1&b=2&a=3", [("a", "1"), ("b", "2"), ("a", "3")]),
        ("?a=1", [("a", "1")]),
        (b"a=%C3%A9&b=c+d", [("a", "é"), ("b", "c d")]),
        ("a+b=c%2Bd", [("a b", "c+d")]),
        ("a&=b&&c=", [("a", ""), ("", "b"), ("c", "")]),
        ("a=1=2", [("a", "1=2")]),
        ("a=%zz%&b=%FF", [("a", "%zz%"), ("b", "\ufffd")]),
        (b"a=\xff", [("a", "\ufffd")]),
        ("a;b=1", [("a;b", "1")]),
        ("", []),
        (None, []),
        (
            {"a": "1", "b": ["2", "3"], "c": 4, "d": True},
            [("a", "1"), ("b", "2"), ("b", "3"), ("c", "4"), ("d", "true")],
        ),
        ([("a", "1"), ("a", 2.5)], [("a", "1"), ("a", "2.5")]),
        (MultiDict([("a", "1"), ("a", "2")]), [("a", "1"), ("a", "2")]),
    ],
    ids=[
        "repeated",
        "leading-question-mark",
        "bytes-utf8",
        "plus-is-space",
        "empty-pieces",
        "equals-in-value",
        "percent-junk",
        "raw-invalid-utf8",
        "semicolon-is-not-a-separator",
        "empty",
        "none",
        "mapping",
        "pairs",
        "multidict",
    ],
)
def test_query_params_parse(source: object, pairs: list[tuple[str, str]]) -> None:
    assert QueryParams(source).multi_items() == pairs  # type: ignore[arg-type]


def test_query_params_first_value_wins() -> None:
    assert QueryParams("a=1&a=2")["a"] == "1"


def test_query_params_reject_other_value_types() -> None:
    with pytest.raises(TypeError, match="not dict"):
        QueryParams({"a": {}})  # type: ignore[arg-type]


def test_query_params_str_encodes() -> None:
    params = QueryParams([("a b", "c&d=e"), ("ü", "~*/")])
    assert str(params) == "a+b=c%26d%3De&%C3%BC=~*%2F"
    assert QueryParams(str(params)) == params


def test_query_params_repr() -> None:
    assert repr(QueryParams("a=1")) == "QueryParams('a=1')"


def test_query_params_long_query() -> None:
    query = "&".join(f"k{i}=v{i}" for i in range(5000))
    params = QueryParams(query)
    assert len(params) == 5000
    assert params["k4999"] == "v4999"


@given(st.lists(st.tuples(st.text(), st.text()), max_size=6))
def test_query_params_round_trip(pairs: list[tuple[str, str]]) -> None:
    params = QueryParams(pairs)
    assert QueryParams(str(params)).multi_items() == pairs


def test_quote_and_unquote() -> None:
    assert quote("a b/ü?") == "a%20b/%C3%BC%3F"
    assert quote("a/b", safe="") == "a%2Fb"
    assert unquote("a%20b+c") == "a b+c"
    assert unquote("a%20b+c", plus=True) == "a b c"
    assert unquote("%FF") == "\ufffd"
    assert unquote("100%") == "100%"


def test_urlencode_pairs_and_mapping() -> None:
    assert urlencode([("a", "1"), ("a", "2")]) == "a=1&a=2"
    assert urlencode({"q": "x y"}) == "q=x+y"
