"""newsbot as a real discord.py bot against a fake Discord on 127.0.0.1, driven as users would drive it."""

from __future__ import annotations

import asyncio

import discord
import pytest

from tests.conftest import Site, feed_of, rss, url_of
from tests.discord_harness import discord_bot, endpoints, eventually
from tests.fake_discord import MEMBER_PERMS, TOKEN, FakeDiscord, running


def story(site: Site, n: int) -> dict[str, str]:
    return {
        "title": f"Story {n}",
        "link": site.url(f"/s/{n}"),
        "guid": f"g{n}",
        "description": f"Body of story {n}. It has a second sentence with detail.",
    }


@pytest.fixture
def fake() -> FakeDiscord:
    return FakeDiscord()


async def test_admin_adds_feed_and_new_items_appear_as_embeds(site: Site, fake: FakeDiscord, make_config) -> None:
    guild = fake.add_guild("Harbor", channels=("general", "news"))
    news = fake.channel(guild, "news")
    site.set("/feed", rss([story(site, 2), story(site, 1)]))
    async with discord_bot(fake, make_config) as run:
        assert fake.command_syncs == 1
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
        feed = await feed_of(run.services.store, site.url("/feed"))
        await run.services.store.make_due(feed.id)  # due now
        run.bot.poke_poller()
        await eventually(lambda: len(fake.posted(news.id)) == 3)
        assert [m["embeds"][0]["title"] for m in fake.posted(news.id)] == ["Story 2", "Story 3", "Story 4"]
    assert fake.rejected == []


FAST = {"delivery": {"per_channel_interval": 0, "send_timeout": 1.0, "retry_base": 0.2}}


async def add_feed(fake: FakeDiscord, guild, channel, url: str, **options):  # type: ignore[no-untyped-def]
    reply = await fake.invoke(guild, channel, "feed", "add", {"url": url, **options})
    await eventually(lambda: len(reply.responses) >= 2 or reply.responses[0].get("_kind") == "message")
    return reply


async def test_member_without_manage_server_is_refused_and_nothing_changes(
    site: Site, fake: FakeDiscord, make_config
) -> None:
    guild = fake.add_guild("Harbor")
    news = fake.channel(guild, "news")
    site.set("/feed", rss([story(site, 1)]))
    async with discord_bot(fake, make_config, **FAST) as run:
        for sub, opts in (("add", {"url": site.url("/feed")}), ("list", {}), ("export", {}), ("remove", {"feed": "1"})):
            reply = await fake.invoke(guild, news, "feed", sub, opts, permissions=MEMBER_PERMS)
            assert reply.ephemeral() and "Manage Server" in reply.text(), sub
        assert await run.services.store.guild_subscriptions(guild.id) == []
        assert site.hits.get("/feed") is None  # refused before anything was fetched
        ok = await fake.invoke(guild, news, "news", "sources", permissions=MEMBER_PERMS)
        assert "follows no feeds" in ok.text()


async def test_guilds_never_see_each_others_feeds(site: Site, fake: FakeDiscord, make_config) -> None:
    first = fake.add_guild("First")
    second = fake.add_guild("Second")
    site.set("/feed", rss([story(site, 1)], title="Secret Feed"))
    async with discord_bot(fake, make_config, **FAST) as run:
        await add_feed(fake, first, fake.channel(first, "news"), site.url("/feed"))
        sub_id = (await run.services.store.guild_subscriptions(first.id))[0].subscription.id
        await eventually(lambda: len(fake.posted(fake.channel(first, "news").id)) == 1)
        other = fake.channel(second, "news")
        listing = await fake.invoke(second, other, "feed", "list")
        assert "Secret Feed" not in listing.text() and "no feeds" in listing.text()
        for sub, extra in (("remove", {}), ("pause", {}), ("edit", {"interval": 60}), ("test", {}), ("resume", {})):
            reply = await fake.invoke(second, other, "feed", sub, {"feed": str(sub_id), **extra})
            assert "No feed of this server matches" in reply.text(), sub
        guessed = await fake.invoke(second, other, "feed", "remove", {"feed": site.url("/feed")})
        assert "No feed of this server matches" in guessed.text()
        complete = await fake.invoke(second, other, "feed", "remove", {"feed": ""}, focused="feed")
        assert complete.first["choices"] == []
        own = await fake.invoke(first, fake.channel(first, "news"), "feed", "remove", {"feed": "sec"}, focused="feed")
        assert [c["value"] for c in own.first["choices"]] == [str(sub_id)]
        for cmd, opts in (("latest", {}), ("search", {"query": "Story"})):
            reply = await fake.invoke(second, other, "news", cmd, opts)
            assert "Story 1" not in reply.text(), cmd
        view = await run.services.store.subscription(sub_id, first.id)  # untouched by the other guild
        assert view is not None and view.subscription.paused_reason is None
        assert view.feed.interval == 900 and view.subscription.channel_id == fake.channel(first, "news").id


