"""A new publication end to end: ``digestfeed init`` with a local server's URL, build, serve
``feeds/`` on 127.0.0.1 and read it back with ``digestfeed read <url>/index.opml --backfill``."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag

import pytest
from lxml import etree
from lxml import html as lxml_html

from sitebuild import synthetic_digests


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``(base URL, publication directory)``: a static server for ``<dir>/feeds`` on 127.0.0.1."""
    repo = tmp_path / "papers"
    handler = functools.partial(QuietHandler, directory=str(repo / "feeds"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", repo
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "digestfeed", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        # built on the day init dates its sample digest (a later digest is a warning)
        env={**os.environ, "DIGESTFEED_NOW": f"{dt.date.today()}T12:00:00+09:00", "no_proxy": "*"},
    )


def test_init_build_serve_and_read_back_every_entry_once(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    """init → build → HTTP → read index.opml --backfill: every feed read, every entry once, every link resolves."""
    url, repo = served
    started = cli(tmp_path, "init", repo.name, "--url", url)
    assert started.returncode == 0, started.stderr
    config = (
        repo / "digestfeed.toml"
    )  # a small page size, so that --backfill has archives to follow
    config.write_text(
        re.sub(r"(?m)^max_entries = \d+$", "max_entries = 4", config.read_text("utf-8")), "utf-8"
    )
    for name, text in synthetic_digests().items():
        (repo / "entries" / name).write_text(text, encoding="utf-8")
    built = cli(repo, "build")
    assert built.returncode == 0, built.stderr
    assert "warning" not in built.stderr, built.stderr
    assert cli(repo, "check").returncode == 0

    ledger = json.loads((repo / "entries" / ".ledger.json").read_text("utf-8"))
    entry_count = sum(1 for e in ledger["entries"].values() if not e.get("deleted"))
    assert entry_count == 1 + sum(t.count("\n(") for t in synthetic_digests().values())
    opml = etree.fromstring(urllib.request.urlopen(url + "index.opml", timeout=30).read())
    sources = {o.get("xmlUrl") for o in opml.iter("outline") if o.get("xmlUrl")}
    assert len(sources) > 20

    state = str(tmp_path / "state.sqlite")
    read = cli(
        tmp_path, "read", url + "index.opml", "--backfill", "--format", "json", "--state", state
    )
    assert read.returncode == 0, read.stderr  # exit 1 would mean a source failed
    items = json.loads(read.stdout)
    assert len(items) == entry_count  # every entry, once across three languages and all tags
    assert len({item["id"] for item in items}) == entry_count
    seen = {feed for item in items for feed in item["feeds"]}
    assert sources <= seen | {s for s in sources if not _has_entries(s)}  # every feed was read

    pages: dict[str, set[str]] = {}
    internal = 0
    for item in items:
        for link in item["links"]:
            target, anchor = urldefrag(link)
            if not target.startswith(url):
                continue
            internal += 1
            if target not in pages:
                with urllib.request.urlopen(target, timeout=30) as response:
                    assert response.status == 200, target
                    pages[target] = set(lxml_html.fromstring(response.read()).xpath("//@id"))
            assert not anchor or anchor in pages[target], link
    assert internal >= entry_count  # each item links its place on its digest page


def _has_entries(feed_url: str) -> bool:
    with urllib.request.urlopen(feed_url, timeout=30) as response:
        return b"<entry>" in response.read()
