"""Streams cross DUMP/RESTORE both ways between a real redis-server 7.0 and our RDB code:
streams built in real Redis (deletions, trims, groups, several consumers, pending entries) load
here to exactly what the real server reports (XRANGE, XINFO GROUPS, XPENDING, XINFO STREAM
FULL); our dump_payload of them RESTOREs into the real server with the same answers; a type-15
(Redis 5-6.2) payload of ours reads here as Redis 7.0 reads it."""

from __future__ import annotations

import shutil
import struct

import pytest
import redis

from tests.helpers_proc import ServerProcess
from tests.helpers_proc import raw_reply as raw
from tests.unit.test_rdb_stream import _legacy_body, snapshot
from twistd_redis.datatypes.stream import format_id
from twistd_redis.persistence import rdb
from twistd_redis.persistence.crc64 import crc64
from twistd_redis.persistence.rdb import RdbReader
from twistd_redis.persistence.rdb_stream import read_stream

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("stream-real"))
    with ServerProcess.real(None, cwd=d) as srv:
        c = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=30, protocol=2)
        yield c
        c.close()


def build(c: redis.Redis, key: str, n: int = 230, tail_delete: bool = True) -> None:
    c.delete(key)
    for i in range(n):
        fields = {"a": i, "b": "x" * (i % 50)} if i % 9 else {"other": -i, "big": "y" * (i * 40)}
        c.xadd(key, fields, id=f"{1000 + i // 3}-{i % 3 * 7}")
    c.xdel(key, "1010-7", "1020-0")
    if tail_delete:  # a tombstone after every group's position: lags are unknown (null)
        c.xdel(key, f"{1000 + (n - 1) // 3}-{(n - 1) % 3 * 7}")
    c.xtrim(key, minid="1003-0", approximate=False)
    c.xgroup_create(key, "g1", id="0")
    c.xgroup_create(key, "g2", id="1050-0")
    c.xgroup_create(key, "a-empty", id="$")
    c.xreadgroup("g1", "alice", {key: ">"}, count=5)
    c.xreadgroup("g1", "bob", {key: ">"}, count=3)
    c.xreadgroup("g1", "alice", {key: ">"}, count=2)
    c.xack(key, "g1", "1004-0")
    c.xclaim(key, "g1", "carol", 0, ["1003-7"])
    c.xgroup_createconsumer(key, "g1", "dave")
    c.xreadgroup("g2", "erin", {key: ">"}, count=4)
    c.xclaim(key, "g2", "erin", 0, ["1051-0"], retrycount=9)
    c.xadd(key, {"late": "1"}, id="99999-1")
    raw(c, "XGROUP", "CREATE", key, "g3", "1060-0", "ENTRIESREAD", 150)
    c.xreadgroup("g3", "frank", {key: ">"}, count=2)
    c.xgroup_create(key, "z-last", id="$")


def real_view(c: redis.Redis, key: str) -> dict:
    full = raw(c, "XINFO", "STREAM", key, "FULL", "COUNT", 0)
    info = dict(zip(full[0::2], full[1::2]))
    for k in (b"radix-tree-keys", b"radix-tree-nodes"):  # node layout: ours holds no tombstones
        info.pop(k)
    pend = {
        g[1]: (
            raw(c, "XPENDING", key, g[1]),
            [row[:2] + row[3:] for row in raw(c, "XPENDING", key, g[1], "-", "+", 1000)],
        )
        for g in raw(c, "XINFO", "GROUPS", key)
    }
    return {
        "xrange": raw(c, "XRANGE", key, "-", "+"),
        "groups": raw(c, "XINFO", "GROUPS", key),
        "full": info,
        "pending": pend,
    }


