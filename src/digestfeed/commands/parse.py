"""``digestfeed parse``: digest files → entries (JSON contract or a readable summary)."""

from __future__ import annotations

import json

import click

from ..cli import get_config, handle_errors
from ..errors import ParseError, ParseErrors


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "text"]),
    default="text",
    show_default=True,
    help="json: one array of entries (the entry contract); text: a summary.",
)
@click.option("--quiet", "-q", is_flag=True, help="Do not print warnings.")
@click.pass_context
@handle_errors
def parse(ctx: click.Context, files: tuple[str, ...], fmt: str, quiet: bool) -> None:
    """Parse digest FILES and print their entries.

    Every broken file is reported as 'path:line: what is wrong' (exit 2); the good
    files are still printed.
    """
    from ..sources.digest import parse_digest

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
                authors = ", ".join(e.authors[:3]) + (
                    f" +{len(e.authors) - 3}" if len(e.authors) > 3 else ""
                )
                click.echo(f"  {e.title}\n    {authors}\n    #{' #'.join(e.tags)}\n    {e.id}")
    if errors:
        raise ParseErrors(errors)


COMMANDS = [parse]
