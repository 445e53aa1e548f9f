"""The Atom feed set on real data: the 945-note corpus rendered as digests builds valid feeds (skipped without ../shared)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from digestfeed.cli import main
from digestfeed.config import Config
from digestfeed.sources.export import render_digest
from digestfeed.sources.notes import read_notes
from feedcheck import A, check_atom, feedparse

pytestmark = pytest.mark.corpus


@dataclasses.dataclass
class Site:
    feeds: Path
    by_tag: dict[str, list[str]]  #: tag → titles of the corpus entries with that tag
    parsed: dict[str, tuple[Any, Any]]  #: feed path → (lxml root, feedparser result)


@pytest.fixture(scope="module")
def corpus_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The corpus as digest files, built with no caps, every feed checked and parsed once."""
    corpus = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "notes-2024"
    if not corpus.is_dir():
        pytest.skip("../shared/corpus/notes-2024 is absent (fresh clone)")
    tmp = tmp_path_factory.mktemp("corpus")
    entries = tmp / "entries"
    entries.mkdir()
    digests, _ = read_notes(corpus, Config())
    for digest in digests:
        (entries / f"{digest.date}.txt").write_text(render_digest(digest), encoding="utf-8")
    (tmp / "digestfeed.toml").write_text(
        f'max_entries = 100000\narchive_page_size = 100000\noutputs = ["atom"]\ncache_dir = "{(tmp / ".cache").as_posix()}"\n'
    )
    result = CliRunner().invoke(
        main,
        [
            "--config",
            str(tmp / "digestfeed.toml"),
            "build",
            "--entries",
            str(entries),
            "--out",
            str(tmp / "feeds"),
            "-q",
            "--no-cache",
            "--now",
            "2026-01-01T00:00:00+09:00",
        ],
    )
    assert result.exit_code == 0, result.output
    by_tag: dict[str, list[str]] = {}
    for digest in digests:
        for entry in digest.entries:
            for tag in entry.tags:
                by_tag.setdefault(tag, []).append(entry.title)
    feeds = tmp / "feeds"
    parsed = {}
    for path in sorted(feeds.rglob("*.atom")):
        data = path.read_bytes()
        name = path.relative_to(feeds).as_posix()
        parsed[name] = (check_atom(data, name), feedparse(data, name))
    return Site(feeds, by_tag, parsed)


def test_every_corpus_feed_is_valid_and_round_trips(corpus_site: Site) -> None:
    """Every Atom feed of the corpus passes the RFC 4287 checks and feedparser (bozo 0) sees the same entries."""
    assert len(corpus_site.parsed) == 3 + 3 * len(corpus_site.by_tag)
    for name, (root, parsed) in corpus_site.parsed.items():
        xml_entries = root.findall(f"{A}entry")
        assert len(parsed.entries) == len(xml_entries), name
        for entry, xml in zip(parsed.entries, xml_entries, strict=False):
            assert entry.id == xml.findtext(f"{A}id")
            assert entry.title == xml.findtext(f"{A}title")
            assert entry.published == xml.findtext(f"{A}published")
            assert [t.term for t in entry.tags] == [
                c.get("term") for c in xml.findall(f"{A}category")
            ]


def test_corpus_tag_feeds_hold_exactly_their_entries(corpus_site: Site) -> None:
    """Each tag's three feeds hold exactly the corpus entries with that tag (titles as written)."""
    assert len(corpus_site.by_tag) > 100
    for tag, titles in corpus_site.by_tag.items():
        for suffix in ("", ".ko", ".en"):
            got = [e.title for e in corpus_site.parsed[f"tags/{tag}{suffix}.atom"][1].entries]
            assert sorted(got) == sorted(titles), (tag, suffix)
