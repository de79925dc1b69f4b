"""The stream value (t_stream.c, Redis 7.0): entries ordered by ID, consumer groups, PELs.

IDs are ``(ms, seq)`` tuples of unsigned 64-bit integers; tuple order is Redis's
streamCompareID order. Entries live in a SortedDict ``(ms, seq) -> [field, value, ...]`` so
range reads, first/last and deletes are O(log N). Deleted entries leave no tombstone here (Redis
keeps them flagged inside its listpack nodes until the node empties; nothing observable depends
on that except XINFO STREAM's radix-tree-keys/nodes, see ``node_count``).

Stream metadata as Redis 7.0 keeps it:
  last_id               the last generated ID (XADD's floor; survives deletes and trims)
  first_id              the first live entry's ID, (0, 0) for an empty stream (recorded-first-entry-id)
  max_deleted_entry_id  the largest ID ever removed by XDEL (trims do not set it)
  entries_added         every entry ever added (XADD, and XSETID ENTRIESADDED)

Consumer groups (``groups``: SortedDict name -> StreamCG, rax order = bytes order):
  StreamCG.last_id, .entries_read (SCG_INVALID_ENTRIES_READ = -1 when unknown), .pel
  (SortedDict id -> StreamNACK), .consumers (SortedDict name -> StreamConsumer). A consumer's
  own ``pel`` holds the *same* StreamNACK objects as its group's PEL (as Redis shares them), and
  every NACK's ``consumer`` points back at its owner.

Commands (issue 6) build on this; this module has no commands. ``group_info`` gives XINFO GROUPS
rows with entries-read and lag computed exactly as Redis 7.0.15 (streamEstimateDistanceFrom-
FirstEverEntry, streamRangeHasTombstones, the XINFO lag rules).
"""

from __future__ import annotations

from collections.abc import Iterator

from sortedcontainers import SortedDict

from . import register_type

__all__ = [
    "MAX_ID",
    "MIN_ID",
    "SCG_INVALID_ENTRIES_READ",
    "UINT64_MAX",
    "RedisStream",
    "StreamCG",
    "StreamConsumer",
    "StreamID",
    "StreamNACK",
    "format_id",
]

StreamID = tuple  # (ms, seq)
UINT64_MAX = (1 << 64) - 1
MIN_ID: tuple[int, int] = (0, 0)
MAX_ID: tuple[int, int] = (UINT64_MAX, UINT64_MAX)
SCG_INVALID_ENTRIES_READ = -1


def format_id(sid: tuple[int, int]) -> bytes:
    """``ms-seq`` as Redis prints a stream ID."""
    return b"%d-%d" % sid


class StreamNACK:
    """A pending entry: who owns it, when it was last delivered (ms), how many times."""

    __slots__ = ("consumer", "delivery_count", "delivery_time")

    def __init__(self, consumer: StreamConsumer | None, delivery_time: int, delivery_count: int = 1) -> None:
        self.consumer = consumer
        self.delivery_time = delivery_time
        self.delivery_count = delivery_count

    def __repr__(self) -> str:
        return "StreamNACK(%r, %d, %d)" % (
            self.consumer.name if self.consumer else None,
            self.delivery_time,
            self.delivery_count,
        )


class StreamConsumer:
    """A consumer of a group. ``seen_time``: last interaction (ms). ``active_time`` is what an
    RDB_TYPE_STREAM_LISTPACKS_3 file (Redis 7.2) carries besides; 7.0 has no such field (it is
    kept equal to seen_time unless loaded)."""

    __slots__ = ("active_time", "name", "pel", "seen_time")

    def __init__(self, name: bytes, seen_time: int, active_time: int | None = None) -> None:
        self.name = name
        self.seen_time = seen_time
        self.active_time = seen_time if active_time is None else active_time
        self.pel: SortedDict = SortedDict()

    def __repr__(self) -> str:
        return "StreamConsumer(%r, seen=%d, pel=%d)" % (self.name, self.seen_time, len(self.pel))


