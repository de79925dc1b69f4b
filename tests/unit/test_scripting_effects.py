"""Script effects on the FakeServer, beyond tests/unit/test_scripting.py: what reaches the AOF
and the replicas (captured from ``state.propagation_targets``) when a target is off, for keys a
script finds expired, for scripts inside MULTI, for blocked clients a script wakes, for WATCH
and keyspace events; a replica holding its master's stream while a script is busy.

Each expectation was read from redis-server 7.0.15's replication stream
(tests/integration/test_scripting_replication.py compares both servers' streams directly).
"""

from __future__ import annotations

import pytest

from tests.unit.harness import FakeServer, ReplyError, encode_request
from tests.unit.test_repl_replica import become_replica, rig  # noqa: F401  (rig: a fixture)
from tests.unit.test_scripting_busy import Steps, feed, ticking


@pytest.fixture
def server():
    srv = FakeServer()
    yield srv
    srv.stop()


@pytest.fixture
def conn(server):
    return server.connect()


class Feeds:
    """An AOF feed (recognised by identity, as redis.set_repl's mask needs) and/or a replica
    feed; ``aof=False`` / ``repl=False`` leave that target off (AOF off, no backlog)."""

    def __init__(self, state, aof: bool = True, repl: bool = True) -> None:
        self.aof: list[tuple] = []
        self.repl: list[tuple] = []

        def aof_feed(dbid: int, argv: list[bytes]) -> None:
            self.aof.append((dbid, *argv))

        def repl_feed(dbid: int, argv: list[bytes]) -> None:
            self.repl.append((dbid, *argv))

        state.aof.feed = aof_feed
        state.propagation_targets[:] = [f for f, on in ((aof_feed, aof), (repl_feed, repl)) if on]

    def clear(self) -> None:
        del self.aof[:]
        del self.repl[:]


SET_REPL = (
    "redis.set_repl(redis.REPL_AOF) redis.call('set', 'aof', '1') "
    "redis.set_repl(redis.REPL_ALL) redis.call('set', 'all', '1')"
)


def test_set_repl_op_for_a_target_that_is_off_does_not_count(server, conn):
    """shouldPropagate: with the AOF off, an AOF-only op is not kept, so the replicas get the
    script's one other write alone (no MULTI), as redis-server 7.0.15."""
    f = Feeds(server.state, aof=False)
    conn.call("EVAL", SET_REPL, "0")
    assert f.repl == [(0, b"set", b"all", b"1")]
    # no replication backlog: a replica-only op does not count for the AOF
    f = Feeds(server.state, repl=False)
    conn.call("EVAL", "redis.set_repl(redis.REPL_REPLICA) redis.call('set', 'r', '1') "
                      "redis.set_repl(redis.REPL_ALL) redis.call('set', 'all', '2')", "0")
    assert f.aof == [(0, b"set", b"all", b"2")]
    # both on: both ops count, each target gets MULTI ... EXEC around its own
    f = Feeds(server.state)
    conn.call("EVAL", SET_REPL, "0")
    assert f.aof == [(0, b"MULTI"), (0, b"set", b"aof", b"1"), (0, b"set", b"all", b"1"), (0, b"EXEC")]
    assert f.repl == [(0, b"MULTI"), (0, b"set", b"all", b"1"), (0, b"EXEC")]


def test_set_repl_none_and_error_reset_the_mask(server, conn):
    f = Feeds(server.state)
    r = conn.call("EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('set', 'a', '1') error('x')", "0")
    assert isinstance(r, ReplyError)
    assert f.aof == f.repl == []
    conn.call("SET", "b", "1")
    assert f.repl == [(0, b"SET", b"b", b"1")] and f.aof == f.repl
    assert isinstance(conn.call("EVAL", "redis.set_repl(4)", "0"), ReplyError)
    assert str(conn.call("EVAL", "redis.set_repl(4)", "0")).startswith(
        "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."
    )


def test_set_repl_inside_multi(server, conn):
    f = Feeds(server.state, aof=False)
    conn.call("MULTI")
    conn.call("EVAL", "redis.set_repl(redis.REPL_AOF) redis.call('set', 'q1', '1')", "0")
    conn.call("SET", "q2", "1")
    assert conn.call("EXEC") == [None, b"OK"]
    assert f.repl == [(0, b"SET", b"q2", b"1")]
    f = Feeds(server.state)
    conn.call("MULTI")
    conn.call("EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('set', 'q3', '1')", "0")
    conn.call("EVAL", "redis.call('set', 'q4', '1')", "0")
    conn.call("EXEC")
    assert f.repl == f.aof == [(0, b"set", b"q4", b"1")]


def test_expired_keys_deleted_in_the_script_transaction(server, conn):
    """A key the script finds expired is deleted (DEL propagated) inside the script's
    MULTI/EXEC, where it was met; alone when it is the only effect."""
    st = server.state
    st.active_expire_enabled = False
    conn.call("SET", "x1", "1", "PX", "10")
    conn.call("SET", "x2", "1", "PX", "10")
    conn.call("SET", "x3", "1", "PX", "10")
    server.advance(1)
    f = Feeds(st)
    assert conn.call("EVAL", "return redis.call('get', 'x1')", "0") is None
    assert f.repl == [(0, b"DEL", b"x1")]
    f.clear()
    body = "local e = redis.call('exists', 'x2') redis.call('set', 'w', '1') return {e, redis.call('get', 'x3')}"
    assert conn.call("EVAL", body, "0") == [0, None]
    assert f.repl == [(0, b"MULTI"), (0, b"DEL", b"x2"), (0, b"set", b"w", b"1"), (0, b"DEL", b"x3"), (0, b"EXEC")]
    assert f.aof == f.repl
    assert conn.call("DBSIZE") == 1


