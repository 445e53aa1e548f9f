"""The build cache holds plain data keyed by content: a planted pickle never runs, a reinstall
of the same code keeps it, a tracked or misplaced cache folder is refused, ``check`` ignores it."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import digestfeed.cache
import digestfeed.sources.digest
from digestfeed.cache import CACHE_FILE, Cache, code_stamp
from digestfeed.cli import main

NOW = "2026-01-01T00:00:00+09:00"


class _Planted:
    """Unpickling this creates the file ``marker`` (what a planted cache could do)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (Path.touch, (self.marker,))


@pytest.fixture
def site(tmp_path: Path, seed_path: Path) -> Path:
    """A project dir with the seed digest and an empty config (cwd is tmp_path)."""
    (tmp_path / "entries").mkdir()
    shutil.copy(seed_path, tmp_path / "entries" / seed_path.name)
    (tmp_path / "digestfeed.toml").write_text("")
    return tmp_path


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the digests parsed (not taken from the cache) during the test."""
    calls: list[str] = []
    real = digestfeed.sources.digest.parse_bytes

    def counting(data, path, config):  # type: ignore[no-untyped-def]
        calls.append(Path(path).name)
        return real(data, path, config)

    monkeypatch.setattr(digestfeed.sources.digest, "parse_bytes", counting)
    return calls


def build(*args: str) -> object:
    return CliRunner().invoke(main, ["build", "--now", NOW, *args])


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_planted_pickles_are_never_loaded(site: Path) -> None:
    """Pickles planted where older versions kept the cache are never unpickled (no code runs)."""
    marker = site / "pwned"
    cache_dir = site / ".digestfeed-cache"
    cache_dir.mkdir()
    for name in ("build.pickle", "last-state.pickle", "build.sqlite.pickle"):
        (cache_dir / name).write_bytes(pickle.dumps(_Planted(marker)))
    for _ in range(2):  # a cold build, then one that uses the cache and the snapshot
        result = build()
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert not marker.exists()
    assert (site / "feeds" / "all.atom").is_file()


def test_cache_is_plain_data(site: Path) -> None:
    """The cache folder holds SQLite rows of JSON text and a JSON snapshot, nothing else."""
    assert build().exit_code == 0  # type: ignore[attr-defined]
    cache_dir = site / ".digestfeed-cache"
    db = sqlite3.connect(cache_dir / CACHE_FILE)
    (digest,) = [row[0] for row in db.execute("SELECT digest FROM parsed")]
    db.close()
    assert json.loads(digest)[1] == "2025-05-08"
    assert json.loads((cache_dir / "last-state.json").read_text())["version"] >= 1
    assert sorted(p.name for p in cache_dir.iterdir()) == [
        ".gitignore",
        CACHE_FILE,
        "last-build.json",
        "last-state.json",
    ]


def test_unreadable_cache_file_is_a_cold_cache(site: Path) -> None:
    """A cache file that is not a database (torn, planted) is replaced; the build succeeds."""
    cache_dir = site / ".digestfeed-cache"
    cache_dir.mkdir()
    (cache_dir / CACHE_FILE).write_bytes(b"not a database" * 100)
    result = build()
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert (site / "feeds" / "all.atom").is_file()
    db = sqlite3.connect(cache_dir / CACHE_FILE)
    assert db.execute("SELECT count(*) FROM parsed").fetchone() == (1,)
    db.close()


def test_reinstalled_code_keeps_the_cache(
    site: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The same code installed again (every file a new mtime) keeps the cache; an edit drops it."""
    assert build().exit_code == 0  # type: ignore[attr-defined]
    assert parses == ["2025-05-08.txt"]
    package = Path(digestfeed.cache.__file__).parent
    copy = tmp_path / "reinstalled" / "digestfeed"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for path in copy.rglob("*"):
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # pip gives other times
    before = code_stamp()
    monkeypatch.setattr(digestfeed.cache, "__file__", str(copy / "cache.py"))
    code_stamp.cache_clear()
    try:
        assert code_stamp() == before
        (site / "feeds" / "all.atom").unlink()  # defeat the no-change shortcut
        parses.clear()
        assert build().exit_code == 0  # type: ignore[attr-defined]
        assert parses == []  # the parse cache still held
        with (copy / "render" / "atom.py").open("a") as fh:
            fh.write("\n# edited\n")
        code_stamp.cache_clear()
        assert code_stamp() != before
        (site / "feeds" / "all.atom").unlink()
        assert build().exit_code == 0  # type: ignore[attr-defined]
        assert parses == ["2025-05-08.txt"]  # other code: nothing of the cache is used
    finally:
        code_stamp.cache_clear()


