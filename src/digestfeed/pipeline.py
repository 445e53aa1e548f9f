"""The build as a library call: sources → ledger → plan → outputs → ``feeds/``.

:func:`build` is everything ``digestfeed build`` does and :func:`check` everything
``digestfeed check`` does, minus printing: the command line parses its options, calls one
of them and prints the :class:`BuildResult`::

    import digestfeed

    result = digestfeed.build("entries", "feeds")
    print(result.changed, result.removed, result.warnings)

:func:`build` reads the sources (through the parse cache), takes the no-change shortcut
when the last build's snapshot still holds (:mod:`digestfeed.uptodate`), applies the ledger,
plans the feed set and publishes it all or nothing (:mod:`digestfeed.publish`), records
what changed for ``digestfeed ping`` (:mod:`digestfeed.lastbuild`) and prunes the parse
cache. :func:`build_digests` is the part after reading, for digests already in hand.

(The module is not called ``build``: importing a submodule sets it as an attribute of the
package, which would hide the :func:`digestfeed.build` function.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import gc
import hashlib
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeAlias, TypeVar

from . import lastbuild, uptodate
from .cache import Cache, check_cache_dir
from .config import Config, load_config
from .errors import BuildError, ParseErrors, PluginError
from .ledger import LEDGER_NAME, Ledger, clock_now, owner_of
from .limits import FUTURE_KIND, check_digests, future_warnings, site_size_warning
from .plan import plan
from .plugins import (
    SOURCES,
    discover,
    get_outputs,
    get_source,
    output_files,
    read_sources,
    registered_entry_points,
)
from .publish import Progress, compare, locked, publish
from .types import BuildWarning, Digest, Entry, FeedSet, FileSpec, is_info, warning_kind
from .urls import placeholder_warning

#: Ledgers of sources other than digests (see :func:`default_ledger`).
LEDGERS_DIR = ".digestfeed-ledgers"

StrPath: TypeAlias = str | os.PathLike[str]
#: What :func:`build` reads: a directory (its source plugin from ``config.sources``, else
#: ``digest``), ``(source name, directory)`` pairs, a ``{source name: directory}`` mapping,
#: or ``None`` for the config's ``sources``.
Sources: TypeAlias = StrPath | Mapping[str, StrPath] | Sequence[tuple[str, StrPath]] | None


@dataclasses.dataclass
class BuildResult:
    """What a build (or a check) found and did."""

    digests: int = 0
    entries: int = 0
    feeds: int = 0
    files: int = 0  #: files the outputs produce
    changed: list[str] = dataclasses.field(default_factory=list)  #: written (new or different)
    #: with ``check``: the subset of :attr:`changed` that does not exist yet
    missing: list[str] = dataclasses.field(default_factory=list)
    removed: list[str] = dataclasses.field(default_factory=list)  #: no longer built
    #: ``path:line: message`` each, a :class:`~digestfeed.types.BuildWarning` when it has a kind
    warnings: list[str] = dataclasses.field(default_factory=list)
    #: What the sources only count (``level == "info"``: a part a note style lacks)
    infos: list[str] = dataclasses.field(default_factory=list)
    ledger_changed: bool = False
    #: ``True`` when the no-change snapshot held: nothing was parsed, rendered or written
    unchanged: bool = False
    #: Why ``digestfeed ping``'s record of this build could not be written (the feeds are).
    record_error: str | None = None
    feedset: FeedSet | None = None
    #: After a build: ``{owned file: (size, mtime_ns)}`` of the output directory.
    owned: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)
    #: Every file the outputs produced (plugins may write files with other suffixes).
    produced: set[str] = dataclasses.field(default_factory=set)

    def summary(self) -> str:
        """The line ``digestfeed build`` prints: counts, then how many files changed."""
        changed = len(self.changed) + len(self.removed)
        return (
            f"{self.digests} digests, {self.entries} entries, {self.feeds} feeds, "
            f"{self.files} files: {changed} changed"
            + (f" ({len(self.changed)} written, {len(self.removed)} removed)" if changed else "")
            + ("; ledger updated" if self.ledger_changed else "")
        )

    def warning_counts(self, infos: bool = False) -> list[tuple[str, int]]:
        """``[(kind, count)]`` of the warnings (or the infos), most frequent kind first."""
        counts: dict[str, int] = {}
        for warning in self.infos if infos else self.warnings:
            kind = warning_kind(warning)
            counts[kind] = counts.get(kind, 0) + 1
        return sorted(counts.items(), key=lambda kc: (-kc[1], kc[0]))

    def warning_summary(self, infos: bool = False) -> str:
        """The warnings grouped by kind (``3 warnings: 2 unclosed <english>, 1 other``), or
        with ``infos`` the infos (``2 not warnings: 2 no abstract``); ``""`` when none."""
        found = self.infos if infos else self.warnings
        if not found:
            return ""
        groups = ", ".join(f"{n} {kind}" for kind, n in self.warning_counts(infos))
        return f"{len(found)} {'not warnings' if infos else 'warnings'}: {groups}"

    def add_warnings(self, warnings: Iterable[str]) -> None:
        """Warnings to :attr:`warnings`, infos to :attr:`infos`."""
        for warning in warnings:
            (self.infos if is_info(warning) else self.warnings).append(warning)

    @property
    def stale(self) -> list[str]:
        """With ``check``: every file that differs (changed, missing or extra), sorted."""
        return sorted(self.changed + self.removed)


# ---------------------------------------------------------------- the library calls

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _gc_paused(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``func`` with Python's cyclic garbage collector paused, then restore it.

    A build allocates hundreds of thousands of small objects (entries, times, rendered
    pieces) and makes almost no reference cycles, yet the collector keeps walking the
    growing heap looking for them: 0.28 s of a ~1 s one-digest rebuild of a 10-year
    archive and 0.36 s of a full build (measured with ``gc.callbacks``). Reference
    counting still frees every object as soon as it is unused; the few cycles a build
    leaves (about a thousand objects) are collected when the collector runs again.
    """

    @functools.wraps(func)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if not gc.isenabled():  # paused already (by the caller, or a build in another thread)
            return func(*args, **kwargs)
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            gc.enable()

    return paused


