"""An article's declared language: the tag rules, the feed's own declaration on every parser path, the page's."""

from __future__ import annotations

import json

import pytest

from bot.extract import extract
from bot.language import already_in, feed_language, primary
from bot.parse import parse_feed, read_fast, read_tolerant
from bot.translate import Translations
from tests.conftest import rss


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en", "en"),
        ("en-US", "en"),
        ("en_GB", "en"),  # og:locale writes it this way
        ("EN", "en"),
        (" fr ", "fr"),
        ("de-DE-1996", "de"),
        ("de, en", "de"),  # Content-Language may list several: the first is the page's own
        ("pt-BR", "pt"),
        ("fil", "fil"),
        ("zh", "zh"),
        ("zh-Hant", "zh-hant"),
        ("zh-TW", "zh-hant"),
        ("zh-HK", "zh-hant"),
        ("zh-CN", "zh-hans"),
        ("zh-Hans-CN", "zh-hans"),
        ("english", ""),  # a name, not a tag
        ("x", ""),
        ("12", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_primary_language_of_a_declared_tag(tag: str | None, expected: str) -> None:
    assert primary(tag) == expected


@pytest.mark.parametrize(
    ("article", "wanted", "same"),
    [
        ("de", "de", True),
        ("pt", "pt-BR", True),  # regional variants read alike
        ("en", "en-GB", True),
        ("en", "de", False),
        ("", "de", False),  # undeclared: translated, as before
        ("de", "", False),
        ("zh-hant", "zh-TW", True),
        ("zh-hans", "zh-Hant", False),  # another script is another text
        ("zh", "zh-Hant", False),  # plain zh could be either
        ("zh", "zh", False),
    ],
)
def test_an_article_already_in_the_wanted_language(article: str, wanted: str, same: bool) -> None:
    assert already_in(article, wanted) is same


ITEM = {"title": "Busse", "link": "http://example.test/1", "description": "Der Stadtrat kauft Busse."}
ATOM = (
    '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr-CA">'
    '<title>Nouvelles</title><id>urn:x</id><link href="http://example.test/"/>'
    '<entry><title>Un</title><id>urn:1</id><link href="http://example.test/1"/><summary>Texte.</summary></entry>'
    "</feed>"
)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (rss([ITEM], language="de-DE"), "de"),
        (rss([ITEM]).replace("<channel>", "<channel><dc:language>nl</dc:language>"), "nl"),
        (ATOM, "fr"),
        (rss([ITEM]), ""),
        (rss([ITEM], language="Deutsch"), ""),
    ],
)
def test_the_feed_declares_its_language_the_same_on_both_parser_paths(document: str, expected: str) -> None:
    body = document.encode()
    assert feed_language(body) == expected
    fast = read_fast(body, "http://example.test/feed", "application/xml", 50)
    assert fast is not None and fast.language == expected
    assert read_tolerant(body, "http://example.test/feed", "application/xml", 50).language == expected


def test_an_item_does_not_speak_for_its_feed() -> None:
    assert feed_language(rss([{**ITEM, "dc:language": "es"}]).encode()) == ""
    assert feed_language(rss([{**ITEM, "dc:language": "es"}], language="de").encode()) == "de"


def test_a_json_feed_declares_its_language() -> None:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Noticias",
        "language": "es-MX",
        "items": [{"id": "1", "url": "http://example.test/1", "content_text": "Hola."}],
    }
    assert parse_feed(json.dumps(document).encode(), "http://example.test/feed.json").language == "es"
    del document["language"]
    assert parse_feed(json.dumps(document).encode(), "http://example.test/feed.json").language == ""


ARTICLE_HTML = (
    "<!doctype html><html{lang}><head><title>Busse</title>{meta}</head><body><article><h1>Busse</h1>"
    + "<p>Der Stadtrat hat am Dienstag beschlossen, dreißig neue Elektrobusse für die Stadt zu kaufen.</p>" * 6
    + "</article></body></html>"
)


@pytest.mark.parametrize(
    ("lang", "meta", "expected"),
    [
        (' lang="de-AT"', "", "de"),
        ("", '<meta http-equiv="Content-Language" content="de">', "de"),
        ("", '<meta property="og:locale" content="de_DE">', "de"),
        # <html lang> wins over the others (a site-wide og:locale is the least specific)
        (' lang="fr"', '<meta property="og:locale" content="de_DE">', "fr"),
        ("", "", None),
        (' lang="none"', "", None),
    ],
)
def test_the_page_declares_its_language(lang: str, meta: str, expected: str | None) -> None:
    page = extract(ARTICLE_HTML.format(lang=lang, meta=meta), "http://example.test/1")
    assert page is not None and page.language == expected


class _NoStore:
    async def translation(self, source: str, language: str) -> str | None:
        return None

    async def save_translation(self, source: str, language: str, text: str, now: float) -> None:
        return None


@pytest.mark.parametrize(
    ("operator", "asked", "language"),
    [
        ("de", "", "de"),  # nothing asked: the operator's
        ("de", "fr", "fr"),  # a server's or feed's own wins
        ("de", "none", ""),  # "none" at a Discord level: as written
        ("none", "", ""),  # the operator's "none" too
        ("", "", ""),
    ],
)
def test_which_language_a_summary_is_translated_into(operator: str, asked: str, language: str) -> None:
    translations = Translations(_NoStore(), None, operator, max_chars=500, clock=lambda: 0.0)
    assert translations.language_for(asked) == language and not translations.available
