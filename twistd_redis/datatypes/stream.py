"""The stream value (t_stream.c, Redis 7.0): entries ordered by ID, consumer groups, PELs.

IDs are ``(ms, seq)`` tuples of unsigned 64-bit integers; tuple order is Redis's
streamCompareID order. Live entries live in a SortedDict ``(ms, seq) -> [field, value, ...]`` so
range reads, first/last and deletes are O(log N).

Listpack nodes (``nodes``: SortedDict master ID -> StreamNode) mirror Redis's rax of listpacks
exactly as t_stream.c builds them: streamAppendItem opens a new node when the tail's listpack
bytes + the new entry's raw field/value bytes reach stream-node-max-bytes, or it holds
stream-node-max-entries entries (live + deleted); XDEL and exact trims leave tombstones (flagged
entries, their fields kept, as Redis keeps them) until a node's last live entry goes (XDEL drops
the node); ``~`` trims drop whole nodes only. A node's listpack size is kept arithmetically
(listpack element sizes, integer-looking strings stored as integers, SAMEFIELDS compaction), so
an append costs O(fields) plus O(log N) for the dict insert, and RDB files carry the nodes
byte for byte as Redis writes them (``StreamNode.listpack``).

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

from ..persistence.listpack import listpack_encode, lp_string_to_int64
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
    "StreamNode",
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


STREAM_ITEM_FLAG_DELETED = 1
STREAM_ITEM_FLAG_SAMEFIELDS = 2
STREAM_LISTPACK_MAX_SIZE = 1 << 30
_MASK64 = (1 << 64) - 1
_INT_LIKE_FIRST = frozenset(b"-123456789")


_COUNT_EDGES = {127: 1, 4095: 1, 32767: 1, 8388607: 1, 2147483647: 4}


def lp_int_size(v: int) -> int:
    """Bytes of one listpack integer element (encoding + back-length)."""
    if 0 <= v <= 127:
        return 2
    if -4096 <= v <= 4095:
        return 3
    if -32768 <= v <= 32767:
        return 4
    if -8388608 <= v <= 8388607:
        return 5
    if -2147483648 <= v <= 2147483647:
        return 6
    return 10


def lp_str_size(s: bytes) -> int:
    """Bytes of one listpack element holding ``s`` as lpAppend stores it (an integer when
    ``s`` is a canonical int64, else a string)."""
    n = len(s)
    if n < 21 and n and (s[0] in _INT_LIKE_FIRST or s == b"0"):
        v = lp_string_to_int64(s)
        if v is not None:
            return lp_int_size(v)
    if n < 64:
        e = n + 1
    elif n < 4096:
        e = n + 2
    else:
        e = n + 5
    if e <= 127:
        return e + 1
    if e < 16383:
        return e + 2
    if e < 2097151:
        return e + 3
    if e < 268435455:
        return e + 4
    return e + 5


def _i64(v: int) -> int:
    v &= _MASK64
    return v - (1 << 64) if v >= (1 << 63) else v


class StreamNode:
    """One listpack node: master ID and fields, every entry ID it holds in order (``ids``,
    tombstones included), the tombstones' fields (``dead``: sid -> fields), live/deleted
    counters and the listpack's byte size (lpBytes)."""

    __slots__ = ("count", "dead", "deleted", "fields", "ids", "master", "nbytes")

    def __init__(self, master: tuple[int, int], fields: list[bytes]) -> None:
        self.master = master
        self.fields = fields
        self.ids: list[tuple[int, int]] = []
        self.dead: dict = {}
        self.count = 0
        self.deleted = 0
        # header (6) + count 0 + deleted 0 + num-fields + fields + master terminator + EOF
        n = 6 + 2 + 2 + lp_int_size(len(fields)) + 2 + 1
        for f in fields:
            n += lp_str_size(f)
        self.nbytes = n

    def entry_size(self, sid: tuple[int, int], fv: list[bytes]) -> int:
        """Bytes of the entry ``sid`` as streamAppendItem writes it into this node."""
        numfields = len(fv) >> 1
        master = self.master
        d = sid[0] - master[0]
        n = 4 if d <= 127 else 2 + lp_int_size(_i64(d))
        d = sid[1] - master[1]
        n += 2 if 0 <= d <= 127 else lp_int_size(_i64(d))
        if numfields == len(self.fields) and fv[0::2] == self.fields:
            for v in fv[1::2]:
                k = len(v)
                # a short value that cannot be an integer: a 1-byte header + 1-byte back-length
                n += k + 2 if k < 63 and k and v[0] not in _INT_LIKE_FIRST and k > 1 else lp_str_size(v)
            return n + (2 if numfields < 125 else lp_int_size(numfields + 3))
        n += lp_int_size(numfields)
        for x in fv:
            n += lp_str_size(x)
        return n + lp_int_size(2 * numfields + 4)

    def set_counts(self, count: int, deleted: int) -> None:
        self.nbytes += lp_int_size(count) - lp_int_size(self.count) + lp_int_size(deleted) - lp_int_size(self.deleted)
        self.count = count
        self.deleted = deleted

    def listpack(self, entries: dict) -> bytes:
        """The node's listpack, as Redis holds it (``entries``: the stream's live entries)."""
        mf = self.fields
        nmf = len(mf)
        items: list = [self.count, self.deleted, nmf, *mf, 0]
        mms, mseq = self.master
        dead = self.dead
        for sid in self.ids:
            fv = dead.get(sid)
            flags = 0
            if fv is None:
                fv = entries[sid]
            else:
                flags = STREAM_ITEM_FLAG_DELETED
            numfields = len(fv) >> 1
            same = numfields == nmf and fv[0::2] == mf
            items.append(flags | STREAM_ITEM_FLAG_SAMEFIELDS if same else flags)
            items.append(_i64(sid[0] - mms))
            items.append(_i64(sid[1] - mseq))
            if same:
                items += fv[1::2]
                items.append(numfields + 3)
            else:
                items.append(numfields)
                items += fv
                items.append(2 * numfields + 4)
        return listpack_encode(items)

    def __repr__(self) -> str:
        return "StreamNode(%s, count=%d, deleted=%d, bytes=%d)" % (
            format_id(self.master).decode(),
            self.count,
            self.deleted,
            self.nbytes,
        )


