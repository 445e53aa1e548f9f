"""The Atom feed set: layout, RFC 4287 validity, feedparser round trip, content."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from digestfeed.cli import main
from digestfeed.config import Config
from digestfeed.sources.digest import parse_digest
from feedcheck import XML_LANG, A, check_atom, feedparse, parse_xml
from sitebuild import build_site

SEOUL = dt.timezone(dt.timedelta(hours=9))


@pytest.fixture
def seed_feeds(tmp_path: Path, seed_path: Path) -> Path:
    return build_site(tmp_path, seed=seed_path)


SEED_TAGS = ["benchmark", "moe", "multimodal", "reasoning", "rl", "tool"]


def test_feed_layout(seed_feeds: Path) -> None:
    """build writes all/ko/en, three feeds per tag and index.opml, and nothing else (Atom only)."""
    atom = sorted(p.relative_to(seed_feeds).as_posix() for p in seed_feeds.rglob("*.atom"))
    expected = ["all.atom", "en.atom", "ko.atom"] + [
        f"tags/{t}{suffix}.atom" for t in SEED_TAGS for suffix in ("", ".en", ".ko")
    ]
    assert atom == sorted(expected)
    assert (seed_feeds / "index.opml").is_file()


def test_every_feed_is_valid_atom_and_round_trips(seed_feeds: Path) -> None:
    """Every feed passes the RFC 4287 checks and feedparser reads it with bozo 0 and the same entries."""
    paths = sorted(seed_feeds.rglob("*.atom"))
    assert len(paths) == 21
    for path in paths:
        data = path.read_bytes()
        root = check_atom(data, path.name)
        parsed = feedparse(data, path.name)
        xml_entries = root.findall(f"{A}entry")
        assert [e.id for e in parsed.entries] == [x.findtext(f"{A}id") for x in xml_entries]
        assert [e.title for e in parsed.entries] == [x.findtext(f"{A}title") for x in xml_entries]
        for entry, xml in zip(parsed.entries, xml_entries, strict=False):
            assert entry.updated == xml.findtext(f"{A}updated")
            assert [t.term for t in entry.tags] == [
                c.get("term") for c in xml.findall(f"{A}category")
            ]


def variant_of(name: str) -> str:
    """The id suffix of the language variant a feed file holds (``ko.atom``, ``tags/rl.en.atom``)."""
    stem = name.removesuffix(".atom")
    return next((f"/{lang}" for lang in ("ko", "en") if stem.endswith(lang)), "")


def test_entry_ids_dates_and_tags_are_the_same_in_every_feed(
    seed_feeds: Path, seed_path: Path
) -> None:
    """One variant of a paper has one id (entry id, +/ko, +/en), one published/updated and one tag set in all feeds."""
    digest = parse_digest(seed_path, Config())
    seen: dict[str, set[tuple[str, str, str, tuple[str, ...]]]] = {}
    for path in seed_feeds.rglob("*.atom"):
        suffix = variant_of(path.name)
        for entry in feedparse(path.read_bytes()).entries:
            assert entry.id.endswith(suffix) and entry.id.count("/") == 1 + bool(suffix)
            seen.setdefault(entry.id, set()).add(
                (entry.title, entry.published, entry.updated, tuple(t.term for t in entry.tags))
            )
    assert set(seen) == {e.id + s for e in digest.entries for s in ("", "/ko", "/en")}
    for entry_id, variants in seen.items():
        assert len(variants) == 1, (entry_id, variants)
    by_paper: dict[str, set[tuple[str, str, str, tuple[str, ...]]]] = {}
    for entry_id, variants in seen.items():
        by_paper.setdefault(entry_id.removesuffix("/ko").removesuffix("/en"), set()).update(
            variants
        )
    assert all(len(v) == 1 for v in by_paper.values())  # the three variants agree too


def test_tag_feeds_hold_exactly_their_tag(seed_feeds: Path, seed_path: Path) -> None:
    """tags/<t>*.atom hold exactly the entries tagged t; all/ko/en hold every entry, newest first."""
    digest = parse_digest(seed_path, Config())
    for tag in SEED_TAGS:
        for suffix, variant in (("", ""), (".ko", "/ko"), (".en", "/en")):
            want = [e.id + variant for e in digest.entries if tag in e.tags]
            got = [
                e.id
                for e in feedparse((seed_feeds / f"tags/{tag}{suffix}.atom").read_bytes()).entries
            ]
            assert got == want, (tag, suffix)
    for name, variant in (("all", ""), ("ko", "/ko"), ("en", "/en")):
        got = [e.id for e in feedparse((seed_feeds / f"{name}.atom").read_bytes()).entries]
        assert got == [e.id + variant for e in digest.entries]  # digest order = newest first


def test_languages_are_marked(seed_feeds: Path) -> None:
    """ko/en feeds carry xml:lang and only their comment; the bilingual feed marks each part's lang."""
    for name, lang, other in (("ko", "ko", "en"), ("en", "en", "ko"), ("tags/rl.ko", "ko", "en")):
        data = (seed_feeds / f"{name}.atom").read_bytes()
        assert parse_xml(data).get(XML_LANG) == lang
        parsed = feedparse(data)
        assert parsed.feed.language == lang
        for entry in parsed.entries:
            html = entry.content[0].value
            assert f'class="comment" lang="{lang}"' in html
            assert f'class="comment" lang="{other}"' not in html
    bilingual = feedparse((seed_feeds / "all.atom").read_bytes())
    for entry in bilingual.entries:
        html = entry.content[0].value
        assert 'class="comment" lang="ko"' in html and 'class="comment" lang="en"' in html
        assert 'class="abstract" lang="en"' in html


