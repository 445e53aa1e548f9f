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
import hashlib
import itertools
import os
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ReadError
from .dedupe import Deduper
from .fetch import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_TIMEOUT,
    Fetched,
    FetchError,
    Validators,
    fetch,
    is_url,
)
from .identity import paper_id
from .sources import expand, file_path, local_twin
from .state import FeedRow, ItemRow, State

#: Keys of an item's JSON form, in order (the ``read --format json`` contract).
ITEM_JSON_KEYS = ("id", "title", "date", "tags", "comments", "links", "feeds", "first_seen")
DEFAULT_CONCURRENCY = 4
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

    @classmethod
    def _from_row(cls, row: ItemRow) -> Item:
        return cls(
            # a trusted id's key is the paper's id (without a language variant suffix)
            id=paper_id(row.entry_id)
            if row.entry_id and row.key.startswith("id:")
            else (row.entry_id or row.key),
            title=row.title,
            date=row.date,
            tags=tuple(row.tags),
            comments={"ko": row.comments.get("ko"), "en": row.comments.get("en")},
            links=tuple(row.links),
            feeds=tuple(row.feeds),
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
    ) -> None:
        self.state_path = Path(state_path) if state_path is not None else default_state_path()
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.concurrency = max(1, concurrency)
        self.local_twins = local_twins
        self.parse_workers = max(1, parse_workers)
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
            run.go(expand(sources))
            result = run.result(all)
            if emit is not None:
                emit(result)
            self.state.mark_reported((i for i in run.output_rows if i is not None), now)
            self.state.commit()
        except BaseException:
            self.state.rollback()
            raise
        return result


class _Run:
    """The work of one :meth:`Reader.read`."""

    def __init__(self, reader: Reader, now: str, backfill: bool) -> None:
        self.r = reader
        self.state = reader.state
        self.now = now
        self.backfill = backfill
        self.failures: list[SourceFailure] = []
        self.warnings: list[str] = []
        self.dedupe = Deduper(self.state, now, self.warnings.append)
        self.scheduled: set[str] = set()
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

    def go(self, locations: list[str]) -> None:
        self.known = self.state.feeds()
        try:
            with cf.ThreadPoolExecutor(
                self.r.concurrency, thread_name_prefix="digestfeed-fetch"
            ) as pool:
                self.pool = pool
                for location in locations:
                    self.schedule(location)
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
                parse_body, location, fetched.final_url, fetched.body, fetched.content_type
            )

    @staticmethod
    def unchanged(row: FeedRow | None, fetched: Fetched) -> bool:
        """The document is the one parsed last time (304, or the same bytes)."""
        if row is None or not row.sha256:
            return False
        if fetched.not_modified:
            return True
        return fetched.body is not None and hashlib.sha256(fetched.body).hexdigest() == row.sha256

    def resolve(self, location: str, near: str | None) -> str:
        """A linked feed's location: file: URLs as paths, published URLs as their local twin."""
        if location.startswith("file:"):
            return file_path(location)
        if near is not None and self.r.local_twins and not is_url(near):
            return local_twin(location, near) or location
        return location

    def schedule(self, location: str, near: str | None = None) -> None:
        if near is not None:
            location = self.resolve(location, near)
        if location in self.scheduled:
            return  # also the cycle guard of --backfill
        self.scheduled.add(location)
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
        sha = hashlib.sha256(fetched.body).hexdigest() if fetched.body is not None else None
        if row is not None and row.sha256 and (fetched.not_modified or sha == row.sha256):
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
                parsed = parse_body(location, fetched.final_url, fetched.body, fetched.content_type)
            else:
                self.stats["parsed_in_workers"] += 1
        except FeedParseError as exc:
            self.fail(location, str(exc))
            return
        self.stats["parsed"] += 1
        new_row = FeedRow(
            location, etag=fetched.etag, last_modified=fetched.last_modified, sha256=sha
        )
        if isinstance(parsed, Opml):
            new_row.kind = "opml"
            new_row.outlines = [self.resolve(url, location) for _, url in parsed.feeds]
        else:
            new_row.title, new_row.prev_archive = parsed.title, parsed.prev_archive
            items = [self.dedupe.add(s) for s in parsed.sightings]
            self.stats["sightings"] += len(items)
            self.state.set_members(location, items)
        self.state.save_feed(new_row, self.now)
        self.follow(location, new_row)

    def follow(self, location: str, row: FeedRow) -> None:
        """Expand an OPML list; with --backfill, follow a feed's ``prev-archive`` link."""
        if row.kind == "opml":
            for resolved in row.outlines or ():  # resolved when the OPML was parsed
                self.schedule(resolved)
            return
        self.feeds_read.append(location)
        if self.backfill and row.prev_archive:
            self.schedule(row.prev_archive, near=location)

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
