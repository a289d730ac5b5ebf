"""`bot.xpathrules` gives exactly what lxml's XPath gives: tables of the subset's corners, then every trafilatura rule
it compiles against lxml on generated pages, then whole extractions with and without it."""

from __future__ import annotations

import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from trafilatura import xpaths

from bot import xpathrules
from bot.extract import _loader, extract
from bot.xpathcompile import Unsupported, compile_rule
from bot.xpathrules import FastRule, stock_rules

RE = {"re": "http://exslt.org/regular-expressions"}

PAGE = """<html lang="en"><body>
<div id="main" class="a">one<div class="comment-list" id="x">two<h1>t</h1></div></div>
<section class="share-bar" id="reply-3">s</section><span class="" id="hidden">h</span>
<!-- a comment --><p style="display: none" aria-hidden="true">p</p><list class="Teaser">l</list>
<div class="b"><div class="comment-list">nested</div></div><div id="c-1" class="post">first</div>
<a href="/me"><rel>me</rel></a><a><rel>m<!-- c --><b>e</b></rel></a><a><rel>me </rel><rel>me</rel></a><a>me</a>
</body></html>"""

CASES = [
    ".//*[self::div or self::section]",
    ".//div[@class='a']",
    ".//*[@id or @class][self::div][re:test(@id, 'x')]",
    ".//*[self::div or self::span][re:test(@id|@class, '^c')]",  # the first attribute in the element's order
    ".//*[self::section][re:test(@class|@id, '^reply')]",
    ".//*[self::div or self::section][starts-with(@id|@class, 'reply-') or starts-with(@class, 'comment')]",
    ".//*[self::span][re:test(@class, '^$')]",  # an empty attribute is there, and is ""
    ".//*[self::span or self::div][contains(@class, '')]",  # contains "" holds for a missing attribute too
    ".//*[self::list][contains(translate(@class, 'T', 't'), 'teaser')]",
    ".//*[self::list][re:test(@class, 'teaser', 'i')]",
    ".//*[self::div][not(.//h1)]",
    ".//*[self::div][re:test(@class, 'comment') or re:test(@class, 'post$') or contains(@class, 'zz')]",
    ".//*[self::div][re:test(@class, 'comment')][not(re:test(@id, 'x'))]",
    "(.//*[self::div][re:test(@class, 'comment')])[1]",
    ".//*[self::div or self::section][re:test(@class, 'comment|post|share')][1]",  # per parent, its first match
    "//*[self::div][re:test(@class, '^(?:a|b|comment-list|post)$')][1]",
    "//*[self::html or self::p][re:test(@lang|@style, 'en|none')]",  # absolute: the root element counts
    "//*[re:test(@aria-hidden, 'true') or @style='display: none']",
    "//*[re:test(@lang, 'en')]",  # every element: the root one too
    ".//*[self::div][re:test(@class, '(a)\\1') or re:test(@class, 'b')]",  # a backreference is not joined
    "//*[self::a or self::div][rel='me' or @id='x']",  # a child's text: its descendants' too, comments not
    ".//h1|.//p|.//h1",  # a union: document order, each element once
    "//span|//html",  # the root element too
    ".//div[re:test(@class, 'comment')]|.//*[self::section or self::div][@id]",
    ".//*[re:test(@class, 'post')]|.//span",  # one branch takes every element
    "//*[self::a][rel='me' or re:test(@class, 'x')]|//rel",  # AUTHOR_XPATHS[0]'s shape
]


@pytest.mark.parametrize("path", CASES)
def test_compiled_paths_select_what_lxml_selects(path: str) -> None:
    tree = lxml.html.fromstring(PAGE)
    expected = etree.XPath(path, namespaces=RE)(tree)
    assert compile_rule(path)(tree) == expected
    inner = tree.find(".//div")  # from an element inside the document, too
    assert compile_rule(path)(inner) == etree.XPath(path, namespaces=RE)(inner)


