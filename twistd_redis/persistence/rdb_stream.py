"""Streams in RDB files (rdb.c, Redis 7.0): RDB_TYPE_STREAM_LISTPACKS (15, Redis 5 - 6.2),
_2 (19, Redis 7.0) and _3 (21, Redis 7.2) read; type 19 written as Redis 7.0 writes it.

Body layout (after the type byte)::

    <len: nodes> { <string: 16-byte master ID, big endian ms then seq> <string: listpack> }*
    <len: length> <len: last_id.ms> <len: last_id.seq>
    [19, 21: <len: first_id.ms> <len: first_id.seq> <len: max_deleted.ms> <len: max_deleted.seq>
             <len: entries_added>]
    <len: groups> { <string: name> <len: last_id.ms> <len: last_id.seq>
                    [19, 21: <len: entries_read> (uint64; 2**64-1 is -1 = unknown)]
                    <len: pel size> { <16-byte raw id> <ms time LE> <len: delivery count> }*
                    <len: consumers> { <string: name> <ms time: seen_time>
                                       [21: <ms time: active_time>]
                                       <len: pel size> { <16-byte raw id> }* }* }*

A node's listpack starts with the master entry
``count, deleted, num-fields, field_1 .. field_N, 0`` and then holds entries
``flags, ms-diff, seq-diff, [num-fields, field_1, value_1, ...] | [value_1 ...], lp-count``
(values only when ``flags`` has SAMEFIELDS: the master's field names). IDs are deltas from the
node's master ID in uint64 arithmetic (stored as int64). Entries flagged DELETED are tombstones.

Reading keeps the file's nodes as the value's ``nodes`` (tombstones included, byte sizes as
stored); writing emits the value's nodes as they are (``StreamNode.listpack``), so a stream goes
through an RDB node for node as in Redis. ``build_nodes`` (RedisStream.rebuild_nodes on a scratch
value) lays entries out afresh as Redis's
streamAppendItem would (a new node when the tail node's bytes + the new entry's raw field/value
bytes reach stream-node-max-bytes (4096) or it holds stream-node-max-entries (100) entries).
"""

from __future__ import annotations

import struct

from sortedcontainers import SortedDict

from ..datatypes.stream import (
    MAX_ID,
    MIN_ID,
    STREAM_ITEM_FLAG_DELETED,
    STREAM_ITEM_FLAG_SAMEFIELDS,
    RedisStream,
    StreamCG,
    StreamConsumer,
    StreamNACK,
    StreamNode,
)
from .listpack import listpack_decode, lp_string_to_int64

__all__ = [
    "RDB_TYPE_STREAM_LISTPACKS",
    "RDB_TYPE_STREAM_LISTPACKS_2",
    "RDB_TYPE_STREAM_LISTPACKS_3",
    "STREAM_TYPES",
    "build_nodes",
    "read_stream",
    "write_stream",
]

RDB_TYPE_STREAM_LISTPACKS = 15
RDB_TYPE_STREAM_LISTPACKS_2 = 19
RDB_TYPE_STREAM_LISTPACKS_3 = 21
STREAM_TYPES = (RDB_TYPE_STREAM_LISTPACKS, RDB_TYPE_STREAM_LISTPACKS_2, RDB_TYPE_STREAM_LISTPACKS_3)

MASK64 = (1 << 64) - 1
_rawid = struct.Struct(">QQ")


def raw_id(sid: tuple[int, int]) -> bytes:
    """streamEncodeID: 16 bytes, ms then seq, big endian (rax key / PEL key order)."""
    return _rawid.pack(sid[0], sid[1])


def decode_raw_id(b: bytes) -> tuple[int, int]:
    return _rawid.unpack(b)


# -- reading --------------------------------------------------------------------------------


