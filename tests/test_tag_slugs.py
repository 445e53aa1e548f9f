"""The tag slug rule: what a hashtag becomes, and which hashtags are errors at their line."""

from __future__ import annotations

import pytest

from digestfeed.config import Config
from digestfeed.errors import ParseError
from digestfeed.model import normalize_tag, tag_slug
from digestfeed.sources.digest import parse_text

CONFIG = Config()


def digest_with_tags(tag_line: str) -> str:
    return f"2025-05-08\nTitle\n(Author)\nAbstract.\n한국어 코멘트.\nEnglish.\n{tag_line}\n"


@pytest.mark.parametrize(
    ("tag", "slug"),
    [
        ("#C++", "c-plus-plus"),
        ("#C#", "c-sharp"),
        ("#c", "c"),
        ("#cs.LG", "cs-lg"),
        ("#Object_Detection", "object-detection"),
        ("#object--detection_", "object-detection"),
        ("#ＲＬ", "rl"),  # full-width letters: NFKC
        ("#강화학습", "강화학습"),
        ("#обучение", "обучение"),
        ("#GPT4o", "gpt4o"),
        ("#con", "con_"),
        ("#NUL", "nul_"),
        ("#com1", "com1_"),
        ("#lpt9", "lpt9_"),
        ("#console", "console"),
    ],
)
def test_slug_rule(tag: str, slug: str) -> None:
    """Case-folded, NFKC; _ - . one separator; + is plus, # is sharp; device names get '_'."""
    assert tag_slug(tag).slug == slug and not tag_slug(tag).forbidden
    assert normalize_tag(tag) == slug


def test_c_plus_plus_c_sharp_and_c_are_three_tags() -> None:
    """'#c++ #c# #c' on one entry are three distinct tags, labels as written."""
    entry = parse_text(digest_with_tags("#c++ #c# #c"), "d.txt", CONFIG).entries[0]
    assert entry.tags == ("c-plus-plus", "c-sharp", "c")
    assert entry.tag_labels == ("#c++", "#c#", "#c")


@pytest.mark.parametrize(
    ("tag", "shown"),
    [
        ("#a\u200bb", "U+200B ZERO WIDTH SPACE"),
        ("#rl\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("#a\u2066b", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ('#"><svg/onload=alert(1)>', "U+0022 QUOTATION MARK"),
        ("#ml/rl", "U+002F SOLIDUS"),
        ("#ai🤖", "U+1F916 ROBOT FACE"),
    ],
)
def test_forbidden_characters_are_an_error_naming_the_line(tag: str, shown: str) -> None:
    """Punctuation, symbols, zero-width and bidi controls make the hashtag an error at its line."""
    with pytest.raises(ParseError) as caught:
        parse_text(digest_with_tags(f"#rl {tag}"), "entries/d.txt", CONFIG)
    assert (caught.value.path, caught.value.line) == ("entries/d.txt", 7)
    assert shown in str(caught.value)
    assert "\u200b" not in str(caught.value) and "\u202e" not in str(caught.value)


def test_zero_width_space_no_longer_merges_tags() -> None:
    """'#ab' and '#a<ZWSP>b' used to be one tag silently; now the second is refused."""
    assert normalize_tag("#ab") == "ab"
    assert tag_slug("#a\u200bb").forbidden == "\u200b"


def test_a_too_long_slug_names_the_digest_line() -> None:
    """A 248-character hashtag is an error at the digest line, not a failure writing a staging file."""
    with pytest.raises(ParseError) as caught:
        parse_text(digest_with_tags("#" + "a" * 248), "entries/d.txt", CONFIG)
    assert (caught.value.path, caught.value.line) == ("entries/d.txt", 7)
    assert "max_tag_length (64)" in str(caught.value)
    assert parse_text(digest_with_tags("#" + "a" * 64), "d.txt", CONFIG).entries[0].tags == (
        "a" * 64,
    )


def test_max_tag_length_is_configurable() -> None:
    """max_tag_length = 3 refuses '#tool' and accepts '#rl'."""
    config = Config(max_tag_length=3)
    assert parse_text(digest_with_tags("#rl"), "d.txt", config).entries[0].tags == ("rl",)
    with pytest.raises(ParseError, match=r"more than max_tag_length \(3\)"):
        parse_text(digest_with_tags("#tool"), "d.txt", config)


def test_aliases_apply_after_the_rule() -> None:
    """An alias key written with '.', '+' or case maps like the hashtag it names."""
    config = Config(tag_aliases={"C.P.P": "c++"})
    entry = parse_text(digest_with_tags("#c-p-p"), "d.txt", config).entries[0]
    assert entry.tags == ("c-plus-plus",)


@pytest.mark.corpus
def test_every_corpus_tag_is_letters_digits_and_separators(corpus_dir: object) -> None:
    """The 945 real notes parse under the rule: every real tag slug is letters, digits and '-'."""
    from pathlib import Path

    from digestfeed.sources.notes import read_notes

    digests, _ = read_notes(Path(str(corpus_dir)), CONFIG)
    tags = {t for d in digests for e in d.entries for t in e.tags}
    assert len(tags) > 50
    assert all(t.replace("-", "").isalnum() for t in tags)