def test_feed_metadata(seed_feeds: Path) -> None:
    """Each feed: tag URI id, title naming tag and language, curator author, absolute self URL, site link."""
    config = Config()
    root = parse_xml((seed_feeds / "tags/rl.en.atom").read_bytes())
    assert (
        root.findtext(f"{A}id") == f"tag:{config.tag_authority},{config.tag_date}:feed/tags/rl.en"
    )
    title = root.findtext(f"{A}title")
    assert "#rl" in title and "English" in title
    assert root.findtext(f"{A}author/{A}name") == config.curator
    links = {lk.get("rel"): lk.get("href") for lk in root.findall(f"{A}link")}
    assert links["self"] == config.feed_base_url + "tags/rl.en.atom"
    site_links = [
        lk.get("href")
        for lk in root.findall(f"{A}link")
        if (lk.get("rel"), lk.get("type")) == ("alternate", "text/html")
    ]
    # the tag's page, and last of the feed's links (newsboat takes the last alternate as the site);
    # the other alternates are the .rss/.json twins (RSS 2.0 and JSON Feed)
    assert site_links == [config.feed_base_url + "tags/rl.html"]
    assert root.findall(f"{A}link")[-1].get("type") == "text/html"
    all_links = parse_xml((seed_feeds / "all.atom").read_bytes()).findall(f"{A}link")
    assert (all_links[-1].get("type"), all_links[-1].get("href")) == (
        "text/html",
        config.feed_base_url,
    )
    assert root.findtext(f"{A}generator") == "digestfeed"
    assert root.find(f"{A}generator").get("version") is None  # no version: rebuilds stay identical


def test_entry_times_are_distinct_ordered_and_zoned(seed_feeds: Path) -> None:
    """published = updated = digest date at the configured hour in Asia/Seoul, one minute apart in digest order."""
    parsed = feedparse((seed_feeds / "all.atom").read_bytes())
    stamps = [dt.datetime.fromisoformat(e.published) for e in parsed.entries]
    assert stamps == [
        dt.datetime(2025, 5, 8, 9, 0, tzinfo=SEOUL) - dt.timedelta(minutes=i) for i in range(3)
    ]
    assert [e.updated for e in parsed.entries] == [e.published for e in parsed.entries]
    assert (
        parsed.feed.updated == parsed.entries[0].updated
    )  # the newest entry's, never the build time


