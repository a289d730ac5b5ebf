"""Which process posts for which Discord shards, held by PostgreSQL: one session advisory lock per shard.

Each process delivers what is pending for the guilds on its own shards, so two processes given one shard would
both post its guilds' news. A process that posts therefore takes, on a connection of its own kept for its whole
life, an exclusive lock per shard it runs and a shared lock on its shard count. A second process given an
overlapping range, or another shard count, is refused at start, with the shards named. PostgreSQL drops the locks
the moment that connection ends, however the process ended (an exit, a crash, SIGKILL, a machine gone once TCP
notices, see `_KEEPALIVE`), so nothing is left to clean up and a restarted process takes its shards back.

If the connection is lost while the process runs (a database restart, a proxy's idle timeout, or no answer to
the probe it gets every 30 s), the process posts nothing until it holds its locks again on a new connection; if
another process took them meanwhile, it stays silent and says so every minute, and takes them back when they are
free. This needs a direct (or session-pooled) connection: pgbouncer's transaction mode can hold neither session
locks nor LISTEN.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

import asyncpg

from bot.aiotools import retry
from bot.store.records import StoreError

log = logging.getLogger(__name__)

_SHARD_LOCK = 0x6E627368  # pg_try_advisory_lock(key, shard id): "nbsh"
_COUNT_LOCK = 0x6E626363  # pg_advisory_lock_shared(key, shard count): "nbcc"
_RETRY_TAKEN = 60.0  # seconds between attempts while another process holds this one's shards
# A machine that vanished (power, network) never closes its connection: the server notices only through TCP
# keepalives, after the system default of two hours and more. These per-session settings make it about a minute,
# so a replacement (or the machine, rebooted) gets the shards back soon. TCP only: a Unix socket has no such delay.
_KEEPALIVE = {"tcp_keepalives_idle": "30", "tcp_keepalives_interval": "10", "tcp_keepalives_count": "3"}
# And this side: the claim connection carries no traffic, so a connection the server has dropped (after a network
# outage longer than its keepalives, when another process may have taken the shards) would look held forever.
# A query every 30 s that must answer within 10 s finds it out; the connection is then dropped and retaken.
_PROBE_EVERY = 30.0
_PROBE_TIMEOUT = 10.0


class ShardsTaken(StoreError):
    """Another process already posts for some of these shards, or runs the bot with another shard count."""


async def _take(conn: asyncpg.Connection, ids: Sequence[int], count: int) -> None:
    # The shared count lock is taken before looking for other counts: of two processes starting together with
    # different counts, each then sees the other's, so neither can miss it.
    await conn.execute("SELECT pg_advisory_lock_shared($1, $2)", _COUNT_LOCK, count)
    other = await conn.fetchval(
        "SELECT objid::int8 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
        "AND classid = $1::int8::oid AND objid <> $2::int8::oid "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1",
        _COUNT_LOCK,
        count,
    )
    if other is not None:
        raise ShardsTaken(
            f"another newsbot process on this database runs the bot as {other} shard(s) in all, this one as "
            f"{count}: every process of one bot needs the same shard count (--shard-count / discord.shard_count)"
        )
    taken = [i for i in ids if not await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", _SHARD_LOCK, i)]
    if taken and count == 1:
        raise ShardsTaken(
            "another newsbot process already posts from this database; to run several, give each its own "
            "--shards of one --shard-count"
        )
    if taken:
        raise ShardsTaken(
            f"shard(s) {', '.join(map(str, taken))} of {count} are run by another newsbot process on this database: "
            "shard ranges must not overlap (two processes on one shard would both post its servers' news)"
        )


class ShardClaim:
    """The locks of one posting process; ``held`` says whether it may post right now."""

    def __init__(self, dsn: str, ids: Sequence[int], count: int) -> None:
        self._dsn = dsn
        self._ids = tuple(ids)
        self._count = count
        self._conn: asyncpg.Connection | None = None
        self._retaking: asyncio.Task[None] | None = None
        self._watching: asyncio.Task[None] | None = None
        self._closing = False
        self.held = False

    async def take(self) -> None:
        """Take every lock or none (raises ``ShardsTaken``, naming what another process holds)."""
        try:
            conn = await asyncpg.connect(self._dsn, server_settings=_KEEPALIVE)
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"cannot connect to PostgreSQL: {exc}") from None
        try:
            await _take(conn, self._ids, self._count)
        except BaseException:
            with contextlib.suppress(Exception):
                await conn.close()
            raise
        conn.add_termination_listener(self._lost)
        self._conn = conn
        self.held = True
        self._watching = asyncio.get_running_loop().create_task(self._watch(conn))

    async def _watch(self, conn: asyncpg.Connection) -> None:
        while not self._closing and not conn.is_closed():
            await asyncio.sleep(_PROBE_EVERY)
            try:
                await asyncio.wait_for(conn.fetchval("SELECT 1"), _PROBE_TIMEOUT)
            except Exception as exc:  # timed out, reset, closed: the locks may be gone with the session
                if not self._closing:
                    log.warning("the connection holding this process's shards did not answer (%r)", exc)
                    conn.terminate()  # calls `_lost`, which pauses posting and retakes the shards
                return

    def _lost(self, _conn: object) -> None:
        if self._closing:
            return
        self.held = False
        log.error("lost the PostgreSQL connection that holds this process's shards; posting paused until retaken")
        self._retaking = asyncio.get_running_loop().create_task(self._retake())

    async def _retake(self) -> None:
        def failed(exc: Exception, backoff: float) -> float:
            if isinstance(exc, ShardsTaken):
                log.error("cannot post: %s; trying again in %.0f s", exc, _RETRY_TAKEN)
                return _RETRY_TAKEN
            log.warning("shards not retaken yet (%s); retrying in %.0f s", exc, backoff)
            return backoff

        if await retry(self.take, stopped=lambda: self._closing, failed=failed):
            log.info("shards %s of %d retaken; posting resumes", list(self._ids), self._count)

    async def close(self) -> None:
        self._closing = True
        for task in (self._retaking, self._watching):
            if task is not None:
                task.cancel()
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
        self.held = False
