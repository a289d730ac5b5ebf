"""feedparser's own test suite as a differential corpus: every file read by newsbot and by feedparser, compared.

The files are downloaded at test time (``pip download`` of feedparser's sdist, the only source that carries them)
into ``.cache/corpus`` and never committed. ``differences`` is pure: given a file's bytes and the headers it says it
is served with, it returns what newsbot reads differently from feedparser, one short line each, so the test can
hold them against the allow-list and a failure says which file and which field.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import feedparser

from bot.charset import codec, decode_document
from bot.decide import candidates
from bot.htmltext import html_to_text
from bot.models import Entry, ParsedFeed
from bot.parse import ParseError, absolute_url, parse_feed, read_fast, read_tolerant
from bot.urls import normalize_url

FEEDPARSER_VERSION = "6.0.12"
CACHE = Path(__file__).resolve().parent.parent / ".cache" / "corpus"
HARNESS = "http://127.0.0.1:8097/tests/"  # where feedparser's own harness serves the files; Expect lines name it

_HEADER = re.compile(rb"^\s*Header:\s+([^:\r\n]+):(.*)$", re.MULTILINE)
_EXPECT = re.compile(rb"^\s*Expect:\s+(.*)$", re.MULTILINE)
_NEEDS_CODEC = re.compile(rb"SkipUnless:.*lookup\('([\w.-]+)'\)")


def corpus_dir() -> Path:
    """feedparser's ``tests/`` directory, downloaded once per checkout. Raises when pip cannot fetch it."""
    root = CACHE / f"feedparser-{FEEDPARSER_VERSION}" / "tests"
    if root.is_dir():
        return root
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:", "--no-deps"),
            *("--disable-pip-version-check", "-d", str(CACHE), f"feedparser=={FEEDPARSER_VERSION}"),
        ],
        check=True,
        timeout=300,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )
    with tarfile.open(CACHE / f"feedparser-{FEEDPARSER_VERSION}.tar.gz") as archive:
        members = [m for m in archive.getmembers() if "/tests/" in m.name and (m.isfile() or m.isdir())]
        archive.extractall(CACHE, members=members, filter="data")
    return root


@dataclass(frozen=True, slots=True)
class Case:
    name: str  # path inside tests/, the allow-list's key
    body: bytes
    headers: dict[str, str]
    expect: str

    @property
    def url(self) -> str:
        return HARNESS + self.name


def cases(root: Path) -> Iterator[Case]:
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix not in (".xml", ".rdf", ".atom", ".rss", ".json", ".gz", ".z"):
            continue
        body = path.read_bytes()
        if path.suffix in (".gz", ".z"):
            continue  # compression is the fetcher's job (aiohttp), covered by tests/test_fetch.py
        needs = _NEEDS_CODEC.search(body)
        if needs is not None and codec(needs.group(1).decode()) is None:
            continue  # feedparser's suite skips it too: this Python has no such codec
        headers = {k.decode().strip().lower(): v.decode("latin-1").strip() for k, v in _HEADER.findall(body)}
        found = _EXPECT.search(body)
        expect = found.group(1).decode("utf-8", "replace").strip() if found else ""
        yield Case(path.relative_to(root).as_posix(), body, headers, expect)


def _text(value: str) -> str:
    return " ".join(value.split())[:1000]


def reference_title(detail: Any, value: str) -> str:
    """feedparser's title as plain text: its HTML titles (by its own type guess) turned into text."""
    kind = (detail or {}).get("type", "text/plain")
    return _text(html_to_text(value) if kind in ("text/html", "application/xhtml+xml") else value)


def differences(case: Case, body: bytes, content_type: str) -> list[str]:
    """What newsbot reads differently from feedparser in this file (`body` and `content_type` as fetched); empty
    when they agree. An entry feedparser finds counts when it has a link or a title with some text."""
    url = case.url
    ref = _reference(case, body, content_type)
    wanted = [
        (index, expected, reference_title(expected.get("title_detail"), expected.get("title", "")))
        for index, expected in enumerate(ref.entries)
    ]
    wanted = [(index, expected, title) for index, expected, title in wanted if title or expected.get("link")]
    try:
        ours = parse_feed(body, url, content_type)
    except ParseError as exc:
        return [f"not read ({exc}) but feedparser finds {len(wanted)} entries"] if wanted else []
    out: list[str] = []
    kept = {id(c.entry) for c in candidates(ours, 1)}
    for index, expected, title in wanted:
        if index >= len(ours.entries):
            out.append(f"entry {index} missing")
            continue
        entry = ours.entries[index]
        if id(entry) not in kept:
            out.append(f"entry {index} merged or dropped")
        if entry.title != title:
            out.append(f"entry {index} title {entry.title!r} != {title!r}")
        link = absolute_url(url, expected.get("link"))
        if (entry.link and normalize_url(entry.link)) != (link and normalize_url(link)):
            out.append(f"entry {index} link {entry.link!r} != {link!r}")
    out += _path_differences(body, url, content_type)
    out += _expectations(case, ours, ref, body, content_type)
    return out


