"""Article-body extraction measured with the article-extraction-benchmark metric.

Usage: python bench/extraction.py DATASET_DIR   (a folder with html/<id>.html.gz and ground-truth.json)

Prints precision, recall and F1 of 4-word shingles (mean precision and mean recall over pages, F1 their harmonic
mean, as the benchmark computes it) and ms/page, for newsbot's extractor and for a plain all-visible-text baseline,
in the same run.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import lxml.html

from bot.extract import extract

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


def newsbot(html: bytes, url: str) -> str:
    result = extract(html, url)
    return result.text if result else ""


def run(name: str, fn: Callable[[bytes, str], str], pages: list[tuple[bytes, str, str]]) -> dict[str, float]:
    precisions, recalls, times = [], [], []
    for html, url, truth in pages:
        start = time.perf_counter()
        text = fn(html, url)
        times.append((time.perf_counter() - start) * 1000)
        p, r = precision_recall(text, truth)
        precisions.append(p)
        recalls.append(r)
    p, r = statistics.mean(precisions), statistics.mean(recalls)
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": p,
        "recall": r,
        "f1": f1,
        "ms_page": statistics.mean(times),
        "ms_p95": sorted(times)[int(len(times) * 0.95) - 1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path)
    args = parser.parse_args()
    truth = json.loads((args.dataset / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id, item in sorted(truth.items()):
        path = args.dataset / "html" / f"{page_id}.html.gz"
        if path.exists():
            pages.append((gzip.decompress(path.read_bytes()), item.get("url") or "", item.get("articleBody") or ""))
    print(f"{len(pages)} pages from {args.dataset}")
    print(f"{'method':<22}{'precision':>10}{'recall':>10}{'F1':>8}{'ms/page':>10}{'p95 ms':>9}")
    for name, fn in (("newsbot (trafilatura)", newsbot), ("all visible text", visible_text)):
        r = run(name, fn, pages)
        print(
            f"{name:<22}{r['precision']:>10.3f}{r['recall']:>10.3f}{r['f1']:>8.3f}{r['ms_page']:>10.1f}"
            f"{r['ms_p95']:>9.1f}"
        )


if __name__ == "__main__":
    main()
