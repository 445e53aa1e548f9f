"""Rebuilds are idempotent, incremental and atomic; the parse cache; concurrent builds."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lxml import etree

import digestfeed.publish
import digestfeed.sources.digest
from digestfeed.cli import main
from digestfeed.config import Config
from digestfeed.errors import BuildError
from digestfeed.pipeline import build_digests
from digestfeed.publish import STAGING, locked
from digestfeed.render.atom import AtomOutput
from digestfeed.render.opml import OpmlOutput
from digestfeed.sources.digest import read_digest_dir

NOW1 = "2026-01-01T12:00:00+09:00"
NOW2 = "2026-02-01T12:00:00+09:00"
ATOM = "{http://www.w3.org/2005/Atom}"
#: Atom + OPML only, so the expected sets of changed files are exact whatever else is installed.
CONFIG = 'outputs = ["atom", "opml"]\n'


def entry(
    title: str, tags: str, ko: str = "흥미로운 논문이군요.", en: str = "An interesting paper."
) -> str:
    return "\n".join(
        [title, "(Ada Lovelace, Alan Turing)", f"We study {title.lower()}.", ko, en, tags]
    )


def digest(date: str, *entries: str) -> str:
    return f"{date}\n" + "\n".join(entries) + "\n"


DAY1 = digest(
    "2025-05-01",
    entry("Sparse Mixtures of Experts at Scale", "#moe #llm"),
    entry("A Benchmark for Tool Use", "#benchmark #tool"),
)
DAY2 = digest("2025-05-02", entry("Reinforcement Learning for Reasoning", "#rl #reasoning"))
DAY3 = digest("2025-05-03", entry("Routing Tokens in MoE Layers", "#moe #routing"))


class Site:
    """A project directory (``entries/``, ``digestfeed.toml``) built through the CLI in-process."""

    def __init__(self, root: Path, config: str = CONFIG) -> None:
        self.root = root
        self.entries = root / "entries"
        self.feeds = root / "feeds"
        self.ledger = self.entries / ".ledger.json"
        self.entries.mkdir(parents=True, exist_ok=True)
        (root / "digestfeed.toml").write_text(config, encoding="utf-8")

    def write(self, name: str, text: str) -> None:
        (self.entries / name).write_text(text, encoding="utf-8")

    def run(self, *args: str, now: str = NOW1) -> Result:
        cwd = os.getcwd()
        os.chdir(self.root)
        try:
            return CliRunner().invoke(main, list(args), env={"DIGESTFEED_NOW": now})
        finally:
            os.chdir(cwd)

    def build(self, *args: str, now: str = NOW1) -> Result:
        result = self.run("build", *args, now=now)
        assert result.exit_code == 0, result.output
        return result

    def snapshot(self) -> dict[str, tuple[bytes, int, int]]:
        """``path → (bytes, inode, mtime_ns)`` of every file under feeds/ and of the ledger."""
        files = [p for p in self.feeds.rglob("*") if p.is_file()] if self.feeds.exists() else []
        if self.ledger.exists():
            files.append(self.ledger)
        out = {}
        for path in files:
            st = path.stat()
            out[path.relative_to(self.root).as_posix()] = (
                path.read_bytes(),
                st.st_ino,
                st.st_mtime_ns,
            )
        return out

    def atom_entries(self, rel: str = "all.atom") -> dict[str, etree._Element]:
        root = etree.fromstring((self.feeds / rel).read_bytes())
        return {e.findtext(f"{ATOM}id"): e for e in root.iter(f"{ATOM}entry")}


def written(result: Result) -> set[str]:
    return set(re.findall(r"^  wrote (\S+)$", result.output, re.M))


@pytest.fixture
def two_day_site(tmp_path: Path) -> Site:
    s = Site(tmp_path / "site")
    s.write("2025-05-01.txt", DAY1)
    s.write("2025-05-02.txt", DAY2)
    return s


def test_second_build_rewrites_nothing(tmp_path: Path, seed_path: Path) -> None:
    """With every installed output, a rebuild of unchanged input keeps every file (bytes, inode, mtime) and says 0 changed."""
    s = Site(tmp_path / "site", config="")
    shutil.copy(seed_path, s.entries / seed_path.name)
    first = s.build()
    assert "ledger updated" in first.output
    before = s.snapshot()
    time.sleep(0.01)  # a rewrite would show as a new mtime
    second = s.build(now=NOW2)
    assert re.search(r"files: 0 changed$", second.output.strip(), re.M), second.output
    assert "ledger" not in second.output
    assert s.snapshot() == before


def test_new_digest_rewrites_only_its_feeds(two_day_site: Site) -> None:
    """A new digest rewrites all/ko/en and the feeds of its tags (new ones created, OPML updated) and nothing else."""
    two_day_site.build()
    before = two_day_site.snapshot()
    two_day_site.write("2025-05-03.txt", DAY3)
    result = two_day_site.build(now=NOW2)
    after = two_day_site.snapshot()
    lang = ("", ".ko", ".en")
    expected = {f"{f}.atom" for f in ("all", "ko", "en")}
    expected |= {f"tags/{t}{x}.atom" for t in ("moe", "routing") for x in lang}
    expected |= {"index.opml"}  # the feed set gained tags/routing
    assert written(result) == expected
    assert f"{len(expected)} changed" in result.output
    changed = {
        k[len("feeds/") :] for k in after if k.startswith("feeds/") and before.get(k) != after[k]
    }
    assert changed == expected
    for key, value in before.items():  # untouched files keep their inode and mtime
        if key.removeprefix("feeds/") not in expected and key != "entries/.ledger.json":
            assert after[key] == value, key


def test_new_digest_with_known_tags_leaves_opml(two_day_site: Site) -> None:
    """A new digest whose tags all exist already leaves index.opml untouched (the feed set is the same)."""
    two_day_site.build()
    two_day_site.write(
        "2025-05-03.txt", digest("2025-05-03", entry("More Experts, Fewer FLOPs", "#moe"))
    )
    result = two_day_site.build(now=NOW2)
    assert "index.opml" not in written(result)


def test_edited_comment_keeps_id_and_gets_build_time(two_day_site: Site) -> None:
    """Editing a comment keeps the entry's id, sets its updated to the build time; other entries keep theirs byte for byte."""
    two_day_site.build()
    before = two_day_site.atom_entries()
    two_day_site.write(
        "2025-05-01.txt", DAY1.replace("An interesting paper.", "A must-read paper.", 1)
    )
    two_day_site.build(now=NOW2)
    after = two_day_site.atom_entries()
    assert set(after) == set(before)
    edited = [i for i in after if "must-read" in (after[i].findtext(f"{ATOM}content") or "")]
    assert len(edited) == 1
    assert after[edited[0]].findtext(f"{ATOM}updated") == NOW2
    assert after[edited[0]].findtext(f"{ATOM}published") == before[edited[0]].findtext(
        f"{ATOM}published"
    )
    for entry_id in set(after) - set(edited):
        assert etree.tostring(after[entry_id]) == etree.tostring(before[entry_id])


