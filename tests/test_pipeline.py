"""Feeds in, each article stored once, posts out: the whole core path over real HTTP and a real SQLite file."""

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from bot.runtime import open_services
from tests.conftest import NO_DNS, FakeClock, RecordingSink, Site, feed_of, follow, poll_and_deliver, rss


def items(site: Site, *numbers: int, **extra: str) -> list[dict[str, str]]:
    return [
        {
            "title": f"Story {n}",
            "link": site.url(f"/story/{n}"),
            "guid": f"g{n}",
            "description": f"&lt;p&gt;Text of story {n}.&lt;/p&gt;",
            **extra,
        }
        for n in numbers
    ]


async def test_first_fetch_posts_only_newest_then_every_new_item(site: Site, services, clock: FakeClock) -> None:
    site.set("/feed", rss(items(site, 3, 2, 1)))
    sub = await follow(services, site.url("/feed"))
    sink = RecordingSink()
    stats, sent = await poll_and_deliver(services, sink)
    assert stats.new_articles == 3 and sent == 1
    assert sink.titles() == ["Story 3"]
    assert sink.posts[0][1].description == "Text of story 3."

    site.set("/feed", rss(items(site, 5, 4, 3, 2, 1)))
    clock.advance(3600)
    _, sent = await poll_and_deliver(services, sink)
    assert sink.titles() == ["Story 3", "Story 4", "Story 5"]  # oldest first
    assert [channel for channel, _ in sink.posts] == [sub.channel_id] * 3 == [100] * 3


async def test_reordered_republished_and_retracked_items_never_repost(site: Site, services, clock) -> None:
    site.set("/feed", rss(items(site, 2, 1)))
    await follow(services, site.url("/feed"))
    sink = RecordingSink()
    await poll_and_deliver(services, sink)
    assert sink.titles() == ["Story 2"]
    # Same guids, shuffled order, new tracking parameters, a changed title: all the same articles.
    shuffled = [
        {"title": f"Story {n} (updated)", "link": site.url(f"/story/{n}?utm_source=x&fbclid=1"), "guid": f"g{n}"}
        for n in (1, 2)
    ]
    site.set("/feed", rss(shuffled))
    clock.advance(3600)
    stats, sent = await poll_and_deliver(services, sink)
    assert stats.new_articles == 0 and sent == 0
    # A feed without guids whose links gain tracking parameters.
    site.set("/plain", rss([{"title": "Plain", "link": site.url("/p/1")}]))
    await follow(services, site.url("/plain"), channel=200)
    await poll_and_deliver(services, sink)
    site.set("/plain", rss([{"title": "Plain", "link": site.url("/p/1?utm_medium=rss#comments")}]))
    clock.advance(3600)
    stats, sent = await poll_and_deliver(services, sink)
    assert stats.new_articles == 0 and sent == 0
    assert sink.titles() == ["Story 2", "Plain"]


async def test_same_story_in_two_feeds_posts_once_per_channel(site: Site, services) -> None:
    story = {"title": "Shared", "link": site.url("/shared?utm_campaign=a")}
    site.set("/a", rss([{**story, "guid": "a-1"}]))
    site.set("/b", rss([{**story, "guid": "b-77", "link": site.url("/shared")}]))
    await follow(services, site.url("/a"), channel=100)
    await follow(services, site.url("/b"), channel=100)
    await follow(services, site.url("/b"), channel=300)
    sink = RecordingSink()
    await poll_and_deliver(services, sink)
    assert sorted(c for c, _ in sink.posts) == [100, 300]


async def test_items_older_than_max_age_are_recorded_not_posted(site: Site, services, clock) -> None:
    now = datetime.fromtimestamp(clock(), UTC)
    site.set("/feed", rss(items(site, 1, pubDate=format_datetime(now - timedelta(days=30)))))
    await follow(services, site.url("/feed"))
    sink = RecordingSink()
    stats, sent = await poll_and_deliver(services, sink)
    assert stats.new_articles == 1 and sent == 0


async def test_filters_include_and_exclude_words(site: Site, services, clock) -> None:
    site.set("/feed", rss([]))
    await follow(services, site.url("/feed"), include_words=("ferry", "harbor"), exclude_words=("sport",))
    sink = RecordingSink()
    await poll_and_deliver(services, sink)
    site.set(
        "/feed",
        rss(
            [
                {"title": "Ferry news", "link": site.url("/1"), "guid": "1"},
                {"title": "Ferry sport results", "link": site.url("/2"), "guid": "2"},
                {"title": "Weather", "link": site.url("/3"), "guid": "3", "description": "Calm in the harbor today."},
                {"title": "Ferrying nothing", "link": site.url("/4"), "guid": "4"},
            ]
        ),
    )
    clock.advance(3600)
    await poll_and_deliver(services, sink)
    assert sorted(sink.titles()) == ["Ferry news", "Weather"]


