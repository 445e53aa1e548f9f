"""The ledger: ``id → content hash, times, owner, seq`` committed beside the sources.

It is what makes rebuilds honest: an entry keeps its ``published`` and ``updated`` byte for
byte until its content changes, an edited title keeps its id (matched by date and position,
or by title similarity), and a deleted entry stays recorded (``"deleted": true``) so that its
times come back if it is restored. The only clock read in a build happens here
(:func:`clock_now`), and only when an entry's content hash changed.

Every record names its **owner**, the source file that first published the id
(``<source plugin>:<file name>``, never its folder), and its **seq**, the order of first
publication (1, 2, …; the archive pages are laid out in it). The file also records the
``tag_authority`` and ``tag_date`` its ids are minted under. The ownership rules (README,
"Design: ids, layout and ownership") are applied by :meth:`Ledger.apply`:

* a file that moved or was renamed (its owner name no longer read) keeps its ids, with a
  warning, and becomes their owner;
* a second file claiming a published id while the owner is still read is an error, except
  for sources whose class sets ``expects_copies = True`` (the vault): the newcomer gets the
  next free ``-N`` with a warning naming both files (an identical copy is dropped instead);
* ids that repeat within one file, or between files that are all new, get ``-2``, ``-3`` in
  order.

The file is JSON with one record per id, keys sorted, one field per line, so that
``git diff`` of a build shows exactly which entries were added, edited or deleted. A
version-1 ledger (no owners, seqs or authority) is migrated when read: owners are filled in
from the files claiming the ids, seqs follow the published order, the authority is read
from the ids.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import json
import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import Any, NamedTuple

from .config import Config
from .errors import LedgerError, ParseError, ParseErrors
from .sources.files import stage_beside
from .types import BuildWarning, Entry, Timed, rfc3339, shared_timezone, timed_key

_encode_string = json.encoder.encode_basestring  # the ensure_ascii=False form

LEDGER_NAME = ".ledger.json"
LEDGER_VERSION = 2
#: Versions :meth:`Ledger.load` reads (older ones are migrated and written as the current).
READABLE_VERSIONS = (1, 2)
#: Title similarity (difflib ratio) above which an unknown entry is an edit of a lost one.
SIMILAR = 0.8
#: Looser similarity accepted when the date and position match too.
SIMILAR_SAME_POSITION = 0.6


class Record(NamedTuple):
    """One id's line in the ledger (a named tuple: thousands are read and made per build)."""

    id: str
    date: str
    position: int
    title: str
    hash: str
    published: str  #: RFC 3339
    updated: str  #: RFC 3339
    deleted: bool = False
    #: ``<source plugin>:<file name>`` of the file that publishes the id ("" only for a
    #: record migrated from version 1 whose entry was already deleted: the next claimant owns it).
    owner: str = ""
    #: Order of first publication, 1, 2, … (0: not assigned yet).
    seq: int = 0

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "date": self.date,
            "hash": self.hash,
            "owner": self.owner,
            "position": self.position,
            "published": self.published,
            "seq": self.seq,
            "title": self.title,
            "updated": self.updated,
        }
        if self.deleted:
            data["deleted"] = True
        return data


def owner_of(entry: Entry, plugin: str = "digest") -> str:
    """``<plugin>:<file name>`` of the file an entry comes from (``entry.source`` is
    ``path:line``; the folder is dropped so that a moved file keeps its ids)."""
    path = entry.source.rpartition(":")[0] if ":" in entry.source else entry.source
    return f"{plugin}:{_file_name(path)}"


def _file_name(path: str) -> str:
    """``Path(path).name``; a POSIX path's last part is taken without making a Path."""
    name = path.rpartition("/")[2]
    if os.name == "posix" and name not in ("", ".", ".."):
        return name
    return Path(path).name


def _file_of(owner: str) -> str:
    return owner.partition(":")[2] or owner


def authority_of(entry_id: str) -> tuple[str, str] | None:
    """``(tag_authority, tag_date)`` of a ``tag:`` id, else ``None``."""
    if not entry_id.startswith("tag:"):
        return None
    head = entry_id[4:].partition(":")[0]
    authority, sep, date = head.rpartition(",")
    return (authority, date) if sep and authority else None