@_gc_paused
def build(
    sources: Sources = None,
    out: StrPath = "feeds",
    *,
    config: Config | None = None,
    ledger: StrPath | None = None,
    now: dt.datetime | None = None,
    cache: bool = True,
    progress: Progress | None = None,
    reset_ids: bool = False,
) -> BuildResult:
    """Build the feeds of ``sources`` into ``out``; what ``digestfeed build`` does.

    ``config`` defaults to :func:`~digestfeed.config.load_config` (``./digestfeed.toml``);
    ``ledger`` to :func:`default_ledger`; ``now`` (the time given to edited entries; a
    naive time is in ``config.timezone``) to ``$DIGESTFEED_NOW``, else the clock, read only
    when an entry was edited. ``cache=False`` neither reads nor updates the parse/render
    cache (nor takes the no-change shortcut). ``progress(done, total)`` is called while
    files are rendered. ``reset_ids`` starts a new ledger on purpose (every entry gets a
    new id under the config's tag authority; ``digestfeed build --reset-ids``). Raises
    :class:`~digestfeed.errors.ParseErrors` (every broken file, or a file claiming an id
    another file publishes), :class:`~digestfeed.errors.LedgerError` (also: the config's
    tag authority is not the ledger's), :class:`~digestfeed.errors.BuildError`,
    :class:`~digestfeed.errors.PluginError` — with ``out`` and the ledger as they were.
    """
    config = config if config is not None else load_config()
    pairs = source_pairs(sources, config)
    out_dir = Path(out)
    ledger_path = Path(ledger) if ledger is not None else default_ledger(pairs)
    stamp = _aware(now, config)
    store = None
    if cache:
        installed = {info.name for info in discover(SOURCES)}
        for name, _ in pairs:  # an unknown source is the first thing to say (not imported)
            if name not in installed:
                get_source(name)  # raises, naming the installed ones
        check_cache_dir(Path(config.cache_dir), [*(d for _, d in pairs), out_dir])
        store = Cache(Path(config.cache_dir))
    inputs = (
        uptodate.sources_key(config, pairs, output_names(config), store)
        if store is not None
        else None
    )
    snapshot = (
        None
        if reset_ids or store is None
        else uptodate.current(config, out_dir, inputs, ledger_path, store)
    )
    if snapshot is not None and any(warning_kind(w) == FUTURE_KIND for w in snapshot.warnings):
        snapshot = None  # that warning depends on the clock: never replay it, build again
    if snapshot is not None:  # nothing changed since the last build: no parse, no render
        digests_n, entries_n, feeds_n, files_n = snapshot.summary
        result = BuildResult(digests_n, entries_n, feeds_n, files_n)
        result.add_warnings(snapshot.warnings)
        result.unchanged = True
    else:
        digests = read_sources(pairs, config, cache=store)
        result = build_digests(
            config,
            digests,
            out_dir,
            ledger_path,
            now=stamp,
            cache=store,
            progress=progress,
            outputs=get_outputs(config.outputs),
            reset_ids=reset_ids,
        )
        if store is not None:
            same_inputs = uptodate.sources_key(config, pairs, output_names(config), store) == inputs
            uptodate.record(
                config,
                out_dir,
                inputs if same_inputs else None,
                ledger_path,
                (result.digests, result.entries, result.feeds, result.files),
                [*result.warnings, *result.infos],
                store,
                result.owned,
                sorted(result.produced),
            )
    _warn_setup(result, config, pairs)
    try:
        lastbuild.record(config, out_dir, result.changed, result.removed)
    except OSError as exc:  # the feeds are written; only 'ping' loses its record
        result.record_error = str(exc)
    if store is not None:  # with prune: forget digests no longer read (deleted files)
        store.save(prune_parsed=snapshot is None)
    return result


