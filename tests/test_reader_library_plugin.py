"""The reader-library plugin (digestfeed.reader_plugin) with the real reader library (lemon24) on temporary databases."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

reader_lib = pytest.importorskip("reader")

from digestfeed.cli import main  # noqa: E402
from digestfeed.reader.identity import paper_id  # noqa: E402
from digestfeed.reader_plugin import dedupe, duplicate_tag  # noqa: E402

PLUGIN = "digestfeed.reader_plugin:init_reader"
DATA = Path(__file__).resolve().parent / "data" / "reader_plugin"
TAG = ".plugin.digestfeed.duplicate-of"
PAPERS = ("ZeroSearch", "Pangu Ultra MoE", "On Path to Multimodal Generalist")


@pytest.fixture(scope="session")
def seed_and_foreign_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed built by `digestfeed build` under feeds/, the hand-written feeds under foreign/."""
    root = tmp_path_factory.mktemp("site")
    entries = root / "entries"
    entries.mkdir()
    seed = Path(__file__).resolve().parents[1] / "entries" / "2025-05-08.txt"
    shutil.copy(seed, entries / seed.name)
    (root / "digestfeed.toml").write_text(
        f'cache_dir = "{(root / ".cache").as_posix()}"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(
        main,
        [
            "--config",
            str(root / "digestfeed.toml"),
            "build",
            "--entries",
            str(entries),
            "--out",
            str(root / "feeds"),
            "--now",
            "2026-01-01T12:00:00+09:00",
            "-q",
            "--no-cache",
        ],
    )
    assert result.exit_code == 0, result.output
    shutil.copytree(DATA, root / "foreign")
    return root


def seed_feeds(seed_and_foreign_site: Path) -> list[str]:
    """Every language and tag feed of the seed, as feed-root-relative paths (21 feeds)."""
    feeds = sorted(
        p.relative_to(seed_and_foreign_site).as_posix()
        for p in (seed_and_foreign_site / "feeds").rglob("*.atom")
    )
    assert len(feeds) == 21
    return feeds


def open_reader(seed_and_foreign_site: Path, db: Path, plugins: list[str] | None = None):
    return reader_lib.make_reader(
        str(db),
        feed_root=str(seed_and_foreign_site),
        plugins=[PLUGIN] if plugins is None else plugins,
    )


def subscribed(
    seed_and_foreign_site: Path, db: Path, feeds: list[str], plugins: list[str] | None = None
):
    r = open_reader(seed_and_foreign_site, db, plugins)
    for url in feeds:
        r.add_feed(url)
    return r


def snapshot(r) -> dict:
    """Everything the plugin may write, per entry."""
    return {
        e.resource_id: (
            e.read,
            e.read_modified,
            e.important,
            e.important_modified,
            dict(r.get_tags(e)),
        )
        for e in r.get_entries()
    }


def paper(title: str | None) -> str:
    return next(p for p in PAPERS if (title or "").startswith(p))


def unread_by_paper(r) -> dict[str, list]:
    out: dict[str, list] = {}
    for e in r.get_entries(read=False):
        out.setdefault(paper(e.title), []).append(e)
    return out


def test_seed_feeds_leave_one_unread_entry_per_paper(seed_and_foreign_site, tmp_path):
    """21 seed feeds, 27 entries: one unread entry per paper, from all.atom; every copy read and tagged."""
    r = subscribed(seed_and_foreign_site, tmp_path / "db.sqlite", seed_feeds(seed_and_foreign_site))
    r.update_feeds()
    visible = unread_by_paper(r)
    assert sorted(visible) == sorted(PAPERS)
    assert all(len(v) == 1 for v in visible.values())
    kept = {p: v[0] for p, v in visible.items()}
    assert {e.feed_url for e in kept.values()} == {"feeds/all.atom"}
    entries = list(r.get_entries())
    assert len(entries) == 27
    copies = [e for e in entries if e.read]
    assert len(copies) == 24
    assert sum(paper(e.title) == "ZeroSearch" for e in copies) == 11  # 12 feeds, one kept
    for e in copies:
        k = kept[paper(e.title)]
        assert r.get_tag(e, TAG) == {"feed_url": k.feed_url, "id": k.id, "rule": "id"}
        assert paper_id(e.id) == k.id and e.read_modified is None
    assert all(r.get_tag(k, TAG, None) is None for k in kept.values())
    assert duplicate_tag(r) == TAG


