"""Extraction and summaries on pages written for the project, and the page-fetch rules in the pipeline."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot.articles import PAGE_TTL
from bot.cleantext import clean_text
from bot.config import Config
from bot.demo import build_site, serve
from bot.extract import extract
from bot.htmltext import html_to_text
from bot.models import Post
from bot.runtime import open_services
from bot.summarize import split_sentences, summarize
from tests.conftest import NO_DNS, FakeClock, RecordingSink, Site, follow, poll_and_deliver, rss

JUNK = (
    "Quick Links",
    "Fetching more content",
    "More from",
    "Edited by",
    "Share on",
    "Sign up",
    "cookies",
    "Trending",
    "All rights reserved",
    "Photo: Gazette staff",
    "Tide tables",
)


async def demo_page(slug: str) -> tuple[bytes, str]:
    import aiohttp

    async with (
        serve(build_site(datetime(2026, 11, 25, 12, tzinfo=UTC))) as base,
        aiohttp.ClientSession() as s,
        s.get(f"{base}/news/{slug}") as resp,
    ):
        return await resp.read(), f"https://gazette.test/news/{slug}"


async def test_extraction_drops_heavy_boilerplate_and_reads_metadata() -> None:
    html, url = await demo_page("ferry-electric")
    page = extract(html, url)
    assert page is not None
    assert page.text.startswith("The Gull, Harbor Town's first battery-powered ferry")
    assert "A second electric ferry is planned for 2028" in page.text
    for junk in JUNK:
        assert junk not in page.text, junk
    assert page.title == "Harbor Town's first electric ferry enters service after two-year delay"
    assert page.author == "Ines Okafor" and page.site_name == "Harbor Town Gazette" and page.language == "en"
    assert page.published == datetime(2026, 11, 25, 10, tzinfo=UTC)  # full timestamp, not just the day
    assert page.image == "https://gazette.test/images/ferry-electric.jpg"  # og:image resolved against the page


async def test_extraction_and_summary_of_german_article() -> None:
    html, url = await demo_page("sturmsaison")
    page = extract(html, url)
    assert page is not None and page.language == "de"
    summary = summarize(page.text)
    assert summary.startswith("Der regionale Wetterdienst rechnet")
    assert len(summary) <= 500 and "Edited by" not in summary


@pytest.mark.parametrize(
    ("line", "cleaned"),
    [
        ("Hong Kong (CNN Business)A muddled view", "Hong Kong (CNN Business) A muddled view"),
        ("(CNN)President Donald Trump said", "(CNN) President Donald Trump said"),
        (
            "he worked as a chief physician.Police arrested a man",
            "he worked as a chief physician. Police arrested a man",
        ),
        ("Was it?No one knew.Then it rained", "Was it? No one knew. Then it rained"),
        ("St.Louis and U.S.Army and Ph.D.", "St.Louis and U.S.Army and Ph.D."),  # abbreviations and initials
        ("sites such as booking.com and f(x)", "sites such as booking.com and f(x)"),
        ("The 3.5GHz chip (2026)", "The 3.5GHz chip (2026)"),
        ("흔한 일이다.현재 방송 중이다", "흔한 일이다. 현재 방송 중이다"),
        ("сказал министр.Полиция задержала", "сказал министр. Полиция задержала"),
        ("т.е.Москва и 3.5.Итог", "т.е.Москва и 3.5.Итог"),
    ],
)
def test_a_space_lost_between_two_elements_is_put_back(line: str, cleaned: str) -> None:
    assert clean_text(line) == cleaned


@pytest.mark.parametrize(
    ("line", "headline"),
    [
        ("High School Roundup: Viera defeats Rockledge to remain undefeated", True),
        ("HS Roundup: Viera defeats Rockledge to remain undefeated", True),
        ("hs roundup: viera defeats rockledge to remain undefeated", True),
        # A lede that restates the headline as a sentence is the article.
        ("Viera defeated Rockledge on Tuesday to remain undefeated this season.", False),
        ("Viera defeats Rockledge to remain undefeated, coach says", True),  # a headline, attributed
        ("Viera coach praises her defense after the Rockledge game", False),  # other words
        ("Viera defeats Rockledge", False),  # too short to tell
        ("Roundup", False),
    ],
)
def test_the_headline_repeated_in_other_words_is_dropped(line: str, headline: bool) -> None:
    text = f"{line}\nThe council met on Tuesday to vote on the budget for next year."
    cleaned = clean_text(text, "HS Roundup: Viera defeats Rockledge to remain undefeated")
    assert cleaned == (text.split("\n")[1] if headline else text)


@pytest.mark.parametrize(
    ("line", "furniture"),
    [
        ("Like this story? Share it with a friend!", True),
        ("Tell us what YOU think...", True),
        ("Write to Al Root at allen.root@dowjones.com", True),
        ("An error has occurred, please try again later.", True),
        ("This article has been sent to", True),
        ("Copyright ©2019 Dow Jones & Company, Inc. All Rights Reserved", True),
        ("https://www.example.com/articles/some-story-123", True),
        ("[button link=”http://example.com/submit/” type=”big”] Send us YOUR review[/button]", True),
        ("Updated at 1:23 p.m.", True),
        ("Published: 19 November 2019", True),
        ("Related: The 15 Weirdest Galaxies in Our Universe", True),
        ("If you enjoyed this article, we have a proposition for you: join our members.", True),
        ("Associated Press writers Alan Fram and Zeke Miller contributed to this report.", True),
        ("Listen: http://po.st/TP_615", True),
        ("Listen to this article · 4:32 min", True),
        ("5 min read", True),
        # Article sentences that share words with those lines stay.
        ("Police said they would contact the family at the hospital on Monday.", False),
        ("Readers who like this story's ending will be pleased: the sequel is due in 2027.", False),
        ("The company posted record profits in the third quarter, up 20% from a year earlier.", False),
        ("An error in the software caused the outage, the operator said on Tuesday evening.", False),
        ("Details are at https://example.com/report and in the council's minutes.", False),
        ("The band said the rights to the album were reserved for its label until 2030.", False),
        ("If you enjoyed the first film, the sequel will not disappoint, critics said on Friday.", False),
        ("Three reporters contributed to the investigation, which took a year to complete.", False),
        ("Listen to the article's last line: the mayor never said she would resign.", False),
    ],
)
def test_furniture_lines_go_and_article_lines_stay(line: str, furniture: bool) -> None:
    text = f"The council met on Tuesday to vote on the budget for next year.\n{line}"
    assert clean_text(text) == (text.split("\n")[0] if furniture else text)


def test_first_content_image_when_page_names_none() -> None:
    html = (
        """<html><body><article><h1>T</h1><img src="/logo.png"><img src="data:image/png;base64,xx">
      <img src="pics/main.jpg" width="600"><p>"""
        + "Real article text goes here. " * 20
    )
    html += "</p></article></body></html>"
    page = extract(html, "https://site.test/a/b.html")
    assert page is not None and page.image == "https://site.test/a/pics/main.jpg"


def test_no_article_text_gives_none() -> None:
    assert extract("<html><body><nav><a href='/'>Home</a></nav></body></html>", "https://s.test/") is None
    assert extract(b"", "https://s.test/") is None


_PARA = (
    "The harbour council voted on Tuesday to rebuild the old ferry pier after a winter of storms damaged its "
    "pilings beyond repair. "
)
# Article paragraphs in bare <div>s: trafilatura's precision extractor alone finds nothing, its fallbacks find all.
_DIV_ARTICLE = (
    "<html><body><div class='nav'><a href='/'>Home</a></div>"
    + "".join(f"<div>{_PARA * 2}</div>" for _ in range(4))
    + "</body></html>"
)


def test_precision_asks_trafilatura_fallbacks_when_its_own_result_is_doubtful() -> None:
    import trafilatura

    def own(fast: bool) -> str:
        result = trafilatura.bare_extraction(
            _DIV_ARTICLE, url="https://s.test/a", include_comments=False, fast=fast, favor_precision=True
        )
        assert not isinstance(result, dict)
        return (result.text or "") if result is not None else ""

    assert own(fast=True) == "" and _PARA.strip() in own(fast=False)  # the case the cascade exists for
    page = extract(_DIV_ARTICLE, "https://s.test/a", mode="precision")
    assert page is not None and page.text.count(_PARA.strip()) == 8


_STORY = (
    "The harbour council voted on Tuesday to rebuild the old ferry pier after a winter of storms damaged its pilings.",
    "Work will start in March, and the crews expect to finish before the summer season brings the tourist boats back.",
    "The mayor said the budget had been set aside years ago, when the first cracks appeared in the concrete.",
    "Residents who spoke at the session asked for a covered waiting area and better lighting on the approach road.",
    "A temporary landing will serve the island ferry while the work goes on, at the cost of a longer walk.",
)
_NOTICE = "This copy is for your personal, non-commercial use only. To order copies, use the reprints page."
# The article's container is one precision's rules prune (class "link"), and it is hidden from readability too
# (aria-hidden): precision and its fallbacks keep only the reprint notice; balanced mode reads the article.
_PRUNED_ARTICLE = (
    f"<html><body><article><p>{_NOTICE}</p><div class='link'><div aria-hidden='true'>"
    + "".join(f"<p>{line}</p>" for line in _STORY)
    + "</div></div></article></body></html>"
)


def test_precision_that_lost_the_article_gives_way_to_balanced() -> None:
    import trafilatura

    result = trafilatura.bare_extraction(_PRUNED_ARTICLE, include_comments=False, fast=False, favor_precision=True)
    assert (
        result is not None and not isinstance(result, dict) and (result.text or "").strip() == _NOTICE
    )  # what precision alone would post
    page = extract(_PRUNED_ARTICLE, "https://s.test/a", mode="precision")
    assert page is not None and all(line in page.text for line in _STORY)
    assert summarize(page.text).startswith("The harbour council voted")  # the notice is furniture


# A whole article inside one <form> (ASP.NET WebForms pages), beside a search form: the elements lxml.html gives
# its own form classes, and the layout trafilatura's form rule exists for.
_FORM_PAGE = (
    "<html><body><form id='aspnetForm' action='/'><div class='story'>"
    + "".join(f"<p>{line}</p>" for line in _STORY)
    + "<label for='q'>Search</label><input id='q' name='q'><select name='s'><option>All</option></select>"
    + "<textarea name='c'>Your comment</textarea></div></form>"
    + "<form action='/search'><input name='q'><button>Go</button></form></body></html>"
)


async def test_fast_element_lookup_reads_pages_exactly_as_lxml_html_does() -> None:
    import lxml.html

    from bot.extract import _loader, _text

    stock = lxml.html.HTMLParser(
        collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
    )
    pages = [(_FORM_PAGE, "https://s.test/a"), (_PRUNED_ARTICLE, "https://s.test/b")]
    pages += [(html.decode(), url) for html, url in [await demo_page("ferry-electric")]]
    for html, url in pages:
        fast_doc = _loader()(html)
        assert type(fast_doc.find(".//form")) is lxml.html.HtmlElement or fast_doc.find(".//form") is None
        stock_doc = lxml.html.fromstring(html, parser=stock)
        for mode in ("precision", "balanced"):
            fast, slow = _text(fast_doc, url, mode), _text(stock_doc, url, mode)
            assert fast.text == slow.text and fast.text
    page = extract(_FORM_PAGE, "https://s.test/a")
    assert page is not None and all(line in page.text for line in _STORY)


async def test_page_metadata_is_trafilaturas_for_the_fields_a_post_shows() -> None:
    """`page_metadata` repeats trafilatura's own metadata steps, less categories, tags and licence."""
    from trafilatura.metadata import extract_metadata
    from trafilatura.utils import load_html

    from bot.extract import page_metadata

    pages: list[tuple[bytes | str, str]] = [await demo_page(slug) for slug in ("ferry-electric", "sturmsaison")]
    pages += [
        (
            "<html><head><title>Pier rebuilt | The Coast Courier</title></head><body><article><h1>Pier rebuilt</h1>"
            f"<p class='byline'>By <span class='author'>Mara Lind</span></p><p>{_PARA * 3}</p></article></body></html>",
            "https://courier.test/pier",
        ),
        (
            '<html><head><script type="application/ld+json">{"@type": "NewsArticle", "headline": "Tides",'
            ' "author": {"@type": "Person", "name": "Jon Ek"}, "datePublished": "2026-03-02"}</script></head>'
            f"<body><p>{_PARA * 3}</p></body></html>",
            "https://www.tides.test/x",
        ),
    ]
    for html, url in pages:
        theirs = extract_metadata(load_html(html), url)
        ours = page_metadata(load_html(html), url)
        assert (ours.title, ours.author, ours.sitename, ours.date) == (
            theirs.title,
            theirs.author,
            theirs.sitename,
            theirs.date,
        ), url
    assert page_metadata(load_html(pages[2][0]), pages[2][1]).author == "Mara Lind"


