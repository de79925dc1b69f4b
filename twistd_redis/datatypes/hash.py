"""RedisHash: a hash value, a dict of ``bytes`` field -> ``bytes`` value.

A dict keeps insertion order, as a small (listpack) Redis hash does, so HGETALL of a small hash
answers in Redis's order. ``ht`` records the one-way switch to Redis's hashtable encoding (more
than hash-max-listpack-entries fields, or a field or value longer than hash-max-listpack-value).
"""

from __future__ import annotations

from . import register_type


class RedisHash(dict):
    __slots__ = ("ht",)

    def __init__(self, *args, **kw) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kw)
        self.ht = False

    def copy(self) -> "RedisHash":  # type: ignore[override]
        h = RedisHash(self)
        h.ht = self.ht
        return h

    def encoding_name(self) -> bytes:
        return b"hashtable" if self.ht else b"listpack"


register_type(RedisHash, b"hash", RedisHash.encoding_name, copy=RedisHash.copy)
