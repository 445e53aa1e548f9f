"""The ledger: stable times, edits, typo fixes, deletions, a readable file, loud corruption."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from digestfeed.config import Config
from digestfeed.errors import LedgerError
from digestfeed.ledger import Ledger, clock_now
from digestfeed.model import entry_id
from digestfeed.types import Entry, Timed

CONFIG = Config()
SEOUL = dt.timezone(dt.timedelta(hours=9))
T1 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=SEOUL)
T2 = dt.datetime(2026, 2, 1, 12, 0, tzinfo=SEOUL)


def make(date: str, position: int, title: str, comment: str = "A comment.") -> Entry:
    return Entry(
        id=entry_id(CONFIG.tag_authority, CONFIG.tag_date, date, title),
        date=date,
        title=title,
        authors=("Ada Lovelace",),
        abstract="Abstract.",
        comment_ko="코멘트.",
        comment_en=comment,
        tags=("rl",),
        links=(),
        source=f"{date}.txt:{position + 2}",
        tag_labels=("#rl",),
        position=position,
    )


ENTRIES = [
    make("2025-05-01", 0, "Alpha Paper on Agents"),
    make("2025-05-01", 1, "Beta Paper on Bandits"),
    make("2025-05-02", 0, "Gamma Paper on Graphs"),
]


def by_id(timed: list[Timed]) -> dict[str, Timed]:
    return {t.entry.id: t for t in timed}


def test_new_entries_get_their_digest_time_and_no_clock() -> None:
    """A new entry is published and updated at its digest's publish hour (minus a minute per position), whatever the clock."""
    ledger = Ledger()
    timed = by_id(ledger.apply(ENTRIES, CONFIG, T1))
    first = timed[ENTRIES[0].id]
    assert first.published == first.updated == dt.datetime(2025, 5, 1, 9, 0, tzinfo=CONFIG.tz)
    assert timed[ENTRIES[1].id].published == dt.datetime(2025, 5, 1, 8, 59, tzinfo=CONFIG.tz)
    assert ledger.changed


def test_unchanged_input_changes_nothing(tmp_path: Path) -> None:
    """Reapplying the same entries at a later time gives the same times and leaves the file's text unchanged."""
    path = tmp_path / ".ledger.json"
    ledger = Ledger(path=path)
    first = ledger.apply(ENTRIES, CONFIG, T1)
    assert ledger.save()
    again = Ledger.load(path)
    second = again.apply(ENTRIES, CONFIG, T2)
    assert [(t.published, t.updated) for t in first] == [(t.published, t.updated) for t in second]
    assert not again.changed
    assert not again.save()


def test_no_clock_read_without_an_edit(monkeypatch: pytest.MonkeyPatch) -> None:
    """apply() without ``now`` reads the clock only when an entry was edited."""
    reads = []
    monkeypatch.setattr("digestfeed.ledger.clock_now", lambda tz: reads.append(tz) or T2)
    ledger = Ledger()
    ledger.apply(ENTRIES, CONFIG)
    ledger.apply(ENTRIES, CONFIG)
    assert reads == []
    ledger.apply([dataclasses.replace(ENTRIES[0], comment_en="Edited."), *ENTRIES[1:]], CONFIG)
    assert len(reads) == 1


def test_edit_keeps_id_and_published_and_takes_now() -> None:
    """An edited entry keeps id and published, takes updated = now; the others keep both times."""
    ledger = Ledger()
    before = by_id(ledger.apply(ENTRIES, CONFIG, T1))
    edited = [
        dataclasses.replace(ENTRIES[1], comment_en="Changed my mind."),
        ENTRIES[0],
        ENTRIES[2],
    ]
    after = by_id(ledger.apply(edited, CONFIG, T2))
    assert after[ENTRIES[1].id].updated == T2
    assert after[ENTRIES[1].id].published == before[ENTRIES[1].id].published
    for e in (ENTRIES[0], ENTRIES[2]):
        assert (after[e.id].published, after[e.id].updated) == (
            before[e.id].published,
            before[e.id].updated,
        )


def test_simultaneous_edits_get_distinct_updated() -> None:
    """Edited entries of one build get now, now-1s, … (newest first), never a time already in use."""
    ledger = Ledger()
    ledger.apply(ENTRIES, CONFIG, T1)
    edited = [dataclasses.replace(e, comment_en="Edited.") for e in ENTRIES]
    after = ledger.apply(edited, CONFIG, T2)
    stamps = sorted((t.updated for t in after), reverse=True)
    assert stamps == [T2, T2 - dt.timedelta(seconds=1), T2 - dt.timedelta(seconds=2)]
    assert max(after, key=lambda t: t.published).updated == T2  # the newest entry gets "now"


