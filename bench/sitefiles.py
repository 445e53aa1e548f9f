"""What the benchmarks measure of a built site, shared by ``run.py`` and ``real.py``."""

from __future__ import annotations

import os
from pathlib import Path


def tree_size(directory: Path) -> tuple[int, int]:
    """(bytes, files) of a published tree: every file not hidden, not under a hidden dir."""
    total = count = 0
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.startswith("."):
                total += os.stat(os.path.join(root, name)).st_size
                count += 1
    return total, count


def compare_sets(a: Path, b: Path) -> str:
    """Cross-check two Atom sets: the same file names, the same entry ids in the same order."""
    from lxml import etree

    atom = "{http://www.w3.org/2005/Atom}"

    def ids(path: Path) -> list[str | None]:
        out = []
        for _, el in etree.iterparse(str(path), tag=f"{atom}entry"):
            out.append(el.findtext(f"{atom}id"))
            el.clear()
        return out

    names_a = {p.relative_to(a).as_posix() for p in a.rglob("*.atom")}
    names_b = {p.relative_to(b).as_posix() for p in b.rglob("*.atom")}
    if names_a != names_b:
        return f"DIFFERENT feed names ({len(names_a ^ names_b)} differ)"
    bad = [n for n in sorted(names_a) if ids(a / n) != ids(b / n)]
    if bad:
        return f"DIFFERENT entries in {len(bad)} feeds, e.g. {bad[0]}"
    return f"same {len(names_a)} feeds, same entries in the same order"
