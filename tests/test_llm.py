"""Optional LLM summaries and translations against a fake OpenAI-compatible server on 127.0.0.1.

The fake answers like a model would, or fails the ways real endpoints fail: hallucinated numbers, timeouts, 429s,
server errors, garbage JSON. In every failure the post goes out with the extractive summary, on time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from bot.config import Config, SummariesSection
from bot.demo import serve
from bot.llm import LLMError, LLMSummarizer, grounded_summary, grounded_translation, parse_completion
from bot.metrics import Metrics
from bot.runtime import open_services
from tests.conftest import NO_DNS, FakeClock, RecordingSink, Site, follow, poll_and_deliver, rss

ARTICLE = (
    "Springfield's council voted 7-2 on Tuesday to spend $4.5 million on 30 new electric buses. "
    'Mayor Ana Ruiz called the vote "a long overdue step" for the city. '
    "The buses will enter service next spring on the busiest routes. "
    "Opponents said the money should have gone to road repairs instead."
)
GOOD = "Springfield will buy 30 electric buses for $4.5 million after a 7-2 vote. Mayor Ana Ruiz welcomed it."
INVENTED = "Springfield will buy 45 buses. The vote was 9-0, said Governor Tom Baker."
GERMAN = (
    "Springfield kauft 30 Elektrobusse für 4.5 Millionen Dollar nach einer 7-2-Abstimmung. "
    "Bürgermeisterin Ana Ruiz begrüßte es."
)


@dataclass
class FakeModel:
    """Answers chat completions; `mode` says how: ok, invent, mixed, slow, 429, 500, garbage. In "ok" mode a
    translation request gets a German translation of GOOD."""

    mode: str = "ok"
    base: str = ""
    requests: list[dict[str, object]] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)

    def translated_into(self) -> list[str]:
        """The language of each translation request so far, in order."""
        prompts = [str(r["messages"][0]["content"]) for r in self.requests]  # type: ignore[index]
        return [p.split("into ", 1)[1].split(".", 1)[0] for p in prompts if p.startswith("Translate")]

    def translations(self) -> int:
        return len(self.translated_into())

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.auth.append(request.headers.get("Authorization", ""))
        if self.mode == "slow":
            await asyncio.sleep(5)
        if self.mode == "429":
            return web.json_response({"error": "rate limited"}, status=429, headers={"Retry-After": "60"})
        if self.mode == "500":
            return web.json_response({"error": "boom"}, status=500)
        if self.mode == "garbage":
            return web.Response(text="<html>not json at all", content_type="text/html")
        translating = str(body["messages"][0]["content"]).startswith("Translate")
        answer = {
            "ok": GERMAN if translating else GOOD,
            "invent": INVENTED,
            "mixed": f"{GOOD} The vote was 9-0.",
        }[self.mode]
        return web.json_response(
            {
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}}],
                "usage": {"prompt_tokens": 120, "completion_tokens": 30},
            }
        )


@pytest.fixture
async def model() -> AsyncIterator[FakeModel]:
    fake = FakeModel()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.handle)
    async with serve(app) as base:
        fake.base = base + "/v1"
        yield fake


def _section(model: FakeModel, **overrides: object) -> SummariesSection:
    values: dict[str, object] = {
        "provider": "openai-compatible",
        "base_url": model.base,
        "model": "test-model",
        "api_key_env": "NEWSBOT_TEST_LLM_KEY",
        "timeout": 0.5,
        **overrides,
    }
    return SummariesSection(**values)  # type: ignore[arg-type]


@pytest.fixture
async def llm(model: FakeModel, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[LLMSummarizer, Metrics]]:
    monkeypatch.setenv("NEWSBOT_TEST_LLM_KEY", "sk-test-secret")
    metrics = Metrics()
    section = _section(model)
    async with aiohttp.ClientSession() as session:
        yield LLMSummarizer(session, section, section.api_key(), metrics), metrics


async def _summary(llm: LLMSummarizer, key: str = "story-1") -> str | None:
    return await llm.summarize(key, "Council buys buses", ARTICLE, max_sentences=3, max_chars=500)


def _count(metrics: Metrics, outcome: str) -> float:
    return metrics.llm_requests.labels(outcome)._value.get()


async def test_a_grounded_answer_is_used_and_its_cost_counted(
    llm: tuple[LLMSummarizer, Metrics], model: FakeModel
) -> None:
    client, metrics = llm
    assert await _summary(client) == GOOD
    assert model.auth == ["Bearer sk-test-secret"]
    assert model.requests[0]["model"] == "test-model"
    assert _count(metrics, "ok") == 1
    assert metrics.llm_tokens.labels("prompt")._value.get() == 120
    assert metrics.llm_tokens.labels("completion")._value.get() == 30


async def test_answers_are_cached_per_article(llm: tuple[LLMSummarizer, Metrics], model: FakeModel) -> None:
    client, _ = llm
    assert await _summary(client) == await _summary(client) == GOOD
    assert len(model.requests) == 1
    await _summary(client, "story-2")
    assert len(model.requests) == 2


async def test_a_hallucinated_sentence_is_dropped_and_the_rest_kept(
    llm: tuple[LLMSummarizer, Metrics], model: FakeModel
) -> None:
    model.mode = "mixed"
    assert await _summary(llm[0]) == GOOD


@pytest.mark.parametrize("mode", ["invent", "slow", "429", "500", "garbage"])
async def test_every_failure_falls_back_within_the_timeout(
    llm: tuple[LLMSummarizer, Metrics], model: FakeModel, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client, metrics = llm
    model.mode = mode
    started = time.monotonic()
    assert await _summary(client) is None
    assert time.monotonic() - started < 0.5 + 0.3  # never later than the timeout
    outcome = {"invent": "ungrounded", "slow": "timeout", "429": "http_429", "500": "http_5xx", "garbage": "bad_answer"}
    assert _count(metrics, outcome[mode]) == 1
    assert caplog.text and "sk-test-secret" not in caplog.text  # said why, and never the key


async def test_after_a_429_no_request_is_sent_until_retry_after(
    llm: tuple[LLMSummarizer, Metrics], model: FakeModel
) -> None:
    client, metrics = llm
    model.mode = "429"
    assert await _summary(client, "a") is None
    model.mode = "ok"
    assert await _summary(client, "b") is None
    assert len(model.requests) == 1 and _count(metrics, "rate_limited") == 1


async def test_an_unreachable_endpoint_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    metrics = Metrics()
    section = SummariesSection(provider="openai-compatible", base_url="http://127.0.0.1:9/v1", model="m", timeout=2)
    async with aiohttp.ClientSession() as session:
        client = LLMSummarizer(session, section, "", metrics)
        assert await client.summarize("k", "t", ARTICLE, max_sentences=3, max_chars=500) is None
    assert _count(metrics, "unreachable") == 1


async def test_a_grounded_translation_is_used_and_a_changed_number_is_not(
    llm: tuple[LLMSummarizer, Metrics], model: FakeModel
) -> None:
    client, _ = llm
    assert await client.translate("story-1", GOOD, "de", max_chars=500) == GERMAN
    assert model.requests[0]["messages"][0]["content"].startswith("Translate this news summary into de")  # type: ignore[index]
    model.mode = "invent"
    assert await client.translate("story-2", GOOD, "de", max_chars=500) is None


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (GOOD, GOOD),
        (INVENTED, None),
        ("Intro sentence that is fine. " * 30, "Intro sentence that is fine. " * 3),  # the sentence limit
        ('Ruiz said it was "a historic victory".', None),  # an invented quotation
    ],
)
def test_grounded_summary_keeps_only_supported_sentences(answer: str, expected: str | None) -> None:
    article = ARTICLE + " Intro sentence that is fine."
    got = grounded_summary(answer, article, max_sentences=3, max_chars=500)
    assert got == (expected.strip() if expected else None)


@pytest.mark.parametrize(
    ("answer", "language", "ok"),
    [
        ("Springfield kauft 30 Busse für 4.5 Millionen nach 7-2. Ana Ruiz begrüßte es.", "de", True),
        ("Springfield kauft 31 Busse für 4.5 Millionen nach 7-2. Ana Ruiz begrüßte es.", "de", False),
        ("Springfield kauft 30 Busse für 4.5 Millionen nach 7-2. Ana Ruis begrüßte es.", "de", False),  # a name
        ("Спрингфилд купит 30 автобусов за 4.5 млн после голосования 7-2.", "ru", True),  # transliterated names
    ],
)
def test_a_translation_keeps_numbers_and_names(answer: str, language: str, ok: bool) -> None:
    source = "Springfield will buy 30 buses for $4.5 million after a 7-2 vote. Mayor Ana Ruiz welcomed it."
    assert (grounded_translation(answer, source, language) is not None) is ok


@pytest.mark.parametrize("payload", [b"", b"{}", b'{"choices": []}', b'{"choices": [{"message": {"content": ""}}]}'])
def test_anything_but_a_chat_completion_is_a_bad_answer(payload: bytes) -> None:
    with pytest.raises(LLMError) as raised:
        parse_completion(payload)
    assert raised.value.outcome == "bad_answer"


def test_a_well_formed_completion_is_read() -> None:
    payload = json.dumps({"choices": [{"message": {"content": " Hi. "}}], "usage": {"prompt_tokens": 3}})
    text, usage = parse_completion(payload.encode())
    assert text == "Hi." and usage.prompt_tokens == 3 and usage.completion_tokens == 0


async def test_posts_carry_the_llm_summary_and_fall_back_when_it_fails(
    make_config: Callable[..., Config], clock: FakeClock, site: Site, model: FakeModel
) -> None:
    """End to end: a feed is polled, the posted article's summary comes from the model; when the model fails,
    the next article posts with the extractive summary, and translation follows the subscription's language."""
    config = make_config(
        articles={"fetch_pages": False},
        summaries={"provider": "openai-compatible", "base_url": model.base, "model": "m", "timeout": 0.5},
    )
    item = {"title": "Council buys buses", "link": "http://example.test/1", "description": ARTICLE}
    site.set("/feed.xml", rss([item]))
    async with open_services(config, clock=clock, resolver=NO_DNS) as services:
        sink = RecordingSink()
        sub = await follow(services, site.url("/feed.xml"))
        await poll_and_deliver(services, sink)
        assert [p.description for _, p in sink.posts] == [GOOD]
        model.mode = "500"
        second = {"title": "Buses arrive", "link": "http://example.test/2", "description": ARTICLE}
        site.set("/feed.xml", rss([second, item]))
        clock.advance(3600)
        await poll_and_deliver(services, sink)
        assert len(sink.posts) == 2 and sink.posts[1][1].description.startswith("Springfield")
        assert sink.posts[1][1].description != GOOD  # the extractive summary, the article's own sentences
        (view,) = await services.store.guild_subscriptions(1)
        await services.app.edit(view, language="de")
        model.mode = "ok"
        third = {"title": "Routes chosen", "link": "http://example.test/3", "description": ARTICLE}
        site.set("/feed.xml", rss([third, second, item]))
        clock.advance(3600)
        await poll_and_deliver(services, sink)
        # The summary is the model's (GOOD), translated for this subscription: German text, same numbers.
        assert sink.posts[2][1].description == GERMAN
        assert sub.id == view.subscription.id


