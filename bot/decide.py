"""Which entries of a fetched feed are new, and who gets each of them: pure decisions, no I/O.

The poller has a worker process ``examine`` the fetched document (parse, identities, plain text: all the CPU work),
asks the store which identities it already has, calls ``decide_new``, and hands the result to the store to write in
one transaction. Keeping this pure means every rule about duplicates, floods and filters is tested with plain data.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.htmltext import text_and_links
from bot.models import Article, Entry, Feed, ParsedFeed, Subscription
from bot.parse import parse_feed
from bot.urls import entry_key, former_key, link_key, story_key


@dataclass(frozen=True, slots=True)
class Candidate:
    entry: Entry
    key: str
    story_key: str
    text: str  # the entry's HTML as plain text, made where the parsing runs (a worker process)
    former: str | None = None  # the key this entry had before a rule re-spelled it (see bot.urls), if different;
    # the store counts it known only if the article stored under it had this entry's link (Store.known_identities)
    links_only: bool = False  # its HTML is only links to other stories (`bot.htmltext.link_list`): no summary

    def known(self, keys: set[str], stories: set[str]) -> bool:
        """Seen before: by its key, its former key, or its story (a feed that rotates guids)."""
        return self.key in keys or self.former in keys or self.story_key in stories

    def to_post(self, deliver_to: tuple[int, ...]) -> NewArticle:
        return NewArticle(self.entry, self.key, self.story_key, self.text, deliver_to, self.links_only)


@dataclass(frozen=True, slots=True)
class NewArticle:
    entry: Entry
    key: str
    story_key: str
    text: str  # the feed's own text for the entry, plain
    deliver_to: tuple[int, ...]  # subscription ids that should post it
    links_only: bool = False  # the feed's text is only links to other stories: the post has no summary


@dataclass(frozen=True, slots=True)
class Examined:
    title: str
    candidates: list[Candidate]
    language: str = ""  # the feed's declared language


def examine(body: bytes, url: str, content_type: str, feed_id: int, max_items: int) -> Examined:
    """Everything about a fetched feed document that needs no database. Runs in a worker process, so it takes and
    returns plain picklable data; the parse errors it raises (``ParseError``) pickle too.

    Every entry gets its text, new or not: knowing which are new needs the database, and a second trip to the
    worker would cost more than the text of the known ones (~30 µs each, on the worker's core, not the loop's)."""
    parsed = parse_feed(body, url, content_type, max_items=max_items)
    # Identities and text are made, so the HTML is not needed past this point; leaving it here halves what
    # crosses back to the event loop's process (and what it must unpickle).
    found = candidates(parsed, feed_id)
    return Examined(parsed.title, [replace(c, entry=replace(c.entry, content_html="")) for c in found], parsed.language)


def candidates(parsed: ParsedFeed, feed_id: int) -> list[Candidate]:
    """Identities for each entry, repaired where a feed reuses one guid for several items; empty items dropped.

    An entry's former key is offered only when no other entry of the document shares it: where the old rule
    merged several items (anchors on one page), the stored article cannot say which of them it was, and trusting
    it would keep all of them unposted forever."""
    kept: list[tuple[Entry, str, bool]] = []
    for entry in parsed.entries:
        if entry.title or entry.link or entry.content_html.strip():
            kept.append((entry, *text_and_links(entry.content_html)))
        # else: nothing to show or to identify, debris of a broken document
    keys = [entry_key(e, text) for e, text, _ in kept]
    # Only a fragment or a content hash re-spelled a key: every other former key is the key itself (cheap to skip).
    formers = [former_key(e) if "#" in key or ":h:" in key else key for (e, *_), key in zip(kept, keys, strict=True)]
    counts, former_counts = Counter(keys), Counter(formers)
    out: list[Candidate] = []
    seen: set[str] = set()
    for (entry, text, links_only), key, former in zip(kept, keys, formers, strict=True):
        if counts[key] > 1:
            key = link_key(entry) or key
        if key in seen:
            continue
        seen.add(key)
        alias = former if former != key and former_counts[former] == 1 else None
        out.append(Candidate(entry, key, story_key(entry, feed_id, text), text, alias, links_only))
    return out


def chronological(items: Sequence[Candidate]) -> list[Candidate]:
    """Oldest first: by date when every item has one, else the reverse of document order (feeds list newest first)."""
    if items and all(c.entry.published for c in items):
        # Items sharing a date keep the document's order among themselves, reversed: the top one is newest.
        order = sorted(enumerate(items), key=lambda pair: (pair[1].entry.published, -pair[0]))
        return [cand for _, cand in order]
    return list(reversed(items))


def _words(values: Iterable[str]) -> list[re.Pattern[str]]:
    return [re.compile(rf"(?<!\w){re.escape(v.casefold())}(?!\w)") for v in values if v.strip()]


def passes_filters(sub: Subscription, title: str, text: str) -> bool:
    """Include words: at least one must appear; exclude words: none may. Whole words, any case."""
    haystack = f"{title}\n{text}".casefold()
    include = _words(sub.include_words)
    if include and not any(p.search(haystack) for p in include):
        return False
    return not any(p.search(haystack) for p in _words(sub.exclude_words))


def decide_new(
    feed: Feed,
    found: Sequence[Candidate],
    known_keys: set[str],
    known_stories: set[str],
    subscriptions: Sequence[Subscription],
    now: datetime,
    *,
    initial_posts: int,
    max_age: timedelta,
) -> list[NewArticle]:
    """New articles, oldest first, each with the subscriptions that should post it.

    - Known identity (or its former spelling) or known story (a feed that rotates guids) means seen: never posted
      again.
    - Before the feed's first successful fetch, everything is recorded but only the newest `initial_posts` post.
    - Items older than `max_age` are recorded, never posted; paused subscriptions skip what arrives meanwhile.
    """
    fresh = chronological([c for c in found if not c.known(known_keys, known_stories)])
    allowed = len(fresh) if feed.initialized else initial_posts
    first_postable = max(0, len(fresh) - allowed)
    active = [s for s in subscriptions if s.paused_reason is None]
    out: list[NewArticle] = []
    for index, cand in enumerate(fresh):
        targets: tuple[int, ...] = ()
        if index >= first_postable:
            targets = tuple(
                s.id for s in active if postable(s, cand.entry.title, cand.text, cand.entry.published, now, max_age)
            )
        out.append(cand.to_post(targets))
    return out


def postable(
    sub: Subscription, title: str, text: str, published: datetime | None, now: datetime, max_age: timedelta
) -> bool:
    """The one rule for "would this subscription post this item": its filters pass and it is not too old."""
    too_old = published is not None and published < now - max_age
    return not too_old and passes_filters(sub, title, text)


def backfill(
    sub: Subscription, recent: Sequence[Article], now: datetime, *, max_age: timedelta, count: int
) -> list[Article]:
    """What a channel gets when it follows a feed others already follow: the newest `count` stored articles
    (`recent` is newest first) that this subscription would have posted, oldest first."""
    chosen = [a for a in recent if postable(sub, a.title, f"{a.summary}\n{a.body}", a.published, now, max_age)]
    return list(reversed(chosen[:count]))


def preview_choice(
    found: Sequence[Candidate], sub: Subscription, now: datetime, *, max_age: timedelta
) -> Candidate | None:
    """The item a preview shows: the newest this subscription would post (filters and age), None if none."""
    for cand in reversed(chronological(found)):
        if postable(sub, cand.entry.title, cand.text, cand.entry.published, now, max_age):
            return cand
    return None
