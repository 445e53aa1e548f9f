"""The feed reader's defaults (``digestfeed read``), as documented: XDG state path, 10 MiB cap, 30 s per fetch, 5 redirects, the caps."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from digestfeed.cli import main
from digestfeed.reader import Reader


def test_default_state_lives_in_the_xdg_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --state or $DIGESTFEED_STATE the state is $XDG_STATE_HOME/digestfeed/reader.sqlite."""
    monkeypatch.delenv("DIGESTFEED_STATE", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    reader = Reader()
    try:
        assert reader.state_path == tmp_path / "xdg" / "digestfeed" / "reader.sqlite"
    finally:
        reader.close()
    monkeypatch.setenv("DIGESTFEED_STATE", str(tmp_path / "env.sqlite"))
    reader = Reader()
    try:
        assert reader.state_path == tmp_path / "env.sqlite"
    finally:
        reader.close()


def test_fetch_limits_default_to_the_documented_values(tmp_path: Path) -> None:
    """A Reader caps a feed at 10 MiB, a fetch at 30 s, follows at most 5 redirects (private ones too), 8 OPML levels, 1,000 archives per feed and 20,000 documents per run."""
    with Reader(tmp_path / "s.sqlite") as reader:
        assert (reader.max_bytes, reader.timeout, reader.max_redirects) == (
            10 * 1024 * 1024,
            30.0,
            5,
        )
        assert reader.private_redirects is True
        assert (reader.max_opml_depth, reader.max_archive_depth, reader.max_sources) == (
            8,
            1000,
            20_000,
        )


def test_cli_defaults_match_the_library() -> None:
    """`digestfeed read --help` shows the same defaults the library uses."""
    result = CliRunner().invoke(main, ["read", "--help"])
    text = " ".join(result.output.split())
    assert "default: 10485760" in text and "default: 30.0" in text and "default: 5" in text
    assert "default: 8" in text and "default: 1000" in text and "default: 20000" in text
