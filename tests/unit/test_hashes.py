"""Hash commands and the shared collection scan against Redis 7.0.15's t_hash.c behaviour:
replies (RESP2 and RESP3), error texts, encodings, dirty counts, keyspace events, WATCH and
propagation. Expected values were checked on a real redis-server."""

from __future__ import annotations

import pytest

from tests.unit.harness import FakeServer, ReplyError
from twistd_redis.client import CLIENT_DIRTY_CAS
from twistd_redis.commands import scan_collections
from twistd_redis.commands.scan_collections import format_score, scan_collection
from twistd_redis.commands.table import REGISTRY
from twistd_redis.datatypes import RedisHash, RedisSet

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INT = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"


def err(reply) -> str:
    assert isinstance(reply, ReplyError), f"expected an error, got {reply!r}"
    return str(reply)


def db0(server):
    return server.state.dbs[0]



@pytest.fixture
def ev(server):
    out: list[tuple[str, bytes, bytes]] = []
    server.state.notify_flags = "KEA"
    server.state.keyspace_notifier = lambda t, e, key, dbid: out.append((t, e, key))
    return out


def walk(conn, key, *opts, limit=10000):
    """Full HSCAN walk: (flat elements, number of calls)."""
    out = []
    cursor = b"0"
    for calls in range(1, limit):
        cur, elems = conn.call("HSCAN", key, cursor, *opts)
        out.extend(elems)
        cursor = cur
        if cur == b"0":
            return out, calls
    raise AssertionError("scan did not end")


# ---------------------------------------------------------------- command table


@pytest.mark.parametrize(
    "name,arity,flags",
    [
        ("hset", -4, {"write", "denyoom", "fast"}),
        ("hmset", -4, {"write", "denyoom", "fast"}),
        ("hsetnx", 4, {"write", "denyoom", "fast"}),
        ("hget", 3, {"readonly", "fast"}),
        ("hmget", -3, {"readonly", "fast"}),
        ("hgetall", 2, {"readonly"}),
        ("hkeys", 2, {"readonly"}),
        ("hvals", 2, {"readonly"}),
        ("hdel", -3, {"write", "fast"}),
        ("hlen", 2, {"readonly", "fast"}),
        ("hstrlen", 3, {"readonly", "fast"}),
        ("hexists", 3, {"readonly", "fast"}),
        ("hincrby", 4, {"write", "denyoom", "fast"}),
        ("hincrbyfloat", 4, {"write", "denyoom", "fast"}),
        ("hrandfield", -2, {"readonly"}),
        ("hscan", -3, {"readonly"}),
    ],
)
def test_command_rows_match_redis(name, arity, flags):
    spec = REGISTRY[name]
    assert spec.arity == arity
    assert set(spec.flag_names()) == flags
    assert (spec.first_key, spec.last_key, spec.step) == (1, 1, 1)
    assert spec.group == "hash"


# ---------------------------------------------------------------- writes


def test_hset_counts_new_fields_and_keeps_order(server, conn):
    assert conn.call("HSET", "h", "b", "1", "a", "2") == 2
    assert conn.call("HSET", "h", "b", "3", "c", "4", "c", "5") == 1
    h = db0(server).data[b"h"]
    assert type(h) is RedisHash and not h.ht
    assert list(h.items()) == [(b"b", b"3"), (b"a", b"2"), (b"c", b"5")]
    assert conn.call("HGETALL", "h") == [b"b", b"3", b"a", b"2", b"c", b"5"]
    assert conn.call("TYPE", "h") == b"hash"
    assert conn.call("OBJECT", "ENCODING", "h") == b"listpack"


def test_hset_arity_uses_the_command_name(conn):
    assert err(conn.call("HSET", "h", "a", "1", "b")) == "ERR wrong number of arguments for 'hset' command"
    assert err(conn.call("HMSET", "h", "a", "1", "b")) == "ERR wrong number of arguments for 'hmset' command"
    assert err(conn.call("HSET", "h", "a")) == "ERR wrong number of arguments for 'hset' command"
    assert conn.call("EXISTS", "h") == 0


