"""The deduplicated stream as one feed (``digestfeed read --format atom|rss|jsonfeed``).

Any feed reader pointed at the output (newsboat's ``exec:`` source, a file, a URL that CI
publishes) shows every paper once. One entry per item:

- **id**: ``urn:uuid:`` of a UUID 5 over the item's id and the language of the comment
  shown, so an entry id is stable from run to run and never names two contents (the
  Korean and the English comment of one paper are two ids; ``--lang`` picks which one is
  shown, the other language when the item has no comment in it);
- **title**, **published** (the item's date) and **updated** (its date, else when it was
  first seen);
- **content**: the comment in ``<div class="comment">`` (as digestfeed's own feeds mark
  it, so reading the output back gives the same comments; ``lang="ko"`` and ``xml:lang``
  only on a Korean one, since the reader's other bucket is "not Korean", not surely
  English), every link of the item, and every feed it was seen in;
- **links**: the first absolute http(s) link is the entry's main link, the others ``related``
  (Atom); feeds it was seen in over HTTP are ``via`` links;
- **tags** as written, one category each.

The feed's own id is a UUID 5 over the sources, its ``updated`` the newest entry's (or
the run's time when there are none). Text is cleaned by :func:`.text.xml`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import json
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import lxml.etree as etree

from .options import FEED_FORMATS
from .text import is_web, xml

if TYPE_CHECKING:
    from .reading import Item

MEDIA_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "jsonfeed": "application/feed+json",
}
GENERATOR = "digestfeed read"
GENERATOR_URI = "https://pypi.org/project/digestfeed/"
_NAMESPACE = uuid.UUID("5f8a2c1e-0d7b-5e0a-9c3b-7d1f6a4e2b90")
ATOM_NS = "http://www.w3.org/2005/Atom"
_A = f"{{{ATOM_NS}}}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class Shown:
    """What one output entry shows of an item."""

    def __init__(self, item: Item, lang: str) -> None:
        self.item = item
        self.lang, self.comment = item.comment_in(lang)
        self.id = entry_id(item.id, self.lang)
        links = [xml(link) for link in item.links]
        self.links = [link for link in links if is_web(link)]
        self.title = xml(item.title) or (links[0] if links else "(untitled)")
        self.updated = _when(item.date) or _when(item.first_seen)
        self.published = _when(item.date)

    def content_html(self) -> str:
        parts = []
        if self.comment:
            lang = ' lang="ko"' if self.lang == "ko" else ""
            parts.append(
                f'<div class="comment"{lang}><p>{html.escape(xml(self.comment))}</p></div>'
            )
        links = [xml(link) for link in self.item.links]
        if links:
            parts.append(
                "<ul>"
                + "".join(
                    f'<li><a href="{html.escape(u)}">{html.escape(u)}</a></li>'
                    if is_web(u)
                    else f"<li>{html.escape(u)}</li>"
                    for u in links
                )
                + "</ul>"
            )
        feeds = [xml(f) for f in self.item.feeds]
        if feeds:
            parts.append(
                "<p>Seen in: "
                + ", ".join(
                    f'<a href="{html.escape(f)}">{html.escape(f)}</a>'
                    if is_web(f)
                    else html.escape(f)
                    for f in feeds
                )
                + "</p>"
            )
        return "\n".join(parts)


def entry_id(item_id: str, lang: str) -> str:
    """The output id of an item shown with its comment in ``lang`` (``""``: no comment)."""
    name = item_id + "\x00" + lang
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}"


def _when(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _rfc3339(when: dt.datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _feed_facts(
    shown: Sequence[Shown], sources: Sequence[str], now: dt.datetime
) -> tuple[str, str, dt.datetime]:
    feed_id = f"urn:uuid:{uuid.uuid5(_NAMESPACE, chr(0).join(sorted(sources)))}"
    title = xml(f"digestfeed read: {' '.join(sources)}")
    if len(title) > 200:
        title = title[:199] + "…"
    stamps = [s.updated for s in shown if s.updated is not None]
    return feed_id, title, max(stamps) if stamps else now


def render(
    items: Sequence[Item], fmt: str, *, lang: str, sources: Sequence[str], now: dt.datetime
) -> bytes:
    """The items as one ``fmt`` document (see :data:`FEED_FORMATS`)."""
    if fmt not in FEED_FORMATS:
        raise ValueError(f"unknown feed format {fmt!r}")
    write = {"atom": _atom, "rss": _rss, "jsonfeed": _jsonfeed}[fmt]
    return write([Shown(item, lang) for item in items], sources, now)


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> Any:
    el = etree.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _atom(shown: Sequence[Shown], sources: Sequence[str], now: dt.datetime) -> bytes:
    feed_id, title, updated = _feed_facts(shown, sources, now)
    root = etree.Element(f"{_A}feed", nsmap={None: ATOM_NS})  # type: ignore[dict-item]
    _sub(root, f"{_A}id", feed_id)
    _sub(root, f"{_A}title", title)
    _sub(root, f"{_A}updated", _rfc3339(updated))
    author = _sub(root, f"{_A}author")
    _sub(author, f"{_A}name", GENERATOR)
    _sub(root, f"{_A}generator", GENERATOR, uri=GENERATOR_URI)
    for s in shown:
        entry = _sub(root, f"{_A}entry")
        if s.lang == "ko":  # the other bucket is "not Korean", not known to be English
            entry.set(_XML_LANG, s.lang)
        _sub(entry, f"{_A}id", s.id)
        _sub(entry, f"{_A}title", s.title)
        _sub(entry, f"{_A}updated", _rfc3339(s.updated or updated))
        if s.published is not None:
            _sub(entry, f"{_A}published", _rfc3339(s.published))
        for n, link in enumerate(s.links):
            _sub(entry, f"{_A}link", rel="alternate" if n == 0 else "related", href=link)
        for feed in s.item.feeds:
            if is_web(feed):
                _sub(entry, f"{_A}link", rel="via", href=xml(feed))
        for tag in s.item.tags:
            _sub(entry, f"{_A}category", term=xml(tag))
        _sub(entry, f"{_A}content", s.content_html(), type="html")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _rss_date(when: dt.datetime) -> str:
    return email.utils.format_datetime(when)


def _rss(shown: Sequence[Shown], sources: Sequence[str], now: dt.datetime) -> bytes:
    _, title, updated = _feed_facts(shown, sources, now)
    root = etree.Element("rss", version="2.0")
    channel = _sub(root, "channel")
    _sub(channel, "title", title)
    _sub(channel, "link", next((s for s in sources if is_web(s)), GENERATOR_URI))
    _sub(channel, "description", "Every paper once, deduplicated by digestfeed read")
    _sub(channel, "lastBuildDate", _rss_date(updated))
    _sub(channel, "generator", GENERATOR)
    for s in shown:
        item = _sub(channel, "item")
        _sub(item, "title", s.title)
        web = [link for link in s.links if is_web(link)]
        if web:
            _sub(item, "link", web[0])
        _sub(item, "description", s.content_html())
        for tag in s.item.tags:
            _sub(item, "category", xml(tag))
        _sub(item, "guid", s.id, isPermaLink="false")
        if s.published is not None:
            _sub(item, "pubDate", _rss_date(s.published))
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _jsonfeed(shown: Sequence[Shown], sources: Sequence[str], now: dt.datetime) -> bytes:
    _, title, _ = _feed_facts(shown, sources, now)
    items = []
    for s in shown:
        obj: dict[str, Any] = {"id": s.id}
        web = [link for link in s.links if is_web(link)]
        if web:
            obj["url"] = web[0]
        obj["title"] = s.title
        obj["content_html"] = s.content_html()
        if s.published is not None:
            obj["date_published"] = _rfc3339(s.published)
        if s.updated is not None:
            obj["date_modified"] = _rfc3339(s.updated)
        if s.item.tags:
            obj["tags"] = [xml(t) for t in s.item.tags]
        if s.lang == "ko":
            obj["language"] = s.lang
        obj["_digestfeed_read"] = {"links": list(s.item.links), "feeds": list(s.item.feeds)}
        items.append(obj)
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": title, "items": items}
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
