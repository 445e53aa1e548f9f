"""The HTML of one entry in one language variant, shared by every output format.

::

    <p class="authors">A, B, C</p>
    <div class="abstract" lang="en"><p>… <a href="https://…">https://…</a></p></div>
    <div class="comment" lang="ko"><p>…</p></div>    (bilingual and ko)
    <div class="comment" lang="en"><p>…</p></div>    (bilingual and en)

Text is escaped once; every URL becomes a link; line breaks become ``<br/>``.
"""

from __future__ import annotations

from html import escape

from ..model import Entry, iter_links
from ..plan import Lang


def linkify(text: str) -> str:
    """Escape ``text`` as HTML, turning URLs into links and line breaks into ``<br/>``."""
    out, pos = [], 0
    for start, end, url in iter_links(text):
        out.append(escape(text[pos:start], quote=False))
        href = escape(url, quote=True)
        out.append(f'<a href="{href}">{escape(url, quote=False)}</a>')
        pos = end
    out.append(escape(text[pos:], quote=False))
    return "".join(out).replace("\n", "<br/>\n")


def entry_html(entry: Entry, lang: Lang) -> str:
    parts = []
    if entry.authors:
        parts.append(f'<p class="authors">{escape(", ".join(entry.authors), quote=False)}</p>')
    if entry.abstract:
        parts.append(f'<div class="abstract" lang="en"><p>{linkify(entry.abstract)}</p></div>')
    if lang in (None, "ko") and entry.comment_ko:
        parts.append(f'<div class="comment" lang="ko"><p>{linkify(entry.comment_ko)}</p></div>')
    if lang in (None, "en") and entry.comment_en:
        parts.append(f'<div class="comment" lang="en"><p>{linkify(entry.comment_en)}</p></div>')
    if entry.url:
        link = escape(entry.url, quote=True)
        parts.append(f'<p class="paper"><a href="{link}">{escape(entry.url, quote=False)}</a></p>')
    return "\n".join(parts)
