"""The feed reader fetching over real HTTP on 127.0.0.1: bad and hostile feeds, redirects, conditional GET."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest
from werkzeug import Response

from digestfeed.reader import Reader
from test_reader_dedupe import PANGU, ZERO, read_json, write_atom

DATA = Path(__file__).resolve().parent / "data" / "reader"
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>bomb</title><link>https://x.example/</link><description>d</description>
<item><title>&lol9;</title><guid>bomb-1</guid><description>&lol9;</description></item></channel></rss>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>xxe</title><link>https://x.example/</link><description>d</description>
<item><title>secret &xxe;</title><guid>xxe-1</guid><description>&xxe;</description></item></channel></rss>"""
HTML_PAGE = b"<!DOCTYPE html>\n<html><head><title>Blog</title><meta charset=utf-8></head><body><p>Hi</body></html>"
MALFORMED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>a</item></channel></rss>'


@pytest.fixture
def good_feed(tmp_path):
    """A healthy local feed read alongside every bad one."""
    return write_atom(tmp_path / "good.atom", [PANGU, ZERO])


def _one_failure(tmp_path, good_feed, url, *extra):
    code, items, err = read_json([good_feed, url, *extra], tmp_path / "s.sqlite")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1
    assert len(lines) == 1 and url in lines[0], err
    assert len(items) == 2  # the good feed is still read and reported
    return lines[0], items


def test_404(httpserver, tmp_path, good_feed):
    """A 404 is one stderr line naming the URL and the status; exit 1."""
    httpserver.expect_request("/missing.atom").respond_with_data("nope", status=404)
    line, _ = _one_failure(tmp_path, good_feed, httpserver.url_for("/missing.atom"))
    assert "HTTP 404" in line


def test_not_a_feed(httpserver, tmp_path, good_feed):
    """An HTML page is refused as not a feed."""
    httpserver.expect_request("/page").respond_with_data(HTML_PAGE, content_type="text/html")
    line, _ = _one_failure(tmp_path, good_feed, httpserver.url_for("/page"))
    assert "not a feed" in line


def test_xml_that_is_not_a_feed(httpserver, tmp_path, good_feed):
    """Well-formed XML of another kind is not a feed either."""
    httpserver.expect_request("/svg").respond_with_data(
        b"<svg xmlns='http://www.w3.org/2000/svg'/>"
    )
    line, _ = _one_failure(tmp_path, good_feed, httpserver.url_for("/svg"))
    assert "not a feed" in line


def test_malformed_xml(httpserver, tmp_path, good_feed):
    """Malformed XML is refused (feedparser's lenient guessing is not used)."""
    httpserver.expect_request("/bad.rss").respond_with_data(
        MALFORMED, content_type="application/rss+xml"
    )
    line, _ = _one_failure(tmp_path, good_feed, httpserver.url_for("/bad.rss"))
    assert "malformed XML" in line


def test_over_size_cap_with_content_length(httpserver, tmp_path, good_feed):
    """A body larger than --max-bytes is refused from its Content-Length."""
    httpserver.expect_request("/big").respond_with_data(b"<rss>" + b" " * 5000 + b"</rss>")
    line, _ = _one_failure(tmp_path, good_feed, httpserver.url_for("/big"), "--max-bytes", "2000")
    assert "size cap" in line


def test_over_size_cap_streamed(httpserver, tmp_path, good_feed):
    """Without a Content-Length, the streamed download is aborted once it passes the cap."""
    sent = []

    def endless(request):
        def body():
            for _ in range(10_000):
                sent.append(1)
                yield b"<!-- padding padding padding padding padding padding -->" * 20

        return Response(body(), content_type="application/rss+xml")

    httpserver.expect_request("/stream").respond_with_handler(endless)
    line, _ = _one_failure(
        tmp_path, good_feed, httpserver.url_for("/stream"), "--max-bytes", "50000"
    )
    assert "size cap" in line
    assert len(sent) < 10_000  # not downloaded to the end


def test_redirect_loop(httpserver, tmp_path, good_feed):
    """A redirect loop is detected and named."""
    httpserver.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", status=301, headers={"Location": "/a"})
    line, _ = _one_failure(tmp_path, good_feed, httpserver.url_for("/a"))
    assert "redirect loop" in line


def test_too_many_redirects(httpserver, tmp_path, good_feed):
    """More than --max-redirects redirects is an error; within the limit they are followed."""
    for n in range(7):
        httpserver.expect_request(f"/r{n}").respond_with_data(
            "", status=307, headers={"Location": f"/r{n + 1}"}
        )
    httpserver.expect_request("/r7").respond_with_data((DATA / "foreign_b.rss").read_bytes())
    line, _ = _one_failure(tmp_path, good_feed, httpserver.url_for("/r0"))
    assert "more than 5 redirects" in line
    code, items, err = read_json(
        [httpserver.url_for("/r0"), "--max-redirects", "7"], tmp_path / "t.sqlite"
    )
    assert code == 0 and len(items) == 3, err


