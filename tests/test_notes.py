"""The vault source (sources/notes.py) on small hand-written notes in tests/data/notes/."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from digestfeed.cli import main
from digestfeed.config import Config
from digestfeed.errors import ParseErrors
from digestfeed.sources.digest import parse_text
from digestfeed.sources.export import render_digest
from digestfeed.sources.notes import NotesSource, parse_note, read_notes
from digestfeed.types import Entry, warning_kind

NOTES = Path(__file__).resolve().parent / "data" / "notes"
CONFIG = Config()
ROUND_TRIP = (
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


def note(name: str, date: str = "2024-05-08", config: Config = CONFIG) -> Entry:
    path = NOTES / f"{name}.md"
    return parse_note(path, path.read_text(encoding="utf-8"), date, config)


def note_text(tmp_path: Path, text: str, name: str = "240601 Made Up.md") -> Entry:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parse_note(path, text, "2024-06-02", CONFIG)


def warned(entry: Entry, fragment: str) -> list[str]:
    return [w for w in entry.warnings if fragment in w]


def test_full_note_fields() -> None:
    """Every field of a complete note: url, arXiv id, title, authors, quote, ko, en, tags, links."""
    e = note("240507 Full Note")
    assert e.url == "https://arxiv.org/abs/2405.01234v2"
    assert e.id == "tag:digestfeed.example.org,2025:arxiv:2405.01234"
    assert e.title == "Full Note: A Complete Example"
    assert e.authors == ("Ada Lovelace", "Alan Turing (Org, Lab)", "Grace Hopper")
    assert e.abstract == (
        "First abstract paragraph with $\\mu$P and a link https://example.org/code.\n"
        "Second abstract paragraph."
    )
    assert e.comment_ko == (
        "이 논문은 다른 노트와 Plain Page를 잇습니다.\n두 번째 문단입니다. (https://arxiv.org/abs/2401.00001)"
    )
    assert e.comment_en == "This paper links to another note and Plain Page.\nSecond paragraph."
    assert e.tags == ("object-detection", "rl")
    assert e.tag_labels == ("#Object_Detection", "#rl")
    assert e.links == ("https://example.org/code", "https://arxiv.org/abs/2401.00001")
    assert e.source.endswith("240507 Full Note.md:3")


def test_wiki_links_become_text_and_images_are_dropped_with_a_warning() -> None:
    """[[Page|alias]] → alias, [[Page]] → Page, ![[x.png]] removed and warned at file:line."""
    e = note("240507 Full Note")
    assert "[[" not in e.comment_ko and "figure.png" not in e.comment_ko
    assert warned(e, "240507 Full Note.md:11: embedded image '![[figure.png]]' dropped")


def test_links_section_is_not_part_of_the_entry() -> None:
    """The Obsidian '# Links' backlink section is cut off silently."""
    e = note("240507 Full Note")
    assert "Other Note" not in e.comment_en + e.comment_ko
    assert all("Links" not in w for w in e.warnings)


def test_latex_stays_as_written() -> None:
    """LaTeX such as $\\mu$P is kept verbatim."""
    assert "$\\mu$P" in note("240507 Full Note").abstract


def test_first_line_url_is_url_not_a_link() -> None:
    """The paper's own URL is Entry.url, not in links (the digest text cannot carry it)."""
    e = note("240507 Full Note")
    assert e.url not in e.links


def test_old_layout_plain_title_and_english_after_tags() -> None:
    """'Title (Authors)' without asterisks; text after the hashtag line is the English comment."""
    e = note("240507 Old Layout")
    assert e.title == "Old Layout: Progressive Things"
    assert e.authors == ("Chengyue Wu", "Ping Luo")
    assert e.comment_ko == "예전 형식의 노트입니다."
    assert e.comment_en == "The English comment of the older layout comes after the tags."
    assert e.tags == ("efficient-training",)
    assert warned(e, "no abstract")


