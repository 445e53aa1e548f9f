"""The feed reader's read run (``digestfeed read``): sources → fetched bytes → sightings →
deduplicated items, remembered in SQLite.

``Reader(state_path).read(sources)`` runs one transaction: fetch every source (a thread
pool, bounded), parse what changed, merge sightings into items, hand the items to
``emit`` (the CLI writes and flushes them there) and only then commit, marking them
reported. If anything before the commit fails or the process dies, the state is as the
previous finished run left it: nothing is lost and nothing already reported repeats.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import datetime as dt
import itertools
import os
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ReadError
from . import identity, text
from .dedupe import Deduper, printed_id
from .fetch import Fetched, FetchError, Validators, fetch, is_url
from .options import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_ARCHIVE_DEPTH,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_OPML_DEPTH,
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_MAX_SOURCES,
    DEFAULT_TIMEOUT,
)
from .sources import LinkRefused, Twins, expand, follow_link, twin_roots
from .state import FeedRow, ItemRow, State

#: Keys of an item's JSON form, in order (the ``read --format json`` contract).
ITEM_JSON_KEYS = ("id", "title", "date", "tags", "comments", "links", "feeds", "first_seen")
#: Processes that parse feeds when a run has many to parse (feedparser is CPU-bound).
DEFAULT_PARSE_WORKERS = min(2, os.cpu_count() or 1)
#: Documents waiting to be parsed before starting the parse processes pays off.
PARALLEL_FROM = 16
#: How far ahead of the one being handled fetched documents are sent to be parsed.
LOOKAHEAD = 8
STATE_ENV = "DIGESTFEED_STATE"


def default_state_path() -> Path:
    """``$DIGESTFEED_STATE``, else ``<user state dir>/digestfeed/reader.sqlite`` (XDG on Linux)."""
    env = os.environ.get(STATE_ENV)
    if env:
        return Path(env)
    import platformdirs

    return platformdirs.user_state_path("digestfeed") / "reader.sqlite"


@dataclasses.dataclass(frozen=True, slots=True)
class Item:
    """One paper, merged over every feed it was seen in."""

    #: the entry id (digestfeed's ``tag:`` URI of the paper, without ``/ko`` or ``/en``),
    #: else the dedupe key
    id: str
    title: str
    date: str | None  #: ISO 8601 published (else updated) time, with the feed's UTC offset
    tags: tuple[str, ...]  #: union over all feeds, first-seen order
    comments: Mapping[str, str | None]  #: ``{"ko": …, "en": …}``, plain text
    links: tuple[str, ...]
    feeds: tuple[str, ...]  #: every feed URL (or absolute path) it was seen in
    first_seen: str  #: ISO 8601 UTC time of the run that first saw it
    rule: str  #: dedupe rule: ``id``, ``arxiv``, ``link``, ``title`` or ``feed-id``
    key: str  #: the dedupe key it was created under
    new: bool  #: not reported by an earlier finished run

    def to_json(self) -> dict[str, Any]:
        """Exactly :data:`ITEM_JSON_KEYS` (``rule`` is deliberately not part of the contract)."""
        return {
            "id": self.id,
            "title": self.title,
            "date": self.date,
            "tags": list(self.tags),
            "comments": {"ko": self.comments.get("ko"), "en": self.comments.get("en")},
            "links": list(self.links),
            "feeds": list(self.feeds),
            "first_seen": self.first_seen,
        }

    def comment_in(self, lang: str) -> tuple[str, str]:
        """``(language, comment)`` to show for ``lang`` (``ko`` or ``en``): the comment in
        ``lang``, else in the other language, else ``("", "")``."""
        for shown in (lang, "en" if lang == "ko" else "ko"):
            comment = self.comments.get(shown)
            if comment:
                return shown, comment
        return "", ""

    @classmethod
    def _from_row(cls, row: ItemRow) -> Item:
        # text from outside, made safe for data (JSON, feeds); see digestfeed.reader.text
        comments = {lang: row.comments.get(lang) for lang in ("ko", "en")}
        return cls(
            # the paper's digestfeed id (a variant's: the entry id), else the dedupe key
            id=text.data(printed_id(row.key)),
            title=text.data(row.title),
            date=row.date,
            tags=tuple(text.data(t) for t in row.tags),
            comments={k: text.data(v) if v is not None else None for k, v in comments.items()},
            links=text.links(row.links),
            feeds=tuple(text.data(f) for f in row.feeds),
            first_seen=row.first_seen,
            rule=row.rule,
            key=row.key,
            new=row.reported_at is None,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class SourceFailure:
    """A source that could not be read, and why."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"

    def __post_init__(self) -> None:
        # both may carry server-controlled text (reason phrases, status lines, URLs)
        object.__setattr__(self, "source", text.terminal_line(self.source))
        object.__setattr__(self, "reason", text.terminal_line(self.reason))


