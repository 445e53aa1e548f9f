"""Digest pages (``days/<date>.html``) and the URL template every entry's main link comes from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from digestfeed import Config, ConfigError
from digestfeed.config import validate
from digestfeed.urls import entry_anchor
from feedcheck import feedparse
from sitebuild import build_site


@pytest.fixture(scope="module")
def seed_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("pages")
    return build_site(tmp, seed=Path(__file__).parents[1] / "entries" / "2025-05-08.txt")


def test_day_page_holds_every_entry_of_its_digest_at_its_anchor(seed_site: Path) -> None:
    """days/2025-05-08.html has one article per entry, id = the anchor every feed links to."""
    page = lxml_html.fromstring((seed_site / "days" / "2025-05-08.html").read_bytes())
    feed = feedparse((seed_site / "all.atom").read_bytes())
    articles = page.xpath("//article")
    assert [a.get("id") for a in articles] == [e.id.rsplit("/", 1)[-1] for e in feed.entries]
    assert len(articles) == 3
    for entry, article in zip(feed.entries, articles, strict=True):
        path, anchor = entry.link.removeprefix(Config().feed_base_url).split("#")
        assert path == "days/2025-05-08.html" and anchor == article.get("id")
        assert article.xpath("string(.//h2)") == entry.title
        langs = {el.get("lang") for el in article.xpath(".//*[@lang]")}
        assert {"ko", "en"} <= langs  # both comments, each marked
        assert article.xpath(".//div[@class='comment' and @lang='ko']")
        assert article.xpath(".//div[@class='comment' and @lang='en']")
        paper = article.xpath(".//h2/a/@href")[0]
        assert paper.startswith("https://arxiv.org/search/?searchtype=title&query=")


def test_day_page_is_static_and_links_back(seed_site: Path) -> None:
    """A day page has no script, no external asset, the viewport meta, and links to the directory and tags."""
    raw = (seed_site / "days" / "2025-05-08.html").read_text(encoding="utf-8")
    page = lxml_html.fromstring(raw.encode())
    assert not page.xpath("//script | //iframe | //img | //link[@rel='stylesheet']")
    assert page.xpath("//meta[@name='viewport']")
    hrefs = set(page.xpath("//a/@href"))
    assert "../index.html" in hrefs and "../tags/rl.html" in hrefs
    assert page.get("lang") == "ko"


def test_tag_page_titles_link_to_the_day_page(seed_site: Path) -> None:
    """A tag page's entry titles point at the digest page, relative so the site works from disk."""
    page = lxml_html.fromstring((seed_site / "tags" / "rl.html").read_bytes())
    links = page.xpath("//article/h2/a/@href")
    assert links == [
        "../days/2025-05-08.html#zerosearch-incentivize-the-search-capability-of-llms-without"
    ]


def test_a_vault_entry_anchor_is_its_arxiv_id() -> None:
    """An id named after its arXiv paper anchors as arxiv-<id>; a digest entry as its title slug."""
    assert entry_anchor("tag:a.b,2025:arxiv:2405.01234") == "arxiv-2405.01234"
    assert entry_anchor("tag:a.b,2025:arxiv:hep-th/9901001") == "arxiv-hep-th-9901001"
    assert entry_anchor("tag:a.b,2025:2025-05-08/some-title-2") == "some-title-2"


def test_substack_pattern_points_every_format_at_the_post(tmp_path: Path) -> None:
    """digest_url_pattern = Substack: Atom, RSS and JSON entry links are the post, unpadded month/day."""
    feeds = build_site(
        tmp_path,
        {"2025-05-08.txt": "2025-05-08\nA Title\n(A B)\nAbstract.\n한국어.\nEnglish.\n#rl\n"},
        config='digest_url_pattern = "https://x.substack.com/p/{year}-{m}-{d}"\n',
    )
    post = "https://x.substack.com/p/2025-5-8"
    assert feedparse((feeds / "all.atom").read_bytes()).entries[0].link == post
    rss = etree.fromstring((feeds / "all.rss").read_bytes())
    assert rss.findtext("channel/item/link") == post
    assert json.loads((feeds / "all.json").read_bytes())["items"][0]["url"] == post
    tag_page = lxml_html.fromstring((feeds / "tags" / "rl.html").read_bytes())
    assert tag_page.xpath("//article/h2/a/@href") == [post]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("{feed_base_url}days/{date}.html#{anchor}", "https://h.test/f/days/2025-01-02.html#a-b"),
        ("https://x.substack.com/p/{year}-{m}-{d}", "https://x.substack.com/p/2025-1-2"),
        ("{site_url}{year}/{month}/{day}/", "https://h.test/2025/01/02/"),
        ("{site_url}q?x={{literal}}#{anchor}", "https://h.test/q?x={literal}#a-b"),
    ],
)
def test_valid_patterns_expand(pattern: str, expected: str) -> None:
    """Named placeholders expand (padded and unpadded month/day, anchor); doubled braces are literal."""
    config = validate(
        {
            "site_url": "https://h.test/",
            "feed_base_url": "https://h.test/f/",
            "digest_url_pattern": pattern,
        }
    )
    assert config.digest_url("2025-01-02", "a-b") == expected


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("{site_url:>100000000}", "format spec"),
        ("{date!r}", "conversion"),
        ("{date.upper}", "unknown placeholder"),
        ("{date[0]}", "unknown placeholder"),
        ("{site_url.__class__}", "unknown placeholder"),
        ("{}", "positional"),
        ("{0}", "unknown placeholder"),
        ("{nope}", "unknown placeholder"),
        ("{site_url}{", "brace"),
        ("javascript:alert({date})", "absolute http(s)"),
        ("days/{date}.html", "absolute http(s)"),
        ("ftp://h.test/{date}", "absolute http(s)"),
    ],
)
def test_bad_patterns_are_config_errors_naming_the_key(pattern: str, reason: str) -> None:
    """Format specs, conversions, attribute/index access, unknown names and non-http(s) results are refused."""
    with pytest.raises(ConfigError) as info:
        validate({"digest_url_pattern": pattern}, "digestfeed.toml")
    message = str(info.value)
    assert "digest_url_pattern" in message and "digestfeed.toml" in message
    assert reason in message, message


def test_index_links_the_newest_digest_pages(tmp_path: Path) -> None:
    """index.html lists the newest 14 digest pages, newest first, each an existing file."""
    digests = {
        f"2025-03-{day:02d}.txt": f"2025-03-{day:02d}\nT{day}\n(A B)\nAbs.\n한국어.\nEnglish.\n#rl\n"
        for day in range(1, 21)
    }
    feeds = build_site(tmp_path, digests)
    page = lxml_html.fromstring((feeds / "index.html").read_bytes())
    hrefs = page.xpath("//section[@id='days']//a/@href")
    assert hrefs == [f"days/2025-03-{day:02d}.html" for day in range(20, 6, -1)]
    assert all((feeds / href).is_file() for href in hrefs)
    assert len(list((feeds / "days").glob("*.html"))) == 20