TEXT = (
    "The city council approved the new harbour budget on Tuesday after a long debate. "
    "The plan adds two ferries and repairs the old pier. "
    'Mayor Ana Ruiz said: "This is a good day. We waited ten years." '
    "Critics said the cost was too high for a town of this size. "
    "Work starts in March and should end before the summer season.\n"
    "Sign up for our newsletter to get the latest news.\n"
    "The council meets again next week."
)


def test_summary_is_two_or_three_whole_sentences_of_the_article() -> None:
    summary = summarize(TEXT)
    sentences = split_sentences(summary)
    assert 2 <= len(sentences) <= 3 and len(summary) <= 500
    for s in sentences:
        assert s.text in TEXT  # extractive: nothing invented
    assert summary.startswith("The city council approved")
    assert "newsletter" not in summary


_QUOTED_LEAD = (
    "The harbour council approved a budget of 4.5 million for the old ferry pier on Tuesday evening.",
    "“We have waited ten years for this day, and the town deserves every plank of it,” one resident said.",
    "Work on the pier will start in March and should be finished before the summer tourist season opens.",
    "The budget also pays for a covered waiting area, new lighting on the approach road and two ramps for the buses.",
)


@pytest.mark.parametrize(
    ("lead", "weight", "chosen"),
    [
        (_QUOTED_LEAD, 0.5, (0, 2, 3)),  # the quotation says least on its own: the fourth fact replaces it
        (_QUOTED_LEAD, 1.0, (0, 1, 2)),  # without the weight, position alone decides
        (
            (
                _QUOTED_LEAD[0],
                "„Wir haben zehn Jahre auf diesen Tag gewartet, und die Stadt verdient jede Planke“, sagte eine Frau.",
                *_QUOTED_LEAD[2:],
            ),
            0.5,
            (0, 2, 3),
        ),
        ((_QUOTED_LEAD[1], _QUOTED_LEAD[1].replace("day", "week")), 0.5, (0,)),  # all quotes: still a summary
    ],
)
def test_a_sentence_opening_with_a_quotation_weighs_half(
    lead: tuple[str, ...], weight: float, chosen: tuple[int, ...]
) -> None:
    summary = summarize(" ".join(lead), quote_weight=weight)
    assert summary == " ".join(lead[i] for i in chosen)


