"""Summary quality against human highlights: newsbot's summarizer beside Lead-3, in the same run.

Usage: python bench/summaries.py DATASET_FILE   (JSON: id -> {"article", "reference"}; reference sentences " . ")

With --llm-base-url/--llm-model, an operator's model is a third method (through newsbot's grounding check and
fallback). Prints ROUGE-1/2/L F1 (rouge-score, stemming on), average length in characters and words, ms/article, and for
every method its faithfulness: the share of summary sentences whose names, numbers and quoted words all appear in
the article (`bot.grounding`, the check an abstractive summary must pass before it is posted).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rouge_score import rouge_scorer

from bot.grounding import faithfulness
from bot.summarize import LEAD_WINDOW, QUOTE_WEIGHT, RANK_DECAY, lead, summarize


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


def load(path: Path) -> list[tuple[str, str]]:
    """(article, reference) pairs from the dev file's shape (id -> {"article", "reference"}), a list of such
    records, or JSON lines; "highlights" is read as the reference too, as CNN/DailyMail's own releases name it.
    Records without both are left out, and counted."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = [json.loads(line) for line in text.splitlines() if line.strip()]
    records = list(data.values()) if isinstance(data, dict) else list(data)
    items = []
    for record in records:
        article = record.get("article") if isinstance(record, dict) else None
        reference = (record.get("reference") or record.get("highlights")) if isinstance(record, dict) else None
        if isinstance(article, str) and article.strip() and isinstance(reference, str) and reference.strip():
            items.append((article, " ".join(reference.split()).replace(" . ", ". ")))
    if len(items) < len(records):
        print(f"{len(records) - len(items)} records without an article and a reference were left out", file=sys.stderr)
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--llm-base-url", default="", help="an OpenAI-compatible endpoint to add as a method")
    parser.add_argument("--llm-model", default="")
    args = parser.parse_args()
    items = load(args.dataset)
    print(f"{len(items)} articles from {args.dataset}")
    print(
        f"{'method':<10}{'ROUGE-1':>9}{'ROUGE-2':>9}{'ROUGE-L':>9}{'chars':>8}{'words':>7}{'ms/art':>8}{'p95':>7}{'faithful':>10}"
    )
    methods: list[tuple[str, Callable[[str], str]]] = [("newsbot", summarize), ("Lead-3", lead)]
    if args.llm_base_url:
        methods.append(("LLM", llm_method(args.llm_base_url, args.llm_model)))
    for name, fn in methods:
        r = evaluate(fn, items)
        print(
            f"{name:<10}{r['rouge1']:>9.2f}{r['rouge2']:>9.2f}{r['rougeL']:>9.2f}{r['chars']:>8.0f}"
            f"{r['words']:>7.1f}{r['ms']:>8.2f}{r['ms_p95']:>7.2f}{r['faithful']:>9.1f}%"
        )
    cross_validate(items)


def llm_method(base_url: str, model: str) -> Callable[[str], str]:
    """newsbot's LLM path (grounding and fallback included) as a method: what an operator's model would post."""
    import asyncio

    import aiohttp

    from bot.config import SummariesSection
    from bot.llm import LLMSummarizer

    section = SummariesSection(provider="openai-compatible", base_url=base_url, model=model, timeout=60)

    async def one(article: str) -> str:
        async with aiohttp.ClientSession() as session:
            client = LLMSummarizer(session, section, section.api_key())
            text = await client.summarize("bench", "", article, max_sentences=3, max_chars=500)
            return text or summarize(article)

    return lambda article: asyncio.run(one(article))


def cross_validate(items: list[tuple[str, str]], folds: int = 5, seeds: tuple[int, ...] = (1, 2, 3)) -> None:
    """The summarizer's three settings (lead window, rank decay, quotation weight) chosen on k−1 folds and scored on
    the held-out one, against Lead-3 on the same articles: what choosing them on this data is worth on articles it
    has not seen. The quotation weight's 1.0 is the summarizer without it."""
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=True)
    grid = [(w, d, q) for w in (3, 4, 5, 6) for d in (0.3, 0.6, 1.0) for q in (1.0, 0.5, 0.25)]
    cache: dict[tuple[int, tuple[int, float, float] | None], tuple[float, float]] = {}

    def score(i: int, setting: tuple[int, float, float] | None) -> tuple[float, float]:
        if (i, setting) not in cache:
            article, reference = items[i]
            text = (
                lead(article)
                if setting is None
                else summarize(article, window=setting[0], decay=setting[1], quote_weight=setting[2])
            )
            s = scorer.score(reference, text)
            cache[(i, setting)] = (100 * s["rouge1"].fmeasure, 100 * s["rouge2"].fmeasure)
        return cache[(i, setting)]

    shipped = (LEAD_WINDOW, RANK_DECAY, QUOTE_WEIGHT)
    chosen: list[tuple[float, float]] = []
    fixed: list[tuple[float, float]] = []
    picks: dict[tuple[int, float, float], int] = {}
    for seed in seeds:
        order = list(range(len(items)))
        random.Random(seed).shuffle(order)
        parts = [order[k::folds] for k in range(folds)]
        for k, held in enumerate(parts):
            train = [i for j, part in enumerate(parts) if j != k for i in part]
            best = max(grid, key=lambda g: sum(sum(score(i, g)) for i in train))
            picks[best] = picks.get(best, 0) + 1
            for out, setting in ((chosen, best), (fixed, shipped)):
                gains = [tuple(a - b for a, b in zip(score(i, setting), score(i, None), strict=True)) for i in held]
                out.append((statistics.mean(g[0] for g in gains), statistics.mean(g[1] for g in gains)))
    print(f"\ncross-validation ({folds} folds × {len(seeds)} shuffles): newsbot − Lead-3 on held-out articles")
    for name, rows in ((f"shipped {shipped}", fixed), ("settings chosen by CV", chosen)):
        r1, r2 = [r[0] for r in rows], [r[1] for r in rows]
        print(
            f"  {name:<28} ROUGE-1 {statistics.mean(r1):+.2f} ± {statistics.stdev(r1):.2f}   "
            f"ROUGE-2 {statistics.mean(r2):+.2f} ± {statistics.stdev(r2):.2f}"
        )
    print(f"  picked: {picks}")


if __name__ == "__main__":
    main()
