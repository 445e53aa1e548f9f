"""What every benchmark here shares: one child process measured from outside, and the machine.

``measure`` runs a command in a fresh process and reads its CPU seconds (user + system of
the process and every thread and child it waited for), wall seconds and peak RSS from
``os.wait4``; it exits the benchmark, with the command's stderr, when the command fails.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MB = 1_000_000


def measure(
    argv: list[str], env: dict[str, str] | None = None, *, devnull: bool = False
) -> dict[str, Any]:
    """Run ``argv``: ``cpu``, ``user``, ``sys``, ``wall`` (seconds), ``rss_mb`` (peak, MB) and
    its ``stdout`` (empty with ``devnull``, for a command that prints a great deal)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL if devnull else out, stderr=err, env=env
        )
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if code != 0:
        sys.stderr.write(stderr)
        raise SystemExit(f"failed ({code}): {' '.join(argv)}")
    return {
        "cpu": usage.ru_utime + usage.ru_stime,
        "user": usage.ru_utime,
        "sys": usage.ru_stime,
        "wall": wall,
        "rss_mb": usage.ru_maxrss * 1024 / MB,  # Linux: kilobytes
        "stdout": stdout,
    }


def machine() -> str:
    """CPUs, Python and OS of this machine, for a report's first line."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} × {cpu}, Python {platform.python_version()}, {platform.system()} {platform.release()}"
