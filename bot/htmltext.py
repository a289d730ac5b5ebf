"""HTML fragments (feed descriptions, titles) to clean plain text, with lxml doing the parsing.

Feed HTML is written by strangers: scripts, styles and embedded widgets are dropped, block elements become paragraph
breaks, and whitespace is folded. The walk is iterative so deeply nested markup cannot exhaust the stack.
"""

from __future__ import annotations

import html
import re

import lxml.etree
import lxml.html

_SKIP = frozenset({"script", "style", "noscript", "iframe", "svg", "form", "button", "select", "template", "object",
                   "embed", "head", "title", "meta", "link", "figcaption", "nav", "aside", "footer"})
_BLOCK = frozenset({"p", "div", "section", "article", "header", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol",
                    "li", "blockquote", "pre", "table", "tr", "dl", "dt", "dd", "figure", "hr", "main"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def html_to_text(fragment: str, *, max_chars: int = 200_000) -> str:
    """Readable text of an HTML fragment; plain text passes through with entities decoded."""
    fragment = _CONTROL.sub("", fragment or "")[:max_chars]
    if not fragment.strip():
        return ""
    if "<" not in fragment:
        return _fold(html.unescape(fragment))
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return _fold(html.unescape(fragment))
    parts: list[str] = []
    skipping = 0
    for event, el in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in _SKIP or not isinstance(el.tag, str):
                skipping += 1
                continue
            if skipping:
                continue
            if tag in _BLOCK:
                parts.append("\n\n")
            elif tag == "br":
                parts.append("\n")
            if tag == "li":
                parts.append("• ")
            if el.text:
                parts.append(el.text)
        else:
            if tag in _SKIP or not isinstance(el.tag, str):
                skipping -= 1
            elif not skipping and tag in _BLOCK:
                parts.append("\n\n")
            if not skipping and el.tail and el is not root:
                parts.append(el.tail)
    return _fold("".join(parts))


def _fold(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    out: list[str] = []
    blank = False
    for line in lines:
        if not line:
            blank = bool(out)
            continue
        if blank:
            out.append("")
        out.append(line)
        blank = False
    return "\n".join(out)
