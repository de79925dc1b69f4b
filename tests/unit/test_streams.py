"""XADD XLEN XRANGE XREVRANGE XDEL XTRIM XSETID (commands/streams.py) and the listpack node
layout of RedisStream (datatypes/stream.py). Replies, errors, propagated argv and node numbers
were measured on a real redis-server 7.0.15 (its replication stream via redis-cli --replica,
XINFO STREAM radix-tree-keys, DUMP payloads)."""

from __future__ import annotations

import pytest

from tests.unit.harness import START_TIME, ReplyError
from twistd_redis.client import CLIENT_DIRTY_CAS, CLIENT_MASTER
from twistd_redis.commands.streams import parse_id, parse_interval_id
from twistd_redis.datatypes.stream import RedisStream
from twistd_redis.errors import RedisError

NOW = int(START_TIME * 1000)
MAXU = 18446744073709551615
INVALID = "ERR Invalid stream ID specified as stream command argument"


def err(reply) -> str:
    assert isinstance(reply, ReplyError), f"expected an error, got {reply!r}"
    return str(reply)


def ids(conn, key="s"):
    return [e[0] for e in conn.call("XRANGE", key, "-", "+")]


# ---------------------------------------------------------------- ID parsing


@pytest.mark.parametrize(
    "arg,expected",
    [
        (b"5", (5, 0)),
        (b" 5", (5, 0)),
        (b"\t5", (5, 0)),
        (b"+5", (5, 0)),
        (b"00005", (5, 0)),
        (b"5- -1", (5, MAXU)),
        (b"5--0", (5, 0)),
        (b"5-+3", (5, 3)),
        (b"5\x00junk", (5, 0)),
        (b"-\x00x", (0, 0)),
        (b"18446744073709551615", (MAXU, 0)),
        (b"0" * 126 + b"7", (7, 0)),
        (b"-", (0, 0)),
        (b"+", (MAXU, MAXU)),
    ],
)
def test_parse_id_accepts_what_redis_accepts(arg, expected):
    assert parse_id(arg) == expected


@pytest.mark.parametrize(
    "arg",
    [
        b"-0",
        b" -1",
        b"-5",
        b"5 ",
        b"5\t",
        b"",
        b"5-",
        b"5-a",
        b"1e3",
        b"0x10",
        b"5-5-5",
        b"18446744073709551616",
        b"5-18446744073709551616",
        b"0" * 127 + b"7",
        b"5--1",
    ],
)
def test_parse_id_rejects_what_redis_rejects(arg):
    with pytest.raises(RedisError) as e:
        parse_id(arg)
    assert e.value.message == INVALID


def test_parse_id_strict_and_interval():
    for a in (b"-", b"+", b"-\x00x"):
        with pytest.raises(RedisError):
            parse_id(a, strict=True)
    assert parse_id(b"5", missing_seq=MAXU) == (5, MAXU)
    assert parse_interval_id(b"(5", 0) == ((5, 0), True)
    with pytest.raises(RedisError):
        parse_interval_id(b"(-", 0)
    with pytest.raises(RedisError):
        parse_interval_id(b"(", 0)
    assert parse_interval_id(b"-", 0) == ((0, 0), False)


# ---------------------------------------------------------------- XADD ids


def test_auto_ids_follow_the_clock_and_stay_monotonic(conn, server):
    assert conn.call("XADD", "s", "*", "a", "1") == b"%d-0" % NOW
    assert conn.call("XADD", "s", "*", "a", "2") == b"%d-1" % NOW
    server.advance(0.005)
    assert conn.call("XADD", "s", "*", "a", "3") == b"%d-0" % (NOW + 5)
    # the clock "goes back": last ID in the future, auto IDs continue from it
    assert conn.call("XSETID", "s", "%d-7" % (NOW + 1000)) == b"OK"
    assert conn.call("XADD", "s", "*", "a", "4") == b"%d-8" % (NOW + 1000)
    assert conn.call("XADD", "s", "%d-*" % (NOW + 1000), "a", "5") == b"%d-9" % (NOW + 1000)
    assert conn.call("XADD", "s", "%d-*" % (NOW + 2000), "a", "5") == b"%d-0" % (NOW + 2000)
    got = ids(conn)
    assert got == sorted(got, key=lambda b: tuple(map(int, b.split(b"-"))))


