"""Feed bytes → :class:`ParsedFeed` (its sightings), or OPML bytes → outline URLs.

Untrusted XML is first parse-checked with lxml with entity resolution, DTD loading and
network access off; a document whose DTD declares entities (billion laughs, external
entities) is refused before feedparser ever sees it. feedparser is given the bytes in a
file object, so it can neither fetch a URL nor open a file named by the body.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import io
import re
import urllib.parse
from collections.abc import Iterable
from typing import Any

import feedparser
import lxml.etree as etree
import lxml.html

from ..errors import ReadError
from ..model import normalize_tag
from . import identity


class FeedParseError(ReadError):
    """The bytes are not a (safe, well-formed) feed; the message is the reason."""


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


_SAFE_PARSER_KW = dict(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)
_LANG = re.compile(r"^\s*([A-Za-z]{2,3})")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CHAR_REF = re.compile(r"&#(x[0-9a-f]+|[0-9]+);", re.IGNORECASE)


def _no_controls(html: str) -> str:
    """Drop control characters, also when written as character references (``&#x1b;``)."""

    def ref(m: re.Match[str]) -> str:
        n = m.group(1)
        code = int(n[1:], 16) if n[0] in "xX" else int(n)
        return " " if code > 0x10FFFF or _CONTROL.match(chr(code)) else m.group(0)

    return _CONTROL.sub(" ", _CHAR_REF.sub(ref, html))


_PROLOG_DOCTYPE = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>)?(?:\s*<!--.*?-->|\s*<\?.*?\?>)*\s*<!DOCTYPE\b",
    re.DOTALL,
)
_ENTITIES = "refused: the DTD declares entities (entity expansion is not allowed)"


def safe_root(body: bytes) -> etree._Element:
    """Parse-check ``body`` as XML without expanding or fetching anything; return its root.

    A DTD declaring entities is refused outright: first by a scan of the prolog (before
    any parsing), then by lxml (with entities unresolved, no DTD loading, no network,
    libxml2's amplification limit) for encodings the scan cannot read.
    """
    doctype = _PROLOG_DOCTYPE.match(body)
    if doctype:
        end = body.find(b"]>", doctype.end())
        if b"<!ENTITY" in body[doctype.end() : end if end >= 0 else len(body)]:
            raise FeedParseError(_ENTITIES)
    parser = etree.XMLParser(**_SAFE_PARSER_KW)  # type: ignore[arg-type]
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        if "entit" in str(exc).lower():
            raise FeedParseError(f"{_ENTITIES}: {exc}") from None
        raise FeedParseError(f"malformed XML: {exc}") from None
    if root is None:
        raise FeedParseError("empty document")
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):  # type: ignore[union-attr]
        raise FeedParseError(_ENTITIES)
    return root


def parse_body(location: str, base_url: str, body: bytes) -> ParsedFeed | Opml:
    """Parse fetched bytes: an OPML subscription list or a feed."""
    if body.lstrip()[:1] in (b"{", b"["):
        raise FeedParseError("not a feed (JSON Feed is not supported yet)")
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")):
        raise FeedParseError("not a feed (an HTML page)")
    root = safe_root(body)
    tag = etree.QName(root).localname.lower() if isinstance(root.tag, str) else ""
    if tag == "opml":
        return _opml(location, base_url, root)
    if tag not in ("feed", "rss", "rdf"):
        raise FeedParseError(f"not a feed (root element <{tag}>)")
    return parse_feed(location, base_url, body)


def _opml(location: str, base_url: str, root: etree._Element) -> Opml:
    feeds = []
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl") or outline.get("xmlurl")
        if url:
            feeds.append((url.strip(), urllib.parse.urljoin(base_url, url.strip())))
    return Opml(location, tuple(feeds))


