"""The fast renderers write exactly the bytes of the straightforward way: JSON Feed items
through the C string encoder equal ``json.dumps(indent=2)``; RSS items cut from one template
per entry equal feedgen's item of each variant; Atom entries written by hand equal feedgen's."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from digestfeed import Config
from digestfeed.errors import BuildError
from digestfeed.ledger import Ledger
from digestfeed.pipeline import collect_entries
from digestfeed.plan import LANGS
from digestfeed.render import atom, handwritten, jsonfeed, rss
from digestfeed.render.memo import Memo
from digestfeed.sources.digest import read_digest_dir
from digestfeed.sources.notes import read_notes
from digestfeed.types import Entry, Timed

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _timed(entries: list[Entry], owners: list[str], config: Config, tmp: Path) -> list[Timed]:
    return Ledger(path=tmp / "ledger.json").apply(entries, config, NOW, None, owners)


def _seed_timed(seed_path: Path, tmp_path: Path, config: Config) -> list[Timed]:
    entries, owners = collect_entries(read_digest_dir(seed_path.parent, config))
    return _timed(entries, owners, config, tmp_path)


def _reference_json_item(timed: Timed, lang: object, config: Config) -> bytes:
    text = jsonfeed._dumps(jsonfeed.item_object(timed, lang, config))  # type: ignore[arg-type]
    return "\n".join("    " + line for line in text.split("\n")).encode()


def _reference_rss_item(renderer: rss.ItemRenderer, timed: Timed, lang: object) -> bytes:
    return renderer._render_with_feedgen(timed, lang)  # type: ignore[arg-type]


CONFIGS = [
    Config(),
    Config(curator='Kim "K" <&>', curator_uri="https://example.org/~kim?a=1&b=2", hub="https://h"),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_json_items_equal_the_indenting_encoder(
    seed_path: Path, tmp_path: Path, config: Config
) -> None:
    """Every seed item in every variant is byte for byte json.dumps(indent=2), indented."""
    timed = _seed_timed(seed_path, tmp_path, config)
    renderer = jsonfeed.ItemRenderer(config, Memo())
    assert timed
    for t in timed:
        for lang in LANGS:
            assert renderer(t, lang) == _reference_json_item(t, lang, config)


def test_json_items_with_odd_text(tmp_path: Path) -> None:
    """Quotes, backslashes, controls the sources keep, no tags, a paper URL: same bytes."""
    config = Config()
    entry = Entry(
        id="tag:x,2025:2025-05-08/a",
        date="2025-05-08",
        title='A "quoted" \\ title\twith tab',
        authors=("Ä", "B"),
        abstract="line\nbreak & <b> \u2028 sep",
        comment_ko="한국어 \U0001f600",
        comment_en="",
        tags=(),
        links=(),
        source="x.txt:1",
        url="https://arxiv.org/abs/1234.5678",
    )
    (timed,) = _timed([entry], ["digest:x.txt"], config, tmp_path)
    renderer = jsonfeed.ItemRenderer(config, Memo())
    for lang in LANGS:
        assert renderer(timed, lang) == _reference_json_item(timed, lang, config)


@pytest.mark.parametrize("config", CONFIGS)
def test_rss_items_equal_feedgen(seed_path: Path, tmp_path: Path, config: Config) -> None:
    """Every seed item in every variant is byte for byte the item feedgen writes for it."""
    timed = _seed_timed(seed_path, tmp_path, config)
    renderer = rss.ItemRenderer(config, Memo())
    for t in timed:
        for lang in LANGS:
            assert renderer(t, lang) == _reference_rss_item(renderer, t, lang)


@pytest.mark.corpus
def test_corpus_items_equal_the_reference(corpus_dir: Path, tmp_path: Path) -> None:
    """Every item of the 945-note corpus, JSON and RSS, in every variant: the same bytes."""
    config = Config()
    digests, _ = read_notes(corpus_dir, config)
    entries, owners = collect_entries(digests)
    timed = _timed(entries, owners, config, tmp_path)
    json_items = jsonfeed.ItemRenderer(config, Memo())
    rss_items = rss.ItemRenderer(config, Memo())
    assert len(timed) > 900
    for t in timed:
        for lang in LANGS:
            assert json_items(t, lang) == _reference_json_item(t, lang, config)
            assert rss_items(t, lang) == _reference_rss_item(rss_items, t, lang)
    entries_by_hand = atom.EntryRenderer(config, Memo())
    for t in timed:
        by_hand, reference = _atom_pairs(entries_by_hand, t)
        assert by_hand == reference


def _atom_pairs(renderer: atom.EntryRenderer, timed: Timed) -> tuple[bytes, bytes]:
    args = (timed, "<p>x & y</p>", timed.entry.id + "/ko", ("en",))
    return handwritten.atom_entry(renderer.config, *args), renderer._render(*args)


@pytest.mark.parametrize("config", CONFIGS)
def test_atom_entries_by_hand_equal_feedgen(
    seed_path: Path, tmp_path: Path, config: Config
) -> None:
    """Every seed entry written by hand is byte for byte the entry feedgen writes."""
    renderer = atom.EntryRenderer(config, Memo())
    for t in _seed_timed(seed_path, tmp_path, config):
        by_hand, reference = _atom_pairs(renderer, t)
        assert by_hand == reference


def test_atom_entry_with_odd_text(tmp_path: Path) -> None:
    """Quotes, ampersands, a CR, a paper URL with a query: the same bytes as feedgen."""
    config = Config(curator="A & B <c>", curator_uri='https://example.org/?a=1&b="2"')
    entry = Entry(
        id="tag:x,2025:2025-05-08/a",
        date="2025-05-08",
        title='A "quoted" <b>title</b> & \r more',
        authors=("Ä",),
        abstract="x",
        comment_ko="",
        comment_en="",
        tags=("a-b", "c"),
        links=(),
        source="x.txt:1",
        tag_labels=("#A-b", '#"c"'),
        url="https://arxiv.org/abs/1234.5678?x=1&y=<2>",
    )
    (timed,) = _timed([entry], ["digest:x.txt"], config, tmp_path)
    by_hand, reference = _atom_pairs(atom.EntryRenderer(config, Memo()), timed)
    assert by_hand == reference


def test_atom_falls_back_to_feedgen_on_a_difference(
    seed_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the hand-written entry differs from feedgen's (another lxml, say), feedgen writes them all."""
    config = Config()
    timed = _seed_timed(seed_path, tmp_path, config)
    expected = [atom.EntryRenderer(config, Memo())(t, lang) for t in timed for lang in LANGS]
    wrong = handwritten.EntryParts("  <entry>wrong", "", "", "", "</entry>\n")
    monkeypatch.setattr(atom, "atom_entry_parts", lambda *a: wrong)
    renderer = atom.EntryRenderer(config, Memo())
    assert [renderer(t, lang) for t in timed for lang in LANGS] == expected
    assert renderer.check.by_hand is False


