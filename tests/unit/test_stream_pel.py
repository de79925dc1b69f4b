"""XPENDING, XCLAIM, XAUTOCLAIM (twistd_redis/commands/stream_pel.py) on the fake clock.

Groups and PELs are built through the datatype (RedisStream.create_group, StreamCG.add_pending)
so these tests do not depend on XADD/XGROUP/XREADGROUP. What they pin down was observed on
redis-server 7.0.15: idle times, propagation argv (streamPropagateXCLAIM, MULTI/EXEC for several
ops), dirty counts, the only keyspace event (xgroup-createconsumer), WATCH left untouched,
seen-time refreshed only by a claim, and the propagated XCLAIM form rebuilding a replica's PEL.
"""

from __future__ import annotations

import pytest

from tests.unit.harness import START_TIME, FakeServer, ReplyError
from twistd_redis.datatypes.stream import RedisStream

T0 = int(START_TIME * 1000)
NOGROUP = "NOGROUP No such key 's' or consumer group 'g'"


def now_ms(server):
    return int(server.clock.seconds() * 1000)


def build(server, key=b"s", n=5, pending=((1, b"alice"), (2, b"alice"), (3, b"bob")), db=0):
    """Stream ``key`` with entries i-1 (f=i) for i in 1..n, group g (last id n-1, read n), the
    given (i, consumer) pending, delivered now with count 1."""
    s = RedisStream()
    for i in range(1, n + 1):
        s.append((i, 1), [b"f", b"%d" % i])
    cg = s.create_group(b"g", (n, 1), n)
    now = now_ms(server)
    for i, name in pending:
        consumer = cg.consumers.get(name) or cg.create_consumer(name, now)
        cg.add_pending((i, 1), consumer, now)
    server.state.dbs[db].add(key, s)
    return s, cg


def err(reply):
    assert isinstance(reply, ReplyError), reply
    return str(reply)


def pel_state(cg):
    """The group's PEL as comparable data, checking the consumers' PELs agree with it."""
    out = {}
    for sid, nack in cg.pel.items():
        assert nack.consumer.pel[sid] is nack
        out[sid] = (nack.consumer.name, nack.delivery_time, nack.delivery_count)
    for cons in cg.consumers.values():
        for sid, nack in cons.pel.items():
            assert cg.pel[sid] is nack and nack.consumer is cons
    return out


def dirty(server):
    return server.state.dirty


# ------------------------------------------------------------------ XPENDING


def test_xpending_summary(server, conn):
    build(server)
    assert conn.call("XPENDING", "s", "g") == [3, b"1-1", b"3-1", [[b"alice", b"2"], [b"bob", b"1"]]]


def test_xpending_summary_skips_consumers_without_pending(server, conn):
    _, cg = build(server)
    cg.create_consumer(b"aaa", now_ms(server))
    assert conn.call("XPENDING", "s", "g")[3] == [[b"alice", b"2"], [b"bob", b"1"]]


def test_xpending_summary_empty_resp2_and_resp3(server, conn):
    build(server, pending=())
    assert conn.raw(b"XPENDING s g\r\n") == b"*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"
    conn.hello3()
    assert conn.raw(b"XPENDING s g\r\n") == b"*4\r\n:0\r\n_\r\n_\r\n_\r\n"


def test_xpending_summary_counts_are_bulk_strings(server, conn):
    build(server, pending=((1, b"c"),))
    expected = b"*4\r\n:1\r\n$3\r\n1-1\r\n$3\r\n1-1\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n1\r\n"
    assert conn.raw(b"XPENDING s g\r\n") == expected
    conn.hello3()
    assert conn.raw(b"XPENDING s g\r\n") == expected


def test_xpending_extended_idle_from_clock(server, conn):
    build(server)
    server.advance(1.5)
    assert conn.call("XPENDING", "s", "g", "-", "+", "10") == [
        [b"1-1", b"alice", 1500, 1],
        [b"2-1", b"alice", 1500, 1],
        [b"3-1", b"bob", 1500, 1],
    ]


