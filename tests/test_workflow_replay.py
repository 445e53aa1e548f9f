"""The CI workflow that publishes the feeds, replayed: its `run:` steps, executed verbatim in a temporary git repository.

The steps are read from .github/workflows/feeds.yml, so the test fails when the workflow and
the replay drift apart. `pip install .` is the only step not executed (the package under test
is installed already); every other step runs with bash as GitHub runs it, `git push` included
(to a local bare repository), and `digestfeed ping` talks to a real local hub.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
from lxml import etree
from pytest_httpserver import HTTPServer

PROJECT = Path(__file__).resolve().parents[1]
WORKFLOW = PROJECT / ".github" / "workflows" / "feeds.yml"
ATOM = "{http://www.w3.org/2005/Atom}"
NOW1 = "2026-01-01T12:00:00+09:00"
NOW2 = "2026-02-01T12:00:00+09:00"
BASE = "https://digestfeed.example.org/feeds/"
NEW_DIGEST = """2025-05-09
Routing Tokens in Mixture-of-Experts Layers
(Ada Lovelace, Alan Turing)
We study token routing.
라우팅에 관한 흥미로운 논문이군요.
An interesting paper on routing.
#moe #routing
"""


# ---------------------------------------------------------------- reading the workflow


def jobs(text: str) -> dict[str, list[dict[str, str]]]:
    """``job → [step]`` where a step maps ``uses``/``run``/``if``/``name`` to its text (``run: |`` blocks unindented)."""
    out: dict[str, list[dict[str, str]]] = {}
    lines = text.split("\n")
    body = lines[lines.index("jobs:") + 1 :]
    job = None
    i = 0
    while i < len(body):
        line = body[i]
        if m := re.fullmatch(r"  ([\w-]+):", line):
            job = m.group(1)
            out[job] = []
        elif job and (m := re.fullmatch(r"      - (\w[\w-]*): ?(.*)", line)):
            out[job].append({m.group(1): m.group(2)})
        elif job and out[job] and (m := re.fullmatch(r"        (\w[\w-]*): ?(.*)", line)):
            key, value = m.groups()
            if value == "|":
                block = []
                while i + 1 < len(body) and (
                    body[i + 1].startswith("          ") or not body[i + 1].strip()
                ):
                    i += 1
                    block.append(body[i][10:])
                value = "\n".join(block).strip("\n") + "\n"
            out[job][-1][key] = value
        i += 1
    return out


WORKFLOW_TEXT = WORKFLOW.read_text(encoding="utf-8")
JOBS = jobs(WORKFLOW_TEXT)


def runs(job: str) -> list[str]:
    return [step["run"] for step in JOBS[job] if "run" in step]


def test_workflow_shape() -> None:
    """Triggers, concurrency, permissions and pinned actions as README documents them; no secrets."""
    text = WORKFLOW_TEXT
    assert re.search(
        r'^on:\n  push:\n    paths:\n      - "entries/\*\*"\n  workflow_dispatch:', text, re.M
    )
    assert "concurrency:\n  group: feeds\n  cancel-in-progress: false" in text
    assert "permissions:\n  contents: write" in text
    uses = [step["uses"] for steps in JOBS.values() for step in steps if "uses" in step]
    assert "actions/checkout@v4" in uses and "actions/setup-python@v5" in uses
    assert all(re.fullmatch(r"actions/[\w-]+@v\d+", u) for u in uses), uses
    assert "secrets." not in text
    assert set(JOBS) == {"build", "pages"}


def test_workflow_steps_are_the_replayed_commands() -> None:
    """The build job runs install, build, commit-when-changed, ping; Pages deploys, then pings."""
    build = runs("build")
    assert build[0] == "pip install .\n" or build[0] == "pip install ."
    assert build[1] == "digestfeed build"
    assert "git status --porcelain -- feeds entries/.ledger.json" in build[2]
    assert "git add -- feeds entries/.ledger.json" in build[2]
    assert build[3:] == ["digestfeed ping"]
    assert runs("pages") == ["pip install .", "digestfeed ping --out feeds"]
    ping = next(s for s in JOBS["build"] if s.get("run") == "digestfeed ping")
    assert ping["if"] == "vars.DEPLOY_PAGES != 'true'"  # without Pages, the build job pings
    order = [s.get("uses") or s.get("run") for s in JOBS["pages"]]
    assert order.index("actions/deploy-pages@v4") < order.index("digestfeed ping --out feeds")


# ---------------------------------------------------------------- the replay


class Repo:
    """A temporary clone with a bare ``origin``, where the workflow's steps are replayed."""

    def __init__(self, root: Path, hub: str) -> None:
        self.origin = root / "origin.git"
        self.path = root / "work"
        self.env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(root),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Curator",
            "GIT_AUTHOR_EMAIL": "curator@example.org",
            "GIT_COMMITTER_NAME": "Curator",
            "GIT_COMMITTER_EMAIL": "curator@example.org",
            "GITHUB_OUTPUT": str(root / "github-output"),
        }
        self.git("init", "-q", "--bare", str(self.origin), cwd=root)
        self.path.mkdir()
        self.git("init", "-q", "-b", "main")
        shutil.copytree(
            PROJECT / "entries", self.path / "entries", ignore=shutil.ignore_patterns(".*")
        )  # the sources, not a local ledger
        config = (PROJECT / "digestfeed.toml").read_text(encoding="utf-8")
        config = re.sub(r'^hub = ".*"$', f'hub = "{hub}"', config, flags=re.M)
        config = (
            'outputs = ["atom", "opml"]\n' + config
        )  # exact expectations whatever else is installed
        (self.path / "digestfeed.toml").write_text(config, encoding="utf-8")
        self.git("add", ".")
        self.git("commit", "-q", "-m", "entries")
        self.git("remote", "add", "origin", str(self.origin))
        self.git("push", "-q", "-u", "origin", "main")

    def git(self, *args: str, cwd: Path | None = None) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd or self.path,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def replay(self, job: str = "build", now: str = NOW1) -> str:
        """Run the job's `run:` steps as GitHub does (bash -eo pipefail); return their output."""
        output = []
        env = {**self.env, "DIGESTFEED_NOW": now, "GITHUB_SHA": self.head()}
        for script in runs(job):
            if script.strip() == "pip install .":
                continue  # installed already: this is the package under test
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                cwd=self.path,
                env=env,
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"
            output.append(done.stdout + done.stderr)
        return "".join(output)

    def status(self) -> str:
        return self.git("status", "--porcelain")

    def last_commit_files(self) -> set[str]:
        return set(self.git("diff", "--name-only", "HEAD~1", "HEAD").split())


