"""Ids have origins: the first origin (scheme, host, port) that delivered a digestfeed id owns
it; the same id from another origin is a separate item that never changes or hides the
owner's. Two real HTTP servers on 127.0.0.1 (different ports are different origins)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from digestfeed.reader import Reader
from test_reader_dedupe import PANGU, ZERO, write_atom

reader_lib = pytest.importorskip("reader")

SPOOF = dict(
    ZERO,
    ko="가짜 코멘트.",
    en="Buy my course instead.",
    tags=("scam",),
    when="2020-01-01T00:00:00+00:00",
    paper="https://evil.example/landing",
)


def _server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


@pytest.fixture
def trusted() -> Iterator[HTTPServer]:
    yield from _server()


@pytest.fixture
def evil() -> Iterator[HTTPServer]:
    yield from _server()


def serve(server: HTTPServer, path: str, feed: Path) -> str:
    server.expect_request(path).respond_with_data(
        feed.read_bytes(), content_type="application/atom+xml"
    )
    return server.url_for(path)


def _sites(tmp_path: Path, trusted: HTTPServer, evil: HTTPServer) -> tuple[str, str, str]:
    """The trusted all.atom and en.atom, and an evil feed reusing ZeroSearch's id."""
    good = write_atom(tmp_path / "good" / "all.atom", [PANGU, ZERO])
    en = write_atom(tmp_path / "good" / "en.atom", [PANGU, ZERO], lang="en")
    bad = write_atom(tmp_path / "bad" / "feed.atom", [SPOOF])
    return (
        serve(trusted, "/feeds/all.atom", good),
        serve(trusted, "/feeds/en.atom", en),
        serve(evil, "/feed.atom", bad),
    )


def _by_comment(items: list) -> dict[str | None, object]:
    return {i.comments.get("en"): i for i in items}


def test_spoofed_id_never_changes_the_owners_item(tmp_path, trusted, evil):
    """A second origin reusing a digestfeed id is its own item; the owner's keeps its text, links, tags and date."""
    good_url, en_url, evil_url = _sites(tmp_path, trusted, evil)
    with Reader(tmp_path / "alone.sqlite") as reader:
        alone = {i.id: i for i in reader.read([good_url, en_url], all=True)}
    with Reader(tmp_path / "state.sqlite") as reader:
        result = reader.read([good_url, en_url, evil_url], all=True)
    assert len({i.id for i in result}) == len(result) == 3
    owner = next(i for i in result if i.id == ZERO["id"])
    want = alone[ZERO["id"]]
    assert (owner.comments, owner.links, owner.tags, owner.date) == (
        want.comments,
        want.links,
        want.tags,
        want.date,
    )
    assert evil_url not in owner.feeds
    spoof = next(i for i in result if i.comments.get("en") == SPOOF["en"])
    assert spoof.feeds == (evil_url,) and ZERO["id"] in spoof.id and spoof.id != ZERO["id"]
    assert any("belongs to http://127.0.0.1:" in w for w in result.warnings)


def test_spoof_seen_first_does_not_hide_the_trusted_paper(tmp_path, trusted, evil):
    """A hostile copy read in an earlier run owns the id, yet the trusted entry still comes out with its own text."""
    good_url, en_url, evil_url = _sites(tmp_path, trusted, evil)
    with Reader(tmp_path / "state.sqlite") as reader:
        first = reader.read([evil_url])
        later = reader.read([good_url, en_url])
        again = reader.read([good_url, en_url, evil_url])
    assert [i.comments.get("en") for i in first] == [SPOOF["en"]]
    shown = _by_comment(list(later))
    assert ZERO["en"] in shown and PANGU["en"] in shown
    assert shown[ZERO["en"]].feeds == (good_url, en_url)  # one item: the owner is one origin
    assert list(again) == []  # nothing new, and the two stay apart


def test_one_origin_many_feeds_is_one_item(tmp_path, trusted, evil):
    """Feeds of the same server (bilingual and English, variant ids) are one origin: one item per paper."""
    good_url, en_url, _ = _sites(tmp_path, trusted, evil)
    with Reader(tmp_path / "state.sqlite") as reader:
        result = reader.read([en_url, good_url], all=True)
    assert sorted(i.id for i in result) == sorted([ZERO["id"], PANGU["id"]])
    assert result.warnings == []