class StreamCG:
    """A consumer group."""

    __slots__ = ("consumers", "entries_read", "last_id", "pel")

    def __init__(self, last_id: tuple[int, int], entries_read: int = SCG_INVALID_ENTRIES_READ) -> None:
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel: SortedDict = SortedDict()
        self.consumers: SortedDict = SortedDict()

    def create_consumer(self, name: bytes, seen_time: int) -> StreamConsumer | None:
        """streamCreateConsumer: None when the name exists."""
        if name in self.consumers:
            return None
        c = StreamConsumer(name, seen_time)
        self.consumers[name] = c
        return c

    def delete_consumer(self, consumer: StreamConsumer) -> int:
        """streamDelConsumer: drop the consumer and its pending entries (from the group's PEL
        too). Returns how many were pending."""
        n = len(consumer.pel)
        for sid in consumer.pel:
            self.pel.pop(sid, None)
        del self.consumers[consumer.name]
        return n

    def add_pending(
        self, sid: tuple[int, int], consumer: StreamConsumer, delivery_time: int, delivery_count: int = 1
    ) -> StreamNACK:
        """Create (or take over) the NACK of ``sid`` for ``consumer``, in both PELs."""
        nack = self.pel.get(sid)
        if nack is None:
            nack = StreamNACK(consumer, delivery_time, delivery_count)
            self.pel[sid] = nack
        else:
            if nack.consumer is not None and nack.consumer is not consumer:
                nack.consumer.pel.pop(sid, None)
            nack.consumer = consumer
            nack.delivery_time = delivery_time
            nack.delivery_count = delivery_count
        consumer.pel[sid] = nack
        return nack

    def ack(self, sid: tuple[int, int]) -> bool:
        """XACK one ID: remove it from the group's and its owner's PEL."""
        nack = self.pel.pop(sid, None)
        if nack is None:
            return False
        if nack.consumer is not None:
            nack.consumer.pel.pop(sid, None)
        return True


