"""``digestfeed build`` and ``digestfeed check``: entries/ → feeds/, or tell CI it is stale.

Thin commands: options → :func:`digestfeed.build` / :func:`digestfeed.check` → a summary
and an exit code.
"""

from __future__ import annotations

import datetime as dt
import gc
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click

from ..cli import (
    EXIT_FINDING,
    exit_at_once_when_done,
    fail,
    get_config,
    handle_errors,
    program_ends_with_command,
)
from ..ledger import LEDGER_NAME
from ..pipeline import LEDGERS_DIR, BuildResult, Sources, build, check, source_pairs
from ..plugins import parse_source_spec
from ..types import warning_kind
from ..urls import PLACEHOLDER_HOST, placeholder_keys

MAX_LISTED = 30
#: Warnings of one kind listed without --verbose (the summary line counts them all).
WARNINGS_PER_KIND = 3


def source_option(specs: Sequence[str], entries: str | None) -> Sources:
    """``--source NAME=DIR`` options, else ``--entries DIR``, else ``None`` (the config's)."""
    if specs:
        return [(name, Path(directory)) for name, directory in map(parse_source_spec, specs)]
    return entries


@contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled:
        yield None
        return
    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr).__enter__()
        bar.update(done - bar.pos)

    try:
        yield update
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def _options(func: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(
        [
            click.option(
                "--entries",
                default=None,
                metavar="DIR",
                help="Directory of dated digests (default: the config's sources, i.e. entries/).",
            ),
            click.option(
                "--source",
                "sources",
                multiple=True,
                metavar="NAME=DIR",
                help="Read DIR with source plugin NAME (digest, notes, …); repeatable.",
            ),
            click.option(
                "--out", default="feeds", show_default=True, metavar="DIR", help="Output directory."
            ),
            click.option(
                "--ledger",
                default=None,
                metavar="PATH",
                help=f"Ledger of ids and times (default: <source dir>/{LEDGER_NAME} for a digest "
                f"source; {LEDGERS_DIR}/<dir>-<hash>.json in the working directory for any "
                "other, e.g. a vault, which digestfeed never writes into).",
            ),
            click.option(
                "--now",
                default=None,
                metavar="ISO8601",
                help="Build time given to edited entries (default: $DIGESTFEED_NOW, else the clock).",
            ),
            click.option(
                "--no-cache", is_flag=True, help="Ignore and do not update the parse/render cache."
            ),
            click.option(
                "--quiet", "-q", is_flag=True, help="No progress bar, no warnings; errors only."
            ),
            click.option(
                "--verbose", "-v", is_flag=True, help="List every warning and changed file."
            ),
        ]
    ):
        func = option(func)
    return func


def _run(
    ctx: click.Context,
    entries: str | None,
    sources: tuple[str, ...],
    out: str,
    ledger: str | None,
    now: str | None,
    no_cache: bool,
    quiet: bool,
    verbose: bool,
    check_only: bool,
    reset_ids: bool = False,
) -> BuildResult:
    """Options → one library call (:func:`~digestfeed.pipeline.build` or ``check``) → warnings."""
    if program_ends_with_command():
        # the library pauses the cyclic collector for the build and restores it after; the
        # program ends with this command (see cli.run), so no collection is worth running
        gc.disable()
        exit_at_once_when_done()
    config = get_config(ctx)
    chosen = source_option(sources, entries)
    for _plugin, directory in source_pairs(chosen, config):
        if not directory.exists():
            fail(
                f"digestfeed: {directory}/: no such directory. Start a publication with "
                "'digestfeed init DIR --url https://you.github.io/papers/', or write your "
                f"first digest as {directory}/YYYY-MM-DD.txt (see 'The digest format' in the README)"
            )
    stamp = None  # default: the ledger reads $DIGESTFEED_NOW or the clock, only if needed
    if now:
        try:
            stamp = dt.datetime.fromisoformat(now)
        except ValueError:
            raise click.BadParameter(
                f"{now!r} is not an ISO 8601 date-time", param_hint="--now"
            ) from None
    show_bar = not quiet and sys.stderr.isatty()
    with progress_bar(show_bar, "checking" if check_only else "rendering") as progress:
        if check_only:
            result = check(chosen, out, config=config, ledger=ledger, now=stamp, progress=progress)
        else:
            result = build(
                chosen,
                out,
                config=config,
                ledger=ledger,
                now=stamp,
                cache=not no_cache,
                progress=progress,
                reset_ids=reset_ids,
            )
    if result.record_error is not None:
        click.echo(
            f"warning: cannot record the build for 'digestfeed ping': {result.record_error}",
            err=True,
        )
    if not quiet:
        print_warnings(result, verbose)
    return result


def print_warnings(result: BuildResult, verbose: bool) -> None:
    """Warnings on stderr, grouped by kind: with ``verbose`` every warning and info, else the
    first few of each kind; then one line of counts by kind."""
    by_kind: dict[str, list[str]] = {}
    for warning in result.warnings:
        by_kind.setdefault(warning_kind(warning), []).append(warning)
    hidden = 0
    for kind, _ in result.warning_counts():
        shown = by_kind[kind] if verbose else by_kind[kind][:WARNINGS_PER_KIND]
        hidden += len(by_kind[kind]) - len(shown)
        for warning in shown:
            click.echo(f"warning: {warning}", err=True)
    if verbose:
        for info in result.infos:
            click.echo(f"info: {info}", err=True)
        if result.infos:
            click.echo(result.warning_summary(infos=True), err=True)
    if len(result.warnings) > 1 or hidden:
        more = f"; {hidden} not shown, -v lists them" if hidden else ""
        click.echo(f"{result.warning_summary()}{more}", err=True)


def _list(paths: list[str], prefix: str, verbose: bool) -> None:
    shown = paths if verbose else paths[:MAX_LISTED]
    for path in shown:
        click.echo(f"  {prefix} {path}")
    if len(shown) < len(paths):
        click.echo(f"  … and {len(paths) - len(shown)} more (--verbose lists them)")


@click.command("build")
@_options
@click.option(
    "--reset-ids",
    is_flag=True,
    help="Start a new ledger on purpose: every entry gets a new id under the config's "
    "tag_authority/tag_date (subscribers see every entry again).",
)
@click.pass_context
@handle_errors
def build_command(ctx: click.Context, /, **options: object) -> None:
    """Parse every digest and write the feeds (Atom, OPML, …) under --out.

    Nothing in the output directory is touched when any digest fails to parse (exit 2).
    Unchanged files are not rewritten; the summary says what changed.
    """
    result = _run(ctx, check_only=False, **options)  # type: ignore[arg-type]
    if options.get("quiet"):
        return
    click.echo(result.summary())
    _list(result.changed, "wrote", bool(options.get("verbose")))
    _list(result.removed, "removed", bool(options.get("verbose")))


@click.command("check")
@_options
@click.option(
    "--allow-placeholder",
    is_flag=True,
    help="Pass while site_url, feed_base_url or tag_authority is the example address.",
)
@click.pass_context
@handle_errors
def check_command(ctx: click.Context, /, allow_placeholder: bool, **options: object) -> None:
    """Exit 0 when --out holds exactly what build would write, 1 when stale. Writes nothing.

    Each differing file is named: changed, missing or extra (including a ledger that build
    would update). Use it in CI and in a pre-commit hook to refuse stale feeds. While the
    config's address is the example one (digestfeed.example.org) it fails (exit 2) unless
    --allow-placeholder is given.
    """
    keys = placeholder_keys(get_config(ctx))
    if keys and not allow_placeholder:
        fail(
            f"digestfeed: config: {', '.join(keys)} still the example address "
            f"({PLACEHOLDER_HOST}): set them to where feeds/ is published "
            "('digestfeed init DIR --url URL' starts a publication), "
            "or pass --allow-placeholder for a sample site"
        )
    result = _run(ctx, check_only=True, **options)  # type: ignore[arg-type]
    if not result.stale:
        if not options.get("quiet"):
            click.echo(f"up to date: {result.files} files")
        return
    missing = set(result.missing)
    for path in result.changed:
        if path in missing:
            click.echo(f"missing: {path} (build would write it)")
        else:
            click.echo(f"changed: {path} (build would rewrite it)")
    for path in result.removed:
        click.echo(f"extra: {path} (build would remove it)")
    click.echo(
        f"{len(result.stale)} files differ from what 'digestfeed build' would write", err=True
    )
    sys.exit(EXIT_FINDING)


COMMANDS = [build_command, check_command]
