"""The real-shaped benchmark's tools: the replica of a digest directory or vault, and the Hugo
converter (bench/replicate.py, bench/hugo.py)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import feedparser
import pytest

from digestfeed.config import Config
from digestfeed.pipeline import collect_entries
from digestfeed.sources.digest import read_digest_dir
from digestfeed.sources.notes import read_notes

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "bench"))

import hugo  # noqa: E402
import replicate  # noqa: E402

SECOND_DAY = """\
2025-06-02
A Second Paper on Tool Use
(Ada Lovelace, Alan Turing)
We study tools. See https://arxiv.org/abs/2506.00001 for details.
도구 사용에 대한 연구입니다.
A study of tool use.
#tool #rl
"""


@pytest.fixture
def digest_dir(tmp_path: Path, seed_path: Path) -> Path:
    """Two real-format digests a month apart."""
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(seed_path, source / seed_path.name)
    (source / "2025-06-02.txt").write_text(SECOND_DAY, encoding="utf-8")
    return source


def _entries(directory: Path) -> list:  # type: ignore[type-arg]
    return collect_entries(read_digest_dir(directory, Config(), cache=None))[0]


def test_replica_repeats_every_entry_once_per_year_with_distinct_ids(
    digest_dir: Path, tmp_path: Path
) -> None:
    """Three years of a digest directory hold each entry three times, under three ids."""
    summary = replicate.write_replica(digest_dir, tmp_path / "r", 3)
    original = _entries(digest_dir)
    copied = _entries(tmp_path / "r")
    assert summary["entries"] == len(copied) == 3 * len(original)
    assert len({e.id for e in copied}) == len(copied)
    assert sorted(p.name for p in (tmp_path / "r").glob("*.txt"))[:2] == [
        "2023-05-08.txt",
        "2023-06-02.txt",
    ]
    for e in original:
        twins = [c for c in copied if c.abstract == e.abstract and c.comment_ko == e.comment_ko]
        assert len(twins) == 3
        assert {c.title for c in twins} == {e.title, f"{e.title} [r1]", f"{e.title} [r2]"}
        assert all(c.tags == e.tags and c.authors == e.authors for c in twins)


def test_replica_is_byte_identical_across_runs(digest_dir: Path, tmp_path: Path) -> None:
    """Writing the same replica twice gives the same files with the same bytes."""
    replicate.write_replica(digest_dir, tmp_path / "a", 2)
    replicate.write_replica(digest_dir, tmp_path / "b", 2)
    a = {p.name: p.read_bytes() for p in (tmp_path / "a").glob("*.txt")}
    b = {p.name: p.read_bytes() for p in (tmp_path / "b").glob("*.txt")}
    assert a == b and len(a) == 4


def test_new_digest_follows_the_replica_and_parses(digest_dir: Path, tmp_path: Path) -> None:
    """The i-th new digest is dated i days after the last day, with marked real entries."""
    replicate.write_replica(digest_dir, tmp_path / "r", 1)
    first = replicate.new_digest(digest_dir, tmp_path / "r", 1, seed=0)
    second = replicate.new_digest(digest_dir, tmp_path / "r", 2, seed=0)
    assert (first.stem, second.stem) == ("2025-06-03", "2025-06-04")
    new = [e for e in _entries(tmp_path / "r") if e.date >= "2025-06-03"]
    assert new and all(e.title.endswith(("[new 1]", "[new 2]")) for e in new)
    assert len([e for e in new if e.date == "2025-06-03"]) == len(new) // 2


@pytest.mark.corpus
def test_replica_of_the_vault_is_its_exported_digests(corpus_dir: Path, tmp_path: Path) -> None:
    """Copy 0 of the vault's replica parses to the vault's own fields, entry for entry."""
    config = Config()
    digests, _ = read_notes(corpus_dir, config)
    replicate.write_replica(corpus_dir, tmp_path / "r", 1)
    parsed = _entries(tmp_path / "r")
    notes = [e for d in digests for e in d.entries]
    assert len(parsed) == len(notes) > 900
    fields = ("date", "title", "authors", "abstract", "comment_ko", "comment_en", "tags")
    assert [tuple(getattr(e, f) for f in fields) for e in parsed] == [
        tuple(getattr(e, f) for f in fields) for e in notes
    ]


def test_hugo_site_has_a_page_per_entry_and_language(digest_dir: Path, tmp_path: Path) -> None:
    """The converter writes one page per entry and language and an unlimited RSS config."""
    counts = hugo.convert(digest_dir, tmp_path / "site")
    entries = _entries(digest_dir)
    assert counts["pages"] == 2 * len(entries)
    for lang in hugo.LANGS:
        assert len(list((tmp_path / "site" / "content" / lang / "posts").glob("*.md"))) == len(
            entries
        )
    assert "[services.rss]\nlimit = -1" in (tmp_path / "site" / "hugo.toml").read_text()


@pytest.mark.skipif(shutil.which("hugo") is None, reason="hugo is not installed")
def test_hugo_rss_holds_every_entry_per_language_and_tag(digest_dir: Path, tmp_path: Path) -> None:
    """Hugo's home and tag RSS of each language list every entry of it, by digestfeed id."""
    hugo.convert(digest_dir, tmp_path / "site")
    run = hugo.run_hugo(tmp_path / "site", tmp_path / "public", tmp_path / "cache")
    assert run["cpu"] > 0
    entries = _entries(digest_dir)
    for lang in hugo.LANGS:
        home = feedparser.parse((tmp_path / "public" / lang / "index.xml").read_bytes())
        assert home.bozo == 0
        assert {i.id for i in home.entries} == {e.id for e in entries}
        rl = feedparser.parse(
            (tmp_path / "public" / lang / "tags" / "rl" / "index.xml").read_bytes()
        )
        assert {i.id for i in rl.entries} == {e.id for e in entries if "rl" in e.tags}
