"""Streams in RDB (persistence/rdb_stream.py) and the stream value (datatypes/stream.py):
the streams of tests/data/rdb-samples/kitchen-sink-7.0.rdb load to exactly what redis-server
7.0.15 serves from that file, write_stream -> read_stream keeps everything, RDB types 15 and 21
read, corrupt bodies raise RdbError, XINFO GROUPS lag rules as Redis 7.0.15 answers them."""

import io
import json
import os
import struct

import pytest

from twistd_redis.datatypes import copy_value, encoding_name, type_name
from twistd_redis.datatypes.stream import (
    MAX_ID,
    SCG_INVALID_ENTRIES_READ,
    RedisStream,
    format_id,
)
from twistd_redis.persistence import rdb
from twistd_redis.persistence.listpack import listpack_decode, listpack_encode
from twistd_redis.persistence.rdb import RdbError, RdbReader, RdbWriter
from twistd_redis.persistence.rdb_stream import (
    build_nodes,
    raw_id,
    read_stream,
    write_stream,
)

SAMPLES = os.path.join(os.path.dirname(__file__), "..", "data", "rdb-samples")


def _str(v):
    return None if v is None else (v.decode() if isinstance(v, bytes) else str(v))


def _body(s, **kw):
    out = io.BytesIO()
    w = RdbWriter(out, **kw)
    write_stream(w, s)
    w.flush()
    return out.getvalue()


def _read(body, rdbtype=19):
    r = RdbReader(body)
    s = read_stream(r, rdbtype)
    assert r.pos == len(body)
    return s


def snapshot(s):
    """Everything a stream holds, as plain data."""
    groups = {}
    for name, cg in s.groups.items():
        cons = {}
        for cname, c in cg.consumers.items():
            for sid, nack in c.pel.items():
                assert cg.pel[sid] is nack and nack.consumer is c
            cons[cname] = (c.seen_time, list(c.pel))
        groups[name] = (
            cg.last_id,
            cg.entries_read,
            [(sid, n.consumer.name, n.delivery_time, n.delivery_count) for sid, n in cg.pel.items()],
            cons,
        )
    return (list(s.entries.items()), s.last_id, s.first_id, s.max_deleted_entry_id, s.entries_added, groups)


# -- the kitchen sink written by redis-server 7.0.15 ----------------------------------------


def test_kitchen_sink_streams_load_as_redis_serves_them():
    with open(os.path.join(SAMPLES, "kitchen-sink-7.0.rdb"), "rb") as f:
        data = f.read()
    with open(os.path.join(SAMPLES, "kitchen-sink-7.0.json")) as f:
        expected = json.load(f)
    found = {}
    for ev in rdb.load(data):
        if ev[0] == "key" and type_name(ev[3]) == b"stream":
            found[(str(ev[1]), ev[2].decode())] = ev[3]
    assert set(found) == {("0", "db0:stream"), ("3", "db3:stream"), ("9", "db9:stream")}
    for (db, key), s in found.items():
        exp = expected[db][key]["value"]
        got_entries = [[format_id(sid).decode(), [x.decode() for x in fv]] for sid, fv in s.entries.items()]
        assert got_entries == exp["entries"]
        rows = [[x for kv in row.items() for x in (_str(kv[0]), _str(kv[1]))] for row in s.groups_info()]
        assert rows == exp["groups"]
        assert encoding_name(s) == b"stream"
        # and it survives our writer
        assert snapshot(_read(_body(s))) == snapshot(s)


# -- round trips ------------------------------------------------------------------------------


