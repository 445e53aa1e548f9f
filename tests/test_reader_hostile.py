"""A hostile feed or server cannot hang, leak into or take over `digestfeed read`.

Every attack runs against a real HTTP server on 127.0.0.1: a raw socket server where the
bytes on the wire matter (trickled headers, forged status lines), pytest-httpserver elsewhere.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug import Response

from digestfeed.cli import main
from digestfeed.reader import Reader
from test_reader_dedupe import PANGU, ZERO, read_json, write_atom

RSS_ITEM = "<item><title>{title}</title><guid>{guid}</guid><link>{link}</link></item>"


def rss(*items: str, prev_archive: str | None = None, title: str = "feed") -> bytes:
    """A small RSS 2.0 feed, optionally with an RFC 5005 prev-archive link."""
    archive = (
        f'<atom:link rel="prev-archive" href="{prev_archive}" '
        'xmlns:atom="http://www.w3.org/2005/Atom"/>'
        if prev_archive
        else ""
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://example.org/</link><description>d</description>{archive}"
        f"{''.join(items)}</channel></rss>"
    ).encode()


def item(n: int | str, title: str | None = None, link: str | None = None) -> str:
    return RSS_ITEM.format(
        title=title or f"Paper {n}", guid=f"guid-{n}", link=link or f"https://example.org/{n}"
    )


def opml(*urls: str) -> bytes:
    outlines = "".join(f'<outline type="rss" text="f" xmlUrl="{u}"/>' for u in urls)
    return (
        f'<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head>'
        f"<body>{outlines}</body></opml>"
    ).encode()


def stderr_lines(err: str) -> list[str]:
    """The lines of stderr but the closing summary ("nothing new (N sources read)")."""
    return [line for line in err.splitlines() if line.strip() and "sources read)" not in line]


# --- a raw server: exactly these bytes, at this pace -------------------------------------


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket], None]], str]]:
    """Start a threaded TCP server on 127.0.0.1 whose connections run ``talk(sock)``; yields a starter returning its URL."""
    servers: list[socketserver.ThreadingTCPServer] = []
    stop = threading.Event()

    def start(talk: Callable[[socket.socket], None], read_request: bool = True) -> str:
        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                if read_request:
                    self.request.recv(65536)  # the request; its content does not matter here
                try:
                    talk(self.request)
                except OSError:
                    pass  # the client hung up: what a cut-off download looks like

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/feed.rss"

    start.stop = stop  # type: ignore[attr-defined]
    yield start
    stop.set()
    for server in servers:
        server.shutdown()
        server.server_close()


class Trickle:
    """Send ``data`` one byte every ``every`` seconds until done, the client hangs up or the test ends.

    ``sent`` counts the bytes the client took; ``ended`` is set when the server stopped sending.
    """

    def __init__(self, data: bytes, stop: threading.Event, every: float = 0.5) -> None:
        self.data, self.stop, self.every = data, stop, every
        self.sent = 0
        self.ended = threading.Event()

    def __call__(self, sock: socket.socket) -> None:
        try:
            for i in range(len(self.data)):
                if self.stop.wait(self.every):
                    return
                sock.sendall(self.data[i : i + 1])
                self.sent += 1
        finally:
            self.ended.set()

    def cut_off(self) -> bool:
        """The client hung up before the whole response was sent (waits for the server to notice)."""
        self.ended.wait(60)
        return self.sent < len(self.data)


@pytest.fixture
def good_feed(tmp_path: Path) -> Path:
    """A healthy local feed read alongside every hostile source."""
    return write_atom(tmp_path / "good.atom", [PANGU, ZERO])


def test_a_body_trickled_a_byte_at_a_time_is_cut_off_at_the_timeout(
    raw_server, tmp_path, good_feed
):
    """One body byte every 0.5 s never resets the clock: the source times out, the rest is read."""
    body = rss(item(1)) + b" " * 40
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n\r\n"

    slow = Trickle(body[10:], raw_server.stop)

    def talk(sock: socket.socket) -> None:
        sock.sendall(head + body[:10])
        slow(sock)

    url = raw_server(talk)
    code, items, err = read_json([good_feed, url, "--timeout", "1"], tmp_path / "s.sqlite")
    lines = stderr_lines(err)
    assert code == 1 and len(items) == 2
    assert len(lines) == 1 and url in lines[0] and "timed out after 1 s" in lines[0]
    assert slow.cut_off()  # the reader hung up, it did not wait for the end


def test_headers_trickled_a_byte_at_a_time_are_cut_off_at_the_timeout(
    raw_server, tmp_path, good_feed
):
    """A status line and headers sent a byte every 0.5 s count against the same deadline."""
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Slow: " + b"a" * 40 + b"\r\n\r\n"
    slow = Trickle(response, raw_server.stop)
    url = raw_server(slow)
    code, items, err = read_json([good_feed, url, "--timeout", "1"], tmp_path / "s.sqlite")
    lines = stderr_lines(err)
    assert code == 1 and len(items) == 2
    assert len(lines) == 1 and url in lines[0] and "timed out" in lines[0]
    assert slow.cut_off()


def test_a_forged_reason_phrase_never_reaches_the_terminal(raw_server, tmp_path, good_feed):
    """An HTTP reason phrase with escape sequences is shown as plain text on one line."""
    url = raw_server(
        lambda sock: sock.sendall(
            b"HTTP/1.1 404 \x1b]0;pwned\x07\x1b[2J\x1b[31mGone\xc2\x9b31m \xe2\x80\xaeevil\r\n"
            b"Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
    )
    code, items, err = read_json([good_feed, url], tmp_path / "s.sqlite")
    lines = stderr_lines(err)
    assert code == 1 and len(items) == 2 and len(lines) == 1
    assert "HTTP 404" in lines[0] and "Gone" in lines[0]
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in err.replace("\n", ""))


def test_a_forged_status_line_is_one_printable_line(raw_server, tmp_path, good_feed):
    """A status line that is not HTTP (escapes, CR, fake text lines) is one printable error line."""
    url = raw_server(
        lambda sock: sock.sendall(b"HTTP/1.1 2\x1b[2J00 OK\rdigestfeed read: all good\r\n\r\n")
    )
    code, items, err = read_json([good_feed, url], tmp_path / "s.sqlite")
    lines = stderr_lines(err)
    assert code == 1 and len(items) == 2
    assert len(lines) == 1 and lines[0].startswith(f"digestfeed read: {url}: ")
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in err.replace("\n", ""))


# --- caps: depth and counts -----------------------------------------------------------


def test_an_endless_archive_chain_stops_at_the_archive_depth(httpserver, tmp_path):
    """Every archive page linking a fresh one: --backfill reads 1 + N pages, then one line names where it stopped."""
    requested: list[str] = []

    def page(request):
        n = int(request.path.rsplit("/", 1)[1])
        requested.append(request.path)
        return Response(
            rss(item(n), prev_archive=f"/page/{n + 1}"), content_type="application/rss+xml"
        )

    httpserver.expect_request("/page/0").respond_with_handler(page)
    for n in range(1, 12):
        httpserver.expect_request(f"/page/{n}").respond_with_handler(page)
    code, items, err = read_json(
        [httpserver.url_for("/page/0"), "--backfill", "--max-archive-depth", "5"],
        tmp_path / "s.sqlite",
    )
    lines = stderr_lines(err)
    assert code == 1
    assert requested == [f"/page/{n}" for n in range(6)]
    assert sorted(i["title"] for i in items) == [f"Paper {n}" for n in range(6)]
    assert len(lines) == 1 and httpserver.url_for("/page/5") in lines[0]
    assert "--max-archive-depth 5" in lines[0]


def test_opml_lists_nested_without_end_stop_at_the_opml_depth(httpserver, tmp_path):
    """OPML lists naming ever deeper OPML lists: read up to --max-opml-depth, one line names the list not expanded."""
    requested: list[str] = []

    def handler(request):
        requested.append(request.path)
        n = int(request.path.rsplit("/", 1)[1])
        return Response(opml(f"/opml/{n + 1}", f"/feed/{n}"))

    def feed(request):
        n = int(request.path.rsplit("/", 1)[1])
        return Response(rss(item(n)), content_type="application/rss+xml")

    for n in range(10):
        httpserver.expect_request(f"/opml/{n}").respond_with_handler(handler)
        httpserver.expect_request(f"/feed/{n}").respond_with_handler(feed)
    code, items, err = read_json(
        [httpserver.url_for("/opml/0"), "--max-opml-depth", "3"], tmp_path / "s.sqlite"
    )
    lines = stderr_lines(err)
    assert code == 1
    assert requested == [f"/opml/{n}" for n in range(4)]
    assert sorted(i["title"] for i in items) == [f"Paper {n}" for n in range(3)]
    assert len(lines) == 1 and httpserver.url_for("/opml/3") in lines[0]
    assert "--max-opml-depth 3" in lines[0]


def test_a_run_reads_at_most_max_sources_documents(httpserver, tmp_path):
    """An OPML of 50 feeds with --max-sources 10: 10 documents read, one line names the OPML and the count left."""
    urls = [f"/f/{n}" for n in range(50)]
    httpserver.expect_request("/list.opml").respond_with_data(opml(*urls))
    for n, path in enumerate(urls):
        httpserver.expect_request(path).respond_with_data(rss(item(n)))
    code, items, err = read_json(
        [httpserver.url_for("/list.opml"), "--max-sources", "10"], tmp_path / "s.sqlite"
    )
    lines = stderr_lines(err)
    assert code == 1
    assert len(items) == 9  # the OPML itself is one of the 10
    assert len(lines) == 1 and httpserver.url_for("/list.opml") in lines[0]
    assert "41 documents not read (--max-sources 10)" in lines[0]


# --- no local files from remote documents ----------------------------------------------


@pytest.fixture
def secret_feed(tmp_path: Path) -> Path:
    """A local file a remote document must never make the reader open."""
    path = tmp_path / "private" / "secret.atom"
    path.parent.mkdir()
    path.write_bytes(rss(item("secret", title="SECRET local file")))
    return path


def test_a_remote_opml_never_opens_a_local_file(httpserver, tmp_path, secret_feed):
    """A file: outline in an OPML from the web is refused with a line naming the OPML; other outlines are read."""
    httpserver.expect_request("/list.opml").respond_with_data(opml(secret_feed.as_uri(), "/a.rss"))
    httpserver.expect_request("/a.rss").respond_with_data(rss(item(1)))
    code, items, err = read_json([httpserver.url_for("/list.opml")], tmp_path / "s.sqlite")
    lines = stderr_lines(err)
    assert code == 1
    assert [i["title"] for i in items] == ["Paper 1"]
    assert len(lines) == 1 and httpserver.url_for("/list.opml") in lines[0]
    assert "only link http(s)" in lines[0]


def test_a_remote_archive_link_never_opens_a_local_file(httpserver, tmp_path, secret_feed):
    """--backfill from a feed on the web whose prev-archive is a file: URL reads no local file."""
    httpserver.expect_request("/feed.rss").respond_with_data(
        rss(item(1), prev_archive=secret_feed.as_uri())
    )
    code, items, err = read_json(
        [httpserver.url_for("/feed.rss"), "--backfill"], tmp_path / "s.sqlite"
    )
    assert code == 1
    assert [i["title"] for i in items] == ["Paper 1"]
    assert "only link http(s)" in err and "SECRET" not in err


def test_a_local_opml_may_link_local_files(tmp_path, secret_feed):
    """A file: outline in an OPML on disk is yours: it is read."""
    listing = tmp_path / "mine.opml"
    listing.write_bytes(opml(secret_feed.as_uri()))
    code, items, err = read_json([listing], tmp_path / "s.sqlite")
    assert code == 0, err
    assert [i["title"] for i in items] == ["SECRET local file"]


@pytest.mark.parametrize("name", [".ssh/id_rsa", "secret.atom", "private/secret.atom"])
def test_a_local_opml_maps_only_urls_under_its_own_base_to_files(httpserver, tmp_path, name):
    """A downloaded OPML naming https://evil/.ssh/id_rsa (or a feed above its folder) never maps it to a local file."""
    home = tmp_path / "home"
    target = home / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(rss(item("secret", title="SECRET local file")))
    downloads = home / "Downloads"
    downloads.mkdir()
    (downloads / "private").mkdir()  # the OPML's own folder holds no such file
    listing = downloads / "evil.opml"
    listing.write_bytes(opml(httpserver.url_for(f"/{name}")))
    httpserver.expect_request(f"/{name}").respond_with_data("gone", status=404)
    code, items, err = read_json([listing], tmp_path / "s.sqlite")
    assert code == 1 and items == []
    assert "HTTP 404" in err  # the URL was fetched, not a local file read


