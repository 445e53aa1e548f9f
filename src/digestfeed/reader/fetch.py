"""Fetching feed bytes: HTTP(S) with conditional GET, a timeout, a size cap and a
bounded number of redirects (stdlib only), and local files with the same size cap.

Nothing here parses; a :class:`Fetched` carries the raw bytes (or ``None`` when the
server answered 304 Not Modified) and the validators to store for next time.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import socket
import time
import urllib.parse
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import http.client

from ..errors import ReadError

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 5
USER_AGENT = "digestfeed-reader/0.1 (+https://github.com/digestfeed)"
_CHUNK = 64 * 1024


class FetchError(ReadError):
    """One source could not be fetched; the message is the reason (without the source)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Validators:
    """What the previous successful fetch of a feed left behind."""

    etag: str | None = None
    last_modified: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Fetched:
    """The result of one fetch. ``body`` is ``None`` when the server said 304."""

    location: str  #: as requested (the state key)
    final_url: str  #: after redirects (the base for relative links)
    body: bytes | None
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.body is None


def is_url(location: str) -> bool:
    return urllib.parse.urlsplit(location).scheme.lower() in ("http", "https")


@functools.cache
def _opener() -> Any:
    """A urllib opener that hands every 3xx back to the caller (imported lazily: an
    unchanged run over local files never needs http.client or ssl)."""
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
            return None

    # build_opener adds file:, ftp: and data: handlers; only http(s) URLs ever reach it
    return urllib.request.build_opener(NoRedirect())


def fetch(
    location: str,
    validators: Validators | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
) -> Fetched:
    """Fetch ``location`` (an http(s) URL or a file path); raise :class:`FetchError`."""
    if is_url(location):
        return fetch_url(
            location, validators, timeout=timeout, max_bytes=max_bytes, max_redirects=max_redirects
        )
    return read_file(location, validators, max_bytes=max_bytes)


def read_file(
    path: str, validators: Validators | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Fetched:
    """Read a feed file. Its "ETag" is inode, mtime and size: when they are what
    ``validators`` remembers, the file is not even read (a local 304)."""
    try:
        st = os.stat(path)
        tag = f"file:{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"
        if validators is not None and validators.etag == tag:
            return Fetched(location=path, final_url=path, body=None, etag=tag)
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                raise FetchError(f"larger than the size cap ({size} > {max_bytes} bytes)")
            body = f.read(max_bytes + 1)
    except FetchError:
        raise
    except OSError as exc:
        raise FetchError(exc.strerror or str(exc)) from None
    if len(body) > max_bytes:
        raise FetchError(f"larger than the size cap ({max_bytes} bytes)")
    return Fetched(location=path, final_url=Path(path).resolve().as_uri(), body=body, etag=tag)


def fetch_url(
    url: str,
    validators: Validators | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
) -> Fetched:
    """GET ``url``, following at most ``max_redirects`` redirects (a loop is an error).

    ``timeout`` bounds every socket operation and the whole download; the body is
    streamed and the download aborted as soon as it exceeds ``max_bytes`` (after gzip
    decoding too).
    """
    import http.client
    import ssl
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    validators = validators or Validators()
    seen = {url}
    current = url
    for _ in range(max_redirects + 1):
        headers = {
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "gzip",
            "Accept": "application/atom+xml, application/rss+xml, application/xml;q=0.9, "
            "text/xml;q=0.9, */*;q=0.1",
        }
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        request = urllib.request.Request(current, headers=headers)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError(f"timed out after {timeout:g} s")
        try:
            response = _opener().open(request, timeout=remaining)
        except urllib.error.HTTPError as exc:
            response = exc
            status = exc.code
            if status == 304:
                exc.close()
                return Fetched(
                    url, current, None, etag=validators.etag, last_modified=validators.last_modified
                )
            if status in (301, 302, 303, 307, 308):
                target = exc.headers.get("Location")
                exc.close()
                if not target:
                    raise FetchError(f"HTTP {status} redirect without a Location") from None
                target = urllib.parse.urljoin(current, target)
                if not is_url(target):
                    raise FetchError(f"redirect to a non-HTTP URL {target!r}") from None
                if target in seen:
                    raise FetchError(f"redirect loop ({current} -> {target})") from None
                seen.add(target)
                current = target
                continue
            exc.close()
            raise FetchError(f"HTTP {status} {exc.reason}") from None
        except TimeoutError:
            raise FetchError(f"timed out after {timeout:g} s") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise FetchError(f"timed out after {timeout:g} s") from None
            raise FetchError(f"cannot connect: {reason}") from None
        except (http.client.HTTPException, ssl.SSLError, OSError) as exc:
            raise FetchError(f"HTTP error: {exc}") from None
        with response:
            body = _read_capped(response, max_bytes, deadline, timeout)
            return Fetched(
                location=url,
                final_url=current,
                body=body,
                content_type=response.headers.get("Content-Type", ""),
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )
    raise FetchError(f"more than {max_redirects} redirects")


def _read_capped(
    response: http.client.HTTPResponse, max_bytes: int, deadline: float, timeout: float
) -> bytes:
    import http.client

    over = f"larger than the size cap ({max_bytes} bytes)"
    length = response.headers.get("Content-Length")
    gzipped = response.headers.get("Content-Encoding", "").lower() in ("gzip", "x-gzip")
    if length and length.isdigit() and int(length) > max_bytes and not gzipped:
        raise FetchError(f"{over}: Content-Length {length}")
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            if time.monotonic() > deadline:
                raise FetchError(f"timed out after {timeout:g} s")
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            if inflate is not None:
                # max_length bounds the output: a gzip bomb stops at the cap
                chunk = inflate.decompress(inflate.unconsumed_tail + chunk, max_bytes + 1 - size)
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(over)
            chunks.append(chunk)
        if inflate is not None:
            tail = inflate.flush()
            size += len(tail)
            if size > max_bytes:
                raise FetchError(over)
            chunks.append(tail)
    except TimeoutError:
        raise FetchError(f"timed out after {timeout:g} s") from None
    except zlib.error as exc:
        raise FetchError(f"bad gzip body: {exc}") from None
    except (http.client.HTTPException, OSError) as exc:
        raise FetchError(f"connection broken: {exc}") from None
    return b"".join(chunks)
