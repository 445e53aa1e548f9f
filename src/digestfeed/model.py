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
    """``(start, end, url)`` of every http(s) URL in ``text``, trailing punctuation excluded."""
    if "://" not in text:  # most comments hold no URL: skip the regex scan
        return
    for match in _URL_RE.finditer(text):
        url = match.group(0)
        while url and url[-1] in _TRAILING:
            # keep a closing bracket that closes one opened inside the URL
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break
            url = url[:-1]
        if len(url) > len("https://"):
            yield match.start(), match.start() + len(url), url


def find_links(text: str) -> list[str]:
    """Every http(s) URL in ``text``, in order, without trailing punctuation."""
    return [url for _, _, url in iter_links(text)]


def entry_arxiv_id(url: str) -> str | None:
    """The arXiv identifier (without version) of an entry's arXiv URL, else ``None``.

    This is the publisher's rule: entry ids are made from it, so it must never change.
    The feed reader's wider detection (any text, ``arXiv:`` ids, lower-cased) is
    :func:`digestfeed.reader.identity.find_arxiv_id`.
    """
    match = _ARXIV_RE.search(url)
    return match.group(1) if match else None


def normalize_tag(tag: str, aliases: Mapping[str, str] | None = None) -> str:
    """Canonical slug of a hashtag: case-folded, ``_`` and ``-`` and spaces the same.

    The slug is safe as a file name (letters, digits, ``-``; no dots, no slashes) and is
    mapped through ``aliases`` (whose keys and values are normalised too).
    """
    slug = _slug(tag)
    if aliases:
        for alias, canonical in aliases.items():
            if _slug(alias) == slug:
                return _slug(canonical)
    return slug


@functools.lru_cache(maxsize=4096)
def _slug(tag: str) -> str:
    slug = unicodedata.normalize("NFKC", tag.lstrip("#")).casefold()
    slug = re.sub(r"[\s_\-]+", "-", slug)
    slug = re.sub(r"[^\w-]", "", slug)
    slug = slug.replace("_", "-")
    return re.sub(r"-{2,}", "-", slug).strip("-")


def title_slug(title: str, limit: int = 60) -> str:
    """ASCII slug of a title for ids: ``ZeroSearch: Incentivize…`` → ``zerosearch-incentivize…``."""
    ascii_ = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit and slug:
            break
        slug = candidate[:limit]
    return slug


def make_id(authority: str, tag_date: str, specific: str) -> str:
    """An RFC 4151 ``tag:`` URI."""
    return f"tag:{authority},{tag_date}:{specific}"


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
