"""The build cache (outside ``feeds/``, ignored by git): parsed digests keyed by file content,
and the fingerprint of every written file, so a rebuild re-parses and re-renders only what
changed. Deleting the cache is always safe: it only costs time.

The cache directory holds a ``.gitignore`` of ``*``, so it never shows in ``git status``
even in a repository that does not ignore it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .ledger import hash_key
from .types import Digest, Entry

CACHE_VERSION = 1


class Cache:
    """A pickled dict in one file; loaded lazily, written atomically by :meth:`save`."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._data: dict[Any, Any] | None = None
        self._dirty = False
        #: Keys read (hits) or written in this run; see :meth:`prune`.
        self.used: set[Any] = set()
        #: This run's entry content hashes, known from the parse cache (not persisted as such):
        #: ``ledger.hash_key(entry) → entry.content_hash()``.
        self.hashes: dict[Any, str] = {}

    @property
    def data(self) -> dict[Any, Any]:
        if self._data is None:
            self._data = {}
            if self.path is not None:
                try:
                    with self.path.open("rb") as fh:
                        loaded = pickle.load(fh)
                    if (
                        isinstance(loaded, dict)
                        and loaded.get("__version__") == CACHE_VERSION
                        and loaded.get("__code__") == code_stamp()
                    ):
                        self._data = loaded
                except (
                    OSError,
                    pickle.UnpicklingError,
                    EOFError,
                    AttributeError,
                    ImportError,
                    TypeError,
                ):
                    self._data = {}  # a broken cache is just a cold cache
        return self._data

    def get(self, key: Any) -> Any:
        value = self.data.get(key)
        if value is not None:
            self.used.add(key)
        return value

    def put(self, key: Any, value: Any) -> None:
        self.used.add(key)
        if self.data.get(key) != value:
            self.data[key] = value
            self._dirty = True

    def forget(self, key: Any) -> None:
        if self.data.pop(key, None) is not None:
            self._dirty = True

    def prune(self, keep: Callable[[Any], bool]) -> None:
        for key in [k for k in self.data if k not in ("__version__", "__code__") and not keep(k)]:
            del self.data[key]
            self._dirty = True

    def save(self) -> None:
        if self.path is None or not self._dirty:
            return
        self.data["__version__"] = CACHE_VERSION
        self.data["__code__"] = code_stamp()
        tmp = None
        try:
            ensure_cache_dir(self.path.parent)
            fd, tmp = tempfile.mkstemp(prefix=".cache.", dir=self.path.parent)
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(self.data, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
            tmp = None
        except OSError:
            pass  # a cache that cannot be written only costs time next run
        finally:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
        self._dirty = False


@functools.cache
def code_stamp() -> str:
    """Identity of the digestfeed code that runs: every module's name, size and mtime.

    A cache is valid only for the code that wrote it (and the feedgen and lxml that
    rendered with it), so editing a renderer in a development install, or upgrading a
    library, can never leave files that a rebuild wrongly keeps.
    """
    from importlib.metadata import PackageNotFoundError, version

    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for dist in ("feedgen", "lxml"):  # their upgrades can change the bytes written
        try:
            h.update(f"{dist}=={version(dist)}\n".encode())
        except PackageNotFoundError:
            h.update(f"{dist} missing\n".encode())
    for path in sorted(root.rglob("*.py")):
        st = path.stat()
        h.update(f"{path.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def ensure_cache_dir(directory: Path) -> Path:
    """Create the cache directory with a ``.gitignore`` of ``*`` in it (git never sees it)."""
    directory.mkdir(parents=True, exist_ok=True)
    ignore = directory / ".gitignore"
    if not ignore.exists():
        ignore.write_text(
            "# digestfeed's build cache: safe to delete, never commit\n*\n", encoding="utf-8"
        )
    return directory


# --- parsed digests in the parse cache -----------------------------------------------------

_ENTRY_FIELDS = tuple(f.name for f in dataclasses.fields(Entry))
#: Part of every parse-cache salt: a change to the packing or to :class:`Entry`'s fields
#: invalidates packed digests.
DIGEST_PACK_VERSION = ("digest-pack-2", _ENTRY_FIELDS)


def pack_digest(digest: Digest) -> tuple[object, ...]:
    """A parsed digest as plain tuples (pickled far faster than dataclasses), each entry
    followed by its content hash so that a rebuild does not recompute it."""
    entries = tuple(
        (*(getattr(e, name) for name in _ENTRY_FIELDS), e.content_hash()) for e in digest.entries
    )
    return (DIGEST_PACK_VERSION, digest.path, digest.date, entries, digest.warnings)


def unpack_digest(packed: tuple[object, ...], hashes: dict[object, str] | None) -> Digest:
    """The :class:`Digest` of :func:`pack_digest`; each entry's content hash goes into
    ``hashes`` (under ``ledger.hash_key(entry)``) when given."""
    version, path, date, packed_entries, warnings = packed
    if version != DIGEST_PACK_VERSION:  # pragma: no cover - the salt changes with the fields
        raise ValueError("stale cache entry")
    entries = []
    for fields in packed_entries:  # type: ignore[attr-defined]
        entry = Entry(*fields[:-1])
        if hashes is not None:
            hashes[hash_key(entry)] = fields[-1]
        entries.append(entry)
    return Digest(path, date, tuple(entries), warnings)  # type: ignore[arg-type]
