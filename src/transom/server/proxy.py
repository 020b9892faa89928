"""Client address and scheme from a trusted reverse proxy.

Behind a proxy the TCP peer is the proxy, not the client. The proxy says who
the client was in ``Forwarded`` (RFC 7239) or the de-facto
``X-Forwarded-For``/``X-Forwarded-Proto``. Anyone can send these headers, so
they are believed only when the TCP peer is in ``forwarded_allow_ips``
(addresses, CIDR networks, ``unix:`` for Unix-socket peers, or ``*``).

Each proxy appends the address it received the request from, so the list is
read right to left: addresses of trusted proxies are skipped and the first
untrusted one is the client (RFC 7239 §5.2, §7.4). ``Forwarded`` wins when both
kinds are present.

>>> trust = ProxyTrust("127.0.0.1, 10.0.0.0/8")
>>> headers = [(b"x-forwarded-for", b"203.0.113.9, 10.1.2.3")]
>>> forwarded_client(headers, ("127.0.0.1", 5000), "http", trust)
(('203.0.113.9', 0), 'http')
"""

from __future__ import annotations

import ipaddress

from transom.http.events import HeaderList

__all__ = ["PROXY_NAMES", "ProxyTrust", "forwarded_client"]

Client = tuple[str, int] | None
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ProxyTrust:
    """Which peers may speak for the client (``forwarded_allow_ips``)."""

    __slots__ = ("_everyone", "_hosts", "_networks")

    def __init__(self, allow: str) -> None:
        items = [item.strip() for item in allow.split(",") if item.strip()]
        self._everyone = "*" in items
        self._hosts: set[str] = set()
        self._networks: list[_Network] = []
        for item in items:
            if item == "*" or item.startswith("unix:"):
                self._hosts.add(item)
                continue
            network = ipaddress.ip_network(item, strict=False)
            if network.num_addresses == 1:
                self._hosts.add(str(network.network_address))
            else:
                self._networks.append(network)

    def is_trusted(self, host: str | None) -> bool:
        """Whether ``host`` (an IP address; ``None`` for a Unix-socket peer) is trusted."""
        if self._everyone:
            return True
        if host is None:
            return "unix:" in self._hosts
        if host in self._hosts:
            return True
        if not self._networks:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._networks)


#: The request fields a trusted proxy reports the client with.
PROXY_NAMES = frozenset((b"forwarded", b"x-forwarded-for", b"x-forwarded-proto"))


def forwarded_client(
    headers: HeaderList, client: Client, scheme: str, trust: ProxyTrust
) -> tuple[Client, str]:
    """The client and scheme a trusted proxy reports, else those given."""
    for name, _ in headers:
        if name in PROXY_NAMES:
            break
    else:
        return client, scheme  # the common case: no proxy spoke
    forwarded: list[bytes] = []
    xff: list[bytes] = []
    xfp = b""
    for name, value in headers:
        if name == b"forwarded":
            forwarded.append(value)
        elif name == b"x-forwarded-for":
            xff.append(value)
        elif name == b"x-forwarded-proto":
            xfp = value
    if forwarded:
        return _from_forwarded(b",".join(forwarded), client, scheme, trust)
    if xff:
        client = _rightmost_untrusted(b",".join(xff), client, trust)
    if xfp:
        proto = xfp.rsplit(b",", 1)[-1].strip().lower()
        if proto in (b"http", b"https"):
            scheme = proto.decode("ascii")
    return client, scheme


def _rightmost_untrusted(value: bytes, client: Client, trust: ProxyTrust) -> Client:
    hosts = [h.strip().decode("latin-1") for h in value.split(b",") if h.strip()]
    for host in reversed(hosts):
        if not trust.is_trusted(host):
            return (host, 0)
    return (hosts[0], 0) if hosts else client


def _from_forwarded(
    value: bytes, client: Client, scheme: str, trust: ProxyTrust
) -> tuple[Client, str]:
    elements = [_parse_element(e) for e in value.decode("latin-1").split(",")]
    chosen: dict[str, str] | None = None
    for element in reversed(elements):
        if "for" not in element:
            continue
        chosen = element
        host, _ = _split_node(element["for"])
        if not trust.is_trusted(host):
            break
    if chosen is None:
        return client, scheme
    host, port = _split_node(chosen["for"])
    if host is not None:
        client = (host, port)
    proto = chosen.get("proto", "").lower()
    if proto in ("http", "https"):
        scheme = proto
    return client, scheme


def _parse_element(element: str) -> dict[str, str]:
    """``for=1.2.3.4;proto=https`` -> ``{"for": "1.2.3.4", "proto": "https"}`` (RFC 7239 §4)."""
    pairs: dict[str, str] = {}
    for pair in element.split(";"):
        key, sep, val = pair.partition("=")
        if sep:
            pairs[key.strip().lower()] = val.strip().strip('"')
    return pairs


def _split_node(node: str) -> tuple[str | None, int]:
    """A node (RFC 7239 §6): ``1.2.3.4``, ``1.2.3.4:80``, ``[2001:db8::1]:80``,
    ``unknown`` or an obfuscated ``_name``; returns (address or None, port or 0)."""
    if node.startswith("["):
        host, _, rest = node[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif node.count(":") == 1:
        host, _, port = node.partition(":")
    else:
        host, port = node, ""
    if host == "unknown" or host.startswith("_") or not host:
        return None, 0
    return host, int(port) if port.isdigit() else 0
