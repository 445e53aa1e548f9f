"""`digestfeed read --backfill` over a site `digestfeed build` wrote: every entry, once.

The synthetic site (12 digests, 24 entries, ``max_entries = 4``) keeps most entries only in
RFC 5005 archives, so a plain read sees part of the site and a backfilling read must follow
the ``prev-archive`` chains to see all of it — from the local OPML (its published URLs mapped
to the files beside it) and over real HTTP from a server on 127.0.0.1.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from digestfeed.cli import main
from digestfeed.reader.identity import paper_id
from sitebuild import SMALL, build_site, synthetic_digests

A = "{http://www.w3.org/2005/Atom}"
DIGESTS = synthetic_digests()
#: Every entry's title, straight from the digests (one "Paper …" line per entry).
TITLES = sorted(
    line for text in DIGESTS.values() for line in text.splitlines() if line.startswith("Paper ")
)


def _read(state: Path, *args: str) -> tuple[int, list[dict], str]:
    """`digestfeed read --format json` in-process → (exit code, items, stderr)."""
    result = CliRunner().invoke(main, ["read", "--state", str(state), "--format", "json", *args])
    return (
        result.exit_code,
        json.loads(result.stdout) if result.stdout.strip() else [],
        result.stderr,
    )


def _site_entry_ids(feeds: Path) -> set[str]:
    """The paper id of every entry in every Atom file of the site (subscriptions and archives)."""
    return {
        paper_id(e.findtext(f"{A}id") or "")
        for p in feeds.rglob("*.atom")
        for e in etree.parse(str(p)).getroot().iter(f"{A}entry")
    }


def _subscriptions(feeds: Path) -> list[str]:
    """The xmlUrl of every outline of the built index.opml."""
    return [
        o.get("xmlUrl")
        for o in etree.parse(str(feeds / "index.opml")).getroot().iter("outline")
        if o.get("xmlUrl")
    ]


def _assert_every_entry_once(items: list[dict], feeds: Path) -> None:
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)) == 24  # once each
    assert set(ids) == _site_entry_ids(feeds)
    assert sorted(i["title"] for i in items) == TITLES


@pytest.fixture
def archived_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The synthetic digests built with max_entries 4 (so most entries live in archives)."""
    monkeypatch.chdir(tmp_path)  # the build records itself in ./.digestfeed-cache
    feeds = build_site(tmp_path / "site", DIGESTS, config=SMALL)
    assert list(feeds.glob("archive/*/*.atom"))  # the premise: there are archives
    return feeds


def test_backfill_from_the_local_opml_reads_every_entry_once(archived_site, tmp_path):
    """read index.opml --backfill: exactly the site's 24 entries, once each, from the local files."""
    code, items, err = _read(tmp_path / "s.sqlite", str(archived_site / "index.opml"), "--backfill")
    assert code == 0, err
    _assert_every_entry_once(items, archived_site)
    seen_in = {f for i in items for f in i["feeds"]}
    assert all(Path(f).is_relative_to(archived_site) for f in seen_in)  # local twins, not the web
    assert any("/archive/" in f for f in seen_in)
    # a second run reports nothing again
    assert _read(tmp_path / "s.sqlite", str(archived_site / "index.opml"), "--backfill")[:2] == (
        0,
        [],
    )


def test_without_backfill_only_the_subscription_feeds_are_read(archived_site, tmp_path):
    """Without --backfill: fewer than all 24 entries, none taken from an archive."""
    code, items, err = _read(tmp_path / "s.sqlite", str(archived_site / "index.opml"))
    assert code == 0, err
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)) < 24
    assert set(ids) < _site_entry_ids(archived_site)
    assert not any("/archive/" in f for i in items for f in i["feeds"])
    # the entries missed now are the ones backfill then adds
    code, more, err = _read(tmp_path / "s.sqlite", str(archived_site / "index.opml"), "--backfill")
    assert code == 0, err
    assert sorted(ids + [i["id"] for i in more]) == sorted(_site_entry_ids(archived_site))


class _Served(http.server.SimpleHTTPRequestHandler):
    requested: list[str]

    def do_GET(self) -> None:
        self.requested.append(self.path)
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """(base URL, directory it serves, paths requested): a static server on 127.0.0.1."""
    root = tmp_path / "web"
    requested: list[str] = []
    handler = type("Handler", (_Served,), {"requested": requested})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root))
    )
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/feeds/", tmp_path / "web", requested
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_backfill_over_http_follows_the_served_archive_links(served, tmp_path, monkeypatch):
    """Subscription URLs on a real HTTP server + --backfill: every entry once, archives fetched over HTTP."""
    base, web, requested = served
    monkeypatch.chdir(tmp_path)
    # the feeds are served at <base> = http://127.0.0.1:<port>/feeds/, which the site is built for
    feeds = build_site(web, DIGESTS, config=SMALL + f'feed_base_url = "{base}"\n')
    urls = _subscriptions(feeds)
    assert len(urls) == 21 and all(u.startswith(base) and u.endswith(".atom") for u in urls)
    code, items, err = _read(tmp_path / "s.sqlite", *urls, "--backfill")
    assert code == 0, err
    _assert_every_entry_once(items, feeds)
    seen_in = {f for i in items for f in i["feeds"]}
    assert all(f.startswith(base) for f in seen_in)
    archives = {
        "/feeds/" + p.relative_to(feeds).as_posix() for p in feeds.glob("archive/**/*.atom")
    }
    assert archives <= set(requested)  # every archive was followed over HTTP
    assert len(requested) == len(set(requested)) == len(urls) + len(archives)  # each document once
