"""Blocking list commands on the FakeServer (task.Clock, several connections): arrival order,
timeouts, CLIENT UNBLOCK, disconnects, pipelining behind a wait, propagation, INFO/CLIENT LIST,
wrong types, SWAPDB. Behaviour checked against redis-server 7.0.15 (see tests/compat for the
non-blocking paths)."""

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


def info_field(conn, section: str, name: str) -> str:
    text = conn.call("INFO", section).decode()
    for line in text.split("\r\n"):
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    raise AssertionError(f"{name} not in INFO {section}")


# ---------------------------------------------------------------- serving


def test_blpop_served_by_push(server, prop):
    p, w = server.connect(), server.connect()
    block(w, "BLPOP", "q", "0")
    assert p.call("RPUSH", "q", "a", "b") == 2
    assert reply(w) == [b"q", b"a"]
    assert not blocked(w)
    assert p.call("LRANGE", "q", 0, -1) == [b"b"]
    assert prop == [(0, [b"RPUSH", b"q", b"a", b"b"]), (0, [b"LPOP", b"q"])]
    assert server.state.blocking_keys == {}


def test_arrival_order_one_push_serves_many(server):
    p = server.connect()
    ws = [server.connect() for _ in range(3)]
    for w in ws:
        block(w, "BLPOP", "q", "0")
    p.call("LPUSH", "q", "a", "b", "c")  # the list is c b a
    assert [reply(w) for w in ws] == [[b"q", b"c"], [b"q", b"b"], [b"q", b"a"]]
    assert p.call("EXISTS", "q") == 0


def test_arrival_order_fewer_elements_than_waiters(server):
    p = server.connect()
    ws = [server.connect() for _ in range(3)]
    for w in ws:
        block(w, "BRPOP", "q", "0")
    p.call("RPUSH", "q", "a", "b")
    assert reply(ws[0]) == [b"q", b"b"]
    assert reply(ws[1]) == [b"q", b"a"]
    assert ws[2].replies() == [] and blocked(ws[2])
    p.call("RPUSH", "q", "c")
    assert reply(ws[2]) == [b"q", b"c"]


def test_several_keys_and_duplicates(server):
    p, w = server.connect(), server.connect()
    block(w, "BLPOP", "a", "b", "a", "0")
    assert set(server.state.blocking_keys) == {(0, b"a"), (0, b"b")}
    p.call("RPUSH", "b", "x")
    assert reply(w) == [b"b", b"x"]
    assert server.state.blocking_keys == {}


def test_brpop_blmpop_blmove_brpoplpush_served(server, prop):
    p = server.connect()
    a, b, c, d = (server.connect() for _ in range(4))
    block(a, "BRPOP", "k1", "0")
    block(b, "BLMPOP", "0", "2", "nokey", "k2", "RIGHT", "COUNT", "5")
    block(c, "BLMOVE", "k3", "dst", "RIGHT", "LEFT", "0")
    block(d, "BRPOPLPUSH", "k4", "dst", "0")
    p.call("RPUSH", "k1", "1", "2")
    p.call("RPUSH", "k2", "1", "2", "3")
    p.call("RPUSH", "k3", "x", "y")
    p.call("RPUSH", "k4", "z")
    assert reply(a) == [b"k1", b"2"]
    assert reply(b) == [b"k2", [b"3", b"2", b"1"]]
    assert reply(c) == b"y"
    assert reply(d) == b"z"
    assert p.call("LRANGE", "dst", 0, -1) == [b"z", b"y"]
    assert [argv for _, argv in prop] == [
        [b"RPUSH", b"k1", b"1", b"2"],
        [b"RPOP", b"k1"],
        [b"RPUSH", b"k2", b"1", b"2", b"3"],
        [b"RPOP", b"k2", b"3"],
        [b"RPUSH", b"k3", b"x", b"y"],
        [b"LMOVE", b"k3", b"dst", b"right", b"left"],  # served: Redis's shared lower-case words
        [b"RPUSH", b"k4", b"z"],
        [b"RPOPLPUSH", b"k4", b"dst"],
    ]