def _rich_stream():
    s = RedisStream()
    for i in range(260):
        if i % 11 == 5:
            fv = [b"other", b"%d" % i, b"k", b"v" * (i % 70)]
        else:
            fv = [b"a", b"%d" % (i * 1000), b"b", b"-%d" % i if i % 2 else b"txt%d" % i]
        s.append((1000 + i, (37 * i) % 50), fv)  # seqs below their node master's too
    s.append((3000, 0), [b"big", b"z" * 5000])
    s.append((3000, 1), [b"", b""])
    s.append((2**64 - 1, 2**64 - 2), [b"edge", b"9223372036854775808"])
    for sid in list(s.entries)[10:20:3]:
        assert s.delete(sid)
    s.remove_first(3)
    s.entries_added += 5
    g = s.create_group(b"g1", (1040, 0), 37)
    g2 = s.create_group(b"g0", (1004, 0))
    s.create_group(b"empty", (0, 0), 0)
    alice = g.create_consumer(b"alice", 1700000000123)
    bob = g.create_consumer(b"bob", 1700000000456)
    g.create_consumer(b"idle", 99)
    ids = list(s.entries)
    for j, sid in enumerate(ids[:9]):
        g.add_pending(sid, alice if j % 3 else bob, 1700000000000 + j, j + 1)
    carol = g2.create_consumer(b"carol", 5)
    g2.add_pending(ids[0], carol, 6, 2**40)
    g2.add_pending((1, 1), carol, 7, 1)  # a pending id no longer in the stream
    return s


def test_round_trip_keeps_everything():
    s = _rich_stream()
    for compress in (True, False):
        s2 = _read(_body(s, compress=compress))
        assert snapshot(s2) == snapshot(s)
        assert s2.groups_info() == s.groups_info()
    assert s.groups[b"g0"].entries_read == SCG_INVALID_ENTRIES_READ


def test_round_trip_through_dump_payload():
    s = _rich_stream()
    payload = rdb.dump_payload(s)
    assert payload[0] == 19
    assert snapshot(rdb.restore_payload(payload)) == snapshot(s)


def test_empty_stream_with_group_round_trips():
    s = RedisStream()
    s.append((5, 5), [b"a", b"1"])
    s.delete((5, 5))
    s.create_group(b"g", (0, 0))
    assert s.first_id == (0, 0) and s.max_deleted_entry_id == (5, 5)
    body = _body(s)
    assert body[0] == 0  # no nodes
    s2 = _read(body)
    assert snapshot(s2) == snapshot(s)
    assert s2.groups_info() == [
        {b"name": b"g", b"consumers": 0, b"pending": 0, b"last-delivered-id": b"0-0", b"entries-read": None, b"lag": 0}
    ]


def test_nodes_split_like_stream_append_item():
    s = RedisStream()
    for i in range(250):
        s.append((1, i), [b"f", b"%d" % i])
    nodes = list(build_nodes(s))
    assert [m for m, _ in nodes] == [(1, 0), (1, 100), (1, 200)]
    first = listpack_decode(nodes[0][1])
    # master entry: count 100, deleted 0, 1 field "f", terminator 0; first entry SAMEFIELDS
    assert first[:5] == [100, 0, 1, b"f", 0]
    assert first[5:10] == [2, 0, 0, 0, 4]
    assert first[10:15] == [2, 0, 1, 1, 4]
    # byte budget: node bytes + raw field/value bytes reaching 4096 opens a new node
    s = RedisStream()
    for i in range(6):
        s.append((1, i), [b"f", b"x" * 1000])
    assert len(list(build_nodes(s))) == 2
    one = listpack_decode(next(iter(build_nodes(s)))[1])
    assert one[0] == 4
    # different fields: not SAMEFIELDS, field names written
    s = RedisStream()
    s.append((1, 0), [b"a", b"1"])
    s.append((2, 0), [b"b", b"2", b"c", b"3"])
    lp = listpack_decode(next(iter(build_nodes(s)))[1])
    assert lp[10:] == [0, 1, 0, 2, b"b", 2, b"c", 3, 8]


# -- other RDB stream types ------------------------------------------------------------------


