"""The digest text format: the seed contract, bad input, tolerance, tags and ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from digestfeed import parse_digest
from digestfeed.cli import main
from digestfeed.config import Config
from digestfeed.errors import ParseError, ParseErrors
from digestfeed.model import ENTRY_JSON_KEYS
from digestfeed.sources.digest import DigestSource, parse_bytes, parse_text
from digestfeed.sources.export import render_digest

CONFIG = Config()
ENTRY = "Title\n(A, B)\nAbstract.\n한국어 코멘트.\nEnglish comment.\n#rl"


def test_seed_fields_equal_the_seed_text(seed_path: Path) -> None:
    """The seed gives 3 entries whose every field is the seed's own text, line for line."""
    lines = seed_path.read_text(encoding="utf-8").split("\n")
    digest = parse_digest(seed_path)
    assert digest.date == "2025-05-08" and len(digest.entries) == 3
    # (title, authors, abstract lines, ko, en, tags) line numbers, 0-based
    layout = [(1, 2, [3], 4, 5, 6), (7, 8, [9, 10], 11, 12, 13), (14, 15, [16], 17, 18, 19)]
    for entry, (t, a, ab, ko, en, tg) in zip(digest.entries, layout, strict=True):
        assert entry.title == lines[t]
        assert entry.authors == tuple(lines[a][1:-1].split(", "))
        assert entry.abstract == "\n".join(lines[i] for i in ab)
        assert entry.comment_ko == lines[ko]
        assert entry.comment_en == lines[en]
        assert entry.tag_labels == tuple(lines[tg].split())
        assert entry.tags == tuple(label[1:] for label in lines[tg].split())
        assert entry.source == f"{seed_path}:{t + 1}"
        assert entry.date == "2025-05-08"
    assert len(digest.entries[0].authors) == 74
    assert digest.entries[0].authors[-1] == "Zongyuan Zhan"
    assert digest.entries[1].abstract.endswith("Project page:\nhttps://generalist.top/")
    assert digest.entries[1].links == ("https://generalist.top/",)
    assert render_digest(digest) == seed_path.read_text(encoding="utf-8")


def test_parse_json_keys_are_the_contract(seed_path: Path) -> None:
    """`parse --format json` prints one array of objects with exactly the contract keys."""
    result = CliRunner().invoke(main, ["parse", "--format", "json", str(seed_path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data) == 3
    assert all(list(obj) == list(ENTRY_JSON_KEYS) for obj in data)
    assert list(ENTRY_JSON_KEYS) == [
        "id",
        "date",
        "title",
        "authors",
        "abstract",
        "comment_ko",
        "comment_en",
        "tags",
        "links",
        "source",
    ]
    assert all(
        obj["id"].isascii() and obj["id"].startswith("tag:digestfeed.example.org,") for obj in data
    )


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        (b"2025-05-08\nTitle\n(A)\n\xff\n#rl", 4, "not valid UTF-8"),
        (b"", 1, "empty digest"),
        (b"  \n\n", 1, "empty digest"),
        (b"Title\n(A)\n#rl", 1, "no date line"),
        (b"2025-05-08\nTitle\nAbstract\n#rl", 2, "has no authors line"),
        (b"2025-05-08\nTitle\n(A)\n\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4", 2, "has no tag line"),
        (b"2025-05-08\n#rl\nTitle\n(A)\n#rl", 2, "tag line with no entry"),
    ],
    ids=["not-utf8", "empty", "blank", "no-date", "no-authors", "no-tag-line-at-eof", "stray-tags"],
)
def test_bad_input_exits_2_with_path_line(
    tmp_path: Path, data: bytes, line: int, message: str
) -> None:
    """Bad input: exit 2 and 'path:line: what is wrong' on stderr, no traceback."""
    path = tmp_path / "digest.txt"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["parse", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}:{line}: ") and message in result.stderr
    assert "Traceback" not in result.output


def test_several_files_every_broken_one_reported(tmp_path: Path, seed_path: Path) -> None:
    """Several files: each broken one is reported, the good ones are still printed."""
    bad1, bad2 = tmp_path / "a.txt", tmp_path / "b.txt"
    bad1.write_bytes(b"")
    bad2.write_bytes(b"Title\n(A)\n#rl")
    result = CliRunner().invoke(
        main, ["parse", "--format", "json", str(bad1), str(seed_path), str(bad2)]
    )
    assert result.exit_code == 2
    assert len(json.loads(result.stdout)) == 3
    errors = [line for line in result.stderr.splitlines() if not line.startswith("warning:")]
    assert [e.split(":")[0] for e in errors] == [str(bad1), str(bad2)]


