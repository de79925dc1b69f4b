"""MULTI/EXEC on the FakeServer: propagation (one MULTI..EXEC, a lone op unwrapped, reads
nothing), blocked clients served after the whole transaction, MONITOR and commandstats,
CLIENT LIST fields, cleanup on disconnect and RESET. Replies and errors are compared with
redis-server in tests/compat/test_transactions.py."""

from __future__ import annotations

import pytest

from tests.unit.harness import ReplyError
from twistd_redis.client import CLIENT_DENY_BLOCKING, CLIENT_DIRTY_CAS, CLIENT_DIRTY_EXEC, CLIENT_MULTI


@pytest.fixture
def prop(server):
    out: list[tuple[int, list[bytes]]] = []
    server.state.propagation_targets.append(lambda dbid, argv: out.append((dbid, list(argv))))
    return out


def fields(line: bytes) -> dict[bytes, bytes]:
    return dict(kv.split(b"=", 1) for kv in line.strip().split(b" "))


def run(conn, *cmds):
    conn.call("MULTI")
    for cmd in cmds:
        assert conn.call(*cmd) == b"QUEUED"
    return conn.call("EXEC")


def test_queued_commands_run_only_at_exec(server, conn):
    other = server.connect()
    conn.call("MULTI")
    assert conn.call("SET", "k", "1") == b"QUEUED"
    assert other.call("GET", "k") is None
    assert conn.call("EXEC") == [b"OK"]
    assert other.call("GET", "k") == b"1"


def test_propagation_wrapped_once(conn, prop):
    assert run(conn, ("SET", "a", "1"), ("INCR", "a"), ("GET", "a")) == [b"OK", 2, b"2"]
    assert prop == [(0, [b"MULTI"]), (0, [b"SET", b"a", b"1"]), (0, [b"INCR", b"a"]), (0, [b"EXEC"])]


def test_single_write_is_not_wrapped_and_reads_propagate_nothing(conn, prop):
    run(conn, ("GET", "a"), ("SET", "a", "1"), ("GET", "a"))
    assert prop == [(0, [b"SET", b"a", b"1"])]
    prop.clear()
    run(conn, ("GET", "a"), ("EXISTS", "a"))
    assert prop == []


def test_select_inside_keeps_each_ops_db(conn, prop):
    run(conn, ("SET", "a", "1"), ("SELECT", "3"), ("SET", "b", "2"))
    # MULTI takes the first op's db and EXEC the last's, as propagatePendingCommands
    assert prop == [(0, [b"MULTI"]), (0, [b"SET", b"a", b"1"]), (3, [b"SET", b"b", b"2"]), (3, [b"EXEC"])]
    assert conn.client.db.id == 3


def test_rewritten_multi_op_commands_are_not_double_wrapped(conn, prop):
    conn.call("SADD", "s", "a", "b", "c")
    prop.clear()
    run(conn, ("SPOP", "s", "2"), ("SET", "x", "1"))
    argvs = [a for _, a in prop]
    assert argvs[0] == [b"MULTI"] and argvs[-1] == [b"EXEC"]
    assert argvs.count([b"MULTI"]) == 1 and argvs.count([b"EXEC"]) == 1
    assert [a[0] for a in argvs[1:-1]] == [b"SREM", b"SREM", b"SET"]


def test_lazy_expire_inside_exec_propagates_inside_the_transaction(server, conn, prop):
    conn.call("SET", "k", "v", "PX", "10")
    conn.call("SET", "j", "v")
    server.advance(0.05)
    prop.clear()
    assert run(conn, ("GET", "k"), ("DEL", "j")) == [None, 1]
    assert prop == [(0, [b"MULTI"]), (0, [b"DEL", b"k"]), (0, [b"DEL", b"j"]), (0, [b"EXEC"])]


def test_aborted_and_watch_failed_transactions_propagate_nothing(server, conn, prop):
    conn.call("MULTI")
    conn.call("SET", "a", "1")
    assert isinstance(conn.call("NOSUCH"), ReplyError)
    assert str(conn.call("EXEC")).startswith("EXECABORT")
    conn.call("WATCH", "a")
    server.connect().call("SET", "a", "2")
    prop.clear()
    assert run(conn, ("SET", "a", "3")) is None
    assert prop == []
    assert not conn.client.flags & (CLIENT_MULTI | CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC)


def test_blocked_client_served_after_the_whole_transaction(server, conn, prop):
    waiter = server.connect()
    waiter.send("BLPOP", "l", "0")
    assert waiter.replies() == []
    assert run(conn, ("RPUSH", "l", "a", "b"), ("LPOP", "l")) == [2, b"a"]
    assert waiter.replies() == [[b"l", b"b"]]
    assert [a for _, a in prop] == [
        [b"MULTI"], [b"RPUSH", b"l", b"a", b"b"], [b"LPOP", b"l"], [b"EXEC"], [b"LPOP", b"l"],
    ]  # fmt: skip


