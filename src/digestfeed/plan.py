"""The feed set: which feed holds which entry, and how each feed is split into documents.

Feeds: ``all`` (bilingual), ``ko``, ``en``, and per tag ``tags/<slug>``, ``tags/<slug>.ko``,
``tags/<slug>.en``. Each feed is one subscription document with its newest
``config.max_entries`` entries and, when it holds more, RFC 5005 archive documents, one per
calendar month (``archive/<feed>/<YYYY-MM>``) holding every entry of that month, for every
month up to the month of the newest entry that fell out of the subscription document. A new
digest therefore changes the subscription document and at most the newest archive (plus the
``next-archive`` link of the previously newest one when a month is added); older archives
are stable.
"""

from __future__ import annotations

from collections.abc import Sequence

from .config import Config
from .types import Document, Feed, FeedSet, Lang, Timed

LANGS: tuple[Lang, ...] = (None, "ko", "en")
LANG_NAMES = {None: "한국어 + English", "ko": "한국어", "en": "English"}


def _newest_first(entries: Sequence[Timed]) -> tuple[Timed, ...]:
    return tuple(sorted(entries, key=lambda t: (t.published, t.entry.id), reverse=True))


def feed_title(config: Config, lang: Lang, label: str | None) -> str:
    what = f"{config.site_title} — {label}" if label else config.site_title
    return f"{what} ({LANG_NAMES[lang]})"


def plan(entries: Sequence[Timed], config: Config) -> FeedSet:
    """Assign entries to feeds and split feeds into documents. Pure and deterministic."""
    ordered = _newest_first(entries)
    labels: dict[str, str] = {}
    by_tag: dict[str, list[Timed]] = {}
    # Oldest first so that a tag's label is the spelling it was first written with.
    for timed in reversed(ordered):
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
    documents = _render_order([doc for feed in feeds for doc in split(feed, config.max_entries)])
    return FeedSet(config, ordered, tuple(feeds), tuple(documents))


def _render_order(documents: list[Document]) -> list[Document]:
    """Subscription documents (in feed order), then archives month by month, newest first.

    Outputs keep an entry's rendered bytes until its last document (see ``render.memo``);
    an archived entry's documents are the archives of its month in every feed it is in,
    so rendering month by month keeps only about a month of entries in memory at a time.
    """
    current = [doc for doc in documents if not doc.archive]
    archives = [doc for doc in documents if doc.archive]
    archives.sort(
        key=lambda doc: doc.path.rsplit("/", 1)[1], reverse=True
    )  # stable: feed order within a month
    return current + archives


def _month(timed: Timed) -> str:
    return timed.published.strftime("%Y-%m")


def split(feed: Feed, limit: int) -> list[Document]:
    """The subscription document and the monthly archive documents of ``feed``."""
    entries = feed.entries
    if len(entries) <= limit:
        return [Document(feed, feed.name, entries, archive=False, complete=True)]
    # Months of ``published``, the key entries are ordered by: everything older than the
    # newest ``limit`` entries is then in an archive (a re-dated entry keeps its published).
    newest_archived_month = _month(entries[limit])
    months: dict[str, list[Timed]] = {}
    for timed in entries:
        month = _month(timed)
        if month <= newest_archived_month:
            months.setdefault(month, []).append(timed)
    order = sorted(months)  # oldest first
    paths = [f"archive/{feed.name}/{month}" for month in order]
    docs = [
        Document(
            feed, feed.name, entries[:limit], archive=False, complete=False, prev_archive=paths[-1]
        )
    ]
    for i, month in enumerate(order):
        docs.append(
            Document(
                feed,
                paths[i],
                tuple(months[month]),
                archive=True,
                complete=False,
                prev_archive=paths[i - 1] if i else None,
                next_archive=paths[i + 1] if i + 1 < len(paths) else None,
            )
        )
    return docs