def test_hmset_replies_ok(conn):
    assert conn.raw(b"HMSET h a 1 b 2\r\n") == b"+OK\r\n"
    assert conn.call("HMGET", "h", "a", "b", "c") == [b"1", b"2", None]


def test_hsetnx(server, conn, ev):
    assert conn.call("HSETNX", "h", "a", "1") == 1
    assert conn.call("HSETNX", "h", "a", "2") == 0
    assert conn.call("HGET", "h", "a") == b"1"
    assert ev == [("h", b"hset", b"h")]


def test_write_dirty_counts(server, conn):
    st = server.state
    d = st.dirty
    conn.call("HSET", "h", "a", "1", "a", "1", "b", "2")
    assert st.dirty == d + 3  # one per pair, changed or not
    conn.call("HSETNX", "h", "a", "1")
    assert st.dirty == d + 3
    conn.call("HSETNX", "h", "z", "1")
    assert st.dirty == d + 4
    conn.call("HDEL", "h", "a", "x", "b")
    assert st.dirty == d + 6
    conn.call("HDEL", "h", "nothing")
    assert st.dirty == d + 6
    conn.call("HINCRBY", "h", "n", "1")
    conn.call("HINCRBYFLOAT", "h", "n", "1.5")
    assert st.dirty == d + 8
    conn.call("HINCRBY", "h", "n", "abc")
    assert st.dirty == d + 8


def test_hdel_deletes_emptied_hash(server, conn, ev):
    conn.call("HSET", "h", "a", "1", "b", "2")
    ev.clear()
    assert conn.call("HDEL", "h", "a", "b", "a") == 2
    assert conn.call("EXISTS", "h") == 0
    assert b"h" not in db0(server).data
    assert ev == [("h", b"hdel", b"h"), ("g", b"del", b"h")]
    assert conn.call("HDEL", "h", "a") == 0
    assert ev == [("h", b"hdel", b"h"), ("g", b"del", b"h")]


def test_hdel_stops_at_emptied_hash(server, conn):
    conn.call("HSET", "h", "a", "1")
    assert conn.call("HDEL", "h", "a", "a", "a") == 1


def test_events_of_every_write(conn, ev):
    conn.call("HSET", "h", "a", "1")
    conn.call("HMSET", "h", "b", "1")
    conn.call("HINCRBY", "h", "n", "2")
    conn.call("HINCRBYFLOAT", "h", "f", "2.5")
    conn.call("HDEL", "h", "a")
    conn.call("HINCRBY", "h", "n", "abc")  # errors fire nothing
    assert ev == [
        ("h", b"hset", b"h"),
        ("h", b"hset", b"h"),
        ("h", b"hincrby", b"h"),
        ("h", b"hincrbyfloat", b"h"),
        ("h", b"hdel", b"h"),
    ]


@pytest.mark.parametrize(
    "cmd",
    [
        ("HSET", "h", "a", "2"),
        ("HMSET", "h", "a", "2"),
        ("HSETNX", "h", "z", "2"),
        ("HDEL", "h", "a"),
        ("HINCRBY", "h", "n", "1"),
        ("HINCRBYFLOAT", "h", "n", "1"),
    ],
)
def test_writes_invalidate_watch(server, conn, cmd):
    conn.call("HSET", "h", "a", "1")
    watcher = server.connect().client
    server.state.watch_key(watcher, b"h")
    conn.call(*cmd)
    assert watcher.flags & CLIENT_DIRTY_CAS
    server.state.watched_keys.clear()


@pytest.mark.parametrize("cmd", [("HSETNX", "h", "a", "2"), ("HDEL", "h", "zz")])
def test_noop_writes_leave_watch_alone(server, conn, cmd):
    conn.call("HSET", "h", "a", "1")
    watcher = server.connect().client
    server.state.watch_key(watcher, b"h")
    conn.call(*cmd)
    assert not watcher.flags & CLIENT_DIRTY_CAS
    server.state.watched_keys.clear()