def test_edit_with_a_clock_behind_the_digest_never_predates_published() -> None:
    """An edit made with a clock earlier than the entry's date gets updated >= published, still distinct."""
    ledger = Ledger()
    ledger.apply(ENTRIES, CONFIG, T1)
    early = dt.datetime(2020, 1, 1, tzinfo=SEOUL)
    after = ledger.apply([dataclasses.replace(e, comment_en="x") for e in ENTRIES], CONFIG, early)
    assert all(t.updated >= t.published for t in after)
    assert len({t.updated for t in after}) == 3
    assert all(t.updated != t.published for t in after)  # an edit always shows as a new updated


def test_title_typo_fix_is_matched_to_its_record() -> None:
    """A retitled entry (typo fixed) at the same date and position keeps the id of its record."""
    typo = make("2025-05-01", 1, "Beta Papper on Banditz")
    ledger = Ledger()
    ledger.apply([ENTRIES[0], typo, ENTRIES[2]], CONFIG, T1)
    fixed = ledger.apply(ENTRIES, CONFIG, T2)
    assert fixed[1].entry.id == typo.id and fixed[1].entry.title == "Beta Paper on Bandits"
    assert fixed[1].updated == T2
    assert len(ledger.records) == 3
    assert ledger.records[typo.id].title == "Beta Paper on Bandits"


def test_similar_title_moved_to_another_position_is_matched() -> None:
    """A retitled entry that also moved within its digest is matched by title similarity."""
    ledger = Ledger()
    ledger.apply(ENTRIES, CONFIG, T1)
    moved = [
        make("2025-05-01", 0, "Beta Paper on Bandits!"),
        make("2025-05-01", 1, "Alpha Paper on Agents"),
        ENTRIES[2],
    ]
    ids = [t.entry.id for t in ledger.apply(moved, CONFIG, T2)]
    assert ids == [ENTRIES[1].id, ENTRIES[0].id, ENTRIES[2].id]


def test_unrelated_new_title_is_a_new_entry() -> None:
    """A different paper replacing a deleted one at another position is a new entry, not an edit."""
    ledger = Ledger()
    ledger.apply(ENTRIES, CONFIG, T1)
    replaced = [
        ENTRIES[0],
        ENTRIES[2],
        make("2025-05-01", 2, "Zeta: Quantum Chromodynamics Lattices"),
    ]
    ids = {t.entry.id for t in ledger.apply(replaced, CONFIG, T2)}
    assert ENTRIES[1].id not in ids
    assert ledger.records[ENTRIES[1].id].deleted


def test_deleted_entry_is_kept_marked_and_restored_with_its_times() -> None:
    """A deleted entry stays in the ledger marked deleted; restored, it has its old published time again."""
    ledger = Ledger()
    before = by_id(ledger.apply(ENTRIES, CONFIG, T1))
    ledger.apply(ENTRIES[:2], CONFIG, T2)
    assert ledger.records[ENTRIES[2].id].deleted
    back = by_id(ledger.apply(ENTRIES, CONFIG, T2))
    assert not ledger.records[ENTRIES[2].id].deleted
    assert back[ENTRIES[2].id].published == before[ENTRIES[2].id].published