async def test_rate_limits_are_honoured_and_order_is_kept(site: Site, fake: FakeDiscord, make_config) -> None:
    guild = fake.add_guild("Busy")
    news = fake.channel(guild, "news")
    fake.rate_per_channel = (3, 1.0)
    site.set("/feed", rss([story(site, n) for n in range(8, 0, -1)]))
    async with discord_bot(fake, make_config, polling={"initial_posts": 8}, **FAST):
        await add_feed(fake, guild, news, site.url("/feed"))
        await eventually(lambda: len(fake.posted(news.id)) == 8, timeout=20)
    assert [m["embeds"][0]["title"] for m in fake.posted(news.id)] == [f"Story {n}" for n in range(1, 9)]
    # The channel's limit (3 per second) held: no four accepted posts fall within one window.
    times = [t for c, t in fake.post_times if c == news.id]
    assert len(times) == 8
    assert all(times[i + 3] - times[i] >= 0.9 for i in range(len(times) - 3)), times
    # discord.py waits out the bucket itself; every 429 it still met was followed by a pause of Retry-After.
    for cid, when, wait in fake.limited_at:
        later = [t for c, t in fake.post_times if c == cid and t > when]
        assert later and later[0] - when >= wait * 0.9
    assert fake.rejected == []


@pytest.mark.slow
async def test_429_storm_and_5xx_then_success_posts_once(site: Site, fake: FakeDiscord, make_config) -> None:
    guild = fake.add_guild("G")
    news = fake.channel(guild, "news")
    site.set("/feed", rss([story(site, 1)]))
    # More 429s in a row than discord.py retries by itself: newsbot's own retry takes over, same nonce.
    fake.faults = ["429"] * 8 + ["500", "502"]
    async with discord_bot(fake, make_config, **FAST):
        await add_feed(fake, guild, news, site.url("/feed"))
        await eventually(lambda: len(fake.posted(news.id)) == 1, timeout=40)
        await asyncio.sleep(0.5)
    assert len(fake.posted(news.id)) == 1 and fake.faults == []
    assert fake.rate_limited >= 8


async def test_send_that_times_out_after_discord_accepted_it_is_not_duplicated(
    site: Site, fake: FakeDiscord, make_config
) -> None:
    guild = fake.add_guild("G")
    news = fake.channel(guild, "news")
    site.set("/feed", rss([story(site, 2), story(site, 1)]))
    fake.faults = ["timeout-after-accept"]
    async with discord_bot(fake, make_config, polling={"initial_posts": 2}, **FAST) as run:
        await add_feed(fake, guild, news, site.url("/feed"))
        await eventually(lambda: run.services.store.delivery_counts(), timeout=5)
        await eventually(lambda: _sent(run, 2), timeout=20)
    titles = [m["embeds"][0]["title"] for m in fake.posted(news.id)]
    assert titles == ["Story 1", "Story 2"]


async def _sent(run, n: int) -> bool:  # type: ignore[no-untyped-def]
    return (await run.services.store.delivery_counts()).get("sent", 0) == n


async def test_deleted_channel_pauses_its_subscriptions(site: Site, fake: FakeDiscord, make_config) -> None:
    guild = fake.add_guild("G", channels=("general", "news"))
    news = fake.channel(guild, "news")
    site.set("/feed", rss([story(site, 1)]))
    async with discord_bot(fake, make_config, **FAST) as run:
        await add_feed(fake, guild, news, site.url("/feed"))
        await eventually(lambda: len(fake.posted(news.id)) == 1)
        await fake.delete_channel(guild, news)

        async def paused() -> bool:
            views = await run.services.store.guild_subscriptions(guild.id)
            return views[0].subscription.paused_reason == "the channel was deleted"

        await eventually(paused)
        listing = await fake.invoke(guild, fake.channel(guild, "general"), "feed", "list")
        assert "paused: the channel was deleted" in listing.text()