def test_propagation(conn, seen):
    conn.call("HSET", "h", "a", "1")
    conn.call("HINCRBY", "h", "n", "5")
    assert conn.call("HINCRBYFLOAT", "h", "f", "10.5") == b"10.5"
    assert conn.call("HINCRBYFLOAT", "h", "f", "0.1") == b"10.6"
    conn.call("HDEL", "h", "a")
    assert seen == [
        [b"HSET", b"h", b"a", b"1"],
        [b"HINCRBY", b"h", b"n", b"5"],
        [b"HSET", b"h", b"f", b"10.5"],
        [b"HSET", b"h", b"f", b"10.6"],
        [b"HDEL", b"h", b"a"],
    ]


# ---------------------------------------------------------------- HINCRBY / HINCRBYFLOAT


def test_hincrby(conn):
    assert conn.call("HINCRBY", "h", "f", "5") == 5
    assert conn.call("HINCRBY", "h", "f", "-7") == -2
    assert conn.call("HGET", "h", "f") == b"-2"
    conn.call("HSET", "h", "max", "9223372036854775807", "min", "-9223372036854775808", "s", "abc", "sp", " 1")
    assert err(conn.call("HINCRBY", "h", "max", "1")) == "ERR increment or decrement would overflow"
    assert err(conn.call("HINCRBY", "h", "min", "-1")) == "ERR increment or decrement would overflow"
    assert conn.call("HINCRBY", "h", "max", "-1") == 9223372036854775806
    assert err(conn.call("HINCRBY", "h", "s", "1")) == "ERR hash value is not an integer"
    assert err(conn.call("HINCRBY", "h", "sp", "1")) == "ERR hash value is not an integer"
    assert err(conn.call("HINCRBY", "h", "f", "1.5")) == NOT_INT
    assert err(conn.call("HINCRBY", "nokey", "f", "x")) == NOT_INT
    assert conn.call("EXISTS", "nokey") == 0


def test_hincrbyfloat(conn):
    assert conn.call("HINCRBYFLOAT", "h", "f", "10.5") == b"10.5"
    assert conn.call("HINCRBYFLOAT", "h", "f", "0.1") == b"10.6"
    assert conn.call("HINCRBYFLOAT", "h", "f", "-5.0e3") == b"-4989.39999999999999991"  # as Redis
    assert conn.call("HINCRBYFLOAT", "h", "i", "3") == b"3"
    assert conn.call("HINCRBYFLOAT", "h", "i", "-3") == b"0"
    assert err(conn.call("HINCRBYFLOAT", "h", "f", "inf")) == "ERR value is NaN or Infinity"
    assert err(conn.call("HINCRBYFLOAT", "h", "f", "abc")) == NOT_FLOAT
    conn.call("HSET", "h", "s", "abc", "inf", "inf")
    assert err(conn.call("HINCRBYFLOAT", "h", "s", "1")) == "ERR hash value is not a float"
    assert err(conn.call("HINCRBYFLOAT", "h", "inf", "1")) == "ERR increment would produce NaN or Infinity"
    conn.call("HINCRBYFLOAT", "h", "big", "1e4932")
    assert err(conn.call("HINCRBYFLOAT", "h", "big", "1e4932")) == "ERR increment would produce NaN or Infinity"
    # A RESP3 client gets a bulk string, not a double.
    conn.hello3()
    assert conn.raw(b"HINCRBYFLOAT h i 1.5\r\n") == b"$3\r\n1.5\r\n"


# ---------------------------------------------------------------- reads


def test_reads_on_missing_key(conn):
    assert conn.call("HGET", "n", "f") is None
    assert conn.call("HMGET", "n", "a", "b") == [None, None]
    assert conn.call("HLEN", "n") == 0
    assert conn.call("HSTRLEN", "n", "f") == 0
    assert conn.call("HEXISTS", "n", "f") == 0
    assert conn.call("HKEYS", "n") == []
    assert conn.call("HVALS", "n") == []
    assert conn.call("HGETALL", "n") == []
    assert conn.call("HRANDFIELD", "n") is None
    assert conn.call("HRANDFIELD", "n", "3") == []
    assert conn.call("HSCAN", "n", "0", "COUNT", "abc") == [b"0", []]  # options unread
    assert err(conn.call("HSCAN", "n", "abc")) == "ERR invalid cursor"


