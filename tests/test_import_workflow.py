"""The scheduled import workflow, replayed: the `run:` steps of .github/workflows/import.yml executed
verbatim in a temporary git repository, with the newsletter's feed served over HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from pytest_httpserver import HTTPServer

from substack import PROSE, item, post_html, rss, seed_item
from test_workflow_replay import jobs

PROJECT = Path(__file__).resolve().parents[1]
WORKFLOW = PROJECT / ".github" / "workflows" / "import.yml"
TEXT = WORKFLOW.read_text(encoding="utf-8")
STEPS = jobs(TEXT)["import"]
NEW_DIGEST = """2025년 5월 9일
Routing Tokens in Mixture-of-Experts Layers
(Ada Lovelace, Alan Turing)
We study token routing.
라우팅에 관한 흥미로운 논문이군요.
An interesting paper on routing.
#moe #routing
"""


def test_workflow_is_off_unless_a_feed_is_named_and_never_races_a_build() -> None:
    """Daily schedule and manual runs, gated on DIGEST_FEED_URL, in the feeds concurrency group."""
    assert re.search(r'^on:\n  schedule:\n    - cron: "[^"]+"\n  workflow_dispatch:', TEXT, re.M)
    assert "concurrency:\n  group: feeds\n  cancel-in-progress: false" in TEXT
    assert "  import:\n    if: vars.DIGEST_FEED_URL != ''\n" in TEXT
    assert "secrets." not in TEXT
    runs = [s["run"].strip() for s in STEPS if "run" in s]
    assert runs[0] == "pip install ."
    assert 'digestfeed import "$FEED" --into entries --no-state' in runs[1]
    assert runs[2] == "digestfeed build"
    assert "git add -- entries feeds" in runs[3]
    assert runs[4] == "digestfeed ping"


def git(repo: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def make_repo(root: Path) -> tuple[Path, dict[str, str]]:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(root),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Curator",
        "GIT_AUTHOR_EMAIL": "curator@example.org",
        "GIT_COMMITTER_NAME": "Curator",
        "GIT_COMMITTER_EMAIL": "curator@example.org",
        "DIGESTFEED_NOW": "2026-01-01T12:00:00+09:00",
    }
    origin, repo = root / "origin.git", root / "work"
    git(root, env, "init", "-q", "--bare", str(origin))
    repo.mkdir()
    git(repo, env, "init", "-q", "-b", "main")
    shutil.copytree(PROJECT / "entries", repo / "entries", ignore=shutil.ignore_patterns(".*"))
    config = (PROJECT / "digestfeed.toml").read_text(encoding="utf-8")
    (repo / "digestfeed.toml").write_text('outputs = ["atom"]\n' + config, encoding="utf-8")
    git(repo, env, "add", ".")
    git(repo, env, "commit", "-q", "-m", "entries")
    git(repo, env, "remote", "add", "origin", str(origin))
    git(repo, env, "push", "-q", "-u", "origin", "main")
    return repo, env


def replay(repo: Path, env: dict[str, str], feed: str) -> tuple[int, str]:
    """The job's steps as GitHub runs them (bash -eo pipefail, step `if:`s on the import's
    status); the exit code of the first failing step (0 if none) and the output."""
    output_file = repo.parent / "github-output"
    output_file.write_text("", encoding="utf-8")
    step_env = {**env, "FEED": feed, "GITHUB_OUTPUT": str(output_file)}
    out = []
    for step in STEPS:
        script = step.get("run")
        if script is None or script.strip() == "pip install .":
            continue
        condition = step.get("if")
        if condition is not None:
            status = re.search(r"^status=(\d+)$", output_file.read_text(encoding="utf-8"), re.M)
            assert condition == "steps.import.outputs.status == '1'", condition
            if not (status and status.group(1) == "1"):
                continue
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=repo,
            env=step_env,
            capture_output=True,
            text=True,
        )
        out.append(done.stdout + done.stderr)
        if done.returncode:
            return done.returncode, "".join(out)
    return 0, "".join(out)


def test_replay_imports_builds_commits_and_reports_a_differing_digest(
    httpserver: HTTPServer, seed_path: Path, tmp_path: Path
) -> None:
    """A new post is imported, built and pushed; a rerun commits nothing; a digest edited in the
    repository is kept, the rest still published, and the job fails so somebody looks."""
    repo, env = make_repo(tmp_path)
    new_post = item("Routing", post_html(NEW_DIGEST), "Fri, 09 May 2025 01:00:00 GMT", "r")
    httpserver.expect_request("/feed").respond_with_data(
        rss([new_post, PROSE, seed_item(seed_path)]), content_type="application/rss+xml"
    )
    url = httpserver.url_for("/feed")
    code, out = replay(repo, env, url)
    assert code == 0, out
    assert (repo / "entries" / "2025-05-09.txt").read_text(encoding="utf-8") == NEW_DIGEST
    committed = set(git(repo, env, "diff", "--name-only", "HEAD~1", "HEAD").split())
    assert {"entries/2025-05-09.txt", "entries/.ledger.json", "feeds/all.atom"} <= committed
    assert git(repo, env, "status", "--porcelain") == ""
    assert git(repo, env, "rev-parse", "HEAD") == git(repo, env, "rev-parse", "origin/main")
    assert b"Routing Tokens" in (repo / "feeds" / "all.atom").read_bytes()

    head = git(repo, env, "rev-parse", "HEAD")
    code, out = replay(repo, env, url)
    assert code == 0 and "nothing to commit" in out
    assert git(repo, env, "rev-parse", "HEAD") == head

    edited = (
        (repo / "entries" / "2025-05-09.txt")
        .read_text(encoding="utf-8")
        .replace("#moe #routing", "#moe")
    )
    (repo / "entries" / "2025-05-09.txt").write_text(edited, encoding="utf-8")
    git(repo, env, "commit", "-q", "-am", "retag")
    newer = item(
        "Later", post_html(NEW_DIGEST.replace("9일", "10일")), "Sat, 10 May 2025 01:00:00 GMT", "l"
    )
    httpserver.clear()
    httpserver.expect_request("/feed").respond_with_data(
        rss([newer, new_post, seed_item(seed_path)]), content_type="application/rss+xml"
    )
    code, out = replay(repo, env, url)
    assert code == 1 and "differs from its post" in out
    assert "-#moe\n+#moe #routing" in out
    assert (repo / "entries" / "2025-05-09.txt").read_text(encoding="utf-8") == edited
    assert "entries/2025-05-10.txt" in git(repo, env, "diff", "--name-only", "HEAD~1", "HEAD")
