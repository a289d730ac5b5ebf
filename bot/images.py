"""Whether an image URL is a picture of the story, or something feeds and pages name for machines. Pure.

A post shows one image, and every source of it carries impostors: a feed item's text ends with FeedBurner's
tracking pixel and share buttons, WordPress writes its emoji as images, a page without a photo of its own names its
site's default card or the blog's icon as its ``og:image`` (SFGate's ``opengraph_default.png``, WordPress.com's
``gravatar.com/blavatar/…``). Shown in Discord, each is a blank square, a smiley or the site's logo on every post.

Decided: the test reads the URL only, never the image (no fetch per post), and only signs that are not words a news
photo is named with: the URL's path and its file name's own words (``default``, ``placeholder``…), not "pixel" in
a file name (a phone's photo) or "logo" (a story about a logo). A site whose default card has a plain name is not
caught from its URL alone; it is caught by use instead. An image that three items or more of one feed document carry
is the feed's own (`without_feed_images`); an article page's picture that two other pages stored in the last day
carry is the site's (`bot.articles.ArticleBuilder`, over the shared pages table). The first two posts of such a
site still show it.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from urllib.parse import urlsplit

from bot.models import ParsedFeed

# Paths that only ever hold tracking pixels, share buttons, emoji, avatars and site icons.
_MACHINE_PATH = re.compile(
    r"feedburner\.com/|/~r/|/~ff/|"  # FeedBurner's pixel and its "flare" buttons (also on custom domains)
    r"gravatar\.com/(?:avatar|blavatar)/|"  # a commenter's face, a WordPress.com blog's icon
    r"/wp-includes/images/|/emoji/|/smilies/|"  # WordPress's emoji and smilies
    r"/(?:pixel|tracking|beacon|counter)s?/|"  # a tracker's own folder
    r"doubleclick\.net/|/share-?buttons?/",
    re.IGNORECASE,
)
# Words of a file name that say it is no photo: "opengraph_default.png", "placeholder-1200x630.jpg", "noimage.gif".
_MACHINE_WORD = re.compile(
    r"(?:^|[^a-z])(?:default|placeholder|fallback|no-?image|no_image|image-?missing|favicon|apple-touch-icon)"
    r"(?:$|[^a-z])",
    re.IGNORECASE,
)
# Whole file names (without extension) of pixels: "pixel.gif", "blank.png", "1x1.png". Not "1x1" inside a name: CDNs
# name their square crops so ("…-1x1-640.jpg"). Not one-letter names either: "t.gif" is a tracker, "1.jpg" a photo.
_PIXEL_NAME = frozenset({"pixel", "blank", "clear", "spacer", "transparent", "1x1", "beacon", "tracker"})


def is_picture(url: str | None) -> bool:
    """False for an image that is no picture of the story (see the module's docstring); True for any other URL."""
    if not url or url.startswith("data:"):
        return False
    parts = urlsplit(url)
    where = f"{parts.netloc}{parts.path}"
    if _MACHINE_PATH.search(where):
        return False
    name = parts.path.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return not (_MACHINE_WORD.search(stem) or stem.lower() in _PIXEL_NAME)


# In a page's body, where a site's chrome sits among the story's pictures, any of these words anywhere in the URL is
# enough: the first <img> of a page without a named picture is a logo or an icon far more often than a photo of one.
_DECORATION = re.compile(r"logo|icon|avatar|sprite|pixel|spacer|badge|emoji|tracking|1x1|blank\.", re.IGNORECASE)


def is_body_picture(url: str | None) -> bool:
    """`is_picture`, stricter: for the first ``<img>`` of an article body, which the page did not name as its own."""
    return is_picture(url) and not _DECORATION.search(url or "")


SHARED = 3  # items of one feed, or article pages, carrying one image make it the feed's or site's, not a story's


def without_feed_images(feed: ParsedFeed) -> ParsedFeed:
    """`feed` without the images that belong to the feed rather than to an item: one image on three different items
    or more is its logo, a podcast's cover or a placeholder, whatever its name. Those items then get the article
    page's own picture, or none (`bot.articles`). Three, not two: two stories may share a file photo."""
    counts = Counter(image for image, _ in {(e.image, e.link) for e in feed.entries if e.image})
    shared = {image for image, count in counts.items() if count >= SHARED}
    if not shared:
        return feed
    entries = tuple(dataclasses.replace(e, image=None) if e.image in shared else e for e in feed.entries)
    return dataclasses.replace(feed, entries=entries)
