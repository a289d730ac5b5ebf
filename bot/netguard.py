"""Outbound address safety: strangers hand us URLs, so we decide where we may connect.

The decision (``refusal_for_url`` / ``refusal_for_ip``) is pure so it can be tested for every range without sending a
packet. Enforcement lives in ``GuardedResolver``: aiohttp connects only to the addresses a resolver returns, so
checking exactly those closes DNS rebinding (no second lookup happens between the check and the connect).
aiohttp skips the resolver for IP-literal hosts, which is why every request URL (and every redirect hop) also goes
through ``refusal_for_url`` first.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    ipaddress.ip_address("100.100.100.200"),  # Alibaba
    ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6
}
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def from_strings(cls, allow_private: bool, networks: Sequence[str]) -> AddressPolicy:
        return cls(allow_private, tuple(ipaddress.ip_network(n, strict=False) for n in networks))


class UnsafeAddress(OSError):
    """Raised by the resolver so aiohttp surfaces it as a connection error carrying our reason."""


def parse_ip(host: str) -> IPAddress | None:
    """An IP address however it is spelled, including the decimal/octal/hex forms browsers and libc accept."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _label(ip: IPAddress) -> str | None:
    if ip in _METADATA:
        return "a cloud metadata address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.version == 4 and ip in _SHARED:
        return "a carrier-grade NAT address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved or not ip.is_global:
        return "a reserved address"
    return None


def refusal_for_ip(ip: IPAddress, policy: AddressPolicy) -> str | None:
    """Why we may not connect to this address, or None when we may."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            reason = refusal_for_ip(embedded, policy)
            return f"{reason} (inside IPv6 {ip})" if reason else None
    if any(ip in net for net in policy.allowed_networks):
        return None
    label = _label(ip)
    if label is None or policy.allow_private:
        return None
    return f"{ip} is {label}"


def refusal_for_url(url: str, policy: AddressPolicy) -> str | None:
    """Why this URL may not be fetched (scheme, credentials, literal address), or None.

    Host names are not resolved here; the resolver checks what they resolve to at connect time.
    """
    url = url.strip()
    if any(c.isspace() or not c.isprintable() for c in url):
        return "not a valid URL (it contains spaces or control characters)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "not a valid URL"
    if not parts.scheme:
        return "only http and https URLs are allowed, and this one has no scheme"
    if parts.scheme.lower() not in ("http", "https"):
        return f"only http and https URLs are allowed, not {parts.scheme[:20]}"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "URLs with a user name or password are not allowed"
    host = parts.hostname
    if not host:
        return "the URL has no host"
    ip = parse_ip(host)
    if ip is not None:
        reason = refusal_for_ip(ip, policy)
        return f"refused: {reason}" if reason else None
    if host.rstrip(".").lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return (
            None
            if refusal_for_ip(ipaddress.ip_address("127.0.0.1"), policy) is None
            else ("refused: localhost is a loopback address")
        )
    return None


class StaticResolver(AbstractResolver):
    """Maps names to fixed addresses without DNS: for tests, benches and closed networks."""

    def __init__(self, table: Mapping[str, Sequence[str]]) -> None:
        self._table = {k.lower(): list(v) for k, v in table.items()}

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
        addresses = self._table.get(host.lower().rstrip("."))
        if not addresses:
            raise OSError(socket.EAI_NONAME, f"cannot resolve host {host}")
        return [_result(host, addr, port) for addr in addresses]

    async def close(self) -> None:
        return None


def _result(host: str, addr: str, port: int) -> ResolveResult:
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    return {"hostname": host, "host": addr, "port": port, "family": family, "proto": 0, "flags": socket.AI_NUMERICHOST}


class GuardedResolver(AbstractResolver):
    """Resolves through an inner resolver and keeps only the addresses policy allows."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner or ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed: list[ResolveResult] = []
        reasons: list[str] = []
        for res in results:
            ip = parse_ip(res["host"])
            reason = "unparseable address" if ip is None else refusal_for_ip(ip, self._policy)
            if reason is None:
                allowed.append(res)
            else:
                reasons.append(reason)
        if not allowed:
            raise UnsafeAddress(f"refused: {host} resolves to {reasons[0] if reasons else 'nothing'}")
        return allowed

    async def close(self) -> None:
        await self._inner.close()