def test_a_local_opml_reads_the_twin_files_under_its_base(httpserver, tmp_path):
    """The OPML's published feed URLs under its base are read from the files beside it, not the web."""
    site = tmp_path / "feeds"
    (site / "tags").mkdir(parents=True)
    (site / "all.rss").write_bytes(rss(item(1)))
    (site / "tags" / "rl.rss").write_bytes(rss(item(2)))
    listing = site / "index.opml"
    listing.write_bytes(
        opml(httpserver.url_for("/feeds/all.rss"), httpserver.url_for("/feeds/tags/rl.rss"))
    )
    code, items, err = read_json([listing], tmp_path / "s.sqlite")
    assert code == 0, err
    assert sorted(i["title"] for i in items) == ["Paper 1", "Paper 2"]
    assert {f for i in items for f in i["feeds"]} == {
        str(site / "all.rss"),
        str(site / "tags" / "rl.rss"),
    }
    assert httpserver.log == []  # nothing fetched


def test_a_twin_that_is_a_symlink_is_not_followed(httpserver, tmp_path, secret_feed):
    """A twin file that is a symbolic link (to a file elsewhere) is not read; the URL is fetched instead."""
    site = tmp_path / "feeds"
    site.mkdir()
    (site / "all.rss").symlink_to(secret_feed)
    listing = site / "index.opml"
    listing.write_bytes(opml(httpserver.url_for("/feeds/all.rss")))
    httpserver.expect_request("/feeds/all.rss").respond_with_data(rss(item(1)))
    code, items, err = read_json([listing], tmp_path / "s.sqlite")
    assert code == 0, err
    assert [i["title"] for i in items] == ["Paper 1"]


