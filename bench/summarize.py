"""Extract + summarize throughput on one core: articles/s, median and p95 ms per article.

    python bench/summarize.py [DATASET_DIR] [--repeat N]
        DATASET_DIR: html/*.html.gz as in shared/data/extraction-dev; default: 200 generated ~50 KB farm pages
        --repeat: passes over the pages (default 5); articles/s is the median pass, with the slowest and fastest

Beside it, in the same run: lxml parsing plus all visible text of the same pages (the floor any extractor pays).
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import lxml.etree
import lxml.html

from bot.extract import extract
from bot.summarize import summarize


def farm_pages(count: int) -> list[tuple[bytes, str]]:
    import asyncio

    from aiohttp.test_utils import make_mocked_request
    from farm import Farm, FarmSpec

    farm = Farm(FarmSpec(feeds=count, latency=(0, 0)))
    pages = []
    for i in range(count):
        request = make_mocked_request("GET", f"/article/{i}/1", match_info={"i": str(i), "n": "1"})
        response = asyncio.run(farm.handle_article(request))
        assert isinstance(response.body, bytes)
        pages.append((response.body, f"http://127.0.0.1/article/{i}/1"))
    return pages


def newsbot(html: bytes, url: str) -> str:
    page = extract(html, url)
    return summarize(page.text) if page else ""


def newsbot_from_feed(html: bytes, url: str) -> str:
    """As the poller calls it for a feed entry that carries its title, author and date (most do)."""
    page = extract(html, url, known=frozenset({"title", "author", "published", "site_name"}))
    return summarize(page.text) if page else ""


def visible_text(html: bytes, url: str) -> str:
    try:
        return str(lxml.html.document_fromstring(html).text_content())
    except lxml.etree.ParserError:  # an empty page: lxml refuses it, the floor costs nothing there
        return ""


def timed(fn: Callable[[bytes, str], str], pages: list[tuple[bytes, str]]) -> list[float]:
    """Per-page milliseconds of one pass."""
    out = []
    for html, url in pages:
        t0 = time.perf_counter()
        fn(html, url)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", nargs="?", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.dataset:
        pages = []
        for path in sorted((args.dataset / "html").glob("*.html.gz")):
            try:
                pages.append((gzip.decompress(path.read_bytes()), "https://example.com/"))
            except (OSError, EOFError) as error:  # a truncated or plain file is left out, and said so
                print(f"{path}: {error}", file=sys.stderr)
        source = str(args.dataset)
    else:
        pages = farm_pages(200)
        source = "200 generated farm pages"
    size = statistics.mean(len(h) for h, _ in pages) / 1024
    print(f"{len(pages)} pages from {source}, {size:.0f} KB on average, one core")
    print(f"{'method':<32}{'articles/s (min–max)':>24}{'median ms':>11}{'p95 ms':>9}")
    methods = (
        ("newsbot extract + summarize", newsbot),
        ("  the same, feed gave metadata", newsbot_from_feed),
        ("lxml parse + visible text", visible_text),
    )
    for _, fn in methods:
        fn(*pages[0])  # a worker process pays its imports once, not per article
    # Passes alternate between the methods, so a machine that speeds up or slows down mid-run moves both.
    passes: dict[str, list[list[float]]] = {name: [] for name, _ in methods}
    for _ in range(args.repeat):
        for name, fn in methods:
            passes[name].append(timed(fn, pages))
    for name, _ in methods:
        rates = sorted(len(pages) / (sum(ms) / 1000) for ms in passes[name])
        ms = sorted(m for one in passes[name] for m in one)
        p95 = ms[max(0, int(len(ms) * 0.95) - 1)]
        spread = f"{statistics.median(rates):.1f} ({rates[0]:.1f}–{rates[-1]:.1f})"
        print(f"{name:<32}{spread:>24}{statistics.median(ms):>11.1f}{p95:>9.1f}")
    ratios = [sum(a) / sum(b) for a, b in zip(passes[methods[0][0]], passes[methods[-1][0]], strict=True)]
    print(f"newsbot takes {statistics.median(ratios):.1f}x the time of lxml parse + visible text (median of passes):")
    print("the machine-independent figure; this shared machine's speed drifts by a third between runs")


if __name__ == "__main__":
    main()
