"""The feed reader's dedupe across digestfeed's tag and language feeds, and the fallback keys on foreign feeds."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner

from digestfeed.cli import main
from digestfeed.reader import Reader

#: The ``read --format json`` item contract, written out: other tools read exactly these keys.
CONTRACT_KEYS = ("id", "title", "date", "tags", "comments", "links", "feeds", "first_seen")

DATA = Path(__file__).resolve().parent / "data" / "reader"
AUTH = "tag:digestfeed.example.org,2025:"


def entry(slug, title, *, date="2025-05-08", minute=0, tags=(), ko=None, en=None, paper=None):
    """One digestfeed-shaped entry (a dict used by :func:`write_atom`)."""
    return dict(
        id=f"{AUTH}{date}/{slug}",
        title=title,
        when=f"{date}T09:{minute:02d}:00+09:00",
        tags=tags,
        ko=ko,
        en=en,
        paper=paper,
        date=date,
    )


def write_atom(path, entries, *, lang=None, generator=True, prev_archive=None):
    """Write an Atom feed shaped like `digestfeed build` output (content HTML with comment divs)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom"{f" xml:lang={chr(34)}{lang}{chr(34)}" if lang else ""}>',
        f"<id>{AUTH}feed/{path.stem}</id><title>{path.stem}</title>",
        "<updated>2025-05-08T09:00:00+09:00</updated>",
    ]
    if generator:
        out.append('<generator uri="https://pypi.org/project/digestfeed/">digestfeed</generator>')
    if prev_archive:
        out.append(f'<link rel="prev-archive" href="{prev_archive}"/>')
    for e in entries:
        html = f'<p class="authors">A. Author</p><div class="abstract" lang="en"><p>Abstract of {escape(e["title"])}.</p></div>'
        if e["ko"] and lang in (None, "ko"):
            html += f'<div class="comment" lang="ko"><p>{escape(e["ko"])}</p></div>'
        if e["en"] and lang in (None, "en"):
            html += f'<div class="comment" lang="en"><p>{escape(e["en"])}</p></div>'
        cats = "".join(f'<category term="{t}" label="#{t}"/>' for t in e["tags"])
        related = f'<link rel="related" href="{e["paper"]}"/>' if e["paper"] else ""
        out.append(
            f"<entry><id>{e['id']}</id><title>{escape(e['title'])}</title>"
            f"<published>{e['when']}</published><updated>{e['when']}</updated>"
            f'<link rel="alternate" href="https://digestfeed.example.org/{e["date"]}.html"/>{related}'
            f'{cats}<content type="html">{escape(html)}</content></entry>'
        )
    out.append("</feed>")
    path.write_text("\n".join(out), encoding="utf-8")
    return path


ZERO = entry(
    "zerosearch",
    "ZeroSearch: Incentivize the Search Capability of LLMs without Searching",
    minute=0,
    tags=("rl", "tool", "reasoning"),
    ko="검색 엔진 없이 학습.",
    en="Search without a search engine.",
    paper="https://arxiv.org/abs/2505.04588",
)
PANGU = entry(
    "pangu",
    "Pangu Ultra MoE: How to Train Your Big MoE on Ascend NPUs",
    minute=1,
    tags=("moe",),
    ko="MoE 리포트.",
    en="An MoE report.",
)
BENCH = entry(
    "general-bench",
    "On Path to Multimodal Generalist",
    minute=2,
    tags=("benchmark", "multimodal"),
    ko="벤치마크.",
    en="A benchmark.",
)


def digest_feeds(root):
    """A small digestfeed output: bilingual, language and tag feeds (ZeroSearch in many)."""
    every = [BENCH, PANGU, ZERO]
    write_atom(root / "all.atom", every)
    write_atom(root / "ko.atom", every, lang="ko")
    write_atom(root / "en.atom", every, lang="en")
    for tag in ("rl", "tool", "reasoning", "moe", "benchmark", "multimodal"):
        tagged = [e for e in every if tag in e["tags"]]
        write_atom(root / "tags" / f"{tag}.atom", tagged)
        write_atom(root / "tags" / f"{tag}.ko.atom", tagged, lang="ko")
        write_atom(root / "tags" / f"{tag}.en.atom", tagged, lang="en")
    return root


def read_json(args, state):
    """Run `digestfeed read --format json` in-process; return (exit code, items, stderr)."""
    result = CliRunner().invoke(
        main, ["read", "--state", str(state), "--format", "json", *map(str, args)]
    )
    items = json.loads(result.stdout) if result.stdout.strip() else []
    return result.exit_code, items, result.stderr