def test_expiry_time_is_the_script_start(server, conn):
    """A key expiring while the script runs is still there for the whole script (its time is
    frozen at its start): nothing is deleted, nothing propagated."""
    st = server.state
    st.active_expire_enabled = False
    conn.call("SET", "soon", "1", "PX", "50")
    ticking(server, step=0.01)  # every clock read moves 10 ms on while the script runs
    f = Feeds(st)
    body = "local n = 0 for i = 1, 20 do n = n + redis.call('exists', 'soon') redis.call('time') end return n"
    assert conn.call("EVAL", body, "0") == 20
    assert f.repl == []


def test_spop_count_inside_a_script_no_nested_multi(server, conn):
    conn.call("SADD", "s", "a", "b", "c")
    f = Feeds(server.state)
    assert len(conn.call("EVAL", "return redis.call('spop', 's', 2)", "0")) == 2
    assert [x[1] for x in f.repl] == [b"MULTI", b"SREM", b"SREM", b"EXEC"]
    f.clear()
    conn.call("EVAL", "redis.call('spop', 's', 5) redis.call('set', 'k', 'v')", "0")
    assert [x[1] for x in f.repl] == [b"MULTI", b"DEL", b"set", b"EXEC"]


def test_blocked_client_served_after_the_script_once(server, conn):
    """A client blocked on a list the script pushes to is served after the script, once, its
    LPOP propagated after the script's EXEC; a push the script takes back serves nobody."""
    w1, w2 = server.connect(), server.connect()
    w1.send("BLPOP", "q", 0)
    w2.send("BLPOP", "q", 0)
    f = Feeds(server.state)
    body = "redis.call('rpush', 'q', 'a') local n = redis.call('llen', 'q') redis.call('set', 'after', n) return n"
    assert conn.call("EVAL", body, "0") == 1  # the waiters are not served inside the script
    assert w1.replies() == [[b"q", b"a"]]
    assert w2.replies() == []
    assert f.repl == [(0, b"MULTI"), (0, b"rpush", b"q", b"a"), (0, b"set", b"after", b"1"), (0, b"EXEC"),
                      (0, b"LPOP", b"q")]
    f.clear()
    conn.call("EVAL", "redis.call('lpush', 'q', 'x') redis.call('lpop', 'q')", "0")
    assert w2.replies() == []
    assert f.repl == [(0, b"MULTI"), (0, b"lpush", b"q", b"x"), (0, b"lpop", b"q"), (0, b"EXEC")]
    conn.call("EVAL", "redis.call('lpush', 'q', 'y')", "0")
    assert w2.replies() == [[b"q", b"y"]]
    assert conn.call("EXISTS", "q") == 0


def test_watch_and_keyspace_events(server, conn):
    other, sub = server.connect(), server.connect()
    conn.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
    sub.send("SUBSCRIBE", "__keyevent@0__:set", "__keyevent@0__:lpush")
    sub.replies()
    other.call("WATCH", "k")
    other.call("MULTI")
    other.call("SET", "x", "1")
    conn.call("EVAL", "redis.call('set', 'k', 'v') redis.call('lpush', 'l', 'a')", "0")
    assert other.call("EXEC") is None  # the script touched a watched key
    server.advance(0)
    assert sub.replies() == [
        [b"message", b"__keyevent@0__:set", b"k"],
        [b"message", b"__keyevent@0__:lpush", b"l"],
    ]


def test_replica_holds_the_master_stream_while_busy(rig):  # noqa: F811
    """processInputBuffer: the master's commands read during a busy script are not run (they
    would get -BUSY) nor counted; the turn after the script they are."""
    srv, net = rig
    st = srv.state
    become_replica(srv, net)
    st.config.set("busy-reply-threshold", "100")
    ticking(srv)
    link = st.repl.link
    off = link._reploff
    caller, other = srv.connect(), srv.connect()
    stream = encode_request("SET", "during", "1") + encode_request("INCR", "n")
    steps = Steps(lambda: link.proto.dataReceived(stream), feed(other, "GET", "during"), feed(other, "SCRIPT", "KILL"))
    st.events_while_blocked = steps
    caller.proto.dataReceived(encode_request("EVAL", "while true do end", "0"))
    st.events_while_blocked = None
    assert str(caller.replies()[0]).startswith("ERR Script killed by user with SCRIPT KILL...")
    assert [str(r) if isinstance(r, ReplyError) else r for r in other.replies()] == [
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
        b"OK",
    ]
    assert link._reploff == off  # read, not processed
    assert st.dbs[0].data.get(b"during") is None
    srv.advance(0)  # the next turn
    assert other.call("MGET", "during", "n") == [b"1", b"1"]
    assert link._reploff == off + len(stream)
    # a later read goes straight through again
    net.feed(encode_request("INCR", "n"))
    assert other.call("GET", "n") == b"2"
