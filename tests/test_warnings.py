"""Warnings with a kind: still the plain ``path:line: message`` text, grouped by kind in the build's summary."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest

from digestfeed.commands.build import print_warnings
from digestfeed.config import Config
from digestfeed.pipeline import BuildResult, build_digests
from digestfeed.types import OTHER, BuildWarning, is_info, warning_kind


def test_warning_is_its_text() -> None:
    """A kinded warning reads, compares and formats as the ``where: message`` string."""
    w = BuildWarning("unclosed <english>", "a.md:3", "<english> is never closed")
    assert w == "a.md:3: <english> is never closed"
    assert "never closed" in w and f"warning: {w}" == "warning: a.md:3: <english> is never closed"
    assert (w.kind, w.where, w.message, w.level) == (
        "unclosed <english>",
        "a.md:3",
        "<english> is never closed",
        "warning",
    )
    assert BuildWarning("k", "", "whole vault") == "whole vault"


def test_warning_is_frozen_and_survives_pickling() -> None:
    """A copied or pickled warning keeps kind, place and level; fields cannot be reassigned."""
    w = BuildWarning("no abstract", "a.md:2", "note has no abstract", "info")
    back = pickle.loads(pickle.dumps(w))
    assert back == w and type(back) is BuildWarning
    assert (back.kind, back.where, back.message, back.level) == (
        "no abstract",
        "a.md:2",
        "note has no abstract",
        "info",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.kind = "other"  # type: ignore[misc]


def test_plain_string_warning_has_kind_other() -> None:
    """A third-party source's plain string warning is of kind ``other`` and never an info."""
    assert warning_kind("x.txt:1: odd") == OTHER
    assert not is_info("x.txt:1: odd")
    assert is_info(BuildWarning("no abstract", "a", "b", "info"))


def _result(warnings: list[str]) -> BuildResult:
    result = BuildResult()
    result.add_warnings(warnings)
    return result


def test_build_splits_infos_from_warnings(tmp_path: Path, seed_path: Path) -> None:
    """A build puts a source's infos apart from its warnings and counts each by kind."""
    from digestfeed.sources.digest import parse_digest

    digest = parse_digest(seed_path, Config())
    kinded = (
        BuildWarning("unclosed <english>", "a.md:1", "never closed"),
        BuildWarning("unclosed <english>", "b.md:4", "never closed"),
        BuildWarning("no abstract", "c.md:2", "note has no abstract", "info"),
        "d.txt:9: plain",
    )
    digest = dataclasses.replace(digest, warnings=digest.warnings + kinded)
    result = build_digests(Config(), [digest], tmp_path / "feeds", tmp_path / "ledger.json")
    assert [str(w) for w in result.infos] == ["c.md:2: note has no abstract"]
    assert ("unclosed <english>", 2) in result.warning_counts()
    assert len(result.warnings) == len(digest.warnings) - 1  # every one but the info
    assert result.warning_counts(infos=True) == [("no abstract", 1)]
    assert result.warning_summary(infos=True) == "1 not warnings: 1 no abstract"


def test_summary_groups_by_kind_most_frequent_first() -> None:
    """The summary line counts warnings per kind, most frequent first, ties by name."""
    result = _result(
        [
            BuildWarning("stray character", "a.md:1", "x"),
            BuildWarning("unclosed <english>", "b.md:1", "x"),
            BuildWarning("unclosed <english>", "c.md:1", "x"),
            "d.txt:1: plain",
        ]
    )
    assert result.warning_summary() == (
        "4 warnings: 2 unclosed <english>, 1 other, 1 stray character"
    )
    assert BuildResult().warning_summary() == ""


def test_print_lists_a_few_of_each_kind_then_counts(capsys: pytest.CaptureFixture[str]) -> None:
    """Without -v: three warnings of each kind, then the counts and how many -v would add."""
    many = [BuildWarning("moved text", f"n{k}.md:1", "line moved") for k in range(5)]
    infos = [BuildWarning("no abstract", "old.md:1", "note has no abstract", "info")]
    result = _result([*many, BuildWarning("skipped note", "x.md", "no date"), *infos])
    print_warnings(result, verbose=False)
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "warning: n0.md:1: line moved",
        "warning: n1.md:1: line moved",
        "warning: n2.md:1: line moved",
        "warning: x.md: no date",
        "6 warnings: 5 moved text, 1 skipped note; 2 not shown, -v lists them",
    ]


def test_print_verbose_lists_everything_and_counts_infos(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With -v: every warning, every info, and the counts of both."""
    many = [BuildWarning("moved text", f"n{k}.md:1", "line moved") for k in range(5)]
    infos = [BuildWarning("no abstract", "old.md:1", "note has no abstract", "info")]
    print_warnings(_result([*many, *infos]), verbose=True)
    err = capsys.readouterr().err.splitlines()
    assert err[:5] == [f"warning: n{k}.md:1: line moved" for k in range(5)]
    assert err[5:] == [
        "info: old.md:1: note has no abstract",
        "1 not warnings: 1 no abstract",
        "5 warnings: 5 moved text",
    ]


def test_print_single_warning_needs_no_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """One warning is printed alone; infos stay silent without -v."""
    infos = [BuildWarning("no abstract", "old.md:1", "note has no abstract", "info")]
    print_warnings(_result(["a.txt:1: odd", *infos]), verbose=False)
    assert capsys.readouterr().err.splitlines() == ["warning: a.txt:1: odd"]


def test_digest_warnings_have_kinds() -> None:
    """Every warning of the digest source has a kind, so none counts as ``other``."""
    from digestfeed.sources.digest import parse_text

    text = "2025-05-09\nT\x07itle\n(Org)\n한국어만.\n#rl #--\n"
    digest = parse_text(text, "entries/2025-05-08.txt", Config())
    assert sorted(warning_kind(w) for w in digest.warnings) == [
        "control characters",
        "date differs from file name",
        "dropped hashtag",
        "no English comment",
        "no abstract",
    ]
    assert not any(is_info(w) for w in digest.warnings)  # a digest entry lacks nothing legitimately
    assert "entries/2025-05-08.txt:5: hashtag '#--' has no letters or digits; dropped" in (
        digest.warnings
    )


def test_types_module_works_without_the_rest_of_digestfeed() -> None:
    """``digestfeed.types`` makes feed ids without loading model or config: no import circle."""
    import subprocess
    import sys

    code = (
        "import sys, types as pytypes\n"
        "import digestfeed.types as t\n"
        "config = pytypes.SimpleNamespace(tag_authority='a.example', tag_date='2025')\n"
        "fs = t.FeedSet(config, (), (), ())\n"
        "print(fs.feed_id('all'))\n"
        "print(sorted(m for m in sys.modules if m.startswith('digestfeed.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    feed_id, modules = out.stdout.splitlines()
    assert feed_id == "tag:a.example,2025:feed/all"
    assert modules == str(["digestfeed.errors", "digestfeed.types"])  # errors: the package root's