def test_entry_links_keep_rel_and_type(seed_feeds: Path) -> None:
    """Entry links keep rel and type (feedgen 1.0 drops them; digestfeed works around it)."""
    root = parse_xml((seed_feeds / "all.atom").read_bytes())
    for entry in root.findall(f"{A}entry"):
        links = entry.findall(f"{A}link")
        assert [(lk.get("rel"), lk.get("type")) for lk in links] == [("alternate", "text/html")] * 3
        slug = entry.findtext(f"{A}id").rsplit("/", 1)[-1]  # the anchor: the title slug
        assert links[0].get("href") == (
            f"https://digestfeed.example.org/feeds/days/2025-05-08.html#{slug}"
        )
        assert [lk.get("hreflang") for lk in links] == [None, "ko", "en"]
        assert {lk.get("href") for lk in links} == {links[0].get("href")}


def test_each_variant_links_its_siblings_by_language(seed_feeds: Path) -> None:
    """The Korean variant links its English sibling and vice versa (rel=alternate hreflang, same page); feedparser keeps the main link first."""
    for name, siblings in (
        ("ko", ["en"]),
        ("en", ["ko"]),
        ("tags/rl.ko", ["en"]),
        ("all", ["ko", "en"]),
    ):
        data = (seed_feeds / f"{name}.atom").read_bytes()
        for entry in parse_xml(data).findall(f"{A}entry"):
            links = entry.findall(f"{A}link")
            assert [lk.get("hreflang") for lk in links if lk.get("hreflang")] == siblings, name
            assert {lk.get("href") for lk in links if lk.get("rel") == "alternate"} == {
                links[0].get("href")
            }
        for entry in feedparse(data).entries:
            assert entry.link.startswith(
                "https://digestfeed.example.org/feeds/days/2025-05-08.html#"
            )


def test_categories_have_term_label_and_scheme(seed_feeds: Path) -> None:
    """category term = slug, label = the hashtag as written, scheme = the tag page URL."""
    root = parse_xml((seed_feeds / "tags/rl.atom").read_bytes())
    cats = [
        (c.get("term"), c.get("label"), c.get("scheme"))
        for c in root.find(f"{A}entry").findall(f"{A}category")
    ]
    base = Config().feed_base_url
    assert cats == [(t, f"#{t}", f"{base}tags/{t}.html") for t in ("rl", "tool", "reasoning")]


def test_content_has_authors_abstract_and_links(seed_feeds: Path, seed_path: Path) -> None:
    """Content holds all authors, the abstract with every URL as a link, escaped exactly once."""
    digest = parse_digest(seed_path, Config())
    entries = {e.id: e for e in feedparse((seed_feeds / "all.atom").read_bytes()).entries}
    second = digest.entries[1]
    html = entries[second.id].content[0].value
    assert ", ".join(second.authors) in html
    assert '<a href="https://generalist.top/">https://generalist.top/</a>' in html
    first = digest.entries[0]
    assert (
        len(first.authors) == 74 and ", ".join(first.authors) in entries[first.id].content[0].value
    )


def test_titles_show_literally(tmp_path: Path) -> None:
    """A title with <, & and $…$ comes out of feedparser exactly as written, never as markup or double-escaped."""
    title = "Why <b>bold</b> & $x<y$ &amp; friends"
    text = f"2025-01-02\n{title}\n(A. Author)\nAn abstract.\n한국어 코멘트.\nAn English comment.\n#test"
    feeds = build_site(tmp_path, {"2025-01-02.txt": text})
    data = (feeds / "all.atom").read_bytes()
    assert parse_xml(data).find(f"{A}entry").findtext(f"{A}title") == title
    assert feedparse(data).entries[0].title == title


