"""CPU time and memory of a process together with its worker processes, read from /proc (Linux).

``resource.getrusage`` sees only this process (and children once they have exited), but newsbot parses and extracts
in live worker processes: a bench that read only its own figures would hide that work and that memory.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):  # the task ended meanwhile
            out += [int(p) for p in task.read_text().split()]
    return out


def tree(pid: int | None = None) -> list[int]:
    """This process and all its descendants."""
    pids = [pid or os.getpid()]
    i = 0
    while i < len(pids):
        pids += _children(pids[i])
        i += 1
    return pids


def _stat_cpu(path: Path) -> float:
    try:
        fields = path.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def cpu_s(pid: int) -> float:
    """User + system seconds of one live process (threads included)."""
    return _stat_cpu(Path(f"/proc/{pid}/stat"))


def cpu_by_part() -> dict[str, float]:
    """CPU seconds so far of this process's threads, by their job, and of its worker processes: the profile of a
    round at the level that matters on 2 cores (which thread or process is the bottleneck)."""
    me = os.getpid()
    names = {t.native_id: t.name for t in threading.enumerate()}
    parts = {"event loop": 0.0, "SQLite thread": 0.0, "other threads": 0.0}
    for task in Path(f"/proc/{me}/task").iterdir():
        tid = int(task.name)
        if tid == me:
            part = "event loop"
        elif "_connection_worker_thread" in names.get(tid, ""):  # aiosqlite's thread
            part = "SQLite thread"
        else:
            part = "other threads"
        parts[part] += _stat_cpu(task / "stat")
    parts["worker processes"] = sum(cpu_s(p) for p in tree()[1:])
    return parts


def rss_mb(pid: int) -> float:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE / 1e6
    except OSError:
        return 0.0


def pss_mb(pid: int) -> float:
    """Proportional set size: shared pages divided among the processes sharing them, so it sums honestly."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1000
    except OSError:
        pass
    return 0.0


def tree_cpu_s() -> float:
    """CPU seconds so far of this process and its live descendants (descendants that already exited are lost)."""
    return sum(cpu_s(p) for p in tree())


class PeakRss:
    """Samples the tree's memory every `period` seconds. `peak_mb` is the highest summed RSS seen, which counts the
    pages workers share (libraries) once per process: an upper bound. `peak_pss_mb` is the highest summed PSS."""

    def __init__(self, period: float = 0.1) -> None:
        self.peak_mb = 0.0
        self.peak_pss_mb = 0.0
        self._period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._period):
            self.sample()

    def sample(self) -> float:
        pids = tree()
        total = sum(rss_mb(p) for p in pids)
        self.peak_mb = max(self.peak_mb, total)
        self.peak_pss_mb = max(self.peak_pss_mb, sum(pss_mb(p) for p in pids))
        return total
