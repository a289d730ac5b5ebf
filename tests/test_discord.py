"""newsbot as a real discord.py bot against a fake Discord on 127.0.0.1, driven as users would drive it."""

from __future__ import annotations

import pytest

from tests.conftest import Site, rss
from tests.discord_harness import discord_bot, eventually
from tests.fake_discord import FakeDiscord, MEMBER_PERMS


def story(site: Site, n: int) -> dict[str, str]:
    return {"title": f"Story {n}", "link": site.url(f"/s/{n}"), "guid": f"g{n}",
            "description": f"Body of story {n}. It has a second sentence with detail."}


@pytest.fixture
def fake() -> FakeDiscord:
    return FakeDiscord()


async def test_admin_adds_feed_and_new_items_appear_as_embeds(site: Site, fake: FakeDiscord, make_config) -> None:
    guild = fake.add_guild("Harbor", channels=("general", "news"))
    news = fake.channel(guild, "news")
    site.set("/feed", rss([story(site, 2), story(site, 1)]))
    async with discord_bot(fake, make_config) as run:
        await eventually(lambda: fake.command_syncs == 1)
        assert {c["name"] for c in fake.global_commands} == {"feed", "news"}
        feed_cmd = next(c for c in fake.global_commands if c["name"] == "feed")
        assert int(feed_cmd["default_member_permissions"]) == 1 << 5  # hidden from members by default
        reply = await fake.invoke(guild, news, "feed", "add", {"url": site.url("/feed")})
        await eventually(lambda: len(reply.responses) >= 2)
        assert reply.ephemeral()
        assert "Following **Test Feed** in <#" in reply.text() and "Story 2" in reply.text()
        await eventually(lambda: len(fake.posted(news.id)) == 1)
        embed = fake.posted(news.id)[0]["embeds"][0]
        assert embed["title"] == "Story 2" and embed["url"] == site.url("/s/2")
        assert embed["footer"]["text"] == "Test Feed"
        assert fake.posted(news.id)[0]["allowed_mentions"]["parse"] == []
        site.set("/feed", rss([story(site, 4), story(site, 3), story(site, 2), story(site, 1)]))
        feed = await run.services.store.feed_by_url(site.url("/feed"))
        await run.services.store.record_not_modified(feed, now=0, next_check=0)  # due now
        run.bot.poke_poller()
        await eventually(lambda: len(fake.posted(news.id)) == 3)
        assert [m["embeds"][0]["title"] for m in fake.posted(news.id)] == ["Story 2", "Story 3", "Story 4"]
    assert fake.rejected == []
