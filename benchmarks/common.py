"""What both benchmark scripts use (``benchmarks.run`` and ``benchmarks.changes``), so that neither
imports the other for it: ``benchmarks.changes`` imports ``benchmarks.run``, never the reverse."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time


@contextlib.contextmanager
def busy_cores(n: int = 2):
    """``n`` busy-loop processes for the duration (ended by their PIDs)."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        time.sleep(0.5)
        yield
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)