async def test_missing_permissions_pause_and_tell_the_admins(site: Site, fake: FakeDiscord, make_config) -> None:
    guild = fake.add_guild("G", channels=("general", "news"))
    news = fake.channel(guild, "news")
    site.set("/feed", rss([story(site, 2), story(site, 1)]))
    async with discord_bot(fake, make_config, **FAST) as run:
        await add_feed(fake, guild, news, site.url("/feed"))
        await eventually(lambda: len(fake.posted(news.id)) == 1)
        # The bot loses Send Messages in #news (Discord answers 403 from now on); a new article arrives.
        news.bot_perms = MEMBER_PERMS & ~(1 << 11)
        cached = run.bot.get_channel(news.id)
        assert isinstance(cached, discord.TextChannel)
        cached._overwrites = []  # the cache only learns this via CHANNEL_UPDATE
        site.set("/feed", rss([story(site, 3), story(site, 2), story(site, 1)]))
        feed = await feed_of(run.services.store, site.url("/feed"))
        await run.services.store.make_due(feed.id)
        run.bot.poke_poller()
        general = fake.channel(guild, "general")
        await eventually(lambda: any("stopped posting to" in m["content"] for m in fake.posted(general.id)))
        views = await run.services.store.guild_subscriptions(guild.id)
        assert "Missing Permissions" in (views[0].subscription.paused_reason or "")
        assert fake.posted(general.id)[0]["allowed_mentions"]["parse"] == []


async def test_add_refuses_bad_input_with_clear_reasons(site: Site, fake: FakeDiscord, make_config) -> None:
    guild = fake.add_guild("G")
    news = fake.channel(guild, "news")
    site.set("/feed", rss([story(site, 1)]))
    site.set("/page", "<html><head><title>No feed</title></head><body>hi</body></html>", "text/html")
    async with discord_bot(fake, make_config, discord={"max_feeds_per_guild": 2}, **FAST) as run:
        cases = {
            "http://169.254.169.254/latest/": "refused: 169.254.169.254 is a cloud metadata address",
            url_of("10.0.0.1", "/feed"): "is a private address",
            "file:///etc/passwd": "only http and https",
            "http://user@127.0.0.1/": "user name or password",
            site.url("/page"): "no feed link",
            site.url("/missing"): "HTTP 404",
            "not a url at all": "can't be used",
        }
        for url, expected in cases.items():
            reply = await add_feed(fake, guild, news, url)
            assert expected in reply.text(), (url, reply.text())
            assert reply.ephemeral()
        await add_feed(fake, guild, news, site.url("/feed"))
        again = await add_feed(fake, guild, news, site.url("/feed"))
        assert "already follows" in again.text()
        site.set("/feed2", rss([story(site, 9)], title="Two"))
        site.set("/feed3", rss([story(site, 8)], title="Three"))
        await add_feed(fake, guild, news, site.url("/feed2"))
        over = await add_feed(fake, guild, news, site.url("/feed3"))
        assert "the most allowed" in over.text()
        assert len(await run.services.store.guild_subscriptions(guild.id)) == 2


async def test_concurrent_duplicate_adds_create_one_subscription(site: Site, fake: FakeDiscord, make_config) -> None:
    guild = fake.add_guild("G")
    news = fake.channel(guild, "news")
    site.set("/feed", rss([story(site, 1)]))
    async with discord_bot(fake, make_config, **FAST) as run:
        replies = await asyncio.gather(*(add_feed(fake, guild, news, site.url("/feed")) for _ in range(4)))
        texts = [r.text() for r in replies]
        assert sum("✅ Following" in t for t in texts) == 1
        assert sum("already follows" in t for t in texts) == 3
        assert len(await run.services.store.guild_subscriptions(guild.id)) == 1


