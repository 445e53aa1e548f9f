"""RFC 5005 archived feeds: bounded subscription feeds, a complete prev/next chain, stable archives."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from digestfeed.config import Config
from digestfeed.reader.identity import paper_id
from feedcheck import A, check_atom, feedparse, parse_xml
from sitebuild import SMALL, build_site, digest_text, synthetic_digests

FH = "{http://purl.org/syndication/history/1.0}"
CONFIG = Config()
LIMIT = 4  # max_entries of SMALL


def links(root: object) -> dict[str, str]:
    """rel → href of the feed-level links (one each, except alternates)."""
    out: dict[str, str] = {}
    for link in root.findall(f"{A}link"):  # type: ignore[attr-defined]
        rel = link.get("rel")
        if rel != "alternate":
            assert rel not in out, f"two rel={rel} links"
            out[rel] = link.get("href")
    return out


def local(feeds: Path, url: str) -> Path:
    assert url.startswith(CONFIG.feed_base_url), url
    return feeds / url.removeprefix(CONFIG.feed_base_url)


def ids(path: Path) -> list[str]:
    """The paper ids of a document's entries (language variant suffixes dropped)."""
    return [paper_id(e.id) for e in feedparse(path.read_bytes(), path.name).entries]


def chain(feeds: Path, name: str) -> list[Path]:
    """The archive documents of feed ``name``, newest first, by following prev-archive."""
    out, url = [], links(parse_xml((feeds / f"{name}.atom").read_bytes())).get("prev-archive")
    while url:
        path = local(feeds, url)
        assert path not in out, f"prev-archive loop at {path}"
        out.append(path)
        url = links(parse_xml(path.read_bytes())).get("prev-archive")
    return out


@pytest.fixture(scope="module")
def multi_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.mktemp("archives"), synthetic_digests(), config=SMALL)


def feed_names(feeds: Path) -> list[str]:
    return sorted(
        p.relative_to(feeds).as_posix().removesuffix(".atom")
        for p in feeds.rglob("*.atom")
        if not p.relative_to(feeds).as_posix().startswith("archive/")
    )


def test_subscription_feed_holds_the_newest_n_and_points_to_the_newest_archive(
    multi_site: Path,
) -> None:
    """A feed with more than N entries: its document has the N newest and prev-archive to the newest month."""
    root = parse_xml((multi_site / "all.atom").read_bytes())
    assert root.find(f"{FH}complete") is None and root.find(f"{FH}archive") is None
    rels = links(root)
    assert rels["prev-archive"] == CONFIG.feed_url("archive/all/2025-04.atom")
    assert "next-archive" not in rels and "current" not in rels
    current = feedparse((multi_site / "all.atom").read_bytes()).entries
    assert len(current) == LIMIT
    older = [
        e
        for path in chain(multi_site, "all")
        for e in feedparse(path.read_bytes()).entries
        if e.id not in {c.id for c in current}
    ]
    assert older and min(e.published for e in current) > max(e.published for e in older)


def test_every_feed_chain_covers_every_entry_exactly_once(multi_site: Path) -> None:
    """For every feed, the archives (followed by prev-archive to the start) hold each older entry exactly once."""
    checked = 0
    every_id = set(ids(multi_site / "all.atom")) | {
        i for p in chain(multi_site, "all") for i in ids(p)
    }
    for name in feed_names(multi_site):
        archives = chain(multi_site, name)
        current = ids(multi_site / f"{name}.atom")
        if not archives:
            continue
        checked += 1
        archived = [i for path in archives for i in ids(path)]
        assert len(archived) == len(set(archived)), f"{name}: an entry is in two archives"
        everything = set(archived) | set(current)
        # the bilingual 'all' feed holds every entry: its tag feeds' union must be inside it
        assert everything <= every_id
        # newest-first across documents: archives are months, newest first
        months = [p.stem for p in archives]
        assert months == sorted(months, reverse=True), name
        for path in archives:
            for entry in feedparse(path.read_bytes()).entries:
                assert entry.published.startswith(path.stem), (path, entry.published)
    assert checked >= 10
    # the bilingual feed: subscription ∪ archives = every synthetic entry, none lost, none doubled in archives
    total = sum(text.count("\n#") for text in synthetic_digests().values())
    assert len(every_id) == total


