"""``digestfeed init DIR --url URL``: start a publication (a publishing repository, no tool code).

Writes ``digestfeed.toml`` (the URL as ``site_url`` and ``feed_base_url``, ``tag_authority``
= the URL's host, ``tag_date`` = this year), ``entries/<today>.txt`` (one example digest),
``.github/workflows/publish.yml`` (build, commit the ledger, deploy ``feeds/`` to GitHub
Pages), ``.gitignore`` and a short ``README.md``. The clock is read here, once, on purpose:
``init`` fixes the publication's ids; builds never read it.

The workflow installs digestfeed from one pinned line: :func:`install_spec`, the tool's git
repository (``[project.urls] Repository`` of the installed distribution, read through
:mod:`importlib.metadata`) at the tag of the running version, since there is no package-index
release yet.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from importlib import metadata, resources
from pathlib import Path

import click

from ..cli import EXIT_BAD_INPUT, fail, handle_errors
from ..config import validate
from ..errors import ConfigError
from ..urls import is_absolute_http

#: The tool's repository when the installed metadata does not name one (an install made
#: before ``[project.urls]`` existed); a test keeps it equal to pyproject.toml's.
REPOSITORY = "https://github.com/digestfeed/digestfeed"
#: template file → path in the new repository (``{date}``: today's digest).
FILES = {
    "digestfeed.toml": "digestfeed.toml",
    "example.txt": "entries/{date}.txt",
    "publish.yml": ".github/workflows/publish.yml",
    "gitignore": ".gitignore",
    "README.md": "README.md",
}


def repository() -> str:
    """The tool's git repository: the installed distribution's ``Repository`` project URL."""
    try:
        urls: list[str] = metadata.metadata("digestfeed").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        urls = []
    for item in urls:
        label, _, url = item.partition(",")
        if label.strip().lower() == "repository" and url.strip():
            return url.strip()
    return REPOSITORY


def install_spec() -> str:
    """The pip requirement the workflow installs: the repository at this version's tag."""
    return f"digestfeed @ git+{repository()}@v{metadata.version('digestfeed')}"


def _toml_text(value: str) -> str:
    """``value`` as the inside of a TOML basic string (JSON escapes are TOML escapes)."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


def plan_files(url: str, title: str, curator: str, install: str, today: dt.date) -> dict[str, str]:
    """``{relative path: text}`` of the new repository."""
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    values = {
        "__URL__": url,
        "__AUTHORITY__": host,
        "__YEAR__": str(today.year),
        "__DATE__": today.isoformat(),
        "__INSTALL__": install,
        "__REPOSITORY__": repository(),
    }
    out = {}
    for template, target in FILES.items():
        text = (
            resources.files("digestfeed")
            .joinpath("templates", "init", template)
            .read_text(encoding="utf-8")
        )
        quoted = template.endswith(".toml")
        fields = {
            **values,
            "__TITLE__": _toml_text(title) if quoted else title,
            "__CURATOR__": _toml_text(curator) if quoted else curator,
        }
        for token, value in fields.items():
            text = text.replace(token, value)
        out[target.format(date=today.isoformat())] = text
    return out


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--url",
    required=True,
    metavar="URL",
    help="Where the feeds will be served, e.g. https://you.github.io/papers/ (GitHub Pages).",
)
@click.option("--title", default="Paper digest", show_default=True, help="The site's title.")
@click.option("--curator", default="", help="Your name, the feeds' author (default: the host).")
@click.option(
    "--install",
    default=None,
    metavar="SPEC",
    help="What the workflow pip-installs (default: digestfeed's git repository at this version's tag).",
)
@click.option("--force", is_flag=True, help="Write into a non-empty DIR (existing files are kept).")
@handle_errors
def init_command(
    directory: Path, url: str, title: str, curator: str, install: str | None, force: bool
) -> None:
    """Start a publication in DIRECTORY: config, an example digest, a Pages workflow.

    \b
    digestfeed init papers --url https://you.github.io/papers/
    cd papers && digestfeed build       (then open feeds/index.html)
    """
    if not url.endswith("/"):
        url += "/"
    if not is_absolute_http(url):
        fail(f"digestfeed init: --url must be an absolute http(s) URL, got {url!r}")
    host = urllib.parse.urlsplit(url).hostname or ""
    files = plan_files(url, title, curator or host, install or install_spec(), dt.date.today())
    try:
        validate(_config_of(files["digestfeed.toml"]), "digestfeed.toml")
    except ConfigError as exc:
        fail(f"digestfeed init: {exc}")
    if directory.exists() and not directory.is_dir():
        fail(f"digestfeed init: {directory}: not a directory")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        fail(
            f"digestfeed init: {directory}: not empty (pass --force to add the files that are "
            "missing; existing files are kept)",
            EXIT_BAD_INPUT,
        )
    for rel, text in files.items():
        path = directory / rel
        if path.exists() or path.is_symlink():
            click.echo(f"  kept  {rel} (exists)")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        click.echo(f"  wrote {rel}")
    click.echo(
        f"\nStarted a publication in {directory} for {url}\n"
        f"Next: cd {directory} && digestfeed build   (then open feeds/index.html)\n"
        "Publish: push to GitHub and choose Settings → Pages → Source: GitHub Actions."
    )


def _config_of(text: str) -> dict[str, object]:
    import tomllib

    return tomllib.loads(text)


COMMANDS = [init_command]
