"""The HTML directory in a real headless browser: links resolve, feeds are discoverable, Hangul renders."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from lxml import html as lxml_html

from conftest import PROJECT
from feedcheck import feedparse
from sitebuild import SMALL, build_site, synthetic_digests

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # no network, even by mistake
]
ARTIFACTS = PROJECT / "test-artifacts"
HANGUL = re.compile("[\uac00-\ud7a3]")
#: An unassigned code point: no font has it, so it always renders as a missing-glyph box.
NO_GLYPH = "\u0378"
FEED_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}

if CHROMIUM is None:
    pytest.skip(
        "chromium is not installed (apt-get install chromium fonts-noto-cjk; .ci/run does it)",
        allow_module_level=True,
    )


def chromium(url: str, *args: str, env: dict[str, str] | None = None) -> bytes:
    """Run headless chromium on ``url`` with ``args`` in a throwaway profile; return its stdout."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        proc = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, url],
            capture_output=True,
            timeout=90,
            env={**os.environ, **(env or {}), "no_proxy": "*"},
        )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    return proc.stdout


def screenshot(
    path: Path, out: Path, size: str = "1200,2000", env: dict[str, str] | None = None
) -> bytes:
    chromium(path.as_uri(), f"--screenshot={out}", f"--window-size={size}", env=env)
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG"), out
    return data


def without_hangul(page: Path) -> Path:
    """A copy of ``page`` beside it (same relative links) with every Hangul syllable made a missing glyph."""
    copy = page.with_name(page.stem + ".no-hangul.html")
    copy.write_text(HANGUL.sub(NO_GLYPH, page.read_text(encoding="utf-8")), encoding="utf-8")
    return copy


#: Appended to a copy of a page: writes its layout measurements into ``body[data-measure]``,
#: which ``--dump-dom`` shows (the published pages themselves have no script).
MEASURE = """<script>(function () {
  var times = document.querySelectorAll("time"), wrapped = 0;
  for (var i = 0; i < times.length; i++) if (times[i].getClientRects().length > 1) wrapped++;
  document.body.setAttribute("data-measure", JSON.stringify({
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    wordBreak: getComputedStyle(document.body).wordBreak, times: times.length, wrapped: wrapped}));
})();</script>"""
#: Headless chromium's narrowest window: the phone-width viewport the pages must fit.
PHONE = "500,900"
PHONE_PAGES = ("index.html", "tags/rl.html", "days/2025-05-08.html", "days/2025-04-24.html")


