"""XPath expressions (the predicates of trafilatura's rules) compiled to Python source over an element ``e``.

`bot.xpathcompile` builds whole paths from these: see its docstring for the subset and why. Each value is a
fragment of source and a kind (a boolean, a string, or an attribute's value that may be missing), so that a
predicate becomes one inlined Python expression. The rule's literals and regexes are constants the source names,
never text written into it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

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
class Value:
    """One compiled expression: Python source over the element ``e``, of one of three kinds."""

    kind: Kind
    code: str
    const: str | None = None  # a string literal's text
    tags: tuple[str, ...] = ()  # set when the value is only ``self::a or self::b …``
    names: tuple[str, ...] = ()  # an attribute value's attribute names
    search: Search | None = None  # set when the value is one regex search over one attribute value


@dataclass(frozen=True, slots=True)
class Search:
    """A string test read as a regex search of an attribute's value: ``or`` joins those on the same value."""

    names: tuple[str, ...]
    pattern: str
    flags: int


def as_bool(value: Value) -> str:
    if value.kind == "attr":
        return f"({value.code}) is not None"
    return f"({value.code})"  # a string is true when not empty, as XPath's boolean() has it


def _as_str(value: Value) -> str:
    if value.kind == "str":
        return value.code
    if value.kind == "attr":
        return f"({value.code} or '')"  # a missing attribute reads as ""
    raise Unsupported("a boolean used as a string")


def _first_of(names: tuple[str, ...]) -> Callable[[Element], str | None]:
    """``@a|@b``: the first of these attributes in the element's own attribute order (XPath's document order)."""
    wanted = frozenset(names)

    def first(e: Element) -> str | None:
        present = [v for n in names if (v := e.get(n)) is not None]
        if len(present) < 2:
            return present[0] if present else None
        return str(next(v for k, v in e.items() if k in wanted))  # items(): attributes in their order

    return first