def test_quotes_are_never_split_and_budget_is_respected() -> None:
    sentences = [s.text for s in split_sentences(TEXT)]
    assert 'Mayor Ana Ruiz said: "This is a good day. We waited ten years."' in sentences
    assert len(summarize(TEXT, max_chars=120)) <= 120


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "Dr. Ruiz met Mr. Li at 9 a.m. on Monday. They spoke.",
            ["Dr. Ruiz met Mr. Li at 9 a.m. on Monday.", "They spoke."],
        ),
        ("The U.S. Senate voted. It passed.", ["The U.S. Senate voted.", "It passed."]),
        (
            "The VW ID. SPACE VIZZION is a wagon. It is electric.",
            ["The VW ID. SPACE VIZZION is a wagon.", "It is electric."],  # a name in capitals with a stop in it
        ),
        ("It was run by the FBI. The agency declined.", ["It was run by the FBI.", "The agency declined."]),
        ("Prices rose 3.5 per cent. Shares fell.", ["Prices rose 3.5 per cent.", "Shares fell."]),
    ],
)
def test_sentence_boundaries(text: str, sentences: list[str]) -> None:
    assert [s.text for s in split_sentences(text)] == sentences


def test_near_duplicate_sentences_are_not_repeated() -> None:
    text = (
        "Storm Ida closed the port on Monday morning. Storm Ida closed the port on Monday morning, officials said. "
        "Ferries will resume on Wednesday if winds drop. Schools stay open."
    )
    summary = summarize(text)
    assert summary.count("closed the port") == 1


