"""Sightings → items: one item per paper across every feed and language.

Each sighting (one entry as seen in one feed) is placed by these rules, in order:

1. **Its own identity.** A trusted id (a digestfeed entry id, a language variant keyed by
   the entry id it extends) is global but has an owner: the first origin that delivered
   it (see :func:`digestfeed.reader.identity.same_origin`). The same id from another
   origin is a separate item, keyed by the id *and* that origin, with a warning; it never
   joins, changes or hides the owner's item. A foreign id is scoped to its feed; an entry
   without an id is known in its feed by its link (fragment kept), else its title, else
   its text, numbered when the feed repeats it. A sighting whose own key is known joins
   that item.
2. **Across feeds**: the arXiv id, the DOI, the link, then the title (see
   :mod:`digestfeed.reader.identity`) join an item that no other entry of the *same* feed
   is already part of (a feed that lists two entries meant two: only a shared id joins
   entries of one feed), and never two different trusted ids.
3. Otherwise the sighting starts a new item.

All of its keys are then remembered for that item (a key already owned by another item
stays with it), so later sightings can match on any of them.

Collision guard: when an ``id`` (or ``feed-id``) key matches an item whose title is
clearly different (:func:`~digestfeed.reader.identity.titles_differ`), the sighting is a
separate item, keyed by the id *and* its title, and a warning is given.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from . import identity
from .state import ItemRow, State

if TYPE_CHECKING:
    from .parse import Sighting

#: How strong each dedupe rule is (lower is stronger), in :data:`identity.RULES` order;
#: ``feed-entry`` is an id-less entry's own identity in its feed.
RULE_STRENGTH = {rule: n for n, rule in enumerate((*identity.RULES, "feed-entry"))}
#: Rules whose match is refused when the titles clearly differ (the collision guard).
GUARDED_RULES = ("id", "feed-id")


def printed_id(key: str) -> str:
    """An item's id as output: the trusted id it is keyed by, else its key (printable)."""
    if key.startswith("id:") and "\x00" not in key:
        return key[3:]
    return key.replace("\x00", " ")


def other_paper(mine: set[str], theirs: set[str]) -> bool:
    """Whether two sets of paper keys name different papers: an arXiv id (or a DOI) on
    both sides, and none in common."""
    for kind in ("arxiv:", "doi:"):
        a = {k for k in mine if k.startswith(kind)}
        b = {k for k in theirs if k.startswith(kind)}
        if a and b and not a & b:
            return True
    return False


