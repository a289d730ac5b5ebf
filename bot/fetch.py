"""HTTP retrieval for feeds and article pages: polite, bounded, and safe about where it connects.

Everything a stranger's server can do to us is bounded here: time (one deadline for the whole redirect chain, body
included), size (counted after decompression, so a gzip bomb stops at the limit), redirects (checked hop by hop
against the address policy), and load on one host (a per-host semaphore, held before the clock starts so waiting
in line never counts as a timeout). Failures come back as ``FetchError`` with a one-line reason for admins.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import email.utils
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver

from bot.config import Config
from bot.netguard import AddressPolicy, GuardedResolver, UnsafeAddress, refusal_for_url

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str  # where the body finally came from
    status: int  # 200, or 304 when the validators matched
    body: bytes  # empty on 304
    content_type: str
    etag: str | None
    last_modified: str | None
    permanent_url: str | None  # set when every hop was a permanent redirect: the feed moved
    seconds: float = 0.0  # the request itself, from holding a slot to the last byte (queueing not counted)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchError(Exception):
    """A fetch that failed for a reason worth telling an admin in one line."""

    def __init__(self, reason: str, *, retry_after: float | None = None, gone: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after  # seconds the server asked us to wait
        self.gone = gone  # the server said the resource is permanently gone (410)
        self.seconds = 0.0  # how long the failed request took (a timeout: the whole timeout)


def parse_retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


class Fetcher:
    """One shared aiohttp session with the global and per-host limits every request goes through."""

    def __init__(self, session: aiohttp.ClientSession, config: Config, policy: AddressPolicy) -> None:
        self._session = session
        self._fetch = config.fetch
        self._policy = policy
        self._global = asyncio.Semaphore(config.polling.concurrency)
        self._per_host_limit = config.polling.per_host_concurrency
        self._hosts: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, config: Config, resolver: AbstractResolver | None = None) -> AsyncIterator[Fetcher]:
        policy = AddressPolicy.from_strings(config.network.allow_private, config.network.allowed_networks)
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(policy, resolver),
            limit=config.polling.concurrency + 8,
            ttl_dns_cache=300,
            enable_cleanup_closed=True,
        )
        async with aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": config.fetch.user_agent},
        ) as session:
            yield cls(session, config, policy)

    @property
    def policy(self) -> AddressPolicy:
        return self._policy

    @contextlib.asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        # Semaphores are created on demand and dropped when idle so thousands of hosts cost nothing at rest.
        sem, users = self._hosts.setdefault(host, (asyncio.Semaphore(self._per_host_limit), [0]))
        users[0] += 1
        try:
            # The host's turn first, then a global slot: a request queued behind a slow host must not sit on a
            # global slot meanwhile (measured: one slow host otherwise idles the slots of everyone else).
            async with sem, self._global:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                self._hosts.pop(host, None)

    async def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None, accept: str = FEED_ACCEPT
    ) -> FetchResult:
        reason = refusal_for_url(url, self._policy)
        if reason:
            raise FetchError(reason)
        host = (urlsplit(url).hostname or "").lower()
        async with self._slot(host):
            started = time.monotonic()
            try:
                result = await self._request(url, host, etag, last_modified, accept)
            except FetchError as exc:
                exc.seconds = time.monotonic() - started
                raise
            return dataclasses.replace(result, seconds=time.monotonic() - started)

    async def _request(
        self, url: str, host: str, etag: str | None, last_modified: str | None, accept: str
    ) -> FetchResult:
        """One fetch with its redirects; every failure becomes a FetchError with a reason for admins."""
        try:
            async with asyncio.timeout(self._fetch.timeout):
                return await self._follow(url, etag, last_modified, accept)
        except TimeoutError:
            raise FetchError(f"timed out after {self._fetch.timeout:g} s") from None
        except UnsafeAddress as exc:
            raise FetchError(str(exc)) from None
        except aiohttp.ClientConnectorError as exc:
            raise FetchError(_connect_reason(exc, host)) from None
        except aiohttp.ClientPayloadError as exc:
            raise FetchError(f"broken response body ({_short(exc)})") from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise FetchError(f"request failed ({_short(exc)})") from None

    async def _follow(self, url: str, etag: str | None, last_modified: str | None, accept: str) -> FetchResult:
        seen = {url}
        permanent: bool | None = None
        for _hop in range(self._fetch.max_redirects + 1):
            headers = {"Accept": accept}
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
            async with self._session.get(url, headers=headers, allow_redirects=False) as resp:
                if resp.status in (301, 302, 303, 307, 308):
                    target = resp.headers.get("Location")
                    if not target:
                        raise FetchError(f"HTTP {resp.status} redirect without a Location")
                    target = urljoin(url, target)
                    reason = refusal_for_url(target, self._policy)
                    if reason:
                        raise FetchError(f"redirect to {target} {reason}")
                    if target in seen:
                        raise FetchError(f"redirect loop at {target}")
                    seen.add(target)
                    permanent = (permanent is not False) and resp.status in (301, 308)
                    url = target
                    continue
                return await self._finish(resp, url, url if permanent else None)
        raise FetchError(f"more than {self._fetch.max_redirects} redirects")

    async def _finish(self, resp: aiohttp.ClientResponse, url: str, moved_to: str | None) -> FetchResult:
        etag = resp.headers.get("ETag")
        modified = resp.headers.get("Last-Modified")
        if resp.status == 304:
            return FetchResult(url, 304, b"", "", etag, modified, moved_to)
        if resp.status in (429, 503):
            wait = parse_retry_after(resp.headers.get("Retry-After"), time.time())
            raise FetchError(f"HTTP {resp.status} {resp.reason or ''}".strip(), retry_after=wait)
        if resp.status >= 400:
            raise FetchError(f"HTTP {resp.status} {resp.reason or ''}".strip(), gone=resp.status == 410)
        if resp.status != 200:
            raise FetchError(f"unexpected HTTP {resp.status}")
        limit = self._fetch.max_body_bytes
        if resp.content_length is not None and resp.content_length > limit:
            raise FetchError(f"response is {resp.content_length:,} bytes, over the {limit:,} byte limit")
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(65536):
            size += len(chunk)
            if size > limit:
                raise FetchError(f"response is over the {limit:,} byte limit")
            chunks.append(chunk)
        return FetchResult(url, 200, b"".join(chunks), resp.headers.get("Content-Type", ""), etag, modified, moved_to)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _connect_reason(exc: aiohttp.ClientConnectorError, host: str) -> str:
    cause = exc.os_error if isinstance(exc.os_error, BaseException) else exc.__cause__
    if isinstance(cause, UnsafeAddress):
        return str(cause)
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"cannot resolve host {host}"
    return f"cannot connect to {host} ({_short(cause or exc)})"