def test_cjk_sentences_split_and_summarize() -> None:
    text = (
        "東京都は二十五日、新しい防災計画を発表した。計画では、湾岸地域に避難所を十か所増やす。"
        "知事は「住民の安全が最優先だ。」と述べた。工事は来年春に始まる予定だ。"
    )
    sentences = [s.text for s in split_sentences(text)]
    assert sentences[0] == "東京都は二十五日、新しい防災計画を発表した。"
    assert "知事は「住民の安全が最優先だ。」と述べた。" in sentences
    summary = summarize(text)
    assert summary.startswith("東京都は") and " " not in summary and len(summary) <= 500


@pytest.mark.parametrize(
    ("tail", "expected_tail"),
    [
        ("The post Council approves new bridge appeared first on Harbor Town Gazette.", ""),
        ("Continue reading Council approves new bridge at Harbor Town Gazette.", ""),
        ("Continue reading →", ""),
        ("The post Council approves new bridge first appeared on Harbor Town Gazette.", ""),
        ("Originally published at harbortown.example on May 5, 2026.", ""),
        ("This article was originally published on The Conversation. Read the original article.", ""),
        ("The bridge, first published in the council's 1998 plan, will be 300 metres long.", "keep"),
        ("Cracks in the old bridge first appeared on Monday, engineers said after the inspection.", "keep"),
        ("Work on the bridge starts in spring [...]", "Work on the bridge starts in spring…"),
        ("Work on the bridge starts in spring […]", "Work on the bridge starts in spring…"),
    ],
)
def test_what_feeds_append_to_an_excerpt_is_not_summary(tail: str, expected_tail: str) -> None:
    lead = "The council voted on Tuesday to build a new bridge over the river by 2028."
    summary = summarize(f"{lead}\n{tail}")
    assert summary == {"": lead, "keep": f"{lead} {tail}"}.get(expected_tail, f"{lead} {expected_tail}")