def test_one_item_per_paper_across_tag_and_language_feeds(tmp_path):
    """ZeroSearch in all/ko/en and three tag feeds × three languages is one item with everything merged."""
    feeds = digest_feeds(tmp_path / "feeds")
    code, items, err = read_json([feeds], tmp_path / "s.sqlite")
    assert code == 0, err
    assert [i["title"] for i in items] == [
        BENCH["title"],
        PANGU["title"],
        ZERO["title"],
    ]  # newest first
    zero = items[2]
    assert tuple(zero) == CONTRACT_KEYS
    assert zero["id"] == ZERO["id"]
    assert zero["tags"] == ["rl", "tool", "reasoning"]
    assert zero["comments"] == {
        "ko": "검색 엔진 없이 학습.",
        "en": "Search without a search engine.",
    }
    assert zero["links"] == [
        "https://digestfeed.example.org/2025-05-08.html",
        "https://arxiv.org/abs/2505.04588",
    ]
    expected = {"all.atom", "ko.atom", "en.atom"} | {
        f"tags/{t}{sfx}.atom" for t in ("rl", "tool", "reasoning") for sfx in ("", ".ko", ".en")
    }
    assert {str(Path(f).relative_to(feeds)) for f in zero["feeds"]} == expected
    assert zero["date"] == "2025-05-08T09:00:00+09:00"


def test_comments_come_from_the_language_feeds(tmp_path):
    """Reading only the ko and en tag feeds still fills both comment languages."""
    feeds = digest_feeds(tmp_path / "feeds")
    code, items, _ = read_json(
        [feeds / "tags/rl.ko.atom", feeds / "tags/tool.en.atom"], tmp_path / "s.sqlite"
    )
    assert code == 0
    assert len(items) == 1
    assert items[0]["comments"] == {
        "ko": "검색 엔진 없이 학습.",
        "en": "Search without a search engine.",
    }


def test_text_output_language_and_verbose_rule(tmp_path):
    """--lang picks the comment; -v shows the dedupe rule, which JSON never carries."""
    feeds = digest_feeds(tmp_path / "feeds")
    runner = CliRunner()
    ko = runner.invoke(
        main, ["read", "--state", str(tmp_path / "a"), "--lang", "ko", str(feeds / "tags/rl.atom")]
    )
    assert "검색 엔진 없이 학습." in ko.stdout and "Search without" not in ko.stdout
    en = runner.invoke(
        main, ["read", "--state", str(tmp_path / "b"), "-v", str(feeds / "tags/rl.atom")]
    )
    assert "Search without a search engine." in en.stdout
    assert "matched by: id" in en.stdout and "#rl #tool #reasoning" in en.stdout


def test_foreign_feeds_fall_back_to_arxiv_link_and_title(tmp_path):
    """Two RSS feeds without digestfeed ids: same arXiv paper, same link, same title → one item each, rule kept."""
    with Reader(tmp_path / "s.sqlite") as reader:
        items = reader.read([DATA / "foreign_a.rss", DATA / "foreign_b.rss"])
    assert not items.failures
    by_rule = {i.rule: i for i in items}
    assert len(items) == 3 and set(by_rule) == {"arxiv", "link", "title"}
    zero = by_rule["arxiv"]
    assert zero.key == "arxiv:2505.04588"
    assert len(zero.feeds) == 2
    assert zero.tags == ("RL", "cs.CL")  # as the feeds wrote them, matched case-blind
    assert "alert" not in (zero.comments["en"] or "")  # script dropped from the text
    assert zero.comments["en"].startswith("Nice RL trick, see the paper.")
    assert "https://arxiv.org/abs/2505.04588v1" in zero.links
    assert by_rule["link"].title == "A Survey of Things"
    assert by_rule["title"].title == "Attention Is Still All You Need?"


def test_foreign_rule_stays_out_of_json(tmp_path):
    """The JSON key set is fixed: the rule is only in the Python Item and verbose text."""
    code, items, _ = read_json(
        [DATA / "foreign_a.rss", DATA / "foreign_b.rss"], tmp_path / "s.sqlite"
    )
    assert code == 0 and len(items) == 3
    assert all(tuple(i) == CONTRACT_KEYS for i in items)
    assert all(set(i["comments"]) <= {"ko", "en"} for i in items)


