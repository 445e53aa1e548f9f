"""The dedupe keys of the feed reader and the reader-library plugin (digestfeed.reader.identity): pure functions, no feedparser, no SQLite."""

from __future__ import annotations

import pytest

from digestfeed.reader import identity

DF_ID = "tag:digestfeed.example.org,2025:2025-05-08/zerosearch-incentivize-the-search"


def test_digestfeed_id_shape():
    """Only tag: URIs of digestfeed's entry shape count as digestfeed ids."""
    assert identity.is_digestfeed_id(DF_ID)
    assert identity.is_digestfeed_id("tag:me@example.org,2025-05:2025-05-08/x-2")
    assert not identity.is_digestfeed_id("tag:digestfeed.example.org,2025:feed/all")
    assert not identity.is_digestfeed_id("https://blog.example.com/posts/1")
    assert not identity.is_digestfeed_id(None)


@pytest.mark.parametrize(
    "text",
    [
        "https://arxiv.org/abs/2505.04588",
        "http://arxiv.org/pdf/2505.04588v3",
        "https://www.arxiv.org/html/2505.04588v1",
        "oai:arXiv.org:2505.04588v2",
        "arXiv:2505.04588",
    ],
)
def test_find_arxiv_id_forms(text):
    """Every usual spelling of an arXiv paper gives the same versionless id."""
    assert identity.find_arxiv_id(text) == "2505.04588"


def test_find_arxiv_id_old_style():
    """Old-style ids keep their archive prefix."""
    assert identity.find_arxiv_id("https://arxiv.org/abs/hep-th/9901001v2") == "hep-th/9901001"


def test_normalize_link():
    """Scheme, www., default port, trailing slash, fragment and tracking parameters do not matter."""
    a = identity.normalize_link("http://www.Blog.example.com:80/posts/survey/?utm_source=rss#top")
    b = identity.normalize_link("https://blog.example.com/posts/survey")
    assert a == b == "blog.example.com/posts/survey"
    assert identity.normalize_link("https://e.com/p?b=2&a=1") == identity.normalize_link(
        "https://e.com/p?a=1&b=2"
    )
    assert identity.normalize_link("mailto:x@y") is None


def test_normalize_title():
    """Case, punctuation and spacing do not matter; letters of any script stay."""
    assert (
        identity.normalize_title("Attention Is  Still All You Need?")
        == "attention is still all you need"
    )
    assert identity.normalize_title("ＬＬＭ 검색: 시도") == "llm 검색 시도"


def test_titles_differ():
    """An edit or typo fix is the same title; another paper is clearly different."""
    assert not identity.titles_differ(
        "ZeroSearch: Incentivize Search", "ZeroSearch: Incentivise Search"
    )
    assert identity.titles_differ(
        "ZeroSearch: Incentivize Search", "Pangu Ultra MoE on Ascend NPUs"
    )


def test_trusted_id_is_the_only_key():
    """A digestfeed id is the whole identity: no fallback keys that could merge two digest entries."""
    assert identity.candidate_keys(DF_ID, "T", ["https://arxiv.org/abs/2505.04588"]) == [
        (f"id:{DF_ID}", "id")
    ]
    assert identity.candidate_keys("urn:x", "T", trusted_id=True) == [("id:urn:x", "id")]


def test_fallback_order():
    """Foreign entries: arXiv id, then link, then title, then the feed-scoped id."""
    keys = identity.candidate_keys("post-1", "A Title", ["https://blog.example.com/p/1"], feed="F")
    assert [rule for _, rule in keys] == ["link", "title", "feed-id"]
    keys = identity.candidate_keys("oai:arXiv.org:2505.04588v1", "A Title", [], feed="F")
    assert keys[0] == ("arxiv:2505.04588", "arxiv")
    assert identity.candidate_keys(None, None) == []  # no evidence at all: no key
