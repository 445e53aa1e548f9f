"""Build and check: sources → ledger → plan → outputs → ``feeds/``, all or nothing.

Everything is rendered and staged (in a hidden directory inside the output directory)
before the first existing file is replaced; the replacement is a series of ``os.replace``
renames, so no reader ever sees a torn file, and a failure before that point leaves
``feeds/`` exactly as it was (a failure during the renames themselves is rolled back from
hard links of the replaced files). Unchanged files are never touched (their mtimes are
kept). An exclusive ``flock`` on the output directory itself serialises concurrent builds
from the ledger read to the last rename, so no lock file is left anywhere.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from .cache import Cache, ensure_cache_dir
from .config import Config
from .errors import BuildError, LockError
from .ledger import Ledger
from .model import Entry, assign_unique_ids
from .plan import FeedSet, plan
from .sources.digest import Digest, parse_bytes, read_digest_dir  # noqa: F401  (re-exported)
from .uptodate import OWNED_SUFFIXES, owned_stats, stat_key  # noqa: F401  (OWNED_SUFFIXES: re-exported)

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
    #: with ``check``: the subset of :attr:`changed` that does not exist yet
    missing: list[str] = dataclasses.field(default_factory=list)
    removed: list[str] = dataclasses.field(default_factory=list)  #: no longer built
    warnings: list[str] = dataclasses.field(default_factory=list)
    ledger_changed: bool = False
    feedset: FeedSet | None = None
    #: After a build: ``{owned file: (size, mtime_ns)}`` of the output directory.
    owned: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)
    #: Every file the outputs produced (plugins may write files with other suffixes).
    produced: set[str] = dataclasses.field(default_factory=set)

    @property
    def stale(self) -> list[str]:
        return sorted(self.changed + self.removed)


# ---------------------------------------------------------------- reading sources


def collect_entries(digests: Iterable[Digest]) -> list[Entry]:
    """All entries, oldest digest first, ids made unique across digests deterministically."""
    ordered = sorted(digests, key=lambda d: (d.date, d.path))
    return assign_unique_ids(e for d in ordered for e in d.entries)


# ---------------------------------------------------------------- outputs


def default_outputs(names: Sequence[str] = ()) -> list[object]:
    """The output plugins registered under ``digestfeed.outputs`` (all, or ``names``), by name."""
    from .plugins import registered_entry_points

    found = {ep.name: ep for ep in registered_entry_points("digestfeed.outputs")}
    missing = [n for n in names if n not in found]
    if missing:
        raise BuildError(
            f"unknown output plugin(s) {', '.join(missing)} (installed: {', '.join(sorted(found))})"
        )
    return [found[name].load()() for name in sorted(names or found)]


def _output_files(
    feedset: FeedSet, outputs: Sequence[object]
) -> Iterator[tuple[str, str | None, Callable[[], bytes]]]:
    """Every output's ``(path, fingerprint or None, render)``: lazy ``files()`` outputs and
    plain ``render()`` ones alike (see :func:`digestfeed.plugins.output_files`)."""
    from .plugins import output_files

    formats = tuple(getattr(o, "name", "") for o in outputs)
    for output in outputs:
        yield from output_files(output, feedset, formats)


# ---------------------------------------------------------------- the build


@contextlib.contextmanager
def locked(out_dir: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the directory ``out_dir`` (created if missing).

    Waits up to ``timeout`` seconds (default ``$DIGESTFEED_LOCK_TIMEOUT``, else
    :data:`LOCK_TIMEOUT`) for another build to finish, then raises :class:`LockError`.
    """
    if timeout is None:
        timeout = float(os.environ.get("DIGESTFEED_LOCK_TIMEOUT") or LOCK_TIMEOUT)
    out_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(out_dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockError(
                        f"{out_dir}: another digestfeed build is writing this directory "
                        f"(waited {timeout:g} s); run again when it has finished"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class _Dirs:
    """``mkdir -p`` each directory once per build (a site has thousands of files in a few
    hundred directories)."""

    def __init__(self) -> None:
        self._made: set[Path] = set()

    def parent_of(self, path: Path) -> None:
        parent = path.parent
        if parent not in self._made:
            parent.mkdir(parents=True, exist_ok=True)
            self._made.add(parent)


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

    ``now`` is the time given to edited entries (default: :func:`~digestfeed.ledger.clock_now`,
    read only when an entry was edited). Raises :class:`LedgerError` (corrupt ledger) or
    :class:`BuildError` with ``out_dir`` and the ledger exactly as they were.
    """
    out_dir = Path(out_dir)
    ledger_path = Path(ledger_path)
    if out_dir.exists() and not out_dir.is_dir():
        raise BuildError(f"{out_dir}: the output directory is a file")
    result = BuildResult(digests=len(digests))
    for d in digests:
        result.warnings.extend(d.warnings)
    entries = collect_entries(digests)
    result.entries = len(entries)
    outputs = list(outputs) if outputs is not None else default_outputs()
    ledger = Ledger.load(ledger_path)  # a corrupt ledger fails here, before anything is touched

    hashes = cache.hashes if cache is not None else None
    if check:
        timed = ledger.apply(entries, config, now, hashes)
        result.ledger_changed = ledger.changed
        feedset = plan(timed, config)
        result.feedset, result.feeds = feedset, len(feedset.feeds)
        _compare(feedset, outputs, out_dir, result, progress)
        if result.ledger_changed:
            result.changed.append(str(ledger_path))
        return result

    with locked(out_dir):
        if _file_stamp(ledger_path) != ledger.stamp:  # another build updated it meanwhile
            ledger = Ledger.load(ledger_path)
        timed = ledger.apply(entries, config, now, hashes)
        result.ledger_changed = ledger.changed
        feedset = plan(timed, config)
        result.feedset, result.feeds = feedset, len(feedset.feeds)
        staging = out_dir / STAGING
        shutil.rmtree(staging, ignore_errors=True)  # left by a build that was killed
        ledger_tmp: Path | None = None
        try:
            staged = _stage(feedset, outputs, out_dir, staging, result, cache, progress)
            if result.ledger_changed:
                ledger_tmp = ledger.stage(ledger_path)
            _swap(out_dir, staging, staged, result.removed, ledger_tmp, ledger_path)
            ledger_tmp = None
        except OSError as exc:
            raise BuildError(f"{exc.filename or out_dir}: {exc.strerror or exc}") from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            if ledger_tmp is not None:
                ledger_tmp.unlink(missing_ok=True)
        _prune_empty_dirs(out_dir)
        for rel in result.removed:
            result.owned.pop(rel, None)
        for rel in staged:
            stat = stat_key(out_dir / rel)
            if stat is not None:
                result.owned[rel] = stat
        if cache is not None:  # remember what was written, to skip it next time
            resolved = str(out_dir.resolve())
            for rel, (fp, digest) in staged.items():
                if fp is not None:  # a render()-only output has no fingerprint: always rendered
                    cache.put(("out", resolved, rel), (fp, result.owned.get(rel), digest))
            for rel in result.removed:
                cache.forget(("out", resolved, rel))
    return result


def _file_stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _swap(
    out_dir: Path,
    staging: Path,
    staged: Iterable[str],
    removed: Iterable[str],
    ledger_tmp: Path | None,
    ledger_path: Path,
) -> None:
    """Rename the staged files over their targets, remove ``removed``, then the ledger.

    Each replaced or removed file is first hard-linked (or copied) into the staging
    directory, so that a failing rename puts every earlier one back.
    """
    backup = staging / ".backup"
    dirs = _Dirs()
    done: list[tuple[Path, Path | None]] = []  # (target, its previous version or None)
    try:
        for rel in staged:
            target = out_dir / rel
            saved = _keep(target, backup / rel, dirs)
            dirs.parent_of(target)
            os.replace(staging / rel, target)
            done.append((target, saved))
        for rel in removed:
            target = out_dir / rel
            saved = backup / rel
            dirs.parent_of(saved)
            os.replace(target, saved)
            done.append((target, saved))
        if ledger_tmp is not None:
            os.replace(ledger_tmp, ledger_path)
    except BaseException:
        for target, saved in reversed(done):
            with contextlib.suppress(OSError):
                if saved is None:
                    target.unlink()
                else:
                    os.replace(saved, target)
        raise


def _keep(target: Path, saved: Path, dirs: _Dirs) -> Path | None:
    """Hard-link (else copy) ``target`` to ``saved``; ``None`` when there is no target."""
    if not target.exists():
        return None
    dirs.parent_of(saved)
    try:
        os.link(target, saved)
    except OSError:
        shutil.copy2(target, saved)
    return saved


LAST_BUILD = "last-build.json"


def last_build_path(config: Config) -> Path:
    return Path(config.cache_dir) / LAST_BUILD


def record_last_build(config: Config, out_dir: Path, result: BuildResult) -> Path:
    """Write ``<cache_dir>/last-build.json``: what the last build changed, for ``ping``.

    ``changed``/``removed`` are the last build's; ``pending`` adds the files changed by
    earlier builds of the same directory that ``ping`` has not yet announced.
    """
    path = last_build_path(config)
    ensure_cache_dir(path.parent)
    out = str(Path(out_dir).resolve())
    pending: set[str] = set()
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
        previous = json.loads(path.read_text(encoding="utf-8"))
        if previous.get("out") == out:
            pending.update(str(p) for p in previous.get("pending", ()))
    pending = (pending | set(result.changed)) - set(result.removed)
    data = {
        "out": out,
        "changed": sorted(result.changed),
        "removed": sorted(result.removed),
        "pending": sorted(pending),
    }
    write_json(path, data)
    return path


def write_json(path: Path, data: object) -> None:
    """Write ``data`` as indented JSON, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _stage(
    feedset: FeedSet,
    outputs: Sequence[object],
    out_dir: Path,
    staging: Path,
    result: BuildResult,
    cache: Cache | None,
    progress: Progress | None,
) -> dict[str, tuple[str | None, str]]:
    """Render what changed into ``staging``; return ``{path: (fingerprint, sha256)}`` staged.

    A file is skipped without rendering when the cache says it was written with the same
    fingerprint and it is still that file: same size and mtime, or else same content hash
    (a fresh checkout changes every mtime). Otherwise it is rendered and staged only when
    its bytes differ from the file in place.
    """
    files = list(_output_files(feedset, outputs))
    produced: set[str] = set()
    staged: dict[str, tuple[str | None, str]] = {}
    resolved = str(out_dir.resolve())
    base = os.path.join(str(out_dir), "")  # plain strings: 15,000 Path objects cost 0.2 s
    dirs = _Dirs()
    for i, (rel, fp, render) in enumerate(files):
        if progress:
            progress(i, len(files))
        produced.add(rel)
        target = base + rel
        key = ("out", resolved, rel)
        hit = cache.get(key) if cache is not None and fp is not None else None
        current: bytes | None = None
        if hit is not None and hit[0] == fp:
            stat = stat_key(target)
            if stat is not None and stat == hit[1]:
                continue
            current = _read(target)
            if current is not None and _sha(current) == hit[2]:
                cache.put(key, (fp, stat_key(target), hit[2]))  # type: ignore[union-attr]
                continue
        data = render()
        if current is None:
            current = _read(target)
        if current != data:
            path = staging / rel
            dirs.parent_of(path)
            path.write_bytes(data)
            staged[rel] = (fp, _sha(data) if cache is not None else "")
            result.changed.append(rel)
        elif cache is not None and fp is not None:
            cache.put(key, (fp, stat_key(target), _sha(data)))
    if progress:
        progress(len(files), len(files))
    result.files = len(files)
    result.owned = owned_stats(out_dir)
    result.removed = sorted(set(result.owned) - produced)
    result.produced = produced
    return staged


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def _compare(
    feedset: FeedSet,
    outputs: Sequence[object],
    out_dir: Path,
    result: BuildResult,
    progress: Progress | None,
) -> None:
    """Render every file and compare it with ``out_dir``; write nothing."""
    files = list(_output_files(feedset, outputs))
    produced = set()
    for i, (rel, _fp, render) in enumerate(files):
        produced.add(rel)
        try:
            current = (out_dir / rel).read_bytes()
        except FileNotFoundError:
            result.missing.append(rel)
            current = None
        except OSError:
            current = None
        if current is None or current != render():
            result.changed.append(rel)
        if progress:
            progress(i + 1, len(files))
    result.files = len(files)
    result.removed = sorted(set(owned_stats(out_dir)) - produced)


def _prune_empty_dirs(out_dir: Path) -> None:
    for root, dirs, files in os.walk(out_dir, topdown=False):
        if Path(root) != out_dir and not dirs and not files and not Path(root).name.startswith("."):
            with contextlib.suppress(OSError):
                Path(root).rmdir()
