"""Third-party feed compatibility: digestfeed's reader, feedparser 6 and the reader library.

    .venv/bin/python bench/reader_compat.py [--fixtures tests/data/reader/thirdparty]

Every fixture of ``tests/data/reader/thirdparty/`` (MANIFEST.json names each file's
source) is read by the three, from disk and over HTTP on 127.0.0.1 (served with the
headers the manifest names), each in a fresh state:

- **digestfeed**: ``Reader(...).read([source], all=True)``; read = the source did not
  fail (and gave items when feedparser's reference, ``expected.json``, has entries);
  items = items shown (after digestfeed's dedupe).
- **feedparser 6**: ``feedparser.parse`` on the bytes (disk) or the URL (HTTP, feedparser
  fetching itself); read = it found a feed version or entries (bozo allowed, as feedparser
  users get); items = entries. feedparser 6.0 does not read JSON Feed.
- **reader 3.26** (lemon24): ``make_reader(":memory:", feed_root=<dir>)``, ``add_feed``,
  ``update_feeds()``; read = no ``last_exception`` and no update error; items = entries stored.

Hostile fixtures (entity bombs, XXE, a gzip bomb, deep JSON) count as *refused* when the
tool read no entries from them. Prints one Markdown table per mode, one row per corpus.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FIXTURES = ROOT / "tests" / "data" / "reader" / "thirdparty"
DEFAULT_TYPES = {
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".rdf": "application/rdf+xml",
    ".json": "application/feed+json",
    ".xml": "application/xml",
}
#: File-name prefix → corpus, in table order.
CORPORA = (
    ("fp_", "feedparser suite"),
    ("fr_", "feed-rs"),
    ("rp_", "rss-parser"),
    ("nfp_", "node-feedparser"),
    ("nnw_", "NetNewsWire"),
    ("lr_", "reader"),
    ("arxiv", "arXiv"),
    ("rfc4287_", "RFC 4287 example"),
    ("dx_", "defusedxml (hostile)"),
    ("syn_", "synthetic"),
)
TOOLS = ("digestfeed", "feedparser", "reader")


def corpus_of(name: str) -> str:
    return next(label for prefix, label in CORPORA if name.startswith(prefix))


def headers_for(name: str, manifest: dict[str, Any]) -> dict[str, str]:
    headers = {"Content-Type": DEFAULT_TYPES.get(Path(name).suffix, "application/xml")}
    headers.update(manifest[name].get("headers", {}))
    return headers


@contextlib.contextmanager
def serve(directory: Path, manifest: dict[str, Any]) -> Iterator[str]:
    """Serve the fixtures on 127.0.0.1 with their manifest headers; yield the base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = self.path.lstrip("/").split("?")[0]
            if name not in manifest:
                self.send_error(404)
                return
            body = (directory / name).read_bytes()
            self.send_response(200)
            for key, value in headers_for(name, manifest).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def with_digestfeed(source: str, tmp: Path) -> tuple[bool, int]:
    from digestfeed.reader import Reader

    state = tmp / f"df-{abs(hash(source))}.sqlite"
    with Reader(state, local_twins=False) as reader:
        result = reader.read([source], all=True)
    return not result.failures, len(result)


def with_feedparser(source: str, is_url: bool) -> tuple[bool, int]:
    import feedparser

    parsed = feedparser.parse(source if is_url else Path(source).read_bytes())
    entries = len(parsed.get("entries", ()))
    return bool(parsed.get("version") or entries), entries


def with_reader(source: str, root: Path) -> tuple[bool, int]:
    from reader import make_reader

    if not source.startswith("http"):
        source = Path(source).relative_to(root).as_posix()  # feed_root wants relative paths
    lib = make_reader(":memory:", feed_root=str(root))
    try:
        lib.add_feed(source)
        failed = False
        for update in lib.update_feeds_iter():
            if isinstance(update.value, Exception):
                failed = True
        feed = lib.get_feed(source)
        failed = failed or feed.last_exception is not None
        return not failed, sum(1 for _ in lib.get_entries(feed=source))
    finally:
        lib.close()