class RedisStream:
    """A stream value (TYPE "stream", OBJECT ENCODING "stream")."""

    __slots__ = (
        "entries",
        "entries_added",
        "first_id",
        "groups",
        "last_id",
        "max_deleted_entry_id",
    )

    def __init__(self) -> None:
        self.entries: SortedDict = SortedDict()
        self.last_id: tuple[int, int] = MIN_ID
        self.first_id: tuple[int, int] = MIN_ID
        self.max_deleted_entry_id: tuple[int, int] = MIN_ID
        self.entries_added = 0
        self.groups: SortedDict = SortedDict()

    # -- entries ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def length(self) -> int:
        return len(self.entries)

    def __bool__(self) -> bool:
        # a stream key exists even when empty: never let truthiness mean "has entries"
        return True

    def append(self, sid: tuple[int, int], fields: list[bytes]) -> None:
        """streamAppendItem after the ID check: ``sid`` must exceed last_id."""
        if sid <= self.last_id and (self.entries or self.entries_added):
            raise ValueError("stream ID {!r} not greater than last {!r}".format(sid, self.last_id))
        if not self.entries:
            self.first_id = sid
        self.entries[sid] = list(fields)
        self.last_id = sid
        self.entries_added += 1

    def get(self, sid: tuple[int, int]) -> list[bytes] | None:
        return self.entries.get(sid)

    def __contains__(self, sid: object) -> bool:
        return sid in self.entries

    def first_entry(self) -> tuple[tuple[int, int], list[bytes]] | None:
        return self.entries.peekitem(0) if self.entries else None

    def last_entry(self) -> tuple[tuple[int, int], list[bytes]] | None:
        return self.entries.peekitem(-1) if self.entries else None

    def range(
        self,
        start: tuple[int, int] = MIN_ID,
        end: tuple[int, int] = MAX_ID,
        rev: bool = False,
        count: int | None = None,
    ) -> Iterator[tuple[tuple[int, int], list[bytes]]]:
        """Entries with start <= id <= end, ascending (or descending with rev)."""
        if start > end:
            return
        for n, sid in enumerate(self.entries.irange(start, end, reverse=rev)):
            if count is not None and n >= count:
                return
            yield sid, self.entries[sid]

    def _update_first_id(self) -> None:
        """streamGetEdgeID(s, 1, 1, &first_id): (0, 0) stands for "empty" (as Redis records
        after a trim or delete of the last entry; XINFO STREAM shows recorded-first-entry-id 0-0)."""
        self.first_id = self.entries.peekitem(0)[0] if self.entries else MIN_ID

    def delete(self, sid: tuple[int, int]) -> bool:
        """XDEL of one ID: removes it, raises max_deleted_entry_id, fixes first_id."""
        if self.entries.pop(sid, None) is None:
            return False
        self.max_deleted_entry_id = max(self.max_deleted_entry_id, sid)
        if sid == self.first_id or not self.entries:
            self._update_first_id()
        return True

    def remove_first(self, n: int) -> int:
        """Trim helper: drop the ``n`` oldest entries (max_deleted_entry_id untouched, as
        streamTrim). Returns how many went."""
        n = min(n, len(self.entries))
        for _ in range(n):
            self.entries.popitem(0)
        if n:
            self._update_first_id()
        return n

    def remove_before(self, minid: tuple[int, int]) -> int:
        """Trim helper: drop every entry with id < minid."""
        keys = list(self.entries.irange(maximum=minid, inclusive=(True, False)))
        for k in keys:
            del self.entries[k]
        if keys:
            self._update_first_id()
        return len(keys)

    # -- consumer groups -------------------------------------------------------------------

    def create_group(
        self, name: bytes, last_id: tuple[int, int], entries_read: int = SCG_INVALID_ENTRIES_READ
    ) -> StreamCG | None:
        """streamCreateCG: None when the group exists."""
        if name in self.groups:
            return None
        cg = StreamCG(last_id, entries_read)
        self.groups[name] = cg
        return cg

    def range_has_tombstones(self, start: tuple[int, int] | None, end: tuple[int, int] | None = None) -> bool:
        """streamRangeHasTombstones (7.0)."""
        if not self.entries or self.max_deleted_entry_id == MIN_ID:
            return False
        if self.first_id > self.max_deleted_entry_id:
            return False
        s = MIN_ID if start is None else start
        e = MAX_ID if end is None else end
        return s <= self.max_deleted_entry_id <= e

    def estimate_distance_from_first_ever_entry(self, sid: tuple[int, int]) -> int:
        """streamEstimateDistanceFromFirstEverEntry (7.0.15): the logical read counter of
        ``sid``, or SCG_INVALID_ENTRIES_READ when it cannot be known."""
        if not self.entries_added:
            return 0
        length = len(self.entries)
        if not length and sid <= self.last_id:
            return self.entries_added
        if sid == self.last_id:
            return self.entries_added
        if sid > self.last_id:
            return SCG_INVALID_ENTRIES_READ
        if self.max_deleted_entry_id == MIN_ID or self.max_deleted_entry_id < self.first_id:
            if sid < self.first_id:
                return self.entries_added - length
            if sid == self.first_id:
                return self.entries_added - length + 1
        return SCG_INVALID_ENTRIES_READ

    def group_lag(self, cg: StreamCG) -> int | None:
        """The lag XINFO GROUPS shows (None = null)."""
        if not self.entries_added:
            return 0
        if cg.entries_read != SCG_INVALID_ENTRIES_READ and not self.range_has_tombstones(cg.last_id, None):
            return self.entries_added - cg.entries_read
        er = self.estimate_distance_from_first_ever_entry(cg.last_id)
        if er != SCG_INVALID_ENTRIES_READ:
            return self.entries_added - er
        return None

    def group_info(self, name: bytes) -> dict:
        """One XINFO GROUPS row (a map; RESP2 flattens it in this order)."""
        cg = self.groups[name]
        return {
            b"name": name,
            b"consumers": len(cg.consumers),
            b"pending": len(cg.pel),
            b"last-delivered-id": format_id(cg.last_id),
            b"entries-read": None if cg.entries_read == SCG_INVALID_ENTRIES_READ else cg.entries_read,
            b"lag": self.group_lag(cg),
        }

    def groups_info(self) -> list[dict]:
        """XINFO GROUPS: every group's row in name order."""
        return [self.group_info(name) for name in self.groups]

    # -- node layout (XINFO STREAM radix-tree-keys, RDB nodes) --------------------------------

    def node_count(self, max_entries: int = 100, max_bytes: int = 4096) -> int:
        """How many listpack nodes Redis would hold after appending these entries afresh."""
        from ..persistence.rdb_stream import build_nodes

        return sum(1 for _ in build_nodes(self, max_entries, max_bytes))

    # -- COPY ------------------------------------------------------------------------------

    def copy(self) -> RedisStream:
        """An independent duplicate (COPY): entries, metadata, groups, consumers, PELs with
        shared NACKs between a group and its consumers as in the original."""
        s = RedisStream()
        s.entries = SortedDict((k, list(v)) for k, v in self.entries.items())
        s.last_id = self.last_id
        s.first_id = self.first_id
        s.max_deleted_entry_id = self.max_deleted_entry_id
        s.entries_added = self.entries_added
        for name, cg in self.groups.items():
            ncg = StreamCG(cg.last_id, cg.entries_read)
            cmap = {}
            for cname, c in cg.consumers.items():
                nc = StreamConsumer(cname, c.seen_time, c.active_time)
                ncg.consumers[cname] = nc
                cmap[id(c)] = nc
            for sid, nack in cg.pel.items():
                owner = cmap.get(id(nack.consumer)) if nack.consumer is not None else None
                nn = StreamNACK(owner, nack.delivery_time, nack.delivery_count)
                ncg.pel[sid] = nn
                if owner is not None:
                    owner.pel[sid] = nn
            s.groups[name] = ncg
        return s

    def __repr__(self) -> str:
        return "RedisStream(len=%d, last_id=%s, groups=%d)" % (
            len(self.entries),
            format_id(self.last_id).decode(),
            len(self.groups),
        )


register_type(RedisStream, b"stream", b"stream", copy=RedisStream.copy)
