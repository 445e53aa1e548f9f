"""Id ownership in the ledger: owners, seqs, moved files, intruders, copies, authority, migration."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from digestfeed.cli import main
from digestfeed.config import Config
from digestfeed.errors import LedgerError, ParseErrors
from digestfeed.ledger import Ledger
from digestfeed.model import entry_id
from digestfeed.types import Entry

CONFIG = Config()
NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))


def make(date: str, position: int, title: str, file: str, comment: str = "A comment.") -> Entry:
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
        source=f"entries/{file}:{position * 6 + 2}",
        tag_labels=("#rl",),
        position=position,
    )


OWNED = make("2025-05-08", 0, "ZeroSearch Incentivize", "2025-05-08.txt")
OTHER = make("2025-05-08", 1, "Another Paper", "2025-05-08.txt")


def test_records_name_their_owner_file_and_first_publication_order() -> None:
    """Each record names plugin:file (no folder) and a seq that follows first publication."""
    ledger = Ledger()
    ledger.apply([OWNED, OTHER], CONFIG, NOW)
    later = make("2025-05-09", 0, "Later Paper", "2025-05-09.txt")
    ledger.apply([OWNED, OTHER, later], CONFIG, NOW)
    records = ledger.records
    assert records[OWNED.id].owner == "digest:2025-05-08.txt"
    # position 1 is published a minute before position 0, so it is first
    assert [records[e.id].seq for e in (OTHER, OWNED, later)] == [1, 2, 3]


def test_a_backdated_entry_gets_the_next_seq_not_an_old_one() -> None:
    """seq is the order of first publication in the ledger, not the digest date."""
    ledger = Ledger()
    ledger.apply([OWNED], CONFIG, NOW)
    old = make("2024-01-01", 0, "Old Paper Back Dated", "2024-01-01.txt")
    timed = {t.entry.id: t for t in ledger.apply([OWNED, old], CONFIG, NOW)}
    assert timed[old.id].seq == 2 and timed[OWNED.id].seq == 1


def test_a_second_digest_file_cannot_take_a_published_id() -> None:
    """A new file claiming an id its present owner publishes is an error naming file, line and owner."""
    ledger = Ledger()
    ledger.apply([OWNED], CONFIG, NOW)
    intruder = dataclasses.replace(
        OWNED, source="entries/2025-05-08-a.txt:2", comment_en="Hijacked."
    )
    before = dict(ledger.records)
    # the intruder's file sorts first: order must not matter
    with pytest.raises(ParseErrors) as info:
        ledger.apply([intruder, OWNED], CONFIG, NOW)
    assert str(info.value) == (
        f"entries/2025-05-08-a.txt:2: id {OWNED.id} is published by 2025-05-08.txt: give this "
        "entry another title, or remove it (a published id never passes to another file while "
        "its owner is there)"
    )
    assert ledger.records == before


def test_a_renamed_file_keeps_its_ids_with_a_warning() -> None:
    """When the owner file is no longer read, the file now claiming its ids keeps them and owns them."""
    ledger = Ledger()
    first = {t.entry.id: t for t in ledger.apply([OWNED, OTHER], CONFIG, NOW)}
    renamed = [
        dataclasses.replace(e, source=e.source.replace("2025-05-08.txt", "2025-05-08-ml.txt"))
        for e in (OWNED, OTHER)
    ]
    again = {t.entry.id: t for t in ledger.apply(renamed, CONFIG, NOW)}
    assert again.keys() == first.keys()
    assert all(again[k].published == first[k].published for k in first)
    assert ledger.records[OWNED.id].owner == "digest:2025-05-08-ml.txt"
    assert len(ledger.warnings) == 2
    assert "keeps id" in ledger.warnings[0] and "2025-05-08.txt" in ledger.warnings[0]
    ledger.apply(renamed, CONFIG, NOW)
    assert ledger.warnings == []  # said once


def test_a_file_moved_to_another_folder_is_the_same_owner() -> None:
    """The owner is the file name, never its folder: a move changes nothing in the ledger."""
    ledger = Ledger()
    ledger.apply([OWNED], CONFIG, NOW)
    ledger.changed = False
    moved = dataclasses.replace(OWNED, source="archive/2025/2025-05-08.txt:2")
    ledger.apply([moved], CONFIG, NOW)
    assert not ledger.changed and ledger.warnings == []


def test_a_copy_in_a_source_that_expects_copies_gets_the_next_free_suffix() -> None:
    """Where the source expects copies, the newcomer gets -2 with a warning naming both files."""
    ledger = Ledger()
    owner = dataclasses.replace(OWNED, source="vault/SnapKV.md:1")
    ledger.apply([owner], CONFIG, NOW, owners=["notes:SnapKV.md"], copies={"notes"})
    copy = dataclasses.replace(owner, source="vault/SnapKV copy.md:1", comment_en="Different.")
    timed = ledger.apply(
        [copy, owner],
        CONFIG,
        NOW,
        owners=["notes:SnapKV copy.md", "notes:SnapKV.md"],
        copies={"notes"},
    )
    ids = {t.entry.source: t.entry.id for t in timed}
    assert ids == {"vault/SnapKV.md:1": owner.id, "vault/SnapKV copy.md:1": f"{owner.id}-2"}
    assert ledger.warnings == [
        f"vault/SnapKV copy.md:1: id {owner.id} belongs to SnapKV.md; this copy is published "
        f"as {owner.id}-2"
    ]
    # stable: the copy keeps its -2 on the next build
    again = ledger.apply(
        [copy, owner],
        CONFIG,
        NOW,
        owners=["notes:SnapKV copy.md", "notes:SnapKV.md"],
        copies={"notes"},
    )
    assert {t.entry.source: t.entry.id for t in again} == ids


def test_an_identical_copy_is_published_once() -> None:
    """A copy with the same content as the owner's entry is dropped with a warning."""
    ledger = Ledger()
    owner = dataclasses.replace(OWNED, source="vault/SnapKV.md:1")
    copy = dataclasses.replace(owner, source="vault/SnapKV (1).md:1")
    timed = ledger.apply(
        [owner, copy],
        CONFIG,
        NOW,
        owners=["notes:SnapKV.md", "notes:SnapKV (1).md"],
        copies={"notes"},
    )
    assert [t.entry.source for t in timed] == ["vault/SnapKV.md:1"]
    assert "identical copy of vault/SnapKV.md:1" in ledger.warnings[0]


