"""Streams cross DUMP/RESTORE both ways between a real redis-server 7.0 and our RDB code:
streams built in real Redis (deletions, trims, groups, several consumers, pending entries) load
here to exactly what the real server reports (XRANGE, XINFO GROUPS, XPENDING, XINFO STREAM
FULL); our dump_payload of them RESTOREs into the real server with the same answers; a type-15
(Redis 5-6.2) payload of ours reads here as Redis 7.0 reads it.

Whole servers: streams built by commands (groups, consumers, PELs, deleted entries, read
counters) and SAVEd by one kind of server load from the file alone in the other with the same
XINFO STREAM FULL / XRANGE / XPENDING / XINFO CONSUMERS; DEBUG RELOAD keeps them; an AOF
restart (RDB preamble or command base, plus an incr file of every stream write) rebuilds what
the real server rebuilds from the same commands."""

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


# ---------------------------------------------------------------- whole servers: SAVE, DEBUG RELOAD, AOF
#
# Streams built by commands on one server (explicit IDs; XREADGROUP / XCLAIM / XAUTOCLAIM set
# real delivery times), written to disk, loaded by the other kind of server from the file alone.
# Every view below must match exactly, times included: an RDB keeps delivery and seen times.


def build_by_commands(c: redis.Redis) -> None:
    """Groups, consumers, PELs (delivery counts and times), deleted entries (one a whole node,
    one still pending), entries-read and lag, XSETID metadata, an emptied stream with a group."""

    def x(*args):
        return raw(c, *args)

    for i in range(1, 320):
        fields = ["a", i, "b", "x" * (i % 40)] if i % 11 else ["other", -i]
        x("XADD", "cs", f"{2000 + i // 4}-{i % 4}", *fields)
    x("XDEL", "cs", *[f"{2000 + i // 4}-{i % 4}" for i in range(101, 201)])  # node 2 goes whole
    x("XDEL", "cs", "2003-1", "2010-2")
    x("XTRIM", "cs", "MINID", "2002-0")
    x("XGROUP", "CREATE", "cs", "g1", "0")
    x("XGROUP", "CREATE", "cs", "g2", "2060-0")
    x("XGROUP", "CREATE", "cs", "g3", "$", "ENTRIESREAD", 5)
    x("XREADGROUP", "GROUP", "g1", "alice", "COUNT", 10, "STREAMS", "cs", ">")
    x("XREADGROUP", "GROUP", "g1", "bob", "COUNT", 5, "STREAMS", "cs", ">")
    x("XACK", "cs", "g1", "2002-0", "2002-2")
    x("XCLAIM", "cs", "g1", "carol", 0, "2002-3", "TIME", 1600000000000, "RETRYCOUNT", 5)
    x("XCLAIM", "cs", "g1", "carol", 0, "2004-0", "IDLE", 5000)
    x("XAUTOCLAIM", "cs", "g1", "dan", 0, "0-0", "COUNT", 2)
    x("XGROUP", "CREATECONSUMER", "cs", "g1", "erin")
    x("XREADGROUP", "GROUP", "g2", "frank", "COUNT", 3, "STREAMS", "cs", ">")
    x("XREADGROUP", "GROUP", "g2", "gina", "COUNT", 2, "NOACK", "STREAMS", "cs", ">")
    x("XDEL", "cs", "2005-0")  # pending in g1: the PEL keeps it
    x("XGROUP", "SETID", "cs", "g3", "2070-0", "ENTRIESREAD", 200)
    x("XADD", "cs", "MAXLEN", "~", 1000, "9000-0", "late", 1)
    x("XADD", "meta", "7-7", "f", "v")
    x("XSETID", "meta", "50-0", "ENTRIESADDED", 99, "MAXDELETEDID", "3-0")
    x("XADD", "empty", "1-1", "f", "v")
    x("XGROUP", "CREATE", "empty", "g", "0")
    x("XREADGROUP", "GROUP", "g", "c", "STREAMS", "empty", ">")
    x("XDEL", "empty", "1-1")


def server_view(c: redis.Redis, seen: bool = True) -> dict:
    """Every stream as XINFO STREAM FULL COUNT 0, XRANGE, XINFO GROUPS, XINFO CONSUMERS (names
    and counts), XPENDING (summary; entries without the clock's idle). ``seen=False`` leaves
    the consumers' seen-time out."""
    out = {}
    for key in sorted(raw(c, "KEYS", "*")):
        if raw(c, "TYPE", key) != b"stream":
            continue
        full = raw(c, "XINFO", "STREAM", key, "FULL", "COUNT", 0)
        if not seen:
            full = _drop_seen(full)
        groups = raw(c, "XINFO", "GROUPS", key)
        view = {"full": full, "xrange": raw(c, "XRANGE", key, "-", "+"), "groups": groups}
        for g in groups:
            name = g[1]
            view[b"consumers:" + name] = [row[:4] for row in raw(c, "XINFO", "CONSUMERS", key, name)]
            view[b"pending:" + name] = (
                raw(c, "XPENDING", key, name),
                [row[:2] + row[3:] for row in raw(c, "XPENDING", key, name, "-", "+", 10_000)],
            )
        out[key] = view
    return out


def _drop_seen(v):
    if isinstance(v, list):
        out, i = [], 0
        while i < len(v):
            if v[i] == b"seen-time":
                i += 2
                continue
            out.append(_drop_seen(v[i]))
            i += 1
        return out
    return v


def _srv(kind: str, d, *extra: str) -> ServerProcess:
    if kind == "real":
        return ServerProcess.real(None, *extra, cwd=str(d))
    return ServerProcess.ours(None, "--dir", str(d), "--save", "", "--appendonly", "no", *extra, cwd=str(d))


def _client(srv: ServerProcess) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=30, protocol=2)


