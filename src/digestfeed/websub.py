"""WebSub publishing: tell the hub which feeds (topics) changed in the last build.

The publisher side of WebSub is a form-encoded ``POST`` to the hub with ``hub.mode=publish``
and ``hub.url=<topic URL>`` (PubSubHubbub 0.4; the W3C WebSub recommendation leaves the
publish request to hub and publisher, and this is the form hubs accept). Hubs such as
Google's also accept ``hub.url`` repeated in one request (:func:`notify` with ``batch``).
Any 2xx answer (usually ``204 No Content``) is success.

A topic is a file the last build changed *and* that advertises the hub (its bytes hold
``rel="hub"`` pointing at :attr:`Config.hub`): subscription documents do, RFC 5005
archives and the OPML index do not, so they are never announced.
"""

from __future__ import annotations

import dataclasses
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from .config import Config

DEFAULT_TIMEOUT = 10.0
USER_AGENT = "digestfeed-websub/1 (+https://pypi.org/project/digestfeed/)"


def advertises_hub(data: bytes, hub: str) -> bool:
    """Whether a feed's bytes name ``hub`` (XML-escaped in Atom/RSS, plain in JSON Feed)."""
    return hub.encode() in data or escape(hub, {'"': "&quot;"}).encode() in data


def topics(config: Config, out_dir: Path, changed: Sequence[str]) -> dict[str, str]:
    """``{relative path: topic URL}`` of the changed files that advertise the hub."""
    found = {}
    for rel in changed:
        try:
            data = (out_dir / rel).read_bytes()
        except OSError:
            continue  # removed since: nothing to announce
        if advertises_hub(data, config.hub):
            found[rel] = config.feed_url(rel)
    return found


@dataclasses.dataclass(frozen=True)
class Outcome:
    urls: tuple[str, ...]
    error: str | None = None  #: ``None`` = the hub accepted it

    @property
    def ok(self) -> bool:
        return self.error is None


def notify(
    hub: str, urls: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT, batch: bool = False
) -> list[Outcome]:
    """POST ``hub.mode=publish`` for ``urls``: one request per URL, or one for all (``batch``)."""
    groups = [tuple(urls)] if batch and urls else [(url,) for url in urls]
    return [_post(hub, group, timeout) for group in groups]


def _post(hub: str, urls: tuple[str, ...], timeout: float) -> Outcome:
    body = urllib.parse.urlencode(
        [("hub.mode", "publish"), *(("hub.url", u) for u in urls)]
    ).encode()
    request = urllib.request.Request(
        hub,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": USER_AGENT,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(4096)
            status = response.status
    except urllib.error.HTTPError as exc:  # non-2xx (urllib follows 3xx itself)
        detail = exc.read(300).decode("utf-8", "replace").strip().replace("\n", " ")
        return Outcome(
            urls, f"hub answered {exc.code} {exc.reason}" + (f": {detail}" if detail else "")
        )
    except TimeoutError:
        return Outcome(urls, f"hub did not answer within {timeout:g} s")
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            return Outcome(urls, f"hub did not answer within {timeout:g} s")
        text = getattr(reason, "strerror", None) or str(reason)
        return Outcome(urls, f"cannot reach the hub: {text}")
    except (OSError, ValueError) as exc:  # connection reset, bad status line, …
        return Outcome(urls, f"cannot reach the hub: {exc}")
    if not 200 <= status < 300:
        return Outcome(urls, f"hub answered {status}")
    return Outcome(urls)
