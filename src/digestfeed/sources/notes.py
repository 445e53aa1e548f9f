"""The curator's Markdown vault: a directory of ``YYMMDD Title.md`` notes → dated digests.

A note usually holds, in order: the paper's URL; ``*Title* (Authors)``; the abstract as a
``> `` quote; the Korean comment (paragraphs); ``<english>…</english>``; a hashtag line;
and an Obsidian ``# Links`` section. Older notes write ``Title (Authors)`` without the
asterisks and put the English comment *after* the hashtag line.

Dates and order
    The vault's layout (folders at any depth, Obsidian's own folders and templates skipped,
    bare ``YYMMDD.md`` notes, undated notes skipped with a warning) is read by
    :mod:`digestfeed.sources.vault`. The digest date is the file name's ``YYMMDD`` plus
    ``config.vault_date_offset`` days (default +1: a note written on D appears in the
    digest of D+1). Within a day, entries keep the order of the file names without ``.md``
    (``X.md`` before ``X 1.md``), whatever their folders. Notes of one day whose texts are
    identical after white-space normalisation are one entry (the first file name kept, a
    warning naming both).

Fields
    * ``url``: the first line when it is a lone http(s) URL (the paper's own link). When it
      is an arXiv URL, the entry id is ``tag:…:arxiv:<id>`` (stable across days and title
      edits); otherwise it is the digest-style id (date + title slug). Ids never depend on
      a note's folder. Two notes with the same id (``X.md`` / ``X 1.md`` copies that
      differ, or one paper noted on two days) keep it here: the build's ledger gives it to
      the note that first published it and the newcomer the next free ``-N``, with a warning
      (the source sets ``expects_copies``).
    * ``title``/``authors``: from ``*Title* (Authors)`` or ``Title (Authors)`` on the line
      after the URL; authors are split like the digest (commas at bracket depth 0). With no
      title line the file name's title is used and the authors are empty (warning).
    * ``abstract``: the ``>`` quote lines. ``comment_ko``: the other lines. ``comment_en``:
      the ``<english>`` block(s) and any text after the last hashtag line.
    * ``tags``/``tag_labels``: the hashtag line (normalised like the digest). A hashtag-only
      line elsewhere in the note (a digest would read it as the end of the entry) adds its
      tags, with a warning.
    * ``links``: every URL of title, abstract and comments, as the digest parser finds them.
      The first-line URL is *not* included unless the text repeats it: it is ``url``, which
      the digest text cannot carry, so that ``links`` survive the round trip.
    * Obsidian wiki-links become plain text (``[[Page|alias]]`` → ``alias``, ``[[Page]]`` →
      ``Page``); embedded images ``![[x.png]]`` are dropped (warning). LaTeX stays as
      written. The ``# Links`` section (backlinks to other notes) is not part of the entry.

Text conventions (those of the digest parser)
    Each part is its non-blank lines, right-stripped, joined by ``\\n``, the whole part
    stripped: the blank lines between paragraphs are dropped (digest text cannot carry
    them). C0 control characters are removed (warning).

Round trip: the vault only produces fields the digest text can carry
    ``render_digest`` (in :mod:`digestfeed.sources.export`) writes the seed's layout and
    :func:`~digestfeed.sources.digest.parse_text` must give every field back exactly (all
    but ``id``, ``url`` and ``source``, which belong to the source). The digest splits an
    entry's body into abstract / Korean / English at its first and last line holding
    Hangul, and ends an entry at a hashtag-only line, so the vault applies the same rules
    to its own lines (abstract, then Korean, then English lines, each in file order) and
    warns, naming ``file:line``, whenever a line lands in another part than the one it came
    from:

    * a comment line without Hangul *before* the first Korean line → end of the abstract
      (e.g. a project-page URL between the quote and the comment);
    * a comment line without Hangul *after* the last Korean line → start of the English
      comment;
    * an English comment with no Korean comment at all → the abstract;
    * an abstract (or English) line holding Hangul → the Korean comment (and what lies
      between it and the Korean comment with it);
    * a hashtag-only line anywhere → its tags join the entry's tags;
    * no hashtag line at all → the tag ``#untagged`` (the digest needs a tag line);
    * a title that would read as a hashtag line or an authors line → the file name's title.

Warnings and infos (each a :class:`~digestfeed.types.BuildWarning` naming ``file:line``,
never a crash; the kinds are the constants below). Warnings are the re-interpretations that
could lose or move text: control characters, an unclosed ``<english>`` (the rest of the
note is English), a misspelt ``<enligsh>``, a stray ``</english>``, two ``<english>``
blocks (joined), a dropped image, a wrapped or replaced title, an extra hashtag line, a
stray character on the hashtag line, lines moved to another part, copies and repeated
ids. Infos are what a note style legitimately lacks, counted and listed with ``-v``: no
abstract, no Korean or English comment, an English paragraph after the Korean one without
``<english>``, no paper URL, no title line (the file name's title), no authors, no tags.
A note that is not UTF-8 is a :class:`~digestfeed.errors.ParseError`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Collection
from pathlib import Path

from ..config import Config
from ..errors import ParseError, ParseErrors
from ..model import entry_arxiv_id, entry_id
from ..types import BuildWarning, Digest, Entry, Level, make_id
from .export import render_digest
from .files import read_source_file
from .lines import (
    CONTROL,
    CONTROLS,
    decode,
    entry_links,
    has_hangul,
    is_authors_line,
    is_tag_line,
    join_lines,
    missing_parts,
    parse_tags,
    split_authors,
    split_parts,
)
from .vault import NoteFile, list_vault, note_file, same_day_copies

__all__ = ["UNTAGGED", "NotesSource", "note_date", "parse_note", "read_notes", "render_digest"]

#: The tag given to a note that has none (the digest format needs a tag line).
UNTAGGED = "#untagged"

# Warning kinds (see digestfeed.types.BuildWarning): re-interpretations that lose or move text
# (control characters and dropped hashtags have the kinds of .lines, shared with digests)
IMAGE = "image dropped"
MISSPELT = "misspelt <english>"
NESTED = "nested <english>"
SECOND = "second <english> block"
STRAY_CLOSE = "stray </english>"
UNCLOSED = "unclosed <english>"
WRAPPED = "wrapped title"
TITLE_REPLACED = "title replaced"
EXTRA_TAGS = "extra hashtag line"
STRAY_CHAR = "stray character"
MOVED = "moved text"
WARNING: Level = "warning"
INFO: Level = "info"
# … and infos: what a note style legitimately lacks (counted; listed with -v)
# (no abstract, no Korean / English comment: lines.missing_parts, at level INFO)
ENGLISH_AFTER = "English after Korean"
NO_URL = "no paper URL"
NO_TITLE = "title from file name"
NO_AUTHORS = "no authors"
NO_TAGS = "untagged"

_URL_LINE = re.compile(r"^<?(https?://\S+?)>?$", re.IGNORECASE)
_STAR_TITLE = re.compile(r"^\*\*?(?P<title>.+?)\*\*?(?:\s*(?P<authors>\(.*\)))?$")
_LINKS_HEADING = re.compile(r"^#{1,6}\s+links?\s*$", re.IGNORECASE)
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z]{5,9})\s*>")
_IMAGE = re.compile(r"!\[\[([^\]\n]*)\]\]")
_WIKI = re.compile(r"\[\[([^\]\n]*)\]\]")
_QUOTE = re.compile(r"^\s{0,3}>\s?")


def _is_english_tag(name: str) -> bool:
    """``english`` and its misspellings by transposition (``enligsh``)."""
    return sorted(name.lower()) == sorted("english")


@dataclasses.dataclass(frozen=True, slots=True)
class _Line:
    no: int
    text: str
    origin: str  # "abstract" | "ko" | "en"


def note_date(day: str, config: Config) -> str:
    """The digest date of a note written on ``day``: ``day + config.vault_date_offset``."""
    return (dt.date.fromisoformat(day) + dt.timedelta(days=config.vault_date_offset)).isoformat()


def _plain(text: str, where: str, warnings: list[str]) -> str:
    """Obsidian markup → plain text: images dropped (warned), wiki-links to their text."""
    if "[[" not in text:
        return text

    def image(m: re.Match[str]) -> str:
        warnings.append(BuildWarning(IMAGE, where, f"embedded image {m.group(0)!r} dropped"))
        return ""

    def wiki(m: re.Match[str]) -> str:
        target, _, alias = m.group(1).partition("|")
        return alias if alias else target

    return _WIKI.sub(wiki, _IMAGE.sub(image, text))


def _split_title_authors(text: str) -> tuple[str, str | None] | None:
    """``*Title* (A, B)`` or ``Title (A, B)`` → (title, "(A, B)"); ``*Title*`` → (title, None)."""
    m = _STAR_TITLE.match(text)
    if m:
        return m.group("title").strip(), m.group("authors")
    if not text.endswith(")") or has_hangul(text):
        return None
    # the "(" that opens the final ")", at depth 0
    depth = 0
    for k in range(len(text) - 1, -1, -1):
        if text[k] == ")":
            depth += 1
        elif text[k] == "(":
            depth -= 1
            if depth == 0:
                title = text[:k].strip()
                return (title, text[k:]) if title else None
    return None


def parse_note(
    path: str | Path,
    text: str,
    date: str,
    config: Config,
    position: int = 0,
    file_title: str | None = None,
) -> Entry:
    """One note's text → an :class:`Entry` dated ``date``; never raises on content.

    ``file_title`` is the title from the file name (used when the note has no title line).
    """
    path = str(path)
    warnings: list[str] = []
    if file_title is None:
        named = note_file(Path(path))
        file_title = named.title if named else Path(path).stem

    # 1. lines: control characters out, the "# Links" section off
    raw: list[tuple[int, str]] = []
    for no, line in enumerate(text.split("\n"), start=1):
        if CONTROL.search(line):
            warnings.append(
                BuildWarning(
                    CONTROLS, f"{path}:{no}", "removed control character(s) illegal in XML"
                )
            )
            line = CONTROL.sub("", line)
        if _LINKS_HEADING.match(line.strip()):
            break
        raw.append((no, line))

    # 2. <english> blocks: each line becomes segments of (no, text, inside-english)
    segments: list[tuple[int, str, bool]] = []
    inside = False
    opened_at: int | None = None
    blocks = 0
    for no, line in raw:
        pos = 0
        for m in _TAG.finditer(line):
            closing, name = m.group(1) == "/", m.group(2)
            if not _is_english_tag(name):
                continue
            if name.lower() != "english":
                warnings.append(
                    BuildWarning(
                        MISSPELT, f"{path}:{no}", f"misspelt tag {m.group(0)!r} read as <english>"
                    )
                )
            segments.append((no, line[pos : m.start()], inside))
            pos = m.end()
            if not closing:
                if inside:
                    warnings.append(
                        BuildWarning(
                            NESTED, f"{path}:{no}", "<english> inside an <english> block; ignored"
                        )
                    )
                    continue
                blocks += 1
                if blocks == 2:
                    warnings.append(
                        BuildWarning(
                            SECOND, f"{path}:{no}", "a second <english> block; joined to the first"
                        )
                    )
                inside, opened_at = True, no
            elif inside:
                inside = False
            else:
                warnings.append(
                    BuildWarning(
                        STRAY_CLOSE,
                        f"{path}:{no}",
                        "</english> with no <english> before it; ignored",
                    )
                )
        segments.append((no, line[pos:], inside))
    if inside:
        warnings.append(
            BuildWarning(
                UNCLOSED,
                f"{path}:{opened_at}",
                "<english> is never closed; the rest of the note is English",
            )
        )

    # 3. Obsidian markup; drop blank segments
    cleaned = []
    for no, seg, eng in segments:
        seg = _plain(seg, f"{path}:{no}", warnings)
        if seg.strip():
            cleaned.append((no, seg.rstrip(), eng))

    # 4. the URL and the title line
    url: str | None = None
    k = 0
    if cleaned and not cleaned[0][2]:
        url_match = _URL_LINE.match(cleaned[0][1].strip())
        if url_match:
            url = url_match.group(1)
            k = 1
    if url is None:
        first = cleaned[0][0] if cleaned else 1
        warnings.append(
            BuildWarning(
                NO_URL,
                f"{path}:{first}",
                "no URL on the first line; the entry has no link of its own",
                "info",
            )
        )
    # more lone URLs before the title line stay in the body (as comment lines)
    extra_urls = []
    while url and k < len(cleaned) and not cleaned[k][2] and _URL_LINE.match(cleaned[k][1].strip()):
        extra_urls.append(cleaned[k])
        k += 1
    title: str | None = None
    authors_text: str | None = None
    title_no = cleaned[k][0] if k < len(cleaned) else 1
    if k < len(cleaned) and not cleaned[k][2] and not _QUOTE.match(cleaned[k][1]):
        found = _split_title_authors(cleaned[k][1].strip())
        if found:
            title, authors_text = found
            k += 1
        elif cleaned[k][1].lstrip().startswith("*"):
            # a title wrapped over two or three lines
            for n in (2, 3):
                chunk = cleaned[k : k + n]
                if len(chunk) < n or any(c[2] for c in chunk):
                    break
                found = _STAR_TITLE.match(
                    " ".join(c[1].strip() for c in chunk)
                ) and _split_title_authors(" ".join(c[1].strip() for c in chunk))
                if found:
                    warnings.append(
                        BuildWarning(
                            WRAPPED,
                            f"{path}:{title_no}",
                            f"title line wrapped over {n} lines; joined",
                        )
                    )
                    title, authors_text = found
                    k += n
                    break
    if title is None:
        warnings.append(
            BuildWarning(
                NO_TITLE,
                f"{path}:{title_no}",
                f"no '*Title* (Authors)' line; using the file name's title {file_title!r}",
                "info",
            )
        )
        title = file_title
    elif authors_text is None:
        warnings.append(
            BuildWarning(
                NO_AUTHORS,
                f"{path}:{title_no}",
                "title line has no '(Authors)'; authors left empty",
                "info",
            )
        )
    if not title or is_tag_line(title) or is_authors_line(title):
        fallback = (
            file_title
            if file_title and not (is_tag_line(file_title) or is_authors_line(file_title))
            else "Untitled"
        )
        warnings.append(
            BuildWarning(
                TITLE_REPLACED,
                f"{path}:{title_no}",
                f"title {title!r} would read as a tag or authors line in a digest; "
                f"using {fallback!r}",
            )
        )
        title = fallback
    authors = split_authors(authors_text) if authors_text else ()

    # 5. the body: quote → abstract, <english> → en, hashtag lines → tags, the rest → ko
    #    (or en after the last hashtag line: the older notes' layout)
    body = extra_urls + cleaned[k:]
    body = [(no, _fix_tag_line(seg, f"{path}:{no}", warnings), eng) for no, seg, eng in body]
    tag_lines = [i for i, (_, seg, _) in enumerate(body) if is_tag_line(seg)]
    last_tag = tag_lines[-1] if tag_lines else len(body)
    tokens: list[str] = []
    lines: list[_Line] = []
    for i, (no, seg, eng) in enumerate(body):
        quoted = _QUOTE.match(seg)
        if quoted and not eng:
            seg = seg[quoted.end() :]
            if not seg.strip():
                continue
        if is_tag_line(seg):
            if i != last_tag:
                warnings.append(
                    BuildWarning(
                        EXTRA_TAGS,
                        f"{path}:{no}",
                        "hashtag line that is not the note's last; its tags are added",
                    )
                )
            tokens.extend(seg.split())
            continue
        origin = "en" if eng else "tail" if i > last_tag else "abstract" if quoted else "ko"
        lines.append(_Line(no, seg.rstrip(), origin))
    tag_where = f"{path}:{body[last_tag][0]}" if tag_lines else f"{path}:{title_no}"
    tags, labels = parse_tags(tokens, config, warnings, tag_where)
    if not tags:
        warnings.append(
            BuildWarning(NO_TAGS, tag_where, f"no hashtag line; tagged {UNTAGGED}", "info")
        )
        tags, labels = parse_tags([UNTAGGED], config, warnings, tag_where)

    # 6. parts as the digest would split them (abstract, Korean, English lines in that order)
    ordered = [ln for o in ("abstract", "ko", "en", "tail") for ln in lines if ln.origin == o]
    a, b = split_parts([ln.text for ln in ordered])
    parts = {"abstract": ordered[:a], "ko": ordered[a:b], "en": ordered[b:]}
    _warn_moves(parts, path, warnings)
    abstract, ko, en = (join_lines(ln.text for ln in parts[p]) for p in ("abstract", "ko", "en"))
    where = f"{path}:{title_no}"
    warnings.extend(missing_parts(where, "note", abstract, ko, en, INFO))
    links = tuple(entry_links([title, abstract, ko, en]))
    arxiv = entry_arxiv_id(url) if url else None
    if arxiv:
        id_ = make_id(config.tag_authority, config.tag_date, f"arxiv:{arxiv}")
    else:
        id_ = entry_id(config.tag_authority, config.tag_date, date, title)
    return Entry(
        id=id_,
        date=date,
        title=title,
        authors=authors,
        abstract=abstract,
        comment_ko=ko,
        comment_en=en,
        tags=tuple(tags),
        links=links,
        source=where,
        tag_labels=tuple(labels),
        url=url,
        position=position,
        warnings=tuple(warnings),
    )


_PART_NAMES = {
    "abstract": "abstract",
    "ko": "Korean comment",
    "en": "English comment",
    "tail": "after-the-hashtags",
}
_ORIGIN_NAMES = {
    "abstract": "quoted (abstract)",
    "ko": "comment",
    "en": "<english>",
    "tail": "after-the-hashtags",
}
_STRAY = re.compile(r"^(?:#\S+\s+)+(\S)$")


def _fix_tag_line(seg: str, where: str, warnings: list[str]) -> str:
    """``#rl #tool a``: a hashtag line ending in one stray character (a typo) → ``#rl #tool``."""
    m = _STRAY.match(seg.strip())
    if m and not m.group(1).startswith("#"):
        warnings.append(
            BuildWarning(
                STRAY_CHAR, where, f"stray {m.group(1)!r} at the end of the hashtag line dropped"
            )
        )
        return seg.strip()[:-1].rstrip()
    return seg


