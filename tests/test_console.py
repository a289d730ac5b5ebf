"""The console sink shows a post as Discord would: what the embed leaves out, the console leaves out too."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.console import format_post
from bot.models import Post

POST = Post(
    title="Ferry goes electric",
    url="https://news.example/ferry",
    description="",
    author=None,
    timestamp=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
    image=None,
    footer="Example News",
    color=0,
)


@pytest.mark.parametrize(
    ("description", "body"),
    [
        ("", []),  # a link-list or Reddit item: no summary, no empty line
        ("  \n ", []),
        ("One line.", ["│ One line."]),
        ("First.\nSecond.", ["│ First.", "│ Second."]),
        ("First.\n\nSecond.", ["│ First.", "│ ", "│ Second."]),  # a blank line between paragraphs stays
        ("Price \\*not\\* final", ["│ Price *not* final"]),  # the reader sees the text, not the escapes
    ],
)
def test_the_description_lines(description: str, body: list[str]) -> None:
    lines = format_post(replace(POST, description=description), "news").split("\n")
    assert lines[1:3] == ["│ ■ Ferry goes electric", "│   https://news.example/ferry"]
    assert lines[3:-2] == body
    assert lines[-2] == "│ — Example News • 2026-12-01 09:30 UTC"


def test_author_image_and_mention_text_show() -> None:
    text = format_post(
        replace(POST, description="Text.", author="Ana Ruiz", image="https://news.example/a.jpg", content="<@&5>")
    )
    assert "│ <@&5>\n│ Ana Ruiz\n│ ■ Ferry goes electric" in text
    assert "│ [image] https://news.example/a.jpg" in text
