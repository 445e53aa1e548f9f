"""The no-change shortcut: is the output directory still exactly what the last build wrote,
from the same inputs? Then a rebuild can say ``0 changed`` without parsing or rendering.

The last build leaves a snapshot in the cache directory: a key over everything a build
reads (the code, the config, the installed outputs, every file of every source directory
by name, size, mtime and inode, and the ledger) and the size and mtime of every file it
owns in the output directory. A rebuild whose key and output stats match is a no-op; any
difference (a touched digest, an edited feed, a new plugin, a fresh checkout) takes the
full path, which re-parses and re-renders only what changed. ``check`` never uses it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
from collections.abc import Sequence
from pathlib import Path

from .cache import code_stamp, ensure_cache_dir
from .config import Config
from .sources.vault import SETTINGS_FILES

SNAPSHOT = "last-state.pickle"
SNAPSHOT_VERSION = 2
#: Files under the output directory that digestfeed owns (and removes when no longer built).
OWNED_SUFFIXES = (".atom", ".rss", ".json", ".opml", ".html")


@dataclasses.dataclass(frozen=True)
class Snapshot:
    out: str
    key: str
    outputs: dict[str, tuple[int, int]]  #: owned file → (size, mtime_ns)
    #: produced files with other suffixes (a plugin's ``entries.csv``) → (size, mtime_ns)
    extra: dict[str, tuple[int, int] | None]
    summary: tuple[int, int, int, int]  #: digests, entries, feeds, files
    warnings: tuple[str, ...]


def sources_key(
    config: Config, sources: Sequence[tuple[str, Path]], output_names: Sequence[str]
) -> str | None:
    """Hash of the code, config, outputs and every source file's stat; ``None`` if unreadable."""
    h = hashlib.sha256(
        repr((SNAPSHOT_VERSION, code_stamp(), config, sorted(output_names))).encode()
    )
    try:
        for name, directory in sources:
            h.update(f"\0{name}\0{Path(directory).resolve()}\n".encode())
            _hash_tree(h, str(directory), "")
            for relative in SETTINGS_FILES:  # a vault's template folder is named in them
                try:
                    st = (Path(directory) / relative).stat()
                except FileNotFoundError:
                    continue
                h.update(f"{relative}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n".encode())
    except OSError:
        return None
    return h.hexdigest()


def _hash_tree(h: hashlib._Hash, directory: str, prefix: str) -> None:
    """Every file's stat under ``directory``, sub-folders included (a vault nests its notes
    in year folders); hidden names (the ledger, keyed apart, ``.obsidian/``) are skipped."""
    with os.scandir(directory) as it:
        for item in sorted(it, key=lambda e: e.name):
            if item.name.startswith("."):  # the ledger (keyed below), editor files
                continue
            st = item.stat(follow_symlinks=False)
            h.update(f"{prefix}{item.name}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n".encode())
            if item.is_dir(follow_symlinks=False):
                _hash_tree(h, item.path, f"{prefix}{item.name}/")


def _key(sources: str, ledger_path: Path) -> str | None:
    try:
        st = ledger_path.stat()
        ledger = f"{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}"
    except FileNotFoundError:
        ledger = "absent"
    except OSError:
        return None
    return hashlib.sha256(f"{sources}\0{ledger_path.resolve()}\0{ledger}".encode()).hexdigest()


def owned_stats(out_dir: Path) -> dict[str, tuple[int, int]]:
    """``{relative path: (size, mtime_ns)}`` of the files the build owns under ``out_dir``."""
    found: dict[str, tuple[int, int]] = {}

    def walk(directory: str, prefix: str) -> None:
        with os.scandir(directory) as it:
            for item in it:
                if item.name.startswith("."):
                    continue
                if item.is_dir(follow_symlinks=False):
                    walk(item.path, f"{prefix}{item.name}/")
                elif item.name.endswith(OWNED_SUFFIXES):
                    st = item.stat()
                    found[prefix + item.name] = (st.st_size, st.st_mtime_ns)

    try:
        walk(str(out_dir), "")
    except OSError:
        return {}
    return found


def _path(config: Config) -> Path:
    return Path(config.cache_dir) / SNAPSHOT


def current(
    config: Config, out_dir: Path, sources: str | None, ledger_path: Path
) -> Snapshot | None:
    """The last build's snapshot when ``out_dir`` is still exactly its result, else ``None``."""
    if sources is None:
        return None
    try:
        with _path(config).open("rb") as fh:
            snap = pickle.load(fh)
    except (
        OSError,
        pickle.UnpicklingError,
        EOFError,
        AttributeError,
        ImportError,
        TypeError,
        ValueError,
    ):
        return None
    if not isinstance(snap, Snapshot) or snap.out != str(out_dir.resolve()):
        return None
    if snap.key != _key(sources, ledger_path) or owned_stats(out_dir) != snap.outputs:
        return None
    if any(stat_key(out_dir / rel) != stat for rel, stat in snap.extra.items()):
        return None
    return snap


def stat_key(path: Path | str) -> tuple[int, int] | None:
    """``(size, mtime_ns)`` of a file, ``None`` when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def record(
    config: Config,
    out_dir: Path,
    sources: str | None,
    ledger_path: Path,
    summary: tuple[int, int, int, int],
    warnings: Sequence[str],
    outputs: dict[str, tuple[int, int]] | None = None,
    produced: Sequence[str] = (),
) -> None:
    """Remember this build's inputs and outputs (``sources`` as computed before it read
    them; ``outputs`` the output directory's :func:`owned_stats`, walked when not given)."""
    path = _path(config)
    key = _key(sources, ledger_path) if sources is not None else None
    if key is None:
        path.unlink(missing_ok=True)
        return
    stats = owned_stats(out_dir) if outputs is None else outputs
    extra = {rel: stat_key(out_dir / rel) for rel in sorted(produced) if rel not in stats}
    snap = Snapshot(str(out_dir.resolve()), key, stats, extra, summary, tuple(warnings))
    try:
        ensure_cache_dir(path.parent)
        tmp = path.with_name(f".{SNAPSHOT}.{os.getpid()}")
        with tmp.open("wb") as fh:
            pickle.dump(snap, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass  # without a snapshot the next build simply takes the full path
