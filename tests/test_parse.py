import json
from pathlib import Path

import pytest

from bot.decide import candidates
from bot.discover import find_feed_links
from bot.parse import NotAFeed, ParseError, parse_feed
from tests.golden import FEEDS, feed_files, parsed_as_dict

EXPECTED = json.loads((FEEDS / "expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", feed_files(), ids=lambda p: p.name)
def test_golden_feeds(path: Path) -> None:
    assert parsed_as_dict(path) == EXPECTED[path.name]


def test_every_format_is_covered() -> None:
    kinds = {v["kind"] for v in EXPECTED.values()}
    assert {"rss091", "rss10", "rss20", "atom03", "atom10", "json10", "json11"} <= kinds


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(NotAFeed):
        parse_feed(b"<!DOCTYPE html><html><head><title>x</title></head><body>hi</body></html>", "https://a.test/")


@pytest.mark.parametrize("body", [b"", b"   ", b"garbage \x00\x01 not xml", b"<catalog><book>x</book></catalog>"])
def test_unreadable_documents_raise_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_feed(body, "https://a.test/feed")


def test_json_that_is_not_a_json_feed() -> None:
    with pytest.raises(ParseError, match="not a JSON Feed"):
        parse_feed(b'{"hello": 1}', "https://a.test/feed.json", "application/json")


def test_autodiscovery_prefers_rss_and_atom_and_resolves_relative_links() -> None:
    page = b"""<html><head>
      <link rel="alternate" type="application/feed+json" href="/feed.json">
      <link rel="stylesheet" href="/s.css">
      <link rel="alternate" type="application/atom+xml" href="atom.xml">
      <link rel="alternate nofollow" type="application/rss+xml" href="https://cdn.test/rss">
    </head><body></body></html>"""
    assert find_feed_links(page, "https://site.test/news/") == [
        "https://site.test/news/atom.xml",
        "https://cdn.test/rss",
        "https://site.test/feed.json",
    ]


def test_autodiscovery_on_page_without_feeds() -> None:
    assert find_feed_links(b"<html><head><title>t</title></head></html>", "https://site.test/") == []


def test_max_items_bounds_entries() -> None:
    items = "".join(f"<item><title>t{i}</title><link>https://a.test/{i}</link></item>" for i in range(50))
    feed = parse_feed(
        f'<rss version="2.0"><channel><title>x</title>{items}</channel></rss>'.encode(),
        "https://a.test/feed",
        max_items=10,
    )
    assert len(feed.entries) == 10
    assert feed.entries[0].title == "t0"


@pytest.mark.parametrize("path", [p for p in feed_files() if p.suffix != ".json"], ids=lambda p: p.name)
def test_fast_and_tolerant_parsers_agree(path: Path) -> None:
    """The fast path may only ever be faster: same entries and so the same identities as feedparser."""
    from bot.parse import _parse_fast, read_tolerant

    body = path.read_bytes()
    fast = _parse_fast(body, "https://x.example/feed", 500)
    tolerant = read_tolerant(body, "https://x.example/feed", "application/xml", 500)
    if fast is None:
        return  # the fast path declined: feedparser alone decides
    if b"xml:base" in body:
        return  # routed to feedparser on purpose
    assert fast.entries == tolerant.entries
    assert [c.key for c in candidates(fast, 1)] == [c.key for c in candidates(tolerant, 1)]


def test_no_date_is_invented_for_dateless_items() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>x</title>'
        b"<link>https://a.test/1</link><guid>a</guid></item><item><title>y</title><link>https://a.test/2</link>"
        b"<guid>2024</guid></item></channel></rss>"
    )
    assert [e.published for e in parse_feed(body, "https://a.test/feed").entries] == [None, None]
