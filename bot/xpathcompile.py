"""A small XPath subset compiled to Python over lxml's C iterators: the same elements, in the same order, faster.

Why: libxml2 evaluates a predicate such as ``self::div or self::section or …`` element by element and calls back
into Python for every ``re:test``; lxml can pick the tags in C (``iterdescendants(*tags)``) and one regex can stand
for the ``or`` of an attribute's tests. The subset is the one trafilatura's rules are written in (`bot.xpathrules`):
``.//*``, ``.//tag`` and ``//…`` paths, and unions of them from the same place, whose predicates use ``self::``,
``@a`` and ``@a|@b``, literals, ``=``, ``and``, ``or``, ``not()``, ``contains()``, ``starts-with()``,
``translate()``, ``re:test()``, ``.//tag`` and ``tag='x'`` (a child's text), with a step's last ``[1]`` or a whole
path's ``(…)[1]``. Anything else (another position, a union with a position or from two places, a step below the
first, a pattern Python's re cannot read) raises `Unsupported`: the caller keeps lxml's XPath for it.

How: each rule becomes the source of one Python function, a loop with every test inlined in one ``if`` (see
`_Parser.generate`): half the time of a closure per test, which was this module's first form.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

from lxml import etree

from bot.xpathexpr import Element, ExprParser, Unsupported, Value, as_bool

__all__ = ["Element", "Unsupported", "compile_rule"]


class _Parser(ExprParser):
    # A path: ``.//tag[…][…]`` or ``//tag[…]``, a union of such paths, or the whole of one in ``(…)[1]``.
    def rule(self, only_first: bool = False) -> Callable[[Element], list[Element]]:
        if self.at("("):
            self.take()
            inner = self.rule(only_first=True)
            self.take(")")
            self.take("[")
            if self.take()[1] != "1":
                raise Unsupported("a position other than the first")
            self.take("]")
            return inner
        steps = [self.step()]
        while self.at("|"):
            self.take()
            steps.append(self.step())
        if len(steps) == 1:
            absolute, picked, test, first_child = steps[0]
            return self.generate(picked, test, absolute=absolute, first_child=first_child, only=only_first)
        # ``A|B``: the elements of either, in document order, each once: one pass over the tags of both, each
        # element tested by the branches its tag belongs to.
        if len({s[0] for s in steps}) > 1 or any(s[3] for s in steps):
            raise Unsupported("a union of paths from different places, or with a position")
        if any(s[1][0] is etree.Element for s in steps):
            tags: tuple[Any, ...] = (etree.Element,)
        else:
            tags = tuple(dict.fromkeys(t for s in steps for t in s[1]))
        branches = [
            s[2] if s[1][0] is etree.Element else f"(e.tag in {self.constant(frozenset(s[1]))} and {s[2]})"
            for s in steps
        ]
        return self.generate(tags, " or ".join(branches), absolute=steps[0][0], first_child=False, only=only_first)

    def step(self) -> tuple[bool, tuple[Any, ...], str, bool]:
        """One path's parts: whether it is absolute, the tags it picks, its test (Python source), whether it ends
        in a per-parent ``[1]``."""
        _, start = self.take()
        if start not in (".//", "//"):
            raise Unsupported(f"a path starting {start!r}")
        kind, tag = self.take()
        if tag != "*" and kind != "name":
            raise Unsupported("a step other than a tag or *")
        predicates: list[Value] = []
        first_child = False  # a last ``[1]``: of each element's children that pass, only the first
        while self.at("[") and not first_child:
            self.take()
            if (token := self.peek()) and token[0] == "num":
                if self.take()[1] != "1":
                    raise Unsupported("a position other than the first")
                first_child = True
            else:
                predicates.append(self.expr())
            self.take("]")
        if self.at("["):
            raise Unsupported("a predicate after a position")
        tags: tuple[Any, ...] = (etree.Element,) if tag == "*" else (tag,)
        if tag == "*" and predicates and predicates[0].tags:
            tags = predicates.pop(0).tags
        elif tag == "*" and not self.regex:
            # Every element, tested only on plain attributes: libxml2 does that as fast as Python can.
            raise Unsupported("nothing this module does faster")
        test = " and ".join(as_bool(p) for p in predicates) or "True"
        return start == "//", tags, test, first_child

    def generate(
        self, tags: tuple[Any, ...], test: str, *, absolute: bool, first_child: bool, only: bool
    ) -> Callable[[Element], list[Element]]:
        """The rule as one Python function: a loop over lxml's C iterator with every test inlined in one ``if``,
        half the time of calling a closure per test and element. The source is built from this module's
        own fragments and constant names only: the rule's literals are read from constants, never written in."""
        picked = self.constant(tags)
        # An attribute the test reads more than once is read once per element, first thing: a read costs more
        # than the rest of most tests (~150 ns), and rules read @id and @class in several of their parts.
        reads = re.findall(r"e\.get\((_k\d+)\)", test)
        hoisted = ""
        for name in dict.fromkeys(reads):
            if reads.count(name) > 1:
                test = test.replace(f"e.get({name})", f"{name}v")
                hoisted += f"        {name}v = e.get({name})\n"
        if first_child:  # ``…[P][1]``: per parent, its first child that passes (first in document order)
            keep = "p = e.getparent()\n            if p is None or p not in parents:\n"
            keep += "                add(e)\n                if p is not None:\n                    parents.add(p)"
        else:
            keep = "add(e)"
        if only:
            keep = "return [e]"
        if absolute:  # the whole document, its root element included
            every = "True" if tags[0] is etree.Element else f"root.tag in {picked}"
            source = f"""\
    root = tree.getroottree().getroot()
    elements = root.iterdescendants(*{picked})
    if {every}:
        elements = _chain((root,), elements)
"""
        else:
            source = f"    elements = tree.iterdescendants(*{picked})\n"
        source = f"""\
def rule(tree):
    out = []
    add = out.append
    parents = set()
{source}    for e in elements:
{hoisted}        if {test}:
            {keep}
    return out
"""
        namespace = {"_chain": itertools.chain, **self.names}
        exec(compile(source, "<xpath rule>", "exec"), namespace)  # our own fragments only: see the docstring
        rule: Callable[[Element], list[Element]] = namespace["rule"]
        return rule


def compile_rule(xpath: str) -> Callable[[Element], list[Element]]:
    """A Python function giving what ``lxml.etree.XPath(xpath)(tree)`` gives, or `Unsupported`."""
    parser = _Parser(xpath)
    try:
        rule = parser.rule()
    except re.error as exc:  # a pattern Python's re cannot read: lxml's XPath would fail on it the same way
        raise Unsupported(f"regex: {exc}") from None
    if parser.peek() is not None:
        raise Unsupported(f"more after the path: {parser.peek()!r}")
    return rule
