"""``digestfeed init``: a publishing repository that builds at once, and the first-run friction."""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import PROJECT
from digestfeed.cli import main
from digestfeed.commands.init import REPOSITORY

URL = "https://you.github.io/papers/"


def run(root: Path, *args: str) -> Result:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        # the build time is the day init dates its sample digest (a digest after the build
        # time is a warning)
        now = f"{dt.date.today().isoformat()}T12:00:00"
        return CliRunner().invoke(main, list(args), env={"DIGESTFEED_NOW": now})
    finally:
        os.chdir(cwd)


@pytest.fixture
def started(tmp_path: Path) -> Path:
    result = run(tmp_path, "init", "papers", "--url", URL, "--title", 'My "papers"')
    assert result.exit_code == 0, result.output
    return tmp_path / "papers"


def test_init_writes_a_publishing_repository_without_tool_code(started: Path) -> None:
    """init writes config, one example digest, the workflow, .gitignore and a README, nothing else."""
    today = dt.date.today().isoformat()
    files = sorted(p.relative_to(started).as_posix() for p in started.rglob("*") if p.is_file())
    assert files == [
        ".github/workflows/publish.yml",
        ".gitignore",
        "README.md",
        "digestfeed.toml",
        f"entries/{today}.txt",
    ]
    assert not list(started.rglob("*.py"))
    assert "/feeds/" in (started / ".gitignore").read_text(encoding="utf-8").split()


def test_init_config_takes_the_url_host_and_this_year(started: Path) -> None:
    """site_url and feed_base_url are the URL, tag_authority its host, tag_date this year."""
    config = tomllib.loads((started / "digestfeed.toml").read_text(encoding="utf-8"))
    assert config["site_url"] == URL and config["feed_base_url"] == URL
    assert config["tag_authority"] == "you.github.io"
    assert config["tag_date"] in {str(dt.date.today().year), str(dt.date.today().year - 1)}
    assert config["site_title"] == 'My "papers"'  # quoted safely


def test_init_workflow_installs_from_one_pinned_line(started: Path) -> None:
    """The workflow pip-installs one env line: the tool's git repository at this version's tag."""
    text = (started / ".github" / "workflows" / "publish.yml").read_text(encoding="utf-8")
    pins = re.findall(r'^\s+DIGESTFEED: "(.*)"$', text, re.M)
    assert pins == [f"digestfeed @ git+{REPOSITORY}@v{metadata.version('digestfeed')}"]
    assert re.findall(r"pip install .*", text) == ['pip install "$DIGESTFEED"']
    assert "not on a package index" in text
    assert "actions/deploy-pages@v4" in text and "path: feeds" in text
    assert "run: digestfeed build" in text


def test_init_repository_url_is_the_declared_one() -> None:
    """init's repository URL is pyproject's [project.urls] Repository, as the installed metadata says."""
    pyproject = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["urls"]["Repository"] == REPOSITORY
    urls = metadata.metadata("digestfeed").get_all("Project-URL") or []
    if not urls:
        pytest.skip("the installed metadata predates [project.urls]: pip install -e . refreshes it")
    assert f"Repository, {REPOSITORY}" in urls


def test_build_and_check_pass_at_once(started: Path) -> None:
    """In the new repository, build exits 0 without warnings and check passes without any flag."""
    result = run(started, "build")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr, result.stderr
    assert (started / "feeds" / "days" / f"{dt.date.today().isoformat()}.html").is_file()
    feed = (started / "feeds" / "all.atom").read_text(encoding="utf-8")
    assert f"<id>tag:you.github.io,{dt.date.today().year}:" in feed
    assert f'href="{URL}all.atom"' in feed
    check = run(started, "check")
    assert check.exit_code == 0, check.output
    assert "up to date" in check.stdout


def test_init_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    """A non-empty DIR is refused (exit 2, nothing written); --force adds what is missing, keeps the rest."""
    target = tmp_path / "repo"
    target.mkdir()
    (target / "README.md").write_text("mine\n", encoding="utf-8")
    result = run(tmp_path, "init", "repo", "--url", URL)
    assert result.exit_code == 2
    assert "not empty" in result.stderr and "--force" in result.stderr
    assert [p.name for p in target.iterdir()] == ["README.md"]
    forced = run(tmp_path, "init", "repo", "--url", URL, "--force")
    assert forced.exit_code == 0, forced.output
    assert (target / "README.md").read_text(encoding="utf-8") == "mine\n"
    assert "kept  README.md" in forced.stdout
    assert (target / "digestfeed.toml").is_file()


@pytest.mark.parametrize("url", ["you.github.io/papers/", "ftp://you.github.io/", "javascript:x"])
def test_init_refuses_a_url_that_is_not_http(tmp_path: Path, url: str) -> None:
    """--url must be an absolute http(s) URL: exit 2, nothing written."""
    result = run(tmp_path, "init", "repo", "--url", url)
    assert result.exit_code == 2
    assert "--url" in result.stderr or "site_url" in result.stderr
    assert not (tmp_path / "repo").exists()


def test_a_mistyped_command_suggests_the_right_one(tmp_path: Path) -> None:
    """`digestfeed biuld` says "Did you mean build?" (exit 2); a command nothing resembles does not."""
    result = run(tmp_path, "biuld")
    assert result.exit_code == 2
    assert "Did you mean build?" in result.stderr
    other = run(tmp_path, "xyzzy")
    assert other.exit_code == 2 and "Did you mean" not in other.stderr


def test_a_missing_entries_directory_explains_how_to_start(tmp_path: Path) -> None:
    """build without entries/ names it and points at `digestfeed init` and entries/YYYY-MM-DD.txt."""
    result = run(tmp_path, "build")
    assert result.exit_code == 2
    assert "entries/: no such directory" in result.stderr
    assert "digestfeed init" in result.stderr and "entries/YYYY-MM-DD.txt" in result.stderr
    assert not (tmp_path / "feeds").exists()


def test_an_empty_entries_directory_warns(tmp_path: Path) -> None:
    """build of an empty entries/ succeeds but warns that there is nothing to publish yet."""
    (tmp_path / "entries").mkdir()
    result = run(tmp_path, "build")
    assert result.exit_code == 0, result.output
    assert "entries/: nothing to publish yet" in result.stderr


def test_read_with_nothing_new_says_so(started: Path, tmp_path: Path) -> None:
    """A second read of the same feeds prints no item and says "nothing new" on stderr."""
    assert run(started, "build").exit_code == 0
    state = str(tmp_path / "state.sqlite")
    first = run(started, "read", "--state", state, "feeds/all.atom")
    assert first.exit_code == 0 and "ZeroSearch" in first.stdout
    assert "nothing new" not in first.stderr
    second = run(started, "read", "--state", state, "feeds/all.atom")
    assert second.exit_code == 0
    assert second.stdout == ""
    assert "nothing new (1 sources read)" in second.stderr


def test_license_file_matches_the_declared_license() -> None:
    """pyproject declares the SPDX license MIT and ships LICENSE, which is the MIT text."""
    pyproject = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"] == "MIT"
    assert pyproject["project"]["license-files"] == ["LICENSE"]
    text = (PROJECT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text
    declared = metadata.metadata("digestfeed").get("License-Expression")
    assert declared in ("MIT", None)  # None: an install made before the SPDX string
