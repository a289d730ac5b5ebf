"""Article text to a short extractive summary. Pure, no models, no downloads.

Extractive on purpose: every sentence shown is the article's own, so the bot can never put words in a newsroom's
mouth. News puts its facts first, which is why "the first three sentences" (Lead-3) is a strong baseline; we keep
that prior and add centrality (how much a sentence shares the article's vocabulary), drop near-duplicates and
furniture, and pick whole sentences up to a character budget. Sentence splitting is rule-based and works for
Latin, Cyrillic, Greek and CJK punctuation; quotations are never split.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_WORD = re.compile(r"\w+", re.UNICODE)
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt gen col lt sgt capt gov sen rep rev hon pres vs etc inc ltd co corp dept univ "
    "jan feb mar apr jun jul aug sep sept oct nov dec no nos vol fig al approx est u.s u.k e.g i.e a.m p.m "
    "z.b bzw usw ca nr dipl ing".split()
)
_OPEN_QUOTES = {"“": "”", "«": "»", "„": "“", "「": "」", "『": "』", "‘": "’"}
_ENDERS = ".!?。！？…"
_CLOSERS = "\"'”’»)]」』）"
_FURNITURE = re.compile(
    r"(click here|sign up|subscribe|newsletter|cookie|all rights reserved|read more|follow us|share this|"
    r"advertisement|^\W*(photo|image|video|credit)s?\b|getty images|copyright|\bcaption\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    index: int  # position in the article
    paragraph: int


def split_sentences(text: str) -> list[Sentence]:
    """Sentences in order; a line break always ends a sentence (extracted text keeps one paragraph per line)."""
    out: list[Sentence] = []
    for p_index, para in enumerate(p for p in text.split("\n") if p.strip()):
        for sentence in _split_paragraph(para.strip()):
            out.append(Sentence(sentence, len(out), p_index))
    return out


def _split_paragraph(para: str) -> list[str]:
    sentences: list[str] = []
    start = 0
    quote_stack: list[str] = []
    straight_open = False
    i = 0
    n = len(para)
    while i < n:
        ch = para[i]
        if ch in _OPEN_QUOTES:
            quote_stack.append(_OPEN_QUOTES[ch])
        elif quote_stack and ch == quote_stack[-1]:
            quote_stack.pop()
        elif ch == '"':
            straight_open = not straight_open
        if ch in _ENDERS and not quote_stack and not straight_open:
            j = i + 1
            while j < n and para[j] in _ENDERS:
                j += 1
            while j < n and para[j] in _CLOSERS:
                j += 1
            if _is_boundary(para, start, i, j):
                sentences.append(para[start:j].strip())
                start = j
            i = j
            continue
        if ch in _ENDERS and (quote_stack or straight_open):
            # A quotation that ends with its own full stop closes the sentence too: ."  or .”
            j = i + 1
            if j < n and para[j] in _CLOSERS and (para[j] == '"' or (quote_stack and para[j] == quote_stack[-1])):
                if para[j] == '"':
                    straight_open = False
                else:
                    quote_stack.pop()
                j += 1
                while j < n and para[j] in _CLOSERS:
                    j += 1
                if _is_boundary(para, start, i, j):
                    sentences.append(para[start:j].strip())
                    start = j
                i = j
                continue
        i += 1
    tail = para[start:].strip()
    if tail:
        sentences.append(tail)
    return [s for s in sentences if s]


def _is_boundary(para: str, start: int, end_char: int, after: int) -> bool:
    ch = para[end_char]
    if ch in "。！？":
        return True
    if after >= len(para):
        return True
    if not para[after].isspace():
        return False
    nxt = para[after:].lstrip()[:1]
    if not nxt or not (nxt.isupper() or nxt.isdigit() or nxt in "\"'“‘«„(¿¡" or _CJK.match(nxt)):
        return False
    if ch == ".":
        word = para[start:end_char].rsplit(None, 1)[-1].lower().strip("(\"'“") if para[start:end_char].strip() \
            else ""
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            return False
        if re.fullmatch(r"(?:[a-z]\.)+[a-z]", word):
            return False
    return True


def _tokens(text: str) -> list[str]:
    lowered = text.casefold()
    if _CJK.search(lowered):
        chars = [c for c in lowered if _CJK.match(c) or c.isalnum()]
        return [a + b for a, b in zip(chars, chars[1:], strict=False)]
    return [w for w in _WORD.findall(lowered) if len(w) > 2 or w.isdigit()]


def _is_cjk(text: str) -> bool:
    return len(_CJK.findall(text[:400])) > 40


def _usable(sentence: str, cjk: bool) -> bool:
    length = len(sentence)
    if length < (8 if cjk else 30) or length > 600:
        return False
    if _FURNITURE.search(sentence):
        return False
    letters = sum(c.isalpha() for c in sentence)
    return letters / length > 0.5


def _similar(a: set[str], b: set[str]) -> bool:
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) > 0.7


def summarize(text: str, *, max_sentences: int = 3, max_chars: int = 500) -> str:
    """2–3 of the article's own sentences, in article order, within `max_chars` (whole sentences only)."""
    sentences = split_sentences(text)
    if not sentences:
        return ""
    cjk = _is_cjk(text)
    pool = [s for s in sentences if _usable(s.text, cjk)] or sentences[:1]
    token_lists = {s.index: _tokens(s.text) for s in pool}
    doc_freq: Counter[str] = Counter()
    for toks in token_lists.values():
        doc_freq.update(set(toks))
    total = len(pool)
    weights = {w: math.log(1 + total / df) for w, df in doc_freq.items()}
    centroid: Counter[str] = Counter()
    for toks in token_lists.values():
        for w in set(toks):
            centroid[w] += weights[w]

    def score(s: Sentence) -> float:
        toks = set(token_lists[s.index])
        if not toks:
            return 0.0
        centrality = sum(centroid[w] for w in toks) / (len(toks) ** 0.5 * max(1.0, total) ** 0.5 * 3)
        position = 1.0 / (1.0 + 0.35 * s.index) + (0.25 if s.paragraph == 0 else 0.0)
        return 1.6 * position + min(centrality, 1.5) * 0.6

    ranked = sorted(pool[:40], key=score, reverse=True)
    chosen: list[Sentence] = []
    chosen_tokens: list[set[str]] = []
    used = 0
    for s in ranked:
        toks = set(token_lists[s.index])
        if any(_similar(toks, other) for other in chosen_tokens):
            continue
        extra = len(s.text) + (1 if chosen else 0)
        if used + extra > max_chars:
            if not chosen:
                return _clip(s.text, max_chars)
            continue
        chosen.append(s)
        chosen_tokens.append(toks)
        used += extra
        if len(chosen) >= max_sentences:
            break
    chosen.sort(key=lambda s: s.index)
    joiner = "" if cjk else " "
    return joiner.join(s.text for s in chosen)


def _clip(sentence: str, max_chars: int) -> str:
    """A single over-long lead sentence is cut at a word boundary rather than dropped."""
    head = sentence[: max_chars - 1]
    space = head.rfind(" ")
    return (head[:space] if space > max_chars // 2 else head).rstrip(" ,;:") + "…"


def lead(text: str, count: int = 3) -> str:
    """The Lead-N baseline, for benchmarks."""
    return " ".join(s.text for s in split_sentences(text)[:count])