def test_content_keys_the_parse_cache(site: Path, parses: list[str]) -> None:
    """A digest edited to the same size and mtime is parsed again (the key is its bytes)."""
    assert build().exit_code == 0  # type: ignore[attr-defined]
    digest = site / "entries" / "2025-05-08.txt"
    st = digest.stat()
    text = digest.read_text(encoding="utf-8")
    digest.write_text(text.replace("ZeroSearch", "ZeroSearcH", 1), encoding="utf-8")
    os.utime(digest, ns=(st.st_atime_ns, st.st_mtime_ns))
    parses.clear()
    assert build().exit_code == 0  # type: ignore[attr-defined]
    assert parses == ["2025-05-08.txt"]
    assert "ZeroSearcH" in (site / "feeds" / "all.atom").read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_tracked_cache_folder_is_refused(site: Path, parses: list[str]) -> None:
    """A cache folder with a file committed to git is refused with a clear error, unread."""
    assert build().exit_code == 0  # type: ignore[attr-defined]
    _git(site, "init", "-q")
    _git(site, "add", "-f", ".digestfeed-cache/build.sqlite")
    _git(site, "commit", "-q", "-m", "cache")
    (site / "feeds" / "all.atom").unlink()
    parses.clear()
    result = build()
    assert result.exit_code != 0
    output = result.output  # type: ignore[attr-defined]
    assert "tracked by git" in output and ".digestfeed-cache" in output
    assert "Traceback" not in output and parses == []
    assert not (site / "feeds" / "all.atom").exists()
    assert build("--no-cache").exit_code == 0  # type: ignore[attr-defined]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_ignored_cache_folder_in_a_repository_is_used(site: Path, parses: list[str]) -> None:
    """In a git repository the default, untracked cache folder works as usual."""
    _git(site, "init", "-q")
    _git(site, "add", "entries", "digestfeed.toml")
    _git(site, "commit", "-q", "-m", "digests")
    assert build().exit_code == 0  # type: ignore[attr-defined]
    (site / "feeds" / "all.atom").unlink()
    parses.clear()
    assert build().exit_code == 0  # type: ignore[attr-defined]
    assert parses == []


@pytest.mark.parametrize("cache_dir", ["entries/.cache", "feeds/cache", "."])
def test_cache_inside_or_around_a_build_folder_is_refused(site: Path, cache_dir: str) -> None:
    """A cache_dir inside the digests or the output folder, or containing them, is refused."""
    (site / "digestfeed.toml").write_text(f'cache_dir = "{cache_dir}"\n')
    result = build()
    assert result.exit_code != 0
    output = result.output  # type: ignore[attr-defined]
    assert "build cache" in output and "Traceback" not in output
    assert not (site / "feeds" / "all.atom").exists()
    assert not (site / ".gitignore").exists()


def test_check_never_trusts_the_cache(site: Path) -> None:
    """A cache that lies about a digest's parse changes the build's output, never check's verdict."""
    assert build().exit_code == 0  # type: ignore[attr-defined]
    db = sqlite3.connect(site / ".digestfeed-cache" / CACHE_FILE)
    (digest,) = [row[0] for row in db.execute("SELECT digest FROM parsed")]
    db.execute("UPDATE parsed SET digest = ?", (digest.replace("ZeroSearch", "Poisoned"),))
    db.commit()
    db.close()
    check = CliRunner().invoke(main, ["check", "--allow-placeholder", "--now", NOW])
    assert check.exit_code == 0, check.output
    (site / "feeds" / "all.atom").unlink()
    assert build().exit_code == 0  # type: ignore[attr-defined]
    assert "Poisoned" in (site / "feeds" / "all.atom").read_text(encoding="utf-8")
    check = CliRunner().invoke(main, ["check", "--allow-placeholder", "--now", NOW])
    assert check.exit_code != 0 and "all.atom" in check.output


