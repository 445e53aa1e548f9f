"""The planner against its definition: every feed laid out on its own, sorted on its own.

The planner sorts the whole set once per order and filters it per tag, and lays a tag's
three language feeds out once; these tests compare it with the plain definition (each
feed sorted by itself, split by itself) on random sets: times with ties and several
offsets, tags with skew, entries without seq, pages already written, edits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from digestfeed.config import Config
from digestfeed.plan import LANGS, feed_title, plan
from digestfeed.types import Document, Entry, Feed, Timed, shared_timezone

START = dt.datetime(2025, 1, 1, 9, tzinfo=dt.UTC)
TAGS = ("rl", "llm", "cv", "agents", "theory")


def _entry(n: int, tags: tuple[str, ...]) -> Entry:
    return Entry(
        id=f"tag:x,2025:e{n:03d}",
        date="2025-01-01",
        title=f"P{n}",
        authors=(),
        abstract="",
        comment_ko="",
        comment_en="",
        tags=tags,
        links=(),
        source="x:1",
        tag_labels=tuple(f"#{t.upper()}" if n % 3 == 0 else f"#{t}" for t in tags),
    )


@st.composite
def entry_sets(draw: st.DrawFn) -> list[Timed]:
    count = draw(st.integers(0, 40))
    hours = draw(st.lists(st.integers(0, 30), min_size=count, max_size=count))  # ties
    edits = draw(st.lists(st.integers(0, 50), min_size=count, max_size=count))
    offsets = draw(st.lists(st.sampled_from((0, 9, -5)), min_size=count, max_size=count))
    tag_sets = draw(
        st.lists(
            st.lists(st.sampled_from(TAGS), max_size=3, unique=True),
            min_size=count,
            max_size=count,
        )
    )
    no_seq = draw(st.booleans())
    order = draw(st.permutations(range(count)))
    entries = []
    for n in range(count):
        tz = dt.timezone(dt.timedelta(hours=offsets[n]))
        published = (START + dt.timedelta(hours=hours[n])).astimezone(tz)
        updated = published + dt.timedelta(hours=edits[n] if edits[n] > 40 else 0)
        seq = 0 if no_seq and n % 4 == 0 else order[n] + 1
        entries.append(Timed(_entry(n, tuple(tag_sets[n])), published, updated, "h", seq))
    return entries


def _seqs(entries: Sequence[Timed]) -> dict[str, int]:
    seqs = {t.entry.id: t.seq for t in entries if t.seq}
    top = max(seqs.values(), default=0)
    for t in sorted(entries, key=lambda t: (t.published, t.entry.id)):
        if not t.seq:
            top += 1
            seqs[t.entry.id] = top
    return seqs


def _newest_updated_first(entries: Sequence[Timed]) -> list[Timed]:
    return sorted(entries, key=lambda t: (t.updated, t.published, t.entry.id), reverse=True)


def _split(
    feed: Feed, config: Config, seqs: Mapping[str, int], boundaries: Sequence[int]
) -> tuple[list[tuple[str, tuple[Timed, ...], bool, bool, str | None]], tuple[int, ...]]:
    """The definition: one feed, sorted and cut by itself."""
    size = config.archive_page_size
    by_seq = sorted(feed.entries, key=lambda t: (seqs[t.entry.id], t.entry.id))
    bounds = list(boundaries)
    last = bounds[-1] if bounds else 0
    open_part = [t for t in by_seq if seqs[t.entry.id] > last]
    while len(open_part) >= size:
        bounds.append(seqs[open_part[size - 1].entry.id])
        open_part = open_part[size:]
    if not bounds:
        return [(feed.name, tuple(_newest_updated_first(feed.entries)), False, True, None)], ()
    paths = [f"archive/{feed.name}/{n}" for n in range(1, len(bounds) + 1)]
    pages: list[list[Timed]] = [[] for _ in bounds]
    for timed in by_seq:
        n = next((i for i, bound in enumerate(bounds) if seqs[timed.entry.id] <= bound), None)
        if n is not None:
            pages[n].append(timed)
    newest = _newest_updated_first(feed.entries)[: config.max_entries]
    shown = {t.entry.id for t in newest}
    current = _newest_updated_first(newest + [t for t in open_part if t.entry.id not in shown])
    docs = [(feed.name, tuple(current), False, False, paths[-1])]
    for i, page in enumerate(pages):
        docs.append((paths[i], tuple(reversed(page)), True, False, paths[i - 1] if i else None))
    return docs, tuple(bounds)


def _shape(doc: Document) -> tuple[str, tuple[Timed, ...], bool, bool, str | None]:
    return (doc.path, doc.entries, doc.archive, doc.complete, doc.prev_archive)


@settings(max_examples=60, deadline=None)
@given(
    entries=entry_sets(),
    page_size=st.integers(1, 6),
    max_entries=st.integers(1, 8),
    written=st.dictionaries(
        st.sampled_from(("all", "ko", "tags/rl", "tags/rl.en", "tags/cv", "tags/gone")),
        st.lists(st.integers(1, 30), min_size=1, max_size=3, unique=True).map(sorted),
        max_size=3,
    ),
)
def test_plan_equals_every_feed_laid_out_on_its_own(
    entries: list[Timed], page_size: int, max_entries: int, written: dict[str, list[int]]
) -> None:
    """Feeds, their entries, documents, pages and boundaries: as if each feed were sorted and split by itself."""
    config = Config(archive_page_size=page_size, max_entries=max_entries)
    feedset = plan(entries, config, written)
    seqs = _seqs(entries)
    ordered = tuple(sorted(entries, key=lambda t: (t.published, t.entry.id), reverse=True))
    assert feedset.entries == ordered
    tags = sorted({slug for t in entries for slug in t.entry.tags})
    names = [lang or "all" for lang in LANGS] + [
        f"tags/{slug}" + (f".{lang}" if lang else "") for slug in tags for lang in LANGS
    ]
    assert [feed.name for feed in feedset.feeds] == names
    expected_docs = []
    expected_pages = {}
    for feed in feedset.feeds:
        members = tuple(t for t in ordered if feed.tag is None or feed.tag in t.entry.tags)
        assert feed.entries == members, feed.name
        first = next(
            (
                t
                for t in sorted(entries, key=lambda t: seqs[t.entry.id])
                if feed.tag in t.entry.tags
            ),
            None,
        )
        if feed.tag is not None and first is not None:
            label = first.entry.tag_labels[first.entry.tags.index(feed.tag)]
            assert feed.label == label
            assert feed.title == feed_title(config, feed.lang, label)
        docs, bounds = _split(feed, config, seqs, written.get(feed.name, ()))
        expected_docs.extend(docs)
        expected_pages[feed.name] = bounds
    assert sorted(map(_shape, feedset.documents), key=lambda d: d[0]) == sorted(
        expected_docs, key=lambda d: d[0]
    )
    for name, bounds in written.items():
        expected_pages.setdefault(name, tuple(bounds))
    assert dict(feedset.archive_pages) == {k: v for k, v in expected_pages.items() if v}
    for doc in feedset.documents:
        assert feedset.newest_update(doc) == max(
            (t.updated for t in doc.entries),
            default=dt.datetime(int(config.tag_date[:4]), 1, 1, tzinfo=config.tz),
        )


def test_times_share_one_timezone_object_per_offset_and_keep_their_value() -> None:
    """Timed and ledger times get one tzinfo object per offset (fast to compare); value, offset and text unchanged."""
    seoul_a = dt.timezone(dt.timedelta(hours=9))
    seoul_b = dt.timezone(dt.timedelta(hours=9))
    a = dt.datetime(2025, 5, 8, 9, tzinfo=seoul_a)
    b = dt.datetime(2025, 5, 9, 9, tzinfo=seoul_b)
    first, second = Timed(_entry(1, ()), a, b, "h", 1), Timed(_entry(2, ()), b, a, "h", 2)
    assert first.published.tzinfo is second.published.tzinfo is first.updated.tzinfo
    assert (first.published, first.updated) == (a, b)
    assert first.published.isoformat() == "2025-05-08T09:00:00+09:00"
    named = dt.datetime(2025, 5, 8, tzinfo=dt.timezone(dt.timedelta(hours=9), "KST"))
    assert shared_timezone(named).tzname() == "KST"  # a named zone is not merged with others
    naive = dt.datetime(2025, 5, 8)
    assert shared_timezone(naive) is naive