def test_a_device_is_not_a_feed_file(tmp_path):
    """A path naming a device (not a regular file) is refused as such, never read."""
    code, items, err = read_json(["/dev/null"], tmp_path / "s.sqlite")
    assert code == 1 and items == []
    assert "/dev/null: not a regular file" in err


# --- text from outside ------------------------------------------------------------------

BIDI_TITLE = "Safe\u202eexe.txt\u202c Paper\u200b with\u2066 isolates\u2069 and \u0645\u200c\u0646 \u0915\u094d\u200d\u0937"


@pytest.fixture
def hostile_text_feed(httpserver) -> str:
    """A feed whose title carries bidi and zero-width characters and whose links are hostile."""
    body = rss(
        item(
            1,
            title=BIDI_TITLE,
            link="https://example.org/a&#13;&#10;2025-01-01  Forged line",
        ),
        "<item><title>Script link</title><guid>g2</guid><link>javascript:alert(1)</link></item>",
        "<item><title>Mail link</title><guid>g3</guid><link>mailto:editor@example.org</link></item>",
    )
    httpserver.expect_request("/feed.rss").respond_with_data(
        body, content_type="application/rss+xml"
    )
    return httpserver.url_for("/feed.rss")


def test_data_output_drops_bidi_overrides_and_keeps_joiners(hostile_text_feed, tmp_path):
    """JSON keeps ZWJ/ZWNJ (words need them) and drops bidi overrides and isolates."""
    code, items, err = read_json([hostile_text_feed], tmp_path / "s.sqlite")
    assert code == 0, err
    titles = {i["title"] for i in items}
    assert (
        "Safeexe.txt Paper\u200b with isolates and \u0645\u200c\u0646 \u0915\u094d\u200d\u0937"
        in titles
    )


