"""Third-party feeds from public parser test suites, read by digestfeed's reader.

Each readable fixture in ``tests/data/reader/thirdparty/`` is read from disk and served over
real HTTP on 127.0.0.1 with the headers its manifest names; the items must match
feedparser's own reading of the same bytes (``expected.json``, written by
``make_expected.py``): one item per entry, the same links and titles, tag terms intact.
Hostile fixtures (entity bombs, external entities, oversized bodies) must be refused with a
reason that names what is wrong.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest

from digestfeed.reader import Item, Reader, ReadResult

HERE = Path(__file__).resolve().parent / "data" / "reader" / "thirdparty"
MANIFEST: dict[str, dict[str, Any]] = json.loads((HERE / "MANIFEST.json").read_text("utf-8"))
EXPECTED: dict[str, Any] = json.loads((HERE / "expected.json").read_text("utf-8"))
DEFAULT_TYPES = {
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".rdf": "application/rdf+xml",
    ".json": "application/feed+json",
    ".xml": "application/xml",
}

#: What today's reader gets wrong, per (fixture, mode); each is a strict xfail, so a fix
#: that makes one pass must remove its line here.
TODAY: dict[tuple[str, str], str] = {
    ("arxiv_api_idlist.atom", "file"): "tag terms lose their dots (cs.CL -> cscl)",
    ("arxiv_api_idlist.atom", "http"): "tag terms lose their dots (cs.CL -> cscl)",
    ("arxiv_rss_listing.rss", "file"): "tag terms lose their dots (cs.CL -> cscl)",
    ("arxiv_rss_listing.rss", "http"): "tag terms lose their dots (cs.CL -> cscl)",
    ("arxivid_text_mention.json", "file"): "JSON Feed is refused as not a feed",
    ("arxivid_text_mention.json", "http"): "JSON Feed is refused as not a feed",
    (
        "fp_atom03_entry_link_content_location.xml",
        "http",
    ): "the Content-Location header is not used as the base URL",
    (
        "fp_atom03_entry_link_docuri.xml",
        "file",
    ): "an untitled entry with only a root-relative link is dropped from a saved feed",
    (
        "fp_encoding_bozo_linenoise.xml",
        "file",
    ): "one byte invalid in the declared encoding refuses the whole feed",
    (
        "fp_encoding_bozo_linenoise.xml",
        "http",
    ): "one byte invalid in the declared encoding refuses the whole feed",
    (
        "fp_encoding_http_charset_windows1252.xml",
        "file",
    ): "the HTTP charset is ignored; windows-1252 bytes refused as malformed",
    (
        "fp_encoding_http_charset_windows1252.xml",
        "http",
    ): "the HTTP charset is ignored; windows-1252 bytes refused as malformed",
    (
        "fp_entities_aacute.xml",
        "file",
    ): "undeclared HTML entity refused with a false 'DTD declares entities' reason",
    (
        "fp_entities_aacute.xml",
        "http",
    ): "undeclared HTML entity refused with a false 'DTD declares entities' reason",
    ("fp_json_example.json", "file"): "JSON Feed 1.0 is refused as not a feed",
    ("fp_json_example.json", "http"): "JSON Feed 1.0 is refused as not a feed",
    ("lr_full.json", "file"): "JSON Feed 1.1 is refused as not a feed",
    ("lr_full.json", "http"): "JSON Feed 1.1 is refused as not a feed",
    ("lr_relative.atom", "file"): "relative links of a saved feed become file:/// URLs",
    ("lr_relative.rss", "file"): "relative links of a saved feed become file:/// URLs",
    ("nnw_3960.json", "file"): "JSON Feed 1.1 is refused as not a feed",
    ("nnw_3960.json", "http"): "JSON Feed 1.1 is refused as not a feed",
    ("nfp_category_feed.xml", "file"): "punctuation is dropped from tag terms",
    ("nfp_category_feed.xml", "http"): "punctuation is dropped from tag terms",
    (
        "nfp_rss_relative_urls.xml",
        "file",
    ): "root-relative links of a saved feed become file:/// URLs",
    (
        "nfp_tpm_fragment_base.atom",
        "file",
    ): "root-relative links of a saved feed become file:/// URLs",
    ("rfc4287_entry_document.atom", "file"): "an Atom entry document is refused (root <entry>)",
    ("rfc4287_entry_document.atom", "http"): "an Atom entry document is refused (root <entry>)",
    ("rp_encoding_latin1_undeclared.rss", "file"): "undeclared Latin-1 is refused as malformed XML",
    ("rp_encoding_latin1_undeclared.rss", "http"): "undeclared Latin-1 is refused as malformed XML",
    ("rp_rss091_leading_newline.rss", "file"): "a newline before <?xml is refused as malformed XML",
    ("rp_rss091_leading_newline.rss", "http"): "a newline before <?xml is refused as malformed XML",
    (
        "syn_bare_ampersand.rss",
        "file",
    ): "a bare & is refused with a false 'DTD declares entities' reason",
    (
        "syn_bare_ampersand.rss",
        "http",
    ): "a bare & is refused with a false 'DTD declares entities' reason",
    ("syn_category_terms.atom", "file"): "tag terms mangled (cs.LG -> cslg, C++ -> c)",
    ("syn_category_terms.atom", "http"): "tag terms mangled (cs.LG -> cslg, C++ -> c)",
    ("syn_category_terms.rss", "file"): "tag terms mangled (C++ and C# -> c, cs.CL -> cscl)",
    ("syn_category_terms.rss", "http"): "tag terms mangled (C++ and C# -> c, cs.CL -> cscl)",
    (
        "syn_entities_html_items.rss",
        "file",
    ): "undeclared HTML entities refused with a false 'DTD declares entities' reason",
    (
        "syn_entities_html_items.rss",
        "http",
    ): "undeclared HTML entities refused with a false 'DTD declares entities' reason",
    (
        "syn_fragment_links.atom",
        "file",
    ): "entries whose links differ by #fragment are merged into one item",
    (
        "syn_fragment_links.atom",
        "http",
    ): "entries whose links differ by #fragment are merged into one item",
    (
        "syn_fragment_links_no_ids.rss",
        "file",
    ): "items whose links differ by #fragment are merged into one item",
    (
        "syn_fragment_links_no_ids.rss",
        "http",
    ): "items whose links differ by #fragment are merged into one item",
    ("syn_json_deep_nesting.json", "file"): "JSON is refused as unsupported, not for its nesting",
    ("syn_json_deep_nesting.json", "http"): "JSON is refused as unsupported, not for its nesting",
    (
        "syn_latin1_charset_header_only.rss",
        "file",
    ): "the HTTP charset is ignored; Latin-1 bytes refused as malformed",
    (
        "syn_latin1_charset_header_only.rss",
        "http",
    ): "the HTTP charset is ignored; Latin-1 bytes refused as malformed",
    (
        "syn_leading_blank_lines.xml",
        "file",
    ): "blank lines before <?xml are refused as malformed XML",
    (
        "syn_leading_blank_lines.xml",
        "http",
    ): "blank lines before <?xml are refused as malformed XML",
    (
        "syn_repeated_titles.atom",
        "file",
    ): "distinct entries sharing a title are merged into one item",
    (
        "syn_repeated_titles.atom",
        "http",
    ): "distinct entries sharing a title are merged into one item",
    (
        "syn_repeated_titles_no_ids.rss",
        "file",
    ): "distinct items sharing a title are merged into one item",
    (
        "syn_repeated_titles_no_ids.rss",
        "http",
    ): "distinct items sharing a title are merged into one item",
    ("syn_shared_link.rss", "file"): "distinct items sharing one link are merged into one item",
    ("syn_shared_link.rss", "http"): "distinct items sharing one link are merged into one item",
}


def _params(expect: str) -> list[Any]:
    out = []
    for name, entry in MANIFEST.items():
        if entry["expect"] != expect:
            continue
        for mode in ("file", "http"):
            if mode == "file" and entry.get("http_only"):
                continue
            reason = TODAY.get((name, mode))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(name, mode, id=f"{name}-{mode}", marks=marks))
    return out


def _headers(name: str) -> dict[str, str]:
    headers = {"Content-Type": DEFAULT_TYPES.get(Path(name).suffix, "application/xml")}
    headers.update(MANIFEST[name].get("headers", {}))
    return headers


def _read(name: str, mode: str, httpserver: Any, tmp_path: Path) -> tuple[ReadResult, str | None]:
    """Read one fixture (from disk or served); return the result and the URL it was served at."""
    if mode == "file":
        source, url = str(HERE / name), None
    else:
        headers = _headers(name)
        content_type = headers.pop("Content-Type")
        httpserver.expect_request(f"/{name}").respond_with_data(
            (HERE / name).read_bytes(), content_type=content_type, headers=headers
        )
        source = url = httpserver.url_for(f"/{name}")
    with Reader(tmp_path / "state.sqlite", local_twins=False) as reader:
        return reader.read([source], all=True), url


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())


def _tag_key(term: str) -> str:
    """A tag term compared case-blind, with spaces, hyphens and underscores alike."""
    return "-".join(re.split(r"[\s_-]+", term.casefold().strip()))


def _find(items: list[Item], link: str | None, title: str | None) -> Item | None:
    if link:
        return next((i for i in items if link in i.links), None)
    if _norm(title):
        return next((i for i in items if _norm(i.title) == _norm(title)), None)
    return None


@pytest.mark.parametrize(("name", "mode"), _params("read"))
def test_reads_like_feedparser(name: str, mode: str, httpserver: Any, tmp_path: Path) -> None:
    """A third-party feed gives one item per entry, with feedparser's links, titles and tags."""
    result, url = _read(name, mode, httpserver, tmp_path)
    assert [f.reason for f in result.failures] == []
    entries = EXPECTED[name]["entries"]
    assert len(result) == len(entries), [i.links for i in result]
    for entry in entries:
        link = entry["link"]
        if link and url:
            link = urljoin(url, link)  # what feedparser gives when told the document's URL
        item = _find(list(result), link, entry["title"])
        if item is None:
            assert not link and not _norm(entry["title"]), (link, [i.links for i in result])
            continue
        if _norm(entry["title"]):
            assert _norm(item.title) == _norm(entry["title"])
        tags = {_tag_key(t) for t in item.tags}
        assert {_tag_key(t) for t in entry["tags"] if t} <= tags, item.tags


