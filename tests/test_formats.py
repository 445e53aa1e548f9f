"""RSS 2.0 and JSON Feed 1.1 beside Atom: same entries, ids, dates, titles, content, tags."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from digestfeed.cli import main
from digestfeed.config import Config
from digestfeed.ledger import Ledger
from digestfeed.pipeline import build_digests
from digestfeed.reader.identity import paper_id
from digestfeed.render.atom import AtomOutput
from digestfeed.render.html import HtmlOutput
from digestfeed.sources.digest import parse_digest
from feedcheck import A, check_atom, feedparse, parse_xml
from sitebuild import NOW, SMALL, build_site, synthetic_digests

CONFIG = Config()
ATOM_NS = "http://www.w3.org/2005/Atom"
FH = "{http://purl.org/syndication/history/1.0}"
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"
)
MEDIA = {"rss": "application/rss+xml", "json": "application/feed+json"}


@pytest.fixture(scope="module")
def seed_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import PROJECT

    return build_site(tmp_path_factory.mktemp("seed"), seed=PROJECT / "entries" / "2025-05-08.txt")


@pytest.fixture(scope="module")
def multi_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.mktemp("multi"), synthetic_digests(), config=SMALL)


@pytest.fixture(params=["seed", "multi"])
def seed_or_multi_site(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue(f"{request.param}_site")


def rel_names(feeds: Path, ext: str) -> set[str]:
    """Documents of ``feeds`` with extension ``ext``, as paths without it."""
    return {
        p.relative_to(feeds).as_posix().removesuffix(f".{ext}") for p in feeds.rglob(f"*.{ext}")
    }


def subscription_names(feeds: Path) -> set[str]:
    return {n for n in rel_names(feeds, "atom") if not n.startswith("archive/")}


def _dt(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def atom_entries(data: bytes) -> list[dict[str, Any]]:
    parsed = feedparse(data)
    xml = parse_xml(data).findall(f"{A}entry")
    return [
        {
            "id": e.id,
            "title": e.title,
            "published": _dt(e.published),
            "updated": _dt(e.updated),
            "tags": [t.term for t in e.tags],
            "content": x.findtext(f"{A}content"),
        }
        for e, x in zip(parsed.entries, xml, strict=True)
    ]


def rss_entries(data: bytes) -> list[dict[str, Any]]:
    parsed = feedparse(data)
    assert parsed.version == "rss20"
    xml = parse_xml(data).findall("channel/item")
    return [
        {
            "id": e.id,
            "title": e.title,
            "published": email.utils.parsedate_to_datetime(e.published),
            "updated": _dt(e.updated),
            "tags": [t.term for t in e.tags],
            "content": x.findtext("description"),
        }
        for e, x in zip(parsed.entries, xml, strict=True)
    ]


def json_entries(data: bytes) -> list[dict[str, Any]]:
    feed = json.loads(data)
    return [
        {
            "id": i["id"],
            "title": i["title"],
            "published": _dt(i["date_published"]),
            "updated": _dt(i["date_modified"]),
            "tags": i["tags"],
            "content": i["content_html"],
        }
        for i in feed["items"]
    ]


def test_rss_and_json_exist_for_every_subscription_document_only(seed_or_multi_site: Path) -> None:
    """Every subscription .atom has a .rss and a .json twin; archives are Atom only."""
    subs = subscription_names(seed_or_multi_site)
    assert (
        subs
        and rel_names(seed_or_multi_site, "rss") == subs
        and rel_names(seed_or_multi_site, "json") == subs
    )


def test_same_entries_dates_titles_content_and_tags_in_every_format(
    seed_or_multi_site: Path,
) -> None:
    """Atom, RSS and JSON Feed of one feed hold the same entries in the same order, field for field."""
    for name in sorted(subscription_names(seed_or_multi_site)):
        atom = atom_entries((seed_or_multi_site / f"{name}.atom").read_bytes())
        assert atom, name
        assert rss_entries((seed_or_multi_site / f"{name}.rss").read_bytes()) == atom, name
        assert json_entries((seed_or_multi_site / f"{name}.json").read_bytes()) == atom, name


def test_seed_entries_match_the_digest(seed_site: Path, seed_path: Path) -> None:
    """The seed's papers come out of RSS and JSON with the parser's ids, titles and tags, newest first."""
    digest = parse_digest(seed_path, Config())
    want = [(e.id, e.title, list(e.tags)) for e in digest.entries]
    for ext, read in (("rss", rss_entries), ("json", json_entries)):
        got = [
            (e["id"], e["title"], e["tags"]) for e in read((seed_site / f"all.{ext}").read_bytes())
        ]
        assert got == want, ext


def test_every_xml_document_is_well_formed_without_dtd_and_bozo_free(
    seed_or_multi_site: Path,
) -> None:
    """Every .atom and .rss parses with lxml (no DTD) and feedparser (bozo 0); Atom passes the RFC 4287 checks."""
    paths = sorted(seed_or_multi_site.rglob("*.atom")) + sorted(seed_or_multi_site.rglob("*.rss"))
    assert paths
    for path in paths:
        data = path.read_bytes()
        root = parse_xml(data)
        assert root.getroottree().docinfo.doctype == "", path
        assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>"), path
        feedparse(data, path.name)
        if path.suffix == ".atom":
            check_atom(data, path.name)


def home(name: str) -> str:
    """A feed's web page: its tag's page for a tag feed, else the feed directory."""
    if name.startswith("tags/"):
        return CONFIG.tag_url(name.removeprefix("tags/").split(".")[0])
    return CONFIG.feed_base_url


def on_digest_page(url: str, entry_id: str) -> bool:
    """``url`` is the entry's place on its digest page (the default URL pattern), for any
    language variant's id."""
    specific = paper_id(entry_id).split(":", 2)[2]
    date, anchor = specific.split("/")[0], specific.rsplit("/", 1)[-1]
    return url == f"{CONFIG.feed_base_url}days/{date}.html#{anchor}"


