"""The vault in its real layout (tests/data/vault/): year folders at any depth, a bare ``YYMMDD.md``,
same-day copies, Obsidian's own folders and templates, and ids that ignore folders."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import digestfeed
from digestfeed.cli import main
from digestfeed.config import Config
from digestfeed.sources.notes import NotesSource, read_notes
from digestfeed.types import Entry, warning_kind

VAULT = Path(__file__).resolve().parent / "data" / "vault"
CONFIG = Config()
NOW = "2025-01-01T00:00:00+09:00"


def entries_of(directory: Path, config: Config = CONFIG) -> dict[str, Entry]:
    """File name → entry."""
    digests, _ = read_notes(directory, config)
    return {Path(e.source.rpartition(":")[0]).name: e for d in digests for e in d.entries}


def all_warnings(directory: Path, config: Config = CONFIG) -> list[str]:
    digests, skipped = read_notes(directory, config)
    return [*skipped, *(w for d in digests for w in d.warnings)]


def of_kind(warnings: list[str], kind: str) -> list[str]:
    return [w for w in warnings if warning_kind(w) == kind]


def test_notes_at_every_depth_are_read() -> None:
    """Loose notes, year folders and deeper folders are all read; folders do not change a note's day."""
    found = entries_of(VAULT)
    assert {
        "240702 Top Level.md",
        "240701 Alpha.md",
        "240701 Beta.md",
        "240701 Beta 1.md",
        "240703 Deep Note.md",
        "250311.md",
    } <= found.keys()
    assert found["240703 Deep Note.md"].date == "2024-07-04"
    assert found["240702 Top Level.md"].date == "2024-07-03"


def test_obsidian_folders_templates_and_other_files_are_not_read() -> None:
    """.obsidian/, .trash/, the template folder Obsidian's settings name and non-.md files are
    skipped without a word."""
    digests, skipped = read_notes(VAULT, CONFIG)
    sources = [e.source for d in digests for e in d.entries]
    assert not any(".trash" in s or "Templates" in s or "canvas" in s for s in sources)
    assert not any(
        ".obsidian" in w or "Template" in w or "canvas" in w for w in all_warnings(VAULT)
    )
    assert all("Loose Idea.md" in w for w in skipped if warning_kind(w) != "same file name")


def test_template_folders_from_config(tmp_path: Path) -> None:
    """vault_template_folders names folders (relative to the vault) that are never read."""
    vault = tmp_path / "vault"
    shutil.copytree(VAULT / "arXiv", vault)
    assert "240703 Deep Note.md" in entries_of(vault)
    config = Config().replace(vault_template_folders=["2024/07"])
    assert "240703 Deep Note.md" not in entries_of(vault, config)
    assert "240701 Alpha.md" in entries_of(vault, config)


def test_bare_date_note_is_dated_and_titled_by_its_text() -> None:
    """250311.md is the note of 2025-03-11; its title is the note's title line."""
    bare = entries_of(VAULT)["250311.md"]
    assert bare.date == "2025-03-12"
    assert bare.title == "Bare Date Note: Titles From Text"
    assert bare.id.endswith(":arxiv:2503.00006")


def test_undated_note_is_skipped_with_one_warning_naming_the_date_sources() -> None:
    """A note without a date in its name is skipped once, and the warning says what was considered."""
    undated = of_kind(all_warnings(VAULT), "undated note")
    assert undated == [
        f"{VAULT / 'arXiv' / 'Loose Idea.md'}:1: note skipped: its name does not start with "
        "a YYMMDD date (a note is dated by its file name only, 'YYMMDD Title.md' or "
        "'YYMMDD.md'; its folders and text are not read for a date)"
    ]


def test_invalid_date_in_name_is_named(tmp_path: Path) -> None:
    """Six digits that are no date (month 13) are quoted in the skip warning."""
    (tmp_path / "241301 Bad Month.md").write_text("x\n", encoding="utf-8")
    (tmp_path / "240101 Fine.md").write_text("x\n", encoding="utf-8")
    undated = of_kind(all_warnings(tmp_path), "undated note")
    assert len(undated) == 1 and "starts with '241301', not a valid YYMMDD date" in undated[0]


def test_same_name_in_two_folders_both_read_with_a_warning() -> None:
    """Two notes named alike in different folders are both published; the collision is a warning."""
    digests, skipped = read_notes(VAULT, CONFIG)
    same = [e for d in digests for e in d.entries if "Same Name" in e.source]
    assert sorted(e.title for e in same) == ["Same Name One", "Same Name Two"]
    assert len({e.id for e in same}) == 2
    (warning,) = of_kind(skipped, "same file name")
    assert str(VAULT / "arXiv" / "Other" / "250312 Same Name.md") in warning
    assert str(VAULT / "arXiv" / "2025" / "250312 Same Name.md") in warning


