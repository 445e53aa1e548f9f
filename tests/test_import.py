"""``digestfeed import``: digests published as Substack-style RSS posts → entries/YYYY-MM-DD.txt,
fetched over real HTTP on 127.0.0.1 with the reader's safe fetch, never overwriting different text."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from digestfeed.cli import main
from digestfeed.config import Config
from digestfeed.importer import html_lines, import_posts, read_posts
from digestfeed.sources.digest import parse_digest, parse_text
from digestfeed.sources.export import render_digest
from digestfeed.types import Digest, warning_kind
from substack import PROSE, item, post_html, rss, seed_item

CONFIG = Config()
FIELDS = ("date", "title", "authors", "abstract", "comment_ko", "comment_en", "tags", "links")


def run(*args: str) -> object:
    return CliRunner().invoke(main, ["import", *args])


def same_entries(a: Digest, b: Digest) -> None:
    assert len(a.entries) == len(b.entries)
    for x, y in zip(a.entries, b.entries, strict=True):
        for field in FIELDS:
            assert getattr(x, field) == getattr(y, field), (x.title, field)


# ------------------------------------------------------------------ HTML → lines


def test_html_blocks_and_breaks_become_lines() -> None:
    """Each block element is a line, <br> breaks one, white space runs are one space."""
    got = html_lines(
        "<h2>2025년  5월 8일</h2><p>Title\n of a paper</p><p>(A, B)</p>"
        "<blockquote><p>Abstract.</p></blockquote><p>한국어 코멘트.<br/>English comment.</p>"
        "<ul><li>#rl #tool</li></ul>"
    )
    assert got == [
        "2025년 5월 8일",
        "Title of a paper",
        "(A, B)",
        "Abstract.",
        "한국어 코멘트.",
        "English comment.",
        "#rl #tool",
    ]


def test_preformatted_lines_stay_lines_and_control_characters_go() -> None:
    """In <pre> each newline breaks a line; control characters illegal in XML are dropped."""
    got = html_lines("<pre>first\nsecond</pre><p>bell\x07 here <b>bold</b>\ntail</p>")
    assert got == ["first", "second", "bell here bold tail"]


def test_widgets_images_and_scripts_are_not_text() -> None:
    """Subscribe buttons, image captions, images and scripts leave no line."""
    got = html_lines(
        '<p>Kept</p><div class="captioned-image-container"><figure><img src="x.png">'
        '<figcaption class="image-caption">A figure</figcaption></figure></div>'
        '<script>alert(1)</script><p class="button-wrapper"><a href="https://x/subscribe">'
        "<span>Subscribe now</span></a></p><p>Also kept</p>"
    )
    assert got == ["Kept", "Also kept"]


def test_links_not_in_their_text_are_kept() -> None:
    """A title's link goes on its own line after the authors line; other links follow their text."""
    got = html_lines(
        '<p><a href="https://arxiv.org/abs/2505.04519">Pangu Ultra MoE</a></p><p>(A, B)</p>'
        '<p>See <a href="https://github.com/x/y">the code</a> and '
        '<a href="https://x.org/">https://x.org/</a>.</p><p>#moe</p>'
    )
    assert got == [
        "Pangu Ultra MoE",
        "(A, B)",
        "https://arxiv.org/abs/2505.04519",
        "See the code and https://x.org/. (https://github.com/x/y)",
        "#moe",
    ]


# ------------------------------------------------------------------ posts → digests


def test_seed_post_imports_as_the_seed(seed_path: Path, tmp_path: Path) -> None:
    """The seed published as a post gives back a digest with every field of the seed."""
    posts = read_posts(rss([seed_item(seed_path)]), "feed.rss", CONFIG)
    result = import_posts(posts, tmp_path / "entries", CONFIG)
    assert result.written == [str(tmp_path / "entries" / "2025-05-08.txt")]
    same_entries(parse_digest(result.written[0]), parse_digest(seed_path))