def test_json_feed_has_the_spec_keys(seed_or_multi_site: Path) -> None:
    """Every .json is JSON Feed 1.1: version, title, home_page_url, feed_url, authors, items with id, url, dates."""
    paths = sorted(seed_or_multi_site.rglob("*.json"))
    assert paths and len(paths) == len(
        list(seed_or_multi_site.rglob("*.rss"))
    )  # one per subscription feed
    for path in paths:
        name = path.relative_to(seed_or_multi_site).as_posix().removesuffix(".json")
        feed = json.loads(path.read_bytes())
        assert feed["version"] == "https://jsonfeed.org/version/1.1"
        assert isinstance(feed["title"], str) and feed["title"]
        assert feed["home_page_url"] == home(name)
        assert feed["feed_url"] == CONFIG.feed_url(f"{name}.json")
        assert feed["authors"] == [{"name": CONFIG.curator}]
        lang = name.rsplit(".", 1)[1] if "." in name else (name if name in ("ko", "en") else None)
        assert feed.get("language") == lang, name
        assert "next_url" not in feed  # no JSON archive pages: history is in the Atom archives
        assert isinstance(feed["items"], list) and feed["items"]
        for item in feed["items"]:
            assert set(item) >= {
                "id",
                "url",
                "title",
                "content_html",
                "date_published",
                "date_modified",
                "tags",
                "authors",
            }, item.keys()
            assert isinstance(item["id"], str) and item["id"].startswith("tag:")
            assert on_digest_page(item["url"], item["id"]), item["url"]
            assert _dt(item["date_published"]).tzinfo is not None
            assert _dt(item["date_modified"]) >= _dt(item["date_published"])
            assert all(isinstance(t, str) for t in item["tags"])
            assert item.get("language") == lang