def test_identical_copy_but_for_white_space_is_one_entry() -> None:
    """A same-day copy that differs only in white space is published once, the warning names both."""
    found = entries_of(VAULT)
    assert "240701 Alpha.md" in found and "240701 Alpha 1.md" not in found
    (warning,) = of_kind(all_warnings(VAULT), "identical copies")
    alpha = VAULT / "arXiv" / "2024"
    assert warning == (
        f"{alpha / '240701 Alpha 1.md'}:1: identical but for white space to "
        f"{alpha / '240701 Alpha.md'} (same day); published once, as 240701 Alpha.md"
    )


def test_differing_copies_are_separate_entries_the_later_suffixed(tmp_path: Path) -> None:
    """Same-day copies with different text stay two entries; on a first build the later file
    name gets -2, with a warning naming both files."""
    result = _build(VAULT, tmp_path)
    assert result.feedset is not None
    found = {Path(t.entry.source.rpartition(":")[0]).name: t.entry for t in result.feedset.entries}
    beta, beta1 = found["240701 Beta.md"], found["240701 Beta 1.md"]
    assert beta.id.endswith(":arxiv:2407.00004") and beta1.id == beta.id + "-2"
    assert beta1.comment_ko == "베타 논문, 고친 판."
    (warning,) = of_kind(result.warnings, "differing copies")
    assert warning == (
        f"{VAULT / 'arXiv' / '2024' / '240701 Beta 1.md'}:3: id {beta.id} belongs to "
        f"240701 Beta.md; this copy is published as {beta1.id}"
    )


def test_a_newer_copy_never_takes_the_published_id(tmp_path: Path) -> None:
    """The note that published an id keeps it when a copy sorting before it appears: the newcomer gets -2."""
    vault = tmp_path / "vault"
    vault.mkdir()
    original = (VAULT / "arXiv" / "2024" / "240701 Beta 1.md").read_text(encoding="utf-8")
    (vault / "240701 Beta 1.md").write_text(original, encoding="utf-8")
    first = _build(vault, tmp_path)
    assert first.feedset is not None
    (published,) = first.feedset.entries
    newcomer = original.replace("고친 판", "새 판")
    (vault / "240701 Beta.md").write_text(newcomer, encoding="utf-8")
    second = _build(vault, tmp_path)
    assert second.feedset is not None
    ids = {Path(t.entry.source).name.split(":")[0]: t for t in second.feedset.entries}
    assert ids["240701 Beta 1.md"].entry.id == published.entry.id
    assert ids["240701 Beta 1.md"].published == published.published
    assert ids["240701 Beta.md"].entry.id == published.entry.id + "-2"
    assert of_kind(second.warnings, "differing copies")


def test_the_same_paper_on_two_days_is_two_entries(tmp_path: Path) -> None:
    """A paper noted again on a later day is published again under -2, with a warning."""
    vault = tmp_path / "vault"
    vault.mkdir()
    text = (VAULT / "arXiv" / "2024" / "07" / "240703 Deep Note.md").read_text(encoding="utf-8")
    (vault / "240703 Deep Note.md").write_text(text, encoding="utf-8")
    (vault / "240801 Deep Note Again.md").write_text(text + "\n다시 읽음.\n", encoding="utf-8")
    result = _build(vault, tmp_path)
    assert result.feedset is not None
    assert sorted(t.entry.id.rsplit(":", 1)[1] for t in result.feedset.entries) == [
        "2407.00005",
        "2407.00005-2",
    ]
    (warning,) = of_kind(result.warnings, "differing copies")
    assert "240801 Deep Note Again.md" in warning


