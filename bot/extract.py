"""Article page (HTML + URL) to ``Extracted``: the main text and the metadata a post needs. Pure.

trafilatura finds the main text; it scored best on the shared benchmark data among what we measured (see README and
`bench/extraction.py`). Metadata it only gives partially is read from the page's own markup: full published
timestamps (trafilatura keeps only the day), the declared language, and the first real content image when the page
names no social image. A last pass (`bot.cleantext`) drops the furniture lines extractors let through.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urljoin

from bot.cleantext import clean_text
from bot.dates import iso_time
from bot.images import is_body_picture, is_picture
from bot.language import primary

_MIN_TEXT = 50  # characters: less is a menu or an error page, not an article
_MAX_HTML = 3_000_000  # characters parsed; the fetcher already caps bytes, this bounds decoded text too


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str  # paragraphs separated by newlines
    title: str | None
    author: str | None
    published: datetime | None
    language: str | None
    site_name: str | None
    image: str | None  # absolute


def _json_ld_published(doc: Any) -> str | None:
    for script in doc.xpath('//script[@type="application/ld+json"]')[:10]:
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node[:50])
            elif isinstance(node, dict):
                if isinstance(node.get("datePublished"), str):
                    return str(node["datePublished"])
                graph = node.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph[:50])
    return None


def _meta_tags(doc: Any) -> dict[str, str]:
    """Each ``<meta property|name|itemprop|http-equiv=… content=…>`` of the page, first non-empty one per key, in
    one pass (``http-equiv`` names lowercased: pages write ``Content-Language`` every way)."""
    tags: dict[str, str] = {}
    for element in doc.iter("meta"):
        content = (element.get("content") or "").strip()
        if not content:
            continue
        for attr in ("property", "name", "itemprop"):
            key = element.get(attr)
            if key:
                tags.setdefault(f"{attr}={key}", content)
        if equiv := element.get("http-equiv"):
            tags.setdefault(f"http-equiv={equiv.lower()}", content)
    return tags


_DATE_META = ("article:published_time", "datePublished", "og:published_time", "pubdate", "publishdate", "date")


def _meta(tags: dict[str, str], *names: str) -> str | None:
    for name in names:
        for attr in ("property", "name", "itemprop"):
            if found := tags.get(f"{attr}={name}"):
                return found
    return None


_IMAGE_META = ("og:image", "og:image:url", "twitter:image", "twitter:image:src")


def _page_image(tags: dict[str, str], doc: Any, url: str) -> str | None:
    """The page's own choice of picture (``og:image``, then Twitter's), unless it is the site's default card or
    icon (`bot.images`). A page that names only such a card has no picture of its own: its first ``<img>`` is
    then a theme's header or a "Breaking" banner (both seen on the dev pages), so no image. A page that names
    none gets its article's first picture."""
    named = [urljoin(url, found.strip()) for name in _IMAGE_META if (found := _meta(tags, name))]
    if not named:
        return _content_image(doc, url)
    return next((str(image) for image in named if is_picture(image)), None)


def _content_image(doc: Any, url: str) -> str | None:
    """The first image inside the article body that is not a logo, icon or tracking pixel."""
    scopes = doc.xpath("//article") or doc.xpath("//main") or [doc]
    for img in scopes[0].iter("img"):
        src = img.get("src") or img.get("data-src") or ""
        if not is_body_picture(src):
            continue
        width = img.get("width", "")
        if width.isdigit() and int(width) < 100:
            continue
        joined = urljoin(url, src.strip())
        if joined.startswith(("http://", "https://")):
            return str(joined)
    return None


# The default extraction mode (`[articles] extraction`): trafilatura's precision mode, with its fallback
# extractors on. 5-fold cross-validation over the dev pages (bench/extraction.py, 3 shuffles) could not separate
# the modes: precision − balanced = −0.009 ± 0.033 F1, paired by fold. The larger sample breaks the tie: on the
# benchmark's 118 pages the project had not seen, precision scored 0.967 and balanced 0.959 (issue #14), and for
# a news bot precision is the side to err on (a caption or byline kept at the top becomes the summary's first
# sentence; a paragraph lost at the end costs nothing). Precision needs the fallbacks: with fast=True it returned
# nothing on 3 of the 63 dev pages (F1 0.92); see `_DOUBTFUL_CHARS` for when they run.
Mode = Literal["balanced", "precision", "recall"]
MODE: Mode = "precision"

