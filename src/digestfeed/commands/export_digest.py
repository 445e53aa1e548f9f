"""``digestfeed export-digest``: the digest text the vault gives for one day."""

from __future__ import annotations

import datetime as dt

import click

from ..cli import fail, get_config, handle_errors


def _check_date(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a YYYY-MM-DD date") from None


@click.command("export-digest")
@click.option(
    "--date",
    "date",
    required=True,
    metavar="YYYY-MM-DD",
    callback=_check_date,
    help="The digest date.",
)
@click.option(
    "--source",
    "source",
    type=click.Path(file_okay=False),
    default=None,
    help="The vault directory (default: the directory config.sources maps to 'notes').",
)
@click.option("--quiet", "-q", is_flag=True, help="Do not print warnings.")
@click.pass_context
@handle_errors
def export_digest(ctx: click.Context, date: str, source: str | None, quiet: bool) -> None:
    """Print the digest text the vault's notes give for DATE, in the seed's layout.

    The notes of DATE minus config.vault_date_offset days are the day's entries.
    Warnings go to stderr; the text (no final newline) to stdout.
    """
    from ..sources.export import render_digest
    from ..sources.notes import read_notes

    config = get_config(ctx)
    if source is None:
        vaults = [d for d, name in config.sources.items() if name == "notes"]
        if not vaults:
            fail(
                "digestfeed: no vault: pass --source DIR or map a directory to 'notes' in the config's sources"
            )
        source = vaults[0]
    digests, _ = read_notes(source, config, dates={date})
    if not digests:
        from ..errors import ParseError

        raise ParseError(
            source,
            None,
            f"no notes for the digest of {date} "
            f"(notes are named YYMMDD Title.md; offset {config.vault_date_offset:+d} day)",
        )
    if not quiet:
        from ..types import is_info

        for w in digests[0].warnings:
            if not is_info(w):  # a part the note style lacks is not a warning
                click.echo(f"warning: {w}", err=True)
    click.echo(render_digest(digests[0]), nl=False)


COMMANDS = [export_digest]
