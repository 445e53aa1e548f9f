"""Test helpers that build a site: digests (the seed, or synthetic ones) → feeds/ in a tmp dir."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import digestfeed

NOW = "2026-01-01T12:00:00+09:00"
#: Months of the synthetic archive; with max_entries 4 most feeds get archives.
MONTHS = ("2025-01", "2025-02", "2025-03", "2025-04")
TAGS = ("rl", "llm", "Object_Detection", "moe", "vision")
SMALL = "max_entries = 4\narchive_page_size = 4\n"


def build_site(
    tmp: Path,
    digests: dict[str, str] | None = None,
    seed: Path | None = None,
    config: str = "",
    now: str = NOW,
) -> Path:
    """Build ``digests`` (name → text) and/or the seed in ``tmp`` with an explicit config; return feeds/."""
    entries = tmp / "entries"
    entries.mkdir(parents=True, exist_ok=True)
    if seed is not None:
        shutil.copy(seed, entries / seed.name)
    for name, text in (digests or {}).items():
        (entries / name).write_text(text, encoding="utf-8")
    # the cache goes with the site, never into the directory pytest runs from
    cache = (
        f'cache_dir = "{(tmp / ".digestfeed-cache").as_posix()}"\n'
        if "cache_dir" not in config
        else ""
    )
    (tmp / "digestfeed.toml").write_text(config + cache, encoding="utf-8")
    digestfeed.build(
        entries,
        tmp / "feeds",
        config=digestfeed.load_config(tmp / "digestfeed.toml"),
        now=dt.datetime.fromisoformat(now),
        cache=False,
    )
    return tmp / "feeds"


def digest_text(date: str, count: int, salt: int = 0) -> str:
    """One synthetic digest of ``count`` entries: markup-like characters, URLs, Korean and English."""
    lines = [date]
    day = int(date[-2:])
    for i in range(count):
        n = day + i + salt
        tags = [TAGS[n % len(TAGS)], TAGS[(n + 2) % len(TAGS)]]
        if date == "2025-02-12" and i == 0:
            tags.append("rare")  # one entry: a feed that fits (fh:complete)
        lines += [
            f"Paper {date} #{i + 1}: <Scaling> & “quotes” {salt or ''}".rstrip(),
            f"(Ada Lovelace, Alan Turing (Bletchley, UK), 홍길동 {i})",
            f"We study {n} things & <tags>. Code: https://example.org/{date}/{i}?a=1&b=2.",
            f"{date}의 {i + 1}번째 논문 — “인용” & <꺾쇠> 코멘트.",
            f"Comment {i + 1} on {date} — a < b & c.",
            " ".join(f"#{t}" for t in tags),
        ]
    return "\n".join(lines) + "\n"


def synthetic_digests() -> dict[str, str]:
    """Three digests a month over :data:`MONTHS`, two entries each (24 entries)."""
    return {f"{m}-{d:02d}.txt": digest_text(f"{m}-{d:02d}", 2) for m in MONTHS for d in (3, 12, 24)}