async def test_a_translation_is_asked_for_once_across_restarts_and_channels(
    make_config: Callable[..., Config], clock: FakeClock, site: Site, model: FakeModel
) -> None:
    """A translated summary is stored with its source text's digest: the bot restarted (its memory cache gone)
    and a second channel wanting the same summary in the same language get it from the database, not the model."""
    config = make_config(
        articles={"fetch_pages": False},
        summaries={"provider": "openai-compatible", "base_url": model.base, "model": "m", "language": "de"},
    )
    item = {"title": "Council buys buses", "link": "http://example.test/1", "description": ARTICLE}
    site.set("/feed.xml", rss([item]))

    async with open_services(config, clock=clock, resolver=NO_DNS) as services:
        sink = RecordingSink()
        await follow(services, site.url("/feed.xml"), channel=1)
        await poll_and_deliver(services, sink)
        assert [p.description for _, p in sink.posts] == [GERMAN] and model.translations() == 1
    async with open_services(config, clock=clock, resolver=NO_DNS) as services:  # a restart: memory is empty
        sink = RecordingSink()
        await follow(services, site.url("/feed.xml"), channel=2)  # its backfill posts the stored article again
        await poll_and_deliver(services, sink)
        assert [p.description for _, p in sink.posts] == [GERMAN]
        assert model.translations() == 1  # from the database
        clock.advance(400 * 86_400)
        await services.poller().prune(every=0)
        source = hashlib.sha256(GOOD.encode()).hexdigest()
        assert await services.store.translation(source, "de") is None  # forgotten past the retention


