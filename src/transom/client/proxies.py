"""HTTP proxies: ``proxy=`` or the environment, forwarding and CONNECT tunnels.

A plain-http request goes to the proxy with an absolute-form target
(RFC 9112 §3.2.2). An https request opens a tunnel with ``CONNECT
host:port`` (RFC 9110 §9.3.6) and then does TLS with the origin through it,
so the proxy never sees the traffic. With ``trust_env=True`` (the default)
``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` and ``NO_PROXY`` (either
case) are read, as curl does; loopback hosts (``localhost``, 127.0.0.0/8,
``::1``) never go through an environment proxy.

Credentials in the proxy URL (``http://user:pw@proxy:3128``) become a
``Proxy-Authorization: Basic`` header.
"""

from __future__ import annotations

import ipaddress
import urllib.request
from urllib.parse import unquote

from transom.client._backend import NetworkStream
from transom.client.auth import basic_header
from transom.client.config import Timeout
from transom.exceptions import ConfigurationError, ProxyError, RemoteProtocolError
from transom.http import events
from transom.http.connection import NEED_DATA, Connection, Role
from transom.http.url import URL

__all__ = ["Proxy", "env_proxies", "open_tunnel", "proxy_from_env"]


class Proxy:
    """An HTTP proxy: ``Proxy("http://user:pw@proxy.example:3128")``."""

    __slots__ = ("authorization", "url")

    def __init__(self, url: str | URL) -> None:
        self.url = url if isinstance(url, URL) else URL(url)
        if self.url.scheme != "http":
            raise ConfigurationError(
                f"proxy {self.url!r}: only http:// proxies are supported "
                "(https targets are still tunnelled end-to-end with CONNECT)"
            )
        self.authorization: str | None = None
        if self.url.username:
            password = unquote(self.url.password or "")
            self.authorization = basic_header(unquote(self.url.username), password)

    @property
    def host(self) -> str:
        return self.url.host

    @property
    def port(self) -> int:
        return self.url.effective_port or 80

    def __repr__(self) -> str:
        return f"Proxy({self.url.scheme}://{self.url.netloc})"


def env_proxies() -> dict[str, str]:
    """The proxy settings of the environment (read once per transport)."""
    return urllib.request.getproxies_environment()


def proxy_from_env(url: URL, proxies: dict[str, str]) -> Proxy | None:
    """The proxy ``proxies`` (from ``env_proxies``) names for ``url``, honouring ``NO_PROXY``."""
    chosen = proxies.get(url.scheme) or proxies.get("all")
    if not chosen or _is_loopback(url.host):
        return None
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # untyped stdlib
    if bypass(url.netloc, proxies):
        return None
    if "://" not in chosen:
        chosen = "http://" + chosen
    return Proxy(chosen)


def _is_loopback(host: str) -> bool:
    # As Go's ProxyFromEnvironment does: this machine is never reached through an
    # environment proxy (an explicit proxy= still applies).
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    # An IPv4-mapped address (::ffff:127.0.0.1) is loopback when its IPv4 address is: Python
    # 3.13 says so, 3.11 and 3.12 do not, and the answer must not depend on the version.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


async def open_tunnel(
    stream: NetworkStream, proxy: Proxy, host: str, port: int, timeout: Timeout
) -> None:
    """Ask the proxy on ``stream`` for a tunnel to ``host:port``; raises ``ProxyError``."""
    authority = (f"[{host}]" if ":" in host else host) + f":{port}"
    headers = [(b"host", authority.encode("ascii"))]
    if proxy.authorization:
        headers.append((b"proxy-authorization", proxy.authorization.encode("ascii")))
    conn = Connection(Role.CLIENT)
    request = events.Request(b"CONNECT", authority.encode("ascii"), headers)
    await stream.write(conn.send_request(request), timeout.write)
    while True:
        try:
            event = conn.next_event()
        except RemoteProtocolError as exc:
            raise ProxyError(f"invalid answer from the proxy {proxy!r}: {exc}") from exc
        if event is NEED_DATA:
            conn.receive_data(await stream.read(timeout.read))
            continue
        if isinstance(event, events.Response) and event.status_code < 200:
            continue
        break
    if not isinstance(event, events.Response):
        raise ProxyError(f"the proxy {proxy!r} closed the connection instead of answering CONNECT")
    if not 200 <= event.status_code < 300:
        reason = event.reason.decode("latin-1")
        raise ProxyError(
            f"the proxy {proxy!r} refused the tunnel to {authority}: {event.status_code} {reason}"
        )
    if conn.trailing_data[0]:
        raise ProxyError(f"the proxy {proxy!r} sent data before the tunnel was used")