class ReadResult(list[Item]):
    """The items of one run (newest first), plus what failed and what looked wrong."""

    def __init__(
        self,
        items: Iterable[Item],
        failures: list[SourceFailure],
        warnings: list[str],
        stats: dict[str, int],
    ) -> None:
        super().__init__(items)
        self.failures = failures
        self.warnings = warnings
        self.stats = stats


class Reader:
    """Reads feeds into deduplicated items and remembers what was already reported."""

    def __init__(
        self,
        state_path: str | os.PathLike[str] | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        concurrency: int = DEFAULT_CONCURRENCY,
        local_twins: bool = True,
        parse_workers: int = DEFAULT_PARSE_WORKERS,
        private_redirects: bool = True,
        max_opml_depth: int = DEFAULT_MAX_OPML_DEPTH,
        max_archive_depth: int = DEFAULT_MAX_ARCHIVE_DEPTH,
        max_sources: int = DEFAULT_MAX_SOURCES,
    ) -> None:
        self.state_path = Path(state_path) if state_path is not None else default_state_path()
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.concurrency = max(1, concurrency)
        self.local_twins = local_twins
        self.parse_workers = max(1, parse_workers)
        #: False: a redirect (or a link in a document from the web) to a loopback,
        #: link-local or private address is refused; the URLs you give are always fetched.
        self.private_redirects = private_redirects
        self.max_opml_depth = max_opml_depth
        self.max_archive_depth = max_archive_depth
        self.max_sources = max_sources
        self.state = State(self.state_path)

    def close(self) -> None:
        self.state.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(
        self,
        sources: Iterable[str | os.PathLike[str]],
        *,
        all: bool = False,
        backfill: bool = False,
        emit: Callable[[ReadResult], None] | None = None,
    ) -> ReadResult:
        """Read ``sources``; return the new items (every item of the sources with ``all``).

        ``backfill`` follows RFC 5005 ``prev-archive`` links from each feed (each archive
        once). ``emit`` is called with the result before the state is committed; if it
        raises, nothing of this run is remembered.
        """
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        run = _Run(self, now, backfill)
        self.state.begin()
        try:
            sources = list(sources)
            locations = expand(sources)
            run.go(locations, twin_roots(sources, locations))
            result = run.result(all)
            if emit is not None:
                emit(result)
            self.state.mark_reported((i for i in run.output_rows if i is not None), now)
            self.state.commit()
        except BaseException:
            self.state.rollback()
            raise
        return result


@dataclasses.dataclass(frozen=True, slots=True)
class _Via:
    """How a document came to be read: what the caps and the link rules look at."""

    parent: str | None = None  #: the document that linked it; ``None``: you named it
    opml_depth: int = 0  #: OPML lists above it
    archive_depth: int = 0  #: prev-archive links followed to reach it
    twins: Twins | None = None  #: where the published URLs it links are found on disk
    url: str | None = None  #: the published URL a twin file stands for