def test_an_imported_digest_is_an_ordinary_file(seed_path: Path, tmp_path: Path) -> None:
    """An imported digest gets the mode of any file the user makes (0666 less the umask), not 0600."""
    posts = read_posts(rss([seed_item(seed_path)]), "feed.rss", CONFIG)
    old = os.umask(0o022)
    try:
        result = import_posts(posts, tmp_path / "entries", CONFIG)
    finally:
        os.umask(old)
    assert Path(result.written[0]).stat().st_mode & 0o777 == 0o644
    assert not [p for p in (tmp_path / "entries").iterdir() if p.suffix == ".tmp"]


def test_post_without_date_line_takes_its_publication_day_in_the_config_zone(
    seed_path: Path, tmp_path: Path
) -> None:
    """No date line: the item's pubDate in the config's time zone (23:30 UTC is the next day in Seoul)."""
    body = post_html(seed_path.read_text(encoding="utf-8"), date_line=False)
    feed = rss([item("Papers", body, "Wed, 07 May 2025 23:30:00 GMT", "p")])
    result = import_posts(read_posts(feed, "feed.rss", CONFIG), tmp_path, CONFIG)
    assert result.written == [str(tmp_path / "2025-05-08.txt")]
    assert (tmp_path / "2025-05-08.txt").read_text(encoding="utf-8").startswith("2025년 5월 8일\n")
    utc = CONFIG.replace(timezone="UTC")
    again = import_posts(read_posts(feed, "feed.rss", utc), tmp_path / "utc", utc)
    assert again.written == [str(tmp_path / "utc" / "2025-05-07.txt")]


def test_title_links_become_each_entry_s_first_link(seed_path: Path, tmp_path: Path) -> None:
    """Titles linked to their papers keep the paper link as the entry's first link."""
    papers = [
        "https://arxiv.org/abs/2505.04519",
        "https://arxiv.org/abs/2505.04620",
        "https://arxiv.org/abs/2505.04588",
    ]
    feed = rss([seed_item(seed_path, paper_links=papers)])
    result = import_posts(read_posts(feed, "feed.rss", CONFIG), tmp_path, CONFIG)
    digest = parse_digest(result.written[0])
    seed = parse_digest(seed_path)
    assert [e.links[0] for e in digest.entries] == papers
    assert [e.title for e in digest.entries] == [e.title for e in seed.entries]


def test_a_post_that_is_not_a_digest_is_skipped_with_a_warning(
    seed_path: Path, tmp_path: Path
) -> None:
    """Prose posts are skipped, each with a warning naming the item and the parser's reason."""
    feed = rss([PROSE, seed_item(seed_path)])
    result = import_posts(read_posts(feed, "feed.rss", CONFIG), tmp_path, CONFIG)
    assert result.skipped == 1 and len(result.written) == 1
    (warning,) = result.warnings
    assert warning_kind(warning) == "not a digest"
    assert warning.startswith("feed.rss: item 1 ('A note to readers'): skipped, not a digest: ")
    assert "has no authors line" in warning


# ------------------------------------------------------------------ the command, over HTTP


def test_import_over_http_then_build(
    httpserver: HTTPServer, seed_path: Path, tmp_path: Path
) -> None:
    """import fetches the feed from a real server, writes the digest, and build reads it offline."""
    httpserver.expect_request("/feed").respond_with_data(
        rss([PROSE, seed_item(seed_path)]), content_type="application/rss+xml; charset=utf-8"
    )
    entries = tmp_path / "entries"
    result = run(httpserver.url_for("/feed"), "--into", str(entries), "--state", "s.sqlite")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert f"wrote {entries / '2025-05-08.txt'}" in result.stdout  # type: ignore[attr-defined]
    assert "1 written, 0 unchanged, 1 skipped (not digests)" in result.stdout  # type: ignore[attr-defined]
    assert "not a digest" not in result.stdout and "A note to readers" in result.stderr  # type: ignore[attr-defined]
    built = CliRunner().invoke(
        main, ["build", "--entries", str(entries), "--out", str(tmp_path / "feeds"), "-q"]
    )
    assert built.exit_code == 0, built.output
    assert (tmp_path / "feeds" / "all.atom").read_bytes().count(b"<entry>") == 3


