"""``digestfeed ping``: notify the WebSub hub of the feeds the last build changed."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..cli import EXIT_FINDING, get_config, handle_errors
from ..lastbuild import LastBuild
from ..websub import DEFAULT_TIMEOUT, notify, topics


@click.command("ping")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="Give up on a hub request after this long.",
)
@click.option(
    "--batch",
    is_flag=True,
    help="One request naming every changed feed (hub.url repeated) instead of one per feed.",
)
@click.option(
    "--dry-run", is_flag=True, help="List the feeds that would be announced; send nothing."
)
@click.option(
    "--out",
    default=None,
    metavar="DIR",
    help="Where the built feeds are (default: the directory the last build recorded).",
)
@click.pass_context
@handle_errors
def ping_command(
    ctx: click.Context, /, timeout: float, batch: bool, dry_run: bool, out: str | None
) -> None:
    """Tell the WebSub hub (config key 'hub') which feeds the last build changed.

    Sends hub.mode=publish with hub.url=<feed URL> for every changed feed that advertises
    the hub (rel="hub"), as recorded by 'digestfeed build' in <cache_dir>/last-build.json.
    Feeds a failed ping could not announce are kept and announced by the next ping.
    Exit 0 when the hub accepted every notification or there was nothing to send;
    exit 1 when the hub failed (error answer, timeout, unreachable).
    """
    config = get_config(ctx)
    if not config.hub:
        click.echo("no WebSub hub configured (config key 'hub'): nothing to ping")
        return
    last = LastBuild.load(config)
    if last is None:
        click.echo("no build recorded yet (run 'digestfeed build' first): nothing to ping")
        return
    found = topics(config, Path(out) if out else last.out, last.pending)
    if not found:
        click.echo("no feed changed since the last ping: nothing to ping")
        return
    if dry_run:
        for url in found.values():
            click.echo(f"would ping {url}")
        return
    by_url = {url: rel for rel, url in found.items()}
    outcomes = notify(config.hub, list(by_url), timeout=timeout, batch=batch)
    failed: set[str] = set()
    for outcome in outcomes:
        for url in outcome.urls:
            if outcome.ok:
                click.echo(f"pinged {url}")
            else:
                failed.add(by_url[url])
        if not outcome.ok:
            what = outcome.urls[0] if len(outcome.urls) == 1 else f"{len(outcome.urls)} feeds"
            click.echo(
                f"digestfeed: ping {config.hub} for {what} failed: {outcome.error}", err=True
            )
    last.save_pending(failed)
    if failed:
        click.echo(
            f"digestfeed: {len(failed)} of {len(found)} feeds not announced; "
            "the next 'digestfeed ping' retries them",
            err=True,
        )
        sys.exit(EXIT_FINDING)
    click.echo(f"{config.hub}: {len(found)} feeds announced")


COMMANDS = [ping_command]