def test_a_reddit_link_post_has_no_summary_and_a_self_post_keeps_its_text() -> None:
    footer = (
        '&#32; submitted by &#32; <a href="https://www.reddit.com/user/someone"> /u/someone </a> <br/> '
        '<span><a href="https://example.test/a">[link]</a></span> &#32; '
        '<span><a href="https://www.reddit.com/r/x/comments/1/">[comments]</a></span>'
    )
    assert summarize(html_to_text(footer)) == ""
    assert summarize(html_to_text('<a href="https://news.ycombinator.com/item?id=1">Comments</a>')) == ""
    assert summarize("Storm warning tonight") == "Storm warning tonight"  # a short teaser is still its own summary
    text = "The city council approved the new bridge plan on Tuesday after a long debate about costs."
    assert summarize(html_to_text(f'<div class="md"><p>{text}</p></div>{footer}')) == text


def test_list_markers_are_not_part_of_a_summary() -> None:
    text = (
        "- Retiring early takes time and incredible discipline from the saver.\n"
        "• If you plan to retire early, aim to save 25 to 30 times your annual expenses.\n"
        "— Ich gehe jetzt nach Hause und komme morgen wieder zurück, sagte sie."
    )
    assert summarize(text) == (
        "Retiring early takes time and incredible discipline from the saver. If you plan to retire early, aim to "
        "save 25 to 30 times your annual expenses. — Ich gehe jetzt nach Hause und komme morgen wieder zurück, "
        "sagte sie."
    )


