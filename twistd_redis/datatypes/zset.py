"""RedisZSet: a sorted set value.

``dict`` maps member -> score (a float); ``sl`` is a ``sortedcontainers.SortedList`` of
``(score, member)`` tuples, ordered as Redis orders a zset (score, then member bytes, memcmp).
Rank, range search (by rank, score or lex), insert and delete are O(log N) (+ M for the M
elements a range visits); nothing copies the set. ``ht`` records Redis 7.0's one-way switch
from listpack to skiplist (more than zset-max-listpack-entries members, or a member longer than
zset-max-listpack-value); the commands module decides when (ZUNIONSTORE & co may build a small
result as listpack again, as Redis does).

A listpack stores a score as text through ``d2string``, which writes an integral double as an
integer: ``-0`` comes back as ``0``. ``add`` does the same while ``ht`` is False, so ZSCORE of a
member added with ``-0`` says ``0`` in a small set and ``-0`` in a skiplist, as in Redis 7.0.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from sortedcontainers import SortedList

from . import register_type


class _Top:
    """Compares greater than any member: ``(score, TOP)`` sorts after every ``(score, m)``."""

    __slots__ = ()

    def __lt__(self, other: object) -> bool:
        return False

    def __le__(self, other: object) -> bool:
        return other is self

    def __gt__(self, other: object) -> bool:
        return other is not self

    def __ge__(self, other: object) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return 0


TOP = _Top()
INF = float("inf")


class _LexBound:
    """Redis's shared.minstring / shared.maxstring: the ``-`` and ``+`` lex range bounds
    (compared by identity: below / above every member)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


LEX_MIN: Any = _LexBound("LEX_MIN")
LEX_MAX: Any = _LexBound("LEX_MAX")


