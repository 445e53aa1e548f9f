"""The feed set: which feed holds which entry, and how each feed is split into documents.

Feeds: ``all`` (bilingual), ``ko``, ``en``, and per tag ``tags/<slug>``, ``tags/<slug>.ko``,
``tags/<slug>.en``. Each feed is laid out in the ledger's first-publication order
(:attr:`~digestfeed.types.Timed.seq`) and cut into RFC 5005 archive pages of
``config.archive_page_size`` entries, ``archive/<feed>/<n>`` (n = 1, 2, …), each written once,
when it is full, and never changed again except to edit or drop one of its own entries.
A page is pinned by the seq of its last entry (``boundaries``, kept in the ledger), so a
deleted entry leaves a hole in its page instead of shifting every later one, and an entry
that gains a tag joins the page of that tag's feed its seq falls in.

The subscription document holds the newest ``config.max_entries`` entries (by ``updated``:
an edited entry comes back) plus every entry not yet in a full page (a back-dated digest is a
new publication, so it lands here), newest ``updated`` first. It links the newest page
(``prev-archive``); each page links the one before it and the subscription document
(``current``). Pages carry no ``next-archive`` link: it would change a written page when the
next one fills (RFC 5005 makes it optional).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from .config import Config
from .types import Document, Feed, FeedSet, Lang, Timed

LANGS: tuple[Lang, ...] = (None, "ko", "en")
LANG_NAMES = {None: "한국어 + English", "ko": "한국어", "en": "English"}
#: A feed's page boundaries: the seq of the last entry of each full page, oldest first.
Boundaries = Mapping[str, Sequence[int]]


def _newest_first(entries: Sequence[Timed]) -> tuple[Timed, ...]:
    return tuple(sorted(entries, key=lambda t: (t.published, t.entry.id), reverse=True))


def _newest_updated_first(entries: Sequence[Timed]) -> list[Timed]:
    return sorted(entries, key=lambda t: (t.updated, t.published, t.entry.id), reverse=True)


def _seqs(entries: Sequence[Timed]) -> dict[str, int]:
    """Each entry's seq; entries without one (not from a ledger) are numbered after the
    highest seq in published order, so the layout rules hold for them too."""
    seqs = {t.entry.id: t.seq for t in entries if t.seq}
    top = max(seqs.values(), default=0)
    for t in sorted(entries, key=lambda t: (t.published, t.entry.id)):
        if not t.seq:
            top += 1
            seqs[t.entry.id] = top
    return seqs


def feed_title(config: Config, lang: Lang, label: str | None) -> str:
    what = f"{config.site_title} — {label}" if label else config.site_title
    return f"{what} ({LANG_NAMES[lang]})"


def plan(entries: Sequence[Timed], config: Config, boundaries: Boundaries | None = None) -> FeedSet:
    """Assign entries to feeds and split feeds into documents. Pure and deterministic.

    ``boundaries`` are the pages already written (the ledger's ``archive_pages``; ``None``:
    none yet); the result's :attr:`~digestfeed.types.FeedSet.archive_pages` adds the pages
    that filled in this build.
    """
    ordered = _newest_first(entries)
    seqs = _seqs(entries)
    # The whole set is sorted once per order a feed needs (first publication, newest
    # update); a tag feed's entries in either order are these lists filtered, which equals
    # sorting the feed itself because the sorts are stable and start from ``ordered``.
    by_seq = sorted(ordered, key=lambda t: (seqs[t.entry.id], t.entry.id))
    by_updated = _newest_updated_first(ordered)
    labels: dict[str, str] = {}
    by_tag: dict[str, list[Timed]] = {}
    seq_by_tag: dict[str, list[Timed]] = {}
    updated_by_tag: dict[str, list[Timed]] = {}
    # First publication first: a tag's label is its spelling in the first-published entry
    # that has it, so a back-dated digest never renames a tag.
    for timed in by_seq:
        entry = timed.entry
        for slug, label in zip(entry.tags, entry.tag_labels or entry.tags, strict=False):
            labels.setdefault(slug, label if label.startswith("#") else f"#{label}")
        for slug in entry.tags:
            seq_by_tag.setdefault(slug, []).append(timed)
    for timed in ordered:
        for slug in timed.entry.tags:
            by_tag.setdefault(slug, []).append(timed)
    for timed in by_updated:
        for slug in timed.entry.tags:
            updated_by_tag.setdefault(slug, []).append(timed)
    groups: list[tuple[list[Feed], _Orders]] = [
        (
            [
                Feed(lang or "all", lang, None, None, feed_title(config, lang, None), ordered)
                for lang in LANGS
            ],
            _Orders(by_seq, by_updated),
        )
    ]
    for slug in sorted(by_tag):
        tagged = tuple(by_tag[slug])
        feeds_of_tag = []
        for lang in LANGS:
            feeds_of_tag.append(
                Feed(
                    f"tags/{slug}" + (f".{lang}" if lang else ""),
                    lang,
                    slug,
                    labels[slug],
                    feed_title(config, lang, labels[slug]),
                    tagged,
                )
            )
        groups.append((feeds_of_tag, _Orders(seq_by_tag[slug], updated_by_tag[slug])))
    feeds: list[Feed] = []
    documents: list[Document] = []
    pages: dict[str, tuple[int, ...]] = {}
    old = boundaries or {}
    for group, orders in groups:
        feeds.extend(group)
        layouts: dict[tuple[int, ...], _Layout] = {}  # a feed's language variants share one
        for feed in group:
            written = tuple(old.get(feed.name, ()))
            layout = layouts.get(written)
            if layout is None:
                layout = layouts[written] = _layout(orders, config, seqs, written)
            documents.extend(layout.documents(feed))
            pages[feed.name] = layout.bounds
    # feeds no longer built keep their pages recorded (a tag may come back)
    for name, bounds in old.items():
        pages.setdefault(name, tuple(bounds))
    kept = {name: bounds for name, bounds in pages.items() if bounds}
    return FeedSet(config, ordered, tuple(feeds), tuple(_render_order(documents, seqs)), kept)


def _render_order(documents: list[Document], seqs: Mapping[str, int]) -> list[Document]:
    """Subscription documents (in feed order), then archive pages by the seq of their
    newest entry, newest first (feed order among equals).

    Outputs keep an entry's rendered bytes until their last use (see ``render.memo``, a
    bounded LRU); an archived entry's documents are the pages of every feed it is in, and
    ordering pages by their seq range renders those close together.
    """
    current = [doc for doc in documents if not doc.archive]
    archives = [doc for doc in documents if doc.archive]
    # a page holds its entries newest first: its first entry has its highest seq
    archives.sort(
        key=lambda doc: seqs[doc.entries[0].entry.id] if doc.entries else 0, reverse=True
    )  # stable: feed order among equals
    return current + archives


class _Orders(NamedTuple):
    """A feed's entries in the two orders its documents need."""

    by_seq: Sequence[Timed]  #: first publication first (seq, then id)
    by_updated: Sequence[Timed]  #: newest ``updated`` first


