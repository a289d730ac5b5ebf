import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.models import Article
from bot.render import (
    AUTHOR_MAX,
    DESCRIPTION_MAX,
    EMBED_TOTAL_MAX,
    TITLE_MAX,
    cut,
    embed_length,
    escape,
    render,
)


def article(**kw: Any) -> Article:
    base: dict[str, Any] = {
        "feed_id": 1,
        "key": "k",
        "story_key": "s",
        "url": "https://news.test/a",
        "title": "Title",
        "summary": "Summary.",
        "author": "Au Thor",
        "published": datetime(2026, 1, 1, tzinfo=UTC),
        "image": "https://news.test/i.jpg",
        "source": "News Test",
    }
    base.update(kw)
    return Article(**base)


def test_post_carries_all_parts() -> None:
    post = render(article())
    assert (post.title, post.url, post.description, post.author, post.image, post.footer) == (
        "Title",
        "https://news.test/a",
        "Summary.",
        "Au Thor",
        "https://news.test/i.jpg",
        "News Test",
    )
    assert post.timestamp == datetime(2026, 1, 1, tzinfo=UTC) and post.content is None


def test_mentions_are_inert_and_only_the_subscription_role_pings() -> None:
    post = render(article(title="@everyone look", summary="hi @here <@&123> <@456> <@!789> <#1>"), mention_role_id=42)
    assert "@everyone" not in post.title and "@here" not in post.description
    for raw in ("<@&123>", "<@456>", "<@!789>"):
        assert raw not in post.description
    assert post.content == "<@&42>" and post.mention_role_id == 42


def test_markdown_and_invites_cannot_break_out() -> None:
    text = "[click](https://evil.test) ||spoiler|| ```code``` **bold** discord.gg/abc > quote\n# heading"
    escaped = escape(text)
    assert "](" not in escaped.replace("\\](", "")
    assert "||" not in escaped.replace("\\|", "")
    assert "```" not in escaped and "**" not in escaped.replace("\\*", "")
    assert "discord.gg/abc" not in escaped
    assert "\\# heading" in escaped and "\\> quote" not in escaped  # only line-start markers matter


def test_limits_are_respected_and_cuts_fall_on_words() -> None:
    post = render(article(title="word " * 200, summary="longer " * 2000, author="x" * 500, source="s" * 3000))
    assert len(post.title) <= TITLE_MAX and post.title.endswith("…")
    assert len(post.description) <= DESCRIPTION_MAX and len(post.author or "") <= AUTHOR_MAX
    assert embed_length(post) <= EMBED_TOTAL_MAX
    assert cut("alpha beta gamma delta", 13) == "alpha beta…"


def test_unsafe_urls_are_dropped() -> None:
    post = render(article(url="javascript:alert(1)", image="file:///etc/passwd"))
    assert post.url is None and post.image is None


@given(st.text(), st.text(), st.text(max_size=3000), st.one_of(st.none(), st.text()))
def test_any_text_renders_within_limits(title: str, summary: str, source: str, author: str | None) -> None:
    post = render(article(title=title, summary=summary, source=source, author=author))
    assert len(post.title) <= TITLE_MAX and len(post.description) <= DESCRIPTION_MAX
    assert embed_length(post) <= EMBED_TOTAL_MAX
    assert "@everyone" not in post.title + post.description + post.footer + (post.author or "")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("source", "@\x01everyone news"),
        ("source", "@\u0007here"),
        ("author", "<@\u0001123456789012345678>"),
        ("author", "<@&\x02987654321098765432>"),
        ("title", "@\x01everyone"),
    ],
)
def test_a_control_character_inside_a_mention_cannot_rejoin_it(field: str, value: str) -> None:
    post = render(article(**{field: value}))
    for text in (post.title, post.footer, post.author or "", post.description):
        assert "@everyone" not in text and "@here" not in text
        assert not re.search(r"<@&?\d", text), text
