"""The HTML of an entry's text: escaped once, every URL a link, line breaks ``<br/>``."""

from __future__ import annotations

from html import escape

from hypothesis import given, settings
from hypothesis import strategies as st

from digestfeed.model import iter_links
from digestfeed.render.content import linkify

_TEXT = st.lists(
    st.sampled_from(
        [
            "https://",
            "http://",
            "HTTP://",
            "a.org/x",
            "?a=1&b=2",
            "&amp;",
            "<b>",
            '"',
            "'",
            "`",
            "\n",
            " ",
            ")",
            "(",
            ".",
            "한국어",
            "://",
            "x",
        ]
    )
    | st.text(max_size=4),
    max_size=25,
).map("".join)


def _escaped_text_and_links(text: str) -> str:
    out, pos = [], 0
    for start, end, url in iter_links(text):
        out.append(escape(text[pos:start], quote=False))
        out.append(f'<a href="{escape(url, quote=True)}">{escape(url, quote=False)}</a>')
        pos = end
    out.append(escape(text[pos:], quote=False))
    return "".join(out).replace("\n", "<br/>\n")


@settings(max_examples=500, deadline=None)
@given(_TEXT)
def test_linkify_escapes_text_and_links_every_url(text: str) -> None:
    """linkify: the text between URLs HTML-escaped, each URL an <a> whose href and text are
    the URL escaped, each line break a <br/> before it."""
    assert linkify(text) == _escaped_text_and_links(text)


def test_linkify_of_a_url_with_an_ampersand() -> None:
    """An '&' in a URL is escaped in the href and in the link text."""
    assert linkify("see https://a.org/?x=1&y=2.\nok <b>") == (
        'see <a href="https://a.org/?x=1&amp;y=2">https://a.org/?x=1&amp;y=2</a>.<br/>\nok &lt;b&gt;'
    )
