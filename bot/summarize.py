"""Article text to a short extractive summary. Pure, no models, no downloads.

Extractive on purpose: every sentence shown is the article's own, so the bot can never put words in a newsroom's
mouth. News puts its facts first, which is why "the first three sentences" (Lead-3) is a strong baseline. We keep
that prior, drop furniture and near-duplicates, and choose whole sentences that fill a character budget (see
``summarize``). Centrality and headline-overlap scorers were measured too and did worse than the lead prior.
Sentence splitting is rule-based and works for
Latin, Cyrillic, Greek and CJK punctuation; quotations are never split.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# Chinese and Japanese write sentences without a space between them; Korean (Hangul) puts one, like Latin scripts.
_SPACELESS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"\w+", re.UNICODE)
_ABBREVIATIONS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "gov",
        "sen",
        "rep",
        "rev",
        "hon",
        "pres",
        "vs",
        "etc",
        "inc",
        "ltd",
        "co",
        "corp",
        "dept",
        "univ",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "no",
        "nos",
        "vol",
        "fig",
        "al",
        "approx",
        "est",
        "u.s",
        "u.k",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
        "z.b",
        "bzw",
        "usw",
        "ca",
        "nr",
        "dipl",
        "ing",
    }
)
_OPEN_QUOTES = {"“": "”", "«": "»", "„": "“", "「": "」", "『": "』", "‘": "’"}
_ENDERS = ".!?。！？…"
_CLOSERS = "\"'”’»)]」』）"
_FURNITURE = re.compile(
    r"(click here|sign up (for|to)|subscribe (to|now|for)|our newsletter|uses? cookies|all rights reserved|"
    r"read more\b|follow us\b|share this\b|^\W*advertisement\b|^\W*(photo|image|video|credit)s?\s*:|"
    r"scroll down for|for your personal,? non-?commercial use|to order (?:presentation-ready )?copies|"
    r"\(getty images\)|^\W*copyright\b|fetching more content|quick links|"
    # What feeds append to an excerpt: WordPress's "The post … appeared first on …", "Continue reading …", a
    # republisher's "This article was originally published on …", "Read the original article".
    r"^\W*the post .{1,300}?\b(?:appeared first|first appeared) on\b|"
    r"^\W*originally (?:published|posted) (?:at|on|in)\b|"
    r"^\W*continue reading\b|^\W*read the (?:original|full|rest of the) (?:article|story|post)\b|"
    r"\bthis (?:article|story|post|piece) (?:was |is )?(?:originally|first) (?:published|appeared)\b|"
    r"^\W*submitted by /?u/|^\[link\]\s*\[comments\]$)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    index: int  # position in the article
    paragraph: int


_BULLET = re.compile(r"^[-•*·▪►]\s+")  # a list item's marker (extractors write "- item"); not a dialogue dash
_CUT_MARK = re.compile(r"\s*\[(?:…|\.\.\.)\]$")  # an excerpt's "[…]" (WordPress): the text goes on elsewhere


def iter_sentences(text: str) -> Iterator[Sentence]:
    """Sentences in order, lazily; a line break always ends a sentence (one paragraph per line). A list item's
    marker is not part of its sentence: a summary made of items reads "Retiring early…", not "- Retiring early…"."""
    index = 0
    for p_index, para in enumerate(p for p in text.split("\n") if p.strip()):
        para = _BULLET.sub("", para.strip())
        if para.endswith("]"):  # the pattern scans a whole paragraph: only where it can match
            para = _CUT_MARK.sub("…", para)
        for sentence in _split_paragraph(para):
            yield Sentence(sentence, index, p_index)
            index += 1


def split_sentences(text: str) -> list[Sentence]:
    return list(iter_sentences(text))


_STRAIGHT = "\"'"
_QUOTE_OPEN_AFTER = " \t([{:;,—–-/"
_MAX_QUOTE = 600  # characters: a "quotation" longer than this was an unbalanced mark, not a quote


def _opens_quote(ch: str, prev: str, nxt: str) -> str | None:
    """The closing mark to wait for when `ch` opens a quotation here, else None (apostrophes never open one)."""
    if ch in _OPEN_QUOTES and not (ch == "‘" and prev.isalnum()):
        return _OPEN_QUOTES[ch]
    if ch in _STRAIGHT and (prev in _QUOTE_OPEN_AFTER) and nxt.strip() and not nxt.isspace():
        return ch
    return None


def _split_paragraph(para: str) -> Iterator[str]:
    """The paragraph's sentences, lazily: a summary needs the first few, and a text without line breaks (one
    paragraph of 5,000 characters) was scanned to its end for them, most of a summary's time."""
    start = 0
    closer: str | None = None  # the mark that ends the open quotation
    opened = 0
    n = len(para)
    i = 0
    while i < n:
        ch = para[i]
        prev = para[i - 1] if i else " "
        nxt = para[i + 1] if i + 1 < n else " "
        if closer is None:
            closer = _opens_quote(ch, prev, nxt)
            opened = i
        elif ch == closer and not (prev.isalnum() and nxt.isalnum()):
            closer = None
            i += 1
            continue
        elif i - opened > _MAX_QUOTE:
            closer = None
        if ch in _ENDERS and (closer is None or i != opened):
            j = i + 1
            while j < n and para[j] in _ENDERS:
                j += 1
            while j < n and para[j] in _CLOSERS:
                if closer is not None and para[j] == closer:
                    closer = None
                j += 1
            if closer is None and _is_boundary(para, start, i, j):
                if sentence := para[start:j].strip():
                    yield sentence
                start = j
            i = j
            continue
        i += 1
    if tail := para[start:].strip():
        yield tail