async def test_list_edit_pause_resume_test_remove(site: Site, fake: FakeDiscord, make_config) -> None:
    guild = fake.add_guild("G", channels=("news", "other"), roles=("readers",))
    news, other = fake.channel(guild, "news"), fake.channel(guild, "other")
    role = next(iter(guild.roles))
    site.set("/feed", rss([story(site, 1)], title="Coast News"))
    async with discord_bot(fake, make_config, **FAST) as run:
        await add_feed(fake, guild, news, site.url("/feed"))
        sub = (await run.services.store.guild_subscriptions(guild.id))[0].subscription
        await eventually(lambda: len(fake.posted(news.id)) == 1)
        listing = await fake.invoke(guild, news, "feed", "list")
        assert "Coast News" in listing.text() and f"<#{news.id}>" in listing.text() and "every 15 min" in listing.text()
        edited = await fake.invoke(
            guild,
            news,
            "feed",
            "edit",
            {"feed": str(sub.id), "channel": other, "interval": 30, "mention": role, "include": "ferry, harbor"},
        )
        assert "Updated" in edited.text()
        view = (await run.services.store.guild_subscriptions(guild.id))[0]
        assert (view.subscription.channel_id, view.subscription.mention_role_id) == (other.id, role)
        assert view.feed.interval == 1800 and view.subscription.include_words == ("ferry", "harbor")
        too_fast = await fake.invoke(guild, news, "feed", "edit", {"feed": str(sub.id), "interval": 1})
        assert "shortest interval is 5 minutes" in too_fast.text()
        no_model = await fake.invoke(guild, news, "feed", "edit", {"feed": str(sub.id), "language": "de"})
        assert "needs a language model" in no_model.text()  # said to the admin; nothing changed
        assert (await run.services.store.guild_subscriptions(guild.id))[0].subscription.language == ""
        server_de = await fake.invoke(guild, news, "feed", "language", {"language": "de"})
        assert "needs a language model" in server_de.text() and await run.services.store.guild_language(guild.id) == ""
        as_written = await fake.invoke(guild, news, "feed", "language", {"language": "none"})
        assert "posted as written" in as_written.text() and await run.services.store.guild_language(guild.id) == "none"
        shown = await fake.invoke(guild, news, "feed", "language")
        assert "posted as written" in shown.text()
        assert "Server default: summaries as written" in (await fake.invoke(guild, news, "feed", "list")).text()
        edited = await fake.invoke(guild, news, "feed", "edit", {"feed": str(sub.id), "language": "default"})
        assert "summaries in the server's language" in edited.text()
        paused = await fake.invoke(guild, news, "feed", "pause", {"feed": "Coast"})
        assert "Paused" in paused.text()
        assert (await run.services.store.guild_subscriptions(guild.id))[0].subscription.paused_reason
        resumed = await fake.invoke(guild, news, "feed", "resume", {"feed": str(sub.id)})
        assert "Resumed" in resumed.text()
        filtered = await fake.invoke(guild, news, "feed", "test", {"feed": str(sub.id)})
        await eventually(lambda: len(filtered.responses) >= 2)  # "ferry, harbor" is in no current story
        assert "passes this subscription's filters" in filtered.text() and "Story 1" not in filtered.text()
        await fake.invoke(guild, news, "feed", "edit", {"feed": str(sub.id), "include": ""})
        preview = await fake.invoke(guild, news, "feed", "test", {"feed": str(sub.id)})
        await eventually(lambda: len(preview.responses) >= 2)
        assert "Preview (not posted)" in preview.text() and "Story 1" in preview.text()
        assert len(fake.posted(other.id)) == 0
        removed = await fake.invoke(guild, news, "feed", "remove", {"feed": str(sub.id)})
        assert "Stopped following **Coast News**" in removed.text()
        assert await run.services.store.guild_subscriptions(guild.id) == []
        assert await run.services.store.feed_by_url(site.url("/feed")) is None


async def test_role_mention_pings_only_that_role(site: Site, fake: FakeDiscord, make_config) -> None:
    guild = fake.add_guild("G", roles=("readers",))
    news = fake.channel(guild, "news")
    role = next(iter(guild.roles))
    evil = {
        "title": "@everyone look <@&999>",
        "link": site.url("/x"),
        "guid": "x",
        "description": "@here [click](https://evil.test) discord.gg/abc ||spoiler|| <@123>",
    }
    site.set("/feed", rss([evil]))
    async with discord_bot(fake, make_config, **FAST):
        await add_feed(fake, guild, news, site.url("/feed"), mention=role)
        await eventually(lambda: len(fake.posted(news.id)) == 1)
    message = fake.posted(news.id)[0]
    assert message["content"] == f"<@&{role}>"
    allowed = message["allowed_mentions"]
    assert allowed["parse"] == [] and [int(r) for r in allowed["roles"]] == [role]
    embed = message["embeds"][0]
    assert "@everyone" not in embed["title"] and "<@&999>" not in embed["title"]
    assert "@here" not in embed["description"] and "discord.gg/abc" not in embed["description"]
    assert "](" not in embed["description"].replace("\\](", "")


