"""URL normalization and article identity.

Identity decides whether something is posted twice, so it is versioned: a change to these rules must bump
``KEY_VERSION`` (stored keys carry it) rather than silently re-keying every stored article. A change that re-spells
only some keys (fragments kept in version 2's links, content instead of date in its hashes) keeps the version and
offers each changed key's former spelling (``former_key``), so articles stored before the change stay known.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.models import Entry

KEY_VERSION = "2"  # 2: a URL-valued guid and a link share one key form, whichever parser produced them

# Query parameters that only say where a click came from; they never change which article a URL names.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gclsrc",
        "msclkid",
        "yclid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ref_src",
        "ref_url",
        "cmpid",
        "ncid",
        "ocid",
        "sr_share",
        "spm",
        "wt_mc",
        "at_medium",
        "at_campaign",
        "rss",
        "feature",
        "cmp",
        "s_cid",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "oly_")


def _is_tracking(name: str) -> bool:
    lower = name.lower()
    return lower in _TRACKING_PARAMS or lower.startswith(_TRACKING_PREFIXES)


# Fragments that only point into an article's furniture or carry campaign tags: the same story as the bare URL.
_NOISE_FRAGMENT = re.compile(
    r"(?i)(?:comments?|respond|reply|disqus_thread|more(?:-\d+)?|content|main|top|article|page|rss|ref[-=_]\w*"
    r"|xtor=.*|(?:utm|pk|mtm)_\w+=.*|at_\w+=.*)"
)

_WORD = re.compile(r"\w+")  # a hash reads words only: parsers differ on spacing and stray markup, not on words

Fragment = Literal["drop", "keep", "meaningful"]


def _fragment(value: str, mode: Fragment) -> str:
    if mode == "drop" or not value:
        return ""
    if mode == "meaningful" and _NOISE_FRAGMENT.fullmatch(value):
        return ""
    return value


def normalize_url(url: str, *, fragment: Fragment = "drop") -> str:
    """A canonical spelling of an article URL: same article, same string.

    Lower-cases scheme and host, drops default ports and tracking parameters, and sorts the remaining query so that
    re-ordered parameters compare equal. The path is kept as is: servers may treat it case-sensitively. Fragments
    are dropped for fetching (a server never sees them), kept for identity within a feed (a live blog's or comment
    feed's items are anchors on one page), and kept for a story only when they say more than "comments" or a
    campaign tag.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    elif ":" in host:
        host = f"[{host}]"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    query.sort()
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), _fragment(parts.fragment, fragment)))


def _looks_like_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def entry_key(entry: Entry, text: str = "") -> str:
    """An entry's identity within its feed: guid, else link (fragment and all), else title + text.

    The last resort hashes what the item says, not its date: undated items would all merge, and a clock-relative
    date ("10:30", "3 hours ago") changes on every poll. `text` is the entry's plain text (``Candidate.text``)."""
    if entry.guid and entry.guid.strip():
        guid = entry.guid.strip()
        if _looks_like_url(guid):
            return f"{KEY_VERSION}:l:{normalize_url(guid, fragment='keep')}"
        return f"{KEY_VERSION}:g:{guid[:1000]}"
    if entry.link:
        return f"{KEY_VERSION}:l:{normalize_url(entry.link, fragment='keep')}"
    return f"{KEY_VERSION}:h:{_digest(entry.title, 'text', ''.join(_WORD.findall(text.casefold()))[:400])}"


def former_key(entry: Entry) -> str:
    """The key version 2 gave this entry before fragments counted and hashes read the text: how articles stored
    then are found now. Equal to ``entry_key`` for nearly every entry."""
    if entry.guid and entry.guid.strip():
        guid = entry.guid.strip()
        return f"{KEY_VERSION}:l:{normalize_url(guid)}" if _looks_like_url(guid) else f"{KEY_VERSION}:g:{guid[:1000]}"
    if entry.link:
        return f"{KEY_VERSION}:l:{normalize_url(entry.link)}"
    return f"{KEY_VERSION}:h:{_digest(entry.title, _iso(entry.published))}"


def same_link(stored: str | None, current: str | None) -> bool:
    """Two spellings of one entry link (fragment included), as stored then and as the feed has it now."""
    return bool(stored and current) and normalize_url(stored or "", fragment="keep") == normalize_url(
        current or "", fragment="keep"
    )


def link_key(entry: Entry) -> str | None:
    """The link-based identity, used when a feed's guids cannot be trusted (shared or changing)."""
    return f"{KEY_VERSION}:l:{normalize_url(entry.link, fragment='keep')}" if entry.link else None


def story_key(entry: Entry, feed_id: int, text: str = "") -> str:
    """Identity across feeds, so one story reaching a channel through two feeds posts once there.

    Two feeds agree on a story only through its link; without a link the story stays private to its feed.
    """
    if entry.link:
        return f"{KEY_VERSION}:s:{normalize_url(entry.link, fragment='meaningful')}"
    return f"{KEY_VERSION}:f{feed_id}:{entry_key(entry, text)}"


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""
