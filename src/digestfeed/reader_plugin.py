"""digestfeed's cross-feed dedupe as a plugin for the reader library (`reader`_, by lemon24).

Not to be confused with digestfeed's own feed reader (``digestfeed read``,
:mod:`digestfeed.reader`), whose identity rules it shares.

.. _reader: https://reader.readthedocs.io/

Enable it like any plugin of the reader library::

    make_reader("db.sqlite", plugins=["digestfeed.reader_plugin:init_reader"])

or ``python -m reader --plugin digestfeed.reader_plugin:init_reader …``, the
``READER_PLUGINS`` environment variable, or ``plugins = [...]`` in the ``[reader]``
section of the reader library's config file (the CLI and the web app read both).

After every update it groups the entries of **all** feeds by digestfeed's identity rules
(:mod:`digestfeed.reader.identity`, shared with ``digestfeed read``): a digestfeed entry
id is the paper's key; entries of other feeds fall back to the arXiv id, the normalised
link, then the normalised title. In each group of two or more entries one entry is
*kept*; every other entry (a *copy*) is marked read and tagged
``.plugin.digestfeed.duplicate-of`` (with the reader library's default reserved-name
scheme; see :func:`duplicate_tag`) with the value ``{"feed_url": …, "id": …, "rule": …}``
of the kept entry and the weakest rule that joined the group.

The kept entry is, in this order: an entry of a bilingual digestfeed feed (``all.atom``,
``tags/<t>.atom``: digestfeed ids, no content language), an entry of any other digestfeed
feed, any other entry; then the earliest :attr:`~reader.Entry.added`, then the feed URL,
then the entry id. When the kept entry is deleted (its feed removed), the next one by the
same order takes over on the next run.

Read and important are group state. The most recent user change (the newest
``read_modified`` / ``important_modified`` of any entry in the group; the kept entry wins a
tie) decides; the kept entry gets that value, the copies get the same ``important`` and stay
read, with ``read_modified`` equal to the group's when the group is read and ``None`` when it
is not (so a promoted copy comes back unread exactly when the paper was never read). This
propagates on the next run of the plugin: after :meth:`~reader.Reader.update_feeds` or
:meth:`~reader.Reader.update_feeds_iter` (once, when iterated to the end), after
:meth:`~reader.Reader.update_feed`, or when :func:`dedupe` is called directly.

Only the reader library's public API is used (``get_entries``, tags, ``set_entry_read`` /
``set_entry_important``), with one guarded exception: ``PRAGMA synchronous = NORMAL`` on its
SQLite connection while the plugin writes (see :func:`_fast_commits`). A run that finds
everything in place writes nothing, and an update that brought nothing new (and left the
entry counts as the last run saw them) does not run at all.

The reader library does not keep a feed's ``<generator>``, so a feed counts as made by
digestfeed when every one of its entries has a digestfeed-shaped id
(:func:`~digestfeed.reader.identity.is_digestfeed_id`).
"""

from __future__ import annotations

import contextlib
import html.parser
import logging
import os
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from digestfeed.reader import identity
from digestfeed.reader.dedupe import RULE_STRENGTH, other_paper
from digestfeed.reader.fetch import is_url
from digestfeed.reader.sources import file_path

__all__ = ["PLUGIN_NAME", "DedupeResult", "dedupe", "duplicate_tag", "init_reader"]

log = logging.getLogger(__name__)

#: The plugin name used for the reader library's reserved tag names.
PLUGIN_NAME = "digestfeed"


def duplicate_tag(reader: Any) -> str:
    """The entry tag key marking a copy: ``.plugin.digestfeed.duplicate-of`` by default."""
    return str(reader.make_plugin_reserved_name(PLUGIN_NAME, "duplicate-of"))


@dataclass
class DedupeResult:
    """What one run found and did."""

    entries: int = 0
    groups: int = 0  #: groups with two or more entries
    copies: int = 0
    writes: int = 0  #: tag and flag writes (0 when everything was already in place)
    #: every copy's tag value, by resource id (what the plugin remembers it wrote)
    tagged: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)


@dataclass
class _Member:
    entry: Any
    rank: int  # 0 bilingual digestfeed feed, 1 other digestfeed feed, 2 anything else
    keys: list[tuple[str, str]]

    @property
    def sort_key(self) -> tuple[int, datetime, str, str]:
        e = self.entry
        return (self.rank, e.added, e.feed_url, e.id)


