"""``digestfeed read``: any feeds → one item per paper, only what is new since the last run."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from ..cli import EXIT_FINDING, handle_errors
from ..reader import options

if TYPE_CHECKING:
    from ..reader import Item, ReadResult


def _text(item: Item, lang: str, verbose: bool) -> str:
    from ..reader.text import terminal
    from ..reader.text import terminal_line as line

    _, comment = item.comment_in(lang)
    date = (item.date or "")[:10] or "----------"
    pad = " " * 12
    lines = [f"{line(date)}  {line(item.title)}"]
    if item.tags:
        lines.append(pad + " ".join(f"#{line(t)}" for t in item.tags))
    if comment:
        lines.append(pad + terminal(comment))
    if item.links:
        lines.append(pad + line(item.links[0]))
    if verbose:
        lines.append(f"{pad}id: {line(item.id)}")
        lines.append(f"{pad}matched by: {item.rule} ({line(item.key.split(chr(0))[0])})")
        if item.rule == "title" and len(item.feeds) > 1:
            lines.append(f"{pad}merged across feeds by the title alone")
        lines.extend(f"{pad}feed: {line(f)}" for f in item.feeds)
    return "\n".join(lines)


@click.command()
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="State file (default: $DIGESTFEED_STATE, else <user state dir>/digestfeed/reader.sqlite).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "jsonl", *options.FEED_FORMATS]),
    default="text",
    show_default=True,
    help="json: one array; jsonl: one item per line; text: for people; "
    "atom, rss, jsonfeed: the deduplicated items as one feed (for any feed reader).",
)
@click.option(
    "--lang",
    type=click.Choice(["ko", "en"]),
    default="en",
    show_default=True,
    help="Language of the comment in text and feed output (the other one when it is missing).",
)
@click.option(
    "--all", "all_items", is_flag=True, help="Every item of the sources, not only the new ones."
)
@click.option(
    "--backfill",
    is_flag=True,
    help="Also read older entries by following RFC 5005 prev-archive links.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.01),
    default=options.DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds for the whole fetch of one document: connect, headers, redirects, body.",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=options.DEFAULT_MAX_BYTES,
    show_default=True,
    help="Size cap of one feed; larger downloads are aborted.",
)
@click.option(
    "--max-redirects",
    type=click.IntRange(min=0),
    default=options.DEFAULT_MAX_REDIRECTS,
    show_default=True,
    help="Redirects followed per fetch; a loop or more is a failed source.",
)
@click.option(
    "--no-private-redirects",
    "no_private_redirects",
    is_flag=True,
    help="Refuse redirects (and links in documents from the web) to loopback, link-local "
    "or private addresses; the URLs you give are always fetched.",
)
@click.option(
    "--max-opml-depth",
    type=click.IntRange(min=0),
    default=options.DEFAULT_MAX_OPML_DEPTH,
    show_default=True,
    help="OPML lists read through other OPML lists, at most.",
)
@click.option(
    "--max-archive-depth",
    type=click.IntRange(min=0),
    default=options.DEFAULT_MAX_ARCHIVE_DEPTH,
    show_default=True,
    help="Archive documents followed back from one feed with --backfill, at most.",
)
@click.option(
    "--max-sources",
    type=click.IntRange(min=1),
    default=options.DEFAULT_MAX_SOURCES,
    show_default=True,
    help="Documents (feeds, archives, OPML lists) read in one run, at most.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=options.DEFAULT_CONCURRENCY,
    show_default=True,
    help="Concurrent fetches.",
)
@click.option(
    "--verbose", "-v", is_flag=True, help="Text output also shows id, dedupe rule and feeds."
)
@handle_errors
def read(
    sources: tuple[str, ...],
    state_path: str | None,
    fmt: str,
    lang: str,
    all_items: bool,
    backfill: bool,
    timeout: float,
    max_bytes: int,
    max_redirects: int,
    no_private_redirects: bool,
    max_opml_depth: int,
    max_archive_depth: int,
    max_sources: int,
    jobs: int,
    verbose: bool,
) -> None:
    """Read feeds and print each new paper once, however many feeds carry it.

    A SOURCE is a feed URL, a feed file, a directory of feeds or an OPML file. One item per paper across all feeds and languages, newest first; a later run prints
    only what is new. Each failing source is one line on stderr, the others are still
    read; the exit code is 1 when any source failed.
    """
    from ..reader import Reader

    def emit(result: ReadResult) -> None:
        out = sys.stdout
        if fmt == "json":
            out.write(
                json.dumps([i.to_json() for i in result], ensure_ascii=False, indent=2) + "\n"
            )
        elif fmt == "jsonl":
            for item in result:
                out.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")
        elif fmt in options.FEED_FORMATS:
            import datetime as dt

            from ..reader.output import render

            now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            data = render(result, fmt, lang=lang, sources=sources, now=now)
            out.flush()
            if hasattr(out, "buffer"):
                out.buffer.write(data)
            else:  # pragma: no cover - a text-only stdout
                out.write(data.decode("utf-8"))
        else:
            out.write("".join(_text(i, lang, verbose) + "\n\n" for i in result))
        out.flush()
        # the run is committed (items marked reported) only after this returns
        os_fsync_stdout()

    with Reader(
        state_path,
        timeout=timeout,
        max_bytes=max_bytes,
        max_redirects=max_redirects,
        concurrency=jobs,
        private_redirects=not no_private_redirects,
        max_opml_depth=max_opml_depth,
        max_archive_depth=max_archive_depth,
        max_sources=max_sources,
    ) as reader:
        result = reader.read(sources, all=all_items, backfill=backfill, emit=emit)
    for warning in result.warnings:
        click.echo(warning, err=True)
    for failure in result.failures:
        click.echo(f"digestfeed read: {failure}", err=True)
    if not result:  # an empty stdout alone looks like a hang or a broken feed
        read_n = result.stats.get("sources", 0) - len(result.failures)
        what = "no items" if all_items else "nothing new"
        click.echo(f"digestfeed read: {what} ({read_n} sources read)", err=True)
    if result.failures:
        sys.exit(EXIT_FINDING)


def os_fsync_stdout() -> None:
    """Make written output durable when stdout is a file (best effort for pipes/ttys)."""
    import os

    try:
        os.fsync(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


COMMANDS = [read]
