"""Caps on what a merged digest may make the build write, and the build's size and time warnings."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import feedparser
import lxml.html
import pytest
from click.testing import CliRunner

import digestfeed
from digestfeed.cli import main
from digestfeed.config import Config, load_config
from digestfeed.errors import BuildError, ConfigError, ParseError, ParseErrors
from digestfeed.limits import FUTURE_KIND, SITE_SIZE_KIND
from digestfeed.pipeline import build_digests
from digestfeed.types import Digest, Entry, warning_kind
from feedcheck import parse_xml

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))


def entry_text(n: int, tags: str = "#rl", extra: str = "") -> str:
    return f"Paper {n}\n(Author {n})\nAbstract {n}. {extra}\n한국어 {n}.\nEnglish {n}.\n{tags}\n"


def build_cli(*extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["build", "--now", NOW.isoformat(), *extra])
    return result.exit_code, result.output


def test_a_thousand_hashtags_fail_cleanly_instead_of_building_hundreds_of_megabytes(
    project: Path,
) -> None:
    """A 6 KB digest with 1,000 hashtags on one entry is an error at its tag line; nothing is published."""
    tags = " ".join(f"#t{i}" for i in range(1000))
    text = "2025-05-09\n" + entry_text(1, tags)
    assert 5000 < len(text.encode()) < 7000
    (project / "entries" / "2025-05-09.txt").write_text(text, encoding="utf-8")
    code, output = build_cli()
    assert code == 2, output
    assert "2025-05-09.txt:7: 1000 distinct tags, more than max_tags_per_entry (20)" in output
    assert "Traceback" not in output
    assert not (project / "feeds").exists()


def test_a_thousand_hashtags_spread_over_entries_fail_at_the_digest_cap(project: Path) -> None:
    """1,000 distinct hashtags, 20 on each of 50 entries, stop at the entry that passes 100 tags."""
    text = "2025-05-09\n" + "".join(
        entry_text(k, " ".join(f"#t{20 * k + i}" for i in range(20))) for k in range(50)
    )
    assert len(text.encode()) < 9000
    (project / "entries" / "2025-05-09.txt").write_text(text, encoding="utf-8")
    code, output = build_cli()
    assert code == 2, output
    assert "2025-05-09.txt:37: more than max_tags_per_digest (100) distinct tags" in output
    assert not (project / "feeds").exists()


def test_twenty_tags_still_build(project: Path) -> None:
    """An entry at the cap (20 tags) builds, and the cap is configurable."""
    tags = " ".join(f"#t{i}" for i in range(20))
    (project / "entries" / "2025-05-09.txt").write_text(
        "2025-05-09\n" + entry_text(1, tags), encoding="utf-8"
    )
    assert build_cli("-q")[0] == 0
    (project / "digestfeed.toml").write_text(
        'cache_dir = ".cache"\nmax_tags_per_entry = 19\n', encoding="utf-8"
    )
    code, output = build_cli("--out", "other")
    assert code == 2 and "more than max_tags_per_entry (19)" in output, output


def test_too_many_entries_in_a_digest_name_the_first_one_over(project: Path) -> None:
    """max_entries_per_digest = 2: the third entry's title line is named; nothing is published."""
    (project / "digestfeed.toml").write_text(
        'cache_dir = ".cache"\nmax_entries_per_digest = 2\n', encoding="utf-8"
    )
    text = "2025-05-09\n" + "".join(entry_text(n) for n in range(3))
    (project / "entries" / "2025-05-09.txt").write_text(text, encoding="utf-8")
    code, output = build_cli()
    assert code == 2, output
    assert "2025-05-09.txt:14: more than max_entries_per_digest (2) entries" in output
    assert not (project / "feeds").exists()


def test_a_too_long_link_names_its_line(project: Path) -> None:
    """A link longer than max_link_length (2,048) is an error at the line that holds it."""
    link = "https://example.org/" + "a" * 3000
    text = "2025-05-09\n" + entry_text(1, extra=f"See {link}.")
    (project / "entries" / "2025-05-09.txt").write_text(text, encoding="utf-8")
    code, output = build_cli()
    assert code == 2, output
    assert "2025-05-09.txt:4: a link of 3020 characters, more than max_link_length (2048)" in output
    assert link not in output