# When trafilatura's own extractor is trusted without asking its fallbacks (readability, then jusText). Read from
# trafilatura's comparison rules (`trafilatura.external.compare_extraction`): readability replaces the own text only
# when it is empty, when readability's is over twice as long, or when the own body has no paragraph text or more
# tables than paragraphs; jusText is tried only when the text is under MIN_EXTRACTED_SIZE (250) or the body still
# holds page furniture (SANITIZED_XPATH). So a fast result that is long, made of paragraphs and clean is what the
# comparison would keep unless readability finds twice as much. On the 63 dev pages readability never came within
# 1.2x of a text of 260 characters or more; every page where the fallbacks changed the result had under 250. The
# threshold is 4x trafilatura's own minimum, far from that edge on purpose: it is not fitted to the dev pages,
# and the full comparison still runs on one page in seven there. It keeps the shipped mode's output on every dev
# page and removes ~7 ms of the fallbacks from the others.
_DOUBTFUL_CHARS = 1000
_SHORT_CHARS = 500  # 2x MIN_EXTRACTED_SIZE: under it, even the fallbacks found no article (see `_text`)


# Fields a caller may already have: a feed entry's title, author and date, the feed's own name.
Field = Literal["title", "author", "published", "site_name"]


def extract(
    html: str | bytes, url: str, mode: Mode = MODE, *, known: frozenset[Field] = frozenset()
) -> Extracted | None:
    """The article on a page, or None when the page has no recognisable article text.

    `known` names the fields the caller already has: the page is not searched for them (the poller's feed entries
    usually carry all of them, which skips trafilatura's metadata pass, ~20% of the time per page). Such a field
    comes back from the page's cheap ``<meta>`` tags (og:title, its published time) or None.
    """
    if isinstance(html, bytes):
        html = _decode(html)
    html = html[:_MAX_HTML]
    if not html.strip():
        return None
    # One parse with trafilatura's own loader (its settings matter for recall). trafilatura extracts from its own
    # copy of the tree; the metadata is read from this one afterwards.
    doc = _loader()(html)
    if doc is None:
        return None
    data = _text(doc, url, mode)
    if data is None:
        return None
    tags = _meta_tags(doc)
    # The first of the page's own timestamps that is a real date (a placeholder such as 0001-01-01 is not).
    published = (
        iso_time(_meta(tags, *_DATE_META))
        or iso_time(_json_ld_published(doc))
        or iso_time(next(iter(doc.xpath("//time/@datetime")), None))
    )
    image = _page_image(tags, doc, url)
    og_title = _meta(tags, "og:title")
    # The page's declared language (`bot.language`): <html lang>, then Content-Language, then the social locale.
    lang = (
        primary(doc.get("lang"))
        or primary(tags.get("http-equiv=content-language"))
        or primary(_meta(tags, "og:locale"))
        or None
    )
    need_date = "published" not in known and published is None
    meta = PageMetadata(title=None, author=None, sitename=None, date=None)
    if need_date or not {"title", "author", "site_name"} <= known:
        # trafilatura's metadata readers raise these on some malformed pages (its own extract then drops the page);
        # the article text is worth posting without them.
        with contextlib.suppress(TypeError, ValueError):
            meta = page_metadata(doc, url, need_date=need_date, need_author="author" not in known)
    title = meta.title or og_title
    text = clean_text(data.text or "", title)
    if len(text) < _MIN_TEXT:
        return None
    return Extracted(
        text=text,
        title=title or None,
        author=meta.author or None,
        published=published or iso_time(meta.date),
        language=lang,
        site_name=meta.sitename or None,
        image=image if image and image.startswith(("http://", "https://")) else None,
    )


@functools.cache
def _loader() -> Callable[[str], Any]:
    """trafilatura's page loader, its parser switched to a C-level element lookup (once per process).

    lxml.html's parser maps each element to its class through a Python method, called every time lxml hands an
    element to Python: ~280,000 calls a pass over the dev pages. ``ElementDefaultClassLookup`` gives every element
    the same ``HtmlElement`` class in C. What is lost is lxml.html's form classes (``FormElement.inputs``…), which
    trafilatura never uses: the output is the same on every dev page, and extract + summarize takes 0.93x the time
    (median of 12 alternating passes over them). trafilatura's loader is kept (its decoding and repairs
    matter for recall); only its parser's lookup changes. Imported here, not at the top: trafilatura and its
    helpers weigh ~10 MB, needed only in the processes that extract pages. Its XPath rules run as Python from
    here on (`bot.xpathrules`: the same elements, a fifth less time per page).
    """
    import lxml.html
    from lxml import etree
    from trafilatura import utils

    from bot import xpathrules

    xpathrules.install()

    parser = getattr(utils, "HTML_PARSER", None)
    if isinstance(parser, lxml.html.HTMLParser):
        parser.set_element_class_lookup(
            etree.ElementDefaultClassLookup(
                element=lxml.html.HtmlElement,
                comment=lxml.html.HtmlComment,
                pi=lxml.html.HtmlProcessingInstruction,
                entity=lxml.html.HtmlEntity,
            )
        )
    return utils.load_html