def test_xpending_extended_ranges_count_consumer(server, conn):
    build(server)
    assert [r[0] for r in conn.call("XPENDING", "s", "g", "-", "+", "2")] == [b"1-1", b"2-1"]
    assert [r[0] for r in conn.call("XPENDING", "s", "g", "(1-1", "+", "10")] == [b"2-1", b"3-1"]
    assert [r[0] for r in conn.call("XPENDING", "s", "g", "-", "(3-1", "10")] == [b"1-1", b"2-1"]
    assert [r[0] for r in conn.call("XPENDING", "s", "g", "2", "2", "10")] == [b"2-1"]
    assert conn.call("XPENDING", "s", "g", "3", "2", "10") == []
    assert conn.call("XPENDING", "s", "g", "-", "+", "0") == []
    assert conn.call("XPENDING", "s", "g", "-", "+", "-7") == []
    assert [r[0] for r in conn.call("XPENDING", "s", "g", "-", "+", "10", "bob")] == [b"3-1"]
    assert conn.call("XPENDING", "s", "g", "-", "+", "10", "nobody") == []


def test_xpending_idle_filter(server, conn):
    _, cg = build(server)
    server.advance(1)
    cg.pel[(2, 1)].delivery_time = now_ms(server) - 200
    rows = conn.call("XPENDING", "s", "g", "IDLE", "500", "-", "+", "10")
    assert rows == [[b"1-1", b"alice", 1000, 1], [b"3-1", b"bob", 1000, 1]]
    rows = conn.call("xpending", "s", "g", "idle", "500", "-", "+", "1", "alice")
    assert rows == [[b"1-1", b"alice", 1000, 1]]
    # the IDLE filter does not use up COUNT
    assert [r[0] for r in conn.call("XPENDING", "s", "g", "IDLE", "500", "2", "+", "1")] == [b"3-1"]


def test_xpending_does_not_refresh_seen_time(server, conn):
    _, cg = build(server)
    server.advance(3)
    conn.call("XPENDING", "s", "g", "-", "+", "10", "alice")
    assert cg.consumers[b"alice"].seen_time == T0


def test_xpending_errors(server, conn):
    syntax = "ERR syntax error"
    assert err(conn.call("XPENDING", "s")) == "ERR wrong number of arguments for 'xpending' command"
    assert err(conn.call("XPENDING", "s", "g", "-")) == syntax
    assert err(conn.call("XPENDING", "s", "g", "-", "+")) == syntax
    assert err(conn.call("XPENDING", "s", "g", "IDLE", "1", "-", "+", "1", "c", "x")) == syntax
    # parsed before the key is looked up
    assert err(conn.call("XPENDING", "s", "g", "-", "+", "x")) == "ERR value is not an integer or out of range"
    assert err(conn.call("XPENDING", "s", "g", "IDLE", "x", "-", "+", "1")) == (
        "ERR value is not an integer or out of range"
    )
    assert err(conn.call("XPENDING", "s", "g", "IDLE", "1", "-", "+")) == syntax
    assert err(conn.call("XPENDING", "s", "g", "x", "+", "1")) == (
        "ERR Invalid stream ID specified as stream command argument"
    )
    assert err(conn.call("XPENDING", "s", "g", "(-", "+", "1")) == (
        "ERR Invalid stream ID specified as stream command argument"
    )
    assert err(conn.call("XPENDING", "s", "g", "(18446744073709551615-18446744073709551615", "+", "1")) == (
        "ERR invalid start ID for the interval"
    )
    assert err(conn.call("XPENDING", "s", "g", "-", "(0-0", "1")) == "ERR invalid end ID for the interval"
    assert err(conn.call("XPENDING", "s", "g")) == NOGROUP
    assert err(conn.call("XPENDING", "s", "g", "-", "+", "1")) == NOGROUP
    conn.call("SET", "str", "v")
    assert err(conn.call("XPENDING", "str", "g")).startswith("WRONGTYPE ")
    build(server)
    assert err(conn.call("XPENDING", "s", "nog")) == "NOGROUP No such key 's' or consumer group 'nog'"
    # %s stops at a NUL byte
    assert err(conn.call("XPENDING", b"a\x00b", b"g\x00h")) == "NOGROUP No such key 'a' or consumer group 'g'"


# ------------------------------------------------------------------ XCLAIM


