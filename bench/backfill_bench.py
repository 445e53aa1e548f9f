"""`digestfeed read --backfill` over thousands of archive files, against the reader library.

    .venv/bin/python bench/backfill_bench.py [--days 770] [--max-entries 4] [--runs 3]
                                             [--work DIR] [--site FEEDS_DIR]

1. A large site: ``--days`` synthetic digests (``bench/synth.py``, ~5 entries a day) built
   with ``max_entries`` = ``--max-entries``, so most entries live in RFC 5005 archives (the
   defaults give ~3,800 entries in ~5,300 Atom files, ~4,100 of them archives, like the
   ten-year site that took 97 s). ``--site`` reads an existing ``feeds/`` instead.
2. Interleaved runs, each a fresh process from an empty state, A B A B …:
   A = ``digestfeed read feeds/index.opml --backfill`` (finds the archives by following
   ``prev-archive`` links), B = the reader library (lemon24) with ``reader.entry_dedupe``
   given every Atom file of the site, ``update_feeds()``. Wall time and the CPU time of the
   process and its children (digestfeed parses in worker processes); medians.
3. Where digestfeed's time goes: the CPU time of parsing every file once in one process
   (``parse_body``, what no reader can skip) against the CPU time of the whole read. What
   is left is bookkeeping (fetching, link following, dedupe, SQLite): the claim is that it
   is a small share, i.e. the run is bounded by parsing.

Nothing is written outside ``--work`` (default: a temporary directory).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

ANCHOR = r"""
import sys
from pathlib import Path
from reader import make_reader
feeds, db = Path(sys.argv[1]), sys.argv[2]
r = make_reader(db, feed_root=str(feeds), plugins=["reader.entry_dedupe"])
for f in sorted(feeds.rglob("*.atom")):
    r.add_feed(str(f.relative_to(feeds)), exist_ok=True)
r.update_feeds()
print(r.get_entry_counts().total)
r.close()
"""

PARSE_ONLY = r"""
import sys, time
from pathlib import Path
from digestfeed.reader.parse import parse_body
feeds = Path(sys.argv[1])
start = time.process_time()
n = 0
for f in sorted(feeds.rglob("*.atom")):
    parsed = parse_body(str(f), f.resolve().as_uri(), f.read_bytes())
    n += len(parsed.sightings)
print(n, time.process_time() - start)
"""

#: The whole backfilling read in one process (parse_workers=1), so process_time() is all of
#: its CPU: parsing plus every piece of bookkeeping.
SEQUENTIAL = r"""
import sys, time
from pathlib import Path
from digestfeed.reader import Reader
feeds, state = Path(sys.argv[1]), sys.argv[2]
start = time.process_time()
with Reader(state, parse_workers=1) as reader:
    result = reader.read([feeds / "index.opml"], backfill=True)
