"""The vault's layout: which files are notes, which day each belongs to, and its copies.

An Obsidian vault keeps its notes in folders at any depth (``arXiv/2017/…``, ``arXiv/2025/…``,
a few loose notes at the top). A note's **file name** is its identity and its only date
(``YYMMDD Title.md``, or a bare ``YYMMDD.md`` whose title is in its text); its folder is
just where it lives, so a note moved into a year folder is the same note.

What is not read, and what is said about it:

* Obsidian's own folders and every hidden name (``.obsidian/``, ``.trash/``, ``.git/``): not
  read, not mentioned. The template folders (the config's ``vault_template_folders``, plus
  the folder named in Obsidian's ``.obsidian/templates.json`` and the Templater plugin's
  settings): not read, not mentioned.
* Files that are not ``*.md``: not notes (attachments, canvases), not mentioned.
* Symbolic links, devices, FIFOs (refused by :mod:`digestfeed.sources.files`): skipped, one
  warning each.
* A note whose name carries no valid date: skipped, one warning naming the date sources
  considered.
* Two notes with one file name in different folders: both read (one paper, or two), with a
  warning naming both.

Copies of one day (Obsidian's ``X 1.md`` beside ``X.md``) are decided in
:func:`same_day_copies`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from ..config import Config
from ..errors import ParseError
from ..types import BuildWarning
from .files import list_source_files, read_source_file

__all__ = [
    "SETTINGS_FILES",
    "NoteFile",
    "VaultListing",
    "list_vault",
    "note_file",
    "same_day_copies",
    "template_folders",
]

#: Warning kinds of the vault's layout (see :class:`~digestfeed.types.BuildWarning`).
UNDATED = "undated note"
REFUSED = "refused file"
SAME_NAME = "same file name"
IDENTICAL = "identical copies"

_DATED = re.compile(r"^(\d{2})(\d{2})(\d{2})(?:\s+(.*?))?\s*$")
_DIGITS = re.compile(r"^\d{6}(?!\d)")
#: Obsidian's settings files that name a template folder, and the key holding it.
_TEMPLATE_SETTINGS = (
    (".obsidian/templates.json", "folder"),
    (".obsidian/plugins/templater-obsidian/data.json", "templates_folder"),
)
_SETTINGS_MAX_BYTES = 256 * 1024
#: The hidden files a vault listing depends on (the no-change shortcut watches them too).
SETTINGS_FILES = tuple(relative for relative, _ in _TEMPLATE_SETTINGS)


@dataclasses.dataclass(frozen=True, slots=True)
class NoteFile:
    """A note's file: where it is, its day (``YYYY-MM-DD``) and the title its name gives
    (``""`` for a bare ``YYMMDD.md``: the title is the note's own title line)."""

    path: Path
    day: str
    title: str

    @property
    def bare(self) -> bool:
        """A bare ``YYMMDD.md``: the name is only a date."""
        return not self.title


def note_file(path: Path) -> NoteFile | None:
    """``240422 SnapKV.md`` → day ``2024-04-22``, title ``SnapKV``; ``250311.md`` → day
    ``2025-03-11``, title ``""``; ``None`` when the name holds no valid ``YYMMDD``."""
    m = _DATED.match(path.stem)
    if not m:
        return None
    yy, mm, dd, title = m.groups()
    try:
        day = dt.date(2000 + int(yy), int(mm), int(dd)).isoformat()
    except ValueError:
        return None
    return NoteFile(path, day, title or "")


def undated_reason(path: Path) -> str:
    """Why a note cannot be dated, naming the date sources considered."""
    digits = _DIGITS.match(path.stem)
    if digits:
        found = f"its name starts with {digits.group(0)!r}, not a valid YYMMDD date"
    else:
        found = "its name does not start with a YYMMDD date"
    return (
        f"note skipped: {found} (a note is dated by its file name only, 'YYMMDD Title.md' or "
        "'YYMMDD.md'; its folders and text are not read for a date)"
    )


def template_folders(directory: Path, config: Config) -> list[PurePosixPath]:
    """The vault's template folders (relative to ``directory``): the config's
    ``vault_template_folders`` and those Obsidian's own settings name."""
    found = [PurePosixPath(f.strip("/")) for f in config.vault_template_folders if f.strip("/")]
    for relative, key in _TEMPLATE_SETTINGS:
        settings = directory / relative
        if not settings.is_file():
            continue
        try:
            data = json.loads(read_source_file(settings, _SETTINGS_MAX_BYTES))
        except (ParseError, ValueError):  # unreadable or not JSON: Obsidian's business
            continue
        folder = data.get(key) if isinstance(data, dict) else None
        if isinstance(folder, str) and folder.strip("/"):
            found.append(PurePosixPath(folder.strip("/")))
    return sorted(set(found))


@dataclasses.dataclass(frozen=True, slots=True)
class VaultListing:
    """The dated notes of a vault (sorted by day, then file name) and what the listing says."""

    notes: tuple[NoteFile, ...]
    warnings: tuple[BuildWarning, ...]


def list_vault(directory: Path, config: Config) -> VaultListing:
    """Every note of the vault at any depth, dated, with the warnings of :mod:`this module
    <digestfeed.sources.vault>`. Raises :class:`ParseError` when ``directory`` is not a
    directory."""
    listing = list_source_files(directory, "*.md", recursive=True)
    templates = template_folders(directory, config)
    warnings: list[BuildWarning] = [
        BuildWarning(REFUSED, str(r.path), f"{r.reason}; note skipped") for r in listing.refused
    ]
    notes: list[NoteFile] = []
    for path in listing.files:
        relative = PurePosixPath(path.relative_to(directory).as_posix())
        if any(folder in relative.parents for folder in templates):
            continue
        note = note_file(path)
        if note is None:
            warnings.append(BuildWarning(UNDATED, f"{path}:1", undated_reason(path)))
        else:
            notes.append(note)
    notes.sort(key=lambda n: (n.day, n.path.stem, n.path.name, n.path.as_posix()))
    warnings.extend(_same_names(notes))
    return VaultListing(tuple(notes), tuple(warnings))


def _same_names(notes: Iterable[NoteFile]) -> list[BuildWarning]:
    by_name: dict[str, list[NoteFile]] = {}
    for note in notes:
        by_name.setdefault(note.path.name, []).append(note)
    out = []
    for name, group in by_name.items():
        for other in group[1:]:
            out.append(
                BuildWarning(
                    SAME_NAME,
                    f"{other.path}:1",
                    f"another note is named {name!r} ({group[0].path}); both are read, and "
                    "their ids follow the name and the text, never the folder",
                )
            )
    return out


def normalised(text: str) -> str:
    """A note's text with every run of white space one space, ends stripped."""
    return " ".join(text.split())


def same_day_copies(
    notes: Sequence[tuple[NoteFile, str]],
) -> tuple[list[tuple[NoteFile, str]], list[BuildWarning]]:
    """Notes of one day → the ones to publish and a warning per identical copy dropped.

    Notes whose texts are identical after white-space normalisation are one entry: the
    first (in file-name order) is kept and each copy is a warning naming both files.
    Copies that differ are all kept (their ids are made unique later, with a warning).
    """
    kept: list[tuple[NoteFile, str]] = []
    first: dict[str, NoteFile] = {}
    warnings: list[BuildWarning] = []
    for note, text in notes:
        key = normalised(text)
        original = first.get(key)
        if original is None:
            first[key] = note
            kept.append((note, text))
            continue
        same = "identical" if text == _text_of(notes, original) else "identical but for white space"
        warnings.append(
            BuildWarning(
                IDENTICAL,
                f"{note.path}:1",
                f"{same} to {original.path} (same day); published once, as {original.path.name}",
            )
        )
    return kept, warnings


def _text_of(notes: Sequence[tuple[NoteFile, str]], wanted: NoteFile) -> str:
    return next(text for note, text in notes if note is wanted)
