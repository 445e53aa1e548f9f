"""Write expected.json: feedparser's own reading of every readable fixture, the reference.

Run from the repository root after changing a fixture or MANIFEST.json:

    .venv/bin/python tests/data/reader/thirdparty/make_expected.py

Each readable file's exact bytes go to ``feedparser.parse`` with the response headers the
manifest says the file is served with (``Content-Type`` defaults to what the test server
sends). Recorded per file: feedparser's version string, bozo flag, and per entry its
``id``, ``link``, ``title`` and tag terms, exactly as feedparser gives them (missing -> null).

feedparser 6.0 does not read JSON Feed (it returns no entries, bozo), so for ``.json``
files the reference entries are the JSON Feed 1.0/1.1 fields themselves (``id``, ``url``,
``title``, ``tags``) and feedparser's empty answer is kept beside them under ``feedparser``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import feedparser

HERE = Path(__file__).resolve().parent
#: What the test HTTP server sends when the manifest names no Content-Type.
DEFAULT_TYPES = {
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".rdf": "application/rdf+xml",
    ".json": "application/feed+json",
    ".xml": "application/xml",
}


def served_headers(name: str, entry: dict[str, Any]) -> dict[str, str]:
    """The response headers the fixture is served with (manifest first, then by extension)."""
    headers = {"Content-Type": DEFAULT_TYPES.get(Path(name).suffix, "application/xml")}
    headers.update(entry.get("headers", {}))
    return headers


def reading(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """feedparser's result for one fixture."""
    body = (HERE / name).read_bytes()
    headers = {k.lower(): v for k, v in served_headers(name, entry).items()}
    headers.pop("content-encoding", None)
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False)
    return {
        "version": parsed.get("version", ""),
        "bozo": int(bool(parsed.get("bozo"))),
        "encoding": parsed.get("encoding"),
        "entries": [
            {
                "id": e.get("id"),
                "link": e.get("link"),
                "title": e.get("title"),
                "tags": [t.get("term") for t in e.get("tags", [])],
            }
            for e in parsed.entries
        ],
    }


def json_feed_reading(name: str) -> dict[str, Any]:
    """The reference for a JSON Feed: its items' fields as the JSON Feed spec defines them."""
    doc = json.loads((HERE / name).read_bytes())
    version = {
        "https://jsonfeed.org/version/1": "json1",
        "https://jsonfeed.org/version/1.1": "json11",
    }
    return {
        "version": version.get(doc.get("version"), ""),
        "bozo": 0,
        "encoding": "utf-8",
        "entries": [
            {
                "id": None if item.get("id") is None else str(item["id"]),
                "link": item.get("url"),
                "title": item.get("title"),
                "tags": list(item.get("tags", [])),
            }
            for item in doc.get("items", [])
        ],
    }


def expected(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The reference for one readable fixture (feedparser's, or the JSON Feed spec's)."""
    if Path(name).suffix == ".json":
        return {
            **json_feed_reading(name),
            "reference": "json-feed-spec",
            "feedparser": reading(name, entry),
        }
    return {**reading(name, entry), "reference": "feedparser"}


def main() -> int:
    manifest = json.loads((HERE / "MANIFEST.json").read_text(encoding="utf-8"))
    out = {
        "_about": f"feedparser {feedparser.__version__} on each readable fixture's exact bytes",
        **{n: expected(n, e) for n, e in manifest.items() if e["expect"] == "read"},
    }
    text = json.dumps(out, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    (HERE / "expected.json").write_text(text, encoding="utf-8")
    print(f"{len(out) - 1} files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
