"""digestfeed: dated research-paper digests → Atom/RSS/JSON feeds, and a deduplicating feed reader."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:  # pragma: no cover
    from .config import Config, load_config
    from .model import Entry
    from .pipeline import BuildResult, build, check
    from .sources.digest import Digest, parse_digest

#: Public names imported on first use (PEP 562), so that ``digestfeed read`` does not pay
#: for the digest parser and its dependencies at start-up.
_LAZY = {
    "Config": "config",
    "load_config": "config",
    "Entry": "model",
    "Digest": "sources.digest",
    "parse_digest": "sources.digest",
    # the build as a library call
    "build": "pipeline",
    "check": "pipeline",
    "BuildResult": "pipeline",
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
    "build",
    "check",
    "load_config",
    "parse_digest",
]
