"""Writing digests back as digest text: what ``digestfeed export-digest`` prints.

The layout is the seed's: the Korean date line, then each entry as title, ``(authors)``,
abstract, Korean comment, English comment and hashtag line, with no blank lines.
"""

from __future__ import annotations

from ..types import Digest, Entry


def format_date_line(date: str) -> str:
    """``2025-05-08`` → ``2025년 5월 8일`` (the seed's date line)."""
    y, m, d = date.split("-")
    return f"{int(y)}년 {int(m)}월 {int(d)}일"


def render_entry_lines(entry: Entry) -> list[str]:
    """The lines of one entry in the seed's layout (no blank lines)."""
    lines = [entry.title, "(" + ", ".join(entry.authors) + ")"]
    for part in (entry.abstract, entry.comment_ko, entry.comment_en):
        if part:
            lines.extend(part.split("\n"))
    labels = entry.tag_labels or tuple(f"#{t}" for t in entry.tags) or ("#untagged",)
    lines.append(" ".join(labels))
    return lines


def render_digest(digest: Digest) -> str:
    """A :class:`~digestfeed.types.Digest` as digest text: date line, then each entry; no
    final newline.

    :func:`~digestfeed.sources.digest.parse_text` of the result gives back title, authors,
    abstract, comments, tags, tag labels and links exactly when the fields are
    *representable* (see :mod:`digestfeed.sources.notes`, which only produces representable
    fields).
    """
    lines = [format_date_line(digest.date)]
    for entry in digest.entries:
        lines.extend(render_entry_lines(entry))
    return "\n".join(lines)