def test_no_title_line_uses_file_name_and_no_tags_gives_untagged() -> None:
    """No title line → the file name's title, empty authors; no tags → #untagged; both warned."""
    e = note("240508 No Title Here")
    assert e.title == "No Title Here" and e.authors == ()
    assert e.tags == ("untagged",) and e.tag_labels == ("#untagged",)
    assert warned(e, ".md:3: no '*Title* (Authors)' line")
    assert warned(e, "no hashtag line; tagged #untagged")
    assert e.id == "tag:digestfeed.example.org,2025:2024-05-08/no-title-here"  # not arXiv


def test_unclosed_english_takes_the_rest_of_the_note() -> None:
    """An unclosed <english> makes the rest of the note English; the last tag line is still tags."""
    e = note("240508 Unclosed English")
    assert e.comment_en == "The English comment that never closes."
    assert e.tags == ("scaling-law",)
    assert warned(e, "Unclosed English.md:9: <english> is never closed")


def test_two_english_blocks_are_joined() -> None:
    """Two <english> blocks (inline tags too) are joined in order, with a warning."""
    e = note("240508 Two English")
    assert e.comment_en == "First English paragraph.\nSecond English paragraph."
    assert e.comment_ko == "첫 번째 한국어 문단.\n두 번째 한국어 문단."
    assert warned(e, "Two English.md:13: a second <english> block")


def test_misspelt_and_stray_english_tags() -> None:
    """<enligsh> is read as <english>; a stray </english> is ignored; both warned."""
    e = note("240511 Misspelt")
    assert e.comment_en.endswith("The English comment.")
    assert warned(e, "misspelt tag '<enligsh>'")
    assert warned(e, "</english> with no <english> before it")


def test_english_without_korean_goes_to_the_abstract() -> None:
    """No Korean comment: English text would parse as abstract, so the vault puts it there."""
    e = note("240509 English Only")
    assert e.comment_ko == "" and e.comment_en == ""
    assert e.abstract == "An English comment but no Korean one.\nA translation of nothing."
    assert warned(e, "English text with no Korean comment")


def test_edge_lines_without_hangul_and_hashtag_line_in_the_abstract() -> None:
    """Non-Hangul comment edges move to abstract / English; a hashtag-only quote line adds tags."""
    e = note("240509 Edges")
    assert e.abstract == "The abstract.\nhttps://project.example.org/"
    assert (
        e.comment_ko == "한국어 코멘트 첫 줄.\nEnglish in the middle is fine.\n한국어 코멘트 끝 줄."
    )
    assert e.comment_en == "https://github.com/example/code\nThe English comment."
    assert e.tags == ("rl", "search", "tool")
    assert warned(e, "Edges.md:6: hashtag line that is not the note's last")
    assert warned(e, "Edges.md:8: 1 comment line without Hangul before the Korean text")
    assert warned(e, "Edges.md:13: 1 comment line without Hangul after the Korean text")


def test_abstract_line_with_hangul_starts_the_korean_comment() -> None:
    """An abstract line holding Hangul (and what follows) becomes Korean comment, warned."""
    e = note("240509 Hangul Abstract")
    assert e.abstract == "An abstract line."
    assert e.comment_ko.startswith("한국어가 들어간 초록 줄.\nAnother abstract line.")
    assert warned(e, "Hangul Abstract.md:6: 2 quoted (abstract) lines")


def test_title_like_authors_line_falls_back_and_parenthesised_line_after_title() -> None:
    """A title that reads as an authors line uses the file name; a '(…)' line is abstract."""
    e = note("240510 Parens Title")
    assert e.title == "Parens Title"
    assert e.abstract == "(A line in parentheses right after the title)"
    assert warned(e, "would read as a tag or authors line")


def test_title_like_tag_line_falls_back(tmp_path: Path) -> None:
    """A title made of hashtags only would end the entry in a digest: the file name's title."""
    e = note_text(
        tmp_path, "https://x.org/\n\n*#rl #tool* (A)\n\n한국어.\n\n#rl\n", "240601 Real Title.md"
    )
    assert e.title == "Real Title"


