"""Basic, Bearer and Digest auth flows, against a server that checks them."""

from __future__ import annotations

import base64

import pytest

from transom.client import AsyncClient, BearerAuth, Client, DigestAuth
from transom.client.auth import parse_challenge

from .servers import ServerThread
from .testapp import DIGEST_PASSWORD, DIGEST_USER


async def test_auth_basic_from_tuple(server: ServerThread) -> None:
    async with AsyncClient(auth=("user", "pässword")) as client:
        response = await client.get(server.url + "/basic")
    value = response.json()["authorization"]
    assert value == "Basic " + base64.b64encode("user:pässword".encode()).decode()


async def test_auth_bearer(server: ServerThread) -> None:
    async with AsyncClient() as client:
        response = await client.get(server.url + "/basic", auth=BearerAuth("t0ken"))
    assert response.json()["authorization"] == "Bearer t0ken"


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256", "MD5-sess", "SHA-256-sess"])
async def test_auth_digest_answers_challenge(server: ServerThread, algorithm: str) -> None:
    auth = DigestAuth(DIGEST_USER, DIGEST_PASSWORD)
    async with AsyncClient(auth=auth) as client:
        response = await client.get(server.url + "/digest", params={"algorithm": algorithm})
    assert response.status_code == 200
    assert response.json() == {"authenticated": True, "nc": "00000001"}


def test_auth_digest_counts_nonce_uses(server: ServerThread) -> None:
    auth = DigestAuth(DIGEST_USER, DIGEST_PASSWORD)
    with Client(auth=auth) as client:
        first = client.get(server.url + "/digest")
        second = client.get(server.url + "/digest")  # answered at once, same nonce, nc+1
    assert first.json()["nc"] == "00000001"
    assert second.json()["nc"] == "00000002"
    assert len(second.history) == 0


async def test_auth_digest_retries_stale_nonce(server: ServerThread) -> None:
    auth = DigestAuth(DIGEST_USER, DIGEST_PASSWORD)
    async with AsyncClient(auth=auth) as client:
        response = await client.get(server.url + "/digest", params={"stale": "1"})
    assert response.status_code == 200


async def test_auth_digest_wrong_password_gives_401(server: ServerThread) -> None:
    async with AsyncClient(auth=DigestAuth(DIGEST_USER, "wrong")) as client:
        response = await client.get(server.url + "/digest")
    assert response.status_code == 401


async def test_auth_digest_resends_post_body(server: ServerThread) -> None:
    auth = DigestAuth(DIGEST_USER, DIGEST_PASSWORD)
    async with AsyncClient(auth=auth) as client:
        response = await client.post(server.url + "/digest", content=b"payload")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('Digest realm="a b", qop="auth,auth-int"', {"realm": "a b", "qop": "auth,auth-int"}),
        ('Digest realm="say \\"hi\\"", stale=TRUE', {"realm": 'say "hi"', "stale": "TRUE"}),
        ("Digest nonce=abc,opaque=x", {"nonce": "abc", "opaque": "x"}),
    ],
    ids=["quoted", "escaped", "tokens"],
)
def test_auth_parse_challenge(header: str, expected: dict[str, str]) -> None:
    assert parse_challenge(header) == ("digest", expected)