def test_xclaim_moves_entry_and_increments_count(server, conn, seen, events):
    _, cg = build(server)
    server.advance(2)
    d0 = dirty(server)
    assert conn.call("XCLAIM", "s", "g", "bob", "1000", "1-1") == [[b"1-1", [b"f", b"1"]]]
    now = now_ms(server)
    assert pel_state(cg)[(1, 1)] == (b"bob", now, 2)
    assert dirty(server) - d0 == 1
    assert events == []
    assert seen == [
        [b"XCLAIM", b"s", b"g", b"bob", b"0", b"1-1", b"TIME", b"%d" % now, b"RETRYCOUNT", b"2",
         b"FORCE", b"JUSTID", b"LASTID", b"5-1"],
    ]  # fmt: skip


def test_xclaim_min_idle_not_reached(server, conn, seen):
    _, cg = build(server)
    server.advance(0.5)
    before = pel_state(cg)
    d0 = dirty(server)
    assert conn.call("XCLAIM", "s", "g", "bob", "1000", "1-1", "2-1") == []
    assert pel_state(cg) == before and dirty(server) == d0 and seen == []
    server.advance(0.5)
    assert len(conn.call("XCLAIM", "s", "g", "bob", "1000", "1-1", "2-1")) == 2


def test_xclaim_creates_consumer_only_when_claiming(server, conn, events):
    _, cg = build(server)
    d0 = dirty(server)
    assert conn.call("XCLAIM", "s", "g", "carol", "0", "9-1", "4-1") == []
    assert b"carol" not in cg.consumers and dirty(server) == d0 and events == []
    assert conn.call("XCLAIM", "s", "g", "carol", "0", "1-1", "2-1", "JUSTID") == [b"1-1", b"2-1"]
    assert b"carol" in cg.consumers
    assert events == [(b"xgroup-createconsumer", b"s", 0)]
    assert dirty(server) - d0 == 3  # the consumer + two claims


def test_xclaim_refreshes_seen_time_only_when_claiming(server, conn):
    _, cg = build(server)
    server.advance(5)
    conn.call("XCLAIM", "s", "g", "bob", "0", "9-1")
    conn.call("XCLAIM", "s", "g", "bob", "100000", "1-1")
    assert cg.consumers[b"bob"].seen_time == T0
    conn.call("XCLAIM", "s", "g", "bob", "0", "3-1", "JUSTID")  # already bob's: still a claim
    assert cg.consumers[b"bob"].seen_time == now_ms(server)
    assert cg.consumers[b"alice"].seen_time == T0


def test_xclaim_does_not_touch_watch(server, conn):
    build(server)
    other = server.connect()
    assert other.call("WATCH", "s") == b"OK"
    conn.call("XCLAIM", "s", "g", "newone", "0", "1-1", "FORCE", "4-1")
    other.call("MULTI")
    other.call("PING")
    assert other.call("EXEC") == [b"PONG"]


def test_xclaim_justid_keeps_count_retrycount_sets_it(server, conn):
    _, cg = build(server)
    assert conn.call("XCLAIM", "s", "g", "bob", "0", "1-1", "JUSTID") == [b"1-1"]
    assert cg.pel[(1, 1)].delivery_count == 1
    conn.call("XCLAIM", "s", "g", "bob", "0", "1-1", "RETRYCOUNT", "7")
    assert cg.pel[(1, 1)].delivery_count == 7
    conn.call("XCLAIM", "s", "g", "bob", "0", "1-1", "RETRYCOUNT", "0", "JUSTID")
    assert cg.pel[(1, 1)].delivery_count == 0
    # a negative RETRYCOUNT counts as not given
    conn.call("XCLAIM", "s", "g", "bob", "0", "1-1", "RETRYCOUNT", "-3")
    assert cg.pel[(1, 1)].delivery_count == 1


def test_xclaim_idle_and_time(server, conn):
    _, cg = build(server)
    server.advance(10)
    now = now_ms(server)
    conn.call("XCLAIM", "s", "g", "bob", "0", "1-1", "IDLE", "4000")
    assert cg.pel[(1, 1)].delivery_time == now - 4000
    assert conn.call("XPENDING", "s", "g", "1-1", "1-1", "1") == [[b"1-1", b"bob", 4000, 2]]
    conn.call("XCLAIM", "s", "g", "bob", "0", "1-1", "TIME", "12345")
    assert cg.pel[(1, 1)].delivery_time == 12345
    # bogus times (negative, future) become now; the last of IDLE/TIME wins
    for opts in (["IDLE", "-5"], ["TIME", "-1"], ["TIME", str(now + 1)], ["IDLE", str(now + 10)]):
        cg.pel[(1, 1)].delivery_time = 1
        conn.call("XCLAIM", "s", "g", "bob", "0", "1-1", *opts)
        assert cg.pel[(1, 1)].delivery_time == now, opts
    conn.call("XCLAIM", "s", "g", "bob", "0", "1-1", "TIME", "5", "IDLE", "100")
    assert cg.pel[(1, 1)].delivery_time == now - 100
    conn.call("XCLAIM", "s", "g", "bob", "0", "1-1", "IDLE", "100", "TIME", "5")
    assert cg.pel[(1, 1)].delivery_time == 5


