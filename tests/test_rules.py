"""The pure rules, alone, as tables of cases: no HTTP, no database, no bot. Each row names what it checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot import schedule
from bot.decide import Candidate, backfill, decide_new, passes_filters, preview_choice
from bot.deliver import retry_delay
from bot.models import Article, Entry, Feed, Subscription
from bot.opml import OPMLError, Outline, parse_opml, to_opml

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
AGE = timedelta(days=7)


def feed(initialized: bool = True, errors: int = 0, interval: int = 900) -> Feed:
    return Feed(1, "https://a.test/feed", "A", '"e"', "lm", interval, 0.0, None, errors, None, None, initialized)


def sub(
    sid: int = 1, include: tuple[str, ...] = (), exclude: tuple[str, ...] = (), paused: str | None = None
) -> Subscription:
    return Subscription(sid, 1, 1, 100 + sid, None, include, exclude, paused)


def cand(n: int, *, age: timedelta | None = timedelta(hours=1), text: str = "", title: str | None = None) -> Candidate:
    published = NOW - age if age is not None else None
    entry = Entry(f"g{n}", f"https://a.test/{n}", title or f"Story {n}", "", None, published, None)
    return Candidate(entry, f"k{n}", f"s{n}", text)


# ----- new or seen, first fetch, age, pause, filters: (what, feed, found, known keys, known stories, subs,
#       expected [(key, subscription ids)])
DECIDE = [
    (
        "all new on a followed feed post, oldest first",
        feed(),
        [cand(2, age=timedelta(hours=1)), cand(1, age=timedelta(hours=2))],
        set(),
        set(),
        [sub()],
        [("k1", (1,)), ("k2", (1,))],
    ),
    ("a known key is seen", feed(), [cand(2), cand(1)], {"k1"}, set(), [sub()], [("k2", (1,))]),
    ("a known story (rotated guid) is seen", feed(), [cand(2), cand(1)], set(), {"s2"}, [sub()], [("k1", (1,))]),
    (
        "first fetch: only the newest posts, the rest recorded",
        feed(initialized=False),
        [cand(3, age=timedelta(hours=1)), cand(2, age=timedelta(hours=2)), cand(1, age=timedelta(hours=3))],
        set(),
        set(),
        [sub()],
        [("k1", ()), ("k2", ()), ("k3", (1,))],
    ),
    ("too old: recorded, never posted", feed(), [cand(1, age=timedelta(days=8))], set(), set(), [sub()], [("k1", ())]),
    ("undated items are never too old", feed(), [cand(1, age=None)], set(), set(), [sub()], [("k1", (1,))]),
    ("a paused subscription skips", feed(), [cand(1)], set(), set(), [sub(paused="by admin")], [("k1", ())]),
    (
        "filters choose per subscription",
        feed(),
        [cand(1, text="the ferry sails")],
        set(),
        set(),
        [sub(1, include=("ferry",)), sub(2, exclude=("ferry",)), sub(3)],
        [("k1", (1, 3))],
    ),
]


@pytest.mark.parametrize(
    ("what", "f", "found", "keys", "stories", "subs", "expected"), DECIDE, ids=[row[0] for row in DECIDE]
)
def test_decide_new(
    what: str,
    f: Feed,
    found: list[Candidate],
    keys: set[str],
    stories: set[str],
    subs: list[Subscription],
    expected: list[tuple[str, tuple[int, ...]]],
) -> None:
    out = decide_new(f, found, keys, stories, subs, NOW, initial_posts=1, max_age=AGE)
    assert [(a.key, a.deliver_to) for a in out] == expected


FILTERS = [
    ("no words: everything passes", (), (), "Anything", True),
    ("an include word must appear", ("ferry",), (), "Harbor news", False),
    ("any include word is enough", ("ferry", "harbor"), (), "Harbor news", True),
    ("whole words only", ("port",), (), "Sports report", False),
    ("case does not matter", ("FERRY",), (), "the ferry", True),
    ("an exclude word blocks", (), ("sport",), "Sport results", False),
    ("exclude wins over include", ("ferry",), ("strike",), "Ferry strike", False),
    ("regex characters are literal", ("c++",), (), "Why c++ matters", True),
]


@pytest.mark.parametrize(("what", "include", "exclude", "text", "passes"), FILTERS, ids=[r[0] for r in FILTERS])
def test_filters(what: str, include: tuple[str, ...], exclude: tuple[str, ...], text: str, passes: bool) -> None:
    assert passes_filters(sub(include=include, exclude=exclude), text, "") is passes


def stored(n: int, text: str, age: timedelta | None) -> Article:
    return Article(1, f"k{n}", f"s{n}", None, f"Story {n}", text, None, NOW - age if age else None, None, "S", id=n)


BACKFILL = [
    (
        "the newest N, oldest first",
        sub(),
        2,
        [stored(3, "a", timedelta(hours=1)), stored(2, "b", timedelta(hours=2)), stored(1, "c", timedelta(hours=3))],
        ["k2", "k3"],
    ),
    (
        "its own filters",
        sub(include=("ferry",)),
        5,
        [stored(2, "sport", timedelta(hours=1)), stored(1, "ferry", timedelta(hours=2))],
        ["k1"],
    ),
    ("its max age", sub(), 5, [stored(2, "new", timedelta(hours=1)), stored(1, "old", timedelta(days=30))], ["k2"]),
    ("nothing when none passes", sub(exclude=("x",)), 5, [stored(1, "x", timedelta(hours=1))], []),
]


@pytest.mark.parametrize(("what", "s", "count", "recent", "expected"), BACKFILL, ids=[r[0] for r in BACKFILL])
def test_backfill(what: str, s: Subscription, count: int, recent: list[Article], expected: list[str]) -> None:
    assert [a.key for a in backfill(s, recent, NOW, max_age=AGE, count=count)] == expected


def test_preview_choice_is_the_newest_postable() -> None:
    found = [cand(3, text="sport"), cand(2, text="ferry"), cand(1, text="ferry", age=timedelta(days=30))]
    chosen = preview_choice(found, sub(include=("ferry",)), NOW, max_age=AGE)
    assert chosen is not None and chosen.key == "k2"
    assert preview_choice(found, sub(include=("regatta",)), NOW, max_age=AGE) is None


RETRY = [  # (attempts, Retry-After, base, expected seconds)
    (1, None, 5.0, 5.0),
    (2, None, 5.0, 10.0),
    (4, None, 5.0, 40.0),
    (20, None, 5.0, 900.0),
    (1, 30.0, 5.0, 30.0),
    (4, 1.0, 5.0, 40.0),
    (0, None, 5.0, 5.0),
]


@pytest.mark.parametrize(("attempts", "after", "base", "expected"), RETRY)
def test_retry_delay(attempts: int, after: float | None, base: float, expected: float) -> None:
    assert retry_delay(attempts, after, base) == expected


BACKOFF = [  # (error count, Retry-After, expected delay): interval 900, cap 21600
    (1, None, 900),
    (2, None, 1800),
    (3, None, 3600),
    (10, None, 21600),
    (1, 7200.0, 7200),
    (1, 10**6, 21600),
]


@pytest.mark.parametrize(("count", "after", "expected"), BACKOFF)
def test_failure_backoff(count: int, after: float | None, expected: float) -> None:
    assert schedule.next_check_after_failure(1000.0, 900, count, 21600, after) == 1000.0 + expected


@pytest.mark.parametrize("now", [0.0, 1234.5, 1_780_000_000.0, 1_780_000_449.9])
@pytest.mark.parametrize("url", ["https://a.test/1", "https://b.test/feed.xml", "http://c.test/?x=1"])
def test_next_check_is_on_the_feeds_phase_and_at_least_half_an_interval_away(now: float, url: str) -> None:
    interval = 900
    slot = schedule.next_check_after_success(now, interval, url)
    assert now + interval / 2 < slot <= now + 1.5 * interval
    offset = (slot / interval - schedule.phase(url)) % 1  # whole intervals from the feed's phase
    assert min(offset, 1 - offset) < 1e-6


OUTCOMES = [
    (
        "a fetch clears errors and keeps new validators",
        lambda f: schedule.after_fetch(
            f, now=10.0, took=0.5, title="New", etag='"n"', last_modified=None, moved_to=None
        ),
        {"error_count": 0, "title": "New", "etag": '"n"', "last_modified": None, "initialized": True},
    ),
    (
        "a 304 keeps the validators",
        lambda f: schedule.after_not_modified(f, now=10.0, took=0.1),
        {"error_count": 0, "etag": '"e"', "last_modified": "lm", "initialized": True},
    ),
    (
        "a failure counts and keeps the validators",
        lambda f: schedule.after_failure(f, now=10.0, took=1.0, error="HTTP 500", limit=10, max_backoff=21600),
        {"error_count": 3, "last_error": "HTTP 500", "disabled_reason": None, "etag": '"e"'},
    ),
    (
        "the limit disables",
        lambda f: schedule.after_failure(f, now=10.0, took=1.0, error="HTTP 500", limit=3, max_backoff=21600),
        {"error_count": 3, "disabled_reason": "failed 3 times in a row; last error: HTTP 500"},
    ),
    (
        "410 Gone disables at once",
        lambda f: schedule.after_failure(
            f, now=10.0, took=1.0, error="HTTP 410 Gone", limit=10, max_backoff=21600, gone=True
        ),
        {"disabled_reason": "the server says the feed is gone (HTTP 410 Gone)"},
    ),
]


@pytest.mark.parametrize(("what", "decide", "expected"), OUTCOMES, ids=[r[0] for r in OUTCOMES])
def test_feed_outcomes(what: str, decide, expected: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    outcome = decide(feed(errors=2))
    assert {k: getattr(outcome, k) for k in expected} == expected
    assert outcome.checked_at == 10.0 and outcome.next_check > 10.0


OPML = [
    (
        "flat outlines",
        b'<opml version="2.0"><body><outline text="A" xmlUrl="https://a.test/f"/></body></opml>',
        [Outline("A", "https://a.test/f")],
    ),
    (
        "nested folders",
        b'<opml><body><outline text="News"><outline title="B" xmlUrl="https://b.test/f"/></outline></body></opml>',
        [Outline("B", "https://b.test/f")],
    ),
    ("outlines without a feed URL are skipped", b'<opml><body><outline text="folder"/></body></opml>', []),
]


@pytest.mark.parametrize(("what", "data", "expected"), OPML, ids=[r[0] for r in OPML])
def test_parse_opml(what: str, data: bytes, expected: list[Outline]) -> None:
    assert parse_opml(data) == expected


def test_opml_round_trip_and_garbage() -> None:
    items = [Outline("A & B", "https://a.test/f?x=1&y=2"), Outline("Ünïcode", "https://b.test/f")]
    assert parse_opml(to_opml(items, "mine")) == items
    with pytest.raises(OPMLError):
        parse_opml(b"not xml at all <")
