"""List commands (Redis 7.0 t_list.c): replies, error texts, RESP2/RESP3 shapes, dirty counts,
keyspace events, propagation, WATCH, empty-list deletion. Expected values were checked on a
real redis-server 7.0.15."""

from __future__ import annotations

import tracemalloc

import pytest

from tests.unit.harness import ReplyError
from twistd_redis.client import CLIENT_DIRTY_CAS
from twistd_redis.datatypes import RedisList

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INT = "ERR value is not an integer or out of range"
POSITIVE = "ERR value is out of range, must be positive"
RANK_ZERO = (
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
    "or use negative to start from the end of the list"
)
BIG = "9223372036854775807"
SMALL = "-9223372036854775808"


def err(reply) -> str:
    assert isinstance(reply, ReplyError), f"expected an error, got {reply!r}"
    return str(reply)



def items(conn, key="l"):
    return conn.call("LRANGE", key, 0, -1)


# ---------------------------------------------------------------- push


def test_push_order_and_length(conn, server):
    assert conn.call("LPUSH", "l", "a", "b") == 2
    assert conn.call("RPUSH", "l", "c", "d") == 4
    assert items(conn) == [b"b", b"a", b"c", b"d"]
    v = server.state.dbs[0].data[b"l"]
    assert type(v) is RedisList
    assert conn.call("TYPE", "l") == b"list"
    assert conn.call("OBJECT", "ENCODING", "l") == b"quicklist"


def test_pushx_only_existing(conn, server):
    assert conn.call("LPUSHX", "l", "a") == 0
    assert conn.call("RPUSHX", "l", "a") == 0
    assert conn.call("EXISTS", "l") == 0
    conn.call("RPUSH", "l", "m")
    assert conn.call("LPUSHX", "l", "a", "b") == 3
    assert conn.call("RPUSHX", "l", "z") == 4
    assert items(conn) == [b"b", b"a", b"m", b"z"]


def test_push_wrongtype_and_arity(conn):
    conn.call("SET", "s", "v")
    for cmd in ("LPUSH", "RPUSH", "LPUSHX", "RPUSHX"):
        assert err(conn.call(cmd, "s", "x")) == WRONGTYPE
        assert err(conn.call(cmd, "s")) == f"ERR wrong number of arguments for '{cmd.lower()}' command"


def test_push_dirty_events_propagation(conn, server, events, seen):
    d0 = server.state.dirty
    conn.call("RPUSH", "l", "a", "b", "c")
    assert server.state.dirty - d0 == 3
    conn.call("LPUSHX", "l", "x")
    conn.call("LPUSHX", "nokey", "x")
    assert server.state.dirty - d0 == 4
    assert events == [(b"rpush", b"l", 0), (b"lpush", b"l", 0)]
    assert seen == [[b"RPUSH", b"l", b"a", b"b", b"c"], [b"LPUSHX", b"l", b"x"]]


def test_writes_touch_watchers(server):
    """Every list write invalidates a WATCH on its key (signalModifiedKey)."""
    a, b = server.connect(), server.connect()
    st = server.state
    for cmd in (
        ("RPUSH", "l", "x", "y", "z"),
        ("LPUSHX", "l", "w"),
        ("LSET", "l", 0, "v"),
        ("LINSERT", "l", "BEFORE", "v", "u"),
        ("LREM", "l", 1, "u"),
        ("LTRIM", "l", 0, -2),
        ("LPOP", "l"),
        ("LMOVE", "l", "m", "LEFT", "LEFT"),
        ("LMPOP", 1, "l", "LEFT"),
    ):
        a.client.flags &= ~CLIENT_DIRTY_CAS
        st.watch_key(a.client, b"l")
        assert not isinstance(b.call(*cmd), ReplyError)
        assert a.client.flags & CLIENT_DIRTY_CAS, cmd


# ---------------------------------------------------------------- pop


def test_pop_single_and_count(conn):
    conn.call("RPUSH", "l", "a", "b", "c", "d", "e")
    assert conn.call("LPOP", "l") == b"a"
    assert conn.call("RPOP", "l") == b"e"
    assert conn.call("LPOP", "l", 2) == [b"b", b"c"]
    conn.call("RPUSH", "l", "f", "g")
    assert conn.call("RPOP", "l", 2) == [b"g", b"f"]  # tail first
    assert conn.call("LPOP", "l", 0) == []
    assert conn.call("RPOP", "l", 10) == [b"d"]
    assert conn.call("EXISTS", "l") == 0


