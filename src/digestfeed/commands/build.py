"""``digestfeed build`` and ``digestfeed check``: entries/ → feeds/, or tell CI it is stale."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click

from .. import uptodate
from ..cache import Cache
from ..cli import EXIT_FINDING, get_config, handle_errors
from ..config import Config
from ..ledger import LEDGER_NAME
from ..plugins import parse_source_spec, read_sources
from ..publish import BuildResult, build, default_outputs, record_last_build

MAX_LISTED = 30
#: Ledgers of sources other than digests (see :func:`default_ledger`).
LEDGERS_DIR = ".digestfeed-ledgers"


def source_pairs(
    specs: Sequence[str], entries: str | None, config: Config
) -> list[tuple[str, Path]]:
    """``--source NAME=DIR`` options, else ``--entries DIR``, else the config → (plugin, dir)."""
    if specs:
        return [(name, Path(directory)) for name, directory in map(parse_source_spec, specs)]
    if entries is not None:
        return [(config.sources.get(entries.rstrip("/"), "digest"), Path(entries))]
    return [(plugin, Path(directory)) for directory, plugin in config.sources.items()]


def default_ledger(sources: list[tuple[str, Path]], config: Config) -> Path:
    """Where the ledger lives unless ``--ledger`` says: ``<dir>/.ledger.json`` beside the
    digests of a ``digest`` source (committed with them); for any other source (a vault is
    the curator's own directory, possibly read-only) ``.digestfeed-ledgers/<dir>-<hash>.json``
    in the working directory — not in the cache, which must stay safe to delete."""
    name, directory = sources[0]
    if name == "digest":
        return directory / LEDGER_NAME
    resolved = directory.resolve()
    tag = hashlib.sha256(str(resolved).encode()).hexdigest()[:8]
    return Path(LEDGERS_DIR) / f"{resolved.name}-{tag}.json"


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
                help=f"Ledger of ids and times (default: <source dir>/{LEDGER_NAME}).",
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
    check: bool,
) -> BuildResult:
    config = get_config(ctx)
    specs = source_pairs(sources, entries, config)
    cache = None if no_cache or check else Cache(Path(config.cache_dir) / "build.pickle")
    stamp = None  # default: the ledger reads $DIGESTFEED_NOW or the clock, only if needed
    if now:
        try:
            stamp = dt.datetime.fromisoformat(now)
        except ValueError:
            raise click.BadParameter(
                f"{now!r} is not an ISO 8601 date-time", param_hint="--now"
            ) from None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=config.tz)
    ledger_path = Path(ledger) if ledger else default_ledger(specs, config)
    out_dir = Path(out)
    inputs = (
        uptodate.sources_key(config, specs, output_names(config)) if cache is not None else None
    )
    snapshot = uptodate.current(config, out_dir, inputs, ledger_path)
    if snapshot is not None:  # nothing changed since the last build: no parse, no render
        digests_n, entries_n, feeds_n, files_n = snapshot.summary
        result = BuildResult(
            digests_n, entries_n, feeds_n, files_n, warnings=list(snapshot.warnings)
        )
    else:
        digests = read_sources(specs, config, cache=cache)
        show_bar = not quiet and sys.stderr.isatty()
        with progress_bar(show_bar, "checking" if check else "rendering") as progress:
            result = build(
                config,
                digests,
                out_dir,
                ledger_path,
                now=stamp,
                check=check,
                cache=cache,
                progress=progress,
                outputs=default_outputs(config.outputs),
            )
        if cache is not None:
            unchanged_inputs = uptodate.sources_key(config, specs, output_names(config)) == inputs
            summary = (result.digests, result.entries, result.feeds, result.files)
            uptodate.record(
                config,
                out_dir,
                inputs if unchanged_inputs else None,
                ledger_path,
                summary,
                result.warnings,
                result.owned,
                sorted(result.produced),
            )
    if not check:
        try:
            record_last_build(config, out_dir, result)
        except OSError as exc:  # the feeds are written; only 'ping' loses its record
            click.echo(f"warning: cannot record the build for 'digestfeed ping': {exc}", err=True)
    if cache is not None and snapshot is None:
        # forget parsed digests no longer read (deleted or edited files)
        cache.prune(lambda key: key in cache.used or not _is_parse_key(key))
        cache.save()
    if not quiet and result.warnings:
        shown = result.warnings if verbose else result.warnings[:20]
        for warning in shown:
            click.echo(f"warning: {warning}", err=True)
        if len(shown) < len(result.warnings):
            click.echo(
                f"… {len(result.warnings) - len(shown)} more warnings (--verbose lists them)",
                err=True,
            )
    return result


def output_names(config: Config) -> list[str]:
    """What identifies the outputs a build runs, for the no-change snapshot, without importing
    them: name, target and distribution version of each, and for a third-party plugin the
    stat of its module file (so editing a plugin in development counts as a change)."""
    import importlib.util

    from ..plugins import registered_entry_points

    found = []
    for ep in registered_entry_points("digestfeed.outputs"):
        ident = f"{ep.name}={ep.value}@{ep.dist.version if ep.dist else '?'}"
        if not ep.module.startswith("digestfeed."):
            try:
                spec = importlib.util.find_spec(ep.module)
                origin = spec.origin if spec else None
                st = os.stat(origin) if origin else None
                ident += f"#{st.st_size},{st.st_mtime_ns}" if st else "#?"
            except (ImportError, ValueError, OSError):
                ident += "#?"
        found.append(ident)
    return [*sorted(found), *config.outputs]


def _is_parse_key(key: object) -> bool:
    return isinstance(key, tuple) and bool(key) and key[0] == "parse"


def _list(paths: list[str], prefix: str, verbose: bool) -> None:
    shown = paths if verbose else paths[:MAX_LISTED]
    for path in shown:
        click.echo(f"  {prefix} {path}")
    if len(shown) < len(paths):
        click.echo(f"  … and {len(paths) - len(shown)} more (--verbose lists them)")


@click.command("build")
@_options
@click.pass_context
@handle_errors
def build_command(ctx: click.Context, /, **options: object) -> None:
    """Parse every digest and write the feeds (Atom, OPML, …) under --out.

    Nothing in the output directory is touched when any digest fails to parse (exit 2).
    Unchanged files are not rewritten; the summary says what changed.
    """
    result = _run(ctx, check=False, **options)  # type: ignore[arg-type]
    if options.get("quiet"):
        return
    changed = len(result.changed) + len(result.removed)
    click.echo(
        f"{result.digests} digests, {result.entries} entries, {result.feeds} feeds, "
        f"{result.files} files: {changed} changed"
        + (f" ({len(result.changed)} written, {len(result.removed)} removed)" if changed else "")
        + ("; ledger updated" if result.ledger_changed else "")
    )
    _list(result.changed, "wrote", bool(options.get("verbose")))
    _list(result.removed, "removed", bool(options.get("verbose")))


@click.command("check")
@_options
@click.pass_context
@handle_errors
def check_command(ctx: click.Context, /, **options: object) -> None:
    """Exit 0 when --out holds exactly what build would write, 1 when stale. Writes nothing.

    Each differing file is named: changed, missing or extra (including a ledger that build
    would update). Use it in CI and in a pre-commit hook to refuse stale feeds.
    """
    options["no_cache"] = True
    result = _run(ctx, check=True, **options)  # type: ignore[arg-type]
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
