"""Atom 1.0 (RFC 4287) as feedgen writes it, plus RFC 5005 archive markup.

feedgen is the reference: every entry and every document head is written here directly,
byte for byte what feedgen and lxml write for it (:func:`atom_entry_parts`, :func:`atom_head`),
and the first entries and heads of each shape are also written by feedgen in every build
and compared; one difference (another feedgen or lxml) sends that and every later one
through feedgen. An entry's pieces are made once and shared by its three language variants
(which differ in the id suffix, the content and the sibling links) and by every document
that holds it; a document is its head with its entries' pieces joined in, in one join.
Two feedgen behaviours are worked around here:

* ``updated`` defaults to the current time → always set from the ledger;
* ``FeedEntry.atom_entry`` drops ``rel``/``type``/``hreflang`` of entry links (upstream
  bug feedgen#135) → entry links are written by :class:`EntryLinks`, a feedgen extension.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from ..config import Config
from ..errors import BuildError
from ..types import Document, FeedSet, Lang, Timed
from ..urls import feed_home
from .content import entry_html, entry_parts
from .handwritten import (
    FH_NS,
    GENERATOR_URI,
    XML_ILLEGAL,
    FeedgenCheck,
    FeedHead,
    atom_entry_parts,
    atom_head,
    atom_sibling_line,
    xml_text,
)
from .memo import Memo, fingerprint, fingerprint_salt

#: Bumped when the bytes this module writes change for the same input.
RENDER_VERSION = 3

#: Alternate formats of every Atom feed: extension → media type. Outputs that are not
#: installed are left out by :func:`alternates`.
ALTERNATE_TYPES = {"rss": "application/rss+xml", "json": "application/feed+json"}


class EntryLinks:
    """feedgen entry extension: ``<link>`` elements with every attribute kept."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        for link in self.links:
            # feedgen builds un-namespaced elements that the root's default xmlns places in Atom
            etree.SubElement(entry, "link", link)
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:  # pragma: no cover - atom only
        return item


class History:
    """feedgen feed extension: RFC 5005 ``fh:complete`` / ``fh:archive``."""

    def __init__(self) -> None:
        self.marker: str | None = None  # "complete" | "archive"

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH_NS}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        if self.marker:
            etree.SubElement(feed, f"{{{FH_NS}}}{self.marker}")
        return feed

    def extend_rss(self, channel: etree._Element) -> etree._Element:  # pragma: no cover
        return channel


#: Content text of the template entry; each variant's escaped HTML replaces it.
_CONTENT_SLOT = "@@digestfeed-content-slot@@"
#: Appended to the template entry's id; each variant's suffix (``""``, ``/ko``, ``/en``)
#: replaces it.
_ID_SLOT = "@@digestfeed-id-slot@@"
#: ``hreflang`` of the template entry's one sibling link; the line is repeated per sibling.
_SIBLING_SLOT = "@@digestfeed-sibling-slot@@"

#: The sibling languages each variant links with ``rel="alternate" hreflang``.
SIBLINGS: dict[Lang, tuple[str, ...]] = {None: ("ko", "en"), "ko": ("en",), "en": ("ko",)}


