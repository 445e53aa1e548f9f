"""``digestfeed.build`` / ``digestfeed.check``: the build as a library call, and what it returns."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import digestfeed
from digestfeed.cli import main
from digestfeed.config import Config
from digestfeed.errors import ParseErrors, PluginError
from digestfeed.lastbuild import LastBuild
from digestfeed.pipeline import build_digests
from digestfeed.plugins import output_files
from digestfeed.render.opml import OpmlOutput
from digestfeed.sources.digest import read_digest_dir
from digestfeed.types import FeedSet, FileSpec

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
LATER = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_library_build_writes_what_the_command_writes(project: Path) -> None:
    """digestfeed.build() and `digestfeed build` produce byte-identical feeds and ledgers."""
    result = digestfeed.build("entries", "lib", ledger="lib-ledger.json", now=NOW, cache=False)
    args = ["build", "--out", "cli", "--ledger", "cli-ledger.json", "--now", NOW.isoformat()]
    assert CliRunner().invoke(main, [*args, "--no-cache", "-q"]).exit_code == 0
    assert tree(project / "lib") == tree(project / "cli")
    assert (project / "lib-ledger.json").read_bytes() == (project / "cli-ledger.json").read_bytes()
    assert result.files == len(tree(project / "lib")) and result.digests == 1


def test_result_of_a_first_build_and_a_no_change_rebuild(project: Path) -> None:
    """A first build reports every file written and the ledger created; a rebuild reports nothing changed."""
    first = digestfeed.build(now=NOW)
    assert sorted(first.changed) == sorted(tree(project / "feeds")) and first.ledger_changed
    assert first.entries == 3 and first.feeds > 3 and not first.unchanged
    assert first.summary().endswith(
        f"{first.files} files: {first.files} changed "
        f"({first.files} written, 0 removed); ledger updated"
    )
    again = digestfeed.build(now=NOW)
    assert again.unchanged and again.changed == again.removed == [] and not again.ledger_changed
    assert (again.digests, again.entries, again.feeds, again.files) == (
        first.digests,
        first.entries,
        first.feeds,
        first.files,
    )
    assert again.warnings == first.warnings
    assert again.summary().endswith(": 0 changed")


def test_sources_in_every_accepted_form_build_the_same_feeds(project: Path) -> None:
    """A directory, (name, dir) pairs, a {name: dir} mapping and the config's default are the same build."""
    forms: dict[str, digestfeed.pipeline.Sources] = {
        "dir": project / "entries",
        "pairs": [("digest", "entries")],
        "mapping": {"digest": project / "entries"},
        "default": None,
    }
    built = {}
    for name, sources in forms.items():
        digestfeed.build(sources, name, ledger=f"{name}.json", now=NOW, cache=False)
        built[name] = tree(project / name)
    assert built["dir"] and all(files == built["dir"] for files in built.values())


def test_default_ledger_sits_beside_digests(project: Path) -> None:
    """Without ledger=, a digest source's ledger is <dir>/.ledger.json, as with the command."""
    digestfeed.build("entries", now=NOW, cache=False)
    assert json.loads((project / "entries" / ".ledger.json").read_text(encoding="utf-8"))


def test_check_names_stale_files_and_writes_nothing(project: Path) -> None:
    """check() is empty right after a build; after an edit it names the feeds and the ledger, writing nothing."""
    digestfeed.build(now=NOW, cache=False)
    assert digestfeed.check(now=LATER).stale == []
    digest = next((project / "entries").glob("*.txt"))
    digest.write_text(digest.read_text(encoding="utf-8").replace("#rl", "#fresh-tag"), "utf-8")
    before = tree(project)
    result = digestfeed.check(now=LATER)
    assert "all.atom" in result.changed and "tags/fresh-tag.atom" in result.missing
    assert str(Path("entries/.ledger.json")) in result.changed and result.ledger_changed
    assert tree(project) == before


def test_parse_errors_raise_and_leave_feeds_alone(project: Path) -> None:
    """A broken digest raises ParseErrors naming file and line; feeds/ is exactly as before."""
    digestfeed.build(now=NOW, cache=False)
    before = tree(project / "feeds")
    (project / "entries" / "2025-05-09.txt").write_text(
        "2025-05-09\nA title without authors\n#rl\n", encoding="utf-8"
    )
    with pytest.raises(ParseErrors) as caught:
        digestfeed.build(now=LATER, cache=False)
    assert "2025-05-09.txt:" in str(caught.value.errors[0])
    assert tree(project / "feeds") == before


def test_unknown_output_is_a_plugin_error(project: Path) -> None:
    """A config naming an output that is not installed raises PluginError listing the installed ones."""
    config = Config(outputs=("atom", "nope"), cache_dir=".cache")
    with pytest.raises(PluginError, match=r"unknown output plugin\(s\) nope \(installed: .*atom"):
        digestfeed.build(config=config, now=NOW)


