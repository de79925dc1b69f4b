"""RedisSet: a set value, a Python set of ``bytes`` members.

``ht`` records Redis 7.0's switch from intset (every member an integer, at most
set-max-intset-entries of them) to hashtable. An intset iterates in ascending numeric order
(SMEMBERS of a small integer set answers sorted, as Redis does): ``members()`` honours that.

The switch is one-way for a set modified in place (``add_member``: setTypeAdd). A set Redis
builds afresh (SINTERSTORE/SUNIONSTORE/SDIFFSTORE results, what SPOP with a large count leaves)
picks its encoding from its contents: ``from_members`` / ``reencode``.

Random access (SPOP, SRANDMEMBER) goes through ``_pool``, a list mirror of the members built
on demand: a Python set has no O(1) random element. ``pop_random`` keeps the mirror in step
(swap-remove), so a loop of SPOPs costs O(1) each; any other change in size rebuilds it on the
next random access, and a picked member no longer present (a same-size change) rebuilds it too.
"""

from __future__ import annotations

from collections.abc import Iterable
from random import Random

from . import _is_canonical_int, register_type


class RedisSet(set):
    __slots__ = ("_pool", "ht")

    def __init__(self, *args, **kw) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kw)
        self.ht = False
        self._pool: list[bytes] | None = None

    def copy(self) -> RedisSet:  # type: ignore[override]
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

    # ------------------------------------------------------------ encoding

    @classmethod
    def from_members(cls, members: Iterable[bytes], max_intset: int) -> RedisSet:
        """A new set holding ``members``, encoded as Redis's setTypeCreate + setTypeAdd loop
        leaves a set that only grew: intset iff every member is an integer and they are few."""
        s = cls(members)
        s.reencode(max_intset)
        return s

    def reencode(self, max_intset: int) -> None:
        """Pick the encoding from the contents (for sets Redis rebuilds from scratch)."""
        self.ht = len(self) > max_intset or not all(map(_is_canonical_int, self))

    def add_member(self, m: bytes, max_intset: int) -> bool:
        """setTypeAdd: True if ``m`` was new. An intset turns hashtable on a non-integer member
        or when it grows past ``max_intset`` entries."""
        if m in self:
            return False
        self.add(m)
        if not self.ht and (len(self) > max_intset or not _is_canonical_int(m)):
            self.ht = True
        return True

    # ------------------------------------------------------------ random access

    def _get_pool(self) -> list[bytes]:
        p = self._pool
        if p is None or len(p) != len(self):
            p = self._pool = list(self)
        return p

    def random_member(self, rng: Random) -> bytes:
        """A uniformly random member of a non-empty set."""
        while True:
            p = self._get_pool()
            m = p[rng.randrange(len(p))]
            if m in self:
                return m
            self._pool = None

    def pop_random(self, rng: Random) -> bytes:
        """Remove and return a uniformly random member of a non-empty set."""
        while True:
            p = self._get_pool()
            i = rng.randrange(len(p))
            m = p[i]
            if m in self:
                break
            self._pool = None
        last = p.pop()
        if i < len(p):
            p[i] = last
        self.discard(m)
        return m

    def pool(self) -> list[bytes]:
        """The members as a list for sampling (do not modify it)."""
        return self._get_pool()


register_type(RedisSet, b"set", RedisSet.encoding_name, copy=RedisSet.copy)
