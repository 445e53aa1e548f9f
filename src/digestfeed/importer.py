"""Digests where they are published → ``entries/YYYY-MM-DD.txt`` (``digestfeed import``).

A newsletter's posts (Substack serves them as RSS 2.0: one ``<item>`` per post, the post's
HTML in ``content:encoded``) hold the digest's lines, one block element each. Such a feed
keeps only recent posts, so it is an *input* to import, never a source to build from: the
build stays offline and deterministic, reading only what import wrote.

From a post's HTML to digest lines
    Every block element (``<p>``, ``<h1>``…``<h6>``, ``<li>``, ``<blockquote>``, ``<pre>``,
    ``<div>``, …) is a line, and ``<br>`` breaks a line; white space runs are one space.
    Images, scripts, styles and Substack's widgets (subscribe buttons, image captions) are
    not text. A link whose address is not already in its text is kept: after a title (a
    line followed by an authors line) on a line of its own after the authors line (so the
    title stays the title and the paper link is the entry's first link), elsewhere after its
    text as ``text (https://…)``. The text is then read by the digest parser
    (:func:`~digestfeed.sources.digest.parse_text`): a post it cannot read is not a digest,
    skipped with a warning. A post without a date line gets the date it was published
    (its ``pubDate`` in the config's time zone) as its date line.

Writing
    ``<into>/<date>.txt``, atomically. An existing file with the same text (ignoring trailing
    white space and blank lines) is left alone; one with different text is never replaced
    unless ``overwrite``: a warning shows the difference as a unified diff.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import email.utils
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lxml.etree as etree

from .config import Config
from .errors import ParseError, ReadError
from .sources.digest import parse_date_line, parse_text
from .sources.export import format_date_line
from .sources.files import read_source_file, stage_beside
from .sources.lines import CONTROL, is_authors_line
from .types import BuildWarning, Digest

__all__ = [
    "ImportResult",
    "Post",
    "html_lines",
    "import_feed",
    "import_posts",
    "post_text",
    "read_posts",
]

#: Warning kinds of an import.
NOT_A_DIGEST = "not a digest"
DIFFERS = "existing digest differs"
#: At most this many items of one feed are read (the rest are ignored, with a warning).
MAX_ITEMS = 1000
#: Lines of a difference shown in a warning.
MAX_DIFF_LINES = 40

_CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "dd",
        "div",
        "dl",
        "dt",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "td",
        "th",
        "ul",
    ]
)
_SKIPPED = frozenset(
    ["script", "style", "noscript", "template", "svg", "img", "picture", "video", "audio", "iframe"]
)
#: Substack's widgets: not part of a post's text.
_WIDGET_CLASSES = frozenset(
    [
        "subscription-widget-wrap",
        "subscription-widget",
        "button-wrapper",
        "captioned-image-container",
        "image-caption",
        "footnote-anchor",
    ]
)
_SPACE = re.compile(r"[ \t\n\r\f]+")  # HTML white space: ASCII only (a no-break space stays)


@dataclasses.dataclass(frozen=True, slots=True)
class Post:
    """One ``<item>`` of the feed."""

    where: str  #: ``<source>: item <n> (<title>)``, for messages
    title: str
    link: str
    date: str | None  #: ``YYYY-MM-DD`` of ``pubDate`` in the config's time zone
    html: str


@dataclasses.dataclass
class ImportResult:
    """What an import found and did."""

    written: list[str] = dataclasses.field(default_factory=list)  #: paths written
    unchanged: list[str] = dataclasses.field(default_factory=list)  #: already there, same text
    #: paths left as they were because the post's text differs (see :attr:`warnings`)
    conflicts: list[str] = dataclasses.field(default_factory=list)
    skipped: int = 0  #: items that are not digests
    warnings: list[str] = dataclasses.field(default_factory=list)
    #: ``True`` when the feed was not modified since the last import (nothing was parsed)
    not_modified: bool = False

    def summary(self) -> str:
        if self.not_modified:
            return "feed not modified since the last import: nothing to do"
        parts = [
            f"{len(self.written)} written",
            f"{len(self.unchanged)} unchanged",
            f"{self.skipped} skipped (not digests)",
        ]
        if self.conflicts:
            parts.append(f"{len(self.conflicts)} left as they were (different text)")
        return "imported digests: " + ", ".join(parts)


# ---------------------------------------------------------------- the feed


def read_posts(
    body: bytes,
    location: str,
    config: Config,
    content_type: str = "",
    warnings: list[str] | None = None,
) -> list[Post]:
    """The posts of an RSS 2.0 feed, parsed safely (entities never expanded, nothing
    fetched). Raises :class:`ParseError` naming ``location`` when the bytes are not an
    RSS 2.0 feed."""
    from .reader.xmlsafe import safe_root

    try:
        root = safe_root(body, content_type)
    except ReadError as exc:
        raise ParseError(location, None, f"not a feed: {exc}") from None
    tag = etree.QName(root).localname if isinstance(root.tag, str) else ""
    channel = root.find("channel") if tag == "rss" else None
    if channel is None:
        raise ParseError(
            location,
            None,
            f"not an RSS 2.0 feed (root element <{tag}>); import reads a newsletter's RSS "
            "feed, such as https://NAME.substack.com/feed",
        )
    posts = []
    for n, item in enumerate(channel.iterfind("item"), start=1):
        if n > MAX_ITEMS:
            if warnings is not None:
                warnings.append(
                    BuildWarning(
                        NOT_A_DIGEST, location, f"more than {MAX_ITEMS} items: the rest ignored"
                    )
                )
            break
        title = _text(item.find("title"))
        html = _text(item.find(_CONTENT)) or _text(item.find("description"))
        posts.append(
            Post(
                where=f"{location}: item {n} ({title[:60]!r})",
                title=title,
                link=_text(item.find("link")),
                date=_pub_date(_text(item.find("pubDate")), config),
                html=html,
            )
        )
    return posts


def _text(element: Any) -> str:
    return "".join(element.itertext()).strip() if element is not None else ""


def _pub_date(value: str, config: Config) -> str | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(config.tz).date().isoformat()


# ---------------------------------------------------------------- HTML → lines


def html_lines(html: str) -> list[str]:
    """A post's HTML → its text lines (see the module), blank lines dropped."""
    import lxml.html

    if not html.strip():
        return []
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return []
    lines: list[tuple[str, list[str]]] = []  # (text, links not shown in the text)
    current: list[str] = []
    hidden: list[str] = []

    def flush() -> None:
        text = _SPACE.sub(" ", "".join(current)).strip(" ")
        if text:
            lines.append((text, [h for h in hidden if h not in text]))
        current.clear()
        hidden.clear()

    def add(text: str | None, pre: bool) -> None:
        """Text as a browser shows it: in ``<pre>`` a newline breaks the line."""
        if not text:
            return
        text = CONTROL.sub("", text)
        if not pre:
            current.append(text.replace("\n", " "))
            return
        for k, piece in enumerate(text.split("\n")):
            if k:
                flush()
            current.append(piece)

    def walk(el: Any, pre: bool) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        classes = set((el.get("class") or "").split()) if tag else set()
        if tag in _SKIPPED or classes & _WIDGET_CLASSES or not tag:
            return  # comments and processing instructions have no string tag
        block = tag in _BLOCKS
        if block:
            flush()
        if tag == "br":
            flush()
        pre = pre or tag == "pre"
        add(el.text, pre)
        for child in el:
            walk(child, pre)
            add(child.tail, pre)
        if tag == "a":
            href = (el.get("href") or "").strip()
            if href.lower().startswith(("http://", "https://")):
                hidden.append(href)
        if block:
            flush()

    walk(root, False)
    flush()
    out: list[str] = []
    pending: list[str] = []  # a title's links, written after its authors line
    for k, (text, links) in enumerate(lines):
        is_title = (
            k + 1 < len(lines) and is_authors_line(lines[k + 1][0]) and not is_authors_line(text)
        )
        if links and is_title:
            out.append(text)
            pending = links
            continue
        out.append(" ".join([text, *(f"({link})" for link in links)]))
        if pending:
            out.extend(pending)
            pending = []
    out.extend(pending)
    return out


