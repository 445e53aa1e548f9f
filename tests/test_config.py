"""Configuration: defaults that run out of the box, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from digestfeed import Config, ConfigError, load_config
from digestfeed.cli import main


def test_defaults_without_any_file(tmp_path: Path) -> None:
    """With no digestfeed.toml and no pyproject table, the defaults apply (Asia/Seoul, 50 entries)."""
    config = load_config(root=tmp_path)
    assert config == Config()
    assert config.timezone == "Asia/Seoul" and config.max_entries == 50


def test_project_config_file_is_valid(project_root: Path) -> None:
    """The repository's own digestfeed.toml loads."""
    config = load_config(root=project_root)
    assert config.sources == {"entries": "digest"}


def test_pyproject_table(tmp_path: Path) -> None:
    """[tool.digestfeed] in pyproject.toml is read when there is no digestfeed.toml."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.digestfeed]\nsite_title = "T"\nmax_entries = 7\n'
    )
    config = load_config(root=tmp_path)
    assert (config.site_title, config.max_entries) == ("T", 7)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("max_entries = 'ten'", "max_entries"),
        ("max_entries = 0", "max_entries"),
        ("timezone = 'Mars/Olympus'", "timezone"),
        ("site_url = 'example.org'", "site_url"),
        ("feed_base_url = 'https://x.org/feeds'", "feed_base_url"),
        ("tag_date = '25'", "tag_date"),
        ("no_such_key = 1", "no_such_key"),
        ("publish_hour = 24", "publish_hour"),
        ("digest_url_pattern = '{nope}'", "digest_url_pattern"),
        ("[tag_aliases]\na = 1", "tag_aliases"),
    ],
)
def test_invalid_values_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    """Each invalid value raises ConfigError naming the offending key."""
    path = tmp_path / "digestfeed.toml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == key
    assert repr(key) in str(info.value) and str(path) in str(info.value)


def test_cli_reports_bad_config_cleanly(tmp_path: Path, seed_path: Path) -> None:
    """The CLI turns a bad config into one line naming file and key, exit 2, no traceback."""
    path = tmp_path / "bad.toml"
    path.write_text("max_entries = -1\n")
    result = CliRunner().invoke(main, ["--config", str(path), "parse", str(seed_path)])
    assert result.exit_code == 2
    assert "max_entries" in result.output and str(path) in result.output
    assert "Traceback" not in result.output


def test_broken_toml(tmp_path: Path) -> None:
    """A file that is not TOML is a ConfigError, not a crash."""
    path = tmp_path / "digestfeed.toml"
    path.write_text("site_title = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_invalid_pyproject_table_names_file_and_key(tmp_path: Path) -> None:
    """An invalid [tool.digestfeed] in pyproject.toml is an error naming pyproject.toml and the key."""
    (tmp_path / "pyproject.toml").write_text("[tool.digestfeed]\nmax_entries = 'many'\n")
    with pytest.raises(ConfigError) as info:
        load_config(root=tmp_path)
    assert info.value.key == "max_entries" and "pyproject.toml" in str(info.value)


def test_every_config_key_is_in_the_sample_config_and_the_readme() -> None:
    """The repository's digestfeed.toml shows every key at its default; README names each one."""
    import dataclasses
    import tomllib

    root = Path(__file__).resolve().parents[1]
    text = (root / "digestfeed.toml").read_text(encoding="utf-8")
    sample = tomllib.loads(text)
    # a key may be shown commented out at its default (``# outputs = []``)
    sample |= tomllib.loads(
        "\n".join(
            ln[2:]
            for ln in text.splitlines()
            if ln.startswith("# ") and " = " in ln and ln[2:].split(" = ")[0].isidentifier()
        )
    )
    readme = (root / "README.md").read_text(encoding="utf-8")
    defaults = Config()
    for field in dataclasses.fields(Config):
        assert field.name in sample, f"{field.name} missing from digestfeed.toml"
        assert f"`{field.name}`" in readme, f"{field.name} missing from README"
        if field.name != "tag_aliases":  # the sample shows one alias
            value = sample[field.name]
            assert (tuple(value) if isinstance(value, list) else value) == getattr(
                defaults, field.name
            ), field.name
