"""trafilatura's XPath rules, run as Python (`bot.xpathcompile`): the same elements, in the same order, faster.

Why: about half of trafilatura's time per page goes to its XPath pruning rules (`trafilatura.xpaths`). The rules stay
trafilatura's: each rule's own XPath text is compiled, so an upgrade that changes a rule changes what runs here too,
and a rule outside the compiled subset keeps lxml's XPath. `tests/test_xpathrules.py` checks every compiled rule
against lxml on generated pages. Decided: a speed layer over trafilatura's rules, not a fork of them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from lxml import etree

from bot.xpathcompile import Element, Unsupported, compile_rule

log = logging.getLogger(__name__)


class FastRule:
    """A compiled rule standing in for an ``lxml.etree.XPath`` in trafilatura's rule lists (called, never read)."""

    __slots__ = ("_rule", "path", "stock")

    def __init__(self, stock: Any) -> None:
        self._rule = compile_rule(stock.path)
        self.path: str = stock.path  # as XPath objects have it
        self.stock = stock  # the lxml XPath it replaces, for `stock_rules`

    def __call__(self, tree: Element) -> list[Element]:
        return self._rule(tree)


def _rule_lists() -> list[list[Any]]:
    from trafilatura import xpaths

    return [value for value in vars(xpaths).values() if isinstance(value, list)]


def install() -> list[str]:
    """Swap each of trafilatura's rules this module compiles for its compiled form, in the rule lists themselves
    (trafilatura's modules import the lists, so they see the swap). Returns the rules that keep lxml's XPath."""
    kept: list[str] = []
    for rules in _rule_lists():
        for index, rule in enumerate(rules):
            if not isinstance(rule, etree.XPath):
                continue
            try:
                rules[index] = FastRule(rule)
            except Unsupported:
                kept.append(rule.path)
            except Exception:  # a bug here must cost speed, never a page: that rule keeps lxml's XPath
                log.exception("xpathrules: could not compile %r; lxml's XPath runs it", rule.path)
                kept.append(rule.path)
    return kept


@contextlib.contextmanager
def stock_rules() -> Iterator[None]:
    """trafilatura's own XPath rules back for as long as this lasts: for measuring trafilatura itself, or newsbot
    with and without the compiled rules."""
    swapped = [(rules, list(rules)) for rules in _rule_lists() if any(isinstance(r, FastRule) for r in rules)]
    for rules, fast in swapped:
        rules[:] = [r.stock if isinstance(r, FastRule) else r for r in fast]
    try:
        yield
    finally:
        for rules, fast in swapped:
            rules[:] = fast
