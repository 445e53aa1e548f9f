"""The incremental-build benchmark: full build vs no-change and one-new-digest rebuilds (run on demand).

    .venv/bin/python bench/incremental.py                 # 3,650 digests (10 years)
    .venv/bin/python bench/incremental.py --days 365      # quicker
    .venv/bin/python bench/incremental.py --profile       # + cProfile of the one-new-digest rebuild

Each step calls :func:`digestfeed.build` (or :func:`digestfeed.check`) in a fresh process,
as ``digestfeed build`` in CI runs it, and reports its wall time, CPU time (user + system)
and peak RSS from ``os.wait4``. The archive comes from
:mod:`bench.synth` (seeded) and lives in ``bench/out/incremental/`` (ignored by git).
Target: the one-new-digest rebuild costs under 10 % of the full build.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from synth import START, write_archive, write_digest  # noqa: E402

NOW = "2026-06-01T12:00:00+09:00"


def child(step: str) -> None:
    """One step in this (fresh) process, run in the work directory: ``build``,
    ``build-no-cache`` or ``check``; prints the build's summary line."""
    import digestfeed

    config = digestfeed.load_config("digestfeed.toml")
    if step == "check":
        result = digestfeed.check(config=config)
        print(
            f"{len(result.stale)} files stale"
            if result.stale
            else f"up to date: {result.files} files"
        )
    else:
        result = digestfeed.build(config=config, cache=step != "build-no-cache")
        print(result.summary())


def measured(work: Path, step: str, profile: Path | None = None) -> dict[str, float | str]:
    """Run one step (see :func:`child`) in ``work``: wall s, CPU s, peak RSS MiB (``os.wait4``)."""
    exe = [sys.executable]
    if profile is not None:
        exe += ["-m", "cProfile", "-o", str(profile)]
    cmd = [*exe, str(Path(__file__).resolve()), "--child", step]
    env = {**os.environ, "DIGESTFEED_NOW": NOW}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / 1024,  # KiB on Linux
        "stdout": stdout.strip(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=3650)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=HERE / "out" / "incremental")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the one-new-digest rebuild"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        child(opts.child)
        return

    work: Path = opts.work
    entries = work / "entries"
    marker = work / f"archive-{opts.days}-{opts.seed}"
    if not marker.exists():
        shutil.rmtree(work, ignore_errors=True)
        t = time.perf_counter()
        count = write_archive(entries, opts.days, opts.seed)
        marker.write_text(str(count))
        print(f"generated {opts.days} digests, {count} entries in {time.perf_counter() - t:.1f} s")
    for leftover in entries.glob("*.txt"):  # the extra digest of an earlier run
        if leftover.stem >= (START + dt.timedelta(days=opts.days)).isoformat():
            leftover.unlink()
    (work / "digestfeed.toml").write_text(
        "", encoding="utf-8"
    )  # defaults, whatever the repo's config
    for stale in (work / "feeds", work / ".digestfeed-cache"):
        shutil.rmtree(stale, ignore_errors=True)
    (entries / ".ledger.json").unlink(missing_ok=True)

    steps: dict[str, dict[str, float | str]] = {}
    steps["full build"] = measured(work, "build")
    steps["no-change rebuild"] = measured(work, "build")
    write_digest(entries, START + dt.timedelta(days=opts.days), random.Random(opts.seed + 1))
    prof = work / "one-new-digest.prof" if opts.profile else None
    steps["one-new-digest rebuild"] = measured(work, "build", profile=prof)
    steps["no-change rebuild, no cache (fresh CI checkout)"] = measured(work, "build-no-cache")
    steps["check (no cache)"] = measured(work, "check")

    files = sum(1 for p in (work / "feeds").rglob("*") if p.is_file())
    size = sum(p.stat().st_size for p in (work / "feeds").rglob("*") if p.is_file())
    print(
        f"\n{opts.days} digests → {files} files, {size / 2**20:.0f} MiB under feeds/; "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"{'step':50} {'wall s':>8} {'cpu s':>8} {'peak RSS MiB':>13}")
    for name, r in steps.items():
        print(f"{name:50} {r['wall_s']:8.2f} {r['cpu_s']:8.2f} {r['peak_rss_mib']:13.0f}")
        summary = str(r.get("stdout", "")).split("\n")[0]
        if summary:
            print(f"{'':4}{summary[:110]}")
    full, inc = steps["full build"], steps["one-new-digest rebuild"]
    for unit in ("wall_s", "cpu_s"):
        ratio = float(inc[unit]) / float(full[unit])
        verdict = "meets" if ratio < 0.10 else "MISSES"
        print(f"one-new-digest / full ({unit[:-2]}): {ratio:.1%} — {verdict} the < 10 % target")
    (work / "results.json").write_text(json.dumps(steps, indent=1) + "\n", encoding="utf-8")
    if prof:
        print(f"profile: {prof} (python -m pstats {prof})")


if __name__ == "__main__":
    main()
