"""``index.opml``: OPML 2.0 listing every subscription feed, so a feed client can subscribe to them all."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

from lxml import etree

from ..plan import LANG_NAMES
from ..types import FeedSet


def render_opml(feedset: FeedSet) -> bytes:
    config = feedset.config
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = f"{config.site_title} — feeds"
    # No dateCreated/dateModified: the OPML lists feeds, so it changes only when the feed set
    # does (a new digest with known tags leaves it byte-identical), and never with the clock.
    etree.SubElement(head, "ownerName").text = config.curator
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(root, "body")
    for feed in feedset.feeds:
        text = f"{feed.label} ({LANG_NAMES[feed.lang]})" if feed.tag else feed.title
        attrs = {
            "type": "rss",
            "text": text,
            "title": feed.title,
            "xmlUrl": config.feed_url(f"{feed.name}.atom"),
            "htmlUrl": config.tag_url(feed.tag) if feed.tag else config.site_url,
            "language": feed.lang or "ko,en",
        }
        if feed.tag:
            attrs["category"] = feed.tag
        etree.SubElement(body, "outline", attrs)
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


class OpmlOutput:
    """The built-in OPML output: ``index.opml``."""

    name = "opml"

    def files(
        self, feedset: FeedSet, formats: tuple[str, ...] = ()
    ) -> Iterator[tuple[str, str, Callable[[], bytes]]]:
        data = render_opml(feedset)  # small: rendered eagerly, fingerprinted by its bytes
        yield "index.opml", hashlib.sha256(data).hexdigest(), lambda: data
