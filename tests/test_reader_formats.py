"""The feed reader's formats: JSON Feed as a first-class format, lenient XML repair, true refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest

from digestfeed.reader import Reader, ReadResult
from digestfeed.reader import jsonfeed as reader_jsonfeed
from sitebuild import build_site, synthetic_digests

PROJECT = Path(__file__).resolve().parent.parent
RSS_HEAD = '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>t</title>'


def _read(tmp_path: Path, *sources: Any, state: str = "s.sqlite") -> ReadResult:
    with Reader(tmp_path / state, local_twins=False) as reader:
        return reader.read(list(sources), all=True)


def _comparable(result: ReadResult) -> list[dict[str, Any]]:
    """Items as JSON, without where and when they were seen."""
    out = []
    for item in result:
        data = item.to_json()
        del data["feeds"], data["first_seen"]
        out.append(data)
    return sorted(out, key=lambda d: d["id"])


@pytest.fixture(scope="module")
def seed_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed digest and 24 synthetic entries (markup, Korean, URLs in comments)."""
    return build_site(
        tmp_path_factory.mktemp("site"),
        synthetic_digests(),
        seed=PROJECT / "entries" / "2025-05-08.txt",
    )


@pytest.mark.parametrize("name", ["all", "ko", "en"])
def test_own_json_feed_reads_back_like_its_atom_twin(
    seed_site: Path, tmp_path: Path, name: str
) -> None:
    """digestfeed's own .json feed gives exactly the items of its .atom twin."""
    atom = _read(tmp_path, seed_site / f"{name}.atom", state="atom.sqlite")
    as_json = _read(tmp_path, seed_site / f"{name}.json", state="json.sqlite")
    assert not atom.failures and not as_json.failures
    assert len(atom) == 27
    assert _comparable(as_json) == _comparable(atom)
    assert {i.rule for i in as_json} == {"id"}


def test_directory_with_json_twins_shows_each_paper_once(seed_site: Path, tmp_path: Path) -> None:
    """Reading the whole site directory (Atom, RSS and JSON Feed) shows each paper once."""
    atom_only = _read(tmp_path, seed_site / "all.atom", state="a.sqlite")
    everything = _read(tmp_path, seed_site, state="b.sqlite")
    assert not everything.failures
    assert any(f.endswith(".json") for i in everything for f in i.feeds)
    assert sorted(i.id for i in everything) == sorted(i.id for i in atom_only)


def test_directory_reads_json_and_rdf(tmp_path: Path) -> None:
    """A directory's *.json and *.rdf files are read, not skipped."""
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "a.json").write_text(
        json.dumps(
            {
                "version": "https://jsonfeed.org/version/1",
                "title": "j",
                "items": [{"id": "1", "url": "https://j.example.org/1", "title": "From JSON"}],
            }
        ),
        encoding="utf-8",
    )
    (feeds / "b.rdf").write_text(
        '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://r.example.org/">'
        "<title>r</title><link>https://r.example.org/</link><description>d</description>"
        '</channel><item rdf:about="https://r.example.org/1"><title>From RDF</title>'
        "<link>https://r.example.org/1</link></item></rdf:RDF>",
        encoding="utf-8",
    )
    result = _read(tmp_path, feeds)
    assert not result.failures
    assert sorted(i.title for i in result) == ["From JSON", "From RDF"]