# ---------------------------------------------------------------- posts → digests


def post_text(post: Post) -> str:
    """The digest text of a post: its lines, with a date line when it has none and its
    ``pubDate`` gives one."""
    lines = html_lines(post.html)
    if lines and parse_date_line(lines[0]) is None and post.date is not None:
        lines.insert(0, format_date_line(post.date))
    return "\n".join(lines) + "\n" if lines else ""


def post_digest(post: Post, config: Config) -> tuple[str, Digest]:
    """The digest text of a post and what the digest parser reads from it. Raises
    :class:`ParseError` (the reason the post is not a digest)."""
    text = post_text(post)
    if not text:
        raise ParseError(post.where, None, "no text")
    return text, parse_text(text, post.where, config)


def _same(a: str, b: str) -> bool:
    def norm(text: str) -> list[str]:
        return [ln.rstrip() for ln in text.replace("\r\n", "\n").split("\n") if ln.strip()]

    return norm(a) == norm(b)


def _diff(old: str, new: str, old_name: str, new_name: str) -> str:
    lines = list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), old_name, new_name, n=0, lineterm=""
        )
    )
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"… {len(lines) - MAX_DIFF_LINES} more diff lines"]
    return "\n".join(lines)


def import_posts(
    posts: Sequence[Post], into: str | Path, config: Config, *, overwrite: bool = False
) -> ImportResult:
    """Write the digest of every post that is one (oldest date first); see the module."""
    into = Path(into)
    result = ImportResult()
    planned: dict[Path, tuple[str, Post]] = {}
    for post in posts:
        try:
            text, digest = post_digest(post, config)
        except ParseError as exc:
            result.skipped += 1
            result.warnings.append(
                BuildWarning(NOT_A_DIGEST, post.where, f"skipped, not a digest: {_reason(exc)}")
            )
            continue
        target = into / f"{digest.date}.txt"
        if target in planned and not _same(planned[target][0], text):
            other = planned[target][1]
            result.warnings.append(
                BuildWarning(
                    DIFFERS,
                    post.where,
                    f"a second post for {digest.date} (the first is {other.where}); only the "
                    "newest is imported",
                )
            )
            if _newer(post, other):
                planned[target] = (text, post)
            continue
        planned.setdefault(target, (text, post))
    for target in sorted(planned):
        text, post = planned[target]
        _write_one(target, text, post, overwrite, result)
    return result