class RedisZSet:
    __slots__ = ("dict", "ht", "sl")

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
        if score == 0.0 and not self.ht:
            score = 0.0  # a listpack keeps -0 as the integer 0
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

    # ------------------------------------------------------------ encodings

    def convert_to_skiplist(self) -> None:
        """zsetConvert(OBJ_ENCODING_SKIPLIST): one-way; the scores stay as they are."""
        self.ht = True

    def convert_to_listpack(self) -> None:
        """Back to listpack (ZUNIONSTORE & co building a small result): -0 becomes 0."""
        if not self.ht:
            return
        self.ht = False
        negzero = [m for s, m in self.sl.irange((0.0, b""), (0.0, TOP)) if math.copysign(1.0, s) < 0]
        for m in negzero:
            self.sl.remove((-0.0, m))
            self.sl.add((0.0, m))
            self.dict[m] = 0.0

    # ------------------------------------------------------------ range search (O(log N))

    def score_bounds(self, lo: float, lo_ex: bool, hi: float, hi_ex: bool) -> tuple[int, int]:
        """[start, stop) indexes of the members with lo <(=) score <(=) hi (zrangespec)."""
        if lo > hi or (lo == hi and (lo_ex or hi_ex)):
            return 0, 0
        sl = self.sl
        start = sl.bisect_left((lo, TOP)) if lo_ex else sl.bisect_left((lo, b""))
        stop = sl.bisect_left((hi, b"")) if hi_ex else sl.bisect_left((hi, TOP))
        return start, max(start, stop)

    def lex_bounds(self, lo: bytes, lo_ex: bool, hi: bytes, hi_ex: bool) -> tuple[int, int]:
        """[start, stop) indexes of the lex range (zlexrangespec; ``lo``/``hi`` may be the
        LEX_MIN/LEX_MAX objects themselves, compared by identity).

        Lex ranges are defined when every member has the same score: then this is two
        bisections. With mixed scores Redis walks the elements in rank order (a listpack
        linearly: zzlFirstInLexRange, the first element >= min if it is also <= max, then
        while <= max); so do we, in O(N). A listpack first checks zzlIsInLexRange (the last
        element >= min and the first <= max, else nothing); a skiplist's answer depends on
        its random levels, we keep the plain walk there."""
        sl = self.sl
        n = len(sl)
        if not n:
            return 0, 0
        if lo is LEX_MAX or hi is LEX_MIN:
            return 0, 0
        if lo is not LEX_MIN and hi is not LEX_MAX and (lo > hi or (lo == hi and (lo_ex or hi_ex))):
            return 0, 0
        first_score = sl[0][0]
        if first_score == sl[-1][0]:
            s = first_score
            if lo is LEX_MIN:
                start = 0
            else:
                start = sl.bisect_right((s, lo)) if lo_ex else sl.bisect_left((s, lo))
            if hi is LEX_MAX:
                stop = n
            else:
                stop = sl.bisect_left((s, hi)) if hi_ex else sl.bisect_right((s, hi))
            return start, max(start, stop)
        # Mixed scores: Redis's linear listpack walk.
        if not self.ht and not self._in_lex_range(lo, lo_ex, hi, hi_ex):
            return 0, 0
        start = n
        for i, (_s, m) in enumerate(sl):
            if lex_gte_min(m, lo, lo_ex):
                start = i
                break
        stop = start
        while stop < n and lex_lte_max(sl[stop][1], hi, hi_ex):
            stop += 1
        return start, stop

    def lex_bounds_rev(self, lo: bytes, lo_ex: bool, hi: bytes, hi_ex: bool) -> tuple[int, int]:
        """As ``lex_bounds``, walking from the tail (ZREVRANGEBYLEX) when scores are mixed:
        the last element <= max, then backwards while >= min."""
        sl = self.sl
        n = len(sl)
        if not n or sl[0][0] == sl[-1][0]:
            return self.lex_bounds(lo, lo_ex, hi, hi_ex)
        if lo is LEX_MAX or hi is LEX_MIN:
            return 0, 0
        if lo is not LEX_MIN and hi is not LEX_MAX and (lo > hi or (lo == hi and (lo_ex or hi_ex))):
            return 0, 0
        if not self.ht and not self._in_lex_range(lo, lo_ex, hi, hi_ex):
            return 0, 0
        stop = 0
        for i in range(n - 1, -1, -1):
            if lex_lte_max(sl[i][1], hi, hi_ex):
                stop = i + 1
                break
        start = stop
        while start > 0 and lex_gte_min(sl[start - 1][1], lo, lo_ex):
            start -= 1
        return start, stop

    def _in_lex_range(self, lo: bytes, lo_ex: bool, hi: bytes, hi_ex: bool) -> bool:
        """zzlIsInLexRange's element tests: the last element >= min and the first <= max."""
        sl = self.sl
        return lex_gte_min(sl[-1][1], lo, lo_ex) and lex_lte_max(sl[0][1], hi, hi_ex)

    def lex_range(
        self, lo: bytes, lo_ex: bool, hi: bytes, hi_ex: bool, offset: int, limit: int, reverse: bool
    ) -> Iterator[tuple[float, bytes]]:
        """genericZrangebylexCommand: (score, member) of the lex range after LIMIT offset count
        (``limit`` < 0: no limit), ascending or (``reverse``) descending.

        On a listpack with mixed scores this is Redis's walk: from the first (last) element in
        range, skip ``offset`` elements WITHOUT checking them, then emit while <= max (>= min):
        ``ZADD z 0 a 1 z 2 b`` + ``ZRANGEBYLEX z [a [c LIMIT 2 1`` gives ``b``. Otherwise (the
        same score everywhere, where that walk is the slice below, or a skiplist) the bounds
        are sliced in O(log N + M)."""
        if reverse:
            start, stop = self.lex_bounds_rev(lo, lo_ex, hi, hi_ex)
        else:
            start, stop = self.lex_bounds(lo, lo_ex, hi, hi_ex)
        if offset < 0 or start >= stop:
            return iter(())  # a negative offset makes Redis skip until the end: nothing is left
        sl = self.sl
        n = len(sl)
        if not self.ht and sl[0][0] != sl[-1][0]:
            out: list[tuple[float, bytes]] = []
            if reverse:
                i = stop - 1 - offset
                while i >= 0 and len(out) != limit and lex_gte_min(sl[i][1], lo, lo_ex):
                    out.append(sl[i])
                    i -= 1
            else:
                i = start + offset
                while i < n and len(out) != limit and lex_lte_max(sl[i][1], hi, hi_ex):
                    out.append(sl[i])
                    i += 1
            return iter(out)
        count = stop - start - offset
        if limit >= 0:
            count = min(count, limit)
        if count <= 0:
            return iter(())
        if reverse:
            return self.sl.islice(stop - offset - count, stop - offset, reverse=True)
        return self.sl.islice(start + offset, start + offset + count)

    def slice(self, start: int, stop: int, reverse: bool = False) -> Iterator[tuple[float, bytes]]:
        """(score, member) of ranks [start, stop), ascending or from ``stop - 1`` down."""
        return self.sl.islice(start, stop, reverse=reverse)

    def delete_range(self, start: int, stop: int) -> int:
        """Remove ranks [start, stop); returns how many."""
        if stop <= start:
            return 0
        d = self.dict
        for _s, m in self.sl.islice(start, stop):
            del d[m]
        del self.sl[start:stop]
        return stop - start

    def pop(self, at_max: bool) -> tuple[float, bytes]:
        """Remove and return the lowest (or highest) (score, member)."""
        score, member = self.sl.pop(-1 if at_max else 0)
        del self.dict[member]
        return score, member

    def copy(self) -> RedisZSet:
        z = RedisZSet()
        z.dict = dict(self.dict)
        z.sl = SortedList(self.sl)
        z.ht = self.ht
        return z

    def encoding_name(self) -> bytes:
        return b"skiplist" if self.ht else b"listpack"


def lex_gte_min(member: bytes, lo: bytes, lo_ex: bool) -> bool:
    """zslLexValueGteMin."""
    if lo is LEX_MIN:
        return True
    if lo is LEX_MAX:
        return False
    return member > lo if lo_ex else member >= lo


def lex_lte_max(member: bytes, hi: bytes, hi_ex: bool) -> bool:
    """zslLexValueLteMax."""
    if hi is LEX_MAX:
        return True
    if hi is LEX_MIN:
        return False
    return member < hi if hi_ex else member <= hi


register_type(RedisZSet, b"zset", RedisZSet.encoding_name, copy=RedisZSet.copy)
