"""Timeout and Limits settings."""

from __future__ import annotations

import pytest

from transom.client import Limits, Timeout
from transom.exceptions import ConfigurationError


def test_timeout_defaults_on() -> None:
    timeout = Timeout()
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (5.0, 5.0, 5.0, 5.0)


def test_timeout_float_and_overrides() -> None:
    timeout = Timeout(2.0, read=None)
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (2.0, None, 2.0, 2.0)
    assert Timeout(timeout) == timeout


@pytest.mark.parametrize("value", [0, -1, "5"], ids=["zero", "negative", "string"])
def test_timeout_rejects_bad_values(value: object) -> None:
    with pytest.raises(ConfigurationError, match="positive number"):
        Timeout(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs", [{"max_connections": 0}, {"max_connections_per_host": 0}], ids=["total", "per-host"]
)
def test_limits_reject_zero(kwargs: dict[str, int]) -> None:
    with pytest.raises(ConfigurationError):
        Limits(**kwargs)


def test_limits_per_host_defaults_to_total() -> None:
    assert Limits(max_connections=7).max_connections_per_host == 7


def test_timeout_expect_defaults_to_one_second() -> None:
    assert Timeout().expect == 1.0
    assert Timeout(30.0).expect == 1.0  # the positional value is about failing, not waiting


def test_timeout_expect_override_and_copy() -> None:
    timeout = Timeout(2.0, expect=None)
    assert timeout.expect is None
    assert Timeout(timeout) == timeout
    assert Timeout(timeout, expect=0.5).expect == 0.5
    assert Timeout(expect=0.5) != Timeout()
    assert repr(Timeout(expect=0.5)).endswith("pool=5.0, expect=0.5)")


def test_timeout_expect_rejects_bad_values() -> None:
    with pytest.raises(ConfigurationError, match="expect=0"):
        Timeout(expect=0)
