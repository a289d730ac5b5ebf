"""Optional abstractive summaries and translations from an OpenAI-compatible endpoint, never trusted blindly.

Works with anything that speaks ``POST {base_url}/chat/completions`` (OpenAI, Ollama, llama.cpp's server, vLLM).
Every answer goes through ``bot.grounding``: a sentence whose names, numbers or quoted words are not in the article
is dropped, and an answer with nothing left is not used. Whatever goes wrong (no answer within ``timeout``, an
HTTP error, a 429, JSON that is not a chat completion, an ungrounded answer) the caller gets None and posts the
extractive summary it already has: a post is never blocked, and never later than the timeout. Answers are cached
per article and language, so a story posted to many channels costs one request per language.

The endpoint is the operator's own (often on localhost), so it is not subject to the address guard that protects
feed fetches from strangers' URLs. The API key comes from the environment and is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.config import SummariesSection
from bot.grounding import name_runs, numbers_of, ungrounded
from bot.metrics import Metrics
from bot.render import cut
from bot.summarize import iter_sentences

log = logging.getLogger(__name__)

_SUMMARY_PROMPT = (
    "Summarize the news article below in at most {sentences} short sentences and {chars} characters, in its own "
    "language. "
    "Use only facts stated in the article: keep every name, number and quotation exactly as written there. "
    "Answer with the summary only, no preamble."
)
_TRANSLATE_PROMPT = (
    "Translate this news summary into {language}. Keep every name and number exactly as written. "
    "Answer with the translation only."
)


class LLMError(Exception):
    """The endpoint gave no usable answer; ``outcome`` labels it in the metrics (timeout, http_429, …)."""

    def __init__(self, outcome: str, detail: str) -> None:
        super().__init__(detail)
        self.outcome = outcome


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


def parse_completion(payload: bytes) -> tuple[str, Usage]:
    """The answer text and token usage of a chat completion; LLMError("bad_answer") for anything else."""
    try:
        data = json.loads(payload)
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LLMError("bad_answer", f"not a chat completion ({type(exc).__name__})") from None
    if not isinstance(content, str) or not content.strip():
        raise LLMError("bad_answer", "the answer is empty")
    usage = data.get("usage") if isinstance(data, dict) else None
    tokens = usage if isinstance(usage, dict) else {}
    return content.strip(), Usage(_int(tokens.get("prompt_tokens")), _int(tokens.get("completion_tokens")))


def _int(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def grounded_summary(answer: str, article: str, *, max_sentences: int, max_chars: int) -> str | None:
    """The answer's sentences that the article supports, within the limits; None when none is left."""
    kept: list[str] = []
    for sentence in iter_sentences(" ".join(answer.split())):
        if ungrounded(sentence.text, article):
            continue
        if len(" ".join([*kept, sentence.text])) > max_chars or len(kept) == max_sentences:
            break
        kept.append(sentence.text)
    return " ".join(kept) or None


# Languages written in Latin script: a translation into one keeps names letter for letter; into others (Cyrillic,
# CJK, Arabic…) names are transliterated, so only numbers can be checked there.
_LATIN_SCRIPT = frozenset(
    "en de fr es it pt nl sv da no nb nn fi pl cs sk sl hr ro hu tr id ms vi ca eu gl et lv lt is ga cy sq".split()
)


def grounded_translation(answer: str, source: str, language: str) -> str | None:
    """A translation passes when it has exactly the source's numbers and, into a Latin-script language, every
    multi-word name of the source letter for letter (single capitalised words may change: German capitalises every
    noun, weekdays and titles are translated); into English, the sentence rule of the summaries applies too."""
    text = " ".join(answer.split())
    if numbers_of(text) != numbers_of(source):
        return None
    base = language.split("-")[0].lower()
    if base in _LATIN_SCRIPT and any(name not in text for name in name_runs(source)):
        return None
    if base == "en" and any(ungrounded(s.text, source) for s in iter_sentences(text)):
        return None
    return text


