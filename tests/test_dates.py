"""Dates from feeds and pages: placeholders are no date, real ones are UTC (``bot.dates``), and a page whose
JSON-LD says year one gets its date from its next source."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.dates import epoch_time, iso_time
from bot.extract import extract
from bot.parse import parse_feed
from tests.test_parse_regressions import BOTH_PATHS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-30T10:00:00Z", datetime(2026, 11, 30, 10, tzinfo=UTC)),
        ("2026-11-30T10:00:00+02:00", datetime(2026, 11, 30, 8, tzinfo=UTC)),
        ("2026-11-30 10:00:00", datetime(2026, 11, 30, 10, tzinfo=UTC)),  # no offset: UTC
        ("  2026-11-30  ", datetime(2026, 11, 30, tzinfo=UTC)),
        ("1971-01-01T00:00:00Z", datetime(1971, 1, 1, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", None),  # a zero value written out
        ("0001-01-01T00:00:00+05:00", None),  # before year one in UTC: would overflow
        ("1970-01-01T00:00:00Z", None),  # the epoch
        ("9999-12-31T23:59:59Z", None),  # "never"
        ("Mon, 30 Nov 2026 10:00:00 GMT", None),  # not ISO 8601
        ("", None),
        (None, None),
        (20261130, None),
    ],
)
def test_iso_time(text: object, expected: datetime | None) -> None:
    assert iso_time(text) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(1_780_000_000, datetime.fromtimestamp(1_780_000_000, UTC)), (0, None), (-62135596800, None), (1e20, None)],
)
def test_epoch_time(seconds: float, expected: datetime | None) -> None:
    assert epoch_time(seconds) == expected


@BOTH_PATHS
def test_a_placeholder_entry_date_is_no_date(base: str) -> None:
    atom = (
        f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"{base}><title>T</title>'
        "<id>https://a.test/</id><updated>2026-11-30T10:00:00Z</updated>"
        "<entry><title>Zero</title><id>https://a.test/1</id><link href='https://a.test/1'/>"
        "<published>0001-01-01T00:00:00Z</published><updated>0001-01-01T00:00:00Z</updated></entry>"
        "<entry><title>Real</title><id>https://a.test/2</id><link href='https://a.test/2'/>"
        "<published>2026-11-30T09:00:00Z</published></entry></feed>"
    )
    entries = parse_feed(atom.encode(), "https://a.test/feed").entries
    assert [(e.title, e.published) for e in entries] == [
        ("Zero", None),
        ("Real", datetime(2026, 11, 30, 9, tzinfo=UTC)),
    ]


def test_a_json_feed_placeholder_date_is_no_date() -> None:
    feed = (
        '{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": ['
        '{"id": "1", "url": "https://a.test/1", "title": "Zero", "date_published": "0001-01-01T00:00:00Z"}]}'
    )
    assert parse_feed(feed.encode(), "https://a.test/feed.json").entries[0].published is None


_STORY = (
    "<p>" + "The ferry pier reopened on Tuesday after a winter of repairs to its storm-damaged pilings. " * 8 + "</p>"
)


def test_a_page_whose_json_ld_date_is_a_placeholder_takes_its_time_element() -> None:
    page = (
        '<html><head><title>Pier</title><script type="application/ld+json">{"@type": "NewsArticle", '
        '"datePublished": "0001-01-01T00:00:00Z", "dateModified": "0001-01-01T00:00:00Z"}</script></head><body>'
        f'<article><h1>Pier</h1><time datetime="2026-11-30T08:15:00Z">30 Nov</time>{_STORY}</article></body></html>'
    )
    extracted = extract(page, "https://a.test/pier")
    assert extracted is not None and extracted.published == datetime(2026, 11, 30, 8, 15, tzinfo=UTC)
