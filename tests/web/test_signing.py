"""Signatures: rotation, tampering, purposes kept apart."""

from __future__ import annotations

import pytest

from transom.exceptions import ConfigurationError
from transom.web.signing import Signer, b64decode, b64encode, secret_keys

NEW = "new-key-0123456789abcdef"
OLD = "old-key-0123456789abcdef"


def test_signer_round_trips_a_payload() -> None:
    signer = Signer(NEW, salt="session")
    assert signer.unsign(signer.sign(b"\x00hello\xff")) == b"\x00hello\xff"


def test_signer_old_key_still_verifies_after_rotation() -> None:
    token = Signer(OLD, salt="session").sign(b"data")
    assert Signer([NEW, OLD], salt="session").unsign(token) == b"data"


def test_signer_new_key_signs_after_rotation() -> None:
    token = Signer([NEW, OLD], salt="session").sign(b"data")
    assert Signer(NEW, salt="session").unsign(token) == b"data"
    assert Signer(OLD, salt="session").unsign(token) is None


def test_signer_dropped_key_no_longer_verifies() -> None:
    token = Signer(OLD, salt="session").sign(b"data")
    assert Signer(NEW, salt="session").unsign(token) is None


def test_signer_salts_keep_purposes_apart() -> None:
    token = Signer(NEW, salt="session").sign(b"data")
    assert Signer(NEW, salt="csrf").unsign(token) is None


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: t[:-1], id="truncated-mac"),
        pytest.param(lambda t: t[:10], id="truncated"),
        pytest.param(lambda t: "x" + t, id="payload-changed"),
        pytest.param(lambda t: t.replace(".", ""), id="no-dot"),
        pytest.param(lambda t: t + "==", id="padding"),
        pytest.param(lambda t: t.split(".")[0] + ".", id="empty-mac"),
        pytest.param(lambda t: "é" + t, id="non-ascii"),
        pytest.param(lambda t: "", id="empty"),
        pytest.param(lambda t: "....", id="dots"),
    ],
)
def test_signer_refuses_tampered_tokens(mangle: object) -> None:
    signer = Signer(NEW, salt="session")
    token = signer.sign(b"payload")
    assert callable(mangle)
    assert signer.unsign(mangle(token)) is None


def test_secret_keys_refuses_short_and_empty_keys() -> None:
    with pytest.raises(ConfigurationError, match="at least 16"):
        secret_keys("short")
    with pytest.raises(ConfigurationError, match="at least one key"):
        secret_keys([])
    with pytest.raises(ConfigurationError, match="str or bytes"):
        secret_keys([NEW, 42])  # type: ignore[list-item]  # the misuse under test


def test_secret_keys_accepts_bytes_and_keeps_order() -> None:
    assert secret_keys([NEW.encode(), OLD]) == (NEW.encode(), OLD.encode())


def test_b64_round_trip_and_garbage() -> None:
    assert b64decode(b64encode(b"\xfb\xff")) == b"\xfb\xff"
    assert b64decode("@@@") is None
    assert b64decode("é") is None