def test_ledger_file_is_sorted_and_diffable(tmp_path: Path) -> None:
    """The file is versioned JSON, ids sorted, one field per line, so an edit is a one-line diff."""
    path = tmp_path / ".ledger.json"
    ledger = Ledger(path=path)
    ledger.apply(list(reversed(ENTRIES)), CONFIG, T1)
    ledger.save()
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    assert data["version"] == 2 and list(data["entries"]) == sorted(data["entries"])
    assert (data["tag_authority"], data["tag_date"]) == (CONFIG.tag_authority, CONFIG.tag_date)
    assert text.endswith("}\n") and all(len(line) < 200 for line in text.splitlines())
    assert set(data["entries"][ENTRIES[0].id]) == {
        "date",
        "hash",
        "owner",
        "position",
        "seq",
        "published",
        "title",
        "updated",
    }
    edited = Ledger.load(path)
    edited.apply(
        [ENTRIES[0], dataclasses.replace(ENTRIES[1], comment_en="New."), ENTRIES[2]], CONFIG, T2
    )
    edited.save()
    old, new = text.splitlines(), path.read_text(encoding="utf-8").splitlines()
    assert len(old) == len(new)
    diff = [(a, b) for a, b in zip(old, new, strict=False) if a != b]
    assert [a.split(":")[0].strip() for a, _ in diff] == ['"hash"', '"updated"']


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "not valid JSON"),
        ('{"version": 3, "entries": {}}', "not a digestfeed ledger of version 1 or 2"),
        ('{"version": true, "entries": {}}', "not a digestfeed ledger"),
        ('{"version": 2, "entries": {}}', "'tag_authority' and 'tag_date' must be strings"),
        (
            '{"version": 2, "tag_authority": "a.org", "tag_date": "2025", "entries": {}, '
            '"archive_pages": {"all": [4, "8"]}}',
            "'archive_pages' must map feeds to lists of seqs",
        ),
        (
            '{"version": 2, "tag_authority": "a.org", "tag_date": "2025", "entries": {"x": {"date": '
            '"d", "hash": "h", "position": 0, "published": "2025-05-01T09:00:00+09:00", "title": '
            '"t", "updated": "2025-05-01T09:00:00+09:00"}}}',
            "'owner' and 'seq' are required",
        ),
        ('{"version": 1, "entries": []}', "'entries' must be an object"),
        ('{"version": 1, "entries": {"x": {"date": "2025-05-01"}}}', "record 'x' is invalid"),
        (
            '{"version": 1, "entries": {"x": {"date": "d", "hash": "h", "position": "0", "published": '
            '"2025-05-01T09:00:00+09:00", "title": "t", "updated": "2025-05-01T09:00:00+09:00"}}}',
            "'position'",
        ),
        (
            '{"version": 1, "entries": {"x": {"date": "d", "hash": "h", "position": 0, "published": '
            '"yesterday", "title": "t", "updated": "2025-05-01T09:00:00+09:00"}}}',
            "record 'x' is invalid",
        ),
        (b"\xff\xfe".decode("latin-1"), "cannot read"),
    ],
)
def test_corrupt_ledger_is_an_error_naming_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    """Every kind of corrupt ledger is a LedgerError naming the file; it is never reset."""
    path = tmp_path / ".ledger.json"
    path.write_bytes(text.encode("latin-1") if text.startswith("\xff") else text.encode())
    with pytest.raises(LedgerError, match=message) as info:
        Ledger.load(path)
    assert str(path) in str(info.value)
    assert path.read_bytes()  # untouched


def test_clock_now_honours_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """DIGESTFEED_NOW fixes the build time (naive = the config's zone); a bad value is a clear error."""
    monkeypatch.setenv("DIGESTFEED_NOW", "2026-03-04T05:06:07")
    assert clock_now(CONFIG.tz) == dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=CONFIG.tz)
    monkeypatch.setenv("DIGESTFEED_NOW", "soon")
    with pytest.raises(LedgerError, match="DIGESTFEED_NOW"):
        clock_now(CONFIG.tz)


def test_timed_key_changes_with_everything_rendered() -> None:
    """Timed.key (what fingerprints hash) changes with the id, content, date and either time."""
    import dataclasses as dc

    t = Ledger().apply(ENTRIES[:1], CONFIG, T1)[0]
    assert t.hash == ENTRIES[0].content_hash()
    later = t.published + dt.timedelta(minutes=1)
    variants = [
        Timed(dc.replace(t.entry, id=t.entry.id + "-x"), t.published, t.updated),
        Timed(dc.replace(t.entry, comment_en="edited"), t.published, t.updated),
        Timed(dc.replace(t.entry, date="2025-06-01"), t.published, t.updated),
        Timed(t.entry, later, t.updated),
        Timed(t.entry, t.published, later),
    ]
    keys = {t.key, *(v.key for v in variants)}
    assert len(keys) == 1 + len(variants)
    assert Timed(t.entry, t.published, t.updated).key == t.key


def test_retitle_matching_prefers_the_best_pair_and_rejects_strangers() -> None:
    """A one-letter retitle keeps its id even when listed after a stranger; a new paper at the same place gets a new id."""
    import dataclasses as dc

    first = Ledger()
    old = [
        dc.replace(ENTRIES[0], title="Scaling Laws for Neural Language Models", position=0),
        dc.replace(ENTRIES[1], title="Attention Is All You Need", position=1),
    ]
    old = [dc.replace(e, id=f"tag:x,2025:{e.date}/{i}") for i, e in enumerate(old)]
    first.apply(old, CONFIG, T1)
    # the retitled first paper now comes second; a different paper took position 0
    retitled = dc.replace(
        old[0], id="tag:x,2025:new-a", title="Scaling Laws for Neural Language Model", position=1
    )
    # a similar but different paper comes first in the file, at the old paper's place
    stranger = dc.replace(
        old[1],
        id="tag:x,2025:new-b",
        title="Scaling Laws for Neural Machine Translation",
        position=0,
    )
    out = first.apply([stranger, retitled], CONFIG, T1)
    ids = {t.entry.title: t.entry.id for t in out}
    assert ids["Scaling Laws for Neural Language Model"] == old[0].id  # the closest pair wins
    assert ids["Scaling Laws for Neural Machine Translation"] == "tag:x,2025:new-b"


