"""Summary quality against human highlights: newsbot's summarizer beside Lead-3, in the same run.

Usage: python bench/summaries.py DATASET_FILE   (JSON: id -> {"article", "reference"}; reference sentences " . ")

Prints ROUGE-1/2/L F1 (rouge-score, stemming on), average length in characters and words, ms/article, and for
every method its faithfulness: the share of summary sentences whose names, numbers and quoted words all appear in
the article (`bot.grounding`, the check an abstractive summary must pass before it is posted).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rouge_score import rouge_scorer

from bot.grounding import faithfulness
from bot.summarize import lead, summarize


def evaluate(fn: Callable[[str], str], items: list[tuple[str, str]]) -> dict[str, float]:
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    r1, r2, rl, chars, words, ms, faithful = [], [], [], [], [], [], []
    for article, reference in items:
        start = time.perf_counter()
        summary = fn(article)
        ms.append((time.perf_counter() - start) * 1000)
        scores = scorer.score(reference, summary)
        r1.append(scores["rouge1"].fmeasure)
        r2.append(scores["rouge2"].fmeasure)
        rl.append(scores["rougeL"].fmeasure)
        faithful.append(faithfulness(summary, article))
        chars.append(len(summary))
        words.append(len(summary.split()))
    return {
        "rouge1": 100 * statistics.mean(r1),
        "rouge2": 100 * statistics.mean(r2),
        "rougeL": 100 * statistics.mean(rl),
        "faithful": 100 * statistics.mean(faithful),
        "chars": statistics.mean(chars),
        "words": statistics.mean(words),
        "ms": statistics.mean(ms),
        "ms_p95": sorted(ms)[max(0, int(len(ms) * 0.95) - 1)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path)
    args = parser.parse_args()
    data = json.loads(args.dataset.read_text(encoding="utf-8"))
    items = [
        (v["article"], v["reference"].replace(" . ", ". "))
        for v in data.values()
        if v.get("article") and v.get("reference")
    ]
    print(f"{len(items)} articles from {args.dataset}")
    print(
        f"{'method':<10}{'ROUGE-1':>9}{'ROUGE-2':>9}{'ROUGE-L':>9}{'chars':>8}{'words':>7}{'ms/art':>8}{'p95':>7}{'faithful':>10}"
    )
    for name, fn in (("newsbot", summarize), ("Lead-3", lead)):
        r = evaluate(fn, items)
        print(
            f"{name:<10}{r['rouge1']:>9.2f}{r['rouge2']:>9.2f}{r['rougeL']:>9.2f}{r['chars']:>8.0f}"
            f"{r['words']:>7.1f}{r['ms']:>8.2f}{r['ms_p95']:>7.2f}{r['faithful']:>9.1f}%"
        )


if __name__ == "__main__":
    main()