def test_conditional_get_skips_an_unchanged_feed(
    httpserver: HTTPServer, seed_path: Path, tmp_path: Path
) -> None:
    """The second import sends the stored ETag; a 304 means nothing is parsed or written."""
    body = rss([seed_item(seed_path)])
    seen: list[str | None] = []

    def handler(request: Request) -> Response:
        seen.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(body, headers={"ETag": '"v1"'}, content_type="application/rss+xml")

    httpserver.expect_request("/feed").respond_with_handler(handler)
    args = [httpserver.url_for("/feed"), "--into", str(tmp_path / "e"), "--state", "s.sqlite"]
    assert run(*args).exit_code == 0  # type: ignore[attr-defined]
    (tmp_path / "e" / "2025-05-08.txt").unlink()
    second = run(*args)
    assert seen == [None, '"v1"']
    assert "not modified since the last import" in second.stdout  # type: ignore[attr-defined]
    assert not (tmp_path / "e" / "2025-05-08.txt").exists()
    third = run(*args, "--no-state")
    assert third.exit_code == 0 and seen[-1] is None  # type: ignore[attr-defined]
    assert (tmp_path / "e" / "2025-05-08.txt").exists()


def test_existing_digest_with_other_text_is_kept_and_the_difference_shown(
    seed_path: Path, tmp_path: Path
) -> None:
    """A digest edited locally is not replaced: a unified diff, exit 1; --overwrite replaces it."""
    feed = tmp_path / "feed.rss"
    feed.write_bytes(rss([seed_item(seed_path)]))
    entries = tmp_path / "entries"
    assert run(str(feed), "--into", str(entries), "--no-state").exit_code == 0  # type: ignore[attr-defined]
    target = entries / "2025-05-08.txt"
    imported = target.read_text(encoding="utf-8")
    target.write_text(imported.replace("#moe", "#moe #mixture"), encoding="utf-8")
    before = target.stat().st_mtime_ns
    result = run(str(feed), "--into", str(entries), "--no-state")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    err = result.stderr  # type: ignore[attr-defined]
    assert f"warning: {target}: left as it is: " in err
    assert "\n-#moe #mixture\n+#moe\n" in err
    assert target.stat().st_mtime_ns == before
    assert "1 left as they were (different text)" in result.stdout  # type: ignore[attr-defined]
    forced = run(str(feed), "--into", str(entries), "--no-state", "--overwrite")
    assert forced.exit_code == 0  # type: ignore[attr-defined]
    assert target.read_text(encoding="utf-8") == imported


def test_unchanged_digest_is_not_rewritten(seed_path: Path, tmp_path: Path) -> None:
    """Importing the same post again leaves the file untouched (same text, trailing blanks ignored)."""
    feed = tmp_path / "feed.rss"
    feed.write_bytes(rss([seed_item(seed_path)]))
    assert run(str(feed), "--into", str(tmp_path), "--no-state").exit_code == 0  # type: ignore[attr-defined]
    target = tmp_path / "2025-05-08.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\n\n", encoding="utf-8")
    os.utime(target, ns=(1, 1))
    again = run(str(feed), "--into", str(tmp_path), "--no-state", "-v")
    assert again.exit_code == 0 and f"unchanged {target}" in again.stdout  # type: ignore[attr-defined]
    assert target.stat().st_mtime_ns == 1