def test_served_dirty_as_redis(server):
    """serveClientBlockedOnList bumps dirty only for BLMPOP (listElementsRemoved); the push
    that woke BLPOP/BLMOVE counted already (checked on redis-server 7.0.15)."""
    p, w = server.connect(), server.connect()
    st = server.state
    block(w, "BLPOP", "k", "0")
    d0 = st.dirty
    p.call("LPUSH", "k", "a")
    assert st.dirty - d0 == 1
    reply(w)
    block(w, "BLMPOP", "0", "1", "k", "LEFT", "COUNT", "5")
    d0 = st.dirty
    p.call("RPUSH", "k", "a", "b")
    assert st.dirty - d0 == 4
    assert reply(w) == [b"k", [b"a", b"b"]]


def test_served_events(server, events):
    p, w = server.connect(), server.connect()
    block(w, "BLPOP", "k", "0")
    p.call("RPUSH", "k", "a")
    assert events == [(b"rpush", b"k", 0), (b"lpop", b"k", 0), (b"del", b"k", 0)]
    events.clear()
    block(w, "BLMOVE", "k", "d", "LEFT", "RIGHT", "0")
    p.call("RPUSH", "k", "a")
    assert events == [(b"rpush", b"k", 0), (b"rpush", b"d", 0), (b"lpop", b"k", 0), (b"del", b"k", 0)]


def test_served_resp3_shapes(server):
    p, w = server.connect(), server.connect()
    w.hello3()
    block(w, "BLPOP", "k", "0")
    w.transport.clear()
    p.call("RPUSH", "k", "a")
    assert w.transport.value() == b"*2\r\n$1\r\nk\r\n$1\r\na\r\n"
    w.transport.clear()
    w.send("BLMPOP", "0", "1", "k", "LEFT")
    p.call("RPUSH", "k", "b")
    assert w.transport.value() == b"*2\r\n$1\r\nk\r\n*1\r\n$1\r\nb\r\n"


def test_blmove_chain_serves_destination_waiters(server, prop):
    p, mover, popper = server.connect(), server.connect(), server.connect()
    block(mover, "BLMOVE", "a", "b", "LEFT", "RIGHT", "0")
    block(popper, "BLPOP", "b", "0")
    p.call("RPUSH", "a", "x")
    assert reply(mover) == b"x"
    assert reply(popper) == [b"b", b"x"]
    assert p.call("EXISTS", "a", "b") == 0
    assert [argv for _, argv in prop] == [
        [b"RPUSH", b"a", b"x"],
        [b"LMOVE", b"a", b"b", b"left", b"right"],
        [b"LPOP", b"b"],
    ]


def test_blmove_same_source_and_destination(server):
    p, mover, popper = server.connect(), server.connect(), server.connect()
    block(mover, "BLMOVE", "z", "z", "RIGHT", "LEFT", "0")
    block(popper, "BLPOP", "z", "0")
    p.call("RPUSH", "z", "1")
    assert reply(mover) == b"1"
    assert reply(popper) == [b"z", b"1"]  # as redis-server: the rotation kept the element
    assert p.call("EXISTS", "z") == 0


def test_blmove_wrongtype_destination(server, prop):
    p, w = server.connect(), server.connect()
    p.call("SET", "s", "v")
    prop.clear()
    block(w, "BLMOVE", "k", "s", "LEFT", "LEFT", "0")
    errors0 = server.state.stats.total_error_replies
    p.call("RPUSH", "k", "a")
    r = reply(w)
    assert isinstance(r, ReplyError) and str(r) == WRONGTYPE
    assert p.call("LRANGE", "k", 0, -1) == [b"a"]  # nothing moved
    assert p.call("GET", "s") == b"v"
    assert server.state.stats.total_error_replies == errors0 + 1
    assert [argv for _, argv in prop] == [[b"RPUSH", b"k", b"a"]]


