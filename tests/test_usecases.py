"""The application layer as a new user meets it, on both backends: each case once broke before it lived here."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from aiohttp import web

from bot.runtime import open_services
from bot.usecases import FollowRequest, UseCaseError
from tests.conftest import NO_DNS, FakeClock, RecordingSink, Site, follow, poll_and_deliver, rss


def story(site: Site, n: int, text: str, when: datetime | None = None) -> dict[str, str]:
    item = {"title": f"Story {n}", "link": site.url(f"/s/{n}"), "guid": f"g{n}", "description": text}
    if when is not None:
        item["pubDate"] = format_datetime(when)
    return item


def now_of(clock: FakeClock) -> datetime:
    return datetime.fromtimestamp(clock(), UTC)


async def test_second_channel_backfill_obeys_its_filters_and_max_age(site: Site, make_config, clock) -> None:
    config = make_config(polling={"initial_posts": 5, "max_age_days": 7})
    recent, old = now_of(clock) - timedelta(hours=1), now_of(clock) - timedelta(days=30)
    site.set(
        "/feed",
        rss(
            [
                story(site, 3, "The ferry sails.", recent),
                story(site, 2, "Sport results.", recent - timedelta(minutes=5)),
                story(site, 1, "An old ferry tale.", old),
            ]
        ),
    )
    async with open_services(config, clock=clock, resolver=NO_DNS) as services:
        await follow(services, site.url("/feed"), channel=100)
        sink = RecordingSink()
        await poll_and_deliver(services, sink)
        assert sink.titles(100) == ["Story 2", "Story 3"]  # story 1 is too old for anyone
        second = await services.app.subscribe(FollowRequest(site.url("/feed"), 1, 200, include_words=("ferry",)))
        assert second.backfilled == 1
        await services.deliverer(sink).run_once()
        assert sink.titles(200) == ["Story 3"]  # not "Sport results", not the 30-day-old ferry


async def test_add_preview_shows_the_newest_item_the_filters_let_through(site: Site, services, clock) -> None:
    site.set(
        "/feed",
        rss([story(site, 3, "Sport results."), story(site, 2, "The harbor opens."), story(site, 1, "More sport.")]),
    )
    result = await services.app.follow(FollowRequest(site.url("/feed"), 1, 100, include_words=("harbor",)))
    assert result.preview is not None and result.preview.article is not None
    assert result.preview.article.title == "Story 2"
    view = (await services.store.guild_subscriptions(1))[0]
    await services.app.edit(view, include_words=("regatta",))
    view = (await services.store.guild_subscriptions(1))[0]
    nothing = await services.app.preview(view)
    assert nothing.article is None and "filters" in nothing.empty_reason


async def test_preview_skips_items_older_than_max_age(site: Site, services, clock) -> None:
    site.set(
        "/feed",
        rss(
            [
                story(site, 2, "Old news.", now_of(clock) - timedelta(days=60)),
                story(site, 1, "Older news.", now_of(clock) - timedelta(days=90)),
            ]
        ),
    )
    result = await services.app.follow(FollowRequest(site.url("/feed"), 1, 100))
    assert result.preview is not None and result.preview.article is None
    assert "age limit" in result.preview.empty_reason


async def test_edit_channel_moves_posts_already_queued(site: Site, services, clock) -> None:
    site.set("/feed", rss([story(site, 1, "First.")]))
    sub = await follow(services, site.url("/feed"), channel=100)
    await services.poller().run_once()  # queued for channel 100, not sent yet
    view = await services.store.subscription(sub.id, 1)
    assert view is not None
    await services.app.edit(view, channel_id=300)
    sink = RecordingSink()
    await services.deliverer(sink).run_once()
    assert sink.titles(300) == ["Story 1"] and sink.titles(100) == []


async def test_edit_to_a_channel_that_already_follows_is_refused(site: Site, services) -> None:
    site.set("/feed", rss([story(site, 1, "First.")]))
    sub = await follow(services, site.url("/feed"), channel=100)
    await follow(services, site.url("/feed"), channel=200)
    view = await services.store.subscription(sub.id, 1)
    assert view is not None
    with pytest.raises(UseCaseError, match="already follows"):
        await services.app.edit(view, channel_id=200)


async def test_summarize_fetches_the_one_page_asked_for_even_with_page_fetching_off(
    site: Site, make_config, clock
) -> None:
    body = " ".join(f"Sentence number {n} of the harbor report has real words in it." for n in range(30))
    site.set(
        "/article",
        f"<html><head><title>Harbor report</title></head><body><article><h1>Harbor report</h1>"
        f"<p>{body}</p></article></body></html>",
        "text/html",
    )
    config = make_config(articles={"fetch_pages": False})
    async with open_services(config, clock=clock, resolver=NO_DNS) as services:
        article = await services.app.summarize_url(site.url("/article"))
    assert article.title == "Harbor report" and "Sentence number 0" in article.summary
    assert site.hits["/article"] == 1


async def test_config_feed_name_labels_its_posts(site: Site, make_config, clock) -> None:
    site.set("/feed", rss([story(site, 1, "First.")], title="Some Long Feed Title"))
    config = make_config(feeds=[{"url": site.url("/feed"), "channel_id": 100, "guild_id": 1, "name": "Harbor desk"}])
    async with open_services(config, clock=clock, resolver=NO_DNS) as services:
        assert await services.app.sync_config_feeds() == 1
        assert await services.app.sync_config_feeds() == 0  # a second start adds nothing and logs no error
        sink = RecordingSink()
        await poll_and_deliver(services, sink)
        assert [p.footer for _, p in sink.posts] == ["Harbor desk"]
        view = (await services.store.guild_subscriptions(1))[0]
        assert view.subscription.name == "Harbor desk" and view.label == "Harbor desk"  # what /feed list shows


async def test_bulk_follow_discovers_concurrently_and_reports_each_failure(site: Site, services) -> None:
    in_flight = peak = 0

    async def slow_feed(request: web.Request) -> web.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.1)
        in_flight -= 1
        return web.Response(text=rss([story(site, 1, "x")]), content_type="application/rss+xml")

    for n in range(12):
        site.handle(f"/f{n}", slow_feed)
    site.set("/broken", "<html>no feed here</html>", "text/html")
    requests = [FollowRequest(site.url(f"/f{n}"), 1, 100) for n in range(12)]
    requests += [FollowRequest(site.url("/broken"), 1, 100), FollowRequest("http://169.254.169.254/", 1, 100)]
    result = await services.app.follow_many(requests)
    assert len(result.added) == 12
    assert sorted(url for url, _ in result.skipped) == sorted([site.url("/broken"), "http://169.254.169.254/"])
    assert peak > 1  # discovered side by side (within the per-host limit), not one after another
    again = await services.app.follow_many(requests[:3])
    assert again.already == 3 and not again.added


async def test_guild_feed_limit_counts_across_a_bulk_follow(site: Site, make_config, clock) -> None:
    config = make_config(discord={"max_feeds_per_guild": 2})
    for n in range(4):
        site.set(f"/f{n}", rss([story(site, n, "x")]))
    async with open_services(config, clock=clock, resolver=NO_DNS) as services:
        result = await services.app.follow_many([FollowRequest(site.url(f"/f{n}"), 7, 100) for n in range(4)])
        assert len(result.added) == 2 and len(result.skipped) == 2
        assert all("limit" in reason for _, reason in result.skipped)
        with pytest.raises(UseCaseError, match="most allowed"):
            await services.app.follow(FollowRequest(site.url("/f3"), 7, 200))


async def test_resume_enables_a_disabled_feed_and_checks_it_now(site: Site, make_config, clock) -> None:
    site.set("/feed", "nope", status=500)
    config = make_config(polling={"disable_after_failures": 1})
    async with open_services(config, clock=clock, resolver=NO_DNS) as services:
        sub = await follow(services, site.url("/feed"))
        await services.poller().run_once()
        view = await services.store.subscription(sub.id, 1)
        assert view is not None and view.feed.disabled_reason
        await services.app.pause(view, "paused by test")
        site.set("/feed", rss([story(site, 1, "Back.")]))
        view = await services.store.subscription(sub.id, 1)
        assert view is not None
        await services.app.resume(view)
        view = await services.store.subscription(sub.id, 1)
        assert view is not None and view.subscription.paused_reason is None and view.feed.disabled_reason is None
        assert view.feed.error_count == 0 and view.feed.next_check <= clock()
        stats = await services.poller().run_once()
        assert stats.checked == 1 and stats.failed == 0