def test_title_typo_fix_keeps_id(two_day_site: Site) -> None:
    """Fixing a typo in a title keeps the entry's id (matched to its ledger record); no entry is added."""
    two_day_site.write(
        "2025-05-02.txt", DAY2.replace("Reinforcement Learning", "Reinforcment Learnign")
    )
    two_day_site.build()
    before = two_day_site.atom_entries()
    two_day_site.write("2025-05-02.txt", DAY2)
    two_day_site.build(now=NOW2)
    after = two_day_site.atom_entries()
    assert set(after) == set(before)
    fixed = [
        e
        for e in after.values()
        if e.findtext(f"{ATOM}title") == "Reinforcement Learning for Reasoning"
    ]
    assert len(fixed) == 1 and fixed[0].findtext(f"{ATOM}updated") == NOW2
    assert "reinforcment-learnign" in fixed[0].findtext(f"{ATOM}id")  # the id of the first spelling


def test_deleted_entry_leaves_feeds_and_stays_in_ledger(two_day_site: Site) -> None:
    """A deleted entry leaves every feed (a tag only it had is removed) and stays in the ledger marked deleted."""
    import json

    two_day_site.build()
    (two_day_site.entries / "2025-05-02.txt").unlink()
    result = two_day_site.build(now=NOW2)
    assert "removed" in result.output
    for tag in ("rl", "reasoning"):
        assert not (two_day_site.feeds / f"tags/{tag}.atom").exists()
    assert all(
        "Reasoning" not in p.read_text(encoding="utf-8") for p in two_day_site.feeds.rglob("*.atom")
    )
    records = json.loads(two_day_site.ledger.read_text(encoding="utf-8"))["entries"]
    deleted = [r for r in records.values() if r.get("deleted")]
    assert [r["title"] for r in deleted] == ["Reinforcement Learning for Reasoning"]
    two_day_site.write("2025-05-02.txt", DAY2)  # restored: same id, same published
    two_day_site.build(now=NOW2)
    records2 = json.loads(two_day_site.ledger.read_text(encoding="utf-8"))["entries"]
    assert not any(r.get("deleted") for r in records2.values())


def test_two_edits_never_share_updated(two_day_site: Site) -> None:
    """Two entries edited in one build get distinct updated times, both at or before the build time."""
    two_day_site.build()
    two_day_site.write("2025-05-01.txt", DAY1.replace("An interesting paper.", "Edited.", 2))
    two_day_site.build(now=NOW2)
    stamps = [e.findtext(f"{ATOM}updated") for e in two_day_site.atom_entries().values()]
    edited = [s for s in stamps if s.startswith("2026-02-01")]
    assert len(edited) == 2 and len(set(edited)) == 2 and max(edited) == NOW2
    assert len(set(stamps)) == len(stamps)


