"""The EXPIRE family, TTL family, PERSIST, lazy and active expiry. Replies, texts and boundary
behaviour were checked against redis-server 7.0.15."""

import pytest

from tests.unit.harness import START_TIME, ReplyError

NOW_MS = int(START_TIME * 1000)


@pytest.fixture
def props(server):
    out = []
    server.state.propagation_targets.append(lambda dbid, argv: out.append(list(argv)))
    return out


def err(reply):
    assert isinstance(reply, ReplyError), reply
    return str(reply)


def now_ms(server):
    return int(server.clock.seconds() * 1000)


# ------------------------------------------------------------------ setting TTLs


def test_expire_family_sets_absolute_time(server, conn):
    conn.call("MSET", "a", "1", "b", "1", "c", "1", "d", "1")
    t = now_ms(server)
    assert conn.call("EXPIRE", "a", "100") == 1
    assert conn.call("PEXPIRE", "b", "1500") == 1
    assert conn.call("EXPIREAT", "c", str(t // 1000 + 50)) == 1
    assert conn.call("PEXPIREAT", "d", str(t + 7777)) == 1
    assert conn.call("PEXPIRETIME", "a") == t + 100_000
    assert conn.call("PEXPIRETIME", "b") == t + 1500
    assert conn.call("EXPIRETIME", "c") == t // 1000 + 50
    assert conn.call("PEXPIRETIME", "d") == t + 7777
    assert conn.call("EXPIRETIME", "d") == (t + 7777 + 500) // 1000
    assert conn.call("EXPIRE", "nokey", "10") == 0


def test_ttl_rounding(server, conn):
    conn.call("SET", "k", "v")
    conn.call("PEXPIRE", "k", "1500")
    assert conn.call("TTL", "k") == 2  # (1500 + 500) / 1000
    conn.call("PEXPIRE", "k", "1499")
    assert conn.call("TTL", "k") == 1
    assert conn.call("PTTL", "k") == 1499
    server.advance(1.2)
    assert conn.call("PTTL", "k") == 299
    assert conn.call("TTL", "k") == 0


def test_ttl_missing_and_persistent(conn):
    conn.call("SET", "k", "v")
    for cmd in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
        assert conn.call(cmd, "nokey") == -2
        assert conn.call(cmd, "k") == -1
    conn.hello3()
    assert conn.raw(b"TTL nokey\r\n") == b":-2\r\n"


def test_persist(server, conn, events):
    conn.call("SET", "k", "v")
    assert conn.call("PERSIST", "k") == 0
    conn.call("EXPIRE", "k", "10")
    assert conn.call("PERSIST", "k") == 1
    assert conn.call("TTL", "k") == -1
    assert conn.call("PERSIST", "nokey") == 0
    assert [e for e in events if e[0] in (b"expire", b"persist")] == [(b"expire", b"k", 0), (b"persist", b"k", 0)]


def test_nx_xx_gt_lt(conn):
    conn.call("SET", "k", "v")
    assert conn.call("EXPIRE", "k", "10", "GT") == 0  # no TTL counts as infinite
    assert conn.call("EXPIRE", "k", "10", "XX") == 0
    assert conn.call("EXPIRE", "k", "10", "LT") == 1
    assert conn.call("TTL", "k") == 10
    assert conn.call("EXPIRE", "k", "5", "GT") == 0
    assert conn.call("EXPIRE", "k", "20", "gt") == 1
    assert conn.call("EXPIRE", "k", "30", "nx") == 0
    assert conn.call("EXPIRE", "k", "30", "xx") == 1
    assert conn.call("EXPIRE", "k", "30", "LT") == 0  # equal is not less
    assert conn.call("EXPIRE", "k", "1", "XX", "GT") == 0
    assert conn.call("EXPIRE", "k", "40", "XX", "GT") == 1
    assert conn.call("EXPIRE", "k", "10", "NX", "nx") == 0
    assert conn.call("PERSIST", "k") == 1
    assert conn.call("EXPIRE", "k", "10", "NX") == 1


@pytest.mark.parametrize(
    "args,text",
    [
        (("10", "nx", "xx"), "ERR NX and XX, GT or LT options at the same time are not compatible"),
        (("10", "nx", "gt"), "ERR NX and XX, GT or LT options at the same time are not compatible"),
        (("10", "lt", "nx"), "ERR NX and XX, GT or LT options at the same time are not compatible"),
        (("10", "gt", "lt"), "ERR GT and LT options at the same time are not compatible"),
        (("10", "foo"), "ERR Unsupported option foo"),
        (("x", "foo"), "ERR Unsupported option foo"),  # options are parsed before the number
        (("x", "nx", "xx"), "ERR NX and XX, GT or LT options at the same time are not compatible"),
        (("x",), "ERR value is not an integer or out of range"),
        (("1.5",), "ERR value is not an integer or out of range"),
        (("9223372036854775",), "ERR invalid expire time in 'expire' command"),
        (("9223372036854776",), "ERR invalid expire time in 'expire' command"),
        (("-9223372036854776",), "ERR invalid expire time in 'expire' command"),
    ],
)
def test_expire_errors(conn, args, text):
    conn.call("SET", "k", "v")
    assert err(conn.call("EXPIRE", "k", *args)) == text
    assert conn.call("TTL", "k") == -1


def test_overflow_errors_other_commands(conn):
    conn.call("SET", "k", "v")
    assert err(conn.call("PEXPIRE", "k", "9223372036854775807")) == "ERR invalid expire time in 'pexpire' command"
    assert err(conn.call("EXPIREAT", "k", "9223372036854776")) == "ERR invalid expire time in 'expireat' command"
    # missing keys still get the overflow error: it is checked first
    assert err(conn.call("EXPIRE", "nokey", "9223372036854776")) == "ERR invalid expire time in 'expire' command"
    assert conn.call("PEXPIREAT", "k", "9223372036854775807") == 1
    assert conn.call("PEXPIRETIME", "k") == 9223372036854775807
    assert conn.call("EXPIRETIME", "k") == 9223372036854776


# ------------------------------------------------------------------ propagation and events


def test_relative_expiry_propagates_as_pexpireat(server, conn, props, events):
    conn.call("SET", "k", "v")
    t = now_ms(server)
    conn.call("EXPIRE", "k", "100")
    conn.call("PEXPIRE", "k", "2000", "XX")
    conn.call("EXPIREAT", "k", str(t // 1000 + 60))
    conn.call("PEXPIREAT", "k", str(t + 5000), "lt")
    assert props[1:] == [
        [b"PEXPIREAT", b"k", b"%d" % (t + 100_000)],
        [b"PEXPIREAT", b"k", b"%d" % (t + 2000), b"XX"],
        [b"PEXPIREAT", b"k", b"%d" % ((t // 1000 + 60) * 1000)],
        [b"PEXPIREAT", b"k", b"%d" % (t + 5000), b"lt"],
    ]
    assert [e for e in events if e[0] == b"expire"] == [(b"expire", b"k", 0)] * 4
    # a refused option changes nothing and propagates nothing
    n = len(props)
    assert conn.call("EXPIRE", "k", "1", "GT") == 0
    assert len(props) == n


@pytest.mark.parametrize(
    "cmd,arg",
    [("EXPIRE", "-1"), ("PEXPIRE", "0"), ("EXPIREAT", "1"), ("PEXPIREAT", str(NOW_MS - 1))],
)
def test_time_in_the_past_deletes_as_del(server, conn, props, events, cmd, arg):
    conn.call("SET", "k", "v")
    expired_before = server.state.stats.expired_keys
    assert conn.call(cmd, "k", arg) == 1
    assert conn.call("EXISTS", "k") == 0
    assert props[-1] == [b"DEL", b"k"]
    assert events[-1] == (b"del", b"k", 0)
    assert server.state.stats.expired_keys == expired_before  # a deletion, not an expiry


def test_time_in_the_past_with_lazyfree_propagates_unlink(server, conn, props):
    server.state.config.set("lazyfree-lazy-expire", "yes")
    conn.call("SET", "k", "v")
    assert conn.call("EXPIRE", "k", "-5") == 1
    assert props[-1] == [b"UNLINK", b"k"]


def test_replica_keeps_key_with_past_expiry(server, conn):
    conn.call("SET", "k", "v")
    st = server.state
    st.config.set("replica-read-only", "no")  # a writable replica: the write itself is local
    st.repl.masterhost = "127.0.0.1"  # replicating someone (no link needed for this rule)
    st.update_gates()
    try:
        assert conn.call("PEXPIREAT", "k", "1") == 1
        assert conn.call("DBSIZE") == 1  # not deleted: the master's DEL will come
        assert conn.call("PEXPIRETIME", "k") == -2  # logically expired for readers
    finally:
        st.repl.masterhost = None
        st.update_gates()


# ------------------------------------------------------------------ lazy and active expiry


def test_lazy_expiry_on_access(server, conn, events, props):
    server.state.active_expire_enabled = False
    conn.call("SET", "k", "v")
    conn.call("PEXPIRE", "k", "100")
    n0 = server.state.stats.expired_keys
    server.advance(0.1)
    # Redis's keyIsExpired: expired only once now > when; at exactly `when` it still lives
    assert conn.call("PTTL", "k") == 0
    assert conn.call("EXISTS", "k") == 1
    server.advance(0.002)  # (float clock: 0.001 can round back onto `when`)
    assert conn.call("GET", "k") is None
    assert server.state.stats.expired_keys == n0 + 1
    assert (b"expired", b"k", 0) in events
    assert [b"DEL", b"k"] in props
    assert conn.call("TTL", "k") == -2


def test_active_expiry_reclaims_untouched_keys(server, conn, events):
    conn.call("MSET", *[x for i in range(200) for x in (f"k{i}", "v")])
    for i in range(150):
        conn.call("PEXPIRE", f"k{i}", str(50 + i))
    n0 = server.state.stats.expired_keys
    assert conn.call("DBSIZE") == 200
    for _ in range(30):  # 3 seconds of cron ticks at hz 10
        server.advance(0.1)
    assert conn.call("DBSIZE") == 50
    assert server.state.stats.expired_keys == n0 + 150
    assert sum(1 for e in events if e[0] == b"expired") == 150
    assert all(server.state.dbs[0].data.get(f"k{i}".encode()) for i in range(150, 200))


def test_active_expiry_in_other_dbs(server, conn):
    conn.call("SELECT", "5")
    conn.call("SET", "k", "v")
    conn.call("PEXPIRE", "k", "10")
    for _ in range(5):
        server.advance(0.1)
    assert len(server.state.dbs[5].data) == 0


def test_set_clears_ttl_and_expire_survives_rename(server, conn):
    conn.call("SET", "k", "v")
    conn.call("EXPIRE", "k", "10")
    conn.call("RENAME", "k", "k2")
    assert conn.call("TTL", "k2") == 10
    conn.call("SET", "k2", "w")
    assert conn.call("TTL", "k2") == -1
