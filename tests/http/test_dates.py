"""HTTP dates (RFC 9110 §5.6.7)."""

from __future__ import annotations

import pytest

from transom.http.dates import format_http_date, parse_http_date

SUNDAY = 784111777.0  # Sun, 06 Nov 1994 08:49:37 GMT, the RFC's example


def test_dates_format_is_imf_fixdate() -> None:
    assert format_http_date(SUNDAY) == "Sun, 06 Nov 1994 08:49:37 GMT"


def test_dates_format_truncates_fractions() -> None:
    assert format_http_date(SUNDAY + 0.9) == "Sun, 06 Nov 1994 08:49:37 GMT"


def test_dates_format_epoch() -> None:
    assert format_http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        b"Sun, 06 Nov 1994 08:49:37 GMT",
        "  Sun, 06 Nov 1994 08:49:37 GMT ",
    ],
    ids=["imf-fixdate", "rfc850", "asctime", "bytes", "surrounding-space"],
)
def test_dates_parse_accepts_the_three_forms(value: str | bytes) -> None:
    assert parse_http_date(value) == SUNDAY


@pytest.mark.parametrize(
    "value",
    [
        "",
        "yesterday",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT; extra",
    ],
    ids=["empty", "word", "utc", "one-digit-day", "31-feb", "hour-25", "bad-month", "trailing"],
)
def test_dates_parse_refuses_other_text(value: str) -> None:
    assert parse_http_date(value) is None


@pytest.mark.parametrize(
    ("two_digits", "year"), [("94", 1994), ("69", 2069), ("70", 1970), ("05", 2005)]
)
def test_dates_parse_rfc850_two_digit_years(two_digits: str, year: int) -> None:
    stamp = parse_http_date(f"Thursday, 01-Jan-{two_digits} 00:00:00 GMT")
    assert stamp is not None
    assert format_http_date(stamp).split()[3] == str(year)


def test_dates_roundtrip() -> None:
    for stamp in (0.0, SUNDAY, 1_700_000_000.0, 4_102_444_800.0):
        assert parse_http_date(format_http_date(stamp)) == stamp