def our_view(s) -> dict:
    """What the real server would answer for our value (same shapes as real_view)."""
    xrange = [[format_id(sid), list(fv)] for sid, fv in s.entries.items()]
    groups = [[x for kv in row.items() for x in kv] for row in s.groups_info()]
    fgroups = []
    pending = {}
    for name, cg in s.groups.items():
        row = s.group_info(name)
        fgroups.append(
            [
                b"name",
                name,
                b"last-delivered-id",
                format_id(cg.last_id),
                b"entries-read",
                row[b"entries-read"],
                b"lag",
                row[b"lag"],
                b"pel-count",
                len(cg.pel),
                b"pending",
                [[format_id(sid), n.consumer.name, n.delivery_time, n.delivery_count] for sid, n in cg.pel.items()],
                b"consumers",
                [
                    [
                        b"name",
                        cn,
                        b"seen-time",
                        c.seen_time,
                        b"pel-count",
                        len(c.pel),
                        b"pending",
                        [[format_id(sid), n.delivery_time, n.delivery_count] for sid, n in c.pel.items()],
                    ]
                    for cn, c in cg.consumers.items()
                ],
            ]
        )
        per = {}
        for n in cg.pel.values():
            per[n.consumer.name] = per.get(n.consumer.name, 0) + 1
        summary = [
            len(cg.pel),
            format_id(cg.pel.keys()[0]) if cg.pel else None,
            format_id(cg.pel.keys()[-1]) if cg.pel else None,
            [[cn, b"%d" % k] for cn, k in sorted(per.items())] or None,
        ]
        pending[name] = (summary, [[format_id(sid), n.consumer.name, n.delivery_count] for sid, n in cg.pel.items()])
    full = {
        b"length": len(s),
        b"last-generated-id": format_id(s.last_id),
        b"max-deleted-entry-id": format_id(s.max_deleted_entry_id),
        b"entries-added": s.entries_added,
        b"recorded-first-entry-id": format_id(s.first_id),
        b"entries": xrange,
        b"groups": fgroups,
    }
    return {"xrange": xrange, "groups": groups, "full": full, "pending": pending}


@pytest.mark.parametrize("tail_delete", [True, False])
def test_real_dump_restores_here_identically(real, tail_delete):
    build(real, "s", tail_delete=tail_delete)
    payload = real.dump("s")
    s = rdb.restore_payload(payload)
    assert len(s) > 200 and len(s.groups) == 5
    assert our_view(s) == real_view(real, "s")


@pytest.mark.parametrize("tail_delete", [True, False])
def test_our_dump_restores_in_real_redis_identically(real, tail_delete):
    build(real, "s", tail_delete=tail_delete)
    s = rdb.restore_payload(real.dump("s"))
    ours = rdb.dump_payload(s)
    real.delete("copy")
    assert raw(real, "RESTORE", "copy", 0, ours) == b"OK"
    assert real_view(real, "copy") == real_view(real, "s")
    # and the bytes Redis dumps back read to the same value
    assert snapshot(rdb.restore_payload(real.dump("copy"))) == snapshot(s)


def test_fresh_stream_dump_is_byte_identical(real):
    real.delete("f")
    for i in range(150):
        real.xadd("f", {"f": i, "g": "v" * (i % 30)} if i % 5 else {"h": i}, id=f"{i + 1}-{i}")
    real.xadd("f", {"huge": "q" * 6000}, id="500-0")
    payload = real.dump("f")
    assert rdb.dump_payload(rdb.restore_payload(payload)) == payload


def test_empty_stream_with_groups(real):
    real.delete("e")
    real.xadd("e", {"a": 1}, id="5-5")
    real.xgroup_create("e", "g", id="0")
    real.xreadgroup("g", "c", {"e": ">"})
    real.xdel("e", "5-5")
    s = rdb.restore_payload(real.dump("e"))
    assert len(s) == 0
    assert our_view(s) == real_view(real, "e")
    real.delete("e2")
    assert raw(real, "RESTORE", "e2", 0, rdb.dump_payload(s)) == b"OK"
    assert real_view(real, "e2") == real_view(real, "e")


def test_type_15_payload_reads_as_redis_7_reads_it(real):
    build(real, "s", n=60)
    s = rdb.restore_payload(real.dump("s"))
    body = bytes([15]) + _legacy_body(s, 15) + struct.pack("<H", 9)
    payload = body + struct.pack("<Q", crc64(body))
    real.delete("old")
    assert raw(real, "RESTORE", "old", 0, payload) == b"OK"
    ours = read_stream(RdbReader(payload, 1), 15)
    assert our_view(ours) == real_view(real, "old")


def test_type_15_empty_stream_records_max_first_id(real):
    from twistd_redis.datatypes.stream import RedisStream

    e = RedisStream()
    e.last_id = (9, 9)
    e.create_group(b"g", (3, 0))
    body = bytes([15]) + _legacy_body(e, 15) + struct.pack("<H", 9)
    payload = body + struct.pack("<Q", crc64(body))
    real.delete("olde")
    assert raw(real, "RESTORE", "olde", 0, payload) == b"OK"
    ours = read_stream(RdbReader(payload, 1), 15)
    view = real_view(real, "olde")
    assert view["full"][b"recorded-first-entry-id"] == b"18446744073709551615-18446744073709551615"
    assert our_view(ours) == view