_NEXT_WORD = re.compile(r"\s*(\S*)")  # read in place: a slice of the rest of a long paragraph per stop adds up


def _is_boundary(para: str, start: int, end_char: int, after: int) -> bool:
    ch = para[end_char]
    if ch in "。！？":
        # 「…。」と述べた: a quotation closed mid-sentence continues with a particle (hiragana), not a new sentence.
        return not (after < len(para) and para[after - 1] in _CLOSERS and "\u3040" <= para[after] <= "\u309f")
    if after >= len(para):
        return True
    if not para[after].isspace():
        return False
    following = match.group(1) if (match := _NEXT_WORD.match(para, after)) else ""
    nxt = following[:1]
    if not nxt or not (nxt.isupper() or nxt.isdigit() or nxt in "\"'“‘«„(¿¡" or _CJK.match(nxt)):
        return False
    if ch == ".":
        written = para[start:end_char].rsplit(None, 1)[-1].strip("(\"'“") if para[start:end_char].strip() else ""
        word = written.lower()
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            return False
        if re.fullmatch(r"(?:[a-z]\.)+[a-z]", word):
            return False
        # A name in capitals that has a stop in it: "the VW ID. SPACE VIZZION is…". A sentence that ends on a word
        # in capitals is followed by one in capitals far less often, and two sentences read as one lose less than
        # one cut in half (a summary that ends "…while the ID.").
        if len(written) >= 2 and written.isupper() and len(following) >= 2 and following.isupper():
            return False
    return True


def _tokens(text: str) -> list[str]:
    lowered = text.casefold()
    if _CJK.search(lowered):
        chars = [c for c in lowered if _CJK.match(c) or c.isalnum()]
        return [a + b for a, b in itertools.pairwise(chars)]
    return [w for w in _WORD.findall(lowered) if len(w) > 2 or w.isdigit()]


def _is_cjk(text: str) -> bool:
    return len(_CJK.findall(text[:400])) > 40


# "Tested by: … RRP: … More info: …": a line of labelled values (specs, credits), not prose.
_LABEL = re.compile(r"(?:^|\s)[^\W\d][\w'’-]*(?: [\w'’-]+){0,2}:\s")


def _usable(sentence: str, cjk: bool) -> bool:
    """A sentence worth showing: not a fragment, not a run-on caption dump, not site furniture, not a line of
    labelled values (two labels or more and no final stop), not a line that announces what follows it ("…, she
    wrote:" before an embedded post or a list the extraction left out: alone, it ends on nothing)."""
    length = len(sentence)
    if length < (8 if cjk else 30) or length > 600:
        return False
    if _FURNITURE.search(sentence):
        return False
    end = sentence.rstrip(_CLOSERS)[-1:]
    if end in ":：" or (end not in _ENDERS and len(_LABEL.findall(sentence)) >= 2):
        return False
    letters = sum(map(str.isalpha, sentence))
    return letters / length > 0.5


