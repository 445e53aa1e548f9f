"""The no-change shortcut: is the output directory still exactly what the last build wrote,
from the same inputs? Then a rebuild can say ``0 changed`` without parsing or rendering.

The last build leaves a snapshot in the cache directory (``last-state.json``, plain data):
a key over everything a build reads (the code's :func:`~digestfeed.cache.code_stamp`, the
config, the installed outputs, the *bytes* of every file of every source directory and of
the ledger) and the size and mtime of every file it owns in the output directory. A
rebuild whose key and output stats match is a no-op; any difference (an edited digest, an
edited feed, a new plugin) takes the full path, which re-parses and re-renders only what
changed. A touched digest with the same bytes, or a fresh checkout, keeps the shortcut's
key (the output stats of a fresh checkout differ, so that build takes the full path and
writes nothing). ``check`` never uses it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .cache import Cache, code_stamp, ensure_cache_dir, pack_warning, unpack_warning
from .config import Config
from .sources.vault import SETTINGS_FILES

SNAPSHOT = "last-state.json"
SNAPSHOT_VERSION = 3
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
    config: Config,
    sources: Sequence[tuple[str, Path]],
    output_names: Sequence[str],
    cache: Cache,
) -> str | None:
    """Hash of the code, config, outputs and every source file's bytes (a file that is not
    a regular file, or is larger than ``max_file_bytes``, by its stat: sources refuse those
    or do not read them); ``None`` if a directory cannot be listed. ``cache`` hashes a
    file only when its stat changed since it was last hashed."""
    h = hashlib.sha256(
        repr((SNAPSHOT_VERSION, code_stamp(), config, sorted(output_names))).encode()
    )
    try:
        for name, directory in sources:
            h.update(f"\0{name}\0{Path(directory).resolve()}\n".encode())
            _hash_tree(h, str(directory), "", cache, config.max_file_bytes)
            for relative in SETTINGS_FILES:  # a vault's template folder is named in them
                path = Path(directory) / relative
                if path.exists():
                    h.update(f"{relative}\0{_content(path, cache, 1 << 24)}\n".encode())
    except OSError:
        return None
    return h.hexdigest()


def _content(path: Path | str, cache: Cache, max_bytes: int) -> str:
    """A file's sha256, or for what is not hashed (a link, a device, a big file) its stat."""
    sha = cache.file_sha256(path, max_bytes)
    if sha is not None:
        return sha
    st = os.lstat(path)
    return f"{st.st_mode}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}"


def _hash_tree(h: hashlib._Hash, directory: str, prefix: str, cache: Cache, cap: int) -> None:
    """Every file's content under ``directory``, sub-folders included (a vault nests its
    notes in year folders); hidden names (the ledger, keyed apart, ``.obsidian/``) are
    skipped. The lines are hashed in one update (the same hash as one update per line)."""
    lines: list[str] = []
    _tree_lines(lines, directory, prefix, cache, cap)
    h.update("".join(lines).encode())


def _tree_lines(lines: list[str], directory: str, prefix: str, cache: Cache, cap: int) -> None:
    with os.scandir(directory) as it:
        items = sorted(it, key=lambda e: e.name)
    for item in items:
        name = item.name
        if name.startswith("."):  # the ledger (keyed below), editor files
            continue
        if item.is_dir(follow_symlinks=False):
            lines.append(f"{prefix}{name}/\n")
            _tree_lines(lines, item.path, f"{prefix}{name}/", cache, cap)
        else:
            lines.append(f"{prefix}{name}\0{_content(item.path, cache, cap)}\n")


def _key(sources: str, ledger_path: Path, cache: Cache) -> str | None:
    try:
        ledger = _content(ledger_path, cache, 1 << 30) if ledger_path.exists() else "absent"
    except OSError:
        return None
    return hashlib.sha256(f"{sources}\0{ledger_path.resolve()}\0{ledger}".encode()).hexdigest()


def owned_stats(out_dir: Path) -> dict[str, tuple[int, int]]:
    """``{relative path: (size, mtime_ns)}`` of the files the build owns under ``out_dir``."""
    found = owned_walk(out_dir)
    return found if found is not None else {}


def owned_walk(out_dir: Path) -> dict[str, tuple[int, int]] | None:
    """:func:`owned_stats`, but ``None`` when the walk failed part way (an unreadable
    folder, a dangling link): then it does not tell which owned files exist."""
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
        return {} if not os.path.lexists(out_dir) else None  # absent: nothing exists
    return found


def _path(config: Config) -> Path:
    return Path(config.cache_dir) / SNAPSHOT


def current(
    config: Config, out_dir: Path, sources: str | None, ledger_path: Path, cache: Cache
) -> Snapshot | None:
    """The last build's snapshot when ``out_dir`` is still exactly its result, else ``None``."""
    if sources is None:
        return None
    key = _key(sources, ledger_path, cache)
    if key is None:
        return None
    # the cheap comparisons first: after an edit, the snapshot is not even parsed
    data = _read(_path(config), key)
    if data is None or data.get("out") != str(out_dir.resolve()) or data.get("key") != key:
        return None
    snap = _snapshot(data)
    if snap is None or owned_stats(out_dir) != snap.outputs:
        return None
    if any(stat_key(out_dir / rel) != stat for rel, stat in snap.extra.items()):
        return None
    return snap


def _read(path: Path, key: str) -> dict[str, Any] | None:
    """The JSON object in ``path`` when this code wrote it (its version) for ``key``, else
    ``None`` (a file whose text lacks ``"key":"<key>"``, as :func:`record` writes it, is not
    parsed)."""
    try:
        raw = path.read_bytes()
        if f'"key":{json.dumps(key)}'.encode() not in raw:
            return None
        data = json.loads(raw)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != SNAPSHOT_VERSION:
        return None
    return data


def _snapshot(data: dict[str, Any]) -> Snapshot | None:
    """The :class:`Snapshot` of :func:`_read`'s object, ``None`` when it is malformed."""
    try:
        return Snapshot(
            str(data["out"]),
            str(data["key"]),
            {str(rel): (int(s), int(m)) for rel, (s, m) in data["outputs"].items()},
            {
                str(rel): None if stat is None else (int(stat[0]), int(stat[1]))
                for rel, stat in data["extra"].items()
            },
            tuple(int(n) for n in data["summary"]),  # type: ignore[arg-type]
            tuple(unpack_warning(w) for w in data["warnings"]),
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError, IndexError):
        return None


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
    cache: Cache,
    outputs: dict[str, tuple[int, int]] | None = None,
    produced: Sequence[str] = (),
) -> None:
    """Remember this build's inputs and outputs (``sources`` as computed before it read
    them; ``outputs`` the output directory's :func:`owned_stats`, walked when not given)."""
    path = _path(config)
    key = _key(sources, ledger_path, cache) if sources is not None else None
    if key is None:
        path.unlink(missing_ok=True)
        return
    stats = owned_stats(out_dir) if outputs is None else outputs
    extra = {rel: stat_key(out_dir / rel) for rel in sorted(produced) if rel not in stats}
    data = {
        "version": SNAPSHOT_VERSION,
        "out": str(out_dir.resolve()),
        "key": key,
        "outputs": stats,
        "extra": extra,
        "summary": list(summary),
        "warnings": [pack_warning(w) for w in warnings],
    }
    try:
        ensure_cache_dir(path.parent)
        tmp = path.with_name(f".{SNAPSHOT}.{os.getpid()}")
        tmp.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), "utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # without a snapshot the next build simply takes the full path