def test_repeats_within_one_file_and_between_new_files_are_numbered_in_order() -> None:
    """-2, -3 in order for ids nobody owns yet, or repeated within the owner's own file."""
    ledger = Ledger()
    a = OWNED
    b = dataclasses.replace(OWNED, position=1, source="entries/2025-05-08.txt:8", comment_en="B")
    c = dataclasses.replace(OWNED, source="entries/2025-05-08-b.txt:2", comment_en="C")
    ids = [t.entry.id for t in ledger.apply([a, b, c], CONFIG, NOW)]
    assert ids == [OWNED.id, f"{OWNED.id}-2", f"{OWNED.id}-3"]
    assert ledger.records[f"{OWNED.id}-3"].owner == "digest:2025-05-08-b.txt"


def test_a_retitled_entry_never_takes_another_present_files_lost_id() -> None:
    """Edit matching only reuses a lost id of the entry's own file (or of a file gone)."""
    ledger = Ledger()
    ledger.apply([OWNED], CONFIG, NOW)
    present_owner = dataclasses.replace(OTHER, position=0)  # owner file still read
    similar = make("2025-05-08", 0, "ZeroSearch Incentivise", "2025-05-08-x.txt")
    ids = {t.entry.id for t in ledger.apply([present_owner, similar], CONFIG, NOW)}
    assert OWNED.id not in ids and similar.id in ids


def test_changing_the_tag_authority_once_ids_exist_is_an_error_with_the_way_out(
    tmp_path: Path,
) -> None:
    """Another tag_authority or tag_date than the ledger's: LedgerError naming the ledger and --reset-ids."""
    path = tmp_path / ".ledger.json"
    ledger = Ledger(path=path)
    ledger.apply([OWNED], CONFIG, NOW)
    ledger.save()
    loaded = Ledger.load(path)
    other = dataclasses.replace(CONFIG, tag_authority="you.github.io")
    with pytest.raises(LedgerError) as info:
        loaded.apply([OWNED], other, NOW)
    assert str(path) in str(info.value) and "--reset-ids" in str(info.value)
    with pytest.raises(LedgerError, match="tag_date"):
        Ledger.load(path).apply([OWNED], dataclasses.replace(CONFIG, tag_date="2030"), NOW)


def test_an_empty_ledger_adopts_the_config_authority(tmp_path: Path) -> None:
    """A ledger without ids takes whatever authority the config names."""
    ledger = Ledger(path=tmp_path / ".ledger.json")
    ledger.apply([], dataclasses.replace(CONFIG, tag_authority="you.github.io"), NOW)
    ledger.save()
    data = json.loads((tmp_path / ".ledger.json").read_text(encoding="utf-8"))
    assert data["tag_authority"] == "you.github.io" and data["entries"] == {}


V1 = {
    "version": 1,
    "entries": {
        OWNED.id: {
            "date": "2025-05-08",
            "hash": OWNED.content_hash(),
            "position": 0,
            "published": "2025-05-08T09:00:00+09:00",
            "title": OWNED.title,
            "updated": "2025-05-08T09:00:00+09:00",
        },
        OTHER.id: {
            "date": "2025-05-08",
            "hash": OTHER.content_hash(),
            "position": 1,
            "published": "2025-05-08T08:59:00+09:00",
            "title": OTHER.title,
            "updated": "2025-05-08T08:59:00+09:00",
        },
        "tag:digestfeed.example.org,2025:2025-05-01/gone": {
            "date": "2025-05-01",
            "deleted": True,
            "hash": "0123456789abcdef",
            "position": 0,
            "published": "2025-05-01T09:00:00+09:00",
            "title": "Gone",
            "updated": "2025-05-01T09:00:00+09:00",
        },
    },
}


