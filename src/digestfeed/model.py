"""What every source, output and the reader make of an entry: links, tag slugs, ids.

The :class:`~digestfeed.types.Entry` type itself lives in :mod:`digestfeed.types`
(re-exported here); tag slugs and ``tag:`` URIs are made here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from .types import make_id

if TYPE_CHECKING:  # pragma: no cover
    from .types import Entry

#: Keys of the JSON form of an entry, in order (the ``parse --format json`` contract).
ENTRY_JSON_KEYS = (
    "id",
    "date",
    "title",
    "authors",
    "abstract",
    "comment_ko",
    "comment_en",
    "tags",
    "links",
    "source",
)

_URL_RE = re.compile(r"https?://[^\s<>\"'`\]\[{}|\\^]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}>'\"”’»。、，"
_ARXIV_RE = re.compile(
    r"arxiv\.org/(?:abs|pdf|html)/((?:\d{4}\.\d{4,5})|(?:[a-z-]+(?:\.[A-Z]{2})?/\d{7}))(?:v\d+)?",
    re.IGNORECASE,
)


def iter_links(text: str) -> Iterator[tuple[int, int, str]]:
    """``(start, end, url)`` of every http(s) URL in ``text``, trailing punctuation excluded.

    Linear in the length of ``text``, whatever follows a URL (a megabyte of ``)`` too).
    """
    return iter(_link_spans(text))


def _link_spans(text: str) -> list[tuple[int, int, str]]:
    """What :func:`iter_links` yields: each match of ``_URL_RE.finditer(text)``, trimmed.

    Found faster than by ``finditer``: a URL holds ``://`` 4 or 5 characters after its start
    (``http``, ``https``), so the regex is only tried there, at each ``://`` in order (earlier
    ones give earlier starts), from where the last match ended.
    """
    spans = []
    end = 0  # where the last match ended: the next one starts there or later
    colon = text.find("://", 4)
    while colon != -1:
        for start in (colon - 5, colon - 4):
            if start >= end:
                match = _URL_RE.match(text, start)
                if match:
                    url = match.group(0)
                    cut = _trimmed_end(url)
                    if cut > len("https://"):
                        spans.append((start, start + cut, url[:cut]))
                    end = match.end()
                    break
        colon = text.find("://", max(colon + 1, end + 4))
    return spans


def _trimmed_end(url: str) -> int:
    """Where ``url`` ends once trailing punctuation is cut: one pass from the end, keeping a
    closing bracket that closes one opened inside the URL (counts kept, not recounted)."""
    end = len(url)
    opens, closes = url.count("("), url.count(")")
    while end and url[end - 1] in _TRAILING:
        if url[end - 1] == ")":
            if opens >= closes:
                break
            closes -= 1
        end -= 1
    return end


def find_links(text: str) -> list[str]:
    """Every http(s) URL in ``text``, in order, without trailing punctuation."""
    return [url for _, _, url in _link_spans(text)]


def entry_arxiv_id(url: str) -> str | None:
    """The arXiv identifier (without version) of an entry's arXiv URL, else ``None``.

    This is the publisher's rule: entry ids are made from it, so it must never change.
    The feed reader's wider detection (any text, ``arXiv:`` ids, lower-cased) is
    :func:`digestfeed.reader.identity.find_arxiv_id`.
    """
    match = _ARXIV_RE.search(url)
    return match.group(1) if match else None


#: Slugs Windows cannot use as a file name (``tags/con.html``): they get a trailing ``_``.
WINDOWS_DEVICE_NAMES = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10))}
    | {f"lpt{i}" for i in range(1, 10)}
)
_TAG_SEPARATORS = frozenset("_-.")
_TAG_WORDS = {"+": "plus", "#": "sharp"}


@dataclasses.dataclass(frozen=True, slots=True)
class TagSlug:
    """What a hashtag's text makes: its ``slug`` and the characters no slug may hold
    (``forbidden``: punctuation, symbols, zero-width and bidi controls, in order, once)."""

    slug: str
    forbidden: str


def tag_slug(tag: str) -> TagSlug:
    """The slug rule: the text after one leading ``#``, NFKC-normalised and case-folded;
    ``_``, ``-``, ``.`` and white space are one separator (``-``, collapsed, trimmed);
    ``+`` is the word ``plus`` and ``#`` the word ``sharp``; letters, digits (and the marks
    that belong to letters) of every script are kept; any other character is reported in
    :attr:`TagSlug.forbidden` and left out. A Windows device name gets a trailing ``_``.

    ``#C++`` → ``c-plus-plus``, ``#C#`` → ``c-sharp``, ``#cs.LG`` → ``cs-lg``.
    """
    return _tag_slug(tag[1:] if tag.startswith("#") else tag)


@functools.lru_cache(maxsize=8192)
def _tag_slug(text: str) -> TagSlug:
    words: list[str] = []
    word: list[str] = []
    forbidden: list[str] = []
    for ch in unicodedata.normalize("NFKC", text).casefold():
        if ch in _TAG_SEPARATORS or ch.isspace() or ch in _TAG_WORDS:
            if word:
                words.append("".join(word))
                word = []
            if ch in _TAG_WORDS:
                words.append(_TAG_WORDS[ch])
        elif unicodedata.category(ch)[0] in "LNM":
            word.append(ch)
        elif ch not in forbidden:
            forbidden.append(ch)
    if word:
        words.append("".join(word))
    slug = "-".join(words)
    if slug in WINDOWS_DEVICE_NAMES:
        slug += "_"
    return TagSlug(slug, "".join(forbidden))


def has_tag_text(tag: str) -> bool:
    """Whether a hashtag holds a letter or digit after its ``#`` (``##`` and ``#--`` do not)."""
    # '+' and '#' (the _TAG_WORDS) are not alphanumeric; most tags decide at their first letter.
    return tag[1:2].isalnum() or any(ch.isalnum() for ch in tag[2:])