def test_rss_falls_back_to_feedgen_on_a_difference(
    seed_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the hand-written RSS item differs from feedgen's (another lxml, say), feedgen writes them all."""
    config = Config()
    timed = _seed_timed(seed_path, tmp_path, config)
    expected = [rss.ItemRenderer(config, Memo())(t, lang) for t in timed for lang in LANGS]
    monkeypatch.setattr(rss, "rss_item", lambda *a: (b"<item>", b"<guid>", b"</item>\n"))
    renderer = rss.ItemRenderer(config, Memo())
    assert [renderer(t, lang) for t in timed for lang in LANGS] == expected
    assert renderer.check.by_hand is False


def test_rss_dates_are_feedgens_in_any_locale() -> None:
    """pubDate written by hand equals feedgen's C-locale RFC 822 date, for several offsets and days."""
    import datetime as dt

    from feedgen.util import formatRFC2822

    for days in range(0, 400, 37):
        for hours in (-5, 0, 9, 5.5):
            tz = dt.timezone(dt.timedelta(hours=hours))
            when = dt.datetime(2024, 1, 1, 7, 3, 9, tzinfo=tz) + dt.timedelta(days=days)
            assert handwritten.rss_date(when) == formatRFC2822(when)


@pytest.mark.parametrize("config", CONFIGS)
def test_atom_heads_by_hand_equal_feedgen(seed_path: Path, tmp_path: Path, config: Config) -> None:
    """Every document head of the seed (subscription, complete, archive pages, each language) written by hand is feedgen's."""
    from digestfeed.plan import plan

    config = config.replace(archive_page_size=3, max_entries=2)
    feedset = plan(_seed_timed(seed_path, tmp_path, config), config)
    markers = set()
    for doc in feedset.documents:
        head = atom._head(doc, feedset, ("atom", "json", "rss"))
        assert handwritten.atom_head(head, config) == atom._head_by_feedgen(head, config), doc.path
        markers.add(head.marker)
    assert markers == {"archive", "complete", None}


def test_atom_heads_fall_back_to_feedgen_on_a_difference(
    seed_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When a hand-written head differs from feedgen's, that head and every later one come from feedgen."""
    from digestfeed.plan import plan

    config = Config()
    feedset = plan(_seed_timed(seed_path, tmp_path, config), config)
    heads = [atom._head(doc, feedset, ()) for doc in feedset.documents]
    monkeypatch.setattr(atom, "atom_head", lambda *a: b"<feed>wrong</feed>\n")
    renderer = atom.HeadRenderer(config)
    assert [renderer(h) for h in heads] == [atom._head_by_feedgen(h, config) for h in heads]
    assert renderer.check.by_hand is False


def test_rss_dates_before_year_1000_are_feedgens() -> None:
    """pubDate of a year below 1000 (a digest dated 0999-05-08) is feedgen's, whose %Y does not pad."""
    from feedgen.util import formatRFC2822

    for year in (1, 99, 999, 1000, 2024):
        when = dt.datetime(year, 5, 8, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
        assert handwritten.rss_date(when) == formatRFC2822(when)


def test_rss_item_of_an_early_year_after_the_checks_is_feedgens(tmp_path: Path) -> None:
    """An item dated before year 1000 written after the per-shape checks is still feedgen's item."""
    config = Config()
    entries = [
        Entry(
            id=f"tag:x,2025:{date}/t{i}",
            date=date,
            title=f"T{i}",
            authors=("A",),
            abstract="x",
            comment_ko="가",
            comment_en="y",
            tags=("a",),
            links=(),
            source="x.txt:1",
        )
        for i, date in enumerate(("2024-01-01", "2024-01-02", "2024-01-03", "0999-05-08"))
    ]
    timed = _timed(entries, ["digest:x.txt"] * len(entries), config, tmp_path)
    renderer = rss.ItemRenderer(config, Memo())
    for t in timed:
        for lang in LANGS:
            assert renderer(t, lang) == _reference_rss_item(renderer, t, lang), t.entry.date


def test_an_id_xml_cannot_hold_is_refused_as_feedgen_does(tmp_path: Path) -> None:
    """A control character in an entry's id (a source plugin's) is feedgen's error in RSS and Atom, never written."""
    config = Config()
    entries = [
        Entry(
            id=f"tag:x,2025:2024-01-0{i}/t{i}",
            date=f"2024-01-0{i}",
            title=f"T{i}",
            authors=("A",),
            abstract="x",
            comment_ko="가",
            comment_en="y",
            tags=("a",),
            links=(),
            source=f"x.txt:{i}",
        )
        for i in range(1, 5)
    ]
    entries[-1] = dataclasses.replace(entries[-1], id=entries[-1].id + "\x01")
    timed = _timed(entries, ["plugin:x.txt"] * len(entries), config, tmp_path)
    items, atom_entries = rss.ItemRenderer(config, Memo()), atom.EntryRenderer(config, Memo())
    for t in timed[:-1]:  # the checks per shape pass: later entries are written by hand
        items(t, None)
        atom_entries(t, None)
    with pytest.raises(ValueError, match="XML compatible"):
        items(timed[-1], None)
    with pytest.raises(BuildError, match=r"x\.txt:4: cannot write the entry"):
        atom_entries(timed[-1], None)
