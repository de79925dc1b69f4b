"""RedisSet: a set value, a Python set of ``bytes`` members.

``ht`` records Redis 7.0's one-way switch from intset (every member an integer, at most
set-max-intset-entries of them) to hashtable. An intset iterates in ascending numeric order
(SMEMBERS of a small integer set answers sorted, as Redis does): ``members()`` honours that.
"""

from __future__ import annotations

from . import register_type


class RedisSet(set):
    __slots__ = ("ht",)

    def __init__(self, *args, **kw) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kw)
        self.ht = False

    def copy(self) -> "RedisSet":  # type: ignore[override]
        s = RedisSet(self)
        s.ht = self.ht
        return s

    def encoding_name(self) -> bytes:
        return b"hashtable" if self.ht else b"intset"

    def members(self) -> list[bytes]:
        """Members in Redis's iteration order where it is defined (intset: numeric order)."""
        if self.ht:
            return list(self)
        return sorted(self, key=int)


register_type(RedisSet, b"set", RedisSet.encoding_name, copy=RedisSet.copy)
