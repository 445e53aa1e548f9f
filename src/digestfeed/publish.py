"""Build and check: sources → ledger → plan → outputs → ``feeds/``, all or nothing.

Everything is rendered and staged (in a hidden directory inside the output directory)
before the first existing file is replaced; the replacement is a series of ``os.replace``
renames, so no reader ever sees a torn file, and a failure before that point leaves
``feeds/`` exactly as it was. Unchanged files are never touched (their mtimes are kept).
A lock file beside the output directory serialises concurrent builds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from .cache import Cache, cached
from .config import Config
from .errors import BuildError, LockError, ParseError, ParseErrors
from .ledger import LEDGER_NAME, Ledger
from .model import Entry, assign_unique_ids
from .plan import FeedSet, plan
from .sources.digest import PARSER_VERSION, Digest, parse_bytes

#: Files under the output directory that digestfeed owns (and removes when no longer built).
OWNED_SUFFIXES = {".atom", ".rss", ".json", ".opml", ".html"}
STAGING = ".digestfeed-staging"
LOCK_TIMEOUT = 120.0

Progress = Callable[[int, int], None]  #: (done, total)


@dataclasses.dataclass
class BuildResult:
    digests: int = 0
    entries: int = 0
    feeds: int = 0
    files: int = 0
    changed: list[str] = dataclasses.field(default_factory=list)  #: written (new or different)
    removed: list[str] = dataclasses.field(default_factory=list)  #: no longer built
    warnings: list[str] = dataclasses.field(default_factory=list)
    ledger_changed: bool = False
    feedset: FeedSet | None = None

    @property
    def stale(self) -> list[str]:
        return sorted(self.changed + self.removed)


def now_from_env(tz: dt.tzinfo) -> dt.datetime:
    """The build time: ``$DIGESTFEED_NOW`` (ISO 8601) when set, for reproducible tests."""
    value = os.environ.get("DIGESTFEED_NOW")
    if value:
        stamp = dt.datetime.fromisoformat(value)
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=tz)
    return dt.datetime.now(tz).replace(microsecond=0)


# ---------------------------------------------------------------- reading sources


def digest_files(directory: Path) -> list[Path]:
    """The digest files of a directory: ``*.txt``, not hidden, sorted by name."""
    if not directory.is_dir():
        raise ParseErrors([ParseError(str(directory), None, "not a directory of digests")])
    return sorted(p for p in directory.glob("*.txt") if not p.name.startswith("."))


def read_digest_dir(directory: Path, config: Config, cache: Cache | None = None) -> list[Digest]:
    """Parse every digest of ``directory``; report every broken file, not just the first."""
    digests, errors = [], []
    salt = repr((PARSER_VERSION, config.tag_authority, config.tag_date, sorted(config.tag_aliases.items())))
    for path in digest_files(directory):
        try:
            data = path.read_bytes()
            digests.append(cached(cache, f"parse:{path}", data, salt,
                                  lambda: parse_bytes(data, str(path), config)))  # fmt: skip
        except ParseError as exc:
            errors.append(exc)
        except OSError as exc:
            errors.append(ParseError(str(path), None, f"cannot read: {exc.strerror or exc}"))
    if errors:
        raise ParseErrors(errors)
    return digests


def collect_entries(digests: Iterable[Digest]) -> list[Entry]:
    """All entries, oldest digest first, ids made unique across digests deterministically."""
    ordered = sorted(digests, key=lambda d: (d.date, d.path))
    return assign_unique_ids(e for d in ordered for e in d.entries)


# ---------------------------------------------------------------- outputs


def default_outputs(names: Sequence[str] = ()) -> list[object]:
    """The output plugins registered under ``digestfeed.outputs`` (all, or ``names``), by name."""
    from importlib.metadata import entry_points

    found = {ep.name: ep for ep in entry_points(group="digestfeed.outputs")}
    missing = [n for n in names if n not in found]
    if missing:
        raise BuildError(f"unknown output plugin(s) {', '.join(missing)} (installed: {', '.join(sorted(found))})")
    return [found[name].load()() for name in sorted(names or found)]


def _output_files(feedset: FeedSet, outputs: Sequence[object]) -> Iterator[tuple[str, str, Callable[[], bytes]]]:
    formats = tuple(getattr(o, "name", "") for o in outputs)
    for output in outputs:
        yield from output.files(feedset, formats)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the build


@contextlib.contextmanager
def locked(out_dir: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive lock on ``<out_dir>/../.<name>.lock`` while building."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = out_dir.parent / f".{out_dir.name}.lock"
    with open(lock_path, "a") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LockError(f"{lock_path}: another build holds the lock") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _stat_key(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def build(
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
) -> BuildResult:
    """Render the feed set of ``digests`` into ``out_dir`` (or, with ``check``, only compare).

    Raises :class:`BuildError` (``feeds/`` untouched) on any failure before the swap.
    """
    out_dir = Path(out_dir)
    result = BuildResult(digests=len(digests))
    for d in digests:
        result.warnings.extend(d.warnings)
    entries = collect_entries(digests)
    result.entries = len(entries)
    ledger = Ledger.load(ledger_path)
    before = ledger.dumps()
    timed = ledger.apply(entries, config, now or now_from_env(config.tz))
    result.ledger_changed = ledger.dumps() != before
    feedset = plan(timed, config)
    result.feedset = feedset
    result.feeds = len(feedset.feeds)
    outputs = list(outputs) if outputs is not None else default_outputs()

    if check:
        _compare(feedset, outputs, out_dir, result, progress)
        if result.ledger_changed:
            result.changed.append(str(ledger_path))
        return result

    with locked(out_dir):
        staging = out_dir / STAGING
        shutil.rmtree(staging, ignore_errors=True)
        try:
            staged = _stage(feedset, outputs, out_dir, staging, result, cache, progress)
            if result.ledger_changed:
                ledger_tmp = staging / LEDGER_NAME
                ledger_tmp.write_text(ledger.dumps(), encoding="utf-8")
            # ---- the swap: nothing above touched an existing file
            for rel in staged:
                target = out_dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / rel, target)
            for rel in result.removed:
                (out_dir / rel).unlink(missing_ok=True)
            if result.ledger_changed:
                os.replace(staging / LEDGER_NAME, ledger_path)
        except OSError as exc:
            raise BuildError(f"{exc.filename or out_dir}: {exc.strerror or exc}") from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        _prune_empty_dirs(out_dir)
        if cache is not None:  # remember what was written, to skip it next time
            resolved = str(out_dir.resolve())
            for rel, fp in staged.items():
                cache.put(("out", resolved, rel), (fp, _stat_key(out_dir / rel)))
    return result


LAST_BUILD = "last-build.json"


def record_last_build(config: Config, out_dir: Path, result: BuildResult) -> Path:
    """Write ``<cache_dir>/last-build.json``: which files the last build changed (for ``ping``)."""
    path = Path(config.cache_dir) / LAST_BUILD
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"out": str(out_dir.resolve()), "changed": result.changed, "removed": result.removed}
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return path


def _owned_files(out_dir: Path) -> set[str]:
    if not out_dir.is_dir():
        return set()
    found = set()
    for root, dirs, files in os.walk(out_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if Path(name).suffix in OWNED_SUFFIXES and not name.startswith("."):
                found.add(Path(root, name).relative_to(out_dir).as_posix())
    return found


def _stage(
    feedset: FeedSet, outputs: Sequence[object], out_dir: Path, staging: Path,
    result: BuildResult, cache: Cache | None, progress: Progress | None,
) -> dict[str, str]:  # fmt: skip
    """Render what changed into ``staging``; return ``{relative path: fingerprint}`` staged."""
    files = list(_output_files(feedset, outputs))
    produced: set[str] = set()
    staged: dict[str, str] = {}
    resolved = str(out_dir.resolve())
    for i, (rel, fp, render) in enumerate(files):
        produced.add(rel)
        target = out_dir / rel
        if cache is not None:
            hit = cache.get(("out", resolved, rel))
            if hit is not None and hit[0] == fp and hit[1] == _stat_key(target) and hit[1] is not None:
                if progress:
                    progress(i + 1, len(files))
                continue
        data = render()
        try:
            same = target.read_bytes() == data
        except OSError:
            same = False
        if not same:
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            staged[rel] = fp
            result.changed.append(rel)
        elif cache is not None:
            cache.put(("out", resolved, rel), (fp, _stat_key(target)))
        if progress:
            progress(i + 1, len(files))
    result.files = len(files)
    result.removed = sorted(_owned_files(out_dir) - produced)
    return staged


def _compare(
    feedset: FeedSet, outputs: Sequence[object], out_dir: Path, result: BuildResult,
    progress: Progress | None,
) -> None:  # fmt: skip
    files = list(_output_files(feedset, outputs))
    produced = set()
    for i, (rel, _fp, render) in enumerate(files):
        produced.add(rel)
        try:
            same = (out_dir / rel).read_bytes() == render()
        except OSError:
            same = False
        if not same:
            result.changed.append(rel)
        if progress:
            progress(i + 1, len(files))
    result.files = len(files)
    result.removed = sorted(_owned_files(out_dir) - produced)


def _prune_empty_dirs(out_dir: Path) -> None:
    for root, dirs, files in os.walk(out_dir, topdown=False):
        if Path(root) != out_dir and not dirs and not files and not Path(root).name.startswith("."):
            with contextlib.suppress(OSError):
                Path(root).rmdir()
