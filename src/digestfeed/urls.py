"""Where things are on the web: the digest-page URL template, entry anchors, feed home pages,
and the example URLs a publication must replace before anyone subscribes.

``digest_url_pattern`` takes named placeholders only (:data:`PLACEHOLDERS`); ``{{`` and
``}}`` are literal braces. Format specs (``{site_url:>9}``), conversions (``{date!r}``),
indexing and attribute access (``{date[0]}``, ``{date.upper}``) and positional fields
(``{}``) are errors, so a pattern can never grow a URL without bound or reach into Python
objects; the expanded URL must be an absolute ``http(s)`` URL.
"""

from __future__ import annotations

import re
import string
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .config import Config

#: The placeholders of ``digest_url_pattern``.
PLACEHOLDERS = ("site_url", "feed_base_url", "date", "year", "month", "day", "m", "d", "anchor")
DEFAULT_DIGEST_URL_PATTERN = "{feed_base_url}days/{date}.html#{anchor}"
#: The host of the example configuration: a publication still using it is not set up.
PLACEHOLDER_HOST = "digestfeed.example.org"
#: The keys that carry the publication's address (and its ids).
ADDRESS_KEYS = ("site_url", "feed_base_url", "tag_authority")

_ABSOLUTE = re.compile(r"^https?://[^\s/?#]+(?:[/?#]\S*)?$", re.ASCII)


def pattern_error(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid URL template, or ``None`` when it is."""
    try:
        fields = list(string.Formatter().parse(pattern))
    except ValueError as exc:  # a lone "{" or "}"
        return f"{exc} (write {{{{ or }}}} for a literal brace)"
    for _literal, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            what = "a positional field" if name == "" else f"unknown placeholder {{{name}}}"
            return f"{what}: only named placeholders are allowed ({known})"
        if conversion is not None or spec:
            return f"{{{name}}} takes no conversion or format spec"
    return None


def expand(pattern: str, site_url: str, feed_base_url: str, date: str, anchor: str) -> str:
    """``pattern`` (already checked by :func:`pattern_error`) for one digest date and anchor."""
    y, m, d = date.split("-")
    return pattern.format(
        site_url=site_url,
        feed_base_url=feed_base_url,
        date=date,
        year=y,
        month=m,
        day=d,
        m=str(int(m)),
        d=str(int(d)),
        anchor=anchor,
    )


def is_absolute_http(url: str) -> bool:
    return bool(_ABSOLUTE.match(url))


def entry_anchor(entry_id: str) -> str:
    """The fragment of an entry on its digest page: the last segment of its id (the title
    slug), or ``arxiv-<id>`` for an id named after its arXiv paper."""
    specific = entry_id.split(":", 2)[-1] if entry_id.startswith("tag:") else entry_id
    if specific.startswith("arxiv:"):
        return "arxiv-" + specific[len("arxiv:") :].replace("/", "-")
    return specific.rsplit("/", 1)[-1]


def day_page(date: str) -> str:
    """Path of a digest's page under ``feeds/``."""
    return f"days/{date}.html"


def feed_home(config: Config, tag: str | None) -> str:
    """A feed's web page (Atom ``alternate``, RSS ``link``, JSON ``home_page_url``, OPML
    ``htmlUrl``): the tag's page for a tag feed, else the feed directory."""
    return config.tag_url(tag) if tag else config.feed_base_url


def placeholder_keys(config: Config) -> list[str]:
    """The address keys of ``config`` still at the example host."""
    out = []
    for key in ADDRESS_KEYS:
        value = str(getattr(config, key))
        host = value.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1].lower()
        if host == PLACEHOLDER_HOST:
            out.append(key)
    return out


def placeholder_warning(config: Config) -> str | None:
    """The warning every build gives while the publication's address is the example one."""
    keys = placeholder_keys(config)
    if not keys:
        return None
    return (
        f"config: {', '.join(keys)} still the example address ({PLACEHOLDER_HOST}): "
        "feeds, OPML links and entry ids point nowhere; set them to where feeds/ is published "
        "before anyone subscribes ('digestfeed init DIR --url URL' writes them)"
    )
