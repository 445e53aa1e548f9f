"""The ledger: ``id → content hash, published, updated`` committed beside the sources.

It is what makes rebuilds honest: an entry keeps its ``published`` and ``updated`` byte for
byte until its content changes, an edited title keeps its id (matched by date and position,
or by title similarity), and a deleted entry is remembered so its id is never reused.
The only clock read in a build happens here, for an entry whose content hash changed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .config import Config
from .errors import LedgerError
from .model import Entry

LEDGER_NAME = ".ledger.json"
LEDGER_VERSION = 1
#: Title similarity (difflib ratio) above which an unknown entry is an edit of a lost one.
SIMILAR = 0.75
#: Looser similarity accepted when the date and position match too.
SIMILAR_SAME_POSITION = 0.4


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
        data = dataclasses.asdict(self)
        del data["id"]
        if not self.deleted:
            del data["deleted"]
        return data


@dataclasses.dataclass(frozen=True, slots=True)
class Timed:
    """An entry with the times the ledger gives it."""

    entry: Entry
    published: dt.datetime
    updated: dt.datetime


def first_published(entry: Entry, config: Config) -> dt.datetime:
    """The digest date at ``publish_hour``, one minute earlier per position (first = newest)."""
    base = dt.datetime.fromisoformat(entry.date).replace(hour=config.publish_hour, tzinfo=config.tz)
    return base - dt.timedelta(minutes=entry.position)


def rfc3339(value: dt.datetime) -> str:
    return value.isoformat(timespec="seconds")


class Ledger:
    """Records by id; load with :meth:`load`, reconcile with :meth:`apply`, save with :meth:`save`."""

    def __init__(self, records: Iterable[Record] = (), path: Path | None = None) -> None:
        self.records: dict[str, Record] = {r.id: r for r in records}
        self.path = path

    @classmethod
    def load(cls, path: Path) -> Ledger:
        """Read ``path`` (absent = empty). A corrupt file is a :class:`LedgerError`, never reset."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path=path)
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
                record = Record(id=entry_id, **raw)
                dt.datetime.fromisoformat(record.published)
                dt.datetime.fromisoformat(record.updated)
                if not isinstance(record.position, int) or not isinstance(record.hash, str):
                    raise TypeError("bad field type")
            except (TypeError, ValueError) as exc:
                raise LedgerError(f"{path}: record {entry_id!r} is invalid: {exc}") from None
            records.append(record)
        return cls(records, path)

    def dumps(self) -> str:
        data = {
            "version": LEDGER_VERSION,
            "entries": {k: self.records[k].to_json() for k in sorted(self.records)},
        }
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"

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
        fd, tmp = tempfile.mkstemp(prefix=".ledger.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    def apply(self, entries: Sequence[Entry], config: Config, now: dt.datetime) -> list[Timed]:
        """Reconcile ``entries`` with the records; return them with their times.

        New entries get their first-published time; edited ones keep their id and get
        ``updated = now`` (one second apart, so no two share it); unchanged ones keep both
        times as recorded; records of entries no longer present are marked deleted.
        """
        entries = self._resolve_ids(entries)
        now = now.replace(microsecond=0)
        out: list[Timed] = []
        edited: list[int] = []
        present = set()
        for entry in entries:
            present.add(entry.id)
            digest = entry.content_hash()
            record = self.records.get(entry.id)
            if record is None:
                published = first_published(entry, config)
                record = Record(entry.id, entry.date, entry.position, entry.title, digest,
                                rfc3339(published), rfc3339(published))  # fmt: skip
            elif record.hash != digest or record.deleted:
                edited.append(len(out))
                record = dataclasses.replace(record, hash=digest, title=entry.title, deleted=False,
                                             date=entry.date, position=entry.position)  # fmt: skip
            elif (record.date, record.position, record.title) != (entry.date, entry.position, entry.title):
                record = dataclasses.replace(record, date=entry.date, position=entry.position)
            self.records[entry.id] = record
            out.append(Timed(entry, _parse(record.published), _parse(record.updated)))
        # Edited entries: updated = now, now-1s, … in feed order (newest published first).
        edited.sort(key=lambda i: (out[i].published, out[i].entry.id), reverse=True)
        taken = {t.updated for t in out}
        stamp = now
        for i in edited:
            while stamp in taken:
                stamp -= dt.timedelta(seconds=1)
            taken.add(stamp)
            timed = out[i]
            if stamp < timed.published:
                stamp = timed.published  # a clock behind the entry's date: never go before it
            out[i] = Timed(timed.entry, timed.published, stamp)
            self.records[timed.entry.id] = dataclasses.replace(
                self.records[timed.entry.id], updated=rfc3339(stamp)
            )
            stamp -= dt.timedelta(seconds=1)
        for entry_id, record in list(self.records.items()):
            if entry_id not in present and not record.deleted:
                self.records[entry_id] = dataclasses.replace(record, deleted=True)
        return out

    def _resolve_ids(self, entries: Sequence[Entry]) -> list[Entry]:
        """Give an entry whose id is unknown the id of the lost record it is an edit of."""
        current = {e.id for e in entries}
        lost = [r for r in self.records.values() if r.id not in current]
        if not lost:
            return list(entries)
        by_date: dict[str, list[Record]] = {}
        for record in lost:
            by_date.setdefault(record.date, []).append(record)
        out = []
        for entry in entries:
            candidates = by_date.get(entry.date)
            if entry.id in self.records or not candidates:
                out.append(entry)
                continue
            best, best_score = None, 0.0
            for record in candidates:
                score = difflib.SequenceMatcher(None, record.title.casefold(), entry.title.casefold()).ratio()
                threshold = SIMILAR_SAME_POSITION if record.position == entry.position else SIMILAR
                if score >= threshold and score > best_score:
                    best, best_score = record, score
            if best is not None:
                candidates.remove(best)
                entry = dataclasses.replace(entry, id=best.id)
            out.append(entry)
        return out


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)