def test_wrapped_title_and_stray_character_on_the_tag_line() -> None:
    """A title wrapped over two lines is joined; '#a #b a' drops the stray 'a'."""
    e = note("240511 Stray")
    assert e.title == "A Very Long Title Wrapped Over Two Lines"
    assert e.authors == ("F. Author", "G. Author")
    assert e.tags == ("instruction-tuning", "alignment")
    assert e.comment_en == "English after the tags."
    assert warned(e, "stray 'a'")


def test_control_characters_removed_with_warning(tmp_path: Path) -> None:
    """C0 control characters are removed, warned at file:line."""
    e = note_text(tmp_path, "https://x.org/\n\n*T* (A)\n\n> speed 1.5\x02x\n\n한국어.\n\n#rl\n")
    assert e.abstract == "speed 1.5x"
    assert warned(e, "240601 Made Up.md:5: removed control character")


def test_no_abstract_no_english_warned(tmp_path: Path) -> None:
    """A note with only a Korean comment parses, with 'no abstract' and 'no English' warnings."""
    e = note_text(tmp_path, "https://x.org/\n\n*T* (A)\n\n한국어.\n\n#rl\n")
    assert (
        e.comment_ko == "한국어." and warned(e, "no abstract") and warned(e, "no English comment")
    )


def test_paragraph_blank_lines_dropped_and_lines_right_stripped(tmp_path: Path) -> None:
    """Parts follow the digest convention: non-blank lines, right-stripped, joined by '\\n'."""
    e = note_text(
        tmp_path, "https://x.org/\n\n*T* (A)\n\n  한국어 첫째.   \n\n\n둘째.\u00a0\n\n#rl\n"
    )
    assert e.comment_ko == "한국어 첫째.\n둘째."


def test_empty_note_never_crashes(tmp_path: Path) -> None:
    """An empty note still gives an entry (title from the file name), with warnings."""
    e = note_text(tmp_path, "")
    assert e.title == "Made Up" and e.tags == ("untagged",)
    assert warned(e, "no URL on the first line")


def test_read_notes_dates_order_and_skips() -> None:
    """Date = note day + offset; file-name order within a day; undated files skipped, warned."""
    digests, skipped = read_notes(NOTES, CONFIG)
    dates = [d.date for d in digests]
    assert dates == sorted(dates) and dates[0] == "2024-05-08"
    first = digests[0]
    assert [Path(e.source).name.split(".md")[0] for e in first.entries] == [
        "240507 Full Note",
        "240507 Old Layout",
    ]
    assert [e.position for e in first.entries] == [0, 1]
    assert len(skipped) == 1 and skipped[0].startswith(f"{NOTES / 'Undated.md'}:1: note skipped")
    assert warning_kind(skipped[0]) == "undated note"


def test_date_offset_from_config() -> None:
    """config.vault_date_offset moves every digest date."""
    digests, _ = read_notes(NOTES, CONFIG.replace(vault_date_offset=0))
    assert digests[0].date == "2024-05-07"


def test_identical_same_day_copies_are_one_entry() -> None:
    """An Obsidian copy identical to its original (same day) is published once, the original kept."""
    digests, _ = read_notes(NOTES, CONFIG)
    dup = [e for d in digests for e in d.entries if "Dup" in e.source]
    assert [Path(e.source).name.split(":")[0] for e in dup] == ["240510 Dup.md"]
    assert dup[0].id.endswith("arxiv:2404.14469")
    day = next(d for d in digests if d.date == "2024-05-11")
    copies = [w for w in day.warnings if warning_kind(w) == "identical copies"]
    assert copies == [
        f"{NOTES / '240510 Dup 1.md'}:1: identical to {NOTES / '240510 Dup.md'} (same day); "
        "published once, as 240510 Dup.md"
    ]


