"""What the benchmark drivers share: medians, the JSON line a measuring child prints, CPU
time for the idle check, and the machine facts printed above each table."""

from __future__ import annotations

import json
import os
import platform
import statistics


def median(xs):
    return statistics.median(xs) if xs else None


def last_json_line(text: str) -> dict | None:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def cpu_busy_seconds() -> float | None:
    """Busy CPU time of the whole machine so far (all processes), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, fields[1:9])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return None


def children_cpu_seconds() -> float:
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def cpu_flags_summary() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    keep = [x for x in ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16",
                                        "avx_vnni", "amx_tile") if x in flags]
                    return " ".join(keep)
    except OSError:
        pass
    return "?"


def mem_total_gib() -> str:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "?"


def pkg_version(name: str) -> str:
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return "not installed"


def _read_rate(megabytes: int, queue) -> None:
    import time

    import numpy as np
    a = np.ones(megabytes * 2**20 // 8)
    a.sum()  # first touch
    best = 0.0
    for _ in range(5):
        t0 = time.perf_counter()
        a.sum()
        best = max(best, a.nbytes / (time.perf_counter() - t0))
    queue.put(best)


def memory_read_gbs(processes: int, megabytes: int = 512) -> float | None:
    """The machine's read bandwidth in GB/s: `processes` concurrent numpy sums over arrays
    far larger than the caches (best of 5 passes each, summed over the processes)."""
    try:
        import multiprocessing as mp
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        procs = [ctx.Process(target=_read_rate, args=(megabytes, queue)) for _ in range(processes)]
        for p in procs:
            p.start()
        rates = [queue.get(timeout=120) for _ in procs]
        for p in procs:
            p.join()
        return sum(rates) / 1e9
    except Exception:
        return None
