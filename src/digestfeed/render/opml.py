"""``index.opml`` (every subscription feed, nested by language) and ``main.opml`` (the three
main feeds): OPML 2.0, so a feed client can subscribe to them at once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

from lxml import etree

from ..config import Config
from ..plan import LANG_NAMES, LANGS
from ..types import Feed, FeedSet
from ..urls import feed_home

#: OPML ``language`` of each feed language: ``mul`` (ISO 639-2 "multiple languages") for
#: the bilingual feeds, whose entries hold Korean and English.
OPML_LANGUAGE = {None: "mul", "ko": "ko", "en": "en"}


def _outline(parent: etree._Element, feed: Feed, config: Config) -> None:
    text = f"{feed.label} ({LANG_NAMES[feed.lang]})" if feed.tag else feed.title
    attrs = {
        "type": "rss",
        "text": text,
        "title": feed.title,
        "xmlUrl": config.feed_url(f"{feed.name}.atom"),
        "htmlUrl": feed_home(config, feed.tag),
        "language": OPML_LANGUAGE[feed.lang],
    }
    if feed.tag:
        attrs["category"] = feed.tag
    etree.SubElement(parent, "outline", attrs)


def _document(config: Config, title: str) -> tuple[etree._Element, etree._Element]:
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    # No dateCreated/dateModified: the OPML lists feeds, so it changes only when the feed set
    # does (a new digest with known tags leaves it byte-identical), and never with the clock.
    etree.SubElement(head, "ownerName").text = config.curator
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    return root, etree.SubElement(root, "body")


def _bytes(root: etree._Element) -> bytes:
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def render_opml(feedset: FeedSet) -> bytes:
    """``index.opml``: one folder per language, holding its everything-feed and a ``Tags``
    folder with the language's tag feeds."""
    config = feedset.config
    root, body = _document(config, f"{config.site_title} — feeds")
    for lang in LANGS:
        group = etree.SubElement(
            body, "outline", {"text": LANG_NAMES[lang], "language": OPML_LANGUAGE[lang]}
        )
        tags = None
        for feed in feedset.feeds:
            if feed.lang != lang:
                continue
            if feed.tag is None:
                _outline(group, feed, config)
                continue
            if tags is None:
                tags = etree.SubElement(group, "outline", {"text": f"Tags ({LANG_NAMES[lang]})"})
            _outline(tags, feed, config)
    return _bytes(root)


def render_main_opml(feedset: FeedSet) -> bytes:
    """``main.opml``: only the three everything-feeds (both languages, Korean, English)."""
    config = feedset.config
    root, body = _document(config, f"{config.site_title} — main feeds")
    for feed in feedset.feeds:
        if feed.tag is None:
            _outline(body, feed, config)
    return _bytes(root)


class OpmlOutput:
    """The built-in OPML output: ``index.opml`` and ``main.opml``."""

    name = "opml"

    def files(
        self, feedset: FeedSet, formats: tuple[str, ...] = ()
    ) -> Iterator[tuple[str, str, Callable[[], bytes]]]:
        for path, render in (("index.opml", render_opml), ("main.opml", render_main_opml)):
            data = render(feedset)  # small: rendered eagerly, fingerprinted by its bytes
            yield path, hashlib.sha256(data).hexdigest(), lambda data=data: data  # type: ignore[misc]
