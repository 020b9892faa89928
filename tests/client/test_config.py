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