class ExprParser:
    """Reads XPath expressions from a rule's tokens into Python source (`Value`)."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.regex = any(value == "re:test" for _, value in self.tokens)
        self.names: dict[str, Any] = {}  # the generated code's constants: compiled regexes, tables, tag tuples
        self.strings: dict[str, str] = {}  # a string constant's name

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

    def constant(self, value: Any) -> str:
        """A name the generated code reads `value` by (values are never written into the source). A string has one
        name, so that the reads of one attribute can be found in the code (see `generate`)."""
        if isinstance(value, str) and (known := self.strings.get(value)):
            return known
        name = f"_k{len(self.names)}"
        self.names[name] = value
        if isinstance(value, str):
            self.strings[value] = name
        return name

    # Expressions, lowest precedence first: or, and, =, then one value.
    def _operands(self, word: str, operand: Callable[[], Value]) -> list[Value]:
        parts = [operand()]
        while self.at(word):
            self.take()
            parts.append(operand())
        return parts

    def expr(self) -> Value:
        parts = self._operands("or", self.conj)
        if len(parts) == 1:
            return parts[0]
        if all(p.tags for p in parts):
            tags = tuple(t for p in parts for t in p.tags)
            return Value("bool", f"e.tag in {self.constant(frozenset(tags))}", tags=tags)
        return Value("bool", " or ".join(as_bool(p) for p in self.joined(parts)))

    def conj(self) -> Value:
        parts = self._operands("and", self.comparison)
        if len(parts) == 1:
            return parts[0]
        return Value("bool", " and ".join(as_bool(p) for p in parts))

    def comparison(self) -> Value:
        left = self.value()
        if not self.at("="):
            return left
        self.take()
        right = self.value()
        if right.const is None or left.kind == "bool" or len(left.names) > 1:
            raise Unsupported("only one value = a literal")  # @a|@b = 'x' would mean any of them
        return Value("bool", f"({left.code}) == {self.constant(right.const)}")

    def value(self) -> Value:
        kind, text = self.take()
        if kind == "str":
            literal = text[1:-1]
            return Value("str", self.constant(literal), const=literal)
        if kind == "self":
            tag = text.removeprefix("self::")
            return Value("bool", f"e.tag == {self.constant(tag)}", tags=(tag,))
        if kind == "attr":
            names = [text[1:]]
            while self.at("|"):
                self.take()
                kind, text = self.take()
                if kind != "attr":
                    raise Unsupported("a union of other than attributes")
                names.append(text[1:])
            return self.attribute(tuple(names))
        if kind == "path" and text == ".//":
            kind, tag = self.take()
            if kind != "name":
                raise Unsupported("a descendant test other than a tag")
            return Value("bool", f"next(e.iterdescendants({self.constant(tag)}), None) is not None")
        if text == "(":
            inner = self.expr()
            self.take(")")
            return Value(inner.kind, f"({inner.code})", inner.const, inner.tags, inner.names, inner.search)
        if kind == "name" and self.at("("):
            return self.call(text)
        if kind == "name" and self.at("="):
            # ``tag = 'x'``: a child element of that name whose text is x. Written where ``@tag`` was meant
            # (trafilatura's ``rel='me'``), but what it says is what lxml does, so it is what runs.
            self.take()
            literal = _literal(self.value(), "a child's text")
            child, wanted = self.constant(text), self.constant(literal)
            return Value("bool", f"any(''.join(c.itertext()) == {wanted} for c in e.iterchildren({child}))")
        raise Unsupported(f"{text!r}")

    def call(self, name: str) -> Value:
        self.take("(")
        args = [self.expr()]
        while self.at(","):
            self.take()
            args.append(self.expr())
        self.take(")")
        return self.function(name, args)

    def function(self, name: str, args: list[Value]) -> Value:
        if name == "not" and len(args) == 1:
            return Value("bool", f"not {as_bool(args[0])}")
        if name in ("contains", "starts-with") and len(args) == 2:
            hay = _as_str(args[0])
            needle = _literal(args[1], name)
            if args[0].names:
                return self.searching(args[0].names, ("^" if name == "starts-with" else "") + re.escape(needle), 0)
            if name == "contains":
                return Value("bool", f"{self.constant(needle)} in {hay}")
            return Value("bool", f"{hay}.startswith({self.constant(needle)})")
        if name == "translate" and len(args) == 3:
            source, to = _literal(args[1], name), _literal(args[2], name)
            if len(set(source)) != len(source):
                raise Unsupported("translate() with a repeated character")
            table = str.maketrans(source[: len(to)], to[: len(source)], source[len(to) :])
            return Value("str", f"{_as_str(args[0])}.translate({self.constant(table)})")
        if name == "re:test" and len(args) in (2, 3):
            flags = _literal(args[2], name) if len(args) == 3 else ""
            # lxml's EXSLT regex: Python's re, search anywhere, "i" for case-insensitive
            if not args[0].names:
                raise Unsupported("re:test() of other than attributes")  # trafilatura tests attributes only
            return self.searching(args[0].names, _literal(args[1], name), re.IGNORECASE if "i" in flags else 0)
        raise Unsupported(f"function {name}() with {len(args)} arguments")

    def searching(self, names: tuple[str, ...], pattern: str, flags: int) -> Value:
        compiled = re.compile(pattern, flags)
        search, value, found = self.constant(compiled.search), self.attribute(names), Search(names, pattern, flags)
        if compiled.search("") is None:
            # A missing attribute reads as "", which this pattern cannot match: no call then. Most elements lack
            # most of the attributes a rule tests, and a rule of every element makes thousands of calls a page.
            return Value("bool", f"((_s := {value.code}) is not None and {search}(_s) is not None)", search=found)
        return Value("bool", f"{search}({_as_str(value)}) is not None", search=found)

    def attribute(self, names: tuple[str, ...]) -> Value:
        """``@a`` or ``@a|@b…``: the value of the first of them present (see `_first_of`)."""
        if len(names) == 1:
            return Value("attr", f"e.get({self.constant(names[0])})", names=names)
        first = f"{self.constant(_first_of(names))}(e)"
        if len(names) == 2:  # inline, as most elements carry one of the two or neither: two reads, no call
            a, b = self.constant(names[0]), self.constant(names[1])
            # `_v` is set and read inside this one conditional expression, so one name serves every such read.
            first = f"(e.get({b}) if (_v := e.get({a})) is None else _v if e.get({b}) is None else {first})"
        return Value("attr", first, names=names)

    def joined(self, parts: list[Value]) -> list[Value]:
        """``or``'s parts, the regex searches of one attribute value joined into one regex: one call instead of
        several is what makes an ``or`` of many ``re:test`` and ``contains`` fast. The order of ``or``'s parts
        cannot change its value (they have no side effects). A pattern with numbered or named groups or global
        flags stays alone."""
        order: list[Value | tuple[tuple[str, ...], int]] = []
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
            if isinstance(item, Value):
                out.append(item)
                continue
            patterns = groups[item]
            joined = patterns[0] if len(patterns) == 1 else "|".join(f"(?:{p})" for p in patterns)
            out.append(self.searching(item[0], joined, item[1]))
        return out


_UNJOINABLE = re.compile(r"\\\d|\(\?P|\(\?[aiLmsux]+\)")  # group numbers or names, global flags


def _literal(value: Value, what: str) -> str:
    if value.const is None:
        raise Unsupported(f"{what} must be a literal")
    return value.const
