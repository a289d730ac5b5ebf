"""Feed HTML to plain text: what a reader of the post would see, whatever the markup."""

from __future__ import annotations

import pytest

from bot.htmltext import html_to_text, link_list


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


_GOOGLE_NEWS = (
    '<ol><li><a href="https://news.google.com/rss/articles/A?oc=5" target="_blank">Fed holds interest rates steady'
    ' as inflation cools</a>&nbsp;&nbsp;<font color="#6f6f6f">Reuters</font></li><li><a href="https://news.google'
    '.com/rss/articles/B?oc=5">Powell signals patience on cuts after two-day meeting</a>&nbsp;&nbsp;<font color="#6f'
    '6f6f">The New York Times</font></li><li><a href="https://news.google.com/rss/articles/C">Markets rally after '
    'the decision</a>&nbsp;&nbsp;<font color="#6f6f6f">CNBC</font></li></ol>'
)


@pytest.mark.parametrize(
    ("fragment", "links_only"),
    [
        (_GOOGLE_NEWS, True),
        ("<ul><li><a href='/1'>First story of the day</a></li><li><a href='/2'>Second story today</a></li></ul>", True),
        # a Reddit link post: one-word links (its "submitted by … [link] [comments]" is the summarizer's furniture)
        (
            'submitted by <a href="https://reddit.test/u/x"> /u/someone </a> <br/> <span><a href="https://ex.test/">'
            "[link]</a></span> <span><a href='https://reddit.test/c'>[comments]</a></span>",
            False,
        ),
        # a short Mastodon post: a tag, a mention and an address are links; the post is text
        (
            "<p>Released today <a href='https://m.test/tags/rust'>#<span>rust</span></a> <a href='https://m.test/@a'>"
            "@<span>alice</span></a> <a href='https://blog.test/2026/11/30/release'>blog.test/2026/11/30/release</a>"
            "</p>",
            False,
        ),
        # text that links some of its words, or is one link
        ("The <a href='/p'>mayor</a> said on Tuesday that the <a href='/b'>new bridge</a> opens in 2028.", False),
        ("<a href='/s'>The council voted on Tuesday to build a new bridge over the river by 2028.</a>", False),
        ("<p><a href='/x'>Chart</a>: the river's level since 1990, and what the council plans to do.</p>", False),
        (
            "<a href='/1'>a</a><a href='/2'>b</a>" + "<p>" + "Long teaser text about the item itself. " * 5 + "</p>",
            False,
        ),
        ("", False),
        ("plain text, no markup", False),
        ("<a href='/1'></a><a href='/2'></a>", False),  # no letters at all
    ],
)
def test_a_description_made_of_links_is_a_link_list(fragment: str, links_only: bool) -> None:
    assert link_list(fragment) is links_only
