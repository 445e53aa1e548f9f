"""The command line as a whole: help everywhere, both entry points, clean failures."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from digestfeed.cli import main


def test_every_command_has_help() -> None:
    """Every command explains itself in --help (a docstring and help on every option)."""
    assert isinstance(main, click.Group)
    names = sorted(main.commands)
    assert {"parse", "build", "check"} <= set(names)
    for name in names:
        command = main.commands[name]
        assert command.help and len(command.help.strip()) > 20, name
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert param.help, f"{name} {param.opts} has no help text"
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, name


def test_python_dash_m_and_console_script_agree() -> None:
    """`python -m digestfeed` is the same program as the console script."""
    result = subprocess.run([sys.executable, "-m", "digestfeed", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "Usage: digestfeed" in result.stdout and "build" in result.stdout


def test_unknown_command_is_a_usage_error() -> None:
    """A typo is a usage error (exit 2), not a traceback."""
    result = CliRunner().invoke(main, ["biuld"])
    assert result.exit_code == 2 and "No such command" in result.output
