"""The built site links only to files it holds: every href, src, xmlUrl, htmlUrl, feed and entry
link (and its #anchor) that points inside the site resolves — the seed, and the 2024 corpus."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from lxml import etree
from lxml import html as lxml_html

import digestfeed
from conftest import PROJECT

BASE = "https://papers.test/feeds/"
CONFIG = (
    'site_url = "https://papers.test/"\n'
    f'feed_base_url = "{BASE}"\n'
    'tag_authority = "papers.test"\n'
    "max_entries = 20\n"
)
#: XML attributes that hold a URL, and elements whose text is one (RSS <link>, <docs> aside).
URL_ATTRS = {"href", "src", "xmlUrl", "htmlUrl", "scheme", "domain"}
URL_TEXT = {"link", "url"}


def links_of(path: Path, page_url: str) -> Iterator[str]:
    """Every URL ``path`` holds, absolute (resolved against the page's published URL)."""
    data = path.read_bytes()
    if path.suffix == ".html":
        for value in lxml_html.fromstring(data).xpath("//@href | //@src"):
            yield urljoin(page_url, value)
    elif path.suffix == ".json":
        stack = [json.loads(data)]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                for key, item in value.items():
                    if key.endswith("url") and isinstance(item, str):
                        yield urljoin(page_url, item)
                    else:
                        stack.append(item)
            elif isinstance(value, list):
                stack.extend(value)
    else:  # .atom, .rss, .opml
        for el in etree.fromstring(data).iter():
            if not isinstance(el.tag, str):
                continue
            for name, value in el.attrib.items():
                if etree.QName(name).localname in URL_ATTRS:
                    yield urljoin(page_url, value)
            if etree.QName(el).localname in URL_TEXT and el.text and el.text.strip():
                yield urljoin(page_url, el.text.strip())


def anchors(path: Path, cache: dict[Path, set[str]]) -> set[str]:
    if path not in cache:
        cache[path] = set(lxml_html.fromstring(path.read_bytes()).xpath("//@id"))
    return cache[path]


def walk(feeds: Path) -> tuple[int, list[str]]:
    """``(internal links checked, broken ones as 'file: url')`` of the site in ``feeds``."""
    checked, broken, ids = 0, [], {}  # type: ignore[var-annotated]
    for path in sorted(p for p in feeds.rglob("*") if p.is_file()):
        rel = path.relative_to(feeds).as_posix()
        for url in links_of(path, BASE + rel):
            target, fragment = urldefrag(url)
            if not target.startswith(BASE):
                assert urlsplit(target).scheme in ("http", "https"), (rel, url)
                continue  # papers, project pages, specs: outside the site
            checked += 1
            inner = target[len(BASE) :] or "index.html"
            if inner.endswith("/"):
                inner += "index.html"
            file = feeds / inner
            if not file.is_file():
                broken.append(f"{rel}: {url}")
            elif fragment and fragment not in anchors(file, ids):
                broken.append(f"{rel}: {url} (no such anchor)")
    return checked, broken


def build(tmp: Path, sources: dict[str, Path]) -> Path:
    (tmp / "digestfeed.toml").write_text(CONFIG, encoding="utf-8")
    digestfeed.build(
        sources,
        tmp / "feeds",
        config=digestfeed.load_config(tmp / "digestfeed.toml"),
        ledger=tmp / "ledger.json",
        now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        cache=False,
    )
    return tmp / "feeds"


def test_every_link_inside_the_seed_site_resolves(tmp_path: Path) -> None:
    """The seed's site: every internal link of every page, feed and OPML is a file (and anchor) it holds."""
    entries = tmp_path / "entries"
    entries.mkdir()
    shutil.copy(PROJECT / "entries" / "2025-05-08.txt", entries)
    feeds = build(tmp_path, {"digest": entries})
    checked, broken = walk(feeds)
    assert broken == []
    assert checked > 300
    # entry links, day pages and their anchors were among them
    assert any((feeds / "days").glob("*.html"))


def test_the_walk_finds_a_broken_link(tmp_path: Path) -> None:
    """Control: a removed tag page and a bad anchor are both reported."""
    entries = tmp_path / "entries"
    entries.mkdir()
    shutil.copy(PROJECT / "entries" / "2025-05-08.txt", entries)
    feeds = build(tmp_path, {"digest": entries})
    (feeds / "tags" / "moe.html").unlink()
    day = feeds / "days" / "2025-05-08.html"
    day.write_text(day.read_text(encoding="utf-8").replace('id="zerosearch', 'id="x'), "utf-8")
    _, broken = walk(feeds)
    assert any("tags/moe.html" in b for b in broken)
    assert any("(no such anchor)" in b and "#zerosearch" in b for b in broken)


@pytest.mark.corpus
def test_every_link_inside_the_corpus_site_resolves(tmp_path: Path, corpus_dir: Path) -> None:
    """The 2024 vault (945 notes, archives, arXiv anchors) plus the seed: zero broken internal links."""
    entries = tmp_path / "entries"
    entries.mkdir()
    shutil.copy(PROJECT / "entries" / "2025-05-08.txt", entries)
    feeds = build(tmp_path, {"digest": entries, "notes": corpus_dir})
    checked, broken = walk(feeds)
    assert broken[:20] == []
    assert checked > 10_000, checked
    assert (feeds / "days" / "2025-05-08.html").is_file()  # the seed is part of the site
    day_ids = set()
    for page in (feeds / "days").glob("*.html"):
        day_ids |= set(lxml_html.fromstring(page.read_bytes()).xpath("//article/@id"))
    assert any(i.startswith("arxiv-") for i in day_ids)  # vault notes anchor by arXiv id
    assert any((feeds / "archive").rglob("*.atom"))
