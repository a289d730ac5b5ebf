"""The small protocol the store's shared SQL runs on, implemented once per database (``sqlite``, ``postgres``).

The store writes its SQL once, with ``?`` placeholders and the subset both databases speak (``ON CONFLICT``,
``RETURNING``, window functions); a backend runs it and supplies the few pieces that differ: full-text search,
row locking for leases, the wake-up between processes, and housekeeping after bulk updates. Rows come back as
mappings (``aiosqlite.Row`` / ``asyncpg.Record``, both indexable by name and position) and never leave the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

Row = Any  # aiosqlite.Row or asyncpg.Record: r["column"], r[0], r.keys()

TABLES = ("feeds", "subscriptions", "articles", "deliveries", "meta", "guild_settings")  # in foreign-key order
OUTBOX_CHANNEL = "newsbot_outbox"  # PostgreSQL NOTIFY channel: new deliveries; payload = comma-separated guild ids
_KEYS = {"meta": "key", "guild_settings": "guild_id"}  # tables keyed by something other than an `id`
POLL_CHANNEL = "newsbot_poll"  # PostgreSQL NOTIFY channel: a feed became due now (followed, resumed)


class Conn(Protocol):
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns the rows it changed."""

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    async def insert_new(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert many rows, skipping those that conflict with a unique key, in one statement where the database
        allows (PostgreSQL: one ``INSERT … SELECT FROM unnest(arrays)``, far cheaper per row than one execute
        each)."""

    async def fetch(self, sql: str, params: Sequence[Any] = (), *, write: bool = False) -> list[Row]:
        """Rows of a query; ``write`` marks an ``UPDATE … RETURNING`` run outside a transaction."""

    async def fetchrow(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    async def notify(self, channel: str, payload: str) -> None:
        """Tell every process (on commit, inside a transaction); a no-op where only one process runs."""


class Backend(Conn, Protocol):
    name: str  # "sqlite" or "postgresql", for logs and metrics
    for_update: str  # row-lock clause for a SELECT of feeds that a lease or a follow is about to change

    def transaction(self) -> AbstractAsyncContextManager[Conn]: ...

    def any_of(self, expression: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """``expression`` equals one of ``values``: an IN list on SQLite, ``= ANY(array)`` on PostgreSQL."""

    @property
    def chunk(self) -> int:
        """How many values one ``any_of`` may carry."""

    async def search(self, guild_id: int, query: str, limit: int) -> list[Row]:
        """Articles of the guild's feeds matching ``query``, best first (title > summary > body)."""

    async def after_prune(self) -> None: ...

    async def listen(self, channel: str, callback: Callable[[str], None]) -> None:
        """Call ``callback(payload)`` on every ``notify`` of any process (no-op where one process runs)."""

    async def finish_load(self, conn: Conn) -> None:
        """After a copy: id sequences continue past the copied ids."""

    async def claim_shards(self, ids: Sequence[int], count: int) -> None:
        """Take the right to post for these shards of `count`, or raise a ``StoreError`` naming who has it."""

    @property
    def may_post(self) -> bool:
        """False while a claimed process has lost its claim: it must not post then."""


async def table_rows(conn: Conn, table: str, batch: int = 2000) -> AsyncIterator[list[Row]]:
    """Every row of a table in key order, in batches (what `newsbot migrate` copies); the same SQL on both."""
    order = _KEYS.get(table, "id")
    last: Any = "" if table == "meta" else -1
    while True:
        rows = await conn.fetch(f"SELECT * FROM {table} WHERE {order} > ? ORDER BY {order} LIMIT {batch}", (last,))
        if not rows:
            return
        yield rows
        last = rows[-1][order]


def split_sql(script: str) -> list[str]:
    """A migration script as statements, trigger and function bodies (which contain ';') kept whole."""
    out: list[str] = []
    current: list[str] = []
    in_body = False
    for line in script.splitlines():
        current.append(line)
        stripped = line.strip().upper()
        if stripped.startswith(("CREATE TRIGGER", "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")):
            in_body = True
        ends_body = in_body and stripped in ("END;", "$$;", "$$ LANGUAGE PLPGSQL;")
        if ends_body or (not in_body and stripped.endswith(";")):
            out.append("\n".join(current).strip().rstrip(";"))
            current = []
            in_body = False
    if "".join(current).strip():
        out.append("\n".join(current).strip())
    return [s for s in out if s]


def sqlite_match(query: str) -> str | None:
    """An FTS5 query from what a member typed: every word quoted, so no FTS syntax leaks in (None: nothing left)."""
    terms = [t.replace('"', '""') for t in query.split() if t.strip('"')][:20]
    return " ".join(f'"{t}"' for t in terms) if terms else None
