"""`bot.images`: which image URLs are pictures of a story, then the three places a post's image comes from (a feed
item's named media, its own text, the article page) skipping what is not."""

from __future__ import annotations

import json

import pytest

from bot.extract import extract
from bot.images import is_body_picture, is_picture
from bot.parse import parse_feed


@pytest.mark.parametrize(
    ("url", "picture"),
    [
        ("https://cdn.news.test/2026/11/ferry-pier.jpg", True),
        ("https://www.news.test/sites/default/files/2026-11/ferry.jpg", True),  # Drupal's folder, not the file
        ("https://cdn.news.test/alibaba-logo-getty-1024.jpg", True),  # a story about a logo
        ("https://cdn.news.test/google-pixel-10-review.jpg", True),  # a phone
        ("https://cdn.news.test/crops/harbour-1x1-640.jpg", True),  # a square crop
        ("https://cdn.news.test/transparent-solar-panels.jpg", True),
        ("https://images.news.test/im-128022/social", True),  # no file name at all
        ("https://www.sfgate.com/img/pages/article/opengraph_default.png", False),
        ("https://news.test/assets/og-default.jpg", False),
        ("https://news.test/img/placeholder-1200x630.png", False),
        ("https://news.test/img/noimage.gif", False),
        ("https://news.test/static/fallback_share.png", False),
        ("https://news.test/favicon-192.png", False),
        ("https://news.test/apple-touch-icon.png", False),
        ("https://secure.gravatar.com/blavatar/55bf7238e39ec9fd?s=200", False),  # a WordPress.com blog's icon
        ("https://secure.gravatar.com/avatar/1234?s=96", False),
        ("http://feeds.feedburner.com/~r/NewsTest/~4/AbCdEf", False),  # FeedBurner's tracking pixel
        ("http://feeds.feedburner.com/~ff/NewsTest?d=yIl2AUoC8zA", False),  # and its share buttons
        ("https://news.test/~ff/NewsTest?i=x", False),
        ("https://s.w.org/images/core/emoji/15.0.3/72x72/1f4f0.png", False),
        ("https://news.test/wp-includes/images/smilies/icon_smile.gif", False),
        ("https://stats.news.test/pixel.gif?u=1", False),
        ("https://cdn.news.test/2026/1.jpg", True),  # a short name is not a pixel's
        ("https://news.test/img/1x1.png", False),
        ("https://ad.doubleclick.net/ddm/ad/x.jpg", False),
        ("data:image/png;base64,iVBORw0KGgo=", False),
        ("", False),
        (None, False),
    ],
)
def test_is_picture(url: str | None, picture: bool) -> None:
    assert is_picture(url) is picture


@pytest.mark.parametrize(
    ("url", "picture"),
    [
        ("https://cdn.news.test/2026/11/ferry-pier.jpg", True),
        ("https://news.test/img/logo.png", False),  # in a body, the site's chrome is likelier than a story on a logo
        ("https://news.test/icons/share.svg", False),
        ("https://news.test/img/opengraph_default.png", False),  # and whatever `is_picture` refuses
    ],
)
def test_is_body_picture(url: str, picture: bool) -> None:
    assert is_body_picture(url) is picture


def _rss(item: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title>'
        f"<link>https://a.test/</link><item><title>Story</title><link>https://a.test/1</link>{item}</item>"
        "</channel></rss>"
    ).encode()


def _text(html: str) -> str:
    return f"<description>{html.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</description>"


_FEEDBURNER_TAIL = (
    '<div class="feedflare"><a href="http://feeds.feedburner.com/~ff/T?a=1">'
    '<img src="http://feeds.feedburner.com/~ff/T?d=yIl2AUoC8zA" border="0"></a></div>'
    '<img src="http://feeds.feedburner.com/~r/T/~4/xyz" height="1" width="1" alt=""/>'
)


