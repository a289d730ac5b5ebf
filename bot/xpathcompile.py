"""A small XPath subset compiled to Python over lxml's C iterators: the same elements, in the same order, faster.

Why: libxml2 evaluates a predicate such as ``self::div or self::section or …`` element by element and calls back
into Python for every ``re:test``; lxml can pick the tags in C (``iterdescendants(*tags)``) and one regex can stand
for the ``or`` of an attribute's tests. The subset is the one trafilatura's rules are written in (`bot.xpathrules`):
``.//*``, ``.//tag`` and ``//…`` paths whose predicates use ``self::``, ``@a`` and ``@a|@b``, literals, ``=``,
``and``, ``or``, ``not()``, ``contains()``, ``starts-with()``, ``translate()``, ``re:test()`` and ``.//tag``, with
a step's last ``[1]`` or a whole path's ``(…)[1]``. Anything else (another position, a union of paths, a child
element's text, a pattern Python's re cannot read) raises `Unsupported`: the caller keeps lxml's XPath for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from lxml import etree

Element = Any  # lxml's element type (untyped)
Kind = Literal["bool", "str", "attr"]  # "attr": the value of the first attribute present, or None


class Unsupported(ValueError):
    """The XPath uses something this subset does not compile."""


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>'[^']*'|"[^"]*")
    | (?P<path>\.//|//)
    | (?P<self>self::[\w-]+)
    | (?P<attr>@[\w-]+)
    | (?P<num>\d+)
    | (?P<op>[()\[\]|,=*])
    | (?P<name>[\w:-]+)
    )""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise Unsupported(f"cannot read {text[pos : pos + 20]!r}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


@dataclass(slots=True)
class _Value:
    kind: Kind
    fn: Callable[[Element], Any]
    const: str | None = None  # a string literal's text
    tags: tuple[str, ...] = ()  # set when the value is only ``self::a or self::b …``
    names: tuple[str, ...] = ()  # an attribute value's attribute names
    search: _Search | None = None  # set when the value is one regex search over one attribute value


@dataclass(frozen=True, slots=True)
class _Search:
    """A string test read as a regex search of an attribute's value: ``or`` joins those on the same value."""

    names: tuple[str, ...]
    pattern: str
    flags: int


def _as_bool(value: _Value) -> Callable[[Element], bool]:
    fn = value.fn
    if value.kind == "bool":
        return fn
    if value.kind == "attr":
        return lambda e: fn(e) is not None
    return lambda e: bool(fn(e))


def _as_str(value: _Value) -> Callable[[Element], str]:
    fn = value.fn
    if value.kind == "str":
        return fn
    if value.kind == "attr":
        return lambda e: v if (v := fn(e)) is not None else ""
    raise Unsupported("a boolean used as a string")


def _attribute(names: tuple[str, ...]) -> Callable[[Element], str | None]:
    """``@a|@b``: the first of these attributes in the element's own attribute order (XPath's document order)."""
    if len(names) == 1:
        name = names[0]
        return lambda e: e.get(name)
    wanted = frozenset(names)

    def first(e: Element) -> str | None:
        present = [v for n in names if (v := e.get(n)) is not None]
        if len(present) < 2:
            return present[0] if present else None
        return str(next(v for k, v in e.items() if k in wanted))  # items(): attributes in their order

    return first


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.regex = any(value == "re:test" for _, value in self.tokens)

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise Unsupported(f"expected {value!r}, found {token!r}")
        self.pos += 1
        return token

    def at(self, value: str) -> bool:
        token = self.peek()
        return token is not None and token[1] == value

    # Expressions, lowest precedence first: or, and, =, then one value.
    def _operands(self, word: str, operand: Callable[[], _Value]) -> list[_Value]:
        parts = [operand()]
        while self.at(word):
            self.take()
            parts.append(operand())
        return parts

    def expr(self) -> _Value:
        parts = self._operands("or", self.conj)
        if len(parts) == 1:
            return parts[0]
        if all(p.tags for p in parts):
            tags = tuple(t for p in parts for t in p.tags)
            return _Value("bool", lambda e: e.tag in tags, tags=tags)
        tests = [_as_bool(p) for p in _joined(parts)]
        if len(tests) == 1:
            return _Value("bool", tests[0])
        return _Value("bool", lambda e: any(t(e) for t in tests))

    def conj(self) -> _Value:
        parts = self._operands("and", self.comparison)
        if len(parts) == 1:
            return parts[0]
        tests = [_as_bool(p) for p in parts]
        return _Value("bool", lambda e: all(t(e) for t in tests))

    def comparison(self) -> _Value:
        left = self.value()
        if not self.at("="):
            return left
        self.take()
        right = self.value()
        if right.const is None or left.kind == "bool" or len(left.names) > 1:
            raise Unsupported("only one value = a literal")  # @a|@b = 'x' would mean any of them
        wanted = right.const
        get = left.fn
        return _Value("bool", lambda e: get(e) == wanted)

    def value(self) -> _Value:
        kind, text = self.take()
        if kind == "str":
            literal = text[1:-1]
            return _Value("str", lambda e: literal, const=literal)
        if kind == "self":
            tag = text.removeprefix("self::")
            return _Value("bool", lambda e: e.tag == tag, tags=(tag,))
        if kind == "attr":
            names = [text[1:]]
            while self.at("|"):
                self.take()
                kind, text = self.take()
                if kind != "attr":
                    raise Unsupported("a union of other than attributes")
                names.append(text[1:])
            return _Value("attr", _attribute(tuple(names)), names=tuple(names))
        if kind == "path" and text == ".//":
            kind, tag = self.take()
            if kind != "name":
                raise Unsupported("a descendant test other than a tag")
            return _Value("bool", lambda e: next(e.iterdescendants(tag), None) is not None)
        if text == "(":
            inner = self.expr()
            self.take(")")
            return inner
        if kind == "name" and self.at("("):
            return self.call(text)
        raise Unsupported(f"{text!r}")

    def call(self, name: str) -> _Value:
        self.take("(")
        args = [self.expr()]
        while self.at(","):
            self.take()
            args.append(self.expr())
        self.take(")")
        return _function(name, args)

    # A path: ``.//tag[…][…]`` or ``//tag[…]``, or the whole of it in ``(…)[1]``.
    def rule(self) -> Callable[[Element], list[Element]]:
        if self.at("("):
            self.take()
            inner = self.rule()
            self.take(")")
            self.take("[")
            if self.take()[1] != "1":
                raise Unsupported("a position other than the first")
            self.take("]")
            return lambda tree: inner(tree)[:1]
        _, start = self.take()
        if start not in (".//", "//"):
            raise Unsupported(f"a path starting {start!r}")
        kind, tag = self.take()
        if tag != "*" and kind != "name":
            raise Unsupported("a step other than a tag or *")
        predicates: list[_Value] = []
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
        tests = [_as_bool(p) for p in predicates]
        absolute = start == "//"

        def candidates(tree: Element) -> Iterator[Element]:
            if absolute:  # the whole document, its root element included
                root = tree.getroottree().getroot()
                if root.tag in tags or tags[0] is etree.Element:
                    yield root
                yield from root.iterdescendants(*tags)
            else:
                yield from tree.iterdescendants(*tags)

        select: Callable[[Element], list[Element]]
        if len(tests) == 1:
            test = tests[0]
            select = lambda tree: [e for e in candidates(tree) if test(e)]  # noqa: E731
        else:
            select = lambda tree: [e for e in candidates(tree) if all(t(e) for t in tests)]  # noqa: E731
        if not first_child:
            return select

        def firsts(tree: Element) -> list[Element]:
            """``…[P][1]`` is, per parent, its first child that passes: in document order a parent's first match
            comes before its others."""
            parents: set[Element] = set()
            out = []
            for e in select(tree):
                parent = e.getparent()
                if parent is None or parent not in parents:
                    out.append(e)
                    if parent is not None:
                        parents.add(parent)
            return out

        return firsts


