"""HTTP dates: format IMF-fixdate, parse every form a recipient must accept.

RFC 9110 §5.6.7: senders generate only IMF-fixdate
(``Sun, 06 Nov 1994 08:49:37 GMT``); recipients also accept the obsolete
RFC 850 (``Sunday, 06-Nov-94 08:49:37 GMT``) and asctime
(``Sun Nov  6 08:49:37 1994``) forms. Everything is UTC. This module uses
``calendar``/``datetime`` only: the sans-IO core never reads a clock.
"""

from __future__ import annotations

import calendar
import datetime
import re

__all__ = ["format_http_date", "parse_http_date"]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBER = {name: number for number, name in enumerate(_MONTHS, start=1)}
_LONG_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_TIME = r"(?P<hour>\d\d):(?P<minute>\d\d):(?P<second>\d\d)"
_MONTH = r"(?P<month>" + "|".join(_MONTHS) + ")"
_IMF_FIXDATE = re.compile(
    r"(?P<wkday>"
    + "|".join(_DAYS)
    + r"), (?P<day>\d\d) "
    + _MONTH
    + r" (?P<year>\d{4}) "
    + _TIME
    + " GMT"
)
_RFC850 = re.compile(
    r"(?P<wkday>"
    + "|".join(_LONG_DAYS)
    + r"), (?P<day>\d\d)-"
    + _MONTH
    + r"-(?P<year>\d\d) "
    + _TIME
    + " GMT"
)
_ASCTIME = re.compile(
    r"(?P<wkday>"
    + "|".join(_DAYS)
    + r") "
    + _MONTH
    + r" (?P<day>[ \d]\d) "
    + _TIME
    + r" (?P<year>\d{4})"
)


def format_http_date(timestamp: float) -> str:
    """Format a POSIX timestamp as an IMF-fixdate (RFC 9110 §5.6.7).

    >>> format_http_date(784111777)
    'Sun, 06 Nov 1994 08:49:37 GMT'
    """
    moment = datetime.datetime.fromtimestamp(int(timestamp), tz=datetime.UTC)
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} "
        f"{moment.year:04d} {moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} GMT"
    )


def parse_http_date(value: str | bytes) -> float | None:
    """Parse an HTTP date in any of the three forms; ``None`` if it is not one.

    >>> parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT")
    784111777.0
    >>> parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT")
    784111777.0
    >>> parse_http_date("Sun Nov  6 08:49:37 1994")
    784111777.0
    >>> parse_http_date("yesterday") is None
    True
    """
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = value.strip()
    match = _IMF_FIXDATE.fullmatch(value) or _ASCTIME.fullmatch(value)
    if match is not None:
        year = int(match["year"])
    else:
        match = _RFC850.fullmatch(value)
        if match is None:
            return None
        year = _expand_two_digit_year(int(match["year"]))
    try:
        moment = datetime.datetime(
            year,
            _MONTH_NUMBER[match["month"]],
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"]),
        )
    except ValueError:  # 31 Feb, hour 25, ...
        return None
    return float(calendar.timegm(moment.timetuple()))


def _expand_two_digit_year(year: int) -> int:
    # RFC 9110 §5.6.7: a two-digit year that appears to be more than 50 years
    # in the future is taken as the most recent past year with those digits.
    # Without a clock, "now" is the current century's turn: 00-69 -> 20xx.
    return 2000 + year if year < 70 else 1900 + year