def run(fixtures: Path) -> dict[str, dict[str, dict[str, list[int]]]]:
    """``{mode: {corpus: {column: [count, ...]}}}`` (see :func:`table`)."""
    manifest: dict[str, Any] = json.loads((fixtures / "MANIFEST.json").read_text("utf-8"))
    expected: dict[str, Any] = json.loads((fixtures / "expected.json").read_text("utf-8"))
    out: dict[str, dict[str, dict[str, list[int]]]] = {}
    with tempfile.TemporaryDirectory() as tmpdir, serve(fixtures, manifest) as base:
        tmp = Path(tmpdir)
        for mode in ("file", "http"):
            rows: dict[str, dict[str, list[int]]] = {}
            for name in sorted(manifest):
                entry = manifest[name]
                if mode == "file" and entry.get("http_only"):
                    continue
                hostile = entry["expect"] == "refuse"
                source = base + name if mode == "http" else str(fixtures / name)
                row = rows.setdefault(
                    corpus_of(name),
                    {k: [0, 0] for k in ("files", *TOOLS)},
                )
                row["files"][1 if hostile else 0] += 1
                results = {
                    "digestfeed": with_digestfeed(source, tmp),
                    "feedparser": with_feedparser(source, mode == "http"),
                    "reader": with_reader(source, fixtures),
                }
                for tool, (ok, items) in results.items():
                    if hostile:
                        row[tool][1] += items == 0  # refused: nothing of it read
                    else:
                        row[tool][0] += ok and (items > 0 or not expected[name]["entries"])
                        row[tool].append(items)
            out[mode] = rows
    return out


def table(rows: dict[str, dict[str, list[int]]]) -> str:
    """One Markdown row per corpus: files (readable + hostile), then per tool feeds read
    of the readable ones, items, and hostile files refused."""
    head = "| corpus | files (read + hostile) | " + " | ".join(
        f"{t}: feeds read | {t}: items | {t}: hostile refused" for t in TOOLS
    )
    lines = [head + " |", "|" + "---|" * (2 + 3 * len(TOOLS))]
    total = {k: [0, 0, 0] for k in TOOLS}
    files = [0, 0]
    order = [label for _, label in CORPORA]
    for corpus in order:
        row = rows.get(corpus)
        if row is None:
            lines.append(f"| {corpus} | 0 (no fixture) |" + " — |" * (3 * len(TOOLS)))
            continue
        readable, hostile = row["files"][0], row["files"][1]
        files[0] += readable
        files[1] += hostile
        cells = [corpus, f"{readable} + {hostile}"]
        for tool in TOOLS:
            read, refused, items = row[tool][0], row[tool][1], sum(row[tool][2:])
            total[tool][0] += read
            total[tool][1] += items
            total[tool][2] += refused
            cells += [f"{read}/{readable}", str(items), f"{refused}/{hostile}" if hostile else "—"]
        lines.append("| " + " | ".join(cells) + " |")
    cells = ["**all**", f"{files[0]} + {files[1]}"]
    for tool in TOOLS:
        read, items, refused = total[tool]
        cells += [f"**{read}/{files[0]}**", f"**{items}**", f"**{refused}/{files[1]}**"]
    lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    args = parser.parse_args(argv)
    import feedparser
    import reader

    warnings.simplefilter("ignore")
    results = run(args.fixtures)
    print(
        f"Fixtures: {args.fixtures.relative_to(ROOT) if args.fixtures.is_relative_to(ROOT) else args.fixtures}"
        f" · feedparser {feedparser.__version__} · reader {reader.__version__}\n"
    )
    for mode, title in (("file", "From disk"), ("http", "Over HTTP (127.0.0.1)")):
        print(f"### {title}\n")
        print(table(results[mode]))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