def test_pop_missing_key_shapes(conn):
    assert conn.raw(b"LPOP nokey\r\n") == b"$-1\r\n"
    assert conn.raw(b"LPOP nokey 2\r\n") == b"*-1\r\n"
    assert conn.raw(b"RPOP nokey 0\r\n") == b"*-1\r\n"  # the count is checked, then the key
    conn.hello3()
    assert conn.raw(b"LPOP nokey\r\n") == b"_\r\n"
    assert conn.raw(b"LPOP nokey 2\r\n") == b"_\r\n"
    conn.call("RPUSH", "l", "a")
    assert conn.raw(b"LPOP l 0\r\n") == b"*0\r\n"
    assert conn.raw(b"LPOP l 5\r\n") == b"*1\r\n$1\r\na\r\n"


def test_pop_errors(conn):
    assert err(conn.call("LPOP", "nokey", -1)) == POSITIVE
    assert err(conn.call("LPOP", "nokey", "x")) == POSITIVE
    assert err(conn.call("RPOP", "nokey", "1.5")) == POSITIVE
    assert err(conn.call("LPOP", "l", 1, 2)) == "ERR wrong number of arguments for 'lpop' command"
    assert err(conn.call("RPOP", "l", 1, 2)) == "ERR wrong number of arguments for 'rpop' command"
    conn.call("SET", "s", "v")
    assert err(conn.call("LPOP", "s")) == WRONGTYPE
    assert err(conn.call("LPOP", "s", 0)) == WRONGTYPE
    assert err(conn.call("LPOP", "s", -1)) == POSITIVE


def test_pop_dirty_events(conn, server, events, seen):
    conn.call("RPUSH", "l", "a", "b", "c")
    events.clear()
    seen.clear()
    d0 = server.state.dirty
    conn.call("LPOP", "l", 2)
    assert server.state.dirty - d0 == 2
    conn.call("RPOP", "l")
    assert server.state.dirty - d0 == 3
    assert events == [(b"lpop", b"l", 0), (b"rpop", b"l", 0), (b"del", b"l", 0)]
    assert seen == [[b"LPOP", b"l", b"2"], [b"RPOP", b"l"]]
    conn.call("LPOP", "l")
    conn.call("LPOP", "l", "0")
    assert len(seen) == 2


# ---------------------------------------------------------------- reads


def test_llen(conn):
    assert conn.call("LLEN", "nokey") == 0
    conn.call("RPUSH", "l", "a", "b")
    assert conn.call("LLEN", "l") == 2
    conn.call("SET", "s", "v")
    assert err(conn.call("LLEN", "s")) == WRONGTYPE


@pytest.mark.parametrize(
    "start,end,expect",
    [
        (0, 0, "a"),
        (1, 3, "bcd"),
        (-3, -1, "cde"),
        (-100, 100, "abcde"),
        (3, 1, ""),
        (5, 10, ""),
        (-1, -2, ""),
        (0, -6, ""),
        (-6, 0, "a"),
        (SMALL, BIG, "abcde"),
        (4, 4, "e"),
    ],
)
def test_lrange(conn, start, end, expect):
    conn.call("RPUSH", "l", *"abcde")
    assert conn.call("LRANGE", "l", start, end) == [ch.encode() for ch in expect]


def test_lrange_errors_and_order(conn):
    assert conn.call("LRANGE", "nokey", 0, -1) == []
    assert err(conn.call("LRANGE", "nokey", "x", -1)) == NOT_INT  # numbers before the key
    conn.call("SET", "s", "v")
    assert err(conn.call("LRANGE", "s", 0, -1)) == WRONGTYPE
    assert err(conn.call("LRANGE", "s", 0, "1.0")) == NOT_INT


def test_lrange_big_list_copies_only_the_range(server, conn):
    n = 1_000_000
    server.state.dbs[0].data[b"big"] = RedisList(b"%d" % i for i in range(n))
    tracemalloc.start()
    try:
        for args, first in (((0, 99), b"0"), ((-100, -1), b"999900"), ((n - 150, n - 51), b"999850")):
            tracemalloc.reset_peak()
            r = conn.call("LRANGE", "big", *args)
            _, peak = tracemalloc.get_traced_memory()
            assert len(r) == 100 and r[0] == first
            assert peak < 1_000_000, f"LRANGE {args} allocated {peak} bytes: it copied the list"
    finally:
        tracemalloc.stop()
    lst = RedisList([b"a", b"b", b"c", b"d", b"e", b"f"])
    assert lst.range(1, 4) == [b"b", b"c", b"d", b"e"]
    assert lst.range(4, 5) == [b"e", b"f"]
    assert lst.range(0, 5) == list(lst)