def test_build_records_what_changed_for_ping(project: Path) -> None:
    """A build records its changed files (and keeps earlier unannounced ones pending) for ping."""
    first = digestfeed.build(now=NOW, cache=False)
    last = LastBuild.load(digestfeed.load_config())
    assert last is not None and last.out == (project / "feeds").resolve()
    assert set(last.changed) == set(first.changed) == set(last.pending)
    digestfeed.build(now=NOW, cache=False)  # nothing changed: the earlier files stay pending
    again = LastBuild.load(digestfeed.load_config())
    assert again is not None and again.changed == () and set(again.pending) == set(first.changed)


def test_unwritable_record_is_reported_not_raised(project: Path) -> None:
    """When ping's record cannot be written the feeds still are, and the result says why."""
    (project / "blocked").write_text("a file where the cache directory should be", "utf-8")
    config = Config(cache_dir="blocked")
    result = digestfeed.build(config=config, now=NOW, cache=False)
    assert result.record_error and (project / "feeds" / "all.atom").is_file()


def test_progress_reports_every_file(project: Path) -> None:
    """progress(done, total) ends at (files, files)."""
    calls: list[tuple[int, int]] = []
    result = digestfeed.build(now=NOW, cache=False, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (result.files, result.files) and len(calls) == result.files + 1


class TupleOutput:
    """A third-party lazy output whose files() yields plain 3-tuples, not FileSpec."""

    name = "tuples"

    def files(
        self, feedset: FeedSet, formats: tuple[str, ...] = ()
    ) -> Iterator[tuple[str, str, Callable[[], bytes]]]:
        count = str(len(feedset.feeds))
        yield "count.txt", count, lambda: count.encode()


def test_plain_tuples_from_files_still_build(project: Path) -> None:
    """files() returning plain (path, fingerprint, render) tuples works; output_files gives FileSpecs."""
    config = Config()
    digests = read_digest_dir(project / "entries", config)
    result = build_digests(
        config, digests, project / "out", project / "l.json", now=NOW, outputs=[TupleOutput()]
    )
    assert (project / "out" / "count.txt").read_text() == str(result.feeds)
    assert result.feedset is not None
    specs = list(output_files(TupleOutput(), result.feedset))
    assert [type(s) for s in specs] == [FileSpec] and specs[0].path == "count.txt"
    opml = list(output_files(OpmlOutput(), result.feedset))
    assert all(isinstance(s, FileSpec) for s in opml)


def test_import_stays_cheap_and_build_is_the_function() -> None:
    """`import digestfeed` loads no build machinery; digestfeed.build stays the function after its module loads."""
    code = (
        "import sys, digestfeed\n"
        "assert 'digestfeed.pipeline' not in sys.modules and 'feedgen' not in sys.modules\n"
        "import digestfeed.pipeline, digestfeed.commands.build\n"
        "assert callable(digestfeed.build) and digestfeed.build is digestfeed.pipeline.build\n"
        "assert digestfeed.check is digestfeed.pipeline.check\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_naive_now_is_in_the_config_timezone(project: Path) -> None:
    """An edited entry stamped with a naive now gets that wall time in the config's timezone."""
    digestfeed.build(now=NOW, cache=False)
    digest = next((project / "entries").glob("*.txt"))
    digest.write_text(digest.read_text(encoding="utf-8").replace("#rl", "#edited"), "utf-8")
    digestfeed.build(now=dt.datetime(2026, 3, 1, 10, 30), cache=False)  # Asia/Seoul by default
    ledger = (project / "entries" / ".ledger.json").read_text(encoding="utf-8")
    assert '"updated": "2026-03-01T10:30:00+09:00"' in ledger


def test_command_warns_when_the_ping_record_cannot_be_written(project: Path) -> None:
    """`digestfeed build` still exits 0 with the feeds written and says on stderr that ping has no record."""
    (project / "blocked").write_text("a file where the cache directory should be", "utf-8")
    (project / "digestfeed.toml").write_text('cache_dir = "blocked"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--now", NOW.isoformat(), "--no-cache", "-q"])
    assert result.exit_code == 0 and (project / "feeds" / "all.atom").is_file()
    assert "warning: cannot record the build for 'digestfeed ping':" in result.stderr
    assert result.stdout == ""


def test_build_and_check_pause_the_cyclic_collector_and_restore_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cyclic garbage collector is off while build()/check() run, on again after (also after an error), and left off if it was off."""
    import gc

    import digestfeed.pipeline as pipeline

    seen: list[bool] = []
    real_plan = pipeline.plan

    def watching_plan(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(pipeline, "plan", watching_plan)
    assert gc.isenabled()
    digestfeed.build(now=NOW)
    digestfeed.check(now=NOW)
    assert seen == [False, False] and gc.isenabled()
    (project / "entries" / "2025-05-09.txt").write_text("not a digest\n", encoding="utf-8")
    with pytest.raises(ParseErrors):
        digestfeed.build(now=NOW)
    assert gc.isenabled()
    gc.disable()
    try:
        (project / "entries" / "2025-05-09.txt").unlink()
        digestfeed.build(now=NOW, cache=False)
        assert not gc.isenabled()
    finally:
        gc.enable()
