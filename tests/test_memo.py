"""The render memo: made once per key while it fits, freed at its last use, bounded in size."""

from __future__ import annotations

from collections import Counter

from digestfeed.render.memo import Memo


def test_value_is_made_once_and_freed_at_last_use() -> None:
    """A key used three times is made once, and nothing is kept after its last use."""
    made: list[str] = []
    memo: Memo[str, str] = Memo(Counter({"a": 3}))
    for _ in range(3):
        assert memo.get("a", lambda: made.append("a") or "A") == "A"
    assert made == ["a"]
    assert memo._data == {}


def test_capacity_bounds_memory_and_evicted_values_are_made_again() -> None:
    """Past capacity the least recently used value is dropped and made again when asked for."""
    made: list[str] = []
    memo: Memo[str, str] = Memo(Counter({"a": 2, "b": 2, "c": 2}), capacity=2)

    def get(key: str) -> str:
        return memo.get(key, lambda: made.append(key) or key.upper())

    assert [get("a"), get("b"), get("c")] == ["A", "B", "C"]  # "a" is evicted by "c"
    assert len(memo._data) <= 2
    assert [get("c"), get("b"), get("a")] == ["C", "B", "A"]
    assert made == ["a", "b", "c", "a"]
    assert memo._data == {}
