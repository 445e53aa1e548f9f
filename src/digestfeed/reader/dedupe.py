"""Sightings → items: one item per paper across every feed and language.

A sighting joins the item owning its strongest key that is already known (see
:mod:`digestfeed.reader.identity` for the rules); otherwise it starts a new item. All of
its keys are then remembered for that item (a key already owned by another item stays
with it), so later sightings can match on any of them.

Collision guard: when an ``id`` (or ``feed-id``) key matches an item whose title is
clearly different (:func:`~digestfeed.reader.identity.titles_differ`), the sighting is a
separate item, keyed by the id *and* its title, and a warning is given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from . import identity
from .state import ItemRow, State

if TYPE_CHECKING:
    from .parse import Sighting

#: How strong each dedupe rule is (lower is stronger), in :data:`identity.RULES` order.
RULE_STRENGTH = {rule: n for n, rule in enumerate(identity.RULES)}
#: Rules whose match is refused when the titles clearly differ (the collision guard).
GUARDED_RULES = ("id", "feed-id")


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

    def add(self, s: Sighting) -> int:
        """Merge one sighting; return its item's rowid."""
        found: tuple[int, str] | None = None  # (item, rule)
        skip: str | None = None  # a key that belongs to a colliding item
        for key, rule in s.keys:
            item = self.state.lookup(key)
            if item is None:
                continue
            other = self._row(item)
            if rule in GUARDED_RULES and identity.titles_differ(other.title, s.title):
                skip = key
                key = f"{key}\x00title:{identity.normalize_title(s.title)}"
                twin = self.state.lookup(key)
                if twin is None:
                    twin = self._new(s, key, rule)
                    self.warn(
                        f"warning: {s.feed}: id {s.entry_id!r} is used for two different "
                        f"titles ({other.title!r} and {s.title!r}); kept as two items"
                    )
                else:
                    self._merge(self._row(twin), s, rule)
                found = (twin, rule)
                self.state.add_keys(twin, [key])
            else:
                found = (item, rule)
                self._merge(other, s, rule)
            break
        if found is None:
            key, rule = s.keys[0]
            found = (self._new(s, key, rule), rule)
        item = found[0]
        self.state.add_keys(item, [k for k, _ in s.keys if k != skip])
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

    def _merge(self, row: ItemRow, s: Sighting, rule: str) -> None:
        """Union tags, links and feeds; fill missing comments; keep the earliest date."""
        if RULE_STRENGTH.get(rule, 0) > RULE_STRENGTH.get(row.rule, 0):
            row.rule = rule  # the weakest evidence that joined two sightings
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