async def test_not_modified_feeds_cost_nothing_and_keep_schedule(site: Site, services, clock) -> None:
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == '"x"':
            return web.Response(status=304)
        return web.Response(text=rss(items(site, 1)), headers={"ETag": '"x"'})

    site.handle("/feed", handler)
    await follow(services, site.url("/feed"))
    await poll_and_deliver(services, RecordingSink())
    feed = await feed_of(services.store, site.url("/feed"))
    assert feed.etag == '"x"' and feed.next_check > clock() + feed.interval / 2
    assert await services.store.claim_due_feeds(clock(), 10, owner="test", lease=60) == []  # not due again yet
    clock.advance(feed.interval * 2)
    stats, _ = await poll_and_deliver(services, RecordingSink())
    assert stats.not_modified == 1


async def test_broken_feeds_get_reasons_back_off_and_disable_while_others_run(site: Site, make_config, clock) -> None:
    config = make_config(polling={"disable_after_failures": 3, "default_interval": 600})
    site.set("/good", rss(items(site, 1)))
    site.set("/html", "<html><body>no feed here</body></html>", "text/html")
    site.set("/broken", "<?xml version='1.0'?><rss><channel><title>x</title><item>\x00 \xff", "text/xml")
    async with open_services(config, clock=clock, resolver=NO_DNS) as services:
        for path in ("/good", "/html", "/missing", "/broken"):
            await follow(services, site.url(path), channel=100 + len(path))
        sink = RecordingSink()
        stats, _ = await poll_and_deliver(services, sink)
        assert sink.titles() == ["Story 1"]
        assert stats.errors[site.url("/html")] == "the URL now serves a web page, not a feed"
        assert stats.errors[site.url("/missing")] == "HTTP 404 Not Found"
        missing = await feed_of(services.store, site.url("/missing"))
        assert missing.error_count == 1 and missing.last_error == "HTTP 404 Not Found"
        first_wait = missing.next_check - clock()
        clock.advance(first_wait)
        await services.poller().check(missing)
        missing = await feed_of(services.store, site.url("/missing"))
        assert missing.next_check - clock() == 2 * first_wait  # exponential backoff
        clock.advance(10_000)
        await services.poller().check(missing)
        missing = await feed_of(services.store, site.url("/missing"))
        assert missing.disabled_reason and "failed 3 times in a row" in missing.disabled_reason
        assert missing not in await services.store.claim_due_feeds(clock() + 10**6, 10, owner="test", lease=60)


async def test_permanent_redirect_updates_the_stored_url(site: Site, services) -> None:
    site.set("/old", b"", status=301, headers={"Location": "/new"})
    site.set("/new", rss(items(site, 1)))
    await follow(services, site.url("/old"))
    await poll_and_deliver(services, RecordingSink())
    assert await services.store.feed_by_url(site.url("/old")) is None
    assert (await services.store.feed_by_url(site.url("/new"))) is not None


async def test_retry_after_pushes_next_check(site: Site, services, clock) -> None:
    site.set("/feed", b"", status=503, headers={"Retry-After": "7200"})
    await follow(services, site.url("/feed"))
    await poll_and_deliver(services, RecordingSink())
    feed = await feed_of(services.store, site.url("/feed"))
    assert feed.next_check - clock() >= 7200


async def test_feeds_added_together_spread_out(site: Site, services, clock) -> None:
    for n in range(40):
        site.set(f"/f{n}", rss(items(site, n)))
        await follow(services, site.url(f"/f{n}"), channel=n)
    await services.poller().run_once()
    feeds = [await services.store.feed_by_url(site.url(f"/f{n}")) for n in range(40)]
    offsets = sorted(f.next_check - clock() for f in feeds)
    interval = feeds[0].interval
    assert offsets[0] > interval / 2 and offsets[-1] <= 1.5 * interval
    assert offsets[-1] - offsets[0] > interval * 0.7  # spread over most of an interval, not bunched


async def test_crash_mid_delivery_then_restart_delivers_each_exactly_once(site: Site, make_config, clock) -> None:
    config = make_config(polling={"initial_posts": 10})
    site.set("/feed", rss(items(site, *range(10, 0, -1))))
    sink = RecordingSink()
    sink.block_after = 4
    async with open_services(config, clock=clock, resolver=NO_DNS) as services:
        await follow(services, site.url("/feed"))
        await services.poller().run_once()
        deliver = asyncio.create_task(services.deliverer(sink).run_once())
        await asyncio.wait_for(sink.blocked.wait(), 5)
        deliver.cancel()  # the process dies while the 5th post is in flight
    assert len(sink.posts) == 4
    sink.block_after = None
    async with open_services(config, clock=clock, resolver=NO_DNS) as services:
        clock.advance(1)
        await services.poller().run_once()  # nothing new is created by re-polling
        sent = await services.deliverer(sink).run_once()
        assert sent == 6
        assert await services.deliverer(sink).run_once() == 0
        assert (await services.store.delivery_counts()) == {"sent": 10}
    assert sink.titles() == [f"Story {n}" for n in range(1, 11)]


