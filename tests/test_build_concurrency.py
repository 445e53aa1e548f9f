"""Two `digestfeed build`s of one directory at once: no torn file, serialised by the lock.

Build A runs in a subprocess whose first rename of the swap is followed by a pause (it
signals the test and waits for a release file), so the test looks at ``feeds/`` and starts
build B while A is exactly mid-swap. Nothing here depends on timing: every wait is for a
state (a file appearing, a process exiting) with a generous upper bound, never for a
duration that is assumed to be long enough.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from lxml import etree

from sitebuild import NOW, SMALL, build_site, synthetic_digests

BOUND = 60.0  #: upper bound of every wait; reached only when something is broken

#: Build A: after the first staged file is renamed into place, signal and wait for release.
_PAUSED_BUILD = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from digestfeed import publish
    signal, release = Path(os.environ["DF_SIGNAL"]), Path(os.environ["DF_RELEASE"])
    real_replace = os.replace
    paused = []
    def replace(src, dst, *args, **kwargs):
        real_replace(src, dst, *args, **kwargs)
        if not paused and publish.STAGING in os.fspath(src):  # the swap's first rename
            paused.append(dst)
            tmp = Path(str(signal) + ".tmp")
            tmp.write_text(os.fspath(dst))
            real_replace(tmp, signal)  # the test never reads a half-written signal
            deadline = time.monotonic() + float(os.environ["DF_BOUND"])
            while not release.exists():
                if time.monotonic() > deadline:
                    os._exit(97)  # never released: the test went wrong; do not hang
                time.sleep(0.01)
    os.replace = replace
    from digestfeed.cli import main
    main(sys.argv[1:])
""")

#: Build B: unchanged, except that each flock attempt is reported (refused → a file).
_OBSERVED_BUILD = textwrap.dedent("""
    import fcntl, os, sys
    from pathlib import Path
    refused, acquired = Path(os.environ["DF_REFUSED"]), Path(os.environ["DF_ACQUIRED"])
    real_flock = fcntl.flock
    def flock(fd, op):
        try:
            real_flock(fd, op)
        except BlockingIOError:
            refused.touch()
            raise
        if op & fcntl.LOCK_EX:
            acquired.touch()
    fcntl.flock = flock
    from digestfeed.cli import main
    main(sys.argv[1:])
""")


def _build_args(site: Path) -> list[str]:
    return [
        "--config",
        str(site / "digestfeed.toml"),
        "build",
        "--entries",
        str(site / "entries"),
        "--out",
        str(site / "feeds"),
        "--now",
        NOW,
        "-q",
        "--no-cache",
    ]


def _files(out: Path) -> dict[str, bytes]:
    """Every file below ``out`` (the staging directory included, were it left) → bytes."""
    return {
        p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
    }


def _assert_whole(out: Path) -> None:
    """Every XML and JSON file in ``out`` (outside the staging directory) parses completely."""
    strict = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=False)
    checked = 0
    for rel, data in _files(out).items():
        if rel.startswith("."):
            continue
        if rel.endswith((".atom", ".rss", ".opml")):
            etree.fromstring(data, strict)  # raises XMLSyntaxError on a torn file
            checked += 1
        elif rel.endswith(".json"):
            json.loads(data)
            checked += 1
    assert checked > 50, f"only {checked} feed files in {out}"


def _wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + BOUND
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


def test_concurrent_builds_never_tear_a_file_and_wait_for_each_other(tmp_path):
    """A build paused mid-swap leaves only whole files and holds the lock; a second build
    waits for it, and together they end exactly as one clean build."""
    digests = synthetic_digests()
    names = sorted(digests)
    config = SMALL + f'cache_dir = "{tmp_path / "cache"}"\n'
    clean = _files(build_site(tmp_path / "clean", digests, config=config))
    clean_ledger = (tmp_path / "clean" / "entries" / ".ledger.json").read_bytes()

    # an older site (three months of digests) that A and B both update to the full one
    site = tmp_path / "site"
    old = _files(build_site(site, {n: digests[n] for n in names[:9]}, config=config))
    for name in names[9:]:
        (site / "entries" / name).write_text(digests[name], encoding="utf-8")
    out = site / "feeds"
    signal, release = tmp_path / "a-paused", tmp_path / "a-release"
    refused, acquired = tmp_path / "b-refused", tmp_path / "b-acquired"
    env = {
        **os.environ,
        "DF_SIGNAL": str(signal),
        "DF_RELEASE": str(release),
        "DF_BOUND": str(BOUND),
        "DF_REFUSED": str(refused),
        "DF_ACQUIRED": str(acquired),
    }
    run = {
        "cwd": site,
        "env": env,
        "stdout": subprocess.PIPE,
        "stderr": subprocess.PIPE,
        "text": True,
    }
    a = subprocess.Popen([sys.executable, "-c", _PAUSED_BUILD, *_build_args(site)], **run)
    b = None
    try:
        _wait_for(
            lambda: signal.exists() or a.poll() is not None, "build A to reach its first rename"
        )
        assert signal.exists(), f"A ended without pausing (exit {a.poll()}): {a.stderr.read()}"
        first = Path(signal.read_text()).relative_to(out).as_posix()

        # (a) A is mid-swap: one file is new, every other one is still the old build's, all whole
        during = {rel: data for rel, data in _files(out).items() if not rel.startswith(".")}
        assert during[first] == clean[first] != old.get(first)
        assert {rel for rel in during if during[rel] != old.get(rel)} == {first}
        _assert_whole(out)

        # (b) B is refused the lock while A holds it, and keeps waiting
        b = subprocess.Popen([sys.executable, "-c", _OBSERVED_BUILD, *_build_args(site)], **run)
        _wait_for(
            lambda: refused.exists() or acquired.exists() or b.poll() is not None,
            "build B to try the lock",
        )
        assert refused.exists() and not acquired.exists(), (
            f"A's lock did not hold B back (B refused: {refused.exists()}, B locked: {acquired.exists()}, "
            f"B exit: {b.poll()})"
        )
        for _ in range(3):
            assert b.poll() is None and not acquired.exists(), (
                "B went past the lock while A held it"
            )
            _assert_whole(out)
    finally:
        release.touch()
        for proc in (a, b):
            if proc is not None:
                try:
                    proc.wait(timeout=BOUND)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    a_err = a.communicate()[1]
    b_err = b.communicate()[1]
    assert a.returncode == 0, a_err
    assert b.returncode == 0, b_err
    assert acquired.exists()  # B did build, after A
    _assert_whole(out)
    assert _files(out) == clean  # no staging directory left, every file the clean build's bytes
    assert (site / "entries" / ".ledger.json").read_bytes() == clean_ledger
