"""What newsboat (a real reader) takes as each feed's website and each item's link."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from conftest import PROJECT
from sitebuild import build_site

NEWSBOAT = shutil.which("newsboat")
BASE = "https://digestfeed.example.org/feeds/"

pytestmark = pytest.mark.skipif(NEWSBOAT is None, reason="newsboat is not installed")


def newsboat(home: Path, *args: str) -> str:
    assert NEWSBOAT is not None
    proc = subprocess.run(
        [
            NEWSBOAT,
            "-u",
            str(home / "urls"),
            "-c",
            str(home / "cache.db"),
            "-C",
            "/dev/null",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(home)},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_newsboat_takes_the_tag_page_as_a_tag_feeds_website(tmp_path: Path) -> None:
    """In newsboat, Atom and RSS tag feeds link their tag page, main feeds the directory, items their day page."""
    feeds = build_site(tmp_path / "site", seed=PROJECT / "entries" / "2025-05-08.txt")
    home = tmp_path / "home"
    home.mkdir()
    names = ["tags/rl.en.atom", "tags/rl.rss", "tags/moe.ko.atom", "all.atom", "en.rss"]
    (home / "urls").write_text("".join((feeds / n).as_uri() + "\n" for n in names), "utf-8")
    newsboat(home, "-x", "reload")
    exported = etree.fromstring(newsboat(home, "-e").encode())
    sites = {Path(o.get("xmlUrl")).name: o.get("htmlUrl") for o in exported.iter("outline")}
    assert sites == {
        "rl.en.atom": BASE + "tags/rl.html",
        "rl.rss": BASE + "tags/rl.html",
        "moe.ko.atom": BASE + "tags/moe.html",
        "all.atom": BASE,
        "en.rss": BASE,
    }
    with sqlite3.connect(home / "cache.db") as db:
        links = {url for (url,) in db.execute("SELECT url FROM rss_item")}
    assert links and all(u.startswith(BASE + "days/2025-05-08.html#") for u in links), links
    for link in links:
        anchor = link.split("#", 1)[1]
        assert f'id="{anchor}"' in (feeds / "days" / "2025-05-08.html").read_text("utf-8")
