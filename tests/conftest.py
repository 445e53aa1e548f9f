"""Shared fixtures: the project's paths, the seed digest and the shared corpus (skipped when absent)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def project_root() -> Path:
    return PROJECT


@pytest.fixture
def seed_path() -> Path:
    """The seed digest as committed in entries/ (a copy of ../shared/seed/2025-05-08.txt)."""
    return PROJECT / "entries" / "2025-05-08.txt"


@pytest.fixture
def project(tmp_path: Path, seed_path: Path) -> Path:
    """A working directory (the test's own) with entries/ holding the seed digest and a config
    with a local cache."""
    (tmp_path / "entries").mkdir()
    shutil.copy(seed_path, tmp_path / "entries" / seed_path.name)
    (tmp_path / "digestfeed.toml").write_text('cache_dir = ".cache"\n', encoding="utf-8")
    return tmp_path


@pytest.fixture
def corpus_dir() -> Path:
    """The 945 real vault notes; the test is skipped on a clone without ../shared."""
    path = SHARED / "corpus" / "notes-2024"
    if not path.is_dir():
        pytest.skip("../shared/corpus/notes-2024 is absent (fresh clone)")
    return path


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite tests/data/golden from the current output.",
    )


@pytest.fixture(autouse=True)
def _run_in_tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs from its own directory: nothing (a build cache, a state file) lands in the repo."""
    monkeypatch.chdir(tmp_path)
