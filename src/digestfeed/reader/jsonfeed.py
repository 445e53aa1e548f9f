"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) → :class:`ParsedFeed`.

The same caps as XML: the fetch step bounds the size; here the nesting depth is checked
by a scan of the bytes *before* decoding (a deeply nested document never reaches the
recursive decoder), and a document with more than :data:`MAX_ITEMS` items is refused
whole (never a partial feed).

An item's links are ``url`` then ``external_url`` (as digestfeed's own JSON Feed writes
them, in the order of the Atom twin's ``alternate`` and ``related`` links), resolved
against the document's URL for HTTP sources and against the feed's absolute
``feed_url`` (else ``home_page_url``) for files. Its text is ``content_html``, else
``content_text``, else ``summary``. Tags keep their written form.

digestfeed's own JSON Feed names its generator in the extension object
``"_digestfeed": {"generator": "digestfeed"}`` (JSON Feed has no generator field), the
counterpart of Atom's ``<generator>``: its ids are trusted like the Atom twin's, so a
``.json`` feed reads back exactly as its ``.atom`` twin.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .parse import (
    FeedParseError,
    ParsedFeed,
    Sighting,
    _bucket,
    _lang,
    _parse_date,
    _read_content,
    clean_text,
    file_base,
    make_sighting,
    resolve,
    stamp,
)
from .text import is_web

#: Deepest nesting of arrays and objects accepted (a JSON Feed needs about five).
MAX_DEPTH = 64
#: Most items one JSON Feed document may hold.
MAX_ITEMS = 100_000
VERSION_PREFIX = "https://jsonfeed.org/version/1"
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def check_depth(body: bytes, limit: int = MAX_DEPTH) -> None:
    """Refuse ``body`` if its arrays/objects nest deeper than ``limit`` (strings skipped)."""
    depth = 0
    for m in _TOKENS.finditer(body):
        c = m.group(0)[:1]
        if c in b"[{":
            depth += 1
            if depth > limit:
                raise FeedParseError(
                    f"refused: JSON nested deeper than {limit} levels (the nesting cap)"
                )
        elif c in b"]}":
            depth -= 1


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def parse_json_feed(location: str, base_url: str, body: bytes) -> ParsedFeed:
    """A JSON Feed document → its sightings; :class:`FeedParseError` says why it is refused."""
    check_depth(body)
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FeedParseError(
            f"malformed JSON: not UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    except json.JSONDecodeError as exc:
        raise FeedParseError(
            f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:  # pragma: no cover - check_depth refuses such documents first
        raise FeedParseError("refused: JSON nested too deeply (the nesting cap)") from None
    if not isinstance(doc, dict):
        raise FeedParseError("not a feed (JSON that is not a JSON Feed object)")
    version = _text(doc.get("version"))
    if not version.startswith(VERSION_PREFIX):
        raise FeedParseError(f"not a feed (JSON without a JSON Feed version: {version!r})")
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedParseError("not a feed (a JSON Feed without an items array)")
    if len(items) > MAX_ITEMS:
        raise FeedParseError(f"refused: {len(items)} items, over the item cap ({MAX_ITEMS})")
    ext = doc.get("_digestfeed")
    by_digestfeed = isinstance(ext, dict) and ext.get("generator") == "digestfeed"
    base = (
        base_url if is_web(base_url) else file_base(doc.get("feed_url"), doc.get("home_page_url"))
    )
    feed_lang = _lang(_text(doc.get("language")))
    sightings = [
        _sighting(location, base, item, by_digestfeed, feed_lang)
        for item in items
        if isinstance(item, dict)
    ]
    return ParsedFeed(
        location=location,
        title=clean_text(_text(doc.get("title"))),
        by_digestfeed=by_digestfeed,
        sightings=tuple(s for s in sightings if s is not None),
        prev_archive=None,
    )


def _date(item: dict[str, Any]) -> tuple[str | None, float | None]:
    for key in ("date_published", "date_modified"):
        when = _parse_date(_text(item.get(key)))
        if when is not None:
            return stamp(when)
    return None, None


def _sighting(
    location: str, base: str, item: dict[str, Any], by_digestfeed: bool, feed_lang: str | None
) -> Sighting | None:
    raw_id = item.get("id")
    # the spec says string; numbers are common in the wild and mean the same
    entry_id = str(raw_id) if isinstance(raw_id, (str, int)) and str(raw_id) else None
    own_links = [
        resolve(base, _text(item.get(k))) for k in ("url", "external_url") if _text(item.get(k))
    ]
    lang = _lang(_text(item.get("language"))) or feed_lang
    comments: dict[str, str] = {}
    content_links: list[str] = []
    for key, ctype in (("content_html", "text/html"), ("content_text", "text/plain")):
        value = _text(item.get(key))
        if value:
            comments, content_links = _read_content(value, ctype, base, lang, by_digestfeed)
            break
    else:
        summary = clean_text(_text(item.get("summary")))
        if summary:
            comments = {_bucket(lang): summary}
    tags = item.get("tags")
    return make_sighting(
        location,
        entry_id,
        clean_text(_text(item.get("title"))),
        list(dict.fromkeys(own_links)),
        comments,
        content_links,
        [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
        _date(item),
        by_digestfeed,
    )
