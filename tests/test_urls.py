from datetime import UTC, datetime

from bot.models import Entry
from bot.urls import entry_key, normalize_url, story_key


def entry(guid=None, link=None, title="t", published=None) -> Entry:
    return Entry(guid, link, title, "", None, published, None)


def test_normalize_drops_tracking_fragment_and_case() -> None:
    assert (
        normalize_url("HTTPS://News.Example.COM:443/a/B?utm_source=x&id=2&fbclid=z&a=1#top")
        == "https://news.example.com/a/B?a=1&id=2"
    )
    assert normalize_url("http://x.test:80") == "http://x.test/"
    assert normalize_url("http://x.test:8080/p?gclid=1") == "http://x.test:8080/p"


def test_entry_key_prefers_guid_then_link_then_hash() -> None:
    assert entry_key(entry(guid="abc", link="https://a.test/1")) == "2:g:abc"
    assert entry_key(entry(link="https://a.test/1?utm_medium=rss")) == "2:l:https://a.test/1"
    when = datetime(2026, 1, 1, tzinfo=UTC)
    hashed = entry_key(entry(title="Hello", published=when))
    assert hashed.startswith("2:h:") and hashed == entry_key(entry(title="Hello", published=when))
    assert hashed != entry_key(entry(title="Hello again", published=when))


def test_url_guids_are_normalized_too() -> None:
    assert entry_key(entry(guid="https://a.test/1?utm_source=a")) == entry_key(entry(guid="https://a.test/1"))
    # A parser that fills a missing guid with the link yields the same identity as one that leaves it empty.
    assert entry_key(entry(guid="https://a.test/1", link="https://a.test/1")) == entry_key(
        entry(link="https://a.test/1")
    )


def test_story_key_shared_across_feeds_by_link() -> None:
    a = entry(guid="feedA-1", link="https://a.test/story?utm_campaign=x")
    b = entry(guid="feedB-9", link="https://A.test/story")
    assert story_key(a, 1) == story_key(b, 2)
    assert story_key(entry(guid="x"), 1) != story_key(entry(guid="x"), 2)
