"""Third-party feeds from public parser test suites, read by digestfeed's reader.

Each readable fixture in ``tests/data/reader/thirdparty/`` is read from disk and served over
real HTTP on 127.0.0.1 with the headers its manifest names; the items must match
feedparser's own reading of the same bytes (``expected.json``, written by
``make_expected.py``): one item per entry, the same links and titles, tag terms intact.
Hostile fixtures (entity bombs, external entities, oversized bodies) must be refused with a
reason that names what is wrong.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import pytest

from digestfeed.reader import Item, Reader, ReadResult

HERE = Path(__file__).resolve().parent / "data" / "reader" / "thirdparty"
MANIFEST: dict[str, dict[str, Any]] = json.loads((HERE / "MANIFEST.json").read_text("utf-8"))
EXPECTED: dict[str, Any] = json.loads((HERE / "expected.json").read_text("utf-8"))
DEFAULT_TYPES = {
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".rdf": "application/rdf+xml",
    ".json": "application/feed+json",
    ".xml": "application/xml",
}

#: What the reader still gets wrong, per (fixture, mode); each is a strict xfail, so a fix
#: that makes one pass must remove its line here.
TODAY: dict[tuple[str, str], str] = {}


def _params(expect: str) -> list[Any]:
    out = []
    for name, entry in MANIFEST.items():
        if entry["expect"] != expect:
            continue
        for mode in ("file", "http"):
            if mode == "file" and entry.get("http_only"):
                continue
            reason = TODAY.get((name, mode))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(name, mode, id=f"{name}-{mode}", marks=marks))
    return out


def _headers(name: str) -> dict[str, str]:
    headers = {"Content-Type": DEFAULT_TYPES.get(Path(name).suffix, "application/xml")}
    headers.update(MANIFEST[name].get("headers", {}))
    return headers


def _read(name: str, mode: str, httpserver: Any, tmp_path: Path) -> tuple[ReadResult, str | None]:
    """Read one fixture (from disk or served); return the result and the URL it was served at."""
    if mode == "file":
        source, url = str(HERE / name), None
    else:
        headers = _headers(name)
        content_type = headers.pop("Content-Type")
        httpserver.expect_request(f"/{name}").respond_with_data(
            (HERE / name).read_bytes(), content_type=content_type, headers=headers
        )
        source = url = httpserver.url_for(f"/{name}")
    with Reader(tmp_path / "state.sqlite", local_twins=False) as reader:
        return reader.read([source], all=True), url


def _file_base(name: str) -> str | None:
    """Where a saved feed's relative links point: its absolute rel=self, else its site link
    (as feedparser reads them), else nowhere (the links stay as the feed gave them)."""
    if name.endswith(".json"):
        doc = json.loads((HERE / name).read_bytes())
        candidates = [doc.get("feed_url"), doc.get("home_page_url")]
    else:
        feed = feedparser.parse((HERE / name).read_bytes())["feed"]
        selfs = [lk.get("href") for lk in feed.get("links", ()) if lk.get("rel") == "self"]
        candidates = [*selfs, feed.get("link")]
    return next((c for c in candidates if c and urlsplit(c).scheme in ("http", "https")), None)


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())


def _tag_key(term: str) -> str:
    """A tag term compared case-blind, with spaces, hyphens and underscores alike."""
    return "-".join(re.split(r"[\s_-]+", term.casefold().strip()))


def _find(items: list[Item], link: str | None, title: str | None) -> Item | None:
    if link:
        linked = [i for i in items if link in i.links]  # entries may share a link
        return next((i for i in linked if _norm(i.title) == _norm(title)), None) or next(
            iter(linked), None
        )
    if _norm(title):
        return next((i for i in items if _norm(i.title) == _norm(title)), None)
    return None


@pytest.mark.parametrize(("name", "mode"), _params("read"))
def test_reads_like_feedparser(name: str, mode: str, httpserver: Any, tmp_path: Path) -> None:
    """A third-party feed gives one item per entry, with feedparser's links, titles and tags.

    Relative links resolve against the document's URL over HTTP; in a saved file against
    the feed's own absolute rel=self or site link, else they stay as written (never file:).
    """
    result, url = _read(name, mode, httpserver, tmp_path)
    assert [f.reason for f in result.failures] == []
    entries = EXPECTED[name]["entries"]
    assert len(result) == len(entries), [i.links for i in result]
    for entry in entries:
        link = entry["link"]
        base = url or _file_base(name)
        if link and base:
            link = urljoin(base, link)  # what feedparser gives when told the document's URL
        assert not any(lk.startswith("file:") for i in result for lk in i.links)
        item = _find(list(result), link, entry["title"])
        if item is None:
            assert not link and not _norm(entry["title"]), (link, [i.links for i in result])
            continue
        if _norm(entry["title"]):
            assert _norm(item.title) == _norm(entry["title"])
        tags = {_tag_key(t) for t in item.tags}
        assert {_tag_key(t) for t in entry["tags"] if t} <= tags, item.tags


@pytest.mark.parametrize(("name", "mode"), _params("refuse"))
def test_refuses_hostile(name: str, mode: str, httpserver: Any, tmp_path: Path) -> None:
    """A hostile document is refused, nothing of it is read, and the reason says why."""
    result, _ = _read(name, mode, httpserver, tmp_path)
    assert len(result) == 0
    assert len(result.failures) == 1
    reason = result.failures[0].reason
    assert re.search(MANIFEST[name]["reason"], reason, re.IGNORECASE), reason
    assert "Traceback" not in reason


def test_refuses_oversized_file(tmp_path: Path) -> None:
    """A feed file one byte over the size cap is refused by the cap, not parsed."""
    big = tmp_path / "big.rss"
    with Reader(tmp_path / "state.sqlite") as reader:
        head = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><description>'
        tail = b"</description></channel></rss>"
        big.write_bytes(head + b"A" * (reader.max_bytes + 1 - len(head) - len(tail)) + tail)
        result = reader.read([big], all=True)
    assert len(result) == 0
    assert len(result.failures) == 1
    assert "size cap" in result.failures[0].reason


#: One paper each, seen through every arXiv id form in the fixtures.
PAPERS = {"arxiv:2505.04588", "arxiv:1706.03762", "arxiv:hep-th/9901001", "arxiv:hep-ex/0307015"}
ARXIV_FIXTURES = sorted(n for n in MANIFEST if n.startswith(("arxiv_", "arxivid_")))


def test_arxiv_id_forms_are_one_paper(tmp_path: Path) -> None:
    """Every arXiv id form (mirror links, DOI, text, title prefix, old style) is one paper."""
    with Reader(tmp_path / "state.sqlite") as reader:
        result = reader.read([HERE / n for n in ARXIV_FIXTURES], all=True)
    assert [f.reason for f in result.failures] == []
    assert sorted(i.key for i in result) == sorted(PAPERS)