def test_every_feed_with_its_archives_holds_exactly_its_entries(multi_site: Path) -> None:
    """Subscription document ∪ archives of each feed = exactly the entries that belong to it, from the digests."""
    from digestfeed.config import Config
    from digestfeed.sources.digest import parse_text

    entries = [
        e
        for name, text in synthetic_digests().items()
        for e in parse_text(text, name, Config()).entries
    ]
    names = feed_names(multi_site)
    assert len(names) > 10
    for name in names:
        tag = name.split("/", 1)[1].split(".")[0] if name.startswith("tags/") else None
        expected = {e.id for e in entries if tag is None or tag in e.tags}
        held = set(ids(multi_site / f"{name}.atom")) | {
            i for path in chain(multi_site, name) for i in ids(path)
        }
        assert held == expected, name


def test_archive_documents_are_marked_and_linked_both_ways(multi_site: Path) -> None:
    """Each archive: fh:archive, rel=current → its feed, prev-archive/next-archive mirror each other, ends open."""
    for name in feed_names(multi_site):
        archives = chain(multi_site, name)
        for i, path in enumerate(archives):
            data = path.read_bytes()
            root = check_atom(data, path.name)
            assert root.find(f"{FH}archive") is not None and root.find(f"{FH}complete") is None, (
                path
            )
            rels = links(root)
            assert rels["current"] == CONFIG.feed_url(f"{name}.atom"), path
            assert rels["self"] == CONFIG.feed_url(path.relative_to(multi_site).as_posix()), path
            newer = archives[i - 1] if i else None
            older = archives[i + 1] if i + 1 < len(archives) else None
            assert (
                local(multi_site, rels["next-archive"]) if "next-archive" in rels else None
            ) == newer, path
            assert (
                local(multi_site, rels["prev-archive"]) if "prev-archive" in rels else None
            ) == older, path
        on_disk = sorted((multi_site / "archive" / name).glob("*.atom")) if archives else []
        assert sorted(archives) == on_disk, f"{name}: an archive not reachable by prev-archive"


def test_a_feed_that_fits_is_complete_and_has_no_archives(multi_site: Path) -> None:
    """A feed whose entries all fit: fh:complete, no prev-archive, no archive directory (also in RSS)."""
    for name in ("tags/rare", "tags/rare.ko", "tags/rare.en"):
        root = parse_xml((multi_site / f"{name}.atom").read_bytes())
        assert root.find(f"{FH}complete") is not None, name
        assert "prev-archive" not in links(root)
        assert not (multi_site / "archive" / name).exists()
        assert (
            parse_xml((multi_site / f"{name}.rss").read_bytes()).find(f"channel/{FH}complete")
            is not None
        )
    assert parse_xml((multi_site / "all.rss").read_bytes()).find(f"channel/{FH}complete") is None


def snapshot(feeds: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(feeds).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in feeds.rglob("*")
        if p.is_file()
    }


def newest_archives(snap: dict[str, tuple[bytes, int]]) -> set[str]:
    """The newest archive document of each feed in a snapshot."""
    newest: dict[str, str] = {}
    for rel in snap:
        if rel.startswith("archive/"):
            feed, month = rel.rsplit("/", 1)
            newest[feed] = max(newest.get(feed, month), month)
    return {f"{feed}/{month}" for feed, month in newest.items()}