def test_local_opml_files_stand_for_the_urls_it_names(tmp_path, evil):
    """Files read through a local OPML have the origin of the URLs it names, so a server with that origin is the same owner."""
    site = tmp_path / "site" / "feeds"
    write_atom(site / "all.atom", [ZERO])
    write_atom(site / "tags" / "rl.en.atom", [dict(ZERO, id=ZERO["id"] + "/en")], lang="en")
    (site / "index.opml").write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
        '<outline type="rss" text="all" xmlUrl="https://papers.example.org/feeds/all.atom"/>'
        '<outline type="rss" text="rl" xmlUrl="https://papers.example.org/feeds/tags/rl.en.atom"/>'
        "</body></opml>",
        encoding="utf-8",
    )
    bad = write_atom(tmp_path / "bad" / "feed.atom", [SPOOF])
    evil_url = serve(evil, "/feed.atom", bad)
    with Reader(tmp_path / "state.sqlite") as reader:
        first = reader.read([site / "index.opml"])
        owners = dict(reader.state.db.execute("SELECT key, origin FROM owners"))
        result = reader.read([site / "index.opml", evil_url], all=True)
    assert [i.id for i in first] == [ZERO["id"]] and first.warnings == []
    assert owners == {f"id:{ZERO['id']}": "https://papers.example.org:443"}
    assert len(result) == 2 and result.warnings and ZERO["id"] in {i.id for i in result}


SCHEMA_1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE feeds (location TEXT PRIMARY KEY, kind TEXT NOT NULL DEFAULT 'feed', etag TEXT,
    last_modified TEXT, sha256 TEXT, title TEXT, prev_archive TEXT, outlines TEXT, fetched_at TEXT);
CREATE TABLE items (item INTEGER PRIMARY KEY, key TEXT NOT NULL, rule TEXT NOT NULL,
    entry_id TEXT, title TEXT NOT NULL, date TEXT, ts REAL, tags TEXT NOT NULL,
    comments TEXT NOT NULL, links TEXT NOT NULL, feeds TEXT NOT NULL, first_seen TEXT NOT NULL,
    reported_at TEXT);
CREATE TABLE keys (key TEXT PRIMARY KEY, item INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE members (feed TEXT NOT NULL, item INTEGER NOT NULL, PRIMARY KEY (feed, item)) WITHOUT ROWID;
INSERT INTO meta VALUES ('schema', '1');
"""


def test_schema_1_state_is_migrated_with_owners(tmp_path, trusted, evil):
    """A state file of the previous schema gets owners from the feed URLs its items were seen in."""
    good_url, _, evil_url = _sites(tmp_path, trusted, evil)
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_1)
    db.execute(
        "INSERT INTO items VALUES (1, ?, 'id', ?, ?, NULL, NULL, '[]', ?, '[]', ?, "
        "'2025-05-08T00:00:00+00:00', '2025-05-08T00:00:00+00:00')",
        (
            f"id:{ZERO['id']}",
            ZERO["id"],
            ZERO["title"],
            json.dumps({"en": ZERO["en"]}),
            json.dumps([good_url]),
        ),
    )
    db.execute("INSERT INTO keys VALUES (?, 1)", (f"id:{ZERO['id']}",))
    db.commit()
    db.close()
    with Reader(path) as reader:
        assert reader.state.owner(f"id:{ZERO['id']}") == f"http://127.0.0.1:{trusted.port}"
        result = reader.read([evil_url])
    assert [i.comments.get("en") for i in result] == [SPOOF["en"]]  # apart, and new
    assert sqlite3.connect(path).execute("SELECT value FROM meta").fetchone() == ("2",)


def test_reader_library_plugin_never_marks_the_trusted_copy_read(tmp_path, trusted, evil):
    """In the reader library, a copy of a digestfeed id from another origin is kept apart: the trusted entry stays unread."""
    good_url, en_url, evil_url = _sites(tmp_path, trusted, evil)
    for order in ((evil_url, good_url, en_url), (good_url, en_url, evil_url)):
        r = reader_lib.make_reader(
            str(tmp_path / f"db{order[0][-8:-5]}.sqlite"),
            plugins=["digestfeed.reader_plugin:init_reader"],
        )
        for url in order:
            r.add_feed(url)
            r.update_feeds()  # one at a time: the order they were first seen in
        trusted_zero = r.get_entry((good_url, ZERO["id"]))
        spoof = r.get_entry((evil_url, ZERO["id"]))
        assert not trusted_zero.read and not spoof.read
        unread = {(e.feed_url, e.id) for e in r.get_entries(read=False)}
        assert unread == {(good_url, ZERO["id"]), (good_url, PANGU["id"]), (evil_url, ZERO["id"])}
        r.close()
