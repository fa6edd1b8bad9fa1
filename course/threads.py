"""How many CPU threads torch should use, given what else the machine is doing right now.

torch starts one thread per core. On a quiet machine that is the fastest choice, but a learner's
laptop is rarely quiet: when another program keeps a core busy, every parallel region of a
training step waits at its barrier for the thread the operating system has descheduled, and
OpenMP's threads spin while they wait, taking CPU from the very thread they wait for.
``benchmarks/threads.py`` measured it on the course's 2-core machine (docs/benchmarks.md): with one
busy program beside it, a 2-thread training step was 4.8x (a small GPT) to 6.6x (notebook 03's MLP)
slower than a 1-thread step, while on the quiet machine 2 threads were 1.3-1.6x faster than 1.

So the course uses one thread per core that is idle when the lesson starts (:func:`use_idle_cores`,
called once by :func:`course.get_device`). An explicit ``OMP_NUM_THREADS`` (CI and
``benchmarks/claims.py`` set it) or ``COURSE_THREADS=N`` always wins.
"""

from __future__ import annotations

import os
import time

import torch

_chosen: tuple[int, str] | None = None  # (threads, why): decided once per process


def _cpu_times() -> tuple[float, float] | None:
    """(busy, total) jiffies of all cores since boot, from Linux's /proc/stat; None elsewhere."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [float(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + waiting for disk
    return sum(fields) - idle, sum(fields)


def busy_cores(sample_seconds: float = 0.3) -> float | None:
    """How many cores other programs keep busy now (0.0 on a quiet machine; None if unknown).

    On Linux it samples /proc/stat over ``sample_seconds`` (this process sleeps meanwhile, so what
    it sees is everything else); on macOS it falls back on the one-minute load average.
    """
    before = _cpu_times()
    if before is not None:
        time.sleep(sample_seconds)
        after = _cpu_times()
        if after is not None and after[1] > before[1]:
            share = (after[0] - before[0]) / (after[1] - before[1])
            return share * (os.cpu_count() or 1)
    if hasattr(os, "getloadavg"):
        return os.getloadavg()[0]
    return None


def choose_threads(cores: int, busy: float | None) -> int:
    """One thread per core left idle by the others, at least one, at most ``cores``.

    A core counts as free when less than half of it is taken, so a background program using a few
    per cent does not cost the lesson a thread, and one that keeps a core busy does.
    """
    if busy is None:
        return cores
    return max(1, min(cores, int(cores - busy + 0.5)))


def use_idle_cores() -> tuple[int, str]:
    """Set torch's thread count for this process (once) and return (threads, why)."""
    global _chosen
    if _chosen is not None:
        return _chosen
    cores = torch.get_num_threads()
    wanted = os.environ.get("COURSE_THREADS", "").strip()
    if wanted:
        if not wanted.isdigit() or int(wanted) < 1:
            raise ValueError(
                f"COURSE_THREADS={wanted!r} is not a positive whole number; unset it or give e.g. 2"
            )
        torch.set_num_threads(int(wanted))
        _chosen = (int(wanted), "COURSE_THREADS")
    elif os.environ.get("OMP_NUM_THREADS", "").strip():
        _chosen = (cores, "OMP_NUM_THREADS")
    else:
        busy = busy_cores()
        threads = choose_threads(cores, busy)
        torch.set_num_threads(threads)
        why = (
            "all cores"
            if threads == cores
            else f"other programs keep about {busy:.1f} of {cores} cores busy, "
            f"COURSE_THREADS={cores} overrides"
        )
        _chosen = (threads, why)
    return _chosen