def assert_archives_stable(
    before: dict[str, tuple[bytes, int]], after: dict[str, tuple[bytes, int]]
) -> set[str]:
    """Only each feed's newest archive may change; one that stopped being the newest only gains
    ``next-archive``. Every other archive keeps its bytes and its mtime. Returns the changed ones."""
    old = {k for k in before if k.startswith("archive/")}
    assert old <= set(after), f"archives removed: {sorted(old - set(after))}"
    changed = {k for k in old if after[k] != before[k]}
    assert changed <= newest_archives(before), (
        f"older archives rewritten: {sorted(changed - newest_archives(before))}"
    )
    for rel in changed - newest_archives(after):
        diff = [
            line
            for line in difflib.unified_diff(
                before[rel][0].decode().splitlines(),
                after[rel][0].decode().splitlines(),
                lineterm="",
                n=0,
            )
            if line[:1] in "+-" and line[:3] not in ("+++", "---")
        ]
        assert len(diff) == 1 and diff[0].startswith("+") and 'rel="next-archive"' in diff[0], (
            rel,
            diff,
        )
    return changed


def test_a_new_digest_in_the_same_month_rewrites_no_older_archive(tmp_path: Path) -> None:
    """Adding a digest in the newest month changes subscription feeds and newest archives only (bytes and mtimes)."""
    digests = synthetic_digests()
    feeds = build_site(tmp_path, digests, config=SMALL)
    before = snapshot(feeds)
    digests["2025-04-28.txt"] = digest_text("2025-04-28", 2, salt=7)
    build_site(tmp_path, digests, config=SMALL)
    after = snapshot(feeds)
    changed = assert_archives_stable(before, after)
    assert "archive/all/2025-04.atom" in changed  # it gained the April 28 entries
    assert after["archive/all/2025-03.atom"] == before["archive/all/2025-03.atom"]
    assert after["all.atom"] != before["all.atom"] and after["all.rss"] != before["all.rss"]


def test_a_new_month_adds_an_archive_and_only_links_the_previous_one(tmp_path: Path) -> None:
    """A digest that pushes a new month into the archives: a new newest archive; the old newest gains next-archive only."""
    digests = synthetic_digests()
    feeds = build_site(tmp_path, digests, config=SMALL)
    before = snapshot(feeds)
    for day in (3, 9, 15):  # six May entries: May itself starts to be archived
        digests[f"2025-05-{day:02d}.txt"] = digest_text(f"2025-05-{day:02d}", 2, salt=day)
    build_site(tmp_path, digests, config=SMALL)
    after = snapshot(feeds)
    changed = assert_archives_stable(before, after)
    assert "archive/all/2025-05.atom" in after and "archive/all/2025-05.atom" not in before
    assert "archive/all/2025-04.atom" in changed
    assert (
        chain(feeds, "all")[0].name == "2025-05.atom"
        and chain(feeds, "all")[-1].name == "2025-01.atom"
    )


def test_every_entry_is_in_some_document_even_when_re_dated() -> None:
    """An entry whose date moved after it was published (a re-dated vault note) is still in the feed or an archive."""
    import datetime as dt

    from digestfeed.config import Config
    from digestfeed.plan import plan
    from digestfeed.types import Entry, Timed

    seoul = dt.timezone(dt.timedelta(hours=9))

    def timed(slug: str, date: str, published: str) -> Timed:
        entry = Entry(
            id=f"tag:x,2025:arxiv:{slug}",
            date=date,
            title=slug,
            authors=("A",),
            abstract="a",
            comment_ko="가",
            comment_en="b",
            tags=("t",),
            links=(),
            source="x:1",
        )
        when = dt.datetime.fromisoformat(published).replace(tzinfo=seoul)
        return Timed(entry, when, when)

    entries = [
        timed("alpha", "2024-06-30", "2024-05-07T09:00"),  # moved to a later date
        timed("beta", "2024-05-08", "2024-05-08T09:00"),
        timed("gamma", "2024-05-10", "2024-05-10T09:00"),
    ]
    feedset = plan(entries, Config(max_entries=1))
    for feed in feedset.feeds:
        held = {t.entry.id for doc in feedset.documents if doc.feed is feed for t in doc.entries}
        assert held == {t.entry.id for t in feed.entries}, feed.name