def _parse_node(
    master: tuple[int, int], items: list, out: SortedDict, node: StreamNode | None = None
) -> tuple[int, int]:
    """Walk one node's listpack (streamValidateListpackIntegrity's checks); put its live
    entries into ``out`` (and every entry ID, tombstones with their fields, into ``node``).
    Returns (count, deleted) from the master entry. ValueError if bad."""
    n = len(items)
    pos = 0

    def integer() -> int:
        nonlocal pos
        if pos >= n:
            raise ValueError("listpack ends inside a stream entry")
        v = items[pos]
        pos += 1
        if type(v) is not int:
            v = lp_string_to_int64(v)
            if v is None:
                raise ValueError("stream listpack field is not an integer")
        return v

    def element() -> bytes:
        nonlocal pos
        if pos >= n:
            raise ValueError("listpack ends inside a stream entry")
        v = items[pos]
        pos += 1
        return b"%d" % v if type(v) is int else v

    count = integer()
    deleted = integer()
    master_fields = integer()
    if count < 0 or deleted < 0 or master_fields < 0:
        raise ValueError("negative stream node counter")
    mfields = [element() for _ in range(master_fields)]
    if integer() != 0:
        raise ValueError("master entry terminator is not zero")
    if node is not None:
        node.fields = mfields
    mms, mseq = master
    live = 0
    for _ in range(count + deleted):
        flags = integer()
        ms = (mms + integer()) & MASK64
        seq = (mseq + integer()) & MASK64
        if flags & STREAM_ITEM_FLAG_SAMEFIELDS:
            nf = master_fields
            fv = []
            for f in mfields:
                fv.append(f)
                fv.append(element())
            expect = nf + 3
        else:
            nf = integer()
            if nf < 0:
                raise ValueError("negative field count")
            fv = [element() for _ in range(2 * nf)]
            expect = 2 * nf + 4
        if integer() != expect:
            raise ValueError("stream entry lp-count mismatch")
        sid = (ms, seq)
        if node is not None:
            node.ids.append(sid)
        if not flags & STREAM_ITEM_FLAG_DELETED:
            if sid in out:
                raise ValueError("duplicate stream entry ID")
            out[sid] = fv
            live += 1
        elif node is not None:
            node.dead[sid] = fv
    if pos != n:
        raise ValueError("trailing elements in stream listpack")
    return count, deleted


def _read_u64_len(r) -> int:
    return r.read_len()


def read_stream(r, rdbtype: int) -> RedisStream:
    """Read a stream body (the type byte already consumed) of RDB type 15, 19 or 21."""
    if rdbtype not in STREAM_TYPES:
        raise r.error("Unknown stream RDB type %d" % rdbtype)
    s = RedisStream()
    entries = s.entries
    nodes = r.read_len()
    seen: set[bytes] = set()
    for _ in range(nodes):
        at = r.pos
        key = r.read_string()
        if len(key) != 16:
            raise r.error("Stream node key entry is not the size of a stream ID", at)
        at = r.pos
        lp = r.read_string()
        try:
            items = listpack_decode(lp)
        except ValueError:
            raise r.error("Stream listpack integrity check failed.", at) from None
        if not items:
            raise r.error("Empty listpack inside stream", at)
        if key in seen:
            raise r.error("Listpack re-added with existing key", at)
        seen.add(key)
        master = decode_raw_id(key)
        node = StreamNode(master, [])
        try:
            count, deleted = _parse_node(master, items, entries, node)
        except ValueError:
            raise r.error("Stream listpack integrity check failed.", at) from None
        node.count = count
        node.deleted = deleted
        node.nbytes = len(lp)
        s.nodes[master] = node

    at = r.pos
    length = r.read_len()
    s.last_id = (r.read_len(), r.read_len())
    if rdbtype >= RDB_TYPE_STREAM_LISTPACKS_2:
        s.first_id = (r.read_len(), r.read_len())
        s.max_deleted_entry_id = (r.read_len(), r.read_len())
        s.entries_added = r.read_len()
    else:
        # Redis 5 - 6.2 files: no tombstone record, entries_added := length, first_id from
        # the entries (streamGetEdgeID: the max ID when there is none)
        s.max_deleted_entry_id = MIN_ID
        s.entries_added = length
        s.first_id = entries.peekitem(0)[0] if entries else MAX_ID
    if length != len(entries):
        raise r.error("Stream length inconsistent with rax entries", at)

    ngroups = r.read_len()
    for _ in range(ngroups):
        at = r.pos
        name = r.read_string()
        cg_id = (r.read_len(), r.read_len())
        if rdbtype >= RDB_TYPE_STREAM_LISTPACKS_2:
            entries_read = r.read_len()
            if entries_read >= (1 << 63):
                entries_read -= 1 << 64
        else:
            entries_read = s.estimate_distance_from_first_ever_entry(cg_id)
        if name in s.groups:
            raise r.error("Duplicated consumer group name {}".format(name.decode("utf-8", "replace")), at)
        cg = StreamCG(cg_id, entries_read)
        s.groups[name] = cg

        pel = cg.pel
        for _ in range(r.read_len()):
            at = r.pos
            rid = r.read_exact(16)
            delivery_time = r.read_millisecond_time()
            delivery_count = r.read_len()
            sid = decode_raw_id(rid)
            if sid in pel:
                raise r.error("Duplicated global PEL entry loading stream consumer group", at)
            pel[sid] = StreamNACK(None, delivery_time, delivery_count)

        for _ in range(r.read_len()):
            at = r.pos
            cname = r.read_string()
            if cname in cg.consumers:
                raise r.error("Duplicate stream consumer detected.", at)
            seen_time = r.read_millisecond_time()
            active_time = r.read_millisecond_time() if rdbtype >= RDB_TYPE_STREAM_LISTPACKS_3 else None
            c = StreamConsumer(cname, seen_time, active_time)
            cg.consumers[cname] = c
            for _ in range(r.read_len()):
                at = r.pos
                sid = decode_raw_id(r.read_exact(16))
                nack = pel.get(sid)
                if nack is None:
                    raise r.error("Consumer entry not found in group global PEL", at)
                if sid in c.pel:
                    raise r.error("Duplicated consumer PEL entry loading a stream consumer group", at)
                if nack.consumer is not None:
                    raise r.error("Stream PEL entry owned by two consumers", at)
                nack.consumer = c
                c.pel[sid] = nack
        for nack in pel.values():
            if nack.consumer is None:
                raise r.error("Stream CG PEL entry without consumer")
    return s


