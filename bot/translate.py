"""A summary in the language a server or subscription asked for: one place for posts and `/news summarize`.

Which language: the subscription's own, else its server's (`/feed language`), else the operator's
``[summaries] language``; "none" at a Discord level means as written (`bot.language.AS_WRITTEN`). How: the stored
translation of that exact text (any process may have made it), else the model's, checked by
`bot.llm.grounded_translation` and then stored. Never in the way: no model, an article already in that language
(`bot.language.already_in`), a refused or late translation all leave the summary as written.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from typing import Protocol

from bot.language import AS_WRITTEN, already_in
from bot.llm import LLMSummarizer
from bot.models import Article


class TranslationStore(Protocol):
    async def translation(self, source: str, language: str) -> str | None: ...

    async def save_translation(self, source: str, language: str, text: str, now: float) -> None: ...


class Translations:
    def __init__(
        self,
        store: TranslationStore,
        translator: LLMSummarizer | None,
        default: str,
        *,
        max_chars: int,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._translator = translator
        self._default = default  # the operator's `[summaries] language`
        self._max_chars = max_chars
        self._clock = clock

    @property
    def available(self) -> bool:
        """Whether a model is configured: without one every summary is posted as written."""
        return self._translator is not None

    def language_for(self, asked: str) -> str:
        """The language to translate into when a subscription or server asked for `asked` ("" = the operator's
        default), or "" for as written."""
        language = asked or self._default
        return "" if language == AS_WRITTEN else language

    async def into(self, article: Article, asked: str, key: str) -> Article:
        """`article` with its summary in the language `asked` resolves to, else unchanged. `key` names the article
        for the model's in-memory cache (its story key, a delivery id, a URL)."""
        language = self.language_for(asked)
        if self._translator is None or not language or not article.summary or already_in(article.language, language):
            return article
        source = hashlib.sha256(article.summary.encode()).hexdigest()
        text = await self._store.translation(source, language)
        if text is None:
            text = await self._translator.translate(key, article.summary, language, max_chars=self._max_chars)
            if text:
                await self._store.save_translation(source, language, text, self._clock())
        return dataclasses.replace(article, summary=text) if text else article