def test_only_http_and_mailto_links_survive(hostile_text_feed, tmp_path):
    """A javascript: link and a link with CR/LF inside are dropped; mailto: is kept."""
    code, items, err = read_json([hostile_text_feed], tmp_path / "s.sqlite")
    assert code == 0, err
    links = {i["title"]: i["links"] for i in items}
    assert links["Script link"] == []
    assert links["Mail link"] == ["mailto:editor@example.org"]
    assert not any("\r" in u or "\n" in u for u in [u for v in links.values() for u in v])


def test_terminal_output_is_only_printable_text(hostile_text_feed, tmp_path):
    """Text output carries no control, bidi or zero-width character, and no forged line."""
    result = CliRunner().invoke(
        main, ["read", "--state", str(tmp_path / "s.sqlite"), "-v", hostile_text_feed]
    )
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Safeexe.txt Paper with isolates and" in out
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in out.replace("\n", ""))
    assert not any(line.startswith("2025-01-01  Forged") for line in out.splitlines())
    assert "javascript:" not in out


# --- redirects to private addresses -----------------------------------------------------


@pytest.fixture
def redirecting(httpserver) -> str:
    """/feed.rss redirects to /real.rss on the same loopback server."""
    httpserver.expect_request("/feed.rss").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/real.rss")}
    )
    httpserver.expect_request("/real.rss").respond_with_data(rss(item(1)))
    return httpserver.url_for("/feed.rss")