def test_xclaim_force(server, conn, seen):
    _, cg = build(server)
    now = now_ms(server)
    # not pending, no FORCE: nothing; FORCE on a missing entry: nothing
    assert conn.call("XCLAIM", "s", "g", "bob", "0", "4-1") == []
    assert conn.call("XCLAIM", "s", "g", "bob", "0", "9-1", "FORCE") == []
    assert seen == []
    # FORCE creates the NACK (count 1 from creation, +1 for the claim), ignoring min-idle-time
    assert conn.call("XCLAIM", "s", "g", "bob", "99999", "4-1", "FORCE") == [[b"4-1", [b"f", b"4"]]]
    assert pel_state(cg)[(4, 1)] == (b"bob", now, 2)
    assert conn.call("XCLAIM", "s", "g", "bob", "0", "5-1", "FORCE", "JUSTID") == [b"5-1"]
    assert pel_state(cg)[(5, 1)] == (b"bob", now, 1)


def test_xclaim_deleted_entry_is_dropped_and_propagated(server, conn, seen):
    s, cg = build(server)
    server.advance(1)
    s.delete((2, 1))
    d0 = dirty(server)
    assert conn.call("XCLAIM", "s", "g", "bob", "0", "1-1", "2-1", "3-1", "JUSTID") == [b"1-1", b"3-1"]
    now = now_ms(server)
    assert (2, 1) not in cg.pel and (2, 1) not in cg.consumers[b"alice"].pel
    assert dirty(server) - d0 == 3
    tail = [b"FORCE", b"JUSTID", b"LASTID", b"5-1"]
    assert seen == [
        [b"MULTI"],
        [b"XCLAIM", b"s", b"g", b"bob", b"0", b"1-1", b"TIME", b"%d" % now, b"RETRYCOUNT", b"1", *tail],
        [b"XCLAIM", b"s", b"g", b"alice", b"0", b"2-1", b"TIME", b"%d" % T0, b"RETRYCOUNT", b"1", *tail],
        [b"XCLAIM", b"s", b"g", b"bob", b"0", b"3-1", b"TIME", b"%d" % now, b"RETRYCOUNT", b"1", *tail],
        [b"EXEC"],
    ]


def test_xclaim_propagates_the_id_argument_as_given(server, conn, seen):
    s = RedisStream()
    s.append((7, 0), [b"a", b"b"])
    s.create_group(b"g", (7, 0), 1)
    server.state.dbs[0].add(b"s", s)
    assert conn.call("XCLAIM", "s", "g", "c", "0", "7", "FORCE", "JUSTID") == [b"7-0"]
    assert seen[0][5] == b"7"


def test_xclaim_lastid(server, conn, seen):
    _, cg = build(server, n=7)
    cg.last_id = (3, 1)
    d0 = dirty(server)
    # LASTID alone (nothing claimed): XGROUP SETID with the group's entries_read
    assert conn.call("XCLAIM", "s", "g", "bob", "0", "9-1", "LASTID", "6-1") == []
    assert cg.last_id == (6, 1) and dirty(server) - d0 == 1
    assert seen == [[b"XGROUP", b"SETID", b"s", b"g", b"6-1", b"ENTRIESREAD", b"7"]]
    seen.clear()
    # a LASTID not above the group's: nothing
    assert conn.call("XCLAIM", "s", "g", "bob", "0", "9-1", "LASTID", "2-1") == []
    assert cg.last_id == (6, 1) and seen == []
    # with a claim the XCLAIM carries it
    conn.call("XCLAIM", "s", "g", "bob", "0", "1-1", "JUSTID", "LASTID", "7-1")
    assert cg.last_id == (7, 1)
    assert len(seen) == 1 and seen[0][0] == b"XCLAIM" and seen[0][-1] == b"7-1"


