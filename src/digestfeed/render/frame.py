"""The frame every HTML page of the site shares (:mod:`digestfeed.render.html`'s directory
and tag pages, :mod:`digestfeed.render.pages`' digest pages): escaping, counts, an entry's
tag links, the inline CSS and the document around a page's body. One look, defined once.
"""

from __future__ import annotations

from html import escape

from ..types import Entry

#: Bumped when the bytes this module writes change for the same input (every page's
#: fingerprint includes it).
FRAME_VERSION = 1

CSS = """
:root { color-scheme: light dark; }
body { font-family: system-ui, "Noto Sans CJK KR", "Noto Sans KR", "Apple SD Gothic Neo",
       "Malgun Gothic", sans-serif; line-height: 1.6; max-width: 60rem; margin: 0 auto;
       padding: 1rem 1.25rem 3rem; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #8884; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.formats a { white-space: nowrap; }
.sub { color: #888; font-size: .9rem; }
article { border-top: 1px solid #8884; padding-top: .5rem; margin-top: 1.5rem; }
article h2 { font-size: 1.1rem; margin: .25rem 0; }
.authors { font-size: .85rem; color: #888; }
.abstract { font-size: .9rem; }
.comment { border-left: 3px solid #8888; padding-left: .75rem; }
.tags a { margin-right: .4rem; }
/* Phones: Hangul wraps between words, long URLs anywhere, dates and counts never. */
body { word-break: keep-all; overflow-wrap: break-word; }
time, td.num, .formats a { white-space: nowrap; }
.abstract, .comment, .paper, .authors { overflow-wrap: anywhere; }
@media (max-width: 40rem) {
  body { padding: .75rem .6rem 2rem; }
  h1 { font-size: 1.3rem; }
  table { font-size: .8rem; }
  th, td { padding: .25rem .2rem; }
  .formats { display: inline-flex; flex-direction: column; }
  .formats .sep { display: none; }
}
"""


def esc(text: str) -> str:
    """``text`` escaped for HTML text and attribute values."""
    return escape(text, quote=True)


def count_label(count: int, noun: str = "entry", plural: str = "entries") -> str:
    """``1 entry``, ``3 entries``."""
    return f"{count} {noun if count == 1 else plural}"


def tag_links(entry: Entry, base: str) -> str:
    """The entry's tags as links to their pages (``base`` leads to ``tags/``), each labelled
    as first written (``#Object_Detection``)."""
    labels = entry.tag_labels or tuple(f"#{t}" for t in entry.tags)
    return " ".join(
        f'<a href="{esc(base + slug)}.html">{esc(label)}</a>'
        for slug, label in zip(entry.tags, labels, strict=False)
    )


def page(title: str, head: list[str], body: list[str]) -> bytes:
    """A whole page: doctype, ``lang="ko"``, UTF-8, viewport, ``title``, ``head`` extras,
    the CSS, then ``body``."""
    lines = [
        "<!DOCTYPE html>",
        '<html lang="ko">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        *head,
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        *body,
        "</body>",
        "</html>",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")
