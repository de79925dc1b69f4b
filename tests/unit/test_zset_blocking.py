"""BZPOPMIN / BZPOPMAX / BZMPOP on the FakeServer (task.Clock, several connections): arrival
order, timeouts, served by ZADD/ZINCRBY/ZRANGESTORE, reply shapes in RESP2 and RESP3,
propagation (checked in a real Redis 7.0.15 AOF), events, wrong types, disconnects, MULTI."""

from __future__ import annotations

import pytest

from tests.unit.harness import ReplyError
from twistd_redis.client import CLIENT_DENY_BLOCKING

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


@pytest.fixture
def prop(server):
    out: list[tuple[int, list[bytes]]] = []
    server.state.propagation_targets.append(lambda dbid, argv: out.append((dbid, list(argv))))
    return out


@pytest.fixture
def events(server):
    out: list[tuple[str, bytes, bytes]] = []
    server.state.notify_flags = "KEA"
    server.state.keyspace_notifier = lambda t, ev, key, dbid: out.append((t, ev, key))
    return out


def blocked(conn) -> bool:
    return conn.client.waiting is not None


def block(conn, *args):
    """Send a blocking command and check that it waits (no reply yet)."""
    conn.transport.clear()
    conn.send(*args)
    assert conn.replies() == [], f"{args} answered at once"
    assert blocked(conn)


def reply(conn):
    rs = conn.replies()
    assert len(rs) == 1, rs
    return rs[0]


def raw_reply(conn) -> bytes:
    out = conn.transport.value()
    conn.transport.clear()
    return out


# ---------------------------------------------------------------- served


def test_bzpopmin_served_by_zadd(server, prop, events):
    p, w = server.connect(), server.connect()
    block(w, "BZPOPMIN", "z", "0")
    assert p.call("ZADD", "z", "2", "b", "1.5", "a") == 2
    assert raw_reply(w) == b"*3\r\n$1\r\nz\r\n$1\r\na\r\n$3\r\n1.5\r\n"
    assert not blocked(w)
    assert p.call("ZRANGE", "z", "0", "-1") == [b"b"]
    assert prop == [(0, [b"ZADD", b"z", b"2", b"b", b"1.5", b"a"]), (0, [b"ZPOPMIN", b"z"])]
    assert events == [("z", b"zadd", b"z"), ("z", b"zpopmin", b"z")]
    assert server.state.blocking_keys == {}


def test_bzpopmax_resp3_and_emptied_key(server, prop, events):
    p, w = server.connect(), server.connect()
    w.hello3()
    block(w, "BZPOPMAX", "z", "0")
    p.call("ZINCRBY", "z", "0.1", "a")
    assert raw_reply(w) == b"*3\r\n$1\r\nz\r\n$1\r\na\r\n,0.10000000000000001\r\n"
    assert p.call("EXISTS", "z") == 0
    assert prop[-1] == (0, [b"ZPOPMAX", b"z"])
    assert events == [("z", b"zincr", b"z"), ("z", b"zpopmax", b"z"), ("g", b"del", b"z")]


def test_arrival_order(server):
    p = server.connect()
    ws = [server.connect() for _ in range(3)]
    for w in ws:
        block(w, "BZPOPMIN", "z", "0")
    p.call("ZADD", "z", "3", "c", "1", "a", "2", "b", "4", "d")
    assert [reply(w) for w in ws] == [[b"z", b"a", b"1"], [b"z", b"b", b"2"], [b"z", b"c", b"3"]]
    assert p.call("ZRANGE", "z", "0", "-1") == [b"d"]


def test_fewer_elements_than_waiters(server, prop):
    p = server.connect()
    ws = [server.connect() for _ in range(3)]
    for w in ws:
        block(w, "BZPOPMAX", "z", "0")
    p.call("ZADD", "z", "1", "a", "2", "b")
    assert reply(ws[0]) == [b"z", b"b", b"2"]
    assert reply(ws[1]) == [b"z", b"a", b"1"]
    assert blocked(ws[2])
    p.call("ZADD", "z", "5", "e")
    assert reply(ws[2]) == [b"z", b"e", b"5"]
    assert [a for _db, a in prop if a[0] != b"ZADD"] == [[b"ZPOPMAX", b"z"]] * 3


def test_several_keys_first_ready_serves(server):
    p, w = server.connect(), server.connect()
    block(w, "BZPOPMIN", "a", "b", "0")
    p.call("ZADD", "b", "1", "x")
    assert reply(w) == [b"b", b"x", b"1"]
    assert p.call("EXISTS", "b") == 0