def pinged(server: HTTPServer) -> set[str]:
    urls = set()
    for request, _ in server.log:
        form = urllib.parse.parse_qs(request.get_data(as_text=True))
        assert form["hub.mode"] == ["publish"]
        urls.update(u.removeprefix(BASE) for u in form["hub.url"])
    server.clear_log()
    return urls


def entries_of(xml: bytes) -> dict[str, bytes]:
    root = etree.fromstring(xml)
    return {e.findtext(f"{ATOM}id"): etree.tostring(e) for e in root.iter(f"{ATOM}entry")}


@pytest.fixture
def repo(tmp_path: Path, httpserver: HTTPServer) -> Repo:
    httpserver.expect_request("/hub", method="POST").respond_with_data("", status=204)
    return Repo(tmp_path, httpserver.url_for("/hub"))


def test_build_commit_rebuild_is_clean(repo: Repo, httpserver: HTTPServer) -> None:
    """Replayed: build → commit/push → build again leaves `git status` clean and makes no second commit."""
    start = repo.head()
    out = repo.replay()
    assert repo.head() != start and repo.status() == ""
    assert repo.git("rev-parse", "origin/main").strip() == repo.head()  # pushed
    files = repo.last_commit_files()
    assert (
        "entries/.ledger.json" in files
        and "feeds/all.atom" in files
        and "feeds/index.opml" in files
    )
    assert all(f.startswith("feeds/") or f == "entries/.ledger.json" for f in files)
    assert "all.atom" in pinged(httpserver) and "announced" in out
    head = repo.head()
    again = repo.replay(now=NOW2)
    assert repo.head() == head and repo.status() == ""
    assert "nothing to commit" in again and "nothing to ping" in again
    assert pinged(httpserver) == set()