class Deduper:
    """Merges sightings into items within one run (rows are cached and written at the end)."""

    def __init__(self, state: State, now: str, warn: Callable[[str], None]) -> None:
        self.state = state
        self.now = now
        self.warn = warn
        self.rows: dict[int, ItemRow] = {}
        self.touched: set[int] = set()

    def _row(self, item: int) -> ItemRow:
        row = self.rows.get(item)
        if row is None:
            row = self.rows[item] = self.state.load_item(item)
        return row

    def add_feed(self, feed: str, origin: str, sightings: Iterable[Sighting]) -> list[int]:
        """Merge the sightings of one document of ``feed``, fetched from ``origin``."""
        repeats: dict[str, int] = {}
        return [self.add(s, origin, repeats) for s in sightings]

    def add(self, s: Sighting, origin: str = "", repeats: dict[str, int] | None = None) -> int:
        """Merge one sighting; return its item's rowid.

        ``origin`` is where the document came from (``""``: no ownership check);
        ``repeats`` counts id-less entries of the same document that look alike.
        """
        own, own_rule = self._own_key(s, {} if repeats is None else repeats)
        if own_rule == "id" and origin:
            owner = self.state.owner(own)
            if owner is not None and not identity.same_origin(owner, origin):
                return self._spoof(s, own, origin, owner)
        cross = [(k, r) for k, r in s.keys if r in identity.CROSS_FEED_RULES]
        item = self.state.lookup(own)
        if item is not None:
            row = self._row(item)
            if own_rule in GUARDED_RULES and identity.titles_differ(row.title, s.title):
                return self._twin(s, own, own_rule, row, cross)
            self._merge(
                row, s, "id" if own_rule == "id" else None, own if own_rule == "id" else None
            )
        else:
            item = self._join(s, own, own_rule, cross)
        self.state.add_keys(item, [own, *(k for k, _ in cross)])
        self.state.add_holding(s.feed, item)
        if own_rule == "id" and origin:
            self.state.claim(own, origin)
        self.touched.add(item)
        return item

    @staticmethod
    def _own_key(s: Sighting, repeats: dict[str, int]) -> tuple[str, str]:
        """The entry's identity: its trusted id, its feed-scoped id, else its look in the feed."""
        for key, rule in s.keys:
            if rule in ("id", "feed-id"):
                return key, rule
        found = dict((r, k) for k, r in reversed(s.keys))
        look = found.get("link") or found.get("title")
        if look is None:
            text = json.dumps([s.title, s.date, s.comments], sort_keys=True, ensure_ascii=False)
            look = "text:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        n = repeats[look] = repeats.get(look, 0) + 1
        key = f"feed-entry:{s.feed}\x00{look}"
        return (f"{key}\x00{n}" if n > 1 else key), "feed-entry"

    def _join(self, s: Sighting, own: str, own_rule: str, cross: list[tuple[str, str]]) -> int:
        """The item another feed's entry of the same paper started, else a new item."""
        trusted = own_rule == "id"
        papers = {k for k, r in cross if r in ("arxiv", "doi")}
        for key, rule in cross:
            item = self.state.lookup(key)
            if item is None or self.state.holds(s.feed, item):
                continue  # unknown, or another entry of this feed: never joined
            row = self._row(item)
            if trusted and row.key.startswith("id:"):
                continue  # two different trusted ids are two entries
            if (
                rule in ("link", "title")
                and papers
                and other_paper(papers, self.state.paper_keys(item))
            ):
                continue  # a shared link or title, but another paper
            self._merge(row, s, rule, own if trusted else None)
            return item
        # the new item's key: its strongest key no other item has, else its own identity
        if trusted:
            key, rule = own, own_rule
        else:
            key, rule = next(
                ((k, r) for k, r in s.keys if self.state.lookup(k) is None), (own, own_rule)
            )
        return self._new(s, key, rule)

    def _twin(
        self, s: Sighting, own: str, rule: str, other: ItemRow, cross: list[tuple[str, str]]
    ) -> int:
        key = f"{own}\x00title:{identity.normalize_title(s.title)}"
        twin = self.state.lookup(key)
        if twin is None:
            twin = self._new(s, key, rule)
            self.warn(
                f"warning: {s.feed}: id {s.entry_id!r} is used for two different "
                f"titles ({other.title!r} and {s.title!r}); kept as two items"
            )
        else:
            self._merge(self._row(twin), s, rule)
        self.state.add_keys(twin, [key, *(k for k, _ in cross)])
        self.state.add_holding(s.feed, twin)
        self.touched.add(twin)
        return twin

    def _spoof(self, s: Sighting, own: str, origin: str, owner: str) -> int:
        """The same trusted id from an origin that does not own it: an item of its own."""
        key = f"{own}\x00origin:{origin}"
        self.warn(
            f"warning: {s.feed}: id {s.entry_id!r} belongs to {owner}; this copy from "
            f"{origin} is kept as a separate item"
        )
        item = self.state.lookup(key)
        if item is None:
            item = self._new(s, key, "id")
        else:
            self._merge(self._row(item), s, None)
        self.state.add_keys(item, [key])  # none of its paper keys: it joins nothing
        self.state.add_holding(s.feed, item)
        self.touched.add(item)
        return item

    def _new(self, s: Sighting, key: str, rule: str) -> int:
        row = ItemRow(
            item=None,
            key=key,
            rule=rule,
            entry_id=s.entry_id,
            title=s.title,
            date=s.date,
            ts=s.timestamp,
            tags=list(s.tags),
            comments=dict(s.comments),
            links=list(s.links),
            feeds=[s.feed],
            first_seen=self.now,
        )
        item = self.state.insert_item(row)
        self.rows[item] = row
        self.touched.add(item)
        return item

    def _merge(
        self, row: ItemRow, s: Sighting, rule: str | None, trusted: str | None = None
    ) -> None:
        """Union tags, links and feeds; fill missing comments; keep the earliest date.

        ``rule`` is the evidence that joined them (``None``: the same entry seen again);
        ``trusted`` the sighting's trusted id key, which becomes the item's key.
        """
        if rule is not None and RULE_STRENGTH.get(rule, 0) > RULE_STRENGTH.get(row.rule, 0):
            row.rule = rule  # the weakest evidence that joined two sightings
        if trusted is not None and not row.key.startswith("id:"):
            row.key = trusted  # a digestfeed id names the paper from now on
            row.title = s.title  # and its title (the collision guard compares with it)
        for tag in s.tags:
            if tag not in row.tags:
                row.tags.append(tag)
        for link in s.links:
            if link not in row.links:
                row.links.append(link)
        if s.feed not in row.feeds:
            row.feeds.append(s.feed)
        for lang, text in s.comments.items():
            row.comments.setdefault(lang, text)
        if s.timestamp is not None and (row.ts is None or s.timestamp < row.ts):
            row.date, row.ts = s.date, s.timestamp
        if not row.entry_id and s.entry_id:
            row.entry_id = s.entry_id

    def flush(self) -> None:
        """Write every cached row back (inside the run's transaction)."""
        self.state.update_items(self.rows.values())
