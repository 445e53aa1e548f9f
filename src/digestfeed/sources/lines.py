"""Line rules shared by the digest parser and the vault (``notes``) source.

The vault produces only what digest text can carry, so both sources classify lines
(hashtag line, authors line, Hangul), split an entry's body into abstract / Korean /
English, read hashtags and find links with the same functions, defined here once.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence

from ..config import Config
from ..errors import ParseError
from ..model import find_links, has_tag_text, normalize_tag, tag_slug
from ..types import BuildWarning, Level

# Kinds of the warnings made here, shared by both sources (see digestfeed.types.BuildWarning).
CONTROLS = "control characters"
DROPPED_TAG = "dropped hashtag"
NO_ABSTRACT = "no abstract"
NO_KOREAN = "no Korean comment"
NO_ENGLISH = "no English comment"

#: Characters XML 1.0 forbids (C0 controls but tab and newline; U+FFFE, U+FFFF): removed.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")


def has_hangul(text: str) -> bool:
    return not text.isascii() and _HANGUL.search(text) is not None


def is_tag_line(text: str) -> bool:
    """A line of hashtags only, at least one with a letter or digit: ``#rl #tool``.

    ``##`` or ``#!!`` alone is text, not a tag line: it would give an entry no tag at all,
    and such an entry could not be written back as digest text. (Whether each hashtag is
    a valid tag is :func:`parse_tags`' business: ``#rl #a!b`` is a tag line with an error.)
    """
    if not text.lstrip().startswith("#"):  # most lines: one character decides
        return False
    tokens = text.split()
    return (
        bool(tokens)
        and all(t.startswith("#") and len(t) > 1 for t in tokens)
        and any(has_tag_text(t) for t in tokens)
    )


def is_authors_line(text: str) -> bool:
    """A line in round brackets once stripped: ``(A, B)``."""
    text = text.strip()
    return len(text) > 1 and text[0] == "(" and text[-1] == ")"


def split_authors(text: str) -> tuple[str, ...]:
    """``(A, B (Org, X), C)`` → ``("A", "B (Org, X)", "C")``: commas at bracket depth 0."""
    stripped = text.strip()
    body = stripped[1:-1] if is_authors_line(stripped) else text
    if "(" not in body and "[" not in body and "{" not in body:  # every comma separates
        return tuple([a for a in map(str.strip, body.split(",")) if a])
    out: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in body:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            out.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    out.append("".join(current).strip())
    return tuple(a for a in out if a)


def decode(data: bytes, path: str) -> str:
    """UTF-8 (with or without BOM) → text with ``\\n`` line ends, or a ParseError at the bad line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError(path, line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})") from None
    if b"\r" not in data:  # the usual '\n' line ends: nothing to replace
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_parts(lines: Sequence[str]) -> tuple[int, int]:
    """Where the body of an entry splits: ``abstract = lines[:a]``, ``ko = lines[a:b]``,
    ``en = lines[b:]``. The Korean comment runs from the first to the last line holding
    Hangul; with no Hangul at all, every line is abstract."""
    korean = [k for k, text in enumerate(lines) if not text.isascii() and _HANGUL.search(text)]
    if not korean:
        return len(lines), len(lines)
    return korean[0], korean[-1] + 1


def parse_tags(
    tokens: Sequence[str], config: Config, warnings: list[str], where: str
) -> tuple[list[str], list[str]]:
    """Hashtag tokens → (canonical slugs, labels as written): written order, first label wins.

    ``where`` is the ``path:line`` of the tag line. A hashtag holding a character no tag
    may hold (punctuation, a symbol, a zero-width or bidi control), a slug longer than
    ``max_tag_length`` and more than ``max_tags_per_entry`` distinct tags are each a
    :class:`ParseError` at that line; a hashtag without letters or digits (``#--``) is
    dropped with a warning.
    """
    tags, labels, dropped, error = _read_tags(
        tuple(tokens),
        tuple(config.tag_aliases.items()),
        config.max_tag_length,
        config.max_tags_per_entry,
    )
    for token in dropped:
        warnings.append(
            BuildWarning(DROPPED_TAG, where, f"hashtag {token!r} has no letters or digits; dropped")
        )
    if error:
        raise ParseError.at(where, error)
    return list(tags), list(labels)


@functools.lru_cache(maxsize=4096)
def _read_tags(
    tokens: tuple[str, ...],
    aliases: tuple[tuple[str, str], ...],
    max_tag_length: int,
    max_tags_per_entry: int,
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], str]:
    """:func:`parse_tags` without the place: ``(tags, labels, dropped hashtags, error)`` (the
    hashtags dropped before the error; ``error`` is ``""`` when there is none). Remembered:
    most tag lines repeat (``#untagged``, a field's usual tags)."""
    tags: list[str] = []
    labels: list[str] = []
    dropped: list[str] = []
    error = ""
    for token in tokens:
        checked = tag_slug(token)
        if checked.forbidden:
            shown = ", ".join(_char_name(ch) for ch in checked.forbidden[:5])
            error = (
                f"hashtag {_short(token)} holds {shown}: a tag is letters and digits of any "
                "script, with '-', '_', '.', '+' or '#' between them"
            )
            break
        if not has_tag_text(token):
            dropped.append(token)
            continue
        slug = normalize_tag(token, dict(aliases)) if aliases else checked.slug
        if len(slug) > max_tag_length:
            error = (
                f"hashtag {_short(token)} makes a tag of {len(slug)} characters, more than "
                f"max_tag_length ({max_tag_length})"
            )
            break
        if slug not in tags:
            tags.append(slug)
            labels.append(token)
    else:
        if len(tags) > max_tags_per_entry:
            error = (
                f"{len(tags)} distinct tags, more than max_tags_per_entry ({max_tags_per_entry})"
            )
    if error:
        return (), (), tuple(dropped), error
    return tuple(tags), tuple(labels), tuple(dropped), ""


def _short(token: str) -> str:
    return repr(token) if len(token) <= 40 else repr(token[:40]) + "…"


def _char_name(ch: str) -> str:
    """``U+200B ZERO WIDTH SPACE``: a character named, never printed raw (it may be a control)."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}"


def join_lines(texts: Iterable[str]) -> str:
    """A part's lines as one text: blank lines dropped, trailing spaces cut, ends stripped."""
    return "\n".join(t.rstrip() for t in texts if t.strip()).strip()


def missing_parts(
    where: str, noun: str, abstract: object, ko: object, en: object, level: Level = "warning"
) -> list[str]:
    """The warnings (or, with ``level="info"``, infos) for an entry (or note) without an
    abstract, a Korean or an English comment; ``noun`` names it in the message."""
    out: list[str] = []
    if not abstract:
        out.append(BuildWarning(NO_ABSTRACT, where, f"{noun} has no abstract", level))
    if not ko:
        out.append(BuildWarning(NO_KOREAN, where, f"{noun} has no Korean comment", level))
    elif not en:
        out.append(BuildWarning(NO_ENGLISH, where, f"{noun} has no English comment", level))
    return out


def entry_links(fields: Sequence[str]) -> list[str]:
    """Every URL of the title, abstract and comments, in order, each once."""
    return list(
        dict.fromkeys([link for text in fields if "://" in text for link in find_links(text)])
    )
