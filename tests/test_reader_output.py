"""``digestfeed read --format atom|rss|jsonfeed``: the deduplicated stream as one valid feed."""

from __future__ import annotations

import html
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner
from lxml import etree

from digestfeed.cli import main
from digestfeed.reader import Reader
from sitebuild import build_site, synthetic_digests

PROJECT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "reader"
A = "{http://www.w3.org/2005/Atom}"
SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built site: the seed digest and 24 synthetic entries, in every tag and language feed."""
    return build_site(
        tmp_path_factory.mktemp("site"),
        synthetic_digests(),
        seed=PROJECT / "entries" / "2025-05-08.txt",
    )


def _run(*args: str) -> Any:
    result = CliRunner().invoke(main, ["read", *args])
    assert result.exit_code == 0, result.stderr
    return result


def _items_json(site: Path, state: Path) -> list[dict[str, Any]]:
    return list(
        json.loads(_run("--state", str(state), "--all", "--format", "json", str(site)).stdout)
    )


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_xml_feed_output_is_valid_and_holds_each_paper_once(
    site: Path, tmp_path: Path, fmt: str
) -> None:
    """The Atom/RSS output parses with lxml, feedparser reads it with bozo 0, one entry per item."""
    items = _items_json(site, tmp_path / "a.sqlite")
    out = _run("--state", str(tmp_path / "b.sqlite"), "--all", "--format", fmt, str(site))
    data = out.stdout_bytes
    etree.fromstring(data, SAFE)
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == ("atom10" if fmt == "atom" else "rss20")
    assert len(parsed.entries) == len(items) == 27
    ids = [e.id for e in parsed.entries]
    assert len(set(ids)) == len(ids)
    assert sorted(e.title for e in parsed.entries) == sorted(i["title"] for i in items)
    by_title = {i["title"]: i for i in items}
    for entry in parsed.entries:
        item = by_title[entry.title]
        content = entry.content[0].value if fmt == "atom" else entry.description
        for link in item["links"]:
            assert html.escape(link) in content
        for feed in item["feeds"]:
            assert html.escape(feed) in content
        assert [t.term for t in entry.get("tags", ())] == item["tags"]


def test_atom_output_keeps_rfc4287_rules(site: Path, tmp_path: Path) -> None:
    """Atom output: feed and entries carry id, title, updated; an author; absolute link hrefs."""
    data = _run("--state", str(tmp_path / "s"), "--all", "--format", "atom", str(site)).stdout_bytes
    root = etree.fromstring(data, SAFE)
    assert root.tag == f"{A}feed"
    assert root.find(f"{A}author/{A}name") is not None
    for el in [root, *root.findall(f"{A}entry")]:
        for tag in ("id", "title", "updated"):
            assert len(el.findall(f"{A}{tag}")) == 1 and el.findtext(f"{A}{tag}")
    hrefs = [lk.get("href") for lk in root.iter(f"{A}link")]
    assert hrefs and all(h.startswith(("http://", "https://")) for h in hrefs)


def test_jsonfeed_output_is_json_feed_with_every_item(site: Path, tmp_path: Path) -> None:
    """The JSON Feed output is JSON Feed 1.1 with one item per paper, its links and feeds."""
    items = _items_json(site, tmp_path / "a.sqlite")
    out = _run("--state", str(tmp_path / "b.sqlite"), "--all", "--format", "jsonfeed", str(site))
    doc = json.loads(out.stdout)
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert sorted(i["title"] for i in doc["items"]) == sorted(i["title"] for i in items)
    assert len({i["id"] for i in doc["items"]}) == len(items)
    by_title = {i["title"]: i for i in items}
    for obj in doc["items"]:
        assert obj["_digestfeed_read"]["links"] == by_title[obj["title"]]["links"]
        assert obj["_digestfeed_read"]["feeds"] == by_title[obj["title"]]["feeds"]


@pytest.mark.parametrize("fmt", ["atom", "rss", "jsonfeed"])
def test_output_reads_back_as_the_same_items(tmp_path: Path, fmt: str) -> None:
    """digestfeed reads its own feed output back as the same titles, links and comments."""
    sources = [str(DATA / "foreign_a.rss"), str(DATA / "foreign_b.rss")]
    items = json.loads(
        _run("--state", str(tmp_path / "a"), "--all", "--format", "json", *sources).stdout
    )
    out = _run("--state", str(tmp_path / "b"), "--all", "--format", fmt, *sources)
    path = tmp_path / f"out.{fmt}"
    path.write_bytes(out.stdout_bytes)
    with Reader(tmp_path / "c.sqlite") as reader:
        back = reader.read([path], all=True)
    assert not back.failures
    assert len(back) == len(items) == 3
    by_title = {i["title"]: i for i in items}
    for item in back:
        want = by_title[item.title]
        assert item.comments.get("en") == want["comments"]["en"]
        assert set(want["links"]) <= set(item.links)
        assert list(item.tags) == want["tags"]


def test_ids_are_stable_and_one_per_language_shown(site: Path, tmp_path: Path) -> None:
    """The same item keeps its id across runs; its Korean and English showings have different ids."""
    state = str(tmp_path / "s.sqlite")

    def ids(lang: str) -> dict[str, str]:
        out = _run("--state", state, "--all", "--lang", lang, "--format", "atom", str(site))
        return {e.title: e.id for e in feedparser.parse(out.stdout_bytes).entries}

    en1, ko, en2 = ids("en"), ids("ko"), ids("en")
    assert en1 == en2
    assert set(en1) == set(ko)
    assert all(en1[t] != ko[t] for t in en1)  # every synthetic entry has both comments


def test_new_only_output_is_a_valid_empty_feed(site: Path, tmp_path: Path) -> None:
    """A second run without --all has nothing new: still one valid feed, with no entries."""
    state = str(tmp_path / "s.sqlite")
    _run("--state", state, "--format", "atom", str(site))
    data = _run("--state", state, "--format", "atom", str(site)).stdout_bytes
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0 and parsed.version == "atom10" and parsed.entries == []


NEWSBOAT = shutil.which("newsboat")


@pytest.mark.skipif(NEWSBOAT is None, reason="newsboat is not installed")
def test_newsboat_exec_source_shows_each_paper_once(site: Path, tmp_path: Path) -> None:
    """newsboat's exec: source over every feed of the site stores each paper once, across reloads."""
    items = _items_json(site, tmp_path / "ref.sqlite")
    home = tmp_path / "home"
    home.mkdir()
    command = (
        f"{sys.executable} -m digestfeed read --state {tmp_path / 'nb.sqlite'} --all "
        f"--format atom {site}"
    )
    (home / "urls").write_text(f'"exec:{command}"\n', encoding="utf-8")
    (home / "config").write_text("", encoding="utf-8")
    env = {**os.environ, "HOME": str(home), "LANG": "C.UTF-8", "XDG_CONFIG_HOME": str(home)}
    cache = home / "cache.db"
    for _ in range(2):
        subprocess.run(
            [
                NEWSBOAT,
                "-x",
                "reload",
                "-u",
                str(home / "urls"),
                "-c",
                str(cache),
                "-C",
                str(home / "config"),
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
    with sqlite3.connect(cache) as db:
        rows = db.execute("SELECT guid, title FROM rss_item").fetchall()
    assert len(rows) == len(items) == 27
    assert len({guid for guid, _ in rows}) == len(rows)
    assert sorted(title for _, title in rows) == sorted(i["title"] for i in items)


@pytest.mark.parametrize(
    ("comments", "lang", "shown"),
    [
        ({"ko": "한국어", "en": "English"}, "ko", ("ko", "한국어")),
        ({"ko": "한국어", "en": "English"}, "en", ("en", "English")),
        ({"ko": None, "en": "English"}, "ko", ("en", "English")),
        ({"ko": "", "en": "English"}, "ko", ("en", "English")),
        ({"ko": "한국어", "en": None}, "en", ("ko", "한국어")),
        ({"ko": None, "en": None}, "en", ("", "")),
    ],
)
def test_comment_shown_is_the_asked_language_else_the_other(comments, lang, shown) -> None:
    """Text and feed output show the comment in --lang, else the other language's, else none."""
    from digestfeed.reader import Item

    item = Item(
        id="x",
        title="T",
        date=None,
        tags=(),
        comments=comments,
        links=(),
        feeds=(),
        first_seen="2026-01-01T00:00:00+00:00",
        rule="id",
        key="id:x",
        new=True,
    )
    assert item.comment_in(lang) == shown
