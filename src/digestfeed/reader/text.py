"""Text from outside (feeds, servers) made safe for where it goes.

Two rules, one module, used by every output path of the feed reader:

- **Terminal** (:func:`terminal`, :func:`terminal_line`): text shown to a person —
  titles, comments, links, error lines with HTTP reason phrases and status lines — loses
  every C0 and C1 control (escape sequences cannot recolour, retitle or rewrite the
  terminal), every bidi control (no reordered lines) and every zero-width or invisible
  formatting character (no look-alike text).
- **Data** (:func:`data`): text written to JSON or feeds loses only C0/C1 controls
  (tab and newline stay) and the bidi embeddings, overrides and isolates; zero-width
  joiners and non-joiners stay, since words in many scripts need them. :func:`xml` also
  drops what XML 1.0 cannot hold (lone surrogates, U+FFFE, U+FFFF), for feeds.

:func:`link` keeps a link only if it is an ``http(s)`` URL with a host, a ``mailto:``
address or a relative reference (no scheme: a saved feed with no base of its own keeps its
links as written, and they can only ever resolve against an http(s) page), with no control
or white-space characters inside (no forged text lines, no ``javascript:``).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable

#: C0 (except tab and newline), DEL and C1.
_C0_C1 = "\x00-\x08\x0b-\x1f\x7f-\x9f"
#: Embeddings, overrides (LRE RLE PDF LRO RLO) and isolates (LRI RLI FSI PDI).
_BIDI_OVERRIDES = "\u202a-\u202e\u2066-\u2069"
#: Bidi marks (ALM, LRM, RLM), zero-width and invisible formatting characters (ZWSP, ZWNJ,
#: ZWJ, word joiner, invisible operators, BOM/ZWNBSP, Mongolian vowel separator, soft hyphen,
#: interlinear annotation marks, tag characters).
_INVISIBLE = (
    "\u061c\u200e\u200f\u200b-\u200d\u2060-\u2064\ufeff\u180e\u00ad\ufff9-\ufffb"
    "\U000e0000-\U000e007f"
)

#: C0 (except tab and newline), DEL and C1 controls: what no text from outside keeps.
CONTROL = re.compile(f"[{_C0_C1}]")
_DATA = re.compile(f"[{_C0_C1}{_BIDI_OVERRIDES}]")
_XML = re.compile(f"[{_C0_C1}{_BIDI_OVERRIDES}\ud800-\udfff\ufffe\uffff]")
_TERMINAL = re.compile(f"[{_C0_C1}{_BIDI_OVERRIDES}{_INVISIBLE}]")
_LINE_BREAKS = re.compile(r"[\t\n\u2028\u2029\x85\r\x0b\x0c]+")
_LINK_SCHEMES = ("http", "https", "mailto")
_UNSAFE_IN_LINK = re.compile(f"[\\s{_C0_C1}{_BIDI_OVERRIDES}{_INVISIBLE}\u2028\u2029]")


def data(text: str) -> str:
    """For JSON and feeds: without C0/C1 controls (tab, newline kept) and bidi overrides."""
    return _DATA.sub("", text)


def xml(text: str | None) -> str:
    """For XML feeds: as :func:`data`, and without the characters XML 1.0 cannot hold."""
    return _XML.sub("", text or "")


def is_web(url: str | None) -> bool:
    """An absolute http(s) URL with a host."""
    parts = urllib.parse.urlsplit(url or "")
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def terminal(text: str) -> str:
    """For a terminal, several lines allowed: only printable text, tabs and newlines."""
    return _TERMINAL.sub("", text.replace("\r\n", "\n").replace("\u2028", "\n"))


def terminal_line(text: str) -> str:
    """For a terminal, one line: as :func:`terminal`, every line break a space."""
    return _TERMINAL.sub("", _LINE_BREAKS.sub(" ", text))


def link(url: str) -> str | None:
    """``url`` if it is a safe link to show or write (http(s) with a host, mailto, or a
    relative reference), else ``None``."""
    url = url.strip().replace(" ", "%20")
    if not url or _UNSAFE_IN_LINK.search(url):
        return None
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not scheme and not url.startswith("//"):
        return url  # relative: as the feed wrote it (see parse.resolve)
    if scheme not in _LINK_SCHEMES:
        return None
    if scheme == "mailto":
        return url if len(url) > len("mailto:") else None
    return url if parts.hostname else None


def links(urls: Iterable[str]) -> tuple[str, ...]:
    """The safe ones of ``urls`` (see :func:`link`), order kept, duplicates dropped."""
    kept = (link(u) for u in urls)
    return tuple(dict.fromkeys(u for u in kept if u is not None))
