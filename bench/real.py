"""The benchmark on real-shaped data: the 2024 corpus (or any digest directory or vault)
replicated to N years, the CI replay, the naive Atom way and Hugo on the same entries.

    python bench/real.py                           # 1 and 10 years, 3 interleaved repeats
    python bench/real.py --sizes 10 --repeat 5     # more repeats, one size
    python bench/real.py --input entries/          # another digest directory (or a vault)
    python bench/real.py --profile 10              # cProfile a full and a one-new build
    python bench/real.py --readme                  # the README's table of the last results

The input is replicated by ``bench/replicate.py`` (default: ``../shared/corpus/notes-2024``
rendered as digests). digestfeed runs from a throwaway **non-editable** install of this
checkout (``<out>/venv``, ``pip install .``, as CI installs it), refreshed before measuring.
Each repeat runs, every step in a fresh process whose CPU seconds (user + system), wall
seconds and peak RSS come from ``os.wait4``:

1. ``full``: the whole site (default config: ``max_entries = 50``, every output, archives)
   from scratch: no output, no ledger, no cache;
2. ``no-change``: the same build again;
3. ``one new (local)``: a new digest (a real one of the input, see
   :func:`replicate.new_digest`) added, built;
4. ``one new (CI replay)``: ``pip install --force-reinstall --no-deps .`` into the venv
   (not timed: every installed code file gets a new mtime, as in a CI run that installs the
   package afresh), another new digest, built;
5. ``one new (CI + checkout)``: as 4, and every input and output file is also rewritten
   with its own bytes (new inode and mtime, not timed), as ``actions/checkout`` leaves them
   while ``actions/cache`` restores the cache;
6. ``Atom set``: the Atom feed set with no caps (``max_entries`` and ``archive_page_size``
   above any feed, so one document per feed as the naive way writes; Atom only, ``--no-cache``), whole ``digestfeed build`` command; then ``naive``: ``bench/baseline.py``
   (one feedgen ``FeedGenerator`` per feed), whole command;
7. ``hugo``: the same entries as a Hugo site (``bench/hugo.py``: one page per entry and
   language, RSS for the home page and every tag per language, no item limit) built into an
   empty directory with an empty cache, when ``hugo`` is installed.

Steps 1–7 run in turn in every repeat (so a drift of the machine's speed touches all of
them alike); the table gives medians over repeats, and each ratio is the median of the
per-repeat ratios. Results: ``<out>/real-results.json`` and ``<out>/real-results.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import replicate  # noqa: E402
from process import MB, machine, measure  # noqa: E402
from sitefiles import compare_sets, tree_size  # noqa: E402

NOW = "2030-01-01T00:00:00+09:00"  #: $DIGESTFEED_NOW: the build clock, for reproducible bytes
NEW = 3  #: new digests a repeat adds (local, CI replay, CI + checkout)

SITE_STEPS = ("full", "nochange", "onenew_local", "onenew_ci", "onenew_checkout")
LABELS = {
    "full": "full build",
    "nochange": "no-change rebuild",
    "onenew_local": "one new digest (local)",
    "onenew_ci": "one new digest (CI replay: fresh `pip install .`)",
    "onenew_checkout": "one new digest (CI replay + fresh checkout)",
    "atom": "Atom set, digestfeed (no caps)",
    "naive": "Atom set, naive (bench/baseline.py)",
    "hugo": "Hugo, same entries",
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes


class Install:
    """A throwaway venv with this checkout installed non-editable (``pip install .``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.python = str(root / "bin" / "python")

    def ensure(self) -> None:
        if not Path(self.python).exists():
            log(f"creating {self.root} (pip install {REPO})")
            subprocess.run([sys.executable, "-m", "venv", str(self.root)], check=True)
            self._pip("install", "-q", str(REPO))
        self.reinstall()

    def reinstall(self) -> float:
        """``pip install --force-reinstall --no-deps .``: this checkout's code, every file new."""
        start = time.perf_counter()
        self._pip("install", "-q", "--force-reinstall", "--no-deps", str(REPO))
        return time.perf_counter() - start

    def _pip(self, *args: str) -> None:
        proc = subprocess.run(
            [self.python, "-m", "pip", "--disable-pip-version-check", *args],
            check=False,
            capture_output=True,
            cwd=self.root,  # not the checkout: its src/ must not shadow the installed package
        )
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr.decode(errors="replace"))
            raise SystemExit(f"pip {' '.join(args)} failed ({proc.returncode})")


# ---------------------------------------------------------------- files