def test_json_bytes_are_canonical(seed_or_multi_site: Path) -> None:
    """Each .json is exactly json.dumps(ensure_ascii=False, indent=2) of itself plus a newline (UTF-8, no escapes)."""
    for path in sorted(seed_or_multi_site.rglob("*.json")):
        data = path.read_bytes()
        text = json.dumps(json.loads(data), ensure_ascii=False, indent=2) + "\n"
        assert data == text.encode("utf-8"), path
    assert "한국어" in (seed_or_multi_site / "ko.json").read_text(encoding="utf-8")


def test_rss_channel_and_items(multi_site: Path) -> None:
    """RSS: self link, language, newest lastBuildDate, guid isPermaLink=false, RFC 822 pubDate, categories."""
    for name in sorted(subscription_names(multi_site)):
        data = (multi_site / f"{name}.rss").read_bytes()
        channel = parse_xml(data).find("channel")
        selfs = [lk for lk in channel.findall(f"{{{ATOM_NS}}}link") if lk.get("rel") == "self"]
        assert [(lk.get("href"), lk.get("type")) for lk in selfs] == [
            (CONFIG.feed_url(f"{name}.rss"), MEDIA["rss"])
        ]
        assert channel.findtext("link") == home(name)
        assert channel.findtext("generator") == "digestfeed"
        atom = parse_xml((multi_site / f"{name}.atom").read_bytes())
        assert channel.findtext("language") == atom.get(
            "{http://www.w3.org/XML/1998/namespace}lang"
        ), name
        assert (channel.find(f"{FH}complete") is None) == (atom.find(f"{FH}complete") is None), name
        items = channel.findall("item")
        newest = max(_dt(i.findtext(f"{{{ATOM_NS}}}updated")) for i in items)
        assert email.utils.parsedate_to_datetime(channel.findtext("lastBuildDate")) == newest
        for item in items:
            guid = item.find("guid")
            assert guid.get("isPermaLink") == "false" and guid.text.startswith("tag:")
            assert RFC822.match(item.findtext("pubDate")), item.findtext("pubDate")
            assert on_digest_page(item.findtext("link"), guid.text), item.findtext("link")
            assert item.findtext("{http://purl.org/dc/elements/1.1/}creator") == CONFIG.curator
            for cat in item.findall("category"):
                assert cat.get("domain") == CONFIG.tag_url(cat.text)


def test_atom_subscription_feeds_link_their_alternates(seed_or_multi_site: Path) -> None:
    """Each subscription Atom feed links its .rss and .json with rel=alternate and the right media type."""
    for name in sorted(rel_names(seed_or_multi_site, "atom")):
        root = parse_xml((seed_or_multi_site / f"{name}.atom").read_bytes())
        alternates = {
            lk.get("type"): lk.get("href")
            for lk in root.findall(f"{A}link")
            if lk.get("rel") == "alternate"
        }
        if name.startswith("archive/"):
            assert set(alternates) == {"text/html"}, name
            continue
        for ext, media in MEDIA.items():
            assert alternates[media] == CONFIG.feed_url(f"{name}.{ext}"), (name, ext)
            assert (seed_or_multi_site / f"{name}.{ext}").is_file()


def test_only_installed_formats_are_linked(tmp_path: Path, seed_path: Path) -> None:
    """Without the rss/json outputs, Atom feeds and the HTML directory link no .rss/.json file."""
    digest = parse_digest(seed_path, CONFIG)
    out = tmp_path / "feeds"
    build_digests(
        CONFIG,
        [digest],
        out,
        tmp_path / "ledger.json",
        now=_dt(NOW),
        outputs=[AtomOutput(), HtmlOutput()],
    )
    assert not list(out.rglob("*.rss")) and not list(out.rglob("*.json"))
    for path in [*out.rglob("*.atom"), *out.rglob("*.html")]:
        text = path.read_text(encoding="utf-8")
        assert ".rss" not in text and ".json" not in text and "index.opml" not in text, path


