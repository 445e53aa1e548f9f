"""The feed reader's defaults and output formats, in one place: :class:`~.reading.Reader`,
:func:`~.fetch.fetch` and the options of ``digestfeed read`` all take them from here.

Imports nothing, so the command line can show them without loading the reader.
"""

from __future__ import annotations

#: Seconds for the whole fetch of one document: connect, headers, redirects, body.
DEFAULT_TIMEOUT = 30.0
#: Size cap of one document (after gzip decoding).
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
#: Redirects followed per fetch.
DEFAULT_MAX_REDIRECTS = 5
#: Concurrent fetches.
DEFAULT_CONCURRENCY = 4
#: OPML lists reached through other OPML lists, at most (a list you name is depth 0).
DEFAULT_MAX_OPML_DEPTH = 8
#: RFC 5005 archive documents followed back from one feed, at most.
DEFAULT_MAX_ARCHIVE_DEPTH = 1000
#: Documents (feeds, archives, OPML lists) read in one run, at most.
DEFAULT_MAX_SOURCES = 20_000
#: ``--format`` values that write one feed document (see :mod:`.output`).
FEED_FORMATS = ("atom", "rss", "jsonfeed")
