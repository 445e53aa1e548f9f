"""digestfeed's feed reader: any set of feeds → one item per paper, remembered across runs.

>>> from digestfeed.reader import Reader
>>> with Reader("reader.sqlite") as reader:          # doctest: +SKIP
...     for item in reader.read(["feeds/index.opml"]):
...         print(item.date, item.title, item.tags, item.rule)

See :mod:`digestfeed.reader.reading` for the run/commit protocol and
:mod:`digestfeed.reader.identity` for the dedupe rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .reading import (
        ITEM_JSON_KEYS,
        Item,
        Reader,
        ReadResult,
        SourceFailure,
        default_state_path,
    )

#: Public names imported on first use (PEP 562), so that ``digestfeed read --help`` and
#: the command's options (:mod:`.options`) do not load the reader.
_LAZY = frozenset(
    {"ITEM_JSON_KEYS", "Item", "Reader", "ReadResult", "SourceFailure", "default_state_path"}
)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import reading

    value = getattr(reading, name)
    globals()[name] = value
    return value


__all__ = ["ITEM_JSON_KEYS", "Item", "ReadResult", "Reader", "SourceFailure", "default_state_path"]
