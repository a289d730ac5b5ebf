"""The fetcher against real local servers: validators, compression, limits, redirects and refusals."""

import asyncio
import gzip
import re

import pytest
from aiohttp import web

from bot.fetch import Fetcher, FetchError
from bot.netguard import StaticResolver
from tests.conftest import NO_DNS, Site, rss

FEED = rss([{"title": "a", "link": "http://example.test/a"}])


@pytest.fixture
async def fetcher(make_config):
    async with Fetcher.open(make_config(fetch={"timeout": 2, "max_body_bytes": 20_000}), resolver=NO_DNS) as f:
        yield f


async def test_conditional_get_returns_304_with_validators(site: Site, fetcher: Fetcher) -> None:
    async def handler(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        return web.Response(text=FEED, headers={"ETag": '"v1"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"})

    site.handle("/feed", handler)
    first = await fetcher.get(site.url("/feed"))
    assert first.status == 200 and first.etag == '"v1"' and first.body
    second = await fetcher.get(site.url("/feed"), etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified and second.body == b""
    assert site.requests[-1].headers["If-Modified-Since"] == "Mon, 01 Jan 2024 00:00:00 GMT"


async def test_gzip_body_is_decompressed_and_user_agent_is_honest(site: Site, fetcher: Fetcher) -> None:
    site.set("/feed", gzip.compress(FEED.encode()), headers={"Content-Encoding": "gzip"})
    result = await fetcher.get(site.url("/feed"))
    assert result.body == FEED.encode()
    assert site.requests[-1].headers["User-Agent"].startswith("newsbot/")
    assert "gzip" in site.requests[-1].headers["Accept-Encoding"]


async def test_size_limit_counts_decompressed_bytes(site: Site, fetcher: Fetcher) -> None:
    site.set("/bomb", gzip.compress(b"<" * 5_000_000), headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="byte limit"):
        await fetcher.get(site.url("/bomb"))


async def test_declared_oversize_is_refused_early(site: Site, fetcher: Fetcher) -> None:
    site.set("/big", b"x" * 50_000)
    with pytest.raises(FetchError, match="50,000 bytes"):
        await fetcher.get(site.url("/big"))


async def test_slow_server_times_out(site: Site, fetcher: Fetcher) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        for _ in range(100):
            await resp.write(b"<")
            await asyncio.sleep(0.1)
        return resp

    site.handle("/slow", slow)
    with pytest.raises(FetchError, match="timed out"):
        await fetcher.get(site.url("/slow"))


async def test_redirect_loop_and_too_many_redirects(site: Site, fetcher: Fetcher) -> None:
    site.set("/a", b"", status=302, headers={"Location": "/b"})
    site.set("/b", b"", status=302, headers={"Location": "/a"})
    with pytest.raises(FetchError, match="redirect loop"):
        await fetcher.get(site.url("/a"))
    for i in range(10):
        site.set(f"/r{i}", b"", status=302, headers={"Location": f"/r{i + 1}"})
    with pytest.raises(FetchError, match="more than 5 redirects"):
        await fetcher.get(site.url("/r0"))


async def test_permanent_redirect_reports_new_url_but_temporary_does_not(site: Site, fetcher: Fetcher) -> None:
    site.set("/old", b"", status=301, headers={"Location": "/new"})
    site.set("/tmp", b"", status=302, headers={"Location": "/new"})
    site.set("/new", FEED)
    moved = await fetcher.get(site.url("/old"))
    assert moved.permanent_url == site.url("/new") and moved.url == site.url("/new")
    assert (await fetcher.get(site.url("/tmp"))).permanent_url is None


async def test_redirect_to_unsafe_address_is_refused_before_connecting(site: Site, fetcher: Fetcher) -> None:
    site.set("/meta", b"", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    with pytest.raises(FetchError, match=re.escape("refused: 169.254.169.254 is a cloud metadata address")):
        await fetcher.get(site.url("/meta"))
    site.set("/file", b"", status=302, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(FetchError, match="only http and https"):
        await fetcher.get(site.url("/file"))


async def test_status_errors_carry_reasons(site: Site, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        await fetcher.get(site.url("/missing"))
    site.set("/gone", b"", status=410)
    with pytest.raises(FetchError) as gone:
        await fetcher.get(site.url("/gone"))
    assert gone.value.gone
    site.set("/busy", b"", status=429, headers={"Retry-After": "120"})
    with pytest.raises(FetchError) as busy:
        await fetcher.get(site.url("/busy"))
    assert busy.value.retry_after == 120


async def test_loopback_refused_without_the_operator_allowing_it(site: Site, make_config) -> None:
    async with Fetcher.open(make_config(network={"allowed_networks": []}), resolver=NO_DNS) as strict:
        with pytest.raises(FetchError, match="loopback"):
            await strict.get(site.url("/feed"))
    assert site.hits == {}


async def test_hostname_resolving_to_private_address_is_refused(make_config) -> None:
    resolver = StaticResolver({"intranet.test": ["10.9.8.7"]})
    async with Fetcher.open(make_config(), resolver=resolver) as f:
        expected = "refused: intranet.test resolves to 10.9.8.7 is a private address"
        with pytest.raises(FetchError, match=re.escape(expected)):
            await f.get("http://intranet.test/feed")


async def test_unresolvable_host_has_clear_reason(make_config) -> None:
    async with Fetcher.open(make_config(), resolver=StaticResolver({})) as f:
        with pytest.raises(FetchError, match=re.escape("cannot resolve host nowhere.test")):
            await f.get("http://nowhere.test/feed")


async def test_per_host_limit_caps_concurrent_requests(site: Site, make_config) -> None:
    active = 0
    peak = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.05)
        active -= 1
        return web.Response(text=FEED)

    site.handle("/feed", handler)
    async with Fetcher.open(make_config(polling={"per_host_concurrency": 2, "concurrency": 20}), resolver=NO_DNS) as f:
        await asyncio.gather(*(f.get(site.url("/feed")) for _ in range(10)))
    assert peak == 2