def rmtree(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def fresh_checkout(*directories: Path) -> int:
    """Rewrite every file under ``directories`` with its own bytes (new inode, new mtime), as
    a fresh ``git checkout`` leaves them; hidden files and directories are left alone."""
    count = 0
    for directory in directories:
        for root, dirs, files in os.walk(directory):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if name.startswith("."):
                    continue
                path = os.path.join(root, name)
                tmp = os.path.join(root, f".checkout.{name}")
                shutil.copyfile(path, tmp)
                os.replace(tmp, path)
                count += 1
    return count


# ---------------------------------------------------------------- one size


class Size:
    """The replica of one size and the work directory of its runs."""

    def __init__(self, args: argparse.Namespace, years: int, install: Install) -> None:
        self.args, self.years, self.install = args, years, install
        root = Path(args.out).resolve()
        label = Path(args.input).resolve().name
        self.data = root / "data" / f"{label}-{years}y"
        self.entries = self.data / "entries"
        self.hugo_site = self.data / "hugo"
        self.work = root / f"{years}y"
        self.work.mkdir(parents=True, exist_ok=True)
        self.site, self.cache = self.work / "site", self.work / "cache"
        self.ledger = self.work / "site-ledger.json"
        self.config = self.work / "digestfeed.toml"
        self.config.write_text(f'cache_dir = "{self.cache}"\n', encoding="utf-8")
        self.atom_config = self.work / "atom.toml"
        self.atom_config.write_text(
            f'max_entries = 1000000000\narchive_page_size = 1000000000\noutputs = ["atom"]\n'
            f'cache_dir = "{self.work / "atom-cache"}"\n',
            encoding="utf-8",
        )
        self.env = {**os.environ, "DIGESTFEED_NOW": NOW}

    def prepare(self) -> dict[str, Any]:
        start = time.perf_counter()
        summary = replicate.write_replica(Path(self.args.input), self.entries, self.years)
        self.remove_new()
        log(
            f"{self.years} y: {summary['digests']} digests, {summary['entries']} entries "
            f"({summary['first']} … {summary['last']}) in {time.perf_counter() - start:.1f} s"
        )
        if self.args.hugo:
            marker = self.hugo_site / ".source.json"
            stamp = json.dumps({"hash": summary["hash"], "years": self.years, "v": 1})
            if not marker.is_file() or marker.read_text() != stamp:
                import hugo

                counts = hugo.convert(self.entries, self.hugo_site)
                marker.write_text(stamp)
                log(f"{self.years} y: Hugo site {counts}")
        return summary

    def remove_new(self) -> None:
        last = json.loads((self.entries / ".replica.json").read_text())["last"]
        for path in self.entries.glob("*.txt"):
            if path.stem > last:
                path.unlink()

    def cli(self, config: Path, out: Path, ledger: Path, *extra: str) -> list[str]:
        return [
            self.install.python,
            "-m",
            "digestfeed",
            "--config",
            str(config),
            "build",
            "--entries",
            str(self.entries),
            "--out",
            str(out),
            "--ledger",
            str(ledger),
            *extra,
        ]

    def site_build(self, *extra: str, count: bool = False) -> dict[str, Any]:
        """Every step runs at the default verbosity (the same printing for every step: ``-v``
        prints every warning, thousands at 10 years; ``-q`` not even the summary); ``count``
        takes the files written from the summary line (``…: N changed``)."""
        run = measure(self.cli(self.config, self.site, self.ledger, *extra), self.env)
        found = re.search(r"^.*files: (\d[\d,]*) changed.*$", run["stdout"], re.MULTILINE)
        run["summary"] = found.group(0) if found else run["stdout"].partition("\n")[0]
        if count:
            run["written"] = int(found.group(1).replace(",", "")) if found else None
        return run

    def repeat(self, r: int) -> dict[str, Any]:
        """One repeat of every step, in turn."""
        res: dict[str, Any] = {}
        y = f"{self.years:>2} y #{r + 1}"
        self.remove_new()
        for path in (self.site, self.cache, self.ledger):
            rmtree(path)
        res["full"] = self.site_build()
        res["site_bytes"], res["site_files"] = tree_size(self.site)
        res["nochange"] = self.site_build()
        replicate.new_digest(Path(self.args.input), self.entries, 1, self.args.seed)
        res["onenew_local"] = self.site_build(count=True)
        if self.args.ci:
            res["reinstall_s"] = self.install.reinstall()
            replicate.new_digest(Path(self.args.input), self.entries, 2, self.args.seed)
            res["onenew_ci"] = self.site_build(count=True)
            self.install.reinstall()
            res["checkout_files"] = fresh_checkout(self.entries, self.site)
            replicate.new_digest(Path(self.args.input), self.entries, 3, self.args.seed)
            res["onenew_checkout"] = self.site_build(count=True)
        self.remove_new()
        for step in SITE_STEPS:
            if step in res:
                run = res[step]
                log(
                    f"{y} {LABELS[step]:<50} {run['cpu']:6.2f} s CPU {run['wall']:6.2f} s wall "
                    f"{run['rss_mb']:4.0f} MB  {run.get('summary', '')[:70]}"
                )

        # The Atom set without caps: digestfeed's way, then the naive way.
        atom_out, atom_ledger = self.work / "atom-digestfeed", self.work / "atom-ledger.json"
        naive_out = self.work / "atom-naive"
        for path in (atom_out, atom_ledger, naive_out):
            rmtree(path)
        res["atom"] = measure(
            self.cli(self.atom_config, atom_out, atom_ledger, "-q", "--no-cache"), self.env
        )
        res["naive"] = measure(
            [self.install.python, str(BENCH / "baseline.py"), str(self.entries), str(naive_out)],
            self.env,
        )
        res["atom_bytes"], res["atom_files"] = tree_size(atom_out)
        if r == 0 and self.args.check:
            res["atom_check"] = compare_sets(atom_out, naive_out)
            log(f"{y} Atom sets cross-checked: {res['atom_check']}")
        if not self.args.keep:
            rmtree(atom_out)
            rmtree(naive_out)
        for step in ("atom", "naive"):
            run = res[step]
            log(
                f"{y} {LABELS[step]:<50} {run['cpu']:6.2f} s CPU {run['wall']:6.2f} s wall {run['rss_mb']:4.0f} MB"
            )

        if self.args.hugo:
            import hugo

            public = self.work / "hugo-public"
            res["hugo"] = hugo.run_hugo(self.hugo_site, public, self.work / "hugo-cache")
            res["hugo_bytes"], res["hugo_files"] = tree_size(public)
            run = res["hugo"]
            log(
                f"{y} {LABELS['hugo']:<50} {run['cpu']:6.2f} s CPU {run['wall']:6.2f} s wall {run['rss_mb']:4.0f} MB"
            )
        for run in res.values():
            if isinstance(run, dict):
                run.pop("stdout", None)
        return res

    def run(self) -> dict[str, Any]:
        summary = self.prepare()
        repeats = [self.repeat(r) for r in range(self.args.repeat)]
        return {"years": self.years, "replica": summary, "repeats": repeats}


# ---------------------------------------------------------------- summary


def med(values: list[float]) -> float:
    return statistics.median(values)


def summarize(size: dict[str, Any]) -> dict[str, Any]:
    reps = size["repeats"]
    out: dict[str, Any] = {"years": size["years"], **size["replica"]}
    steps = [s for s in (*SITE_STEPS, "atom", "naive", "hugo") if s in reps[0]]
    for step in steps:
        runs = [r[step] for r in reps]
        out[step] = {
            "cpu": med([x["cpu"] for x in runs]),
            "cpu_min": min(x["cpu"] for x in runs),
            "cpu_max": max(x["cpu"] for x in runs),
            "user": med([x.get("user", x["cpu"]) for x in runs]),
            "sys": med([x.get("sys", 0.0) for x in runs]),
            "wall": med([x["wall"] for x in runs]),
            "rss_mb": max(x["rss_mb"] for x in runs),
            "written": med([x["written"] for x in runs])
            if all(x.get("written") is not None for x in runs)
            else None,
            "summary": runs[0].get("summary", ""),
        }

    def ratio(a: str, b: str, unit: str) -> float | None:
        if a not in reps[0] or b not in reps[0]:
            return None
        return med([r[a].get(unit, r[a]["cpu"]) / r[b].get(unit, r[b]["cpu"]) for r in reps])

    out["ratios"] = {
        unit: {
            "nochange/full": ratio("nochange", "full", unit),
            "onenew_local/full": ratio("onenew_local", "full", unit),
            "onenew_ci/full": ratio("onenew_ci", "full", unit),
            "onenew_checkout/full": ratio("onenew_checkout", "full", unit),
            "naive/atom": ratio("naive", "atom", unit),
            "full/hugo": ratio("full", "hugo", unit),
        }
        for unit in ("cpu", "user", "wall")
    }
    out["site_bytes"] = reps[0]["site_bytes"]
    out["site_files"] = reps[0]["site_files"]
    out["atom_bytes"], out["atom_files"] = reps[0]["atom_bytes"], reps[0]["atom_files"]
    if "hugo" in reps[0]:
        out["hugo_bytes"], out["hugo_files"] = reps[0]["hugo_bytes"], reps[0]["hugo_files"]
    out["atom_check"] = reps[0].get("atom_check")
    out["peak_site_rss_mb"] = max(out[s]["rss_mb"] for s in SITE_STEPS if s in out)
    return out


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _x(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}×"


def report(summaries: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        f"Machine: {machine()}. Input: {args.input} replicated (bench/replicate.py); "
        f"{args.repeat} interleaved repeats, medians (CPU min–max in brackets). CPU = user + "
        "system seconds of the whole process (hugo: all its threads), from os.wait4.",
        "",
    ]
    for s in summaries:
        lines += [
            f"### {s['years']} y: {s['digests']:,} digests, {s['entries']:,} entries "
            f"({s['first']} … {s['last']})",
            "",
            "| step | CPU s (min–max) | user s | system s | wall s | peak RSS | files written |",
            "|---|---|---|---|---|---|---|",
        ]
        for step in (*SITE_STEPS, "atom", "naive", "hugo"):
            if step not in s:
                continue
            m = s[step]
            written = "" if m["written"] is None else f"{m['written']:,.0f}"
            lines.append(
                f"| {LABELS[step]} | {m['cpu']:.2f} ({m['cpu_min']:.2f}–{m['cpu_max']:.2f}) | "
                f"{m['user']:.2f} | {m['sys']:.2f} | {m['wall']:.2f} | {m['rss_mb']:.0f} MB | {written} |"
            )
        rc, rw, ru = s["ratios"]["cpu"], s["ratios"]["wall"], s["ratios"]["user"]
        lines += [
            "",
            f"- no-change / full: {_pct(rc['nochange/full'])} CPU, {_pct(ru['nochange/full'])} user, {_pct(rw['nochange/full'])} wall (target ≤ 5%)",
            f"- one new / full, local: {_pct(rc['onenew_local/full'])} CPU, {_pct(ru['onenew_local/full'])} user, {_pct(rw['onenew_local/full'])} wall (target ≤ 10%)",
            f"- one new / full, CI replay: {_pct(rc['onenew_ci/full'])} CPU, {_pct(ru['onenew_ci/full'])} user, {_pct(rw['onenew_ci/full'])} wall (target ≤ 10%)",
            f"- one new / full, CI replay + fresh checkout: {_pct(rc['onenew_checkout/full'])} CPU, {_pct(ru['onenew_checkout/full'])} user, {_pct(rw['onenew_checkout/full'])} wall",
            f"- Atom set, naive / digestfeed: {_x(rc['naive/atom'])} CPU, {_x(ru['naive/atom'])} user, {_x(rw['naive/atom'])} wall (target ≥ 3× at 10 y, ≥ 1× at 1 y)",
            f"- full site / Hugo: {_x(rc['full/hugo'])} CPU, {_x(ru['full/hugo'])} user, {_x(rw['full/hugo'])} wall (target ≤ 0.5× CPU)",
            f"- peak RSS of the site builds: {s['peak_site_rss_mb']:.0f} MB (target ≤ 250 MB); "
            f"Atom set {s['atom']['rss_mb']:.0f} MB, naive {s['naive']['rss_mb']:.0f} MB",
            f"- site: {s['site_bytes'] / MB:,.0f} MB in {s['site_files']:,} files; uncapped Atom "
            f"set {s['atom_bytes'] / MB:,.0f} MB in {s['atom_files']:,} files"
            + (
                f"; Hugo {s['hugo_bytes'] / MB:,.0f} MB in {s['hugo_files']:,} files"
                if "hugo_bytes" in s
                else ""
            ),
        ]
        if s.get("atom_check"):
            lines.append(f"- Atom sets cross-checked: {s['atom_check']}")
        lines.append("")
    return "\n".join(lines)


def readme_table(summaries: list[dict[str, Any]]) -> str:
    """The README's Performance table: one row per size, CPU medians (ratios in brackets)."""
    lines = [
        "| archive | full build | no change | one new digest | one new, CI replay "
        "| CI replay + fresh checkout | Atom set: naive / digestfeed | Hugo, same entries "
        "| peak RSS | site |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        rc = s["ratios"]["cpu"]

        def step(name: str, ratio: str, s: dict[str, Any] = s, rc: dict[str, Any] = rc) -> str:
            if name not in s:
                return "—"
            return f"{s[name]['cpu']:.2f} s ({_pct(rc[ratio])})"

        hugo = (
            f"{s['hugo']['cpu']:.1f} s (digestfeed {_x(rc['full/hugo'])})" if "hugo" in s else "—"
        )
        lines.append(
            f"| {s['years']} y: {s['digests']:,} digests, {s['entries']:,} entries "
            f"| {s['full']['cpu']:.2f} s | {step('nochange', 'nochange/full')} "
            f"| {step('onenew_local', 'onenew_local/full')} | {step('onenew_ci', 'onenew_ci/full')} "
            f"| {step('onenew_checkout', 'onenew_checkout/full')} "
            f"| {s['naive']['cpu']:.2f} s / {s['atom']['cpu']:.2f} s = {_x(rc['naive/atom'])} "
            f"| {hugo} | {s['peak_site_rss_mb']:.0f} MB "
            f"| {s['site_bytes'] / MB:,.0f} MB, {s['site_files']:,} files |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- profile


def profile(args: argparse.Namespace, install: Install) -> None:
    """cProfile a full build, a local one-new-digest build and a CI-replay one at one size."""
    import pstats

    size = Size(args, args.profile, install)
    size.prepare()
    prof_dir = Path(args.out).resolve() / "profiles"
    prof_dir.mkdir(parents=True, exist_ok=True)

    def profiled(name: str, *extra: str) -> None:
        path = prof_dir / f"{args.profile}y-{name}.prof"
        argv = size.cli(size.config, size.site, size.ledger, *extra)
        argv[1:1] = ["-m", "cProfile", "-o", str(path)]
        run = measure(argv, size.env)
        log(f"profiled {name}: {run['cpu']:.2f} s CPU (under cProfile) → {path}")
        with (prof_dir / f"{args.profile}y-{name}.txt").open("w") as fh:
            stats = pstats.Stats(str(path), stream=fh)
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(30)

    size.remove_new()
    for path in (size.site, size.cache, size.ledger):
        rmtree(path)
    profiled("full", "-q")
    replicate.new_digest(Path(args.input), size.entries, 1, args.seed)
    profiled("onenew-local", "-q")
    install.reinstall()
    replicate.new_digest(Path(args.input), size.entries, 2, args.seed)
    profiled("onenew-ci", "-q")
    size.remove_new()


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1,10", help="years, comma-separated (default 1,10)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved repeats (default 3)")
    parser.add_argument(
        "--input",
        default=str(replicate.DEFAULT_INPUT),
        help="digest directory or vault to replicate (default: the 2024 corpus)",
    )
    parser.add_argument("--out", default=str(BENCH / "out" / "real"), help="work directory")
    parser.add_argument("--seed", type=int, default=0, help="picks the new digests (default 0)")
    parser.add_argument("--no-ci", dest="ci", action="store_false", help="skip the CI replays")
    parser.add_argument("--no-hugo", dest="hugo", action="store_false", help="skip Hugo")
    parser.add_argument(
        "--no-check", dest="check", action="store_false", help="skip the Atom cross-check"
    )
    parser.add_argument("--keep", action="store_true", help="keep the uncapped Atom sets")
    parser.add_argument(
        "--profile",
        type=int,
        metavar="YEARS",
        help="instead of measuring: cProfile a full, a one-new and a CI-replay one-new build",
    )
    parser.add_argument(
        "--report", action="store_true", help="only print the report of the last results"
    )
    parser.add_argument(
        "--readme", action="store_true", help="only print the README table of the last results"
    )
    args = parser.parse_args()
    if args.report or args.readme:
        saved = json.loads((Path(args.out) / "real-results.json").read_text())
        summaries = [summarize(r) for r in saved["results"]]
        print(readme_table(summaries) if args.readme else report(summaries, args))
        return
    if args.hugo and not (shutil.which("hugo") or Path("/usr/bin/hugo").exists()):
        log("hugo is not installed: skipping Hugo")
        args.hugo = False
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    install = Install(out / "venv")
    install.ensure()
    if args.profile:
        profile(args, install)
        return
    results = [Size(args, int(y), install).run() for y in args.sizes.split(",")]
    summaries = [summarize(r) for r in results]
    text = report(summaries, args)
    print(text)
    (out / "real-results.json").write_text(
        json.dumps({"machine": machine(), "results": results, "summary": summaries}, indent=1)
    )
    (out / "real-results.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