def test_symlinked_folder_is_refused_with_a_warning(tmp_path: Path) -> None:
    """A symbolic link to a folder inside the vault is never entered; one warning names it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "240101 Secret.md").write_text("https://x.org/\n\n*S* (A)\n\n비밀.\n\n#x\n")
    vault = tmp_path / "vault"
    shutil.copytree(VAULT / "arXiv" / "2025", vault / "2025")
    (vault / "linked").symlink_to(outside, target_is_directory=True)
    assert "240101 Secret.md" not in entries_of(vault)
    (refused,) = of_kind(all_warnings(vault), "refused file")
    assert refused.startswith(f"{vault / 'linked'}: a symbolic link to a folder")


def _build(vault: Path, tmp_path: Path) -> digestfeed.BuildResult:
    return digestfeed.build(
        [("notes", vault)],
        tmp_path / "feeds",
        config=CONFIG,
        ledger=tmp_path / "ledger.json",
        now=digestfeed_now(),
    )


def digestfeed_now() -> dt.datetime:
    return dt.datetime.fromisoformat(NOW)


def test_moving_a_note_into_a_year_folder_keeps_its_id_and_times(tmp_path: Path) -> None:
    """A note moved from the top into a year folder keeps its id; the ledger and feeds do not change."""
    vault = tmp_path / "vault"
    shutil.copytree(VAULT / "arXiv", vault)
    first = _build(vault, tmp_path)
    ledger_before = (tmp_path / "ledger.json").read_text(encoding="utf-8")
    assert first.feedset is not None
    ids_before = sorted(t.entry.id for t in first.feedset.entries)
    (vault / "2024" / "240702 Top Level.md").write_bytes(
        (vault / "240702 Top Level.md").read_bytes()
    )
    (vault / "240702 Top Level.md").unlink()
    second = _build(vault, tmp_path)
    assert second.feedset is not None
    assert sorted(t.entry.id for t in second.feedset.entries) == ids_before
    moved = next(t for t in second.feedset.entries if "Top Level" in t.entry.source)
    assert "/2024/" in moved.entry.source
    assert second.changed == []
    records = json.loads((tmp_path / "ledger.json").read_text(encoding="utf-8"))
    before = json.loads(ledger_before)
    top = moved.entry.id
    assert _times(records, top) == _times(before, top)


def _times(ledger: dict[str, dict[str, dict[str, str]]], entry_id: str) -> tuple[str, str]:
    record = ledger["entries"][entry_id]
    return record["published"], record["updated"]


def test_editing_a_note_in_a_sub_folder_is_seen_by_the_next_build(tmp_path: Path) -> None:
    """The no-change shortcut notices an edit two folders down."""
    vault = tmp_path / "vault"
    shutil.copytree(VAULT / "arXiv", vault)
    _build(vault, tmp_path)
    deep = vault / "2024" / "07" / "240703 Deep Note.md"
    deep.write_text(deep.read_text(encoding="utf-8").replace("깊은 노트.", "아주 깊은 노트."))
    second = _build(vault, tmp_path)
    assert not second.unchanged and second.changed
    assert second.feedset is not None
    assert any(t.entry.comment_ko == "아주 깊은 노트." for t in second.feedset.entries)


def test_build_summary_counts_warnings_by_kind(tmp_path: Path) -> None:
    """digestfeed build on the vault prints its warnings grouped by kind; -v adds the infos."""
    (tmp_path / "digestfeed.toml").write_text(
        'site_url = "https://papers.test/"\nfeed_base_url = "https://papers.test/feeds/"\n'
        'tag_authority = "papers.test"\n',
        encoding="utf-8",
    )
    args = ["build", "--source", f"notes={VAULT}", "--out", str(tmp_path / "f")]
    # built after the newest note (2025-03-12): no digest is dated in the future
    args += ["--ledger", str(tmp_path / "l.json"), "--now", "2025-04-01T00:00:00+09:00"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    err = result.stderr.splitlines()
    assert err[-1] == (
        "4 warnings: 1 differing copies, 1 identical copies, 1 same file name, 1 undated note"
    )
    verbose = CliRunner().invoke(main, [*args, "-v", "--no-cache"])
    assert "info: " not in result.stderr
    assert any(line.startswith("info: ") for line in verbose.stderr.splitlines())


def test_notes_source_expects_copies() -> None:
    """The vault source declares that it holds copies (a second claimant gets -N, not an error)."""
    assert NotesSource.expects_copies is True


@pytest.mark.corpus
def test_corpus_in_month_folders_reads_like_the_flat_corpus(
    corpus_dir: Path, tmp_path: Path
) -> None:
    """The 945 notes split into YYYY/MM folders give the same entries, ids and warnings by kind."""
    nested = tmp_path / "nested"
    for note in corpus_dir.glob("*.md"):
        stem = note.name
        folder = nested / (f"20{stem[:2]}/{stem[2:4]}" if stem[:6].isdigit() else "misc")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / note.name).write_bytes(note.read_bytes())
    flat_digests, flat_skipped = read_notes(corpus_dir, CONFIG)
    nested_digests, nested_skipped = read_notes(nested, CONFIG)
    flat = [(e.id, e.content_hash()) for d in flat_digests for e in d.entries]
    assert [(e.id, e.content_hash()) for d in nested_digests for e in d.entries] == flat

    def kinds(digests: list[digestfeed.Digest], skipped: list[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for w in [*skipped, *(w for d in digests for w in d.warnings)]:
            counts[warning_kind(w)] = counts.get(warning_kind(w), 0) + 1
        return counts

    assert kinds(nested_digests, nested_skipped) == kinds(flat_digests, flat_skipped)


def test_naming_a_template_folder_in_obsidian_is_seen_by_the_next_build(tmp_path: Path) -> None:
    """Changing Obsidian's template-folder setting (a hidden file) is not taken for "no change"."""
    vault = tmp_path / "vault"
    shutil.copytree(VAULT / "arXiv", vault)
    first = _build(vault, tmp_path)
    assert first.feedset is not None
    assert any("Deep Note" in t.entry.source for t in first.feedset.entries)
    (vault / ".obsidian").mkdir()
    (vault / ".obsidian" / "templates.json").write_text('{"folder": "2024/07"}', encoding="utf-8")
    second = _build(vault, tmp_path)
    assert not second.unchanged and second.feedset is not None
    assert not any("Deep Note" in t.entry.source for t in second.feedset.entries)