def test_second_update_writes_nothing(seed_and_foreign_site, tmp_path):
    """A second update (and a direct dedupe run) changes no flag, timestamp or tag."""
    r = subscribed(seed_and_foreign_site, tmp_path / "db.sqlite", seed_feeds(seed_and_foreign_site))
    r.update_feeds()
    before = snapshot(r)
    r.update_feeds()
    assert snapshot(r) == before
    assert dedupe(r).writes == 0
    assert snapshot(r) == before


def test_kept_read_and_important_carry_over(seed_and_foreign_site, tmp_path):
    """Read/important on the kept entry reach every copy on the next update; so does unmarking."""
    r = subscribed(seed_and_foreign_site, tmp_path / "db.sqlite", seed_feeds(seed_and_foreign_site))
    r.update_feeds()
    kept = unread_by_paper(r)["ZeroSearch"][0]
    r.mark_entry_as_read(kept)
    r.mark_entry_as_important(kept)
    r.update_feeds()
    kept = r.get_entry(kept)
    group = [e for e in r.get_entries() if paper_id(e.id) == kept.id]
    assert len(group) == 12
    for e in group:
        assert (e.read, e.important) == (True, True)
        assert e.read_modified == kept.read_modified
        assert e.important_modified == kept.important_modified
    others = [e for e in r.get_entries() if paper_id(e.id) != kept.id]
    assert not any(e.important for e in others)
    before = snapshot(r)
    r.update_feeds()
    assert snapshot(r) == before

    r.mark_entry_as_unimportant(kept)
    r.mark_entry_as_unread(kept)
    r.update_feeds()
    group = [e for e in r.get_entries() if paper_id(e.id) == kept.id]
    assert all(e.important is False for e in group)
    assert [e.resource_id for e in group if not e.read] == [kept.resource_id]
    assert all(e.read_modified is None for e in group if e.resource_id != kept.resource_id)


def test_change_on_a_copy_reaches_the_kept_entry(seed_and_foreign_site, tmp_path):
    """The newest user change wins, even when it was made on a copy (e.g. in a per-feed view)."""
    r = subscribed(seed_and_foreign_site, tmp_path / "db.sqlite", seed_feeds(seed_and_foreign_site))
    r.update_feeds()
    kept = unread_by_paper(r)["Pangu Ultra MoE"][0]
    copy = ("feeds/ko.atom", f"{kept.id}/ko")
    r.mark_entry_as_important(copy)
    r.update_feeds()
    assert all(e.important for e in r.get_entries() if e.id == kept.id)
    assert not r.get_entry(kept).read


def test_feed_subscribed_later_does_not_resurface_a_read_paper(seed_and_foreign_site, tmp_path):
    """Reading ko.atom first, then adding all.atom: all.atom's entry becomes kept but stays read."""
    r = subscribed(seed_and_foreign_site, tmp_path / "db.sqlite", ["feeds/ko.atom"])
    r.update_feeds()
    zero = next(e for e in r.get_entries() if paper(e.title) == "ZeroSearch")
    r.mark_entry_as_read(zero)
    r.add_feed("feeds/all.atom")
    r.update_feeds()
    visible = unread_by_paper(r)
    assert sorted(visible) == sorted(p for p in PAPERS if p != "ZeroSearch")
    assert {v[0].feed_url for v in visible.values()} == {"feeds/all.atom"}
    kept = r.get_entry(("feeds/all.atom", paper_id(zero.id)))
    assert kept.read and r.get_tag(kept, TAG, None) is None
    assert r.get_tag(zero, TAG)["feed_url"] == "feeds/all.atom"


def test_deleted_kept_entry_is_replaced_deterministically(seed_and_foreign_site, tmp_path):
    """Unsubscribing the bilingual feeds promotes the earliest language-feed entry; read state holds."""
    r = subscribed(seed_and_foreign_site, tmp_path / "db.sqlite", seed_feeds(seed_and_foreign_site))
    r.update_feeds()
    zero = unread_by_paper(r)["ZeroSearch"][0]
    r.mark_entry_as_read(zero)
    r.update_feeds()
    for f in list(r.get_feeds()):
        if f.url.count(".") == 1:  # all.atom, tags/<t>.atom: no language suffix
            r.delete_feed(f)
    r.update_feeds()
    remaining = sorted(r.get_entries(), key=lambda e: (e.added, e.feed_url, e.id))
    for p in PAPERS:
        group = [e for e in remaining if paper(e.title) == p]
        new = group[0]  # no bilingual entry left: earliest added, then feed URL, then id
        assert r.get_tag(new, TAG, None) is None
        assert all(r.get_tag(e, TAG)["feed_url"] == new.feed_url for e in group[1:])
        assert new.read is (p == "ZeroSearch")  # a read paper does not come back
        assert all(e.read for e in group[1:])
    before = snapshot(r)
    r.update_feeds()
    assert snapshot(r) == before


