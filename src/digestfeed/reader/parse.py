"""Feed bytes → :class:`ParsedFeed` (its sightings), or OPML bytes → outline URLs.

Untrusted XML is decoded, checked and made well-formed by :mod:`.xmlsafe` (a DTD that
declares entities is refused before any parser sees it; nothing the document names is
fetched); feedparser then reads those UTF-8 bytes from a file object, so it can neither
fetch a URL nor open a file named by the body. JSON Feed is read by :mod:`.jsonfeed`.

Links are kept as the feed gave them: relative ones resolve against the document's URL
for HTTP sources, and for a file against the feed's own absolute ``rel=self`` (else its
``<link>``) after ``xml:base``; with neither they stay relative, never ``file:`` URLs.
Tags keep their written form (``cs.LG``, ``C++``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import hashlib
import io
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable
from typing import Any

import feedparser
import lxml.etree as etree
import lxml.html

from . import identity
from .text import CONTROL, is_web
from .xmlsafe import FeedParseError, prepare


@dataclasses.dataclass(frozen=True, slots=True)
class Sighting:
    """One entry as seen in one feed."""

    feed: str
    keys: tuple[tuple[str, str], ...]  #: ``(key, rule)``, strongest first
    entry_id: str | None
    title: str
    date: str | None  #: ISO 8601, offset kept
    timestamp: float | None  #: POSIX seconds of ``date`` (for sorting)
    tags: tuple[str, ...]
    comments: dict[str, str]  #: ``{"ko": …, "en": …}``, only the languages present
    links: tuple[str, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class ParsedFeed:
    location: str
    title: str
    by_digestfeed: bool
    sightings: tuple[Sighting, ...]
    #: RFC 5005 ``prev-archive`` link (absolute), the hook for ``--backfill``.
    prev_archive: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Opml:
    location: str
    #: ``(xmlUrl as written, absolute xmlUrl)`` of every feed outline, in order.
    feeds: tuple[tuple[str, str], ...]


_LANG = re.compile(r"^\s*([A-Za-z]{2,3})")
_CHAR_REF = re.compile(r"&#(x[0-9a-f]+|[0-9]+);", re.IGNORECASE)


def _no_controls(html: str) -> str:
    """Drop control characters, also when written as character references (``&#x1b;``)."""

    def ref(m: re.Match[str]) -> str:
        n = m.group(1)
        code = int(n[1:], 16) if n[0] in "xX" else int(n)
        return " " if code > 0x10FFFF or CONTROL.match(chr(code)) else m.group(0)

    return CONTROL.sub(" ", _CHAR_REF.sub(ref, html))


def parse_body(
    location: str, base_url: str, body: bytes, content_type: str = ""
) -> ParsedFeed | Opml:
    """Parse fetched bytes: an OPML subscription list, a JSON Feed or an XML feed.

    ``base_url`` is where the bytes came from (an http(s) URL, or a file's ``file:`` URL);
    ``content_type`` is the HTTP ``Content-Type`` (its charset counts), empty for a file.
    """
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"{", b"["):
        from .jsonfeed import parse_json_feed

        return parse_json_feed(location, base_url, body)
    if head.lower().startswith((b"<!doctype html", b"<html")):
        raise FeedParseError("not a feed (an HTML page)")
    prepared = prepare(body, content_type)
    root = prepared.root
    tag = etree.QName(root).localname.lower() if isinstance(root.tag, str) else ""
    if tag == "opml":
        return _opml(location, base_url, root)
    if tag not in ("feed", "rss", "rdf", "entry"):
        raise FeedParseError(f"not a feed (root element <{tag}>)")
    return parse_feed(location, base_url, prepared.body)


def _opml(location: str, base_url: str, root: etree._Element) -> Opml:
    feeds = []
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl") or outline.get("xmlurl")
        if url:
            feeds.append((url.strip(), urllib.parse.urljoin(base_url, url.strip())))
    return Opml(location, tuple(feeds))


def file_base(*candidates: str | None) -> str:
    """The base for relative links of a feed read from a file: its first absolute
    http(s) candidate (``rel=self``, then the site link), else none (links stay as given)."""
    return next((c for c in candidates if c and is_web(c)), "")


