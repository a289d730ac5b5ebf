"""Which language an article is written in, from what its feed and page declare. Pure.

Why it matters: a subscription asks for summaries in a language (`/feed edit language:`), and a summary already
written in it must not be sent to the model to be "translated" into itself: that costs a request per post and can
only make the text worse. So every article keeps the language its sources declare (the page's ``<html lang>``,
``Content-Language`` or ``og:locale``, else the feed's ``<language>``, ``xml:lang`` or JSON Feed ``language``).

Decided: declarations only, no guessing from the text. A statistical detector would be another dependency with a
model, and it is least sure on exactly the short texts (a feed's two-line description) that have no page to declare
anything; an article with no declared language is translated as before, which costs a request and loses nothing.
"""

from __future__ import annotations

import re

AS_WRITTEN = "none"  # a subscription's or server's translation language meaning "post summaries as written"
_TAG = re.compile(r"\s*([A-Za-z]{2,3})(?:[-_]([A-Za-z0-9]{2,8}))?")
# A feed's own language, in its head: RSS <language> or <dc:language>, or xml:lang on the Atom root. Read before the
# first item, so an item's quoted markup cannot speak for the feed.
_FEED_LANGUAGE = re.compile(
    rb"<(?:dc:)?language>\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?)\s*</(?:dc:)?language>"
    rb"|<feed\b[^>]{0,2000}?\bxml:lang\s*=\s*[\"']([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?)[\"']",
    re.IGNORECASE,
)
_FIRST_ITEM = re.compile(rb"<(?:\w+:)?(?:item|entry)\b", re.IGNORECASE)
_HEAD = 65_536  # bytes of a feed searched for its language
_CHINESE = {"hant": "hant", "tw": "hant", "hk": "hant", "mo": "hant", "hans": "hans", "cn": "hans", "sg": "hans"}


def primary(tag: str | None) -> str:
    """The language subtag of a declared tag, lowercase (``en-US``, ``en_GB``, ``EN`` → ``en``), or "" when the
    value is not a language tag. Chinese keeps its script or region (``zh-hant``, ``zh-tw``): Traditional and
    Simplified readers need different text (``zh-TW`` reads as ``zh-hant``, ``zh-CN`` as ``zh-hans``), so plain
    ``zh`` never counts as either."""
    match = _TAG.match(tag or "")
    if match is None or (match.end() < len(tag or "") and (tag or "")[match.end()] not in "-_ \t,;"):
        return ""
    language = match.group(1).lower()
    if language == "zh" and match.group(2):
        script = _CHINESE.get(match.group(2).lower())
        return f"zh-{script}" if script else "zh"
    return language


def feed_language(body: bytes) -> str:
    """The language a feed document declares for itself, or ""."""
    head = body[:_HEAD]
    first = _FIRST_ITEM.search(head)
    match = _FEED_LANGUAGE.search(head, 0, first.start() if first else len(head))
    if match is None:
        return ""
    return primary((match.group(1) or match.group(2)).decode("ascii"))


def already_in(article_language: str, wanted: str) -> bool:
    """Whether an article declared in `article_language` already reads in the `wanted` language: the same language
    (``pt`` for ``pt-BR``: regional variants read alike), except Chinese, where the script must match too."""
    have, want = primary(article_language), primary(wanted)
    if not have or not want:
        return False
    if have.startswith("zh") or want.startswith("zh"):
        return have == want and have != "zh"
    return have == want
