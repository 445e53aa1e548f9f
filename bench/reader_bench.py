"""Benchmark of the feed reader (``digestfeed read``) against the reader library (lemon24) as the anchor.

    .venv/bin/python bench/reader_bench.py [--corpus ../shared/corpus/notes-2024] [--repeat 3]

1. Build the feeds of the 945-note corpus (``digestfeed build --source notes=…``); when the
   corpus or the notes source is missing, a synthetic digest archive of ~945 entries
   (``bench/synth.py``) is built instead, and the table says so.
2. ``digestfeed read feeds/index.opml`` from an empty state, then again with nothing
   changed (each a fresh process, as a user runs it; stdout to a file).
3. The anchor: ``make_reader(db, plugins=['reader.entry_dedupe'])``, ``add_feed`` for each
   feed of the same OPML (as paths under ``feed_root``), ``update_feeds()``; then again.
4. The same two with archives: ``read --backfill`` against ``reader`` given every file.

With ``--plugin``: the reader library alone against the reader library with digestfeed's
plugin (``digestfeed.reader_plugin``) on the OPML's feeds: the first ``update_feeds()`` from
an empty database and an update with nothing new, timed in-process. Targets: the first
update ≤ 1.3× the reader library alone; an update with nothing new adds < 10 % of the first
update's time.

Times are wall-clock medians over ``--repeat`` runs; item counts are checked against the
distinct entry ids in the feed files (exactly one item per paper is the target).
Targets: first run ≥ 2× faster than the anchor; unchanged run < 5 % of the first.
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
import tempfile
import time
from pathlib import Path

import lxml.etree as etree

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
ATOM = "{http://www.w3.org/2005/Atom}"

ANCHOR = r"""
import re, sys
from pathlib import Path
from reader import make_reader
feeds, db, files = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
r = make_reader(db, feed_root=str(feeds), plugins=["reader.entry_dedupe"])
for f in files:
    r.add_feed(f, exist_ok=True)
r.update_feeds()
print(r.get_entry_counts().total)
r.close()
"""


PLUGIN_RUN = r"""
import sys, time
from reader import make_reader
feeds, db, plugins, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
r = make_reader(db, feed_root=feeds, plugins=[p for p in plugins.split(",") if p])
for f in files:
    r.add_feed(f, exist_ok=True)
start = time.perf_counter()
r.update_feeds()
first = time.perf_counter() - start
start = time.perf_counter()
r.update_feeds()
second = time.perf_counter() - start
print(first, second, r.get_entry_counts().total, r.get_entry_counts(read=False).total)
r.close()
"""


def bench_plugin(work: Path, feeds: Path, files: list[str], repeat: int) -> None:
    """The reader library alone vs with digestfeed's plugin: first update, nothing-new update."""
    script = work / "plugin_run.py"
    script.write_text(PLUGIN_RUN)
    rows = []
    for name, plugins in (("reader alone", ""), ("reader + digestfeed plugin", PLUGIN)):
        runs = []
        for n in range(repeat):
            db = work / f"plugin-{n}-{bool(plugins)}.sqlite"
            db.unlink(missing_ok=True)
            proc = subprocess.run(
                [PY, str(script), str(feeds), str(db), plugins, *files],
                capture_output=True,
                text=True,
                check=True,
            )
            first, second, total, unread = proc.stdout.split()
            runs.append((float(first), float(second), int(total), int(unread)))
        first = statistics.median(r[0] for r in runs)
        second = statistics.median(r[1] for r in runs)
        rows.append((name, first, second, runs[0][2], runs[0][3]))
    print("| | first update | nothing-new update | entries | unread |")
    print("|---|---:|---:|---:|---:|")
    for name, first, second, total, unread in rows:
        print(f"| {name} | {first:.2f} s | {second:.3f} s | {total} | {unread} |")
    alone, plugin = rows
    print(
        f"\nfirst update: {plugin[1] / alone[1]:.2f}× reader alone (target ≤ 1.3×); nothing-new "
        f"update adds {plugin[2] - alone[2]:.3f} s = {100 * (plugin[2] - alone[2]) / plugin[1]:.1f} % "
        "of the first update (target < 10 %)."
    )