def normalize_tag(tag: str, aliases: Mapping[str, str] | None = None) -> str:
    """Canonical slug of a hashtag (:func:`tag_slug`), mapped through ``aliases`` (whose keys
    and values are normalised too); forbidden characters are left out. The sources refuse
    such hashtags first (:func:`digestfeed.sources.lines.parse_tags`); the feed reader
    normalises other feeds' categories with this lenient form.

    The slug is safe as a file name on every system (letters, digits, ``-``; no dots, no
    slashes, no device names).
    """
    slug = tag_slug(tag).slug
    if aliases:
        for alias, canonical in aliases.items():
            if tag_slug(alias).slug == slug:
                return tag_slug(canonical).slug
    return slug


_SLUG_WORD = re.compile(r"[a-z0-9]+")


def title_slug(title: str, limit: int = 60) -> str:
    """ASCII slug of a title for ids: ``ZeroSearch: Incentivize…`` → ``zerosearch-incentivize…``."""
    if title.isascii():  # NFKD leaves ASCII as it is
        ascii_ = title
    else:
        ascii_ = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    words = _SLUG_WORD.findall(ascii_.lower())
    slug = "-".join(words)
    if len(slug) <= limit:  # every word fits: what the loop below would make
        return slug
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit and slug:
            break
        slug = candidate[:limit]
    return slug


def entry_id(authority: str, tag_date: str, date: str, title: str) -> str:
    """The id of a digest entry: its date and a slug of its title (a title with no ASCII
    letters or digits, e.g. all Hangul, gets a hash of the title: it must not depend on the
    entry's position, which changes when an earlier entry is removed)."""
    slug = title_slug(title) or "entry-" + hashlib.sha256(title.encode("utf-8")).hexdigest()[:10]
    return make_id(authority, tag_date, f"{date}/{slug}")


def assign_unique_ids(entries: Iterable[Entry]) -> list[Entry]:
    """Suffix ``-2``, ``-3`` … to ids that repeat, in order (deterministic)."""
    seen: dict[str, int] = {}
    out = []
    for entry in entries:
        n = seen.get(entry.id, 0) + 1
        seen[entry.id] = n
        if n > 1:
            new_id = f"{entry.id}-{n}"
            while new_id in seen:
                n += 1
                new_id = f"{entry.id}-{n}"
            seen[new_id] = 1
            entry = dataclasses.replace(entry, id=new_id)
        out.append(entry)
    return out