def test_xclaim_nothing_claimed_propagates_nothing(server, conn, seen):
    build(server)
    d0 = dirty(server)
    conn.call("XCLAIM", "s", "g", "bob", "0", "9-1")
    conn.call("XCLAIM", "s", "g", "bob", "0", "JUSTID")
    assert seen == [] and dirty(server) == d0


def test_xclaim_errors(server, conn):
    assert err(conn.call("XCLAIM", "s", "g", "c", "0")) == "ERR wrong number of arguments for 'xclaim' command"
    # the key and group come first
    assert err(conn.call("XCLAIM", "s", "g", "c", "x", "1-1")) == NOGROUP
    conn.call("SET", "str", "v")
    assert err(conn.call("XCLAIM", "str", "g", "c", "x", "1-1")).startswith("WRONGTYPE ")
    _, cg = build(server)
    before = pel_state(cg)
    assert err(conn.call("XCLAIM", "s", "nog", "c", "0", "1-1")) == ("NOGROUP No such key 's' or consumer group 'nog'")
    assert err(conn.call("XCLAIM", "s", "g", "c", "x", "1-1")) == "ERR Invalid min-idle-time argument for XCLAIM"
    assert err(conn.call("XCLAIM", "s", "g", "c", "0", "1-1", "IDLE", "x")) == (
        "ERR Invalid IDLE option argument for XCLAIM"
    )
    assert err(conn.call("XCLAIM", "s", "g", "c", "0", "1-1", "TIME", "1.5")) == (
        "ERR Invalid TIME option argument for XCLAIM"
    )
    assert err(conn.call("XCLAIM", "s", "g", "c", "0", "1-1", "RETRYCOUNT", "")) == (
        "ERR Invalid RETRYCOUNT option argument for XCLAIM"
    )
    assert err(conn.call("XCLAIM", "s", "g", "c", "0", "1-1", "LASTID", "+")) == (
        "ERR Invalid stream ID specified as stream command argument"
    )
    assert err(conn.call("XCLAIM", "s", "g", "c", "0", "1-1", "IDLE")) == "ERR Unrecognized XCLAIM option 'IDLE'"
    assert err(conn.call("XCLAIM", "s", "g", "c", "0", "1-1", "force", "2-1")) == (
        "ERR Unrecognized XCLAIM option '2-1'"
    )
    assert err(conn.call("XCLAIM", "s", "g", "c", "0", "+")) == "ERR Unrecognized XCLAIM option '+'"
    assert err(conn.call("XCLAIM", "s", "g", "c", "0", "1-1", b"bad\x00x")) == ("ERR Unrecognized XCLAIM option 'bad'")
    # all or nothing: a bad option after good IDs changes nothing (LASTID included)
    assert err(conn.call("XCLAIM", "s", "g", "c", "0", "1-1", "LASTID", "9-9", "BAD")).startswith("ERR Unrec")
    assert pel_state(cg) == before and cg.last_id == (5, 1)


# ------------------------------------------------------------------ the replica's view


def test_xclaim_accepts_the_xreadgroup_propagation_form(server, conn):
    """XREADGROUP reaches a replica as ``XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n
    FORCE JUSTID LASTID id``: the replica's PEL gets the master's owner, time and count."""
    build(server, pending=())
    _, cg = server.state.dbs[0].data[b"s"], server.state.dbs[0].data[b"s"].groups[b"g"]
    cg.last_id = (0, 0)
    server.advance(1)
    r = conn.call("XCLAIM", "s", "g", "alice", "0", "2-1", "TIME", str(T0 + 5), "RETRYCOUNT", "3",
                  "FORCE", "JUSTID", "LASTID", "2-1")  # fmt: skip
    assert r == [b"2-1"]
    assert pel_state(cg) == {(2, 1): (b"alice", T0 + 5, 3)}
    assert cg.last_id == (2, 1)
    # again (redelivery): the NACK exists, same form updates it
    conn.call("XCLAIM", "s", "g", "bob", "0", "2-1", "TIME", str(T0 + 7), "RETRYCOUNT", "4",
              "FORCE", "JUSTID", "LASTID", "2-1")  # fmt: skip
    assert pel_state(cg) == {(2, 1): (b"bob", T0 + 7, 4)}
    assert cg.consumers[b"alice"].pel == {}