class _Run:
    """The work of one :meth:`Reader.read`."""

    def __init__(self, reader: Reader, now: str, backfill: bool) -> None:
        self.r = reader
        self.state = reader.state
        self.now = now
        self.backfill = backfill
        self.failures: list[SourceFailure] = []
        self.warnings: list[str] = []
        self.dedupe = Deduper(
            self.state, now, lambda warning: self.warnings.append(text.terminal_line(warning))
        )
        self.scheduled: set[str] = set()
        self.via: dict[str, _Via] = {}
        self.over_cap: list[str] = []  # documents not read: more than max_sources
        self.pending: deque[tuple[str, FeedRow | None, cf.Future[Fetched]]] = deque()
        self.parse_pool: cf.ProcessPoolExecutor | None = None
        self.parsing: dict[cf.Future[Fetched], cf.Future[Any]] = {}
        self.inspected: set[cf.Future[Fetched]] = set()
        self.feeds_read: list[str] = []
        self.output_rows: list[int | None] = []
        self.stats = {
            "sources": 0,
            "fetched": 0,
            "unchanged": 0,
            "parsed": 0,
            "failed": 0,
            "sightings": 0,
            "parsed_in_workers": 0,
        }

    def go(self, locations: list[str], roots: Mapping[str, Path]) -> None:
        self.known = self.state.feeds()
        try:
            with cf.ThreadPoolExecutor(
                self.r.concurrency, thread_name_prefix="digestfeed-fetch"
            ) as pool:
                self.pool = pool
                for location in locations:
                    root = roots.get(location)
                    self.schedule(location, _Via(twins=Twins(root) if root else None))
                while self.pending:
                    self.parse_ahead()
                    location, row, future = self.pending.popleft()
                    try:
                        fetched = future.result()
                    except FetchError as exc:
                        self.fail(location, str(exc))
                        continue
                    self.handle(location, row, fetched, self.parsing.pop(future, None))
        finally:
            if self.parse_pool is not None:
                self.parse_pool.shutdown(cancel_futures=True)
        if self.over_cap:
            self.fail(
                self.over_cap[0],
                f"more than {self.r.max_sources} documents in one run: "
                f"{len(self.over_cap)} documents not read (--max-sources {self.r.max_sources})",
            )
        self.dedupe.flush()

    def parse_ahead(self) -> None:
        """Send the next fetched documents that need parsing to the parse processes.

        Results are still handled one by one in schedule order, so the outcome is the same
        as parsing in this process; only the CPU-bound feedparser work runs in parallel.
        The processes start only once a run has :data:`PARALLEL_FROM` documents waiting.
        """
        if self.r.parse_workers < 2 or (
            self.parse_pool is None and len(self.pending) < PARALLEL_FROM
        ):
            return
        for location, row, future in itertools.islice(self.pending, LOOKAHEAD):
            if future in self.inspected or not future.done():
                continue
            self.inspected.add(future)  # each document is looked at once
            if future.exception() is not None:
                continue
            fetched = future.result()
            if fetched.body is None or self.unchanged(row, fetched):
                continue
            if self.parse_pool is None:
                import multiprocessing

                # forkserver: never fork this process, whose fetch threads may hold locks
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["digestfeed.reader.parse"])
                self.parse_pool = cf.ProcessPoolExecutor(self.r.parse_workers, mp_context=context)
            from .parse import parse_body

            self.parsing[future] = self.parse_pool.submit(
                parse_body, location, fetched.base_url, fetched.body, fetched.content_type
            )

    @staticmethod
    def unchanged(row: FeedRow | None, fetched: Fetched) -> bool:
        """The document is the one parsed last time (304, or the same bytes)."""
        if row is None or not row.sha256:
            return False
        return fetched.not_modified or fetched.sha256 == row.sha256

    def link(self, url: str, parent: str, twins: Twins | None, **depth: int) -> None:
        """Schedule a document that ``parent`` links (an OPML outline, an archive link)."""
        via = self.via[parent]
        try:
            location, twins = follow_link(url, parent, twins if self.r.local_twins else None)
        except LinkRefused as exc:
            self.fail(parent, str(exc))
            return
        self.schedule(
            location,
            _Via(
                parent,
                depth.get("opml_depth", via.opml_depth),
                depth.get("archive_depth", via.archive_depth),
                twins,
                url if is_url(url) and not is_url(location) else None,  # a twin file
            ),
        )

    def schedule(self, location: str, via: _Via) -> None:
        if location in self.scheduled:
            return  # also the cycle guard of --backfill
        if len(self.scheduled) >= self.r.max_sources:
            self.over_cap.append(via.parent or location)
            return
        self.scheduled.add(location)
        self.via[location] = via
        self.stats["sources"] += 1
        row = self.known.get(location)
        validators = Validators(row.etag, row.last_modified) if row and row.sha256 else None
        future = self.pool.submit(
            fetch,
            location,
            validators,
            timeout=self.r.timeout,
            max_bytes=self.r.max_bytes,
            max_redirects=self.r.max_redirects,
            refuse_private=not self.r.private_redirects,
            # the URLs you give, and those local documents name, are yours
            trust_first=via.parent is None or not is_url(via.parent),
            follow_symlinks=via.parent is None,
        )
        self.pending.append((location, row, future))

    def fail(self, location: str, reason: str) -> None:
        self.stats["failed"] += 1
        self.failures.append(SourceFailure(location, reason))

    def handle(
        self,
        location: str,
        row: FeedRow | None,
        fetched: Fetched,
        parsing: cf.Future[Any] | None = None,
    ) -> None:
        self.stats["fetched"] += 1
        if row is not None and self.unchanged(row, fetched):
            self.stats["unchanged"] += 1
            if (fetched.etag, fetched.last_modified) != (row.etag, row.last_modified):
                row.etag, row.last_modified = fetched.etag, fetched.last_modified
                self.state.save_feed(row, self.now)
            self.follow(location, row)
            return
        if fetched.body is None:
            self.fail(location, "HTTP 304 Not Modified, but no copy is remembered")
            return
        from .parse import (  # feedparser and lxml: only when needed
            FeedParseError,
            Opml,
            parse_body,
        )

        try:
            parsed = _parsed(parsing) if parsing is not None else None
            if parsed is None:
                parsed = parse_body(location, fetched.base_url, fetched.body, fetched.content_type)
            else:
                self.stats["parsed_in_workers"] += 1
        except FeedParseError as exc:
            self.fail(location, str(exc))
            return
        self.stats["parsed"] += 1
        new_row = FeedRow(
            location, etag=fetched.etag, last_modified=fetched.last_modified, sha256=fetched.sha256
        )
        if isinstance(parsed, Opml):
            new_row.kind = "opml"
            new_row.outlines = [url for _, url in parsed.feeds]  # resolved when followed
        else:
            new_row.title, new_row.prev_archive = parsed.title, parsed.prev_archive
            items = self.dedupe.add_feed(location, self.origin(location), parsed.sightings)
            self.stats["sightings"] += len(items)
            self.state.set_members(location, items)
        self.state.save_feed(new_row, self.now)
        self.follow(location, new_row)

    def origin(self, location: str) -> str:
        """Who speaks for the ids a document delivers: a URL's scheme, host and port; a file
        that stands for a published URL (a local OPML's twin), that URL's; any other file,
        the folder it was named through (a folder SOURCE, else its own folder)."""
        via = self.via.get(location, _Via())
        if is_url(location):
            return identity.origin(location)
        if via.url and is_url(via.url):
            return identity.origin(via.url)
        return identity.folder_origin(via.twins.root if via.twins else Path(location).parent)

    def follow(self, location: str, row: FeedRow) -> None:
        """Expand an OPML list; with --backfill, follow a feed's ``prev-archive`` link."""
        via = self.via[location]
        if row.kind == "opml":
            if via.opml_depth >= self.r.max_opml_depth:
                self.fail(
                    location,
                    f"an OPML list nested {via.opml_depth} deep; its outlines are not read "
                    f"(--max-opml-depth {self.r.max_opml_depth})",
                )
                return
            outlines = row.outlines or ()
            twins = None if is_url(location) else Twins.of_opml(location, outlines)
            for url in outlines:
                self.link(url, location, twins, opml_depth=via.opml_depth + 1)
            return
        self.feeds_read.append(location)
        if self.backfill and row.prev_archive:
            if via.archive_depth >= self.r.max_archive_depth:
                self.fail(
                    location,
                    f"{via.archive_depth} archive documents deep; its prev-archive link is "
                    f"not followed (--max-archive-depth {self.r.max_archive_depth})",
                )
                return
            self.link(row.prev_archive, location, via.twins, archive_depth=via.archive_depth + 1)

    def result(self, all_items: bool) -> ReadResult:
        if all_items:
            rows = list(self.state.member_items(self.feeds_read))
        else:
            rows = [
                r
                for i, r in self.dedupe.rows.items()
                if i in self.dedupe.touched and r.reported_at is None
            ]
        rows.sort(key=lambda r: (-(r.ts if r.ts is not None else float("-inf")), r.item or 0))
        self.output_rows = [r.item for r in rows if r.reported_at is None]
        return ReadResult(
            (Item._from_row(r) for r in rows), self.failures, self.warnings, self.stats
        )


def _parsed(parsing: cf.Future[Any]) -> Any:
    """The result of a parse process; ``None`` (parse here instead) if the process failed."""
    from .parse import FeedParseError

    try:
        return parsing.result()
    except FeedParseError:
        raise
    except Exception:  # a dead or broken worker: the document is parsed in this process
        return None


__all__ = [
    "ITEM_JSON_KEYS",
    "Item",
    "ReadError",
    "ReadResult",
    "Reader",
    "SourceFailure",
    "default_state_path",
]