async def test_a_language_needs_a_model_and_a_real_language_tag(
    make_config: Callable[..., Config], clock: FakeClock, site: Site, model: FakeModel
) -> None:
    from bot.usecases import UseCaseError

    site.set("/feed.xml", rss([{"title": "One", "link": "http://example.test/1"}]))
    async with open_services(make_config(), clock=clock, resolver=NO_DNS) as services:
        await follow(services, site.url("/feed.xml"))
        (view,) = await services.store.guild_subscriptions(1)
        with pytest.raises(UseCaseError, match="needs a language model"):
            await services.app.edit(view, language="de")
        with pytest.raises(UseCaseError, match="needs a language model"):
            await services.app.set_server_language(1, "de")
        assert await services.app.set_server_language(1, "default") == ""  # the operator's: needs no model
        assert await services.app.set_server_language(1, "off") == "none"
        assert await services.app.set_server_language(1, "None") == "none"  # "as written" needs no model
        await services.app.edit(view, language="none")
    with_model = make_config(summaries={"provider": "openai-compatible", "base_url": model.base, "model": "m"})
    async with open_services(with_model, clock=clock, resolver=NO_DNS) as services:
        (view,) = await services.store.guild_subscriptions(1)
        with pytest.raises(UseCaseError, match="not a language code"):
            await services.app.edit(view, language="de; DROP TABLE")
        with pytest.raises(UseCaseError, match="not a language code"):
            await services.app.set_server_language(1, "deutsch")
        assert await services.store.guild_language(1) == "none"  # a refused value changes nothing
        await services.app.edit(view, language="pt-BR")
        (view,) = await services.store.guild_subscriptions(1)
        assert view.subscription.language == "pt-BR"
        await services.app.edit(view, language="")
        (view,) = await services.store.guild_subscriptions(1)
        assert view.subscription.language == ""