def test_wrong_type_key_keeps_client_blocked(server):
    p, w = server.connect(), server.connect()
    block(w, "BLPOP", "k", "0")
    p.call("SET", "k", "v")
    assert w.replies() == [] and blocked(w)
    p.call("DEL", "k")
    p.call("RPUSH", "k", "x")
    assert reply(w) == [b"k", b"x"]


def test_emptied_key_stops_serving(server):
    """The first waiter empties the list (and it is deleted): the next one keeps waiting."""
    p, a, b = server.connect(), server.connect(), server.connect()
    block(a, "BLMPOP", "0", "1", "k", "LEFT", "COUNT", "10")
    block(b, "BLPOP", "k", "0")
    p.call("RPUSH", "k", "1", "2")
    assert reply(a) == [b"k", [b"1", b"2"]]
    assert b.replies() == [] and blocked(b)


def test_blocked_in_its_own_db(server):
    p, w = server.connect(), server.connect()
    w.call("SELECT", "1")
    block(w, "BLPOP", "k", "0")
    p.call("RPUSH", "k", "in-db0")
    assert w.replies() == []
    p.call("SELECT", "1")
    p.call("RPUSH", "k", "in-db1")
    assert reply(w) == [b"k", b"in-db1"]


def test_swapdb_serves_waiters(server, prop):
    p, w = server.connect(), server.connect()
    block(w, "BLPOP", "k", "0")
    p.call("SELECT", "1")
    p.call("RPUSH", "k", "x", "y")
    assert w.replies() == []
    p.call("SWAPDB", "0", "1")
    assert reply(w) == [b"k", b"x"]
    assert p.call("LRANGE", "k", 0, -1) == []  # db1 now holds the old (empty) db0
    p.call("SELECT", "0")
    assert p.call("LRANGE", "k", 0, -1) == [b"y"]
    assert prop[-1] == (0, [b"LPOP", b"k"])


# ---------------------------------------------------------------- not blocking


def test_data_present_propagates_as_the_plain_pop(server, prop):
    c = server.connect()
    c.call("RPUSH", "k", "a", "b", "c", "d", "e")
    prop.clear()
    assert c.call("BLPOP", "nokey", "k", "0") == [b"k", b"a"]
    assert c.call("BRPOP", "k", "0") == [b"k", b"e"]
    assert c.call("BLMPOP", "0", "1", "k", "LEFT", "COUNT", "9") == [b"k", [b"b", b"c", b"d"]]
    c.call("RPUSH", "k", "1", "2")
    prop.clear()
    assert c.call("BLMOVE", "k", "d", "left", "Right", "0") == b"1"
    assert c.call("BRPOPLPUSH", "k", "d", "0") == b"2"
    assert [argv for _, argv in prop] == [
        [b"LMOVE", b"k", b"d", b"left", b"Right"],
        [b"RPOPLPUSH", b"k", b"d"],
    ]
    assert c.call("EXISTS", "k") == 0


def test_non_blocking_wrongtype_order(server):
    c = server.connect()
    c.call("SET", "s", "v")
    c.call("RPUSH", "l", "x")
    assert str(c.call("BLPOP", "nokey", "s", "l", "0")) == WRONGTYPE
    assert c.call("BLPOP", "l", "s", "0") == [b"l", b"x"]
    assert str(c.call("BLMOVE", "s", "d", "LEFT", "LEFT", "0")) == WRONGTYPE
    c.call("RPUSH", "l", "x")
    assert str(c.call("BLMOVE", "l", "s", "LEFT", "LEFT", "0")) == WRONGTYPE


def test_deny_blocking_answers_at_once(server):
    """Inside MULTI or a script (CLIENT_DENY_BLOCKING) the timeout reply comes at once:
    a null array, but a null bulk for BLMOVE/BRPOPLPUSH (addReplyNull in blmoveGenericCommand)."""
    c = server.connect()
    c.client.flags |= CLIENT_DENY_BLOCKING
    assert c.raw(b"BLPOP k 0\r\n") == b"*-1\r\n"
    assert c.raw(b"BRPOP k 0\r\n") == b"*-1\r\n"
    assert c.raw(b"BLMPOP 0 1 k LEFT\r\n") == b"*-1\r\n"
    assert c.raw(b"BLMOVE k d LEFT LEFT 0\r\n") == b"$-1\r\n"
    assert c.raw(b"BRPOPLPUSH k d 0\r\n") == b"$-1\r\n"
    assert server.state.blocking_keys == {} and server.state.blocked_clients_count == 0


