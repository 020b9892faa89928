"""Status codes, reason phrases, and which statuses carry no body (RFC 9110 §15)."""

from __future__ import annotations

from http import HTTPStatus

_PHRASES: dict[int, str] = {s.value: s.phrase for s in HTTPStatus}
_PHRASES.setdefault(425, "Too Early")
_PHRASES.setdefault(421, "Misdirected Request")

#: Pre-encoded phrases for the hot path of the writer.
REASON_BYTES: dict[int, bytes] = {code: phrase.encode("ascii") for code, phrase in _PHRASES.items()}


def reason_phrase(status_code: int) -> str:
    """The standard reason phrase, or ``""`` for an unregistered code.

    >>> reason_phrase(404)
    'Not Found'
    """
    return _PHRASES.get(status_code, "")


def is_informational(status_code: int) -> bool:
    """1xx: an interim response, followed by the final one (RFC 9110 §15.2)."""
    return 100 <= status_code < 200


def carries_no_body(status_code: int) -> bool:
    """1xx, 204 and 304 responses never have content (RFC 9110 §6.4.1, RFC 9112 §6.3)."""
    return status_code < 200 or status_code in (204, 304)