async def test_news_summarize_uses_the_model_too(
    make_config: Callable[..., Config], clock: FakeClock, site: Site, model: FakeModel
) -> None:
    paragraphs = "".join(f"<p>{s}.</p>" for s in ARTICLE.rstrip(".").split(". "))
    page = (
        "<!doctype html><html lang='en'><head><title>Council buys buses</title></head><body><article>"
        f"<h1>Council buys buses</h1>{paragraphs}</article></body></html>"
    )
    site.set("/article", page, "text/html")
    config = make_config(summaries={"provider": "openai-compatible", "base_url": model.base, "model": "m"})
    async with open_services(config, clock=clock, resolver=NO_DNS) as services:
        article = await services.app.summarize_url(site.url("/article"))
        assert article.summary == GOOD
        model.mode = "garbage"
        site.set("/other", page.replace("Council buys buses", "Buses bought"), "text/html")
        fallback = await services.app.summarize_url(site.url("/other"))
        assert fallback.summary.startswith("Springfield's council voted 7-2")  # the extractive one


async def test_news_summarize_answers_in_the_server_language(
    make_config: Callable[..., Config], clock: FakeClock, site: Site, model: FakeModel
) -> None:
    """Asked in a server whose language is German, `/news summarize` answers in German, as its posts are; a page
    that declares German is answered as written, with no request; outside a server, as written."""
    paragraphs = "".join(f"<p>{s}.</p>" for s in ARTICLE.rstrip(".").split(". "))
    page = (
        "<!doctype html><html lang='{lang}'><head><title>Council buys buses</title></head><body><article>"
        f"<h1>Council buys buses</h1>{paragraphs}</article></body></html>"
    )
    site.set("/en", page.format(lang="en"), "text/html")
    site.set("/de", page.format(lang="de-DE"), "text/html")
    config = make_config(summaries={"provider": "openai-compatible", "base_url": model.base, "model": "m"})

    async with open_services(config, clock=clock, resolver=NO_DNS) as services:
        await services.app.set_server_language(7, "de")
        assert (await services.app.summarize_url(site.url("/en"), guild_id=7)).summary == GERMAN
        assert (await services.app.summarize_url(site.url("/en"), guild_id=8)).summary == GOOD  # no language set
        assert (await services.app.summarize_url(site.url("/en"))).summary == GOOD  # a direct message
        assert model.translations() == 1
        assert (await services.app.summarize_url(site.url("/de"), guild_id=7)).summary == GOOD  # declared German
        assert model.translations() == 1