def plugin_digest(
    tags: int = 1, entries: int = 1, link: str = "https://x.org/a", distinct: bool = False
) -> Digest:
    made = [
        Entry(
            id=f"tag:x,2025:2025-05-09/p{n}",
            date="2025-05-09",
            title=f"P{n}",
            authors=("A",),
            abstract="abs",
            comment_ko="",
            comment_en="",
            tags=tuple(f"t{i + n * tags * distinct}" for i in range(tags)),
            links=(link,),
            source=f"plug/2025-05-09.jsonl:{n + 1}",
            tag_labels=tuple(f"#t{i + n * tags * distinct}" for i in range(tags)),
            position=n,
        )
        for n in range(entries)
    ]
    return Digest("plug/2025-05-09.jsonl", "2025-05-09", tuple(made))


@pytest.mark.parametrize(
    ("digest", "message"),
    [
        (plugin_digest(tags=21), "plug/2025-05-09.jsonl:1: entry has 21 tags"),
        (plugin_digest(entries=201), "plug/2025-05-09.jsonl:201: digest 2025-05-09 has 201"),
        (
            plugin_digest(tags=20, entries=6, distinct=True),
            "plug/2025-05-09.jsonl:6: digest 2025-05-09 has more than 100 distinct tags",
        ),
        (
            plugin_digest(link="https://x.org/" + "b" * 2100),
            "plug/2025-05-09.jsonl:1: a link of 2114 characters",
        ),
    ],
)
def test_a_source_plugin_gets_the_same_caps(tmp_path: Path, digest: Digest, message: str) -> None:
    """Digests from any source are checked against the caps before anything is written."""
    with pytest.raises(ParseErrors, match=message):
        build_digests(Config(), [digest], tmp_path / "out", tmp_path / "ledger.json", now=NOW)
    assert not (tmp_path / "out").exists() and not (tmp_path / "ledger.json").exists()


