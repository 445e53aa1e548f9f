"""The feed reader's memory (``digestfeed read``): one SQLite file (stdlib ``sqlite3``).

Tables: ``feeds`` (validators and body hash per feed location), ``items`` (one row per
paper, with ``reported_at`` once a finished run has output it), ``keys`` (every dedupe key
→ item; never deleted, so the seen-state is a history), ``members`` (which items a feed
held when it was last parsed, for ``--all`` over unchanged feeds), ``owners`` (the origin
that first delivered each trusted id: only it speaks for that id) and ``feed_items`` (every
item a feed ever held an entry of: a feed's other entries never join it).

A state file of schema 1 is migrated in place on open (see :func:`_migrate_1_to_2`).

A run is one ``BEGIN IMMEDIATE`` transaction (which also serialises concurrent runs):
nothing a run learns is stored unless it reaches :meth:`State.commit`, and the caller
commits only after the items are written out. A run killed half-way leaves the file as
the previous finished run left it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import ReadError

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feeds (
    location TEXT PRIMARY KEY,
    kind TEXT NOT NULL DEFAULT 'feed',   -- 'feed' or 'opml'
    etag TEXT, last_modified TEXT, sha256 TEXT,
    title TEXT, prev_archive TEXT,
    outlines TEXT,                       -- JSON list, for OPML
    fetched_at TEXT
);
CREATE TABLE IF NOT EXISTS items (
    item INTEGER PRIMARY KEY,
    key TEXT NOT NULL, rule TEXT NOT NULL,
    entry_id TEXT, title TEXT NOT NULL, date TEXT, ts REAL,
    tags TEXT NOT NULL, comments TEXT NOT NULL, links TEXT NOT NULL, feeds TEXT NOT NULL,
    first_seen TEXT NOT NULL, reported_at TEXT
);
CREATE TABLE IF NOT EXISTS keys (key TEXT PRIMARY KEY, item INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS members (
    feed TEXT NOT NULL, item INTEGER NOT NULL, PRIMARY KEY (feed, item)
) WITHOUT ROWID;
"""
_SCHEMA_2 = """
CREATE TABLE IF NOT EXISTS owners (key TEXT PRIMARY KEY, origin TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS feed_items (
    feed TEXT NOT NULL, item INTEGER NOT NULL, PRIMARY KEY (feed, item)
) WITHOUT ROWID;
"""


def _migrate_1_to_2(db: sqlite3.Connection) -> None:
    """Schema 1 → 2: owners and feed_items, from what schema 1 knew.

    A trusted id's owner is the origin of the first feed URL its item was seen in; an item
    seen only in files gets its owner when its id is next delivered. ``feed_items`` starts
    as the feeds' members and the feeds of their feed-scoped ids. OPML files are parsed
    again on the next run (their outlines now keep the URLs that give files their origin).
    """
    from .identity import origin

    for statement in _SCHEMA_2.split(";"):
        if statement.strip():
            db.execute(statement)  # not executescript: it would commit the migration half-way
    for key, feeds in db.execute(
        "SELECT keys.key, items.feeds FROM keys JOIN items USING (item) "
        "WHERE keys.key LIKE 'id:%' AND instr(keys.key, char(0)) = 0"
    ).fetchall():
        first = next(iter(json.loads(feeds)), "")
        if first.startswith(("http://", "https://")):
            db.execute("INSERT OR IGNORE INTO owners VALUES (?, ?)", (key, origin(first)))
    db.execute("INSERT OR IGNORE INTO feed_items SELECT feed, item FROM members")
    db.execute(
        "INSERT OR IGNORE INTO feed_items SELECT substr(key, 9, instr(key, char(0)) - 9), item "
        "FROM keys WHERE key LIKE 'feed-id:%' AND instr(key, char(0)) > 0"
    )
    db.execute("UPDATE feeds SET sha256 = NULL WHERE kind = 'opml'")
    db.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")


@dataclasses.dataclass(slots=True)
class FeedRow:
    location: str
    kind: str = "feed"
    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None
    title: str | None = None
    prev_archive: str | None = None
    outlines: list[str] | None = None


@dataclasses.dataclass(slots=True)
class ItemRow:
    """One paper as remembered; mutable during a run."""

    item: int | None  #: rowid, ``None`` until stored
    key: str
    rule: str
    entry_id: str | None
    title: str
    date: str | None
    ts: float | None
    tags: list[str]
    comments: dict[str, str]
    links: list[str]
    feeds: list[str]
    first_seen: str
    reported_at: str | None = None


_ITEM_COLS = (
    "item, key, rule, entry_id, title, date, ts, tags, comments, links, feeds, "
    "first_seen, reported_at"
)


def _feed_row(row: tuple[Any, ...]) -> FeedRow:
    return FeedRow(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        outlines=json.loads(row[7]) if row[7] else None,
    )


def _item(row: tuple[Any, ...]) -> ItemRow:
    return ItemRow(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        json.loads(row[7]),
        json.loads(row[8]),
        json.loads(row[9]),
        json.loads(row[10]),
        row[11],
        row[12],
    )