def test_corrupt_ledger_is_a_clear_error(two_day_site: Site) -> None:
    """A corrupt ledger stops the build (exit 2) with a message naming the file, no traceback, feeds untouched."""
    two_day_site.build()
    two_day_site.ledger.write_text('{"version": 1, "entries": {', encoding="utf-8")
    before = two_day_site.snapshot()
    two_day_site.write("2025-05-03.txt", DAY3)
    result = two_day_site.run("build", now=NOW2)
    assert result.exit_code == 2
    assert ".ledger.json" in result.stderr and "not valid JSON" in result.stderr
    assert "Traceback" not in result.output
    assert two_day_site.snapshot() == before


def test_parse_error_touches_nothing(two_day_site: Site) -> None:
    """A digest that does not parse stops the build (exit 2, path:line) before feeds/ or the ledger is touched."""
    two_day_site.build()
    before = two_day_site.snapshot()
    two_day_site.write("2025-05-03.txt", "2025-05-03\nA title without authors\n#moe\n")
    result = two_day_site.run("build", now=NOW2)
    assert result.exit_code == 2
    assert "2025-05-03.txt:2:" in result.stderr
    assert two_day_site.snapshot() == before
    assert not (two_day_site.feeds / STAGING).exists()


class Failing:
    """An output that renders like Atom but raises on the ``fail_at``-th file."""

    name = "atom"

    def __init__(self, fail_at: int) -> None:
        self.fail_at = fail_at
        self.rendered = 0

    def files(self, feedset, formats=()):  # type: ignore[no-untyped-def]
        for rel, fp, render in AtomOutput().files(feedset, formats):
            yield rel, fp, self._wrap(render)

    def _wrap(self, render):  # type: ignore[no-untyped-def]
        def wrapped() -> bytes:
            self.rendered += 1
            if self.rendered == self.fail_at:
                raise RuntimeError("renderer exploded")
            return render()  # type: ignore[no-any-return]

        return wrapped


def test_render_failure_leaves_feeds_exactly_as_before(two_day_site: Site) -> None:
    """A renderer failing half-way leaves feeds/ and the ledger byte-identical, with no staging leftovers."""
    two_day_site.build()
    before = two_day_site.snapshot()
    two_day_site.write("2025-05-03.txt", DAY3)
    config = Config()
    digests = read_digest_dir(two_day_site.entries, config)
    failing = Failing(fail_at=5)
    with pytest.raises(RuntimeError, match="exploded"):
        build_digests(
            config,
            digests,
            two_day_site.feeds,
            two_day_site.ledger,
            outputs=[failing, OpmlOutput()],
        )
    assert failing.rendered == 5  # four files were rendered and staged before the failure
    assert two_day_site.snapshot() == before
    assert not (two_day_site.feeds / STAGING).exists()
    assert [p.name for p in two_day_site.entries.iterdir() if p.name.startswith(".")] == [
        ".ledger.json"
    ]


