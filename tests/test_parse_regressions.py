"""Real feeds that were read wrong (issue: every real feed read right), each as a minimal document written for the
project, read by both parser paths where the bug was path-specific (an ``xml:base`` sends a document to
feedparser; without it, fastfeedparser reads it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.decide import candidates, decide_new
from bot.models import Feed
from bot.parse import parse_feed

BOTH_PATHS = pytest.mark.parametrize("base", ["", ' xml:base="https://a.test/"'], ids=["fast", "feedparser"])


@BOTH_PATHS
def test_an_entry_whose_only_address_is_its_url_id_links_there(base: str) -> None:
    atom = (
        f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"{base}><title>T</title>'
        "<id>https://a.test/</id><updated>2026-11-30T10:00:00Z</updated>"
        "<entry><title>Only an id</title><id>https://a.test/posts/1</id>"
        "<updated>2026-11-30T10:00:00Z</updated></entry>"
        "<entry><title>A tag id</title><id>tag:a.test,2026:2</id><updated>2026-11-30T09:00:00Z</updated>"
        "</entry></feed>"
    )
    feed = parse_feed(atom.encode(), "https://a.test/feed")
    assert [(e.title, e.link) for e in feed.entries] == [("Only an id", "https://a.test/posts/1"), ("A tag id", None)]
    assert len(candidates(feed, 1)) == 2  # neither is dropped as empty


@BOTH_PATHS
def test_an_rss_enclosure_image_is_the_items_image(base: str) -> None:
    rss = (
        f'<?xml version="1.0"?><rss version="2.0"{base}><channel><title>T</title><link>https://a.test/</link>'
        "<item><title>With a picture</title><link>https://a.test/1</link>"
        '<enclosure url="https://cdn.a.test/1.jpg" length="1000" type="image/jpeg"/></item></channel></rss>'
    )
    feed = parse_feed(rss.encode(), "https://a.test/feed")
    assert feed.entries[0].image == "https://cdn.a.test/1.jpg"


@BOTH_PATHS
def test_an_image_in_the_items_own_text_is_used_when_the_feed_names_none(base: str) -> None:
    rss = (
        f'<?xml version="1.0"?><rss version="2.0"{base}><channel><title>T</title><link>https://a.test/</link>'
        "<item><title>Picture inline</title><link>https://a.test/story/1</link>"
        '<description>&lt;p&gt;Text &lt;img alt="x" src="/img/lead.png"&gt; more&lt;/p&gt;</description>'
        "</item><item><title>No picture</title><link>https://a.test/story/2</link>"
        "<description>Just words.</description></item></channel></rss>"
    )
    feed = parse_feed(rss.encode(), "https://a.test/feed")
    assert [e.image for e in feed.entries] == ["https://a.test/img/lead.png", None]


def test_items_sharing_one_date_post_the_top_one_first() -> None:
    same = "Mon, 30 Nov 2026 10:00:00 GMT"
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://a.test/</link>'
        + "".join(
            f"<item><title>Story {n}</title><link>https://a.test/{n}</link><pubDate>{same}</pubDate></item>"
            for n in (3, 2, 1)
        )
        + "</channel></rss>"
    )
    found = candidates(parse_feed(rss.encode(), "https://a.test/feed"), 1)
    new = Feed(1, "https://a.test/feed", "T", None, None, 900, 0.0, None, 0, None, None, False)
    from bot.models import Subscription

    sub = Subscription(1, 1, 1, 100, None, (), (), None)
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    out = decide_new(new, found, set(), set(), [sub], now, initial_posts=1, max_age=timedelta(days=7))
    assert [(a.entry.title, a.deliver_to) for a in out] == [("Story 1", ()), ("Story 2", ()), ("Story 3", (1,))]


@BOTH_PATHS
def test_an_html_entity_undefined_in_xml_no_longer_cuts_the_text(base: str) -> None:
    rss = (
        f'<?xml version="1.0"?><rss version="2.0"{base}><channel><title>T</title><link>https://a.test/</link>'
        "<item><title>Und tsch&uuml;ss. Re: Double&mdash;entry accounting</title><link>https://a.test/1</link>"
        "<description>Caf&eacute; prices &amp; a tail that must survive</description></item></channel></rss>"
    )
    entry = parse_feed(rss.encode(), "https://a.test/feed").entries[0]
    assert entry.title == "Und tschüss. Re: Double\u2014entry accounting"
    assert "a tail that must survive" in entry.content_html and "é" in entry.content_html


def test_an_unknown_entity_is_kept_as_text_on_the_fast_path() -> None:
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://a.test/</link>'
        "<item><title>A&amp;B &zzbogus; tail</title><link>https://a.test/1</link></item></channel></rss>"
    )
    assert parse_feed(rss.encode(), "https://a.test/feed").entries[0].title == "A&B &zzbogus; tail"