def test_restored_entry_keeps_its_times() -> None:
    """An entry deleted and later restored unchanged comes back with its old published/updated."""
    ledger = Ledger()
    before = ledger.apply(ENTRIES[:2], CONFIG, T1)
    ledger.apply(ENTRIES[:1], CONFIG, T1)
    assert ledger.records[ENTRIES[1].id].deleted
    again = ledger.apply(ENTRIES[:2], CONFIG, T1 + dt.timedelta(days=30))
    assert [(t.published, t.updated) for t in again] == [(t.published, t.updated) for t in before]
    assert not ledger.records[ENTRIES[1].id].deleted


_GOOD = {
    "date": "2025-05-01",
    "hash": "h",
    "owner": "digest:2025-05-01.txt",
    "position": 0,
    "published": "2025-05-01T09:00:00+09:00",
    "seq": 1,
    "title": "t",
    "updated": "2025-05-01T09:00:00+09:00",
}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"extra": 1}, "record 'x' is invalid"),
        ({"position": True}, "'position'"),
        ({"deleted": 1}, "'deleted' a boolean"),
        ({"seq": 0}, "'seq' must be a positive integer"),
        ({"title": None}, "'title' must be a string"),
        ({"updated": "2025-05-01T09:00:00"}, "'updated' has no UTC offset"),
        ({"published": "soon"}, "record 'x' is invalid"),
    ],
)
def test_corrupt_record_among_good_ones_is_named(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    """One malformed record among well-formed ones is a LedgerError naming it and what is wrong."""
    good = {f"ok{n}": {**_GOOD, "seq": n + 2} for n in range(3)}
    entries = {**good, "x": {**_GOOD, **change}}
    data = {"version": 2, "tag_authority": "a.org", "tag_date": "2025", "entries": entries}
    path = tmp_path / ".ledger.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(LedgerError, match=message) as info:
        Ledger.load(path)
    assert str(path) in str(info.value)


def test_ledger_read_at_once_equals_record_by_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A well-formed ledger read with all records checked at once gives the records, times and text of the record-by-record check."""
    path = tmp_path / ".ledger.json"
    ledger = Ledger(path=path)
    ledger.apply(ENTRIES, CONFIG, T1)
    ledger.apply(ENTRIES[1:], CONFIG, T2)  # one deleted record
    ledger.save()
    fast = Ledger.load(path)
    monkeypatch.setattr("digestfeed.ledger._well_formed", lambda entries: None)
    slow = Ledger.load(path)
    assert fast.records == slow.records and list(fast.records) == list(slow.records)
    assert any(r.deleted for r in fast.records.values())
    assert fast.dumps() == slow.dumps() == path.read_text(encoding="utf-8")
    assert fast.apply(ENTRIES, CONFIG, T2) == slow.apply(ENTRIES, CONFIG, T2)


def test_new_entries_follow_first_published_across_a_clock_change() -> None:
    """New entries get first_published times (also on a day whose publish hour the clock skips) and seqs in published order."""
    from digestfeed.ledger import first_published
    from digestfeed.types import shared_timezone

    config = Config(timezone="Europe/Berlin", publish_hour=2)
    entries = [
        make(date, position, f"Paper {date} {position}")
        for date in ("2025-03-29", "2025-03-30", "2025-03-31", "2025-10-26")
        for position in range(3)
    ]
    timed = Ledger().apply(list(reversed(entries)), config, T1)
    for t in timed:
        expected = first_published(t.entry, config).isoformat()
        assert t.published.isoformat() == t.updated.isoformat() == expected
        read = dt.datetime.fromisoformat(expected)
        assert t.published.replace(tzinfo=None) == read.replace(tzinfo=None)
        assert t.published.utcoffset() == read.utcoffset() and t.published.fold == read.fold == 0
        assert t.published.tzinfo is shared_timezone(read).tzinfo
    ordered = sorted(timed, key=lambda t: (t.published.timestamp(), t.entry.id))
    assert [t.seq for t in ordered] == list(range(1, len(entries) + 1))