def test_digest_source_reports_every_broken_file(tmp_path: Path, seed_path: Path) -> None:
    """DigestSource.read raises ParseErrors naming every broken *.txt after trying them all."""
    (tmp_path / "2025-05-08.txt").write_bytes(seed_path.read_bytes())
    (tmp_path / "2025-05-09.txt").write_bytes(b"")
    (tmp_path / "2025-05-10.txt").write_bytes(b"\xff")
    (tmp_path / "notes.md").write_bytes(b"ignored")
    with pytest.raises(ParseErrors) as info:
        DigestSource().read(tmp_path, CONFIG)
    assert [Path(e.path).name for e in info.value.errors] == ["2025-05-09.txt", "2025-05-10.txt"]
    (tmp_path / "2025-05-09.txt").unlink()
    (tmp_path / "2025-05-10.txt").unlink()
    assert [d.date for d in DigestSource().read(tmp_path, CONFIG)] == ["2025-05-08"]


def test_control_characters_removed_with_warning() -> None:
    """C0 control characters are removed, with a warning naming path:line."""
    digest = parse_text(
        "2025-05-08\n" + ENTRY.replace("Abstract.", "Abs\x02tract.\x1b"), "d.txt", CONFIG
    )
    assert digest.entries[0].abstract == "Abstract."
    assert "d.txt:4: removed control character(s) illegal in XML" in digest.warnings


def test_bom_crlf_nbsp_trailing_spaces_tolerated() -> None:
    """A BOM, CRLF line ends, no-break spaces and trailing spaces give the same entry."""
    plain = parse_text("2025-05-08\n" + ENTRY, "d.txt", CONFIG).entries[0]
    messy_text = "\ufeff2025-05-08  \r\n" + ENTRY.replace("\n", " \u00a0\r\n") + "\u00a0 "
    messy = parse_bytes(messy_text.encode("utf-8"), "d.txt", CONFIG).entries[0]
    for field in ("title", "authors", "abstract", "comment_ko", "comment_en", "tags", "links"):
        assert getattr(messy, field) == getattr(plain, field), field


def test_blank_lines_between_parts_tolerated() -> None:
    """Blank lines between parts are tolerated; fields are the same as without them."""
    plain = parse_text("2025-05-08\n" + ENTRY, "d.txt", CONFIG).entries[0]
    spaced = parse_text("2025-05-08\n\n" + ENTRY.replace("\n", "\n\n"), "d.txt", CONFIG).entries[0]
    assert spaced.to_json() | {"source": ""} == plain.to_json() | {"source": ""}


def test_date_line_forms_and_file_name_date() -> None:
    """'2025년 5월 8일', '2025-05-08', 'May 8, 2025' and a dated file name all give the date."""
    for line in ("2025년 5월 8일", "2025-05-08", "May 8, 2025"):
        assert parse_text(f"{line}\n{ENTRY}", "x.txt", CONFIG).date == "2025-05-08"
    assert parse_text(ENTRY, "entries/2025-05-08.txt", CONFIG).date == "2025-05-08"


def test_missing_parts_are_warnings_not_errors() -> None:
    """An entry with only a Korean comment parses with empty fields and warnings."""
    digest = parse_text("2025-05-08\nTitle\n(Org)\n한국어만.\n#rl", "d.txt", CONFIG)
    e = digest.entries[0]
    assert (e.abstract, e.comment_ko, e.comment_en, e.authors) == ("", "한국어만.", "", ("Org",))
    assert any("no abstract" in w for w in digest.warnings)
    assert any("no English comment" in w for w in digest.warnings)


def test_tag_normalisation() -> None:
    """#Object_Detection and #object-detection are one tag; labels keep the first spelling."""
    digest = parse_text(
        "2025-05-08\nT\n(A)\n한국어.\n#Object_Detection #object-detection #RL", "d.txt", CONFIG
    )
    assert digest.entries[0].tags == ("object-detection", "rl")
    assert digest.entries[0].tag_labels == ("#Object_Detection", "#RL")


def test_tag_aliases_from_config() -> None:
    """The config's alias table merges synonyms after normalisation."""
    config = Config(tag_aliases={"Reinforcement_Learning": "rl"})
    digest = parse_text("2025-05-08\nT\n(A)\n한국어.\n#reinforcement-learning #rl", "d.txt", config)
    assert digest.entries[0].tags == ("rl",)