def _warn_moves(parts: dict[str, list[_Line]], path: str, warnings: list[str]) -> None:
    """Warn once per (from, to) about lines the digest layout puts in another part."""
    moved: dict[tuple[str, str], list[_Line]] = {}
    for part, lines in parts.items():
        for ln in lines:
            if ln.origin != part and (ln.origin, part) != ("tail", "en"):
                moved.setdefault((ln.origin, part), []).append(ln)
    has_ko = bool(parts["ko"])
    for (origin, part), lines in moved.items():
        n = len(lines)
        what = f"{n} {_ORIGIN_NAMES[origin]} line{'s' if n > 1 else ''}"
        kind, level = MOVED, WARNING
        if origin in ("en", "tail") and part == "abstract" and not has_ko:
            why = f"English text with no Korean comment ({what}) kept in the abstract"
        elif origin == "ko" and part == "abstract" and not has_ko:
            why = f"no Korean text: {what} kept in the abstract"
        elif origin == "ko" and part == "abstract":
            why = f"{what} without Hangul before the Korean text kept in the abstract"
        elif origin == "ko" and part == "en":
            why = f"{what} without Hangul after the Korean text kept in the English comment"
            kind, level = ENGLISH_AFTER, INFO  # the curator's style, nothing moves
        else:
            why = f"{what} with Hangul (or between Hangul lines) kept in the {_PART_NAMES[part]}"
        warnings.append(
            BuildWarning(
                kind,
                f"{path}:{lines[0].no}",
                f"{why} (a digest splits parts at the first and last line with Hangul)",
                level,
            )
        )


