"""Atom and RSS written directly: byte for byte what feedgen and lxml write for them.

The renderers (:mod:`digestfeed.render.atom`, :mod:`digestfeed.render.rss`) use these
instead of building a feedgen object and an lxml tree per entry, item and document head,
and in every build compare the first of each shape with what feedgen writes (one
difference sends the rest through feedgen). Escaping is lxml's; the element order is
feedgen's (``FeedEntry.atom_entry``, ``FeedEntry.rss_entry``, ``FeedGenerator.atom_str``);
the indent is two spaces, as ``pretty=True`` and ``etree.indent`` write.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Hashable
from typing import NamedTuple

from ..config import Config
from ..types import Lang, Timed, rfc3339

ATOM_NS = "http://www.w3.org/2005/Atom"
FH_NS = "http://purl.org/syndication/history/1.0"
GENERATOR_URI = "https://pypi.org/project/digestfeed/"


class FeedgenCheck:
    """When hand-written bytes are trusted: the first :data:`PER_SHAPE` of each shape (an
    entry with or without tags, a head of each marker and language, …) are also written by
    feedgen and compared, in every build; after one difference (another feedgen or lxml)
    everything is written by feedgen (:attr:`by_hand` is False)."""

    #: Comparisons per shape before the hand-written bytes of that shape are trusted.
    PER_SHAPE = 2

    def __init__(self) -> None:
        self.by_hand = True
        self._compared: dict[Hashable, int] = {}

    def wanted(self, shape: Hashable) -> bool:
        """Whether to compare this one (counted as compared)."""
        done = self._compared.get(shape, 0)
        if done >= self.PER_SHAPE:
            return False
        self._compared[shape] = done + 1
        return True

    def agrees(self, hand: bytes, feedgen: bytes) -> bool:
        """Compare; a difference stops writing by hand for the rest of the build."""
        if hand != feedgen:
            self.by_hand = False
        return self.by_hand


XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

_TEXT_SPECIAL = re.compile("[&<>\r]")
_ATTR_SPECIAL = re.compile('[&<>"\n\r\t]')


def xml_text(text: str) -> str:
    """Escape ``text`` exactly as lxml serialises element text."""
    if _TEXT_SPECIAL.search(text) is None:  # most titles and ids: one scan, no copies
        return text
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def xml_attr(value: str) -> str:
    """Escape ``value`` exactly as lxml serialises an attribute value."""
    if _ATTR_SPECIAL.search(value) is None:  # most URLs and slugs
        return value
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


class EntryParts(NamedTuple):
    """An Atom entry as feedgen and lxml write it, around its variant slots."""

    head: str  #: up to the id suffix (the id written)
    to_content: str  #: from the id suffix to the content text
    to_links: str  #: from the content text to the sibling links
    page: str  #: the entry's page (escaped), for the sibling links
    tail: str  #: after the sibling links


def atom_entry_parts(config: Config, timed: Timed) -> EntryParts:
    """An Atom entry around its variant slots: the bytes feedgen and lxml write for it
    (:meth:`digestfeed.render.atom.EntryRenderer._render`), written directly (element
    order of ``FeedEntry.atom_entry``, lxml's escaping and two-space indent)."""
    entry = timed.entry
    to_content = [
        f"</id>\n    <title>{xml_text(entry.title)}</title>\n"
        f"    <updated>{timed.updated.isoformat()}</updated>\n"
        f"    <author>\n      <name>{xml_text(config.curator)}</name>\n"
    ]
    if config.curator_uri:
        to_content.append(f"      <uri>{xml_text(config.curator_uri)}</uri>\n")
    to_content.append('    </author>\n    <content type="html">')
    to_links = ["</content>\n"]
    labels = entry.tag_labels or tuple(f"#{t}" for t in entry.tags)
    for slug, label in zip(entry.tags, labels, strict=False):
        scheme_url = config.tag_url(slug)
        scheme = f' scheme="{xml_attr(scheme_url)}"' if scheme_url else ""
        to_links.append(
            f'    <category term="{xml_attr(slug)}"{scheme}'
            + (f' label="{xml_attr(label)}"' if label else "")
            + "/>\n"
        )
    page = xml_attr(config.entry_url(entry))
    to_links.append(
        f"    <published>{timed.published.isoformat()}</published>\n"
        f'    <link rel="alternate" type="text/html" href="{page}"/>\n'
    )
    related = f'    <link rel="related" href="{xml_attr(entry.url)}"/>\n' if entry.url else ""
    return EntryParts(
        f"  <entry>\n    <id>{xml_text(entry.id)}",
        "".join(to_content),
        "".join(to_links),
        page,
        related + "  </entry>\n",
    )


def atom_sibling_line(page: str, lang: str) -> str:
    return (
        f'    <link rel="alternate" type="text/html" hreflang="{xml_attr(lang)}" href="{page}"/>\n'
    )


def atom_entry(
    config: Config, timed: Timed, html: str, id_: str, siblings: tuple[str, ...]
) -> bytes:
    """One whole entry written by hand (``id_`` extends the entry's id): what
    :meth:`digestfeed.render.atom.EntryRenderer._render` writes with the same arguments."""
    parts = atom_entry_parts(config, timed)
    if not id_.startswith(timed.entry.id):
        raise ValueError("id_ must extend the entry's id")
    return (
        parts.head
        + xml_text(id_[len(timed.entry.id) :])
        + parts.to_content
        + xml_text(html)
        + parts.to_links
        + "".join(atom_sibling_line(parts.page, lang) for lang in siblings)
        + parts.tail
    ).encode("utf-8")


class FeedHead(NamedTuple):
    """What a document's head holds (the ``<feed>`` element without its entries)."""

    lang: Lang
    id: str
    title: str
    updated: dt.datetime
    links: list[tuple[str, str, str | None]]  #: (href, rel, type), in document order
    marker: str | None  #: ``fh:complete`` or ``fh:archive``


def atom_head(head: FeedHead, config: Config) -> bytes:
    """A document's head (the ``<feed>`` element without entries), as feedgen writes it
    (:func:`digestfeed.render.atom._head_by_feedgen`: its element order, lxml's escaping
    and indent), written directly."""
    lang = f' xml:lang="{xml_attr(head.lang)}"' if head.lang else ""
    lines = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        f'<feed xmlns:fh="{FH_NS}" xmlns="{ATOM_NS}"{lang}>',
        f"  <id>{xml_text(head.id)}</id>",
        f"  <title>{xml_text(head.title)}</title>",
        f"  <updated>{head.updated.isoformat()}</updated>",
        "  <author>",
        f"    <name>{xml_text(config.curator)}</name>",
    ]
    if config.curator_uri:
        lines.append(f"    <uri>{xml_text(config.curator_uri)}</uri>")
    lines.append("  </author>")
    for href, rel, media in head.links:
        kind = f' type="{xml_attr(media)}"' if media is not None else ""
        lines.append(f'  <link href="{xml_attr(href)}" rel="{xml_attr(rel)}"{kind}/>')
    lines.append(f'  <generator uri="{GENERATOR_URI}">digestfeed</generator>')
    if head.marker:
        lines.append(f"  <fh:{head.marker}/>")
    lines.append("</feed>\n")
    return "\n".join(lines).encode("utf-8")


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rss_date(when: dt.datetime) -> str:
    """feedgen's ``pubDate``: ``strftime('%a, %d %b %Y %H:%M:%S %z')`` in the C locale (a
    year below 1000 as the platform's ``%Y`` writes it: glibc does not pad it)."""
    year = when.year if when.year >= 1000 else when.strftime("%Y")
    return (
        f"{_DAYS[when.weekday()]}, {when.day:02d} {_MONTHS[when.month - 1]} {year} "
        f"{when.hour:02d}:{when.minute:02d}:{when.second:02d} {when.strftime('%z')}"
    )


def rss_item(config: Config, timed: Timed) -> tuple[bytes, bytes, bytes]:
    """An item as feedgen and lxml write it (element order of ``FeedEntry.rss_entry``, then
    :class:`ItemExtras`; lxml's escaping and indent), around its two slots: the
    description, and the guid's variant suffix."""
    entry = timed.entry
    before = (
        f"    <item>\n      <title>{xml_text(entry.title)}</title>\n"
        f"      <link>{xml_text(config.entry_url(entry))}</link>\n      <description>"
    )
    between = f'</description>\n      <guid isPermaLink="false">{xml_text(entry.id)}'
    after = ["</guid>\n"]
    for slug in entry.tags:
        domain = config.tag_url(slug)
        attribute = f' domain="{xml_attr(domain)}"' if domain else ""
        after.append(f"      <category{attribute}>{xml_text(slug)}</category>\n")
    after.append(f"      <pubDate>{rss_date(timed.published)}</pubDate>\n")
    if config.curator:
        after.append(f"      <dc:creator>{xml_text(config.curator)}</dc:creator>\n")
    after.append(f"      <atom:updated>{rfc3339(timed.updated)}</atom:updated>\n    </item>\n")
    return before.encode(), between.encode(), "".join(after).encode()
