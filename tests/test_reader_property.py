"""Property: every paper once, at any size and with any flags.

Over generated feed sets (digestfeed-shaped feeds in every language variant with RFC 5005
archives, third-party feeds naming the papers through any arXiv id form and under any
title), in a random source order, with ``--all``, ``--backfill``, ``--lang``, every output
format and the parallel or the sequential parse path: no item id is printed twice in one
run, and from a fresh state (same ``--backfill``) the set of items is exactly one per paper,
whatever the order, flags or format.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from digestfeed.cli import main
from digestfeed.reader import Reader, reading
from digestfeed.reader.output import entry_id
from test_reader_dedupe import AUTH, write_atom

#: The papers a feed set draws from: (slug, title, arXiv id).
PAPERS = [
    ("zerosearch", "ZeroSearch: Incentivize the Search Capability of LLMs", "2505.04588"),
    ("attention", "Attention Is All You Need", "1706.03762"),
    ("vortices", "Non-Abelian Vortices and Monopoles in SO(N) Theories", "hep-th/9901001"),
    ("pangu", "Pangu Ultra MoE: How to Train Your Big MoE on Ascend NPUs", "2505.04519"),
    ("generalist", "On Path to Multimodal Generalist", "2505.04620"),
    ("electrons", "Multi-Electron Production at High Transverse Momenta", "hep-ex/0307015"),
]
#: How a third-party feed may name a paper: (link, title) from (arXiv id, its title, n).
FORMS = [
    lambda a, t, n: (f"https://arxiv.org/abs/{a}v2", f"Paper of the day {n}"),
    lambda a, t, n: (f"https://export.arxiv.org/pdf/{a}", t),
    lambda a, t, n: (f"https://www.alphaxiv.org/abs/{a}", f"Discussed: {t}"),
    lambda a, t, n: (f"https://huggingface.co/papers/{a}", f"HF daily {n}"),
    lambda a, t, n: (f"https://doi.org/10.48550/arXiv.{a}", f"DOI {n}"),
    lambda a, t, n: (f"https://paperswithcode.com/paper/arxiv-{a}", f"Code for {t}"),
    lambda a, t, n: (f"https://blog.example.org/posts/{n}", f"[{a}] {t}"),
]
FORMATS = ["json", "jsonl", "text", "atom", "rss", "jsonfeed"]


def _entry(i: int, variant: str = "") -> dict[str, Any]:
    slug, title, arxiv = PAPERS[i]
    return dict(
        id=f"{AUTH}2025-05-0{1 + i}/{slug}{variant}",
        title=title,
        when=f"2025-05-0{1 + i}T09:00:00+09:00",
        tags=("rl",) if i % 2 else ("llm", "rl"),
        ko=f"코멘트 {i}.",
        en=f"Comment {i}.",
        paper=f"https://arxiv.org/abs/{arxiv}",
        date=f"2025-05-0{1 + i}",
    )


digest_feed = st.tuples(
    st.sampled_from(["", "/ko", "/en"]),
    st.sets(st.integers(0, len(PAPERS) - 1), min_size=1),
    st.sets(st.integers(0, len(PAPERS) - 1)),  # its archive page (--backfill)
)
foreign_feed = st.dictionaries(
    st.integers(0, len(PAPERS) - 1), st.integers(0, len(FORMS) - 1), min_size=1
)


def _write(root: Path, digests: list[Any], foreigns: list[dict[int, int]]) -> dict[bool, set]:
    """The feed files; returns the expected item ids without and with --backfill."""
    expect: dict[bool, set[str]] = {False: set(), True: set()}
    in_digest: dict[bool, set[int]] = {False: set(), True: set()}
    in_foreign: set[int] = set()
    for n, (variant, papers, archived) in enumerate(digests):
        lang = variant[1:] or None
        archive = None
        if archived:
            archive = f"archive/{n}-1.atom"
            write_atom(root / archive, [_entry(i, variant) for i in sorted(archived)], lang=lang)
            in_digest[True] |= archived
        write_atom(
            root / f"d{n}.atom",
            [_entry(i, variant) for i in sorted(papers)],
            lang=lang,
            prev_archive=archive,
        )
        in_digest[False] |= papers
        in_digest[True] |= papers
    for n, papers in enumerate(foreigns):
        items = []
        for i, form in sorted(papers.items()):
            link, title = FORMS[form](PAPERS[i][2], PAPERS[i][1], f"{n}-{i}")
            items.append(
                f"<item><guid isPermaLink='false'>f{n}-{i}</guid><title>{title}</title>"
                f"<link>{link}</link><description>Note {n} on paper {i}.</description></item>"
            )
            in_foreign.add(i)
        (root / f"f{n}.rss").write_text(
            "<?xml version='1.0'?><rss version='2.0'><channel><title>f</title>"
            f"<link>https://blog.example.org/</link><description>d</description>{''.join(items)}"
            "</channel></rss>",
            encoding="utf-8",
        )
    for backfill in (False, True):
        for i in range(len(PAPERS)):
            if i in in_digest[backfill]:
                expect[backfill].add(_entry(i)["id"])
            elif i in in_foreign:
                expect[backfill].add(f"arxiv:{PAPERS[i][2]}")
    return expect


def _cli_ids(args: list[str], fmt: str, lang: str) -> list[str]:
    """Run ``digestfeed read`` in-process; the item ids it printed, in order."""
    extra = ["-v"] if fmt == "text" else []
    out = CliRunner().invoke(main, ["read", "--format", fmt, "--lang", lang, *extra, *args])
    assert out.exit_code == 0, out.output
    text = out.stdout
    if fmt == "json":
        return [i["id"] for i in json.loads(text)]
    if fmt == "jsonl":
        return [json.loads(line)["id"] for line in text.splitlines()]
    if fmt == "text":
        return [line.split("id: ", 1)[1] for line in text.splitlines() if "  id: " in line]
    if fmt == "jsonfeed":
        return [i["id"] for i in json.loads(text)["items"]]
    parsed = feedparser.parse(text.encode("utf-8"))
    assert parsed.bozo == 0, parsed.bozo_exception
    return [e.id for e in parsed.entries]


@pytest.mark.parametrize("parallel", [False, True], ids=["sequential", "parallel"])
def test_every_paper_once_whatever_the_order_flags_or_format(parallel, monkeypatch):
    """No id is printed twice, and a fresh run gives one item per paper whatever the order, flags, format or parse path."""
    if parallel:
        monkeypatch.setattr(reading, "PARALLEL_FROM", 1)

    @settings(
        max_examples=3 if parallel else 10,
        deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a failure is shown as found
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        digests=st.lists(digest_feed, min_size=1, max_size=3),
        foreigns=st.lists(foreign_feed, min_size=0, max_size=3),
        order=st.randoms(use_true_random=False),
        fmt=st.sampled_from(FORMATS),
        lang=st.sampled_from(["ko", "en"]),
        all_items=st.booleans(),
        backfill=st.booleans(),
    )
    def check(digests, foreigns, order, fmt, lang, all_items, backfill):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            expect = _write(root / "feeds", digests, foreigns)[backfill]
            sources = sorted(str(p) for p in (root / "feeds").glob("[df]*"))
            flags = ["--backfill"] if backfill else []
            # the library, sources in one order and the parse path under test
            with Reader(root / "a.sqlite", parse_workers=2 if parallel else 1) as reader:
                first = reader.read(sources, all=True, backfill=backfill)
            assert first.failures == []
            ids = [i.id for i in first]
            assert len(ids) == len(set(ids))
            assert set(ids) == expect
            # the command, another order, any flags and format, a fresh state
            order.shuffle(sources)
            args = ["--state", str(root / "b.sqlite"), *flags, *sources]
            printed = _cli_ids(args + (["--all"] if all_items else []), fmt, lang)
            assert len(printed) == len(set(printed))
            if fmt in ("atom", "rss", "jsonfeed"):  # an entry per item and language shown
                shown = {i: {entry_id(i, x) for x in ("ko", "en", "")} for i in expect}
                assert set(printed) <= set().union(*shown.values())
                assert all(ids & set(printed) for ids in shown.values())
            else:
                assert set(printed) == expect
            # a second run: nothing new, and --all gives the same set again
            assert _cli_ids(args, "jsonl", lang) == []
            assert set(_cli_ids([*args, "--all"], "jsonl", lang)) == expect

    check()