def test_a_version_1_ledger_is_migrated_on_read(tmp_path: Path) -> None:
    """Version 1: seq by published order, owners from the files claiming the ids, authority from the ids."""
    path = tmp_path / ".ledger.json"
    path.write_text(json.dumps(V1), encoding="utf-8")
    ledger = Ledger.load(path)
    assert ledger.authority == (CONFIG.tag_authority, CONFIG.tag_date)
    timed = ledger.apply([OWNED, OTHER], CONFIG, NOW)
    assert {t.entry.id: str(t.published) for t in timed} == {
        OWNED.id: "2025-05-08 09:00:00+09:00",
        OTHER.id: "2025-05-08 08:59:00+09:00",
    }
    assert ledger.changed and ledger.warnings == []
    ledger.save()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == 2
    entries = data["entries"]
    assert [
        entries[k]["seq"]
        for k in ("tag:digestfeed.example.org,2025:2025-05-01/gone", OTHER.id, OWNED.id)
    ] == [1, 2, 3]
    assert entries[OWNED.id]["owner"] == "digest:2025-05-08.txt"
    assert entries["tag:digestfeed.example.org,2025:2025-05-01/gone"]["owner"] == ""
    reloaded = Ledger.load(path)
    reloaded.apply([OWNED, OTHER], CONFIG, NOW)
    assert not reloaded.changed


DIGEST = """2025-05-08
ZeroSearch: Incentivize the Search Capability of LLMs without Searching
(Hao Sun, Zile Qiao)
We propose ZeroSearch.
검색 없이 검색 능력을 키운다.
Search skills without search.
#rl #llm
"""


def test_build_refuses_an_intruding_digest_and_publishes_nothing(tmp_path: Path) -> None:
    """digestfeed build: a copy of a published entry in a new file exits non-zero, feeds and ledger untouched."""
    entries = tmp_path / "entries"
    entries.mkdir()
    (entries / "2025-05-08.txt").write_text(DIGEST, encoding="utf-8")
    toml = tmp_path / "digestfeed.toml"
    toml.write_text(f'cache_dir = "{(tmp_path / "cache").as_posix()}"\n', encoding="utf-8")
    args = ["--config", str(toml), "build", "--entries", str(entries), "--no-cache"]
    args += ["--out", str(tmp_path / "feeds")]
    assert CliRunner().invoke(main, args).exit_code == 0
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    intruder = entries / "2025-05-08-a.txt"
    intruder.write_text(DIGEST.replace("Search skills", "Hijacked"), encoding="utf-8")
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert f"{intruder}:2: id tag:" in result.output
    assert "is published by 2025-05-08.txt" in result.output
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and p != intruder}
    assert after == before


def test_reset_ids_starts_a_new_ledger_under_the_new_authority(tmp_path: Path) -> None:
    """build --reset-ids after changing tag_authority: every id is minted anew, nothing else needed."""
    entries = tmp_path / "entries"
    entries.mkdir()
    (entries / "2025-05-08.txt").write_text(DIGEST, encoding="utf-8")
    toml = tmp_path / "digestfeed.toml"
    cache = f'cache_dir = "{(tmp_path / "cache").as_posix()}"\n'
    toml.write_text(cache, encoding="utf-8")
    args = [
        "--config",
        str(toml),
        "build",
        "--entries",
        str(entries),
        "--out",
        str(tmp_path / "feeds"),
    ]
    assert CliRunner().invoke(main, args).exit_code == 0
    toml.write_text(cache + 'tag_authority = "you.github.io"\n', encoding="utf-8")
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code != 0 and "--reset-ids" in refused.output
    assert str(entries / ".ledger.json") in refused.output
    reset = CliRunner().invoke(main, [*args, "--reset-ids"])
    assert reset.exit_code == 0, reset.output
    data = json.loads((entries / ".ledger.json").read_text(encoding="utf-8"))
    assert data["tag_authority"] == "you.github.io"
    assert all(k.startswith("tag:you.github.io,") for k in data["entries"])
    assert CliRunner().invoke(main, args).exit_code == 0


def test_archive_pages_round_trip_through_the_file(tmp_path: Path) -> None:
    """The ledger keeps each feed's page boundaries (one line per feed) and reads them back unchanged."""
    path = tmp_path / ".ledger.json"
    ledger = Ledger(path=path)
    ledger.apply([OWNED, OTHER], CONFIG, NOW)
    ledger.set_pages({"all": (100, 200), "tags/rl.en": (150,), "tags/empty": ()})
    ledger.save()
    text = path.read_text(encoding="utf-8")
    assert '  "all": [100, 200],\n  "tags/rl.en": [150]\n' in text
    again = Ledger.load(path)
    assert again.pages == {"all": (100, 200), "tags/rl.en": (150,)}
    again.set_pages({"all": (100, 200), "tags/rl.en": (150,)})
    assert not again.changed