def test_a_line_of_labelled_values_is_not_a_summary_sentence() -> None:
    text = (
        "Tested by: John Milbank RRP: £23.99 More info: www.clymer.co.uk\n"
        "I have worked on my own vehicles since I was 17, but this is my first time with a Clymer manual.\n"
        "Price: the manual costs £23.99 and covers every model from 2010 to 2019.\n"
    )
    summary = summarize(text)
    assert summary.startswith("I have worked") and "Tested by" not in summary
    assert "Price: the manual costs" in summary  # one label, and a sentence: prose


def test_a_line_that_announces_what_follows_is_not_a_summary_sentence() -> None:
    """The embedded post or list after it is not in the text: alone, the line ends on nothing."""
    text = (
        "The ambassador testified before the committee on Friday for more than six hours.\n"
        "Shortly after, some of her critics took to social media with a claim about her savings:\n"
        "The claim was false, and the committee's chair said so the same evening.\n"
    )
    summary = summarize(text)
    assert "social media" not in summary and summary.endswith("the same evening.")


def test_korean_sentences_keep_the_space_between_them() -> None:
    text = (
        "서울시는 25일 새 방재 계획을 발표했다. 계획에 따르면 해안 지역에 대피소 열 곳이 늘어난다. "
        "시장은 주민의 안전이 최우선이라고 말했다. 공사는 내년 봄에 시작될 예정이다."
    )
    summary = summarize(text)
    assert summary.startswith("서울시는 25일 새 방재 계획을 발표했다. 계획에") and len(summary) <= 500


def test_single_overlong_sentence_is_clipped_at_a_word() -> None:
    text = "This sentence keeps going " + "and going " * 80 + "until it ends."
    summary = summarize(text, max_chars=200)
    assert len(summary) <= 200 and summary.endswith("…")


async def test_page_is_fetched_once_and_failures_fall_back_to_feed_text(site: Site, services) -> None:
    body = "<p>" + " ".join(f"Sentence number {i} of the real article body is here." for i in range(20)) + "</p>"
    site.set("/story", f"<html><head><title>S</title></head><body><article>{body}</article></body></html>", "text/html")
    shared = {"title": "Shared story", "link": site.url("/story"), "description": "Teaser only."}
    site.set("/a", rss([{**shared, "guid": "a"}]))
    site.set("/b", rss([{**shared, "guid": "b"}]))
    site.set(
        "/c",
        rss(
            [
                {
                    "title": "Broken page",
                    "link": site.url("/nope"),
                    "guid": "c",
                    "description": "The feed's own text is used.",
                }
            ]
        ),
    )
    await follow(services, site.url("/a"), channel=1)
    await follow(services, site.url("/b"), channel=2)
    await follow(services, site.url("/c"), channel=3)
    sink = RecordingSink()
    await poll_and_deliver(services, sink)
    assert site.hits["/story"] == 1
    by_channel = {c: p for c, p in sink.posts}
    assert by_channel[1].description.startswith("Sentence number 0 of the real article body is here.")
    assert by_channel[3].description == "The feed's own text is used."


async def test_a_feed_text_that_opens_with_its_title_does_not_repeat_it(site: Site, services) -> None:
    text = "The council voted on Tuesday to build a new bridge over the river by 2028."
    item = {
        "title": "Council approves a new bridge over the river after ten years of debate",
        "link": site.url("/nope"),  # no page: the feed's own text is the summary
        "description": (
            "&lt;b&gt;Council approves a new bridge over the river after ten years of debate&lt;/b&gt;&lt;br&gt;"
            f"{text}&lt;p&gt;Read more&lt;/p&gt;"
        ),
    }
    site.set("/feed", rss([item]))
    await follow(services, site.url("/feed"), channel=1)
    sink = RecordingSink()
    await poll_and_deliver(services, sink)
    ((_, post),) = sink.posts
    assert post.title.startswith("Council approves") and post.description == text


