"""digestfeed: dated research-paper digests → Atom/RSS/JSON feeds, and a deduplicating feed reader."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    BuildError,
    CacheError,
    ConfigError,
    DigestfeedError,
    LedgerError,
    LockError,
    ParseError,
    ParseErrors,
    PingError,
    PluginError,
    ReadError,
    RefusedFileError,
)

if TYPE_CHECKING:  # pragma: no cover
    from .config import Config, load_config
    from .importer import import_feed
    from .pipeline import BuildResult, build, check
    from .sources.digest import parse_digest
    from .sources.files import Listing, list_source_files, read_source_file
    from .types import (
        BuildWarning,
        Digest,
        Document,
        Entry,
        FeedSet,
        FileSpec,
        LazyOutput,
        Output,
        Source,
        Timed,
    )

#: Public names imported on first use (PEP 562), so that ``digestfeed read`` does not pay
#: for the digest parser and its dependencies at start-up.
_LAZY = {
    "Config": "config",
    "load_config": "config",
    "parse_digest": "sources.digest",
    "import_feed": "importer",
    # regular files only, size-capped: how every source lists and reads its files
    "Listing": "sources.files",
    "list_source_files": "sources.files",
    "read_source_file": "sources.files",
    # the build as a library call
    "build": "pipeline",
    "check": "pipeline",
    "BuildResult": "pipeline",
    # the data types of plugins (digestfeed.types imports nothing heavy)
    "BuildWarning": "types",
    "Digest": "types",
    "Document": "types",
    "Entry": "types",
    "FeedSet": "types",
    "FileSpec": "types",
    "LazyOutput": "types",
    "Output": "types",
    "Source": "types",
    "Timed": "types",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'digestfeed' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "BuildError",
    "BuildResult",
    "BuildWarning",
    "CacheError",
    "Config",
    "ConfigError",
    "Digest",
    "DigestfeedError",
    "Document",
    "Entry",
    "FeedSet",
    "FileSpec",
    "LazyOutput",
    "LedgerError",
    "Listing",
    "LockError",
    "Output",
    "ParseError",
    "ParseErrors",
    "PingError",
    "PluginError",
    "ReadError",
    "RefusedFileError",
    "Source",
    "Timed",
    "build",
    "check",
    "import_feed",
    "list_source_files",
    "load_config",
    "parse_digest",
    "read_source_file",
]
