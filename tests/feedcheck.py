"""RFC 4287 checks for the Atom documents digestfeed writes, used by the tests.

Only rules that can be checked mechanically and that digestfeed relies on; every function
raises ``AssertionError`` with the document's name and the rule that failed.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
from lxml import etree

A = "{http://www.w3.org/2005/Atom}"
FH = "{http://purl.org/syndication/history/1.0}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def parse_xml(data: bytes) -> etree._Element:
    return etree.fromstring(data, SAFE)


def _absolute(uri: str) -> bool:
    parts = urlsplit(uri)
    return bool(parts.scheme) and (parts.scheme == "tag" or bool(parts.netloc))


def _one(parent: etree._Element, tag: str, where: str) -> etree._Element:
    found = parent.findall(f"{A}{tag}")
    assert len(found) == 1, f"{where}: expected exactly one atom:{tag}, found {len(found)}"
    return found[0]


def check_atom(data: bytes, name: str = "feed") -> etree._Element:
    """Assert the RFC 4287 rules digestfeed relies on; return the parsed root."""
    root = parse_xml(data)
    assert root.tag == f"{A}feed", f"{name}: root is {root.tag}, not atom:feed"
    for tag in ("id", "title", "updated"):
        el = _one(root, tag, name)
        assert (el.text or "").strip(), f"{name}: empty atom:{tag}"
    assert _absolute(root.findtext(f"{A}id")), f"{name}: feed id is not an absolute IRI"
    assert RFC3339.match(root.findtext(f"{A}updated")), (
        f"{name}: feed updated is not RFC 3339 with a zone"
    )
    selfs = [lk for lk in root.findall(f"{A}link") if lk.get("rel") == "self"]
    assert len(selfs) == 1, f"{name}: expected one rel=self link, found {len(selfs)}"
    alternates = {}
    for link in root.findall(f"{A}link") + root.findall(f"{A}entry/{A}link"):
        href = link.get("href")
        assert href and _absolute(href), f"{name}: link href {href!r} is not absolute"
    for link in root.findall(f"{A}link"):
        if link.get("rel", "alternate") == "alternate":
            key = (link.get("type"), link.get("hreflang"))
            assert key not in alternates, f"{name}: two alternate links with type/hreflang {key}"
            alternates[key] = link.get("href")
    feed_author = root.find(f"{A}author") is not None
    ids, updated = set(), set()
    entries = root.findall(f"{A}entry")
    for entry in entries:
        where = f"{name}: entry {entry.findtext(f'{A}id')}"
        for tag in ("id", "title", "updated"):
            _one(entry, tag, where)
        entry_id = entry.findtext(f"{A}id")
        assert _absolute(entry_id), f"{where}: id is not an absolute IRI"
        assert entry_id not in ids, f"{where}: duplicate entry id"
        ids.add(entry_id)
        stamp = entry.findtext(f"{A}updated")
        assert RFC3339.match(stamp), f"{where}: updated {stamp!r} is not RFC 3339 with a zone"
        assert stamp not in updated, f"{where}: another entry has the same updated {stamp}"
        updated.add(stamp)
        published = entry.findtext(f"{A}published")
        assert published is None or RFC3339.match(published), f"{where}: bad published"
        assert feed_author or entry.find(f"{A}author") is not None, f"{where}: no author"
        content = entry.find(f"{A}content")
        has_alternate = any(
            lk.get("rel", "alternate") == "alternate" for lk in entry.findall(f"{A}link")
        )
        assert content is not None or has_alternate, f"{where}: neither content nor alternate link"
        assert entry.find(f"{A}title").get("type", "text") == "text", f"{where}: title is not text"
    if entries:
        newest = max(dt.datetime.fromisoformat(e.findtext(f"{A}updated")) for e in entries)
        assert dt.datetime.fromisoformat(root.findtext(f"{A}updated")) == newest, (
            f"{name}: feed updated is not the newest entry's updated"
        )
    return root


def feedparse(data: bytes, name: str = "feed") -> feedparser.FeedParserDict:
    """feedparser on the bytes; assert it found no problem (``bozo == 0``)."""
    parsed = feedparser.parse(data)
    assert not parsed.bozo, f"{name}: feedparser bozo: {parsed.get('bozo_exception')}"
    return parsed


def atom_files(out: Path) -> list[Path]:
    return sorted(out.rglob("*.atom"))