def resolve(base: str, href: str) -> str:
    """``href`` against ``base``; with no base, ``href`` as the feed gave it."""
    href = href.strip()
    return urllib.parse.urljoin(base, href) if base else href


def parse_feed(location: str, base_url: str, body: bytes) -> ParsedFeed:
    """feedparser on ``body`` (UTF-8 bytes, never fetching) → the feed's sightings."""
    web = is_web(base_url)
    headers = {"content-type": "application/xml; charset=utf-8"}
    if web:
        headers["content-location"] = base_url  # feedparser resolves xml:base against it
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        resolve_relative_uris=False,  # links are resolved below; content is only read as text
        sanitize_html=False,  # content is parsed by lxml.html and reduced to text and hrefs
    )
    feed = parsed.get("feed", {})
    if not parsed.get("version") and not parsed.get("entries"):
        raise FeedParseError("not a feed")
    if web:
        base = base_url
    else:
        selfs = [lk.get("href") for lk in feed.get("links", ()) if lk.get("rel") == "self"]
        base = file_base(*selfs, feed.get("link"))
    generator = (feed.get("generator") or "").strip().lower()
    by_digestfeed = generator == "digestfeed"
    feed_lang = _lang(feed.get("language"))
    prev = None
    for link in feed.get("links", ()):
        if link.get("rel") == "prev-archive" and link.get("href"):
            prev = urllib.parse.urljoin(base_url, link["href"])
    sightings = [
        _sighting(location, base, entry, by_digestfeed, feed_lang)
        for entry in parsed.get("entries", ())
    ]
    return ParsedFeed(
        location=location,
        title=feed.get("title", ""),
        by_digestfeed=by_digestfeed,
        sightings=tuple(s for s in sightings if s is not None),
        prev_archive=prev,
    )


def _sighting(
    location: str, base: str, entry: Any, by_digestfeed: bool, feed_lang: str | None
) -> Sighting | None:
    entry_id = entry.get("id") or None
    title = entry.get("title", "")
    if "html" in (entry.get("title_detail") or {}).get("type", ""):
        title = _html_to_text(title)
    title = clean_text(title)
    own_links = [resolve(base, lk["href"]) for lk in entry.get("links", ()) if lk.get("href")]
    if entry.get("link") and resolve(base, entry["link"]) not in own_links:
        own_links.insert(0, resolve(base, entry["link"]))
    comments: dict[str, str] = {}
    content_links: list[str] = []
    contents = entry.get("content") or []
    detail = contents[0] if contents else entry.get("summary_detail")
    if detail and detail.get("value"):
        html, ctype = detail["value"], detail.get("type", "text/html")
        lang = _lang(detail.get("language")) or feed_lang
        content_base = resolve(base, detail.get("base") or "")
        comments, content_links = _read_content(html, ctype, content_base, lang, by_digestfeed)
    return make_sighting(
        location,
        entry_id,
        title,
        own_links,
        comments,
        content_links,
        [tag.get("term") or tag.get("label") or "" for tag in entry.get("tags", ())],
        _date(entry),
        by_digestfeed,
    )


def tag_match_key(tag: str) -> str:
    """A tag compared loosely (case-blind; spaces, ``-`` and ``_`` alike); shown as written."""
    return "-".join(re.split(r"[\s_-]+", unicodedata.normalize("NFKC", tag).casefold().strip()))


def make_sighting(
    location: str,
    entry_id: str | None,
    title: str,
    own_links: list[str],
    comments: dict[str, str],
    content_links: list[str],
    tag_terms: Iterable[str],
    date_stamp: tuple[str | None, float | None],
    by_digestfeed: bool,
) -> Sighting | None:
    """One entry's :class:`Sighting`, whatever format it came in (``None``: nothing to key it by)."""
    # a post whose content links or names exactly one paper is about that paper
    keys = identity.candidate_keys(
        entry_id,
        title,
        own_links,
        " ".join([*content_links, *comments.values()]),
        trusted_id=by_digestfeed,
        feed=location,
    )
    if not keys:
        # nothing global to match on (a relative link, or only a description): the entry
        # is still one item of its own feed
        text = " ".join(f"{k}:{v}" for k, v in sorted(comments.items()))
        basis = own_links[0] if own_links else text
        if not basis:
            return None
        digest = hashlib.sha256(basis.encode("utf-8")).hexdigest()[:24]
        keys = [(f"feed-id:{location}\x00{digest}", "feed-id")]
    date, stamp = date_stamp
    tags: dict[str, str] = {}
    for term in tag_terms:
        written = clean_text(term)
        if written:
            tags.setdefault(tag_match_key(written), written)
    return Sighting(
        feed=location,
        keys=tuple(keys),
        entry_id=entry_id,
        title=title,
        date=date,
        timestamp=stamp,
        tags=tuple(tags.values()),
        comments=comments,
        links=tuple(dict.fromkeys(own_links + content_links)),
    )