def read_notes(
    directory: str | Path, config: Config, dates: Collection[str] | None = None
) -> tuple[list[Digest], list[str]]:
    """Every dated note of the vault ``directory``, at any depth → digests (sorted by date)
    and the warnings about the vault's files (skipped, refused, same names; see
    :mod:`digestfeed.sources.vault`). ``dates`` limits the result to those digest dates.

    Notes of one day whose texts are identical after white-space normalisation are one
    entry (a warning names both files). Raises :class:`ParseErrors` with every note that
    is not UTF-8 or cannot be read.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ParseErrors([ParseError(str(directory), None, "not a directory of notes")])
    listing = list_vault(directory, config)
    by_date: dict[str, list[NoteFile]] = {}
    for note in listing.notes:
        date = note_date(note.day, config)
        if dates is None or date in dates:
            by_date.setdefault(date, []).append(note)
    digests: list[Digest] = []
    errors: list[ParseError] = []
    for date in sorted(by_date):
        texts: list[tuple[NoteFile, str]] = []
        for note in sorted(by_date[date], key=_day_order):
            try:
                data = read_source_file(note.path, config.max_file_bytes)
                texts.append((note, decode(data, str(note.path))))
            except ParseError as exc:
                errors.append(exc)
        kept, copies = same_day_copies(texts)
        entries = [
            parse_note(note.path, text, date, config, k, note.title or note.path.stem)
            for k, (note, text) in enumerate(kept)
        ]
        digests.append(Digest(str(directory), date, tuple(entries), tuple(copies)))
    if errors:
        raise ParseErrors(errors)
    return _with_entry_warnings(digests), list(listing.warnings)


def _day_order(note: NoteFile) -> tuple[str, str, str]:
    """Within a day: by file name without ``.md`` (``X.md`` before ``X 1.md``), then folder."""
    return (note.path.stem, note.path.name, note.path.as_posix())


def _with_entry_warnings(digests: list[Digest]) -> list[Digest]:
    """Each digest's warnings: its own (copies), then its entries'."""
    return [
        dataclasses.replace(d, warnings=(*d.warnings, *(w for e in d.entries for w in e.warnings)))
        for d in digests
    ]


class NotesSource:
    """The built-in ``notes`` source: the curator's Markdown vault."""

    name = "notes"
    #: The vault holds Obsidian copies (``X 1.md``): a second note claiming a published id
    #: gets the next free ``-N`` (with a warning) instead of failing the build.
    expects_copies = True

    def read(self, directory: Path, config: Config) -> list[Digest]:
        """Digests of every dated note. Warnings about skipped (undated) files are added to
        the first digest's warnings (they name the file, whichever digest carries them)."""
        digests, skipped = read_notes(directory, config)
        if not digests:
            raise ParseErrors(
                [
                    ParseError(
                        str(directory),
                        None,
                        "no dated notes ('YYMMDD Title.md' or 'YYMMDD.md', in any folder) "
                        "in the vault",
                    )
                ]
            )
        if skipped:
            digests[0] = dataclasses.replace(
                digests[0], warnings=tuple(skipped) + digests[0].warnings
            )
        return digests