async def test_an_aggregators_list_of_other_headlines_is_not_a_summary(site: Site, services) -> None:
    """Google News: the link leads to a script page with no article, the description lists other outlets'
    headlines. The post has its title and link, and no run-on sentence of other stories."""
    from tests.test_htmltext import _GOOGLE_NEWS

    site.set("/redirect", "<html><body><script>location='https://x.test/'</script></body></html>", "text/html")
    item = {
        "title": "Fed holds interest rates steady as inflation cools - Reuters",
        "link": site.url("/redirect"),
        "description": _GOOGLE_NEWS.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
    }
    site.set("/feed", rss([item]))
    await follow(services, site.url("/feed"), channel=1)
    sink = RecordingSink()
    await poll_and_deliver(services, sink)
    ((_, post),) = sink.posts
    assert post.title.startswith("Fed holds") and not post.description, post.description


def test_fields_the_caller_has_are_not_read_from_the_page() -> None:
    html = (
        "<html><head><title>Pier rebuilt | The Coast Courier</title><meta property='og:title' content='Pier rebuilt'>"
        "<meta name='author' content='Mara Lind'></head><body><article><h1>Pier rebuilt</h1>"
        f"<p>{_PARA * 3}</p></article></body></html>"
    )
    full = extract(html, "https://courier.test/pier")
    assert full is not None and full.author == "Mara Lind" and full.site_name == "courier.test"
    lean = extract(html, "https://courier.test/pier", known=frozenset({"title", "author", "published", "site_name"}))
    assert lean is not None and lean.text == full.text  # same article, without the metadata pass
    assert (lean.title, lean.author, lean.site_name) == ("Pier rebuilt", None, None)  # og:title is free
    no_author = extract(html, "https://courier.test/pier", known=frozenset({"title", "published", "site_name"}))
    assert no_author is not None and no_author.author == "Mara Lind"


def _story_by_mara_lind(site: Site) -> dict[str, str]:
    """Serves an article page whose markup names its author, Mara Lind; returns a feed entry that links to it."""
    body = "".join(f"<p>Sentence number {i} of the real article body is here.</p>" for i in range(12))
    site.set(
        "/story",
        "<html><head><title>S</title><meta name='author' content='Mara Lind'></head>"
        f"<body><article>{body}</article></body></html>",
        "text/html",
    )
    return {"title": "Shared story", "link": site.url("/story"), "description": "Teaser only."}


async def test_a_link_in_two_feeds_gets_the_page_author_where_its_feed_has_none(site: Site, services) -> None:
    shared = _story_by_mara_lind(site)
    credited = {
        **shared,
        "guid": "a",
        "author": "desk@paper.test (Ed Vale)",
        "pubDate": "Mon, 30 Nov 2026 10:00:00 GMT",
    }
    site.set("/a", rss([credited]))
    site.set("/b", rss([{**shared, "guid": "b"}]))
    await follow(services, site.url("/a"), channel=1)
    await follow(services, site.url("/b"), channel=2)
    sink = RecordingSink()
    await poll_and_deliver(services, sink)
    by_channel = {c: p for c, p in sink.posts}
    assert by_channel[1].author == "desk@paper.test (Ed Vale)"
    assert by_channel[2].author == "Mara Lind"  # read from the page for the feed that lacked it
    assert 1 <= site.hits["/story"] <= 2  # fetched again only if the feed with everything was read first


