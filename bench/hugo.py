"""The same entries as a Hugo site, to compare digestfeed's whole-site build with Hugo's.

    python bench/hugo.py ENTRIES SITE          # convert a digest directory to a Hugo site
    python bench/hugo.py ENTRIES SITE --build  # … and time `hugo` on it (CPU and wall)

The site has two languages (``ko``, ``en``; ``timeZone`` and base URL from digestfeed's
config) and one page per entry and language (``content/<lang>/posts/<date>-<slug>.md``, JSON
front matter: the title, the entry's ``published`` time as a fresh ledger gives it, the tag
slugs and the authors; the body is the authors, the abstract and the comment of that
language as Markdown, with Goldmark's linkify making every URL a link, as digestfeed does).
Outputs: the page's HTML; for each language the home page and each tag's page as HTML and
RSS, the RSS with every entry's full content and **no item limit** (``[services.rss] limit =
-1``), like digestfeed's per-language and per-tag feeds. The HTML list pages show the newest
50 entries, like digestfeed's tag pages. Sections, the tag index and sitemaps are off.

Entries are read with digestfeed's own parser, so they are exactly the entries a digestfeed
build publishes (same ids, dates and order).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from digestfeed.config import Config
from digestfeed.ledger import first_published
from digestfeed.pipeline import collect_entries
from digestfeed.sources.digest import read_digest_dir
from process import measure

__all__ = ["convert", "run_hugo"]

LANGS = ("ko", "en")
HUGO = shutil.which("hugo") or "/usr/bin/hugo"

_CONFIG = """\
baseURL = {base}
title = {title}
timeZone = {tz}
defaultContentLanguage = "ko"
defaultContentLanguageInSubdir = true
disableKinds = ["section", "sitemap", "robotsTXT", "404"]
enableRobotsTXT = false

[taxonomies]
tag = "tags"

[outputs]
home = ["HTML", "RSS"]
page = ["HTML"]
taxonomy = ["HTML"]
term = ["HTML", "RSS"]

[services.rss]
limit = -1

[markup.goldmark.extensions]
linkify = true

[languages.ko]
languageCode = "ko"
languageName = "한국어"
weight = 1
contentDir = "content/ko"

[languages.en]
languageCode = "en"
languageName = "English"
weight = 2
contentDir = "content/en"
"""

_SINGLE = """\
<!doctype html>
<html lang="{{ .Lang }}"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><article><h1>{{ .Title }}</h1><time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">{{ .Date.Format "2006-01-02" }}</time>
{{ .Content }}
<ul>{{ range .GetTerms "tags" }}<li><a href="{{ .RelPermalink }}">#{{ .LinkTitle }}</a></li>{{ end }}</ul>
</article></body></html>
"""

_LIST = """\
<!doctype html>
<html lang="{{ .Lang }}"><head><meta charset="utf-8"><title>{{ .Title }}</title>
{{ with .OutputFormats.Get "rss" }}<link rel="alternate" type="application/rss+xml" href="{{ .RelPermalink }}">{{ end }}
</head>
<body><h1>{{ .Title }}</h1>
<ul>{{ range first 50 .RegularPages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Date.Format "2006-01-02" }}</li>{{ end }}</ul>
</body></html>
"""

# Hugo's own RSS template (0.111), with the full content instead of the summary.
_RSS = """\
{{- $pctx := . -}}
{{- if .IsHome -}}{{ $pctx = .Site }}{{- end -}}
{{- $pages := slice -}}
{{- if or $.IsHome $.IsSection -}}
{{- $pages = $pctx.RegularPages -}}
{{- else -}}
{{- $pages = $pctx.Pages -}}
{{- end -}}
{{- $limit := .Site.Config.Services.RSS.Limit -}}
{{- if ge $limit 1 -}}
{{- $pages = $pages | first $limit -}}
{{- end -}}
{{- printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\" standalone=\\"yes\\"?>" | safeHTML }}
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>{{ if eq  .Title  .Site.Title }}{{ .Site.Title }}{{ else }}{{ with .Title }}{{.}} on {{ end }}{{ .Site.Title }}{{ end }}</title>
    <link>{{ .Permalink }}</link>
    <description>Recent content {{ if ne  .Title  .Site.Title }}{{ with .Title }}in {{.}} {{ end }}{{ end }}on {{ .Site.Title }}</description>
    <generator>Hugo</generator>
    {{ with .Site.LanguageCode }}<language>{{ . }}</language>{{ end }}
    {{ if not .Date.IsZero }}<lastBuildDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</lastBuildDate>{{ end }}
    {{- with .OutputFormats.Get "RSS" -}}
    {{ printf "<atom:link href=%q rel=\\"self\\" type=%q />" .Permalink .MediaType | safeHTML }}
    {{- end -}}
    {{ range $pages }}
    <item>
      <title>{{ .Title }}</title>
      <link>{{ .Permalink }}</link>
      <pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</pubDate>
      <guid isPermaLink="false">{{ .Params.entry_id }}</guid>
      {{ range .Params.tags }}<category>{{ . }}</category>{{ end }}
      <description>{{ .Content | html }}</description>
    </item>
    {{ end }}
  </channel>
