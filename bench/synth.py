"""A synthetic digest archive for benchmarks: seeded, realistic, in the seed's layout.

    from bench.synth import write_archive, write_digest
    n = write_archive(Path("entries"), days=3650, seed=0)   # 10 years, ~5 entries a day
    write_digest(Path("entries"), dt.date(2026, 1, 1), random.Random(1))  # one more day
    write_archive(Path("entries"), days=3650, seed=0, shape=WIDE)  # the benchmark's wider spread

Each day is ``YYYY-MM-DD.txt``: the Korean date line, then per entry a title, an authors
line, a 1–2 KB English abstract (some with a URL), a Korean comment, an English comment
and a hashtag line. Tags follow a Zipf law over ~400 tags, so a few are very common and
most are rare, as in the real digests. The same ``seed`` always gives the same bytes.

A :class:`Shape` widens the spread: :data:`DEFAULT` (3–7 entries a day, 1–12 authors, no
arXiv URLs) is the original shape and gives the same bytes as before; :data:`WIDE`
(3–10 entries a day, ~5 on average, 1% of entries with 74 authors, 25% with an arXiv
URL) is the shape the performance benchmark (``bench/run.py``) uses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from pathlib import Path

__all__ = [
    "DEFAULT",
    "START",
    "TAGS",
    "WIDE",
    "Shape",
    "digest_text",
    "write_archive",
    "write_digest",
]


@dataclasses.dataclass(frozen=True)
class Shape:
    """How the synthetic digests are spread. Rates of 0 draw nothing from the RNG, so the
    default shape reproduces the original generator byte for byte."""

    #: Entries of one digest: drawn uniformly from this tuple.
    entries_per_day: tuple[int, ...] = (3, 4, 5, 5, 6, 7)
    #: Authors of an ordinary entry: 1 to this.
    max_authors: int = 12
    #: Share of entries with :attr:`long_authors` authors (big-collaboration papers).
    long_author_rate: float = 0.0
    long_authors: int = 74
    #: Share of entries whose abstract ends with an arXiv abs URL (of the digest's month).
    arxiv_rate: float = 0.0


#: The original shape (3–7 entries a day, 1–12 authors, no arXiv URLs).
DEFAULT = Shape()
#: The performance benchmark's shape: 3–10 entries a day (~5.0 on average, ~18,000 in ten years), 74-author
#: extremes, some arXiv URLs.
WIDE = Shape(
    entries_per_day=(3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 8, 10),
    long_author_rate=0.01,
    arxiv_rate=0.25,
)

#: First day of the archive.
START = dt.date(2016, 1, 1)

_TOPICS = [
    "rl",
    "llm",
    "moe",
    "diffusion",
    "agent",
    "reasoning",
    "benchmark",
    "multimodal",
    "tool",
    "vision",
    "speech",
    "retrieval",
    "rag",
    "alignment",
    "rlhf",
    "dpo",
    "safety",
    "robotics",
    "video",
    "3d",
    "nerf",
    "gaussian_splatting",
    "efficient",
    "quantization",
    "distillation",
    "pruning",
    "long_context",
    "attention",
    "transformer",
    "ssm",
    "mamba",
    "tokenizer",
    "pretraining",
    "finetuning",
    "lora",
    "peft",
    "evaluation",
    "dataset",
    "synthetic_data",
    "code",
    "math",
    "theorem_proving",
    "search",
    "planning",
    "world_model",
    "embodied",
    "navigation",
    "grounding",
    "ocr",
    "document",
    "table",
    "graph",
    "gnn",
    "recsys",
    "federated",
    "privacy",
    "watermark",
    "interpretability",
    "probing",
    "hallucination",
    "calibration",
    "uncertainty",
]
_MODIFIERS = (
    "Efficient",
    "Scalable",
    "Open",
    "Robust",
    "Multilingual",
    "Sparse",
    "Online",
    "Offline",
)


def _tags() -> list[str]:
    labels = [f"#{t}" for t in _TOPICS]
    rng = random.Random(4242)
    seen = {t.casefold() for t in labels}
    while len(labels) < 400:
        a, b = rng.sample(_TOPICS, 2)
        label = f"#{a}_{b}" if rng.random() < 0.7 else f"#{rng.choice(_MODIFIERS)}_{a.title()}"
        if label.casefold() not in seen:
            seen.add(label.casefold())
            labels.append(label)
    return labels


#: The ~400 tag labels, most frequent first.
TAGS = _tags()
_ZIPF = [1.0 / (k + 1) ** 1.07 for k in range(len(TAGS))]

_WORDS = [
    "learning",
    "model",
    "models",
    "language",
    "large",
    "scaling",
    "training",
    "data",
    "efficient",
    "method",
    "approach",
    "framework",
    "via",
    "towards",
    "benchmark",
    "evaluation",
    "reasoning",
    "policy",
    "reward",
    "optimization",
    "agents",
    "generation",
    "understanding",
    "visual",
    "representation",
    "transformer",
    "attention",
    "sparse",
    "dense",
    "mixture",
    "experts",
    "retrieval",
    "augmented",
    "inference",
    "alignment",
    "preference",
    "feedback",
    "robust",
    "adaptive",
    "neural",
    "network",
    "tasks",
    "performance",
    "results",
    "state",
    "art",
    "propose",
    "novel",
    "show",
    "demonstrate",
    "improves",
    "outperforms",
    "baseline",
    "existing",
    "recent",
    "advances",
    "challenges",
    "compute",
    "memory",
    "latency",
    "throughput",
    "token",
    "context",
    "window",
    "long",
    "short",
    "multimodal",
]
_FIRST = [
    "Wei",
    "Jun",
    "Hao",
    "Yi",
    "Min",
    "Ji",
    "Seo",
    "Alex",
    "Maria",
    "John",
    "Anna",
    "Luca",
    "Sara",
    "Kenji",
    "Yuki",
    "Omar",
    "Lena",
    "Ivan",
    "Chen",
    "Priya",
]
_LAST = [
    "Kim",
    "Lee",
    "Park",
    "Wang",
    "Zhang",
    "Li",
    "Liu",
    "Chen",
    "Smith",
    "Garcia",
    "Müller",
    "Rossi",
    "Tanaka",
    "Sato",
    "Khan",
    "Singh",
    "Novak",
    "Ivanova",
]
_KO = [
    "모델",
    "학습",
    "데이터",
    "방법",
    "결과",
    "성능",
    "흥미로운",
    "연구",
    "실험",
    "추론",
    "강화학습",
    "에이전트",
    "평가",
    "벤치마크",
    "효율적인",
    "접근",
    "제안",
    "분석",
    "문제",
    "개선",
    "중요한",
    "아이디어",
    "세팅",
    "스케일링",
    "토큰",
    "멀티모달",
    "검색",
]
_KO_END = ("군요.", "네요.", "입니다.", "것 같습니다.", "보입니다.")


def _sentence(rng: random.Random, lo: int = 8, hi: int = 22) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(lo, hi))]
    return " ".join(words).capitalize() + "."


def _entry(rng: random.Random, date: dt.date | None = None, shape: Shape = DEFAULT) -> list[str]:
    title = " ".join(w.title() for w in rng.sample(_WORDS, rng.randint(4, 10)))
    if rng.random() < 0.5:
        title = f"{rng.choice(_WORDS).title()}{rng.randint(1, 99)}: {title}"
    if shape.long_author_rate and rng.random() < shape.long_author_rate:
        n_authors = shape.long_authors
    else:
        n_authors = rng.randint(1, shape.max_authors)
    authors = ", ".join(f"{rng.choice(_FIRST)} {rng.choice(_LAST)}" for _ in range(n_authors))
    abstract, size = [], rng.randint(1000, 2000)
    while sum(len(s) + 1 for s in abstract) < size:
        abstract.append(_sentence(rng))
    if rng.random() < 0.3:
        abstract.append(
            f"Code: https://github.com/{rng.choice(_LAST).lower()}/{rng.choice(_WORDS)}-{rng.randint(1, 999)}."
        )
    if shape.arxiv_rate and rng.random() < shape.arxiv_rate:
        yymm = f"{date.year % 100:02d}{date.month:02d}" if date else "2501"
        version = f"v{rng.randint(1, 3)}" if rng.random() < 0.3 else ""
        abstract.append(f"Paper: https://arxiv.org/abs/{yymm}.{rng.randint(1, 29999):05d}{version}")
    ko = " ".join(rng.choice(_KO) for _ in range(rng.randint(6, 18))) + " " + rng.choice(_KO_END)
    en = _sentence(rng, 6, 20)
    k = min(len(TAGS), 1 + int(rng.expovariate(1.0)))  # 1 tag usually, sometimes 2–4
    tags: list[str] = []
    while len(tags) < k:
        tag = rng.choices(TAGS, weights=_ZIPF)[0]
        if tag not in tags:
            tags.append(tag)
    return [title, f"({authors})", " ".join(abstract), ko, en, " ".join(tags)]


def digest_text(
    date: dt.date, rng: random.Random, entries: int | None = None, shape: Shape = DEFAULT
) -> str:
    """One digest: the date line and ``entries`` (default: drawn from ``shape``) entries."""
    n = entries if entries is not None else rng.choice(shape.entries_per_day)
    lines = [f"{date.year}년 {date.month}월 {date.day}일"]
    for _ in range(n):
        lines.extend(_entry(rng, date, shape))
    return "\n".join(lines) + "\n"


def write_digest(dir: Path, date: dt.date, rng: random.Random, shape: Shape = DEFAULT) -> int:
    """Write ``dir/YYYY-MM-DD.txt`` for ``date``; return its number of entries."""
    text = digest_text(date, rng, shape=shape)
    Path(dir).mkdir(parents=True, exist_ok=True)
    (Path(dir) / f"{date.isoformat()}.txt").write_text(text, encoding="utf-8")
    return sum(1 for line in text.split("\n") if line.startswith("#"))


def write_archive(dir: Path, days: int, seed: int = 0, shape: Shape = DEFAULT) -> int:
    """Write ``days`` consecutive digests from :data:`START` into ``dir``; return the entry count."""
    rng = random.Random(seed)
    return sum(write_digest(dir, START + dt.timedelta(days=i), rng, shape) for i in range(days))


if __name__ == "__main__":  # python bench/synth.py DIR [DAYS] [default|wide]
    import sys

    target, count = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 3650
    chosen = WIDE if len(sys.argv) > 3 and sys.argv[3] == "wide" else DEFAULT
    print(f"{write_archive(target, count, shape=chosen)} entries in {count} digests under {target}")