def test_bzmpop_served_propagates_number_popped(server, prop, events):
    p, w = server.connect(), server.connect()
    block(w, "BZMPOP", "0", "2", "a", "z", "MAX", "COUNT", "5")
    p.call("ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert raw_reply(w) == (
        b"*2\r\n$1\r\nz\r\n*3\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    )
    assert prop[-1] == (0, [b"ZPOPMAX", b"z", b"3"])
    assert events[-2:] == [("z", b"zpopmax", b"z"), ("g", b"del", b"z")]


def test_bzmpop_resp3_default_count(server, prop):
    p, w = server.connect(), server.connect()
    w.hello3()
    block(w, "BZMPOP", "0", "1", "z", "MIN")
    p.call("ZADD", "z", "1", "a", "2", "b")
    assert raw_reply(w) == b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
    assert prop[-1] == (0, [b"ZPOPMIN", b"z", b"1"])


def test_served_by_zrangestore(server):
    p, w = server.connect(), server.connect()
    p.call("ZADD", "src", "1", "a", "2", "b")
    block(w, "BZPOPMIN", "dst", "0")
    p.call("ZRANGESTORE", "dst", "src", "1", "1")
    assert reply(w) == [b"dst", b"b", b"2"]


def test_dirty_counts_pops(server):
    p, w = server.connect(), server.connect()
    block(w, "BZMPOP", "0", "1", "z", "MIN", "COUNT", "2")
    d = server.state.dirty
    p.call("ZADD", "z", "1", "a", "2", "b", "3", "c")
    reply(w)
    assert server.state.dirty - d == 3 + 2  # three added, two popped


# ---------------------------------------------------------------- timeouts and waiting


def test_timeout(server):
    w = server.connect()
    block(w, "BZPOPMIN", "z", "1.5")
    server.advance(1.4)
    assert blocked(w)
    server.advance(0.2)
    assert raw_reply(w) == b"*-1\r\n"
    assert not blocked(w)
    assert server.state.blocking_keys == {}


def test_timeout_resp3_bzmpop(server):
    w = server.connect()
    w.hello3()
    block(w, "BZMPOP", "0.5", "1", "z", "MAX")
    server.advance(0.6)
    assert raw_reply(w) == b"_\r\n"


def test_wrong_type_keeps_waiting(server):
    p, w = server.connect(), server.connect()
    block(w, "BZPOPMIN", "z", "0")
    p.call("SET", "z", "v")
    assert blocked(w)
    p.call("DEL", "z")
    p.call("RPUSH", "z", "x")  # a list: a zset waiter stays blocked (Redis 7.0)
    assert blocked(w)
    p.call("DEL", "z")
    p.call("ZADD", "z", "1", "a")
    assert reply(w) == [b"z", b"a", b"1"]


def test_disconnect_takes_nothing(server):
    p, w, w2 = server.connect(), server.connect(), server.connect()
    block(w, "BZPOPMIN", "z", "0")
    block(w2, "BZPOPMIN", "z", "0")
    w.close()
    p.call("ZADD", "z", "1", "a")
    assert reply(w2) == [b"z", b"a", b"1"]
    assert server.state.blocked_clients_count == 0


def test_deny_blocking_answers_null(server):
    c = server.connect()
    c.client.flags |= CLIENT_DENY_BLOCKING
    assert c.raw(b"BZPOPMIN z 0\r\n") == b"*-1\r\n"
    assert c.raw(b"BZMPOP 0 1 z MIN\r\n") == b"*-1\r\n"
    assert not blocked(c)


# ---------------------------------------------------------------- the non-blocking path


def test_nonblocking_path(server, prop):
    c = server.connect()
    c.call("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d")
    assert c.call("BZPOPMIN", "z", "0") == [b"z", b"a", b"1"]
    assert c.call("BZPOPMAX", "nokey", "z", "0") == [b"z", b"d", b"4"]
    assert c.call("BZMPOP", "0", "2", "nokey", "z", "MIN", "COUNT", "10") == [b"z", [[b"b", b"2"], [b"c", b"3"]]]
    assert [a for _db, a in prop[1:]] == [
        [b"ZPOPMIN", b"z"],
        [b"ZPOPMAX", b"z"],
        [b"ZPOPMIN", b"z", b"2"],
    ]
    assert c.call("EXISTS", "z") == 0


def test_errors(server):
    c = server.connect()
    c.call("SET", "s", "v")
    assert str(c.call("BZPOPMIN", "nokey", "s", "0")) == WRONGTYPE
    assert str(c.call("BZPOPMIN", "z", "-1")) == "ERR timeout is negative"
    assert str(c.call("BZPOPMIN", "z", "x")) == "ERR timeout is not a float or out of range"
    assert str(c.call("BZMPOP", "x", "0", "z", "MIN")) == "ERR numkeys should be greater than 0"
    assert str(c.call("BZMPOP", "x", "1", "z", "MIN")) == "ERR timeout is not a float or out of range"
    assert str(c.call("BZMPOP", "0", "1", "z", "MIN", "COUNT", "0")) == "ERR count should be greater than 0"
    assert isinstance(c.call("BZMPOP", "0", "1", "z", "FOO"), ReplyError)
    assert not blocked(c)