class State:
    """The state file, opened for one run at a time."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self.db.execute("PRAGMA foreign_keys = OFF")
            self.db.executescript(_SCHEMA)
            self.db.execute("CREATE INDEX IF NOT EXISTS keys_by_item ON keys (item)")
            row = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None:
                self.db.executescript(_SCHEMA_2)
                self.db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                )
            elif row[0] == "1":
                self.db.execute("BEGIN IMMEDIATE")
                try:
                    _migrate_1_to_2(self.db)
                    self.db.execute("COMMIT")
                except BaseException:
                    self.db.execute("ROLLBACK")
                    raise
            elif int(row[0]) != SCHEMA_VERSION:
                raise ReadError(
                    f"{self.path}: state schema {row[0]}, this reader needs {SCHEMA_VERSION}"
                )
        except sqlite3.DatabaseError as exc:
            raise ReadError(f"{self.path}: cannot open the state file: {exc}") from None
        self.in_run = False

    def close(self) -> None:
        if self.in_run:
            self.rollback()
        self.db.close()

    # -- the run transaction -------------------------------------------------------------

    def begin(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.in_run = True

    def commit(self) -> None:
        self.db.execute("COMMIT")
        self.in_run = False

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
        self.in_run = False

    # -- feeds ---------------------------------------------------------------------------

    def feed(self, location: str) -> FeedRow | None:
        row = self.db.execute(
            "SELECT location, kind, etag, last_modified, sha256, title, prev_archive, outlines "
            "FROM feeds WHERE location = ?",
            (location,),
        ).fetchone()
        if row is None:
            return None
        return _feed_row(row)

    def feeds(self) -> dict[str, FeedRow]:
        """Every remembered feed (one query; a run looks most of them up)."""
        return {
            row[0]: _feed_row(row)
            for row in self.db.execute(
                "SELECT location, kind, etag, last_modified, sha256, title, prev_archive, outlines "
                "FROM feeds"
            )
        }

    def save_feed(self, feed: FeedRow, now: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO feeds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                feed.location,
                feed.kind,
                feed.etag,
                feed.last_modified,
                feed.sha256,
                feed.title,
                feed.prev_archive,
                json.dumps(feed.outlines) if feed.outlines is not None else None,
                now,
            ),
        )

    def set_members(self, feed: str, items: Iterable[int]) -> None:
        self.db.execute("DELETE FROM members WHERE feed = ?", (feed,))
        self.db.executemany(
            "INSERT OR IGNORE INTO members VALUES (?, ?)", ((feed, item) for item in items)
        )

    def member_items(self, feeds: Iterable[str]) -> Iterator[ItemRow]:
        """Every item held by any of ``feeds``, each once (however many feeds hold it)."""
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS run_feeds (feed TEXT PRIMARY KEY)")
        self.db.execute("DELETE FROM run_feeds")
        self.db.executemany(
            "INSERT OR IGNORE INTO run_feeds VALUES (?)", ((feed,) for feed in feeds)
        )
        rows = self.db.execute(
            f"SELECT {_ITEM_COLS} FROM items WHERE item IN "
            "(SELECT item FROM members JOIN run_feeds USING (feed))"
        ).fetchall()
        self.db.execute("DELETE FROM run_feeds")
        return map(_item, rows)

    # -- items and keys ------------------------------------------------------------------

    def lookup(self, key: str) -> int | None:
        row = self.db.execute("SELECT item FROM keys WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def load_item(self, item: int) -> ItemRow:
        row = self.db.execute(f"SELECT {_ITEM_COLS} FROM items WHERE item = ?", (item,)).fetchone()
        if row is None:
            raise ReadError(f"{self.path}: key points to a missing item {item}")
        return _item(row)

    def insert_item(self, row: ItemRow) -> int:
        cur = self.db.execute(
            "INSERT INTO items (key, rule, entry_id, title, date, ts, tags, comments, links, feeds, "
            "first_seen, reported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self._values(row),
        )
        row.item = cur.lastrowid
        return row.item  # type: ignore[return-value]

    def owner(self, key: str) -> str | None:
        """The origin that owns a trusted id's key, if one has claimed it."""
        row = self.db.execute("SELECT origin FROM owners WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def claim(self, key: str, origin: str) -> None:
        """Record ``origin`` as the owner of ``key`` unless it has one already."""
        self.db.execute("INSERT OR IGNORE INTO owners VALUES (?, ?)", (key, origin))

    def paper_keys(self, item: int) -> set[str]:
        """The arXiv and DOI keys that belong to ``item``."""
        return {
            key
            for (key,) in self.db.execute(
                "SELECT key FROM keys WHERE item = ? AND (key LIKE 'arxiv:%' OR key LIKE 'doi:%')",
                (item,),
            )
        }

    def holds(self, feed: str, item: int) -> bool:
        """Whether ``feed`` ever held an entry that is ``item``."""
        return (
            self.db.execute(
                "SELECT 1 FROM feed_items WHERE feed = ? AND item = ?", (feed, item)
            ).fetchone()
            is not None
        )

    def add_holding(self, feed: str, item: int) -> None:
        self.db.execute("INSERT OR IGNORE INTO feed_items VALUES (?, ?)", (feed, item))

    def add_keys(self, item: int, keys: Iterable[str]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO keys VALUES (?, ?)", ((k, item) for k in keys))

    def update_items(self, rows: Iterable[ItemRow]) -> None:
        self.db.executemany(
            "UPDATE items SET key = ?, rule = ?, entry_id = ?, title = ?, date = ?, ts = ?, tags = ?, "
            "comments = ?, links = ?, feeds = ?, first_seen = ?, reported_at = ? WHERE item = ?",
            ((*self._values(r), r.item) for r in rows),
        )

    def mark_reported(self, items: Iterable[int], now: str) -> None:
        self.db.executemany(
            "UPDATE items SET reported_at = ? WHERE item = ? AND reported_at IS NULL",
            ((now, i) for i in items),
        )

    @staticmethod
    def _values(r: ItemRow) -> tuple[Any, ...]:
        return (
            r.key,
            r.rule,
            r.entry_id,
            r.title,
            r.date,
            r.ts,
            json.dumps(r.tags, ensure_ascii=False),
            json.dumps(r.comments, ensure_ascii=False),
            json.dumps(r.links, ensure_ascii=False),
            json.dumps(r.feeds, ensure_ascii=False),
            r.first_seen,
            r.reported_at,
        )