def test_id_stable_when_comments_and_tags_change(tmp_path: Path) -> None:
    """The arXiv-based id ignores title, comments and tags."""
    a = note_text(tmp_path, "https://arxiv.org/abs/2401.00001\n\n*T* (A)\n\n한국어.\n\n#rl\n")
    b = note_text(tmp_path, "https://arxiv.org/pdf/2401.00001v3\n\n*New T* (A)\n\n수정.\n\n#nlp\n")
    assert a.id == b.id


def test_not_utf8_note_is_a_parse_error(tmp_path: Path) -> None:
    """A note that is not UTF-8 is reported (path:line) in ParseErrors; the others still read."""
    (tmp_path / "240601 Bad.md").write_bytes(b"https://x.org/\n\xff\xfe\n")
    (tmp_path / "240601 Good.md").write_text(
        "https://x.org/\n\n*T* (A)\n\n한국어.\n\n#rl\n", encoding="utf-8"
    )
    with pytest.raises(ParseErrors) as info:
        read_notes(tmp_path, CONFIG)
    assert [str(e) for e in info.value.errors] == [
        f"{tmp_path / '240601 Bad.md'}:2: not valid UTF-8 (byte 0xff)"
    ]


def test_notes_source_carries_skip_warnings_and_needs_dated_notes(tmp_path: Path) -> None:
    """NotesSource.read puts skip warnings on the first digest; a vault with no dated note fails."""
    digests = NotesSource().read(NOTES, CONFIG)
    assert any("Undated.md" in w for w in digests[0].warnings)
    (tmp_path / "Nothing.md").write_text("x", encoding="utf-8")
    with pytest.raises(ParseErrors, match="no dated notes"):
        NotesSource().read(tmp_path, CONFIG)


def test_test_vault_round_trips() -> None:
    """Every hand-written note survives vault → digest text → parse_text field for field."""
    for digest in read_notes(NOTES, CONFIG)[0]:
        parsed = parse_text(render_digest(digest), f"{digest.date}.txt", CONFIG)
        assert len(parsed.entries) == len(digest.entries)
        for a, b in zip(digest.entries, parsed.entries, strict=True):
            for field in ROUND_TRIP:
                assert getattr(a, field) == getattr(b, field), (a.source, field)


def test_export_digest_uses_the_vault_from_config(tmp_path: Path) -> None:
    """Without --source, export-digest reads the directory config.sources maps to 'notes'."""
    config = tmp_path / "digestfeed.toml"
    config.write_text(f'sources = {{ "{NOTES}" = "notes" }}\n', encoding="utf-8")
    r = CliRunner().invoke(
        main, ["--config", str(config), "export-digest", "--date", "2024-05-08", "-q"]
    )
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("2024년 5월 8일\nFull Note") and r.stderr == ""


def test_export_digest_cli() -> None:
    """export-digest prints the day's digest text (seed layout, no final newline), warnings on stderr."""
    result = CliRunner().invoke(
        main, ["export-digest", "--date", "2024-05-08", "--source", str(NOTES)]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.split("\n")
    assert lines[:3] == [
        "2024년 5월 8일",
        "Full Note: A Complete Example",
        "(Ada Lovelace, Alan Turing (Org, Lab), Grace Hopper)",
    ]
    assert not result.stdout.endswith("\n") and "" not in lines
    assert "warning:" in result.stderr and "embedded image" in result.stderr


def test_export_digest_cli_errors(tmp_path: Path) -> None:
    """A day with no notes, a bad date, or no vault: exit 2, one message, no traceback."""
    runner = CliRunner()
    config = tmp_path / "digestfeed.toml"
    config.write_text('sources = { entries = "digest" }\n', encoding="utf-8")
    r = runner.invoke(main, ["export-digest", "--date", "2020-01-01", "--source", str(NOTES)])
    assert r.exit_code == 2 and "no notes for the digest of 2020-01-01" in r.stderr
    r = runner.invoke(main, ["export-digest", "--date", "2024-13-01", "--source", str(NOTES)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    r = runner.invoke(main, ["--config", str(config), "export-digest", "--date", "2024-05-08"])
    assert r.exit_code == 2 and "no vault" in r.stderr
