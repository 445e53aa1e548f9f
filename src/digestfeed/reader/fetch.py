"""Fetching feed bytes: HTTP(S) with conditional GET, a timeout, a size cap and a
bounded number of redirects (stdlib only), and local files with the same size cap.

Nothing here parses; a :class:`Fetched` carries the raw bytes (or ``None`` when the
server answered 304 Not Modified) and the validators to store for next time.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import hashlib
import io
import ipaddress
import os
import socket
import stat
import time
import urllib.parse
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import http.client

from ..errors import ReadError
from .options import DEFAULT_MAX_BYTES, DEFAULT_MAX_REDIRECTS, DEFAULT_TIMEOUT

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
    content_location: str | None = None  #: the response's ``Content-Location``, as sent
    #: SHA-256 of ``body`` (hex), computed once, in the fetching thread
    sha256: str | None = dataclasses.field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.body is not None:
            object.__setattr__(self, "sha256", hashlib.sha256(self.body).hexdigest())

    @property
    def not_modified(self) -> bool:
        return self.body is None

    @property
    def base_url(self) -> str:
        """The document's URL for relative links: ``Content-Location`` (resolved against the
        final URL, http(s) only, as feedparser uses it), else the final URL."""
        if self.content_location and is_url(self.final_url):
            joined = urllib.parse.urljoin(self.final_url, self.content_location.strip())
            if is_url(joined):
                return joined
        return self.final_url


def is_url(location: str) -> bool:
    return urllib.parse.urlsplit(location).scheme.lower() in ("http", "https")


def is_private_address(ip: str) -> bool:
    """Loopback, link-local, private, shared, reserved, unspecified or multicast: any
    address that is not a public unicast address (IPv4-mapped IPv6 judged as IPv4)."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return not addr.is_global or addr.is_multicast