def measure(page: Path, strip_phone_rules: bool = False) -> dict[str, object]:
    """Layout of ``page`` in a 500 px wide chromium window (a measuring copy beside it)."""
    text = page.read_text(encoding="utf-8")
    if strip_phone_rules:  # the control: the same page without its narrow-screen CSS
        text = text[: text.index("/* Phones")] + text[text.index("</style>") :]
    copy = page.with_name(page.stem + (".wide" if strip_phone_rules else ".measure") + ".html")
    copy.write_text(text.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    try:
        dom = chromium(copy.as_uri(), f"--window-size={PHONE}", "--dump-dom")
    finally:
        copy.unlink()
    found = lxml_html.fromstring(dom).body.get("data-measure")
    assert found, dom[-500:]
    return json.loads(found)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def browsed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Build the seed plus a multi-month set, then run every browser job once, in parallel."""
    tmp = tmp_path_factory.mktemp("html")
    digests = synthetic_digests()
    digests["2025-05-08.txt"] = (PROJECT / "entries" / "2025-05-08.txt").read_text(encoding="utf-8")
    feeds = build_site(tmp, digests, config=SMALL)
    shots = tmp / "shots"
    shots.mkdir()
    ARTIFACTS.mkdir(exist_ok=True)
    plain = without_hangul(feeds / "index.html")
    with ThreadPoolExecutor(max_workers=4) as pool:
        jobs = {
            "index_dom": pool.submit(chromium, (feeds / "index.html").as_uri(), "--dump-dom"),
            "index_png": pool.submit(
                screenshot, feeds / "index.html", ARTIFACTS / "html-index.png"
            ),
            "plain_png": pool.submit(screenshot, plain, shots / "index-no-hangul.png"),
            "wide_index": pool.submit(measure, feeds / "index.html", True),
            **{f"phone:{name}": pool.submit(measure, feeds / name) for name in PHONE_PAGES},
        }
        results = {name: job.result() for name, job in jobs.items()}
    plain.unlink()
    results["tag_dom"] = (feeds / "tags" / "rl.html").read_bytes()  # static: one browser start less
    return {"feeds": feeds, **results}


def local_targets(doc: lxml_html.HtmlElement, page: Path) -> list[tuple[str, Path]]:
    """Every ``a[href]`` and ``link[href]`` of ``doc`` that is not http(s), resolved to a file path."""
    out = []
    base = page.as_uri()
    for el in doc.xpath("//a[@href] | //link[@href]"):
        href = el.get("href")
        url = urljoin(base, href)
        parts = urlsplit(url)
        if parts.scheme in ("http", "https"):
            continue  # digest pages and papers: absolute on purpose, never fetched here
        assert parts.scheme == "file", (page, href)
        out.append((href, Path(unquote(parts.path))))
    return out


def assert_links_resolve(doc: lxml_html.HtmlElement, page: Path) -> int:
    targets = local_targets(doc, page)
    missing = [href for href, path in targets if not path.is_file()]
    assert not missing, f"{page.name}: links to missing files: {missing[:10]}"
    return len(targets)


def autodiscovery(doc: lxml_html.HtmlElement) -> set[tuple[str, str]]:
    return {
        (lk.get("type"), lk.get("href")) for lk in doc.xpath("/html/head/link[@rel='alternate']")
    }


def test_index_loads_and_every_link_resolves_to_a_file(browsed: dict[str, object]) -> None:
    """In chromium's DOM of index.html every relative link (feeds, tag pages, OPML) is an existing file."""
    feeds: Path = browsed["feeds"]  # type: ignore[assignment]
    doc = lxml_html.fromstring(browsed["index_dom"])
    assert doc.get("lang") == "ko"
    assert doc.xpath("//meta[@charset]")[0].get("charset").lower() == "utf-8"
    assert assert_links_resolve(doc, feeds / "index.html") > 100
    hrefs = {a.get("href") for a in doc.xpath("//a[@href]")}
    subscription = {
        p.relative_to(feeds).as_posix()
        for p in feeds.rglob("*.atom")
        if not p.relative_to(feeds).as_posix().startswith("archive/")
    }
    for name in subscription:  # every feed in every format
        stem = name.removesuffix(".atom")
        assert {f"{stem}.atom", f"{stem}.rss", f"{stem}.json"} <= hrefs, stem
    assert {p.relative_to(feeds).as_posix() for p in (feeds / "tags").glob("*.html")} <= hrefs
    assert "index.opml" in hrefs


def test_index_has_autodiscovery_for_the_main_feeds(browsed: dict[str, object]) -> None:
    """The index head has <link rel=alternate> for all/ko/en in Atom, RSS and JSON Feed, with titles."""
    doc = lxml_html.fromstring(browsed["index_dom"])
    want = {
        (media, f"{name}.{ext}")
        for name in ("all", "ko", "en")
        for ext, media in FEED_TYPES.items()
    }
    assert autodiscovery(doc) == want
    assert all(lk.get("title") for lk in doc.xpath("/html/head/link[@rel='alternate']"))


def test_index_counts_and_dates_match_the_feeds(browsed: dict[str, object]) -> None:
    """Each tag row shows the tag's entry count (feed + archives) and the date of its newest entry."""
    feeds: Path = browsed["feeds"]  # type: ignore[assignment]
    doc = lxml_html.fromstring(browsed["index_dom"])
    rows = doc.xpath("//section[@id='tags']//tbody/tr")
    assert len(rows) == len(list((feeds / "tags").glob("*.html")))
    for row in rows:
        slug = row.get("id").removeprefix("tag-")
        cells = row.xpath("td")
        ids = {e.id for e in feedparse((feeds / f"tags/{slug}.atom").read_bytes()).entries}
        for archive in (feeds / "archive" / "tags" / slug).glob("*.atom"):
            ids |= {e.id for e in feedparse(archive.read_bytes()).entries}
        assert int(cells[1].text_content()) == len(ids), slug
        newest = feedparse((feeds / f"tags/{slug}.atom").read_bytes()).entries[0].published[:10]
        assert cells[2].text_content() == newest, slug


def test_tag_page_links_resolve_and_lists_entries_in_both_languages(
    browsed: dict[str, object],
) -> None:
    """A tag page: its links resolve, its three feeds are discoverable, entries show ko and en comments."""
    feeds: Path = browsed["feeds"]  # type: ignore[assignment]
    page = feeds / "tags" / "rl.html"
    doc = lxml_html.fromstring(browsed["tag_dom"])
    assert_links_resolve(doc, page)
    want = {
        (media, f"../tags/rl{v}.{ext}")
        for v in ("", ".ko", ".en")
        for ext, media in FEED_TYPES.items()
    }
    assert autodiscovery(doc) == want
    articles = doc.xpath("//article")
    ids = [e.id for e in feedparse((feeds / "tags/rl.atom").read_bytes()).entries]
    assert [a.get("id") for a in articles][: len(ids)] == ids
    for article in articles:
        assert article.xpath(".//*[@class='comment'][@lang='ko']") and article.xpath(
            ".//*[@class='comment'][@lang='en']"
        )
    assert doc.xpath("//a[contains(@href, '../archive/tags/rl/')]"), "no link to the tag's archive"


def test_every_tag_page_is_static_and_self_contained(browsed: dict[str, object]) -> None:
    """Every tags/*.html (parsed directly): no script, no external asset, links resolve, own autodiscovery."""
    feeds: Path = browsed["feeds"]  # type: ignore[assignment]
    pages = [
        *sorted((feeds / "tags").glob("*.html")),
        *sorted((feeds / "days").glob("*.html")),
        feeds / "index.html",
    ]
    for page in pages:
        doc = lxml_html.fromstring(page.read_bytes())
        assert not doc.xpath(
            "//script | //iframe | //img | //link[@rel='stylesheet'] | //@*[starts-with(name(), 'on')]"
        )
        assert_links_resolve(doc, page)
        if page.parent.name == "tags":
            assert {href for _, href in autodiscovery(doc)} >= {f"../tags/{page.stem}.atom"}


def test_text_is_escaped(browsed: dict[str, object]) -> None:
    """Titles with <, & and quotes are text in the DOM, never markup."""
    doc = lxml_html.fromstring(browsed["tag_dom"])
    titles = [h.text_content() for h in doc.xpath("//article/h2")]
    assert any("<Scaling> & “quotes”" in t for t in titles), titles[:3]
    assert not doc.xpath("//scaling")


def test_cjk_font_is_installed() -> None:
    """fontconfig knows a font covering Korean (fonts-noto-cjk), or Hangul would render as boxes."""
    fc_list = shutil.which("fc-list")
    assert fc_list, "fc-list missing (fontconfig)"
    fonts = subprocess.run(
        [fc_list, ":lang=ko", "family"], capture_output=True, text=True, timeout=30
    ).stdout
    assert fonts.strip(), "no font for Korean: apt-get install fonts-noto-cjk"


def test_index_screenshot_shows_hangul_not_boxes(browsed: dict[str, object]) -> None:
    """The saved screenshot differs from the same page with Hangul made missing glyphs: Hangul has glyphs."""
    shot = ARTIFACTS / "html-index.png"
    assert shot.is_file() and shot.stat().st_size > 0  # the artifact a person can look at
    assert browsed["index_png"] != browsed["plain_png"], (
        "index.html renders Hangul as missing-glyph boxes: install fonts-noto-cjk"
    )


def test_the_box_detector_detects_boxes(tmp_path: Path) -> None:
    """Control: with only DejaVu (no Hangul) visible to chromium, Hangul and missing glyphs render the same."""
    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    if not dejavu.is_dir():
        pytest.skip("needs /usr/share/fonts/truetype/dejavu for the no-CJK control")
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        f'<?xml version="1.0"?>\n<fontconfig><dir>{dejavu}</dir>'
        f"<cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>\n"
    )
    page = tmp_path / "ko.html"
    page.write_text(
        '<!DOCTYPE html><html lang="ko"><meta charset="utf-8">'
        '<p style="font-size:40px">구독하는 법 · How to subscribe</p></html>',
        encoding="utf-8",
    )
    env = {"FONTCONFIG_FILE": str(conf)}
    with ThreadPoolExecutor(max_workers=2) as pool:
        a = pool.submit(screenshot, page, tmp_path / "a.png", "600,120", env)
        b = pool.submit(screenshot, without_hangul(page), tmp_path / "b.png", "600,120", env)
        assert a.result() == b.result()


@pytest.mark.parametrize("name", PHONE_PAGES)
def test_pages_fit_a_phone_width_viewport(browsed: dict[str, object], name: str) -> None:
    """At 500 px (chromium's narrowest) nothing scrolls sideways, Hangul wraps at words, no date wraps."""
    found = browsed[f"phone:{name}"]
    assert isinstance(found, dict)
    assert found["innerWidth"] == 500
    assert found["scrollWidth"] <= found["innerWidth"], found
    assert found["wordBreak"] == "keep-all"
    assert found["times"] and found["wrapped"] == 0, found


def test_the_width_measure_detects_a_page_too_wide_for_a_phone(browsed: dict[str, object]) -> None:
    """Control: index.html without its narrow-screen rules is wider than 500 px and wraps its dates."""
    found = browsed["wide_index"]
    assert isinstance(found, dict)
    assert found["scrollWidth"] > found["innerWidth"] == 500, found
    assert found["wrapped"] > 0
