"""The ledger: ``id → content hash, published, updated`` committed beside the sources.

It is what makes rebuilds honest: an entry keeps its ``published`` and ``updated`` byte for
byte until its content changes, an edited title keeps its id (matched by date and position,
or by title similarity), and a deleted entry stays recorded (``"deleted": true``) so that its
times come back if it is restored. The only clock read in a build happens here
(:func:`clock_now`), and only when an entry's content hash changed.

The file is JSON with one record per id, keys sorted, one field per line, so that
``git diff`` of a build shows exactly which entries were added, edited or deleted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .config import Config
from .errors import LedgerError
from .types import Entry, Timed, rfc3339, timed_key

_encode_string = json.encoder.encode_basestring  # the ensure_ascii=False form

LEDGER_NAME = ".ledger.json"
LEDGER_VERSION = 1
#: Title similarity (difflib ratio) above which an unknown entry is an edit of a lost one.
SIMILAR = 0.8
#: Looser similarity accepted when the date and position match too.
SIMILAR_SAME_POSITION = 0.6


@dataclasses.dataclass(frozen=True, slots=True)
class Record:
    id: str
    date: str
    position: int
    title: str
    hash: str
    published: str  #: RFC 3339
    updated: str  #: RFC 3339
    deleted: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "date": self.date,
            "hash": self.hash,
            "position": self.position,
            "published": self.published,
            "title": self.title,
            "updated": self.updated,
        }
        if self.deleted:
            data["deleted"] = True
        return data


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

    def __init__(self, records: Iterable[Record] = (), path: Path | None = None) -> None:
        self.records: dict[str, Record] = {r.id: r for r in records}
        self.path = path
        #: Whether :meth:`apply` changed any record (the file needs writing).
        self.changed = False
        #: ``(inode, size, mtime_ns)`` of the file when loaded (``None``: absent).
        self.stamp: tuple[int, int, int] | None = None

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
        if not isinstance(data, dict) or data.get("version") != LEDGER_VERSION:
            raise LedgerError(f"{path}: not a version-{LEDGER_VERSION} digestfeed ledger")
        records = []
        entries = data.get("entries")
        if not isinstance(entries, dict):
            raise LedgerError(f"{path}: 'entries' must be an object")
        for entry_id, raw in entries.items():
            try:
                if not isinstance(raw, dict):
                    raise TypeError("not an object")
                record = Record(id=entry_id, **raw)
                for name in ("date", "title", "hash", "published", "updated"):
                    if not isinstance(getattr(record, name), str):
                        raise TypeError(f"{name!r} must be a string")
                if type(record.position) is not int or type(record.deleted) is not bool:
                    raise TypeError("'position' must be an integer and 'deleted' a boolean")
                for name in ("published", "updated"):
                    if dt.datetime.fromisoformat(getattr(record, name)).tzinfo is None:
                        raise ValueError(f"{name!r} has no UTC offset")
            except (TypeError, ValueError) as exc:
                raise LedgerError(f"{path}: record {entry_id!r} is invalid: {exc}") from None
            records.append(record)
        ledger = cls(records, path)
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
                f'   "date": {enc(r.date)},\n{deleted}   "hash": {enc(r.hash)},\n   "position": {int(r.position)},\n'
                f'   "published": {enc(r.published)},\n   "title": {enc(r.title)},\n'
                f'   "updated": {enc(r.updated)}\n  }}'
            )
        if not self.records:
            return f'{{\n "entries": {{}},\n "version": {LEDGER_VERSION}\n}}\n'
        parts.append(f'\n }},\n "version": {LEDGER_VERSION}\n}}\n')
        return "".join(parts)

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
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".ledger.", suffix=".tmp", dir=path.parent)
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; the ledger is an ordinary file
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.dumps())
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return Path(tmp)

    def apply(
        self,
        entries: Sequence[Entry],
        config: Config,
        now: dt.datetime | None = None,
        hashes: Mapping[Any, str] | None = None,
    ) -> list[Timed]:
        """Reconcile ``entries`` with the records; return them with their times.

        New entries get their first-published time; edited ones keep their id and get
        ``updated = now`` (one second apart, so no two share it); unchanged ones keep both
        times as recorded; records of entries no longer present are marked deleted.
        ``now`` defaults to :func:`clock_now`, read only when an entry was edited.
        ``hashes`` (``hash_key(entry) → content hash``, from the parse cache) saves
        recomputing them. Sets :attr:`changed` when any record changed.
        """
        entries = self._resolve_ids(entries)
        out: list[Timed] = []
        edited: list[int] = []
        present = set()
        changed = False
        for entry in entries:
            present.add(entry.id)
            digest = (hashes.get(hash_key(entry)) if hashes else None) or entry.content_hash()
            record = self.records.get(entry.id)
            if record is None:
                published = rfc3339(first_published(entry, config))
                record = Record(
                    entry.id, entry.date, entry.position, entry.title, digest, published, published
                )
            elif record.hash != digest:
                edited.append(len(out))
                record = dataclasses.replace(
                    record,
                    hash=digest,
                    title=entry.title,
                    deleted=False,
                    date=entry.date,
                    position=entry.position,
                )
            elif record.deleted or (record.date, record.position) != (entry.date, entry.position):
                # restored unchanged, or moved: not an edit, so its times stay as they were
                record = dataclasses.replace(
                    record, date=entry.date, position=entry.position, deleted=False
                )
            else:
                out.append(timed_of_record(entry, record))
                continue
            changed = True
            self.records[entry.id] = record
            out.append(timed_of_record(entry, record))
        if edited:
            self._stamp_edits(out, edited, (now or clock_now(config.tz)).replace(microsecond=0))
        for entry_id, record in list(self.records.items()):
            if entry_id not in present and not record.deleted:
                self.records[entry_id] = dataclasses.replace(record, deleted=True)
                changed = True
        self.changed = self.changed or changed
        return out

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
            self.records[timed.entry.id] = dataclasses.replace(
                self.records[timed.entry.id], updated=rfc3339(stamp)
            )
            stamp -= second

    def _resolve_ids(self, entries: Sequence[Entry]) -> list[Entry]:
        """Give an entry whose id is unknown the id of the lost record it is an edit of.

        Candidates are the lost records of the same date whose title is similar enough
        (looser at the same position); the best-scoring pairs are matched first, each
        record and entry at most once, so the outcome does not depend on file order.
        """
        current = {e.id for e in entries}
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


def timed_of_record(entry: Entry, record: Record) -> Timed:
    """The entry with the record's times (whose RFC 3339 text is already at hand)."""
    timed = object.__new__(Timed)
    for name, value in (
        ("entry", entry),
        ("published", _parse(record.published)),
        ("updated", _parse(record.updated)),
        ("hash", record.hash),
        ("key", timed_key(entry, record.hash, record.published, record.updated)),
    ):
        object.__setattr__(timed, name, value)
    return timed


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)