def test_json_feed_over_the_item_cap_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A JSON Feed with more items than the cap is refused whole, naming the cap."""
    monkeypatch.setattr(reader_jsonfeed, "MAX_ITEMS", 2)
    path = tmp_path / "many.json"
    items = [{"id": str(n), "url": f"https://x.example.org/{n}"} for n in range(3)]
    path.write_text(
        json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items}), "utf-8"
    )
    result = _read(tmp_path, path)
    assert len(result) == 0
    assert "item cap" in result.failures[0].reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"items": []}', "without a JSON Feed version"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "malformed JSON"),
        (b'{"version": "https://jsonfeed.org/version/1.1"}', "without an items array"),
    ],
)
def test_json_that_is_not_a_json_feed_says_why(tmp_path: Path, body: bytes, reason: str) -> None:
    """JSON that is not a JSON Feed is refused with the reason, not as an unsupported format."""
    path = tmp_path / "x.json"
    path.write_bytes(body)
    result = _read(tmp_path, path)
    assert len(result) == 0
    assert reason in result.failures[0].reason


def test_tags_keep_their_written_form(tmp_path: Path) -> None:
    """Tag terms are shown as the feed wrote them; spellings that differ only in case are one."""
    path = tmp_path / "t.rss"
    path.write_text(
        RSS_HEAD + "<item><title>a</title><link>https://t.example.org/a</link>"
        "<category>C++</category><category>C#</category><category>cs.LG</category>"
        "<category>c++</category><category>Object Detection</category></item></channel></rss>",
        encoding="utf-8",
    )
    (item,) = _read(tmp_path, path)
    assert item.tags == ("C++", "C#", "cs.LG", "Object Detection")


def test_undeclared_entities_and_bare_ampersands_are_read(tmp_path: Path) -> None:
    """&nbsp;, &eacute; and a bare & (no DTD) read as their characters, as feedparser reads them."""
    path = tmp_path / "e.rss"
    path.write_bytes(
        (
            RSS_HEAD + "<item><title>Caf&eacute;&nbsp;&amp; R&D</title>"
            "<link>https://e.example.org/?a=1&b=2</link></item></channel></rss>"
        ).encode("utf-8")
    )
    (item,) = _read(tmp_path, path)
    assert item.title == "Café\xa0& R&D".replace("\xa0", " ")
    assert item.links[0] == "https://e.example.org/?a=1&b=2"


def test_truncated_feed_is_refused_as_malformed_not_for_a_dtd(tmp_path: Path) -> None:
    """A truncated feed without a DTD is refused as malformed XML, never for DTD entities."""
    path = tmp_path / "cut.rss"
    path.write_text(RSS_HEAD + "<item><title>a &nbsp; b</title></item></channel></rs", "utf-8")
    result = _read(tmp_path, path)
    assert len(result) == 0
    reason = result.failures[0].reason
    assert reason.startswith("malformed XML") and "DTD" not in reason


def test_external_dtd_and_stylesheet_are_never_fetched(httpserver: Any, tmp_path: Path) -> None:
    """A feed naming an external DTD and a stylesheet is read without requesting either."""
    body = (
        '<?xml version="1.0"?>\n'
        f'<?xml-stylesheet type="text/xsl" href="{httpserver.url_for("/style.xsl")}"?>\n'
        f'<!DOCTYPE rss SYSTEM "{httpserver.url_for("/rss.dtd")}">\n'
        '<rss version="2.0"><channel><title>t</title><item><title>x&nbsp;y</title>'
        "<link>https://d.example.org/x</link></item></channel></rss>"
    )
    httpserver.expect_request("/feed.rss").respond_with_data(
        body, content_type="application/rss+xml"
    )
    result = _read(tmp_path, httpserver.url_for("/feed.rss"))
    assert not result.failures
    assert [i.title for i in result] == ["x y"]
    assert [req.path for req, _ in httpserver.log] == ["/feed.rss"]


def test_json_feed_listed_in_opml_is_read(httpserver: Any, tmp_path: Path) -> None:
    """An OPML list naming a JSON Feed URL reads it like any other feed; relative URLs
    resolve against the document's URL."""
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "j",
        "items": [{"id": "a", "url": "/posts/a", "title": "Relative", "tags": ["cs.LG"]}],
    }
    httpserver.expect_request("/feed.json").respond_with_json(feed)
    opml = (
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        f'<outline type="rss" xmlUrl="{httpserver.url_for("/feed.json")}"/></body></opml>'
    )
    httpserver.expect_request("/list.opml").respond_with_data(opml, content_type="text/x-opml")
    result = _read(tmp_path, httpserver.url_for("/list.opml"))
    assert not result.failures
    (item,) = result
    assert item.links == (httpserver.url_for("/posts/a"),)
    assert item.tags == ("cs.LG",)


def _vault_pair(tmp_path: Path, marked: bool) -> tuple[Path, Path]:
    """digestfeed's Atom and JSON Feed of one vault entry with no comment (only a link)."""
    entry_id = "tag:vault.example.org,2025:arxiv:2505.04588"
    page = "https://vault.example.org/days/2025-05-08.html#arxiv-2505-04588"
    content = '<p><a href="https://arxiv.org/abs/2505.04588">arXiv 2505.04588</a></p>'
    atom = tmp_path / "all.atom"
    atom.write_text(
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<id>tag:vault.example.org,2025:all</id><title>v</title>"
        "<updated>2025-05-08T00:00:00Z</updated><generator>digestfeed</generator>"
        f"<entry><id>{entry_id}</id><title>ZeroSearch</title>"
        f'<updated>2025-05-08T00:00:00Z</updated><link rel="alternate" href="{page}"/>'
        f'<content type="html">{escape(content)}</content></entry></feed>',
        encoding="utf-8",
    )
    doc: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "v",
        "items": [
            {
                "id": entry_id,
                "url": page,
                "title": "ZeroSearch",
                "content_html": content,
                "date_modified": "2025-05-08T00:00:00Z",
            }
        ],
    }
    if marked:
        doc["_digestfeed"] = {"generator": "digestfeed"}
    (tmp_path / "all.json").write_text(json.dumps(doc), encoding="utf-8")
    return atom, tmp_path / "all.json"


@pytest.mark.parametrize("marked", [True, False])
def test_json_feed_generator_mark_reads_like_atom(tmp_path: Path, marked: bool) -> None:
    """Only a JSON Feed marked as digestfeed's (its _digestfeed extension) reads as its Atom twin:
    link-only content is not a comment; an unmarked one is a foreign feed, its text the comment."""
    atom, as_json = _vault_pair(tmp_path, marked)
    from_atom = _read(tmp_path, atom, state="a.sqlite")
    from_json = _read(tmp_path, as_json, state="j.sqlite")
    assert from_atom[0].comments == {"ko": None, "en": None}
    assert (_comparable(from_json) == _comparable(from_atom)) is marked


@pytest.mark.parametrize(
    ("content_location", "base"),
    [
        (None, "https://a.example.org/x/feed"),
        ("/y/", "https://a.example.org/y/"),
        ("https://b.example.org/z", "https://b.example.org/z"),
        ("file:///etc/passwd", "https://a.example.org/x/feed"),
        ("javascript:alert(1)", "https://a.example.org/x/feed"),
    ],
)
def test_content_location_is_the_base_only_as_an_http_url(
    content_location: str | None, base: str
) -> None:
    """A Content-Location header is the base for relative links, resolved, and only if http(s)."""
    from digestfeed.reader.fetch import Fetched

    fetched = Fetched(
        "https://a.example.org/x/feed",
        "https://a.example.org/x/feed",
        b"",
        content_location=content_location,
    )
    assert fetched.base_url == base
