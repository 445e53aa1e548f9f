"""Caps on what sources may hold, and the build's warnings about size and time.

A digest merged into ``entries/`` is input from someone else: these caps keep one file
from growing the site without bound (output grows with tags × entries), and each cap
exceeded is a :class:`~digestfeed.errors.ParseError` naming ``path:line``, so nothing is
published. The parsers check what they see line by line (tag count and length, link
length); :func:`check_digests` checks every source's digests again, so a source plugin
gets the same caps. The site size and a digest dated in the future are warnings only:
what is published never depends on the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from .config import Config
from .errors import ParseError
from .types import BuildWarning, Digest, Entry

#: Kinds of the warnings made here (:class:`~digestfeed.types.BuildWarning`).
FUTURE_KIND = "digest dated in the future"
SITE_SIZE_KIND = "site size"

#: A digest may be dated this far after the build time before the build warns.
FUTURE_SLACK = dt.timedelta(days=1)


def entry_errors(entry: Entry, config: Config) -> list[ParseError]:
    """What of one entry exceeds a cap (tags per entry, tag length, link length)."""
    tags, links = entry.tags, entry.links
    if not (  # the common case in one test (every build checks every entry)
        len(tags) > config.max_tags_per_entry
        or (tags and max(map(len, tags)) > config.max_tag_length)
        or (links and max(map(len, links)) > config.max_link_length)
    ):
        return []
    errors = []
    if len(entry.tags) > config.max_tags_per_entry:
        errors.append(
            ParseError.at(
                entry.source,
                f"entry has {len(entry.tags)} tags, more than max_tags_per_entry "
                f"({config.max_tags_per_entry})",
            )
        )
    long_tags = [t for t in entry.tags if len(t) > config.max_tag_length]
    if long_tags:
        errors.append(
            ParseError.at(
                entry.source,
                f"tag {long_tags[0][:40]!r} has {len(long_tags[0])} characters, more than "
                f"max_tag_length ({config.max_tag_length})",
            )
        )
    long_links = [link for link in entry.links if len(link) > config.max_link_length]
    if long_links:
        errors.append(
            ParseError.at(
                entry.source,
                f"a link of {len(long_links[0])} characters, more than max_link_length "
                f"({config.max_link_length})",
            )
        )
    return errors


def check_digests(digests: Iterable[Digest], config: Config) -> list[ParseError]:
    """Every cap exceeded by ``digests``, each naming the entry's ``path:line``."""
    errors: list[ParseError] = []
    for digest in digests:
        if len(digest.entries) > config.max_entries_per_digest:
            first_over = digest.entries[config.max_entries_per_digest]
            errors.append(
                ParseError.at(
                    first_over.source,
                    f"digest {digest.date} has {len(digest.entries)} entries, more than "
                    f"max_entries_per_digest ({config.max_entries_per_digest})",
                )
            )
        seen: set[str] = set()
        for entry in digest.entries:
            errors.extend(entry_errors(entry, config))
            before = len(seen)
            seen.update(entry.tags)
            if before <= config.max_tags_per_digest < len(seen):
                errors.append(
                    ParseError.at(
                        entry.source,
                        f"digest {digest.date} has more than {config.max_tags_per_digest} "
                        f"distinct tags (max_tags_per_digest) from this entry on",
                    )
                )
    return errors


def future_warnings(
    digests: Sequence[Digest], now: dt.datetime, config: Config
) -> list[BuildWarning]:
    """A warning for each digest dated after ``now`` plus a day (in ``config.timezone``):
    such a digest sits at the top of every feed until its date comes."""
    limit = (now.astimezone(config.tz) + FUTURE_SLACK).date().isoformat()
    out = []
    for digest in sorted(digests, key=lambda d: (d.date, d.path)):
        if digest.date > limit:
            where = digest.entries[0].source if digest.entries else digest.path
            out.append(
                BuildWarning(
                    FUTURE_KIND,
                    where,
                    f"digest dated {digest.date}, after the build time "
                    f"({now.astimezone(config.tz).date().isoformat()}) plus one day; it stays "
                    "at the top of every feed until then",
                )
            )
    return out


def site_size_warning(total_bytes: int, out_dir: str, config: Config) -> BuildWarning | None:
    """The warning when the written site is larger than ``warn_site_bytes``."""
    if total_bytes <= config.warn_site_bytes:
        return None
    return BuildWarning(
        SITE_SIZE_KIND,
        out_dir,
        f"the site is {total_bytes:,} bytes, more than warn_site_bytes "
        f"({config.warn_site_bytes:,}); GitHub Pages, for one, refuses sites over 1 GB",
    )
