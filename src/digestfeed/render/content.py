"""The HTML of one entry in one language variant, shared by every output format.

::

    <p class="authors">A, B, C</p>
    <div class="abstract" lang="en"><p>… <a href="https://…">https://…</a></p></div>
    <div class="comment" lang="ko"><p>…</p></div>    (bilingual and ko)
    <div class="comment" lang="en"><p>…</p></div>    (bilingual and en)

Text is escaped once; every URL becomes a link; line breaks become ``<br/>``.
"""

from __future__ import annotations

import functools
from html import escape

from ..model import iter_links
from ..types import Entry, Lang


def linkify(text: str) -> str:
    """Escape ``text`` as HTML, turning URLs into links and line breaks into ``<br/>``."""
    if "://" not in text:  # no URL (iter_links would find none): one escape
        return escape(text, quote=False).replace("\n", "<br/>\n")
    out, pos = [], 0
    for start, end, url in iter_links(text):
        out.append(escape(text[pos:start], quote=False))
        # A URL holds no '<', '>', '"' or "'" (they end it): escaping it, for the attribute
        # and the text alike, is replacing '&'.
        href = url.replace("&", "&amp;")
        out.append(f'<a href="{href}">{href}</a>')
        pos = end
    out.append(escape(text[pos:], quote=False))
    return "".join(out).replace("\n", "<br/>\n")


@functools.lru_cache(maxsize=2048)
def entry_parts(entry: Entry) -> tuple[str, str, str, str, str]:
    """The HTML blocks of an entry (authors, abstract, ko, en, paper link), each "" when
    absent. Made once per entry and shared by its language variants and every output: the
    outputs render an entry's variants close together, so a small cache holds them."""
    authors = abstract = ko = en = paper = ""
    if entry.authors:
        authors = f'<p class="authors">{escape(", ".join(entry.authors), quote=False)}</p>'
    if entry.abstract:
        abstract = f'<div class="abstract" lang="en"><p>{linkify(entry.abstract)}</p></div>'
    if entry.comment_ko:
        ko = f'<div class="comment" lang="ko"><p>{linkify(entry.comment_ko)}</p></div>'
    if entry.comment_en:
        en = f'<div class="comment" lang="en"><p>{linkify(entry.comment_en)}</p></div>'
    if entry.url:
        link = escape(entry.url, quote=True)
        paper = f'<p class="paper"><a href="{link}">{escape(entry.url, quote=False)}</a></p>'
    return authors, abstract, ko, en, paper


def variant_html(parts: tuple[str, str, str, str, str], lang: Lang) -> str:
    """Join :func:`entry_parts` for variant ``lang`` (``None``: both comments)."""
    authors, abstract, ko, en, paper = parts
    chosen = (authors, abstract, ko if lang != "en" else "", en if lang != "ko" else "", paper)
    return "\n".join(part for part in chosen if part)


def entry_html(entry: Entry, lang: Lang) -> str:
    """The content of ``entry`` in variant ``lang`` (``None``: both comments)."""
    return variant_html(entry_parts(entry), lang)
