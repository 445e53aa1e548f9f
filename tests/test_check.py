"""``digestfeed check``: exit 0 when feeds/ is what build would write, 1 naming each stale file; writes nothing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from digestfeed.cli import main

NOW1 = "2026-01-01T12:00:00+09:00"
NOW2 = "2026-02-01T12:00:00+09:00"
#: A publication with its own address (the example one makes check fail on purpose).
ADDRESS = (
    'site_url = "https://papers.test/"\n'
    'feed_base_url = "https://papers.test/"\n'
    'tag_authority = "papers.test"\n'
)


def run(root: Path, *args: str, now: str = NOW1) -> Result:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, list(args), env={"DIGESTFEED_NOW": now})
    finally:
        os.chdir(cwd)


def tree(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root`` (caches included): bytes and mtime."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def project(tmp_path: Path, seed_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "entries").mkdir(parents=True)
    shutil.copy(seed_path, root / "entries" / seed_path.name)
    (root / "digestfeed.toml").write_text(ADDRESS, encoding="utf-8")
    assert run(root, "build", "-q").exit_code == 0
    return root


def test_fresh_feeds_pass(project: Path) -> None:
    """Right after a build, check exits 0 and says the feeds are up to date, even at another time."""
    result = run(project, "check", now=NOW2)
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_stale_feeds_fail_naming_each_file(project: Path) -> None:
    """A changed, a missing and an extra file are each named with what differs; exit 1."""
    feeds = project / "feeds"
    (feeds / "tags" / "rl.atom").write_bytes(
        (feeds / "tags" / "rl.atom").read_bytes().replace(b"RL", b"Rl", 1)
    )
    (feeds / "ko.atom").unlink()
    (feeds / "tags" / "old-tag.atom").write_text("<feed/>", encoding="utf-8")
    (feeds / "notes.txt").write_text("not ours", encoding="utf-8")  # not an output suffix: ignored
    result = run(project, "check")
    assert result.exit_code == 1
    lines = set(result.stdout.splitlines())
    assert "changed: tags/rl.atom (build would rewrite it)" in lines
    assert "missing: ko.atom (build would write it)" in lines
    assert "extra: tags/old-tag.atom (build would remove it)" in lines
    assert len(lines) == 3
    assert "3 files differ" in result.stderr


def test_edited_entries_make_feeds_and_ledger_stale(project: Path) -> None:
    """After an edit of entries/ without a rebuild, check names the affected feeds and the ledger."""
    digest = project / "entries" / "2025-05-08.txt"
    digest.write_text(
        digest.read_text(encoding="utf-8").replace("load balancing", "routing"), encoding="utf-8"
    )
    result = run(project, "check")
    assert result.exit_code == 1
    assert "changed: all.atom (build would rewrite it)" in result.stdout
    assert "entries/.ledger.json" in result.stdout
    assert "tags/rl.atom" not in result.stdout  # the edited entry is not tagged #rl


def test_check_writes_nothing(project: Path) -> None:
    """check never writes: not feeds/, not the ledger, not the cache, not last-build.json — stale or not."""
    digest = project / "entries" / "2025-05-08.txt"
    digest.write_text(
        digest.read_text(encoding="utf-8").replace("#rl", "#rl #new-tag"), encoding="utf-8"
    )
    (project / "feeds" / "all.atom").unlink()
    before = tree(project)
    assert run(project, "check", now=NOW2).exit_code == 1
    assert tree(project) == before


def test_check_on_a_missing_output_dir(tmp_path: Path, seed_path: Path) -> None:
    """With no feeds/ at all, check exits 1 listing every file as missing and creates nothing."""
    root = tmp_path / "p"
    (root / "entries").mkdir(parents=True)
    shutil.copy(seed_path, root / "entries" / seed_path.name)
    (root / "digestfeed.toml").write_text(ADDRESS, encoding="utf-8")
    result = run(root, "check")
    assert result.exit_code == 1
    assert "missing: all.atom" in result.stdout
    assert not (root / "feeds").exists() and not (root / "entries" / ".ledger.json").exists()


def test_check_parse_error_is_exit_2(project: Path) -> None:
    """A digest that does not parse is bad input (exit 2, path:line), not a stale-feeds finding."""
    (project / "entries" / "2025-05-09.txt").write_text(
        "2025-05-09\nTitle only\n#x\n", encoding="utf-8"
    )
    result = run(project, "check")
    assert result.exit_code == 2
    assert "2025-05-09.txt:2:" in result.stderr


def test_pre_commit_hook_runs_check(project_root: Path) -> None:
    """The pre-commit hook the project exposes runs `digestfeed check` on changes to entries/ or feeds/."""
    text = (project_root / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "- id: digestfeed-check" in text
    assert "entry: digestfeed check" in text
    assert "pass_filenames: false" in text
    assert "language: python" in text


@pytest.mark.parametrize("key", ["site_url", "feed_base_url", "tag_authority"])
def test_check_fails_on_the_example_address_unless_allowed(project: Path, key: str) -> None:
    """While any address key is the example one, check exits 2 naming it; --allow-placeholder passes."""
    example = {
        "site_url": "https://digestfeed.example.org/",
        "feed_base_url": "https://digestfeed.example.org/feeds/",
        "tag_authority": "digestfeed.example.org",
    }
    config = project / "digestfeed.toml"
    lines = [ln for ln in config.read_text(encoding="utf-8").splitlines() if not ln.startswith(key)]
    config.write_text("\n".join([*lines, f'{key} = "{example[key]}"']) + "\n", encoding="utf-8")
    # another tag authority needs a new ledger on purpose
    reset = ["--reset-ids"] if key == "tag_authority" else []
    assert run(project, "build", "-q", *reset).exit_code == 0
    result = run(project, "check")
    assert result.exit_code == 2
    assert key in result.stderr and "--allow-placeholder" in result.stderr
    assert "digestfeed init" in result.stderr
    others = {"site_url", "feed_base_url", "tag_authority"} - {key}
    assert not any(f"{other}," in result.stderr for other in others)
    allowed = run(project, "check", "--allow-placeholder")
    assert allowed.exit_code == 0, allowed.output
    assert "up to date" in allowed.stdout


def test_every_build_warns_while_the_address_is_the_example(
    tmp_path: Path, seed_path: Path
) -> None:
    """A build without a config succeeds (exit 0) and warns that the address is the example one."""
    root = tmp_path / "p"
    (root / "entries").mkdir(parents=True)
    shutil.copy(seed_path, root / "entries" / seed_path.name)
    for _ in range(2):  # the no-change rebuild warns too
        result = run(root, "build")
        assert result.exit_code == 0, result.output
        assert "warning: config: site_url, feed_base_url, tag_authority" in result.stderr
        assert "digestfeed.example.org" in result.stderr


def test_a_real_address_builds_without_the_placeholder_warning(project: Path) -> None:
    """With the publication's own address, neither build nor check mentions a placeholder."""
    result = run(project, "build")
    assert result.exit_code == 0 and "example" not in result.stderr, result.stderr
    assert "example" not in run(project, "check").stderr