def test_feeds_keep_the_newest_n(tmp_path: Path) -> None:
    """A feed holds the newest max_entries entries plus those not yet in a full archive page, newest first."""
    digests = {
        f"2025-01-{d:02d}.txt": f"2025-01-{d:02d}\nPaper {d}\n(A)\nAbstract {d}.\n코멘트 {d}.\nComment.\n#t"
        for d in range(1, 8)
    }
    feeds = build_site(tmp_path, digests, config="max_entries = 3\narchive_page_size = 2\n")
    titles = [e.title for e in feedparse((feeds / "all.atom").read_bytes()).entries]
    assert titles == ["Paper 7", "Paper 6", "Paper 5"]  # 1-6 are in three full pages
    feeds = build_site(tmp_path / "b", digests, config="max_entries = 3\narchive_page_size = 5\n")
    titles = [e.title for e in feedparse((feeds / "all.atom").read_bytes()).entries]
    assert titles == ["Paper 7", "Paper 6", "Paper 5"]  # 1-5 paged; 6, 7 open and newest
    digests["2025-01-08.txt"] = digests["2025-01-07.txt"].replace("7", "8")
    feeds = build_site(tmp_path / "c", digests, config="max_entries = 1\narchive_page_size = 5\n")
    titles = [e.title for e in feedparse((feeds / "all.atom").read_bytes()).entries]
    assert titles == ["Paper 8", "Paper 7", "Paper 6"]  # newest 1, plus the open 6-8


def test_builds_are_byte_identical(tmp_path: Path, seed_path: Path) -> None:
    """Two builds of the same entries, in other processes, hash seeds and clocks, write byte-identical files."""
    import os
    import subprocess
    import sys

    a = build_site(tmp_path / "a", seed=seed_path)
    (tmp_path / "b" / "entries").mkdir(parents=True)
    shutil.copy(seed_path, tmp_path / "b" / "entries" / seed_path.name)
    (tmp_path / "b" / "digestfeed.toml").write_text("")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "DIGESTFEED_NOW": "2031-07-07T07:07:07+09:00"}
    subprocess.run(
        [sys.executable, "-m", "digestfeed", "build", "-q", "--no-cache"],
        cwd=tmp_path / "b",
        env=env,
        check=True,
    )
    b = tmp_path / "b" / "feeds"
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_opml_lists_every_feed_and_leads_to_its_entries(seed_feeds: Path, seed_path: Path) -> None:
    """Every OPML outline's xmlUrl is a feed file under feeds/, and each tag's entries are exactly in its feeds."""
    config = Config()
    digest = parse_digest(seed_path, config)
    opml = etree.parse(str(seed_feeds / "index.opml")).getroot()
    assert opml.get("version") == "2.0"
    outlines = opml.findall(".//outline[@xmlUrl]")
    files = {p.relative_to(seed_feeds).as_posix() for p in seed_feeds.rglob("*.atom")}
    assert {o.get("xmlUrl").removeprefix(config.feed_base_url) for o in outlines} == files
    for outline in outlines:
        assert outline.get("type") == "rss"
        for attr in ("text", "title", "xmlUrl", "htmlUrl", "language"):
            assert outline.get(attr), (attr, outline.attrib)
        path = seed_feeds / outline.get("xmlUrl").removeprefix(config.feed_base_url)
        ids = [e.id for e in feedparse(path.read_bytes()).entries]
        variant = variant_of(path.name)
        tag = outline.get("category")
        if tag:
            assert ids == [e.id + variant for e in digest.entries if tag in e.tags]
        else:
            assert ids == [e.id + variant for e in digest.entries]
        assert outline.get("language") in ("ko", "en", "mul")


GOLDEN = Path(__file__).parent / "data" / "golden" / "seed"


def _c14n(data: bytes) -> bytes:
    return etree.tostring(parse_xml(data), method="c14n2")


