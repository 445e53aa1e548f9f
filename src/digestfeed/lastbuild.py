"""``<cache_dir>/last-build.json``: what the last build changed, kept for ``digestfeed ping``.

The build writes it (:func:`record`); WebSub publishing reads it (:meth:`LastBuild.load`)
and keeps in ``pending`` the files a failed ping could not announce.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Iterable
from pathlib import Path

from .cache import ensure_cache_dir
from .config import Config
from .errors import PingError

LAST_BUILD = "last-build.json"


def last_build_path(config: Config) -> Path:
    return Path(config.cache_dir) / LAST_BUILD


def record(config: Config, out_dir: Path, changed: Iterable[str], removed: Iterable[str]) -> Path:
    """Write ``<cache_dir>/last-build.json`` for a build of ``out_dir``.

    ``changed``/``removed`` are this build's; ``pending`` adds the files changed by
    earlier builds of the same directory that ``ping`` has not yet announced.
    """
    changed, removed = sorted(changed), sorted(removed)
    path = last_build_path(config)
    ensure_cache_dir(path.parent)
    out = str(Path(out_dir).resolve())
    pending: set[str] = set()
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
        previous = json.loads(path.read_text(encoding="utf-8"))
        if previous.get("out") == out:
            pending.update(str(p) for p in previous.get("pending", ()))
    pending = (pending | set(changed)) - set(removed)
    data = {"out": out, "changed": changed, "removed": removed, "pending": sorted(pending)}
    write_json(path, data)
    return path


def write_json(path: Path, data: object) -> None:
    """Write ``data`` as indented JSON, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


@dataclasses.dataclass(frozen=True)
class LastBuild:
    """What ``<cache_dir>/last-build.json`` says (see :func:`record`)."""

    path: Path
    out: Path
    changed: tuple[str, ...]
    pending: tuple[str, ...]  #: changed since the last successful ping

    @classmethod
    def load(cls, config: Config) -> LastBuild | None:
        """The record of the last build, or ``None`` when no build was recorded."""
        path = last_build_path(config)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                path,
                Path(data["out"]),
                tuple(data.get("changed", ())),
                tuple(data.get("pending", data.get("changed", ()))),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise PingError(
                f"{path}: unreadable record of the last build ({exc}); run 'digestfeed build'"
            ) from None

    def save_pending(self, pending: Iterable[str]) -> None:
        data = json.loads(self.path.read_text(encoding="utf-8"))
        data["pending"] = sorted(pending)
        write_json(self.path, data)
