"""The text rules of the feed reader (digestfeed.reader.text): what a terminal, a data file and a link may carry."""

from __future__ import annotations

import pytest

from digestfeed.reader import text

ZWJ, ZWNJ, ZWSP, RLO, PDF, LRI, PDI, RLM = (
    "\u200d",
    "\u200c",
    "\u200b",
    "\u202e",
    "\u202c",
    "\u2066",
    "\u2069",
    "\u200f",
)


def test_terminal_drops_every_control_bidi_and_zero_width_character():
    """Escapes (C0), C1 CSI, bidi overrides, isolates, marks and zero-width characters all go."""
    raw = f"a\x1b[31mb\x9b2Jc{RLO}d{PDF}e{LRI}f{PDI}g{RLM}h{ZWSP}i{ZWJ}j{ZWNJ}k\ufeffl\x00m\x7fn"
    assert text.terminal_line(raw) == "a[31mb2Jcdefghijklmn"


def test_terminal_line_makes_one_line_and_terminal_keeps_lines():
    """CR, LF and the Unicode line separators become spaces on one line; multi-line text keeps newlines."""
    assert text.terminal_line("one\r\ntwo\rthree\u2028four\x85five") == "one two three four five"
    assert text.terminal("one\r\ntwo\n\x1b[2Jthree") == "one\ntwo\n[2Jthree"


def test_data_keeps_joiners_and_drops_controls_and_overrides():
    """Data keeps ZWJ, ZWNJ, ZWSP, bidi marks, tabs and newlines; drops C0/C1 and bidi overrides/isolates."""
    raw = f"\u0915\u094d{ZWJ}\u0937 \u0645{ZWNJ}\u0646{ZWSP}{RLM}\t\n\x1b\x9b{RLO}x{PDF}{LRI}y{PDI}"
    assert text.data(raw) == f"\u0915\u094d{ZWJ}\u0937 \u0645{ZWNJ}\u0646{ZWSP}{RLM}\t\nxy"


def test_xml_is_data_without_what_xml_cannot_hold():
    """XML text drops lone surrogates, U+FFFE and U+FFFF besides what data drops; joiners, tabs and newlines stay."""
    raw = f"a\ud800b\ufffec\uffffd{ZWJ}e\t\n\x1b{RLO}f"
    assert text.xml(raw) == f"abcd{ZWJ}e\t\nf"
    assert text.xml(None) == ""


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://example.org/a?b=c#d", "https://example.org/a?b=c#d"),
        ("HTTP://example.org/", "HTTP://example.org/"),
        ("  https://example.org/x  ", "https://example.org/x"),
        ("https://example.org/a b", "https://example.org/a%20b"),
        ("mailto:editor@example.org", "mailto:editor@example.org"),
        ("javascript:alert(1)", None),
        ("JavaScript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("file:///etc/passwd", None),
        ("https://example.org/a\r\nForged line", None),
        ("https://example.org/\x1b[2J", None),
        (f"https://example.org/{RLO}gpj.exe", None),
        ("https:///no-host", None),
        ("mailto:", None),
        ("entries/entry.html", "entries/entry.html"),
        ("/2025/05/post.html#top", "/2025/05/post.html#top"),
        ("//evil.example/x", None),
        ("", None),
    ],
)
def test_only_http_with_a_host_mailto_and_relative_links_are_kept(url, kept):
    """A link survives only as http(s) with a host, mailto or a relative reference, with no control, bidi or white space inside."""
    assert text.link(url) == kept


def test_links_keeps_order_and_drops_duplicates_and_unsafe_ones():
    """links() filters a list of links, first occurrence order kept."""
    assert text.links(
        ["https://a.example/", "javascript:x", "https://b.example/", "https://a.example/"]
    ) == ("https://a.example/", "https://b.example/")
