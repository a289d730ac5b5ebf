"""`newsbot migrate`: copy a SQLite installation into an empty PostgreSQL database, ids and states kept.

Everything is copied as stored (feeds with validators, schedule and health; subscriptions; articles; the outbox
with each delivery's status, attempts and nonce; the command-sync hash), so after the move nothing already posted
posts again (sent rows stay sent, identities stay known) and nothing pending is lost (pending rows stay pending).
Leases are not copied: no process holds one in the new database yet.
"""

from __future__ import annotations

import logging

from bot.store.backend import TABLES, table_rows
from bot.store.records import StoreError
from bot.store.store import Store

log = logging.getLogger(__name__)

_SKIP = {"lease_owner", "lease_until", "search"}  # leases belong to running processes; search is generated


async def copy_database(source: Store, target: Store) -> dict[str, int]:
    """Copy every table; refuse a target that has any row; verify the counts. Returns rows copied per table."""
    if target.backend_name == "sqlite":
        raise StoreError("the target must be a PostgreSQL database (postgresql://…)")
    existing = await target.table_counts()
    if any(existing.values()):
        filled = ", ".join(f"{t} {n}" for t, n in existing.items() if n)
        raise StoreError(f"the target database is not empty ({filled}); migrate only into a new database")
    src, dst = source._db, target._db
    copied: dict[str, int] = {}
    # One transaction: a copy that fails halfway (a full disk, a lost connection) leaves the target empty, so it
    # can simply be run again.
    async with dst.transaction() as tx:
        for table in TABLES:
            copied[table] = 0
            async for batch in table_rows(src, table):
                columns = [c for c in batch[0].keys() if c not in _SKIP]  # noqa: SIM118 (sqlite3.Row iterates values)
                marks = ", ".join("?" * len(columns))
                await tx.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    [tuple(r[c] for c in columns) for r in batch],
                )
                copied[table] += len(batch)
            log.info("copied %d rows of %s", copied[table], table)
        await dst.finish_load(tx)
    after = await target.table_counts()
    if after != copied:
        raise StoreError(f"copy incomplete: copied {copied}, target holds {after}")
    return copied
