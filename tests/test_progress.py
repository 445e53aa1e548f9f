"""`digestfeed build`'s progress bar: drawn on a terminal, never with -q or into a pipe.

The build runs in a subprocess whose stderr is the slave side of a real pseudo-terminal
(or a pipe); the summary line on stdout is checked against counts taken from the input.
"""

from __future__ import annotations

import errno
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sitebuild import NOW, SMALL, synthetic_digests

DIGESTS = synthetic_digests()
CLI = "import sys; from digestfeed.cli import main; main(sys.argv[1:], prog_name='digestfeed')"


@pytest.fixture
def unbuilt_site(tmp_path: Path) -> Path:
    """The synthetic digests (12 digests, 24 entries) with the small config, not yet built."""
    entries = tmp_path / "entries"
    entries.mkdir()
    for name, text in DIGESTS.items():
        (entries / name).write_text(text, encoding="utf-8")
    (tmp_path / "digestfeed.toml").write_text(
        SMALL + f'cache_dir = "{tmp_path / "cache"}"\n', encoding="utf-8"
    )
    return tmp_path


def _build(project: Path, *extra: str, tty: bool) -> tuple[int, str, str]:
    """Run `digestfeed build` with stderr on a pty (``tty``) or a pipe → (exit, stdout, stderr)."""
    args = [
        sys.executable,
        "-c",
        CLI,
        "--config",
        str(project / "digestfeed.toml"),
        "build",
        "--entries",
        str(project / "entries"),
        "--out",
        str(project / "feeds"),
        "--now",
        NOW,
        "--no-cache",
        *extra,
    ]
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    if not tty:
        proc = subprocess.run(
            args, check=False, cwd=project, env=env, capture_output=True, text=True, timeout=60
        )
        return proc.returncode, proc.stdout, proc.stderr
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            args,
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
        )
        os.close(slave)
        slave = -1
        err = bytearray()
        while True:  # until EOF: the child (the slave's only holder) has exited
            try:
                chunk = os.read(master, 4096)
            except OSError as exc:
                if exc.errno != errno.EIO:  # Linux reports the slave's close as EIO
                    raise
                break
            if not chunk:
                break
            err += chunk
        out = proc.stdout.read()
        proc.stdout.close()
        code = proc.wait(timeout=60)
    finally:
        os.close(master)
        if slave != -1:
            os.close(slave)
    return code, out.decode(), err.decode(errors="replace")


def _no_bar(stderr: str) -> None:
    assert "rendering" not in stderr
    assert not re.search(r"\d+%", stderr)
    assert not re.search(r"\[[#-]+\]", stderr)  # click draws the bar as [####----]


def _expected_summary(project: Path) -> str:
    """The summary of a first build, its counts taken from the digests and the output."""
    entries = sum(text.count("\n#") for text in DIGESTS.values())  # one tag line per entry
    tags = {
        t[1:].lower().replace("_", "-")
        for text in DIGESTS.values()
        for line in text.splitlines()
        if line.startswith("#")
        for t in line.split()
    }
    feeds = 3 * (1 + len(tags))  # all + one per tag, each in ko+en, ko and en
    files = sum(1 for p in (project / "feeds").rglob("*") if p.is_file())
    return (
        f"{len(DIGESTS)} digests, {entries} entries, {feeds} feeds, {files} files: "
        f"{files} changed ({files} written, 0 removed); ledger updated"
    )


def test_bar_is_drawn_when_stderr_is_a_terminal(unbuilt_site):
    """With stderr a terminal the 'rendering' bar runs to 100%; stdout's summary has the exact counts."""
    code, out, err = _build(unbuilt_site, tty=True)
    assert code == 0, err
    assert "rendering" in err
    assert "100%" in err
    assert out.splitlines()[0] == _expected_summary(unbuilt_site)
    assert _expected_summary(unbuilt_site).startswith("12 digests, 24 entries, 21 feeds, ")


def test_quiet_draws_no_bar_even_on_a_terminal(unbuilt_site):
    """-q on a terminal: no bar, and nothing at all on stdout."""
    code, out, err = _build(unbuilt_site, "-q", tty=True)
    assert code == 0, err
    _no_bar(err)
    assert out == ""
    assert (unbuilt_site / "feeds" / "all.atom").is_file()


def test_no_bar_when_stderr_is_a_pipe(unbuilt_site):
    """With stderr a pipe: no bar (nor its label), and the same summary on stdout."""
    code, out, err = _build(unbuilt_site, tty=False)
    assert code == 0, err
    _no_bar(err)
    assert out.splitlines()[0] == _expected_summary(unbuilt_site)
