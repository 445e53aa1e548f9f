"""Building from a source other than digests: the source directory is never written to."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from digestfeed.cli import main

NOTES = Path(__file__).parent / "data" / "notes"


def test_vault_build_leaves_the_vault_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`build --source notes=DIR` writes feeds and its ledger outside DIR and outside the cache."""
    vault = tmp_path / "vault"
    shutil.copytree(NOTES, vault)
    before = sorted(p.name for p in vault.iterdir())
    monkeypatch.chdir(tmp_path)
    (tmp_path / "digestfeed.toml").write_text("")
    result = CliRunner().invoke(
        main, ["build", "--source", f"notes={vault}", "--out", "feeds", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in vault.iterdir()) == before
    ledgers = list((tmp_path / ".digestfeed-ledgers").glob("vault-*.json"))
    assert len(ledgers) == 1 and not list((tmp_path / ".digestfeed-cache").glob("*ledger*"))
    assert (tmp_path / "feeds" / "all.atom").is_file()


def test_unknown_source_plugin_is_a_clean_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown --source NAME names the installed plugins and exits 2 without touching --out."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "digestfeed.toml").write_text("")
    result = CliRunner().invoke(main, ["build", "--source", f"nope={tmp_path}", "--out", "feeds"])
    assert result.exit_code == 2
    assert "nope" in result.output and "digest" in result.output and "notes" in result.output
    assert not (tmp_path / "feeds").exists()
