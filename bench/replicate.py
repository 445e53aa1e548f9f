"""Real-shaped benchmark input: a digest directory or vault replicated to N years.

    python bench/replicate.py OUT --years 10                 # the 2024 corpus, as digests
    python bench/replicate.py OUT --years 10 --input entries/  # any digest directory
    python bench/replicate.py OUT --years 10 --input ../vault  # any vault (YYMMDD Title.md)

The input is read with digestfeed's own sources (a directory with ``*.txt`` digests is read
as digests, one with ``*.md`` notes as a vault, as ``digestfeed export-digest`` reads it) and
written back as digest text (``render_digest``), so a vault's notes become exactly the
digests ``export-digest`` prints. Copy 0 is the input itself; copy ``k`` is the same digests
``k × P`` years earlier (``P`` = the input's span rounded to whole years, at least 1) with
every title marked `` [rk]``, so each copy's entries are distinct entries (their ids follow
the date and the title) while abstracts, comments, authors, tags and links are the real
text. A date that two copies share (an input spanning a little more than a year) holds the
entries of both, older copy first; 29 February becomes the 28th in a common year. Copies
are added until ``years`` years are covered. The output is a pure function of the input and
``years``: the same bytes every time.

:func:`new_digest` gives the "one new digest" of a benchmark: a real digest of the input
(chosen with ``seed``) dated after the last day of the replica, its titles marked ``[new i]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import math
import random
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from digestfeed.config import Config
from digestfeed.sources.digest import read_digest_dir
from digestfeed.sources.export import render_digest
from digestfeed.sources.notes import read_notes
from digestfeed.types import Digest, Entry

__all__ = [
    "DEFAULT_INPUT",
    "load_digests",
    "new_digest",
    "replicate",
    "write_replica",
]

#: The curator's 2024 vault (945 notes), beside the project.
DEFAULT_INPUT = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "notes-2024"
#: Bumped whenever the replica's bytes for the same input would change.
REPLICA_VERSION = 1


def input_kind(directory: Path) -> str:
    """``digest`` for a directory of ``*.txt`` digests, ``notes`` for a vault of ``*.md``."""
    if not directory.is_dir():
        raise SystemExit(f"{directory}: not a directory")
    txt = sum(1 for p in directory.glob("*.txt") if not p.name.startswith("."))
    md = sum(1 for p in directory.glob("*.md") if not p.name.startswith("."))
    if not txt and not md:
        raise SystemExit(f"{directory}: neither digests (*.txt) nor notes (*.md)")
    return "digest" if txt >= md else "notes"


def load_digests(directory: Path, config: Config | None = None) -> list[Digest]:
    """Every digest of a digest directory or a vault, oldest first."""
    config = config or Config()
    if input_kind(directory) == "digest":
        digests = read_digest_dir(directory, config, cache=None)
    else:
        digests, _ = read_notes(directory, config)
    return sorted(digests, key=lambda d: d.date)


def _shift_year(date: dt.date, years: int) -> dt.date:
    year = date.year - years
    if date.month == 2 and date.day == 29 and not _leap(year):
        return dt.date(year, 2, 28)
    return date.replace(year=year)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def period_years(digests: Sequence[Digest]) -> int:
    """The input's span in whole years (at least 1): the shift between two copies."""
    first, last = dt.date.fromisoformat(digests[0].date), dt.date.fromisoformat(digests[-1].date)
    return max(1, round(((last - first).days + 1) / 365.25))


def _marked(entry: Entry, mark: str) -> Entry:
    return dataclasses.replace(entry, title=f"{entry.title} {mark}") if mark else entry


def replicate(digests: Sequence[Digest], years: int) -> dict[str, list[Entry]]:
    """``{date: entries}`` of ``digests`` replicated to cover ``years`` years (see above)."""
    if not digests:
        raise SystemExit("the input has no digests")
    if years < 1:
        raise SystemExit("--years must be at least 1")
    period = period_years(digests)
    copies = math.ceil(years / period)
    by_date: dict[str, list[Entry]] = {}
    for k in reversed(range(copies)):  # oldest copy first: it leads on a shared date
        mark = f"[r{k}]" if k else ""
        for digest in digests:
            day = _shift_year(dt.date.fromisoformat(digest.date), k * period).isoformat()
            by_date.setdefault(day, []).extend(_marked(e, mark) for e in digest.entries)
    return dict(sorted(by_date.items()))


def digest_text(date: str, entries: Sequence[Entry]) -> str:
    """One digest file's text (with a final newline)."""
    return render_digest(Digest(f"{date}.txt", date, tuple(entries))) + "\n"


def source_stamp(directory: Path) -> str:
    """Hash of the input's file names and bytes (what decides the replica)."""
    h = hashlib.sha256(f"{REPLICA_VERSION}\n".encode())
    for path in sorted(directory.iterdir()):
        if path.is_file() and not path.name.startswith(".") and path.suffix in (".txt", ".md"):
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def write_replica(source: Path, out: Path, years: int) -> dict[str, object]:
    """Write the replica of ``source`` as ``out/YYYY-MM-DD.txt`` (``out`` is replaced unless it
    already holds this replica, recorded in ``out/.replica.json``); return its summary."""
    stamp = {"source": str(source.resolve()), "hash": source_stamp(source), "years": years}
    marker = out / ".replica.json"
    if marker.is_file():
        previous = json.loads(marker.read_text(encoding="utf-8"))
        if {k: previous.get(k) for k in stamp} == stamp:
            return dict(previous)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    digests = load_digests(source)
    days = replicate(digests, years)
    for date, entries in days.items():
        (out / f"{date}.txt").write_text(digest_text(date, entries), encoding="utf-8")
    summary = {
        **stamp,
        "kind": input_kind(source),
        "input_digests": len(digests),
        "input_entries": sum(len(d.entries) for d in digests),
        "digests": len(days),
        "entries": sum(len(e) for e in days.values()),
        "first": next(iter(days)),
        "last": next(reversed(days)),
    }
    marker.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary


def new_digest(source: Path, replica: Path, index: int, seed: int = 0) -> Path:
    """Write the ``index``-th (1, 2, …) "new digest" into ``replica``: a real digest of
    ``source`` with at least 3 entries (the seed picks which; the same one for every
    ``index``, so that each new digest touches the same feeds), dated ``index`` days after
    the replica's last day; return its path."""
    digests = [d for d in load_digests(source) if len(d.entries) >= 3] or load_digests(source)
    chosen = random.Random(seed).choice(digests)
    last = dt.date.fromisoformat(
        json.loads((replica / ".replica.json").read_text(encoding="utf-8"))["last"]
    )
    date = (last + dt.timedelta(days=index)).isoformat()
    path = replica / f"{date}.txt"
    path.write_text(
        digest_text(date, [_marked(e, f"[new {index}]") for e in chosen.entries]),
        encoding="utf-8",
    )
    return path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="directory to write the digests into")
    parser.add_argument("--years", type=int, default=10, help="years to cover (default 10)")
    parser.add_argument(
        "--input",
        type=Path,
        default=DEFAULT_INPUT,
        help="a digest directory or a vault (default: ../shared/corpus/notes-2024)",
    )
    args = parser.parse_args(argv)
    summary = write_replica(args.input, args.out, args.years)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    sys.exit(main())
