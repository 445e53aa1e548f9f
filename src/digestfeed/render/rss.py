"""RSS 2.0 with feedgen: ``<name>.rss`` beside every subscription document's ``<name>.atom``.

Only subscription documents get an RSS twin: RFC 5005 archives exist in Atom only (they
are what ``prev-archive`` points at and what a backfilling feed client follows), which keeps a
ten-year site well inside a static host's size limit (GitHub Pages' 1 GB). An RSS document
carries the same entries, ids, dates and content as its Atom twin:

* ``guid isPermaLink="false"`` is the variant's ``tag:`` id (the entry id, ``/ko`` or ``/en``
  appended for the Korean and English variants, as in Atom); ``pubDate`` (RFC 822) is its
  published time and ``atom:updated`` its updated time (RSS has no element for it);
* ``description`` is :func:`~digestfeed.render.content.entry_html`; ``link`` the digest page;
  one ``category`` per tag (``domain`` = the tag's page, as Atom's ``scheme``);
  ``dc:creator`` is the curator (RSS ``author`` would need an e-mail address);
* the channel has ``atom:link rel="self"``, ``language`` (not for bilingual feeds) and
  ``fh:complete`` when the whole feed fits.

feedgen defaults ``lastBuildDate`` to the current time and ``generator`` to its own name,
and takes the channel ``link`` from the last link added; all three are set here
(``lastBuildDate`` = the newest ``updated``, as Atom's feed ``updated``), so two builds of
the same input are byte-identical. Items are rendered once per (entry, language variant)
and their bytes reused in every document that holds them; each item is written directly,
byte for byte what feedgen writes, and the first items of each shape are also written by
feedgen and compared in every build (as in :mod:`digestfeed.render.atom`).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Iterator

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from ..config import Config
from ..types import Document, FeedSet, Lang, Timed, rfc3339
from ..urls import feed_home
from .atom import _CONTENT_SLOT, _ID_SLOT, variant_suffix
from .content import entry_html, entry_parts
from .handwritten import ATOM_NS, FH_NS, XML_ILLEGAL, FeedgenCheck, rss_item, xml_text
from .memo import Memo, subscription_files

DC_NS = "http://purl.org/dc/elements/1.1/"
#: Namespaces declared on ``<rss>`` (feedgen adds ``atom`` and ``content``); items are
#: serialised inside a root with exactly these, then spliced in without redeclaring them.
NSMAP = {"atom": ATOM_NS, "dc": DC_NS, "fh": FH_NS}
MEDIA_TYPE = "application/rss+xml"
#: Bumped when the bytes this module writes change for the same input.
RENDER_VERSION = 3


class ItemExtras:
    """feedgen entry extension: ``atom:updated`` and ``dc:creator`` of an RSS item."""

    def __init__(self) -> None:
        self.updated: dt.datetime | None = None
        self.creator: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_rss(self, item: etree._Element) -> etree._Element:
        if self.creator:
            etree.SubElement(item, f"{{{DC_NS}}}creator").text = self.creator
        if self.updated is not None:
            etree.SubElement(item, f"{{{ATOM_NS}}}updated").text = rfc3339(self.updated)
        return item

    def extend_atom(self, entry: etree._Element) -> etree._Element:  # pragma: no cover - rss only
        return entry


class ChannelExtras:
    """feedgen feed extension: the ``dc``/``fh`` namespaces, ``fh:complete`` and a hub link."""

    def __init__(self) -> None:
        self.complete = False
        self.hub: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"dc": DC_NS, "fh": FH_NS}

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        channel = rss.find("channel")
        assert channel is not None
        if self.hub:
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=self.hub, rel="hub")
        if self.complete:
            etree.SubElement(channel, f"{{{FH_NS}}}complete")
        return rss

    def extend_atom(self, feed: etree._Element) -> etree._Element:  # pragma: no cover - rss only
        return feed


class _Template:
    """One entry's ``<item>`` cut at its two variant slots (the description, then the guid's
    suffix), and its content blocks XML-escaped: a variant is one ``bytes.join``."""

    __slots__ = ("after", "before", "between", "blocks")

    def __init__(
        self, before: bytes, between: bytes, after: bytes, blocks: tuple[bytes, ...]
    ) -> None:
        self.before, self.between, self.after, self.blocks = before, between, after, blocks

    @classmethod
    def from_slots(cls, data: bytes, blocks: tuple[bytes, ...]) -> _Template:
        """From an item feedgen wrote with the slots in place."""
        c, i = data.index(_CONTENT_SLOT.encode()), data.index(_ID_SLOT.encode())
        return cls(data[:c], data[c + len(_CONTENT_SLOT) : i], data[i + len(_ID_SLOT) :], blocks)

    def variant(self, lang: Lang) -> bytes | None:
        authors, abstract, ko, en, paper = self.blocks
        chosen = (
            authors,
            abstract,
            ko if lang != "en" else b"",
            en if lang != "ko" else b"",
            paper,
        )
        content = b"\n".join(block for block in chosen if block)
        if not content:  # an empty description is feedgen's business: no template for it
            return None
        suffix = variant_suffix(lang).encode()
        return b"".join((self.before, content, self.between, suffix, self.after))


class ItemRenderer:
    """Renders ``<item>`` bytes of (entry, variant).

    The variants of an entry differ only in their ``description`` and the suffix of their
    ``guid``, so feedgen writes each entry once, with placeholders, and each variant is that
    template with its escaped HTML and suffix in the slots (the bytes lxml would write:
    escaping commutes with joining the blocks). Templates and items are kept in bounded
    :class:`Memo` caches.
    """

    def __init__(self, config: Config, memo: Memo[tuple[str, Lang], bytes]) -> None:
        self.config = config
        self.check = FeedgenCheck()  # shapes: with or without tags
        self._memo = memo
        self._templates: Memo[str, _Template | None] = Memo(memo.capacity)
        self._root = etree.Element("rss", nsmap=NSMAP)
        self._start = (
            b"<item "
            + b" ".join(f'xmlns:{prefix}="{uri}"'.encode() for prefix, uri in NSMAP.items())
            + b">"
        )

    def __call__(self, timed: Timed, lang: Lang) -> bytes:
        return self._memo.get((timed.entry.id, lang), lambda: self._render(timed, lang))

    def _render(self, timed: Timed, lang: Lang) -> bytes:
        template = self._templates.get(timed.entry.id, lambda: self._template(timed))
        data = template.variant(lang) if template is not None else None
        return data if data is not None else self._render_with_feedgen(timed, lang)

    def _template(self, timed: Timed) -> _Template | None:
        entry = timed.entry
        parts = entry_parts(entry)
        # the id too: a source plugin's could hold what XML cannot (feedgen refuses it)
        legal = not XML_ILLEGAL.search("\n".join((*parts, entry.title, entry.id, *entry.tags)))
        if not legal and any(XML_ILLEGAL.search(part) for part in parts):
            return None  # feedgen (lxml) says what is wrong, as without a template
        blocks = tuple(xml_text(part).encode("utf-8") for part in parts)
        if legal and self.check.by_hand and entry.title:
            template = _Template(*rss_item(self.config, timed), blocks)
            if self._agrees_with_feedgen(timed, template):
                return template
        data = self._feedgen_item(timed, _CONTENT_SLOT, timed.entry.id + _ID_SLOT)
        content, id_ = data.find(_CONTENT_SLOT.encode()), data.find(_ID_SLOT.encode())
        if not (
            data.count(_CONTENT_SLOT.encode()) == 1
            and data.count(_ID_SLOT.encode()) == 1
            and 0 <= content < id_
        ):
            return None  # the slot text occurs in the entry itself
        return _Template.from_slots(data, blocks)

    def _agrees_with_feedgen(self, timed: Timed, template: _Template) -> bool:
        """The first items of each shape are also written by feedgen in every variant and
        compared; one difference (another feedgen or lxml) sends every later item through
        feedgen."""
        if not self.check.wanted(bool(timed.entry.tags)):
            return True
        for lang in (None, "ko", "en"):
            data = template.variant(lang)
            if data is not None and not self.check.agrees(
                data, self._render_with_feedgen(timed, lang)
            ):
                return False
        return True

    def _render_with_feedgen(self, timed: Timed, lang: Lang) -> bytes:
        """The item of one variant straight from feedgen (what a template reproduces)."""
        entry = timed.entry
        return self._feedgen_item(timed, entry_html(entry, lang), entry.id + variant_suffix(lang))

    def _feedgen_item(self, timed: Timed, description: str, guid: str) -> bytes:
        config, entry = self.config, timed.entry
        fe = FeedEntry()
        fe.title(entry.title)
        fe.link(href=config.entry_url(entry), rel="alternate")
        fe.description(description)
        fe.guid(guid, permalink=False)
        fe.category([{"term": slug, "scheme": config.tag_url(slug)} for slug in entry.tags])
        fe.pubDate(timed.published)
        fe.register_extension("extras", ItemExtras, atom=False, rss=True)
        fe.extras.updated = timed.updated
        fe.extras.creator = config.curator
        item = fe.rss_entry()
        self._root.append(item)
        try:
            etree.indent(item, space="  ", level=2)
            data = etree.tostring(item, encoding="utf-8")
        finally:
            self._root.remove(item)
        # the namespaces are declared once on <rss>: drop lxml's copy on the detached item
        assert data.startswith(self._start), data[:200]
        return b"    <item>" + data[len(self._start) :] + b"\n"


def render_document(doc: Document, feedset: FeedSet, item: Callable[[Timed, Lang], bytes]) -> bytes:
    """One RSS document: feedgen channel + the memoised item bytes, newest first."""
    config, feed = feedset.config, doc.feed
    fg = FeedGenerator()
    fg.register_extension("extras", ChannelExtras, None, atom=False, rss=True)
    fg.extras.complete = doc.complete
    fg.extras.hub = config.hub or None
    fg.title(feed.title)
    # feedgen's channel <link> is the href of the *last* link added: the alternate goes last
    fg.link(href=config.feed_url(f"{doc.path}.rss"), rel="self", type=MEDIA_TYPE)
    fg.link(href=feed_home(config, feed.tag), rel="alternate")
    # RSS readers render <description> as HTML: the title (site title, tag label) is text
    fg.description(html.escape(feed.title))
    fg.lastBuildDate(feedset.newest_update(doc))
    if feed.lang:
        fg.language(feed.lang)
    fg.generator("digestfeed")
    head: bytes = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    cut = head.rindex(b"  </channel>")
    # one join, no intermediate copies: an uncapped feed can be tens of megabytes
    return b"".join([head[:cut], *(item(t, feed.lang) for t in doc.entries), head[cut:]])


class RssOutput:
    """RSS 2.0: every subscription document as ``<name>.rss`` (archives are Atom only)."""

    name = "rss"

    def files(
        self, feedset: FeedSet, formats: tuple[str, ...] = ()
    ) -> Iterator[tuple[str, str, Callable[[], bytes]]]:
        """``(relative path, fingerprint, render)`` for each file, rendered lazily."""
        return subscription_files(feedset, "rss", RENDER_VERSION, ItemRenderer, render_document)
