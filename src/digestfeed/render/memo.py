"""What every output shares: rendered entry bytes kept until their last use, and document
fingerprints (equal fingerprints, equal bytes) that let a rebuild skip unchanged files."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Generic, TypeVar

from ..config import Config
from ..types import Document, FeedSet, Lang, Timed

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """Rendered values per key (``(entry id, variant)``, or an entry id): a bounded LRU.

    Documents render month by month (see ``plan._render_order``), so an entry's uses are
    close together and a few thousand values cover them; a value evicted before its last
    use is simply made again. Memory stays bounded whatever the size of the site.
    """

    #: Enough for every entry of a few months of documents.
    CAPACITY = 4096

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._data: dict[K, V] = {}
        self.capacity = capacity

    @classmethod
    def for_documents(cls, documents: Sequence[Document]) -> Memo[K, V]:
        """A memo that holds at least twice the entries of the largest document, so that
        a feed's language variants (consecutive documents) reuse what the first rendered."""
        largest = max((len(doc.entries) for doc in documents), default=0)
        return cls(max(cls.CAPACITY, 2 * largest))

    def get(self, key: K, make: Callable[[], V]) -> V:
        data = self._data.pop(key, None)  # popped and re-inserted: the dict order is LRU order
        if data is None:
            data = make()
        self._data[key] = data
        if len(self._data) > self.capacity:
            del self._data[next(iter(self._data))]
        return data


def fingerprint_salt(*parts: object) -> bytes:
    """What an output's documents all depend on (its name, render version, config, …);
    made once per build and passed to :func:`fingerprint`."""
    return repr(parts).encode()


def fingerprint(doc: Document, salt: bytes) -> str:
    """Hash of everything a document's bytes depend on: the output's ``salt``, the
    document's own fields and each entry's ``Timed.key``."""
    h = hashlib.sha256(salt)
    h.update(
        repr(
            (
                doc.path,
                doc.feed.title,
                doc.feed.lang,
                doc.archive,
                doc.complete,
                doc.prev_archive,
                doc.next_archive,
            )
        ).encode()
    )
    h.update(b"".join([t.key for t in doc.entries]))  # one call: the same hash as one per entry
    return h.hexdigest()


def subscription_files(
    feedset: FeedSet,
    name: str,
    render_version: int,
    item_renderer: Callable[
        [Config, Memo[tuple[str, Lang], bytes]], Callable[[Timed, Lang], bytes]
    ],
    render: Callable[[Document, FeedSet, Callable[[Timed, Lang], bytes]], bytes],
) -> Iterator[tuple[str, str, Callable[[], bytes]]]:
    """``(<doc>.<name>, fingerprint, render)`` for every subscription document (no archives):
    the ``files()`` of an output that renders each (entry, variant) item once."""
    docs = [doc for doc in feedset.documents if not doc.archive]
    item = item_renderer(feedset.config, Memo.for_documents(docs))
    salt = fingerprint_salt(name, render_version, feedset.config)
    for doc in docs:
        yield (
            f"{doc.path}.{name}",
            fingerprint(doc, salt),
            functools.partial(render, doc, feedset, item),
        )
