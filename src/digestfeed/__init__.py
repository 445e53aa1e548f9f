"""digestfeed: dated research-paper digests → Atom/RSS/JSON feeds, and a deduplicating reader."""

from __future__ import annotations

from .config import Config, load_config
from .errors import (
    BuildError,
    ConfigError,
    DigestfeedError,
    LedgerError,
    LockError,
    ParseError,
    ParseErrors,
    PingError,
    PluginError,
    ReadError,
)
from .model import Entry
from .sources.digest import Digest, parse_digest

__all__ = [
    "BuildError",
    "Config",
    "ConfigError",
    "Digest",
    "DigestfeedError",
    "Entry",
    "LedgerError",
    "LockError",
    "ParseError",
    "ParseErrors",
    "PingError",
    "PluginError",
    "ReadError",
    "load_config",
    "parse_digest",
]
