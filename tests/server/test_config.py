"""ServerConfig: safe defaults and clear errors for bad settings."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from transom.exceptions import ConfigurationError
from transom.server.config import ServerConfig

from .rawhttp import hello_app


def test_config_defaults_bound_everything() -> None:
    config = ServerConfig(hello_app)
    assert config.limits.max_body_size is not None
    assert config.header_timeout == 10.0
    assert config.keep_alive_timeout == 5.0
    assert 0 < config.max_connections < 1_000_000
    assert config.forwarded_allow_ips == "127.0.0.1"
    assert config.body_timeout == 30.0
    assert config.body_min_rate == 256.0  # a body read pace, on by default
    assert config.limits.max_header_count == 256  # generous: max_header_bytes bounds the head


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ServerConfig(hello_app).port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"app": "nocolon"}, "module:attribute", id="app-string"),
        pytest.param({"app": 42}, "ASGI callable", id="app-type"),
        pytest.param({"port": 70000}, "port must be", id="port"),
        pytest.param({"workers": 0}, "workers must be at least 1", id="workers"),
        pytest.param({"loop": "tokio"}, "loop must be one of", id="loop"),
        pytest.param({"http_parser": "h11"}, "http_parser must be one of", id="parser"),
        pytest.param({"lifespan": "maybe"}, "lifespan must be one of", id="lifespan"),
        pytest.param({"root_path": "api/"}, "root_path", id="root-path"),
        pytest.param({"max_body_size": 0}, "max_body_size must be greater", id="body-size"),
        pytest.param({"header_timeout": 0}, "header_timeout must be greater", id="timeout"),
        pytest.param({"shutdown_timeout": -1}, "shutdown_timeout", id="shutdown"),
        pytest.param({"body_min_rate": -1}, "body_min_rate must be zero", id="body-rate"),
        pytest.param(
            {"body_min_rate": float("nan")}, "body_min_rate must be zero", id="body-rate-nan"
        ),
        pytest.param({"max_connections": 0}, "max_connections", id="connections"),
        pytest.param({"ssl_keyfile": "key.pem"}, "needs ssl_certfile", id="key-no-cert"),
        pytest.param({"ssl_certfile": "/no/such.pem"}, "is not a file", id="cert-missing"),
        pytest.param({"forwarded_allow_ips": "10.0.0.1, nonsense"}, "nonsense", id="allow-ips"),
        pytest.param({"log_level": "loud"}, "log_level", id="log-level"),
    ],
)
def test_config_rejects_bad_setting(options: dict[str, Any], message: str) -> None:
    options.setdefault("app", hello_app)
    with pytest.raises(ConfigurationError, match=message):
        ServerConfig(**options)


def test_config_bind_description() -> None:
    assert ServerConfig("m:app", host="::1", port=80).bind_description == "http://[::1]:80"
    assert ServerConfig("m:app", uds="/tmp/s").bind_description == "http+unix:///tmp/s"
