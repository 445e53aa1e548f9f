"""The reader's identity rules end to end: a feed's own entries are never merged unless they
share an id, paper identity joins across feeds whatever the titles, variant ids are one paper."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from digestfeed.cli import main
from digestfeed.reader import Reader
from test_reader_dedupe import AUTH, PANGU, ZERO, write_atom

THIRDPARTY = Path(__file__).resolve().parent / "data" / "reader" / "thirdparty"


def rss(path: Path, items: list[tuple[str | None, str, str | None]]) -> Path:
    """An RSS feed of ``(guid, title, link)`` items."""
    body = "".join(
        "<item>"
        + (f"<guid isPermaLink='false'>{guid}</guid>" if guid else "")
        + f"<title>{title}</title>"
        + (f"<link>{link}</link>" if link else "")
        + "</item>"
        for guid, title, link in items
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>{path.stem}</title>"
        f"<link>https://x.example/</link><description>d</description>{body}</channel></rss>",
        encoding="utf-8",
    )
    return path


def read(tmp_path: Path, *sources: Path, all: bool = True) -> list:
    with Reader(tmp_path / "state.sqlite") as reader:
        return list(reader.read(list(sources), all=all))


def test_one_feed_listing_a_paper_twice_keeps_two_items(tmp_path):
    """Two entries of one feed with the same arXiv link but different guids stay two; another feed's copy joins one."""
    a = rss(
        tmp_path / "a.rss",
        [
            ("a-1", "ZeroSearch, first take", "https://arxiv.org/abs/2505.04588"),
            ("a-2", "ZeroSearch, second take", "https://arxiv.org/abs/2505.04588v2"),
        ],
    )
    b = rss(
        tmp_path / "b.rss",
        [("b-1", "Paper of the day", "https://huggingface.co/papers/2505.04588")],
    )
    items = read(tmp_path, a, b)
    assert len(items) == 2
    assert sorted(len(i.feeds) for i in items) == [1, 2]
    assert len({i.id for i in items}) == 2
    with Reader(tmp_path / "state.sqlite") as reader:
        assert list(reader.read([b, a])) == []  # nothing new the second time, in any order


def test_same_guid_in_one_feed_is_one_item(tmp_path):
    """Entries of one feed that share a guid are one item."""
    a = rss(
        tmp_path / "a.rss",
        [("g", "Post", "https://x.example/1"), ("g", "Post", "https://x.example/1")],
    )
    assert len(read(tmp_path, a)) == 1


def test_entries_without_ids_that_look_alike_stay_apart_and_are_not_new_again(tmp_path):
    """Id-less items sharing a title are two items, and a second run does not show them again."""
    a = rss(tmp_path / "a.rss", [(None, "Maintenance", None), (None, "Maintenance", None)])
    with Reader(tmp_path / "state.sqlite") as reader:
        assert len(reader.read([a])) == 2
        assert len(reader.read([a])) == 0
        assert len(reader.read([a], all=True)) == 2


def test_different_digestfeed_ids_never_merge(tmp_path):
    """Two digest entries about one paper (vault copies) stay two items, even seen first in different feeds."""
    copy = dict(ZERO, id=ZERO["id"] + "-2", title=ZERO["title"] + " (second note)")
    write_atom(tmp_path / "tags" / "rl.atom", [ZERO])
    write_atom(tmp_path / "tags" / "search.atom", [copy])
    write_atom(tmp_path / "all.atom", [ZERO, copy])
    items = read(
        tmp_path,
        tmp_path / "tags" / "search.atom",
        tmp_path / "tags" / "rl.atom",
        tmp_path / "all.atom",
    )
    assert sorted(i.id for i in items) == sorted([ZERO["id"], copy["id"]])


def test_foreign_copy_joins_the_digestfeed_item_by_paper(tmp_path):
    """A third-party feed linking the paper by its DOI joins the digestfeed entry; the item keeps the digestfeed id."""
    foreign = rss(
        tmp_path / "f.rss",
        [("f-1", "Some other title", "https://doi.org/10.48550/arXiv.2505.04588")],
    )
    write_atom(tmp_path / "all.atom", [ZERO, PANGU])
    items = read(tmp_path, foreign, tmp_path / "all.atom")
    assert sorted(i.id for i in items) == sorted([ZERO["id"], PANGU["id"]])
    zero = next(i for i in items if i.id == ZERO["id"])
    assert zero.rule == "arxiv" and len(zero.feeds) == 2


