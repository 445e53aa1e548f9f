"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1): ``<name>.json`` per subscription document.

Like RSS, JSON Feed is written for subscription documents only; the RFC 5005 history lives
in the Atom archives (see :mod:`digestfeed.render.rss` for why). JSON Feed's ``next_url``
is pagination *within JSON Feed* ("the URL of a feed that provides the next n items"), so
it is left out rather than pointed at an Atom archive a JSON Feed client could not parse.

Bytes are deterministic: keys in a fixed order (the spec's), ``ensure_ascii=False``, two-space
indent, a trailing newline, and no clock — every date comes from the ledger. Items are
built once per (entry, language variant) and shared by every document that holds them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from ..config import Config
from ..types import Document, FeedSet, Lang, Timed, rfc3339
from ..urls import feed_home
from .atom import variant_suffix
from .content import entry_html
from .memo import Memo, subscription_files

VERSION = "https://jsonfeed.org/version/1.1"
MEDIA_TYPE = "application/feed+json"
#: Bumped when the bytes this module writes change for the same input.
RENDER_VERSION = 2


def _authors(config: Config) -> list[dict[str, str]]:
    author = {"name": config.curator}
    if config.curator_uri:
        author["url"] = config.curator_uri
    return [author]


def item_object(timed: Timed, lang: Lang, config: Config) -> dict[str, Any]:
    """The JSON Feed item of one entry in one language variant (its id is the variant's,
    as in Atom and RSS: the entry id, ``/ko`` or ``/en`` appended for one language)."""
    entry = timed.entry
    item: dict[str, Any] = {"id": entry.id + variant_suffix(lang), "url": config.entry_url(entry)}
    if entry.url:
        item["external_url"] = entry.url
    item.update(
        {
            "title": entry.title,
            "content_html": entry_html(entry, lang),
            "date_published": rfc3339(timed.published),
            "date_modified": rfc3339(timed.updated),
            "authors": _authors(config),
            "tags": list(entry.tags),
        }
    )
    if lang:
        item["language"] = lang
    return item


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)


#: The C string encoder ``json.dumps(..., ensure_ascii=False)`` uses (``json.dumps`` with an
#: ``indent`` runs the pure-Python encoder, which made items twice as slow; see :func:`item_text`).
_string = json.encoder.encode_basestring


def item_text(timed: Timed, lang: Lang, config: Config, authors: str) -> str:
    """Exactly the lines of ``_dumps(item_object(timed, lang, config))``, each indented by
    four spaces (its place in ``items``), written directly: every string goes through the C
    encoder, the layout (keys in :func:`item_object`'s order, two-space indent) is fixed.
    ``authors`` is :func:`authors_text` of the config."""
    entry = timed.entry
    lines = [
        f'      "id": {_string(entry.id + variant_suffix(lang))}',
        f'      "url": {_string(config.entry_url(entry))}',
    ]
    if entry.url:
        lines.append(f'      "external_url": {_string(entry.url)}')
    lines.append(f'      "title": {_string(entry.title)}')
    lines.append(f'      "content_html": {_string(entry_html(entry, lang))}')
    lines.append(f'      "date_published": {_string(rfc3339(timed.published))}')
    lines.append(f'      "date_modified": {_string(rfc3339(timed.updated))}')
    lines.append(authors)
    if entry.tags:
        tags = ",\n".join(f"        {_string(tag)}" for tag in entry.tags)
        lines.append(f'      "tags": [\n{tags}\n      ]')
    else:
        lines.append('      "tags": []')
    if lang:
        lines.append(f'      "language": {_string(lang)}')
    return "    {\n" + ",\n".join(lines) + "\n    }"


def authors_text(config: Config) -> str:
    """The ``"authors"`` member of every item, as :func:`item_text` places it."""
    text = _dumps({"authors": _authors(config)})
    return "\n".join("    " + line for line in text.split("\n")[1:-1])


class ItemRenderer:
    """The UTF-8 item of one (entry, variant), indented for its place in ``items``, reused
    through a :class:`~digestfeed.render.memo.Memo` (bytes: half the memory of a ``str`` with Hangul)."""

    def __init__(self, config: Config, memo: Memo[tuple[str, Lang], bytes]) -> None:
        self.config = config
        self._memo = memo
        self._authors = authors_text(config)

    def __call__(self, timed: Timed, lang: Lang) -> bytes:
        return self._memo.get((timed.entry.id, lang), lambda: self._render(timed, lang))

    def _render(self, timed: Timed, lang: Lang) -> bytes:
        return item_text(timed, lang, self.config, self._authors).encode("utf-8")


def feed_head(doc: Document, feedset: FeedSet) -> dict[str, Any]:
    """The top-level JSON Feed object of a subscription document, without ``items``."""
    config, feed = feedset.config, doc.feed
    obj: dict[str, Any] = {
        "version": VERSION,
        "title": feed.title,
        "home_page_url": feed_home(config, feed.tag),
        "feed_url": config.feed_url(f"{doc.path}.json"),
        "description": feed.title,
        "authors": _authors(config),
    }
    if feed.lang:
        obj["language"] = feed.lang
    if config.hub:
        obj["hubs"] = [{"type": "WebSub", "url": config.hub}]
    # JSON Feed has no generator field: this extension object is Atom's <generator>, by
    # which digestfeed's feed reader trusts the ids as it does the Atom twin's
    obj["_digestfeed"] = {"generator": "digestfeed"}
    return obj


def render_document(doc: Document, feedset: FeedSet, item: Callable[[Timed, Lang], bytes]) -> bytes:
    """Exactly ``json.dumps({**head, "items": [...]}, ensure_ascii=False, indent=2) + "\\n"``
    in UTF-8, with each item serialised once per build."""
    head = _dumps(feed_head(doc, feedset))
    assert head.endswith("\n}")
    items = b",\n".join(item(t, doc.feed.lang) for t in doc.entries)
    tail = b'  "items": [\n' + items + b"\n  ]" if items else b'  "items": []'
    return (head[:-2] + ",\n").encode("utf-8") + tail + b"\n}\n"


class JsonFeedOutput:
    """JSON Feed 1.1: every subscription document as ``<name>.json`` (archives are Atom only)."""

    name = "json"

    def files(
        self, feedset: FeedSet, formats: tuple[str, ...] = ()
    ) -> Iterator[tuple[str, str, Callable[[], bytes]]]:
        """``(relative path, fingerprint, render)`` for each file, rendered lazily."""
        return subscription_files(feedset, "json", RENDER_VERSION, ItemRenderer, render_document)