class LLMSummarizer:
    """One endpoint, a bounded number of requests at once, answers cached per (article, language)."""

    def __init__(
        self, session: aiohttp.ClientSession, config: SummariesSection, api_key: str, metrics: Metrics | None = None
    ) -> None:
        self._session = session
        self._config = config
        self._key = api_key
        self._metrics = metrics
        self._slots = asyncio.Semaphore(config.max_concurrency)
        self._cache: OrderedDict[tuple[str, str], str | None] = OrderedDict()
        self._cooldown_until = 0.0  # after a 429: no requests until then (Retry-After, else 30 s)

    async def summarize(self, key: str, title: str, article: str, *, max_sentences: int, max_chars: int) -> str | None:
        """A grounded abstractive summary of `article`, in the article's language (translation is separate, per
        subscription), or None: the caller keeps its extractive one."""
        cache_key = (key, "summary")
        if cache_key in self._cache:
            return self._recall(cache_key)
        prompt = _SUMMARY_PROMPT.format(sentences=max_sentences, chars=max_chars)
        text = f"{title}\n\n{article[: self._config.max_input_chars]}"
        answer = await self._ask(prompt, text)
        result = None
        if answer is not None:
            result = grounded_summary(answer, f"{title}\n{article}", max_sentences=max_sentences, max_chars=max_chars)
            if result is None:
                self._count("ungrounded")
                log.info("LLM summary of %s dropped: no sentence is supported by the article", key)
        self._remember(cache_key, result)
        return result

    async def translate(self, key: str, summary: str, language: str, *, max_chars: int) -> str | None:
        """`summary` in `language`, or None (the caller posts it untranslated)."""
        cache_key = (key, "translate:" + language)
        if cache_key in self._cache:
            return self._recall(cache_key)
        answer = await self._ask(_TRANSLATE_PROMPT.format(language=language), summary)
        result = grounded_translation(answer, summary, language) if answer is not None else None
        if answer is not None and result is None:
            self._count("ungrounded")
            log.info("LLM translation of %s into %s dropped: names or numbers changed", key, language)
        result = cut(result, max_chars) if result else None
        self._remember(cache_key, result)
        return result

    def _recall(self, key: tuple[str, str]) -> str | None:
        self._cache.move_to_end(key)
        return self._cache[key]

    def _remember(self, key: tuple[str, str], value: str | None) -> None:
        self._cache[key] = value
        while len(self._cache) > self._config.cache_size:
            self._cache.popitem(last=False)

    def _count(self, outcome: str, usage: Usage | None = None) -> None:
        if self._metrics is not None:
            self._metrics.observe_llm(
                outcome, usage.prompt_tokens if usage else 0, usage.completion_tokens if usage else 0
            )

    async def _ask(self, instruction: str, text: str) -> str | None:
        if time.monotonic() < self._cooldown_until:
            self._count("rate_limited")
            return None
        try:
            async with asyncio.timeout(self._config.timeout):
                async with self._slots:
                    answer, usage = await self._post(instruction, text)
        except TimeoutError:
            self._count("timeout")
            log.warning(
                "LLM endpoint gave no answer within %.1f s; posting the extractive summary", self._config.timeout
            )
            return None
        except LLMError as exc:
            self._count(exc.outcome)
            log.warning("LLM endpoint failed (%s); posting the extractive summary", exc)
            return None
        except aiohttp.ClientError as exc:
            self._count("unreachable")
            log.warning("LLM endpoint unreachable (%s); posting the extractive summary", type(exc).__name__)
            return None
        self._count("ok", usage)
        return answer

    async def _post(self, instruction: str, text: str) -> tuple[str, Usage]:
        body = {
            "model": self._config.model,
            "messages": [{"role": "system", "content": instruction}, {"role": "user", "content": text}],
            "temperature": 0,
            "max_tokens": 400,
        }
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        url = self._config.base_url.rstrip("/") + "/chat/completions"
        async with self._session.post(url, json=body, headers=headers) as response:
            payload = await response.content.read(1_000_000)
            if response.status == 429:
                retry = response.headers.get("Retry-After", "")
                self._cooldown_until = time.monotonic() + (float(retry) if retry.isdigit() else 30.0)
                raise LLMError("http_429", "rate limited (429)")
            if response.status >= 400:
                raise LLMError(f"http_{response.status // 100}xx", f"HTTP {response.status}")
        return parse_completion(payload)


@contextlib.asynccontextmanager
async def open_llm(config: SummariesSection, metrics: Metrics | None = None) -> AsyncIterator[LLMSummarizer | None]:
    """The configured endpoint's client, or None when summaries are extractive only."""
    if config.provider != "openai-compatible":
        yield None
        return
    connector = aiohttp.TCPConnector(limit=config.max_concurrency + 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        log.info(
            "abstractive summaries from %s (model %s), grounded; extractive on any failure",
            config.base_url,
            config.model,
        )
        yield LLMSummarizer(session, config, config.api_key(), metrics)