def test_variant_ids_are_one_paper(tmp_path):
    """The bilingual, Korean and English variants (ids X, X/ko, X/en) are one item with id X and both comments."""
    variants = [
        write_atom(tmp_path / "en.atom", [dict(ZERO, id=ZERO["id"] + "/en")], lang="en"),
        write_atom(tmp_path / "ko.atom", [dict(ZERO, id=ZERO["id"] + "/ko")], lang="ko"),
        write_atom(tmp_path / "all.atom", [ZERO]),
    ]
    items = read(tmp_path, *variants)
    assert [i.id for i in items] == [ZERO["id"]]
    assert items[0].comments == {"ko": ZERO["ko"], "en": ZERO["en"]}
    assert items[0].id.startswith(AUTH)


def test_title_only_merge_is_shown_with_verbose(tmp_path):
    """A cross-feed merge resting on the title alone says so with -v."""
    a = rss(
        tmp_path / "a.rss", [("a-1", "Attention Is Still All You Need?", "https://a.example/1")]
    )
    b = rss(tmp_path / "b.rss", [("b-1", "attention is still all you need", "https://b.example/2")])
    out = CliRunner().invoke(main, ["read", "--state", str(tmp_path / "s"), "-v", str(a), str(b)])
    assert out.exit_code == 0, out.output
    assert out.stdout.count("matched by: title") == 1
    assert "across feeds by the title alone" in out.stdout


def test_arxiv_id_forms_in_feeds_are_one_paper_each(tmp_path):
    """The arXiv fixtures (mirror links, DOI, title prefix, old style, arXiv's own feeds) give one item per paper."""
    names = sorted(
        p
        for p in THIRDPARTY.iterdir()
        if p.name.startswith(("arxiv_", "arxivid_")) and p.suffix != ".json"
    )
    assert len(names) >= 8
    items = read(tmp_path, *names)
    assert sorted(i.key for i in items) == sorted(
        ["arxiv:2505.04588", "arxiv:1706.03762", "arxiv:hep-th/9901001", "arxiv:hep-ex/0307015"]
    )


@pytest.mark.parametrize("order", [0, 1])
def test_reader_library_plugin_shows_variants_once(tmp_path, order):
    """In the reader library, the three variants of an entry are one paper: the bilingual entry stays unread."""
    reader_lib = pytest.importorskip("reader")
    feeds = [
        write_atom(tmp_path / "en.atom", [dict(ZERO, id=ZERO["id"] + "/en")], lang="en"),
        write_atom(tmp_path / "all.atom", [ZERO]),
        write_atom(tmp_path / "ko.atom", [dict(ZERO, id=ZERO["id"] + "/ko")], lang="ko"),
    ]
    r = reader_lib.make_reader(
        str(tmp_path / "db.sqlite"),
        feed_root=str(tmp_path),
        plugins=["digestfeed.reader_plugin:init_reader"],
    )
    for f in feeds[order:] + feeds[:order]:
        r.add_feed(f.name)
    r.update_feeds()
    assert [(e.feed_url, e.id) for e in r.get_entries(read=False)] == [("all.atom", ZERO["id"])]
    r.close()


def test_shared_title_never_joins_two_different_papers(tmp_path):
    """Entries of two feeds with one title but different arXiv ids stay two items (in digestfeed read and the plugin)."""
    a = rss(tmp_path / "a.rss", [("a-1", "Paper of the week", "https://arxiv.org/abs/2505.04588")])
    b = rss(
        tmp_path / "b.rss",
        [("b-1", "Paper of the week", "https://huggingface.co/papers/1706.03762")],
    )
    c = rss(tmp_path / "c.rss", [("c-1", "Paper of the week", "https://c.example/weekly")])
    items = read(tmp_path, a, b, c)
    assert sorted(i.key for i in items) == ["arxiv:1706.03762", "arxiv:2505.04588"]
    reader_lib = pytest.importorskip("reader")
    r = reader_lib.make_reader(
        str(tmp_path / "db.sqlite"),
        feed_root=str(tmp_path),
        plugins=["digestfeed.reader_plugin:init_reader"],
    )
    for f in (a, b, c):
        r.add_feed(f.name)
    r.update_feeds()
    assert sorted(e.feed_url for e in r.get_entries(read=False)) == ["a.rss", "b.rss"]
    r.close()
