"""Plugins: entry-point registries, the example plugin (registered through a .dist-info on
sys.path, no install), `digestfeed plugins` and read_sources()."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from digestfeed.cli import main
from digestfeed.config import Config
from digestfeed.errors import ParseErrors, PluginError
from digestfeed.plugins import (
    discover,
    get_source,
    load_outputs,
    load_sources,
    output_files,
    parse_source_spec,
    read_sources,
)
from digestfeed.sources.digest import DigestSource
from digestfeed.sources.notes import NotesSource
from digestfeed.types import LazyOutput, Output, Source

EXAMPLE = Path(__file__).resolve().parent / "plugins" / "example_plugin"
NOTES = Path(__file__).resolve().parent / "data" / "notes"


def register(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    entry_points: str,
    name: str = "digestfeed_example_plugin",
) -> None:
    """Make importlib.metadata see a distribution with ``entry_points`` (and the example module)."""
    dist = tmp_path / f"{name}-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text(entry_points)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(EXAMPLE))


EXAMPLE_EPS = """\
[digestfeed.sources]
jsonl = example_plugin:JsonlSource

[digestfeed.outputs]
csv = example_plugin:CsvOutput
"""


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "site").mkdir()
    register(tmp_path / "site", monkeypatch, EXAMPLE_EPS)
    jsonl = tmp_path / "jsonl"
    jsonl.mkdir()
    (jsonl / "2025-05-09.jsonl").write_text(
        json.dumps(
            {"title": "A JSONL Paper", "authors": ["A"], "comment_ko": "한국어.", "tags": ["#RL"]}
        )
        + "\n",
        encoding="utf-8",
    )
    return jsonl


def test_builtins_are_registered_through_entry_points() -> None:
    """digest and notes sources, atom output: found by entry point, with their module path."""
    sources = load_sources()
    assert sources["digest"] is DigestSource and sources["notes"] is NotesSource
    assert "atom" in load_outputs()
    infos = {i.name: i for i in discover("digestfeed.sources")}
    assert infos["notes"].value == "digestfeed.sources.notes:NotesSource"
    assert infos["notes"].module == "digestfeed.sources.notes"


def test_builtin_classes_satisfy_the_protocols() -> None:
    """DigestSource/NotesSource are Sources; the built-in outputs are Output or LazyOutput."""
    assert isinstance(DigestSource(), Source) and isinstance(NotesSource(), Source)
    for cls in load_outputs().values():
        obj = cls()
        assert isinstance(obj, (Output, LazyOutput))


def test_example_plugin_is_discovered(example: Path) -> None:
    """A .dist-info with entry_points.txt on sys.path registers a source and an output."""
    assert load_sources()["jsonl"].__name__ == "JsonlSource"
    assert load_outputs()["csv"].__name__ == "CsvOutput"


def test_plugins_command_lists_the_example(example: Path) -> None:
    """`digestfeed plugins` lists built-ins and the example with module path and distribution."""
    result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.index("sources:") < out.index("jsonl") < out.index("outputs:") < out.index("csv")
    assert "example_plugin:JsonlSource  (digestfeed_example_plugin 0.1.0)" in out
    assert "digestfeed.sources.notes:NotesSource" in out


def test_read_sources_uses_the_example_and_builtins(example: Path, seed_path: Path) -> None:
    """read_sources reads NAME=DIR pairs with any plugin, sorted by date."""
    digests = read_sources([("jsonl", str(example)), ("digest", str(seed_path.parent))], Config())
    assert [d.date for d in digests] == ["2025-05-08", "2025-05-09"]
    assert digests[1].entries[0].title == "A JSONL Paper" and digests[1].entries[0].tags == ("rl",)


def test_example_output_renders(example: Path) -> None:
    """A plain render() output runs through output_files like the lazy built-ins."""
    from digestfeed.plan import plan
    from digestfeed.types import Timed

    digests = read_sources({"jsonl": str(example)}, Config())
    when = dt.datetime(2025, 5, 9, 9, tzinfo=dt.UTC)
    feedset = plan([Timed(e, when, when) for d in digests for e in d.entries], Config())
    files = {path: render() for path, _, render in output_files(load_outputs()["csv"](), feedset)}
    assert files["entries.csv"].decode().splitlines()[1].endswith(",2025-05-09,A JSONL Paper,rl")


def _build(tmp_path: Path, source: str, outputs: list[str]) -> tuple[int, str, Path]:
    config = tmp_path / "digestfeed.toml"
    config.write_text(f"outputs = {json.dumps(outputs)}\n", encoding="utf-8")
    out = tmp_path / "feeds"
    result = CliRunner().invoke(
        main,
        [
            "--config",
            str(config),
            "build",
            "--source",
            source,
            "--out",
            str(out),
            "--ledger",
            str(tmp_path / "ledger.json"),
            "--no-cache",
            "-q",
        ],
    )
    return result.exit_code, result.output, out


def test_build_uses_the_example_source(example: Path, tmp_path: Path) -> None:
    """`digestfeed build --source jsonl=DIR` builds feeds from the example plugin's entries."""
    code, output, out = _build(tmp_path, f"jsonl={example}", ["atom"])
    assert code == 0, output
    assert "A JSONL Paper" in (out / "all.atom").read_text(encoding="utf-8")