def _legacy_body(s, rdbtype):
    """A type 15 (Redis 5-6.2) or 21 (Redis 7.2) body for ``s``."""
    out = io.BytesIO()
    w = RdbWriter(out)
    nodes = list(build_nodes(s))
    w.write_len(len(nodes))
    for m, lp in nodes:
        w.write_string(raw_id(m))
        w.write_string(lp)
    w.write_len(len(s))
    w.write_len(s.last_id[0])
    w.write_len(s.last_id[1])
    if rdbtype == 21:
        for v in (*s.first_id, *s.max_deleted_entry_id, s.entries_added):
            w.write_len(v)
    w.write_len(len(s.groups))
    for name, cg in s.groups.items():
        w.write_string(name)
        w.write_len(cg.last_id[0])
        w.write_len(cg.last_id[1])
        if rdbtype == 21:
            w.write_len(cg.entries_read & (2**64 - 1))
        w.write_len(len(cg.pel))
        for sid, n in cg.pel.items():
            w.write_raw(raw_id(sid))
            w.write_millisecond_time(n.delivery_time)
            w.write_len(n.delivery_count)
        w.write_len(len(cg.consumers))
        for cname, c in cg.consumers.items():
            w.write_string(cname)
            w.write_millisecond_time(c.seen_time)
            if rdbtype == 21:
                w.write_millisecond_time(c.seen_time + 1)
            w.write_len(len(c.pel))
            for sid in c.pel:
                w.write_raw(raw_id(sid))
    w.flush()
    return out.getvalue()


def test_type_21_reads_active_time():
    s = _rich_stream()
    s2 = _read(_legacy_body(s, 21), 21)
    assert snapshot(s2) == snapshot(s)
    c = s2.groups[b"g1"].consumers[b"alice"]
    assert c.active_time == c.seen_time + 1


def test_type_15_derives_the_7_0_metadata():
    s = RedisStream()
    for i in range(1, 6):
        s.append((i, 0), [b"f", b"%d" % i])
    s.delete((2, 0))
    s.remove_first(1)
    s.create_group(b"at-first", (3, 0))
    s.create_group(b"before", (1, 5))
    s.create_group(b"middle", (4, 0))
    s.create_group(b"last", (5, 0))
    s2 = _read(_legacy_body(s, 15), 15)
    assert list(s2.entries) == [(3, 0), (4, 0), (5, 0)]
    assert s2.first_id == (3, 0) and s2.max_deleted_entry_id == (0, 0)
    assert s2.entries_added == 3 and s2.last_id == (5, 0)
    er = {n: g.entries_read for n, g in s2.groups.items()}
    assert er == {b"at-first": 1, b"before": 0, b"middle": -1, b"last": 3}
    empty = RedisStream()
    empty.last_id = (9, 9)
    e2 = _read(_legacy_body(empty, 15), 15)
    assert e2.first_id == MAX_ID and e2.entries_added == 0 and len(e2) == 0


# -- corrupt bodies --------------------------------------------------------------------------


def _small():
    s = RedisStream()
    s.append((1, 1), [b"f", b"v"])
    s.append((1, 2), [b"f", b"w"])
    g = s.create_group(b"g", (1, 2), 2)
    c = g.create_consumer(b"c", 10)
    g.add_pending((1, 1), c, 11, 1)
    return s


NODE_KEY = raw_id((1, 1))


def _node_body(lp, key=NODE_KEY, tail=b"\x02\x01\x02\x01\x01\x00\x00\x02\x00"):
    out = io.BytesIO()
    w = RdbWriter(out, compress=False)
    w.write_len(1)
    w.write_string(key)
    w.write_string(lp)
    w.flush()
    return out.getvalue() + tail


GOOD_LP = listpack_encode([2, 0, 1, b"f", 0, 2, 0, 0, b"v", 4, 2, 0, 1, b"w", 4])


def test_node_body_helper_is_valid():
    s = _read(_node_body(GOOD_LP))
    assert list(s.entries.items()) == [((1, 1), [b"f", b"v"]), ((1, 2), [b"f", b"w"])]