class _Rendered:
    """One entry's bytes as the pieces each language variant joins: its pieces around the
    variant slots (the id suffix, the content, the sibling links) and its content blocks,
    each already XML-escaped."""

    __slots__ = ("pieces",)

    def __init__(
        self,
        head: bytes,
        to_content: bytes,
        to_links: bytes,
        siblings: dict[str, bytes],
        tail: bytes,
        parts: tuple[str, str, str, str, str],
    ) -> None:
        authors, abstract, ko, en, paper = (xml_text(part).encode("utf-8") for part in parts)
        self.pieces: dict[Lang, tuple[bytes, ...] | None] = {}
        for lang in (None, "ko", "en"):
            chosen = [
                b
                for b in (
                    authors,
                    abstract,
                    ko if lang != "en" else b"",
                    en if lang != "ko" else b"",
                    paper,
                )
                if b
            ]
            body = [piece for block in chosen for piece in (b"\n", block)][1:]
            links = [siblings[x] for x in SIBLINGS[lang]]
            suffix = VARIANT_SUFFIX[lang]
            # an empty content is written <content type="html"/> by lxml: no template for it
            self.pieces[lang] = (
                (head, suffix, to_content, *body, to_links, *links, tail) if body else None
            )

    @classmethod
    def from_cut(cls, cut: _Cut, parts: tuple[str, str, str, str, str]) -> _Rendered:
        """From a template feedgen wrote with slots."""
        slot = _SIBLING_SLOT.encode()
        siblings = {x: cut.sibling.replace(slot, x.encode()) for x in ("ko", "en")}
        return cls(cut.head, cut.to_content, cut.to_links, siblings, cut.tail, parts)


def variant_suffix(lang: Lang) -> str:
    """What a language variant appends to the entry id: ``""``, ``/ko`` or ``/en``."""
    return f"/{lang}" if lang else ""


VARIANT_SUFFIX: dict[Lang, bytes] = {lang: variant_suffix(lang).encode() for lang in SIBLINGS}


class _Cut(NamedTuple):
    head: bytes  #: up to the id slot
    to_content: bytes  #: from the id slot to the content slot
    to_links: bytes  #: from the content slot to the sibling link line
    sibling: bytes  #: the sibling link line (with its newline)
    tail: bytes  #: after it


def _cut(data: bytes) -> _Cut | None:
    """The template's bytes around its slots when the id slot, the content slot and the
    sibling slot occur once each and in that order (feedgen writes the id first, the
    content before the links)."""
    id_slot, content_slot, sibling_slot = (
        x.encode() for x in (_ID_SLOT, _CONTENT_SLOT, _SIBLING_SLOT)
    )
    if any(data.count(x) != 1 for x in (id_slot, content_slot, sibling_slot)):
        return None
    i, c, s = data.index(id_slot), data.index(content_slot), data.index(sibling_slot)
    line_start = data.rindex(b"\n", 0, s) + 1
    line_end = data.index(b"\n", s) + 1
    if not i < c < line_start:
        return None
    return _Cut(
        data[:i],
        data[i + len(id_slot) : c],
        data[c + len(content_slot) : line_start],
        data[line_start:line_end],
        data[line_end:],
    )


