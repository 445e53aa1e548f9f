"""The one way a source lists and reads its files: regular files only, size-capped.

A source folder is input someone else may have written (a merged pull request, a synced
vault). So a source never follows a symbolic link, never opens a device, FIFO or socket,
never reads more than a cap, and never echoes anything of a file it refused: a refusal
names the path and the kind of file, not the link's target or the file's bytes.

Every built-in source uses these functions and a source plugin should too::

    from digestfeed.sources.files import list_source_files, read_source_file

    listing = list_source_files(directory, "*.md", recursive=True)
    for path in listing.files:
        data = read_source_file(path, config.max_file_bytes)

``list_source_files`` follows only the folder it is given (the configuration names it);
below it, symbolic links (to files or folders) and special files are *refused*, listed in
:attr:`Listing.refused`: a source decides whether that is an error (the digest source) or
a warning. ``read_source_file`` opens with ``O_NOFOLLOW`` and checks the open file itself,
so a file swapped for a link or a FIFO between listing and reading is refused as well.
"""

from __future__ import annotations

import dataclasses
import errno
import fnmatch
import os
import stat
import tempfile
from pathlib import Path

from ..errors import ParseError, RefusedFileError

#: Default cap on one source file, in bytes (the ``max_file_bytes`` config key).
DEFAULT_MAX_FILE_BYTES = 1024 * 1024

_CHUNK = 64 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class Refused:
    """A path under a source folder that is not read, and why (``a symbolic link``, …)."""

    path: Path
    reason: str

    def error(self) -> RefusedFileError:
        return RefusedFileError(str(self.path), None, f"refused: {self.reason}")


@dataclasses.dataclass(frozen=True, slots=True)
class Listing:
    """The regular files of a source folder that match, sorted, and what was refused."""

    files: tuple[Path, ...]
    refused: tuple[Refused, ...]


def file_kind(mode: int) -> str | None:
    """``None`` for a regular file; else what the file is, for a message."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link (only regular files are read)"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (only regular files are read)"
    if stat.S_ISSOCK(mode):
        return "a socket (only regular files are read)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device (only regular files are read)"
    return "not a regular file"


def list_source_files(
    directory: str | Path,
    pattern: str,
    *,
    recursive: bool = False,
    hidden: bool = False,
) -> Listing:
    """The regular files of ``directory`` whose name matches ``pattern`` (``fnmatch``,
    case-sensitive), sorted by path.

    Entries are examined with ``lstat``: a matching name that is a symbolic link, device,
    FIFO or socket is refused; with ``recursive``, sub-folders are walked but a symbolic
    link to a folder is refused (never entered). Names starting with ``.`` are skipped
    (files and folders) unless ``hidden``. Raises :class:`ParseError` when ``directory``
    is not a directory.
    """
    top = Path(directory)
    if not top.is_dir():
        raise ParseError(str(top), None, "not a directory")
    files: list[Path] = []
    refused: list[Refused] = []
    pending = [top]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as it:
                items = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            refused.append(Refused(folder, f"cannot list: {exc.strerror or 'error'}"))
            continue
        for item in items:
            if item.name.startswith(".") and not hidden:
                continue
            path = Path(item.path)
            try:
                mode = item.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                refused.append(Refused(path, f"cannot read: {exc.strerror or 'error'}"))
                continue
            if stat.S_ISDIR(mode):
                if recursive:
                    pending.append(path)
                continue
            if recursive and stat.S_ISLNK(mode) and _points_to_dir(path):
                refused.append(Refused(path, "a symbolic link to a folder (never entered)"))
                continue
            if not fnmatch.fnmatchcase(item.name, pattern):
                continue
            kind = file_kind(mode)
            if kind is None:
                files.append(path)
            else:
                refused.append(Refused(path, kind))
    return Listing(tuple(sorted(files)), tuple(sorted(refused, key=lambda r: r.path)))


def _points_to_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def read_source_file(path: str | Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file ``path``, at most ``max_bytes`` of them.

    Opens without following a symbolic link (``O_NOFOLLOW``) and without blocking on a
    FIFO, then checks the open file: anything but a regular file, or a file longer than
    ``max_bytes``, is a :class:`RefusedFileError` naming the path (nothing of the file is
    in the message). Reads at most ``max_bytes + 1`` bytes whatever the file claims to be.
    """
    name = str(path)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(name, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RefusedFileError(name, None, f"refused: {file_kind(stat.S_IFLNK)}") from None
        raise ParseError(name, None, f"cannot read: {exc.strerror or 'error'}") from None
    try:
        mode = os.fstat(fd).st_mode
        kind = file_kind(mode)
        if kind is not None:
            raise RefusedFileError(name, None, f"refused: {kind}")
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise RefusedFileError(
                name,
                None,
                f"refused: larger than {max_bytes} bytes (config key 'max_file_bytes')",
            )
        return b"".join(chunks)
    except OSError as exc:
        raise ParseError(name, None, f"cannot read: {exc.strerror or 'error'}") from None
    finally:
        os.close(fd)


def stage_beside(path: Path, data: bytes, prefix: str) -> Path:
    """A temporary file beside ``path`` holding ``data`` (to ``os.replace`` onto ``path``),
    with an ordinary file's mode (``0o666`` less the umask; ``mkstemp`` alone makes 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)
