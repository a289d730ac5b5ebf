"""Which characters a feed's bytes mean: the byte-order mark, then the HTTP charset, then the XML declaration.

That is RFC 7303's order (the successor of RFC 3023, which made ``text/xml`` without a charset mean US-ASCII;
nobody serves feeds that way on purpose, so the declaration decides there). Labels are read as browsers read
them (WHATWG Encoding): ``iso-8859-1`` and ``us-ascii`` mean windows-1252, ``gb2312`` means GB18030, because
that is what servers labelled so actually send (curly quotes as 0x93/0x94, not C1 control characters).
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECLARATION = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_PARAM = re.compile(r"""(?i);\s*charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""")
_C1 = re.compile("[\x80-\x9f]")
_TEXT_DECLARATION = re.compile(r"^\s*<\?xml[^>]{0,300}?\?>")
_WIDE = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")
_AS_BROWSERS_DO = {
    "utf-8-sig": "utf-8",
    "latin-1": "cp1252",
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}


def codec(label: str | None) -> str | None:
    """Python's codec for an encoding label, or None for a label nobody can decode."""
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _AS_BROWSERS_DO.get(name, name)


def header_charset(content_type: str) -> str | None:
    found = _PARAM.search(content_type or "")
    return codec(found.group(1)) if found else None


def _bom(body: bytes) -> str | None:
    return next((name for mark, name in _BOMS if body.startswith(mark)), None)


def named_charset(body: bytes, content_type: str = "") -> str | None:
    """The codec the document or its server names: BOM, then HTTP charset, then XML declaration; None if none."""
    if (found := _bom(body) or header_charset(content_type)) is not None:
        return found
    declared = _DECLARATION.match(body)
    return codec(declared.group(1).decode("ascii")) if declared else None


def document_charset(body: bytes, content_type: str = "") -> str:
    """The codec that reads this document: the one it names, else UTF-8 (XML's default)."""
    return named_charset(body, content_type) or "utf-8"


def decode_document(body: bytes, content_type: str = "") -> str:
    """The document as text, as the read path sees it (``guessed_utf8`` where bytes are invalid)."""
    name = document_charset(body, content_type)
    try:
        return body.decode(name).lstrip("\ufeff")
    except UnicodeDecodeError:
        return guessed_utf8(body, content_type).decode("utf-8")


def guessed_utf8(body: bytes, content_type: str = "") -> bytes:
    """A document whose bytes are not all valid in its charset, as UTF-8 for a parser. A charset the document or
    server names still decides (bad bytes become U+FFFD: what can be kept is kept); with none named, the bytes are
    read in charset-normalizer's best guess (an undeclared Shift_JIS or KOI8-R feed), windows-1252 when the guess
    is UTF-8 or leaves C1 controls (curly quotes in a "UTF-8" file)."""
    named = named_charset(body, content_type)
    if named is not None:
        text = body.decode(named, errors="replace")
    else:
        best = charset_normalizer.from_bytes(body[:1_000_000]).best()
        name = codec(best.encoding) if best is not None else None
        text = body.decode(name, errors="replace") if name is not None and name != "utf-8" else ""
        if not text or _C1.search(text):
            text = body.decode("cp1252", errors="replace")
    return _TEXT_DECLARATION.sub("", text.lstrip("\ufeff"), count=1).encode("utf-8")


def as_utf8(body: bytes, content_type: str) -> bytes | None:
    """The body as UTF-8 for an XML parser (libxml2) that would otherwise read only the declaration, and read
    ``iso-8859-1`` as Latin-1 where browsers read windows-1252. ASCII and valid UTF-8 documents, nearly all feeds,
    are returned as they are; a legacy charset is decoded here with Python's codecs and re-encoded. None when the
    bytes are not valid in the charset that applies: the tolerant parser then guesses, as it always has."""
    name = document_charset(body, content_type)
    if name in _WIDE:
        pass  # UTF-16/32: never ASCII-compatible, always re-encoded
    elif body.isascii():
        return body
    elif name == "utf-8":
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return body
    try:
        text = body.decode(name)
    except UnicodeDecodeError:
        return None
    return _TEXT_DECLARATION.sub("", text.lstrip("\ufeff"), count=1).encode("utf-8")  # UTF-8 is XML's default