def test_new_digest_changes_only_its_feeds(repo: Repo, httpserver: HTTPServer) -> None:
    """Replayed after a pushed digest: the bot commit holds exactly its feeds, the OPML and the ledger; the hub hears of those feeds."""
    repo.replay()
    pinged(httpserver)
    (repo.path / "entries" / "2025-05-09.txt").write_text(NEW_DIGEST, encoding="utf-8")
    repo.git("add", "entries")
    repo.git("commit", "-q", "-m", "digest of 2025-05-09")
    repo.replay(now=NOW2)
    assert repo.status() == ""
    feeds = {"all", "ko", "en"} | {
        f"tags/{t}{x}" for t in ("moe", "routing") for x in ("", ".ko", ".en")
    }
    expected = {f"feeds/{f}.atom" for f in feeds} | {"feeds/index.opml", "entries/.ledger.json"}
    assert repo.last_commit_files() == expected
    assert pinged(httpserver) == {f"{f}.atom" for f in feeds}


def test_comment_edit_changes_only_that_entry(repo: Repo) -> None:
    """Replayed after a comment edit: only that entry's content and updated change, in its feeds and the ledger."""
    repo.replay()
    digest = repo.path / "entries" / "2025-05-08.txt"
    text = digest.read_text(encoding="utf-8")
    assert text.count("such as load balancing") == 1
    digest.write_text(
        text.replace("such as load balancing", "such as load balancing and routing"),
        encoding="utf-8",
    )
    repo.git("commit", "-q", "-am", "fix a comment")
    before = repo.git("show", "HEAD:feeds/all.atom").encode()
    repo.replay(now=NOW2)
    assert repo.status() == ""
    changed = repo.last_commit_files()
    # index.opml lists feeds, not entries: an edit leaves it byte-identical
    assert changed == {
        "entries/.ledger.json",
        "feeds/all.atom",
        "feeds/ko.atom",
        "feeds/en.atom",
        "feeds/tags/moe.atom",
        "feeds/tags/moe.ko.atom",
        "feeds/tags/moe.en.atom",
    }
    ledger_diff = [
        line
        for line in repo.git(
            "diff", "-U0", "HEAD~1", "HEAD", "--", "entries/.ledger.json"
        ).splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert sorted(line.split(":")[0].strip("+- ") for line in ledger_diff) == [
        '"hash"',
        '"hash"',
        '"updated"',
        '"updated"',
    ]
    old, new = entries_of(before), entries_of((repo.path / "feeds" / "all.atom").read_bytes())
    assert set(old) == set(new)
    differing = [i for i in old if old[i] != new[i]]
    assert len(differing) == 1 and "pangu" in differing[0]
    entry = etree.fromstring(new[differing[0]])
    assert entry.findtext(f"{ATOM}updated") == NOW2
    assert "load balancing and routing" in entry.findtext(f"{ATOM}content")
    stripped = [etree.fromstring(x[differing[0]]) for x in (old, new)]
    for e in stripped:  # apart from updated and content, the entry is byte-identical
        for tag in ("updated", "content"):
            e.remove(e.find(f"{ATOM}{tag}"))
    assert etree.tostring(stripped[0]) == etree.tostring(stripped[1])
