"""URL normalization and article identity.

Identity decides whether something is posted twice, so it is versioned: a change to these rules must bump
``KEY_VERSION`` (stored keys carry it) rather than silently re-keying every stored article.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
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


def normalize_url(url: str) -> str:
    """A canonical spelling of an article URL: same article, same string.

    Lower-cases scheme and host, drops default ports, fragments and tracking parameters, and sorts the remaining
    query so that re-ordered parameters compare equal. The path is kept as is: servers may treat it case-sensitively.
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
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))


def _looks_like_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def entry_key(entry: Entry) -> str:
    """An entry's identity within its feed: guid, else normalized link, else title + date."""
    if entry.guid and entry.guid.strip():
        guid = entry.guid.strip()
        if _looks_like_url(guid):
            return f"{KEY_VERSION}:l:{normalize_url(guid)}"
        return f"{KEY_VERSION}:g:{guid[:1000]}"
    if entry.link:
        return f"{KEY_VERSION}:l:{normalize_url(entry.link)}"
    return f"{KEY_VERSION}:h:{_digest(entry.title, _iso(entry.published))}"


def link_key(entry: Entry) -> str | None:
    """The link-based identity, used when a feed's guids cannot be trusted (shared or changing)."""
    return f"{KEY_VERSION}:l:{normalize_url(entry.link)}" if entry.link else None


def story_key(entry: Entry, feed_id: int) -> str:
    """Identity across feeds, so one story reaching a channel through two feeds posts once there.

    Two feeds agree on a story only through its link; without a link the story stays private to its feed.
    """
    if entry.link:
        return f"{KEY_VERSION}:s:{normalize_url(entry.link)}"
    return f"{KEY_VERSION}:f{feed_id}:{entry_key(entry)}"


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""
