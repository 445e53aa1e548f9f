"""The data types a plugin author needs, in one place.

A **source** plugin returns :class:`Digest` objects holding :class:`Entry` objects; an
**output** plugin receives a :class:`FeedSet` (feeds, split into :class:`Document` objects,
each holding :class:`Timed` entries) and writes files, either all at once (:class:`Output`)
or lazily, one :class:`FileSpec` per file (:class:`LazyOutput`)::

    from digestfeed import Digest, Entry, FeedSet, FileSpec, Output, Source

The functions that work on these types stay with their subject: tag slugs and entry ids in
:mod:`digestfeed.model` (the ``tag:`` URI itself, :func:`make_id`, is here), feeds and documents in :mod:`digestfeed.plan`, times in
:mod:`digestfeed.ledger`. This module imports nothing else of digestfeed at import time,
so any module may import it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    from .config import Config

#: A :class:`BuildWarning`'s level: shown and counted, or only counted (``-v`` lists it).
Level = Literal["warning", "info"]

#: A feed's language: ``None`` = bilingual.
Lang = Literal["ko", "en"] | None


class BuildWarning(str):
    """A warning with a *kind*, and still the plain ``path:line: message`` string it always was.

    Sources and the build report what they re-interpreted as warnings; the build's summary
    groups them by :attr:`kind` (``12 unclosed <english>; -v lists them``). Being a
    :class:`str` (its text is ``where: message``), a warning goes wherever warnings went
    before: ``"no abstract" in w``, ``f"warning: {w}"``, JSON, sorting. A plain ``str``
    warning (a third-party source's) has the kind :data:`OTHER`.

    ``kind`` is a short lowercase noun phrase printed after a count (``unclosed <english>``,
    ``same-day copies``), one per kind of re-interpretation. ``level`` is ``"warning"``
    (shown, counted) or ``"info"``: something a note style legitimately lacks (no abstract
    in older notes); infos are only counted, and listed with ``-v``.
    """

    kind: str
    where: str  #: ``path:line``, ``path``, or ``""``
    message: str
    level: Level

    def __new__(
        cls,
        kind: str,
        where: str,
        message: str,
        level: Level = "warning",
    ) -> BuildWarning:
        self = super().__new__(cls, f"{where}: {message}" if where else message)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "where", where)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "level", level)
        return self

    def __setattr__(self, name: str, value: object) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:  # copy and pickle keep the fields
        return (type(self), (self.kind, self.where, self.message, self.level))

    def __repr__(self) -> str:
        return f"BuildWarning({self.kind!r}, {self.where!r}, {self.message!r}, {self.level!r})"


#: The kind of a warning that is a plain string.
OTHER = "other"


def warning_kind(warning: str) -> str:
    """A warning's kind: :attr:`BuildWarning.kind`, or :data:`OTHER` for a plain string."""
    return warning.kind if isinstance(warning, BuildWarning) else OTHER


def is_info(warning: str) -> bool:
    """Whether a warning only counts (``level == "info"``): shown with ``-v`` at most."""
    return isinstance(warning, BuildWarning) and warning.level == "info"


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """One paper of one digest."""

    id: str
    date: str  #: ``YYYY-MM-DD``, the digest's date
    title: str
    authors: tuple[str, ...]
    abstract: str
    comment_ko: str
    comment_en: str
    tags: tuple[str, ...]  #: canonical slugs, written order, no repeats
    links: tuple[str, ...]  #: every http(s) URL in the entry, in order
    source: str  #: ``path:line`` of the title line
    #: The tags as written (``#Object_Detection``), parallel to :attr:`tags`.
    tag_labels: tuple[str, ...] = ()
    #: The paper's own URL, when the source knows it (the vault does; digests do not).
    url: str | None = None
    #: 0-based position within its digest.
    position: int = 0
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The ``parse --format json`` object: exactly
        :data:`digestfeed.model.ENTRY_JSON_KEYS`."""
        return {
            "id": self.id,
            "date": self.date,
            "title": self.title,
            "authors": list(self.authors),
            "abstract": self.abstract,
            "comment_ko": self.comment_ko,
            "comment_en": self.comment_en,
            "tags": list(self.tags),
            "links": list(self.links),
            "source": self.source,
        }

    def content_hash(self) -> str:
        """Hash of everything a reader sees; an edit changes it, a move (source line) does not.

        Fields are joined with NUL and list items with RS: both are control characters the
        sources remove from text, so the join is unambiguous (and far cheaper than JSON).
        """
        rs = "\x1e"
        payload = "\0".join(
            (
                self.title,
                rs.join(self.authors),
                self.abstract,
                self.comment_ko,
                self.comment_en,
                rs.join(self.tags),
                rs.join(self.tag_labels),
                rs.join(self.links),
                self.url or "",
            )
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


@dataclasses.dataclass(frozen=True, slots=True)
class Digest:
    """One dated digest file and its entries."""

    path: str
    date: str
    entries: tuple[Entry, ...]
    warnings: tuple[str, ...] = ()
    #: The source plugin that read it (set by the build; its ledger owner is
    #: ``<plugin>:<file name>``).
    plugin: str = ""


def make_id(authority: str, tag_date: str, specific: str) -> str:
    """An RFC 4151 ``tag:`` URI: every id digestfeed writes is one (entry ids are made in
    :mod:`digestfeed.model`, feed ids by :meth:`FeedSet.feed_id`)."""
    return f"tag:{authority},{tag_date}:{specific}"


def rfc3339(value: dt.datetime) -> str:
    """A time as :class:`Timed` keys it and the feeds write it: ISO 8601, whole seconds."""
    return value.isoformat(timespec="seconds")


def timed_key(entry: Entry, digest: str, published: str, updated: str) -> bytes:
    """Everything of a timed entry that its rendered bytes depend on: id, content hash, date
    (the digest page link) and times. Renderers' fingerprints hash it per entry."""
    return f"\0{entry.id}\0{digest}\0{entry.date}\0{published}\0{updated}".encode()


@dataclasses.dataclass(frozen=True, slots=True)
class Timed:
    """An entry with the times the ledger gives it."""

    entry: Entry
    published: dt.datetime
    updated: dt.datetime
    #: ``entry.content_hash()`` (computed here when not given; the ledger passes it).
    hash: str = ""
    #: The ledger's order of first publication (1, 2, …; 0 when not from a ledger): archive
    #: pages are laid out in it.
    seq: int = 0
    #: ``\0id\0hash\0date\0published\0updated`` (RFC 3339), UTF-8: what a renderer's fingerprint
    #: hashes per entry. Computed once here instead of once per document holding the entry.
    key: bytes = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.hash:
            object.__setattr__(self, "hash", self.entry.content_hash())
        for name in ("published", "updated"):
            value = getattr(self, name)
            shared = shared_timezone(value)
            if shared is not value:
                object.__setattr__(self, name, shared)
        object.__setattr__(
            self,
            "key",
            timed_key(self.entry, self.hash, rfc3339(self.published), rfc3339(self.updated)),
        )


#: One ``datetime.timezone`` object per (offset, name): see :func:`shared_timezone`.
_TIMEZONES: dict[tuple[dt.timedelta | None, str | None], dt.tzinfo] = {}


def shared_timezone(value: dt.datetime) -> dt.datetime:
    """``value`` with the one shared ``datetime.timezone`` object of its offset and name.

    Each parsed time carries a timezone object of its own, and Python compares two aware
    times whose tzinfo objects differ by asking both for their offsets: sorting ten
    thousand entries by time was ten times slower than with one object per offset. The
    value, its offset and its name are unchanged.
    """
    tz = value.tzinfo
    if type(tz) is not dt.timezone:  # naive, or a zoneinfo zone (shared already)
        return value
    shared = _TIMEZONES.setdefault((tz.utcoffset(None), tz.tzname(None)), tz)
    return value if shared is tz else value.replace(tzinfo=shared)


@dataclasses.dataclass(frozen=True, slots=True)
class Feed:
    """One subscribable feed and all its entries (newest first)."""

    name: str  #: ``all``, ``ko``, ``tags/rl``, ``tags/rl.en`` — the path without extension
    lang: Lang
    tag: str | None
    label: str | None  #: the tag as first written (``#Object_Detection``)
    title: str
    entries: tuple[Timed, ...]

    @property
    def updated(self) -> Timed | None:
        return max(self.entries, key=lambda t: t.updated) if self.entries else None


@dataclasses.dataclass(frozen=True, slots=True)
class Document:
    """One file's worth of a feed: its subscription document or one archive page."""

    feed: Feed
    path: str  #: relative path without extension (``tags/rl.en``, ``archive/all/3``)
    entries: tuple[Timed, ...]
    archive: bool  #: an RFC 5005 archive document (``fh:archive``)
    complete: bool  #: the whole feed fits (``fh:complete``)
    prev_archive: str | None = None
    next_archive: str | None = None

    @property
    def current(self) -> str:
        return self.feed.name


@dataclasses.dataclass(frozen=True, slots=True)
class FeedSet:
    """Everything an output needs: the config, all entries, feeds and documents."""

    config: Config
    entries: tuple[Timed, ...]
    feeds: tuple[Feed, ...]
    documents: tuple[Document, ...]
    #: Per feed, the seq of the last entry of each full archive page, oldest first (what the
    #: ledger keeps so that written pages never move); feeds without pages are left out.
    archive_pages: Mapping[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)

    def feed_id(self, name: str) -> str:
        """The id of the feed (or archive page) ``name``: ``tag:…:feed/<name>``."""
        return make_id(self.config.tag_authority, self.config.tag_date, f"feed/{name}")

    def newest_update(self, doc: Document) -> dt.datetime:
        """A document's ``updated``: its newest entry's, never the build time (an empty
        document gets a fixed date, New Year of the config's tag date)."""
        newest = max((t.updated for t in doc.entries), default=None)
        if newest is None:
            newest = dt.datetime(int(self.config.tag_date[:4]), 1, 1, tzinfo=self.config.tz)
        return newest


class FileSpec(NamedTuple):
    """One file of a :class:`LazyOutput`: where it goes, what it depends on, how to make it."""

    path: str  #: relative path, ``/``-separated (``tags/rl.en.xml``)
    #: Equal fingerprints promise equal bytes (the build then skips :attr:`render`); ``None``
    #: when unknown (a plain :class:`Output`'s file), which always renders.
    fingerprint: str | None
    render: Callable[[], bytes]


@runtime_checkable
class Source(Protocol):
    """Reads one directory into dated digests.

    ``read`` returns the digests (each with its entries and its warnings, ``path:line:
    message``) and raises :class:`~digestfeed.errors.ParseErrors` holding *every* file it
    could not read, after trying them all. Entry ids must be stable across runs.

    Ids that repeat across files are resolved by the build's ledger, which knows the file
    that first published each id: a second file claiming it is an error, unless the class
    sets ``expects_copies = True`` (the vault does): the copy then gets the next free ``-N``.
    """

    name: str

    def read(self, directory: Path, config: Config) -> list[Digest]: ...


@runtime_checkable
class Output(Protocol):
    """Writes files from the feed set: ``relative path → bytes`` (paths use ``/``)."""

    name: str

    def render(self, feedset: FeedSet, config: Config) -> dict[str, bytes]: ...


@runtime_checkable
class LazyOutput(Protocol):
    """The built-in outputs' interface: one :class:`FileSpec` ``(relative path, fingerprint,
    render)`` per file; equal fingerprints promise equal bytes. ``formats`` names every
    output being built (for alternate links)."""

    name: str

    def files(
        self, feedset: FeedSet, formats: tuple[str, ...] = ()
    ) -> Iterator[tuple[str, str, Callable[[], bytes]]]: ...


__all__ = [
    "OTHER",
    "BuildWarning",
    "Digest",
    "Document",
    "Entry",
    "Feed",
    "FeedSet",
    "FileSpec",
    "Lang",
    "LazyOutput",
    "Level",
    "Output",
    "Source",
    "Timed",
    "is_info",
    "warning_kind",
]