def _newer(a: Post, b: Post) -> bool:
    return (a.date or "") > (b.date or "")


def _reason(exc: ParseError) -> str:
    where = f"line {exc.line} of the post's text: " if exc.line else ""
    return where + exc.reason


def _write_one(target: Path, text: str, post: Post, overwrite: bool, result: ImportResult) -> None:
    if target.exists() or target.is_symlink():
        try:
            old = read_source_file(target).decode("utf-8")
        except (ParseError, UnicodeDecodeError) as exc:
            result.conflicts.append(str(target))
            result.warnings.append(
                BuildWarning(DIFFERS, str(target), f"cannot compare, left as it is: {exc}")
            )
            return
        if _same(old, text):
            result.unchanged.append(str(target))
            return
        if not overwrite:
            result.conflicts.append(str(target))
            diff = _diff(old, text, str(target), post.link or post.where)
            result.warnings.append(
                BuildWarning(
                    DIFFERS,
                    str(target),
                    f"left as it is: {post.where} has different text "
                    f"(--overwrite replaces it):\n{diff}",
                )
            )
            return
    _atomic_write(target, text)
    result.written.append(str(target))


def _atomic_write(target: Path, text: str) -> None:
    tmp = stage_beside(target, text.encode("utf-8"), ".import-")
    try:
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- fetch + state


def import_feed(
    location: str,
    into: str | Path,
    config: Config,
    *,
    overwrite: bool = False,
    state: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    max_bytes: int | None = None,
) -> ImportResult:
    """Fetch the feed at ``location`` (an http(s) URL or a file) with the feed reader's safe
    fetch (timeouts, size cap, redirects, conditional GET) and import its posts.

    With ``state`` (the reader's state file), the validators of the last import are sent
    and, when the server answers 304 (or the bytes are the same), nothing is parsed; they
    are stored again only after an import that left no digest behind (no conflict), so a
    conflict is reported again on the next run.
    """
    from .reader import fetch as fetching

    key = f"import:{location}"
    store = _open_state(state) if state is not None else None
    try:
        row = store.feed(key) if store is not None else None
        validators = (
            fetching.Validators(row.etag, row.last_modified)
            if row is not None and row.sha256
            else None
        )
        kwargs: dict[str, Any] = {}
        if timeout is not None:
            kwargs["timeout"] = timeout
        if max_bytes is not None:
            kwargs["max_bytes"] = max_bytes
        try:
            fetched = fetching.fetch(location, validators, **kwargs)
        except ReadError as exc:
            raise ReadError(f"{location}: {exc}") from None
        if fetched.body is None:
            return ImportResult(not_modified=True)
        if row is not None and row.sha256 == fetched.sha256:
            return ImportResult(not_modified=True)
        feed_warnings: list[str] = []
        posts = read_posts(fetched.body, location, config, fetched.content_type, feed_warnings)
        result = import_posts(posts, into, config, overwrite=overwrite)
        result.warnings[:0] = feed_warnings
        if store is not None and not result.conflicts:
            from .reader.state import FeedRow

            store.begin()
            store.save_feed(
                FeedRow(
                    location=key,
                    etag=fetched.etag,
                    last_modified=fetched.last_modified,
                    sha256=fetched.sha256,
                ),
                dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            )
            store.commit()
        return result
    finally:
        if store is not None:
            store.close()


def _open_state(path: str | os.PathLike[str]) -> Any:
    from .reader.state import State

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return State(path)