async def test_autodiscovery_finds_feed_of_a_page_and_says_when_none(site: Site, services) -> None:
    from bot.poll import DiscoveryError, discover

    site.set("/feed.xml", rss(items(site, 1), title="Found Feed"))
    site.set(
        "/", '<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head></html>', "text/html"
    )
    site.set("/nofeed", "<html><head><title>Plain</title></head><body>hi</body></html>", "text/html")
    found = await discover(services.fetcher, site.url("/"))
    assert found.url == site.url("/feed.xml") and found.parsed.title == "Found Feed"
    try:
        await discover(services.fetcher, site.url("/nofeed"))
    except DiscoveryError as exc:
        assert "no feed link" in str(exc)
    else:
        raise AssertionError("a page without feed links must be refused")


async def test_outbox_is_fair_across_channels_and_a_retrying_post_is_never_overtaken(
    site: Site, services, clock
) -> None:
    from bot.deliver import TransientSendError

    site.set("/busy", rss(items(site, *range(30, 0, -1))))
    site.set("/quiet", rss([{"title": "Quiet", "link": site.url("/q"), "guid": "q"}]))
    await follow(services, site.url("/busy"), channel=1)
    await follow(services, site.url("/quiet"), channel=2)
    await services.poller().run_once()
    # The busy feed's first round posts 1 (no flood); give it 30 more pending posts by a second subscription path.
    site.set("/busy", rss(items(site, *range(60, 0, -1))))
    clock.advance(86_400)
    await services.poller().run_once()
    batch = await services.store.pending_deliveries(clock(), limit=15)
    assert {d.channel_id for d in batch} == {1, 2}  # the quiet channel is not starved by the busy one
    sink = RecordingSink()
    sink.fail_with = TransientSendError("Discord unavailable")
    await services.deliverer(sink).run_once()
    sink.fail_with = None
    assert await services.store.pending_deliveries(clock(), limit=50) == []  # both heads are waiting to retry
    clock.advance(3600)
    await services.deliverer(sink).run_once()
    busy = sink.titles(channel=1)
    assert busy == sorted(busy, key=lambda t: int(t.split()[1]))  # oldest first, the failed one included


async def test_a_long_discord_outage_delays_posts_but_never_drops_them(site: Site, services, clock) -> None:
    from bot.deliver import TransientSendError

    site.set("/feed", rss(items(site, 1)))
    await follow(services, site.url("/feed"))
    await services.poller().run_once()
    sink = RecordingSink()
    sink.fail_with = TransientSendError("Discord error 503")
    deliverer = services.deliverer(sink)
    for _ in range(20):  # hours of failures, far past delivery.max_attempts
        await deliverer.run_once()
        clock.advance(901)  # past the longest backoff
    assert (await services.store.delivery_counts()) == {"pending": 1}
    sink.fail_with = None
    assert await deliverer.run_once() == 1
    assert sink.titles() == ["Story 1"] and (await services.store.delivery_counts()) == {"sent": 1}


async def test_feeds_that_were_slow_start_first_when_many_are_due(site: Site, services, clock) -> None:
    from aiohttp import web

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.4)
        return web.Response(text=rss(items(site, 2)), content_type="application/rss+xml")

    site.set("/fast", rss(items(site, 1)))
    site.handle("/slow", slow)
    site.handle("/slow-fail", lambda request: asyncio.sleep(0.3, web.Response(status=500)))
    for path in ("/fast", "/slow", "/slow-fail"):
        await follow(services, site.url(path), channel=len(path))
    assert [f.url for f in await services.store.claim_due_feeds(clock(), 10, owner="test", lease=0)] == [
        site.url(p) for p in ("/fast", "/slow", "/slow-fail")
    ]  # nothing measured yet: the order they were added
    await poll_and_deliver(services, RecordingSink())
    clock.advance(86_400)
    due = await services.store.claim_due_feeds(clock(), 10, owner="test", lease=60)
    assert [f.url for f in due] == [site.url(p) for p in ("/slow", "/slow-fail", "/fast")]


async def test_an_installation_from_before_fragments_counted_neither_reposts_nor_loses_anchors(
    site: Site, services, clock: FakeClock
) -> None:
    """Upgrade path of issue #12 item 1: version 2 stored a live blog's anchor under its page's key. That article
    is still known under its former key, but only as itself: the next anchor on the page is new news."""
    first = {"title": "Update 1", "link": site.url("/live#u1")}
    site.set("/feed", rss([first]))
    await follow(services, site.url("/feed"))
    sink = RecordingSink()
    await poll_and_deliver(services, sink)
    assert sink.titles() == ["Update 1"]
    # What version 2 had stored for it: the key without the fragment (the link itself was stored as written).
    old_key = "2:l:" + site.url("/live")
    await services.store._db.execute("UPDATE articles SET key = ? WHERE title = ?", (old_key, "Update 1"))
    clock.advance(3600)
    await poll_and_deliver(services, sink)
    assert sink.titles() == ["Update 1"]  # not reposted after the upgrade
    site.set("/feed", rss([{"title": "Update 2", "link": site.url("/live#u2")}]))
    clock.advance(3600)
    await poll_and_deliver(services, sink)
    assert sink.titles() == ["Update 1", "Update 2"]  # same former key, other link: posted, not swallowed
