"""The feed reader's seen-state across runs: only new items, --all, history, and a run killed before its commit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from digestfeed.reader import Reader
from test_reader_dedupe import BENCH, PANGU, ZERO, digest_feeds, entry, read_json, write_atom


def test_second_run_prints_nothing_new_and_all_prints_all(tmp_path):
    """A second run over unchanged feeds prints nothing; --all prints every item again."""
    feeds = digest_feeds(tmp_path / "feeds")
    state = tmp_path / "s.sqlite"
    assert len(read_json([feeds], state)[1]) == 3
    code, items, _ = read_json([feeds], state)
    assert (code, items) == (0, [])
    code, items, _ = read_json([feeds, "--all"], state)
    assert code == 0 and len(items) == 3


def test_unchanged_feeds_are_not_parsed_again(tmp_path):
    """Same bytes as last time (sha256) → the feed is skipped, not re-parsed."""
    feeds = digest_feeds(tmp_path / "feeds")
    with Reader(tmp_path / "s.sqlite") as reader:
        first = reader.read([feeds])
        second = reader.read([feeds])
    assert first.stats["parsed"] == first.stats["sources"] == 21
    assert second.stats["parsed"] == 0 and second.stats["unchanged"] == 21


def test_only_new_entries_come_out(tmp_path):
    """A feed that gains one entry yields just that entry, even when it also shows old ones."""
    feed = tmp_path / "all.atom"
    write_atom(feed, [PANGU, ZERO])
    state = tmp_path / "s.sqlite"
    assert len(read_json([feed], state)[1]) == 2
    write_atom(feed, [BENCH, PANGU, ZERO])
    _code, items, _ = read_json([feed], state)
    assert [i["title"] for i in items] == [BENCH["title"]]


def test_dropped_item_coming_back_is_not_new(tmp_path):
    """Seen-state is a history: an entry that leaves the feed and returns is not reported again."""
    feed = tmp_path / "all.atom"
    state = tmp_path / "s.sqlite"
    write_atom(feed, [PANGU, ZERO])
    read_json([feed], state)
    write_atom(feed, [PANGU])
    assert read_json([feed], state)[1] == []
    write_atom(feed, [BENCH, PANGU, ZERO])
    assert [i["title"] for i in read_json([feed], state)[1]] == [BENCH["title"]]


def test_new_feed_with_known_paper_is_not_new(tmp_path):
    """Subscribing to one more tag feed does not repeat a paper already reported via another feed."""
    feeds = digest_feeds(tmp_path / "feeds")
    state = tmp_path / "s.sqlite"
    read_json([feeds / "tags/rl.atom"], state)
    _code, items, _ = read_json(
        [feeds / "tags/rl.atom", feeds / "tags/moe.en.atom", feeds / "tags/tool.atom"], state
    )
    assert [i["title"] for i in items] == [PANGU["title"]]
    # the union of feeds and tags is still kept for --all
    items = read_json([feeds / "tags/tool.atom", "--all"], state)[1]
    assert len(items[0]["feeds"]) == 2


def test_state_path_from_environment(tmp_path, monkeypatch):
    """DIGESTFEED_STATE chooses the state file when --state is not given."""
    from click.testing import CliRunner

    from digestfeed.cli import main

    monkeypatch.setenv("DIGESTFEED_STATE", str(tmp_path / "env" / "state.sqlite"))
    feeds = digest_feeds(tmp_path / "feeds")
    assert CliRunner().invoke(main, ["read", str(feeds / "all.atom")]).exit_code == 0
    assert (tmp_path / "env" / "state.sqlite").is_file()


def test_failure_before_commit_loses_nothing(tmp_path):
    """If writing the output fails, the run is rolled back and the items come out next time."""
    feeds = digest_feeds(tmp_path / "feeds")

    def broken(result):
        raise BrokenPipeError("stdout went away")

    with Reader(tmp_path / "s.sqlite") as reader:
        with pytest.raises(BrokenPipeError):
            reader.read([feeds], emit=broken)
        assert len(reader.read([feeds])) == 3
        assert len(reader.read([feeds])) == 0


_KILLED_RUN = textwrap.dedent("""
    import os, sys
    from digestfeed.reader import state
    def die(self):  # the process dies after writing its output, before the commit
        sys.stdout.flush()
        os._exit(137)
    state.State.commit = die
    from digestfeed.cli import main
    main(sys.argv[1:])
""")


def _cli(args, env_state, killed=False):
    code = (
        _KILLED_RUN if killed else "from digestfeed.cli import main; import sys; main(sys.argv[1:])"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "read",
            "--state",
            str(env_state),
            "--format",
            "jsonl",
            *map(str, args),
        ],
        capture_output=True,
        text=True,
    )
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()]


def test_killed_run_loses_nothing_and_finished_run_never_repeats(tmp_path):
    """A process killed before its commit: items come out again; after a finished run: never again."""
    feed = tmp_path / "all.atom"
    state = tmp_path / "s.sqlite"
    write_atom(feed, [PANGU, ZERO])
    code, items = _cli([feed], state, killed=True)
    assert code == 137 and len(items) == 2  # output written, then killed
    code, items = _cli([feed], state)
    assert code == 0 and len(items) == 2  # not lost
    write_atom(feed, [BENCH, PANGU, ZERO])
    code, items = _cli([feed], state, killed=True)
    assert code == 137 and [i["title"] for i in items] == [
        BENCH["title"]
    ]  # finished run's items not repeated
    code, items = _cli([feed], state)
    assert [i["title"] for i in items] == [BENCH["title"]]
    assert _cli([feed], state) == (0, [])


def test_backfill_follows_prev_archive_with_cycle_guard(tmp_path):
    """--backfill reads RFC 5005 archives (each once, even when the links form a cycle)."""
    old = entry("old-paper", "An Older Paper", date="2025-04-01", tags=("rl",))
    older = entry("oldest-paper", "The Oldest Paper", date="2025-03-01", tags=("rl",))
    base = "https://digestfeed.example.org/feeds/"
    write_atom(tmp_path / "all.atom", [ZERO], prev_archive=base + "archive/all/2025-04.atom")
    write_atom(tmp_path / "archive/all/2025-04.atom", [old], prev_archive="2025-03.atom")
    # a broken archive chain pointing back to the newer archive
    write_atom(
        tmp_path / "archive/all/2025-03.atom",
        [older],
        prev_archive=base + "archive/all/2025-04.atom",
    )
    state = tmp_path / "s.sqlite"
    assert len(read_json([tmp_path / "all.atom"], state)[1]) == 1
    code, items, err = read_json([tmp_path / "all.atom", "--backfill"], state)
    assert code == 0, err
    assert [i["title"] for i in items] == ["An Older Paper", "The Oldest Paper"]
    assert os.path.basename(items[1]["feeds"][0]) == "2025-03.atom"
