"""Feed HTML to plain text: what a reader of the post would see, whatever the markup."""

from __future__ import annotations

import pytest

from bot.htmltext import html_to_text


@pytest.mark.parametrize(
    ("fragment", "text"),
    [
        # Text after a comment is kept (an earlier version dropped the rest of the paragraph).
        ("<p>Updated: <!-- build 7 --> 18 Nov 2019</p><p>Next</p>", "Updated: 18 Nov 2019\n\nNext"),
        ("Wed<!-- c -->, Nov<br>20", "Wed, Nov\n20"),
        ("<p>a<script>alert(1)</script>b</p><style>p{}</style>after", "ab\n\nafter"),
        ("<ul><li>one<li>two</ul>tail", "• one\n\n• two\n\ntail"),
        ("<div><div><p>deep</p></div></div>", "deep"),
        ("<p>a &amp; b\u3000 c\u00a0\u00a0d\u200be</p>", "a & b c d e"),
        ("plain &eacute;t&eacute; text", "plain été text"),
        ("a < b and c > d", "a < b and c > d"),
        ("</div>broken</p> markup <b>still", "broken markup still"),
        ("<meta charset=utf-8><title>ignored</title>", ""),
        ("<p>  spaced \n\n\n\n  out  </p>", "spaced\n\nout"),
        ("x\x00y\ufdd0z", "xyz"),
    ],
)
def test_html_to_text(fragment: str, text: str) -> None:
    assert html_to_text(fragment) == text
