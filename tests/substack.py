"""Feeds in the shape Substack serves a newsletter (RSS 2.0, one <item> per post, the post's HTML in
content:encoded), made from digest texts: the fixtures of the import tests."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

_URL = re.compile(r"https?://[^\s()<>,]+")


def _para(line: str) -> str:
    """One digest line as Substack writes it: escaped text, bare URLs made links."""
    out, pos = [], 0
    for m in _URL.finditer(line):
        out.append(html.escape(line[pos : m.start()]))
        url = html.escape(m.group(0))
        out.append(f'<a href="{url}" rel="">{url}</a>')
        pos = m.end()
    out.append(html.escape(line[pos:]))
    return "".join(out)


def _hangul(text: str) -> bool:
    return re.search("[\uac00-\ud7a3]", text) is not None


def _comment_pair(line: str, nxt: str, after: str) -> bool:
    """A Korean comment line followed by its English line (not by a title or a tag line)."""
    return (
        _hangul(line)
        and bool(nxt)
        and not _hangul(nxt)
        and not nxt.startswith("#")
        and not after.startswith("(")
    )


def post_html(text: str, *, date_line: bool = True, paper_links: Sequence[str] = ()) -> str:
    """A digest's text as a post body: one <p> per line, the Korean and English comment lines
    of an entry joined by <br> in one paragraph, each title linked to its paper, and a
    subscribe widget at the end."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    if not date_line:
        lines = lines[1:]
    blocks: list[str] = []
    titles = iter(paper_links)
    k = 0
    while k < len(lines):
        line = lines[k]
        nxt = lines[k + 1] if k + 1 < len(lines) else ""
        if nxt.startswith("(") and paper_links:
            blocks.append(f'<h3><a href="{next(titles)}">{html.escape(line)}</a></h3>')
        elif k > 0 and _comment_pair(line, nxt, lines[k + 2] if k + 2 < len(lines) else ""):
            blocks.append(f"<p>{_para(line)}<br>{_para(nxt)}</p>")
            k += 1
        else:
            blocks.append(f"<p>{_para(line)}</p>")
        k += 1
    blocks.append(
        '<p class="button-wrapper" data-attrs="{}"><a class="button primary" '
        'href="https://arxivtoday.substack.com/subscribe"><span>Subscribe now</span></a></p>'
    )
    return "\n".join(blocks)


def item(title: str, body: str, pub_date: str, slug: str) -> str:
    link = f"https://arxivtoday.substack.com/p/{slug}"
    return (
        f"<item><title><![CDATA[{title}]]></title>"
        f"<description><![CDATA[{title}]]></description>"
        f'<link>{link}</link><guid isPermaLink="false">{link}</guid>'
        "<dc:creator><![CDATA[curator]]></dc:creator>"
        f"<pubDate>{pub_date}</pubDate>"
        f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
    )


def rss(items: Sequence[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:atom="http://www.w3.org/2005/Atom" version="2.0"><channel>'
        "<title><![CDATA[arXiv today]]></title><link>https://arxivtoday.substack.com</link>"
        "<description><![CDATA[Papers of the day]]></description><generator>Substack</generator>"
        '<atom:link href="https://arxivtoday.substack.com/feed" rel="self" '
        'type="application/rss+xml"/>' + "".join(items) + "</channel></rss>"
    ).encode()


def seed_item(seed_path: Path, **options: object) -> str:
    text = seed_path.read_text(encoding="utf-8")
    body = post_html(text, **options)  # type: ignore[arg-type]
    return item("2025년 5월 8일", body, "Thu, 08 May 2025 14:02:11 GMT", "2025-5-8")


PROSE = item(
    "A note to readers",
    "<p>No digest this week: I am travelling.</p><p>See you soon!</p>",
    "Sat, 10 May 2025 01:00:00 GMT",
    "a-note-to-readers",
)
