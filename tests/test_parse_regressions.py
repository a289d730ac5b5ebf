"""Real feeds that were read wrong (issue: every real feed read right), each as a minimal document written for the
project, read by both parser paths where the bug was path-specific (an ``xml:base`` sends a document to
feedparser; without it, fastfeedparser reads it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.decide import Candidate, candidates, decide_new
from bot.htmltext import html_to_text
from bot.models import Feed, Subscription
from bot.parse import parse_feed, read_fast, read_tolerant

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


def _rss(items: str, base: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?><rss version="2.0"{base}><channel><title>T</title><link>https://a.test/</link>'
        f"{items}</channel></rss>"
    ).encode()


_SUB = Subscription(1, 1, 1, 100, None, (), (), None)
_FEED = Feed(1, "https://a.test/feed", "T", None, None, 900, 0.0, None, 0, None, None, True)
_NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _new(found: list[Candidate], known_keys: set[str]) -> list[str]:
    out = decide_new(_FEED, found, known_keys, set(), [_SUB], _NOW, initial_posts=1, max_age=timedelta(days=7))
    return [a.entry.title for a in out if a.deliver_to]


@BOTH_PATHS
def test_entries_that_differ_only_by_fragment_are_separate_items(base: str) -> None:
    items = "".join(
        f"<item><title>Comment {n}</title><link>https://a.test/post#comment-{n}</link></item>" for n in (3, 2, 1)
    )
    found = candidates(parse_feed(_rss(items, base), "https://a.test/feed"), 1)
    assert [c.entry.title for c in found] == ["Comment 3", "Comment 2", "Comment 1"]
    assert len({c.key for c in found}) == len({c.story_key for c in found}) == 3
    # A noise fragment names the same story as the bare URL, across feeds; identity within the feed keeps it.
    plain = candidates(parse_feed(_rss("<item><title>A</title><link>https://a.test/p</link></item>"), "u"), 2)
    noisy = candidates(parse_feed(_rss("<item><title>A</title><link>https://a.test/p#comments</link></item>"), "u"), 3)
    assert plain[0].story_key == noisy[0].story_key and plain[0].key != noisy[0].key


def test_an_article_stored_under_its_former_key_is_not_posted_again() -> None:
    """Upgrade path: keys stored before fragments counted still match, unless the old rule had merged items."""
    one = candidates(
        parse_feed(_rss("<item><title>Live</title><link>https://a.test/p#top-story</link></item>"), "u"), 1
    )
    assert one[0].former == "2:l:https://a.test/p" != one[0].key
    assert _new(one, {"2:l:https://a.test/p"}) == []
    items = "".join(f"<item><title>Update {n}</title><link>https://a.test/live#u{n}</link></item>" for n in (2, 1))
    merged = candidates(parse_feed(_rss(items), "u"), 1)
    assert [c.former for c in merged] == [None, None]  # which one was stored cannot be known: both are new
    assert _new(merged, {"2:l:https://a.test/live"}) == ["Update 1", "Update 2"]


@BOTH_PATHS
def test_xhtml_and_inline_markup_titles_are_read(base: str) -> None:
    atom = (
        f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"{base}><title>T</title>'
        '<entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">An <b>XHTML</b> title</div></title>'
        "<id>tag:a.test,2026:1</id><link href='https://a.test/1'/></entry></feed>"
    )
    assert parse_feed(atom.encode(), "https://a.test/feed").entries[0].title == "An XHTML title"
    rss = _rss("<item><title><p>Inline <b>markup</b></p></title><link>https://a.test/2</link></item>", base)
    assert parse_feed(rss, "https://a.test/feed").entries[0].title == "Inline markup"


@BOTH_PATHS
def test_a_decoded_title_is_not_parsed_as_html_again(base: str) -> None:
    items = (
        "<item><title>vector&lt;int&gt; in C++</title><link>https://a.test/1</link></item>"
        "<item><title>#include &lt;/etc/shadow&gt;</title><link>https://a.test/2</link></item>"
        "<item><title>&lt;b&gt;Bold&lt;/b&gt; and AT&amp;amp;T</title><link>https://a.test/3</link></item>"
    )
    titles = [e.title for e in parse_feed(_rss(items, base), "https://a.test/feed").entries]
    assert titles == ["vector<int> in C++", "#include </etc/shadow>", "Bold and AT&T"]


def test_an_atom_base64_title_is_decoded() -> None:
    atom = (
        '<?xml version="1.0"?><feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>T</title>'
        '<entry><title mode="base64">SGVsbG8gd29ybGQ=</title><link rel="alternate" href="https://a.test/1"/>'
        "</entry></feed>"
    )
    assert parse_feed(atom.encode(), "https://a.test/feed").entries[0].title == "Hello world"


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "feedparser"])
def test_the_http_charset_wins_over_the_xml_declaration(fast: bool) -> None:
    body = (
        "<?xml version='1.0' encoding='iso-8859-1'?>"
        + ("" if fast else "<!-- xml:base -->")
        + '<rss version="2.0"><channel><title>T</title><item><title>Price \u00a3\u201ctest.\u201d</title>'
        "<link>https://a.test/1</link><description>It\u2019s \u20ac5</description></item></channel></rss>"
    ).encode("cp1252")
    entry = parse_feed(body, "https://a.test/feed", "text/xml; charset=windows-1252").entries[0]
    assert entry.title == "Price \u00a3\u201ctest.\u201d"
    assert html_to_text(entry.content_html) == "It\u2019s \u20ac5"  # no C1 control reaches the text


def test_c1_controls_in_utf8_text_are_read_as_windows_1252() -> None:
    rss = _rss("<item><title>don\u0092t stop</title><link>https://a.test/1</link></item>")
    assert parse_feed(rss, "https://a.test/feed").entries[0].title == "don\u2019t stop"


@pytest.mark.parametrize(
    "items",
    [
        "<item><title>Relative guid</title><guid>/posts/1</guid></item>",
        "<item><title>Opaque guid</title><guid>12345</guid><link>https://a.test/1</link></item>",
        "<item><title>Permalink guid</title><guid isPermaLink='true'>https://a.test/2</guid></item>",
        "<item><title>No id at all</title><description>Just text.</description></item>",
    ],
)
def test_keys_are_the_same_whichever_parser_reads_the_feed(items: str) -> None:
    fast = read_fast(_rss(items), "https://a.test/feed", "", 500)
    assert fast is not None
    tolerant = read_tolerant(_rss(items), "https://a.test/feed", "", 500)
    assert [c.key for c in candidates(fast, 1)] == [c.key for c in candidates(tolerant, 1)]
    assert [e.link for e in fast.entries] == [e.link for e in tolerant.entries]


@BOTH_PATHS
def test_an_item_with_a_clock_relative_date_keeps_its_key(base: str) -> None:
    """ "10:30" is read as today at 10:30: the date moves with the clock, the identity must not."""
    items = "<item><title>Status</title><description>All systems normal.</description><pubDate>{}</pubDate></item>"
    first = candidates(parse_feed(_rss(items.format("10:30"), base), "u"), 1)
    later = candidates(parse_feed(_rss(items.format("3 hours ago"), base), "u"), 1)
    assert first[0].key == later[0].key


@BOTH_PATHS
def test_linkless_dateless_items_with_different_text_do_not_merge(base: str) -> None:
    items = "".join(f"<item><description>Update number {n}.</description></item>" for n in (1, 2, 3))
    found = candidates(parse_feed(_rss(items, base), "https://a.test/feed"), 1)
    assert len(found) == 3 and len({c.key for c in found}) == 3