@pytest.mark.parametrize(
    "path",
    [
        ".//*[self::div][re:test(@class, 'a')][2]",  # a position other than the first
        ".//*[self::div][1][re:test(@class, 'a')]",  # a test after a position: it filters the firsts
        ".//a|//b",  # a union of paths from different places
        ".//a[1]|.//b",  # a union with a position
        ".//*[position() < 3]",
        ".//*[@class='a']",  # every element, plain attribute tests: libxml2 is as fast
        "./div",
        ".//*[self::div][re:test(@class, '(unclosed')]",  # a pattern Python's re cannot read
    ],
)
def test_what_the_subset_does_not_read_stays_with_lxml(path: str) -> None:
    with pytest.raises(Unsupported):
        compile_rule(path)


def test_the_costly_rules_of_the_locked_trafilatura_are_compiled() -> None:
    """A trafilatura release that rewrites these rules outside the subset loses the speed-up: this says so."""
    _loader()
    for rules in (
        xpaths.OVERALL_DISCARD_XPATH,
        xpaths.REMOVE_COMMENTS_AND_LISTS_XPATH,
        xpaths.RAW_TREE_PRUNE_XPATH,
        xpaths.PRECISION_DISCARD_XPATH,
        xpaths.AUTHOR_DISCARD_XPATHS[:1],
        xpaths.AUTHOR_XPATHS[:1],
    ):
        assert all(isinstance(rule, FastRule) for rule in rules), [getattr(r, "path", r) for r in rules]
    assert xpathrules.install() == xpathrules.install()  # a second install changes nothing


def _compiled() -> list[FastRule]:
    _loader()
    return [r for v in vars(xpaths).values() if isinstance(v, list) for r in v if isinstance(r, FastRule)]


# Generated pages made of the words trafilatura's rules test for, in both cases and glued together, so that the
# generated attributes hit, miss and half-hit the rules.
_WORDS = [
    "comment",
    "Comments",
    "comment-list",
    "reply-",
    "share-",
    "social",
    "nav",
    "Nav",
    "menu",
    "footer",
    "hidden",
    "display:none",
    "display: none",
    "author",
    "byline",
    "teaser",
    "Teaser",
    "caption",
    "bottom",
    "link",
    "post",
    "entry-content",
    "article-body",
    "story",
    "main",
    "content",
    "ad-",
    " ad ",
    "widget",
    "cookie",
    "related",
    "mvp-post-add-box",
    "infinite-scroll",
    "elementor-share-buttons",
    "title",
    "headline",
    "true",
    "x",
    "",
]
_TAGS = ["div", "section", "span", "p", "list", "item", "article", "main", "aside", "a", "h1", "h2", "details", "ul"]
_TAGS += ["address", "strong", "rel"]  # AUTHOR_XPATHS[0] reads a child <rel>'s text ("rel='me'")
_ATTRS = ["id", "class", "style", "role", "aria-hidden", "itemprop", "data-component", "rel"]

_attr_value = st.lists(st.sampled_from(_WORDS), min_size=1, max_size=3).map(" ".join)
_element: st.SearchStrategy[str] = st.recursive(
    st.sampled_from(["text", "me", "m"]),
    lambda children: st.builds(
        lambda tag, attrs, kids: f"<{tag}{''.join(f' {k}={v!r}' for k, v in attrs)}>{''.join(kids)}</{tag}>",
        st.sampled_from(_TAGS),
        st.lists(st.tuples(st.sampled_from(_ATTRS), _attr_value), max_size=3, unique_by=lambda kv: kv[0]),
        st.lists(children, max_size=4),
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_element, min_size=1, max_size=4))
def test_every_compiled_trafilatura_rule_selects_what_its_xpath_selects(body: list[str]) -> None:
    tree = lxml.html.fromstring(f"<html><body>{''.join(body)}</body></html>")
    for rule in _compiled():
        assert rule(tree) == etree.XPath(rule.path, namespaces=RE)(tree), rule.path


async def test_extraction_is_the_same_with_the_compiled_rules() -> None:
    from tests.test_articles import demo_page

    _loader()
    pages = [await demo_page(slug) for slug in ("ferry-electric", "sturmsaison")]
    fast = [extract(html, url) for html, url in pages]
    with stock_rules():
        assert not any(isinstance(r, FastRule) for v in vars(xpaths).values() if isinstance(v, list) for r in v)
        slow = [extract(html, url) for html, url in pages]
    assert isinstance(xpaths.OVERALL_DISCARD_XPATH[0], FastRule)  # back after it
    assert fast == slow and all(fast)
