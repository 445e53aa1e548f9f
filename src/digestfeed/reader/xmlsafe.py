"""Untrusted feed bytes → safe, well-formed UTF-8 XML and its root, or a true refusal.

Three steps, in this order:

1. **Decode** with feedparser's own rules (:func:`feedparser.encodings.convert_to_utf8`):
   a byte-order mark, the HTTP ``Content-Type`` charset (RFC 3023), the XML declaration,
   then UTF-8, windows-1252 and ISO-8859-2 in turn. White space and a byte-order mark
   before ``<?xml`` are dropped. From here on the document is UTF-8, so the checks below
   read every encoding alike (a UTF-16 document cannot hide a DTD from them).
2. **Refuse entity declarations**: a DTD that declares entities (billion laughs, external
   entities, parameter entities) is refused before any parser sees it. Nothing named by
   the document (a DTD, an entity, a stylesheet) is ever fetched or opened.
3. **Parse strictly** with lxml (entities unresolved, no DTD loading, no network). If that
   fails, repair what feedparser's loose parser would have accepted, outside CDATA
   sections and comments — undeclared HTML entities (``&nbsp;``, ``&aacute;``) become
   character references, a bare ``&`` becomes ``&amp;``, characters XML forbids are
   dropped — and parse strictly again. A document still malformed after that (a truncated
   one, mismatched tags) is refused with lxml's message: never a partial feed.
"""

from __future__ import annotations

import dataclasses
import html.entities
import re

import lxml.etree as etree

from ..errors import ReadError


class FeedParseError(ReadError):
    """The bytes are not a (safe, well-formed) feed; the message is the reason."""


ENTITIES_REFUSED = "refused: the DTD declares entities (entity expansion is not allowed)"

_SAFE_PARSER_KW = dict(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)
_DECLARATION = re.compile(rb"^<\?xml[^>]*\?>")
#: The prolog up to a DOCTYPE: declaration, comments, processing instructions, white space.
_PROLOG_DOCTYPE = re.compile(
    rb"^(?:<\?xml[^>]*\?>)?(?:\s*<!--.*?-->|\s*<\?.*?\?>)*\s*<!DOCTYPE\b", re.DOTALL
)
_ENTITY_DECL = re.compile(rb"<!ENTITY\b", re.IGNORECASE)
#: Sections whose text is not markup: left exactly as written by the repair.
_VERBATIM = re.compile(rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->", re.DOTALL)
_AMPERSAND = re.compile(rb"&(?:(#[0-9]+;|#x[0-9a-fA-F]+;)|([A-Za-z][A-Za-z0-9]*);)?")
_XML_PREDEFINED = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})
_FORBIDDEN_CHARS = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")
_FORBIDDEN_REF = re.compile(rb"&#(?:x0*([0-9a-fA-F]{1,8})|0*([0-9]{1,10}));")


@dataclasses.dataclass(frozen=True, slots=True)
class Prepared:
    """A document ready for feedparser: UTF-8 bytes and lxml's root of them."""

    body: bytes  #: UTF-8, with an ``encoding='utf-8'`` declaration
    root: etree._Element


def to_utf8(body: bytes, content_type: str = "") -> tuple[bytes, str]:
    """Decode ``body`` by feedparser's rules and return it as UTF-8, with the encoding used.

    ``content_type`` is the HTTP ``Content-Type`` (empty for a file).
    """
    from feedparser.encodings import convert_to_utf8

    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    body = body.lstrip(b" \t\r\n")
    result: dict[str, object] = {}
    headers = {"content-type": content_type} if content_type else {}
    data = convert_to_utf8(headers, body, result)
    encoding = str(result.get("encoding") or "")
    if not encoding:
        raise FeedParseError("cannot decode: the character encoding is unknown")
    head = _DECLARATION.match(data)
    if head is None:  # pragma: no cover - convert_to_utf8 always writes one
        return b"<?xml version='1.0' encoding='utf-8'?>" + data, encoding
    rest = data[head.end() :]
    if rest.startswith(b"\n") and not _DECLARATION.match(body):
        rest = rest[1:]  # the line break convert_to_utf8 added: line numbers stay the file's
    return head.group(0) + rest, encoding


def refuse_entity_declarations(utf8: bytes) -> None:
    """Raise when the document's DTD declares entities (scanned before any parsing)."""
    doctype = _PROLOG_DOCTYPE.match(utf8)
    if doctype is None:
        return
    end = utf8.find(b"]>", doctype.end())
    subset = utf8[doctype.end() : end if end >= 0 else len(utf8)]
    if _ENTITY_DECL.search(subset):
        raise FeedParseError(ENTITIES_REFUSED)


def _entity_ref(m: re.Match[bytes]) -> bytes:
    if m.group(1):  # a character reference: left to the forbidden-reference pass
        return m.group(0)
    name = m.group(2)
    if name is None:
        return b"&amp;"  # a bare ampersand
    if name in _XML_PREDEFINED:
        return m.group(0)
    text = html.entities.html5.get(name.decode("ascii") + ";")
    if text is None:
        return b"&amp;" + name + b";"  # unknown: kept as the text it was written as
    return b"".join(b"&#x%X;" % ord(c) for c in text)


def _allowed_ref(m: re.Match[bytes]) -> bytes:
    code = int(m.group(1), 16) if m.group(1) else int(m.group(2))
    allowed = (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )
    return m.group(0) if allowed else b""


def _repair_markup(text: bytes) -> bytes:
    text = _AMPERSAND.sub(_entity_ref, text)
    text = _FORBIDDEN_REF.sub(_allowed_ref, text)
    return _FORBIDDEN_CHARS.sub(b"", text)


def repair(utf8: bytes) -> bytes:
    """What feedparser's loose parser accepts, made well-formed (CDATA and comments untouched)."""
    out: list[bytes] = []
    pos = 0
    for m in _VERBATIM.finditer(utf8):
        out.append(_repair_markup(utf8[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_repair_markup(utf8[pos:]))
    return b"".join(out)


def _parse(utf8: bytes) -> etree._Element:
    parser = etree.XMLParser(**_SAFE_PARSER_KW)  # type: ignore[arg-type]
    root = etree.fromstring(utf8, parser)
    if root is None:
        raise FeedParseError("empty document")
    return root


def prepare(body: bytes, content_type: str = "") -> Prepared:
    """Decode, check and parse untrusted XML; raise :class:`FeedParseError` with the reason."""
    if not body.strip():
        raise FeedParseError("empty document")
    utf8, _ = to_utf8(body, content_type)
    refuse_entity_declarations(utf8)
    try:
        root = _parse(utf8)
    except etree.XMLSyntaxError:
        fixed = repair(utf8)
        try:
            root = _parse(fixed)
        except etree.XMLSyntaxError as exc:
            raise FeedParseError(f"malformed XML: {exc}") from None
        utf8 = fixed
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):  # type: ignore[attr-defined]
        raise FeedParseError(ENTITIES_REFUSED)
    return Prepared(utf8, root)


def safe_root(body: bytes, content_type: str = "") -> etree._Element:
    """The root of ``body`` parsed safely (see :func:`prepare`)."""
    return prepare(body, content_type).root
