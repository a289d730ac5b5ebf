"""The address guard's decisions, checked without connecting anywhere: no packet leaves loopback."""

import ipaddress

import pytest

from bot.netguard import (
    AddressPolicy,
    GuardedResolver,
    StaticResolver,
    UnsafeAddress,
    parse_ip,
    refusal_for_url,
)
from tests.conftest import url_of

STRICT = AddressPolicy()
LOOPBACK_OK = AddressPolicy.from_strings(False, ["127.0.0.0/8"])

UNSAFE_URLS = [
    "http://127.0.0.1/",
    "http://127.1.2.3:8080/x",
    "http://[::1]/",
    url_of("10.0.0.5"),
    url_of("172.16.3.4"),
    url_of("172.31.255.255"),
    url_of("192.168.1.1"),
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://100.100.100.200/",
    "http://0.0.0.0/",
    "http://[fc00::1]/",
    "http://[fd00:ec2::254]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[2002:7f00:1::]/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://017700000001/",
    "http://0xa9.0xfe.0xa9.0xfe/",
    "http://[::]/",
    "http://224.0.0.1/",
    "http://localhost/",
    "http://foo.localhost/",
]


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_private_and_special_addresses_are_refused(url: str) -> None:
    reason = refusal_for_url(url, STRICT)
    assert reason is not None and reason.startswith("refused")


@pytest.mark.parametrize("url", ["http://good@127.0.0.1/", "http://user:pw@example.com/", "http://a@b@example.com/"])
def test_userinfo_is_refused(url: str) -> None:
    assert "user name or password" in (refusal_for_url(url, STRICT) or "")


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/",
        "gopher://example.com/",
        "data:text/plain,hi",
        "javascript:alert(1)",
        "/relative",
        "http://",
        "http://x:99999/",
    ],
)
def test_other_schemes_and_broken_urls_are_refused(url: str) -> None:
    assert refusal_for_url(url, STRICT) is not None


@pytest.mark.parametrize("url", ["https://example.com/feed", "http://93.184.216.34/", "http://[2606:4700::1111]/"])
def test_public_addresses_pass(url: str) -> None:
    assert refusal_for_url(url, STRICT) is None


def test_operator_allowlist_opens_only_the_named_range() -> None:
    assert refusal_for_url("http://127.0.0.1:8080/", LOOPBACK_OK) is None
    assert refusal_for_url("http://localhost:8080/", LOOPBACK_OK) is None
    assert refusal_for_url(url_of("10.0.0.1"), LOOPBACK_OK) is not None
    assert refusal_for_url(url_of("10.0.0.1"), AddressPolicy(allow_private=True)) is None


def test_numeric_spellings_parse_to_the_same_address() -> None:
    for spelling in ("2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0x7f.1"):
        assert parse_ip(spelling) == ipaddress.ip_address("127.0.0.1")
    assert parse_ip("example.com") is None


async def test_resolver_refuses_names_that_resolve_to_private_addresses() -> None:
    # Names are mapped by a static table: no DNS query and no connection is made.
    table = StaticResolver(
        {
            "evil.test": ["10.1.2.3"],
            "meta.test": ["169.254.169.254"],
            "mixed.test": ["192.168.0.1", "93.184.216.34"],
            "v6.test": ["::ffff:127.0.0.1"],
        }
    )
    guard = GuardedResolver(STRICT, table)
    for host in ("evil.test", "meta.test", "v6.test"):
        with pytest.raises(UnsafeAddress, match="refused"):
            await guard.resolve(host, 80)
    mixed = await guard.resolve("mixed.test", 80)
    assert [r["host"] for r in mixed] == ["93.184.216.34"]  # only the checked, public address is connectable