def test_rebuilds_with_another_clock_are_byte_identical(tmp_path: Path) -> None:
    """RSS, JSON and HTML bytes depend on the entries only: a build a year later writes the same files."""
    a = build_site(tmp_path / "a", synthetic_digests(), config=SMALL)
    b = build_site(
        tmp_path / "b", synthetic_digests(), config=SMALL, now="2027-06-30T23:59:59+09:00"
    )
    names = sorted(p.relative_to(a) for ext in ("rss", "json", "html") for p in a.rglob(f"*.{ext}"))
    assert names == sorted(
        p.relative_to(b) for ext in ("rss", "json", "html") for p in b.rglob(f"*.{ext}")
    )
    for rel in names:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_edits_show_in_every_format_with_the_ledgers_time(tmp_path: Path) -> None:
    """An edited entry gets the same new updated time in Atom, RSS and JSON; published stays."""
    digests = synthetic_digests()
    feeds = build_site(tmp_path, digests, config=SMALL)
    digests["2025-04-24.txt"] = digests["2025-04-24.txt"].replace(
        "Comment 1 on", "Edited comment 1 on"
    )
    later = "2026-02-02T10:00:00+09:00"
    feeds = build_site(tmp_path, digests, config=SMALL, now=later)
    record = Ledger.load(tmp_path / "entries" / ".ledger.json").records
    edited = [r for r in record.values() if r.updated != r.published]
    assert [r.updated for r in edited] == [later]
    for ext, read in (("atom", atom_entries), ("rss", rss_entries), ("json", json_entries)):
        entry = next(
            e for e in read((feeds / f"en.{ext}").read_bytes()) if e["id"] == f"{edited[0].id}/en"
        )
        assert entry["updated"] == _dt(later) and entry["published"] == _dt(edited[0].published), (
            ext
        )
        assert "Edited comment 1 on" in entry["content"], ext


def test_markup_in_text_is_escaped_once(multi_site: Path) -> None:
    """Titles and comments with <, & and quotes read back literally through feedparser and json."""
    title = "Paper 2025-04-24 #1: <Scaling> & “quotes”"
    rss = {e["id"]: e for e in rss_entries((multi_site / "all.rss").read_bytes())}
    js = {e["id"]: e for e in json_entries((multi_site / "all.json").read_bytes())}
    (rid,) = [k for k, e in rss.items() if e["title"] == title]
    assert js[rid]["title"] == title
    assert "“인용” &amp; &lt;꺾쇠&gt; 코멘트." in js[rid]["content"]
    assert 'href="https://example.org/2025-04-24/0?a=1&amp;b=2"' in rss[rid]["content"]


@pytest.mark.corpus
def test_the_945_note_corpus_builds_in_three_formats_with_archives(
    tmp_path: Path, corpus_dir: Path
) -> None:
    """The real vault: every subscription feed in Atom, RSS and JSON, big feeds archived; main feeds agree."""
    (tmp_path / "digestfeed.toml").write_text("", encoding="utf-8")
    args = [
        "--config",
        str(tmp_path / "digestfeed.toml"),
        "build",
        "--source",
        f"notes={corpus_dir}",
        "--out",
        str(tmp_path / "feeds"),
        "--ledger",
        str(tmp_path / "ledger.json"),
        "--now",
        NOW,
        "-q",
        "--no-cache",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    feeds = tmp_path / "feeds"
    subs = subscription_names(feeds)
    assert len(subs) > 300 and rel_names(feeds, "rss") == subs and rel_names(feeds, "json") == subs
    assert {p.name for p in (feeds / "archive" / "all").glob("*.atom")}, (
        "no archive for the all feed"
    )
    for name in ("all", "ko", "en"):
        atom = atom_entries((feeds / f"{name}.atom").read_bytes())
        assert len(atom) == CONFIG.max_entries
        assert rss_entries((feeds / f"{name}.rss").read_bytes()) == atom
        assert json_entries((feeds / f"{name}.json").read_bytes()) == atom
    for path in (feeds / "archive" / "all").glob("*.atom"):
        check_atom(path.read_bytes(), path.name)
        feedparse(path.read_bytes(), path.name)
    assert len(list((feeds / "tags").glob("*.html"))) == len(
        {n.split("/")[1].split(".")[0] for n in subs if n.startswith("tags/")}
    )
