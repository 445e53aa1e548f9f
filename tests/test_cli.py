"""The command line as a whole: help everywhere, both entry points, clean failures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from digestfeed.cli import main


def test_every_command_has_help() -> None:
    """Every command explains itself in --help (a docstring and help on every option)."""
    assert isinstance(main, click.Group)
    for param in main.params:  # the group's own options (--config, --version, --help)
        if isinstance(param, click.Option):
            assert (
                param.help
                or param.name in ("help", "version")
                or (param.is_flag and param.name == "version")
            ), param.opts
    ctx = click.Context(main)
    names = main.list_commands(ctx)
    assert {"parse", "build", "check", "read", "ping", "plugins", "export-digest"} <= set(names)
    for name in names:
        command = main.get_command(ctx, name)
        assert command is not None, name
        assert command.help and len(command.help.strip()) > 20, name
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert param.help, f"{name} {param.opts} has no help text"
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, name


def test_python_dash_m_and_console_script_agree() -> None:
    """`python -m digestfeed` is the same program as the console script."""
    result = subprocess.run(
        [sys.executable, "-m", "digestfeed", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "Usage: digestfeed" in result.stdout and "build" in result.stdout


def test_every_command_module_is_registered(project_root: object) -> None:
    """Each module under digestfeed/commands is in COMMAND_MODULES, and its commands load by name."""
    import pkgutil

    from digestfeed import commands
    from digestfeed.cli import COMMAND_MODULES

    modules = {info.name for info in pkgutil.iter_modules(commands.__path__)}
    assert modules == set(COMMAND_MODULES.values())
    ctx = click.Context(main)
    for module_name in modules:
        module = __import__(f"digestfeed.commands.{module_name}", fromlist=["COMMANDS"])
        for command in module.COMMANDS:
            assert COMMAND_MODULES[command.name] == module_name
            assert main.get_command(ctx, command.name) is command


def test_unknown_command_is_a_usage_error() -> None:
    """A typo is a usage error (exit 2), not a traceback."""
    result = CliRunner().invoke(main, ["biuld"])
    assert result.exit_code == 2 and "No such command" in result.output


def test_bad_option_value_is_a_usage_error(tmp_path: Path, seed_path: Path) -> None:
    """A malformed --now is reported as a usage error (exit 2), not as an internal error."""
    args = [
        "build",
        "--entries",
        str(seed_path.parent),
        "--out",
        str(tmp_path / "feeds"),
        "--now",
        "yesterday",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "--now" in result.output and "internal error" not in result.output
    assert not (tmp_path / "feeds").exists()


def test_output_path_that_is_a_file(tmp_path: Path, seed_path: Path) -> None:
    """--out naming a file is one clear line and exit 2; the file is left alone."""
    target = tmp_path / "afile"
    target.write_text("keep me")
    args = [
        "build",
        "--entries",
        str(seed_path.parent),
        "--out",
        str(target),
        "--ledger",
        str(tmp_path / "l.json"),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "is a file" in result.output and "Traceback" not in result.output
    assert target.read_text() == "keep me"


def test_parse_text_summarises_every_entry(seed_path: Path) -> None:
    """`parse --format text` names the file, date and count, then each entry's title, authors, tags and id."""
    from digestfeed.sources.digest import parse_digest

    result = CliRunner().invoke(main, ["parse", str(seed_path), "--format", "text"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == f"{seed_path}: 2025-05-08, 3 entries"
    for entry in parse_digest(seed_path).entries:
        assert f"  {entry.title}" in lines
        assert f"    #{' #'.join(entry.tags)}" in lines
        assert f"    {entry.id}" in lines
    assert "    Yehui Tang, Yichun Yin, Yaoyuan Wang +71" in lines


def test_closed_output_pipe_stops_quietly(seed_path: Path) -> None:
    """A reader of the output that went away (`| head`) ends the command with 141, no traceback."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to the pipe now fails with EPIPE
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "digestfeed", "parse", str(seed_path), "--format", "json"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 141
    assert proc.stderr == ""


def _program(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**__import__("os").environ, "DIGESTFEED_NOW": "2025-06-01T00:00:00+00:00"}
    return subprocess.run(
        [sys.executable, "-m", "digestfeed", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
    )


def test_program_ends_at_once_after_build_with_everything_written(project: Path) -> None:
    """The digestfeed program ends without interpreter teardown after build, yet its output, feeds, ledger and cache are complete."""
    import json

    first = _program("build", cwd=project)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0].startswith("1 digests, 3 entries")
    assert "example address" in first.stderr  # warnings flushed too
    ledger = json.loads((project / "entries" / ".ledger.json").read_text(encoding="utf-8"))
    assert len(ledger["entries"]) == 3
    assert (project / ".cache" / "build.sqlite").is_file()
    again = _program("build", cwd=project)
    assert again.returncode == 0 and again.stdout.splitlines()[0].endswith(": 0 changed")
    check = _program("check", "--allow-placeholder", cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr
    (project / "feeds" / "all.atom").write_text("stale", encoding="utf-8")
    stale = _program("check", "--allow-placeholder", cwd=project)
    assert stale.returncode == 1 and "all.atom" in stale.stdout + stale.stderr
    (project / "entries" / "2025-05-09.txt").write_text("no date line\n", encoding="utf-8")
    broken = _program("build", cwd=project)
    assert broken.returncode == 2 and "2025-05-09.txt" in broken.stderr


def test_program_still_runs_exit_handlers_after_build(project: Path) -> None:
    """Ending at once after build still runs what a plugin registered with atexit or weakref.finalize."""
    code = (
        "import atexit, pathlib, sys, weakref\n"
        "atexit.register(lambda: pathlib.Path('atexit.txt').write_text('ran'))\n"
        "class Plugin: pass\n"
        "keep = Plugin()\n"
        "weakref.finalize(keep, lambda: pathlib.Path('finalize.txt').write_text('ran'))\n"
        "sys.argv = ['digestfeed', 'build', '--no-cache', '-q']\n"
        "from digestfeed.cli import run\n"
        "run()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True)
    assert proc.returncode == 0, proc.stderr
    assert (project / "feeds" / "all.atom").is_file()
    assert (project / "atexit.txt").read_text() == "ran"
    assert (project / "finalize.txt").read_text() == "ran"


def test_program_under_a_profiler_ends_normally(project: Path) -> None:
    """python -m cProfile -m digestfeed build writes its profile: the program does not end at once under a profiler."""
    argv = ["-m", "cProfile", "-o", "build.prof", "-m", "digestfeed", "build", "--no-cache", "-q"]
    proc = subprocess.run([sys.executable, *argv], cwd=project, capture_output=True)
    assert proc.returncode == 0, proc.stderr
    assert (project / "feeds" / "all.atom").is_file()
    assert (project / "build.prof").stat().st_size > 0