async def test_export_and_import_opml(site: Site, fake: FakeDiscord, make_config) -> None:
    source = fake.add_guild("Source")
    target = fake.add_guild("Target")
    site.set("/a", rss([story(site, 1)], title="Feed A"))
    site.set("/b", rss([story(site, 2)], title="Feed B"))
    async with discord_bot(fake, make_config, **FAST) as run:
        for path in ("/a", "/b"):
            await add_feed(fake, source, fake.channel(source, "news"), site.url(path))
        exported = await fake.invoke(source, fake.channel(source, "news"), "feed", "export")
        assert "2 feeds" in exported.text()
        name, data = fake.uploads[-1]
        assert name == "feeds.opml" and site.url("/a").encode() in data
        private = url_of("10.1.1.1", "/feed").encode()
        opml = data.replace(b"</body>", b'<outline xmlUrl="' + private + b'" text="private"/></body>')
        imported = await fake.invoke(
            target, fake.channel(target, "news"), "feed", "import", {"file": "x"}, attachment=("feeds.opml", opml)
        )
        await eventually(lambda: len(imported.responses) >= 2)
        assert "Following 2 new feeds" in imported.text() and "private address" in imported.text()
        assert {v.feed.url for v in await run.services.store.guild_subscriptions(target.id)} == {
            site.url("/a"),
            site.url("/b"),
        }
        bad = await fake.invoke(
            target,
            fake.channel(target, "news"),
            "feed",
            "import",
            {"file": "x"},
            attachment=("evil.opml", b'<!DOCTYPE x [<!ENTITY a "aaaa">]><opml>&a;</opml'),
        )
        await eventually(lambda: len(bad.responses) >= 2)
        assert "Could not read the file" in bad.text()


async def test_member_commands_latest_search_sources_summarize(site: Site, fake: FakeDiscord, make_config) -> None:
    guild = fake.add_guild("G")
    news = fake.channel(guild, "news")
    body = "".join(
        f"<p>The lighthouse keeper logged storm number {i} in the harbour on the north pier.</p>" for i in range(12)
    )
    site.set(
        "/article",
        f"<html><head><title>Lighthouse log</title><meta property='og:image' content='/l.jpg'>"
        f"</head><body><article><h1>Lighthouse log</h1>{body}</article></body></html>",
        "text/html",
    )
    site.set(
        "/feed",
        rss(
            [
                {"title": "Lighthouse log", "link": site.url("/article"), "guid": "l", "description": "Teaser."},
                story(site, 1),
            ],
            title="Coast",
        ),
    )
    async with discord_bot(fake, make_config, polling={"initial_posts": 2}, **FAST):
        await add_feed(fake, guild, news, site.url("/feed"))
        await eventually(lambda: len(fake.posted(news.id)) == 2)
        latest = await fake.invoke(guild, news, "news", "latest", {"count": 5}, permissions=MEMBER_PERMS)
        assert "Lighthouse log" in latest.text() and "Story 1" in latest.text() and latest.ephemeral()
        found = await fake.invoke(guild, news, "news", "search", {"query": "storm harbour"}, permissions=MEMBER_PERMS)
        assert "Lighthouse log" in found.text() and "Story 1" not in found.text()  # matched by body text
        sources = await fake.invoke(guild, news, "news", "sources", permissions=MEMBER_PERMS)
        assert "Coast" in sources.text() and f"<#{news.id}>" in sources.text()
        summary = await fake.invoke(
            guild, news, "news", "summarize", {"url": site.url("/article")}, permissions=MEMBER_PERMS
        )
        await eventually(lambda: len(summary.responses) >= 2)
        assert "storm number 0" in summary.text() and summary.ephemeral()
        assert summary.responses[-1]["embeds"][0]["image"]["url"] == site.url("/l.jpg")
        public = await fake.invoke(
            guild, news, "news", "summarize", {"url": site.url("/article"), "post": True}, permissions=MEMBER_PERMS
        )
        await eventually(lambda: len(public.responses) >= 2)
        assert not public.ephemeral() and "Requested by" in public.text()
        unsafe = await fake.invoke(
            guild, news, "news", "summarize", {"url": "http://169.254.169.254/"}, permissions=MEMBER_PERMS
        )
        assert "metadata address" in unsafe.text()
    assert fake.rejected == []


async def test_commands_are_not_resynced_when_unchanged(site: Site, fake: FakeDiscord, make_config) -> None:
    fake.add_guild("G")
    async with discord_bot(fake, make_config, **FAST):
        assert fake.command_syncs == 1
    async with discord_bot(fake, make_config, **FAST) as run:
        await asyncio.sleep(0.3)
        assert fake.command_syncs == 1
        assert await run.bot.sync_if_changed(force=True) and fake.command_syncs == 2


