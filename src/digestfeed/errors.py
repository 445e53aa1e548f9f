"""The exception tree: one root, domain branches that also inherit the built-in they resemble."""

from __future__ import annotations


class DigestfeedError(Exception):
    """Root of every error digestfeed raises on purpose."""


class ConfigError(DigestfeedError, ValueError):
    """The configuration is invalid; the message names the key."""

    def __init__(self, key: str, message: str, path: str | None = None) -> None:
        self.key = key
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(f"{where}config key {key!r}: {message}")


class ParseError(DigestfeedError, ValueError):
    """A source file cannot be parsed; carries ``path`` and 1-based ``line``."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.reason = message
        loc = f"{path}:{line}" if line else path
        super().__init__(f"{loc}: {message}")

    @classmethod
    def at(cls, where: str, message: str) -> ParseError:
        """The error at ``where``, an entry's ``source`` or a warning's place: ``path:line``
        or a bare ``path``."""
        path, _, line = where.rpartition(":")
        if path and line.isdigit():
            return cls(path, int(line), message)
        return cls(where, None, message)


class RefusedFileError(ParseError):
    """A source file that is not a regular file (a symbolic link, device, FIFO, socket) or is
    larger than its cap; the message names the path and why, never the file's content."""


class ParseErrors(DigestfeedError, ValueError):
    """Several files failed to parse; ``errors`` holds each :class:`ParseError`."""

    def __init__(self, errors: list[ParseError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class LedgerError(DigestfeedError, ValueError):
    """The ledger file is corrupt or inconsistent (never silently reset)."""


class BuildError(DigestfeedError, RuntimeError):
    """The build could not render or publish the feeds."""


class LockError(BuildError):
    """Another build holds the lock on the output directory."""


class CacheError(BuildError):
    """The build cache directory is refused (tracked by git, or inside a folder the build
    reads or writes); nothing was read from it."""


class PluginError(DigestfeedError, LookupError):
    """A source or output plugin is unknown or failed to load."""


class ReadError(DigestfeedError, OSError):
    """A feed source could not be fetched or parsed by the feed reader (``digestfeed read``)."""


class PingError(DigestfeedError, OSError):
    """The WebSub hub could not be notified."""