def test_transaction_that_leaves_the_list_empty_serves_nobody(server, conn):
    waiter = server.connect()
    waiter.send("BLPOP", "l", "0")
    assert run(conn, ("RPUSH", "l", "a"), ("LPOP", "l")) == [1, b"a"]
    assert waiter.replies() == []
    assert waiter.client.waiting is not None
    conn.call("RPUSH", "l", "z")
    assert waiter.replies() == [[b"l", b"z"]]


def test_blocking_commands_answer_at_once_and_deny_flag_is_restored(conn):
    assert run(conn, ("BLPOP", "l", "0"), ("BZPOPMIN", "z", "0")) == [None, None]
    assert not conn.client.flags & CLIENT_DENY_BLOCKING
    assert conn.client.waiting is None


def test_monitor_sees_multi_inner_commands_then_exec(server, conn):
    mon = server.connect()
    assert mon.call("MONITOR") == b"OK"
    mon.transport.clear()
    run(conn, ("SET", "a", "1"), ("GET", "a"))
    lines = [ln.split(b"] ", 1)[1] for ln in mon.transport.value().split(b"\r\n") if ln]
    assert lines == [b'"MULTI"', b'"SET" "a" "1"', b'"GET" "a"', b'"EXEC"']


def test_commandstats_count_inner_commands_and_exec(server, conn):
    run(conn, ("SET", "a", "1"), ("SET", "b", "1"))
    info = conn.call("INFO", "commandstats").decode()
    assert "cmdstat_set:calls=2," in info
    assert "cmdstat_exec:calls=1," in info
    assert "cmdstat_multi:calls=1," in info


def test_rejected_exec_is_execabort_and_ends_the_transaction(conn):
    conn.call("MULTI")
    conn.call("SET", "a", "1")
    r = conn.call("EXEC", "extra")
    assert str(r) == "EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command"
    assert not conn.client.flags & CLIENT_MULTI
    assert conn.call("GET", "a") is None


def test_client_list_fields(server, conn):
    conn.call("WATCH", "a", "b", "a")
    conn.call("MULTI")
    conn.call("SET", "a", "1")
    conn.call("GET", "a")
    f = fields(server.connect().call("CLIENT", "LIST", "ID", conn.client.id))
    assert f[b"multi"] == b"2" and f[b"watch"] == b"2" and f[b"flags"] == b"x"
    server.connect().call("SET", "b", "x")
    f = fields(server.connect().call("CLIENT", "LIST", "ID", conn.client.id))
    assert f[b"flags"] == b"xd"
    assert conn.call("EXEC") is None
    f = fields(server.connect().call("CLIENT", "LIST", "ID", conn.client.id))
    assert f[b"multi"] == b"-1" and f[b"watch"] == b"0" and f[b"flags"] == b"N"


def test_disconnect_and_reset_forget_watches_and_queue(server):
    st = server.state
    a, b = server.connect(), server.connect()
    a.call("WATCH", "k", "j")
    b.call("WATCH", "k")
    a.call("MULTI")
    a.call("SET", "k", "1")
    assert set(st.watched_keys) == {(0, b"k"), (0, b"j")}
    a.close()
    assert st.watched_keys == {(0, b"k"): [b.client]}
    assert a.client.multi_queue is None and not a.client.flags & CLIENT_MULTI
    b.call("MULTI")
    assert b.raw(b"RESET\r\n") == b"+RESET\r\n"
    assert st.watched_keys == {} and b.client.multi_queue is None and not b.client.flags & CLIENT_MULTI
    assert st.dbs[0].peek(b"k") is None  # the queued SET never ran


def test_exec_unwatches_even_on_success(server, conn):
    conn.call("WATCH", "k")
    assert run(conn, ("SET", "k", "1")) == [b"OK"]
    assert server.state.watched_keys == {} and conn.client.watched_keys is None


def test_watched_key_expiring_dooms_exec_without_any_write(server, conn):
    conn.call("SET", "k", "v", "PX", "100")
    conn.call("WATCH", "k")
    server.advance(0.2)  # the key is logically expired; nobody touched it
    assert run(conn, ("GET", "k")) is None


def test_key_expired_before_watch_then_deleted_is_no_change(server, conn):
    conn.call("SET", "k", "v", "PX", "100")
    server.advance(0.2)
    conn.call("WATCH", "k")
    assert server.connect().call("GET", "k") is None  # lazy expiry deletes it
    assert run(conn, ("GET", "k")) == [None]
