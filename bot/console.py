"""The console sink: prints each post as Discord would show it, for dry runs, the demo and `preview`."""

from __future__ import annotations

import re
import sys
import textwrap
from typing import TextIO

from bot.models import Delivery, Post

_UNESCAPE = re.compile(r"\\(.)")


def _plain(text: str) -> str:
    """What a reader sees once Discord has consumed the markdown escapes."""
    return _UNESCAPE.sub(r"\1", text).replace("\u200b", "")


def format_post(post: Post, channel: str | None = None) -> str:
    width = 78
    lines = [f"┌─ {channel or 'post'} " + "─" * max(0, width - 4 - len(channel or "post"))]
    if post.content:
        lines.append(f"│ {post.content}")
    if post.author:
        lines.append(f"│ {_plain(post.author)}")
    lines.append(f"│ ■ {_plain(post.title)}")
    if post.url:
        lines.append(f"│   {post.url}")
    description = _plain(post.description).strip()
    for para in description.split("\n") if description else ():  # Discord leaves an empty one out as well
        for line in textwrap.wrap(para, width - 2) or [""]:
            lines.append(f"│ {line}")
    if post.image:
        lines.append(f"│ [image] {post.image}")
    stamp = f" • {post.timestamp:%Y-%m-%d %H:%M} UTC" if post.timestamp else ""
    lines.append(f"│ — {_plain(post.footer)}{stamp}")
    lines.append("└" + "─" * (width - 1))
    return "\n".join(lines)


class ConsoleSink:
    """Never fails, so the outbox drains and every post shows once; counts posts for the demo's summary."""

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out
        self.sent = 0

    async def send(self, delivery: Delivery, post: Post) -> int | None:
        out = self._out or sys.stdout
        channel = f"#{delivery.channel_id}" if delivery.channel_id else "console"
        print(format_post(post, channel), file=out, flush=True)
        self.sent += 1
        return None
