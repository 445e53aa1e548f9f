"""Example digestfeed plugins: a ``jsonl`` source (one JSON entry per line, one file per
day named ``YYYY-MM-DD.jsonl``) and a ``csv`` output (one row per entry)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from digestfeed import Digest, Entry
from digestfeed.config import Config
from digestfeed.errors import ParseError, ParseErrors
from digestfeed.model import entry_id, normalize_tag


class JsonlSource:
    """``{"title": …, "authors": […], "comment_ko": …, "tags": ["#rl"]}`` per line."""

    name = "jsonl"

    def read(self, directory: Path, config: Config) -> list[Digest]:
        digests, errors = [], []
        for path in sorted(Path(directory).glob("*.jsonl")):
            date = path.stem
            entries = []
            for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                    title = obj["title"]
                except (ValueError, KeyError) as exc:
                    errors.append(ParseError(str(path), no, f"bad entry: {exc}"))
                    continue
                labels = tuple(obj.get("tags", ()))
                entries.append(
                    Entry(
                        id=entry_id(config.tag_authority, config.tag_date, date, title),
                        date=date,
                        title=title,
                        authors=tuple(obj.get("authors", ())),
                        abstract=obj.get("abstract", ""),
                        comment_ko=obj.get("comment_ko", ""),
                        comment_en=obj.get("comment_en", ""),
                        tags=tuple(normalize_tag(t, config.tag_aliases) for t in labels),
                        links=(),
                        source=f"{path}:{no}",
                        tag_labels=labels,
                        position=len(entries),
                    )
                )
            digests.append(Digest(str(path), date, tuple(entries)))
        if errors:
            raise ParseErrors(errors)
        return digests


class CsvOutput:
    """``entries.csv``: id, date, title, tags."""

    name = "csv"

    def render(self, feedset, config: Config) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["id", "date", "title", "tags"])
        for timed in feedset.entries:
            e = timed.entry
            writer.writerow([e.id, e.date, e.title, " ".join(e.tags)])
        return {"entries.csv": buf.getvalue().encode("utf-8")}
