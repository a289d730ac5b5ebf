"""Article to post: what a channel will see, within Discord's limits and inert to feed tricks.

Feed text is a stranger's text: markdown is escaped, mentions and invite links are broken with a zero-width space,
and only the subscription's own role may ever be mentioned (the sink also sets allowed_mentions; this is the second
lock). Limits are Discord's: title 256, description 4,096, footer 2,048, author 256, 6,000 for the whole embed.
"""

from __future__ import annotations

import hashlib
import re

from bot.models import Article, Post

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FOOTER_MAX = 2048
AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
URL_MAX = 2000
ZWSP = "\u200b"

_MARKDOWN = re.compile(r"([\\*_~`|\[\]])")
_LINE_START = re.compile(r"(?m)^(\s*)([>#-])")
_MENTION = re.compile(r"@(everyone|here)|<(@[!&]?|#)(\d+)>", re.IGNORECASE)
_INVITE = re.compile(r"(discord(?:app)?\.(?:gg|com/invite|io|me|li)/)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # C0 and C1 controls, DEL
_PALETTE = (0x5865F2, 0x57F287, 0xFEE75C, 0xEB459E, 0xED4245, 0x3BA55C, 0xFAA61A, 0x00A8FC, 0x9B59B6, 0x1ABC9C)


def neutralize(text: str) -> str:
    """Make feed text unable to ping anyone or advertise an invite."""
    text = _MENTION.sub(lambda m: f"@{ZWSP}{m.group(1)}" if m.group(1) else f"<{m.group(2)}{ZWSP}{m.group(3)}>", text)
    return _INVITE.sub(lambda m: m.group(1)[:-1] + ZWSP + "/", text)


def escape(text: str) -> str:
    """Escape Discord markdown so feed text shows literally and cannot break out of its place."""
    text = _CONTROL.sub("", text)
    text = _MARKDOWN.sub(r"\\\1", text)
    text = _LINE_START.sub(r"\1\\\2", text)
    return neutralize(text)


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis when it had to cut."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space > limit * 0.6:
        head = head[:space]
    head = head.rstrip()
    while head.endswith("\\") and not head.endswith("\\\\"):  # never leave a dangling escape
        head = head[:-1]
    return head + "…"


def safe_url(url: str | None) -> str | None:
    if not url or len(url) > URL_MAX or not url.startswith(("http://", "https://")):
        return None
    if any(c.isspace() for c in url):
        return None
    return url


def color_for(source: str) -> int:
    """A stable colour per source, so a channel's posts are told apart at a glance."""
    return _PALETTE[hashlib.blake2b(source.encode(), digest_size=1).digest()[0] % len(_PALETTE)]


def render(article: Article, *, mention_role_id: int | None = None) -> Post:
    title = cut(escape(" ".join(article.title.split())) or "Untitled", TITLE_MAX)
    # Neutralize last: stripping control characters after it would rejoin "@\x01everyone" into a live mention.
    footer = cut(neutralize(_CONTROL.sub("", " ".join(article.source.split()))) or "newsbot", FOOTER_MAX)
    author = (
        cut(neutralize(_CONTROL.sub("", " ".join(article.author.split()))), AUTHOR_MAX)
        if article.author and article.author.strip()
        else None
    )
    budget = EMBED_TOTAL_MAX - len(title) - len(footer) - len(author or "")
    description = cut(escape(article.summary.strip()), min(DESCRIPTION_MAX, budget))
    return Post(
        title=title,
        url=safe_url(article.url),
        description=description,
        author=author,
        timestamp=article.published,
        image=safe_url(article.image),
        footer=footer,
        color=color_for(article.source),
        content=f"<@&{mention_role_id}>" if mention_role_id else None,
        mention_role_id=mention_role_id,
    )


def embed_length(post: Post) -> int:
    """How Discord counts an embed toward the 6,000 character total."""
    return (
        len(post.title)
        + len(post.description)
        + len(post.footer)
        + len(post.author or "")
        + sum(len(f.name) + len(f.value) for f in post.fields)
    )