class EntryRenderer:
    """``<entry>`` bytes of (entry, variant).

    The language variants of an entry differ only in their id suffix, their sibling links
    and their ``<content>``, so feedgen writes each entry once, with placeholders, and each
    variant is that template with its suffix, links and escaped HTML in the slots (the same
    bytes lxml would write: escaping commutes with joining the blocks). Templates are kept
    in a bounded :class:`Memo`.
    """

    def __init__(self, config: Config, memo: Memo[str, _Rendered | None]) -> None:
        self.config = config
        self.memo = memo
        self.check = FeedgenCheck()  # shapes: with or without tags, a paper URL

    def __call__(self, timed: Timed, lang: Lang) -> bytes:
        return b"".join(self.pieces(timed, lang))

    def pieces(self, timed: Timed, lang: Lang) -> tuple[bytes, ...]:
        """The entry's bytes as pieces to join: a document joins all its entries' pieces
        at once, instead of copying each entry into bytes of its own first."""
        rendered = self.memo.get(timed.entry.id, lambda: self._template(timed))
        pieces = rendered.pieces[lang] if rendered is not None else None
        if pieces is None:  # no template (slot text elsewhere in the entry) or an empty content
            pieces = (
                self._render(
                    timed,
                    entry_html(timed.entry, lang),
                    timed.entry.id + variant_suffix(lang),
                    SIBLINGS[lang],
                ),
            )
        return pieces

    def _template(self, timed: Timed) -> _Rendered | None:
        entry = timed.entry
        blocks = entry_parts(entry)
        # one scan of all the entry's text; only an entry that has such a character is
        # looked at part by part (its content is an error, its title goes to feedgen)
        legal = not XML_ILLEGAL.search(
            "\n".join(
                (*blocks, entry.title, entry.id, entry.url or "", *entry.tags, *entry.tag_labels)
            )
        )
        if not legal and any(XML_ILLEGAL.search(block) for block in blocks):
            raise BuildError(f"{entry.source}: entry text holds characters illegal in XML")
        if legal and self.check.by_hand and entry.title and self.config.curator:
            rendered = self._by_hand_checked(timed, blocks)
            if rendered is not None:
                return rendered
        # feedgen's rules (and errors) for the unusual: a template with slots, then cut
        found = _cut(self._render(timed, _CONTENT_SLOT, entry.id + _ID_SLOT, (_SIBLING_SLOT,)))
        return _Rendered.from_cut(found, blocks) if found is not None else None

    def _by_hand_checked(
        self, timed: Timed, blocks: tuple[str, str, str, str, str]
    ) -> _Rendered | None:
        """The entry's pieces written by hand (what feedgen writes, a tenth of the time).
        The first entries of each shape (with or without tags, a paper URL) are also
        written by feedgen in every variant and compared: one difference (another feedgen
        or lxml) sends this and every later entry through feedgen (``None``)."""
        parts = atom_entry_parts(self.config, timed)
        rendered = _Rendered(
            parts.head.encode(),
            parts.to_content.encode(),
            parts.to_links.encode(),
            {lang: atom_sibling_line(parts.page, lang).encode() for lang in ("ko", "en")},
            parts.tail.encode(),
            blocks,
        )
        if self.check.wanted((bool(timed.entry.tags), bool(timed.entry.url))):
            for lang, pieces in rendered.pieces.items():
                if pieces is None:
                    continue
                reference = self._render(
                    timed,
                    entry_html(timed.entry, lang),
                    timed.entry.id + variant_suffix(lang),
                    SIBLINGS[lang],
                )
                if not self.check.agrees(b"".join(pieces), reference):
                    return None
        return rendered

    def _render(self, timed: Timed, html: str, id_: str, siblings: tuple[str, ...]) -> bytes:
        config, entry = self.config, timed.entry
        fe = FeedEntry()
        fe.id(id_)
        fe.title(entry.title)
        fe.published(timed.published)
        fe.updated(timed.updated)
        fe.author(config.author())
        fe.content(html, type="html")
        labels = entry.tag_labels or tuple(f"#{t}" for t in entry.tags)
        fe.category(
            [
                {"term": slug, "label": label, "scheme": config.tag_url(slug)}
                for slug, label in zip(entry.tags, labels, strict=False)
            ]
        )
        fe.register_extension("links", EntryLinks, atom=True, rss=False)
        links = fe.links.links
        page = config.entry_url(entry)
        links.append({"rel": "alternate", "type": "text/html", "href": page})
        # the other language variants: the same page, marked with their language
        links.extend(
            {"rel": "alternate", "type": "text/html", "hreflang": lang, "href": page}
            for lang in siblings
        )
        if entry.url:
            links.append({"rel": "related", "href": entry.url})
        try:
            element = fe.atom_entry()
        except ValueError as exc:  # lxml refuses text that XML cannot hold
            raise BuildError(f"{entry.source}: cannot write the entry: {exc}") from None
        etree.indent(element, space="  ", level=1)
        return b"  " + etree.tostring(element, encoding="utf-8") + b"\n"


def alternates(feedset: FeedSet, formats: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(ext, ALTERNATE_TYPES[ext]) for ext in formats if ext in ALTERNATE_TYPES]


