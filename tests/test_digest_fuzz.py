"""Hypothesis: the digest parser returns a Digest or raises ParseError, never anything else;
and the writer/parser pair is exact on representable entries."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digestfeed.config import Config
from digestfeed.errors import ParseError
from digestfeed.sources.digest import parse_bytes, parse_text
from digestfeed.sources.export import render_digest
from digestfeed.sources.lines import decode, is_authors_line, split_authors
from digestfeed.types import Digest

CONFIG = Config()
SEED = (Path(__file__).resolve().parents[1] / "entries" / "2025-05-08.txt").read_text(
    encoding="utf-8"
)
SEED_LINES = SEED.split("\n")
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text biased towards what matters to the parser: line breaks, '#', '(', ')', Hangul, dates.
_ALPHABET = (
    st.sampled_from(list("#()[], \n\r\t\x00\x0b\ufeff\u00a0\u2028\x85aZ09-_.:/년월일한국어"))
    | st.characters()
)
_TOKENS = st.sampled_from(
    [
        "2025년 5월 8일",
        "2025-05-08",
        "May 8, 2025",
        "#rl",
        "(A, B)",
        "()",
        "한국어",
        "https://arxiv.org/abs/2401.00001",
        "\n",
        "#",
        "##",
        "(",
        ")",
    ]
)
_TEXT = st.lists(_TOKENS | st.text(_ALPHABET, max_size=8), max_size=40).map("".join)


def _parses_or_parse_error(text: str, path: str = "fuzz.txt") -> None:
    try:
        result = parse_text(text, path, CONFIG)
    except ParseError as exc:
        assert exc.path == path and str(exc).startswith(path)
        return
    assert isinstance(result, Digest) and result.entries


@SETTINGS
@given(_TEXT, st.sampled_from(["fuzz.txt", "2025-05-08.txt"]))
def test_random_text_parses_or_raises_parse_error(text: str, path: str) -> None:
    """Random text: a Digest or a ParseError, never another exception."""
    _parses_or_parse_error(text, path)


@SETTINGS
@given(st.binary(max_size=200))
def test_random_bytes_parse_or_raise_parse_error(data: bytes) -> None:
    """Random bytes (bad UTF-8 included): a Digest or a ParseError."""
    try:
        result = parse_bytes(data, "fuzz.txt", CONFIG)
    except ParseError as exc:
        assert exc.path == "fuzz.txt" and str(exc).startswith("fuzz.txt")
        return
    assert isinstance(result, Digest) and result.entries


@st.composite
def _mutated_seed(draw: st.DrawFn) -> str:
    lines = list(SEED_LINES)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "edit", "truncate"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "insert":
            lines.insert(i, draw(_TEXT))
        elif op == "edit":
            k = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:k] + draw(_TEXT) + lines[i][k + draw(st.integers(0, 5)) :]
        else:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    return "\n".join(lines)


@SETTINGS
@given(_mutated_seed())
def test_mutated_seed_parses_or_raises_parse_error(text: str) -> None:
    """Random mutations of the seed (lines deleted, swapped, edited…): Digest or ParseError."""
    _parses_or_parse_error(text, "2025-05-08.txt")


@SETTINGS
@given(_mutated_seed())
def test_render_of_a_parse_is_a_fixpoint(text: str) -> None:
    """Whatever parses, rendered and parsed again, gives the same fields (nothing lost)."""
    try:
        first = parse_text(text, "2025-05-08.txt", CONFIG)
    except ParseError:
        return
    second = parse_text(render_digest(first), "2025-05-08.txt", CONFIG)
    assert [e.to_json() | {"source": ""} for e in second.entries] == [
        e.to_json() | {"source": ""} for e in first.entries
    ]


_AUTHOR_TEXT = st.text(st.sampled_from(list("ab (),[]{} ")), max_size=30)


@SETTINGS
@given(_AUTHOR_TEXT)
def test_authors_split_join_split_is_stable(inner: str) -> None:
    """split_authors of the rendered '(A, B)' line gives the same authors back."""
    authors = split_authors(f"({inner})")
    assert split_authors("(" + ", ".join(authors) + ")") == authors


def _parse_outcome(parse: Callable[[], Digest]) -> object:
    try:
        return parse()
    except ParseError as exc:
        return str(exc)


@SETTINGS
@given(_mutated_seed() | _TEXT, st.sampled_from(["", "\ufeff"]))
def test_bytes_parse_as_their_decoded_text(text: str, bom: str) -> None:
    """A file's bytes and its decoded text parse alike: same digest and warnings (control
    characters too), or the same error."""
    data = (bom + text).encode("utf-8", "surrogatepass")
    try:
        decoded = decode(data, "fuzz.txt")
    except ParseError:
        return
    assert _parse_outcome(lambda: parse_bytes(data, "fuzz.txt", CONFIG)) == _parse_outcome(
        lambda: parse_text(decoded, "fuzz.txt", CONFIG)
    )


_BRACKETED = re.compile(r"^\((.*)\)$", re.DOTALL)


def _commas_at_depth_zero(body: str) -> tuple[str, ...]:
    out, current, depth = [], "", 0
    for ch in body:
        depth += ch in "([{"
        depth = max(0, depth - (ch in ")]}"))
        if ch == "," and depth == 0:
            out.append(current.strip())
            current = ""
        else:
            current += ch
    return tuple(a for a in [*out, current.strip()] if a)


@SETTINGS
@given(st.text(st.sampled_from(list("ab (),[]{}\n\t\u3000\u2028")), max_size=14))
def test_an_authors_line_is_round_brackets_around_the_stripped_text(text: str) -> None:
    """is_authors_line: the stripped line is '(…)'; split_authors splits what is inside it
    (else the whole text) at the commas outside brackets."""
    inside = _BRACKETED.match(text.strip())
    assert is_authors_line(text) is (inside is not None)
    assert split_authors(text) == _commas_at_depth_zero(inside.group(1) if inside else text)
