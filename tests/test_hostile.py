"""Hostile feeds and pages: each input is bounded, ends as a clear error or is handled sanely, and never stops
other feeds. Bounds in force: fetch.timeout (whole request), fetch.max_body_bytes (after decompression),
polling.max_items (entries per document), 1,000 characters per title, 200,000 characters of HTML per entry."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.extract import extract
from bot.htmltext import html_to_text
from bot.models import Article
from bot.parse import ParseError, parse_feed
from bot.render import DESCRIPTION_MAX, EMBED_TOTAL_MAX, TITLE_MAX, embed_length, render
from bot.summarize import summarize
from tests.conftest import RecordingSink, Site, follow, poll_and_deliver, rss, url_of


def test_external_entities_are_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        '<rss version="2.0"><channel><title>t &xxe;</title><item><title>a &xxe;</title>'
        "<link>https://a.test/1</link><description>d &xxe;</description></item></channel></rss>"
    ).encode()
    feed = parse_feed(body, "https://a.test/feed")  # the document is read; the entity is not
    text = feed.title + "".join(e.title + e.content_html for e in feed.entries)
    assert "TOP-SECRET-VALUE" not in text
    assert [e.link for e in feed.entries] == ["https://a.test/1"]


def test_billion_laughs_does_not_expand() -> None:
    levels = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    ]
    body = (
        f'<?xml version="1.0"?><!DOCTYPE lolz [{"".join(levels)}]><rss version="2.0"><channel>'
        "<title>&lol9;</title><item><title>&lol9;</title><link>https://a.test/1</link></item></channel></rss>"
    ).encode()
    feed = parse_feed(body, "https://a.test/feed")
    assert [e.link for e in feed.entries] == ["https://a.test/1"]
    assert len(feed.title) < 100 and all(len(e.title) < 100 for e in feed.entries)  # 10^9 "lol"s were not made


def test_huge_feed_and_huge_titles_are_bounded() -> None:
    items = "".join(f"<item><title>t{i}</title><link>https://a.test/{i}</link></item>" for i in range(100_000))
    feed = parse_feed(
        f'<rss version="2.0"><channel><title>x</title>{items}</channel></rss>'.encode(),
        "https://a.test/feed",
        max_items=500,
    )
    assert len(feed.entries) == 500
    big = "T" * 10_000_000
    feed = parse_feed(
        f'<rss version="2.0"><channel><title>x</title><item><title>{big}</title>'
        f"<link>https://a.test/1</link><description>{big}</description></item></channel></rss>".encode(),
        "https://a.test/feed",
    )
    assert len(feed.entries[0].title) <= 1000 and len(feed.entries[0].content_html) <= 200_000


@pytest.mark.parametrize(
    ("body", "title"),
    [
        (  # invalid UTF-8 becomes U+FFFD, the rest is kept
            b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>caf\xe9 \xff\xfe</title>'
            b"<item><title>bad \xc3\x28 utf8</title><link>https://a.test/1</link></item></channel></rss>",
            "bad \ufffd( utf8",
        ),
        (  # a NUL byte is dropped
            b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>x</title><item>'
            b"<title>nul \x00 byte</title><link>https://a.test/1</link></item></channel></rss>",
            "nul byte",
        ),
        (  # the declared encoding wins, even when the bytes were UTF-8: mojibake (Latin-1 read as windows-1252,
            # as browsers do), but no crash and no loss
            '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><title>x</title><item>'
            "<title>Grüße</title><link>https://a.test/1</link></item></channel></rss>".encode(),
            "GrÃ¼ÃŸe",
        ),
        (  # cp1252 bytes declared UTF-8: the two bad bytes become U+FFFD
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>x</title><item>'
            "<title>Größe</title><link>https://a.test/1</link></item></channel></rss>".encode("cp1252"),
            "Gr\ufffd\ufffde",
        ),
    ],
)
def test_broken_encodings_and_nul_bytes_are_read_with_what_can_be_kept(body: bytes, title: str) -> None:
    feed = parse_feed(body, "https://a.test/feed")
    assert [(e.title, e.link) for e in feed.entries] == [(title, "https://a.test/1")]
    for entry in feed.entries:
        post = render(
            Article(
                1, "k", "s", entry.link, entry.title, html_to_text(entry.content_html), None, None, None, feed.title
            )
        )
        assert "\x00" not in post.title + post.description


def test_deeply_nested_html_is_bounded() -> None:
    nested = "<div>" * 50_000 + "deep text" + "</div>" * 50_000
    assert len(html_to_text(nested)) < 100
    page = f"<html><body><article>{nested}<p>{'Real words in a sentence here. ' * 30}</p></article></body></html>"
    # Past libxml2's depth limit the page is not read (quickly, without recursion): the post falls back to the
    # feed's own text, as for any page without an article.
    assert extract(page, "https://a.test/a") is None


async def test_feed_that_changes_every_guid_posts_each_story_once(site: Site, services, clock) -> None:
    version = 0

    async def rotating(request: web.Request) -> web.Response:
        nonlocal version
        version += 1
        body = rss([{"title": f"Story {n}", "link": site.url(f"/s/{n}"), "guid": f"v{version}-{n}"} for n in (2, 1)])
        return web.Response(text=body, content_type="application/rss+xml")

    site.handle("/feed", rotating)
    await follow(services, site.url("/feed"))
    sink = RecordingSink()
    for _ in range(4):
        await poll_and_deliver(services, sink)
        clock.advance(86_400)
    assert sink.titles() == ["Story 2"]
    assert await services.store.article_count() == 2  # no growth: known stories are not stored again


async def test_feed_whose_items_share_one_guid_keeps_them_apart_by_link(site: Site, services, clock) -> None:
    site.set("/feed", rss([{"title": f"Story {n}", "link": site.url(f"/s/{n}"), "guid": "same"} for n in (3, 2, 1)]))
    await follow(services, site.url("/feed"))
    sink = RecordingSink()
    await poll_and_deliver(services, sink)
    site.set("/feed", rss([{"title": f"Story {n}", "link": site.url(f"/s/{n}"), "guid": "same"} for n in (4, 3, 2, 1)]))
    clock.advance(86_400)
    await poll_and_deliver(services, sink)
    assert await services.store.article_count() == 4
    assert sink.titles() == ["Story 3", "Story 4"]


async def test_hostile_feeds_fail_alone_with_reasons(site: Site, make_config, clock) -> None:
    from bot.runtime import open_services
    from tests.conftest import NO_DNS

    config = make_config(fetch={"timeout": 1.5, "max_body_bytes": 200_000})
    site.set("/good", rss([{"title": "Fine", "link": site.url("/f"), "guid": "f"}]))
    site.set("/bomb", gzip.compress(b"<rss>" + b" " * 50_000_000), headers={"Content-Encoding": "gzip"})

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await resp.prepare(request)
        while True:
            await resp.write(b"<item>" * 1000)

    async def trickle(request: web.Request) -> web.StreamResponse:
        import asyncio

        resp = web.StreamResponse()
        await resp.prepare(request)
        for _ in range(100):
            await resp.write(b"<")
            await asyncio.sleep(1)
        return resp

    site.handle("/endless", endless)
    site.handle("/trickle", trickle)
    site.set("/loop", b"", status=301, headers={"Location": "/loop"})
    site.set("/private", b"", status=302, headers={"Location": url_of("192.168.1.1", "/feed")})
    async with open_services(config, clock=clock, resolver=NO_DNS) as services:
        for n, path in enumerate(("/good", "/bomb", "/endless", "/trickle", "/loop", "/private")):
            await follow(services, site.url(path), channel=n + 1)
        sink = RecordingSink()
        stats, _ = await poll_and_deliver(services, sink)
    assert sink.titles() == ["Fine"]
    errors = {url.rsplit("/", 1)[1]: reason for url, reason in stats.errors.items()}
    assert "byte limit" in errors["bomb"] and "byte limit" in errors["endless"]
    assert "timed out" in errors["trickle"] and "redirect loop" in errors["loop"]
    assert "192.168.1.1 is a private address" in errors["private"]


async def test_article_link_to_private_address_is_not_fetched(site: Site, services) -> None:
    site.set(
        "/feed",
        rss(
            [
                {
                    "title": "Sneaky",
                    "link": "http://169.254.169.254/latest/meta-data/",
                    "guid": "s",
                    "description": "The feed's own words.",
                }
            ]
        ),
    )
    await follow(services, site.url("/feed"))
    sink = RecordingSink()
    await poll_and_deliver(services, sink)
    assert sink.posts[0][1].description == "The feed's own words."


xmlish = st.recursive(
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20),
    lambda children: st.builds(
        lambda tag, kids: f"<{tag}>{''.join(kids)}</{tag}>",
        st.sampled_from(
            [
                "rss",
                "channel",
                "item",
                "title",
                "link",
                "guid",
                "description",
                "feed",
                "entry",
                "id",
                "content",
                "summary",
                "p",
                "b",
                "a",
                "pubDate",
                "updated",
            ]
        ),
        st.lists(children, max_size=4),
    ),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=2000), xmlish.map(lambda s: ('<?xml version="1.0"?>' + s).encode())))
def test_any_bytes_through_parse_extract_summarize_render(body: bytes) -> None:
    try:
        feed = parse_feed(body, "https://a.test/feed")
    except ParseError:
        feed = None
    page = extract(body, "https://a.test/page")
    texts = [page.text] if page else []
    if feed:
        texts += [html_to_text(e.content_html) for e in feed.entries]
    for text in texts or [""]:
        summary = summarize(text)
        post = render(
            Article(
                1, "k", "s", "https://a.test/x", text[:300], summary, None, None, None, feed.title if feed else "src"
            )
        )
        assert len(post.title) <= TITLE_MAX and len(post.description) <= DESCRIPTION_MAX
        assert embed_length(post) <= EMBED_TOTAL_MAX
