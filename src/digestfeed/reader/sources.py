"""SOURCE arguments → feed locations.

A SOURCE is an http(s) URL, a feed file, a directory (every ``*.atom``, ``*.rss``,
``*.rdf``, ``*.xml`` and ``*.json`` below it, sorted; ``*.opml`` files inside are not expanded again) or an OPML
file. OPML is recognised by its content (root ``<opml>``) wherever it comes from, so the
expansion of OPML happens after fetching (see :mod:`digestfeed.reader.reading`).

An OPML file (or a feed) read *from disk* usually sits in the directory that ``digestfeed
build`` wrote, while its ``xmlUrl``s (and RFC 5005 archive links) are the published URLs.
:class:`Twins` maps such a URL to the file next to it on disk, so that
``digestfeed read feeds/index.opml`` reads the freshly built files, not the web site — but
only URLs under the OPML's own base, only feed files, only inside its folder.
:func:`follow_link` is the one rule for every link a document names (OPML outlines,
archive links): a document from the web never opens a local file.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import urllib.parse
from collections.abc import Iterable
from pathlib import Path

from .fetch import is_url

FEED_SUFFIXES = (".atom", ".rss", ".rdf", ".xml", ".json")
#: What a published URL's twin on disk may be called: feeds and subscription lists only.
TWIN_SUFFIXES = (".atom", ".rss", ".xml", ".rdf", ".json", ".opml")


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


def twin_roots(sources: Iterable[str | os.PathLike[str]], locations: list[str]) -> dict[str, Path]:
    """The folder each local location was named through: a folder SOURCE for the files
    found in it, else the file's own folder (where its links' twin files may be)."""
    folders = [
        Path(os.fspath(s)).absolute()
        for s in sources
        if not is_url(os.fspath(s)) and Path(os.fspath(s)).is_dir()
    ]
    roots: dict[str, Path] = {}
    for location in locations:
        if is_url(location):
            continue
        path = Path(location)
        roots[location] = next((f for f in folders if path.is_relative_to(f)), path.parent)
    return roots


class LinkRefused(Exception):
    """A link a document names that the reader will not follow; the message says why."""


@dataclasses.dataclass(frozen=True, slots=True)
class Twins:
    """Where the published URLs a local document links to are found on disk.

    ``root`` is the folder they may be found in (never above it), ``base`` the URL
    prefix they must start with: for a local OPML, the longest directory its feed
    URLs share, mapped to the OPML's own folder; ``None`` for a feed or folder you named,
    whose links are looked up by their longest path suffix below ``root``.
    """

    root: Path
    base: str | None = None
    #: folders below ``root`` already seen to be real folders (not links), this run
    _dirs: set[Path] = dataclasses.field(default_factory=set, compare=False, repr=False)

    @classmethod
    def of_opml(cls, path: str, urls: Iterable[str]) -> Twins | None:
        """The OPML's own base: its feed URLs' longest common directory (one origin only)."""
        split = [urllib.parse.urlsplit(u) for u in urls if is_url(u)]
        origins = {(p.scheme.lower(), p.netloc.lower()) for p in split}
        if len(origins) != 1:
            return None
        dirs = [p.path.rsplit("/", 1)[0].split("/") for p in split]
        common = dirs[0]
        for d in dirs[1:]:
            n = 0
            while n < min(len(common), len(d)) and common[n] == d[n]:
                n += 1
            common = common[:n]
        scheme, netloc = origins.pop()
        return cls(Path(path).absolute().parent, f"{scheme}://{netloc}{'/'.join(common)}/")

    def lookup(self, url: str) -> str | None:
        """The regular feed file below ``root`` that ``url`` names, if there is one."""
        parts = urllib.parse.urlsplit(url)
        path = parts.path
        if self.base is not None:
            base = urllib.parse.urlsplit(self.base)
            origin = (parts.scheme.lower(), parts.netloc.lower())
            if origin != (base.scheme, base.netloc) or not path.startswith(base.path):
                return None
            path = path[len(base.path) :]
        names = [urllib.parse.unquote(n) for n in path.split("/") if n]
        if not names or not all(_plain_name(n) for n in names):
            return None
        if Path(names[-1]).suffix.lower() not in TWIN_SUFFIXES:
            return None
        starts = [0] if self.base is not None else range(len(names))
        for start in starts:
            if self._regular(names[start:]):
                return str(self.root.joinpath(*names[start:]))
        return None

    def _regular(self, names: list[str]) -> bool:
        """``root/names…`` is a regular file reached through real folders (no symbolic
        link anywhere below ``root``), so it cannot lead outside ``root``."""
        folder = self.root
        try:
            for name in names[:-1]:
                folder = folder / name
                if folder not in self._dirs:
                    if not stat.S_ISDIR(os.lstat(folder).st_mode):
                        return False
                    self._dirs.add(folder)
            return stat.S_ISREG(os.lstat(folder / names[-1]).st_mode)
        except OSError:
            return False


def _plain_name(name: str) -> bool:
    return bool(name) and not name.startswith(".") and "/" not in name and "\\" not in name


def follow_link(url: str, parent: str, twins: Twins | None) -> tuple[str, Twins | None]:
    """Where the link ``url`` that the document ``parent`` names is read from.

    A document from the web may only link http(s) URLs (never a file on this machine);
    a local document may also link ``file:`` URLs, and its published URLs are read from
    their twin files when ``twins`` finds one. Raise :class:`LinkRefused` otherwise.
    """
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme in ("http", "https"):
        if twins is not None and not is_url(parent):
            twin = twins.lookup(url)
            if twin is not None:
                return twin, twins
        return url, None
    if is_url(parent):
        raise LinkRefused(
            f"refused: it links {url[:200]!r}; a document from the web may only link http(s) URLs"
        )
    if scheme == "file":
        return file_path(url), twins
    if not scheme and os.path.isabs(url):  # an OPML's outlines as an older state stored them
        return url, twins
    raise LinkRefused(f"refused: it links {url[:200]!r}, neither an http(s) nor a file: URL")


def file_path(url: str) -> str:
    """``file:///tmp/x/all.atom`` (a link resolved against a local feed) → ``/tmp/x/all.atom``."""
    import urllib.request

    return str(Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path)).absolute())