@pytest.mark.parametrize(
    "name", ["all.atom", "ko.atom", "en.atom", "tags/rl.en.atom", "index.opml"]
)
def test_golden_feeds(seed_feeds: Path, name: str, request: pytest.FixtureRequest) -> None:
    """The seed's feeds equal the checked-in expected files canonically (C14N 2.0, fixed clock)."""
    expected = GOLDEN / name
    actual = (seed_feeds / name).read_bytes()
    if request.config.getoption("--update-golden"):
        expected.parent.mkdir(parents=True, exist_ok=True)
        expected.write_bytes(actual)
    assert _c14n(actual) == _c14n(expected.read_bytes()), f"{name} differs from {expected}"


def test_entry_with_no_content_is_written_as_lxml_would(tmp_path: Path) -> None:
    """An entry with no authors, abstract or comments gets the empty <content type="html"/> element."""
    feeds = build_site(tmp_path, {"2025-01-03.txt": "2025-01-03\nA Bare Title\n()\n#bare"})
    data = (feeds / "all.atom").read_bytes()
    assert b'<content type="html"/>' in data
    check_atom(data, "all.atom")
    assert feedparse(data).entries[0].title == "A Bare Title"


def test_noncharacters_are_removed_with_a_warning(tmp_path: Path) -> None:
    """U+FFFE/U+FFFF (illegal in XML) are removed like control characters, and the feeds stay valid."""
    text = "2025-01-04\nTitle\n(A)\nAbstract \ufffe here.\n한국어 코멘트\uffff.\nEnglish.\n#t"
    (tmp_path / "entries").mkdir()
    (tmp_path / "entries" / "2025-01-04.txt").write_text(text, encoding="utf-8")
    (tmp_path / "digestfeed.toml").write_text("")
    result = CliRunner().invoke(
        main,
        [
            "--config",
            str(tmp_path / "digestfeed.toml"),
            "build",
            "--entries",
            str(tmp_path / "entries"),
            "--out",
            str(tmp_path / "feeds"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2025-01-04.txt:4: removed control character" in result.output
    data = (tmp_path / "feeds" / "all.atom").read_bytes()
    check_atom(data)
    assert "Abstract  here." in feedparse(data).entries[0].content[0].value


def test_text_illegal_in_xml_from_a_plugin_source_is_a_clean_error() -> None:
    """An entry holding a control character (a third-party source) fails the render naming its source line."""
    import datetime as dt

    from digestfeed.errors import BuildError
    from digestfeed.render.atom import EntryRenderer
    from digestfeed.render.memo import Memo
    from digestfeed.types import Entry, Timed

    entry = Entry(
        id="tag:x,2025:a",
        date="2025-01-01",
        title="T",
        authors=("A",),
        abstract="bad \x01 text",
        comment_ko="",
        comment_en="",
        tags=("t",),
        links=(),
        source="plugin.jsonl:7",
    )
    when = dt.datetime(2025, 1, 1, 9, tzinfo=dt.UTC)
    with pytest.raises(BuildError, match=r"plugin\.jsonl:7"):
        EntryRenderer(Config(), Memo())(Timed(entry, when, when), None)


def test_entries_link_the_paper_they_know(tmp_path: Path) -> None:
    """An entry whose source knows the paper's URL (the vault) links it with rel="related"; digests do not."""
    notes = Path(__file__).parent / "data" / "notes"
    (tmp_path / "digestfeed.toml").write_text("")
    out = tmp_path / "feeds"
    result = CliRunner().invoke(
        main,
        [
            "--config",
            str(tmp_path / "digestfeed.toml"),
            "build",
            "--source",
            f"notes={notes}",
            "--out",
            str(out),
            "--ledger",
            str(tmp_path / "l.json"),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    root = check_atom((out / "all.atom").read_bytes())
    related = {
        e.findtext(f"{A}id"): [
            lk.get("href") for lk in e.findall(f"{A}link") if lk.get("rel") == "related"
        ]
        for e in root.findall(f"{A}entry")
    }
    full = next(i for i in related if i.endswith(":arxiv:2405.01234"))  # "240507 Full Note.md"
    assert related[full] == [
        "https://arxiv.org/abs/2405.01234v2"
    ]  # the note's first line, as written
    assert all(len(hrefs) <= 1 for hrefs in related.values())
