"""The differential corpus test (issue: every real feed read right): feedparser's own test files, read by newsbot
and by feedparser, must agree but for the differences listed and justified in ``tests/corpus_allowlist.toml``.

Files that carry ``Header:`` lines are served with those headers by a real aiohttp server on 127.0.0.1 and
fetched by newsbot's fetcher, so the HTTP charset, redirects and compression take newsbot's real path.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.articles import ArticleBuilder
from bot.config import Config, parse_config
from bot.decide import candidates
from bot.fetch import Fetcher, FetchError
from bot.parse import ParseError, parse_feed
from bot.render import DESCRIPTION_MAX, EMBED_TOTAL_MAX, TITLE_MAX, embed_length, render
from bot.workers import Workers
from tests.conftest import NO_DNS
from tests.corpus import Case, cases, corpus_dir, differences

ALLOWED: dict[str, str] = tomllib.loads((Path(__file__).parent / "corpus_allowlist.toml").read_text())["allowed"]
_LIVE_MENTION = re.compile(r"@(everyone|here)|<@[!&]?\d+>|<#\d+>")


@pytest.fixture(scope="module")
def corpus() -> list[Case]:
    try:
        root = corpus_dir()
    except (subprocess.SubprocessError, OSError) as exc:
        if os.environ.get("CI"):
            raise  # never skipped where it counts
        pytest.skip(f"feedparser's sdist could not be downloaded: {exc}")
    return list(cases(root))


def test_the_allow_list_is_small_and_every_entry_is_justified() -> None:
    assert len(ALLOWED) < 30
    assert all(len(reason) > 40 for reason in ALLOWED.values())


def test_the_corpus_is_the_whole_suite(corpus: list[Case]) -> None:
    assert len(corpus) > 2000  # a broken download or extraction must not pass as "no differences"


@pytest.fixture
async def served(corpus: list[Case]) -> AsyncIterator[str]:
    """Every file that names headers, served with them (``Status:`` and ``Location:`` included)."""
    by_path = {"/tests/" + c.name: c for c in corpus if c.headers}

    async def handler(request: web.Request) -> web.StreamResponse:
        case = by_path.get(request.path)
        if case is None:
            return web.Response(status=404)
        headers = {k: v for k, v in case.headers.items() if k not in ("status", "content-encoding")}
        if "location" in headers:
            headers["location"] = re.sub(r"^http://[^/]+", f"http://{request.host}", headers["location"])
        return web.Response(status=int(case.headers.get("status", "200")), body=case.body, headers=headers)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


def _config(**sections: object) -> Config:
    return parse_config({"network": {"allowed_networks": ["127.0.0.0/8"]}, **sections})


async def test_newsbot_reads_every_file_as_feedparser_does(corpus: list[Case], served: str) -> None:
    config = _config()
    found: dict[str, list[str]] = {}
    async with Fetcher.open(config, resolver=NO_DNS) as fetcher:
        for case in corpus:
            body, content_type = case.body, case.headers.get("content-type", "")
            if case.headers:
                try:
                    result = await fetcher.get(f"{served}/tests/{case.name}")
                except FetchError:
                    continue  # a 404 or a redirect loop the file exists to test: nothing to read
                if result.not_modified:
                    continue
                body, content_type = result.body, result.content_type
            lines = differences(case, body, content_type)
            if lines:
                found[case.name] = lines
    unexpected = {name: lines for name, lines in found.items() if name not in ALLOWED}
    assert not unexpected, "\n".join(f"{n}: {'; '.join(v)}" for n, v in sorted(unexpected.items()))
    stale = sorted(set(ALLOWED) - set(found))
    assert not stale, f"allowed differences that no longer occur (remove them): {stale}"


async def test_every_post_from_the_corpus_is_within_discords_limits_and_pings_nobody(corpus: list[Case]) -> None:
    config = _config(articles={"fetch_pages": False})
    builder = ArticleBuilder(None, config.articles, Workers(0))
    posts = 0
    for case in corpus:
        try:
            feed = parse_feed(case.body, case.url, case.headers.get("content-type", ""))
        except ParseError:
            continue
        for cand in candidates(feed, 1):
            article = await builder.build(1, feed.title, cand.to_post((1,)))
            post = render(article)
            posts += 1
            assert len(post.title) <= TITLE_MAX and len(post.description) <= DESCRIPTION_MAX, case.name
            assert embed_length(post) <= EMBED_TOTAL_MAX, case.name
            for text in (post.title, post.description, post.footer, post.author or ""):
                assert not _LIVE_MENTION.search(text), (case.name, text)
    assert posts > 900  # (946 at feedparser 6.0.12)