def test_a_symlinked_digest_is_never_followed(seed_path: Path, tmp_path: Path) -> None:
    """An existing digest that is a symbolic link is neither read nor written through."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET\n", encoding="utf-8")
    entries = tmp_path / "entries"
    entries.mkdir()
    (entries / "2025-05-08.txt").symlink_to(secret)
    feed = tmp_path / "feed.rss"
    feed.write_bytes(rss([seed_item(seed_path)]))
    result = run(str(feed), "--into", str(entries), "--no-state")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "TOP SECRET" not in result.output and "symbolic link" in result.stderr  # type: ignore[attr-defined]
    assert secret.read_text(encoding="utf-8") == "TOP SECRET\n"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>',
            "not an RSS 2.0 feed (root element <feed>)",
        ),
        (b"<html><body>hi</body></html>", "not an RSS 2.0 feed (root element <html>)"),
        (
            b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
            b"<rss><channel><item><title>&b;</title></item></channel></rss>",
            "entity expansion is not allowed",
        ),
        (b"<rss><channel><item><title>cut", "not a feed"),
    ],
)
def test_what_is_not_an_rss_feed_is_an_error_naming_the_source(
    tmp_path: Path, body: bytes, reason: str
) -> None:
    """Atom, HTML, entity-declaring DTDs and truncated XML: exit 2, the source named, nothing written."""
    feed = tmp_path / "feed.xml"
    feed.write_bytes(body)
    result = run(str(feed), "--into", str(tmp_path / "e"), "--no-state")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert result.stderr.startswith(f"digestfeed: {feed}: ") and reason in result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in result.output and not (tmp_path / "e").exists()  # type: ignore[attr-defined]


def test_size_cap_and_unreachable_server_are_errors(httpserver: HTTPServer, tmp_path: Path) -> None:
    """A feed over --max-bytes, or a 404, is an error naming the URL (exit 2), nothing written."""
    httpserver.expect_request("/big").respond_with_data(b"<rss>" + b" " * 5000 + b"</rss>")
    httpserver.expect_request("/gone").respond_with_data("no", status=404)
    for path, extra in (("/big", ["--max-bytes", "1000"]), ("/gone", [])):
        url = httpserver.url_for(path)
        result = run(url, "--into", str(tmp_path / "e"), "--no-state", *extra)
        assert result.exit_code == 2 and url in result.stderr  # type: ignore[attr-defined]
    assert not (tmp_path / "e").exists()


@pytest.mark.corpus
def test_the_corpus_published_as_posts_imports_digest_for_digest(
    corpus_dir: Path, httpserver: HTTPServer, tmp_path: Path
) -> None:
    """Every day of the 945-note corpus, rendered as a digest and served as a post (half of them
    without a date line), imports to a digest with the same entries as the text shown."""
    from digestfeed.sources.notes import read_notes

    digests, _ = read_notes(corpus_dir, CONFIG)
    texts = {d.date: render_digest(d) for d in digests}
    items = [
        item(date, post_html(text, date_line=k % 2 == 0), f"{_rfc822(date)}", date)
        for k, (date, text) in enumerate(sorted(texts.items()))
    ]
    httpserver.expect_request("/feed").respond_with_data(
        rss(items), content_type="application/rss+xml"
    )
    entries = tmp_path / "entries"
    result = run(httpserver.url_for("/feed"), "--into", str(entries), "--no-state", "-q")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    written = sorted(p.stem for p in entries.glob("*.txt"))
    assert written == sorted(texts)
    for date, text in texts.items():
        shown = re.sub(" {2,}", " ", text)  # HTML shows a run of spaces as one
        same_entries(
            parse_digest(entries / f"{date}.txt"), parse_text(shown, f"{date}.txt", CONFIG)
        )


def _rfc822(date: str) -> str:
    import datetime as dt
    import email.utils

    day = dt.datetime.fromisoformat(date).replace(hour=1, tzinfo=dt.UTC)
    return email.utils.format_datetime(day)


def test_items_beyond_the_cap_are_ignored_with_a_warning(
    seed_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed with more items than the cap is read up to the cap, and says so."""
    import digestfeed.importer as importer

    monkeypatch.setattr(importer, "MAX_ITEMS", 1)
    feed = tmp_path / "feed.rss"
    feed.write_bytes(rss([seed_item(seed_path), PROSE]))
    result = importer.import_feed(str(feed), tmp_path / "e", CONFIG)
    assert result.skipped == 0 and len(result.written) == 1
    assert result.warnings == [f"{feed}: more than 1 items: the rest ignored"]