def _head(doc: Document, feedset: FeedSet, formats: tuple[str, ...]) -> FeedHead:
    config, feed = feedset.config, doc.feed
    atom = "application/atom+xml"
    links: list[tuple[str, str, str | None]] = [(config.feed_url(f"{doc.path}.atom"), "self", atom)]
    if not doc.archive:
        for ext, media in alternates(feedset, formats):
            links.append((config.feed_url(f"{doc.path}.{ext}"), "alternate", media))
        if config.hub:
            links.append((config.hub, "hub", None))
    else:
        links.append((config.feed_url(f"{doc.current}.atom"), "current", atom))
    if doc.prev_archive:
        links.append((config.feed_url(f"{doc.prev_archive}.atom"), "prev-archive", atom))
    if doc.next_archive:
        links.append((config.feed_url(f"{doc.next_archive}.atom"), "next-archive", atom))
    # the web page last: readers that take the last alternate as the site (newsboat) get it
    links.append((feed_home(config, feed.tag), "alternate", "text/html"))
    return FeedHead(
        feed.lang,
        feedset.feed_id(doc.path),
        feed.title if not doc.archive else f"{feed.title} — archive {doc.path.rsplit('/', 1)[-1]}",
        feedset.newest_update(doc),
        links,
        "archive" if doc.archive else ("complete" if doc.complete else None),
    )


def _head_by_feedgen(head: FeedHead, config: Config) -> bytes:
    fg = FeedGenerator()
    fg.register_extension("history", History, None, atom=True, rss=False)
    fg.history.marker = head.marker
    fg.id(head.id)
    fg.title(head.title)
    fg.updated(head.updated)
    fg.author(config.author())
    for href, rel, media in head.links:
        if media is None:
            fg.link(href=href, rel=rel)
        else:
            fg.link(href=href, rel=rel, type=media)
    if head.lang:
        fg.language(head.lang)
    fg.generator("digestfeed", uri=GENERATOR_URI)
    data: bytes = fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return data


class HeadRenderer:
    """Document heads written by hand; the first heads of each shape (marker, language)
    are also written by feedgen and compared, and one difference sends every later head
    through feedgen (as for entries, see :class:`EntryRenderer`)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.check = FeedgenCheck()  # shapes: the fh marker, a language or not

    def __call__(self, head: FeedHead) -> bytes:
        config = self.config
        if (
            not self.check.by_hand
            or not config.curator
            or not head.title
            or XML_ILLEGAL.search("\n".join((head.id, head.title, config.curator)))
        ):
            return _head_by_feedgen(head, config)  # feedgen's rules (and errors)
        data = atom_head(head, config)
        if self.check.wanted((head.marker, bool(head.lang))):
            reference = _head_by_feedgen(head, config)
            if not self.check.agrees(data, reference):
                return reference
        return data


def render_document(
    doc: Document,
    feedset: FeedSet,
    entry: EntryRenderer,
    formats: tuple[str, ...] = (),
    heads: HeadRenderer | None = None,
) -> bytes:
    """One Atom document: its head + the memoised entry bytes, newest first."""
    head = (heads or HeadRenderer(feedset.config))(_head(doc, feedset, formats))
    cut = head.rindex(b"</feed>")
    # one join, no intermediate copies: an uncapped feed can be tens of megabytes
    parts = [head[:cut]]
    pieces, lang = entry.pieces, doc.feed.lang
    for timed in doc.entries:
        parts.extend(pieces(timed, lang))
    parts.append(head[cut:])
    return b"".join(parts)


class AtomOutput:
    """The built-in Atom output: every document of the feed set as ``<path>.atom``."""

    name = "atom"

    def files(
        self, feedset: FeedSet, formats: tuple[str, ...] = ()
    ) -> Iterator[tuple[str, str, Callable[[], bytes]]]:
        """``(relative path, fingerprint, render)`` for each file, rendered lazily."""
        entry = EntryRenderer(feedset.config, Memo.for_documents(feedset.documents))
        heads = HeadRenderer(feedset.config)
        salt = fingerprint_salt("atom", RENDER_VERSION, feedset.config, formats)
        for doc in feedset.documents:
            yield (
                f"{doc.path}.atom",
                fingerprint(doc, salt),
                lambda doc=doc: render_document(doc, feedset, entry, formats, heads),  # type: ignore[misc]
            )
