"""What every output shares: rendered entry bytes kept until their last use, and document
fingerprints (equal fingerprints, equal bytes) that let a rebuild skip unchanged files."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

from ..plan import Document, Lang


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """Rendered values per key (``(entry id, variant)``, or an entry id), kept only until
    their last use.

    ``uses`` counts how many documents will ask for each key; a key asked for once is never
    stored, and a stored one is dropped when its count runs out, so memory follows the
    entries still to be written rather than every entry of the site. At most ``capacity``
    values are kept (least recently used out first): a value evicted before its last use
    is simply made again, which bounds memory whatever the document order.
    """

    #: Enough for every entry of a few months of documents (see ``plan._render_order``).
    CAPACITY = 4096

    def __init__(self, uses: Counter[K], capacity: int = CAPACITY) -> None:
        self._uses = uses
        self._data: dict[K, V] = {}
        self.capacity = capacity

    @classmethod
    def for_documents(cls, docs: Iterable[Document]) -> Memo[tuple[str, Lang], V]:
        """Keyed by ``(entry id, the document's language variant)``."""
        return Memo(Counter((t.entry.id, doc.feed.lang) for doc in docs for t in doc.entries))

    @classmethod
    def by_entry(cls, docs: Iterable[Document]) -> Memo[str, V]:
        """Keyed by entry id, whatever the variant."""
        return Memo(Counter(t.entry.id for doc in docs for t in doc.entries))

    def get(self, key: K, make: Callable[[], V]) -> V:
        data = self._data.pop(key, None)  # popped and re-inserted: the dict order is LRU order
        if data is None:
            data = make()
        left = self._uses.get(key, 0) - 1
        if left > 0:
            self._uses[key] = left
            self._data[key] = data
            if len(self._data) > self.capacity:
                del self._data[next(iter(self._data))]
        else:
            self._uses.pop(key, None)
        return data


def fingerprint(doc: Document, *salt: object) -> str:
    """Hash of everything a document's bytes depend on: the output's ``salt`` (its name,
    render version, config, …), the document's own fields and each entry's ``Timed.key``."""
    h = hashlib.sha256()
    h.update(repr((salt, doc.path, doc.feed.title, doc.feed.lang, doc.archive, doc.complete,
                   doc.prev_archive, doc.next_archive)).encode())  # fmt: skip
    for t in doc.entries:
        h.update(t.key)
    return h.hexdigest()
