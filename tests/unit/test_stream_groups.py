"""XREAD / XREADGROUP / XGROUP / XACK on the FakeServer: propagation argv (as a real 7.0.15
master sends it to a replica, captured there with SYNC), dirty, keyspace events, WATCH, and the
blocking paths driven by the clock: arrival order, timeouts, disconnects, CLIENT UNBLOCK,
deleted keys and destroyed groups, SWAPDB, MULTI."""

from __future__ import annotations

import pytest

from tests.unit.harness import START_TIME, ReplyError

NOW = b"%d" % int(START_TIME * 1000)


@pytest.fixture
def prop(server):
    out: list[list[bytes]] = []
    server.state.propagation_targets.append(lambda dbid, argv: out.append(list(argv)))
    return out


def seed(conn, key="s", n=3):
    for i in range(1, n + 1):
        conn.call("XADD", key, "%d-1" % i, "f", "v%d" % i)


def xclaim(key, group, consumer, sid, lastid, count=1, when=NOW):
    return [b"XCLAIM", key, group, consumer, b"0", sid, b"TIME", when, b"RETRYCOUNT", b"%d" % count,
            b"FORCE", b"JUSTID", b"LASTID", lastid]  # fmt: skip


def blocked(conn) -> bool:
    return conn.client.waiting is not None


def block(conn, *args):
    conn.transport.clear()
    conn.send(*args)
    assert conn.replies() == [], f"{args} answered at once"
    assert blocked(conn)


def one(conn):
    rs = conn.replies()
    assert len(rs) == 1, rs
    return rs[0]


