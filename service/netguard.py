"""Outbound-request guard (SSRF): decide whether a URL may be fetched *before* any connection.

The service fetches documents from URLs and posts webhooks to URLs that callers give it.
Without a guard, a caller could make the service reach its own loopback, the cloud metadata
endpoint or the private network. ``check_url`` parses the URL strictly, resolves the host once
with an injected resolver, refuses if any resolved address is not a public unicast address
(unless the host is allow-listed), and returns the address to connect to. Callers connect to
that pinned address only, so the name cannot be re-resolved to something else in between
(DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from ocr.errors import FiscalOCRError

log = logging.getLogger(__name__)

Resolver = Callable[[str], Sequence[str]]
"""Host name -> IP address strings. Injected so tests never send DNS packets."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}

# Ranges refused even where Python's ``is_global`` says otherwise (multicast, carrier-grade NAT,
# benchmarking, documentation, "this network") - listed explicitly so the policy is readable.
_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
        "::/128", "::1/128", "::/96", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64",
        "2001::/23", "2001:db8::/32", "2002::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    )
)
_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME_RE = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
# Any host made only of numbers in decimal/octal/hex, 1-4 dot-separated parts: a C library would
# read it as an IPv4 address (2130706433, 0x7f.1, 0177.0.0.1, 127.1).
_NUMERIC_HOST_RE = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$")


class FetchError(FiscalOCRError):
    """A remote fetch (document download or webhook) failed; ``code`` says how."""

    code = "fetch_failed"


class RefusedAddressError(FetchError):
    """The URL points at an address the service must not contact, or is not a usable URL."""

    code = "fetch_refused_address"


@dataclass(frozen=True)
class ResolvedTarget:
    """A URL that passed the guard, with the one address to connect to."""

    url: str
    scheme: str
    host: str  # normalised: lower-case, IDNA, no trailing dot, no brackets
    port: int
    ip: str  # pinned address: connect here and nowhere else
    path: str  # path + query, never empty ("/" at least)
    allow_listed: bool

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if DEFAULT_PORTS[self.scheme] == self.port else f"{name}:{self.port}"


def system_resolver(host: str) -> list[str]:
    """Production resolver: the system's getaddrinfo, TCP results, de-duplicated in order."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for info in infos:
        seen.setdefault(str(info[4][0]).split("%", 1)[0], None)
    return list(seen)


def blocked_reason(address: IPAddress) -> str | None:
    """Why the address must not be contacted, or None if it is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = blocked_reason(embedded)
            if inner is not None:
                return f"embeds {embedded}: {inner}"
    for network in _BLOCKED_NETWORKS:
        if address.version == network.version and address in network:
            return f"in blocked range {network}"
    if not address.is_global or address.is_multicast or address.is_reserved or address.is_unspecified:
        return "not a public unicast address"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, compatible, NAT64, 6to4, Teredo), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    packed = int(address)
    if packed >> 32 == 0 or address in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    return None


