"""The build cache (outside ``feeds/``, ignored by git): parsed digests keyed by their bytes,
and the fingerprint of every written file, so a rebuild re-parses and re-renders only what
changed. Deleting the cache is always safe: it only costs time.

What it holds is plain data only: one SQLite file (``build.sqlite``) whose values are JSON
text. Nothing in the cache directory is ever unpickled or imported, so a cache someone
planted (a committed ``.digestfeed-cache/``) cannot run code; and a cache directory that
git tracks, or that sits inside a source or output folder, is refused before it is opened
(:func:`check_cache_dir`). Rows are written one by one (a one-digest rebuild updates a
hundred rows, it does not rewrite the whole cache).

Validity is by content, never by file times:

- every digest is keyed by its path and the sha256 of its bytes; a file is hashed again
  whenever its stat (size, mtime, ctime, inode) differs from the one recorded with the
  hash (:meth:`Cache.file_sha256`): a fresh checkout re-hashes, and finds the same bytes;
- the whole cache is keyed by :func:`code_stamp`: a hash of the installed digestfeed's
  file *contents*, the Python minor version and the versions of the libraries that shape
  the bytes written (feedgen, lxml, python-dateutil). A fresh ``pip install .`` of the same
  code (new mtimes everywhere, as in CI) keeps the cache valid; any edit to the code drops it.

The cache directory holds a ``.gitignore`` of ``*``, so it never shows in ``git status``
even in a repository that does not ignore it. ``check`` never opens the cache.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import sqlite3
import stat as stat_mod
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .errors import CacheError
from .ledger import hash_key
from .types import BuildWarning, Digest, Entry

#: Bumped whenever the tables change meaning (a cache of another version is dropped whole).
CACHE_VERSION = 4
CACHE_FILE = "build.sqlite"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS parsed (path TEXT PRIMARY KEY, salt TEXT NOT NULL,"
    " sha TEXT NOT NULL, digest TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS written (out TEXT NOT NULL, rel TEXT NOT NULL,"
    " fp TEXT NOT NULL, size INTEGER, mtime INTEGER, sha TEXT NOT NULL,"
    " PRIMARY KEY (out, rel))",
    "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, stat TEXT NOT NULL, sha TEXT)",
)

#: ``(fingerprint, (size, mtime_ns) or None, sha256)`` of a file the build wrote.
Written = tuple[str, tuple[int, int] | None, str]


class Cache:
    """The build cache of one build: ``build.sqlite`` in ``directory``, read on first use
    (one query per table), changed rows written by :meth:`save`.

    ``directory=None`` is a cache that remembers nothing between runs.
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.path = directory / CACHE_FILE if directory is not None else None
        #: path → salt, sha, JSON (UTF-8 bytes as read; text as put)
        self._parsed: dict[str, tuple[str, str, str | bytes]] | None = None
        self._written: dict[tuple[str, str], Written] | None = None
        self._dirty_parsed: dict[str, tuple[str, str, str | bytes]] = {}
        self._dirty_written: dict[tuple[str, str], Written | None] = {}
        self._used_paths: set[str] = set()
        self._files: dict[str, tuple[str, str | None]] | None = None  # path → stat, sha
        self._dirty_files: dict[str, tuple[str, str | None]] = {}
        self._used_files: set[str] = set()
        #: What :meth:`file_sha256` found this run: path → (max_bytes, sha256 or None).
        self._found: dict[str, tuple[int, str | None]] = {}
        #: This run's entry content hashes, known from the parse cache (not persisted as such):
        #: ``ledger.hash_key(entry) → entry.content_hash()``.
        self.hashes: dict[Any, str] = {}

    # ------------------------------------------------------------ loading and saving

    def _connect(self) -> sqlite3.Connection | None:
        if self.path is None:
            return None
        ensure_cache_dir(self.path.parent)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA synchronous=OFF")  # a torn cache is a cold cache, see _load
        for statement in _SCHEMA:
            db.execute(statement)
        return db

    @staticmethod
    def _current(db: sqlite3.Connection) -> bool:
        """Whether this digestfeed (same version, same code) wrote the cache."""
        meta = dict(db.execute("SELECT key, value FROM meta"))
        return meta.get("version") == str(CACHE_VERSION) and meta.get("code") == code_stamp()

    def _read_rows(self, read: Callable[[sqlite3.Connection], None]) -> bool:
        """Run ``read`` on the cache file when this digestfeed wrote it; False when nothing
        was read (no file, another digestfeed's, or one SQLite cannot read, which is removed:
        a cold cache). Another digestfeed's file is left for :meth:`save` to clear."""
        if self.path is None or not self.path.exists():
            return False
        try:
            db = self._connect()
            assert db is not None
            try:
                if not self._current(db):
                    return False
                read(db)
                return True
            finally:
                db.close()
        except sqlite3.Error:
            self._discard()
            return False

    def _load_files(self) -> None:
        files: dict[str, tuple[str, str | None]] = {}

        def read(db: sqlite3.Connection) -> None:
            files.update(
                (path, (stat, sha))
                for path, stat, sha in db.execute("SELECT path, stat, sha FROM files")
            )

        self._files = files if self._read_rows(read) else {}

    def _load(self) -> None:
        parsed: dict[str, tuple[str, str, str | bytes]] = {}
        written: dict[tuple[str, str], Written] = {}

        def read(db: sqlite3.Connection) -> None:
            # the JSON as its UTF-8 bytes: json.loads decodes them faster than sqlite3 does
            parsed.update(
                (path, (salt, sha, data))
                for path, salt, sha, data in db.execute(
                    "SELECT path, salt, sha, CAST(digest AS BLOB) FROM parsed"
                )
            )
            written.update(
                ((out, rel), (fp, None if size is None else (size, mtime), sha))
                for out, rel, fp, size, mtime, sha in db.execute(
                    "SELECT out, rel, fp, size, mtime, sha FROM written"
                )
            )

        ok = self._read_rows(read)
        self._parsed, self._written = (parsed, written) if ok else ({}, {})

    def _discard(self) -> None:
        """Remove a cache file SQLite cannot read (a crash mid-write, a stray file)."""
        if self.path is not None:
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def save(self, prune_parsed: bool = False) -> None:
        """Write the rows this run changed (and, with ``prune_parsed``, delete the parsed
        digests and file hashes this run did not use: deleted or renamed files)."""
        if self.path is None:
            return
        stale = set()
        if prune_parsed and self._parsed is not None:
            stale = set(self._parsed) - self._used_paths
        stale_files = set()
        if prune_parsed and self._files is not None:
            stale_files = set(self._files) - self._used_files
        if not (
            self._dirty_parsed or self._dirty_written or self._dirty_files or stale or stale_files
        ):
            return
        try:
            db = self._connect()
            assert db is not None
            try:
                db.execute("BEGIN IMMEDIATE")
                if not self._current(db):
                    for table in ("meta", "parsed", "written", "files"):
                        db.execute(f"DELETE FROM {table}")  # fixed table names
                    db.executemany(
                        "INSERT INTO meta VALUES (?, ?)",
                        [("version", str(CACHE_VERSION)), ("code", code_stamp())],
                    )
                db.executemany(
                    "INSERT OR REPLACE INTO parsed VALUES (?, ?, ?, ?)",
                    [(path, *row) for path, row in self._dirty_parsed.items()],
                )
                db.executemany("DELETE FROM parsed WHERE path = ?", [(p,) for p in stale])
                db.executemany(
                    "INSERT OR REPLACE INTO written VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (out, rel, fp, *(st if st is not None else (None, None)), sha)
                        for (out, rel), row in self._dirty_written.items()
                        if row is not None
                        for fp, st, sha in (row,)
                    ],
                )
                db.executemany(
                    "DELETE FROM written WHERE out = ? AND rel = ?",
                    [key for key, row in self._dirty_written.items() if row is None],
                )
                db.executemany(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?)",
                    [(path, *row) for path, row in self._dirty_files.items()],
                )
                db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in stale_files])
                db.execute("COMMIT")
            finally:
                db.close()
        except sqlite3.Error:
            self._discard()  # a cache that cannot be written only costs time next run
        except OSError:
            pass
        for path in stale:
            self._parsed.pop(path, None)  # type: ignore[union-attr]
        for path in stale_files:
            self._files.pop(path, None)  # type: ignore[union-attr]
        self._dirty_parsed.clear()
        self._dirty_written.clear()
        self._dirty_files.clear()

    # ------------------------------------------------------------ parsed digests

    def parsed(self, path: str, salt: str, sha: str) -> Digest | None:
        """The digest parsed from ``path`` when its bytes hashed to ``sha`` under the same
        parser ``salt``; its entries' content hashes go to :attr:`hashes`."""
        if self._parsed is None:
            self._load()
        assert self._parsed is not None
        self._used_paths.add(path)
        row = self._parsed.get(path)
        if row is None or row[0] != salt or row[1] != sha:
            return None
        try:
            digest = unpack_digest(json.loads(row[2]), self.hashes)
        except (ValueError, TypeError, IndexError, KeyError):
            return None  # a row this code cannot read is a miss
        self._parsed[path] = (row[0], row[1], b"")  # the text is read once: free its memory
        return digest

    def put_parsed(self, path: str, salt: str, sha: str, digest: Digest) -> None:
        if self._parsed is None:
            self._load()
        assert self._parsed is not None
        self._used_paths.add(path)
        packed = pack_digest(digest)
        for entry, fields in zip(digest.entries, packed[2], strict=True):  # type: ignore[call-overload]
            self.hashes[hash_key(entry)] = fields[-1]
        row = (salt, sha, json.dumps(packed, ensure_ascii=False, separators=(",", ":")))
        if self._parsed.get(path) != row:
            self._parsed[path] = row
            self._dirty_parsed[path] = row

    # ------------------------------------------------------------ written files

    def written(self, out: str, rel: str) -> Written | None:
        """What the last build wrote to ``rel`` under the output directory ``out``."""
        if self._written is None:
            self._load()
        assert self._written is not None
        return self._written.get((out, rel))

    def put_written(self, out: str, rel: str, value: Written) -> None:
        if self._written is None:
            self._load()
        assert self._written is not None
        if self._written.get((out, rel)) != value:
            self._written[(out, rel)] = value
            self._dirty_written[(out, rel)] = value

    def forget_written(self, out: str, rel: str) -> None:
        if self._written is None:
            self._load()
        assert self._written is not None
        if self._written.pop((out, rel), None) is not None:
            self._dirty_written[(out, rel)] = None

    # ------------------------------------------------------------ input files

    def file_sha256(self, path: str | os.PathLike[str], max_bytes: int) -> str | None:
        """sha256 of a regular file's bytes (``None``: not a regular file, larger than
        ``max_bytes`` or unreadable; sources refuse those or do not read them).

        A file is read only when its stat differs from the one recorded with its hash:
        size, mtime, *ctime*, inode and device. The ctime is the kernel's time of the last
        change to the file or its times (``touch``, ``git checkout``, ``cp -p`` cannot set
        it back), so an equal stat means the same file, unwritten since it was hashed; a
        fresh checkout or a rewrite changes it, and the file is hashed again. (A filesystem
        with coarse timestamps could miss an edit of the same size within its tick: delete
        the cache there, or build with ``--no-cache``; ``check`` never uses it.)
        """
        if self._files is None:
            self._load_files()
        assert self._files is not None
        key = os.fspath(path)
        try:
            st = os.lstat(key)
        except OSError:
            return None
        stamp = (
            f"{st.st_mode}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:{st.st_dev}"
            f":{max_bytes}"
        )
        self._used_files.add(key)
        known = self._files.get(key)
        if known is not None and known[0] == stamp:
            sha = known[1]
        else:
            sha = None
            if stat_mod.S_ISREG(st.st_mode) and st.st_size <= max_bytes:
                sha = _hash_regular_file(key, max_bytes)
            self._files[key] = self._dirty_files[key] = (stamp, sha)
        self._found[key] = (max_bytes, sha)
        return sha

    def found_sha256(self, path: str | os.PathLike[str], max_bytes: int) -> str | None:
        """The :meth:`file_sha256` of ``path`` found earlier in this run (the no-change key
        hashes every source file before they are read), else found now.

        A file rewritten since then is parsed from the cache entry of the bytes the key
        was computed from, or read as it is now; either way the key taken again after
        the build differs, so no snapshot claims the new bytes were built.
        """
        found = self._found.get(os.fspath(path))
        if found is not None and found[0] == max_bytes:
            return found[1]
        return self.file_sha256(path, max_bytes)


