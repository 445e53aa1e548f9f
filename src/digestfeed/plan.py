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
    labels: dict[str, str] = {}
    by_tag: dict[str, list[Timed]] = {}
    # First publication first: a tag's label is its spelling in the first-published entry
    # that has it, so a back-dated digest never renames a tag.
    for timed in sorted(entries, key=lambda t: (seqs[t.entry.id], t.entry.id)):
        for slug, label in zip(
            timed.entry.tags, timed.entry.tag_labels or timed.entry.tags, strict=False
        ):
            labels.setdefault(slug, label if label.startswith("#") else f"#{label}")
    for timed in ordered:
        for slug in timed.entry.tags:
            by_tag.setdefault(slug, []).append(timed)
    feeds: list[Feed] = []
    for lang in LANGS:
        feeds.append(Feed(lang or "all", lang, None, None, feed_title(config, lang, None), ordered))
    for slug in sorted(by_tag):
        for lang in LANGS:
            title = feed_title(config, lang, labels[slug])
            feeds.append(
                Feed(
                    f"tags/{slug}" + (f".{lang}" if lang else ""),
                    lang,
                    slug,
                    labels[slug],
                    title,
                    tuple(by_tag[slug]),
                )
            )
    documents: list[Document] = []
    pages: dict[str, tuple[int, ...]] = {}
    old = boundaries or {}
    for feed in feeds:
        docs, pages[feed.name] = split(feed, config, seqs, old.get(feed.name, ()))
        documents.extend(docs)
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
    archives.sort(
        key=lambda doc: max((seqs[t.entry.id] for t in doc.entries), default=0), reverse=True
    )  # stable: feed order among equals
    return current + archives


def split(
    feed: Feed,
    config: Config,
    seqs: Mapping[str, int] | None = None,
    boundaries: Sequence[int] = (),
) -> tuple[list[Document], tuple[int, ...]]:
    """The subscription document and the archive pages of ``feed``, and its boundaries
    (``boundaries`` plus the pages that filled now)."""
    seqs = seqs if seqs is not None else _seqs(feed.entries)
    size = config.archive_page_size
    by_seq = sorted(feed.entries, key=lambda t: (seqs[t.entry.id], t.entry.id))
    bounds = list(boundaries)
    last = bounds[-1] if bounds else 0
    open_part = [t for t in by_seq if seqs[t.entry.id] > last]
    while len(open_part) >= size:
        bounds.append(seqs[open_part[size - 1].entry.id])
        open_part = open_part[size:]
    if not bounds:
        docs = [
            Document(
                feed, feed.name, tuple(_newest_updated_first(feed.entries)), False, complete=True
            )
        ]
        return docs, ()
    paths = [f"archive/{feed.name}/{n}" for n in range(1, len(bounds) + 1)]
    pages: list[list[Timed]] = [[] for _ in bounds]
    n = 0
    for timed in by_seq:
        seq = seqs[timed.entry.id]
        while n < len(bounds) and seq > bounds[n]:
            n += 1
        if n < len(bounds):
            pages[n].append(timed)
    newest = _newest_updated_first(feed.entries)[: config.max_entries]
    shown = {t.entry.id for t in newest}
    current = _newest_updated_first(newest + [t for t in open_part if t.entry.id not in shown])
    docs = [
        Document(
            feed, feed.name, tuple(current), archive=False, complete=False, prev_archive=paths[-1]
        )
    ]
    for i, page in enumerate(pages):
        docs.append(
            Document(
                feed,
                paths[i],
                tuple(reversed(page)),  # newest first, in first-publication order
                archive=True,
                complete=False,
                prev_archive=paths[i - 1] if i else None,
            )
        )
    return docs, tuple(bounds)