def test_same_id_different_title_is_two_items_and_a_warning(tmp_path):
    """Collision guard: an id reused for a clearly different paper gives two items (two ids) and a warning."""
    other = dict(
        ZERO, title="Pangu Ultra MoE: How to Train Your Big MoE on Ascend NPUs", tags=("moe",)
    )
    write_atom(tmp_path / "a.atom", [ZERO])
    write_atom(tmp_path / "b.atom", [other])
    retitled = dict(
        ZERO, title="ZeroSearch: Incentivise the Search Capability of LLMs Without Searching"
    )
    write_atom(tmp_path / "c.atom", [retitled])
    code, items, err = read_json(
        [tmp_path / "a.atom", tmp_path / "b.atom", tmp_path / "c.atom"], tmp_path / "s"
    )
    assert code == 0
    assert sorted(i["title"] for i in items) == sorted([ZERO["title"], other["title"]])
    ids = [i["id"] for i in items]
    assert ZERO["id"] in ids and len(set(ids)) == 2  # the twin is printed under its own id
    assert all(i.startswith(("tag:", "id:" + ZERO["id"])) for i in ids)
    assert err.count("warning:") == 1 and "two different titles" in err


def test_seed_build_read(tmp_path, seed_path):
    """The real `digestfeed build` of the seed, read back: ZeroSearch is one item from twelve feeds."""
    entries = tmp_path / "entries"
    entries.mkdir()
    shutil.copy(seed_path, entries / seed_path.name)
    out = tmp_path / "feeds"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "digestfeed",
            "build",
            "--entries",
            str(entries),
            "--out",
            str(out),
            "-q",
        ],
        capture_output=True,
        text=True,
    )
    if build.returncode != 0 and "No such command" in build.stderr:
        pytest.skip("digestfeed build is not available")
    assert build.returncode == 0, build.stderr
    code, items, err = read_json([out / "index.opml"], tmp_path / "s.sqlite")
    assert code == 0, err
    assert len(items) == 3 and len({i["id"] for i in items}) == 3
    zero = next(i for i in items if i["title"].startswith("ZeroSearch"))
    assert zero["tags"] == ["rl", "tool", "reasoning"]
    names = {str(Path(f).relative_to(out)) for f in zero["feeds"]}
    assert {"all.atom", "ko.atom", "en.atom"} <= names
    for tag in ("rl", "tool", "reasoning"):
        assert {f"tags/{tag}.atom", f"tags/{tag}.ko.atom", f"tags/{tag}.en.atom"} <= names
    assert len(names) == 12
    assert zero["comments"]["ko"].startswith("LLM에 검색 능력을") and zero["comments"][
        "en"
    ].startswith("For training")
    # the directory itself is the same set of feeds
    code, again, _ = read_json([out], tmp_path / "s2.sqlite")
    assert [i["id"] for i in again] == [i["id"] for i in items]


def test_html_is_reduced_to_text(tmp_path):
    """HTML titles and contents become plain text: tags, scripts and control characters are dropped."""
    feed = tmp_path / "html.atom"
    feed.write_text(
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ko"><id>urn:f</id>'
        "<title>f</title><updated>2025-05-08T00:00:00Z</updated>"
        '<entry><id>urn:e1</id><title type="html">A &lt;b&gt;bold&lt;/b&gt; title</title>'
        '<updated>2025-05-08T00:00:00Z</updated><link href="https://e.example/1"/>'
        '<content type="html">&lt;p&gt;안녕 &lt;img src=x onerror=alert(1)&gt;&lt;script&gt;evil()&lt;/script&gt;'
        "world&amp;#x1b;[31m&lt;/p&gt;</content></entry></feed>",
        encoding="utf-8",
    )
    runner = CliRunner()
    out = runner.invoke(main, ["read", "--state", str(tmp_path / "s"), "--lang", "ko", str(feed)])
    assert out.exit_code == 0, out.stderr
    assert "A bold title" in out.stdout and "안녕 world" in out.stdout
    for bad in ("<", "evil", "alert", "\x1b"):
        assert bad not in out.stdout


def test_parallel_parsing_gives_the_same_items(tmp_path):
    """With many feeds, parse processes do the feedparser work, and the items are exactly those of a sequential run."""
    feeds = digest_feeds(tmp_path / "feeds")
    for i in range(20):  # enough documents to start the parse processes
        write_atom(
            feeds / "extra" / f"f{i}.atom",
            [entry(f"paper-{i}", f"Paper {i}", minute=10 + i % 40, tags=("x",))],
        )
    runs = {}
    for workers in (1, 2):
        with Reader(tmp_path / f"state-{workers}.sqlite", parse_workers=workers) as reader:
            result = reader.read([feeds])
        runs[workers] = (
            [{k: v for k, v in item.to_json().items() if k != "first_seen"} for item in result],
            result.stats["parsed_in_workers"],
        )
    assert runs[1][1] == 0 and runs[2][1] > 0
    assert runs[1][0] == runs[2][0] and len(runs[1][0]) == 23