def test_lindex(conn):
    conn.call("RPUSH", "l", "a", "b", "c")
    assert conn.call("LINDEX", "l", 0) == b"a"
    assert conn.call("LINDEX", "l", -1) == b"c"
    assert conn.call("LINDEX", "l", -3) == b"a"
    assert conn.call("LINDEX", "l", 3) is None
    assert conn.call("LINDEX", "l", -4) is None
    assert conn.call("LINDEX", "l", SMALL) is None
    assert err(conn.call("LINDEX", "l", "x")) == NOT_INT
    assert conn.call("LINDEX", "nokey", "x") is None  # the key is looked up first
    conn.call("SET", "s", "v")
    assert err(conn.call("LINDEX", "s", "x")) == WRONGTYPE


def test_lset(conn, server, events):
    conn.call("RPUSH", "l", "a", "b", "c")
    events.clear()
    d0 = server.state.dirty
    assert conn.call("LSET", "l", 0, "A") == b"OK"
    assert conn.call("LSET", "l", -1, "C") == b"OK"
    assert err(conn.call("LSET", "l", 3, "x")) == "ERR index out of range"
    assert err(conn.call("LSET", "l", -4, "x")) == "ERR index out of range"
    assert err(conn.call("LSET", "l", "x", "x")) == NOT_INT
    assert err(conn.call("LSET", "nokey", "x", "v")) == "ERR no such key"
    assert items(conn) == [b"A", b"b", b"C"]
    assert server.state.dirty - d0 == 2
    assert events == [(b"lset", b"l", 0), (b"lset", b"l", 0)]
    conn.call("SET", "s", "v")
    assert err(conn.call("LSET", "s", "x", "v")) == WRONGTYPE


def test_linsert(conn, server, events):
    conn.call("RPUSH", "l", "a", "b", "c", "b")
    events.clear()
    assert conn.call("LINSERT", "l", "BEFORE", "b", "x") == 5
    assert conn.call("LINSERT", "l", "after", "b", "y") == 6
    assert items(conn) == [b"a", b"x", b"b", b"y", b"c", b"b"]
    assert conn.call("LINSERT", "l", "before", "zz", "q") == -1
    assert conn.call("LINSERT", "nokey", "before", "a", "q") == 0
    assert conn.call("EXISTS", "nokey") == 0
    assert err(conn.call("LINSERT", "l", "middle", "a", "q")) == SYNTAX
    assert err(conn.call("LINSERT", "nokey", "middle", "a", "q")) == SYNTAX
    assert events == [(b"linsert", b"l", 0), (b"linsert", b"l", 0)]
    conn.call("SET", "s", "v")
    assert err(conn.call("LINSERT", "s", "before", "a", "q")) == WRONGTYPE
    assert err(conn.call("LINSERT", "s", "middle", "a", "q")) == SYNTAX


def test_lrem(conn, server, events):
    conn.call("RPUSH", "l", *"abacaba")
    events.clear()
    d0 = server.state.dirty
    assert conn.call("LREM", "l", 1, "a") == 1
    assert items(conn) == [b"b", b"a", b"c", b"a", b"b", b"a"]
    assert conn.call("LREM", "l", -2, "a") == 2
    assert items(conn) == [b"b", b"a", b"c", b"b"]
    assert conn.call("LREM", "l", 0, "b") == 2
    assert conn.call("LREM", "l", 0, "zz") == 0
    assert server.state.dirty - d0 == 5
    assert conn.call("LREM", "l", 0, "a") == 1
    assert conn.call("LREM", "l", 0, "c") == 1
    assert conn.call("EXISTS", "l") == 0
    assert events[-2:] == [(b"lrem", b"l", 0), (b"del", b"l", 0)]
    assert [e for e in events if e[0] == b"lrem"] == [(b"lrem", b"l", 0)] * 5
    assert conn.call("LREM", "nokey", 0, "a") == 0
    assert err(conn.call("LREM", "nokey", "x", "a")) == NOT_INT
    conn.call("RPUSH", "m", "a", "a", "a")
    assert conn.call("LREM", "m", SMALL, "a") == 3


