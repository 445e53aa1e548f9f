"""The digest pages: ``days/<YYYY-MM-DD>.html``, one per digest, behind every entry's main link.

A page shows every entry of its digest, newest-first order of the feeds (the digest's own
order), each in an ``<article>`` whose ``id`` is the entry's anchor
(:func:`digestfeed.urls.entry_anchor`: the title slug, or ``arxiv-<id>``), with its paper
link, authors, abstract and both comments, each part marked with ``lang``. The look, the
rules (static, no JavaScript, relative links, every text escaped) and the CSS are the HTML
directory's (:mod:`digestfeed.render.html`, which yields these pages with its own), shared
through :mod:`digestfeed.render.frame`.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Callable, Iterator, Sequence

from ..types import FeedSet, Timed, rfc3339
from ..urls import day_page, entry_anchor
from .content import entry_html
from .frame import FRAME_VERSION, count_label, esc, page, tag_links

#: Bumped when the bytes this module writes change for the same input.
RENDER_VERSION = 1
ARXIV_SEARCH = "https://arxiv.org/search/?searchtype=title&query="


def paper_link(timed: Timed) -> tuple[str, str]:
    """``(href, label)`` of the paper: its own URL when the source knows it, else an arXiv
    title search (a digest names its paper by title only)."""
    entry = timed.entry
    if entry.url:
        return entry.url, "paper"
    return ARXIV_SEARCH + urllib.parse.quote_plus(entry.title), "arXiv search"


def days(feedset: FeedSet) -> dict[str, list[Timed]]:
    """Entries per digest date, in the feeds' order (a digest's first entry first)."""
    out: dict[str, list[Timed]] = {}
    for timed in feedset.entries:
        out.setdefault(timed.entry.date, []).append(timed)
    return out


def render_day(date: str, entries: Sequence[Timed], feedset: FeedSet) -> bytes:
    config = feedset.config
    body = [
        '<nav><a href="../index.html">← 모든 피드 · <span lang="en">All feeds</span></a></nav>',
        "<header>",
        f'<h1><time datetime="{date}">{date}</time></h1>',
        f'<p class="sub">{esc(config.site_title)} · {count_label(len(entries))}</p>',
        "</header>",
    ]
    for timed in entries:
        entry = timed.entry
        anchor = entry_anchor(entry.id)
        href, label = paper_link(timed)
        tags = tag_links(entry, "../tags/")
        body += [
            f'<article id="{esc(anchor)}">',
            f'<h2 lang="en"><a href="{esc(href)}">{esc(entry.title)}</a></h2>',
            f'<p class="sub"><a href="#{esc(anchor)}">'
            f'<time datetime="{rfc3339(timed.published)}">{date}</time></a>'
            f' · <a lang="en" href="{esc(href)}">{label}</a>'
            + (f' · <span class="tags">{tags}</span>' if tags else "")
            + "</p>",
            entry_html(entry, None),
            "</article>",
        ]
    return page(f"{date} — {config.site_title}", [], body)


def day_fingerprint(date: str, entries: Sequence[Timed], salt: bytes) -> str:
    """What :func:`render_day` depends on, hashed: equal fingerprints, equal bytes."""
    h = hashlib.sha256(salt)
    h.update(date.encode())
    for timed in entries:
        h.update(timed.key)
    return h.hexdigest()


def day_files(feedset: FeedSet) -> Iterator[tuple[str, str, Callable[[], bytes]]]:
    """``(days/<date>.html, fingerprint, render)`` for every digest date."""
    salt = repr(("days", RENDER_VERSION, FRAME_VERSION, feedset.config)).encode()
    for date, entries in sorted(days(feedset).items()):
        yield (
            day_page(date),
            day_fingerprint(date, entries, salt),
            lambda date=date, entries=entries: render_day(date, entries, feedset),  # type: ignore[misc]
        )
