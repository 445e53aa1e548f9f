"""The render memo: each value made once while it fits, least recently used out first."""

from __future__ import annotations

from digestfeed.render.memo import Memo


def test_value_is_made_once_while_it_fits() -> None:
    """A key asked for three times is made once."""
    made: list[str] = []
    memo: Memo[str, str] = Memo(capacity=4)
    for _ in range(3):
        assert memo.get("a", lambda: made.append("a") or "A") == "A"
    assert made == ["a"]


def test_capacity_bounds_memory_and_evicted_values_are_made_again() -> None:
    """Past capacity the least recently used value is dropped and made again when asked for."""
    made: list[str] = []
    memo: Memo[str, str] = Memo(capacity=2)

    def get(key: str) -> str:
        return memo.get(key, lambda: made.append(key) or key.upper())

    assert [get("a"), get("b"), get("a"), get("c")] == ["A", "B", "A", "C"]  # "b" is the LRU one
    assert len(memo._data) == 2
    assert [get("a"), get("c"), get("b")] == ["A", "C", "B"]
    assert made == ["a", "b", "c", "b"]
