"""Source and output plugins, registered through entry points.

A **source** turns a directory into dated digests; an **output** turns the feed set into
files. Both are found through the entry-point groups ``digestfeed.sources`` and
``digestfeed.outputs``; the built-ins are registered the same way in digestfeed's own
``pyproject.toml``, so a third-party package adds a format with no change to digestfeed::

    [project.entry-points."digestfeed.sources"]
    jsonl = "my_package.jsonl:JsonlSource"

An entry point names a class; digestfeed instantiates it with no arguments.

Outputs come in two shapes: the simple :class:`~digestfeed.types.Output` (``render`` → a
dict of files) and the :class:`~digestfeed.types.LazyOutput` of the built-in outputs
(``files`` → lazily rendered files with a fingerprint, so that unchanged files are not
rendered again). :func:`output_files` runs either.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata as md
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Config
from .errors import ParseError, ParseErrors, PluginError
from .types import Digest, FeedSet, FileSpec, Source

if TYPE_CHECKING:  # pragma: no cover
    from .cache import Cache

SOURCES = "digestfeed.sources"
OUTPUTS = "digestfeed.outputs"
_KINDS = {SOURCES: "source", OUTPUTS: "output"}


@dataclasses.dataclass(frozen=True, slots=True)
class PluginInfo:
    """One registered plugin, before it is imported."""

    kind: str  #: ``source`` or ``output``
    name: str
    value: str  #: ``module:attribute``
    dist: str  #: ``name version`` of the distribution that registers it

    @property
    def module(self) -> str:
        return self.value.partition(":")[0]


def registered_entry_points(group: str) -> list[md.EntryPoint]:
    """Every entry point installed distributions register in ``group`` (the one place that
    asks :mod:`importlib.metadata`), in its order, without loading them.

    Reading every installed distribution's metadata takes milliseconds and a build asks
    several times: the answer is kept while ``sys.path`` and its folders are unchanged
    (installing or removing a distribution changes its folder's mtime)."""
    return list(_entry_points(group, _path_state()))


def _path_state() -> tuple[tuple[str, int], ...]:
    state = []
    for entry in sys.path:
        try:
            state.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            state.append((entry, -1))
    return tuple(state)


@functools.lru_cache(maxsize=16)
def _entry_points(group: str, path_state: tuple[tuple[str, int], ...]) -> tuple[md.EntryPoint, ...]:
    return tuple(md.entry_points(group=group))


def discover(group: str) -> list[PluginInfo]:
    """The plugins registered in ``group`` (sorted by name), without importing them.

    Raises :class:`PluginError` when two distributions register one name differently.
    """
    found: dict[str, PluginInfo] = {}
    for ep in registered_entry_points(group):
        dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist else "?"
        info = PluginInfo(_KINDS.get(group, group), ep.name, ep.value, dist)
        other = found.get(ep.name)
        if other and other.value != info.value:
            raise PluginError(
                f"{info.kind} plugin {ep.name!r} is registered twice: {other.value} ({other.dist}) "
                f"and {info.value} ({info.dist}); uninstall one of them"
            )
        found.setdefault(ep.name, info)
    return [found[name] for name in sorted(found)]


def _load(info: PluginInfo, methods: tuple[str, ...]) -> Any:
    try:
        obj = md.EntryPoint(info.name, info.value, _group(info.kind)).load()
    except Exception as exc:  # the plugin's own import may fail in any way
        raise PluginError(
            f"{info.kind} plugin {info.name!r} ({info.value}, from {info.dist}) failed to load: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(obj, type):
        raise PluginError(
            f"{info.kind} plugin {info.name!r} ({info.value}) is not a class but {type(obj).__name__}"
        )
    if not any(callable(getattr(obj, m, None)) for m in methods):
        raise PluginError(
            f"{info.kind} plugin {info.name!r} ({info.value}) has no {' or '.join(methods)}() method; "
            f"see the {info.kind.capitalize()} interface in digestfeed.types"
        )
    return obj


def _group(kind: str) -> str:
    return SOURCES if kind == "source" else OUTPUTS


def load(info: PluginInfo) -> type[Any]:
    """Import one discovered plugin's class; :class:`PluginError` on failure."""
    cls: type[Any] = _load(info, _METHODS[info.kind])
    return cls


_METHODS = {"source": ("read",), "output": ("render", "files")}


def load_sources() -> dict[str, type[Source]]:
    """Every installed source plugin: name → class. :class:`PluginError` if one is broken."""
    return {info.name: load(info) for info in discover(SOURCES)}


def load_outputs() -> dict[str, type[Any]]:
    """Every installed output plugin: name → class (an :class:`Output` or a
    :class:`LazyOutput`). :class:`PluginError` if one is broken."""
    return {info.name: load(info) for info in discover(OUTPUTS)}


def get_source(name: str) -> type[Source]:
    """The class of source plugin ``name``; :class:`PluginError` lists the installed ones
    when unknown."""
    for info in discover(SOURCES):
        if info.name == name:
            return load(info)
    known = ", ".join(i.name for i in discover(SOURCES)) or "none"
    raise PluginError(
        f"unknown source plugin {name!r} (installed: {known}; see 'digestfeed plugins')"
    )


def parse_source_spec(spec: str) -> tuple[str, str]:
    """``notes=../vault`` → ``("notes", "../vault")`` (the ``--source NAME=DIR`` option)."""
    name, sep, directory = spec.partition("=")
    if not sep or not name.strip() or not directory.strip():
        raise PluginError(f"--source {spec!r}: expected NAME=DIR, e.g. notes=../vault")
    return name.strip(), directory.strip()


def read_sources(
    specs: Mapping[str, str | Path] | Sequence[tuple[str, str | Path]] | None,
    config: Config,
    root: str | Path = ".",
    cache: Cache | None = None,
) -> list[Digest]:
    """Read every source and return all digests, sorted by date (stable within a date).

    ``specs`` are ``(plugin name, directory)`` pairs as given by ``--source NAME=DIR``
    (a mapping is read as ``{name: directory}``). When ``specs`` is empty or ``None``,
    ``config.sources`` is used (``{directory: plugin name}``, default ``{"entries":
    "digest"}``). Relative directories are resolved against ``root``.

    Every broken file of every source is collected into one :class:`ParseErrors`; an
    unknown plugin is a :class:`PluginError`. Warnings are on the digests. A source with a
    ``cache`` attribute (the built-in ``digest`` source) is given ``cache``.
    """
    if specs:
        items = specs.items() if isinstance(specs, Mapping) else specs
        pairs: list[tuple[str, str | Path]] = [(name, directory) for name, directory in items]
    else:
        pairs = [(name, directory) for directory, name in config.sources.items()]
    sources = {name: _instance(get_source(name), name) for name, _ in pairs}  # fail before reading
    for source in sources.values():
        if hasattr(source, "cache"):
            source.cache = cache
    digests: list[Digest] = []
    errors: list[ParseError] = []
    for name, directory in pairs:
        path = Path(root) / directory
        try:
            digests.extend(
                d if d.plugin else dataclasses.replace(d, plugin=name)
                for d in sources[name].read(path, config)
            )
        except ParseErrors as exc:
            errors.extend(exc.errors)
        except ParseError as exc:
            errors.append(exc)
    if errors:
        raise ParseErrors(errors)
    return sorted(digests, key=lambda d: d.date)


def _instance(cls: type[Any], name: str) -> Any:
    try:
        return cls()
    except Exception as exc:
        raise PluginError(
            f"plugin {name!r} ({cls.__module__}.{cls.__qualname__}) cannot be created: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def get_outputs(names: Sequence[str] = ()) -> list[Any]:
    """Instances of the output plugins ``names`` (every installed one when empty), sorted by
    name. :class:`PluginError` names an unknown output and lists the installed ones."""
    found = {ep.name: ep for ep in registered_entry_points(OUTPUTS)}
    missing = [n for n in names if n not in found]
    if missing:
        raise PluginError(
            f"unknown output plugin(s) {', '.join(missing)} (installed: {', '.join(sorted(found))})"
        )
    return [found[name].load()() for name in sorted(names or found)]


def output_files(
    output: Any, feedset: FeedSet, formats: tuple[str, ...] = ()
) -> Iterator[FileSpec]:
    """One :class:`~digestfeed.types.FileSpec` per file, for either output interface:
    ``files()`` (lazy, fingerprinted, like the Atom output; plain 3-tuples are accepted)
    or the plain ``render()`` (fingerprint ``None``)."""
    files = getattr(output, "files", None)
    if callable(files):
        for spec in files(feedset, formats):
            yield spec if type(spec) is FileSpec else FileSpec(*spec)
        return
    rendered: dict[str, bytes] = output.render(feedset, feedset.config)
    for path, data in rendered.items():
        yield FileSpec(path, None, functools.partial(bytes, data))