# -- writing --------------------------------------------------------------------------------


def build_nodes(
    s: RedisStream, max_entries: int = 100, max_bytes: int = 4096
) -> list[tuple[tuple[int, int], bytes]]:
    """(master ID, listpack) per node, for ``s``'s live entries laid out afresh as
    streamAppendItem would (``RedisStream.rebuild_nodes`` on a scratch value)."""
    fresh = RedisStream()
    fresh.entries = s.entries
    fresh.rebuild_nodes(max_entries, max_bytes)
    return [(master, node.listpack(s.entries)) for master, node in fresh.nodes.items()]


def write_stream(w, s: RedisStream, max_entries: int = 100, max_bytes: int = 4096) -> None:
    """Write a stream body (no type byte) as RDB_TYPE_STREAM_LISTPACKS_2, as Redis 7.0 does:
    the value's nodes as they are (laid out afresh when its node record does not match its
    entries)."""
    if s.nodes_consistent():
        entries = s.entries
        nodes = [(master, node.listpack(entries)) for master, node in s.nodes.items()]
    else:
        nodes = build_nodes(s, max_entries, max_bytes)
    w.write_len(len(nodes))
    for master, lp in nodes:
        w.write_string(raw_id(master))
        w.write_string(lp)
        if hasattr(w, "maybe_flush"):
            w.maybe_flush()
    w.write_len(len(s.entries))
    w.write_len(s.last_id[0])
    w.write_len(s.last_id[1])
    w.write_len(s.first_id[0])
    w.write_len(s.first_id[1])
    w.write_len(s.max_deleted_entry_id[0])
    w.write_len(s.max_deleted_entry_id[1])
    w.write_len(s.entries_added & MASK64)
    w.write_len(len(s.groups))
    for name, cg in s.groups.items():
        w.write_string(name)
        w.write_len(cg.last_id[0])
        w.write_len(cg.last_id[1])
        w.write_len(cg.entries_read & MASK64)
        w.write_len(len(cg.pel))
        for sid, nack in cg.pel.items():
            w.write_raw(raw_id(sid))
            w.write_millisecond_time(nack.delivery_time)
            w.write_len(nack.delivery_count)
        w.write_len(len(cg.consumers))
        for cname, c in cg.consumers.items():
            w.write_string(cname)
            w.write_millisecond_time(c.seen_time)
            w.write_len(len(c.pel))
            for sid in c.pel:
                w.write_raw(raw_id(sid))