PLUGIN = "digestfeed.reader_plugin:init_reader"


def build(work: Path, corpus: Path) -> tuple[Path, str]:
    """The feeds to read: the corpus built with :func:`digestfeed.build` (else a synthetic
    archive); the output directory and what it was built from."""
    import digestfeed

    out = work / "feeds"
    if corpus.is_dir():
        try:
            digestfeed.build([("notes", corpus)], out, ledger=work / "ledger.json")
        except digestfeed.DigestfeedError as exc:
            print(
                f"notes build failed ({str(exc)[:200]}); using a synthetic archive", file=sys.stderr
            )
        else:
            return out, f"{len(list(corpus.glob('*.md')))} vault notes ({corpus.name})"
    sys.path.insert(0, str(ROOT))
    from bench.synth import write_archive  # type: ignore[import-not-found]

    entries = work / "entries"
    n = write_archive(entries, days=190, seed=0)
    digestfeed.build(entries, out, ledger=work / "ledger.json")
    return out, f"synthetic digest archive ({n} entries, bench/synth.py)"


def opml_files(feeds: Path) -> list[str]:
    """The OPML's feeds as paths relative to ``feeds`` (the anchor's feed_root)."""
    root = etree.parse(str(feeds / "index.opml")).getroot()
    rel = []
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl")
        if url:
            match = re.search(r"/feeds/(.+)$", url) or re.search(r"/([^/]+)$", url)
            rel.append(match.group(1))
    return rel


def distinct_ids(feeds: Path, files: list[str]) -> int:
    ids = set()
    for f in files:
        for el in etree.parse(str(feeds / f)).getroot().iter(f"{ATOM}entry"):
            ids.add(el.findtext(f"{ATOM}id"))
    return len(ids)


def timed(cmd: list[str], out: Path) -> tuple[float, str]:
    with open(out, "w") as f:
        start = time.perf_counter()
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:4]}… failed ({proc.returncode}): {proc.stderr[:500]}")
    return elapsed, out.read_text()


def bench_digestfeed(work: Path, feeds: Path, extra: list[str], repeat: int) -> dict[str, object]:
    firsts, seconds, counts, unique, again = [], [], [], [], []
    for n in range(repeat):
        state = work / f"df-{n}-{'-'.join(extra) or 'opml'}.sqlite"
        state.unlink(missing_ok=True)
        cmd = [
            PY,
            "-m",
            "digestfeed",
            "read",
            str(feeds / "index.opml"),
            "--state",
            str(state),
            "--format",
            "jsonl",
            *extra,
        ]
        t, text = timed(cmd, work / "out1.jsonl")
        items = [json.loads(line) for line in text.splitlines()]
        firsts.append(t)
        counts.append(len(items))
        unique.append(len({i["id"] for i in items}))
        t, text = timed(cmd, work / "out2.jsonl")
        seconds.append(t)
        again.append(len(text.splitlines()))
    # the same two runs in-process (the library, without interpreter start and CLI imports)
    sys.path.insert(0, str(ROOT / "src"))
    from digestfeed.reader import Reader

    lib_first, lib_second = [], []
    for n in range(repeat):
        state = work / f"lib-{n}-{'-'.join(extra) or 'opml'}.sqlite"
        state.unlink(missing_ok=True)
        with Reader(state) as reader:
            start = time.perf_counter()
            reader.read([feeds / "index.opml"], backfill="--backfill" in extra)
            lib_first.append(time.perf_counter() - start)
            start = time.perf_counter()
            reader.read([feeds / "index.opml"], backfill="--backfill" in extra)
            lib_second.append(time.perf_counter() - start)
    return {
        "first": statistics.median(firsts),
        "second": statistics.median(seconds),
        "items": counts[0],
        "unique_ids": unique[0],
        "second_items": again[0],
        "lib_first": statistics.median(lib_first),
        "lib_second": statistics.median(lib_second),
    }


