"""The no-change shortcut: a rebuild with nothing changed does no work, and anything that
changed (a digest, an output file, an extra file, the code) takes the full path."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import digestfeed.cache
import digestfeed.sources.digest
from digestfeed.cli import main


@pytest.fixture
def built_seed_site(tmp_path: Path, seed_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project dir with the seed built once (cache on)."""
    (tmp_path / "entries").mkdir()
    shutil.copy(seed_path, tmp_path / "entries" / seed_path.name)
    (tmp_path / "digestfeed.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    assert build().exit_code == 0
    return tmp_path


def build(*args: str) -> object:
    return CliRunner().invoke(main, ["build", "--now", "2026-01-01T00:00:00+09:00", *args])


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = digestfeed.sources.digest.read_digest_dir

    def counting(directory, config, cache=None):  # type: ignore[no-untyped-def]
        calls.append(str(directory))
        return real(directory, config, cache)

    monkeypatch.setattr(digestfeed.sources.digest, "read_digest_dir", counting)
    return calls


def test_no_change_rebuild_reads_no_source(built_seed_site: Path, parses: list[str]) -> None:
    """With nothing changed the rebuild reports 0 changed without reading any digest."""
    result = build()
    assert result.exit_code == 0 and "0 changed" in result.output  # type: ignore[attr-defined]
    assert parses == []


def test_touched_digest_keeps_the_shortcut(built_seed_site: Path, parses: list[str]) -> None:
    """A digest whose mtime changed but whose bytes did not is not read again."""
    digest = next((built_seed_site / "entries").glob("*.txt"))
    os.utime(digest, ns=(digest.stat().st_atime_ns, digest.stat().st_mtime_ns + 10**9))
    result = build()
    assert parses == [] and "0 changed" in result.output  # type: ignore[attr-defined]


def test_edited_digest_takes_the_full_path(built_seed_site: Path, parses: list[str]) -> None:
    """A digest whose bytes changed (same size, same mtime) is read and published again."""
    digest = next((built_seed_site / "entries").glob("*.txt"))
    st = digest.stat()
    text = digest.read_text(encoding="utf-8")
    digest.write_text(text.replace("ZeroSearch", "ZeroSearcH", 1), encoding="utf-8")
    os.utime(digest, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert digest.stat().st_size == st.st_size
    result = build()
    assert parses and "ZeroSearcH" in (built_seed_site / "feeds" / "all.atom").read_text()
    assert ": 0 changed" not in result.output  # type: ignore[attr-defined]


def test_edited_output_is_restored(built_seed_site: Path, parses: list[str]) -> None:
    """A hand-edited feed file is noticed and rewritten with what the entries give."""
    feed = built_seed_site / "feeds" / "all.atom"
    good = feed.read_bytes()
    feed.write_bytes(good.replace(b"ZeroSearch", b"ZeroSearcH"))
    result = build()
    assert parses and "wrote all.atom" in result.output  # type: ignore[attr-defined]
    assert feed.read_bytes() == good


def test_extra_output_is_removed(built_seed_site: Path) -> None:
    """A stray .atom under feeds/ defeats the shortcut and the build removes it."""
    stray = built_seed_site / "feeds" / "tags" / "stray.atom"
    stray.write_text("<feed/>")
    result = build()
    assert "removed tags/stray.atom" in result.output  # type: ignore[attr-defined]
    assert not stray.exists()


def test_other_code_invalidates_the_cache(
    built_seed_site: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A different digestfeed (code stamp) never trusts the last build's records."""
    monkeypatch.setattr(digestfeed.cache, "code_stamp", lambda: "another version")
    monkeypatch.setattr("digestfeed.uptodate.code_stamp", lambda: "another version")
    result = build()
    assert parses and "0 changed" in result.output  # type: ignore[attr-defined]


def test_malformed_snapshot_takes_the_full_path(built_seed_site: Path, parses: list[str]) -> None:
    """A snapshot whose key matches but whose other fields are malformed is not used: the build reads the digests again."""
    import json

    path = built_seed_site / ".digestfeed-cache" / "last-state.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["warnings"] = [7]
    path.write_text(json.dumps(data), encoding="utf-8")
    result = build()
    assert result.exit_code == 0 and parses  # type: ignore[attr-defined]
