"""Publishing files into ``feeds/``: stage, swap, lock — all or nothing.

Everything is rendered and staged (in a hidden directory inside the output directory)
before the first existing file is replaced; the replacement is a series of ``os.replace``
renames, so no reader ever sees a torn file, and a failure before that point leaves
``feeds/`` exactly as it was (a failure during the renames themselves is rolled back from
hard links of the replaced files). Unchanged files are never touched (their mtimes are
kept). An exclusive ``flock`` on the output directory itself serialises concurrent builds
(:func:`locked`; the build holds it from the ledger read to the last rename), so no lock
file is left anywhere. :func:`compare` is the read-only twin used by ``check``.

What goes into the files (sources, ledger, plan) is :mod:`digestfeed.pipeline`'s business.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from .cache import Cache
from .errors import BuildError, LockError
from .ledger import Ledger
from .types import FileSpec
from .uptodate import OWNED_SUFFIXES, owned_stats, owned_walk, stat_key

STAGING = ".digestfeed-staging"
LOCK_TIMEOUT = 120.0

Progress = Callable[[int, int], None]  #: (done, total)


@dataclasses.dataclass
class Published:
    """What :func:`publish` did to the output directory."""

    files: int  #: files the outputs produced
    changed: list[str]  #: written (new or different), in output order
    removed: list[str]  #: owned files no longer produced, sorted (deleted)
    produced: set[str]  #: every file the outputs produced (plugins may use other suffixes)
    owned: dict[str, tuple[int, int]]  #: ``{owned file: (size, mtime_ns)}`` afterwards


@dataclasses.dataclass
class Compared:
    """How the output directory differs from what :func:`publish` would make of it."""

    files: int
    changed: list[str]  #: would be written (new or different)
    missing: list[str]  #: the subset of :attr:`changed` that does not exist yet
    removed: list[str]  #: owned files that would be removed


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
        self._made: set[str] = set()

    def parent_of(self, path: str | Path) -> None:
        parent = os.path.dirname(path)
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            self._made.add(parent)


def publish(
    out_dir: Path,
    files: Iterable[FileSpec],
    *,
    ledger: Ledger | None = None,
    ledger_path: Path | None = None,
    cache: Cache | None = None,
    progress: Progress | None = None,
) -> Published:
    """Write ``files`` into ``out_dir`` all or nothing, then ``ledger`` (when given, to
    ``ledger_path``), and remove the owned files no longer produced.

    The caller holds :func:`locked`. Only files whose bytes differ are staged and renamed;
    with a ``cache``, a file whose fingerprint and stat (or content hash) match the last
    write is not even rendered, and what is written is remembered. An ``OSError`` becomes
    a :class:`BuildError`; any failure leaves ``out_dir`` and the ledger as they were.
    """
    staging = out_dir / STAGING
    files = list(files)
    refuse_links(out_dir, (rel for rel, _, _ in files))
    if staging.is_symlink():  # never stage through a link (a committed one, say)
        staging.unlink()
    shutil.rmtree(staging, ignore_errors=True)  # left by a build that was killed
    ledger_tmp: Path | None = None
    try:
        staged, result = _stage(files, out_dir, staging, cache, progress)
        if ledger is not None and ledger_path is not None:
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
                cache.put_written(resolved, rel, (fp, result.owned.get(rel), digest))
        for rel in result.removed:
            cache.forget_written(resolved, rel)
    return result


def refuse_links(out_dir: Path, paths: Iterable[str]) -> None:
    """Raise :class:`BuildError` when a folder the build writes into is a symbolic link.

    ``feeds/tags -> /elsewhere`` would otherwise be written through (and its files removed
    as stale): a build never writes outside ``out_dir``. The link is not removed either;
    the message names it. (A *file* that is a link is replaced by the file, as any file.)
    """
    folders: set[str] = set()
    for rel in paths:
        parent = rel.rpartition("/")[0]
        while parent and parent not in folders:
            folders.add(parent)
            parent = parent.rpartition("/")[0]
    for folder in sorted(folders):
        if os.path.islink(os.path.join(out_dir, folder)):
            raise BuildError(
                f"{out_dir / folder}: a symbolic link inside the output directory; digestfeed "
                "never writes through one (remove the link, then build again)"
            )


def _swap(
    out_dir: Path,
    staging: Path,
    staged: Iterable[str],
    removed: Iterable[str],
    ledger_tmp: Path | None,
    ledger_path: Path | None,
) -> None:
    """Rename the staged files over their targets, remove ``removed``, then the ledger.

    Each replaced or removed file is first hard-linked (or copied) into the staging
    directory, so that a failing rename puts every earlier one back.
    """
    # plain strings: a Path per file costs more than the rename
    out, stage = os.path.join(out_dir, ""), os.path.join(staging, "")
    backup = os.path.join(staging, ".backup", "")
    dirs = _Dirs()
    done: list[tuple[str, str | None]] = []  # (target, its previous version or None)
    try:
        for rel in staged:
            target = out + rel
            saved = _keep(target, backup + rel, dirs)
            dirs.parent_of(target)
            os.replace(stage + rel, target)
            done.append((target, saved))
        for rel in removed:
            target = out + rel
            saved = backup + rel
            dirs.parent_of(saved)
            os.replace(target, saved)
            done.append((target, saved))
        if ledger_tmp is not None and ledger_path is not None:
            os.replace(ledger_tmp, ledger_path)
    except BaseException:
        for target, saved in reversed(done):
            with contextlib.suppress(OSError):
                if saved is None:
                    os.unlink(target)
                else:
                    os.replace(saved, target)
        raise


def _keep(target: str, saved: str, dirs: _Dirs) -> str | None:
    """Hard-link (else copy) ``target`` to ``saved``; ``None`` when there is no target."""
    if not os.path.exists(target):
        return None
    dirs.parent_of(saved)
    try:
        os.link(target, saved)
    except OSError:
        shutil.copy2(target, saved)
    return saved


def _stage(
    files: Sequence[FileSpec],
    out_dir: Path,
    staging: Path,
    cache: Cache | None,
    progress: Progress | None,
) -> tuple[dict[str, tuple[str | None, str]], Published]:
    """Render what changed into ``staging``; return ``{path: (fingerprint, sha256)}`` staged
    and what the swap will do.

    A file is skipped without rendering when the cache says it was written with the same
    fingerprint and it is still that file: same size and mtime, or else same content hash
    (a fresh checkout changes every mtime). Otherwise it is rendered and staged only when
    its bytes differ from the file in place.
    """
    produced: set[str] = set()
    changed: list[str] = []
    staged: dict[str, tuple[str | None, str]] = {}
    resolved = str(out_dir.resolve())
    base = os.path.join(str(out_dir), "")  # plain strings: 15,000 Path objects cost 0.2 s
    dirs = _Dirs()
    # one walk of the output gives the stat of every owned file (and what to remove), instead
    # of one stat call per file; nothing is written to out_dir before the swap
    walked = owned_walk(out_dir)
    owned = walked if walked is not None else {}
    stage = os.path.join(staging, "")
    for i, (rel, fp, render) in enumerate(files):
        if progress:
            progress(i, len(files))
        produced.add(rel)
        target = base + rel
        hit = cache.written(resolved, rel) if cache is not None and fp is not None else None
        current: bytes | None = None
        if hit is not None and hit[0] == fp:
            stat = owned.get(rel) or stat_key(target)  # a plugin's own suffix is not walked
            if stat is not None and stat == hit[1]:
                continue
            current = _read(target)
            if current is not None and _sha(current) == hit[2]:
                cache.put_written(resolved, rel, (fp, stat_key(target), hit[2]))  # type: ignore[union-attr]
                continue
        data = render()
        if current is None and (walked is None or rel in owned or not rel.endswith(OWNED_SUFFIXES)):
            current = _read(target)  # (a complete walk says which owned files exist)
        if current != data:
            path = stage + rel
            dirs.parent_of(path)
            with open(path, "wb") as fh:
                fh.write(data)
            staged[rel] = (fp, _sha(data) if cache is not None else "")
            changed.append(rel)
        elif cache is not None and fp is not None:
            cache.put_written(resolved, rel, (fp, stat_key(target), _sha(data)))
    if progress:
        progress(len(files), len(files))
    removed = sorted(set(owned) - produced)
    return staged, Published(len(files), changed, removed, produced, owned)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def compare(out_dir: Path, files: Iterable[FileSpec], progress: Progress | None = None) -> Compared:
    """Render every file and compare it with ``out_dir``; write nothing."""
    files = list(files)
    produced = set()
    changed: list[str] = []
    missing: list[str] = []
    for i, (rel, _fp, render) in enumerate(files):
        produced.add(rel)
        try:
            current = (out_dir / rel).read_bytes()
        except FileNotFoundError:
            missing.append(rel)
            current = None
        except OSError:
            current = None
        if current is None or current != render():
            changed.append(rel)
        if progress:
            progress(i + 1, len(files))
    removed = sorted(set(owned_stats(out_dir)) - produced)
    return Compared(len(files), changed, missing, removed)


def _prune_empty_dirs(out_dir: Path) -> None:
    for root, dirs, files in os.walk(out_dir, topdown=False):
        if Path(root) != out_dir and not dirs and not files and not Path(root).name.startswith("."):
            with contextlib.suppress(OSError):
                Path(root).rmdir()