def test_foreign_feeds_deduped_by_fallback_rules_only(seed_and_foreign_site, tmp_path):
    """Feeds not made by digestfeed group by arXiv id, normalised link and normalised title."""
    r = subscribed(
        seed_and_foreign_site,
        tmp_path / "db.sqlite",
        ["foreign/foreign_a.rss", "foreign/foreign_b.atom", "foreign/foreign_c.rss"],
    )
    r.update_feeds()
    entries = list(r.get_entries())
    assert len(entries) == 10
    unread = sorted(e.title for e in r.get_entries(read=False))
    assert len(unread) == 7  # 3 pairs + 1 + 1 + 2 unrelated
    rules = {}
    for e in entries:
        tag = r.get_tag(e, TAG, None)
        if tag:
            kept = r.get_entry((tag["feed_url"], tag["id"]))
            assert e.read and not kept.read and r.get_tag(kept, TAG, None) is None
            assert kept.feed_url != e.feed_url
            rules[frozenset((e.title, kept.title))] = tag["rule"]
    assert rules == {
        frozenset(("Reading notes: a great paper", "Paper of the week")): "arxiv",
        frozenset(("A Survey of Things", "Survey of things, revisited")): "link",
        frozenset(("Attention Is Still All You Need?", "attention is still all you need")): "title",
    }
    for title in (
        "Only in blog A",
        "Only in blog B",
        "Gardening in May",
        "A different paper entirely",
    ):
        assert title in unread


def test_unrelated_feeds_are_left_alone(seed_and_foreign_site, tmp_path):
    """Nothing matches: no entry is marked read or tagged, and the plugin writes nothing."""
    r = subscribed(
        seed_and_foreign_site, tmp_path / "db.sqlite", ["foreign/foreign_c.rss", "feeds/ko.atom"]
    )
    r.update_feeds()
    before = snapshot(r)
    assert len(before) == 5
    assert all(v == (False, None, None, None, {}) for v in before.values())
    assert dedupe(r).writes == 0


def test_update_feed_runs_the_plugin(seed_and_foreign_site, tmp_path):
    """update_feed() (no feeds-level hooks) dedupes too, against the entries of all feeds."""
    r = subscribed(
        seed_and_foreign_site, tmp_path / "db.sqlite", ["feeds/all.atom", "feeds/en.atom"]
    )
    r.update_feed("feeds/en.atom")
    assert len(list(r.get_entries(read=False))) == 3
    r.update_feed("feeds/all.atom")
    assert {e.feed_url for e in r.get_entries(read=False)} == {"feeds/all.atom"}


def test_plugin_registered_once(seed_and_foreign_site, tmp_path):
    """Listing the plugin twice (argument and config) registers its hooks once."""
    r = open_reader(
        seed_and_foreign_site, tmp_path / "db.sqlite", [PLUGIN, "digestfeed.reader_plugin"]
    )
    assert len(r.after_feeds_update_hooks) == 1