def test_billion_laughs_is_refused_not_expanded(httpserver, tmp_path, good_feed):
    """An entity-expansion bomb is refused before any expansion (the run finishes, nothing expanded)."""
    httpserver.expect_request("/bomb.rss").respond_with_data(BILLION_LAUGHS)
    line, items = _one_failure(tmp_path, good_feed, httpserver.url_for("/bomb.rss"))
    assert "entities" in line
    assert all("lol" not in item["title"] for item in items)


def test_external_entity_is_never_fetched(httpserver, tmp_path, good_feed):
    """An external entity (file:///etc/passwd) is refused; its content never reaches the output."""
    httpserver.expect_request("/xxe.rss").respond_with_data(XXE)
    line, items = _one_failure(tmp_path, good_feed, httpserver.url_for("/xxe.rss"))
    assert "entities" in line
    assert "root:" not in str(items)


def test_local_file_bomb_is_refused(tmp_path, good_feed):
    """The same guard applies to feed files on disk."""
    bomb = tmp_path / "bomb.rss"
    bomb.write_bytes(BILLION_LAUGHS)
    line, _ = _one_failure(tmp_path, good_feed, str(bomb))
    assert "entities" in line


@pytest.fixture
def slow_server():
    """A stdlib HTTP server (threaded) whose every response hangs until the test ends."""
    release = threading.Event()

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            release.wait(10)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slow.atom"
    release.set()
    server.shutdown()
    server.server_close()


def test_timeout(slow_server, tmp_path, good_feed):
    """A server slower than --timeout is one 'timed out' line; the good feed is still read."""
    line, _ = _one_failure(tmp_path, good_feed, slow_server, "--timeout", "0.2")
    assert "timed out" in line


def test_all_failures_at_once(httpserver, tmp_path, good_feed):
    """Several bad sources: one line each, good items still out, exit 1."""
    httpserver.expect_request("/404").respond_with_data("", status=404)
    httpserver.expect_request("/bomb").respond_with_data(BILLION_LAUGHS)
    httpserver.expect_request("/html").respond_with_data(HTML_PAGE)
    urls = [httpserver.url_for(p) for p in ("/404", "/bomb", "/html")]
    code, items, err = read_json(
        [good_feed, *urls, tmp_path / "absent.atom"], tmp_path / "s.sqlite"
    )
    assert code == 1 and len(items) == 2
    lines = err.strip().splitlines()
    assert len(lines) == 4
    for url in [*urls, str(tmp_path / "absent.atom")]:
        assert sum(url in line for line in lines) == 1


def test_conditional_get_and_304(httpserver, tmp_path):
    """The stored ETag/Last-Modified are sent back; a 304 means no re-parse and no new items."""
    body = (DATA / "foreign_b.rss").read_bytes()
    seen_headers = []

    def handler(request):
        seen_headers.append(
            (request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since"))
        )
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(
            body,
            headers={"ETag": '"v1"', "Last-Modified": "Thu, 08 May 2025 00:00:00 GMT"},
            content_type="application/rss+xml",
        )

    httpserver.expect_request("/feed.rss").respond_with_handler(handler)
    url = httpserver.url_for("/feed.rss")
    with Reader(tmp_path / "s.sqlite") as reader:
        first = reader.read([url])
        second = reader.read([url])
        every = reader.read([url], all=True)
    assert seen_headers == [
        (None, None),
        ('"v1"', "Thu, 08 May 2025 00:00:00 GMT"),
        seen_headers[1],
    ]
    assert len(first) == 3 and first.stats["parsed"] == 1
    assert len(second) == 0 and second.stats["parsed"] == 0 and second.stats["unchanged"] == 1
    assert len(every) == 3  # --all still knows what the unchanged feed holds


def test_same_body_without_validators_is_not_reparsed(httpserver, tmp_path):
    """A server without ETag/Last-Modified: the same sha256 as last time skips parsing."""
    httpserver.expect_request("/feed.rss").respond_with_data((DATA / "foreign_a.rss").read_bytes())
    with Reader(tmp_path / "s.sqlite") as reader:
        assert reader.read([httpserver.url_for("/feed.rss")]).stats["parsed"] == 1
        again = reader.read([httpserver.url_for("/feed.rss")])
    assert again.stats["parsed"] == 0 and again.stats["unchanged"] == 1


def test_opml_over_http(httpserver, tmp_path):
    """An OPML URL is expanded to its feeds, relative xmlUrls resolved against it."""
    httpserver.expect_request("/index.opml").respond_with_data(
        b'<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
        b'<outline type="rss" text="a" xmlUrl="/a.rss"/><outline text="group">'
        b'<outline type="rss" text="b" xmlUrl="b.rss"/></outline></body></opml>'
    )
    httpserver.expect_request("/a.rss").respond_with_data((DATA / "foreign_a.rss").read_bytes())
    httpserver.expect_request("/b.rss").respond_with_data((DATA / "foreign_b.rss").read_bytes())
    code, items, err = read_json([httpserver.url_for("/index.opml")], tmp_path / "s.sqlite")
    assert code == 0, err
    assert len(items) == 3
    assert {len(i["feeds"]) for i in items} == {2}