def parse_feed(location: str, base_url: str, body: bytes) -> ParsedFeed:
    """feedparser on ``body`` (never fetching) → the feed's sightings."""
    parsed = feedparser.parse(
        io.BytesIO(body),
        # feedparser mangles file:/// bases; links are joined with base_url below anyway
        response_headers={"content-location": base_url} if base_url.startswith("http") else {},
        resolve_relative_uris=False,  # links are resolved below; content is only read as text
        sanitize_html=False,  # content is parsed by lxml.html and reduced to text and hrefs
    )
    feed = parsed.get("feed", {})
    if not parsed.get("version") and not parsed.get("entries"):
        raise FeedParseError("not a feed")
    generator = (feed.get("generator") or "").strip().lower()
    by_digestfeed = generator == "digestfeed"
    feed_lang = _lang(feed.get("language"))
    prev = None
    for link in feed.get("links", ()):
        if link.get("rel") == "prev-archive" and link.get("href"):
            prev = urllib.parse.urljoin(base_url, link["href"])
    sightings = [
        _sighting(location, base_url, entry, by_digestfeed, feed_lang)
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
    own_links = [
        urllib.parse.urljoin(base, lk["href"]) for lk in entry.get("links", ()) if lk.get("href")
    ]
    if entry.get("link") and urllib.parse.urljoin(base, entry["link"]) not in own_links:
        own_links.insert(0, urllib.parse.urljoin(base, entry["link"]))
    comments: dict[str, str] = {}
    content_links: list[str] = []
    contents = entry.get("content") or []
    detail = contents[0] if contents else entry.get("summary_detail")
    if detail and detail.get("value"):
        html, ctype = detail["value"], detail.get("type", "text/html")
        lang = _lang(detail.get("language")) or feed_lang
        comments, content_links = _read_content(html, ctype, base, lang, by_digestfeed)
    # a post whose content links exactly one arXiv paper is about that paper
    content_arxiv = {a for a in map(identity.find_arxiv_id, content_links) if a}
    keys = identity.candidate_keys(
        entry_id,
        title,
        own_links,
        " ".join(content_arxiv) if len(content_arxiv) == 1 else "",
        trusted_id=by_digestfeed,
        feed=location,
    )
    if not keys:
        return None
    date, stamp = _date(entry)
    tags = []
    for tag in entry.get("tags", ()):
        slug = normalize_tag(tag.get("term") or tag.get("label") or "")
        if slug and slug not in tags:
            tags.append(slug)
    return Sighting(
        feed=location,
        keys=tuple(keys),
        entry_id=entry_id,
        title=title,
        date=date,
        timestamp=stamp,
        tags=tuple(tags),
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
    value = _no_controls(value)  # lxml refuses them; a terminal must never see them
    if "html" not in ctype:
        text = clean_text(value)
        return ({_bucket(lang): text} if text else {}), []
    try:
        frag = lxml.html.fragment_fromstring(value, create_parent="div")
    except (etree.ParserError, ValueError):
        text = clean_text(re.sub(r"<[^>]*>", " ", value))
        return ({_bucket(lang): text} if text else {}), []
    for bad in frag.xpath(".//script|.//style|.//template"):
        bad.drop_tree()
    links = []
    for a in frag.iter("a"):
        href = a.get("href")
        if href:
            url = urllib.parse.urljoin(base, href.strip())
            if urllib.parse.urlsplit(url).scheme in ("http", "https"):
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


def _html_to_text(value: str) -> str:
    value = _no_controls(value)
    try:
        frag = lxml.html.fragment_fromstring(value, create_parent="div")
    except (etree.ParserError, ValueError):
        return re.sub(r"<[^>]*>", " ", value)
    for bad in frag.xpath(".//script|.//style|.//template"):
        bad.drop_tree()
    return str(frag.text_content())


def html_text(frag: Any) -> str:
    """Readable text of parsed HTML: block elements become line breaks."""
    for br in frag.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in frag.iter("p", "div", "li", "h1", "h2", "h3", "h4", "blockquote", "pre"):
        block.tail = "\n" + (block.tail or "")
    lines = (" ".join(line.split()) for line in frag.text_content().splitlines())
    return _CONTROL.sub("", "\n".join(line for line in lines if line))


def clean_text(text: str) -> str:
    """One line of text: tags are not interpreted, control characters and runs of spaces go."""
    return " ".join(_CONTROL.sub(" ", text or "").split())


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
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
            return when.isoformat(), when.timestamp()
    return None, None


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


def iter_feed_urls(opml: Opml) -> Iterable[str]:
    return (absolute for _, absolute in opml.feeds)
