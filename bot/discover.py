"""Autodiscovery: the feeds an HTML page advertises (``<link rel="alternate" type=…>``), best formats first.

Its own module because it reads pages, not feeds: a follow given a news site's address rather than its feed's. Pure.
"""

from __future__ import annotations

import re

import lxml.etree
import lxml.html

from bot.parse import absolute_url

# Advertised types, by preference: RSS and Atom first (the richest entries), RDF, JSON Feed, then a generic type.
FEED_TYPES = {
    "application/rss+xml": 0,
    "application/atom+xml": 0,
    "application/rdf+xml": 1,
    "application/feed+json": 2,
    "application/json": 3,
    "application/xml": 4,
    "text/xml": 4,
}

_REL_SPLIT = re.compile(r"\s+")


def find_feed_links(body: bytes, page_url: str) -> list[str]:
    """Feed URLs a page advertises with <link rel="alternate">, best formats first."""
    try:
        doc = lxml.html.document_fromstring(body)
    except (lxml.etree.ParserError, ValueError):
        return []
    found: list[tuple[int, int, str]] = []
    for order, link in enumerate(doc.iter("link")):
        rels = {r.lower() for r in _REL_SPLIT.split(link.get("rel", "")) if r}
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" not in rels or kind not in FEED_TYPES:
            continue
        href = absolute_url(page_url, link.get("href"))
        if href and all(href != f[2] for f in found):
            found.append((FEED_TYPES[kind], order, href))
    return [href for _, _, href in sorted(found)]