def _lang(value: str | None) -> str | None:
    match = _LANG.match(value or "")
    return match.group(1).lower() if match else None


def _bucket(lang: str | None) -> str:
    return "ko" if lang == "ko" else "en"


def _read_content(
    value: str, ctype: str, base: str, lang: str | None, by_digestfeed: bool
) -> tuple[dict[str, str], list[str]]:
    """Comments by language and every link of an entry's content."""
    if "html" not in ctype:
        text = clean_text(_no_controls(value))
        return ({_bucket(lang): text} if text else {}), []
    frag = _fragment(value)
    if isinstance(frag, str):
        text = clean_text(frag)
        return ({_bucket(lang): text} if text else {}), []
    links = []
    for a in frag.iter("a"):
        href = a.get("href")
        if href:
            url = resolve(base, href)
            if is_web(url):
                links.append(url)
    comments: dict[str, str] = {}
    marked = frag.xpath(".//div[contains(concat(' ', normalize-space(@class), ' '), ' comment ')]")
    if marked:
        for div in marked:
            text = clean_text(div.text_content())
            if text:
                comments[_bucket(_lang(div.get("lang")) or lang)] = text
    elif not by_digestfeed:
        text = html_text(frag)
        if text:
            comments[_bucket(lang)] = text
    return comments, links


def _fragment(value: str) -> Any:
    """HTML parsed without controls, scripts, styles and templates; text with the tags
    blanked out when lxml cannot parse it."""
    value = _no_controls(value)  # lxml refuses them; a terminal must never see them
    try:
        frag = lxml.html.fragment_fromstring(value, create_parent="div")
    except (etree.ParserError, ValueError):
        return re.sub(r"<[^>]*>", " ", value)
    for bad in frag.xpath(".//script|.//style|.//template"):
        bad.drop_tree()
    return frag


def _html_to_text(value: str) -> str:
    frag = _fragment(value)
    return frag if isinstance(frag, str) else str(frag.text_content())


def html_text(frag: Any) -> str:
    """Readable text of parsed HTML: block elements become line breaks."""
    for br in frag.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in frag.iter("p", "div", "li", "h1", "h2", "h3", "h4", "blockquote", "pre"):
        block.tail = "\n" + (block.tail or "")
    lines = (" ".join(line.split()) for line in frag.text_content().splitlines())
    return CONTROL.sub("", "\n".join(line for line in lines if line))


def clean_text(text: str) -> str:
    """One line of text: tags are not interpreted, control characters and runs of spaces go."""
    return " ".join(CONTROL.sub(" ", text or "").split())


def _date(entry: Any) -> tuple[str | None, float | None]:
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if not raw:
            continue
        when = _parse_date(raw)
        if when is None:
            parsed = entry.get(f"{key}_parsed")
            if parsed:
                y, mo, d, h, mi, sec = parsed[:6]
                when = dt.datetime(y, mo, d, h, mi, sec, tzinfo=dt.UTC)
        if when is not None:
            return stamp(when)
    return None, None


def stamp(when: dt.datetime) -> tuple[str, float]:
    """``(ISO 8601 with its offset, POSIX seconds)`` of a date; one without an offset is UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.isoformat(), when.timestamp()


def _parse_date(raw: str) -> dt.datetime | None:
    raw = raw.strip()
    try:
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None


__all__ = [
    "FeedParseError",
    "Opml",
    "ParsedFeed",
    "Sighting",
    "make_sighting",
    "parse_body",
    "parse_feed",
]
