"""The entry model: what the content hash covers, tag slugs and ids."""

from __future__ import annotations

import dataclasses
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digestfeed.model import normalize_tag, title_slug
from digestfeed.types import Entry

BASE = Entry(
    id="tag:x,2025:2025-05-08/a",
    date="2025-05-08",
    title="A",
    authors=("X", "Y"),
    abstract="abs",
    comment_ko="코멘트",
    comment_en="comment",
    tags=("rl", "tool"),
    links=("https://a.org",),
    source="entries/2025-05-08.txt:2",
    tag_labels=("#rl", "#tool"),
    url=None,
    position=0,
)


@pytest.mark.parametrize(
    "change",
    [
        {"title": "B"},
        {"authors": ("X",)},
        {"authors": ("X, Y",)},
        {"abstract": "abs2"},
        {"comment_ko": "다른"},
        {"comment_en": "other"},
        {"tags": ("rl",)},
        {"tags": ("tool", "rl")},
        {"tag_labels": ("#RL", "#tool")},
        {"links": ()},
        {"url": "https://arxiv.org/abs/2505.04588"},
        {"abstract": "", "comment_ko": "abs"},  # text moved between fields
    ],
)
def test_content_hash_changes_with_what_readers_see(change: dict[str, object]) -> None:
    """Any edit a subscriber would notice, including moving text between fields, changes the hash."""
    assert dataclasses.replace(BASE, **change).content_hash() != BASE.content_hash()  # type: ignore[arg-type]


def test_content_hash_ignores_place_and_identity() -> None:
    """Moving an entry (source line, position) or re-identifying it keeps the hash: it is not an edit."""
    moved = dataclasses.replace(BASE, source="entries/x.txt:40", position=3, id="tag:x,2025:other")
    assert moved.content_hash() == BASE.content_hash()


def test_tag_slugs_and_title_slugs() -> None:
    """Hashtags normalise case, _ and -, and title slugs are ASCII."""
    assert (
        normalize_tag("#Object_Detection")
        == normalize_tag("#object-detection")
        == "object-detection"
    )
    assert normalize_tag("#text2img", {"text2img": "text-to-image"}) == "text-to-image"
    assert title_slug("PIXART-δ: Fast & Controllable") == "pixart-fast-controllable"


def test_ids_of_titles_without_ascii_do_not_depend_on_position() -> None:
    """A Hangul-only title gets an id from the title itself, so removing an earlier entry changes no id."""
    from digestfeed.model import entry_id

    a = entry_id("x", "2025", "2025-05-08", "한국어 제목")
    assert a == entry_id("x", "2025", "2025-05-08", "한국어 제목")
    assert a != entry_id("x", "2025", "2025-05-08", "다른 제목")
    assert a.startswith("tag:x,2025:2025-05-08/entry-") and a.isascii()


def test_link_trimming_is_linear_in_trailing_brackets() -> None:
    """A URL followed by a megabyte of ')' is found at once and ends before them."""
    from digestfeed.model import find_links

    text = "see https://example.org/a_(b)" + ")" * 1_000_000 + " and http://x.org/y)."
    assert find_links(text) == ["https://example.org/a_(b)", "http://x.org/y"]


def test_link_trimming_keeps_a_bracket_opened_inside() -> None:
    """Wikipedia-style '(…)' in a URL is kept, trailing '.,)' after it is not."""
    from digestfeed.model import find_links

    assert find_links("(https://en.wikipedia.org/wiki/A_(b)).") == [
        "https://en.wikipedia.org/wiki/A_(b)"
    ]


_URL_TEXT = st.lists(
    st.sampled_from(
        [
            "http",
            "https",
            "HTTPS",
            "httpſ",
            "://",
            ":/",
            "//",
            ":",
            "/",
            "s",
            "x",
            "a.b",
            "(",
            ")",
            " ",
            ".",
            ",",
            "\n",
            "<",
            "]",
            "한",
            "ſ",
            "İ",
        ]
    )
    | st.text(max_size=3),
    max_size=30,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(_URL_TEXT)
def test_links_are_every_match_of_the_url_rule(text: str) -> None:
    """iter_links finds exactly the URL regex's matches (leftmost, non-overlapping), trimmed."""
    from digestfeed.model import _URL_RE, _trimmed_end, iter_links

    expected = []
    for match in _URL_RE.finditer(text):
        end = _trimmed_end(match.group(0))
        if end > len("https://"):
            expected.append((match.start(), match.start() + end, match.group(0)[:end]))
    assert list(iter_links(text)) == expected


def _title_slug_word_by_word(title: str, limit: int) -> str:
    ascii_ = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = ""
    for word in re.findall(r"[a-z0-9]+", ascii_.lower()):
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit and slug:
            break
        slug = candidate[:limit]
    return slug


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["ab", "C", "d9", " ", "-", "é", "ﬁ", "한", "x" * 25]), max_size=12
    ).map("".join)
    | st.text(max_size=80),
    st.integers(1, 70),
)
def test_title_slug_adds_whole_words_up_to_the_limit(title: str, limit: int) -> None:
    """A title slug is the ASCII words joined by '-', word by word while they fit the limit
    (a first word longer than the limit is cut)."""
    assert title_slug(title, limit) == _title_slug_word_by_word(title, limit)