def test_propagated_ops_rebuild_the_pel_on_a_replica(server, conn, seen):
    """Every op XCLAIM/XAUTOCLAIM propagate, applied to a copy of the master's starting state,
    gives the master's PEL (owners, delivery times, counts), consumers and last ID."""
    master_s, master_cg = build(server, n=8, pending=[(i, b"alice") for i in range(1, 8)])
    replica = FakeServer()
    replica.clock.advance(server.clock.seconds() - replica.clock.seconds())
    rconn = replica.connect()
    replica.state.dbs[0].add(b"s", master_s.copy())
    rcg = replica.state.dbs[0].data[b"s"].groups[b"g"]
    server.advance(3)
    master_s.delete((2, 1))
    replica.state.dbs[0].data[b"s"].delete((2, 1))
    conn.call("XCLAIM", "s", "g", "bob", "1000", "1-1", "2-1", "IDLE", "500", "RETRYCOUNT", "9")
    server.advance(1)
    conn.call("XCLAIM", "s", "g", "carol", "0", "3-1", "JUSTID", "LASTID", "8-1")
    conn.call("XAUTOCLAIM", "s", "g", "dave", "2000", "0", "COUNT", "2")
    conn.call("XAUTOCLAIM", "s", "g", "erin", "0", "(4-1", "JUSTID")
    conn.call("XCLAIM", "s", "g", "bob", "0", "8-1", "FORCE")
    replica.advance(10)  # later on the replica: times come from the argv, not its clock
    for argv in seen:
        if argv[0] in (b"MULTI", b"EXEC"):
            continue
        assert not isinstance(rconn.call(*argv), ReplyError), argv
    assert pel_state(rcg) == pel_state(master_cg)
    assert rcg.last_id == master_cg.last_id
    assert {n: len(c.pel) for n, c in rcg.consumers.items()} == {n: len(c.pel) for n, c in master_cg.consumers.items()}
    replica.stop()


# ------------------------------------------------------------------ XAUTOCLAIM


def test_xautoclaim_basic_and_cursor(server, conn, seen, events):
    _, cg = build(server, n=6, pending=[(i, b"alice") for i in range(1, 6)])
    server.advance(2)
    now = now_ms(server)
    d0 = dirty(server)
    r = conn.call("XAUTOCLAIM", "s", "g", "bob", "1000", "0", "COUNT", "2")
    assert r == [b"3-1", [[b"1-1", [b"f", b"1"]], [b"2-1", [b"f", b"2"]]], []]
    assert pel_state(cg)[(1, 1)] == (b"bob", now, 2)
    assert events == [(b"xgroup-createconsumer", b"s", 0)]
    assert dirty(server) - d0 == 3
    assert seen[0] == [b"MULTI"] and seen[-1] == [b"EXEC"] and len(seen) == 4
    assert seen[1][:6] == [b"XCLAIM", b"s", b"g", b"bob", b"0", b"1-1"]
    assert conn.call("XAUTOCLAIM", "s", "g", "bob", "1000", "3-1", "JUSTID") == [b"0-0", [b"3-1", b"4-1", b"5-1"], []]
    assert cg.pel[(3, 1)].delivery_count == 1  # JUSTID does not count a delivery
    assert conn.call("XAUTOCLAIM", "s", "g", "bob", "0", "(4-1", "JUSTID") == [b"0-0", [b"5-1"], []]
    assert conn.call("XAUTOCLAIM", "s", "g", "bob", "0", "+") == [b"0-0", [], []]


