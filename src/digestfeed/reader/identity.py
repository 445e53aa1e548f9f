"""Dedupe keys of a feed entry: pure functions of its id, title, links and text.

Nothing here knows about feedparser or SQLite, so the same rules serve digestfeed's
feed reader (``digestfeed read``) and its plugin for the reader library
(:mod:`digestfeed.reader_plugin`). A *key* is a string with a rule prefix
(``id:…``, ``arxiv:…``, ``link:…``, ``title:…``, ``feed-id:…``); the *rule* says which
kind of evidence it is.

Rules, strongest first:

``id``
    The entry id, trusted as a global key. Trusted when the feed was made by digestfeed
    (``<generator>digestfeed</generator>``) or the id has digestfeed's shape
    ``tag:<authority>,<date>:<YYYY-MM-DD>/<slug>`` (see :func:`is_digestfeed_id`).
``arxiv``
    An arXiv identifier (without version) found in the id, the links or the text.
``link``
    The normalised link (see :func:`normalize_link`).
``title``
    The normalised title (see :func:`normalize_title`).
``feed-id``
    A foreign id, only meaningful within its own feed (keeps an entry whose title or
    link was edited the same item).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable

RULES = ("id", "arxiv", "link", "title", "feed-id")

_DIGESTFEED_ID = re.compile(
    r"^tag:[A-Za-z0-9.@-]+,\d{4}(?:-\d{2}(?:-\d{2})?)?:\d{4}-\d{2}-\d{2}/[a-z0-9][a-z0-9-]*"
    r"(?:/(?:ko|en))?$"
)
#: The suffix of a language variant's id (``…/ko``, ``…/en``): one paper in three variants.
_VARIANT = re.compile(r"/(?:ko|en)$")
_ARXIV_NEW = r"\d{4}\.\d{4,5}"
_ARXIV_OLD = r"[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7}"
_ARXIV_URL = re.compile(
    rf"arxiv\.org/(?:abs|pdf|html|format)/({_ARXIV_NEW}|{_ARXIV_OLD})(?:v\d+)?", re.IGNORECASE
)
#: ``arXiv:2505.04588``, ``oai:arXiv.org:2505.04588v1`` (arXiv's own RSS guids).
_ARXIV_TEXT = re.compile(
    rf"\barxiv(?:\.org)?:\s*({_ARXIV_NEW}|{_ARXIV_OLD})(?:v\d+)?\b", re.IGNORECASE
)
_TRACKING = re.compile(r"^(?:utm_[a-z]+|fbclid|gclid|mc_[a-z]+|ref|source)$", re.IGNORECASE)
_SIMILAR = 0.6


def is_digestfeed_id(entry_id: str | None) -> bool:
    """True when ``entry_id`` has the shape of a digestfeed entry id (any language variant)."""
    return bool(entry_id) and _DIGESTFEED_ID.match(entry_id or "") is not None


def paper_id(entry_id: str) -> str:
    """The entry id of a digestfeed language variant's id: ``…/ko`` and ``…/en`` dropped
    (the bilingual, Korean and English variants are one paper)."""
    return _VARIANT.sub("", entry_id) if entry_id.startswith("tag:") else entry_id


def find_arxiv_id(*texts: str | None) -> str | None:
    """The first arXiv identifier (no version, lower-cased) in URLs or ``arXiv:`` ids.

    The feed reader's detection, wider than the publisher's
    :func:`digestfeed.model.entry_arxiv_id` (which makes entry ids and never changes).
    """
    for text in texts:
        if not text:
            continue
        match = _ARXIV_URL.search(text) or _ARXIV_TEXT.search(text)
        if match:
            return match.group(1).lower()
    return None


def _bare_arxiv(text: str) -> str | None:
    match = re.fullmatch(rf"\s*({_ARXIV_NEW})\s*", text or "")
    return match.group(1) if match else None


def normalize_link(url: str | None) -> str | None:
    """A link compared loosely: no scheme, no ``www.``, no default port, fragment, tracking
    parameters or trailing slash; host case-folded, query parameters sorted."""
    if not url:
        return None
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    host = host[4:] if host.startswith("www.") else host
    port = parts.port
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = sorted((k, v) for k, v in query if not _TRACKING.match(k))
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/")
    norm = host + path
    if query:
        norm += "?" + urllib.parse.urlencode(query)
    return norm


def normalize_title(title: str | None) -> str | None:
    """A title compared loosely: NFKC, case-folded, punctuation dropped, spaces collapsed."""
    if not title:
        return None
    text = unicodedata.normalize("NFKC", title).casefold()
    text = re.sub(r"[^\w\s]", " ", text)
    text = " ".join(text.split())
    return text or None


def titles_differ(a: str | None, b: str | None) -> bool:
    """True when two titles are clearly different papers (not an edit or a typo fix)."""
    na, nb = normalize_title(a), normalize_title(b)
    if not na or not nb or na == nb:
        return False
    return difflib.SequenceMatcher(None, na, nb, autojunk=False).ratio() < _SIMILAR


def candidate_keys(
    entry_id: str | None,
    title: str | None,
    links: Iterable[str] = (),
    text: str = "",
    *,
    trusted_id: bool = False,
    feed: str = "",
) -> list[tuple[str, str]]:
    """Every ``(key, rule)`` of an entry, strongest first.

    ``links`` are the entry's own links; ``text`` is where an arXiv id may be stated
    (``arXiv:2505.04588``, an arXiv URL, or a bare new-style id such as the one paper a
    blog post links to); ``feed`` scopes a foreign id to its feed.

    A trusted id is the only key, without its language variant suffix (digestfeed ids are
    the same in every feed, and two entries with different ids are different digest
    entries). Otherwise the arXiv id,
    the first normalised link, the normalised title and the feed-scoped id, in that
    order, each when present.
    """
    if entry_id and (trusted_id or is_digestfeed_id(entry_id)):
        return [(f"id:{paper_id(entry_id)}", "id")]
    links = [link for link in links if link]
    keys: list[tuple[str, str]] = []
    arxiv = find_arxiv_id(entry_id, *links) or find_arxiv_id(text) or _bare_arxiv(text)
    if arxiv:
        keys.append((f"arxiv:{arxiv}", "arxiv"))
    for link in links:
        norm = normalize_link(link)
        if norm:
            keys.append((f"link:{norm}", "link"))
            break
    norm_title = normalize_title(title)
    if norm_title:
        keys.append((f"title:{norm_title}", "title"))
    if entry_id:
        keys.append((f"feed-id:{feed}\x00{entry_id}", "feed-id"))
    return keys
