"""Regenerate tests/data/feeds/expected.json after reviewing a parser change: python -m tests.golden"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.parse import parse_feed

FEEDS = Path(__file__).parent / "data" / "feeds"


def parsed_as_dict(path: Path) -> dict[str, Any]:
    ct = "application/feed+json" if path.suffix == ".json" else "application/xml"
    feed = parse_feed(path.read_bytes(), f"https://{path.stem}.example/feed", ct)
    return {
        "kind": feed.kind,
        "title": feed.title,
        "site_url": feed.site_url,
        "entries": [
            {
                "guid": e.guid,
                "link": e.link,
                "title": e.title,
                "content_html": e.content_html,
                "author": e.author,
                "published": e.published.isoformat() if e.published else None,
                "image": e.image,
            }
            for e in feed.entries
        ],
    }


def feed_files() -> list[Path]:
    return sorted(p for p in FEEDS.iterdir() if p.name != "expected.json")


if __name__ == "__main__":
    data = {p.name: parsed_as_dict(p) for p in feed_files()}
    (FEEDS / "expected.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
