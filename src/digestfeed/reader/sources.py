"""SOURCE arguments → feed locations.

A SOURCE is an http(s) URL, a feed file, a directory (every ``*.atom``, ``*.rss``,
``*.rdf``, ``*.xml`` and ``*.json`` below it, sorted; ``*.opml`` files inside are not expanded again) or an OPML
file. OPML is recognised by its content (root ``<opml>``) wherever it comes from, so the
expansion of OPML happens after fetching (see :mod:`digestfeed.reader.reading`).

An OPML file (or a feed) read *from disk* usually sits in the directory that ``digestfeed
build`` wrote, while its ``xmlUrl``s (and RFC 5005 archive links) are the published URLs.
:func:`local_twin` maps such a URL to the file next to it on disk, so that
``digestfeed read feeds/index.opml`` reads the freshly built files, not the web site.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterable
from pathlib import Path

from .fetch import is_url

FEED_SUFFIXES = (".atom", ".rss", ".rdf", ".xml", ".json")
_MAX_LEVELS_UP = 4


def expand(sources: Iterable[str | os.PathLike[str]]) -> list[str]:
    """URLs as they are, files as absolute paths, directories as the feed files below them."""
    out: list[str] = []
    for source in sources:
        text = os.fspath(source)
        if is_url(text):
            out.append(text)
            continue
        path = Path(text)
        if path.is_dir():
            out.extend(
                str(p.absolute())
                for p in sorted(path.rglob("*"))
                if p.suffix.lower() in FEED_SUFFIXES and p.is_file()
            )
        else:
            # a missing file is reported by the fetch step, like any failing source
            out.append(str(path.absolute()))
    return list(dict.fromkeys(out))


def local_twin(url: str, near: str) -> str | None:
    """The file on disk that ``url`` names, looked up around the local file ``near``.

    The URL path's longest suffix that exists below ``near``'s directory or one of its
    ancestors (at most four levels up) wins: ``https://site/feeds/tags/rl.atom`` seen from
    ``/tmp/x/feeds/index.opml`` is ``/tmp/x/feeds/tags/rl.atom``.
    """
    if not is_url(url) or is_url(near):
        return None
    parts = [urllib.parse.unquote(p) for p in urllib.parse.urlsplit(url).path.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        return None
    bases = [Path(near).absolute().parent]
    for _ in range(_MAX_LEVELS_UP):
        bases.append(bases[-1].parent)
    for start in range(len(parts)):
        suffix = Path(*parts[start:])
        for base in bases:
            candidate = base / suffix
            if candidate.is_file():
                return str(candidate)
    return None


def file_path(url: str) -> str:
    """``file:///tmp/x/all.atom`` (a link resolved against a local feed) → ``/tmp/x/all.atom``."""
    import urllib.request

    return str(Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path)).absolute())
