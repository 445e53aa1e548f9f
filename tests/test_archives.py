"""RFC 5005 archived feeds: pages in first-publication order, written once, a complete prev-archive chain."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from digestfeed.config import Config
from digestfeed.reader.identity import paper_id
from feedcheck import A, check_atom, feedparse, parse_xml
from sitebuild import SMALL, build_site, digest_text, synthetic_digests

FH = "{http://purl.org/syndication/history/1.0}"
CONFIG = Config()
LIMIT = 4  # max_entries and archive_page_size of SMALL


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


def test_subscription_feed_holds_the_newest_n_and_points_to_the_newest_page(
    multi_site: Path,
) -> None:
    """all.atom: 24 entries in six full pages of 4, so it holds the newest N, newest updated first, and prev-archive → page 6."""
    root = parse_xml((multi_site / "all.atom").read_bytes())
    assert root.find(f"{FH}complete") is None and root.find(f"{FH}archive") is None
    rels = links(root)
    assert rels["prev-archive"] == CONFIG.feed_url("archive/all/6.atom")
    assert "next-archive" not in rels and "current" not in rels
    current = feedparse((multi_site / "all.atom").read_bytes()).entries
    assert len(current) == LIMIT
    assert [e.updated for e in current] == sorted((e.updated for e in current), reverse=True)
    older = [
        e
        for path in chain(multi_site, "all")
        for e in feedparse(path.read_bytes()).entries
        if e.id not in {c.id for c in current}
    ]
    assert older and min(e.published for e in current) > max(e.published for e in older)


def test_every_feed_chain_covers_every_entry_exactly_once(multi_site: Path) -> None:
    """For every feed, the pages (followed by prev-archive) are disjoint, full, in first-publication order; with the subscription document they hold every entry."""
    checked = 0
    for name in feed_names(multi_site):
        archives = chain(multi_site, name)
        current = ids(multi_site / f"{name}.atom")
        if not archives:
            continue
        checked += 1
        assert [p.stem for p in archives] == [str(n) for n in range(len(archives), 0, -1)]
        pages = [feedparse(p.read_bytes()).entries for p in archives]
        archived = [paper_id(e.id) for page in pages for e in page]
        assert len(archived) == len(set(archived)), f"{name}: an entry is in two pages"
        assert all(len(page) == LIMIT for page in pages), name  # written only when full
        # first-publication order: every entry of an older page was published before the newer's
        for newer, older in itertools.pairwise(pages):
            assert max(e.published for e in older) < min(e.published for e in newer), name
        # what is not in a page yet is in the subscription document
        everything = set(archived) | set(current)
        assert len(everything) == len(archived) + len(set(current) - set(archived))
    assert checked >= 10
    total = sum(text.count("\n#") for text in synthetic_digests().values())
    assert (
        len(
            set(ids(multi_site / "all.atom"))
            | {i for p in chain(multi_site, "all") for i in ids(p)}
        )
        == total
    )


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


def test_archive_pages_are_marked_and_linked_back(multi_site: Path) -> None:
    """Each page: fh:archive, rel=current → its feed, self, prev-archive → the page before (none on page 1), no next-archive (a written page never changes)."""
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
            assert "next-archive" not in rels, path
            older = archives[i + 1] if i + 1 < len(archives) else None
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


def archives_of(snap: dict[str, tuple[bytes, int]]) -> set[str]:
    return {k for k in snap if k.startswith("archive/")}


def changed_pages(
    before: dict[str, tuple[bytes, int]], after: dict[str, tuple[bytes, int]]
) -> set[str]:
    """The pages of ``before`` whose bytes or mtime differ in ``after`` (none may vanish)."""
    old = archives_of(before)
    assert old <= set(after), f"archives removed: {sorted(old - set(after))}"
    return {k for k in old if after[k] != before[k]}


def all_ids(feeds: Path, rel: str) -> list[str]:
    return [e.id for e in feedparse((feeds / rel).read_bytes()).entries]


def test_new_digests_never_touch_a_written_page(tmp_path: Path) -> None:
    """New digests change the subscription documents and add pages when the open part fills; written pages keep bytes and mtime."""
    digests = synthetic_digests()
    feeds = build_site(tmp_path, digests, config=SMALL)
    before = snapshot(feeds)
    digests["2025-04-28.txt"] = digest_text("2025-04-28", 2, salt=7)
    build_site(tmp_path, digests, config=SMALL)
    middle = snapshot(feeds)
    assert changed_pages(before, middle) == set()
    assert "archive/all/7.atom" not in middle  # two open entries: no page yet
    assert middle["all.atom"] != before["all.atom"] and middle["all.rss"] != before["all.rss"]
    digests["2025-04-29.txt"] = digest_text("2025-04-29", 2, salt=9)
    build_site(tmp_path, digests, config=SMALL)
    after = snapshot(feeds)
    assert changed_pages(middle, after) == set()
    assert "archive/all/7.atom" in after  # four open entries filled page 7
    assert len(all_ids(feeds, "archive/all/7.atom")) == LIMIT


def test_a_back_dated_digest_lands_in_the_open_part_not_an_old_page(tmp_path: Path) -> None:
    """A digest dated before every page is a new publication: subscription document, then the newest page; old pages untouched."""
    digests = synthetic_digests()
    feeds = build_site(tmp_path, digests, config=SMALL)
    before = snapshot(feeds)
    digests["2024-12-01.txt"] = digest_text("2024-12-01", 2, salt=3)
    build_site(tmp_path, digests, config=SMALL)
    after = snapshot(feeds)
    assert changed_pages(before, after) == set()
    current = all_ids(feeds, "all.atom")
    back = [i for i in current if "2024-12-01" in i]
    assert len(back) == 2 and len(current) == LIMIT + 2
    digests["2024-12-02.txt"] = digest_text("2024-12-02", 2, salt=4)
    build_site(tmp_path, digests, config=SMALL)
    page = all_ids(feeds, "archive/all/7.atom")
    assert sorted(i.split(":")[-1][:10] for i in page) == ["2024-12-01"] * 2 + ["2024-12-02"] * 2
    assert changed_pages(after, snapshot(feeds)) == set()


def test_an_edit_rewrites_only_its_page_and_comes_back_to_the_subscription(tmp_path: Path) -> None:
    """Editing an archived entry rewrites the one page that holds it; it reappears in the subscription document with its new updated."""
    digests = synthetic_digests()
    feeds = build_site(tmp_path, digests, config=SMALL)
    before = snapshot(feeds)
    old_id = next(i for i in all_ids(feeds, "archive/all/1.atom") if "2025-01-03" in i)
    digests["2025-01-03.txt"] = digests["2025-01-03.txt"].replace("Comment 1 on", "Edited 1 on")
    build_site(tmp_path, digests, config=SMALL, now="2026-02-01T12:00:00+09:00")
    after = snapshot(feeds)
    changed = changed_pages(before, after)
    assert "archive/all/1.atom" in changed
    assert all(rel.endswith("/1.atom") for rel in changed), changed
    edited = [i for i in all_ids(feeds, "all.atom") if "2025-01-03" in i]
    assert len(edited) == 1 and edited[0] in {old_id, *all_ids(feeds, "archive/all/1.atom")}
    assert all_ids(feeds, "all.atom")[0] == edited[0]  # newest updated first


def test_a_deletion_rewrites_only_its_page_and_later_pages_stay(tmp_path: Path) -> None:
    """A deleted entry leaves a hole in its page; no later page moves."""
    digests = synthetic_digests()
    feeds = build_site(tmp_path, digests, config=SMALL)
    before = snapshot(feeds)
    del digests["2025-01-03.txt"]
    (tmp_path / "entries" / "2025-01-03.txt").unlink()
    build_site(tmp_path, digests, config=SMALL)
    after = snapshot(feeds)
    changed = changed_pages(before, after)
    assert "archive/all/1.atom" in changed
    assert all(rel.endswith("/1.atom") for rel in changed), changed
    assert len(all_ids(feeds, "archive/all/1.atom")) == LIMIT - 2
    assert after["archive/all/2.atom"] == before["archive/all/2.atom"]


def test_a_back_dated_digest_never_renames_a_tag(tmp_path: Path) -> None:
    """A tag's label is its spelling in the first-published entry that has it, whatever the dates."""
    first = "2025-05-08\nA Paper\n(A)\nAbstract.\n코멘트.\nComment.\n#Object_Detection\n"
    feeds = build_site(tmp_path, {"2025-05-08.txt": first})
    title = parse_xml((feeds / "tags/object-detection.atom").read_bytes()).findtext(f"{A}title")
    assert "#Object_Detection" in title
    back = "2024-01-01\nOld Paper\n(A)\nAbstract.\n코멘트.\nComment.\n#object-detection\n"
    feeds = build_site(tmp_path, {"2025-05-08.txt": first, "2024-01-01.txt": back})
    again = parse_xml((feeds / "tags/object-detection.atom").read_bytes()).findtext(f"{A}title")
    assert again == title


