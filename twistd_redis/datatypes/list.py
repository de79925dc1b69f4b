"""RedisList: a list value (Redis 7.0's quicklist): a deque of ``bytes``, O(1) at both ends."""

from __future__ import annotations

from collections import deque
from itertools import islice

from ..resp import BulkList
from . import register_type


class RedisList(deque):
    """A list value. Elements are ``bytes``. Redis 7.0 encodes every list as a quicklist."""

    __slots__ = ()

    def copy(self) -> RedisList:  # type: ignore[override]
        return RedisList(self)

    def range(self, start: int, end: int) -> list[bytes]:
        """Elements ``start..end`` inclusive (0 <= start <= end < len), walked from the nearer
        end: O(distance to that end + count), never a copy of the whole list."""
        n = len(self)
        if start <= n - 1 - end:
            return BulkList(islice(self, start, end + 1))
        out = BulkList(islice(reversed(self), n - 1 - end, n - start))
        out.reverse()
        return out

    def pop_range(self, head: bool, count: int) -> list[bytes]:
        """Pop up to ``count`` elements from the head (in head order) or the tail (tail first),
        as [LR]POP key count replies."""
        count = min(count, len(self))
        take = self.popleft if head else self.pop
        return [take() for _ in range(count)]


register_type(RedisList, b"list", b"quicklist", copy=RedisList.copy)