def test_xreadgroup_propagates_xclaim_in_multi(server, conn, prop):
    seed(conn)
    conn.call("XGROUP", "CREATE", "s", "g", "0")
    del prop[:]
    r = conn.call("XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">")
    assert r == [[b"s", [[b"1-1", [b"f", b"v1"]], [b"2-1", [b"f", b"v2"]]]]]
    assert prop == [
        [b"MULTI"],
        xclaim(b"s", b"g", b"c1", b"1-1", b"1-1"),
        xclaim(b"s", b"g", b"c1", b"2-1", b"2-1"),
        [b"EXEC"],
    ]
    del prop[:]
    # one entry: no MULTI; an empty read, a history read: nothing
    assert conn.call("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")[0][1][0][0] == b"3-1"
    assert prop == [xclaim(b"s", b"g", b"c1", b"3-1", b"3-1")]
    del prop[:]
    assert conn.call("XREADGROUP", "GROUP", "g", "c9", "STREAMS", "s", ">") is None
    server.advance(5)
    assert len(conn.call("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0")[0][1]) == 3
    assert prop == []
    # the history read bumped the delivery count: a re-read by SETID shows RETRYCOUNT 1 again
    conn.call("XGROUP", "SETID", "s", "g", "2-1")
    del prop[:]
    conn.call("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">")
    assert prop == [xclaim(b"s", b"g", b"c2", b"3-1", b"3-1", when=b"%d" % int((START_TIME + 5) * 1000))]


def test_xreadgroup_noack_propagates_setid(conn, prop):
    seed(conn)
    conn.call("XGROUP", "CREATE", "s", "g", "0")
    del prop[:]
    conn.call("XREADGROUP", "GROUP", "g", "n1", "NOACK", "COUNT", "1", "STREAMS", "s", ">")
    assert prop == [
        [b"MULTI"],
        [b"XGROUP", b"CREATECONSUMER", b"s", b"g", b"n1"],
        [b"XGROUP", b"SETID", b"s", b"g", b"1-1", b"ENTRIESREAD", b"1"],
        [b"EXEC"],
    ]
    del prop[:]
    conn.call("XREADGROUP", "GROUP", "g", "n1", "NOACK", "STREAMS", "s", ">")
    assert prop == [[b"XGROUP", b"SETID", b"s", b"g", b"3-1", b"ENTRIESREAD", b"3"]]
    del prop[:]
    assert conn.call("XREADGROUP", "GROUP", "g", "n2", "NOACK", "STREAMS", "s", ">") is None
    assert prop == []
    assert conn.call("XPENDING", "s", "g")[0] == 0


def test_xgroup_and_xack_propagate_verbatim(conn, prop):
    seed(conn)
    cmds = [
        ("XGROUP", "CREATE", "s", "g", "$"),
        ("XGROUP", "CREATE", "new", "g", "$", "MKSTREAM"),
        ("XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "0"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "c"),
        ("XGROUP", "DELCONSUMER", "s", "g", "c"),
        ("XGROUP", "DESTROY", "new", "g"),
    ]
    del prop[:]
    for cmd in cmds:
        conn.call(*cmd)
    assert prop == [[a.encode() for a in cmd] for cmd in cmds]
    del prop[:]
    # no-ops propagate nothing
    conn.call("XGROUP", "CREATECONSUMER", "s", "g", "x")
    del prop[:]
    conn.call("XGROUP", "CREATECONSUMER", "s", "g", "x")
    conn.call("XGROUP", "DELCONSUMER", "s", "g", "nobody")
    conn.call("XGROUP", "DESTROY", "new", "g")
    conn.call("XACK", "s", "g", "1-1")
    assert prop == []
    conn.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    del prop[:]
    assert conn.call("XACK", "s", "g", "1-1", "2-1", "7-7") == 2
    assert prop == [[b"XACK", b"s", b"g", b"1-1", b"2-1", b"7-7"]]


def test_dirty_counts(server, conn):
    seed(conn, n=4)
    conn.call("XGROUP", "CREATE", "s", "g", "0")
    state = server.state

    def delta(*cmd):
        d = state.dirty
        conn.call(*cmd)
        return state.dirty - d

    assert delta("XREADGROUP", "GROUP", "g", "h", "STREAMS", "s", "0") == 2  # consumer + key served
    assert delta("XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">") == 2
    assert delta("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0") == 1
    assert delta("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">") == 1
    assert delta("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">") == 0
    assert delta("XACK", "s", "g", "1-1", "2-1", "9-9") == 2
    assert delta("XGROUP", "CREATECONSUMER", "s", "g", "c4") == 1
    assert delta("XGROUP", "CREATECONSUMER", "s", "g", "c4") == 0
    assert delta("XGROUP", "DELCONSUMER", "s", "g", "c1") == 1
    assert delta("XGROUP", "CREATE", "n", "g", "0", "MKSTREAM") == 1
    assert delta("XREAD", "STREAMS", "s", "0") == 0


def test_events_and_no_watch_touch(server, conn):
    events: list[bytes] = []
    server.state.keyspace_notifier = lambda t, ev, key, dbid: events.append(ev)
    server.state.notify_flags = 1
    seed(conn, n=1)
    del events[:]
    conn.call("XGROUP", "CREATE", "s", "g", "0")
    conn.call("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")
    conn.call("XREADGROUP", "GROUP", "g", "c1", "NOACK", "STREAMS", "s", ">")
    conn.call("XGROUP", "CREATECONSUMER", "s", "g", "c2")
    conn.call("XGROUP", "SETID", "s", "g", "0")
    conn.call("XACK", "s", "g", "1-1")
    conn.call("XGROUP", "DELCONSUMER", "s", "g", "c2")
    conn.call("XGROUP", "DESTROY", "s", "g")
    assert events == [b"xgroup-create", b"xgroup-createconsumer", b"xgroup-createconsumer",
                      b"xgroup-setid", b"xgroup-delconsumer", b"xgroup-destroy"]  # fmt: skip
    # group and PEL changes leave WATCH alone (7.0.15)
    other = server.connect()
    conn.call("XGROUP", "CREATE", "s", "g", "0")
    conn.call("WATCH", "s")
    other.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    other.call("XACK", "s", "g", "1-1")
    other.call("XGROUP", "SETID", "s", "g", "$")
    conn.call("MULTI")
    conn.call("PING")
    assert conn.call("EXEC") == [b"PONG"]


def test_blocked_xreadgroup_arrival_order_and_propagation(server, conn, prop):
    seed(conn, n=1)
    conn.call("XGROUP", "CREATE", "s", "g", "$")
    b1, b2, b3 = server.connect(), server.connect(), server.connect()
    block(b1, "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">")
    block(b2, "XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "STREAMS", "s", ">")
    block(b3, "XREADGROUP", "GROUP", "g", "c3", "NOACK", "BLOCK", "0", "STREAMS", "s", ">")
    # a blocked reader has no consumer yet (created when served)
    assert conn.call("XINFO", "GROUPS", "s")[0][3] == 0
    del prop[:]
    conn.call("XADD", "s", "5-1", "a", "1")
    assert one(b1) == [[b"s", [[b"5-1", [b"a", b"1"]]]]]
    assert b2.replies() == [] and blocked(b2)
    assert prop == [[b"XADD", b"s", b"5-1", b"a", b"1"], xclaim(b"s", b"g", b"c1", b"5-1", b"5-1")]
    del prop[:]
    conn.call("XADD", "s", "6-1", "a", "2")
    assert one(b2) == [[b"s", [[b"6-1", [b"a", b"2"]]]]]
    assert blocked(b3)
    del prop[:]
    conn.call("XADD", "s", "7-1", "a", "3")
    assert one(b3) == [[b"s", [[b"7-1", [b"a", b"3"]]]]]
    assert prop == [
        [b"XADD", b"s", b"7-1", b"a", b"3"],
        [b"MULTI"],
        [b"XGROUP", b"CREATECONSUMER", b"s", b"g", b"c3"],
        [b"XGROUP", b"SETID", b"s", b"g", b"7-1", b"ENTRIESREAD", b"4"],
        [b"EXEC"],
    ]
    assert conn.call("XPENDING", "s", "g")[0] == 2


def test_blocked_xread_count_dollar_and_resp3(server, conn):
    seed(conn)
    b = server.connect()
    b.hello3()
    block(b, "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "nokey", "s", "0", "$")
    conn.call("MULTI")
    conn.call("XADD", "s", "5-1", "a", "1")
    conn.call("XADD", "s", "6-1", "a", "2")
    conn.call("EXEC")
    assert one(b) == {b"s": [[b"5-1", [b"a", b"1"]]]}
    # without COUNT a blocked XREAD gets at most 1000 entries
    block(b, "XREAD", "BLOCK", "0", "STREAMS", "nokey", "0")
    conn.call("MULTI")
    for i in range(1, 1202):
        conn.call("XADD", "nokey", "%d-1" % i, "a", "1")
    conn.call("EXEC")
    assert len(one(b)[b"nokey"]) == 1000


def test_resp3_xread_repeats_a_key_given_twice(server, conn):
    """XREAD STREAMS s s 0 0 answers one map entry per requested stream, the key twice
    (bytes from redis-server 7.0.15): a dict could not hold that reply."""
    conn.call("XADD", "s", "1-1", "a", "b")
    conn.hello3()
    entry = b"*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    got = conn.raw(b"*6\r\n$5\r\nXREAD\r\n$7\r\nSTREAMS\r\n$1\r\ns\r\n$1\r\ns\r\n$1\r\n0\r\n$1\r\n0\r\n")
    assert got == b"%2\r\n$1\r\ns\r\n" + entry + b"$1\r\ns\r\n" + entry


def test_block_timeout_and_negative(server, conn):
    seed(conn, n=1)
    conn.call("XGROUP", "CREATE", "s", "g", "$")
    block(conn, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "1500", "STREAMS", "s", ">")
    server.advance(1.4)
    assert conn.replies() == []
    server.advance(0.2)
    assert conn.transport.value() == b"*-1\r\n"
    conn.transport.clear()
    conn.hello3()
    block(conn, "XREAD", "BLOCK", "10", "STREAMS", "s", "$")
    server.advance(0.02)
    assert conn.transport.value() == b"_\r\n"
    conn.transport.clear()
    assert isinstance(conn.call("XREAD", "BLOCK", "-1", "STREAMS", "s", "$"), ReplyError)
    assert str(conn.call("XREAD", "BLOCK", "-1", "STREAMS", "s", "$")) == "ERR timeout is negative"


def test_disconnect_cancels_and_unblock(server, conn):
    seed(conn, n=1)
    conn.call("XGROUP", "CREATE", "s", "g", "$")
    b1, b2 = server.connect(), server.connect()
    block(b1, "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">")
    block(b2, "XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "STREAMS", "s", ">")
    b1.close()
    assert server.state.blocked_clients_count == 1
    conn.call("XADD", "s", "2-1", "a", "1")
    assert one(b2)[0][1][0][0] == b"2-1"
    assert conn.call("XPENDING", "s", "g")[3] == [[b"c2", b"1"]]
    b3 = server.connect()
    cid = b3.call("CLIENT", "ID")
    block(b3, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    assert conn.call("CLIENT", "UNBLOCK", cid) == 1
    assert b3.transport.value() == b"*-1\r\n"
    b3.transport.clear()
    block(b3, "XREADGROUP", "GROUP", "g", "c3", "BLOCK", "0", "STREAMS", "s", ">")
    assert conn.call("CLIENT", "UNBLOCK", cid, "ERROR") == 1
    assert str(one(b3)) == "UNBLOCKED client unblocked via CLIENT UNBLOCK"
    assert server.state.blocked_clients_count == 0


@pytest.mark.parametrize(
    "how",
    [
        ("DEL", "s"),
        ("SET", "s", "x"),
        ("FLUSHALL",),
        ("FLUSHDB",),
        ("RENAME", "s", "t"),
        ("SWAPDB", "0", "1"),
        ("PEXPIRE", "s", "10"),
    ],
)
def test_blocked_xreadgroup_key_gone(server, conn, how):
    seed(conn, n=1)
    conn.call("XGROUP", "CREATE", "s", "g", "$")
    b = server.connect()
    x = server.connect()
    block(b, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    block(x, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    conn.call(*how)
    if how[0] == "PEXPIRE":
        server.advance(0.05)
        conn.call("EXISTS", "s")
    assert str(one(b)) == "UNBLOCKED the stream key no longer exists"
    assert not blocked(b)
    assert blocked(x)  # XREAD keeps waiting
    x.close()


def test_blocked_xreadgroup_group_destroyed(server, conn):
    seed(conn, n=1)
    conn.call("XGROUP", "CREATE", "s", "g", "$")
    b = server.connect()
    block(b, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    conn.call("XGROUP", "DESTROY", "s", "g")
    assert str(one(b)) == "NOGROUP the consumer group this client was blocked on no longer exists"


def test_blocked_list_waiter_beside_stream_waiter(server, conn):
    """A BLPOP and a XREADGROUP on one key: deleting the stream unblocks only the latter."""
    lw, sw = server.connect(), server.connect()
    block(lw, "BLPOP", "s", "0")
    seed(conn, n=1)  # a stream: the list waiter stays blocked
    assert blocked(lw)
    conn.call("XGROUP", "CREATE", "s", "g", "$")
    block(sw, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    conn.call("DEL", "s")
    assert str(one(sw)).startswith("UNBLOCKED")
    assert blocked(lw)
    conn.call("RPUSH", "s", "a")
    assert one(lw) == [b"s", b"a"]


def test_no_blocking_in_multi(conn):
    seed(conn, n=1)
    conn.call("XGROUP", "CREATE", "s", "g", "$")
    conn.call("MULTI")
    conn.call("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    conn.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    assert conn.call("EXEC") == [None, None]


def test_pipelined_after_block_waits(server, conn):
    seed(conn, n=1)
    b = server.connect()
    b.transport.clear()
    b.proto.dataReceived(b"XREAD BLOCK 0 STREAMS s $\r\nPING\r\n")
    server.end_turn()
    assert b.transport.value() == b""
    conn.call("XADD", "s", "2-1", "a", "b")
    assert (
        b.transport.value() == b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n+PONG\r\n"
    )