class _Layout(NamedTuple):
    """How a feed's entries fall into documents, shared by its language variants."""

    bounds: tuple[int, ...]  #: the boundaries given plus the pages that filled now
    current: tuple[Timed, ...]  #: the subscription document, newest ``updated`` first
    pages: tuple[tuple[Timed, ...], ...]  #: archive pages, oldest first, each newest first

    def documents(self, feed: Feed) -> list[Document]:
        """The subscription document and the archive pages of ``feed``."""
        if not self.bounds:
            return [Document(feed, feed.name, self.current, False, complete=True)]
        paths = [f"archive/{feed.name}/{n}" for n in range(1, len(self.bounds) + 1)]
        docs = [
            Document(
                feed,
                feed.name,
                self.current,
                archive=False,
                complete=False,
                prev_archive=paths[-1],
            )
        ]
        for i, page in enumerate(self.pages):
            docs.append(
                Document(
                    feed,
                    paths[i],
                    page,
                    archive=True,
                    complete=False,
                    prev_archive=paths[i - 1] if i else None,
                )
            )
        return docs


def _layout(
    orders: _Orders, config: Config, seqs: Mapping[str, int], boundaries: tuple[int, ...]
) -> _Layout:
    """Split a feed: pages already written keep their boundaries; the entries after the last
    one fill new pages of ``config.archive_page_size``; the rest is the open part."""
    size = config.archive_page_size
    by_seq = orders.by_seq
    bounds = list(boundaries)
    last = bounds[-1] if bounds else 0
    open_part = [t for t in by_seq if seqs[t.entry.id] > last]
    start = 0
    while len(open_part) - start >= size:
        start += size
        bounds.append(seqs[open_part[start - 1].entry.id])
    open_part = open_part[start:]
    if not bounds:
        return _Layout((), tuple(orders.by_updated), ())
    pages: list[list[Timed]] = [[] for _ in bounds]
    n = 0
    for timed in by_seq:
        seq = seqs[timed.entry.id]
        while n < len(bounds) and seq > bounds[n]:
            n += 1
        if n == len(bounds):
            break
        pages[n].append(timed)
    newest = list(orders.by_updated[: config.max_entries])
    shown = {t.entry.id for t in newest}
    current = _newest_updated_first(newest + [t for t in open_part if t.entry.id not in shown])
    return _Layout(
        tuple(bounds),
        tuple(current),
        tuple(tuple(reversed(page)) for page in pages),  # newest first, in first-publication order
    )