def test_xautoclaim_deleted_entries(server, conn, seen):
    s, cg = build(server, n=7, pending=[(i, b"alice") for i in range(1, 8)])
    for i in (2, 3, 5):
        s.delete((i, 1))
    # a deleted entry counts against COUNT
    r = conn.call("XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "2")
    assert r == [b"3-1", [[b"1-1", [b"f", b"1"]]], [b"2-1"]]
    assert (2, 1) not in cg.pel and (3, 1) in cg.pel
    assert seen[2] == [b"XCLAIM", b"s", b"g", b"alice", b"0", b"2-1", b"TIME", b"%d" % T0, b"RETRYCOUNT", b"1",
                       b"FORCE", b"JUSTID", b"LASTID", b"7-1"]  # fmt: skip
    r = conn.call("XAUTOCLAIM", "s", "g", "carol", "0", "0", "JUSTID")
    assert r == [b"0-0", [b"1-1", b"4-1", b"6-1", b"7-1"], [b"3-1", b"5-1"]]
    assert sorted(cg.pel) == [(1, 1), (4, 1), (6, 1), (7, 1)]


def test_xautoclaim_attempts_limit(server, conn):
    """At most COUNT*10 PEL entries are looked at: the cursor stops there."""
    _, cg = build(server, n=30, pending=[(i, b"alice") for i in range(1, 31)])
    server.advance(1)
    for i in range(1, 26):
        cg.pel[(i, 1)].delivery_time = now_ms(server)  # too recent
    r = conn.call("XAUTOCLAIM", "s", "g", "bob", "500", "0", "COUNT", "2", "JUSTID")
    assert r == [b"21-1", [], []]
    r = conn.call("XAUTOCLAIM", "s", "g", "bob", "500", "21-1", "COUNT", "2", "JUSTID")
    assert r == [b"28-1", [b"26-1", b"27-1"], []]
    assert b"bob" in cg.consumers


def test_xautoclaim_nothing_claimed_leaves_consumers(server, conn, seen, events):
    _, cg = build(server)
    d0 = dirty(server)
    assert conn.call("XAUTOCLAIM", "s", "g", "zed", "100000", "0") == [b"0-0", [], []]
    assert b"zed" not in cg.consumers and seen == [] and events == [] and dirty(server) == d0
    server.advance(5)
    conn.call("XAUTOCLAIM", "s", "g", "bob", "100000", "0")
    assert cg.consumers[b"bob"].seen_time == T0
    conn.call("XAUTOCLAIM", "s", "g", "bob", "0", "3-1")
    assert cg.consumers[b"bob"].seen_time == now_ms(server)


def test_xautoclaim_resp3_shape(server, conn):
    build(server, pending=((1, b"a"),))
    conn.hello3()
    expected = b"*3\r\n$3\r\n0-0\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n*0\r\n"
    assert conn.raw(b"XAUTOCLAIM s g a 0 0\r\n") == expected


def test_xautoclaim_errors(server, conn):
    assert err(conn.call("XAUTOCLAIM", "s", "g", "c", "0")) == (
        "ERR wrong number of arguments for 'xautoclaim' command"
    )
    # arguments are parsed before the key is looked up
    assert err(conn.call("XAUTOCLAIM", "s", "g", "c", "x", "0")) == (
        "ERR Invalid min-idle-time argument for XAUTOCLAIM"
    )
    assert err(conn.call("XAUTOCLAIM", "s", "g", "c", "0", "x")) == (
        "ERR Invalid stream ID specified as stream command argument"
    )
    assert err(conn.call("XAUTOCLAIM", "s", "g", "c", "0", "(+")) == (
        "ERR Invalid stream ID specified as stream command argument"
    )
    assert err(conn.call("XAUTOCLAIM", "s", "g", "c", "0", "(18446744073709551615-18446744073709551615")) == (
        "ERR invalid start ID for the interval"
    )
    for bad in ("0", "-1", "x", "576460752303423488"):
        assert err(conn.call("XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", bad)) == "ERR COUNT must be > 0"
    assert err(conn.call("XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "576460752303423487")) == NOGROUP
    assert err(conn.call("XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT")) == "ERR syntax error"
    assert err(conn.call("XAUTOCLAIM", "s", "g", "c", "0", "0", "FOO")) == "ERR syntax error"
    assert err(conn.call("XAUTOCLAIM", "s", "g", "c", "-5", "+", "justid", "count", "3")) == NOGROUP
    conn.call("SET", "str", "v")
    assert err(conn.call("XAUTOCLAIM", "str", "g", "c", "0", "0")).startswith("WRONGTYPE ")


@pytest.mark.parametrize("cmd", ["XCLAIM", "XAUTOCLAIM"])
def test_inside_multi_the_ops_join_the_transaction(server, conn, seen, cmd):
    build(server)
    conn.call("MULTI")
    conn.call("SET", "x", "1")
    if cmd == "XCLAIM":
        conn.call("XCLAIM", "s", "g", "bob", "0", "1-1", "2-1")
    else:
        conn.call("XAUTOCLAIM", "s", "g", "bob", "0", "0", "COUNT", "2")
    conn.call("EXEC")
    names = [a[0] for a in seen]
    assert names == [b"MULTI", b"SET", b"XCLAIM", b"XCLAIM", b"EXEC"]


def test_replica_follows_master_pel_through_xreadgroup_and_claims(server, conn, seen):
    """The whole chain as a replica sees it: XADD, XGROUP, XREADGROUP (propagated by
    stream_groups as XCLAIM ... FORCE JUSTID LASTID), XCLAIM and XAUTOCLAIM (including dropped
    deleted entries), XACK, every propagated argv replayed (MULTI/EXEC included) on a second
    server whose clock runs later: owners, delivery times and counts, last ID, consumers agree."""
    for i in range(1, 9):
        conn.call("XADD", "s", f"{i}-1", "f", str(i))
    conn.call("XGROUP", "CREATE", "s", "g", "0")
    conn.call("XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">")
    server.advance(2)
    conn.call("XREADGROUP", "GROUP", "g", "bob", "COUNT", "3", "STREAMS", "s", ">")
    server.advance(3)
    conn.call("XCLAIM", "s", "g", "carol", "4000", "1-1", "2-1", "4-1")
    conn.call("XCLAIM", "s", "g", "carol", "0", "5-1", "IDLE", "700", "RETRYCOUNT", "6", "JUSTID")
    conn.call("XDEL", "s", "3-1")
    server.advance(1)
    r = conn.call("XAUTOCLAIM", "s", "g", "dave", "900", "0", "COUNT", "3", "JUSTID")
    assert r == [b"4-1", [b"1-1", b"2-1"], [b"3-1"]]
    conn.call("XACK", "s", "g", "6-1")
    conn.call("XREADGROUP", "GROUP", "g", "erin", "STREAMS", "s", ">")
    conn.call("XCLAIM", "s", "g", "erin", "0", "9-1", "LASTID", "8-1")

    replica = FakeServer()
    try:
        replica.advance(server.clock.seconds() - replica.clock.seconds() + 60)
        rconn = replica.connect()
        for argv in seen:
            assert not isinstance(rconn.call(*argv), ReplyError), argv
        m_cg = server.state.dbs[0].data[b"s"].groups[b"g"]
        r_cg = replica.state.dbs[0].data[b"s"].groups[b"g"]
        assert pel_state(r_cg) == pel_state(m_cg)
        assert sorted(m_cg.pel) == [(1, 1), (2, 1), (4, 1), (5, 1), (7, 1), (8, 1)]
        assert r_cg.last_id == m_cg.last_id == (8, 1)
        assert {n: sorted(c.pel) for n, c in r_cg.consumers.items()} == {
            n: sorted(c.pel) for n, c in m_cg.consumers.items()
        }
        assert rconn.call("XPENDING", "s", "g") == conn.call("XPENDING", "s", "g")
    finally:
        replica.stop()


def _hits_misses(conn):
    info = conn.call("INFO", "stats").decode()
    return tuple(
        int(ln.split(":")[1]) for ln in info.split("\r\n") if ln.startswith(("keyspace_hits", "keyspace_misses"))
    )


@pytest.mark.parametrize(
    ("cmd", "delta"),
    [
        (("XPENDING", "s", "g"), (1, 0)),
        (("XPENDING", "nokey", "g"), (0, 1)),
        (("XPENDING", "s", "g", "-", "+", "10", "a"), (1, 0)),
        (("XPENDING", "s", "g", "-", "+", "x"), (0, 0)),  # arguments parsed before the lookup
        (("XCLAIM", "s", "g", "a", "0", "1-1", "FORCE"), (1, 0)),
        (("XCLAIM", "nokey", "g", "a", "0", "1-1"), (0, 1)),
        (("XCLAIM", "s", "g", "a", "x", "1-1"), (1, 0)),  # the key comes first
        (("XAUTOCLAIM", "s", "g", "a", "0", "0"), (1, 0)),
        (("XAUTOCLAIM", "nokey", "g", "a", "0", "0"), (0, 1)),
        (("XAUTOCLAIM", "nokey", "g", "a", "x", "0"), (0, 1)),  # looked up before the parse error
    ],
)
def test_keyspace_hits_and_misses(server, conn, cmd, delta):
    build(server)
    before = _hits_misses(conn)
    conn.call(*cmd)
    after = _hits_misses(conn)
    assert (after[0] - before[0], after[1] - before[1]) == delta
