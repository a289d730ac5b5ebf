"""Worker processes for the pure, CPU-heavy steps: reading feed documents and extracting article pages.

Why processes and not threads: lxml, feedparser and trafilatura spend milliseconds per call holding (or bouncing)
the GIL. In the event loop's thread pool that work stalled the loop for 100-570 ms during a cold round, so slash
commands waited (measured with ``bench/responsive.py``). In worker processes the loop only moves bytes in and plain
dataclasses out, and a second core does the parsing.

``processes = 0`` runs the same functions in a thread instead: for the test suite and for machines where a few
extra processes (about 40 MB each) cost more than the stalls.

A worker that dies (a crash in a C parser, the OOM killer) breaks the whole ``ProcessPoolExecutor``; the pool is
replaced and the jobs it held fail with ``WorkerCrashed``, so a hostile document costs one feed's check and the
next job gets a fresh pool.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import TypeVar

log = logging.getLogger(__name__)

R = TypeVar("R")


class WorkerCrashed(Exception):
    """The worker process running a job died; the job's input is the prime suspect."""


class Workers:
    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the parent has an SQLite thread and an event loop that a forked child must not inherit.
            self._pool = ProcessPoolExecutor(self.processes, mp_context=get_context("spawn"))
        return self._pool

    async def run(self, fn: Callable[..., R], *args: object) -> R:
        """``fn(*args)`` off the event loop. ``fn`` must be a module-level function of picklable arguments."""
        if self.processes <= 0:
            return await asyncio.to_thread(fn, *args)
        pool = self._executor()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, fn, *args)
        except BrokenProcessPool:
            if self._pool is pool:
                log.error("a worker process died (%s); starting new workers", getattr(fn, "__name__", fn))
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise WorkerCrashed("the worker process handling it crashed") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