async def test_an_article_already_in_the_language_is_not_sent_for_translation(
    make_config: Callable[..., Config], clock: FakeClock, site: Site, model: FakeModel
) -> None:
    """Summaries wanted in German: the German feed's article (its `<language>de-DE`, stored with the article) posts
    as written with no request to the model; the English feed's article is translated; an article whose feed
    declares nothing is translated too (unknown is not the same language)."""
    config = make_config(
        articles={"fetch_pages": False},
        summaries={"provider": "openai-compatible", "base_url": model.base, "model": "m", "language": "de"},
    )
    german = "Der Stadtrat hat am Dienstag mit 7 zu 2 Stimmen beschlossen, 30 neue Elektrobusse zu kaufen."
    site.set(
        "/de.xml",
        rss([{"title": "Busse", "link": "http://example.test/de/1", "description": german}], language="de-DE"),
    )
    site.set(
        "/en.xml",
        rss([{"title": "Buses", "link": "http://example.test/en/1", "description": ARTICLE}], language="en-us"),
    )
    site.set("/plain.xml", rss([{"title": "Buses 2", "link": "http://example.test/x/1", "description": ARTICLE}]))

    async with open_services(config, clock=clock, resolver=NO_DNS) as services:
        sink = RecordingSink()
        await follow(services, site.url("/de.xml"), channel=1)
        await poll_and_deliver(services, sink)
        assert model.translations() == 0
        # As written: the model's English summary fails grounding on a German text, so the article's own sentence.
        assert [p.description for _, p in sink.posts] == [german]
        (stored,) = await services.store.latest_articles(1, limit=5)
        assert stored.language == "de"  # kept in the database, so a restart or another process decides the same
        await follow(services, site.url("/en.xml"), channel=2)
        await poll_and_deliver(services, sink)
        assert model.translations() == 1 and sink.posts[-1][1].description == GERMAN
        await follow(services, site.url("/plain.xml"), channel=3)
        await poll_and_deliver(services, sink)
        assert sink.posts[-1][1].description == GERMAN  # translated (the same summary: from the stored translation)


async def test_a_server_language_sits_between_the_operator_default_and_a_feed_own(
    make_config: Callable[..., Config], clock: FakeClock, site: Site, model: FakeModel
) -> None:
    """Which language a post's summary is translated into: the subscription's own, else its server's
    (`/feed language`), else the operator's `[summaries] language`; "none" at either level means as written."""
    config = make_config(
        articles={"fetch_pages": False},
        summaries={"provider": "openai-compatible", "base_url": model.base, "model": "m", "language": "de"},
    )

    async def post(path: str, channel: int) -> str:
        item = {"title": f"Buses {path}", "link": f"http://example.test{path}", "description": ARTICLE}
        site.set(path, rss([item]))
        await follow(services, site.url(path), channel=channel)
        await poll_and_deliver(services, sink)
        return sink.posts[-1][1].description

    async with open_services(config, clock=clock, resolver=NO_DNS) as services:
        sink = RecordingSink()
        await services.app.set_server_language(1, "none")
        assert await post("/a.xml", 1) == GOOD and model.translated_into() == []  # the server said "as written"
        await services.app.set_server_language(1, "fr")
        assert await post("/b.xml", 2) == GERMAN and model.translated_into() == [
            "fr"
        ]  # the fake model answers in German
        (view,) = [v for v in await services.store.guild_subscriptions(1) if v.subscription.channel_id == 2]
        await services.app.edit(view, language="it")  # the feed's own wins over the server's
        clock.advance(3600)
        site.set("/b.xml", rss([{"title": "More", "link": "http://example.test/b2", "description": ARTICLE}]))
        await poll_and_deliver(services, sink)
        assert model.translated_into() == ["fr", "it"]
        await services.app.set_server_language(1, "")  # back to the operator's
        assert await post("/c.xml", 3) == GERMAN and model.translated_into() == ["fr", "it", "de"]
        await services.app.edit(view, language="none")  # this feed as written, whatever the defaults
        clock.advance(3600)
        site.set("/b.xml", rss([{"title": "Last", "link": "http://example.test/b3", "description": ARTICLE}]))
        await poll_and_deliver(services, sink)
        assert sink.posts[-1][1].description == GOOD and len(model.translated_into()) == 3