def parse_numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a classic inet_aton spelling denotes (decimal/octal/hex, 1-4 parts), or None."""
    if not _NUMERIC_HOST_RE.match(host):
        return None
    parts = host.rstrip(".").split(".")
    try:
        values = [int(p, 16) if p.startswith("0x") else int(p, 8) if len(p) > 1 and p[0] == "0" else int(p)
                  for p in parts]
    except ValueError:
        return None  # e.g. "09" - not octal; treated as a refused malformed host by the caller
    # The last part fills the remaining bytes: a.b.c.d, a.b.(16 bits), a.(24 bits), (32 bits).
    limits = [0xFF] * (len(values) - 1) + [(1 << (8 * (5 - len(values)))) - 1]
    if any(v > limit for v, limit in zip(values, limits, strict=True)):
        return None
    number = 0
    for value in values[:-1]:
        number = (number << 8) | value
    number = (number << (8 * (5 - len(values)))) | values[-1]
    return ipaddress.IPv4Address(number)


def check_url(url: str, *, resolver: Resolver | None = None,
              allow_hosts: Collection[str] = ()) -> ResolvedTarget:
    """Parse, resolve and vet ``url``; raise RefusedAddressError unless it is safe to connect to.

    ``allow_hosts`` names hosts (as written in URLs, case-insensitive) that may resolve to
    non-public addresses, e.g. an intranet portal the operator trusts. Nothing is connected to here.
    """
    scheme, host, port, path = _split_url(url)
    allowed = {h.lower().rstrip(".") for h in allow_hosts}
    is_allowed = host in allowed
    addresses = _resolve(host, resolver or system_resolver)
    if not is_allowed:
        for address in addresses:
            reason = blocked_reason(address)
            if reason is not None:
                log.warning("netguard refused %s: %s resolves to %s (%s)",
                            _redact(url), host, address, reason)
                raise RefusedAddressError(
                    f"refusing to contact {host}: address {address} {reason}",
                    detail={"host": host, "address": str(address), "reason": reason},
                )
    return ResolvedTarget(url=url, scheme=scheme, host=host, port=port, ip=str(addresses[0]),
                          path=path, allow_listed=is_allowed)


def _refuse(message: str, url: str) -> RefusedAddressError:
    return RefusedAddressError(message, detail={"url": _redact(url)})


def _split_url(url: str) -> tuple[str, str, int, str]:
    if not isinstance(url, str) or len(url) > 4096:
        raise _refuse("URL missing or too long", str(url)[:100])
    if any(ch.isspace() or ord(ch) < 0x20 or ch == "\\" for ch in url):
        raise _refuse("URL contains whitespace, control characters or backslashes", url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _refuse(f"malformed URL: {exc}", url) from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise _refuse(f"scheme {scheme or '(none)'!r} not allowed: use http or https", url)
    if "@" in parts.netloc:
        raise _refuse("URLs with user information (user@host) are not allowed", url)
    if port is None:
        port = DEFAULT_PORTS[scheme]
    if not 0 < port < 65536:
        raise _refuse(f"port {port} out of range", url)
    host = _normalise_host(parts.hostname or "", url)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port, path


def _normalise_host(raw: str, url: str) -> str:
    host = raw.lower()
    if not host:
        raise _refuse("URL has no host", url)
    if ":" in host:  # bracketed IPv6 literal (urlsplit strips the brackets)
        try:
            return str(ipaddress.IPv6Address(host.split("%", 1)[0]))
        except ValueError as exc:
            raise _refuse(f"malformed IPv6 host {host!r}", url) from exc
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as exc:
        raise _refuse(f"host {raw!r} is not a valid name", url) from exc
    host = host.rstrip(".")
    if _NUMERIC_HOST_RE.match(host):
        return _numeric_host(host, url)
    if not _HOSTNAME_RE.match(host):
        raise _refuse(f"host {raw!r} is not a valid name", url)
    return host


def _numeric_host(host: str, url: str) -> str:
    """Dotted-quad hosts pass as written; any other numeric spelling is refused outright.

    Legitimate URLs never spell addresses as 2130706433 or 0x7f.1; such spellings exist to slip
    past naive filters, so they are refused whatever address they denote.
    """
    address = parse_numeric_ipv4(host)
    try:
        canonical = ipaddress.IPv4Address(host)
    except ValueError:
        canonical = None
    if canonical is not None:
        return str(canonical)
    denotes = f" (it denotes {address})" if address is not None else ""
    raise RefusedAddressError(
        f"non-canonical numeric host {host!r}{denotes}: write the address as a.b.c.d",
        detail={"host": host, "address": str(address) if address else None, "url": _redact(url)},
    )


def _resolve(host: str, resolver: Resolver) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        raw = list(resolver(host))
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}", detail={"host": host}) from exc
    if not raw:
        raise FetchError(f"cannot resolve {host}: no addresses", detail={"host": host})
    addresses: list[IPAddress] = []
    for item in raw:
        try:
            addresses.append(ipaddress.ip_address(str(item).split("%", 1)[0]))
        except ValueError as exc:
            raise RefusedAddressError(f"resolver returned a non-address {item!r} for {host}",
                                      detail={"host": host}) from exc
    return addresses


def _redact(url: str) -> str:
    """URL without its query string (it may carry tokens) for logs and error details."""
    return url.split("?", 1)[0][:300]