def test_ltrim(conn, server, events):
    conn.call("RPUSH", "l", *"abcdef")
    events.clear()
    d0 = server.state.dirty
    assert conn.call("LTRIM", "l", 1, -2) == b"OK"
    assert items(conn) == [b"b", b"c", b"d", b"e"]
    assert server.state.dirty - d0 == 2
    assert conn.call("LTRIM", "l", -100, 100) == b"OK"
    assert server.state.dirty - d0 == 2
    assert conn.call("LTRIM", "l", 1, 0) == b"OK"
    assert conn.call("EXISTS", "l") == 0
    assert server.state.dirty - d0 == 6
    assert events == [(b"ltrim", b"l", 0)] * 3 + [(b"del", b"l", 0)]
    assert conn.call("LTRIM", "nokey", 0, 1) == b"OK"
    assert err(conn.call("LTRIM", "nokey", "x", 1)) == NOT_INT
    conn.call("RPUSH", "m", "a", "b", "c")
    conn.call("LTRIM", "m", SMALL, BIG)
    assert items(conn, "m") == [b"a", b"b", b"c"]


def test_lpos(conn):
    conn.call("RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c")
    assert conn.call("LPOS", "l", "c") == 2
    assert conn.call("LPOS", "l", "zz") is None
    assert conn.call("LPOS", "l", "c", "RANK", 2) == 6
    assert conn.call("LPOS", "l", "c", "RANK", -1) == 7
    assert conn.call("LPOS", "l", "c", "RANK", -3) == 2
    assert conn.call("LPOS", "l", "c", "RANK", 4) is None
    assert conn.call("LPOS", "l", "c", "COUNT", 0) == [2, 6, 7]
    assert conn.call("LPOS", "l", "c", "COUNT", 2, "RANK", 2) == [6, 7]
    assert conn.call("LPOS", "l", "c", "COUNT", 0, "RANK", -1) == [7, 6, 2]
    assert conn.call("LPOS", "l", "zz", "COUNT", 0) == []
    assert conn.call("LPOS", "l", "c", "MAXLEN", 2) is None
    assert conn.call("LPOS", "l", "c", "MAXLEN", 3) == 2
    assert conn.call("LPOS", "l", "c", "RANK", -1, "MAXLEN", 1) == 7
    # RANK LONG_MIN: the negation wraps in C, so every match counts and COUNT never stops
    assert conn.call("LPOS", "l", "c", "RANK", SMALL) == 7
    assert conn.call("LPOS", "l", "c", "RANK", SMALL, "COUNT", 1) == [7, 6, 2]


def test_lpos_errors(conn):
    assert err(conn.call("LPOS", "nokey", "a", "RANK", 0)) == RANK_ZERO
    assert err(conn.call("LPOS", "nokey", "a", "RANK", "x")) == NOT_INT
    assert err(conn.call("LPOS", "nokey", "a", "COUNT", -1)) == "ERR COUNT can't be negative"
    assert err(conn.call("LPOS", "nokey", "a", "COUNT", "x")) == "ERR COUNT can't be negative"
    assert err(conn.call("LPOS", "nokey", "a", "MAXLEN", -1)) == "ERR MAXLEN can't be negative"
    assert err(conn.call("LPOS", "nokey", "a", "RANK")) == SYNTAX
    assert err(conn.call("LPOS", "nokey", "a", "BOGUS", 1)) == SYNTAX
    assert conn.raw(b"LPOS nokey a\r\n") == b"$-1\r\n"
    assert conn.raw(b"LPOS nokey a COUNT 0\r\n") == b"*0\r\n"
    conn.call("SET", "s", "v")
    assert err(conn.call("LPOS", "s", "v")) == WRONGTYPE
    assert err(conn.call("LPOS", "s", "v", "RANK", 0)) == RANK_ZERO


# ---------------------------------------------------------------- move


def test_lmove_directions(conn):
    conn.call("RPUSH", "src", "a", "b", "c")
    assert conn.call("LMOVE", "src", "dst", "LEFT", "RIGHT") == b"a"
    assert conn.call("LMOVE", "src", "dst", "right", "left") == b"c"
    assert conn.call("LMOVE", "src", "dst", "Left", "Left") == b"b"
    assert items(conn, "dst") == [b"b", b"c", b"a"]
    assert conn.call("EXISTS", "src") == 0
    assert conn.call("LMOVE", "src", "dst", "LEFT", "RIGHT") is None
    assert conn.call("LMOVE", "dst", "dst", "LEFT", "RIGHT") == b"b"  # a rotation
    assert items(conn, "dst") == [b"c", b"a", b"b"]
    assert conn.call("RPOPLPUSH", "dst", "dst") == b"b"
    assert items(conn, "dst") == [b"b", b"c", b"a"]
    assert err(conn.call("LMOVE", "dst", "dst", "UP", "LEFT")) == SYNTAX
    assert err(conn.call("LMOVE", "nokey", "dst", "LEFT", "DOWN")) == SYNTAX


