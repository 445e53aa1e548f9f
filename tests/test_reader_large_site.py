"""The feed reader over a site of more feeds than one SQL statement can name at once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from digestfeed.reader import Reader
from test_reader_dedupe import AUTH, PANGU, ZERO, entry, write_atom

#: More feeds than the 500 an SQL statement once named per chunk (items repeated per chunk).
FEEDS = 510


def _many_feeds(root: Path, count: int) -> list[Path]:
    """``count`` tag feeds that all carry ZeroSearch and Pangu, each with one paper of its own."""
    paths = []
    for n in range(count):
        own = entry(f"paper-{n}", f"Paper number {n}", minute=n % 60)
        paths.append(write_atom(root / "tags" / f"t{n:04d}.atom", [ZERO, PANGU, own]))
    return paths


def test_all_prints_each_item_once_over_hundreds_of_feeds(tmp_path: Path) -> None:
    """`--all` over more feeds than one query names (the parallel parse path) prints every paper exactly once."""
    root = _many_feeds(tmp_path / "feeds", FEEDS)[0].parent
    with Reader(tmp_path / "state.sqlite", parse_workers=2) as reader:
        result = reader.read([root], all=True)
    assert result.failures == []
    assert result.stats["parsed_in_workers"] > 0  # the parallel path was taken
    counts = Counter(i.id for i in result)
    assert counts[ZERO["id"]] == 1 and counts[PANGU["id"]] == 1
    assert max(counts.values()) == 1
    assert len(result) == FEEDS + 2
    assert all(i.id.startswith(AUTH) for i in result)
