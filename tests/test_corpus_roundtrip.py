"""The "Nothing lost" proof of the notes source on the 945 real vault notes (skipped without ../shared):
vault → digest text → parse_text gives back every field, and parsing loses no line."""

from __future__ import annotations

from pathlib import Path

import pytest

from digestfeed.config import Config
from digestfeed.sources.digest import parse_text
from digestfeed.sources.export import format_date_line, render_digest, render_entry_lines
from digestfeed.sources.notes import read_notes
from digestfeed.types import warning_kind

pytestmark = pytest.mark.corpus
CONFIG = Config()
#: Every field the digest text carries (id, url and source belong to the source).
FIELDS = (
    "date",
    "title",
    "authors",
    "abstract",
    "comment_ko",
    "comment_en",
    "tags",
    "tag_labels",
    "links",
    "position",
)


def test_every_note_is_read(corpus_dir: Path) -> None:
    """All 945 notes are accounted for: 930 entries, 9 identical same-day copies published once
    and 6 undated files skipped, each warned."""
    digests, skipped = read_notes(corpus_dir, CONFIG)
    notes = sorted(p.name for p in corpus_dir.glob("*.md"))
    entries = [e for d in digests for e in d.entries]
    copies = [w for d in digests for w in d.warnings if warning_kind(w) == "identical copies"]
    assert len(notes) == 945
    assert len(entries) + len(copies) + len(skipped) == 945
    assert len(copies) == 9
    assert len(skipped) == 6 and all(
        "does not start with a YYMMDD date" in w and warning_kind(w) == "undated note"
        for w in skipped
    )
    repeated = len(entries) - len({e.id for e in entries})
    assert repeated == 3  # differing copies: the build's ledger gives each its own id


def test_vault_to_digest_text_to_parse_gives_every_field_back(corpus_dir: Path) -> None:
    """For every note: render the day's digest, parse it, compare every field exactly."""
    digests, _ = read_notes(corpus_dir, CONFIG)
    misses: list[str] = []
    count = 0
    for digest in digests:
        parsed = parse_text(render_digest(digest), f"{digest.date}.txt", CONFIG)
        if len(parsed.entries) != len(digest.entries):
            misses.append(
                f"{digest.date}: {len(digest.entries)} entries became {len(parsed.entries)}"
            )
            continue
        for mine, back in zip(digest.entries, parsed.entries, strict=True):
            count += 1
            for field in FIELDS:
                if getattr(mine, field) != getattr(back, field):
                    misses.append(
                        f"{mine.source}: {field}: {getattr(mine, field)!r:.80} != {getattr(back, field)!r:.80}"
                    )
    assert count == 930
    assert misses == [], f"{len(misses)} misses:\n" + "\n".join(misses[:50])


def test_parsing_a_rendered_digest_loses_no_line(corpus_dir: Path) -> None:
    """Every non-blank line of each rendered digest lands in exactly one field (or is the date)."""
    digests, _ = read_notes(corpus_dir, CONFIG)
    for digest in digests:
        text = render_digest(digest)
        parsed = parse_text(text, f"{digest.date}.txt", CONFIG)
        rebuilt = [format_date_line(parsed.date)] + [
            ln for e in parsed.entries for ln in render_entry_lines(e)
        ]
        lines = [ln.rstrip() for ln in text.split("\n") if ln.strip()]
        assert [ln.strip() for ln in rebuilt] == [ln.strip() for ln in lines], digest.date
        for entry in parsed.entries:
            # title, authors, each abstract/ko/en line, tag line: one field each
            n = 3 + sum(
                len(p.split("\n"))
                for p in (entry.abstract, entry.comment_ko, entry.comment_en)
                if p
            )
            assert n == len(render_entry_lines(entry))
        assert 1 + sum(len(render_entry_lines(e)) for e in parsed.entries) == len(lines)


def test_corpus_warnings_name_file_and_line(corpus_dir: Path) -> None:
    """Every warning of the vault names 'file:line' of a note."""
    digests, skipped = read_notes(corpus_dir, CONFIG)
    warnings = skipped + [w for d in digests for w in d.warnings]
    assert len(warnings) > 700  # the corpus's real mess (counted by kind in the closing note)
    for warning in warnings:
        head = warning.split(": ", 1)[0]
        path, _, line = head.rpartition(":")
        assert path.startswith(str(corpus_dir)) and path.endswith(".md") and line.isdigit(), warning
