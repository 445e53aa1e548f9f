"""``digestfeed ping``: WebSub publish notifications, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from digestfeed.cli import main
from digestfeed.websub import advertises_hub, notify

NOW1 = "2026-01-01T12:00:00+09:00"
BASE = "https://feeds.example.org/feeds/"
DAY1 = """2025-05-01
Sparse Mixtures of Experts at Scale
(Ada Lovelace)
We study sparse experts.
흥미로운 논문이군요.
An interesting paper.
#moe
"""
DAY2 = (
    DAY1.replace("2025-05-01", "2025-05-02")
    .replace("Sparse Mixtures", "Dense Mixtures")
    .replace("#moe", "#rl")
)


def run(root: Path, *args: str) -> Result:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, list(args), env={"DIGESTFEED_NOW": NOW1})
    finally:
        os.chdir(cwd)


def make_site(root: Path, hub: str) -> Path:
    (root / "entries").mkdir(parents=True)
    (root / "entries" / "2025-05-01.txt").write_text(DAY1, encoding="utf-8")
    config = f'outputs = ["atom", "opml"]\nfeed_base_url = "{BASE}"\nmax_entries = 1\narchive_page_size = 1\n'
    if hub:
        config += f'hub = "{hub}"\n'
    (root / "digestfeed.toml").write_text(config, encoding="utf-8")
    return root


def published_urls(server: HTTPServer) -> list[list[str]]:
    """The ``hub.url`` values of each request the hub received (after checking the request's form)."""
    out = []
    for request, _response in server.log:
        assert request.method == "POST"
        assert request.mimetype == "application/x-www-form-urlencoded"
        form = urllib.parse.parse_qs(request.get_data(as_text=True))
        assert form["hub.mode"] == ["publish"]
        out.append(form["hub.url"])
    return out


@pytest.fixture
def hub(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request("/hub", method="POST").respond_with_data("", status=204)
    return httpserver


def test_ping_announces_each_changed_feed(tmp_path: Path, hub: HTTPServer) -> None:
    """After a build, ping POSTs hub.mode=publish with hub.url=<feed URL> for each changed subscription feed."""
    site = make_site(tmp_path / "site", hub.url_for("/hub"))
    assert run(site, "build", "-q").exit_code == 0
    result = run(site, "ping")
    assert result.exit_code == 0, result.output
    urls = sorted(u for group in published_urls(hub) for u in group)
    assert urls == sorted(
        BASE + f
        for f in (
            "all.atom",
            "ko.atom",
            "en.atom",
            "tags/moe.atom",
            "tags/moe.ko.atom",
            "tags/moe.en.atom",
        )
    )
    assert all(len(group) == 1 for group in published_urls(hub))  # one request per feed
    assert "6 feeds announced" in result.output


def test_only_the_feeds_a_build_changed_are_announced(tmp_path: Path, hub: HTTPServer) -> None:
    """A new digest announces only the feeds it changed; archives and the OPML index never (no rel=hub)."""
    site = make_site(tmp_path / "site", hub.url_for("/hub"))
    run(site, "build", "-q")
    run(site, "ping")
    hub.clear_log()
    (site / "entries" / "2025-05-02.txt").write_text(DAY2, encoding="utf-8")
    assert run(site, "build", "-q").exit_code == 0
    assert (
        site / "feeds" / "archive" / "all" / "2.atom"
    ).exists()  # archive_page_size = 1: a new page
    result = run(site, "ping")
    assert result.exit_code == 0, result.output
    urls = sorted(u for group in published_urls(hub) for u in group)
    assert urls == sorted(
        BASE + f
        for f in (
            "all.atom",
            "ko.atom",
            "en.atom",
            "tags/rl.atom",
            "tags/rl.ko.atom",
            "tags/rl.en.atom",
        )
    )


def test_nothing_to_ping(tmp_path: Path, hub: HTTPServer) -> None:
    """Ping with nothing new (already announced, or a no-change build) says so, sends nothing, exits 0."""
    site = make_site(tmp_path / "site", hub.url_for("/hub"))
    result = run(site, "ping")
    assert result.exit_code == 0 and "no build recorded" in result.output
    run(site, "build", "-q")
    assert run(site, "ping").exit_code == 0
    hub.clear_log()
    again = run(site, "ping")
    assert again.exit_code == 0 and "nothing to ping" in again.output
    run(site, "build", "-q")
    third = run(site, "ping")
    assert third.exit_code == 0 and "nothing to ping" in third.output
    assert len(hub.log) == 0


def test_batch_sends_one_request(tmp_path: Path, hub: HTTPServer) -> None:
    """--batch sends one request with hub.url repeated for every changed feed."""
    site = make_site(tmp_path / "site", hub.url_for("/hub"))
    run(site, "build", "-q")
    assert run(site, "ping", "--batch").exit_code == 0
    groups = published_urls(hub)
    assert len(groups) == 1 and len(groups[0]) == 6


def test_hub_error_is_exit_1_and_retried_next_time(tmp_path: Path, httpserver: HTTPServer) -> None:
    """A hub answering 5xx is a clear error (status, hub URL) and exit 1; the next ping retries those feeds."""
    httpserver.expect_ordered_request("/hub", method="POST").respond_with_data(
        "hub is down", status=503
    )
    site = make_site(tmp_path / "site", httpserver.url_for("/hub"))
    run(site, "build", "-q")
    result = run(site, "ping", "--batch")
    assert result.exit_code == 1
    assert "503" in result.stderr and "hub is down" in result.stderr
    assert httpserver.url_for("/hub") in result.stderr
    assert "Traceback" not in result.output
    httpserver.clear()
    httpserver.expect_request("/hub", method="POST").respond_with_data("", status=202)
    retry = run(site, "ping")
    assert retry.exit_code == 0, retry.output
    assert len(published_urls(httpserver)) == 6


def test_slow_hub_times_out(tmp_path: Path, httpserver: HTTPServer) -> None:
    """A hub that has not answered by --timeout is reported as a timeout (exit 1) while it still hangs."""
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(30)  # answers only after ping has given up (never a timed assertion)
        return Response("", status=204)

    httpserver.expect_request("/hub", method="POST").respond_with_handler(slow)
    site = make_site(tmp_path / "site", httpserver.url_for("/hub"))
    run(site, "build", "-q")
    try:
        result = run(site, "ping", "--batch", "--timeout", "0.5")
        assert not release.is_set()  # ping returned while the hub was still holding the request
        assert result.exit_code == 1
        assert "did not answer within 0.5 s" in result.stderr
    finally:
        release.set()
    deadline = time.monotonic() + 10  # let the handler finish, so it cannot leak into the next test
    while not httpserver.log and time.monotonic() < deadline:
        time.sleep(0.05)


def test_unreachable_hub_is_a_clear_error(tmp_path: Path) -> None:
    """A hub refusing connections is exit 1 with 'cannot reach the hub', no traceback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there
    site = make_site(tmp_path / "site", f"http://127.0.0.1:{port}/hub")
    run(site, "build", "-q")
    result = run(site, "ping", "--timeout", "2")
    assert result.exit_code == 1
    assert "cannot reach the hub" in result.stderr and "Traceback" not in result.output


def test_no_hub_configured(tmp_path: Path) -> None:
    """Without a hub in the config, ping says so and exits 0 (CI can always run it)."""
    site = make_site(tmp_path / "site", "")
    run(site, "build", "-q")
    result = run(site, "ping")
    assert result.exit_code == 0 and "no WebSub hub configured" in result.output
    assert b'rel="hub"' not in (site / "feeds" / "all.atom").read_bytes()


def test_dry_run_lists_and_sends_nothing(tmp_path: Path, hub: HTTPServer) -> None:
    """--dry-run lists the feeds it would announce and sends nothing (they stay pending)."""
    site = make_site(tmp_path / "site", hub.url_for("/hub"))
    run(site, "build", "-q")
    result = run(site, "ping", "--dry-run")
    assert result.exit_code == 0 and f"would ping {BASE}all.atom" in result.output
    assert len(hub.log) == 0
    assert run(site, "ping").exit_code == 0 and len(hub.log) == 6


def test_notify_and_hub_detection_units(hub: HTTPServer) -> None:
    """notify() reports per request; a feed advertises the hub when its bytes name it (XML-escaped or not)."""
    outcomes = notify(
        hub.url_for("/hub"), ["https://a.example/x.atom", "https://a.example/y.atom"], timeout=5
    )
    assert [o.ok for o in outcomes] == [True, True]
    assert notify(hub.url_for("/hub"), [], timeout=5) == []
    assert advertises_hub(
        b'<link href="https://h.example/?a=1&amp;b=2" rel="hub"/>', "https://h.example/?a=1&b=2"
    )
    assert not advertises_hub(b"<feed/>", "https://h.example/")


def test_out_reads_the_feeds_from_another_checkout(tmp_path: Path, hub: HTTPServer) -> None:
    """--out reads the changed feeds from DIR (the Pages job's checkout), not the recorded build directory."""
    site = make_site(tmp_path / "site", hub.url_for("/hub"))
    run(site, "build", "-q")
    shutil.move(site / "feeds", tmp_path / "checkout-feeds")
    assert "nothing to ping" in run(site, "ping").output
    result = run(site, "ping", "--out", str(tmp_path / "checkout-feeds"))
    assert result.exit_code == 0 and "6 feeds announced" in result.output