@pytest.mark.parametrize(
    "body,msg",
    [
        (_node_body(GOOD_LP, key=b"short"), "Stream node key entry is not the size of a stream ID"),
        (_node_body(listpack_encode([])), "Empty listpack inside stream"),
        (_node_body(GOOD_LP[:-2] + b"\x05\xff"), "Stream listpack integrity check failed."),
        (
            _node_body(listpack_encode([2, 0, 1, b"f", 0, 2, 0, 0, b"v", 5, 2, 0, 1, b"w", 4])),
            "Stream listpack integrity check failed.",
        ),  # lp-count
        (
            _node_body(listpack_encode([2, 0, 1, b"f", 1, 2, 0, 0, b"v", 4, 2, 0, 1, b"w", 4])),
            "Stream listpack integrity check failed.",
        ),  # master terminator
        (
            _node_body(listpack_encode([3, 0, 1, b"f", 0, 2, 0, 0, b"v", 4, 2, 0, 1, b"w", 4])),
            "Stream listpack integrity check failed.",
        ),  # count says 3
        (
            _node_body(listpack_encode([2, 0, 1, b"f", 0, b"x", 0, 0, b"v", 4, 2, 0, 1, b"w", 4])),
            "Stream listpack integrity check failed.",
        ),  # flags not an integer
        (
            _node_body(GOOD_LP, tail=b"\x03\x01\x02\x01\x01\x00\x00\x02\x00"),
            "Stream length inconsistent with rax entries",
        ),
    ],
)
def test_corrupt_nodes(body, msg):
    with pytest.raises(RdbError, match="^" + msg.replace(".", r"\.") + " at offset"):
        _read(body)


def test_duplicate_node_key():
    out = io.BytesIO()
    w = RdbWriter(out, compress=False)
    w.write_len(2)
    for _ in range(2):
        w.write_string(raw_id((1, 1)))
        w.write_string(GOOD_LP)
    w.flush()
    with pytest.raises(RdbError, match="Listpack re-added with existing key"):
        _read(out.getvalue() + b"\x02\x01\x02\x01\x01\x00\x00\x02\x00")


def _group_tail(pel, consumers, groups=((b"g",),)):
    """Metadata + one group with the given global PEL ids and {consumer: [ids]}."""
    out = io.BytesIO()
    w = RdbWriter(out, compress=False)
    for v in (2, 1, 2, 1, 1, 0, 0, 2):
        w.write_len(v)
    w.write_len(len(groups))
    for (name,) in groups:
        w.write_string(name)
        w.write_len(1)
        w.write_len(2)
        w.write_len(2)
        w.write_len(len(pel))
        for sid in pel:
            w.write_raw(raw_id(sid))
            w.write_millisecond_time(11)
            w.write_len(1)
        w.write_len(len(consumers))
        for cname, ids in consumers:
            w.write_string(cname)
            w.write_millisecond_time(10)
            w.write_len(len(ids))
            for sid in ids:
                w.write_raw(raw_id(sid))
    w.flush()
    return out.getvalue()


@pytest.mark.parametrize(
    "tail,msg",
    [
        (_group_tail([(1, 1)], [(b"c", [(1, 2)])]), "Consumer entry not found in group global PEL"),
        (_group_tail([(1, 1)], [(b"c", [])]), "Stream CG PEL entry without consumer"),
        (
            _group_tail([(1, 1), (1, 1)], [(b"c", [(1, 1)])]),
            "Duplicated global PEL entry loading stream consumer group",
        ),
        (_group_tail([(1, 1)], [(b"c", [(1, 1)]), (b"c", [])]), "Duplicate stream consumer detected."),
        (
            _group_tail([(1, 1)], [(b"c", [(1, 1), (1, 1)])]),
            "Duplicated consumer PEL entry loading a stream consumer group",
        ),
        (_group_tail([(1, 1)], [(b"c", [(1, 1)]), (b"d", [(1, 1)])]), "Stream PEL entry owned by two consumers"),
        (_group_tail([], [], groups=((b"g",), (b"g",))), "Duplicated consumer group name g"),
    ],
)
def test_corrupt_groups(tail, msg):
    ok = _read(_node_body(GOOD_LP, tail=_group_tail([(1, 1)], [(b"c", [(1, 1)])])))
    assert snapshot(ok) == snapshot(_small())
    with pytest.raises(RdbError, match="^" + msg.replace(".", r"\.") + " at offset"):
        _read(_node_body(GOOD_LP, tail=tail))


