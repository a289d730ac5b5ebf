"""Article page (HTML + URL) to ``Extracted``: the main text and the metadata a post needs. Pure.

trafilatura finds the main text; it scored best on the shared benchmark data among what we measured (see README and
`bench/extraction.py`). Metadata it only gives partially is read from the page's own markup:
full published timestamps (trafilatura keeps only the day), ``<html lang>``, and the first real content image when the
page names no social image. A last pass drops the editor/credit/newsletter lines extractors let through.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urljoin

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


# Lines that are furniture, not article: matched against a whole line, case-insensitively.
_BOILERPLATE = re.compile(
    r"^(?:"
    r"(?:edited|reporting|additional reporting|writing|compiled) by\b.{0,120}"
    r"|(?:image|photo|picture|video)s?(?: credit)?s?\s*[:|©].{0,150}"
    r"|(?:credit|source|copyright|©)\s*[:|].{0,120}"
    r"|advertisement|sponsored( content)?|fetching more content\.*|loading\.*|quick links"
    r"|(?:read|see) (?:more|also)\b.{0,120}|more from\b.{0,120}|related(?: articles| stories)?:?"
    r"|(?:sign up|subscribe)\b.{0,160}(?:newsletter|inbox|updates)\.?"
    r"|share (?:this|on)\b.{0,60}|follow us\b.{0,80}|click here\b.{0,120}"
    r"|(?:we use|this (?:site|website) uses) cookies\b.{0,200}"
    r")$",
    re.IGNORECASE,
)


def clean_text(text: str, title: str | None = None) -> str:
    """Drop furniture lines and the headline repeated as a paragraph.

    Repeated paragraphs are kept on purpose: dropping them measurably lowered recall on the benchmark data
    (articles legitimately repeat short lines), and the summarizer already skips near-duplicate sentences.
    """
    headline = " ".join(title.split()).casefold() if title else None
    out: list[str] = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if not line or _BOILERPLATE.match(line) or line.casefold() == headline:
            continue
        out.append(line)
    return "\n".join(out)


def _parse_time(value: str | None) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


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


def _meta(doc: Any, *names: str) -> str | None:
    for name in names:
        for attr in ("property", "name", "itemprop"):
            found = doc.xpath(f'//meta[@{attr}="{name}"]/@content')
            if found and found[0].strip():
                return str(found[0]).strip()
    return None


_SKIP_IMAGE = re.compile(r"logo|icon|avatar|sprite|pixel|spacer|badge|emoji|tracking|1x1|blank\.", re.IGNORECASE)


def _content_image(doc: Any, url: str) -> str | None:
    """The first image inside the article body that is not a logo, icon or tracking pixel."""
    scopes = doc.xpath("//article") or doc.xpath("//main") or [doc]
    for img in scopes[0].iter("img"):
        src = img.get("src") or img.get("data-src") or ""
        if not src or src.startswith("data:") or _SKIP_IMAGE.search(src):
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
# nothing on 3 of the 63 dev pages (F1 0.92). It costs ~20% more time per page than balanced.
Mode = Literal["balanced", "precision", "recall"]
MODE: Mode = "precision"


def extract(html: str | bytes, url: str, mode: Mode = MODE) -> Extracted | None:
    """The article on a page, or None when the page has no recognisable article text."""
    if isinstance(html, bytes):
        html = _decode(html)
    html = html[:_MAX_HTML]
    if not html.strip():
        return None
    # One parse with trafilatura's own loader (its settings matter for recall). Our metadata is read first,
    # because trafilatura prunes the tree it is given.
    # Imported here: trafilatura and its helpers weigh ~10 MB, needed only in the processes that extract pages.
    import trafilatura
    from trafilatura.utils import load_html

    doc = load_html(html)
    if doc is None:
        return None
    published_raw = (
        _meta(doc, "article:published_time", "datePublished", "og:published_time", "pubdate", "publishdate", "date")
        or _json_ld_published(doc)
        or next(iter(doc.xpath("//time/@datetime")), None)
    )
    image = _meta(doc, "og:image", "og:image:url", "twitter:image", "twitter:image:src")
    image = urljoin(url, image) if image else _content_image(doc, url)
    og_title = _meta(doc, "og:title")
    lang = (doc.get("lang") or "").split("-")[0].strip().lower() or None
    data = _bare(trafilatura, doc, url, mode)
    title = data.get("title") or og_title
    text = clean_text(data.get("text") or "", title)
    if len(text) < _MIN_TEXT:
        return None
    published = _parse_time(published_raw) or _parse_time(data.get("date"))
    lang = lang or (data.get("language") or None)
    return Extracted(
        text=text,
        title=title or None,
        author=data.get("author") or None,
        published=published,
        language=lang,
        site_name=data.get("sitename") or None,
        image=image if image and image.startswith(("http://", "https://")) else None,
    )


def _bare(trafilatura: Any, doc: Any, url: str, mode: Mode) -> dict[str, Any]:
    # fast=True skips trafilatura's fallback extractors: same F1 in balanced and recall modes on the dev pages,
    # ~30% less time; precision mode needs them (see MODE).
    result = trafilatura.bare_extraction(
        doc,
        url=url,
        include_comments=False,
        include_tables=False,
        with_metadata=True,
        fast=mode != "precision",
        favor_precision=mode == "precision",
        favor_recall=mode == "recall",
    )
    data = result.as_dict() if result is not None and hasattr(result, "as_dict") else (result or {})
    return dict(data)


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
