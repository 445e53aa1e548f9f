"""``digestfeed import``: a newsletter's RSS feed (Substack) → ``entries/YYYY-MM-DD.txt``.

Thin command: options → :func:`digestfeed.importer.import_feed` → what was written, the
warnings, and an exit code (1 when a digest was left as it was because its post differs).
"""

from __future__ import annotations

import sys

import click

from ..cli import EXIT_FINDING, get_config, handle_errors


@click.command("import")
@click.argument("source", metavar="URL-OR-FILE")
@click.option(
    "--into",
    default="entries",
    show_default=True,
    metavar="DIR",
    help="Directory the digests are written to (YYYY-MM-DD.txt).",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace an existing digest whose text differs from its post (else it is left as "
    "it is, the difference shown, exit 1).",
)
@click.option(
    "--state",
    default=None,
    metavar="PATH",
    help="The feed reader's state file, for conditional GET (default: $DIGESTFEED_STATE, "
    "else <user state dir>/digestfeed/reader.sqlite).",
)
@click.option(
    "--no-state",
    is_flag=True,
    help="Fetch unconditionally and remember nothing (import every post again).",
)
@click.option(
    "--timeout", type=float, default=10.0, show_default=True, help="Seconds for the fetch."
)
@click.option(
    "--max-bytes",
    type=int,
    default=10 * 1024 * 1024,
    show_default=True,
    help="Largest feed accepted, in bytes.",
)
@click.option("--quiet", "-q", is_flag=True, help="Errors and differences only.")
@click.option("--verbose", "-v", is_flag=True, help="Also list the digests left unchanged.")
@click.pass_context
@handle_errors
def import_command(
    ctx: click.Context,
    source: str,
    into: str,
    overwrite: bool,
    state: str | None,
    no_state: bool,
    timeout: float,
    max_bytes: int,
    quiet: bool,
    verbose: bool,
) -> None:
    """Import the digests published as posts of an RSS feed (a Substack newsletter's
    https://NAME.substack.com/feed, or a saved copy) into --into as YYYY-MM-DD.txt.

    Each post whose text the digest parser reads becomes one digest file (the post's date
    when its text has no date line); other posts are skipped with a warning. An existing
    digest with different text is never replaced without --overwrite. Run 'digestfeed
    build' afterwards: the build itself never goes online.
    """
    from ..importer import DIFFERS, import_feed
    from ..reader.reading import default_state_path
    from ..types import warning_kind

    if timeout <= 0 or max_bytes <= 0:
        raise click.BadParameter("must be positive", param_hint="--timeout/--max-bytes")
    config = get_config(ctx)
    state_path = None if no_state else (state or default_state_path())
    result = import_feed(
        source,
        into,
        config,
        overwrite=overwrite,
        state=state_path,
        timeout=timeout,
        max_bytes=max_bytes,
    )
    for warning in result.warnings:
        if not quiet or warning_kind(warning) == DIFFERS:
            click.echo(f"warning: {warning}", err=True)
    if not quiet:
        for path in result.written:
            click.echo(f"  wrote {path}")
        if verbose:
            for path in result.unchanged:
                click.echo(f"  unchanged {path}")
        click.echo(result.summary())
    if result.conflicts:
        sys.exit(EXIT_FINDING)


COMMANDS = [import_command]
