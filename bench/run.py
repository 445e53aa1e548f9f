"""The performance benchmark: build times, naive baseline, memory, output size, the feed reader.

    python bench/run.py                      # sizes 1, 2, 5, 10 years → one markdown table
    python bench/run.py --sizes 1,2 --quick  # a quick look (no repeats, no cross-check)
    python bench/run.py --out /tmp/bench     # work directory (default bench/out/, gitignored)

For each size (365 digests a year, :data:`synth.WIDE` shape, seeded) it measures, every
phase in a fresh subprocess whose peak RSS comes from ``os.wait4`` (``ru_maxrss``):

* the whole site with the default config (``max_entries = 50``, every installed output,
  RFC 5005 archives): :func:`digestfeed.build` from scratch (no ledger, no cache, empty
  output), again with nothing changed, and again after one new digest — the whole process,
  interpreter start-up and imports included, as ``digestfeed build`` runs it;
* the Atom feed set with no caps: digestfeed (``Config(max_entries=10**9)``, Atom output
  only, no cache) and ``bench/baseline.py`` (one feedgen ``FeedGenerator`` per feed), back
  to back, ``--repeat`` times (best kept), timed inside the child (interpreter start-up
  excluded for both); their ratio;
  unless ``--quick`` both sets are cross-checked (same files, same entry ids in order);
* the whole site's byte size and file count;
* ``digestfeed read <site>/index.opml --state <tmp> --format jsonl > /dev/null``: a first
  run (empty state) and an unchanged second run.

Times in the table are CPU seconds (user + system, from ``getrusage``/``process_time``):
every phase is single-threaded except the reader's fetches, so on an idle machine they
match the wall clock, and unlike the wall clock they do not move when other work shares
the machine. Wall-clock times are in ``<out>/results.json`` beside them.

Results go to stdout (the table and the targets) and to ``<out>/results.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import synth  # noqa: E402
from process import MB, machine, measure  # noqa: E402
from sitefiles import compare_sets, tree_size  # noqa: E402

DAYS_PER_YEAR = 365
NOW = "2030-01-01T00:00:00+09:00"  #: $DIGESTFEED_NOW: the build clock, for reproducible bytes

# ---------------------------------------------------------------- child processes


def _child_atom_digestfeed(entries: str, out: str, ledger: str) -> dict[str, Any]:
    from digestfeed.config import Config
    from digestfeed.pipeline import build_digests
    from digestfeed.plugins import get_outputs
    from digestfeed.sources.digest import read_digest_dir

    start, cpu = time.perf_counter(), time.process_time()
    config = Config(max_entries=10**9)
    digests = read_digest_dir(Path(entries), config, cache=None)
    parsed = time.process_time() - cpu
    result = build_digests(
        config,
        digests,
        Path(out),
        Path(ledger),
        now=dt.datetime.fromisoformat(NOW),
        outputs=get_outputs(("atom",)),
        cache=None,
    )
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "parse_cpu_seconds": parsed,
        "files": result.files,
        "entries": result.entries,
    }


def _child_atom_baseline(entries: str, out: str) -> dict[str, Any]:
    from baseline import build_baseline

    start, cpu = time.perf_counter(), time.process_time()
    counts = build_baseline(Path(entries), Path(out))
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "parse_cpu_seconds": counts["parse_cpu_seconds"],
        "files": counts["feeds"],
        "entries": counts["entries"],
    }


def _child_site(config: str, entries: str, out: str, ledger: str) -> dict[str, Any]:
    """One whole-site build through the library call (the clock: ``$DIGESTFEED_NOW``)."""
    import digestfeed

    result = digestfeed.build(
        entries, out, config=digestfeed.load_config(config), ledger=ledger, cache=True
    )
    return {"summary": result.summary(), "written": len(result.changed)}


CHILDREN = {
    "atom-digestfeed": _child_atom_digestfeed,
    "atom-baseline": _child_atom_baseline,
    "site": _child_site,
}


def measure_json(
    argv: list[str], *, devnull: bool = False, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """:func:`process.measure`, and the JSON object a child prints last (see :func:`child`)."""
    data = measure(argv, env, devnull=devnull)
    lines = data["stdout"].strip().splitlines()
    if lines and lines[-1].startswith("{"):
        data = {**json.loads(lines[-1]), **data}
    return data


# ---------------------------------------------------------------- phases


def ensure_archive(root: Path, years: int, seed: int) -> tuple[Path, int, int]:
    """The seeded archive of ``years`` (generated once, then reused); (dir, digests, entries)."""
    days = years * DAYS_PER_YEAR
    directory = root / "archives" / f"{years}y-seed{seed}"
    marker = directory / ".complete.json"
    stamp = {
        "days": days,
        "seed": seed,
        "shape": repr(synth.WIDE),
        "start": synth.START.isoformat(),
    }
    previous = json.loads(marker.read_text()) if marker.is_file() else {}
    if previous.get("entries") and {k: previous.get(k) for k in stamp} == stamp:
        entries = previous["entries"]
    else:
        shutil.rmtree(directory, ignore_errors=True)
        entries = synth.write_archive(directory / "entries", days, seed, synth.WIDE)
        marker.write_text(json.dumps({**stamp, "entries": entries}))
    return directory / "entries", days, entries


def bench_size(years: int, args: argparse.Namespace) -> dict[str, Any]:
    py = sys.executable
    root = Path(args.out).resolve()
    entries_dir, days, n_entries = ensure_archive(root, years, args.seed)
    work = root / f"{years}y"
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DIGESTFEED_NOW": NOW}
    res: dict[str, Any] = {"years": years, "digests": days, "entries": n_entries}

    def log(msg: str) -> None:
        print(f"[{years:>2}y] {msg}", file=sys.stderr, flush=True)

    # ---- the Atom set, no caps: digestfeed vs. the naive baseline, back to back
    df_out, base_out, ledger = (
        work / "atom-digestfeed",
        work / "atom-baseline",
        work / "atom-ledger.json",
    )
    df_runs, base_runs = [], []
    for _ in range(1 if args.quick else args.repeat):
        for path in (df_out, base_out, ledger):
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(
                missing_ok=True
            )
        df_runs.append(
            measure_json(
                [
                    py,
                    __file__,
                    "--child",
                    "atom-digestfeed",
                    str(entries_dir),
                    str(df_out),
                    str(ledger),
                ],
                env=env,
            )
        )
        log(
            f"atom digestfeed {df_runs[-1]['cpu_seconds']:.2f} s CPU, {df_runs[-1]['seconds']:.2f} s wall, {df_runs[-1]['rss_mb']:.0f} MB"
        )
        base_runs.append(
            measure_json(
                [py, __file__, "--child", "atom-baseline", str(entries_dir), str(base_out)], env=env
            )
        )
        log(
            f"atom baseline   {base_runs[-1]['cpu_seconds']:.2f} s CPU, {base_runs[-1]['seconds']:.2f} s wall, {base_runs[-1]['rss_mb']:.0f} MB"
        )
    res["atom_digestfeed"] = min(r["cpu_seconds"] for r in df_runs)
    res["atom_baseline"] = min(r["cpu_seconds"] for r in base_runs)
    res["atom_ratio"] = res["atom_baseline"] / res["atom_digestfeed"]
    res["atom_digestfeed_wall"] = min(r["seconds"] for r in df_runs)
    res["atom_baseline_wall"] = min(r["seconds"] for r in base_runs)
    res["atom_ratio_wall"] = res["atom_baseline_wall"] / res["atom_digestfeed_wall"]
    # Both read the digests with the same parser: the ratio of what differs (after parsing).
    res["atom_ratio_after_parse"] = min(
        r["cpu_seconds"] - r["parse_cpu_seconds"] for r in base_runs
    ) / min(r["cpu_seconds"] - r["parse_cpu_seconds"] for r in df_runs)
    res["atom_rss_mb"] = max(r["rss_mb"] for r in df_runs)
    res["baseline_rss_mb"] = max(r["rss_mb"] for r in base_runs)
    res["atom_feeds"] = df_runs[0]["files"]
    res["atom_bytes"] = tree_size(df_out)[0]
    res["atom_runs"] = {"digestfeed": df_runs, "baseline": base_runs}
    if not args.quick:
        res["atom_check"] = compare_sets(df_out, base_out)
        log(f"cross-check: {res['atom_check']}")
    if not args.keep:
        shutil.rmtree(df_out, ignore_errors=True)
        shutil.rmtree(base_out, ignore_errors=True)

    # ---- the whole site, default config: full, no-change and one-new-digest builds
    site, site_ledger, cache = work / "site", work / "site-ledger.json", work / "cache"
    config = work / "digestfeed.toml"
    config.write_text(f'cache_dir = "{cache}"\n', encoding="utf-8")
    for path in (site, cache, site_ledger):
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    site_build = [
        py,
        __file__,
        "--child",
        "site",
        str(config),
        str(entries_dir),
        str(site),
        str(site_ledger),
    ]
    full = measure_json(site_build, env=env)
    log(
        f"site full build {full['cpu']:.2f} s CPU, {full['wall']:.2f} s wall, {full['rss_mb']:.0f} MB"
    )
    same = measure_json(site_build, env=env)
    log(
        f"site no-change  {same['cpu']:.2f} s CPU, {same['wall']:.2f} s wall, {same['rss_mb']:.0f} MB"
    )
    new_day = synth.START + dt.timedelta(days=days)
    new_file = entries_dir / f"{new_day.isoformat()}.txt"
    try:
        synth.write_digest(entries_dir, new_day, random.Random(args.seed + 1), synth.WIDE)
        one = measure_json(site_build, env=env)
        res["one_new_summary"] = one["summary"]
        res["one_new_written"] = one["written"]
    finally:
        new_file.unlink(missing_ok=True)
    log(
        f"site one-new    {one['cpu']:.2f} s CPU, {one['wall']:.2f} s wall, {one['rss_mb']:.0f} MB: {res['one_new_summary']}"
    )
    res.update(full_wall=full["wall"], nochange_wall=same["wall"], onenew_wall=one["wall"])
    res.update(
        full=full["cpu"],
        nochange=same["cpu"],
        onenew=one["cpu"],
        full_rss_mb=full["rss_mb"],
        nochange_rss_mb=same["rss_mb"],
        onenew_rss_mb=one["rss_mb"],
    )
    # The site as published after the one-new build: (bytes, files).
    res["site_bytes"], res["site_files"] = tree_size(site)
    from digestfeed.plugins import OUTPUTS, registered_entry_points

    res["outputs"] = sorted(ep.name for ep in registered_entry_points(OUTPUTS))

    # ---- the reader over the whole feed set
    if args.no_reader or not _has_reader(py):
        res["reader_first"] = res["reader_unchanged"] = None
    else:
        state = work / "reader-state.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{state}{suffix}").unlink(missing_ok=True)
        read = [
            py,
            "-m",
            "digestfeed",
            "read",
            str(site / "index.opml"),
            "--state",
            str(state),
            "--format",
            "jsonl",
        ]
        first = measure_json(read, devnull=True, env=env)
        again = measure_json(read, devnull=True, env=env)
        res.update(
            reader_first=first["cpu"],
            reader_unchanged=again["cpu"],
            reader_first_wall=first["wall"],
            reader_unchanged_wall=again["wall"],
            reader_rss_mb=max(first["rss_mb"], again["rss_mb"]),
        )
        log(
            f"reader first {first['cpu']:.2f} s CPU ({first['wall']:.2f} s wall), unchanged {again['cpu']:.2f} s CPU ({again['wall']:.2f} s wall)"
        )
    return res


def _has_reader(py: str) -> bool:
    return (
        subprocess.run([py, "-m", "digestfeed", "read", "--help"], capture_output=True).returncode
        == 0
    )


# ---------------------------------------------------------------- report


def _s(value: float | None) -> str:
    return "—" if value is None else (f"{value:.2f} s" if value < 10 else f"{value:.1f} s")


def table(results: list[dict[str, Any]]) -> str:
    head = [
        "archive",
        "entries",
        "full build",
        "no-change",
        "one new digest",
        "Atom set: baseline",
        "Atom set: digestfeed",
        "ratio",
        "peak RSS (site builds)",
        "site size",
        "files",
        "reader first",
        "reader unchanged",
    ]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        peak = max(r["full_rss_mb"], r["nochange_rss_mb"], r["onenew_rss_mb"])
        rows.append(
            "| "
            + " | ".join(
                [
                    f"{r['years']} y ({r['digests']} digests)",
                    f"{r['entries']:,}",
                    _s(r["full"]),
                    f"{_s(r['nochange'])} ({100 * r['nochange'] / r['full']:.0f}%)",
                    f"{_s(r['onenew'])} ({100 * r['onenew'] / r['full']:.0f}%)",
                    _s(r["atom_baseline"]),
                    _s(r["atom_digestfeed"]),
                    f"{r['atom_ratio']:.2f}×",
                    f"{peak:.0f} MB",
                    f"{r['site_bytes'] / MB:,.0f} MB",
                    f"{r['site_files']:,}",
                    _s(r.get("reader_first")),
                    _s(r.get("reader_unchanged")),
                ]
            )
            + " |"
        )
    return "\n".join(rows)


def targets(results: list[dict[str, Any]]) -> list[str]:
    by = {r["years"]: r for r in results}
    lines = []

    def ok(flag: bool) -> str:
        return "met" if flag else "MISSED"

    big = by[max(by)]
    lines.append(
        f"- Atom set ≥ 3× faster than the baseline at {big['years']} y: {big['atom_ratio']:.2f}× "
        f"(wall clock {big['atom_ratio_wall']:.2f}×; after the shared parse {big['atom_ratio_after_parse']:.2f}×)"
        f" — {ok(big['atom_ratio'] >= 3)}"
    )
    if 1 in by and max(by) > 1:
        small = by[1]
        for key, what in (("full", "full site build"), ("atom_digestfeed", "Atom set")):
            growth = (big[key] / big["entries"]) / (small[key] / small["entries"])
            lines.append(
                f"- time per entry, {what}, {big['years']} y vs 1 y: {growth:.2f}× (≤ 1.3×) — {ok(growth <= 1.3)}"
            )
    for r in results:
        nc, on = r["nochange"] / r["full"], r["onenew"] / r["full"]
        lines.append(
            f"- {r['years']} y: no-change {100 * nc:.1f}% of full (< 5%) — {ok(nc < 0.05)}; "
            f"one new digest {100 * on:.1f}% (< 10%) — {ok(on < 0.10)}"
        )
    peak = max(big["full_rss_mb"], big["nochange_rss_mb"], big["onenew_rss_mb"])
    lines.append(
        f"- peak RSS of the site builds at {big['years']} y: {peak:.0f} MB (< 300 MB) — {ok(peak < 300)} "
        f"(uncapped Atom set: digestfeed {big['atom_rss_mb']:.0f} MB, baseline {big['baseline_rss_mb']:.0f} MB)"
    )
    lines.append(
        f"- whole site at {big['years']} y: {big['site_bytes'] / MB:,.0f} MB in {big['site_files']:,} files (< 1 GB) — {ok(big['site_bytes'] < 1000 * MB)}"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        default=None,
        help="archive sizes in years, comma-separated (default 1,2,5,10; --quick: 1,2)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="one run per phase, no cross-check of the Atom sets"
    )
    parser.add_argument(
        "--out", default=str(BENCH / "out"), help="work directory (default bench/out/)"
    )
    parser.add_argument("--seed", type=int, default=0, help="archive seed (default 0)")
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs of the Atom comparison, best kept (default 2)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the uncapped Atom sets on disk")
    parser.add_argument("--no-reader", action="store_true", help="skip the reader runs")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, *rest = args.child
        print(json.dumps(CHILDREN[name](*rest)))
        return
    sizes = [int(s) for s in (args.sizes or ("1,2" if args.quick else "1,2,5,10")).split(",")]
    Path(args.out).mkdir(parents=True, exist_ok=True)
    results = [bench_size(years, args) for years in sizes]
    report = [
        f"Machine: {machine()}; outputs installed: {', '.join(results[0]['outputs'])}. "
        "Times are CPU seconds (user + system) of each process; wall clock in results.json.",
        "",
        table(results),
        "",
        *targets(results),
    ]
    checks = {r["years"]: r.get("atom_check") for r in results if r.get("atom_check")}
    if checks:
        report += [
            "",
            "Atom sets cross-checked: " + "; ".join(f"{y} y: {c}" for y, c in checks.items()),
        ]
    text = "\n".join(report)
    print(text)
    (Path(args.out) / "results.json").write_text(
        json.dumps({"machine": machine(), "results": results}, indent=1)
    )
    (Path(args.out) / "results.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