@pytest.mark.parametrize(
    ("item", "image"),
    [
        (_text("<p>The council voted on the pier.</p>" + _FEEDBURNER_TAIL), None),  # only FeedBurner's images
        (_text('<p>Text <img src="/img/pier.jpg"></p>' + _FEEDBURNER_TAIL), "https://a.test/img/pier.jpg"),
        (_text('<img src="https://cdn.a.test/s.gif" width="1" height="1"><img src="/p.jpg">'), "https://a.test/p.jpg"),
        (_text('<img src="https://s.w.org/images/core/emoji/15/72x72/1f600.png"> Fun'), None),
        (
            '<media:thumbnail url="https://a.test/img/placeholder.png"/><media:content url="https://a.test/real.jpg" '
            'medium="image"/>',
            "https://a.test/real.jpg",  # the feed's named media: the first that is a picture
        ),
        ('<media:content url="https://a.test/og-default.png" medium="image"/>', None),
    ],
)
def test_a_feed_items_image_is_its_first_picture(item: str, image: str | None) -> None:
    assert parse_feed(_rss(item), "https://a.test/feed").entries[0].image == image


_BODY = "<p>" + "The harbour council voted on Tuesday to rebuild the old ferry pier after the storms. " * 8 + "</p>"


@pytest.mark.parametrize(
    ("head", "image"),
    [
        ('<meta property="og:image" content="/photos/pier.jpg">', "https://a.test/photos/pier.jpg"),
        # only the site's default card: no picture of its own (its first <img> is a theme's or another story's)
        ('<meta property="og:image" content="/img/opengraph_default.png">', None),
        ("", "https://a.test/photos/inline.jpg"),  # no card named: the article's first picture
        (
            '<meta property="og:image" content="https://secure.gravatar.com/blavatar/ab?s=200">'
            '<meta name="twitter:image" content="/photos/card.jpg">',
            "https://a.test/photos/card.jpg",  # Twitter's card when the Open Graph one is the blog's icon
        ),
    ],
)
def test_a_pages_image_is_its_own_picture(head: str, image: str | None) -> None:
    html = f"<html><head><title>Pier</title>{head}</head><body><article><h1>Pier</h1>{_BODY}"
    html += '<img src="/photos/inline.jpg" width="800"></article></body></html>'
    page = extract(html, "https://a.test/story")
    assert page is not None and page.image == image


@pytest.mark.parametrize(
    ("fields", "image"),
    [
        ({"image": "/img/placeholder.png", "banner_image": "/img/pier.jpg"}, "https://a.test/img/pier.jpg"),
        ({"image": "/img/pier.jpg"}, "https://a.test/img/pier.jpg"),
        ({"content_html": '<p>Text <img src="/img/inline.jpg"></p>'}, "https://a.test/img/inline.jpg"),
        ({"image": "https://secure.gravatar.com/avatar/1", "content_html": "<p>Text</p>"}, None),
    ],
)
def test_a_json_feed_items_image_is_its_first_picture(fields: dict[str, str], image: str | None) -> None:
    item = {"id": "1", "url": "https://a.test/1", "title": "Story", **fields}
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": [item]}
    assert parse_feed(json.dumps(feed).encode(), "https://a.test/feed.json").entries[0].image == image


def _items(images: list[str]) -> bytes:
    items = "".join(
        f'<item><title>Story {i}</title><link>https://a.test/{i}</link><media:content url="{image}" medium="image"/>'
        "</item>"
        for i, image in enumerate(images)
    )
    return _rss("").replace(b"<item><title>Story</title><link>https://a.test/1</link></item>", items.encode())


@pytest.mark.parametrize(
    ("images", "kept"),
    [
        (["https://a.test/c/1.jpg", "https://a.test/c/2.jpg", "https://a.test/c/3.jpg"], [True, True, True]),
        (["https://a.test/brand.png"] * 2 + ["https://a.test/c/3.jpg"], [True, True, True]),  # two may share a photo
        (["https://a.test/brand.png"] * 3 + ["https://a.test/c/4.jpg"], [False, False, False, True]),  # the feed's
    ],
)
def test_an_image_three_items_carry_is_the_feeds_not_theirs(images: list[str], kept: list[bool]) -> None:
    entries = parse_feed(_items(images), "https://a.test/feed").entries
    assert [e.image for e in entries] == [image if keep else None for image, keep in zip(images, kept, strict=True)]
