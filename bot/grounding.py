"""Is a summary sentence grounded in its article? Names, numbers and quoted words must all appear in the article.

The check an abstractive (LLM) summary must pass sentence by sentence before it is posted, and the faithfulness
figure `bench/summaries.py` prints for every method. Deliberately lexical: a model that invents a name, a figure or
a quotation is caught; a paraphrase of ordinary words is not penalised. Pure, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.summarize import iter_sentences

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_QUOTED = re.compile(r"[\"\u201c\u201e\u00ab]([^\"\u201c\u201d\u201e\u00ab\u00bb]{2,200})[\"\u201d\u00bb]")
# A name: a capitalised word (any script with case) that is not the sentence's first word.
_WORD = re.compile(r"\b[^\W\d_][\w'\u2019-]*", re.UNICODE)


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def claims(sentence: str) -> list[str]:
    """What the sentence asserts that must come from the article: its numbers, quotations and names."""
    found = [n for n in _NUMBER.findall(sentence)]
    found += [q.strip() for q in _QUOTED.findall(sentence)]
    words = _WORD.findall(sentence)
    found += [w for w in words[1:] if w[:1].isupper()]
    return found


def name_runs(text: str) -> list[str]:
    """Multi-word names (two or more capitalised words in a row, not starting a sentence): "Ana Ruiz", "New
    York". A translation keeps them letter for letter, where single capitalised words (German nouns, weekdays,
    titles) may legitimately change."""
    runs: list[str] = []
    for sentence in iter_sentences(text):
        words = _WORD.findall(sentence.text)
        run: list[str] = []
        for word in [*words[1:], ""]:
            if word[:1].isupper():
                run.append(word)
                continue
            if len(run) >= 2:
                runs.append(" ".join(run))
            run = []
    return runs


def numbers_of(text: str) -> list[str]:
    return sorted(n.replace(",", "") for n in _NUMBER.findall(text))


def ungrounded(sentence: str, article: str) -> list[str]:
    """The claims of `sentence` that `article` does not contain (empty: the sentence is grounded)."""
    numbers = _numbers(article)
    folded = " ".join(article.split()).casefold()
    missing = []
    for claim in claims(sentence):
        if _NUMBER.fullmatch(claim):
            if claim.replace(",", "") not in numbers:
                missing.append(claim)
        elif " ".join(claim.split()).casefold() not in folded:
            missing.append(claim)
    return missing


def grounded_sentences(summary: str, article: str) -> Iterable[tuple[str, bool]]:
    for sentence in iter_sentences(summary):
        yield sentence.text, not ungrounded(sentence.text, article)


def faithfulness(summary: str, article: str) -> float:
    """Share of the summary's sentences whose names, numbers and quoted words all appear in the article."""
    verdicts = [ok for _, ok in grounded_sentences(summary, article)]
    return sum(verdicts) / len(verdicts) if verdicts else 1.0