@pytest.mark.parametrize(
    "key",
    [
        "max_tags_per_entry",
        "max_tags_per_digest",
        "max_entries_per_digest",
        "max_file_bytes",
        "max_link_length",
        "max_tag_length",
        "warn_site_bytes",
    ],
)
def test_cap_keys_are_configurable_and_checked(tmp_path: Path, key: str) -> None:
    """Each cap is a config key: a positive integer is taken, 0 is an error naming the key."""
    config = tmp_path / "digestfeed.toml"
    config.write_text(f"{key} = 7\n", encoding="utf-8")
    assert getattr(load_config(config), key) == 7
    config.write_text(f"{key} = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"config key '{key}': must be at least 1"):
        load_config(config)


def test_repository_config_documents_every_cap(project_root: Path) -> None:
    """The repository's digestfeed.toml sets each cap to its default, with a comment above it."""
    import tomllib

    text = (project_root / "digestfeed.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    lines = text.splitlines()
    for key in (
        "max_tags_per_entry",
        "max_tags_per_digest",
        "max_entries_per_digest",
        "max_file_bytes",
        "max_link_length",
        "max_tag_length",
        "warn_site_bytes",
    ):
        assert data[key] == getattr(Config(), key), key
        line = next(i for i, ln in enumerate(lines) if ln.startswith(f"{key} ="))
        assert lines[line - 1].startswith("#"), key


def test_a_future_digest_is_a_warning_and_changes_nothing_published(project: Path) -> None:
    """A digest dated 9999 is a warning naming the file; the feeds do not depend on --now."""
    (project / "entries" / "9999-01-01.txt").write_text(
        "9999-01-01\n" + entry_text(1), encoding="utf-8"
    )
    first = digestfeed.build(now=NOW, cache=False)
    (future,) = [w for w in first.warnings if warning_kind(w) == FUTURE_KIND]
    assert future.startswith("entries/9999-01-01.txt:2: digest dated 9999-01-01")
    assert "after the build time (2025-06-01) plus one day" in future
    later = digestfeed.build(out="later", ledger="later.json", now=NOW + dt.timedelta(days=900))
    for path in (project / "feeds").rglob("*.atom"):
        assert (
            path.read_bytes()
            == (project / "later" / path.relative_to(project / "feeds")).read_bytes()
        )
    assert future.replace("2025-06-01", "2027-11-18") in later.warnings


def test_a_no_change_rebuild_judges_the_future_by_its_own_build_time(project: Path) -> None:
    """A rebuild with nothing changed never repeats the last build's clock-dependent warning."""
    (project / "entries" / "2026-01-01.txt").write_text(
        "2026-01-01\n" + entry_text(1), encoding="utf-8"
    )
    first = digestfeed.build(now=NOW)
    assert [warning_kind(w) for w in first.warnings].count(FUTURE_KIND) == 1
    again = digestfeed.build(now=NOW + dt.timedelta(days=1))
    (future,) = [w for w in again.warnings if warning_kind(w) == FUTURE_KIND]
    assert "after the build time (2025-06-02)" in future and not again.changed
    past = digestfeed.build(now=NOW + dt.timedelta(days=400))
    assert not [w for w in past.warnings if warning_kind(w) == FUTURE_KIND]
    assert not past.changed


def test_tomorrow_is_not_a_future_digest(project: Path) -> None:
    """A digest dated the day after the build time (time zones) gets no warning."""
    (project / "entries" / "2025-06-02.txt").write_text(
        "2025-06-02\n" + entry_text(1), encoding="utf-8"
    )
    result = digestfeed.build(now=NOW, cache=False)
    assert not any("after the build time" in w for w in result.warnings)


def test_the_site_size_cap_is_a_warning(project: Path) -> None:
    """A site larger than warn_site_bytes is built, with a warning naming the size and the key."""
    config = Config(cache_dir=".cache", warn_site_bytes=1000)
    result = digestfeed.build(config=config, now=NOW, cache=False)
    assert result.files > 0 and (project / "feeds" / "all.atom").is_file()
    (too_big,) = [w for w in result.warnings if warning_kind(w) == SITE_SIZE_KIND]
    assert too_big.startswith("feeds: the site is ")
    assert "more than warn_site_bytes (1,000)" in too_big
    quiet = digestfeed.build(out="f2", ledger="l2.json", config=Config(cache_dir=".c"), now=NOW)
    assert not any("warn_site_bytes" in w for w in quiet.warnings)


def test_rss_channel_description_is_text_not_markup(project: Path) -> None:
    """Markup in a feed title reaches <description> HTML-escaped: an aggregator shows it as text."""
    title = 'Digest "><svg/onload=alert(1)> & more'
    digestfeed.build(config=Config(cache_dir=".cache", site_title=title), now=NOW, cache=False)
    data = (project / "feeds" / "all.rss").read_bytes()
    description = parse_xml(data).findtext("channel/description")
    assert description is not None
    fragment = lxml.html.fragment_fromstring(description, create_parent="div")
    assert fragment.findall(".//svg") == [] and fragment.text_content().startswith(title)
    assert not feedparser.parse(data).bozo


def test_a_directory_symlink_in_the_output_is_never_written_through(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """feeds/tags -> elsewhere: the build refuses naming the link; elsewhere stays untouched."""
    digestfeed.build(now=NOW, cache=False)
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "keep.txt").write_text("mine", encoding="utf-8")
    shutil.rmtree(project / "feeds" / "tags")
    (project / "feeds" / "tags").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(BuildError, match=r"feeds/tags: a symbolic link inside the output"):
        digestfeed.build(now=NOW, cache=False, ledger="other.json")
    assert [p.name for p in elsewhere.iterdir()] == ["keep.txt"]
    code, output = build_cli("--no-cache", "--ledger", "other.json")
    assert code != 0 and "feeds/tags: a symbolic link" in output and "Traceback" not in output


def test_a_staging_symlink_is_replaced_not_followed(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A committed feeds/.digestfeed-staging link is removed, and nothing is staged through it."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (project / "feeds").mkdir()
    (project / "feeds" / ".digestfeed-staging").symlink_to(elsewhere, target_is_directory=True)
    digestfeed.build(now=NOW, cache=False)
    assert list(elsewhere.iterdir()) == []
    assert (project / "feeds" / "all.atom").is_file()
    assert not (project / "feeds" / ".digestfeed-staging").exists()


def test_a_bad_hashtag_error_is_a_parse_error_not_a_build_error(project: Path) -> None:
    """A hashtag with markup stops the build at its line (exit 2), before any output exists."""
    (project / "entries" / "2025-05-09.txt").write_text(
        "2025-05-09\n" + entry_text(1, '#rl #"><svg/onload=alert(1)>'), encoding="utf-8"
    )
    code, output = build_cli()
    assert code == 2 and "2025-05-09.txt:7: hashtag" in output, output
    assert not (project / "feeds").exists()
    assert issubclass(ParseErrors, ValueError) and issubclass(ParseError, ValueError)