@dataclass
class _Group:
    title: str | None
    rule: str
    members: list[_Member] = field(default_factory=list)
    feeds: set[str] = field(default_factory=set)
    trusted: bool = False  #: holds a trusted (digestfeed) id
    papers: set[str] = field(default_factory=set)  #: its arXiv and DOI keys


# --- entry → keys (the adapter: the reader library's Entry → identity.candidate_keys) ---


class _Hrefs(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            for name, value in attrs:
                if name == "href" and value:
                    self.hrefs.append(value.strip())


def _content_arxiv(entry: Any) -> str:
    """The arXiv id when the entry's content links exactly one arXiv paper (as
    ``digestfeed read`` does), else ``""``."""
    found: set[str] = set()
    contents = list(entry.content or ())
    values = [c.value for c in contents[:1]] if contents else [entry.summary]
    for value in values:
        if not value or "arxiv" not in value.lower():
            continue
        parser = _Hrefs()
        try:
            parser.feed(value)
            parser.close()
        except Exception:  # pragma: no cover - html.parser is lenient
            continue
        for href in parser.hrefs:
            aid = identity.find_arxiv_id(urllib.parse.urljoin(entry.link or "", href))
            if aid:
                found.add(aid)
    return found.pop() if len(found) == 1 else ""


def _keys(entry: Any, by_digestfeed: bool) -> list[tuple[str, str]]:
    # the reader library keeps an entry's alternate link and enclosures (not rel="related")
    links = ([entry.link] if entry.link else []) + [
        x.href for x in entry.enclosures or () if x.href
    ]
    text = "" if by_digestfeed else _content_arxiv(entry)
    return identity.candidate_keys(
        entry.id, entry.title, links, text, trusted_id=by_digestfeed, feed=entry.feed_url
    )


def _bilingual(entry: Any) -> bool:
    return not any(getattr(c, "language", None) for c in entry.content or ())


# --- grouping ----------------------------------------------------------------------------


def _origin(feed_url: str) -> str:
    """A feed URL's origin (scheme, host, port); a feed file's (a path or a ``file:`` URL):
    its folder, by the rules of ``digestfeed read``."""
    if is_url(feed_url):
        return identity.origin(feed_url)
    path = file_path(feed_url) if feed_url.lower().startswith("file:") else feed_url
    return identity.folder_origin(os.path.dirname(path))


def _own_key(e: Any, keys: list[tuple[str, str]], repeats: dict[tuple[str, str], int]) -> str:
    """The entry's identity in its feed (as :mod:`digestfeed.reader.dedupe` defines it)."""
    for key, rule in keys:
        if rule in ("id", "feed-id"):
            return key
    # the reader library gives every entry an id (its link or title when the feed has none)
    look = f"feed-id:{e.feed_url}\x00{e.id}"
    n = repeats[(e.feed_url, look)] = repeats.get((e.feed_url, look), 0) + 1
    return look if n == 1 else f"{look}\x00{n}"


def _group(entries: Sequence[Any]) -> list[_Group]:
    """Groups in the order of ``(added, feed_url, id)``, with the rules of ``digestfeed read``
    (:mod:`digestfeed.reader.dedupe`): an entry joins the group of its own identity (a
    trusted id from the origin that first delivered it, else its feed-scoped id); else the
    group its paper, link or title points at, unless that group already holds another entry
    of the same feed (or another trusted id); else it starts a group."""
    by_feed: dict[str, list[Any]] = {}
    for e in entries:
        by_feed.setdefault(e.feed_url, []).append(e)
    digestfeed_feeds = {
        url for url, es in by_feed.items() if all(identity.is_digestfeed_id(e.id) for e in es)
    }
    groups: list[_Group] = []
    owner: dict[str, int] = {}
    owners: dict[str, str] = {}  # trusted id key → origin that delivered it first
    repeats: dict[tuple[str, str], int] = {}
    for e in sorted(entries, key=lambda e: (e.added, e.feed_url, e.id)):
        ours = e.feed_url in digestfeed_feeds
        keys = _keys(e, ours)
        rank = (0 if _bilingual(e) else 1) if ours else 2
        member = _Member(e, rank, keys)
        own = _own_key(e, keys, repeats)
        trusted = bool(keys) and keys[0][1] == "id"
        cross = [(k, r) for k, r in keys if r in identity.CROSS_FEED_RULES]
        papers = {k for k, r in cross if r in ("arxiv", "doi")}
        found: int | None = None
        if trusted:
            origin = _origin(e.feed_url)
            first = owners.setdefault(own, origin)
            if not identity.same_origin(first, origin):
                log.warning(
                    "%s: id %r belongs to %s; this copy from %s is kept apart",
                    e.feed_url,
                    e.id,
                    first,
                    origin,
                )
                own, cross = f"{own}\x00origin:{origin}", []
        g = owner.get(own)
        if g is not None:
            if identity.titles_differ(groups[g].title, e.title):
                # collision guard: same id, clearly different paper
                log.warning(
                    "%s: id %r is used for two different titles (%r and %r); kept apart",
                    e.feed_url,
                    e.id,
                    groups[g].title,
                    e.title,
                )
                own = f"{own}\x00title:{identity.normalize_title(e.title)}"
                found = owner.get(own)
            else:
                found = g
                if trusted:
                    groups[g].trusted = True
        if found is None and owner.get(own) is None:
            for key, rule in cross:
                c = owner.get(key)
                if c is None or e.feed_url in groups[c].feeds:
                    continue  # another entry of this feed: never joined
                if trusted and groups[c].trusted:
                    continue  # two different trusted ids are two entries
                if rule in ("link", "title") and other_paper(papers, groups[c].papers):
                    continue  # a shared link or title, but another paper
                found = c
                group = groups[c]
                if RULE_STRENGTH[rule] > RULE_STRENGTH.get(group.rule, 0):
                    group.rule = rule
                if trusted and not group.trusted:
                    group.trusted, group.title = True, e.title  # the digestfeed entry's
                break
        if found is None:
            found = len(groups)
            groups.append(
                _Group(
                    e.title,
                    "id" if trusted else (cross or keys or [("", "id")])[0][1],
                    trusted=trusted,
                )
            )
        group = groups[found]
        group.members.append(member)
        group.feeds.add(e.feed_url)
        group.papers |= papers
        owner.setdefault(own, found)
        for key, _ in cross:
            owner.setdefault(key, found)
    return groups


# --- state --------------------------------------------------------------------------------


def _latest(members: list[_Member], kept: Any, attr: str) -> tuple[Any, datetime | None, bool]:
    """``(value, modified, found)`` of the newest user change of ``attr`` in a group."""
    best: tuple[datetime, int, Any] | None = None
    for m in members:
        modified = getattr(m.entry, f"{attr}_modified")
        if modified is None:
            continue
        cand = (modified, int(m.entry is kept), getattr(m.entry, attr))
        if best is None or cand[:2] > best[:2]:
            best = cand
    if best is None:
        return None, None, False
    return best[2], best[0], True


def _sync(
    reader: Any, group: _Group, tag_key: str, tags: dict[tuple[str, str], Any], result: DedupeResult
) -> None:
    members = sorted(group.members, key=lambda m: m.sort_key)
    kept = members[0].entry
    copies = [m.entry for m in members[1:]]

    read, read_mod, found = _latest(members, kept, "read")
    if not found:
        # no user change recorded: the kept entry's own flag, unless the plugin hid it
        read = False if kept.resource_id in tags else kept.read
    important, important_mod, found = _latest(members, kept, "important")
    if not found:
        important = kept.important

    if kept.resource_id in tags:
        reader.delete_tag(kept, tag_key, missing_ok=True)
        result.writes += 1
    if kept.read != read:
        reader.set_entry_read(kept, read, read_mod)
        result.writes += 1
    if kept.important != important:
        reader.set_entry_important(kept, important, important_mod)
        result.writes += 1

    if not copies:
        return
    result.groups += 1
    value = {"feed_url": kept.feed_url, "id": kept.id, "rule": group.rule}
    copy_read_mod = read_mod if read else None
    for e in copies:
        result.copies += 1
        result.tagged[e.resource_id] = value
        if tags.get(e.resource_id) != value:
            reader.set_tag(e, tag_key, value)
            result.writes += 1
        if not e.read or e.read_modified != copy_read_mod:
            reader.set_entry_read(e, True, copy_read_mod)
            result.writes += 1
        if e.important != important:
            reader.set_entry_important(e, important, important_mod)
            result.writes += 1


@contextlib.contextmanager
def _fast_commits(reader: Any) -> Iterator[None]:
    """The plugin's writes without a disk flush each: ``PRAGMA synchronous = NORMAL`` on
    the reader library's connection (WAL mode) while the plugin writes.

    Each public write of the reader library is its own transaction; flushed one by one,
    the first pass over a large site took twice as long as the update itself. In WAL mode
    NORMAL never corrupts the database; a power cut may lose the last writes, which are
    derived (the next pass writes them again). The one reach past the reader library's
    public API, guarded: without it, the writes are only slower.
    """
    try:
        db = reader._storage.get_db()
        (before,) = db.execute("PRAGMA synchronous").fetchone()
        (mode,) = db.execute("PRAGMA journal_mode").fetchone()
    except Exception:  # another reader library version or storage: leave it alone
        db, mode = None, None
    if db is None or str(mode).lower() != "wal":
        yield
        return
    db.execute("PRAGMA synchronous = NORMAL")
    try:
        yield
    finally:
        db.execute(f"PRAGMA synchronous = {int(before)}")


def _state_key(reader: Any) -> str:
    """The global tag where the plugin remembers what it wrote (see :func:`dedupe`)."""
    return str(reader.make_plugin_reserved_name(PLUGIN_NAME, "state"))


def _counts(reader: Any) -> list[int | None]:
    counts = reader.get_entry_counts()
    return [counts.total, counts.read, counts.important]


def dedupe(reader: Any) -> DedupeResult:
    """Group every entry of ``reader`` by paper and bring tags and flags in line.

    Safe to call any time (the update hooks call it); writes nothing when everything is
    already in place. What it wrote (every copy's tag, the entry counts) is remembered in
    one global tag, so a run need not read every copy's tag back, and an update that
    changed nothing can skip the run (see :class:`_Hooks`).
    """
    tag_key, state_key = duplicate_tag(reader), _state_key(reader)
    entries = list(reader.get_entries())
    state = reader.get_tag((), state_key, None)
    tags: dict[tuple[str, str], Any]
    if isinstance(state, dict) and isinstance(state.get("copies"), list):
        tags = {(c[0], c[1]): {"feed_url": c[2], "id": c[3], "rule": c[4]} for c in state["copies"]}
    else:  # first run, or a database the plugin worked on before it remembered
        tags = {
            e.resource_id: reader.get_tag(e, tag_key, None)
            for e in reader.get_entries(tags=[tag_key])
        }
    result = DedupeResult(entries=len(entries))
    with _fast_commits(reader):
        for group in _group(entries):
            if len(group.members) > 1 or any(m.entry.resource_id in tags for m in group.members):
                _sync(reader, group, tag_key, tags, result)
    copies = sorted([*rid, v["feed_url"], v["id"], v["rule"]] for rid, v in result.tagged.items())
    new_state = {"copies": copies, "counts": _counts(reader)}
    if new_state != state:
        reader.set_tag((), state_key, new_state)
    log.info(
        "digestfeed dedupe: %d entries, %d groups, %d copies, %d writes",
        result.entries,
        result.groups,
        result.copies,
        result.writes,
    )
    return result


def changed_since_last_run(reader: Any) -> bool:
    """Whether the entry counts (total, read, important) differ from the last run's: an
    entry deleted, or a user change of read or important, that a run must carry over."""
    state = reader.get_tag((), _state_key(reader), None)
    return not isinstance(state, dict) or state.get("counts") != _counts(reader)


# --- plugin -------------------------------------------------------------------------------


class _Hooks:
    """Run :func:`dedupe` once per ``update_feeds()`` and after each ``update_feed()``, when
    the update brought a new or changed entry, or the entry counts moved since the last run
    (deleted entries, read or important set by the user); otherwise nothing is read."""

    def __init__(self) -> None:
        self.batch = False
        self.changed = False

    def before_feeds(self, reader: Any, *_: Any) -> None:
        self.batch = True

    def after_entry(self, reader: Any, *_: Any) -> None:
        self.changed = True  # a new or modified entry

    def run(self, reader: Any) -> None:
        changed, self.changed = self.changed, False
        if changed or changed_since_last_run(reader):
            dedupe(reader)

    def after_feed(self, reader: Any, *_: Any) -> None:
        if not self.batch:  # update_feed(): no feeds hooks around it
            self.run(reader)

    def after_feeds(self, reader: Any, *_: Any) -> None:
        self.batch = False
        self.run(reader)


def init_reader(reader: Any) -> None:
    """The reader library's plugin entry point: ``digestfeed.reader_plugin:init_reader``.

    Registering twice on the same reader library ``Reader`` is a no-op.
    """
    if any(
        isinstance(getattr(h, "__self__", None), _Hooks) for h in reader.after_feeds_update_hooks
    ):
        return
    hooks = _Hooks()
    reader.before_feeds_update_hooks.append(hooks.before_feeds)
    reader.after_entry_update_hooks.append(hooks.after_entry)
    reader.after_feed_update_hooks.append(hooks.after_feed)
    reader.after_feeds_update_hooks.append(hooks.after_feeds)
