"""The HTML site: ``index.html`` (every feed, every format), ``tags/<slug>.html`` and the
digest pages ``days/<date>.html`` (:mod:`digestfeed.render.pages`).

Static pages for people who arrive with a browser: no JavaScript, no external assets (the
CSS is inline and names only locally installed fonts), UTF-8, ``lang`` on every part, and
only relative links, so the directory works from ``file://`` and on any host or sub-path.
Every text is escaped. Feed links point only at formats that are installed (``formats``),
and each page carries ``<link rel="alternate">`` autodiscovery for its feeds.

``tags/<slug>.html`` is the ``scheme`` of Atom categories and the ``htmlUrl`` of OPML
outlines: it shows the tag's newest entries (at most :data:`TAG_PAGE_ENTRIES`) in both
languages, its feeds in every language and format, and a link to its Atom archive.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence

from ..config import Config
from ..plan import LANG_NAMES, LANGS
from ..types import Document, Feed, FeedSet, Lang, rfc3339
from ..urls import day_page
from .content import entry_html
from .frame import FRAME_VERSION, tag_links
from .frame import count_label as _n
from .frame import esc as _e
from .frame import page as _page
from .pages import day_files, days

#: Feed formats the directory links to, in order: extension → (label, media type).
FEED_FORMATS = {
    "atom": ("Atom", "application/atom+xml"),
    "rss": ("RSS", "application/rss+xml"),
    "json": ("JSON Feed", "application/feed+json"),
}
#: Newest entries shown on a tag page (the feeds and the archive hold the rest).
TAG_PAGE_ENTRIES = 20
#: Digest pages linked from the directory (each entry links its own).
INDEX_DAYS = 14
#: Bumped when the bytes this module writes change for the same input.
RENDER_VERSION = 4

LANG_ATTR = {None: "ko", "ko": "ko", "en": "en"}


def site_href(url: str, config: Config, prefix: str) -> str:
    """``url`` relative to a page ``prefix`` below ``feeds/`` when it is inside the site (so
    the pages work from disk too), else as it is."""
    base = config.feed_base_url
    return prefix + url[len(base) :] if url.startswith(base) else url


def _formats(formats: Sequence[str]) -> list[str]:
    return [ext for ext in FEED_FORMATS if ext in formats]


def _autodiscovery(feeds: Sequence[Feed], formats: Sequence[str], prefix: str) -> list[str]:
    """``<link rel="alternate">`` of each feed in each format; ``prefix`` leads back to ``feeds/``."""
    out = []
    for feed in feeds:
        for ext in _formats(formats):
            label, media = FEED_FORMATS[ext]
            href = _e(f"{prefix}{feed.name}.{ext}")
            out.append(
                f'<link rel="alternate" type="{media}" title="{_e(f"{feed.title} — {label}")}" href="{href}">'
            )
    return out


def _feed_links(name: str, formats: Sequence[str], base: str) -> str:
    """``Atom · RSS · JSON Feed`` links of the feed ``name`` (a path relative to ``feeds/``)."""
    links = []
    for ext in _formats(formats):
        label, media = FEED_FORMATS[ext]
        links.append(f'<a href="{_e(base + name)}.{ext}" type="{media}">{label}</a>')
    return '<span class="formats">' + '<span class="sep"> · </span>'.join(links) + "</span>"


def _date(feed: Feed) -> str:
    if not feed.entries:
        return "—"
    newest = feed.entries[0]
    return f'<time datetime="{rfc3339(newest.published)}">{newest.entry.date}</time>'


SUBSCRIBE_KO = (
    "피드 리더(Feedly, Inoreader, NetNewsWire, Thunderbird 등)에 아래 피드 링크의 주소를 복사해 "
    "넣으면 구독됩니다. 태그 하나를 한 언어로만 받으려면 그 태그 줄에서 원하는 언어 칸의 링크를 "
    "고르세요. 모든 피드를 한꺼번에 받으려면 OPML 파일을 리더에서 가져오기 하세요."
)
SUBSCRIBE_EN = (
    "Copy the address of any feed link below into a feed reader (Feedly, Inoreader, NetNewsWire, "
    "Thunderbird, …). To follow one tag in one language, take the link in that tag's row and "
    "language column; the tag's page lists its recent entries. Atom feeds link to archive "
    "pages with the complete history (RFC 5005); RSS 2.0 and JSON Feed carry the same "
    "newest entries. To take every feed at once, import the OPML file."
)


def render_index(feedset: FeedSet, formats: Sequence[str]) -> bytes:
    config = feedset.config
    main = [f for f in feedset.feeds if f.tag is None]
    by_tag: dict[str, dict[Lang, Feed]] = {}
    for feed in feedset.feeds:
        if feed.tag is not None:
            by_tag.setdefault(feed.tag, {})[feed.lang] = feed
    title = f"{config.site_title} — feeds"
    body = [
        "<header>",
        f"<h1>{_e(config.site_title)}</h1>",
        f'<p class="sub">피드 목록 · <span lang="en">Feed directory</span> · '
        f"{_n(len(feedset.entries))}, {_n(len(by_tag), 'tag', 'tags')}</p>",
        "</header>",
        '<section id="subscribe">',
        '<h2>구독하는 법 · <span lang="en">How to subscribe</span></h2>',
        f"<p>{_e(SUBSCRIBE_KO)}</p>",
        f'<p lang="en">{_e(SUBSCRIBE_EN)}</p>',
    ]
    if "opml" in formats:
        body.append(
            '<p>OPML: <a href="main.opml" type="text/x-opml">main.opml</a> '
            '<span lang="en" class="sub">(the three main feeds)</span> · '
            '<a href="index.opml" type="text/x-opml">index.opml</a> '
            '<span lang="en" class="sub">(every feed below, by language)</span></p>'
        )
    body += [
        "</section>",
        '<section id="main">',
        '<h2>전체 피드 · <span lang="en">All entries</span></h2>',
        "<table>",
        '<thead><tr><th>언어 · <span lang="en">Language</span></th><th>Entries</th>'
        "<th>Latest</th><th>Feeds</th></tr></thead>",
        "<tbody>",
    ]
    for feed in main:
        body.append(
            f'<tr lang="{LANG_ATTR[feed.lang]}"><td>{_e(LANG_NAMES[feed.lang])}</td>'
            f'<td class="num">{len(feed.entries)}</td><td>{_date(feed)}</td>'
            f"<td>{_feed_links(feed.name, formats, '')}</td></tr>"
        )
    body += ["</tbody>", "</table>", "</section>", *_recent_days(feedset)]
    body += [
        '<section id="tags">',
        '<h2>태그별 피드 · <span lang="en">Feeds by tag</span></h2>',
        "<table>",
        "<thead><tr><th>Tag</th><th>Entries</th><th>Latest</th>"
        + "".join(f'<th lang="{LANG_ATTR[lang]}">{_e(LANG_NAMES[lang])}</th>' for lang in LANGS)
        + "</tr></thead>",
        "<tbody>",
    ]
    for slug, variants in by_tag.items():
        any_feed = next(iter(variants.values()))
        cells = []
        for lang in LANGS:
            variant = variants.get(lang)
            cells.append(
                f"<td>{_feed_links(variant.name, formats, '')}</td>" if variant else "<td></td>"
            )
        body.append(
            f'<tr id="tag-{_e(slug)}"><td><a href="tags/{_e(slug)}.html">{_e(any_feed.label or slug)}</a></td>'
            f'<td class="num">{len(any_feed.entries)}</td><td>{_date(any_feed)}</td>'
            + "".join(cells)
            + "</tr>"
        )
    body += ["</tbody>", "</table>", "</section>"]
    head = _autodiscovery(main, formats, "")
    return _page(title, head, body)


def _recent_days(feedset: FeedSet) -> list[str]:
    """The newest :data:`INDEX_DAYS` digest pages, newest first."""
    by_day = days(feedset)
    if not by_day:
        return []
    items = [
        f'<li><a href="{_e(day_page(date))}"><time datetime="{date}">{date}</time></a> · '
        f"{_n(len(by_day[date]))}</li>"
        for date in sorted(by_day, reverse=True)[:INDEX_DAYS]
    ]
    return [
        '<section id="days">',
        '<h2>최근 다이제스트 · <span lang="en">Recent digests</span></h2>',
        "<ul>",
        *items,
        "</ul>",
        "</section>",
    ]


def _tag_pages(feedset: FeedSet) -> dict[str, tuple[Document, list[Feed]]]:
    """Per slug: the bilingual tag feed's subscription document and the tag's feeds (all languages)."""
    variants: dict[str, list[Feed]] = {}
    for feed in feedset.feeds:
        if feed.tag is not None:
            variants.setdefault(feed.tag, []).append(feed)
    return {
        doc.feed.tag: (doc, variants[doc.feed.tag])
        for doc in feedset.documents
        if doc.feed.tag is not None and doc.feed.lang is None and not doc.archive
    }


def render_tag_page(
    doc: Document, variants: Sequence[Feed], feedset: FeedSet, formats: Sequence[str]
) -> bytes:
    """``tags/<slug>.html``: ``doc`` is the bilingual tag feed's subscription document."""
    config, feed = feedset.config, doc.feed
    assert feed.tag is not None
    label = feed.label or f"#{feed.tag}"
    shown = feed.entries[:TAG_PAGE_ENTRIES]
    body = [
        '<nav><a href="../index.html">← 모든 피드 · <span lang="en">All feeds</span></a></nav>',
        "<header>",
        f"<h1>{_e(label)}</h1>",
        f'<p class="sub">{_e(config.site_title)} · {_n(len(feed.entries))} · latest {_date(feed)}</p>',
        "</header>",
        '<section id="feeds">',
        '<h2>이 태그 구독 · <span lang="en">Subscribe to this tag</span></h2>',
        "<table><tbody>",
    ]
    for variant in variants:
        body.append(
            f'<tr lang="{LANG_ATTR[variant.lang]}"><td>{_e(LANG_NAMES[variant.lang])}</td>'
            f"<td>{_feed_links(variant.name, formats, '../')}</td></tr>"
        )
    body.append("</tbody></table>")
    if doc.prev_archive and "atom" in formats:
        body.append(
            f'<p>이전 글 · <span lang="en">Older entries</span>: '
            f'<a href="../{_e(doc.prev_archive)}.atom" type="application/atom+xml">Atom archive</a></p>'
        )
    body.append("</section>")
    body.append('<section id="entries">')
    if len(shown) < len(feed.entries):
        body.append(
            f'<h2>최근 글 · <span lang="en">Recent entries</span> ({len(shown)} / {len(feed.entries)})</h2>'
        )
    else:
        body.append(f'<h2>글 · <span lang="en">Entries</span> ({len(shown)})</h2>')
    for timed in shown:
        entry = timed.entry
        tags = tag_links(entry, "")
        body += [
            f'<article id="{_e(entry.id)}">',
            f'<h2 lang="en"><a href="{_e(site_href(config.entry_url(entry), config, "../"))}">{_e(entry.title)}</a></h2>',
            f'<p class="sub"><time datetime="{rfc3339(timed.published)}">{entry.date}</time>'
            f' · <span class="tags">{tags}</span></p>',
            entry_html(entry, None),
            "</article>",
        ]
    body.append("</section>")
    head = _autodiscovery(variants, formats, "../")
    return _page(f"{label} — {config.site_title}", head, body)


