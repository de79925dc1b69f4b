"""RedisZSet: a sorted set value.

``dict`` maps member -> score (a float); ``sl`` is a ``sortedcontainers.SortedList`` of
``(score, member)`` tuples, ordered as Redis orders a zset (score, then member bytes, memcmp).
Rank, range and insert are O(log N); nothing copies the set. ``ht`` records Redis 7.0's one-way
switch from listpack to skiplist (more than zset-max-listpack-entries members, or a member longer
than zset-max-listpack-value); the commands module decides when (ZUNIONSTORE & co may build a
small result as listpack again, as Redis does).
"""

from __future__ import annotations

from typing import Iterator

from sortedcontainers import SortedList

from . import register_type


class RedisZSet:
    __slots__ = ("dict", "sl", "ht")

    def __init__(self) -> None:
        self.dict: dict[bytes, float] = {}
        self.sl: SortedList = SortedList()
        self.ht = False

    def __len__(self) -> int:
        return len(self.dict)

    def __contains__(self, member: bytes) -> bool:
        return member in self.dict

    def __iter__(self) -> Iterator[tuple[float, bytes]]:
        """(score, member) in rank order."""
        return iter(self.sl)

    def score(self, member: bytes) -> float | None:
        return self.dict.get(member)

    def add(self, member: bytes, score: float) -> None:
        """Insert or re-score ``member`` (O(log N))."""
        old = self.dict.get(member)
        if old is not None:
            if old == score:
                return
            self.sl.remove((old, member))
        self.dict[member] = score
        self.sl.add((score, member))

    def remove(self, member: bytes) -> bool:
        old = self.dict.pop(member, None)
        if old is None:
            return False
        self.sl.remove((old, member))
        return True

    def rank(self, member: bytes) -> int | None:
        """0-based rank in ascending order, or None."""
        s = self.dict.get(member)
        if s is None:
            return None
        return self.sl.index((s, member))

    def copy(self) -> "RedisZSet":
        z = RedisZSet()
        z.dict = dict(self.dict)
        z.sl = SortedList(self.sl)
        z.ht = self.ht
        return z

    def encoding_name(self) -> bytes:
        return b"skiplist" if self.ht else b"listpack"


register_type(RedisZSet, b"zset", RedisZSet.encoding_name, copy=RedisZSet.copy)
