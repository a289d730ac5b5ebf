"""Feed documents (bytes) to ``ParsedFeed``.

RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 go through feedparser, which has two decades of tolerance for broken feeds;
JSON Feed is plain JSON and is mapped here. Pure functions: no I/O, so a hostile document can only cost CPU, and
callers run this off the event loop.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import html.entities
import itertools
import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import fastfeedparser
import fastfeedparser.main
import feedparser

from bot.charset import as_utf8, guessed_utf8
from bot.dates import epoch_time, iso_time
from bot.htmltext import html_to_text
from bot.images import is_picture, without_feed_images
from bot.language import feed_language, primary
from bot.models import Entry, ParsedFeed
from bot.titles import detail_title, title_text

_MAX_CONTENT = 200_000  # characters of HTML body kept per entry


class ParseError(Exception):
    """The document is not a feed we can read; the message says why in one line."""


class NotAFeed(ParseError):
    """The document is an HTML page; callers may look for the feed it links to."""


INLINE_LIMIT = 262_144  # bytes: below this the fast path costs ~1 ms, less than a hop to a worker thread


async def parse_feed_async(body: bytes, url: str, content_type: str = "", *, max_items: int = 500) -> ParsedFeed:
    """Parse without stalling the event loop: small documents the fast parser accepts are parsed inline (cheaper
    than a thread hop); big ones, and anything that needs the tolerant parser, go to a worker thread."""
    if len(body) <= INLINE_LIMIT and not _is_json(body, content_type):
        fast = read_fast(body, url, content_type, max_items)
        if fast is not None:
            return fast
    return await asyncio.to_thread(parse_feed, body, url, content_type, max_items=max_items)


def _is_json(body: bytes, content_type: str) -> bool:
    return "json" in content_type.lower() or body.lstrip()[:1] in (b"{", b"[")


def parse_feed(body: bytes, url: str, content_type: str = "", *, max_items: int = 500) -> ParsedFeed:
    if not body.strip():
        raise ParseError("the response is empty")
    if _is_json(body, content_type):
        return without_feed_images(_parse_json_feed(body, url, max_items))
    return without_feed_images(_parse_xml_feed(body, url, content_type, max_items))


def _looks_like_html(body: bytes) -> bool:
    start = body[:2048].lower()
    return b"<html" in start or b"<!doctype html" in start or (b"<head" in start and b"<rss" not in start)


def _parse_xml_feed(body: bytes, url: str, content_type: str, max_items: int) -> ParsedFeed:
    """fastfeedparser when it copes (about 50× faster), feedparser for everything else.

    fastfeedparser ignores xml:base and raises on some odd documents where feedparser recovers, so those go to
    feedparser; both paths map to the same Entry fields and identities (see tests/test_parse.py).
    """
    return read_fast(body, url, content_type, max_items) or read_tolerant(body, url, content_type, max_items)


_ENTITY_FIXES = re.compile(
    rb"&(?!(?:amp|lt|gt|quot|apos);|#)(?:([A-Za-z][A-Za-z0-9]{1,31});|(?![A-Za-z][A-Za-z0-9]{0,31};))"
)


def _xml_safe_entities(body: bytes) -> bytes:
    """HTML's named entities (``&uuml;``, ``&mdash;``), undefined in XML, as numeric references; unknown names and
    bare ampersands (``?a=1&b=2``) as literal text. The fast parser otherwise stops the text at the first one ("Und
    tsch&uuml;ss." became "Und tsch") or drops it from a link. XML's own five entities match nothing here, so the
    common ``&amp;``/``&lt;`` cost nothing."""

    def fixed(match: re.Match[bytes]) -> bytes:
        if match.group(1) is None:
            return b"&amp;"
        char = html.entities.html5.get(match.group(1).decode("ascii") + ";")
        return b"".join(b"&#%d;" % ord(c) for c in char) if char else b"&amp;" + match.group(1) + b";"

    return _ENTITY_FIXES.sub(fixed, body)


# What the fast parser reads wrong, sent to feedparser instead: XHTML text (Atom's type="xhtml", Atom 0.3's
# mode="xml", elements inside a title or description), base64 text, Atom titles typed as plain text that hold
# escaped brackets, items whose text is an XHTML <body> or a <fullitem>, and Media RSS titles and descriptions
# (YouTube's feeds keep their text there). Each is rare, so looking for them costs far less than reading such a
# feed wrong.
_TOLERANT_ONLY = re.compile(
    rb"""<(?:title|summary|content|subtitle|tagline|description)\b[^>]{0,200}?"""
    rb"""(?:type\s*=\s*["'](?:xhtml|application/xhtml\+xml|application/octet-stream)|mode\s*=\s*["'](?:base64|xml))"""
    rb"""|<(?:title|summary|content|description)\b[^>]{0,200}(?<!/)>[^<]{0,5000}<(?![!/])"""
    rb"""|<title\b[^>]{0,200}type\s*=\s*["']text(?:/plain)?["'][^>]{0,200}>[^<]{0,5000}&lt;"""
    rb"""|<(?:xhtml:)?body\b|<fullitem\b|<media:(?:description|title)\b"""
)


def read_fast(body: bytes, url: str, content_type: str, max_items: int) -> ParsedFeed | None:
    """The fast parse, or None when the tolerant parser must decide (xml:base, _TOLERANT_ONLY, or any failure)."""
    if b"xml:base" in body[:65536] or _TOLERANT_ONLY.search(body):
        return None
    utf8 = as_utf8(body, content_type)  # the HTTP charset wins over the declaration (bot.charset)
    if utf8 is None:
        return None
    try:
        return _parse_fast(_xml_safe_entities(utf8), url, max_items)
    except Exception:
        return None


def _parse_fast(body: bytes, url: str, max_items: int) -> ParsedFeed | None:
    result = fastfeedparser.parse(body)
    entries = result.get("entries") or []
    info = result.get("feed") or {}
    if not entries or not info:
        return None
    kind = _kind(body, "")
    atom = kind.startswith("atom")
    return ParsedFeed(
        title=title_text(info.get("title", ""), atom=atom) or url,
        site_url=absolute_url(url, info.get("link")),
        entries=tuple(_fast_entry(e, url, kind) for e in entries[:max_items]),
        kind=kind,
        language=feed_language(body),
    )


_RSS_VERSION = re.compile(rb"<rss[^>]*?version=[\"']([\d.]+)")


def _kind(body: bytes, fallback: str) -> str:
    """The format read from the document root, the same whichever parser ran."""
    head = body[:4096]
    if (match := _RSS_VERSION.search(head)) is not None:
        return "rss" + match.group(1).decode().replace(".", "")
    if b"purl.org/rss/1.0" in head or b"<rdf:RDF" in head:
        return "rss10"
    if b"http://www.w3.org/2005/Atom" in head:
        return "atom10"
    if b"purl.org/atom/ns#" in head:
        return "atom03"
    return fallback or "unknown"


def _guid(value: Any, link: str | None, raw_link: Any) -> str | None:
    """The item's own id, or None when it only repeats the link (parsers disagree on filling it in)."""
    if not value:
        return None
    guid = str(value)[:2000]
    return None if guid in (link, raw_link) else guid


def _fast_entry(entry: Any, base: str, kind: str) -> Entry:
    atom = kind.startswith("atom")
    contents = entry.get("content") or ()
    content = max((c.get("value", "") or "" for c in contents), key=len, default="")
    summary = entry.get("description", "") or ""
    body = content if len(content) > len(summary) else summary
    raw_link = entry.get("link")
    if atom:  # an Atom entry's address is its alternate link; "related", "via", "enclosure" name other things
        raw_link = next((k.get("href") for k in entry.get("links") or () if k.get("rel") in (None, "alternate")), None)
    guid = entry.get("id")
    if guid is not None and guid == entry.get("link"):
        guid = None  # fastfeedparser's stand-in for a missing id (its first link, of any rel): not the feed's
    link = _link_from_id(absolute_url(base, raw_link), guid, kind)
    author = entry.get("author")
    published = iso_time(entry.get("published")) or iso_time(entry.get("updated"))
    if (
        published
        and isinstance(guid, str)
        and not guid.startswith(("http://", "https://"))
        and (published.hour, published.minute, published.second) == (0, 0, 0)
    ):
        # fastfeedparser guesses a date from a dateless item's guid ("a" becomes 25 January); a guessed date can
        # make a fresh article look too old to post, so a date equal to the guid's guess is not trusted. A guess
        # never has a time of day, so only midnight dates are worth the (slow) check.
        with contextlib.suppress(Exception):
            if iso_time(fastfeedparser.main._parse_date(guid)) == published:
                published = None
    return Entry(
        guid=_guid(guid, link, entry.get("link")),
        link=link,
        title=title_text(entry.get("title", "") or "", atom=atom),
        content_html=body[:_MAX_CONTENT],
        author=title_text(author)[:256] or None if isinstance(author, str) and author else None,
        published=published,
        image=_xml_image(entry, link or base) or _content_image(body, link or base),
    )


def read_tolerant(body: bytes, url: str, content_type: str, max_items: int) -> ParsedFeed:
    """feedparser, for what the fast path will not read. Ids stay as the feed wrote them, like the fast path's,
    so a feed's keys do not change when it switches path: feedparser is told the document's address only when an
    xml:base needs it (such documents never take the fast path); else relative links are resolved here."""
    if as_utf8(body, content_type) is None:
        body, content_type = guessed_utf8(body, content_type), "application/xml; charset=utf-8"
    headers = {"content-location": url} if b"xml:base" in body[:65536] else {}
    if content_type:
        headers["content-type"] = content_type
    result = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=True)
    version = result.get("version") or ""
    if not version and not result.entries:
        if _looks_like_html(body):
            raise NotAFeed("the page is HTML, not a feed")
        problem = result.get("bozo_exception")
        detail = f": {str(problem)[:150]}" if problem else ""
        raise ParseError(f"not a valid RSS, Atom or JSON feed{detail}")
    info = result.feed
    kind = _kind(body, version)
    entries = tuple(_xml_entry(e, url, kind) for e in result.entries[:max_items])
    return ParsedFeed(
        title=detail_title(info) or url,
        site_url=absolute_url(url, info.get("link")),
        entries=entries,
        kind=kind,
        language=feed_language(body),
    )


def _struct_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return epoch_time(calendar.timegm(value))
    except (OverflowError, ValueError, TypeError):
        return None


def absolute_url(base: str, link: Any) -> str | None:
    if not isinstance(link, str) or not link.strip():
        return None
    link = link.strip()
    try:
        joined: str = urljoin(base, link)
    except ValueError:
        return None
    if joined.startswith(("http://", "https://")):
        return joined
    scheme, colon, rest = joined.partition(":")  # HTTP://, Https://: the scheme is case-insensitive
    return scheme.lower() + colon + rest if scheme.lower() in ("http", "https") and rest.startswith("//") else None


def _xml_image(entry: Any, base: str) -> str | None:
    """The first picture the entry names as such (`bot.images`: not a site icon or a placeholder)."""
    return next((url for url in _named_images(entry, base) if is_picture(url)), None)


def _named_images(entry: Any, base: str) -> Iterator[str | None]:
    for media in entry.get("media_content") or ():
        medium = (media.get("medium") or media.get("type") or "image").lower()
        if medium.startswith("image") and media.get("url"):
            yield absolute_url(base, media["url"])
    for thumb in entry.get("media_thumbnail") or ():
        if thumb.get("url"):
            yield absolute_url(base, thumb["url"])
    for link in entry.get("enclosures") or entry.get("links") or ():
        # feedparser names an enclosure's address "href", fastfeedparser "url" (RSS's own attribute name)
        where = link.get("href") or link.get("url")
        if (link.get("type") or "").startswith("image/") and where:
            yield absolute_url(base, where)
    image = entry.get("image")
    if isinstance(image, dict) and (image.get("href") or image.get("url")):
        yield absolute_url(base, image.get("href") or image.get("url"))


_IMG_TAG = re.compile(r"<img\b[^>]{0,2000}>", re.IGNORECASE)
_SRC = re.compile(r"""\bsrc\s*=\s*["']([^"'<>\s]{1,2000})["']""", re.IGNORECASE)
_ONE_PIXEL = re.compile(r"""\b(?:width|height)\s*=\s*["']?[01](?:px)?(?:["'\s/>]|$)""", re.IGNORECASE)


def _content_image(html: str, base: str) -> str | None:
    """The first picture inside the item's own text: the item's picture when the feed names none (before the
    article page's og:image, which is often the site's logo). Not a 1-pixel tracker or a share button
    (FeedBurner ends every item with both), an emoji or an icon (`bot.images`)."""
    start = html.find("<img")
    if start < 0:
        start = html.find("<IMG")  # (a case-insensitive search of every body would cost 8 µs per entry)
        if start < 0:
            return None
    for tag in itertools.islice(_IMG_TAG.finditer(html, start, start + 20_000), 10):
        src = _SRC.search(tag.group(0))
        if src is None or _ONE_PIXEL.search(tag.group(0)):
            continue
        if is_picture(url := absolute_url(base, src.group(1))):
            return url
    return None


def _link_from_id(link: str | None, guid: Any, kind: str) -> str | None:
    """An item whose only address is a URL-valued id (Atom's canonical id, an RSS permalink guid) links there.
    Not RSS 1.0's rdf:about, which names the item's RDF resource (feedparser does not take it as a link either)."""
    if link is None and kind != "rss10" and isinstance(guid, str) and guid.strip().lower().startswith("http"):
        return absolute_url(guid, guid)
    return link


def _xml_entry(entry: Any, base: str, kind: str) -> Entry:
    contents = entry.get("content") or ()
    content = max((c.get("value", "") for c in contents), key=len, default="")
    summary = entry.get("summary", "") or ""
    body = content if len(html_to_text(content[:_MAX_CONTENT])) > len(html_to_text(summary[:_MAX_CONTENT])) else summary
    raw_link = entry.get("link")
    if entry.get("guidislink") and not str(raw_link).startswith(("http://", "https://")):
        raw_link = None  # a relative RSS guid is an id, not an address: the fast path reads it so too
    link = _link_from_id(absolute_url(base, raw_link), entry.get("id"), kind)
    return Entry(
        guid=_guid(entry.get("id"), link, raw_link),
        link=link,
        title=detail_title(entry),
        content_html=body[:_MAX_CONTENT],
        author=((entry.get("author") or None) and title_text(entry.get("author"))[:256]) or None,
        published=_struct_time(
            entry.get("published_parsed") or entry.get("updated_parsed") or entry.get("created_parsed")
        ),
        image=_xml_image(entry, link or base) or _content_image(body, link or base),
    )


def _json_author(item: dict[str, Any], feed: dict[str, Any]) -> str | None:
    for source in (item, feed):
        authors = source.get("authors")
        if isinstance(authors, list) and authors and isinstance(authors[0], dict) and authors[0].get("name"):
            return str(authors[0]["name"])[:256]
        author = source.get("author")
        if isinstance(author, dict) and author.get("name"):
            return str(author["name"])[:256]
    return None


def _parse_json_feed(body: bytes, url: str, max_items: int) -> ParsedFeed:
    try:
        data = json.loads(body.decode("utf-8-sig", errors="replace"))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ParseError(f"not valid JSON ({str(exc)[:100]})") from None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith("https://jsonfeed.org/version/"):
        raise ParseError("JSON document is not a JSON Feed (no jsonfeed.org version)")
    items = data.get("items")
    if not isinstance(items, list):
        raise ParseError("JSON Feed has no items list")
    base: str = data["feed_url"] if isinstance(data.get("feed_url"), str) else url
    entries = []
    for item in items[:max_items]:
        if not isinstance(item, dict):
            continue
        link = absolute_url(base, item.get("url")) or absolute_url(base, item.get("external_url"))
        content = item.get("content_html") or item.get("content_text") or item.get("summary") or ""
        if not isinstance(content, str):
            content = ""
        if item.get("content_text") and not item.get("content_html"):
            content = content.replace("&", "&amp;").replace("<", "&lt;")
        named = (absolute_url(link or base, v) for v in (item.get("image"), item.get("banner_image")))
        image = next((u for u in named if is_picture(u)), None) or _content_image(content, link or base)
        entries.append(
            Entry(
                guid=str(item["id"])[:2000] if item.get("id") not in (None, "") else None,
                link=link,
                title=title_text(str(item.get("title") or "")),
                content_html=content[:_MAX_CONTENT],
                author=_json_author(item, data),
                published=iso_time(item.get("date_published")) or iso_time(item.get("date_modified")),
                image=image,
            )
        )
    version = str(data["version"]).rsplit("/", 1)[-1]
    version = "1.0" if version == "1" else version
    return ParsedFeed(
        title=title_text(str(data.get("title") or "")) or url,
        site_url=absolute_url(base, data.get("home_page_url")),
        entries=tuple(entries),
        kind=f"json{version.replace('.', '')}",
        language=primary(data["language"]) if isinstance(data.get("language"), str) else "",
    )
