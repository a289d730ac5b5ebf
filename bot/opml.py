"""OPML import/export of a guild's subscriptions: pure functions over bytes and (title, url) pairs.

Parsing uses lxml with entity resolution, DTD loading and network access off: an uploaded OPML file is a stranger's
XML, and must not be able to expand entities or reach the network.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import lxml.etree

MAX_OUTLINES = 500


@dataclass(frozen=True, slots=True)
class Outline:
    title: str
    url: str


class OPMLError(Exception):
    pass


def to_opml(items: Iterable[Outline], title: str) -> bytes:
    root = lxml.etree.Element("opml", version="2.0")
    head = lxml.etree.SubElement(root, "head")
    lxml.etree.SubElement(head, "title").text = title
    lxml.etree.SubElement(head, "dateCreated").text = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    body = lxml.etree.SubElement(root, "body")
    for item in items:
        lxml.etree.SubElement(
            body, "outline", type="rss", text=item.title or item.url, title=item.title or item.url, xmlUrl=item.url
        )
    return bytes(lxml.etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True))


def parse_opml(data: bytes) -> list[Outline]:
    parser = lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
    )
    try:
        root = lxml.etree.fromstring(data, parser)
    except lxml.etree.XMLSyntaxError as exc:
        raise OPMLError(f"not a valid OPML file ({str(exc)[:120]})") from None
    if root.tag != "opml":
        raise OPMLError("not an OPML file (the root element is not <opml>)")
    out: list[Outline] = []
    seen: set[str] = set()
    for node in root.iter("outline"):
        url = (node.get("xmlUrl") or node.get("xmlurl") or "").strip()
        if not url or url in seen:
            continue
        seen.add(url)
        out.append(Outline((node.get("title") or node.get("text") or "").strip()[:200], url))
        if len(out) >= MAX_OUTLINES:
            break
    return out
