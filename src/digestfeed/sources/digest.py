"""The digest text format: a date line, then entries of title, (authors), abstract,
Korean comment, English comment and a hashtag line.

Every non-blank input line lands in exactly one field (or is the date line); anything the
parser cannot place is a :class:`~digestfeed.errors.ParseError` naming ``path:line``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import itertools
import os
import re
from pathlib import Path

from dateutil import parser as dateparser

from ..cache import DIGEST_PACK_VERSION, Cache
from ..config import Config
from ..errors import ParseError, ParseErrors
from ..model import assign_unique_ids, entry_id, find_links
from ..types import BuildWarning, Digest, Entry
from .files import list_source_files, read_source_file
from .lines import (
    CONTROL,
    CONTROLS,
    decode,
    entry_links,
    is_authors_line,
    is_tag_line,
    missing_parts,
    parse_tags,
    split_authors,
    split_parts,
)

#: Bumped whenever parsing changes what it returns (invalidates the parse cache).
PARSER_VERSION = 3

#: Kind of the warning for a date line that differs from the file name's date (the digest
#: source's own; its other kinds are shared with the vault, see :mod:`.lines`).
DATE_DIFFERS = "date differs from file name"

_KO_DATE = re.compile(
    r"^(\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일(?:\s*\(?[월화수목금토일]\)?(?:요일)?)?$"
)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_FILE_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def parse_date_line(text: str) -> str | None:
    """``2025년 5월 8일`` / ``2025-05-08`` / ``May 8, 2025`` → ``2025-05-08``; else ``None``."""
    text = text.strip()
    for pattern in (_KO_DATE, _ISO_DATE):
        m = pattern.match(text)
        if m:
            return _ymd(*m.groups())
    # English dates through dateutil, guarded so that a title is never taken for a date.
    if len(text) > 40 or not re.search(r"\b\d{4}\b", text) or not re.search(r"[A-Za-z]", text):
        return None
    if not re.fullmatch(
        r"[A-Za-z]{3,9}\.?\s+\d{1,2}(st|nd|rd|th)?,?\s+\d{4}|"
        r"\d{1,2}\s+[A-Za-z]{3,9}\.?,?\s+\d{4}|"
        r"[A-Za-z]{3,9},?\s+[A-Za-z]{3,9}\.?\s+\d{1,2}(st|nd|rd|th)?,?\s+\d{4}",
        text,
    ):
        return None
    try:
        return dateparser.parse(text, fuzzy=False).date().isoformat()
    except (ValueError, OverflowError):
        return None


def _ymd(y: str, m: str, d: str) -> str | None:
    try:
        return dt.date(int(y), int(m), int(d)).isoformat()
    except ValueError:
        return None


def parse_digest(path: str | Path, config: Config | None = None) -> Digest:
    """Parse one digest file. Raises :class:`ParseError`."""
    config = config or Config()
    return parse_bytes(read_source_file(path, config.max_file_bytes), str(path), config)


def parse_bytes(data: bytes, path: str, config: Config) -> Digest:
    return _parse(decode(data, path), path, config, _may_hold_control(data))


def parse_text(text: str, path: str, config: Config) -> Digest:
    """Parse digest ``text`` read from ``path`` (used in messages and ``source``)."""
    return _parse(text, path, config, CONTROL.search(text) is not None)


#: The bytes of the characters :data:`CONTROL` removes, but ``\r`` (decoding makes it a line end).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def _may_hold_control(data: bytes) -> bool:
    """Whether the decoded text of ``data`` may hold a :data:`CONTROL` character: one byte
    scan, several times cheaper than the regex on the text."""
    return len(data.translate(None, _CONTROL_BYTES)) != len(data) or (
        b"\xef" in data  # the first byte of U+FFFE and U+FFFF: one fast scan decides most files
        and (b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data)
    )


def _parse(text: str, path: str, config: Config, has_control: bool) -> Digest:
    """Parse ``text``; ``has_control``: whether it may hold a :data:`CONTROL` character (only
    then is each line searched for one)."""
    warnings: list[str] = []
    raws = text.split("\n")
    if has_control:
        for k, raw in enumerate(raws):
            if CONTROL.search(raw):
                warnings.append(
                    BuildWarning(
                        CONTROLS, f"{path}:{k + 1}", "removed control character(s) illegal in XML"
                    )
                )
                raws[k] = CONTROL.sub("", raw)
    max_link_length = config.max_link_length
    for k in [k for k, raw in enumerate(raws) if len(raw) > max_link_length and "://" in raw]:
        _check_link_length(raws[k], path, k + 1, config)  # the first too long link raises
    # The non-blank lines, trailing white space cut, and their line numbers.
    stripped = [raw.rstrip() for raw in raws]
    texts = list(filter(None, stripped))
    nos = list(itertools.compress(range(1, len(stripped) + 1), stripped))
    if not texts:
        raise ParseError(path, 1, "empty digest: no date line and no entries")

    date = parse_date_line(texts[0])
    if date is not None and len(texts) > 1 and is_authors_line(texts[1]):
        date = None  # the first line is a title followed by its authors
    name = _file_name(path)
    if date is not None:
        file_date = _FILE_DATE.search(name)
        if file_date and _ymd(*file_date.groups()) not in (None, date):
            warnings.append(
                BuildWarning(
                    DATE_DIFFERS,
                    f"{path}:{nos[0]}",
                    f"date line {date} differs from the file name; using the date line",
                )
            )
        first = 1
    else:
        m = _FILE_DATE.search(name)
        date = _ymd(*m.groups()) if m else None
        if date is None:
            raise ParseError(
                path,
                nos[0],
                "no date line (expected e.g. '2025년 5월 8일', '2025-05-08' or 'May 8, 2025') "
                "and the file name holds no YYYY-MM-DD date",
            )
        first = 0

    entries = _parse_entries(texts, nos, first, path, date, config, warnings)
    if not entries:
        raise ParseError(path, nos[0], "no entries after the date line")
    return Digest(path, date, tuple(assign_unique_ids(entries)), tuple(warnings))


def _file_name(path: str) -> str:
    """``Path(path).name``, without making a Path for the usual ``dir/name.txt``."""
    name = path.rpartition("/")[2]
    if os.sep == "/" and name not in ("", "."):
        return name
    return Path(path).name


def _check_link_length(line: str, path: str, no: int, config: Config) -> None:
    for link in find_links(line):
        if len(link) > config.max_link_length:
            raise ParseError(
                path,
                no,
                f"a link of {len(link)} characters, more than max_link_length "
                f"({config.max_link_length})",
            )


#: :func:`is_tag_line`, remembered: most tag lines repeat (``#untagged``, a field's usual tags).
_is_tag_line = functools.lru_cache(maxsize=4096)(is_tag_line)


def _parse_entries(
    texts: list[str],
    nos: list[int],
    first: int,
    path: str,
    date: str,
    config: Config,
    warnings: list[str],
) -> list[Entry]:
    """The entries of the lines ``texts[first:]`` (line numbers ``nos``)."""
    entries: list[Entry] = []
    tags_seen: set[str] = set()
    n = len(texts)
    # The tag lines, found in one pass (only a line starting with '#' can be one).
    tag_lines = [
        k for k, text in enumerate(texts) if text.lstrip()[:1] == "#" and _is_tag_line(text)
    ]
    is_tag = set(tag_lines)
    i = first
    while i < n:
        title = texts[i]
        if i in is_tag:
            raise ParseError(path, nos[i], "tag line with no entry before it")
        if is_authors_line(title):
            raise ParseError(path, nos[i], "authors line with no title line before it")
        if i + 1 >= n or not is_authors_line(texts[i + 1]):
            got = texts[i + 1][:60] if i + 1 < n else "end of file"
            raise ParseError(
                path,
                nos[i],
                f"title {title.strip()[:60]!r} has no authors line "
                f"(expected '(Author, …)' on the next line, got {got!r})",
            )
        after = bisect.bisect_left(tag_lines, i + 2)
        j = tag_lines[after] if after < len(tag_lines) else n  # the entry's tag line
        if j >= n:
            raise ParseError(
                path,
                nos[i],
                f"entry {title.strip()[:60]!r} has no tag line (e.g. '#rl #tool') before the end of the file",
            )
        entry = _make_entry(texts, nos, i, j, path, date, len(entries), config)
        warnings.extend(entry.warnings)
        entries.append(entry)
        before = len(tags_seen)
        tags_seen.update(entry.tags)
        if before <= config.max_tags_per_digest < len(tags_seen):
            raise ParseError(
                path,
                nos[j],
                f"more than max_tags_per_digest ({config.max_tags_per_digest}) distinct tags "
                "in this digest",
            )
        if len(entries) > config.max_entries_per_digest:
            raise ParseError(
                path,
                nos[i],
                f"more than max_entries_per_digest ({config.max_entries_per_digest}) entries",
            )
        i = j + 1
    return entries


def _make_entry(
    texts: list[str],
    nos: list[int],
    i: int,
    j: int,
    path: str,
    date: str,
    position: int,
    config: Config,
) -> Entry:
    """The entry of title line ``i`` (authors on ``i + 1``, body up to the tag line ``j``)."""
    body = texts[i + 2 : j]
    first, end = split_parts(body)
    abstract, ko, en = body[:first], body[first:end], body[end:]
    where = f"{path}:{nos[i]}"
    warnings = missing_parts(where, "entry", abstract, ko, en)
    tags, labels = parse_tags(texts[j].split(), config, warnings, f"{path}:{nos[j]}")
    title = texts[i].strip()
    # The lines are non-blank with trailing white space cut: join_lines is a join and a strip.
    fields = [title, "\n".join(abstract).strip(), "\n".join(ko).strip(), "\n".join(en).strip()]
    links = entry_links(fields)
    return Entry(
        id=entry_id(config.tag_authority, config.tag_date, date, title),
        date=date,
        title=title,
        authors=split_authors(texts[i + 1]),
        abstract=fields[1],
        comment_ko=fields[2],
        comment_en=fields[3],
        tags=tuple(tags),
        links=tuple(links),
        source=where,
        tag_labels=tuple(labels),
        position=position,
        warnings=tuple(warnings),
    )


# --- the source plugin -------------------------------------------------------------------


def digest_files(directory: Path) -> tuple[list[Path], list[ParseError]]:
    """The digest files of a directory (regular ``*.txt`` files, not hidden, sorted by name)
    and an error for each ``*.txt`` that is a symbolic link, device, FIFO or socket (naming
    it; nothing of it is read or echoed), so a merged link can never publish another file.
    """
    if not directory.is_dir():
        raise ParseErrors([ParseError(str(directory), None, "not a directory of digests")])
    listing = list_source_files(directory, "*.txt")
    return list(listing.files), [r.error() for r in listing.refused]


def _cached_parse(cache: Cache, path: Path, config: Config, salt: str) -> Digest:
    """The digest of ``path`` from the cache when its bytes hash as recorded (with the same
    parser ``salt``); else read, parsed and recorded."""
    key = str(path)
    sha = cache.found_sha256(path, config.max_file_bytes)
    if sha is not None:
        digest = cache.parsed(key, salt, sha)
        if digest is not None:
            return digest
    data = read_source_file(path, config.max_file_bytes)
    digest = parse_bytes(data, key, config)
    cache.put_parsed(key, salt, hashlib.sha256(data).hexdigest(), digest)
    return digest


def read_digest_dir(directory: Path, config: Config, cache: Cache | None = None) -> list[Digest]:
    """Parse every digest of ``directory``; report every broken file, not just the first.

    With a ``cache``, a file whose path and bytes were parsed before (with the same parser
    version and parse-relevant config) is not parsed again.
    """
    digests = []
    salt = repr(
        (
            PARSER_VERSION,
            DIGEST_PACK_VERSION,
            config.tag_authority,
            config.tag_date,
            sorted(config.tag_aliases.items()),
            config.max_tags_per_entry,
            config.max_tags_per_digest,
            config.max_entries_per_digest,
            config.max_file_bytes,
            config.max_link_length,
            config.max_tag_length,
        )
    )
    paths, refused = digest_files(directory)
    errors: list[ParseError] = list(refused)  # reported with the other files' errors
    for path in paths:
        try:
            if cache is None:
                digests.append(parse_digest(path, config))
                continue
            digests.append(_cached_parse(cache, path, config, salt))
        except ParseError as exc:
            errors.append(exc)
        except OSError as exc:
            errors.append(ParseError(str(path), None, f"cannot read: {exc.strerror or exc}"))
    if errors:
        raise ParseErrors(sorted(errors, key=lambda e: e.path))
    return digests


class DigestSource:
    """The built-in ``digest`` source: every ``*.txt`` file of a directory is one digest.

    ``cache`` (set by the build) skips files whose path and bytes were parsed before.
    """

    name = "digest"
    pattern = "*.txt"

    def __init__(self) -> None:
        self.cache: Cache | None = None

    def read(self, directory: Path, config: Config) -> list[Digest]:
        """Parse every digest file (sorted by name); raise :class:`ParseErrors` naming every
        broken file after trying them all. Warnings are on the returned digests."""
        return read_digest_dir(Path(directory), config, self.cache)