</rss>
"""


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _body(authors: tuple[str, ...], abstract: str, comment: str) -> str:
    parts = [f"*{', '.join(authors)}*"] if authors else []
    parts += [p for p in (abstract, comment) if p]
    return "\n\n".join(parts) + "\n"


def convert(entries_dir: Path, site: Path, config: Config | None = None) -> dict[str, Any]:
    """Write the Hugo site of ``entries_dir`` into ``site`` (replaced); return counts."""
    config = config or Config()
    entries, _owners = collect_entries(read_digest_dir(Path(entries_dir), config, cache=None))
    shutil.rmtree(site, ignore_errors=True)
    layouts = site / "layouts" / "_default"
    layouts.mkdir(parents=True)
    (site / "hugo.toml").write_text(
        _CONFIG.format(
            base=_toml_str(config.site_url),
            title=_toml_str(config.site_title),
            tz=_toml_str(config.timezone),
        ),
        encoding="utf-8",
    )
    (layouts / "single.html").write_text(_SINGLE, encoding="utf-8")
    (layouts / "list.html").write_text(_LIST, encoding="utf-8")
    (layouts / "rss.xml").write_text(_RSS, encoding="utf-8")
    pages = 0
    tags: set[str] = set()
    for lang in LANGS:
        posts = site / "content" / lang / "posts"
        posts.mkdir(parents=True)
        for entry in entries:
            name = entry.id.rsplit(":", 1)[-1].replace("/", "-")
            front = {
                "title": entry.title,
                "date": first_published(entry, config).isoformat(),
                "tags": list(entry.tags),
                "authors": list(entry.authors),
                "entry_id": entry.id,
            }
            comment = entry.comment_ko if lang == "ko" else entry.comment_en
            text = json.dumps(front, ensure_ascii=False, indent=1) + "\n\n"
            text += _body(entry.authors, entry.abstract, comment)
            (posts / f"{name}.md").write_text(text, encoding="utf-8")
            pages += 1
            tags.update(entry.tags)
    return {"entries": len(entries), "pages": pages, "tags": len(tags)}


def run_hugo(site: Path, public: Path, cache_dir: Path) -> dict[str, Any]:
    """Build ``site`` into a fresh ``public`` with a fresh ``cache_dir``: CPU seconds (user +
    system of hugo and all its threads, from ``os.wait4``), wall seconds, peak RSS in MB."""
    shutil.rmtree(public, ignore_errors=True)
    shutil.rmtree(cache_dir, ignore_errors=True)
    argv = [
        HUGO,
        "--quiet",
        "--source",
        str(site),
        "--destination",
        str(public),
        "--cacheDir",
        str(cache_dir),
    ]
    run = measure(argv, devnull=True)
    run.pop("stdout")
    return run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("entries", type=Path, help="a directory of digests")
    parser.add_argument("site", type=Path, help="the Hugo site to write (replaced)")
    parser.add_argument("--build", action="store_true", help="then time `hugo` on it")
    args = parser.parse_args()
    print(json.dumps(convert(args.entries, args.site)))
    if args.build:
        result = run_hugo(args.site, args.site / "public", args.site / "hugo-cache")
        print(json.dumps(result))


if __name__ == "__main__":
    main()
