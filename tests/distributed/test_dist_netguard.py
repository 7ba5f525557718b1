"""The SSRF decision, tested with an injected resolver (no DNS, no connections)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from netguard_fixture import fake_resolver, is_loopback_target

from service.netguard import FetchError, RefusedAddressError, blocked_reason, check_url, parse_numeric_ipv4


def _refused(url: str, **kwargs: Any) -> RefusedAddressError:
    with pytest.raises(RefusedAddressError) as info:
        check_url(url, resolver=fake_resolver, **kwargs)
    assert info.value.code == "fetch_refused_address"
    return info.value


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://127.9.9.9:8080/x", "http://[::1]/",
    "http://10.0.0.1/", "http://10.255.255.255/", "http://172.16.0.1/", "http://172.31.255.1/",
    "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/", "http://169.254.0.1/",
    "http://100.64.0.1/", "http://100.127.255.254/", "http://0.0.0.0/", "http://224.0.0.1/",
    "http://239.255.255.250/", "http://240.0.0.1/", "http://255.255.255.255/",
    "http://[fe80::1]/", "http://[fc00::1]/", "http://[fd12:3456::1]/", "http://[ff02::1]/", "http://[::]/",
    "http://[::ffff:127.0.0.1]/", "http://[::ffff:10.0.0.1]/", "http://[::ffff:a9fe:a9fe]/",
    "http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/", "http://[::127.0.0.1]/",
])
def test_non_public_literals_are_refused(url: str) -> None:
    error = _refused(url)
    assert error.detail["address"]


@pytest.mark.parametrize(("url", "denotes"), [
    ("http://2130706433/", "127.0.0.1"),
    ("http://0x7f.1/", "127.0.0.1"),
    ("http://0x7f000001/", "127.0.0.1"),
    ("http://0177.0.0.1/", "127.0.0.1"),
    ("http://127.1/", "127.0.0.1"),
    ("http://017700000001/", "127.0.0.1"),
    ("http://0xa9.0xfe.0xa9.0xfe/", "169.254.169.254"),
    ("http://167772165/", "10.0.0.5"),
    ("http://0x5d.0xb8.0xd8.0x22/", "93.184.216.34"),  # even a public address: spelling is refused
])
def test_numeric_spellings_are_refused_and_decoded(url: str, denotes: str) -> None:
    error = _refused(url)
    assert error.detail["address"] == denotes


def test_parse_numeric_ipv4_matches_inet_aton_semantics() -> None:
    assert parse_numeric_ipv4("1.2.3") == ipaddress.IPv4Address("1.2.0.3")
    assert parse_numeric_ipv4("1.65536") == ipaddress.IPv4Address("1.1.0.0")
    assert parse_numeric_ipv4("256.1.1.1") is None
    assert parse_numeric_ipv4("example") is None


@pytest.mark.parametrize("host", ["internal.example", "metadata.example", "evil.example",
                                  "mixed.example", "mapped.example", "EVIL.Example."])
def test_names_resolving_to_non_public_addresses_are_refused(host: str) -> None:
    error = _refused(f"https://{host}/report.pdf")
    assert error.detail["host"] == host.lower().rstrip(".")


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "gopher://public.example/", "ftp://public.example/x", "public.example/x",
    "http://user:pw@public.example/", "http://public.example@127.0.0.1/", "http://public.example:0/",
    "http://public.example:99999/", "http://public.example\\@127.0.0.1/", "http:///x",
    "http://pub lic.example/", "http://[::1/", "http://exa$mple.com/",
])
def test_malformed_or_tricky_urls_are_refused(url: str) -> None:
    _refused(url)


def test_public_name_passes_and_pins_the_resolved_address() -> None:
    target = check_url("https://Public.Example:8443/a/b?c=1", resolver=fake_resolver)
    assert (target.scheme, target.host, target.port, target.ip) == ("https", "public.example", 8443,
                                                                    "93.184.216.34")
    assert target.path == "/a/b?c=1"
    assert target.host_header == "public.example:8443"
    assert not target.allow_listed


def test_allow_list_admits_a_named_host_only() -> None:
    target = check_url("http://portal.test:8080/doc.pdf", resolver=fake_resolver, allow_hosts={"PORTAL.test"})
    assert target.ip == "127.0.0.1" and target.allow_listed
    _refused("http://evil.example/", allow_hosts={"portal.test"})
    _refused("http://portal.test/", allow_hosts=set())


def test_unresolvable_name_is_a_fetch_failure() -> None:
    with pytest.raises(FetchError) as info:
        check_url("http://nowhere.example/", resolver=fake_resolver)
    assert info.value.code == "fetch_failed"


def test_resolver_returning_garbage_is_refused() -> None:
    with pytest.raises(RefusedAddressError):
        check_url("http://x.example/", resolver=lambda host: ["not-an-ip"])


def test_blocked_reason_is_none_only_for_public_unicast() -> None:
    assert blocked_reason(ipaddress.ip_address("93.184.216.34")) is None
    assert blocked_reason(ipaddress.ip_address("2606:4700::1111")) is None
    assert blocked_reason(ipaddress.ip_address("198.18.0.1")) is not None
    assert blocked_reason(ipaddress.ip_address("192.0.2.10")) is not None


def test_egress_guard_decision() -> None:
    """The test guard itself: only loopback literals (and unix paths) count as local."""
    assert is_loopback_target(("127.0.0.1", 80))
    assert is_loopback_target(("::1", 80, 0, 0))
    assert is_loopback_target(("::ffff:127.0.0.2", 80, 0, 0))
    assert not is_loopback_target(("10.0.0.5", 80))
    assert not is_loopback_target(("169.254.169.254", 80))
    assert not is_loopback_target(("example.com", 80))