print(len(result), result.stats["parsed"], time.process_time() - start)
"""


def build_site(work: Path, days: int, max_entries: int) -> Path:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "src"))
    from bench.synth import write_archive  # type: ignore[import-not-found]

    import digestfeed

    entries = work / "entries"
    if not entries.is_dir():
        write_archive(entries, days=days, seed=0)
    config = work / "digestfeed.toml"
    config.write_text(
        f'max_entries = {max_entries}\ncache_dir = "{(work / ".cache").as_posix()}"\n',
        encoding="utf-8",
    )
    feeds = work / "feeds"
    if not (feeds / "index.opml").is_file():
        digestfeed.build(
            entries,
            feeds,
            config=digestfeed.load_config(config),
            ledger=work / "ledger.json",
            cache=False,
        )
    return feeds


def run(cmd: list[str], out: Path) -> tuple[float, float, str]:
    """(wall s, CPU s of the process and its children, stdout) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as f:
        start = time.perf_counter()
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:5]}… failed ({proc.returncode}): {proc.stderr[-800:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.read_text()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=770)
    parser.add_argument("--max-entries", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--site", type=Path, default=None, help="An existing feeds/ to read.")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="backfill-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    feeds = args.site or build_site(work, args.days, args.max_entries)
    files = sorted(feeds.rglob("*.atom"))
    archives = sum(1 for f in files if "archive" in f.relative_to(feeds).parts)
    (work / "anchor.py").write_text(ANCHOR, encoding="utf-8")
    (work / "parse_only.py").write_text(PARSE_ONLY, encoding="utf-8")
    (work / "sequential.py").write_text(SEQUENTIAL, encoding="utf-8")
    env_py = [PY]

    a_wall: list[float] = []
    a_cpu: list[float] = []
    b_wall: list[float] = []
    b_cpu: list[float] = []
    ratios: list[float] = []
    a_items = b_items = 0
    for n in range(args.runs):
        state = work / f"digestfeed-{n}.sqlite"
        state.unlink(missing_ok=True)
        wall, cpu, text = run(
            [
                *env_py,
                "-m",
                "digestfeed",
                "read",
                str(feeds / "index.opml"),
                "--backfill",
                "--state",
                str(state),
                "--format",
                "jsonl",
            ],
            work / "a.out",
        )
        items = [json.loads(line) for line in text.splitlines()]
        a_items = len(items)
        assert a_items == len({i["id"] for i in items}), "an item was printed twice"
        a_wall.append(wall)
        a_cpu.append(cpu)
        db = work / f"reader-{n}.sqlite"
        db.unlink(missing_ok=True)
        wall_b, cpu_b, text = run(
            [*env_py, str(work / "anchor.py"), str(feeds), str(db)], work / "b.out"
        )
        b_items = int(text.strip())
        b_wall.append(wall_b)
        b_cpu.append(cpu_b)
        ratios.append(wall / wall_b)
        print(
            f"run {n + 1}: digestfeed {wall:.1f} s wall / {cpu:.1f} s CPU; "
            f"reader {wall_b:.1f} s wall / {cpu_b:.1f} s CPU",
            file=sys.stderr,
        )
    _, _, text = run([*env_py, str(work / "parse_only.py"), str(feeds)], work / "p.out")
    sightings, parse_cpu = text.split()
    parse_s = float(parse_cpu)
    seq_state = work / "sequential.sqlite"
    seq_state.unlink(missing_ok=True)
    _, _, text = run(
        [*env_py, str(work / "sequential.py"), str(feeds), str(seq_state)], work / "s.out"
    )
    seq_items, seq_parsed, seq_cpu = text.split()
    whole_s = float(seq_cpu)
    med = statistics.median
    print(
        f"\nSite: {len(files)} Atom files ({archives} archives) in {feeds}; "
        f"{os.cpu_count()} CPUs; medians of {args.runs} interleaved runs (A B A B …), fresh state each.\n"
    )
    print("| tool | wall | CPU (process + reaped children) | items |")
    print("|---|---:|---:|---:|")
    print(
        f"| digestfeed read index.opml --backfill | {med(a_wall):.1f} s | {med(a_cpu):.1f} s "
        f"(parse workers not counted) | {a_items} |"
    )
    print(
        f"| reader + entry_dedupe, every file | {med(b_wall):.1f} s | {med(b_cpu):.1f} s | {b_items} |"
    )
    print(
        f"\ndigestfeed/reader wall time, pair by pair: median {med(ratios):.2f} "
        f"(min {min(ratios):.2f}, max {max(ratios):.2f})."
    )
    rest = whole_s - parse_s
    print(
        f"In one process: the whole read (Reader(parse_workers=1), {seq_parsed} documents parsed, "
        f"{seq_items} items) {whole_s:.1f} s CPU; parsing every file once (parse_body, "
        f"{sightings} sightings) {parse_s:.1f} s CPU = {100 * parse_s / whole_s:.0f} % of it. "
        f"The rest (fetching, links, dedupe, SQLite) is {rest:.1f} s, "
        f"{1000 * rest / len(files):.2f} ms per file."
    )


if __name__ == "__main__":
    main()