# ---------------------------------------------------------------- timeouts


def test_timeout_with_decimals(server):
    w = server.connect()
    block(w, "BLPOP", "k", "0.5")
    server.advance(0.49)
    assert w.replies() == []
    server.advance(0.011)
    assert w.transport.value() == b"*-1\r\n"
    assert not blocked(w)
    assert server.state.blocking_keys == {}
    assert w.call("PING") == b"PONG"


@pytest.mark.parametrize(
    "cmd",
    [
        ("BRPOP", "a", "b", "0.25"),
        ("BLMPOP", "0.25", "1", "k", "LEFT"),
        ("BLMOVE", "k", "d", "LEFT", "LEFT", "0.25"),
        ("BRPOPLPUSH", "k", "d", "0.25"),
    ],
)
def test_timeout_replies_null_array(server, cmd):
    """Redis 7.0 replies a null array on every list timeout, BLMOVE/BRPOPLPUSH included."""
    w = server.connect()
    block(w, *cmd)
    server.advance(0.25)
    assert w.transport.value() == b"*-1\r\n"
    w.hello3()
    block(w, *cmd)
    w.transport.clear()
    server.advance(0.25)
    assert w.transport.value() == b"_\r\n"


def test_timeout_rounds_up_to_milliseconds(server):
    w = server.connect()
    block(w, "BLPOP", "k", "0.0001")  # ceil to 1 ms
    server.advance(0.0009)
    assert w.replies() == []
    server.advance(0.0002)
    assert w.transport.value() == b"*-1\r\n"


def test_zero_waits_forever(server):
    p, w = server.connect(), server.connect()
    block(w, "BLPOP", "k", "0")
    server.advance(10**7)
    assert w.replies() == [] and blocked(w)
    p.call("RPUSH", "k", "late")
    assert reply(w) == [b"k", b"late"]


def test_served_client_timer_is_cancelled(server):
    p, w = server.connect(), server.connect()
    block(w, "BLPOP", "k", "1")
    timer = w.client.waiting.waiter.timer
    assert timer.active()
    p.call("RPUSH", "k", "a")
    assert reply(w) == [b"k", b"a"]
    assert not timer.active()
    server.advance(2)
    assert w.replies() == []


def test_timeout_errors(server):
    c = server.connect()
    assert str(c.call("BLPOP", "k", "-1")) == "ERR timeout is negative"
    assert str(c.call("BLPOP", "k", "inf")) == "ERR timeout is negative"
    assert str(c.call("BLPOP", "k", "nan")) == "ERR timeout is not a float or out of range"
    assert str(c.call("BLPOP", "k", "x")) == "ERR timeout is not a float or out of range"
    assert str(c.call("BLMPOP", "x", "0", "k", "LEFT")) == "ERR numkeys should be greater than 0"
    assert str(c.call("BLMPOP", "x", "1", "k", "LEFT")) == "ERR timeout is not a float or out of range"
    assert str(c.call("BLMOVE", "a", "b", "UP", "LEFT", "x")) == "ERR syntax error"
    assert str(c.call("BLMOVE", "a", "b", "LEFT", "LEFT", "x")) == "ERR timeout is not a float or out of range"


# ---------------------------------------------------------------- CLIENT UNBLOCK, disconnects


