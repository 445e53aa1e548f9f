"""The shared data types: one home (digestfeed.types), importable from the package, cheap."""

from __future__ import annotations

import subprocess
import sys

import digestfeed
import digestfeed.types as types

PUBLIC = (
    "Digest",
    "Document",
    "Entry",
    "FeedSet",
    "FileSpec",
    "LazyOutput",
    "Output",
    "Source",
    "Timed",
)


def test_package_exports_the_types_module_objects() -> None:
    """`from digestfeed import Digest, …` gives the very classes defined in digestfeed.types."""
    for name in PUBLIC:
        assert name in digestfeed.__all__
        assert getattr(digestfeed, name) is getattr(types, name)
        assert getattr(types, name).__module__ == "digestfeed.types"


def test_types_module_imports_no_other_digestfeed_module() -> None:
    """Importing digestfeed.types pulls in nothing of digestfeed beyond the package and errors (no cycle, no cost)."""
    code = (
        "import sys, digestfeed.types\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('digestfeed'))\n"
        "assert loaded == ['digestfeed', 'digestfeed.errors', 'digestfeed.types'], loaded\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_filespec_is_the_three_tuple_outputs_used() -> None:
    """A FileSpec unpacks and compares like the (path, fingerprint, render) tuple it names."""
    render = bytes
    spec = types.FileSpec("all.xml", "abc", render)
    path, fingerprint, fn = spec
    assert (path, fingerprint, fn) == ("all.xml", "abc", render) == tuple(spec)
    assert spec.path == "all.xml" and spec.fingerprint == "abc" and spec.render is render


def test_sources_share_public_line_rules() -> None:
    """The vault source uses the digest's line rules from sources.lines, not private names of the parser."""
    import digestfeed.sources.digest as digest
    import digestfeed.sources.lines as lines
    import digestfeed.sources.notes as notes

    for name in ("is_tag_line", "is_authors_line", "split_authors", "split_parts", "parse_tags"):
        assert getattr(notes, name) is getattr(lines, name)
    assert digest.is_tag_line is lines.is_tag_line
    assert notes.CONTROL is lines.CONTROL