def _hash_regular_file(path: str, max_bytes: int) -> str | None:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        if not stat_mod.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        return None
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- the code's identity

#: Libraries whose version can change the bytes digestfeed writes or the digests it parses.
_STAMPED_DISTRIBUTIONS = ("feedgen", "lxml", "python-dateutil")


@functools.cache
def code_stamp() -> str:
    """Identity of the digestfeed that runs: the *contents* of every file of the installed
    package (sources, templates), the Python minor version and the versions of feedgen,
    lxml and python-dateutil.

    A cache is valid only for the code that wrote it, so editing a renderer, or upgrading
    a library, can never leave files a rebuild wrongly keeps; and it is the same for every
    install of the same code (``pip install .`` in CI gives every file a new mtime, which
    must not throw the cache away). Hashing the ~100 package files takes a few ms.
    """
    from importlib.metadata import PackageNotFoundError, version

    root = Path(__file__).resolve().parent
    h = hashlib.sha256(f"python {sys.version_info[0]}.{sys.version_info[1]}\n".encode())
    for dist in _STAMPED_DISTRIBUTIONS:
        try:
            h.update(f"{dist}=={version(dist)}\n".encode())
        except PackageNotFoundError:
            h.update(f"{dist} missing\n".encode())
    for path in sorted(_package_files(root)):
        h.update(f"{path.relative_to(root).as_posix()}\0".encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _package_files(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            if not name.endswith((".pyc", ".pyo")):
                yield Path(dirpath) / name


# ---------------------------------------------------------------- where the cache may live


def check_cache_dir(directory: Path, folders: Iterable[Path]) -> None:
    """Raise :class:`~digestfeed.errors.CacheError` when ``directory`` may not hold the cache.

    Refused: a directory inside one of ``folders`` (the sources, the output directory) or
    containing one of them (the cache writes a ``.gitignore`` of ``*``), and a directory of
    which git tracks any file (a cache committed to the repository is someone else's: it
    could have been planted). Checked before anything is read from it.
    """
    cache = directory.resolve()
    for folder in folders:
        inner = folder.resolve()
        if cache == inner or cache.is_relative_to(inner):
            raise CacheError(
                f"{directory}: the build cache is inside {folder}, a folder the build reads "
                "or writes; set cache_dir to a git-ignored folder outside it "
                "(the default is .digestfeed-cache)"
            )
        if inner.is_relative_to(cache):
            raise CacheError(
                f"{directory}: the build cache folder contains {folder}, a folder the build "
                "reads or writes; set cache_dir to a folder of its own "
                "(the default is .digestfeed-cache)"
            )
    tracked = _git_tracked(cache)
    if tracked:
        raise CacheError(
            f"{directory}: the build cache folder is tracked by git ({tracked} and maybe "
            "more); a committed cache is never used. Remove it from the repository "
            f"(git rm -r --cached {directory}) and build again"
        )


def _git_tracked(directory: Path) -> str | None:
    """The first file git tracks under ``directory`` (``None`` when none, when the folder is
    not in a git work tree, or when git is not installed)."""
    if not directory.is_dir() or not any(
        (parent / ".git").exists() for parent in (directory, *directory.parents)
    ):
        return None
    git = shutil.which("git")
    if git is None:
        return None
    try:
        listed = subprocess.run(
            [git, "-C", str(directory), "ls-files", "-z", "--", "."],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if listed.returncode != 0:
        return None
    names = [n for n in listed.stdout.split(b"\0") if n]
    return names[0].decode("utf-8", "replace") if names else None


def ensure_cache_dir(directory: Path) -> Path:
    """Create the cache directory with a ``.gitignore`` of ``*`` in it (git never sees it)."""
    directory.mkdir(parents=True, exist_ok=True)
    ignore = directory / ".gitignore"
    if not ignore.exists():
        ignore.write_text(
            "# digestfeed's build cache: safe to delete, never commit\n*\n", encoding="utf-8"
        )
    return directory


# --- parsed digests as JSON ------------------------------------------------------------------

_ENTRY_FIELDS = tuple(f.name for f in dataclasses.fields(Entry))
#: Entry fields held as tuples (JSON gives lists back).
_TUPLE_FIELDS = frozenset(
    f.name
    for f in dataclasses.fields(Entry)
    if str(f.type).startswith("tuple[") and f.name != "warnings"
)
_TUPLE_INDEXES = tuple(i for i, name in enumerate(_ENTRY_FIELDS) if name in _TUPLE_FIELDS)
_WARNINGS_INDEX = _ENTRY_FIELDS.index("warnings")
#: Part of every parse-cache salt: a change to the packing or to :class:`Entry`'s fields
#: invalidates packed digests.
DIGEST_PACK_VERSION = ("digest-json-2", _ENTRY_FIELDS)


def pack_warning(warning: str) -> object:
    """A warning as JSON: a plain string, or ``[kind, where, message, level]``."""
    if isinstance(warning, BuildWarning):
        return [warning.kind, warning.where, warning.message, warning.level]
    return str(warning)


def unpack_warning(packed: object) -> str:
    """The warning of :func:`pack_warning`."""
    if isinstance(packed, list):
        kind, where, message, level = packed
        return BuildWarning(kind, where, message, level)
    if not isinstance(packed, str):
        raise TypeError("not a warning")
    return packed


def pack_digest(digest: Digest) -> list[object]:
    """A parsed digest as JSON-ready lists: ``[path, date, entries, warnings, digest's
    warnings, plugin]``. Each warning object is packed once (``warnings``; a digest's
    warnings are its entries' warnings and a few of its own) and referred to by its index;
    each entry's fields are followed by its content hash (so a rebuild does not recompute it).
    """
    table: list[object] = []
    index: dict[int, int] = {}  # id(warning) → its index in table

    def refs(warnings: Iterable[str]) -> list[int]:
        out = []
        for w in warnings:
            i = index.get(id(w))
            if i is None:
                i = index[id(w)] = len(table)
                table.append(pack_warning(w))
            out.append(i)
        return out

    entries = [
        [
            *(
                refs(value)
                if name == "warnings"
                else list(value)
                if name in _TUPLE_FIELDS
                else value
                for name in _ENTRY_FIELDS
                for value in (getattr(e, name),)
            ),
            e.content_hash(),
        ]
        for e in digest.entries
    ]
    own = refs(digest.warnings)
    return [digest.path, digest.date, entries, table, own, digest.plugin]


def unpack_digest(packed: list[Any], hashes: dict[Any, str] | None) -> Digest:
    """The :class:`Digest` of :func:`pack_digest` (a warning shared by an entry and its
    digest is one object again); each entry's content hash goes into ``hashes`` (under
    ``ledger.hash_key(entry)``) when given."""
    path, date, packed_entries, table, own, plugin = packed
    warnings = [w if type(w) is str else BuildWarning(*w) for w in table]
    pick = warnings.__getitem__
    entries = []
    w = _WARNINGS_INDEX
    for fields in packed_entries:
        content_hash = fields.pop()
        for i in _TUPLE_INDEXES:
            fields[i] = tuple(fields[i])
        fields[w] = tuple(map(pick, fields[w]))
        entry = Entry(*fields)
        if hashes is not None:
            hashes[hash_key(entry)] = content_hash
        entries.append(entry)
    return Digest(path, date, tuple(entries), tuple(map(pick, own)), plugin)