def test_client_unblock_timeout_and_error(server):
    p, w = server.connect(), server.connect()
    block(w, "BLPOP", "k", "0")
    assert p.call("CLIENT", "UNBLOCK", w.client.id) == 1
    assert w.transport.value() == b"*-1\r\n"
    assert p.call("CLIENT", "UNBLOCK", w.client.id) == 0
    w.transport.clear()
    block(w, "BLMOVE", "k", "d", "LEFT", "LEFT", "0")
    assert p.call("CLIENT", "UNBLOCK", w.client.id, "TIMEOUT") == 1
    assert w.transport.value() == b"*-1\r\n"
    w.transport.clear()
    block(w, "BRPOP", "k", "0")
    assert p.call("CLIENT", "UNBLOCK", w.client.id, "ERROR") == 1
    assert w.transport.value() == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    assert server.state.blocking_keys == {} and server.state.blocked_clients_count == 0
    p.call("RPUSH", "k", "kept")
    assert p.call("LRANGE", "k", 0, -1) == [b"kept"]


def test_disconnect_while_blocked_loses_nothing(server, prop):
    p, w, w2 = server.connect(), server.connect(), server.connect()
    block(w, "BLPOP", "k", "0")
    block(w2, "BLMOVE", "k", "d", "LEFT", "LEFT", "5")
    w.close()
    w2.close()
    assert server.state.blocking_keys == {}
    assert server.state.blocked_clients_count == 0
    p.call("RPUSH", "k", "v")
    assert p.call("LRANGE", "k", 0, -1) == [b"v"]
    assert p.call("EXISTS", "d") == 0
    assert [argv for _, argv in prop] == [[b"RPUSH", b"k", b"v"]]
    server.advance(10)  # the cancelled timer does not fire


def test_disconnected_waiter_is_skipped_in_order(server):
    p, a, b = server.connect(), server.connect(), server.connect()
    block(a, "BLPOP", "k", "0")
    block(b, "BLPOP", "k", "0")
    a.close()
    p.call("RPUSH", "k", "x")
    assert reply(b) == [b"k", b"x"]


def test_pipelined_commands_wait_behind_the_block(server):
    p, w = server.connect(), server.connect()
    w.transport.clear()
    w.proto.dataReceived(b"BLPOP k 0\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n")
    assert w.transport.value() == b""
    w.proto.dataReceived(b"RPUSH k mine\r\n")  # arrives while blocked: stays unparsed
    assert w.transport.value() == b""
    p.call("RPUSH", "k", "a")
    assert w.replies() == [[b"k", b"a"], b"PONG", b"hi", 1]
    assert p.call("LRANGE", "k", 0, -1) == [b"mine"]


def test_pipelined_blocking_command_after_served_one(server):
    p, w = server.connect(), server.connect()
    w.transport.clear()
    w.proto.dataReceived(b"BLPOP k 0\r\nBLPOP k 0\r\nPING\r\n")
    p.call("RPUSH", "k", "a")
    assert w.replies() == [[b"k", b"a"]]
    assert blocked(w)
    p.call("RPUSH", "k", "b")
    assert w.replies() == [[b"k", b"b"], b"PONG"]


# ---------------------------------------------------------------- introspection


def test_info_blocked_clients_and_client_list(server):
    p = server.connect()
    ws = [server.connect() for _ in range(2)]
    assert info_field(p, "clients", "blocked_clients") == "0"
    block(ws[0], "BLPOP", "a", "0")
    block(ws[1], "BLMOVE", "b", "c", "LEFT", "LEFT", "0")
    assert info_field(p, "clients", "blocked_clients") == "2"
    lines = p.call("CLIENT", "LIST").decode().splitlines()
    flags = {int(ln.split()[0][3:]): ln.split(" flags=")[1].split()[0] for ln in lines}
    assert flags[ws[0].client.id] == "b" and flags[ws[1].client.id] == "b"
    assert flags[p.client.id] == "N"
    assert " cmd=blpop " in next(ln for ln in lines if ln.startswith(f"id={ws[0].client.id} "))
    p.call("RPUSH", "a", "x")
    reply(ws[0])
    assert info_field(p, "clients", "blocked_clients") == "1"
    ws[1].close()
    assert info_field(p, "clients", "blocked_clients") == "0"
