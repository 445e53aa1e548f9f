"""Dedupe keys of a feed entry: pure functions of its id, title, links and text.

Nothing here knows about feedparser or SQLite, so the same rules serve digestfeed's
feed reader (``digestfeed read``) and its plugin for the reader library
(:mod:`digestfeed.reader_plugin`). A *key* is a string with a rule prefix
(``id:…``, ``arxiv:…``, ``doi:…``, ``link:…``, ``title:…``, ``feed-id:…``); the *rule* says
which kind of evidence it is.

Rules, strongest first:

``id``
    The entry id, trusted as a global key (within its origin: see
    :mod:`digestfeed.reader.dedupe`). Trusted when the feed was made by digestfeed
    (``<generator>digestfeed</generator>``) or the id has digestfeed's shape (see
    :func:`is_digestfeed_id`). A language variant's id (``…/ko``, ``…/en``) is keyed by the
    entry id it extends (:func:`paper_id`): the three variants are one paper.
``arxiv``
    An arXiv identifier (without version) in any of its forms (:func:`find_arxiv_id`).
``doi``
    A DOI of a paper that is not on arXiv (:func:`find_doi`).
``link``
    The normalised link, fragment kept (see :func:`normalize_link`).
``title``
    The normalised title (see :func:`normalize_title`).
``feed-id``
    A foreign id, only meaningful within its own feed (keeps an entry whose title or
    link was edited the same item).

Paper identity, link and title join entries of *different* feeds only; within one feed
only a shared id makes two entries one (the dedupe applies that, not this module).
"""

from __future__ import annotations

import difflib
import os
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable
from pathlib import Path

RULES = ("id", "arxiv", "doi", "link", "title", "feed-id")
#: Rules that join entries of different feeds (paper identity, then link, then title).
CROSS_FEED_RULES = ("arxiv", "doi", "link", "title")

_SLUG = r"[a-z0-9][a-z0-9-]*"
_DIGESTFEED_ID = re.compile(
    r"^(tag:[A-Za-z0-9.@-]+,\d{4}(?:-\d{2}(?:-\d{2})?)?:"
    rf"(?:\d{{4}}-\d{{2}}-\d{{2}}/{_SLUG}|arxiv:[A-Za-z0-9./-]+?))(/ko|/en)?$"
)
_ARXIV_NEW = r"\d{4}\.\d{4,5}"
_ARXIV_OLD = r"[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7}"
_ARXIV_ID = rf"({_ARXIV_NEW}|{_ARXIV_OLD})(?:v\d+)?"
#: Where an arXiv paper is linked: arXiv itself (abs, pdf, html, format; www., export.),
#: alphaXiv, Hugging Face papers, Papers with Code and the arXiv DOI (any resolver).
_ARXIV_URL = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf|html|format|ps)/"
    r"|alphaxiv\.org/(?:abs|overview|pdf)/"
    r"|huggingface\.co/papers/"
    r"|paperswithcode\.com/paper/arxiv-"
    r"|\b10\.48550/arxiv\.)"
    rf"{_ARXIV_ID}(?!\d)",
    re.IGNORECASE,
)
#: ``arXiv:2505.04588``, ``oai:arXiv.org:2505.04588v1`` (arXiv's own RSS guids).
_ARXIV_TEXT = re.compile(rf"\barxiv(?:\.org)?:\s*{_ARXIV_ID}\b", re.IGNORECASE)
#: ``[2505.04588] Title`` (aggregators' titles).
_ARXIV_TITLE = re.compile(rf"^\s*\[(?:arxiv:\s*)?{_ARXIV_ID}\]", re.IGNORECASE)
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"'<>]+)", re.IGNORECASE)
_DOI_TRAILING = ".,;:)]}'\""
_TRACKING = re.compile(r"^(?:utm_[a-z]+|fbclid|gclid|mc_[a-z]+|ref|source)$", re.IGNORECASE)
_SIMILAR = 0.6


def is_digestfeed_id(entry_id: str | None) -> bool:
    """True when ``entry_id`` has the shape of a digestfeed entry id (or a variant's)."""
    return bool(entry_id) and _DIGESTFEED_ID.match(entry_id or "") is not None


def paper_id(entry_id: str) -> str:
    """The entry id a digestfeed language variant's id extends (``X/ko``, ``X/en`` → ``X``);
    any other id unchanged."""
    match = _DIGESTFEED_ID.match(entry_id)
    return match.group(1) if match else entry_id


def _arxiv(match: re.Match[str]) -> str:
    return match.group(1).lower()


def find_arxiv_id(*texts: str | None) -> str | None:
    """The first arXiv identifier (no version, lower-cased) in URLs or ``arXiv:`` ids.

    URLs of arXiv and of the sites that link papers by their arXiv id (alphaXiv, Hugging
    Face papers, Papers with Code, the ``10.48550/arXiv.…`` DOI), and ``arXiv:ID`` (also
    ``oai:arXiv.org:ID``); new-style and old-style (``hep-th/9901001``) ids. The feed
    reader's detection, wider than the publisher's :func:`digestfeed.model.entry_arxiv_id`
    (which makes entry ids and never changes).
    """
    for text in texts:
        if not text:
            continue
        match = _ARXIV_URL.search(text) or _ARXIV_TEXT.search(text)
        if match:
            return _arxiv(match)
    return None