@pytest.mark.parametrize("failing", ["fourth rename", "ledger"])
def test_failure_during_swap_is_rolled_back(
    two_day_site: Site, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """If a rename of the swap fails (half-way, or the ledger's, the last), every rename done is undone: files it created removed, replaced ones put back."""
    two_day_site.build()
    before = two_day_site.snapshot()
    two_day_site.write("2025-05-03.txt", DAY3)
    real_replace = os.replace
    calls: list[str] = []
    created: list[str] = []

    def flaky_replace(src, dst):  # type: ignore[no-untyped-def]
        calls.append(os.fspath(dst))
        if (
            len(calls) == 4
            if failing == "fourth rename"
            else os.fspath(dst) == os.fspath(two_day_site.ledger)
        ):
            raise OSError(28, "No space left on device", str(dst))
        if not os.path.exists(dst):
            created.append(os.fspath(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(digestfeed.publish.os, "replace", flaky_replace)
    config = Config()
    with pytest.raises(BuildError, match="No space left"):
        build_digests(
            config,
            read_digest_dir(two_day_site.entries, config),
            two_day_site.feeds,
            two_day_site.ledger,
            outputs=[AtomOutput(), OpmlOutput()],
        )
    monkeypatch.undo()
    if failing == "ledger":  # by then the swap had placed the new tag's feed
        assert any(path.endswith("routing.atom") for path in created)
    after = two_day_site.snapshot()
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}
    assert not (two_day_site.feeds / STAGING).exists()
    assert not (two_day_site.feeds / "tags" / "routing.atom").exists()


def test_parse_cache_skips_unchanged_digests(
    two_day_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second build parses no digest; after adding one digest, only that one is parsed."""
    calls: list[str] = []
    real = digestfeed.sources.digest.parse_bytes

    def counting(data, path, config):  # type: ignore[no-untyped-def]
        calls.append(Path(path).name)
        return real(data, path, config)

    monkeypatch.setattr(digestfeed.sources.digest, "parse_bytes", counting)
    two_day_site.build()
    assert sorted(calls) == ["2025-05-01.txt", "2025-05-02.txt"]
    calls.clear()
    two_day_site.build()
    assert calls == []
    two_day_site.write("2025-05-03.txt", DAY3)
    two_day_site.build()
    assert calls == ["2025-05-03.txt"]
    calls.clear()
    two_day_site.write(
        "2025-05-01.txt", DAY1.replace("interesting", "curious")
    )  # an edit is a new content key
    two_day_site.build(now=NOW2)
    assert calls == ["2025-05-01.txt"]
    assert (
        (two_day_site.root / ".digestfeed-cache" / ".gitignore").read_text().strip().endswith("*")
    )


def test_no_cache_build_is_idempotent_too(two_day_site: Site) -> None:
    """Without the cache (a fresh CI checkout), a rebuild still writes nothing: it compares bytes."""
    two_day_site.build("--no-cache")
    before = two_day_site.snapshot()
    result = two_day_site.build("--no-cache", now=NOW2)
    assert "0 changed" in result.output
    assert two_day_site.snapshot() == before


# ---------------------------------------------------------------- concurrency


def _cli(root: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "digestfeed", *args],
        cwd=root,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "DIGESTFEED_NOW": NOW1, **env},
    )


def test_concurrent_builds_never_tear_a_file(tmp_path: Path) -> None:
    """Two builds started at once both finish, every file is whole at every moment, and the result is a clean build."""
    s = Site(tmp_path / "site")
    for day in range(1, 29):  # enough work that the two builds overlap
        date = f"2025-04-{day:02d}"
        s.write(
            f"{date}.txt",
            digest(
                date,
                *(
                    entry(f"Paper {day}-{k} on Topic {k}", f"#t{k % 7} #u{day % 5}")
                    for k in range(5)
                ),
            ),
        )
    s.build("--no-cache")  # a first version exists, so readers can watch it being replaced
    s.write("2025-04-29.txt", DAY3.replace("2025-05-03", "2025-04-29"))
    torn: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            for path in (
                s.feeds / "all.atom",
                s.feeds / "tags" / "t1.atom",
                s.feeds / "index.opml",
            ):
                try:
                    etree.fromstring(path.read_bytes())
                except etree.XMLSyntaxError as exc:
                    torn.append(f"{path}: {exc}")

    watcher = threading.Thread(target=reader)
    watcher.start()
    try:
        procs = [_cli(s.root, "build", "--no-cache") for _ in range(2)]
        outputs = [p.communicate(timeout=120) for p in procs]
    finally:
        stop.set()
        watcher.join()
    for proc, (_out, err) in zip(procs, outputs, strict=False):
        assert proc.returncode == 0, err
    assert torn == []
    summaries = sorted(out.split("\n")[0] for out, _ in outputs)
    assert (
        ": 0 changed" in summaries[0] and ": 0 changed" not in summaries[1]
    )  # the second saw the first's work ("10 changed" must not pass for "0 changed")
    assert not (s.feeds / STAGING).exists()
    assert s.run("check", "--allow-placeholder").exit_code == 0


def test_a_held_lock_is_reported_clearly(two_day_site: Site) -> None:
    """While another build holds feeds/, a build waits and then fails with a clear message (exit 2), writing nothing."""
    two_day_site.build()
    before = two_day_site.snapshot()
    two_day_site.write("2025-05-03.txt", DAY3)
    with locked(two_day_site.feeds):
        proc = _cli(two_day_site.root, "build", DIGESTFEED_LOCK_TIMEOUT="0.3")
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "another digestfeed build" in err and "feeds" in err and "Traceback" not in err
    assert two_day_site.snapshot() == before
    assert two_day_site.build().exit_code == 0  # released: the next build goes through


def test_no_cache_rebuild_compares_what_a_spoilt_walk_missed(two_day_site: Site) -> None:
    """With a dangling link among the outputs (the output walk fails), a rebuild still compares each file's bytes: nothing is rewritten."""
    two_day_site.build("--no-cache")
    (two_day_site.feeds / "stale.atom").symlink_to(two_day_site.feeds / "nowhere.atom")
    before = two_day_site.snapshot()
    result = two_day_site.build("--no-cache", "-v", now=NOW2)
    assert written(result) == set()
    assert "0 changed" in result.output
    assert two_day_site.snapshot() == before