@pytest.mark.parametrize("writer,reader", [("ours", "real"), ("real", "ours"), ("real", "real")])
def test_save_then_the_other_server_loads_the_file(tmp_path, writer, reader):
    with _srv(writer, tmp_path) as w:
        c = _client(w)
        build_by_commands(c)
        want = server_view(c)
        assert set(want) == {b"cs", b"meta", b"empty"}
        assert raw(c, "SAVE") == b"OK"
    check = shutil.which("redis-check-rdb")
    if check and writer == "ours":
        import subprocess

        p = subprocess.run([check, str(tmp_path / "dump.rdb")], check=False, capture_output=True, timeout=60)
        assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()
    with _srv(reader, tmp_path) as r:
        assert server_view(_client(r)) == want


@pytest.mark.parametrize("kind", ["ours", "real"])
def test_debug_reload_keeps_streams(tmp_path, kind):
    with _srv(kind, tmp_path, "--enable-debug-command", "yes") as s:
        c = _client(s)
        build_by_commands(c)
        want = server_view(c)
        assert raw(c, "DEBUG", "RELOAD") == b"OK"
        assert server_view(c) == want


def _wait_rewrite(c: redis.Redis) -> None:
    import time

    assert raw(c, "BGREWRITEAOF").startswith(b"Background append only file rewriting")
    deadline = time.monotonic() + 30
    while c.info("persistence")["aof_rewrite_in_progress"] or c.info("persistence")["aof_rewrite_scheduled"]:
        assert time.monotonic() < deadline, "BGREWRITEAOF did not finish"
        time.sleep(0.05)
    assert c.info("persistence")["aof_last_bgrewrite_status"] == "ok"


def _more_stream_writes(c: redis.Redis) -> None:
    """After the rewrite: these reach only the incr file, replayed as commands at startup."""

    def x(*args):
        return raw(c, *args)

    x("XADD", "cs", "9001-0", "f", "v")
    x("XADD", "cs", "MAXLEN", "~", 50, "9002-0", "f", "auto")
    x("XREADGROUP", "GROUP", "g1", "hank", "COUNT", 4, "STREAMS", "cs", ">")
    x("XACK", "cs", "g1", "2006-0")
    x("XCLAIM", "cs", "g1", "ivy", 0, "2006-1", "2006-2", "RETRYCOUNT", 3)
    x("XAUTOCLAIM", "cs", "g2", "jack", 0, "0-0", "COUNT", 2)
    x("XTRIM", "cs", "MAXLEN", "=", 150)
    x("XSETID", "meta", "60-0", "ENTRIESADDED", 120)
    x("XGROUP", "SETID", "cs", "g2", "$")
    x("XGROUP", "DELCONSUMER", "cs", "g1", "bob")
    x("XGROUP", "CREATE", "meta", "mg", "0", "MKSTREAM")
    x("XGROUP", "DESTROY", "cs", "g3")
    x("XDEL", "cs", "9001-0")


def _mask_clock(v):
    """Delivery times (ms since the epoch inside PEL rows) as ``<t>``: for comparing two
    servers that ran the same commands at different moments."""
    if isinstance(v, dict):
        return {k: _mask_clock(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_mask_clock(x) for x in v)
    return "<t>" if isinstance(v, int) and v >= 10**12 else v


def _mask_read_counters(v):
    """The values after entries-read and lag as ``<n>``."""
    if isinstance(v, dict):
        return {k: _mask_read_counters(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(
            "<n>" if i and v[i - 1] in (b"entries-read", b"lag") else _mask_read_counters(x) for i, x in enumerate(v)
        )
    return v


def _aof_round(kind: str, d, preamble: str) -> tuple[dict, dict]:
    extra = ("--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
    with _srv(kind, d, *extra) as s:
        c = _client(s)
        build_by_commands(c)
        _wait_rewrite(c)
        _more_stream_writes(c)
        before = server_view(c, seen=False)
        assert raw(c, "XLEN", "cs") > 100
    with _srv(kind, d, *extra) as s2:
        return before, server_view(_client(s2), seen=False)


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_aof_restart_replays_stream_commands(tmp_path, preamble):
    """appendonly yes: a base (RDB preamble, or rewriteStreamObject's commands) plus an incr
    file of XADD/XREADGROUP/XACK/XCLAIM/XAUTOCLAIM/XTRIM/XSETID/XGROUP; a restart rebuilds the
    streams. The same commands run on a real server too: ours holds what the real one holds
    before the restart and after it (delivery times masked, as the two ran at different
    moments). With an RDB preamble that is what it held before except the read counters - the
    real server's replay loses entries-read as well (XREADGROUP reaches the AOF as XCLAIM ...
    LASTID, which does not carry it). Seen-time is left out: a replayed command sets it to the
    replay time."""
    (tmp_path / "real").mkdir()
    (tmp_path / "ours").mkdir()
    real_before, real_after = _aof_round("real", tmp_path / "real", preamble)
    ours_before, ours_after = _aof_round("ours", tmp_path / "ours", preamble)
    assert _mask_clock(ours_before) == _mask_clock(real_before)
    assert _mask_clock(ours_after) == _mask_clock(real_after)
    if preamble == "yes":
        assert _mask_read_counters(ours_after) == _mask_read_counters(ours_before)
        assert _mask_read_counters(real_after) == _mask_read_counters(real_before)
    else:
        # rewriteStreamObject's commands rebuild the nodes afresh (radix-tree numbers change)
        # and an XCLAIM of a deleted entry claims nothing: the emptied stream's PEL and its
        # consumer are gone after the restart - on the real server too (checked above)
        assert real_after[b"empty"][b"consumers:g"] == [] and ours_after[b"empty"][b"consumers:g"] == []