@pytest.mark.parametrize(("name", "mode"), _params("refuse"))
def test_refuses_hostile(name: str, mode: str, httpserver: Any, tmp_path: Path) -> None:
    """A hostile document is refused, nothing of it is read, and the reason says why."""
    result, _ = _read(name, mode, httpserver, tmp_path)
    assert len(result) == 0
    assert len(result.failures) == 1
    reason = result.failures[0].reason
    assert re.search(MANIFEST[name]["reason"], reason, re.IGNORECASE), reason
    assert "Traceback" not in reason


def test_refuses_oversized_file(tmp_path: Path) -> None:
    """A feed file one byte over the size cap is refused by the cap, not parsed."""
    big = tmp_path / "big.rss"
    with Reader(tmp_path / "state.sqlite") as reader:
        head = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><description>'
        tail = b"</description></channel></rss>"
        big.write_bytes(head + b"A" * (reader.max_bytes + 1 - len(head) - len(tail)) + tail)
        result = reader.read([big], all=True)
    assert len(result) == 0
    assert len(result.failures) == 1
    assert "size cap" in result.failures[0].reason


#: One paper each, seen through every arXiv id form in the fixtures.
PAPERS = {"arxiv:2505.04588", "arxiv:1706.03762", "arxiv:hep-th/9901001", "arxiv:hep-ex/0307015"}
ARXIV_FIXTURES = sorted(n for n in MANIFEST if n.startswith(("arxiv_", "arxivid_")))


@pytest.mark.xfail(
    strict=True,
    reason="alphaxiv, huggingface, doi.org/10.48550, paperswithcode links, [ID] title "
    "prefixes and old-style ids are not recognised as arXiv ids",
)
def test_arxiv_id_forms_are_one_paper(tmp_path: Path) -> None:
    """Every arXiv id form (mirror links, DOI, text, title prefix, old style) is one paper."""
    with Reader(tmp_path / "state.sqlite") as reader:
        result = reader.read([HERE / n for n in ARXIV_FIXTURES], all=True)
    assert [f.reason for f in result.failures] == []
    assert sorted(i.key for i in result) == sorted(PAPERS)