def test_a_ten_year_site_stays_within_three_thousand_feed_documents() -> None:
    """11,500 entries over 150 tags (skewed like the real vault, ~1.6 tags an entry), three languages: Atom + RSS + JSON + OPML ≤ 3,000 documents."""
    import datetime as dt
    import random

    from digestfeed.plan import plan
    from digestfeed.types import Entry, Timed

    rng = random.Random(5005)
    tags = [f"t{i}" for i in range(150)]
    weights = [1 / (i + 1) for i in range(150)]  # a few big tags, a long tail
    start = dt.datetime(2025, 1, 1, 9, tzinfo=dt.UTC)
    entries = []
    for n in range(11_500):
        count = 1 + (rng.random() < 0.45) + (rng.random() < 0.18)
        chosen = tuple(dict.fromkeys(rng.choices(tags, weights, k=count)))
        entry = Entry(
            id=f"tag:x,2025:{n}",
            date="2025-01-01",
            title=f"P{n}",
            authors=(),
            abstract="",
            comment_ko="",
            comment_en="",
            tags=chosen,
            links=(),
            source="x:1",
        )
        when = start + dt.timedelta(hours=7 * n)
        entries.append(Timed(entry, when, when, hash="h", seq=n + 1))
    config = Config()
    feedset = plan(entries, config)
    subscriptions = sum(1 for d in feedset.documents if not d.archive)
    pages = sum(1 for d in feedset.documents if d.archive)
    assert len(feedset.feeds) == 3 * (1 + len({t for e in entries for t in e.entry.tags}))
    total = pages + 3 * subscriptions + 2  # Atom pages, Atom/RSS/JSON subscriptions, two OPML
    assert config.archive_page_size == 100 and total <= 3_000, (pages, subscriptions, total)
    assert all(len(d.entries) == 100 for d in feedset.documents if d.archive)
    assert max(len(d.entries) for d in feedset.documents) < config.max_entries + 100


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