def test_build_runs_a_render_output(example: Path, tmp_path: Path) -> None:
    """A third-party output with the plain render() interface is written by the build."""
    code, output, out = _build(tmp_path, f"jsonl={example}", ["atom", "csv"])
    assert code == 0, output
    assert "A JSONL Paper" in (out / "entries.csv").read_text(encoding="utf-8")


def test_read_sources_defaults_to_config_sources(tmp_path: Path, project_root: Path) -> None:
    """With no specs, config.sources (directory → plugin) is read relative to root."""
    digests = read_sources(None, Config(), root=project_root)
    assert [d.date for d in digests] == ["2025-05-08"]
    config = Config(sources={str(NOTES): "notes"})
    assert read_sources([], config)[0].date == "2024-05-08"


def test_read_sources_collects_errors_of_every_source(tmp_path: Path) -> None:
    """Broken files of several sources are all reported in one ParseErrors."""
    digests_dir, notes_dir = tmp_path / "d", tmp_path / "n"
    digests_dir.mkdir()
    notes_dir.mkdir()
    (digests_dir / "2025-05-08.txt").write_text("", encoding="utf-8")
    (notes_dir / "240601 Bad.md").write_bytes(b"\xff")
    with pytest.raises(ParseErrors) as info:
        read_sources([("digest", str(digests_dir)), ("notes", str(notes_dir))], Config())
    assert [e.path for e in info.value.errors] == [
        str(digests_dir / "2025-05-08.txt"),
        str(notes_dir / "240601 Bad.md"),
    ]


def test_unknown_source_is_a_plugin_error() -> None:
    """An unknown plugin name fails before reading, listing the installed ones."""
    with pytest.raises(
        PluginError, match=r"unknown source plugin 'nope' \(installed: digest, notes"
    ):
        read_sources([("nope", ".")], Config())


def test_broken_plugin_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin whose module does not import: PluginError naming it; `plugins` shows it, exit 1."""
    register(
        tmp_path,
        monkeypatch,
        "[digestfeed.sources]\nbroken = no_such_module_xyz:Source\n",
        "broken_plugin",
    )
    with pytest.raises(
        PluginError,
        match=r"source plugin 'broken' \(no_such_module_xyz:Source, from broken_plugin 0.1.0\) failed to load: ModuleNotFoundError",
    ):
        get_source("broken")
    result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 1 and "BROKEN" in result.stdout and "Traceback" not in result.output


def test_plugin_without_read_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry point that is not a class with read() is a PluginError."""
    register(
        tmp_path,
        monkeypatch,
        "[digestfeed.sources]\nbad = example_plugin:CsvOutput\n",
        "bad_plugin",
    )
    with pytest.raises(PluginError, match="has no read"):
        get_source("bad")


def test_parse_source_spec() -> None:
    """--source NAME=DIR splits at the first '='; anything else is a PluginError."""
    assert parse_source_spec("notes=../a=b") == ("notes", "../a=b")
    with pytest.raises(PluginError, match="expected NAME=DIR"):
        parse_source_spec("notes")


def test_no_change_shortcut_watches_plugin_files(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plugin's own output file (entries.csv) edited or deleted after a build is rewritten by the next build."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "digestfeed.toml").write_text('outputs = ["atom", "csv"]\n', encoding="utf-8")
    args = ["build", "--source", f"jsonl={example}", "--out", "feeds", "--ledger", "ledger.json"]
    for _ in range(2):  # the second build records the no-change snapshot
        assert CliRunner().invoke(main, args).exit_code == 0
    csv = tmp_path / "feeds" / "entries.csv"
    good = csv.read_text(encoding="utf-8")
    csv.write_text(good + "tampered\n", encoding="utf-8")
    result = CliRunner().invoke(main, args)
    assert "wrote entries.csv" in result.output and csv.read_text(encoding="utf-8") == good
    csv.unlink()
    result = CliRunner().invoke(main, args)
    assert "wrote entries.csv" in result.output and csv.read_text(encoding="utf-8") == good


def test_a_plugin_installed_while_the_process_runs_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entry points are remembered per process, yet a distribution added to a sys.path folder later is seen."""
    import os

    from digestfeed.plugins import SOURCES, registered_entry_points

    register(
        tmp_path, monkeypatch, "[digestfeed.sources]\nfirst = example_plugin:JsonlSource\n", "one"
    )
    assert "first" in {ep.name for ep in registered_entry_points(SOURCES)}
    assert "second" not in {ep.name for ep in registered_entry_points(SOURCES)}
    dist = tmp_path / "two-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: two\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text("[digestfeed.sources]\nsecond = example_plugin:X\n")
    st = os.stat(tmp_path)
    os.utime(tmp_path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # a coarse clock's tick
    assert {"first", "second"} <= {ep.name for ep in registered_entry_points(SOURCES)}
