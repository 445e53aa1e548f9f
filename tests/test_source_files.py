"""Sources read regular files only, size-capped, and never echo what they refuse."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from digestfeed.cli import main
from digestfeed.config import Config
from digestfeed.errors import ParseError, ParseErrors, RefusedFileError
from digestfeed.sources.digest import parse_digest, read_digest_dir
from digestfeed.sources.files import list_source_files, read_source_file
from digestfeed.sources.notes import read_notes

SECRET = "TOP-SECRET-VALUE-4711"


@pytest.fixture
def entries(tmp_path: Path, seed_path: Path) -> Path:
    folder = tmp_path / "entries"
    folder.mkdir()
    (folder / "2025-05-08.txt").write_bytes(seed_path.read_bytes())
    return folder


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    path = outside / "environ.txt"
    path.write_text(f"HOME=/root\nAWS_SECRET={SECRET}\n#{SECRET}\n", encoding="utf-8")
    return path


def test_listing_keeps_regular_files_and_refuses_links_and_fifos(
    entries: Path, secret_file: Path
) -> None:
    """A symlink and a FIFO named *.txt are refused (with their kind), a regular file is listed."""
    (entries / "2025-05-09.txt").symlink_to(secret_file)
    os.mkfifo(entries / "2025-05-10.txt")
    (entries / ".hidden.txt").write_text("x", encoding="utf-8")
    (entries / "notes.md").write_text("x", encoding="utf-8")
    listing = list_source_files(entries, "*.txt")
    assert [p.name for p in listing.files] == ["2025-05-08.txt"]
    reasons = {r.path.name: r.reason for r in listing.refused}
    assert set(reasons) == {"2025-05-09.txt", "2025-05-10.txt"}
    assert "symbolic link" in reasons["2025-05-09.txt"]
    assert "FIFO" in reasons["2025-05-10.txt"]


def test_recursive_listing_never_enters_a_linked_folder(tmp_path: Path, secret_file: Path) -> None:
    """Walking a vault, a sub-folder is entered but a symlink to a folder is refused, not walked."""
    vault = tmp_path / "vault"
    (vault / "sub").mkdir(parents=True)
    (vault / "sub" / "a.md").write_text("a", encoding="utf-8")
    (vault / "linked").symlink_to(secret_file.parent, target_is_directory=True)
    (secret_file.parent / "b.md").write_text("b", encoding="utf-8")
    listing = list_source_files(vault, "*.md", recursive=True)
    assert [p.relative_to(vault).as_posix() for p in listing.files] == ["sub/a.md"]
    assert [r.path.name for r in listing.refused] == ["linked"]


def test_reading_a_symlink_is_refused_without_its_content(
    tmp_path: Path, secret_file: Path
) -> None:
    """read_source_file never follows a link (O_NOFOLLOW) and the error holds no byte of the target."""
    link = tmp_path / "link.txt"
    link.symlink_to(secret_file)
    with pytest.raises(RefusedFileError) as caught:
        read_source_file(link)
    assert "symbolic link" in str(caught.value)
    assert SECRET not in str(caught.value) and str(secret_file) not in str(caught.value)


def test_reading_a_device_is_refused_at_once() -> None:
    """/dev/zero is refused as a device instead of being read until memory runs out."""
    with pytest.raises(RefusedFileError, match="a device"):
        read_source_file("/dev/zero")


def test_reading_a_fifo_does_not_block(tmp_path: Path) -> None:
    """A FIFO with no writer is refused (opened non-blocking), not waited on."""
    fifo = tmp_path / "x.txt"
    os.mkfifo(fifo)
    with pytest.raises(RefusedFileError, match="FIFO"):
        read_source_file(fifo)


def test_reading_a_socket_is_refused(tmp_path: Path) -> None:
    """A Unix socket in a source folder is listed as refused."""
    folder = tmp_path / "s"
    folder.mkdir()
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(folder / "x.txt"))
        listing = list_source_files(folder, "*.txt")
    assert listing.files == () and "socket" in listing.refused[0].reason


def test_reading_is_capped(tmp_path: Path) -> None:
    """A file one byte over the cap is refused naming the config key; one at the cap is read."""
    path = tmp_path / "big.txt"
    path.write_bytes(b"a" * 100)
    assert read_source_file(path, 100) == b"a" * 100
    with pytest.raises(RefusedFileError, match="max_file_bytes"):
        read_source_file(path, 99)


def test_a_missing_file_is_a_parse_error_naming_it(tmp_path: Path) -> None:
    """A file that vanished is a ParseError naming its path, not an OSError traceback."""
    with pytest.raises(ParseError, match=r"gone\.txt: cannot read"):
        read_source_file(tmp_path / "gone.txt")


def test_digest_folder_with_a_symlink_is_an_error_publishing_nothing(
    entries: Path, secret_file: Path
) -> None:
    """A merged symlink to a file outside the repo fails the build naming the link; no secret leaks."""
    (entries / "2025-05-09.txt").symlink_to(secret_file)
    result = CliRunner().invoke(main, ["build", "--source", f"digest={entries}", "--out", "feeds"])
    assert result.exit_code == 2, result.output
    assert "2025-05-09.txt: refused: a symbolic link" in result.output
    assert SECRET not in result.output and "Traceback" not in result.output
    assert not Path("feeds").exists()


def test_a_symlink_and_a_broken_digest_are_reported_together(
    entries: Path, secret_file: Path
) -> None:
    """A refused link does not hide the other files' errors: one run names them all, by file."""
    (entries / "2025-05-09.txt").symlink_to(secret_file)
    (entries / "2025-05-10.txt").write_text("2025-05-10\nTitle without authors\n#rl\n")
    with pytest.raises(ParseErrors) as caught:
        read_digest_dir(entries, Config())
    assert [(Path(e.path).name, e.line) for e in caught.value.errors] == [
        ("2025-05-09.txt", None),
        ("2025-05-10.txt", 2),
    ]
    assert isinstance(caught.value.errors[0], RefusedFileError)


def test_proc_environ_never_reaches_an_error(entries: Path) -> None:
    """A link to /proc/self/environ is refused by kind; none of its bytes appear in the message."""
    (entries / "2025-05-09.txt").symlink_to("/proc/self/environ")
    with pytest.raises(ParseErrors) as caught:
        read_digest_dir(entries, Config())
    first = Path("/proc/self/environ").read_bytes().split(b"\0")[0].decode("utf-8", "replace")
    assert "refused: a symbolic link" in str(caught.value)
    assert first and first not in str(caught.value)


def test_oversized_digest_is_an_error(entries: Path) -> None:
    """A digest larger than max_file_bytes is refused naming the file and the key."""
    big = entries / "2025-05-09.txt"
    big.write_bytes(b"2025-05-09\n" + b"x" * 2048)
    with pytest.raises(ParseErrors, match=r"2025-05-09.txt: refused: larger than 1024 bytes"):
        read_digest_dir(entries, Config(max_file_bytes=1024))
    with pytest.raises(RefusedFileError):
        parse_digest(big, Config(max_file_bytes=1024))


def test_vault_skips_a_linked_note_with_a_warning(tmp_path: Path, secret_file: Path) -> None:
    """A symlinked note is not read: it is skipped with a warning naming it, never its target."""
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "240508 Linked.md").symlink_to(secret_file)
    digests, skipped = read_notes(vault, Config())
    assert digests == []
    assert len(skipped) == 1 and "240508 Linked.md: a symbolic link" in skipped[0]
    assert SECRET not in skipped[0]