def find_arxiv_ids(text: str | None) -> set[str]:
    """Every arXiv identifier in ``text`` (URLs and ``arXiv:`` ids), without versions."""
    if not text:
        return set()
    return {_arxiv(m) for pattern in (_ARXIV_URL, _ARXIV_TEXT) for m in pattern.finditer(text)}


def title_arxiv_id(title: str | None) -> str | None:
    """The arXiv id of a ``[2505.04588] Title`` prefix, else ``None``."""
    match = _ARXIV_TITLE.match(title or "")
    return _arxiv(match) if match else None


def find_doi(*texts: str | None) -> str | None:
    """The first DOI (lower-cased, trailing punctuation dropped) that is not arXiv's own
    (those are arXiv ids), in a resolver URL, a ``doi:`` id or plain text."""
    for text in texts:
        if not text:
            continue
        for match in _DOI.finditer(urllib.parse.unquote(text)):
            doi = match.group(1).rstrip(_DOI_TRAILING).lower()
            if "/" in doi and not doi.startswith("10.48550/arxiv."):
                return doi
    return None


def _text_arxiv(text: str) -> str | None:
    """The arXiv id ``text`` states, when it states exactly one (a bare id counts when it
    is the whole text: the one paper a post links, as the content scan reports it)."""
    found = find_arxiv_ids(text)
    bare = re.fullmatch(rf"\s*({_ARXIV_NEW}|{_ARXIV_OLD})\s*", text or "")
    if bare:
        found.add(bare.group(1).lower())
    return found.pop() if len(found) == 1 else None


def _text_doi(text: str) -> str | None:
    found = {d for m in _DOI.finditer(text or "") if (d := find_doi(m.group(1)))}
    return found.pop() if len(found) == 1 else None


def normalize_link(url: str | None) -> str | None:
    """A link compared loosely: no scheme, no ``www.``, no default port, tracking parameters
    or trailing slash; host case-folded, query parameters sorted. The fragment is kept
    (``page.html#week-19`` and ``page.html#week-18`` are different entries)."""
    if not url:
        return None
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    host = host[4:] if host.startswith("www.") else host
    try:
        port = parts.port
    except ValueError:
        return None
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = sorted((k, v) for k, v in query if not _TRACKING.match(k))
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/")
    norm = host + path
    if query:
        norm += "?" + urllib.parse.urlencode(query)
    if parts.fragment:
        norm += "#" + parts.fragment
    return norm


def origin(location: str) -> str:
    """The origin of an http(s) URL: ``scheme://host:port`` (lower-cased, port explicit)."""
    parts = urllib.parse.urlsplit(location)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


def folder_origin(folder: str | os.PathLike[str]) -> str:
    """The origin of a feed file that stands for no URL: the folder it was named through,
    as a ``file:`` URI (absolute, so two spellings of one folder are one origin)."""
    return Path(folder).absolute().as_uri()


def same_origin(owner: str, other: str) -> bool:
    """Whether ``other`` may speak for ids owned by ``owner``: the same scheme, host and
    port; for files (``file:///folder``), folders of which one holds the other."""
    if owner == other:
        return True
    if owner.startswith("file://") and other.startswith("file://"):
        a, b = owner.rstrip("/") + "/", other.rstrip("/") + "/"
        return a.startswith(b) or b.startswith(a)
    return False


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

    ``links`` are the entry's own links; ``text`` is where a paper may be stated (its
    text; an arXiv id or DOI counts when the text states exactly one); ``feed`` scopes a
    foreign id to its feed.

    A trusted id (of a language variant: the entry id it extends) comes first; then the
    arXiv id (id, links, a ``[ID]`` title prefix, the text), the DOI, the first normalised
    link, the normalised title (without an arXiv prefix) and, for an id that is not
    trusted, the feed-scoped id, each when present.
    """
    keys: list[tuple[str, str]] = []
    trusted = bool(entry_id) and (trusted_id or is_digestfeed_id(entry_id))
    if entry_id and trusted:
        keys.append((f"id:{paper_id(entry_id)}", "id"))
    links = [link for link in links if link]
    arxiv = find_arxiv_id(entry_id, *links) or title_arxiv_id(title) or _text_arxiv(text)
    if arxiv:
        keys.append((f"arxiv:{arxiv}", "arxiv"))
    doi = find_doi(entry_id, *links) or _text_doi(text)
    if doi:
        keys.append((f"doi:{doi}", "doi"))
    for link in links:
        norm = normalize_link(link)
        if norm:
            keys.append((f"link:{norm}", "link"))
            break
    norm_title = normalize_title(_ARXIV_TITLE.sub("", title or ""))
    if norm_title:
        keys.append((f"title:{norm_title}", "title"))
    if entry_id and not trusted:
        keys.append((f"feed-id:{feed}\x00{entry_id}", "feed-id"))
    return keys
