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
        "https://export.arxiv.org/abs/2505.04588v2",
        "https://arxiv.org/pdf/2505.04588.pdf",
        "https://www.alphaxiv.org/abs/2505.04588",
        "https://huggingface.co/papers/2505.04588",
        "https://doi.org/10.48550/arXiv.2505.04588",
        "https://dx.doi.org/10.48550/ARXIV.2505.04588",
        "https://paperswithcode.com/paper/arxiv-2505.04588",
        "Notes on arXiv: 2505.04588v3 (a reward from simulated search).",
    ],
)
def test_find_arxiv_id_forms(text):
    """Every usual spelling of an arXiv paper gives the same versionless id."""
    assert identity.find_arxiv_id(text) == "2505.04588"


def test_find_arxiv_id_old_style():
    """Old-style ids keep their archive prefix."""
    assert identity.find_arxiv_id("https://arxiv.org/abs/hep-th/9901001v2") == "hep-th/9901001"


def test_find_arxiv_id_old_style_in_every_form():
    """Old-style ids (with a subject class too) are found in links, DOIs, text and titles."""
    for text in (
        "https://doi.org/10.48550/arXiv.hep-th/9901001",
        "arXiv:hep-th/9901001v1",
        "https://export.arxiv.org/pdf/hep-th/9901001",
    ):
        assert identity.find_arxiv_id(text) == "hep-th/9901001"
    assert identity.find_arxiv_id("https://arxiv.org/abs/math.AG/0601001") == "math.ag/0601001"
    assert identity.title_arxiv_id("[hep-th/9901001] Non-Abelian Vortices") == "hep-th/9901001"
    assert identity.title_arxiv_id("[2505.04588] ZeroSearch") == "2505.04588"
    assert identity.title_arxiv_id("ZeroSearch [2505.04588]") is None


def test_find_arxiv_id_refuses_lookalikes():
    """Numbers that only resemble an id (too many digits, another site's path) are not papers."""
    assert identity.find_arxiv_id("https://arxiv.org/abs/2505.045881") is None
    assert identity.find_arxiv_id("https://example.org/abs/2505.04588") is None
    assert identity.find_arxiv_id("version 2505.04588") is None


def test_find_doi():
    """A DOI is found in resolver URLs, publisher paths and doi: text; arXiv's own DOI is not one."""
    assert identity.find_doi("https://doi.org/10.1145/3597503.3639187") == "10.1145/3597503.3639187"
    assert identity.find_doi("https://dl.acm.org/doi/10.1145/3597503.3639187") == (
        "10.1145/3597503.3639187"
    )
    assert identity.find_doi("doi:10.1038/NATURE14539.") == "10.1038/nature14539"
    assert identity.find_doi("https://doi.org/10.48550/arXiv.2505.04588") is None
    assert identity.find_doi("https://blog.example.org/2010.12345/x") is None


def test_doi_is_a_paper_key():
    """Entries naming the same DOI by different links share the doi key."""
    a = identity.candidate_keys(None, "A", ["https://doi.org/10.1038/nature14539"])
    b = identity.candidate_keys(
        None, "B", ["https://www.nature.com/articles/x"], "doi:10.1038/nature14539"
    )
    assert ("doi:10.1038/nature14539", "doi") in a and ("doi:10.1038/nature14539", "doi") in b


def test_text_states_one_paper_or_none():
    """An arXiv id in the text counts only when the text names exactly one paper."""
    one = identity.candidate_keys(None, "T", [], "Notes on arXiv:2505.04588 and its code.")
    assert one[0] == ("arxiv:2505.04588", "arxiv")
    two = identity.candidate_keys(None, "T", [], "arXiv:2505.04588 versus arXiv:1706.03762")
    assert [r for _, r in two] == ["title"]


def test_variant_ids_are_one_paper():
    """The Korean and English variants' ids are keyed by the entry id they extend."""
    for variant in (DF_ID, DF_ID + "/ko", DF_ID + "/en"):
        assert identity.is_digestfeed_id(variant)
        assert identity.paper_id(variant) == DF_ID
        assert identity.candidate_keys(variant, "T")[0] == (f"id:{DF_ID}", "id")
    vault = "tag:digestfeed.example.org,2025:arxiv:2505.04588"
    assert identity.paper_id(vault + "/en") == vault
    assert identity.paper_id("https://blog.example.org/p/1/en") == "https://blog.example.org/p/1/en"


def test_origins():
    """An origin is scheme, host and port; file origins are folders, one holding the other."""
    assert identity.origin("https://Example.org/feeds/all.atom") == "https://example.org:443"
    assert identity.origin("http://127.0.0.1:8081/a.atom") == "http://127.0.0.1:8081"
    assert not identity.same_origin("http://127.0.0.1:8081", "http://127.0.0.1:8082")
    assert identity.same_origin("file:///site/feeds", "file:///site/feeds/tags")
    assert identity.same_origin("file:///site/feeds/tags", "file:///site/feeds")
    assert not identity.same_origin("file:///site/feeds", "file:///site/feeds2")
    assert not identity.same_origin("file:///site", "https://site:443")


def test_normalize_link():
    """Scheme, www., default port, trailing slash and tracking parameters do not matter."""
    a = identity.normalize_link("http://www.Blog.example.com:80/posts/survey/?utm_source=rss")
    b = identity.normalize_link("https://blog.example.com/posts/survey")
    assert a == b == "blog.example.com/posts/survey"
    assert identity.normalize_link("https://e.com/p.html#week-19") != identity.normalize_link(
        "https://e.com/p.html#week-18"
    )
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


def test_trusted_id_comes_first():
    """A digestfeed id is the strongest key; the paper's keys follow, a feed-scoped id never."""
    keys = identity.candidate_keys(DF_ID, "T", ["https://arxiv.org/abs/2505.04588"], feed="F")
    assert keys == [
        (f"id:{DF_ID}", "id"),
        ("arxiv:2505.04588", "arxiv"),
        ("link:arxiv.org/abs/2505.04588", "link"),
        ("title:t", "title"),
    ]
    assert identity.candidate_keys("urn:x", "T", trusted_id=True)[0] == ("id:urn:x", "id")


def test_fallback_order():
    """Foreign entries: arXiv id, then link, then title, then the feed-scoped id."""
    keys = identity.candidate_keys("post-1", "A Title", ["https://blog.example.com/p/1"], feed="F")
    assert [rule for _, rule in keys] == ["link", "title", "feed-id"]
    keys = identity.candidate_keys("oai:arXiv.org:2505.04588v1", "A Title", [], feed="F")
    assert keys[0] == ("arxiv:2505.04588", "arxiv")
    assert identity.candidate_keys(None, None) == []  # no evidence at all: no key