async def test_gateway_drop_resumes_and_invalid_session_reidentifies(
    site: Site, fake: FakeDiscord, make_config
) -> None:
    guild = fake.add_guild("G")
    news = fake.channel(guild, "news")
    site.set("/feed", rss([story(site, 1)]))
    async with discord_bot(fake, make_config, **FAST) as run:
        await add_feed(fake, guild, news, site.url("/feed"))
        await eventually(lambda: len(fake.posted(news.id)) == 1)
        await fake.drop_gateway(4000)
        await eventually(lambda: fake.resumes == 1 and fake.sockets, timeout=20)
        reply = await fake.invoke(guild, news, "news", "sources")
        assert "Test Feed" in reply.text()
        await fake.invalidate_session()
        await eventually(lambda: fake.identifies == 2 and fake.sockets, timeout=20)
        await eventually(lambda: run.bot.is_ready(), timeout=20)
        site.set("/feed", rss([story(site, 2), story(site, 1)]))
        feed = await feed_of(run.services.store, site.url("/feed"))
        await run.services.store.make_due(feed.id)
        run.bot.poke_poller()
        await eventually(lambda: len(fake.posted(news.id)) == 2, timeout=20)
        reply = await fake.invoke(guild, news, "news", "latest", {"count": 2})
        assert "Story 2" in reply.text()
    assert [m["embeds"][0]["title"] for m in fake.posted(news.id)] == ["Story 1", "Story 2"]


async def test_hostile_command_options_get_clear_errors_and_change_nothing(
    site: Site, fake: FakeDiscord, make_config
) -> None:
    guild = fake.add_guild("G")
    news = fake.channel(guild, "news")
    site.set("/feed", rss([story(site, 1)]))
    async with discord_bot(fake, make_config, **FAST) as run:
        hostile = {
            # Discord itself refuses options over their max_length; should one arrive anyway, it is still refused.
            "x" * 3000: "can't be used",
            "http://\u200b127.0.0.1\u202e/feed": None,  # zero-width and bidi characters are stripped, then judged
            "javascript:alert(1)": "can't be used",
            "http://[::1]:99999/": "can't be used",
            "ht tp://spaces in url": "can't be used",
        }
        for url, expected in hostile.items():
            reply = await add_feed(fake, guild, news, url)
            assert reply.ephemeral()
            if expected:
                assert expected in reply.text(), (url[:40], reply.text())
        for option in ("include", "exclude"):
            reply = await add_feed(fake, guild, news, site.url("/feed"), **{option: ",".join(["w"] * 50)})
            assert "At most 20 filter words" in reply.text()
        views = await run.services.store.guild_subscriptions(guild.id)
        assert len(views) <= 1  # only the stripped, valid loopback URL may have been added
        odd = await fake.invoke(guild, news, "feed", "remove", {"feed": "\u202e" + "9" * 40})
        assert "No feed of this server matches" in odd.text()
        search = await fake.invoke(guild, news, "news", "search", {"query": '"*) OR 1=1 -- NEAR('})
        assert "Nothing found" in search.text()
    assert fake.rejected == []


async def test_sync_command_registers_the_slash_commands(fake: FakeDiscord, make_config, monkeypatch, capsys) -> None:
    from bot.discordbot.client import sync_commands

    fake.add_guild("G")
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    before = discord.http.Route.BASE
    async with running(fake):
        assert await sync_commands(make_config(discord=endpoints(fake))) == 0
    assert before == discord.http.Route.BASE  # pointed at the fake only while the command ran
    assert fake.command_syncs == 1 and {c["name"] for c in fake.global_commands} == {"feed", "news"}
    assert "slash commands registered" in capsys.readouterr().out


async def test_loops_that_end_unexpectedly_stop_the_bot_instead_of_leaving_it_idle(
    site: Site, fake: FakeDiscord, make_config
) -> None:
    """A bot that answers commands but polls nothing must not go on looking alive: it stops, marked failed, so
    `newsbot run` exits non-zero and systemd starts it again."""
    async with discord_bot(fake, make_config, **FAST) as run:
        assert run.bot._loops is not None and not run.bot._loops.done()
        died = asyncio.get_running_loop().create_future()
        died.set_exception(RuntimeError("poller died"))
        run.bot._loops_ended(died)  # what the loops task's done-callback sees when it dies
        await eventually(lambda: run.bot.is_closed())
        assert run.bot.failed
