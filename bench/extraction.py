"""Article-body extraction measured with the article-extraction-benchmark metric.

Usage: python bench/extraction.py DATASET_DIR   (a folder with html/<id>.html.gz and ground-truth.json)

Prints precision, recall and F1 of 4-word shingles (mean precision and mean recall over pages, F1 their harmonic
mean, as the benchmark computes it) and ms/page, in the same run, for newsbot's extractor in each of trafilatura's
three modes (newsbot ships `bot.extract.MODE`), trafilatura itself in its precision and balanced modes (its
defaults, fallbacks on, tables off as in newsbot, without newsbot's passes), jusText (another extractor, the one
trafilatura falls back to) and a plain all-visible-text baseline.

Then the choice of mode by 5-fold cross-validation: per fold, the mode with the best F1 on the other four folds is
scored on the held-out one; it prints each mode's per-fold mean and spread and the cross-validated estimate of
"pick the best mode on the data you have", which is what a mode chosen on these pages is worth on new ones.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import get_args

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import lxml.html

from bot.extract import MODE, Mode, extract
from bot.xpathrules import stock_rules

_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return Counter(tuple(words[i : i + n]) for i in range(max(0, len(words) - n + 1)))


def precision_recall(predicted: str, truth: str) -> tuple[float, float]:
    pred, true = shingles(predicted), shingles(truth)
    if not pred and not true:
        return 1.0, 1.0
    if not pred or not true:
        return 0.0, 0.0
    overlap = sum((pred & true).values())
    return overlap / sum(pred.values()), overlap / sum(true.values())


def visible_text(html: bytes, url: str) -> str:
    doc = lxml.html.document_fromstring(html)
    for bad in doc.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    return doc.text_content()


def newsbot(mode: Mode) -> Callable[[bytes, str], str]:
    def run(html: bytes, url: str) -> str:
        result = extract(html, url, mode=mode)
        return result.text if result else ""

    return run


def trafilatura_own(focus: str) -> Callable[[bytes, str], str]:
    """trafilatura itself, defaults (fallbacks on) except tables, which are off as in newsbot (on the dev pages,
    tables on moved trafilatura's precision mode +0.002 and its balanced mode −0.002, and newsbot's one page), no
    newsbot pass around it, with its own XPath rules: the reference newsbot must beat."""

    def run(html: bytes, url: str) -> str:
        import trafilatura

        with stock_rules():  # its own XPath rules, not newsbot's compiled ones (same output, newsbot's speed)
            text = trafilatura.extract(
                html,
                url=url or None,
                include_comments=False,
                include_tables=False,
                favor_precision=focus == "precision",
                favor_recall=focus == "recall",
            )
        return text or ""

    return run


def justext_text(html: bytes, url: str) -> str:
    import justext

    paragraphs = justext.justext(html, justext.get_stoplist("English"))
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def f1_of(scores: list[tuple[float, float]]) -> float:
    p = statistics.mean(s[0] for s in scores)
    r = statistics.mean(s[1] for s in scores)
    return 2 * p * r / (p + r) if p + r else 0.0


def cross_validate(per_page: dict[str, list[tuple[float, float]]], folds: int = 5, seed: int = 7) -> None:
    for repeat in range(3):
        _cross_validate(per_page, folds, seed + repeat)


def _cross_validate(per_page: dict[str, list[tuple[float, float]]], folds: int, seed: int) -> None:
    """Method selection by k-fold cross-validation over pages (newsbot's modes, trafilatura's own), and spreads."""
    count = len(next(iter(per_page.values())))
    order = list(range(count))
    random.Random(seed).shuffle(order)
    parts = [order[k::folds] for k in range(folds)]
    by_mode: dict[str, list[float]] = {m: [] for m in per_page}
    chosen_scores: list[float] = []
    picks: Counter[str] = Counter()
    for k, held in enumerate(parts):
        train = [i for j, part in enumerate(parts) if j != k for i in part]
        best = max(per_page, key=lambda m: f1_of([per_page[m][i] for i in train]))
        picks[best] += 1
        chosen_scores.append(f1_of([per_page[best][i] for i in held]))
        for mode, scores in per_page.items():
            by_mode[mode].append(f1_of([scores[i] for i in held]))
    print(f"\n{folds}-fold cross-validation over {count} pages (seed {seed}): held-out F1, mean ± sd over folds")
    for mode, values in by_mode.items():
        print(f"  {mode:<28}{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}")
    shipped = next(m for m in per_page if "shipped" in m)
    for mode in by_mode:
        if mode != shipped:
            diffs = [a - b for a, b in zip(by_mode[shipped], by_mode[mode], strict=True)]
            print(f"  shipped − {mode}: {statistics.mean(diffs):+.3f} ± {statistics.stdev(diffs):.3f} (paired by fold)")
    spread = statistics.stdev(chosen_scores)
    print(f"  {'CV-selected mode':<28}{statistics.mean(chosen_scores):.3f} ± {spread:.3f}   picked: {dict(picks)}")


def run(
    name: str, fn: Callable[[bytes, str], str], pages: list[tuple[bytes, str, str]]
) -> tuple[dict[str, float], list[tuple[float, float]]]:
    precisions, recalls, times = [], [], []
    failed = 0
    for html, url, truth in pages:
        start = time.perf_counter()
        try:
            text = fn(html, url)
        except Exception as error:  # one page a method cannot read scores 0, and the run goes on
            failed += 1
            print(f"  {name}: {type(error).__name__}: {error}"[:200], file=sys.stderr)
            text = ""
        times.append((time.perf_counter() - start) * 1000)
        p, r = precision_recall(text, truth)
        precisions.append(p)
        recalls.append(r)
    p, r = statistics.mean(precisions), statistics.mean(recalls)
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    summary = {
        "precision": p,
        "recall": r,
        "f1": f1,
        "ms_page": statistics.mean(times),
        "ms_p95": sorted(times)[max(0, int(len(times) * 0.95) - 1)],
        "failed": failed,
    }
    return summary, list(zip(precisions, recalls, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path)
    args = parser.parse_args()
    truth = json.loads((args.dataset / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    missing = 0
    for page_id, item in sorted(truth.items()):
        path = args.dataset / "html" / f"{page_id}.html.gz"
        if not path.exists():
            missing += 1
            continue
        try:
            html = gzip.decompress(path.read_bytes())
        except (OSError, EOFError) as error:  # a truncated or plain file: counted, not fatal
            print(f"{path}: {error}", file=sys.stderr)
            missing += 1
            continue
        pages.append((html, item.get("url") or "", item.get("articleBody") or ""))
    unread = f" ({missing} listed but unreadable or absent)" if missing else ""
    print(f"{len(pages)} pages from {args.dataset}{unread}")
    print(f"{'method':<30}{'precision':>10}{'recall':>10}{'F1':>8}{'ms/page':>10}{'p95 ms':>9}")
    methods: list[tuple[str, Callable[[bytes, str], str]]] = [
        (f"newsbot {mode}{' (shipped)' if mode == MODE else ''}", newsbot(mode)) for mode in get_args(Mode)
    ]
    methods += [(f"trafilatura {focus}", trafilatura_own(focus)) for focus in ("precision", "balanced")]
    methods += [("jusText", justext_text), ("all visible text", visible_text)]
    per_page: dict[str, list[tuple[float, float]]] = {}
    for name, fn in methods:
        r, scores = run(name, fn, pages)
        if name.startswith(("newsbot", "trafilatura")):
            per_page[name] = scores
        print(
            f"{name:<30}{r['precision']:>10.3f}{r['recall']:>10.3f}{r['f1']:>8.3f}{r['ms_page']:>10.1f}"
            f"{r['ms_p95']:>9.1f}" + (f"   ({r['failed']} pages raised: scored 0)" if r["failed"] else "")
        )
    cross_validate(per_page)


if __name__ == "__main__":
    main()