def test_id_stable_when_comments_and_tags_change() -> None:
    """Editing comments or tags keeps the id; it is the same across runs."""
    a = parse_text("2025-05-08\n" + ENTRY, "d.txt", CONFIG).entries[0]
    edited = ENTRY.replace("한국어 코멘트.", "수정된 코멘트.").replace("#rl", "#nlp #rl")
    b = parse_text("2025-05-08\n" + edited, "d.txt", CONFIG).entries[0]
    assert a.id == b.id == "tag:digestfeed.example.org,2025:2025-05-08/title"


def test_colliding_titles_get_distinct_ids() -> None:
    """Two entries with the same title slug get distinct, deterministic ids."""
    text = "2025-05-08\n" + ENTRY + "\n" + ENTRY.replace("Title", "Title!")
    ids = [e.id for e in parse_text(text, "d.txt", CONFIG).entries]
    assert ids == [
        "tag:digestfeed.example.org,2025:2025-05-08/title",
        "tag:digestfeed.example.org,2025:2025-05-08/title-2",
    ]


def test_urls_in_comments_never_become_the_id() -> None:
    """An arXiv URL inside a comment is a link, not the entry's identity."""
    text = "2025-05-08\n" + ENTRY.replace(
        "English comment.", "See https://arxiv.org/abs/2401.00001."
    )
    e = parse_text(text, "d.txt", CONFIG).entries[0]
    assert e.links == ("https://arxiv.org/abs/2401.00001",) and "2401" not in e.id


def test_parse_error_carries_path_and_line() -> None:
    """ParseError is a ValueError with .path and .line."""
    with pytest.raises(ParseError) as info:
        parse_text("2025-05-08\nTitle\nno authors\n#rl", "d.txt", CONFIG)
    assert (info.value.path, info.value.line) == ("d.txt", 2) and isinstance(info.value, ValueError)


def test_hashes_without_letters_are_text_not_a_tag_line() -> None:
    """'##' alone is body text (a tag line needs one real hashtag); '#-- #rl' drops '#--'."""
    digest = parse_text("2025-05-08\nT\n(A)\n##\n한국어.\n#-- #rl", "d.txt", CONFIG)
    e = digest.entries[0]
    assert e.abstract == "##" and e.tags == ("rl",) and e.tag_labels == ("#rl",)
    assert "d.txt:6: hashtag '#--' has no letters or digits; dropped" in digest.warnings


def test_punctuation_in_a_hashtag_is_an_error_at_its_line() -> None:
    """'#!! #rl': '!' is no tag character, so the hashtag is an error naming the line."""
    with pytest.raises(ParseError, match=r"^d\.txt:6: hashtag '#!!' holds U\+0021"):
        parse_text("2025-05-08\nT\n(A)\n##\n한국어.\n#!! #rl", "d.txt", CONFIG)


def test_a_repeated_tag_line_is_warned_about_and_refused_at_each_place() -> None:
    """The same tag line in two entries (and two files) gives each its own warning or error
    line, and the same tags, whatever was parsed before."""
    text = f"2025-05-08\n{ENTRY} #--\n{ENTRY} #--\n"
    for path in ("a.txt", "b.txt"):
        digest = parse_text(text, path, CONFIG)
        dropped = [w for w in digest.warnings if "dropped" in w]
        assert dropped == [
            f"{path}:7: hashtag '#--' has no letters or digits; dropped",
            f"{path}:13: hashtag '#--' has no letters or digits; dropped",
        ]
        assert [e.tags for e in digest.entries] == [("rl",), ("rl",)]
    bad = f"2025-05-08\n{ENTRY} #a!b\n"
    for path in ("a.txt", "b.txt"):
        with pytest.raises(ParseError, match=rf"^{path}:7: hashtag '#a!b' holds U\+0021"):
            parse_text(bad, path, CONFIG)
    capped = Config(max_tags_per_entry=1)
    with pytest.raises(ParseError, match=r"^c.txt:7: 2 distinct tags, more than max_tags"):
        parse_text(f"2025-05-08\n{ENTRY} #x\n", "c.txt", capped)
    assert parse_text(f"2025-05-08\n{ENTRY} #x\n", "c.txt", CONFIG).entries[0].tags == ("rl", "x")
