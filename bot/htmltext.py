"""HTML fragments (feed descriptions, titles) to clean plain text, with lxml doing the parsing.

Feed HTML is written by strangers: scripts, styles and embedded widgets are dropped, block elements become paragraph
breaks, and whitespace is folded. All walks over the tree happen in lxml's C code, so deeply nested markup cannot
exhaust Python's stack (and libxml2 caps the depth it builds).
"""

from __future__ import annotations

import html
import re
from typing import Any

import lxml.etree

_SKIP = frozenset(
    {
        "script",
        "style",
        "noscript",
        "svg",
        "form",
        "button",
        "select",
        "template",
        "head",
        "title",
        "meta",
        "link",
        "figcaption",
        "nav",
        "aside",
        "footer",
    }
)
# Plugins and frames: the element goes, its fallback text stays (an unclosed <embed>, void in HTML5, swallows the
# rest of the text in libxml2's HTML4 parser; "safe<embed src=x> description" must keep "description").
_UNWRAP = ("iframe", "object", "embed", "applet")
_BLOCK = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "header",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "blockquote",
        "pre",
        "table",
        "tr",
        "dl",
        "dt",
        "dd",
        "figure",
        "hr",
        "main",
    }
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufdd0]")
_C1 = re.compile("[\x80-\x9f]")
# C1 controls in decoded text are windows-1252 bytes a feed declared as Latin-1 or UTF-8 ("don\x92t"): read as
# windows-1252 means them (feedparser does the same); the five bytes it leaves undefined are dropped.
_C1_AS_CP1252 = {code: (bytes([code]).decode("cp1252", errors="ignore") or None) for code in range(0x80, 0xA0)}


def demoronize(text: str) -> str:
    if text.isascii():  # nearly always; isascii is ~50× cheaper than the search
        return text
    return text.translate(_C1_AS_CP1252) if _C1.search(text) else text


_PARSER = lxml.etree.HTMLParser(recover=True, no_network=True, remove_comments=True, remove_pis=True)
_BREAK = "\ufdd0"  # a paragraph break marked in the tree (a noncharacter, removed from the input by _CONTROL)


def html_to_text(fragment: str, *, max_chars: int = 200_000) -> str:
    """Readable text of an HTML fragment; plain text passes through with entities decoded.

    The per-element work is done by lxml in C (dropping skipped elements, joining the text); Python touches only
    block elements and line breaks, to mark where paragraphs end. This runs once per feed entry, so it is most of
    the cost of reading a feed.
    """
    return _read(fragment, max_chars)[0]


def text_and_links(fragment: str) -> tuple[str, bool]:
    """`html_to_text` and `link_list` of a feed entry's HTML from one parse: the poller needs both for every entry
    of every feed it reads, and the parse is most of their cost."""
    return _read(fragment, 200_000)


def _read(fragment: str, max_chars: int) -> tuple[str, bool]:
    fragment = demoronize(_CONTROL.sub("", fragment or "")[:max_chars])
    if not fragment.strip():
        return "", False
    if "<" not in fragment:
        return _fold(html.unescape(fragment)), False
    try:
        # No closing tag: an unclosed <iframe> or <textarea> holds raw text to the end, which must not include ours.
        doc = lxml.etree.fromstring(f"<div>{fragment}", _PARSER)
    except (lxml.etree.ParserError, ValueError):
        return _fold(html.unescape(fragment)), False
    body = doc.find("body") if doc is not None else None
    if body is None:
        return "", False
    lxml.etree.strip_elements(body, *_SKIP, lxml.etree.Entity, with_tail=False)
    lxml.etree.strip_tags(body, *_UNWRAP)
    # The cheap tests first: nearly every description stops at them. An aggregator's list is a few hundred
    # characters a story; a long document with many links is an article.
    links = len(fragment) <= _LINK_LIST_MAX and fragment.count("<a") >= 2 and _headlines_hold_most(body)
    for el in body.iter(*_BLOCK, "br", "li"):
        tag = el.tag
        if tag == "br":
            el.tail = "\n" + (el.tail or "")
            continue
        el.text = _BREAK + ("• " if tag == "li" else "") + (el.text or "")
        el.tail = _BREAK + (el.tail or "")
    text = lxml.etree.tostring(body, method="text", encoding="unicode", with_tail=False)
    return _fold(text.replace(_BREAK, "\n\n")), links


def _fold(text: str) -> str:
    """Spaces folded, lines trimmed, a run of blank lines made one paragraph break. str.split does the folding in
    C (a regex over every space cost more than parsing the HTML did; this runs once per feed entry)."""
    out: list[str] = []
    blank = False
    for line in text.replace("\u200b", " ").split("\n"):
        line = " ".join(line.split())
        if not line:
            blank = bool(out)
            continue
        if blank:
            out.append("")
            blank = False
        out.append(line)
    return "\n".join(out)


_LINK_LIST_SHARE = 0.6  # of a fragment's letters and digits in headline links: Google News' lists ~0.75
_LINK_LIST_MAX = 6000  # characters of HTML: Google News lists up to 5 stories in ~1,500
_HEADLINE_WORDS = 3  # a link of fewer words is a tag, a mention, an address or "[comments]", not a headline


def link_list(fragment: str) -> bool:
    """Whether an HTML fragment is a list of headlines linking to other stories rather than text about its item:
    two links of three words or more that hold most of its letters. Google News gives every story a description
    made of the other outlets' headlines ("<ol><li><a>Headline</a> <font>Outlet</font></li>…"); summarized, it
    reads as one run-on sentence of other stories' headlines, so such an item posts with its title alone. A teaser
    that links a few of its words, one link wrapping the whole teaser, or a short post full of hashtags, mentions
    and addresses (Mastodon's) is text.
    """
    return _read(fragment, 200_000)[1]


def _headlines_hold_most(body: Any) -> bool:
    texts = [lxml.etree.tostring(a, method="text", encoding="unicode", with_tail=False) for a in body.iter("a")]
    headlines = [text for text in texts if len(text.split()) >= _HEADLINE_WORDS]
    if len(headlines) < 2:
        return False
    total = _alnum(lxml.etree.tostring(body, method="text", encoding="unicode", with_tail=False))
    return sum(map(_alnum, headlines)) / total >= _LINK_LIST_SHARE


def _alnum(text: str) -> int:
    return sum(map(str.isalnum, text))
