"""The naive Atom feed set, for the performance comparison (bench/run.py): one feedgen ``FeedGenerator`` per feed.

Every entry is added with ``fg.add_entry()`` to every feed it belongs to (``all``, ``ko``,
``en`` and ``tags/<slug>``, ``tags/<slug>.ko``, ``tags/<slug>.en`` for each of its tags), so
its content HTML and its ``<entry>`` element are rebuilt once per feed, and each feed is
written with ``fg.atom_file()``. No caps and no archives: every feed holds all its entries,
exactly as digestfeed's Atom output does with ``max_entries`` larger than any feed.

It reads the digests with digestfeed's own parser and gives each entry the times a fresh
ledger gives it (:func:`digestfeed.ledger.first_published`), so the feed names, the entries
of each feed and their order are the same as digestfeed's; only the rendering strategy
differs. ``python bench/baseline.py ENTRIES OUT`` writes the set and prints the time.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

from feedgen.feed import FeedGenerator

from digestfeed.config import Config
from digestfeed.ledger import first_published
from digestfeed.pipeline import collect_entries
from digestfeed.plan import LANGS, feed_title
from digestfeed.render.atom import variant_suffix
from digestfeed.render.content import entry_html
from digestfeed.sources.digest import read_digest_dir
from digestfeed.types import Entry, Lang

__all__ = ["build_baseline"]


def _author(config: Config) -> dict[str, str]:
    return {"name": config.curator, **({"uri": config.curator_uri} if config.curator_uri else {})}


def build_baseline(
    entries_dir: Path, out_dir: Path, config: Config | None = None
) -> dict[str, Any]:
    """Write the naive Atom feed set of ``entries_dir`` into ``out_dir``; return counts (and the
    CPU seconds spent parsing, the part digestfeed shares with it)."""
    config = config or Config()
    out_dir = Path(out_dir)
    cpu = time.process_time()
    entries, _owners = collect_entries(read_digest_dir(Path(entries_dir), config, cache=None))
    parse_cpu = time.process_time() - cpu
    timed = [(first_published(e, config), e) for e in entries]
    timed.sort(key=lambda t: (t[0], t[1].id), reverse=True)  # newest first, as digestfeed

    # Feed membership, naively: name → (lang, label, entries).
    labels: dict[str, str] = {}
    for _, entry in reversed(timed):  # oldest first: a tag's label is its first spelling
        for slug, label in zip(entry.tags, entry.tag_labels or entry.tags, strict=False):
            labels.setdefault(slug, label if label.startswith("#") else f"#{label}")
    feeds: dict[str, tuple[Lang, str | None, list[tuple[dt.datetime, Entry]]]] = {}
    for lang in LANGS:
        feeds[lang or "all"] = (lang, None, [])
    for slug in sorted(labels):
        for lang in LANGS:
            feeds[f"tags/{slug}" + (f".{lang}" if lang else "")] = (lang, labels[slug], [])
    for item in timed:
        entry = item[1]
        for lang in LANGS:
            feeds[lang or "all"][2].append(item)
            for slug in entry.tags:
                feeds[f"tags/{slug}" + (f".{lang}" if lang else "")][2].append(item)

    written = 0
    for name, (lang, label, items) in feeds.items():
        fg = FeedGenerator()
        fg.id(f"tag:{config.tag_authority},{config.tag_date}:feed/{name}")
        fg.title(feed_title(config, lang, label))
        fg.updated(max(p for p, _ in items))
        fg.author(_author(config))
        fg.link(href=config.feed_url(f"{name}.atom"), rel="self", type="application/atom+xml")
        fg.link(href=config.site_url, rel="alternate", type="text/html")
        if lang:
            fg.language(lang)
        fg.generator("baseline")
        for published, entry in items:
            fe = fg.add_entry(order="append")
            fe.id(entry.id + variant_suffix(lang))  # each language variant its own id
            fe.title(entry.title)
            fe.published(published)
            fe.updated(published)
            fe.author(_author(config))
            fe.content(entry_html(entry, lang), type="html")
            tag_labels = entry.tag_labels or tuple(f"#{t}" for t in entry.tags)
            fe.category(
                [
                    {"term": slug, "label": lab, "scheme": config.tag_url(slug)}
                    for slug, lab in zip(entry.tags, tag_labels, strict=False)
                ]
            )
            fe.link(href=config.digest_url(entry.date), rel="alternate", type="text/html")
        path = out_dir / f"{name}.atom"
        path.parent.mkdir(parents=True, exist_ok=True)
        fg.atom_file(str(path), pretty=True)
        written += 1
    return {"entries": len(entries), "feeds": written, "parse_cpu_seconds": parse_cpu}


if __name__ == "__main__":
    start = time.perf_counter()
    counts = build_baseline(Path(sys.argv[1]), Path(sys.argv[2]))
    print(
        f"{counts['feeds']} feeds, {counts['entries']} entries in {time.perf_counter() - start:.2f} s"
    )
