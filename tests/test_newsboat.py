"""newsboat, an id-keyed reader: every language variant survives, served over HTTP from 127.0.0.1.

newsboat keeps one item per id across all its feeds, so a variant that shared its id with
another would be lost. These tests import the built OPML, reload without a terminal and read
newsboat's own SQLite cache.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import os
import re
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import digestfeed
from digestfeed.config import load_config
from digestfeed.sources.digest import parse_text
from sitebuild import NOW, synthetic_digests

pytestmark = pytest.mark.newsboat

NEWSBOAT = shutil.which("newsboat")
HANGUL = re.compile("[\uac00-\ud7a3]")


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Path, list[digestfeed.Entry]]]:
    """The seed and 24 synthetic entries, built for and served by an HTTP server on 127.0.0.1."""
    if NEWSBOAT is None:
        pytest.skip("newsboat is not installed (apt-get install newsboat; .ci/run does it)")
    root = tmp_path_factory.mktemp("newsboat")
    feeds = root / "feeds"
    feeds.mkdir()
    handler = functools.partial(_Quiet, directory=str(feeds))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    entries_dir = root / "entries"
    entries_dir.mkdir()
    digests = synthetic_digests()
    digests["2025-05-08.txt"] = (
        Path(__file__).parents[1] / "entries" / "2025-05-08.txt"
    ).read_text(encoding="utf-8")
    for name, text in digests.items():
        (entries_dir / name).write_text(text, encoding="utf-8")
    (root / "digestfeed.toml").write_text(
        f'site_url = "{base}"\nfeed_base_url = "{base}"\ntag_authority = "newsboat.test"\n'
        f'cache_dir = "{(root / "cache").as_posix()}"\n',
        encoding="utf-8",
    )
    config = load_config(root / "digestfeed.toml")
    digestfeed.build(
        entries_dir, feeds, config=config, now=dt.datetime.fromisoformat(NOW), cache=False
    )
    parsed = [e for name, text in digests.items() for e in parse_text(text, name, config).entries]
    try:
        yield base, root, parsed
    finally:
        server.shutdown()
        server.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def newsboat(work: Path, *args: str) -> None:
    """Run newsboat with its own config, URL list, cache and home under ``work``, no terminal."""
    assert NEWSBOAT is not None
    home = work / "home"
    home.mkdir(exist_ok=True)
    for name in ("config", "urls"):
        (work / name).touch()
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home),
        "XDG_DATA_HOME": str(home),
    }
    command = [NEWSBOAT, "-C", str(work / "config"), "-c", str(work / "cache.db")]
    command += ["-u", str(work / "urls"), *args]
    done = subprocess.run(
        command, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=300
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")


def cached(work: Path) -> list[tuple[str, str, str]]:
    """``(guid, feedurl, content)`` of every item in newsboat's cache."""
    with sqlite3.connect(work / "cache.db") as db:
        return list(db.execute("SELECT guid, feedurl, content FROM rss_item"))


def test_importing_the_opml_keeps_every_variant_of_every_entry(
    site: tuple[str, Path, list[digestfeed.Entry]], tmp_path: Path
) -> None:
    """newsboat -i index.opml, then reload: every id of every language variant is in its cache."""
    base, root, entries = site
    newsboat(tmp_path, "-i", str(root / "feeds" / "index.opml"))
    urls = (tmp_path / "urls").read_text(encoding="utf-8").split()
    assert f"{base}ko.atom" in urls and f"{base}tags/rl.en.atom" in urls
    newsboat(tmp_path, "-x", "reload")
    guids = [guid for guid, _feed, _content in cached(tmp_path)]
    assert len(guids) == len(set(guids))  # newsboat: one item per id, whatever the feed
    want = {e.id for e in entries}
    assert all(i.startswith("tag:newsboat.test,") for i in want)
    assert len(want) == 27
    assert set(guids) == {i + v for i in want for v in ("", "/ko", "/en")}


def test_a_subscriber_of_ko_and_en_gets_every_paper_in_both_languages(
    site: tuple[str, Path, list[digestfeed.Entry]], tmp_path: Path
) -> None:
    """urls = ko.atom + en.atom: every paper twice, the Korean comment only in ko.atom's items, the English only in en.atom's."""
    base, _root, entries = site
    (tmp_path / "urls").write_text(f"{base}ko.atom\n{base}en.atom\n", encoding="utf-8")
    newsboat(tmp_path, "-x", "reload")
    items = cached(tmp_path)
    by_feed: dict[str, dict[str, str]] = {}
    for guid, feed, content in items:
        by_feed.setdefault(feed.removeprefix(base), {})[guid] = content
    assert set(by_feed) == {"ko.atom", "en.atom"}
    for feed, lang in (("ko.atom", "ko"), ("en.atom", "en")):
        got = by_feed[feed]
        assert {g.removesuffix(f"/{lang}") for g in got} == {e.id for e in entries}
        assert all(g.endswith(f"/{lang}") for g in got)
    seed = [e for e in entries if e.date == "2025-05-08"]
    for entry in seed:
        ko_item = next(c for g, c in by_feed["ko.atom"].items() if entry.id.split("/")[-1] in g)
        en_item = next(c for g, c in by_feed["en.atom"].items() if entry.id.split("/")[-1] in g)
        korean = entry.comment_ko.split()[0]
        english = entry.comment_en.split()[0:4]
        assert korean in ko_item and korean not in en_item
        assert " ".join(english) in en_item and " ".join(english) not in ko_item
        assert HANGUL.search(ko_item) and not HANGUL.search(en_item)  # the seed's authors are Latin