def bench_anchor(
    work: Path, feeds: Path, files: list[str], repeat: int, tag: str
) -> dict[str, object]:
    script = work / "anchor.py"
    script.write_text(ANCHOR)
    firsts, seconds, counts = [], [], []
    for n in range(repeat):
        db = work / f"reader-{n}-{tag}.sqlite"
        db.unlink(missing_ok=True)
        cmd = [PY, str(script), str(feeds), str(db), *files]
        t, text = timed(cmd, work / "anchor.out")
        firsts.append(t)
        counts.append(int(text.strip()))
        t, _ = timed(cmd, work / "anchor.out")
        seconds.append(t)
    return {
        "first": statistics.median(firsts),
        "second": statistics.median(seconds),
        "items": counts[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "notes-2024"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--work", type=Path, default=None, help="Work directory (default: a temporary one)."
    )
    parser.add_argument(
        "--plugin",
        action="store_true",
        help="Only the reader library alone vs with digestfeed's plugin.",
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="reader-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if (work / "feeds" / "index.opml").is_file() and args.work is not None:
        feeds, what = work / "feeds", "the feeds already in --work"
    else:
        shutil.rmtree(work / "feeds", ignore_errors=True)
        feeds, what = build(work, args.corpus)
    sub = opml_files(feeds)
    if args.plugin:
        print(f"\nCorpus: {what}; {len(sub)} feeds; median of {args.repeat} runs\n")
        bench_plugin(work, feeds, sub, args.repeat)
        return
    every = sorted(str(p.relative_to(feeds)) for p in feeds.rglob("*.atom"))
    expect_sub, expect_all = distinct_ids(feeds, sub), distinct_ids(feeds, every)
    sightings_sub = sum(
        len(etree.parse(str(feeds / f)).getroot().findall(f"{ATOM}entry")) for f in sub
    )

    rows = [
        (
            "index.opml",
            len(sub),
            sightings_sub,
            expect_sub,
            bench_digestfeed(work, feeds, [], args.repeat),
            bench_anchor(work, feeds, sub, args.repeat, "opml"),
        ),
        (
            "index.opml + archives (--backfill)",
            len(every),
            None,
            expect_all,
            bench_digestfeed(work, feeds, ["--backfill"], args.repeat),
            bench_anchor(work, feeds, every, args.repeat, "all"),
        ),
    ]
    print(
        f"\nCorpus: {what}; {os.cpu_count()} CPUs; median of {args.repeat} runs; work dir {work}\n"
    )
    print(
        "| feeds read | files | papers (distinct ids) | tool | first run | unchanged run | "
        "unchanged/first | items | one item per paper |"
    )
    print("|---|---:|---:|---|---:|---:|---:|---:|---|")
    for name, nfiles, _sightings, expect, df, rd in rows:
        ok = df["items"] == df["unique_ids"] == expect and df["second_items"] == 0
        print(
            f"| {name} | {nfiles} | {expect} | digestfeed read | {df['first']:.2f} s | "
            f"{df['second']:.3f} s | {100 * df['second'] / df['first']:.1f} % | {df['items']} | "
            f"{'yes' if ok else 'NO'} |"
        )
        print(
            f"| | | | (Reader.read in-process) | {df['lib_first']:.2f} s | {df['lib_second']:.3f} s | "
            f"{100 * df['lib_second'] / df['lib_first']:.1f} % | | |"
        )
        print(
            f"| | | | reader + entry_dedupe | {rd['first']:.2f} s | {rd['second']:.3f} s | "
            f"{100 * rd['second'] / rd['first']:.1f} % | {rd['items']} | "
            f"{'yes' if rd['items'] == expect else 'no'} |"
        )
    for name, _, _, _, df, rd in rows:
        print(
            f"\n{name}: digestfeed first run is {rd['first'] / df['first']:.1f}× faster than reader "
            f"(target ≥ 2×); unchanged run is {100 * df['second'] / df['first']:.1f} % of the first "
            f"(target < 5 %)."
        )


if __name__ == "__main__":
    main()