def cli(
    seed_and_foreign_site: Path, db: Path, *args: str, env: dict[str, str] | None = None
) -> None:
    """`python -m reader --db DB --feed-root SITE ARGS…` in a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("READER_")}
    full_env.update(env or {})
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "reader",
            "--db",
            str(db),
            "--feed-root",
            str(seed_and_foreign_site),
            *args,
        ],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


def assert_deduped(seed_and_foreign_site: Path, db: Path) -> None:
    r = open_reader(seed_and_foreign_site, db, plugins=[])
    assert sorted(paper(e.title) for e in r.get_entries(read=False)) == sorted(PAPERS)
    assert sum(1 for _ in r.get_entries(tags=[TAG])) == 24
    r.close()


@pytest.mark.parametrize("how", ["option", "env", "config"])
def test_reader_library_cli_enables_plugin(seed_and_foreign_site, tmp_path, how):
    """`python -m reader update` dedupes with --plugin, READER_PLUGINS or [reader] plugins in --config."""
    db = tmp_path / "db.sqlite"
    subscribed(seed_and_foreign_site, db, seed_feeds(seed_and_foreign_site), plugins=[]).close()
    if how == "option":
        cli(seed_and_foreign_site, db, "--plugin", PLUGIN, "update")
    elif how == "env":
        cli(seed_and_foreign_site, db, "update", env={"READER_PLUGINS": PLUGIN})
    else:
        config = tmp_path / "reader.toml"
        config.write_text(f'[reader]\nplugins = ["{PLUGIN}"]\n', encoding="utf-8")
        cli(seed_and_foreign_site, db, "--config", str(config), "update")
    assert_deduped(seed_and_foreign_site, db)


def test_update_with_nothing_new_does_no_work(seed_and_foreign_site, tmp_path, monkeypatch):
    """An update that brings nothing new skips the dedupe pass; a new feed or a user change does not."""
    import digestfeed.reader_plugin as plugin

    runs: list[int] = []
    real = plugin.dedupe
    monkeypatch.setattr(plugin, "dedupe", lambda r: runs.append(1) or real(r))
    r = subscribed(seed_and_foreign_site, tmp_path / "db.sqlite", ["feeds/all.atom"])
    r.update_feeds()
    assert len(runs) == 1
    r.update_feeds()
    assert len(runs) == 1  # nothing new: no pass
    r.add_feed("feeds/en.atom")
    r.update_feeds()
    assert len(runs) == 2 and len(list(r.get_entries(read=False))) == 3
    kept = next(iter(r.get_entries(read=False, feed="feeds/all.atom")))
    r.mark_entry_as_important(kept)
    r.update_feeds()
    assert len(runs) == 3  # a user change is carried over
    assert all(e.important for e in r.get_entries() if paper_id(e.id) == kept.id)


def test_file_url_and_path_of_one_folder_are_one_origin(seed_and_foreign_site, tmp_path, caplog):
    """A feed added as a file: URL and one added as a path, in the same folder, are one origin: no spoof warning, one entry per paper."""
    feeds = seed_and_foreign_site / "feeds"
    r = reader_lib.make_reader(str(tmp_path / "db.sqlite"), feed_root="", plugins=[PLUGIN])
    r.add_feed((feeds / "all.atom").as_uri())
    r.add_feed(str(feeds / "en.atom"))
    with caplog.at_level("WARNING", logger="digestfeed.reader_plugin"):
        r.update_feeds()
    assert not [rec for rec in caplog.records if "belongs to" in rec.getMessage()]
    visible = unread_by_paper(r)
    assert sorted(visible) == sorted(PAPERS) and all(len(v) == 1 for v in visible.values())


class _WithoutStorage:
    """A reader library ``Reader`` as another version might be: no ``_storage`` attribute."""

    def __init__(self, reader) -> None:
        self._reader = reader

    def __getattr__(self, name: str):
        if name == "_storage":
            raise AttributeError(name)
        return getattr(self._reader, name)


def test_dedupe_works_without_the_private_connection(seed_and_foreign_site, tmp_path):
    """Without the reader library's private storage (another version), a run still dedupes, only without faster commits."""
    r = subscribed(
        seed_and_foreign_site, tmp_path / "db.sqlite", seed_feeds(seed_and_foreign_site), plugins=[]
    )
    r.update_feeds()
    result = dedupe(_WithoutStorage(r))
    assert result.copies == 24 and result.writes > 0
    visible = unread_by_paper(r)
    assert sorted(visible) == sorted(PAPERS) and all(len(v) == 1 for v in visible.values())


def test_synchronous_setting_is_restored_after_a_run(seed_and_foreign_site, tmp_path):
    """The plugin's faster commits last only while it writes: the connection's synchronous setting is as before afterwards."""
    r = subscribed(seed_and_foreign_site, tmp_path / "db.sqlite", seed_feeds(seed_and_foreign_site))
    db = r._storage.get_db()
    db.execute("PRAGMA synchronous = FULL")
    r.update_feeds()
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert len(list(r.get_entries(read=True))) == 24  # the plugin did write