def test_resp3_shapes(conn):
    conn.call("HSET", "h", "a", "1", "b", "2")
    conn.hello3()
    assert conn.raw(b"HGETALL h\r\n") == b"%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
    assert conn.raw(b"HGETALL nokey\r\n") == b"%0\r\n"
    assert conn.raw(b"HGET h x\r\n") == b"_\r\n"
    assert conn.raw(b"HMGET h a x\r\n") == b"*2\r\n$1\r\n1\r\n_\r\n"
    assert conn.raw(b"HRANDFIELD nokey\r\n") == b"_\r\n"
    assert conn.raw(b"HRANDFIELD h 5 WITHVALUES\r\n") == (
        b"*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    )
    assert conn.raw(b"HSCAN h 0\r\n") == b"*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"


def test_resp2_shapes(conn):
    conn.call("HSET", "h", "a", "1", "b", "2")
    assert conn.raw(b"HGETALL h\r\n") == b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
    assert conn.raw(b"HRANDFIELD h 5 WITHVALUES\r\n") == b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
    assert conn.raw(b"HGET h x\r\n") == b"$-1\r\n"


def test_hstrlen_hexists_hlen(conn):
    conn.call("HSET", "h", "a", "hello", "n", "-123", "e", "")
    assert conn.call("HSTRLEN", "h", "a") == 5
    assert conn.call("HSTRLEN", "h", "n") == 4
    assert conn.call("HSTRLEN", "h", "e") == 0
    assert conn.call("HEXISTS", "h", "e") == 1
    assert conn.call("HEXISTS", "h", "x") == 0
    assert conn.call("HLEN", "h") == 3


@pytest.mark.parametrize(
    "cmd",
    [
        ("HSET", "s", "f", "v"),
        ("HMSET", "s", "f", "v"),
        ("HSETNX", "s", "f", "v"),
        ("HGET", "s", "f"),
        ("HMGET", "s", "f"),
        ("HGETALL", "s"),
        ("HKEYS", "s"),
        ("HVALS", "s"),
        ("HDEL", "s", "f"),
        ("HLEN", "s"),
        ("HSTRLEN", "s", "f"),
        ("HEXISTS", "s", "f"),
        ("HINCRBY", "s", "f", "1"),
        ("HINCRBYFLOAT", "s", "f", "1"),
        ("HRANDFIELD", "s"),
        ("HRANDFIELD", "s", "0"),
        ("HSCAN", "s", "0"),
    ],
)
def test_wrongtype(conn, cmd):
    conn.call("SET", "s", "v")
    assert err(conn.call(*cmd)) == WRONGTYPE
    assert conn.call("GET", "s") == b"v"


def test_read_stats(server, conn):
    db = db0(server)
    conn.call("HSET", "h", "a", "1")
    h, m = db.hits, db.misses
    conn.call("HGET", "h", "a")
    conn.call("HGET", "nokey", "a")
    assert (db.hits, db.misses) == (h + 1, m + 1)


# ---------------------------------------------------------------- encodings


def test_value_length_converts_before_write():
    server = FakeServer()
    conn = server.connect()
    conn.call("HSET", "h", "f", "v" * 64)
    assert conn.call("OBJECT", "ENCODING", "h") == b"listpack"
    conn.call("HSET", "h", "f", "v" * 65)
    assert conn.call("OBJECT", "ENCODING", "h") == b"hashtable"
    conn.call("HSET", "h", "f", "short")
    assert conn.call("OBJECT", "ENCODING", "h") == b"hashtable"  # one way
    # HSETNX on an existing field does not look at its arguments.
    conn.call("HSET", "h2", "a", "1")
    conn.call("HSETNX", "h2", "a", "v" * 65)
    assert conn.call("OBJECT", "ENCODING", "h2") == b"listpack"
    # HINCRBY* converts through hashTypeSet when the field is too long.
    conn.call("HINCRBY", "h3", "f" * 65, "1")
    assert conn.call("OBJECT", "ENCODING", "h3") == b"hashtable"
    server.stop()


def test_entries_threshold():
    server = FakeServer({"hash-max-listpack-entries": 3})
    conn = server.connect()
    conn.call("HSET", "h", "a", "1", "b", "2", "c", "3")
    assert conn.call("OBJECT", "ENCODING", "h") == b"listpack"
    conn.call("HSET", "h", "c", "4")  # an update never converts
    assert conn.call("OBJECT", "ENCODING", "h") == b"listpack"
    conn.call("HSET", "h", "d", "4")
    assert conn.call("OBJECT", "ENCODING", "h") == b"hashtable"
    conn.call("HDEL", "h", "d", "c")
    assert conn.call("OBJECT", "ENCODING", "h") == b"hashtable"
    server.stop()


def test_config_set_threshold_applies_to_later_writes(server, conn):
    conn.call("CONFIG", "SET", "hash-max-listpack-value", "3")
    conn.call("HSET", "h", "abc", "abc")
    assert conn.call("OBJECT", "ENCODING", "h") == b"listpack"
    conn.call("HINCRBY", "h", "n", "1000")
    assert conn.call("OBJECT", "ENCODING", "h") == b"hashtable"


def test_copy_keeps_encoding(server, conn):
    conn.call("HSET", "h", "f" * 65, "v")
    conn.call("COPY", "h", "h2")
    assert conn.call("OBJECT", "ENCODING", "h2") == b"hashtable"
    conn.call("HSET", "h2", "x", "y")
    assert conn.call("HLEN", "h") == 1


# ---------------------------------------------------------------- HRANDFIELD


def test_hrandfield_positive_count_is_unique(server, conn):
    conn.call("HSET", "h", *[x for i in range(50) for x in (f"f{i}", f"v{i}")])
    for n in (1, 2, 10, 40, 49):
        r = conn.call("HRANDFIELD", "h", n)
        assert len(r) == n and len(set(r)) == n
        assert set(r) <= {f"f{i}".encode() for i in range(50)}
    r = conn.call("HRANDFIELD", "h", "10", "WITHVALUES")
    assert len(r) == 20
    for f, v in zip(r[::2], r[1::2]):
        assert v == b"v" + f[1:]
    # count >= size: the whole hash in its order
    assert conn.call("HRANDFIELD", "h", "50") == [f"f{i}".encode() for i in range(50)]


def test_hrandfield_negative_count_repeats(server, conn):
    conn.call("HSET", "h", "a", "1", "b", "2")
    r = conn.call("HRANDFIELD", "h", "-200")
    assert len(r) == 200 and set(r) == {b"a", b"b"}
    r = conn.call("HRANDFIELD", "h", "-3", "WITHVALUES")
    assert len(r) == 6
    assert all({b"a": b"1", b"b": b"2"}[f] == v for f, v in zip(r[::2], r[1::2]))
    conn.hello3()
    conn.call("DEL", "h")
    conn.call("HSET", "h", "a", "1")
    assert conn.call("HRANDFIELD", "h", "-2", "WITHVALUES") == [[b"a", b"1"], [b"a", b"1"]]


def test_hrandfield_uses_state_random(server, conn):
    conn.call("HSET", "h", *[x for i in range(30) for x in (f"f{i}", "v")])
    server.state.random.seed(7)
    a = [conn.call("HRANDFIELD", "h"), conn.call("HRANDFIELD", "h", "5"), conn.call("HRANDFIELD", "h", "-5")]
    server.state.random.seed(7)
    b = [conn.call("HRANDFIELD", "h"), conn.call("HRANDFIELD", "h", "5"), conn.call("HRANDFIELD", "h", "-5")]
    assert a == b


def test_hrandfield_errors(conn):
    conn.call("HSET", "h", "a", "1")
    assert err(conn.call("HRANDFIELD", "h", "x")) == NOT_INT
    assert err(conn.call("HRANDFIELD", "h", "-9223372036854775808")) == (
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    )
    assert err(conn.call("HRANDFIELD", "h", "4611686018427387904", "WITHVALUES")) == "ERR value is out of range"
    assert err(conn.call("HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES")) == "ERR value is out of range"
    assert conn.call("HRANDFIELD", "h", "4611686018427387903", "WITHVALUES") == [b"a", b"1"]
    assert err(conn.call("HRANDFIELD", "h", "1", "WITHSCORES")) == SYNTAX
    assert err(conn.call("HRANDFIELD", "nokey", "1", "WITHVALUES", "x")) == SYNTAX
    assert err(conn.call("HRANDFIELD", "h", "-9223372036854775807")) == "ERR value is out of range"


# ---------------------------------------------------------------- HSCAN and scan_collection


def test_hscan_small_returns_everything(conn):
    conn.call("HSET", "h", "a1", "1", "b1", "2", "a2", "3", "10", "x")
    for cursor in ("0", "5", "1099511627777", "-1"):
        assert conn.call("HSCAN", "h", cursor, "COUNT", "1") == [
            b"0",
            [b"a1", b"1", b"b1", b"2", b"a2", b"3", b"10", b"x"],
        ]
    assert conn.call("HSCAN", "h", "0", "MATCH", "a*") == [b"0", [b"a1", b"1", b"a2", b"3"]]
    assert conn.call("HSCAN", "h", "0", "MATCH", "1*") == [b"0", [b"10", b"x"]]
    assert conn.call("HSCAN", "h", "0", "MATCH", "nope") == [b"0", []]


@pytest.mark.parametrize(
    "opts,error",
    [
        (("COUNT", "0"), SYNTAX),
        (("COUNT", "-1"), SYNTAX),
        (("COUNT", "x"), NOT_INT),
        (("COUNT",), SYNTAX),
        (("MATCH",), SYNTAX),
        (("TYPE", "string"), SYNTAX),
        (("BOGUS", "x"), SYNTAX),
    ],
)
def test_hscan_option_errors(conn, opts, error):
    conn.call("HSET", "h", "a", "1")
    assert err(conn.call("HSCAN", "h", "0", *opts)) == error


def _big(conn, n=600, key="h"):
    conn.call("HSET", key, *[x for i in range(n) for x in (f"f{i}", f"v{i}")])
    assert conn.call("OBJECT", "ENCODING", key) == b"hashtable"


def test_hscan_big_walk_in_steps(conn):
    _big(conn)
    flat, calls = walk(conn, "h", "COUNT", "10")
    assert calls == 60
    assert list(zip(flat[::2], flat[1::2])) == [(f"f{i}".encode(), f"v{i}".encode()) for i in range(600)]
    flat, calls = walk(conn, "h", "COUNT", "600")
    assert calls == 1 and len(flat) == 1200
    flat, calls = walk(conn, "h", "MATCH", "f1*", "COUNT", "50")
    assert set(flat[::2]) == {f"f{i}".encode() for i in range(600) if str(i).startswith("1")}


def test_hscan_big_guarantees_under_changes(conn):
    """Every field present for the whole scan is returned exactly once; deleted fields are
    not returned once gone; values are the current ones."""
    _big(conn)
    cur, first = conn.call("HSCAN", "h", "0", "COUNT", "100")
    assert cur != b"0" and len(first) == 200
    conn.call("HDEL", "h", *[f"f{i}" for i in range(100, 200)])  # not yet returned
    conn.call("HSET", "h", "f300", "changed", "added1", "x")
    rest = []
    while cur != b"0":
        cur, elems = conn.call("HSCAN", "h", cur, "COUNT", "100")
        rest.extend(elems)
    pairs = dict(zip(rest[::2], rest[1::2]))
    assert len(pairs) == len(rest) // 2
    assert not any(f"f{i}".encode() in pairs for i in range(200))
    assert pairs[b"f300"] == b"changed"
    assert set(pairs) - {b"added1"} == {f"f{i}".encode() for i in range(200, 600)}


def test_hscan_unknown_cursor(conn):
    _big(conn)
    # past the value's size: the scan is over
    assert conn.call("HSCAN", "h", "18446744073709551615") == [b"0", []]
    # a cursor from another hash restarts from a fresh snapshot (duplicates allowed)
    _big(conn, key="h2")
    cur, _ = conn.call("HSCAN", "h", "0", "COUNT", "10")
    cur2, elems = conn.call("HSCAN", "h2", cur, "COUNT", "10")
    assert elems[:2] == [b"f0", b"v0"] and cur2 != b"0"


def test_hscan_recreated_key_restarts(conn):
    _big(conn)
    cur, _ = conn.call("HSCAN", "h", "0", "COUNT", "10")
    conn.call("DEL", "h")
    _big(conn)
    _, elems = conn.call("HSCAN", "h", cur, "COUNT", "10")
    assert elems[:2] == [b"f0", b"v0"]


def test_snapshot_cache_is_bounded(server, conn):
    _big(conn)
    curs = [conn.call("HSCAN", "h", "0", "COUNT", "1")[0] for _ in range(scan_collections.MAX_SNAPSHOTS + 5)]
    scans = server.state.collection_scans
    assert len(scans.entries) == scan_collections.MAX_SNAPSHOTS
    assert scans.total == 600 * scan_collections.MAX_SNAPSHOTS
    # the oldest cursor was evicted: it restarts; the newest continues
    assert conn.call("HSCAN", "h", curs[0], "COUNT", "1")[1] == [b"f0", b"v0"]
    assert conn.call("HSCAN", "h", curs[-1], "COUNT", "1")[1] == [b"f1", b"v1"]
    # a finished scan frees its snapshot; a one-call scan takes none
    scans.entries.clear()
    scans.total = 0
    walk(conn, "h", "COUNT", "1000000")
    assert not scans.entries
    cur, _ = conn.call("HSCAN", "h", "0", "COUNT", "300")
    sid = int(cur) >> scan_collections.OFFSET_BITS
    assert list(scans.entries) == [sid] and scans.total == 600
    assert conn.call("HSCAN", "h", cur, "COUNT", "300")[0] == b"0"
    assert not scans.entries and scans.total == 0


def test_scan_collection_for_sets(server, conn):
    """The set road (no lookup): elements alone, presence by ``in``."""
    c = conn.client
    s = RedisSet(f"m{i}".encode() for i in range(100))
    s.ht = True
    items = lambda: sorted(s)
    cur, got = scan_collection(c, [b"SSCAN", b"s", b"0", b"COUNT", b"30"], 0, s, False, items)
    assert cur != b"0" and got == sorted(s)[:30]
    s.discard(b"m50")
    out = list(got)
    while cur != b"0":
        cur, got = scan_collection(c, [b"SSCAN", b"s", cur, b"COUNT", b"30"], int(cur), s, False, items)
        out.extend(got)
    assert sorted(out) == sorted(s)
    small = RedisSet([b"3", b"1", b"2"])
    assert scan_collection(c, [b"SSCAN", b"s", b"9", b"MATCH", b"[12]"], 9, small, True, small.members) == [
        b"0",
        [b"1", b"2"],
    ]


def test_format_score():
    assert format_score(0.1) == b"0.10000000000000001"
    assert format_score(1.0) == b"1"
    assert format_score(1e20) == b"1e+20"
    assert format_score(-2.5) == b"-2.5"
    assert format_score(3.0000000000000001e-5) == b"3.0000000000000001e-05"
    assert format_score(123456789012345678.0) == b"1.2345678901234568e+17"
    assert format_score(float("inf")) == b"inf"
    assert format_score(float("-inf")) == b"-inf"