class _DeadlineSocket:
    """A connected socket whose every send and receive waits at most until ``deadline``.

    http.client reads a response through ``makefile("rb")``, one ``recv_into`` at a time;
    each is given only the time left, so a server that trickles its status line, headers
    or body a byte at a time is cut off at the deadline instead of resetting a per-read
    timeout forever.
    """

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline
        self._io_refs = 0
        self._closed = False

    def _arm(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the fetch deadline passed")
        self._sock.settimeout(remaining)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        self._arm()
        return self._sock.recv_into(buffer, nbytes, flags)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self._arm()
        return self._sock.recv(bufsize, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        self._arm()
        self._sock.sendall(data, flags)

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        self._io_refs += 1
        return io.BufferedReader(socket.SocketIO(self, "rb"))  # type: ignore[arg-type]

    def _decref_socketios(self) -> None:
        self._io_refs -= 1
        if self._closed and self._io_refs <= 0:
            self._sock.close()

    def close(self) -> None:
        self._closed = True
        if self._io_refs <= 0:
            self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


@dataclasses.dataclass(slots=True)
class _Hop:
    """What the connections of the current request must enforce."""

    deadline: float
    refuse_private: bool = False
    proxied: bool = False


class PrivateAddressError(OSError):
    """A redirect (or a link) led to a loopback, link-local or private address."""

    def __init__(self, address: str) -> None:
        super().__init__(address)
        self.address = address


@functools.cache
def _connections() -> tuple[type[Any], type[Any]]:
    """http.client connections bound by a :class:`_Hop`: the deadline on every socket
    operation and, when asked, a refusal to talk to a private address (checked on the
    address actually connected to, so a DNS answer cannot change between check and use).
    Built on first use: a run over unchanged local files never imports http.client."""
    import http.client

    class Guarded:
        hop: _Hop
        sock: Any

        def connect(self) -> None:
            super().connect()  # type: ignore[misc]
            if self.hop.refuse_private and not self.hop.proxied:
                peer = self.sock.getpeername()[0]
                if is_private_address(peer):
                    self.sock.close()
                    raise PrivateAddressError(peer)
            self.sock = _DeadlineSocket(self.sock, self.hop.deadline)

    class Http(Guarded, http.client.HTTPConnection):
        pass

    class Https(Guarded, http.client.HTTPSConnection):
        pass

    return Http, Https


def _connection(cls: type[Any], hop: _Hop, host: str, **kwargs: Any) -> Any:
    conn = cls(host, **kwargs)
    conn.hop = hop
    return conn


def _opener(hop: _Hop) -> Any:
    """A urllib opener for one request: http(s) only (no file:, ftp: or data: handler),
    every 3xx handed back to the caller, the connections bound by ``hop``."""
    import ssl
    import urllib.request

    plain, tls = _connections()

    def proxied(req: urllib.request.Request) -> bool:
        return bool(getattr(req, "_tunnel_host", None)) or req.selector == req.full_url

    class Http(urllib.request.HTTPHandler):
        def http_open(self, req):  # type: ignore[no-untyped-def]
            hop.proxied = proxied(req)
            return self.do_open(functools.partial(_connection, plain, hop), req)

    class Https(urllib.request.HTTPSHandler):
        def https_open(self, req):  # type: ignore[no-untyped-def]
            hop.proxied = proxied(req)
            return self.do_open(
                functools.partial(_connection, tls, hop), req, context=_tls_context(ssl)
            )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
            return None

    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.UnknownHandler(),
        Http(),
        Https(),
        NoRedirect(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


@functools.cache
def _tls_context(ssl: Any) -> Any:
    return ssl.create_default_context()


def fetch(
    location: str,
    validators: Validators | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
    refuse_private: bool = False,
    trust_first: bool = True,
    follow_symlinks: bool = True,
) -> Fetched:
    """Fetch ``location`` (an http(s) URL or a file path); raise :class:`FetchError`.

    ``refuse_private`` refuses every redirect to a private address, and the URL itself
    too unless ``trust_first`` (the reader trusts the URLs it was given, not the ones a
    remote document named). ``follow_symlinks`` is for files.
    """
    if is_url(location):
        return fetch_url(
            location,
            validators,
            timeout=timeout,
            max_bytes=max_bytes,
            max_redirects=max_redirects,
            refuse_private=refuse_private,
            trust_first=trust_first,
        )
    return read_file(location, validators, max_bytes=max_bytes, follow_symlinks=follow_symlinks)


def read_file(
    path: str,
    validators: Validators | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    follow_symlinks: bool = True,
) -> Fetched:
    """Read a feed file (a regular file only: never a FIFO, device or directory; a symlink
    only with ``follow_symlinks``). Its "ETag" is inode, mtime and size: when they are
    what ``validators`` remembers, the file is not even read (a local 304)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        if not follow_symlinks and os.path.islink(path):
            raise FetchError("refused: a symbolic link (only files you name are followed)")
        fd = os.open(path, flags)
        with open(fd, "rb") as f:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise FetchError("not a regular file")
            tag = f"file:{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"
            if validators is not None and validators.etag == tag:
                return Fetched(location=path, final_url=path, body=None, etag=tag)
            if st.st_size > max_bytes:
                raise FetchError(f"larger than the size cap ({st.st_size} > {max_bytes} bytes)")
            body = f.read(max_bytes + 1)
    except FetchError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FetchError(
                "refused: a symbolic link (only files you name are followed)"
            ) from None
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
    refuse_private: bool = False,
    trust_first: bool = True,
) -> Fetched:
    """GET ``url``, following at most ``max_redirects`` redirects (a loop is an error).

    ``timeout`` is a deadline for the whole fetch: connecting, the status line and
    headers, every redirect and the body (each socket operation gets only the time left).
    The body is streamed and the download aborted as soon as it exceeds ``max_bytes``
    (after gzip decoding too).
    """
    import http.client
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    timed_out = f"timed out after {timeout:g} s"
    validators = validators or Validators()
    seen = {url}
    current = url
    for hop_number in range(max_redirects + 1):
        headers = {
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "gzip",
            "Accept": "application/atom+xml, application/rss+xml, application/feed+json, "
            "application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1",
        }
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError(timed_out)
        hop = _Hop(deadline, refuse_private and (hop_number > 0 or not trust_first))
        try:
            request = urllib.request.Request(current, headers=headers)
            response = _opener(hop).open(request, timeout=remaining)
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
                target = urllib.parse.urljoin(current, target.strip())
                if not is_url(target):
                    raise FetchError(f"redirect to a non-HTTP URL {target!r}") from None
                if target in seen:
                    raise FetchError(f"redirect loop ({current} -> {target})") from None
                seen.add(target)
                current = target
                continue
            exc.close()
            raise FetchError(f"HTTP {status} {_reason(exc.reason)}".rstrip()) from None
        except TimeoutError:
            raise FetchError(timed_out) from None
        except PrivateAddressError as exc:
            raise _private(current, exc, hop_number) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise FetchError(timed_out) from None
            if isinstance(reason, PrivateAddressError):
                raise _private(current, reason, hop_number) from None
            raise FetchError(f"cannot connect: {reason}") from None
        except (http.client.HTTPException, OSError, ValueError) as exc:
            raise FetchError(f"HTTP error: {exc}") from None
        with response:
            body = _read_capped(response, max_bytes, timed_out)
            return Fetched(
                location=url,
                final_url=current,
                body=body,
                content_type=response.headers.get("Content-Type", ""),
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
                content_location=response.headers.get("Content-Location"),
            )
    raise FetchError(f"more than {max_redirects} redirects")


def _reason(phrase: object) -> str:
    """An HTTP reason phrase as the server sent it, cut short (made printable on output)."""
    return str(phrase or "")[:80]


def _private(url: str, exc: PrivateAddressError, hop_number: int) -> FetchError:
    what = "redirect to" if hop_number else "link to"
    return FetchError(
        f"refused: {what} {url}, a private address ({exc.address}); "
        "private redirects are refused (--no-private-redirects)"
    )


def _read_capped(response: http.client.HTTPResponse, max_bytes: int, timed_out: str) -> bytes:
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
            # read1: whatever arrived (up to a chunk), so the deadline is checked between
            # small reads too; the socket's own deadline bounds each one
            chunk = response.read1(_CHUNK)
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
    except FetchError:
        raise
    except TimeoutError:
        raise FetchError(timed_out) from None
    except zlib.error as exc:
        raise FetchError(f"bad gzip body: {exc}") from None
    except (http.client.HTTPException, OSError) as exc:
        raise FetchError(f"connection broken: {exc}") from None
    return b"".join(chunks)