class RedisStream:
    """A stream value (TYPE "stream", OBJECT ENCODING "stream")."""

    __slots__ = (
        "entries",
        "entries_added",
        "first_id",
        "groups",
        "last_id",
        "max_deleted_entry_id",
        "nodes",
    )

    def __init__(self) -> None:
        self.entries: SortedDict = SortedDict()
        self.nodes: SortedDict = SortedDict()
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

    def append(self, sid: tuple[int, int], fields: list[bytes], max_entries: int = 100, max_bytes: int = 4096) -> None:
        """streamAppendItem after the ID check: ``sid`` must exceed last_id. ``max_entries`` /
        ``max_bytes``: stream-node-max-entries / -bytes (when a new node opens)."""
        if sid <= self.last_id and (self.entries or self.entries_added):
            raise ValueError("stream ID {!r} not greater than last {!r}".format(sid, self.last_id))
        fields = list(fields)
        nodes = self.nodes
        node = nodes.peekitem(-1)[1] if nodes else None
        if node is not None:
            if max_bytes == 0 or max_bytes > STREAM_LISTPACK_MAX_SIZE:
                max_bytes = STREAM_LISTPACK_MAX_SIZE
            tot = 0
            for x in fields:
                tot += len(x)
            if node.nbytes + tot >= max_bytes or (max_entries and node.count + node.deleted >= max_entries):
                node = None
        if node is None:
            node = StreamNode(sid, fields[0::2])
            nodes[sid] = node
        # the count element grows by a byte (or 4) at the listpack integer encoding edges
        count = node.count
        node.nbytes += _COUNT_EDGES.get(count, 0) + node.entry_size(sid, fields)
        node.count = count + 1
        node.ids.append(sid)
        if not self.entries:
            self.first_id = sid
        self.entries[sid] = fields
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
        entries = self.entries
        for n, sid in enumerate(entries.irange(start, end, reverse=rev)):
            if count is not None and n >= count:
                return
            yield sid, entries[sid]

    def _update_first_id(self) -> None:
        """streamGetEdgeID(s, 1, 1, &first_id): (0, 0) stands for "empty" (as Redis records
        after a trim or delete of the last entry; XINFO STREAM shows recorded-first-entry-id 0-0)."""
        self.first_id = self.entries.peekitem(0)[0] if self.entries else MIN_ID

    def _node_of(self, sid: tuple[int, int]) -> StreamNode | None:
        nodes = self.nodes
        i = nodes.bisect_right(sid) - 1
        return nodes.peekitem(i)[1] if i >= 0 else None

    def _kill(self, sid: tuple[int, int]) -> bool:
        """streamDeleteItem / streamIteratorRemoveEntry: flag the entry deleted in its node
        (the node goes with its last live entry). Does not touch the stream metadata."""
        fields = self.entries.pop(sid, None)
        if fields is None:
            return False
        node = self._node_of(sid)
        if node is not None:
            if node.count <= 1:
                del self.nodes[node.master]
            else:
                node.dead[sid] = fields
                node.set_counts(node.count - 1, node.deleted + 1)
        return True

    def delete(self, sid: tuple[int, int]) -> bool:
        """XDEL of one ID: removes it, raises max_deleted_entry_id, fixes first_id."""
        if not self._kill(sid):
            return False
        self.max_deleted_entry_id = max(self.max_deleted_entry_id, sid)
        if sid == self.first_id or not self.entries:
            self._update_first_id()
        return True

    def trim(
        self,
        maxlen: int | None = None,
        minid: tuple[int, int] | None = None,
        approx: bool = False,
        limit: int = 0,
    ) -> int:
        """streamTrim: MAXLEN (``maxlen``) or MINID (``minid``), exact or ``approx`` (whole
        nodes only), at most ``limit`` entries when non-zero. Returns how many went."""
        nodes = self.nodes
        entries = self.entries
        deleted = 0
        while nodes:
            if maxlen is not None and len(entries) <= maxlen:
                break
            node = nodes.peekitem(0)[1]
            live = node.count
            if limit and deleted + live > limit:
                break
            if maxlen is not None:
                remove = len(entries) - live >= maxlen
            else:
                remove = node.ids[-1] < minid
            if remove:
                dead = node.dead
                for sid in node.ids:
                    if sid not in dead:
                        del entries[sid]
                del nodes[node.master]
                deleted += live
                continue
            if approx:
                break
            gone = 0
            dead = node.dead
            for sid in node.ids:
                if maxlen is not None:
                    if len(entries) <= maxlen:
                        break
                elif sid >= minid:
                    break
                if sid not in dead:
                    dead[sid] = entries.pop(sid)
                    gone += 1
            node.set_counts(node.count - gone, node.deleted + gone)
            deleted += gone
            break
        if deleted:
            self._update_first_id()
        return deleted

    def remove_first(self, n: int) -> int:
        """Trim helper: drop the ``n`` oldest entries (an exact MAXLEN trim)."""
        return self.trim(maxlen=max(0, len(self.entries) - n))

    def remove_before(self, minid: tuple[int, int]) -> int:
        """Trim helper: drop every entry with id < minid (an exact MINID trim)."""
        return self.trim(minid=minid)

    def first_node_id(self) -> tuple[int, int] | None:
        """streamGetEdgeID(s, 1, 0): the first entry in the nodes, tombstones included (what
        XADD/XTRIM ``MINID ~`` propagate); None when there is no node."""
        return self.nodes.peekitem(0)[1].ids[0] if self.nodes else None

    def last_valid_id(self) -> tuple[int, int]:
        """streamLastValidID: the last live entry's ID, (0, 0) when empty."""
        return self.entries.peekitem(-1)[0] if self.entries else MIN_ID

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

    def node_ids(self) -> list[tuple[int, int]]:
        """The master IDs of the listpack nodes, in order (XINFO STREAM radix-tree-keys)."""
        return list(self.nodes.keys())

    def node_count(self, max_entries: int = 100, max_bytes: int = 4096) -> int:
        """How many listpack nodes the stream holds (the arguments are kept for callers that
        passed the node limits; the nodes are tracked as the stream grew)."""
        return len(self.nodes)

    def rebuild_nodes(self, max_entries: int = 100, max_bytes: int = 4096) -> None:
        """Lay the live entries out afresh into nodes as streamAppendItem would (for a value
        whose ``entries`` were filled directly)."""
        self.nodes = SortedDict()
        entries = self.entries
        for sid, fv in entries.items():
            nodes = self.nodes
            node = nodes.peekitem(-1)[1] if nodes else None
            if node is not None:
                mb = STREAM_LISTPACK_MAX_SIZE if max_bytes == 0 or max_bytes > STREAM_LISTPACK_MAX_SIZE else max_bytes
                tot = sum(len(x) for x in fv)
                if node.nbytes + tot >= mb or (max_entries and node.count + node.deleted >= max_entries):
                    node = None
            if node is None:
                node = StreamNode(sid, fv[0::2])
                nodes[sid] = node
            node.set_counts(node.count + 1, node.deleted)
            node.nbytes += node.entry_size(sid, fv)
            node.ids.append(sid)

    def nodes_consistent(self) -> bool:
        return sum(n.count for n in self.nodes.values()) == len(self.entries)

    # -- COPY ------------------------------------------------------------------------------

    def copy(self) -> RedisStream:
        """An independent duplicate (COPY): entries, metadata, groups, consumers, PELs with
        shared NACKs between a group and its consumers as in the original."""
        s = RedisStream()
        s.entries = SortedDict((k, list(v)) for k, v in self.entries.items())
        for master, node in self.nodes.items():
            n = StreamNode.__new__(StreamNode)
            n.master = node.master
            n.fields = list(node.fields)
            n.ids = list(node.ids)
            n.dead = {k: list(v) for k, v in node.dead.items()}
            n.count = node.count
            n.deleted = node.deleted
            n.nbytes = node.nbytes
            s.nodes[master] = n
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