def _similar(a: set[str], b: set[str]) -> bool:
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) > 0.7


LEAD_WINDOW = 4  # sentences considered: news states its facts first, and going deeper measurably hurt
RANK_DECAY = 0.6  # how much less each later sentence of the window is worth
# A sentence that opens with a quotation is worth half: who speaks, and why it matters, come after it, so alone it
# tells a reader little. On the dev articles such sentences shared a third as many word pairs per character with the
# human highlights as the others (55 of 655 lead sentences); cross-validated with the two settings above, a weight
# of 0.5 was chosen in 12 of 15 folds (bench/summaries.py).
QUOTE_WEIGHT = 0.5
_OPENS_QUOTE = re.compile(r"^[\"'“‘«„「『]")


def summarize(
    text: str,
    *,
    max_sentences: int = 3,
    max_chars: int = 500,
    window: int = LEAD_WINDOW,
    decay: float = RANK_DECAY,
    quote_weight: float = QUOTE_WEIGHT,
) -> str:
    """Up to `max_sentences` of the article's own sentences, in article order, within `max_chars`.

    Budgeted lead selection: from the first few usable sentences, choose the in-order subset that fills the
    character budget best, each sentence weighted by 1 / (1 + RANK_DECAY * rank) (and QUOTE_WEIGHT when it opens
    with a quotation), skipping near-duplicates.
    Plain Lead-3 overruns any budget with a long third sentence; this keeps the lead's facts, swaps in a shorter
    neighbour when needed, and never cuts a sentence (or a quotation) in half.
    """
    cjk = _is_cjk(text)
    first: list[Sentence] = []
    usable: list[Sentence] = []
    for sentence in iter_sentences(text):  # only the lead is needed: never split a whole long article
        if len(first) < window:
            first.append(sentence)
        if _usable(sentence.text, cjk):
            usable.append(sentence)
        if len(usable) == window or sentence.index >= 200:
            break
    # A teaser of fragments has no "usable" sentence; then its own first sentences are the best we have, less any
    # furniture or a lone word (a Reddit link post's text is only "submitted by /u/… [link] [comments]", a Hacker
    # News item's only "Comments": no summary at all then).
    pool = usable or [s for s in first if not _FURNITURE.search(s.text) and (cjk or len(s.text.split()) > 1)]
    if not pool:
        return ""
    tokens = [set(_tokens(s.text)) for s in pool]
    worth = [
        len(s.text) / (1 + decay * i) * (quote_weight if _OPENS_QUOTE.match(s.text) else 1.0)
        for i, s in enumerate(pool)
    ]
    joiner = "" if len(_SPACELESS.findall(text[:400])) > 40 else " "
    best: tuple[int, ...] = ()
    best_score = 0.0
    for size in range(1, max_sentences + 1):
        for combo in itertools.combinations(range(len(pool)), size):
            length = sum(len(pool[i].text) for i in combo) + len(joiner) * (size - 1)
            if length > max_chars:
                continue
            if any(_similar(tokens[a], tokens[b]) for a, b in itertools.combinations(combo, 2)):
                continue
            score = sum(worth[i] for i in combo)
            if score > best_score:
                best, best_score = combo, score
    if not best:
        return _clip(pool[0].text, max_chars)
    return joiner.join(pool[i].text for i in best)


def _clip(sentence: str, max_chars: int) -> str:
    """A single over-long lead sentence is cut at a word boundary rather than dropped."""
    if len(sentence) <= max_chars:
        return sentence
    head = sentence[: max_chars - 1]
    space = head.rfind(" ")
    return (head[:space] if space > max_chars // 2 else head).rstrip(" ,;:") + "…"


def lead(text: str, count: int = 3) -> str:
    """The Lead-N baseline, for benchmarks."""
    return " ".join(s.text for s in split_sentences(text)[:count])
