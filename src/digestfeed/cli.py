"""The ``digestfeed`` command line: thin commands over the library API.

Library errors (:class:`~digestfeed.errors.DigestfeedError`) become one clean message on
stderr and a non-zero exit code; never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .config import Config, load_config
from .errors import ConfigError, DigestfeedError, ParseError, ParseErrors

F = TypeVar("F", bound=Callable[..., Any])

#: Exit codes: 1 = stale/failed sources (a finding), 2 = bad input or usage.
EXIT_FINDING = 1
EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
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
        except KeyboardInterrupt:
            fail("digestfeed: interrupted", 130)

    return wrapper  # type: ignore[return-value]


def get_config(ctx: click.Context) -> Config:
    obj = ctx.find_root().obj or {}
    config = obj.get("config")
    if config is None:
        try:
            config = load_config(obj.get("config_path"))
        except ConfigError as exc:
            fail(f"digestfeed: {exc}")
        obj["config"] = config
    return config  # type: ignore[no-any-return]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), default=None,
    help="Config file (default: ./digestfeed.toml, else [tool.digestfeed] in ./pyproject.toml).",
)  # fmt: skip
@click.version_option(package_name="digestfeed")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """digestfeed: publish dated paper digests as feeds, and read feeds without duplicates.

    \b
    Publish:  digestfeed build            (entries/ -> feeds/)
              digestfeed check            (exit 1 when feeds/ is stale)
    Read:     digestfeed read feeds/index.opml
    """
    ctx.obj = {"config_path": config_path}


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text",
              show_default=True, help="json: one array of entries (the entry contract); text: a summary.")
@click.option("--quiet", "-q", is_flag=True, help="Do not print warnings.")
@click.pass_context
@handle_errors
def parse(ctx: click.Context, files: tuple[str, ...], fmt: str, quiet: bool) -> None:
    """Parse digest FILES and print their entries.

    Every broken file is reported as 'path:line: what is wrong' (exit 2); the good
    files are still printed.
    """
    from .sources.digest import parse_digest

    config = get_config(ctx)
    digests, errors = [], []
    for name in files:
        try:
            digests.append(parse_digest(name, config))
        except ParseError as exc:
            errors.append(exc)
    entries = [e for d in digests for e in d.entries]
    if not quiet:
        for d in digests:
            for w in d.warnings:
                click.echo(f"warning: {w}", err=True)
    if fmt == "json":
        click.echo(json.dumps([e.to_json() for e in entries], ensure_ascii=False, indent=2))
    else:
        for d in digests:
            click.echo(f"{d.path}: {d.date}, {len(d.entries)} entries")
            for e in d.entries:
                authors = ", ".join(e.authors[:3]) + (f" +{len(e.authors) - 3}" if len(e.authors) > 3 else "")
                click.echo(f"  {e.title}\n    {authors}\n    #{' #'.join(e.tags)}\n    {e.id}")
    if errors:
        raise ParseErrors(errors)


if __name__ == "__main__":  # pragma: no cover
    main()