def _text(doc: Any, url: str, mode: Mode) -> Any:
    """trafilatura's main text (a ``Document`` with ``.text`` and ``.body``), or None.

    fast=True skips trafilatura's fallback extractors: same F1 in balanced and recall modes on the dev pages, ~30%
    less time. Precision mode runs them only on a doubtful result (see `_DOUBTFUL_CHARS`).
    """
    import trafilatura

    def run(fast: bool, focus: Mode = mode) -> Any:
        return trafilatura.bare_extraction(
            doc,
            url=url,
            include_comments=False,
            include_tables=False,
            with_metadata=False,  # read by `page_metadata`, without the categories, tags and licence
            fast=fast,
            favor_precision=focus == "precision",
            favor_recall=focus == "recall",
        )

    result = run(fast=True)
    if mode != "precision" or not _doubtful(result):
        return result
    result = run(fast=False)
    if _length(result) < _SHORT_CHARS:
        # Precision's one failure that its fallbacks share: pruning the container of the whole article (a class
        # its rules read as furniture), leaving a notice or a teaser. Balanced mode's reading wins then, if it is
        # over twice as long: trafilatura's own escalation idea (it retries short balanced results in recall mode)
        # and its own "twice as long" rule for preferring readability. On the dev pages it changed one page of 63
        # (a 260-character reprint notice instead of a 3,100-character article: F1 0.959 → 0.974 with the notice
        # line dropped by `clean_text`). One page cannot be cross-validated: this is a safety net for a failure
        # class (a post whose summary is a copyright notice), not a fitted score.
        broader = run(fast=True, focus="balanced")
        if _length(broader) > 2 * _length(result):
            result = broader
    return result


def _length(result: Any) -> int:
    return len(result.text or "") if result is not None else 0


def _doubtful(result: Any) -> bool:
    """Whether trafilatura's fallbacks could change this fast result (their rules, `_DOUBTFUL_CHARS`)."""
    from trafilatura.external import SANITIZED_XPATH

    if _length(result) < _DOUBTFUL_CHARS:
        return True
    body = result.body
    if not body.xpath(".//p//text()") or len(body.findall(".//table")) > len(body.findall(".//p")):
        return True
    return bool(body.xpath(SANITIZED_XPATH))


@dataclass(frozen=True, slots=True)
class PageMetadata:
    title: str | None
    author: str | None
    sitename: str | None
    date: str | None  # trafilatura's day, "YYYY-MM-DD"


def page_metadata(doc: Any, url: str, *, need_date: bool = True, need_author: bool = True) -> PageMetadata:
    """Title, author, site name and (when asked) day of a page, by trafilatura's own rules.

    The same steps, in the same order, as ``trafilatura.metadata.extract_metadata``, less what a post never shows
    (categories, tags, licence: a third of that function's time) and the date search when the page's own markup
    already gave a full timestamp, and the author search (the costly part) when the caller has one. Destructive:
    the author search prunes `doc`, so this reads it last.
    """
    from htmldate import find_date
    from trafilatura.htmlprocessing import prune_unwanted_nodes
    from trafilatura.json_metadata import normalize_authors
    from trafilatura.metadata import (
        META_URL,
        examine_meta,
        extract_meta_json,
        extract_metainfo,
        extract_sitename,
        extract_title,
        extract_url,
    )
    from trafilatura.settings import set_date_params
    from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS, AUTHOR_XPATHS

    found = examine_meta(doc)
    if found.author and " " not in found.author:
        found.author = None
    with contextlib.suppress(Exception):  # trafilatura's JSON-LD reader has its own bugs; the page still posts
        found = extract_meta_json(doc, found)
    found.title = found.title or extract_title(doc)
    found.url = found.url or extract_url(doc, url)
    if need_date:
        found.date = find_date(doc, **{**set_date_params(True), "url": found.url})
    if not found.sitename:
        found.sitename = extract_sitename(doc)
    if found.sitename:
        found.sitename = found.sitename.lstrip("@")
        if found.sitename and "." not in found.sitename and not found.sitename[0].isupper():
            found.sitename = found.sitename.title()
    elif found.url and (match := META_URL.match(found.url)):
        found.sitename = match[1]
    if not need_author:
        found.author = None
    elif not found.author:  # last: it prunes the tree in place (trafilatura prunes a deep copy)
        author = extract_metainfo(prune_unwanted_nodes(doc, AUTHOR_DISCARD_XPATHS), AUTHOR_XPATHS, len_limit=120)
        found.author = normalize_authors(None, author) if author else None
    found.clean_and_trim()
    return PageMetadata(title=found.title, author=found.author, sitename=found.sitename, date=found.date)


def _decode(raw: bytes) -> str:
    """Bytes to text: a BOM or <meta charset> wins, then UTF-8, then the web's usual fallback."""
    head = raw[:2048].decode("ascii", errors="ignore").lower()
    match = re.search(r"charset=[\"']?([a-z0-9_\-]+)", head)
    for encoding in ([match.group(1)] if match else []) + ["utf-8"]:
        try:
            return raw.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return raw.decode("cp1252", errors="replace")