def hash_key(entry: Entry) -> tuple[str, int, str, str]:
    """What identifies one parsed entry within a build, to look its content hash up."""
    return (entry.source, entry.position, entry.date, entry.title)


def first_published(entry: Entry, config: Config) -> dt.datetime:
    """The digest date at ``publish_hour``, one minute earlier per position (first = newest)."""
    base = dt.datetime.fromisoformat(entry.date).replace(hour=config.publish_hour, tzinfo=config.tz)
    return base - dt.timedelta(minutes=entry.position)


def clock_now(tz: dt.tzinfo) -> dt.datetime:
    """The build time: ``$DIGESTFEED_NOW`` (ISO 8601) when set, else the clock (whole seconds)."""
    value = os.environ.get("DIGESTFEED_NOW")
    if value:
        try:
            stamp = dt.datetime.fromisoformat(value)
        except ValueError:
            raise LedgerError(f"DIGESTFEED_NOW={value!r} is not an ISO 8601 date-time") from None
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=tz)
    return dt.datetime.now(tz).replace(microsecond=0)


class Ledger:
    """Records by id; load with :meth:`load`, reconcile with :meth:`apply`, save with :meth:`save`."""

    def __init__(
        self,
        records: Iterable[Record] = (),
        path: Path | None = None,
        authority: tuple[str, str] | None = None,
    ) -> None:
        self.records: dict[str, Record] = {r.id: r for r in records}
        self.path = path
        #: ``(tag_authority, tag_date)`` the ids are minted under (``None``: not yet known).
        self.authority = authority
        #: Whether :meth:`apply` changed any record (the file needs writing).
        self.changed = False
        #: ``(inode, size, mtime_ns)`` of the file when loaded (``None``: absent).
        self.stamp: tuple[int, int, int] | None = None
        #: Warnings of the last :meth:`apply` (``path:line: message``): moved files, copies.
        self.warnings: list[str] = []
        #: Per feed, the seq of the last entry of each full archive page (see
        #: :mod:`digestfeed.plan`): written pages never move.
        self.pages: dict[str, tuple[int, ...]] = {}
        #: RFC 3339 text → its datetime, for the times already parsed (by :meth:`load`).
        self._times: dict[str, dt.datetime] = {}

    @classmethod
    def load(cls, path: Path) -> Ledger:
        """Read ``path`` (absent = empty). A corrupt file is a :class:`LedgerError`, never reset."""
        try:
            with path.open("rb") as fh:
                st = os.fstat(fh.fileno())
                text = fh.read().decode("utf-8")
        except FileNotFoundError:
            return cls(path=path)
        except IsADirectoryError:
            raise LedgerError(f"{path}: the ledger is a directory, expected a JSON file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise LedgerError(f"{path}: cannot read the ledger: {exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LedgerError(
                f"{path}:{exc.lineno}: the ledger is not valid JSON ({exc.msg}); "
                "fix it or restore it from git — it is never reset silently"
            ) from None
        version = data.get("version") if isinstance(data, dict) else None
        if version not in READABLE_VERSIONS or type(version) is not int:
            raise LedgerError(
                f"{path}: not a digestfeed ledger of version "
                + " or ".join(map(str, READABLE_VERSIONS))
            )
        entries = data.get("entries")
        if not isinstance(entries, dict):
            raise LedgerError(f"{path}: 'entries' must be an object")
        fast = _well_formed(entries) if version >= 2 else None
        records, times = fast if fast is not None else ([], {})
        for entry_id, raw in entries.items() if fast is None else ():
            try:
                if not isinstance(raw, dict):
                    raise TypeError("not an object")
                if version >= 2 and not {"owner", "seq"} <= raw.keys():
                    raise TypeError("'owner' and 'seq' are required")
                record = Record(id=entry_id, **raw)
                for name in ("date", "title", "hash", "published", "updated", "owner"):
                    if not isinstance(getattr(record, name), str):
                        raise TypeError(f"{name!r} must be a string")
                if type(record.position) is not int or type(record.deleted) is not bool:
                    raise TypeError("'position' must be an integer and 'deleted' a boolean")
                if type(record.seq) is not int or record.seq < (1 if version >= 2 else 0):
                    raise TypeError("'seq' must be a positive integer")
                for name in ("published", "updated"):
                    if dt.datetime.fromisoformat(getattr(record, name)).tzinfo is None:
                        raise ValueError(f"{name!r} has no UTC offset")
            except (TypeError, ValueError) as exc:
                raise LedgerError(f"{path}: record {entry_id!r} is invalid: {exc}") from None
            records.append(record)
        authority: tuple[str, str] | None = None
        if version >= 2:
            pair = (data.get("tag_authority"), data.get("tag_date"))
            if not all(isinstance(v, str) and v for v in pair):
                raise LedgerError(f"{path}: 'tag_authority' and 'tag_date' must be strings")
            authority = (str(pair[0]), str(pair[1]))
            seqs = [r.seq for r in records]
            if len(set(seqs)) != len(seqs):
                raise LedgerError(f"{path}: two records share one 'seq'")
            raw_pages = data.get("archive_pages", {})
            if not isinstance(raw_pages, dict) or not all(
                isinstance(v, list) and all(type(n) is int and n > 0 for n in v)
                for v in raw_pages.values()
            ):
                raise LedgerError(f"{path}: 'archive_pages' must map feeds to lists of seqs")
            pages = {str(k): tuple(v) for k, v in raw_pages.items()}
        else:  # version 1: seq by published order, authority from the ids
            records = _migrated(records)
            found = {authority_of(r.id) for r in records} - {None}
            authority = found.pop() if len(found) == 1 else None
        ledger = cls(records, path, authority)
        ledger._times = times
        if version >= 2:
            ledger.pages = pages
        ledger.changed = version != LEDGER_VERSION
        ledger.stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        return ledger

    def dumps(self) -> str:
        """The file's text: ``json.dumps(…, indent=1, sort_keys=True, ensure_ascii=False)``,
        written out directly (several times faster for tens of thousands of records)."""
        enc = _encode_string
        parts = ['{\n "entries": {']
        first = True
        for key in sorted(self.records):
            r = self.records[key]
            parts.append(("\n" if first else ",\n") + f"  {enc(key)}: {{\n")
            first = False
            deleted = '   "deleted": true,\n' if r.deleted else ""
            parts.append(
                f'   "date": {enc(r.date)},\n{deleted}   "hash": {enc(r.hash)},\n'
                f'   "owner": {enc(r.owner)},\n   "position": {int(r.position)},\n'
                f'   "published": {enc(r.published)},\n   "seq": {int(r.seq)},\n'
                f'   "title": {enc(r.title)},\n   "updated": {enc(r.updated)}\n  }}'
            )
        authority, tag_date = self.authority or ("", "")
        tail = (
            f' "tag_authority": {enc(authority)},\n "tag_date": {enc(tag_date)},\n'
            f' "version": {LEDGER_VERSION}\n}}\n'
        )
        pages = ",\n".join(
            f"  {enc(name)}: [{', '.join(map(str, self.pages[name]))}]"
            for name in sorted(self.pages)
        )
        head = '{\n "archive_pages": ' + (f"{{\n{pages}\n }},\n" if pages else "{},\n")
        if not self.records:
            return head + ' "entries": {},\n' + tail
        parts[0] = head + parts[0][2:]
        parts.append("\n },\n" + tail)
        return "".join(parts)

    def set_pages(self, pages: Mapping[str, Sequence[int]]) -> None:
        """Record the archive pages the plan laid out (sets :attr:`changed` when new)."""
        new = {name: tuple(bounds) for name, bounds in pages.items() if bounds}
        if new != self.pages:
            self.pages = new
            self.changed = True

    def save(self, path: Path | None = None) -> bool:
        """Write atomically when the text changed; return whether it was written."""
        path = path or self.path
        assert path is not None
        text = self.dumps()
        try:
            if path.read_text(encoding="utf-8") == text:
                return False
        except FileNotFoundError:
            pass
        os.replace(self.stage(path), path)
        return True

    def stage(self, path: Path | None = None) -> Path:
        """Write the ledger to a temporary file beside ``path`` (to ``os.replace`` it later)."""
        path = path or self.path
        assert path is not None
        return stage_beside(path, self.dumps().encode("utf-8"), ".ledger.")

    def check_authority(self, config: Config) -> None:
        """Refuse a ``tag_authority``/``tag_date`` other than the one the published ids are
        minted under (a ledger without records adopts the config's)."""
        wanted = (config.tag_authority, config.tag_date)
        if not self.records or self.authority is None:
            if self.authority != wanted:
                self.authority = wanted
                self.changed = True
            return
        if self.authority != wanted:
            where = self.path if self.path is not None else "the ledger"
            raise LedgerError(
                f"{where}: its {len(self.records)} published ids are minted under "
                f"tag_authority = {self.authority[0]!r}, tag_date = {self.authority[1]!r}, but the "
                f"config says tag_authority = {wanted[0]!r}, tag_date = {wanted[1]!r}. Published ids "
                "never change: set them back in digestfeed.toml, or run 'digestfeed build "
                "--reset-ids' to start a new ledger on purpose (every entry gets a new id and "
                "subscribers see every entry again)"
            )

    def apply(
        self,
        entries: Sequence[Entry],
        config: Config,
        now: dt.datetime | None = None,
        hashes: Mapping[Any, str] | None = None,
        owners: Sequence[str] | None = None,
        copies: Collection[str] = (),
    ) -> list[Timed]:
        """Reconcile ``entries`` with the records; return them with their times.

        ``owners`` (parallel to ``entries``, ``<source plugin>:<file name>``; default: the
        ``digest`` plugin and each entry's file) say which file claims each id; ids that
        repeat are resolved by the ownership rules (see the module), ``copies`` naming the
        source plugins that expect copies. New entries get their first-published time and
        the next seqs; edited ones keep their id and get ``updated = now`` (one second
        apart, so no two share it); unchanged ones keep both times as recorded; records of
        entries no longer present are marked deleted. ``now`` defaults to
        :func:`clock_now`, read only when an entry was edited. ``hashes`` (``hash_key(entry)
        → content hash``, from the parse cache) saves recomputing them. Sets
        :attr:`changed` when any record changed and :attr:`warnings`. Raises
        :class:`LedgerError` for another tag authority, :class:`ParseErrors` for files that
        claim an id another file publishes.
        """
        self.check_authority(config)
        self.warnings = []
        owner_list = list(owners) if owners is not None else [owner_of(e) for e in entries]
        if len(owner_list) != len(entries):
            raise ValueError("owners must be parallel to entries")
        entries, owner_list = self._assign_ids(entries, owner_list, set(copies), hashes)
        entries = self._resolve_ids(entries, owner_list)
        records, times = self.records, self._times
        out: list[Timed] = []
        edited: list[int] = []
        present = set()
        new: list[tuple[int, Entry, str, str]] = []  # (index in out, entry, owner, hash)
        changed = False
        for entry, owner in zip(entries, owner_list, strict=True):
            entry_id = entry.id
            present.add(entry_id)
            digest = (
                hashes.get((entry.source, entry.position, entry.date, entry.title))  # hash_key
                if hashes
                else None
            ) or entry.content_hash()
            record = records.get(entry_id)
            if record is None:
                new.append((len(out), entry, owner, digest))
                out.append(None)  # type: ignore[arg-type]  # made by _add_new below
                continue
            if record.hash != digest:
                edited.append(len(out))
                record = record._replace(
                    hash=digest,
                    title=entry.title,
                    deleted=False,
                    date=entry.date,
                    position=entry.position,
                    owner=owner,
                )
            elif (
                record.deleted
                or record.date != entry.date
                or record.position != entry.position
                or record.owner != owner
            ):
                # restored unchanged, moved or renamed: not an edit, so its times stay
                record = record._replace(
                    date=entry.date, position=entry.position, deleted=False, owner=owner
                )
            else:
                out.append(_timed(entry, record, times))
                continue
            changed = True
            records[entry_id] = record
            out.append(_timed(entry, record, times))
        if new:
            self._add_new(out, new, config)
            changed = True
        if edited:
            self._stamp_edits(out, edited, (now or clock_now(config.tz)).replace(microsecond=0))
        gone = [k for k, r in records.items() if not r.deleted and k not in present]
        for entry_id in gone:
            records[entry_id] = records[entry_id]._replace(deleted=True)
        self.changed = self.changed or changed or bool(gone)
        return out

    def _add_new(
        self, out: list[Timed], new: list[tuple[int, Entry, str, str]], config: Config
    ) -> None:
        """Records for the new entries (``(index in out, entry, owner, content hash)``, in
        entry order): first published at their digest's date and position, the next seqs
        in ``published`` order (ties: by id)."""
        records, times = self.records, self._times
        bases: dict[str, dt.datetime] = {}
        minutes: dict[int, dt.timedelta] = {}
        zones: dict[dt.timedelta | None, dt.tzinfo | None] = {}
        published: list[str] = []
        whens: list[dt.datetime] = []
        for _, entry, _, _ in new:
            base = bases.get(entry.date)
            if base is None:  # first_published, once per date
                base = bases[entry.date] = dt.datetime.fromisoformat(entry.date).replace(
                    hour=config.publish_hour, tzinfo=config.tz
                )
            step = minutes.get(entry.position)
            if step is None:
                step = minutes[entry.position] = dt.timedelta(minutes=entry.position)
            local = base - step
            text = rfc3339(local)
            when = times.get(text)
            if when is None:
                # what _parse(text) gives: the same wall time (whole minutes) with the shared
                # fixed-offset zone of its offset, parsed once per offset
                offset = local.utcoffset()
                if offset not in zones:
                    zones[offset] = _parse(text).tzinfo
                when = times[text] = local.replace(tzinfo=zones[offset])
            published.append(text)
            whens.append(when)
        seq = max((r.seq for r in records.values()), default=0)
        seqs = [0] * len(new)
        for k in sorted(range(len(new)), key=lambda k: (whens[k], new[k][1].id)):
            seq += 1
            seqs[k] = seq
        for (i, entry, owner, digest), text, number in zip(new, published, seqs, strict=True):
            record = Record(
                entry.id,
                entry.date,
                entry.position,
                entry.title,
                digest,
                text,
                text,
                False,
                owner,
                number,
            )
            records[entry.id] = record
            out[i] = _timed(entry, record, times)

    def _assign_ids(
        self,
        entries: Sequence[Entry],
        owners: list[str],
        copies: set[str],
        hashes: Mapping[Any, str] | None,
    ) -> tuple[list[Entry], list[str]]:
        """Give each id to one claimant and the others a ``-N`` (or an error).

        The claimant that keeps an id is its recorded owner when that file is read in this
        build, else the first claimant (taking a moved or renamed owner's place, with a
        warning). Another claimant from the same file, or of an id nobody published yet,
        gets the next free ``-N``; of an id a present owner publishes, it is an error,
        unless its source expects copies (next free ``-N``, warning; identical copy dropped).
        """
        ids = [e.id for e in entries]
        if len(set(ids)) == len(ids):
            known = list(map(self.records.get, ids))
            recorded = [o if r is None else r.owner for r, o in zip(known, owners, strict=True)]
            if recorded == owners:
                return list(entries), owners  # the common case: every id claimed once, by its owner
        claims: dict[str, list[int]] = {}
        for i, entry_id in enumerate(ids):
            claims.setdefault(entry_id, []).append(i)
        present = set(owners)
        taken = set(claims)
        dropped: set[int] = set()
        errors: list[ParseError] = []

        def content(i: int) -> str:
            e = entries[i]
            return (hashes.get(hash_key(e)) if hashes else None) or e.content_hash()

        def next_free(base: str, owner: str) -> str:
            n = 2
            while True:
                candidate = f"{base}-{n}"
                record = self.records.get(candidate)
                if candidate not in taken and (record is None or record.owner in ("", owner)):
                    taken.add(candidate)
                    return candidate
                n += 1

        for base, idx in claims.items():
            record = self.records.get(base)
            owner = record.owner if record is not None else ""
            owner_here = bool(owner) and owner in present
            keeper: int | None = idx[0]
            if owner_here:
                keeper = next((i for i in idx if owners[i] == owner), None)
            elif record is not None and owner and owners[idx[0]] != owner:
                self.warnings.append(
                    BuildWarning(
                        "moved file",
                        entries[idx[0]].source,
                        f"keeps id {base} of {_file_of(owner)}, which is no longer read (a "
                        "moved or renamed file keeps its ids)",
                    )
                )
            for i in idx:
                if i == keeper:
                    continue
                holder = owners[keeper] if keeper is not None else owner
                if owners[i].partition(":")[0] in copies and owners[i] != holder:
                    if keeper is not None and content(i) == content(keeper):
                        dropped.add(i)
                        self.warnings.append(
                            BuildWarning(
                                "identical copies",
                                entries[i].source,
                                f"an identical copy of {entries[keeper].source} (id {base}); "
                                "published once",
                            )
                        )
                        continue
                    ids[i] = next_free(base, owners[i])
                    self.warnings.append(
                        BuildWarning(
                            "differing copies",
                            entries[i].source,
                            f"id {base} belongs to {_file_of(holder)}; this copy is published "
                            f"as {ids[i]}",
                        )
                    )
                elif owner_here and owners[i] != owner:
                    errors.append(
                        ParseError.at(
                            entries[i].source,
                            f"id {base} is published by {_file_of(owner)}: give this entry "
                            "another title, or remove it (a published id never passes to "
                            "another file while its owner is there)",
                        )
                    )
                else:  # the same file, or an id nobody published yet: -2, -3 in order
                    ids[i] = next_free(base, owners[i])
        if errors:
            raise ParseErrors(errors)
        out_entries: list[Entry] = []
        out_owners: list[str] = []
        for i, entry in enumerate(entries):
            if i in dropped:
                continue
            out_entries.append(
                entry if ids[i] == entry.id else dataclasses.replace(entry, id=ids[i])
            )
            out_owners.append(owners[i])
        return out_entries, out_owners

    def _stamp_edits(self, out: list[Timed], edited: list[int], now: dt.datetime) -> None:
        """``updated = now, now-1s, …`` for the edited entries in feed order (newest first),
        skipping every ``updated`` already in use and never earlier than ``published``."""
        edited.sort(key=lambda i: (out[i].published, out[i].entry.id), reverse=True)
        taken = {t.updated for t in out}
        stamp = now
        second = dt.timedelta(seconds=1)
        for i in edited:
            timed = out[i]
            while stamp in taken:
                stamp -= second
            if stamp < timed.published:  # a clock behind the entry's date: never before it
                stamp = timed.published
                while stamp in taken:
                    stamp += second
            taken.add(stamp)
            out[i] = dataclasses.replace(timed, updated=stamp)
            self.records[timed.entry.id] = self.records[timed.entry.id]._replace(
                updated=rfc3339(stamp)
            )
            stamp -= second

    def _resolve_ids(self, entries: Sequence[Entry], owners: Sequence[str]) -> list[Entry]:
        """Give an entry whose id is unknown the id of the lost record it is an edit of.

        Candidates are the lost records of the same date whose title is similar enough
        (looser at the same position) and that belong to the entry's file (or to a file no
        longer read); the best-scoring pairs are matched first, each record and entry at
        most once, so the outcome does not depend on file order.
        """
        current = {e.id for e in entries}
        present = set(owners)
        lost = [r for r in self.records.values() if r.id not in current]
        if not lost:
            return list(entries)
        by_date: dict[str, list[Record]] = {}
        for record in lost:
            by_date.setdefault(record.date, []).append(record)
        pairs: list[tuple[float, int, str]] = []
        for index, entry in enumerate(entries):
            if entry.id in self.records:
                continue
            for record in by_date.get(entry.date, ()):
                if record.owner and record.owner != owners[index] and record.owner in present:
                    continue  # another file's id, and that file is still read
                score = difflib.SequenceMatcher(
                    None, record.title.casefold(), entry.title.casefold()
                ).ratio()
                threshold = SIMILAR_SAME_POSITION if record.position == entry.position else SIMILAR
                if score >= threshold:
                    pairs.append((score, index, record.id))
        out = list(entries)
        taken_entries: set[int] = set()
        taken_records: set[str] = set()
        for _score, index, record_id in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
            if index in taken_entries or record_id in taken_records:
                continue
            taken_entries.add(index)
            taken_records.add(record_id)
            out[index] = dataclasses.replace(out[index], id=record_id)
        return out


#: The fields every version-2 record has (``deleted`` is written only when true).
_REQUIRED = ("date", "hash", "owner", "position", "published", "seq", "title", "updated")
_has_deleted = methodcaller("__contains__", "deleted")
_deleted = methodcaller("get", "deleted", False)


def _well_formed(
    entries: dict[str, Any],
) -> tuple[list[Record], dict[str, dt.datetime]] | None:
    """The records of a version-2 ``entries`` object and their times parsed (RFC 3339 text
    → datetime) when every record is well-formed, checked field by field over all records
    at once; ``None`` when any is not (:meth:`Ledger.load` then checks them one by one, to
    name the first that is not)."""
    raws = list(entries.values())
    if not set(map(type, raws)) <= {dict}:
        return None
    if not raws:
        return [], {}
    try:  # one list per field (not a tuple per record: fewer objects for the GC to track)
        date, digest, owner, position, published, seq, title, updated = (
            list(map(itemgetter(name), raws)) for name in _REQUIRED
        )
    except KeyError:
        return None
    if sum(map(len, raws)) != len(_REQUIRED) * len(raws) + sum(map(_has_deleted, raws)):
        return None  # a field other than the known ones
    deleted = list(map(_deleted, raws))
    if not (
        all(set(map(type, column)) <= {str} for column in (date, digest, owner, title))
        and set(map(type, published)) | set(map(type, updated)) <= {str}
        and set(map(type, position)) <= {int}
        and set(map(type, seq)) <= {int}
        and min(seq) >= 1
        and set(map(type, deleted)) <= {bool}
    ):
        return None
    texts = set(published) | set(updated)
    try:
        times = dict(zip(texts, map(_parse, texts), strict=True))
    except ValueError:
        return None
    if None in map(_tzinfo, times.values()):
        return None
    records = list(
        map(Record, entries, date, position, title, digest, published, updated, deleted, owner, seq)
    )
    return records, times


def _tzinfo(value: dt.datetime) -> dt.tzinfo | None:
    return value.tzinfo


def _migrated(records: list[Record]) -> list[Record]:
    """Version-1 records with seqs by published order (owners are filled in by the first
    :meth:`Ledger.apply` from the files that claim the ids)."""
    ordered = sorted(records, key=lambda r: (_parse(r.published), r.id))
    return [r._replace(seq=n) for n, r in enumerate(ordered, 1)]


def timed_of_record(entry: Entry, record: Record) -> Timed:
    """The entry with the record's times (whose RFC 3339 text is already at hand)."""
    return _timed(entry, record, {})


_new_object = object.__new__
# Timed is a frozen dataclass with slots: its slots are set the way its __init__ sets them,
# bypassing the frozen __setattr__, without recomputing what the record already holds
_set_entry, _set_published, _set_updated, _set_hash, _set_seq, _set_key = (
    vars(Timed)[name].__set__ for name in ("entry", "published", "updated", "hash", "seq", "key")
)


def _timed(entry: Entry, record: Record, times: dict[str, dt.datetime]) -> Timed:
    """:func:`timed_of_record`, with ``times`` (RFC 3339 text → datetime) remembering the
    times parsed."""
    published, updated = record.published, record.updated
    when = times.get(published)
    if when is None:
        when = times[published] = _parse(published)
    changed = times.get(updated)
    if changed is None:
        changed = times[updated] = _parse(updated)
    timed: Timed = _new_object(Timed)
    _set_entry(timed, entry)
    _set_published(timed, when)
    _set_updated(timed, changed)
    _set_hash(timed, record.hash)
    _set_seq(timed, record.seq)
    _set_key(timed, timed_key(entry, record.hash, published, updated))
    return timed


def _parse(value: str) -> dt.datetime:
    return shared_timezone(dt.datetime.fromisoformat(value))  # fast to compare and sort
