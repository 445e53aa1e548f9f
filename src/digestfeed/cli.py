"""The ``digestfeed`` command line: thin commands over the library API.

Library errors (:class:`~digestfeed.errors.DigestfeedError`) become one clean message on
stderr and a non-zero exit code; never a traceback.
"""

from __future__ import annotations

import atexit
import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from .errors import ConfigError, DigestfeedError, ParseErrors

if TYPE_CHECKING:  # pragma: no cover
    from .config import Config

F = TypeVar("F", bound=Callable[..., Any])

#: Exit codes: 1 = stale/failed sources (a finding), 2 = bad input or usage.
EXIT_FINDING = 1
EXIT_BAD_INPUT = 2
#: 128 + SIGPIPE: the shell's code for a command whose output pipe was closed.
EXIT_BROKEN_PIPE = 141


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Turn library errors into ``path:line: message`` lines and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ParseErrors as exc:
            for err in exc.errors:
                click.echo(str(err), err=True)
            sys.exit(EXIT_BAD_INPUT)
        except DigestfeedError as exc:
            fail(f"digestfeed: {exc}")
        except click.ClickException:
            raise  # usage errors: click prints them with the command's usage line (exit 2)
        except KeyboardInterrupt:
            fail("digestfeed: interrupted", 130)
        except BrokenPipeError:
            # Whoever read our output went away (`digestfeed read … | head`): stop quietly, as
            # shell tools do, with the shell's code for SIGPIPE. Nothing was committed: the
            # reader's state and the build's files are written only after their output.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(EXIT_BROKEN_PIPE)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"digestfeed: {where}{exc.strerror or exc}")
        except Exception as exc:
            if os.environ.get("DIGESTFEED_DEBUG"):
                raise
            fail(
                f"digestfeed: internal error: {type(exc).__name__}: {exc} "
                "(set DIGESTFEED_DEBUG=1 to see the traceback)",
                70,
            )

    return wrapper  # type: ignore[return-value]


def get_config(ctx: click.Context) -> Config:
    from .config import Config, load_config

    obj = ctx.find_root().obj or {}
    config = obj.get("config")
    if not isinstance(config, Config):
        try:
            config = load_config(obj.get("config_path"))
        except ConfigError as exc:
            fail(f"digestfeed: {exc}")
        obj["config"] = config
    return config


#: Each command and the module of ``digestfeed.commands`` that defines it (in its ``COMMANDS``).
#: Modules are imported only when their command runs, so ``digestfeed read`` starts fast.
COMMAND_MODULES = {
    "parse": "parse",
    "build": "build",
    "check": "build",
    "ping": "ping",
    "read": "read",
    "export-digest": "export_digest",
    "import": "import_digests",
    "plugins": "plugins",
    "init": "init",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (see :data:`COMMAND_MODULES`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMAND_MODULES.get(cmd_name)
        if module_name is None:
            return None
        import importlib

        module = importlib.import_module(f"digestfeed.commands.{module_name}")
        for command in module.COMMANDS:
            if command.name == cmd_name:
                return command  # type: ignore[no-any-return]
        raise AssertionError(f"digestfeed.commands.{module_name} does not define {cmd_name!r}")

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Click's lookup, plus "Did you mean …?" for a mistyped command (``biuld``)."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            import difflib

            name = args[0] if args else ""
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1, cutoff=0.6)
            if not close:
                raise
            ctx.fail(f"No such command {name!r}. Did you mean {close[0]}?")


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: ./digestfeed.toml, else [tool.digestfeed] in ./pyproject.toml).",
)
@click.version_option(package_name="digestfeed")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """digestfeed: publish dated paper digests as feeds, and read feeds without duplicates.

    \b
    Start:    digestfeed init DIR --url https://you.github.io/papers/
    Publish:  digestfeed build            (entries/ -> feeds/)
              digestfeed check            (exit 1 when feeds/ is stale)
    Read:     digestfeed read feeds/index.opml
    """
    ctx.obj = {"config_path": config_path}


#: Set by :func:`run`: the process is the ``digestfeed`` program, and ends with the command.
_PROGRAM = False
#: Set by a command whose every file, lock and database is closed when it returns (build,
#: check): the program then ends without tearing the interpreter down.
_EXIT_AT_ONCE = False


def program_ends_with_command() -> bool:
    """Whether this process is the ``digestfeed`` program (not a caller of :func:`main`,
    such as a test's ``CliRunner``), which ends when the command does."""
    return _PROGRAM


def exit_at_once_when_done() -> None:
    """Let :func:`run` end the process as soon as the command's output is flushed."""
    global _EXIT_AT_ONCE
    _EXIT_AT_ONCE = True


def run() -> None:
    """The ``digestfeed`` program (console script and ``python -m digestfeed``): :func:`main`;
    after ``build`` or ``check``, the process ends as soon as its output is flushed.

    Tearing the interpreter down (freeing a large build's objects one by one, and the
    collector's last pass over them) took ~0.1 s of a one-digest rebuild of a 10-year
    archive; mypy ends the same way. By then the feeds, the ledger, the cache (SQLite,
    closed after each use) and the build lock are written and closed, and digestfeed
    registers no exit handlers; those a plugin may register (``atexit``,
    ``weakref.finalize``) still run before the process ends. Any other command, and any
    command run under a profiler or a debugger, ends normally.
    """
    global _PROGRAM
    _PROGRAM = True
    try:
        main(prog_name="digestfeed")
    except SystemExit as exc:
        run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)  # CPython's own
        if (
            not _EXIT_AT_ONCE
            or run_exit_handlers is None
            or not (exc.code is None or isinstance(exc.code, int))
            # a profiler or debugger (python -m cProfile, pdb, coverage) writes its results
            # after the program returns: let it
            or sys.getprofile() is not None
            or sys.gettrace() is not None
        ):
            raise
        code = exc.code or 0
        run_exit_handlers()  # a plugin's atexit and weakref.finalize handlers, as at exit
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:  # whoever read the output went away: the shell's SIGPIPE code
            code = code or EXIT_BROKEN_PIPE
        os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