@_gc_paused
def check(
    sources: Sources = None,
    out: StrPath = "feeds",
    *,
    config: Config | None = None,
    ledger: StrPath | None = None,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Compare ``out`` with what :func:`build` would write; write nothing (no cache, no
    ledger, no record). The result's :attr:`~BuildResult.stale` lists every file that
    differs: :attr:`~BuildResult.changed` (with :attr:`~BuildResult.missing`, and the
    ledger when the build would update it) and :attr:`~BuildResult.removed` (extra)."""
    config = config if config is not None else load_config()
    pairs = source_pairs(sources, config)
    ledger_path = Path(ledger) if ledger is not None else default_ledger(pairs)
    digests = read_sources(pairs, config)
    result = build_digests(
        config,
        digests,
        Path(out),
        ledger_path,
        now=_aware(now, config),
        check=True,
        progress=progress,
        outputs=get_outputs(config.outputs),
    )
    _warn_setup(result, config, pairs)
    return result


def build_digests(
    config: Config,
    digests: Sequence[Digest],
    out_dir: Path,
    ledger_path: Path,
    *,
    now: dt.datetime | None = None,
    check: bool = False,
    outputs: Sequence[object] | None = None,
    cache: Cache | None = None,
    progress: Progress | None = None,
    reset_ids: bool = False,
) -> BuildResult:
    """Render the feed set of ``digests`` into ``out_dir`` (or, with ``check``, only compare).

    ``outputs`` are output plugin instances (default: every installed one). ``now`` is the
    time given to edited entries (default: :func:`~digestfeed.ledger.clock_now`, read only
    when an entry was edited). Raises :class:`LedgerError` (corrupt ledger) or
    :class:`BuildError` with ``out_dir`` and the ledger exactly as they were.
    """
    out_dir = Path(out_dir)
    ledger_path = Path(ledger_path)
    if out_dir.exists() and not out_dir.is_dir():
        raise BuildError(f"{out_dir}: the output directory is a file")
    cap_errors = check_digests(digests, config)
    if cap_errors:
        raise ParseErrors(cap_errors)
    result = BuildResult(digests=len(digests))
    for d in digests:
        result.add_warnings(d.warnings)
    # a warning only (first, so a summary never hides it): what is published never depends
    # on the clock
    result.warnings[:0] = future_warnings(
        digests, now if now is not None else clock_now(config.tz), config
    )
    entries, owners = collect_entries(digests)
    copies = copy_sources(digests)
    outputs = list(outputs) if outputs is not None else get_outputs()
    formats = tuple(getattr(o, "name", "") for o in outputs)
    # a corrupt ledger fails here, before anything is touched; --reset-ids starts a new one
    ledger = Ledger(path=ledger_path) if reset_ids else Ledger.load(ledger_path)

    hashes = cache.hashes if cache is not None else None
    if check:
        feedset = _apply(ledger, entries, owners, copies, config, now, hashes, result)
        result.ledger_changed = ledger.changed
        compared = compare(out_dir, _files(feedset, outputs, formats), progress)
        result.files, result.changed = compared.files, compared.changed
        result.missing, result.removed = compared.missing, compared.removed
        if result.ledger_changed:
            result.changed.append(str(ledger_path))
        return result

    with locked(out_dir):
        if not reset_ids and _file_stamp(ledger_path) != ledger.stamp:
            ledger = Ledger.load(ledger_path)  # another build updated it meanwhile
        feedset = _apply(ledger, entries, owners, copies, config, now, hashes, result)
        result.ledger_changed = ledger.changed or reset_ids
        published = publish(
            out_dir,
            _files(feedset, outputs, formats),
            ledger=ledger if result.ledger_changed else None,
            ledger_path=ledger_path,
            cache=cache,
            progress=progress,
        )
    result.files, result.changed, result.removed = (
        published.files,
        published.changed,
        published.removed,
    )
    result.owned, result.produced = published.owned, published.produced
    too_big = site_size_warning(
        sum(size for size, _ in result.owned.values()), str(out_dir), config
    )
    if too_big:
        result.warnings.insert(0, too_big)
    return result


# ---------------------------------------------------------------- helpers


def _apply(
    ledger: Ledger,
    entries: Sequence[Entry],
    owners: Sequence[str],
    copies: Collection[str],
    config: Config,
    now: dt.datetime | None,
    hashes: Mapping[Any, str] | None,
    result: BuildResult,
) -> FeedSet:
    """The ledger's ids and times for ``entries``, planned into the feed set (its archive
    pages recorded in the ledger); counts and ledger warnings go to ``result``."""
    timed = ledger.apply(entries, config, now, hashes, owners, copies)
    result.entries = len(timed)
    result.add_warnings(ledger.warnings)
    feedset = plan(timed, config, ledger.pages)
    ledger.set_pages(feedset.archive_pages)
    result.feedset, result.feeds = feedset, len(feedset.feeds)
    return feedset


def source_pairs(sources: Sources, config: Config) -> list[tuple[str, Path]]:
    """``sources`` as :func:`build` takes them → ``[(source plugin name, directory)]``."""
    if sources is None:
        return [(plugin, Path(directory)) for directory, plugin in config.sources.items()]
    if isinstance(sources, (str, os.PathLike)):
        directory = os.fspath(sources)
        return [(config.sources.get(directory.rstrip("/"), "digest"), Path(directory))]
    items = sources.items() if isinstance(sources, Mapping) else sources
    return [(name, Path(directory)) for name, directory in items]


def default_ledger(sources: Sequence[tuple[str, Path]]) -> Path:
    """Where the ledger lives unless given: ``<dir>/.ledger.json`` beside the digests of a
    ``digest`` source (committed with them); for any other source (a vault is the curator's
    own directory, possibly read-only) ``.digestfeed-ledgers/<dir>-<hash>.json`` in the
    working directory — not in the cache, which must stay safe to delete."""
    name, directory = sources[0]
    if name == "digest":
        return directory / LEDGER_NAME
    resolved = directory.resolve()
    tag = hashlib.sha256(str(resolved).encode()).hexdigest()[:8]
    return Path(LEDGERS_DIR) / f"{resolved.name}-{tag}.json"


def collect_entries(digests: Iterable[Digest]) -> tuple[list[Entry], list[str]]:
    """All entries, oldest digest first, and their ledger owners (``<plugin>:<file name>``).

    Ids that repeat across files are left to the ledger, which knows who owns each one."""
    ordered = sorted(digests, key=lambda d: (d.date, d.path))
    entries = [e for d in ordered for e in d.entries]
    owners = []
    for d in ordered:
        of_file: dict[str, str] = {}  # one owner per file: not one Path per entry
        for e in d.entries:
            where = e.source.rpartition(":")[0] if ":" in e.source else e.source
            owner = of_file.get(where)
            if owner is None:
                owner = of_file[where] = owner_of(e, d.plugin or "digest")
            owners.append(owner)
    return entries, owners


def copy_sources(digests: Iterable[Digest]) -> frozenset[str]:
    """The source plugins among ``digests`` whose class sets ``expects_copies`` (the vault)."""
    found = set()
    for name in {d.plugin for d in digests if d.plugin}:
        try:
            if getattr(get_source(name), "expects_copies", False):
                found.add(name)
        except PluginError:  # digests handed in by a caller under a name not installed
            continue
    return frozenset(found)


def output_names(config: Config) -> list[str]:
    """What identifies the outputs a build runs, for the no-change snapshot, without importing
    them: name, target and distribution version of each, and for a third-party plugin the
    stat of its module file (so editing a plugin in development counts as a change)."""
    import importlib.util

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


def _files(
    feedset: FeedSet, outputs: Sequence[object], formats: tuple[str, ...]
) -> Iterator[FileSpec]:
    for output in outputs:
        yield from output_files(output, feedset, formats)


def _warn_setup(result: BuildResult, config: Config, pairs: Sequence[tuple[str, Path]]) -> None:
    """Every build says so while the publication's address is the example one, or while it
    has nothing to publish."""
    warning = placeholder_warning(config)
    if warning is not None:
        result.warnings.insert(0, BuildWarning("example address", "", warning))
    if result.digests == 0:
        where = ", ".join(f"{directory}/" for _, directory in pairs)
        result.warnings.insert(
            0,
            BuildWarning(
                "no digests", where, "nothing to publish yet: add a digest as YYYY-MM-DD.txt"
            ),
        )


def _aware(now: dt.datetime | None, config: Config) -> dt.datetime | None:
    if now is not None and now.tzinfo is None:
        return now.replace(tzinfo=config.tz)
    return now


def _file_stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)