def test_truncated_bodies_raise():
    body = _body(_rich_stream())
    for cut in (0, 1, 5, 30, len(body) // 2, len(body) - 20, len(body) - 1):
        with pytest.raises(RdbError):
            read_stream(RdbReader(body[:cut]), 19)


def test_restore_payload_corrupt_stream_is_rdb_error():
    payload = bytearray(rdb.dump_payload(_small()))
    # break the listpack's back-length of its last entry and fix the CRC
    from twistd_redis.persistence.crc64 import crc64

    body = payload[:-8]
    i = body.index(b"\x04\x01\xff")  # last lp-count 4 + backlen 1 + EOF
    body[i + 1] = 0x02
    bad = bytes(body) + struct.pack("<Q", crc64(bytes(body)))
    with pytest.raises(RdbError):
        rdb.restore_payload(bad)


# -- the value ----------------------------------------------------------------------------


def test_type_encoding_and_copy_are_independent():
    s = _rich_stream()
    assert type_name(s) == b"stream" and encoding_name(s) == b"stream"
    c = copy_value(s)
    assert snapshot(c) == snapshot(s)
    c.groups[b"g1"].ack(next(iter(c.groups[b"g1"].pel)))
    c.append((2**64 - 1, 2**64 - 1), [b"x", b"y"])
    next(iter(c.entries.values()))[0] = b"changed"
    assert snapshot(c) != snapshot(s)
    assert snapshot(s) == snapshot(_read(_body(s)))
    assert len(s.groups[b"g1"].pel) == 9


def _lags(s):
    return [(r[b"entries-read"], r[b"lag"]) for r in s.groups_info()]


def test_lag_rules_match_redis_7_0_15():
    # XADD s 1-1; XGROUP CREATE s g 0; XDEL s 1-1 -> entries-read nil, lag 0
    s = RedisStream()
    s.append((1, 1), [b"a", b"1"])
    s.create_group(b"g", (0, 0))
    s.delete((1, 1))
    assert _lags(s) == [(None, 0)]
    # 1-1 2-1 3-1, group at 1-1, XDEL 2-1 -> nil, nil
    t = RedisStream()
    for i in (1, 2, 3):
        t.append((i, 1), [b"a", b"1"])
    t.create_group(b"g", (1, 1))
    t.delete((2, 1))
    assert _lags(t) == [(None, None)]
    # 1-1 2-1 3-1, XDEL 1-1, group at 0-5 -> nil, 2; ENTRIESREAD 1 at 0-0 -> 1, 2
    u = RedisStream()
    for i in (1, 2, 3):
        u.append((i, 1), [b"a", b"1"])
    u.delete((1, 1))
    u.create_group(b"g", (0, 5))
    u.create_group(b"g2", (0, 0), 1)
    assert _lags(u) == [(None, 2), (1, 2)]
    # never-used stream: lag 0; group at last id: lag 0 even with tombstones
    v = RedisStream()
    v.create_group(b"g", (0, 0))
    assert _lags(v) == [(None, 0)]
    u.create_group(b"h", (3, 1))
    assert _lags(u)[2] == (None, 0)
    # a future id: unknown
    u.create_group(b"i", (9, 9))
    assert _lags(u)[3] == (None, None)
