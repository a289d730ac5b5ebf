"""Worker processes for the pure, CPU-heavy steps: reading feed documents and extracting article pages.

Why processes and not threads: lxml, feedparser and trafilatura spend milliseconds per call holding (or bouncing)
the GIL. In the event loop's thread pool that work stalled the loop for 100-570 ms during a cold round, so slash
commands waited (measured with ``bench/responsive.py``). In worker processes the loop only moves bytes in and plain
dataclasses out, and a second core does the parsing.

``processes = 0`` runs the same functions in a thread instead: for the test suite and for machines where a few
extra processes (about 40 MB each) cost more than the stalls.

A worker that dies (a crash in a C parser, the OOM killer) breaks the whole ``ProcessPoolExecutor``, and one that
hangs would hold the only worker forever; either way the pool is replaced, the job fails with ``WorkerCrashed`` (one
feed's check, with a reason), and the innocent jobs queued behind it run again on the new pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import itertools
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any, TypeVar

log = logging.getLogger(__name__)

R = TypeVar("R")


class WorkerCrashed(Exception):
    """The worker process running a job died or hung; the job's input is the prime suspect."""


class Workers:
    def __init__(self, processes: int, *, timeout: float = 60.0, tick: float = 0.5) -> None:
        self.processes = processes
        self.timeout = timeout  # seconds a job may run (queueing not counted) before its worker is killed
        self._tick = tick
        self._pool: ProcessPoolExecutor | None = None
        self._running: Any = None  # shared with the pool's workers: per worker, the job it runs and since when
        self._jobs = itertools.count(1)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the parent has an SQLite thread and an event loop that a forked child must not inherit.
            context = get_context("spawn")
            self._running = context.Array("d", 2 * self.processes, lock=False)
            self._pool = ProcessPoolExecutor(
                self.processes,
                mp_context=context,
                initializer=_init_worker,
                initargs=(self._running, context.Value("i", 0), os.getpid()),
            )
        return self._pool

    async def run(self, fn: Callable[..., R], *args: object) -> R:
        """``fn(*args)`` off the event loop. ``fn`` must be a module-level function of picklable arguments.

        A job whose pool broke under it (another job crashed or hung) runs once more on a fresh pool; a job that
        breaks a pool itself, or runs past ``timeout``, fails with ``WorkerCrashed``.
        """
        if self.processes <= 0:
            return await asyncio.to_thread(fn, *args)
        name = getattr(fn, "__name__", str(fn))
        for attempt in (1, 2):
            pool = self._executor()
            job = next(self._jobs)
            try:
                return await self._wait(pool, job, pool.submit(_run_job, job, fn, *args), name)
            except BrokenProcessPool:
                self._discard(pool, f"a worker process died during {name}")
                if attempt == 2:
                    raise WorkerCrashed("the worker process handling it crashed") from None
        raise AssertionError("unreachable")

    async def _wait(self, pool: ProcessPoolExecutor, job: int, future: Future[R], name: str) -> R:
        """The job's result. Its clock starts when a worker starts it, so waiting in a queue is never a hang."""
        waiter = asyncio.wrap_future(future)
        running = self._running
        while True:
            done, _ = await asyncio.wait({waiter}, timeout=self._tick)
            if done:
                return waiter.result()
            started = next((running[i + 1] for i in range(0, len(running), 2) if running[i] == job), None)
            if started is not None and time.time() - started > self.timeout:
                self._discard(pool, f"{name} ran for more than {self.timeout:g} s", kill=True)
                waiter.cancel()
                raise WorkerCrashed(f"gave up after {self.timeout:g} s")

    def _discard(self, pool: ProcessPoolExecutor, why: str, *, kill: bool = False) -> None:
        if self._pool is not pool:
            return  # another job already replaced it
        log.error("%s; starting new worker processes", why)
        self._pool = None
        if kill:
            # ProcessPoolExecutor (before Python 3.14) cannot stop one job: end its processes. The pool then fails
            # its other jobs with BrokenProcessPool, and run() gives them a second try on the new pool.
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=False)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


_slot = 0
_running: Any = None


def _init_worker(running: Any, counter: Any, parent: int) -> None:
    """In each worker: claim a slot in the shared table where it says which job it runs, and die with the bot."""
    global _slot, _running
    with counter.get_lock():
        _slot = counter.value
        counter.value += 1
    _running = running
    _exit_with_parent(parent)


def _exit_with_parent(parent: int) -> None:
    """A worker must not outlive the bot, whatever killed the bot (SIGKILL, the OOM killer): an orphan blocks on
    its pipe forever. Linux is asked to send SIGKILL when the parent dies (``PR_SET_PDEATHSIG``); elsewhere, and in
    case the parent died before the request took effect, a thread notices the parent is gone within a second."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG

    if os.getppid() != parent:
        os._exit(1)  # the bot died while this worker was starting

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _run_job(job: int, fn: Callable[..., R], *args: object) -> R:
    _running[2 * _slot + 1] = time.time()  # the start first: a reader that sees the job id sees its start
    _running[2 * _slot] = job
    try:
        return fn(*args)
    finally:
        _running[2 * _slot] = 0