def _reference(case: Case, body: bytes, content_type: str) -> Any:
    """feedparser's reading. Where the file names the encoding a charset detector finds (the ``illformed/chardet``
    files declare none) and feedparser, installed here without chardet, fell back to Latin-1, it is told it."""
    headers = {"content-location": case.url, **case.headers, "content-type": content_type}
    ref = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=True)
    named = re.search(r"encoding == ['\"]([\w.-]+)['\"]", case.expect)
    if named is not None and codec(named.group(1)) != codec(ref.get("encoding")) and not content_type:
        headers["content-type"] = f"application/xml; charset={named.group(1)}"
        ref = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=True)
    return ref


def _keys(feed: ParsedFeed) -> list[str]:
    return [c.key for c in candidates(feed, 1)]


def _path_differences(body: bytes, url: str, content_type: str) -> list[str]:
    """Keys must not depend on which parser read the document (a feed switches path when it changes)."""
    fast = read_fast(body, url, content_type, 500)
    if fast is None:
        return []
    try:
        tolerant = read_tolerant(body, url, content_type, 500)
    except ParseError as exc:
        return [f"feedparser path fails ({exc}) where the fast path reads"]
    if len(_keys(fast)) != len(_keys(tolerant)):
        return [f"paths find {len(_keys(fast))} vs {len(_keys(tolerant))} entries"]
    return [
        f"entry {i} key differs by path: {a} vs {b}"
        for i, (a, b) in enumerate(zip(_keys(fast), _keys(tolerant), strict=True))
        if a != b
    ]


_FIELD = re.compile(r"""(entries\[(\d+)\]|feed)\[['"](title|link|description|summary)['"]\]\s*==\s*""")


def ref_has_content(ref: Any, index: str | None) -> bool:
    entries = ref.get("entries") or []
    return index is not None and int(index) < len(entries) and bool(entries[int(index)].get("content"))


def _expectations(case: Case, ours: ParsedFeed, ref: Any, body: bytes, content_type: str) -> list[str]:
    """The file's own ``Expect:`` line, where it names the encoding or a title, link or description."""
    out: list[str] = []
    if (found := re.search(r"encoding == ['\"]([\w.-]+)['\"]", case.expect)) is not None:
        out += _encoding_difference(body, content_type, found.group(1))
    for match in _FIELD.finditer(case.expect):
        try:
            value = ast.literal_eval(_literal_at(case.expect, match.end()))
        except (ValueError, SyntaxError):
            continue
        if not isinstance(value, str):
            continue
        where, index, field = match.group(1), match.group(2), match.group(3)
        if where == "feed":
            got = {"title": ours.title, "link": ours.site_url or ""}.get(field)
        elif int(index) < len(ours.entries):
            got = _entry_field(ours.entries[int(index)], field)
        else:
            got = None
        if got is None or (field == "summary" and ref_has_content(ref, index)):
            continue  # newsbot keeps the fuller of an entry's summary and content: a summary is checked alone
        if field == "link":
            wanted = normalize_url(absolute_url(case.url, value) or value)
            ok = normalize_url(got) == wanted if got else not value
        elif field == "title":  # ours is text already; theirs is text or HTML, by their type guess
            ok = got in (_text(value), _text(html_to_text(value))) or (got == case.url and not html_to_text(value))
        else:
            ok = _text(html_to_text(value)) in _text(html_to_text(got))
        if not ok:
            out.append(f"Expect: {where} {field} {got!r} != {value!r}")
    return out


def _entry_field(entry: Entry, field: str) -> str | None:
    return {"title": entry.title, "link": entry.link or "", "description": entry.content_html}.get(
        field, entry.content_html
    )


def _literal_at(text: str, start: int) -> str:
    """The Python string literal starting at `start` (Expect lines chain several with `and`)."""
    for end in range(start + 2, len(text) + 1):
        chunk = text[start:end]
        try:
            ast.literal_eval(chunk)
        except (ValueError, SyntaxError):
            continue
        if end == len(text) or text[end:].lstrip().startswith(("and", ")", "or")):
            return chunk
    return text[start:]


def _encoding_difference(body: bytes, content_type: str, expected: str) -> list[str]:
    """newsbot's choice of charset must read the bytes as the expected encoding does."""
    try:
        wanted = body.decode(expected)
    except (LookupError, UnicodeDecodeError):
        return []  # the expected charset cannot even read the file: feedparser's own fallback, not a claim
    ours = decode_document(body, content_type)
    if ours.lstrip("\ufeff") != wanted.lstrip("\ufeff"):
        return [f"Expect: encoding {expected} decodes differently"]
    return []