def test_memory_only_cache_remembers_nothing(tmp_path: Path) -> None:
    """A Cache without a folder answers every lookup with a miss and writes nothing."""
    cache = Cache(None)
    cache.put_written("/out", "all.atom", ("fp", (1, 2), "sha"))
    cache.save(prune_parsed=True)
    assert cache.parsed("x.txt", "salt", "sha") is None
    assert list(tmp_path.iterdir()) == []


def test_inputs_are_rehashed_only_when_their_stat_changes(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unchanged digest is not read again; one rewritten (a checkout) is hashed, not parsed."""
    assert build().exit_code == 0  # type: ignore[attr-defined]
    hashed: list[str] = []
    real = digestfeed.cache._hash_regular_file

    def counting(path: str, max_bytes: int) -> str | None:
        hashed.append(Path(path).name)
        return real(path, max_bytes)

    monkeypatch.setattr(digestfeed.cache, "_hash_regular_file", counting)
    (site / "feeds" / "all.atom").unlink()  # defeat the no-change shortcut
    assert build().exit_code == 0  # type: ignore[attr-defined]
    assert "2025-05-08.txt" not in hashed
    digest = site / "entries" / "2025-05-08.txt"
    data = digest.read_bytes()
    digest.unlink()
    digest.write_bytes(data)  # what a fresh checkout does: same bytes, a new file
    (site / "feeds" / "all.atom").unlink()
    assert build().exit_code == 0  # type: ignore[attr-defined]
    assert hashed.count("2025-05-08.txt") == 1


def test_cached_digest_equals_the_parsed_one(tmp_path: Path, seed_path: Path) -> None:
    """A digest read back from the cache equals the parsed one: fields, warnings with their kinds (one object shared by entry and digest), content hashes."""
    import dataclasses

    from digestfeed.ledger import hash_key
    from digestfeed.sources.digest import parse_digest
    from digestfeed.types import BuildWarning

    parsed = parse_digest(seed_path)
    shared = BuildWarning("no English comment", f"{parsed.path}:2", "entry has no English comment")
    info = BuildWarning("no abstract", f"{parsed.path}:9", "no abstract", "info")
    first = dataclasses.replace(parsed.entries[0], warnings=(shared, info))
    digest = dataclasses.replace(
        parsed,
        entries=(first, *parsed.entries[1:]),
        warnings=("a plain warning", shared, info),
        plugin="digest",
    )
    writer = Cache(tmp_path)
    writer.put_parsed("d.txt", "salt", "sha", digest)
    writer.save()
    reader = Cache(tmp_path)
    assert reader.parsed("d.txt", "other salt", "sha") is None
    back = reader.parsed("d.txt", "salt", "sha")
    assert back == digest
    assert [type(w) for w in back.warnings] == [str, BuildWarning, BuildWarning]
    assert [repr(w) for w in back.warnings] == [repr(w) for w in digest.warnings]
    assert back.entries[0].warnings[0] is back.warnings[1]
    assert reader.hashes == {hash_key(e): e.content_hash() for e in digest.entries}


def test_found_sha256_is_this_runs_hash(tmp_path: Path) -> None:
    """found_sha256 gives the hash this run already found for a file (the no-change key's), file_sha256 looks again."""
    import hashlib

    digest = tmp_path / "2025-05-08.txt"
    digest.write_bytes(b"first")
    cache = Cache(tmp_path / "cache")
    first = hashlib.sha256(b"first").hexdigest()
    assert cache.found_sha256(digest, 100) == first  # not seen yet: hashed now
    digest.write_bytes(b"second, longer")
    assert cache.found_sha256(digest, 100) == first
    second = hashlib.sha256(b"second, longer").hexdigest()
    assert cache.found_sha256(digest, 1000) == second  # another cap: hashed now
    assert cache.file_sha256(digest, 100) == second
    assert cache.found_sha256(digest, 100) == second
