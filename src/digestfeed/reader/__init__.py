"""digestfeed's feed reader: any set of feeds → one item per paper, remembered across runs.

>>> from digestfeed.reader import Reader
>>> with Reader("reader.sqlite") as reader:          # doctest: +SKIP
...     for item in reader.read(["feeds/index.opml"]):
...         print(item.date, item.title, item.tags, item.rule)

See :mod:`digestfeed.reader.reading` for the run/commit protocol and
:mod:`digestfeed.reader.identity` for the dedupe rules.
"""

from __future__ import annotations

from .reading import ITEM_JSON_KEYS, Item, Reader, ReadResult, SourceFailure, default_state_path

__all__ = ["ITEM_JSON_KEYS", "Item", "ReadResult", "Reader", "SourceFailure", "default_state_path"]
