"""Feed titles (and author names) as one line of text: parsed as HTML once, and only when they are HTML.

feedparser says what it read (``title_detail.type``); fastfeedparser does not, so the fast path guesses the way
feedparser guesses for RSS, and more broadly for Atom (where the type attribute would have said). Decoding a title a
second time turned `vector<int>` into `vector` and `#include </etc/shadow>` into `#include` (issue: every real
feed read right). Pure functions.
"""

from __future__ import annotations

import html.entities
import re
from typing import Any

from bot.htmltext import demoronize, html_to_text

_MAX_TITLE = 1000  # characters of a title kept; a 10 MB title is an attack, not a headline


def detail_title(item: Any) -> str:
    """feedparser's title as text: decoded once, and parsed as HTML only where feedparser says it is HTML."""
    kind = (item.get("title_detail") or {}).get("type", "text/plain")
    return title_text(item.get("title", "") or "", markup=kind in ("text/html", "application/xhtml+xml"))


# A close tag or an entity, and every tag an HTML element: how feedparser guesses that an RSS title is HTML
# (`vector<int>` is not; `<b>Bold</b>` and `AT&amp;T` are). Atom says so (type="html"), which the fast parser does
# not pass on, so there any tag of an HTML element counts, the unsafe ones too (they are stripped, not shown).
_CLOSE_OR_ENTITY = re.compile(r"</\w+>|&#?\w+;")
_ANY_TAG = re.compile(r"<\w+[^<>]*>|&#?\w+;")
_TAG_NAME = re.compile(r"</?(\w+)")
_ENTITY_NAME = re.compile(r"&(\w+);")
_HTML_ELEMENTS = frozenset(
    "a abbr acronym address area article aside audio b bdi bdo big blink blockquote br button canvas caption center "
    "cite code col colgroup command datagrid datalist dd del details dfn dialog dir div dl dt em fieldset "
    "figcaption figure font footer form h1 h2 h3 h4 h5 h6 header hr i img input ins kbd keygen label legend li m "
    "map menu meter multicol nav nextid noscript ol optgroup option output p pre progress q s samp section select "
    "small sound source spacer span strike strong sub sup table tbody td textarea tfoot th thead time tr tt u ul "
    "var video".split()
)
_UNSAFE_ELEMENTS = frozenset("applet base blink embed frame frameset iframe link meta object script style".split())


def looks_like_html(value: str, *, atom: bool = False) -> bool:
    if not (_ANY_TAG if atom else _CLOSE_OR_ENTITY).search(value):
        return False
    known = _HTML_ELEMENTS | _UNSAFE_ELEMENTS if atom else _HTML_ELEMENTS
    if any(tag.lower() not in known for tag in _TAG_NAME.findall(value)):
        return False
    return all(name in html.entities.entitydefs for name in _ENTITY_NAME.findall(value))


def title_text(value: str, *, markup: bool | None = None, atom: bool = False) -> str:
    """A title as one line of text. `markup` None means guess (the fast parser does not say what it read)."""
    value = (value or "")[: _MAX_TITLE * 4]
    if "<" not in value and "&" not in value:
        text = demoronize(value)  # no tag, no entity: nothing to decide (most titles)
    else:
        text = html_to_text(value) if (looks_like_html(value, atom=atom) if markup is None else markup) else value
        text = demoronize(text)
    return " ".join(text.split())[:_MAX_TITLE]