def tag_fingerprint(
    doc: Document, variants: Sequence[Feed], feedset: FeedSet, formats: Sequence[str]
) -> str:
    """What :func:`render_tag_page` depends on, hashed: equal fingerprints, equal bytes."""
    feed = doc.feed
    h = hashlib.sha256()
    h.update(
        repr(
            (
                "html",
                RENDER_VERSION,
                FRAME_VERSION,
                feedset.config,
                tuple(formats),
                feed.name,
                feed.label,
                tuple((f.name, f.title) for f in variants),
                len(feed.entries),
                doc.prev_archive,
            )
        ).encode()
    )
    h.update(b"".join([t.key for t in feed.entries[:TAG_PAGE_ENTRIES]]))  # one call, same hash
    return h.hexdigest()


class HtmlOutput:
    """The HTML site: ``index.html``, one ``tags/<slug>.html`` per tag and one
    ``days/<date>.html`` per digest (:mod:`digestfeed.render.pages`)."""

    name = "html"

    def files(
        self, feedset: FeedSet, formats: tuple[str, ...] = ()
    ) -> Iterator[tuple[str, str, Callable[[], bytes]]]:
        """``(relative path, fingerprint, render)`` for each file; tag pages render lazily."""
        index = render_index(feedset, formats)  # one small page: fingerprinted by its bytes
        yield "index.html", hashlib.sha256(index).hexdigest(), lambda: index
        for slug, (doc, variants) in _tag_pages(feedset).items():
            yield (
                f"tags/{slug}.html",
                tag_fingerprint(doc, variants, feedset, formats),
                lambda doc=doc, variants=variants: render_tag_page(doc, variants, feedset, formats),  # type: ignore[misc]
            )
        # the digest pages live here, not in an output of their own: every entry link of
        # every format points at them, so they go wherever the directory goes, in one look
        yield from day_files(feedset)