def test_lmove_wrongtype_moves_nothing(conn):
    conn.call("RPUSH", "l", "a")
    conn.call("SET", "s", "v")
    assert err(conn.call("LMOVE", "l", "s", "LEFT", "LEFT")) == WRONGTYPE
    assert err(conn.call("RPOPLPUSH", "l", "s")) == WRONGTYPE
    assert err(conn.call("RPOPLPUSH", "s", "l")) == WRONGTYPE
    assert conn.call("RPOPLPUSH", "nokey", "s") is None  # the source is looked at first
    assert items(conn) == [b"a"]


def test_lmove_side_effects(conn, server, events, seen):
    conn.call("RPUSH", "src", "a", "b")
    events.clear()
    seen.clear()
    d0 = server.state.dirty
    conn.call("LMOVE", "src", "dst", "LEFT", "RIGHT")
    conn.call("RPOPLPUSH", "src", "dst")
    assert server.state.dirty - d0 == 2
    assert events == [
        (b"rpush", b"dst", 0),
        (b"lpop", b"src", 0),
        (b"lpush", b"dst", 0),
        (b"rpop", b"src", 0),
        (b"del", b"src", 0),
    ]
    assert seen == [[b"LMOVE", b"src", b"dst", b"LEFT", b"RIGHT"], [b"RPOPLPUSH", b"src", b"dst"]]


# ---------------------------------------------------------------- LMPOP


def test_lmpop(conn, seen, server):
    conn.call("RPUSH", "a", "1", "2", "3")
    conn.call("RPUSH", "b", "x", "y")
    seen.clear()
    d0 = server.state.dirty
    assert conn.call("LMPOP", 2, "nokey", "a", "LEFT") == [b"a", [b"1"]]
    assert conn.call("LMPOP", 2, "nokey", "a", "RIGHT", "COUNT", 10) == [b"a", [b"3", b"2"]]
    assert conn.call("EXISTS", "a") == 0
    assert conn.call("LMPOP", 3, "a", "nokey", "b", "left", "count", 1) == [b"b", [b"x"]]
    assert server.state.dirty - d0 == 4
    assert seen == [[b"LPOP", b"a", b"1"], [b"RPOP", b"a", b"2"], [b"LPOP", b"b", b"1"]]
    assert conn.raw(b"LMPOP 1 nokey LEFT\r\n") == b"*-1\r\n"
    conn.hello3()
    assert conn.raw(b"LMPOP 1 nokey LEFT\r\n") == b"_\r\n"
    assert conn.raw(b"LMPOP 1 b LEFT\r\n") == b"*2\r\n$1\r\nb\r\n*1\r\n$1\r\ny\r\n"


def test_lmpop_errors(conn):
    numkeys = "ERR numkeys should be greater than 0"
    assert err(conn.call("LMPOP", 0, "a", "LEFT")) == numkeys
    assert err(conn.call("LMPOP", "x", "a", "LEFT")) == numkeys
    assert err(conn.call("LMPOP", 3, "a", "LEFT")) == SYNTAX
    assert err(conn.call("LMPOP", 1, "a", "UP")) == SYNTAX
    assert err(conn.call("LMPOP", 1, "a", "LEFT", "COUNT", 0)) == "ERR count should be greater than 0"
    assert err(conn.call("LMPOP", 1, "a", "LEFT", "COUNT", "x")) == "ERR count should be greater than 0"
    assert err(conn.call("LMPOP", 1, "a", "LEFT", "COUNT")) == SYNTAX
    assert err(conn.call("LMPOP", 1, "a", "LEFT", "COUNT", 1, "COUNT", 1)) == SYNTAX
    assert err(conn.call("LMPOP", 1, "a")) == "ERR wrong number of arguments for 'lmpop' command"
    conn.call("SET", "s", "v")
    conn.call("RPUSH", "b", "x")
    assert err(conn.call("LMPOP", 2, "s", "b", "LEFT")) == WRONGTYPE
    assert conn.call("LMPOP", 2, "b", "s", "LEFT") == [b"b", [b"x"]]


def test_command_getkeys_movable(conn):
    assert conn.call("COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT") == [b"a", b"b"]
    assert conn.call("COMMAND", "GETKEYS", "BLMPOP", "0", "2", "a", "b", "LEFT") == [b"a", b"b"]
    assert conn.call("COMMAND", "GETKEYS", "BLPOP", "a", "b", "0") == [b"a", b"b"]
    assert conn.call("COMMAND", "GETKEYS", "BLMOVE", "a", "b", "LEFT", "LEFT", "0") == [b"a", b"b"]