def test_redirects_to_private_addresses_are_followed_by_default(redirecting, tmp_path):
    """By default a redirect to a loopback address is followed (a reader on a laptop reads its intranet)."""
    code, items, err = read_json([redirecting], tmp_path / "s.sqlite")
    assert code == 0, err
    assert [i["title"] for i in items] == ["Paper 1"]


def test_no_private_redirects_refuses_a_redirect_to_loopback(redirecting, tmp_path):
    """--no-private-redirects: the URL you gave (loopback) is fetched, its redirect to loopback refused."""
    code, items, err = read_json([redirecting, "--no-private-redirects"], tmp_path / "s.sqlite")
    lines = stderr_lines(err)
    assert code == 1 and items == []
    assert len(lines) == 1 and redirecting in lines[0]
    assert "redirect to" in lines[0] and "private address (127.0.0.1)" in lines[0]


def test_no_private_redirects_refuses_private_links_of_a_remote_document(httpserver, tmp_path):
    """The same switch refuses feeds that an OPML from the web names on private addresses."""
    httpserver.expect_request("/list.opml").respond_with_data(opml("/a.rss"))
    httpserver.expect_request("/a.rss").respond_with_data(rss(item(1)))
    with Reader(tmp_path / "s.sqlite", private_redirects=False) as reader:
        result = reader.read([httpserver.url_for("/list.opml")])
    assert list(result) == []
    assert [f.source for f in result.failures] == [httpserver.url_for("/a.rss")]
    assert "private address" in result.failures[0].reason


@pytest.mark.parametrize(
    ("address", "private"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("192.168.0.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("0.0.0.0", True),
        ("::1", True),
        ("fe80::1%eth0", True),
        ("fd00::1", True),
        ("::ffff:127.0.0.1", True),
        ("224.0.0.1", True),
        ("93.184.216.34", False),
        ("2606:2800:220:1:248:1893:25c8:1946", False),
    ],
)
def test_private_addresses(address, private):
    """Loopback, private, link-local, shared, unspecified, multicast and IPv4-mapped loopback are private; public unicast is not."""
    from digestfeed.reader.fetch import is_private_address

    assert is_private_address(address) is private


def test_a_slow_server_never_delays_the_other_sources_past_the_timeout(
    raw_server, tmp_path, good_feed
):
    """Four trickling servers with --jobs 4 and --timeout 1: the run ends with four timeouts and the good feed read."""
    head = b"HTTP/1.1 200 OK\r\n"
    slow = [Trickle(head + b"X-A: " + b"a" * 100, raw_server.stop) for _ in range(4)]
    urls = [raw_server(s) for s in slow]
    code, items, err = read_json([good_feed, *urls, "--timeout", "1"], tmp_path / "s.sqlite")
    lines = stderr_lines(err)
    assert code == 1 and len(items) == 2
    assert len(lines) == 4 and all("timed out" in line for line in lines)
    assert all(s.cut_off() for s in slow)


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw_server):
    """Start a TLS server on 127.0.0.1 (a self-signed certificate the reader is told to trust) running ``talk``."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes"),
            *("-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    client_side = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr("digestfeed.reader.fetch._tls_context", lambda ssl_module: client_side)

    def start(talk: Callable[[socket.socket], None]) -> str:
        def tls_talk(sock: socket.socket) -> None:
            wrapped = server_side.wrap_socket(sock, server_side=True)
            wrapped.recv(65536)
            talk(wrapped)

        url = raw_server(tls_talk, read_request=False)
        return url.replace("http://", "https://")

    return start


def test_https_is_read_and_a_trickle_over_tls_is_cut_off_at_the_timeout(tls_server, tmp_path):
    """Over TLS too: a healthy feed is read, and headers trickled a byte at a time end at --timeout."""
    body = rss(item(1))
    good = tls_server(
        lambda sock: sock.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
        )
    )
    slow = Trickle(
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Slow: " + b"a" * 40, threading.Event()
    )
    bad = tls_server(slow)
    with Reader(tmp_path / "s.sqlite", timeout=1) as reader:
        result = reader.read([good, bad])
    assert [i.title for i in result] == ["Paper 1"]
    assert [(f.source, f.reason) for f in result.failures] == [(bad, "timed out after 1 s")]
    slow.stop.set()
    assert slow.cut_off()
