"""``digestfeed.toml`` (or ``[tool.digestfeed]`` in ``pyproject.toml``) → a frozen :class:`Config`.

Every key has a default so that digestfeed runs out of the box; an invalid value is a
:class:`~digestfeed.errors.ConfigError` that names the key.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .urls import DEFAULT_DIGEST_URL_PATTERN, entry_anchor, expand, is_absolute_http, pattern_error

if TYPE_CHECKING:  # pragma: no cover
    from .types import Entry

CONFIG_FILE = "digestfeed.toml"


@dataclasses.dataclass(frozen=True)
class Config:
    """Site-wide settings. Field names are the config keys."""

    site_title: str = "arXiv today — paper digest"
    site_url: str = "https://digestfeed.example.org/"
    feed_base_url: str = "https://digestfeed.example.org/feeds/"
    curator: str = "digestfeed curator"
    curator_uri: str = ""
    #: RFC 4151 tagging entity: ``authority`` and ``date`` in ``tag:authority,date:…``.
    tag_authority: str = "digestfeed.example.org"
    tag_date: str = "2025"
    timezone: str = "Asia/Seoul"
    #: The page an entry's main link points at: named placeholders only (see
    #: :mod:`digestfeed.urls`); the default is the digest page the build writes.
    digest_url_pattern: str = DEFAULT_DIGEST_URL_PATTERN
    #: Hour of the digest date (in ``timezone``) given to its first entry.
    publish_hour: int = 9
    #: Newest entries per subscription feed; older ones go to RFC 5005 archives.
    max_entries: int = 50
    #: Entries per RFC 5005 archive page (``archive/<feed>/<n>.atom``), in first-publication
    #: order; a page is written once, when full. 100 keeps a ten-year site (~11,500 entries,
    #: ~150 tags) near 2,100 feed documents in all.
    archive_page_size: int = 100
    #: ``alias → canonical`` tag merges, applied after normalisation.
    tag_aliases: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: WebSub hub URL; empty for none.
    hub: str = ""
    #: Which source plugin reads which directory (``{"entries": "digest"}``).
    sources: Mapping[str, str] = dataclasses.field(default_factory=lambda: {"entries": "digest"})
    #: Output plugins to run; empty means every installed one.
    outputs: tuple[str, ...] = ()
    #: Days added to a vault note's day to give its digest date.
    vault_date_offset: int = 1
    #: Vault folders (relative to the vault) holding templates, never read as notes; the
    #: folder named in Obsidian's own template settings is skipped as well.
    vault_template_folders: tuple[str, ...] = ()
    #: Where the parse/render cache lives, relative to the project root.
    cache_dir: str = ".digestfeed-cache"
    # Caps on what a source may hold (a merged digest is untrusted input). Exceeding one is
    # an error naming ``path:line``, and nothing is published; the site size is a warning.
    #: Distinct tags of one entry.
    max_tags_per_entry: int = 20
    #: Distinct tags of one digest (each new tag adds a dozen files to the site).
    max_tags_per_digest: int = 100
    #: Entries of one digest (one file, or one vault day).
    max_entries_per_digest: int = 200
    #: Bytes of one source file (a digest, a note).
    max_file_bytes: int = 1024 * 1024
    #: Characters of one link in an entry.
    max_link_length: int = 2048
    #: Characters of one tag slug.
    max_tag_length: int = 64
    #: Bytes of the written site above which the build warns.
    warn_site_bytes: int = 1_000_000_000

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def author(self) -> dict[str, str]:
        """The curator as a feedgen/Atom author: ``name`` and, when set, ``uri``."""
        return {"name": self.curator, **({"uri": self.curator_uri} if self.curator_uri else {})}

    def feed_url(self, relpath: str) -> str:
        """Absolute URL at which the file ``relpath`` under ``feeds/`` is served."""
        return self.feed_base_url + relpath

    def digest_url(self, date: str, anchor: str = "") -> str:
        """``digest_url_pattern`` for one digest date (and entry anchor)."""
        return expand(self.digest_url_pattern, self.site_url, self.feed_base_url, date, anchor)

    def entry_url(self, entry: Entry) -> str:
        """An entry's main link: its place on its digest's page."""
        return self.digest_url(entry.date, entry_anchor(entry.id))

    def tag_url(self, slug: str) -> str:
        """The page of one tag (the ``scheme`` of Atom categories)."""
        return self.feed_url(f"tags/{slug}.html")

    def replace(self, **changes: Any) -> Config:
        return validate({**_as_dict(self), **changes})


def _as_dict(config: Config) -> dict[str, Any]:
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}


_FIELDS = {f.name: f for f in dataclasses.fields(Config)}
_CAPS = (
    "max_tags_per_entry",
    "max_tags_per_digest",
    "max_entries_per_digest",
    "max_file_bytes",
    "max_link_length",
    "max_tag_length",
    "warn_site_bytes",
)
_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


def validate(raw: Mapping[str, Any], path: str | None = None) -> Config:
    """Check every key and type of ``raw``; return the frozen :class:`Config`."""
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _FIELDS:
            known = ", ".join(sorted(_FIELDS))
            raise ConfigError(key, f"unknown key (known keys: {known})", path)
        values[key] = _check(key, value, path)
    config = Config(**values)
    for key in ("site_url", "feed_base_url"):
        url = getattr(config, key)
        if not _URL.match(url) or not url.endswith("/"):
            raise ConfigError(
                key, f"must be an absolute http(s) URL ending in '/', got {url!r}", path
            )
    if config.hub and not _URL.match(config.hub):
        raise ConfigError("hub", f"must be an absolute http(s) URL, got {config.hub!r}", path)
    if not re.fullmatch(r"[A-Za-z0-9.-]+(@[A-Za-z0-9.-]+)?", config.tag_authority):
        raise ConfigError("tag_authority", "must be a DNS name or e-mail address (RFC 4151)", path)
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", config.tag_date):
        raise ConfigError("tag_date", "must be YYYY, YYYY-MM or YYYY-MM-DD (RFC 4151)", path)
    try:
        zoneinfo.ZoneInfo(config.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError("timezone", f"unknown time zone {config.timezone!r}", path) from None
    if not 0 <= config.publish_hour <= 23:
        raise ConfigError("publish_hour", "must be between 0 and 23", path)
    if config.max_entries < 1:
        raise ConfigError("max_entries", "must be at least 1", path)
    if config.archive_page_size < 1:
        raise ConfigError("archive_page_size", "must be at least 1", path)
    for key in _CAPS:
        if getattr(config, key) < 1:
            raise ConfigError(key, "must be at least 1", path)
    problem = pattern_error(config.digest_url_pattern)
    if problem is None and not is_absolute_http(config.digest_url("2025-01-01", "entry")):
        problem = "must expand to an absolute http(s) URL"
    if problem is not None:
        raise ConfigError(
            "digest_url_pattern", f"{problem}; got {config.digest_url_pattern!r}", path
        )
    return config


def _check(key: str, value: Any, path: str | None) -> Any:
    default = getattr(Config(), key)
    if (isinstance(default, bool) or isinstance(value, bool)) and type(value) is not type(default):
        raise ConfigError(key, f"expected {type(default).__name__}, got {value!r}", path)
    if isinstance(default, int):
        if not isinstance(value, int):
            raise ConfigError(key, f"expected an integer, got {value!r}", path)
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(key, f"expected a string, got {value!r}", path)
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(key, f"expected a list of strings, got {value!r}", path)
        return tuple(value)
    if isinstance(default, Mapping):
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ConfigError(key, f"expected a table of strings, got {value!r}", path)
        return dict(sorted(value.items()))
    raise AssertionError(key)  # pragma: no cover


def load_config(path: str | Path | None = None, root: str | Path = ".") -> Config:
    """Load ``path``, else ``digestfeed.toml`` or ``pyproject.toml`` in ``root``, else defaults."""
    if path is not None:
        return _load_file(Path(path), table=None)
    root = Path(root)
    if (root / CONFIG_FILE).is_file():
        return _load_file(root / CONFIG_FILE, table=None)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        return _load_file(pyproject, table=("tool", "digestfeed"))
    return Config()


def _load_file(path: Path, table: tuple[str, ...] | None) -> Config:
    try:
        data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("-", "config file not found", str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError("-", f"not valid TOML: {exc}", str(path)) from None
    for name in table or ():
        data = data.get(name, {})
        if not isinstance(data, dict):
            raise ConfigError(".".join(table or ()), "must be a table", str(path))
    return validate(data, str(path))
