"""RedisList: a list value (Redis 7.0's quicklist): a deque of ``bytes``, O(1) at both ends."""

from __future__ import annotations

from collections import deque

from . import register_type


class RedisList(deque):
    """A list value. Elements are ``bytes``. Redis 7.0 encodes every list as a quicklist."""

    __slots__ = ()

    def copy(self) -> "RedisList":  # type: ignore[override]
        return RedisList(self)


register_type(RedisList, b"list", b"quicklist", copy=RedisList.copy)