def _searching(names: tuple[str, ...], pattern: str, flags: int) -> _Value:
    search = re.compile(pattern, flags).search
    get = _as_str(_Value("attr", _attribute(names)))
    return _Value("bool", lambda e: search(get(e)) is not None, search=_Search(names, pattern, flags))


_UNJOINABLE = re.compile(r"\\\d|\(\?P|\(\?[aiLmsux]+\)")  # group numbers or names, global flags


def _joined(parts: list[_Value]) -> list[_Value]:
    """``or``'s parts, the regex searches of one attribute value joined into one regex: one call instead of several
    is what makes an ``or`` of many ``re:test`` and ``contains`` fast. The order of ``or``'s parts cannot change
    its value (they have no side effects). A pattern with numbered or named groups or global flags stays alone."""
    order: list[_Value | tuple[tuple[str, ...], int]] = []
    groups: dict[tuple[tuple[str, ...], int], list[str]] = {}
    for part in parts:
        found = part.search
        if found is None or _UNJOINABLE.search(found.pattern):
            order.append(part)
            continue
        key = (found.names, found.flags)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(found.pattern)
    out = []
    for item in order:
        if isinstance(item, _Value):
            out.append(item)
            continue
        patterns = groups[item]
        joined = patterns[0] if len(patterns) == 1 else "|".join(f"(?:{p})" for p in patterns)
        out.append(_searching(item[0], joined, item[1]))
    return out


def _literal(value: _Value, what: str) -> str:
    if value.const is None:
        raise Unsupported(f"{what} must be a literal")
    return value.const


def _function(name: str, args: list[_Value]) -> _Value:
    if name == "not" and len(args) == 1:
        test = _as_bool(args[0])
        return _Value("bool", lambda e: not test(e))
    if name in ("contains", "starts-with") and len(args) == 2:
        hay = _as_str(args[0])
        needle = _literal(args[1], name)
        if args[0].names:
            return _searching(args[0].names, ("^" if name == "starts-with" else "") + re.escape(needle), 0)
        if name == "contains":
            return _Value("bool", lambda e: needle in hay(e))
        return _Value("bool", lambda e: hay(e).startswith(needle))
    if name == "translate" and len(args) == 3:
        source, to = _literal(args[1], name), _literal(args[2], name)
        if len(set(source)) != len(source):
            raise Unsupported("translate() with a repeated character")
        table = str.maketrans(source[: len(to)], to[: len(source)], source[len(to) :])
        text = _as_str(args[0])
        return _Value("str", lambda e: text(e).translate(table))
    if name == "re:test" and len(args) in (2, 3):
        flags = _literal(args[2], name) if len(args) == 3 else ""
        # lxml's EXSLT regex: Python's re, search anywhere, "i" for case-insensitive
        if not args[0].names:
            raise Unsupported("re:test() of other than attributes")  # trafilatura tests attributes only
        return _searching(args[0].names, _literal(args[1], name), re.IGNORECASE if "i" in flags else 0)
    raise Unsupported(f"function {name}() with {len(args)} arguments")


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