async def test_a_page_extracted_before_a_restart_or_by_another_process_is_not_fetched_again(
    site: Site, make_config: Callable[..., Config], clock: FakeClock
) -> None:
    shared = _story_by_mara_lind(site)
    dated = {"pubDate": "Mon, 30 Nov 2026 10:00:00 GMT"}
    site.set("/a", rss([{**shared, **dated, "guid": "a", "author": "desk@paper.test (Ed Vale)"}]))
    site.set("/b", rss([{**shared, **dated, "guid": "b", "author": "news@wire.test (Ann Bo)"}]))
    site.set("/c", rss([{**shared, **dated, "guid": "c"}]))  # no author: what the first extraction skipped
    config = make_config(polling={"max_age_days": 36500})

    async def posts_of(feed: str, channel: int) -> list[Post]:
        async with open_services(config, clock=clock, resolver=NO_DNS) as process:  # a new process each time
            await follow(process, site.url(feed), channel=channel)
            sink = RecordingSink()
            await poll_and_deliver(process, sink)
            return [post for _, post in sink.posts]

    assert [p.author for p in await posts_of("/a", 1)] == ["desk@paper.test (Ed Vale)"]
    assert site.hits["/story"] == 1
    [post] = await posts_of("/b", 2)
    assert site.hits["/story"] == 1, "the page was fetched again, though the first process had shared it"
    assert post.author == "news@wire.test (Ann Bo)" and post.description.startswith("Sentence number 0 of the real")
    [post] = await posts_of("/c", 3)
    assert site.hits["/story"] == 2 and post.author == "Mara Lind"  # it needed the author: read again
    clock.advance(PAGE_TTL + 1)
    site.set("/d", rss([{**shared, **dated, "guid": "d"}]))
    await posts_of("/d", 4)
    assert site.hits["/story"] == 3  # a day later the page is read afresh


async def test_an_item_without_title_or_link_is_titled_with_its_own_first_sentence() -> None:
    from bot.articles import ArticleBuilder
    from bot.config import parse_config
    from bot.decide import NewArticle
    from bot.models import Entry
    from bot.render import render
    from bot.workers import Workers

    builder = ArticleBuilder(None, parse_config({}).articles, Workers(0))
    text = "Ferry service resumes at noon after the storm. Expect delays on the north pier."
    entry = Entry(None, None, "", f"<p>{text}</p>", None, None, None)
    article = await builder.build(1, "Harbor Desk", NewArticle(entry, "k", "s", text, (1,)))
    post = render(article)
    assert post.title == "Ferry service resumes at noon after the storm."
    assert post.url is None and "Expect delays" in post.description and post.footer == "Harbor Desk"
    empty = await builder.build(
        1, "Harbor Desk", NewArticle(Entry(None, None, "", "", None, None, None), "k2", "s2", "", (1,))
    )
    assert empty.title == "Harbor Desk"  # nothing to say: the feed's name, never "Untitled"


async def test_a_sites_default_card_is_dropped_once_three_of_its_pages_carry_it(
    site: Site, services, clock: FakeClock
) -> None:
    """A card with a plain name ("share.png") that the URL test cannot catch: the third page carrying it shows that
    it is the site's, not the story's. A page with its own photo keeps it."""
    body = "<p>" + "The harbour council voted on Tuesday to rebuild the old ferry pier after the storms. " * 6 + "</p>"
    for n, image in ((1, "/img/share.png"), (2, "/img/share.png"), (3, "/img/share.png"), (4, "/photos/4.jpg")):
        site.set(
            f"/story/{n}",
            f'<html><head><title>Story {n}</title><meta property="og:image" content="{image}"></head>'
            f"<body><article><h1>Story {n}</h1>{body}</article></body></html>",
            "text/html",
        )
    feed: list[dict[str, str]] = []
    site.set("/feed", rss(feed))
    await follow(services, site.url("/feed"), channel=1)
    sink = RecordingSink()
    for n in (1, 2, 3, 4):  # one new story a round, so each page is stored before the next one is judged
        feed.insert(0, {"title": f"Story {n}", "link": site.url(f"/story/{n}"), "guid": f"s{n}"})
        site.set("/feed", rss(feed))
        clock.advance(3600)
        await poll_and_deliver(services, sink)
    assert [(post.title, post.image) for _, post in sink.posts] == [
        ("Story 1", site.url("/img/share.png")),
        ("Story 2", site.url("/img/share.png")),  # two pages may share a picture
        ("Story 3", None),
        ("Story 4", site.url("/photos/4.jpg")),
    ]