def test_id_exhaustion_and_edges(conn):
    assert conn.call("XADD", "e", "%d-%d" % (MAXU, MAXU - 1), "a", "b") == b"%d-%d" % (MAXU, MAXU - 1)
    assert conn.call("XADD", "e", "*", "a", "b") == b"%d-%d" % (MAXU, MAXU)
    assert err(conn.call("XADD", "e", "*", "a", "b")) == (
        "ERR The stream has exhausted the last possible ID, unable to add more items"
    )
    assert err(conn.call("XADD", "e", "1-1", "a", "b")).startswith("ERR The stream has exhausted")
    conn.call("XADD", "f", "5-%d" % MAXU, "a", "b")
    assert err(conn.call("XADD", "f", "5-*", "a", "b")) == "ERR Elements are too large to be stored"
    assert err(conn.call("XADD", "f", "4-*", "a", "b")) == (
        "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    )
    assert conn.call("XADD", "f", "*", "a", "b") == b"%d-0" % NOW
    assert err(conn.call("XADD", "g", "0-0", "a", "b")) == "ERR The ID specified in XADD must be greater than 0-0"
    assert conn.call("EXISTS", "g") == 0
    assert conn.call("XADD", "g", "0-*", "a", "b") == b"0-1"


# ---------------------------------------------------------------- side effects


def test_xadd_dirty_events_propagation(conn, server, events, seen):
    d0 = server.state.dirty
    conn.call("XADD", "s", "*", "a", "1")
    conn.call("XADD", "s", "5000000000000-*", "a", "1")
    conn.call("XADD", "s", "5000000000001-3", "a", "1")
    assert server.state.dirty - d0 == 3
    assert seen == [
        [b"XADD", b"s", b"%d-0" % NOW, b"a", b"1"],
        [b"XADD", b"s", b"5000000000000-0", b"a", b"1"],
        [b"XADD", b"s", b"5000000000001-3", b"a", b"1"],
    ]
    assert events == [(b"xadd", b"s", 0)] * 3
    events.clear()
    seen.clear()
    conn.call("XADD", "s", "MAXLEN", "1", "6000000000000-1", "a", "1")
    assert events == [(b"xadd", b"s", 0), (b"xtrim", b"s", 0)]
    assert seen == [[b"XADD", b"s", b"MAXLEN", b"1", b"6000000000000-1", b"a", b"1"]]
    assert server.state.dirty - d0 == 4  # trimming inside XADD adds nothing
    # errors and NOMKSTREAM on a missing key: nothing
    seen.clear()
    events.clear()
    conn.call("XADD", "s", "1-1", "a", "1")
    conn.call("XADD", "nokey", "NOMKSTREAM", "*", "a", "1")
    assert conn.call("EXISTS", "nokey") == 0
    assert seen == [] and events == [] and server.state.dirty - d0 == 4


def test_approx_trim_propagates_as_redis_rewrites_it(conn, seen):
    conn.call("XADD", "s", "5-*", "a", "b")
    for i in range(10, 30):
        conn.call("XADD", "s", "%d-1" % i, "f", "v")
    assert seen[0] == [b"XADD", b"s", b"5-0", b"a", b"b"]
    seen.clear()
    conn.call("XADD", "s", "MAXLEN", "~", "3", "LIMIT", "1000", "100-1", "a", "b")
    conn.call("XADD", "s", "maxlen", "~", "3", "100-*", "a", "b")
    conn.call("XADD", "s", "MINID", "~", "5", "200-1", "a", "b")
    conn.call("XADD", "s", "MAXLEN", "=", "3", "300-1", "a", "b")
    conn.call("XADD", "s", "MAXLEN", "3", "301-1", "a", "b")
    assert conn.call("XTRIM", "s", "MAXLEN", "~", "1") == 0
    assert conn.call("XTRIM", "s", "MAXLEN", "0") == 3
    assert conn.call("XTRIM", "s", "MAXLEN", "0") == 0
    conn.call("XADD", "s", "MINID", "~", "1000", "400-1", "a", "b")
    assert conn.call("XDEL", "s", "400-1", "1-1") == 0
    assert seen == [
        [b"XADD", b"s", b"MAXLEN", b"=", b"22", b"LIMIT", b"1000", b"100-1", b"a", b"b"],
        [b"XADD", b"s", b"maxlen", b"=", b"23", b"100-2", b"a", b"b"],
        [b"XADD", b"s", b"MINID", b"=", b"5-0", b"200-1", b"a", b"b"],
        [b"XADD", b"s", b"MAXLEN", b"=", b"3", b"300-1", b"a", b"b"],
        [b"XADD", b"s", b"MAXLEN", b"3", b"301-1", b"a", b"b"],
        [b"XTRIM", b"s", b"MAXLEN", b"0"],
        [b"XADD", b"s", b"MINID", b"=", b"%d-%d" % (MAXU, MAXU), b"400-1", b"a", b"b"],
    ]


def test_minid_rewrite_uses_the_first_node_entry_even_a_tombstone(conn, seen):
    conn.call("XADD", "m", "1-1", "a", "b")
    conn.call("XADD", "m", "2-1", "a", "b")
    conn.call("XDEL", "m", "1-1")
    conn.call("XADD", "m", "MINID", "~", "0", "3-1", "a", "b")
    assert conn.call("XTRIM", "m", "MINID", "~", "0") == 0
    assert conn.call("XTRIM", "m", "MINID", "~", "10") == 2
    conn.call("XADD", "m2", "1-1", "a", "b")
    conn.call("XADD", "m2", "2-1", "a", "b")
    assert conn.call("XTRIM", "m2", "MINID", "=", "2") == 1
    conn.call("XADD", "m2", "MINID", "~", "0", "3-1", "a", "b")
    conn.call("XADD", "m2", "MAXLEN", "~", "0", "4-1", "a", "b")
    assert seen[3] == [b"XADD", b"m", b"MINID", b"=", b"1-1", b"3-1", b"a", b"b"]
    assert seen[4] == [b"XTRIM", b"m", b"MINID", b"=", b"%d-%d" % (MAXU, MAXU)]
    assert seen[-3:] == [
        [b"XTRIM", b"m2", b"MINID", b"=", b"2"],
        [b"XADD", b"m2", b"MINID", b"=", b"1-1", b"3-1", b"a", b"b"],
        [b"XADD", b"m2", b"MAXLEN", b"=", b"0", b"4-1", b"a", b"b"],
    ]
    assert conn.call("XLEN", "m2") == 0


def test_master_client_ignores_limit_rules(conn, server):
    """mustObeyClient: a master's/AOF's XADD/XTRIM trims exactly (LIMIT 0), and LIMIT
    without ~ is no error there."""
    conn.call("CONFIG", "SET", "stream-node-max-entries", 1)
    for i in range(1, 301):
        conn.call("XADD", "s", "%d-1" % i, "f", "v")
    assert conn.call("XTRIM", "s", "MAXLEN", "~", "0") == 100  # default LIMIT 100 * 1
    conn.client.flags |= CLIENT_MASTER
    try:
        conn.call("XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "5")
        assert conn.call("XLEN", "s") == 0
        conn.call("XADD", "t", "MAXLEN", "5", "LIMIT", "5", "1-1", "f", "v")
    finally:
        conn.client.flags &= ~CLIENT_MASTER
    assert conn.call("XLEN", "t") == 1


def test_xdel_xtrim_xsetid_side_effects(conn, server, events, seen):
    for i in range(1, 6):
        conn.call("XADD", "s", "%d-1" % i, "f", "v")
    events.clear()
    seen.clear()
    d0 = server.state.dirty
    assert conn.call("XDEL", "s", "1-1", "2-1", "2-1", "9-9") == 2
    assert server.state.dirty - d0 == 2
    assert conn.call("XDEL", "s", "9-9") == 0
    assert conn.call("XTRIM", "s", "MAXLEN", "1") == 2
    assert server.state.dirty - d0 == 4
    assert conn.call("XTRIM", "s", "MAXLEN", "1") == 0
    assert conn.call("XSETID", "s", "10") == b"OK"
    assert server.state.dirty - d0 == 5
    assert events == [(b"xdel", b"s", 0), (b"xtrim", b"s", 0), (b"xsetid", b"s", 0)]
    assert seen == [
        [b"XDEL", b"s", b"1-1", b"2-1", b"2-1", b"9-9"],
        [b"XTRIM", b"s", b"MAXLEN", b"1"],
        [b"XSETID", b"s", b"10"],
    ]


def test_writes_touch_watchers(server):
    a, b = server.connect(), server.connect()
    b.call("XADD", "s", "1-1", "f", "v")
    for cmd in (
        ("XADD", "s", "*", "f", "v"),
        ("XDEL", "s", "1-1"),
        ("XTRIM", "s", "MAXLEN", "0"),
        ("XSETID", "s", "%d-5" % (NOW + 10)),
    ):
        a.call("WATCH", "s")
        assert not a.client.flags & CLIENT_DIRTY_CAS
        b.call(*cmd)
        assert a.client.flags & CLIENT_DIRTY_CAS, cmd
        a.call("UNWATCH")
    a.call("WATCH", "s")
    b.call("XDEL", "s", "1-1")  # nothing deleted: no touch
    b.call("XTRIM", "s", "MAXLEN", "0")
    b.call("XLEN", "s")
    assert not a.client.flags & CLIENT_DIRTY_CAS


def test_xadd_signals_existing_stream_as_ready(conn, server, monkeypatch):
    ready = []
    monkeypatch.setattr(server.state, "signal_key_as_ready", lambda db, key: ready.append(key))
    server.state.blocking_keys[(0, b"s")] = []
    try:
        conn.call("XADD", "s", "1-1", "f", "v")
        conn.call("XADD", "s", "2-1", "f", "v")
    finally:
        server.state.blocking_keys.pop((0, b"s"), None)
    assert ready.count(b"s") >= 1
    assert ready[-1] == b"s"


# ---------------------------------------------------------------- XRANGE shapes


def test_xrange_count_zero_and_resp3(conn):
    conn.call("XADD", "s", "1-1", "f", "v")
    assert conn.raw(b"XRANGE s - + COUNT 0\r\n") == b"*-1\r\n"
    assert conn.raw(b"XRANGE s - + COUNT -3\r\n") == b"*-1\r\n"
    assert conn.raw(b"XRANGE nokey - + COUNT 0\r\n") == b"*0\r\n"
    assert conn.raw(b"XRANGE s - +\r\n") == b"*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    conn.hello3()
    assert conn.raw(b"XRANGE s - + COUNT 0\r\n") == b"_\r\n"
    assert conn.raw(b"XADD s 2-1 f v\r\n") == b"$3\r\n2-1\r\n"
    assert conn.raw(b"XREVRANGE s (2-1 -\r\n") == b"*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"


def test_xrange_incomplete_ids_and_exclusive(conn):
    for sid in ("1-0", "1-5", "2-0", "2-%d" % MAXU, "3-0"):
        conn.call("XADD", "s", sid, "f", "v")
    assert ids(conn) == [b"1-0", b"1-5", b"2-0", b"2-%d" % MAXU, b"3-0"]
    assert [e[0] for e in conn.call("XRANGE", "s", "2", "2")] == [b"2-0", b"2-%d" % MAXU]
    assert [e[0] for e in conn.call("XRANGE", "s", "(1-5", "(3")] == [b"2-0", b"2-%d" % MAXU, b"3-0"]
    assert [e[0] for e in conn.call("XRANGE", "s", "(2-%d" % MAXU, "+")] == [b"3-0"]
    assert [e[0] for e in conn.call("XREVRANGE", "s", "(3-0", "(1", "COUNT", "2")] == [b"2-%d" % MAXU, b"2-0"]
    assert err(conn.call("XRANGE", "s", "(%d-%d" % (MAXU, MAXU), "+")) == "ERR invalid start ID for the interval"
    assert err(conn.call("XRANGE", "s", "-", "(0-0")) == "ERR invalid end ID for the interval"
    assert conn.call("XREVRANGE", "s", "(0", "-") == []
    assert err(conn.call("XREVRANGE", "s", "(0-0", "-")) == "ERR invalid end ID for the interval"
    assert err(conn.call("XREVRANGE", "s", "+", "(%d-%d" % (MAXU, MAXU))) == "ERR invalid start ID for the interval"


# ---------------------------------------------------------------- node layout


def _fill(conn, key, value, n=1000):
    for i in range(1, n + 1):
        conn.call("XADD", key, "%d-1" % i, "f", value(i))


@pytest.mark.parametrize(
    "value,every,nodes,trimmed,first",
    [
        # numbers measured on redis-server 7.0.15: XINFO radix-tree-keys, XTRIM MAXLEN ~ 10
        (lambda i: str(i), 0, 10, 900, b"901-1"),
        (lambda i: "x" * 100, 0, 28, 972, b"973-1"),
        (lambda i: "x" * 100, 7, 28, 833, b"973-1"),
        (lambda i: "y" * (i % 300), 3, 38, 640, b"962-1"),
    ],
)
def test_approx_trim_removes_whole_nodes_as_redis(conn, server, value, every, nodes, trimmed, first):
    _fill(conn, "s", value)
    if every:
        for i in range(1, 1001, every):
            conn.call("XDEL", "s", "%d-1" % i)
    s = server.state.dbs[0].data[b"s"]
    assert len(s.node_ids()) == nodes
    assert conn.call("XTRIM", "s", "MAXLEN", "~", "10") == trimmed
    assert conn.call("XRANGE", "s", "-", "+", "COUNT", "1")[0][0] == first


def test_node_bytes_are_the_listpack_size():
    s = RedisStream()
    vals = [b"1", b"-5", b"0", b"007", b"99999999", b"12345678901234567890", b"x" * 70, b"y" * 5000, b"-0"]
    for i in range(400):
        fv = [b"f", vals[i % len(vals)]] if i % 3 else [b"g%d" % (i % 5), vals[(i * 7) % len(vals)], b"h", b"1"]
        s.append((i * 1000, i % 4), fv)
        if i % 5 == 2:
            s.delete((i * 1000, i % 4))
    assert s.nodes
    for node in s.nodes.values():
        assert len(node.listpack(s.entries)) == node.nbytes
    assert sum(n.count for n in s.nodes.values()) == len(s)


def test_node_splits_by_entries_and_bytes(server, conn):
    s = RedisStream()
    for i in range(250):
        s.append((1, i), [b"f", b"%d" % i])
    assert s.node_ids() == [(1, 0), (1, 100), (1, 200)]
    conn.call("CONFIG", "SET", "stream-node-max-entries", 3)
    _fill(conn, "t", lambda i: "v", 10)
    assert server.state.dbs[0].data[b"t"].node_ids() == [(1, 1), (4, 1), (7, 1), (10, 1)]
    # deleted entries still count towards stream-node-max-entries
    conn.call("CONFIG", "SET", "stream-node-max-entries", 2)
    conn.call("XADD", "u", "1-1", "f", "v")
    conn.call("XDEL", "u", "1-1")  # the node goes with its last live entry
    conn.call("XADD", "u", "2-1", "f", "v")
    conn.call("XADD", "u", "3-1", "f", "v")
    conn.call("XDEL", "u", "2-1")
    conn.call("XADD", "u", "4-1", "f", "v")
    assert server.state.dbs[0].data[b"u"].node_ids() == [(2, 1), (4, 1)]


def test_nodes_survive_dump_restore_and_copy(conn, server):
    conn.call("CONFIG", "SET", "stream-node-max-entries", 4)
    _fill(conn, "s", lambda i: "v%d" % (i % 3), 30)
    for i in (1, 2, 6, 13, 14, 15):
        conn.call("XDEL", "s", "%d-1" % i)
    conn.call("XTRIM", "s", "MINID", "=", "18")
    before = server.state.dbs[0].data[b"s"]
    layout = [(m, n.count, n.deleted, n.nbytes, list(n.ids)) for m, n in before.nodes.items()]
    payload = conn.call("DUMP", "s")
    conn.call("RESTORE", "r", 0, payload)
    conn.call("COPY", "s", "c")
    for key in (b"r", b"c"):
        s = server.state.dbs[0].data[key]
        assert [(m, n.count, n.deleted, n.nbytes, list(n.ids)) for m, n in s.nodes.items()] == layout
        assert conn.call("DUMP", key.decode()) == payload
