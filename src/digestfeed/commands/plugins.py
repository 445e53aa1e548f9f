"""``digestfeed plugins``: the installed source and output plugins and where they live."""

from __future__ import annotations

import sys

import click

from ..cli import EXIT_FINDING, handle_errors


@click.command()
@handle_errors
def plugins() -> None:
    """List the installed source and output plugins (entry points) with their module.

    A plugin that fails to import is listed with its error (exit 1).
    """
    from ..errors import PluginError
    from ..plugins import OUTPUTS, SOURCES, discover, load

    broken = False
    for title, group in (("sources", SOURCES), ("outputs", OUTPUTS)):
        click.echo(f"{title}:")
        infos = discover(group)
        if not infos:
            click.echo("  (none)")
        width = max((len(i.name) for i in infos), default=0)
        for info in infos:
            line = f"  {info.name:<{width}}  {info.value}  ({info.dist})"
            try:
                load(info)
            except PluginError as exc:
                broken = True
                line += f"  BROKEN: {exc}"
            click.echo(line)
    if broken:
        sys.exit(EXIT_FINDING)


COMMANDS = [plugins]
