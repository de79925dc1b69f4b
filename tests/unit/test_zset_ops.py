"""Sorted set algebra and sampling (zset_ops.py): ZUNION/ZINTER/ZDIFF and their *STORE forms,
ZINTERCARD, ZMSCORE, ZRANDMEMBER, ZSCAN. Exact reply bytes in RESP2 and RESP3, error texts,
dirty counts, keyspace events, WATCH, encodings. Expected values were checked on a real
redis-server 7.0.15."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.unit.harness import ReplyError
from twistd_redis.client import CLIENT_DIRTY_CAS
from twistd_redis.commands.table import REGISTRY
from twistd_redis.datatypes import RedisSet, RedisZSet

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INT = "ERR value is not an integer or out of range"


def err(reply) -> str:
    assert isinstance(reply, ReplyError), f"expected an error, got {reply!r}"
    return str(reply)


def zset(pairs: dict[bytes, float], ht: bool = False) -> RedisZSet:
    z = RedisZSet()
    for m, s in pairs.items():
        z.add(m, s)
    z.ht = ht
    return z


@pytest.fixture
def events(server):
    out: list[tuple[str, bytes, bytes]] = []
    server.state.notify_flags = "KEA"
    server.state.keyspace_notifier = lambda t, ev, key, dbid: out.append((t, ev, key))
    return out


@pytest.fixture
def data(server):
    """z1 {a:1 b:2 c:3}, z2 {b:1 c:5 d:7}, s1 {a b x} (a set), str (a string)."""
    d = server.state.dbs[0].data
    d[b"z1"] = zset({b"a": 1.0, b"b": 2.0, b"c": 3.0})
    d[b"z2"] = zset({b"b": 1.0, b"c": 5.0, b"d": 7.0})
    s = RedisSet([b"a", b"b", b"x"])
    s.ht = True
    d[b"s1"] = s
    d[b"str"] = b"v"
    return d


# ---------------------------------------------------------------- command table


def test_rows():
    for name, arity, flags, keys in [
        ("zunion", -3, ["readonly", "movablekeys"], (0, 0, 0)),
        ("zinter", -3, ["readonly", "movablekeys"], (0, 0, 0)),
        ("zdiff", -3, ["readonly", "movablekeys"], (0, 0, 0)),
        ("zintercard", -3, ["readonly", "movablekeys"], (0, 0, 0)),
        ("zunionstore", -4, ["write", "denyoom", "movablekeys"], (1, 1, 1)),
        ("zinterstore", -4, ["write", "denyoom", "movablekeys"], (1, 1, 1)),
        ("zdiffstore", -4, ["write", "denyoom", "movablekeys"], (1, 1, 1)),
        ("zmscore", -3, ["readonly", "fast"], (1, 1, 1)),
        ("zrandmember", -2, ["readonly"], (1, 1, 1)),
        ("zscan", -3, ["readonly"], (1, 1, 1)),
    ]:
        spec = REGISTRY[name]
        assert (spec.arity, spec.flag_names(), spec.group) == (arity, flags, "sorted-set"), name
        assert (spec.first_key, spec.last_key, spec.step) == keys, name


def test_getkeys(conn):
    assert conn.call("COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2") == [b"d", b"a", b"b"]
    assert conn.call("COMMAND", "GETKEYS", "ZINTER", "2", "a", "b", "WITHSCORES") == [b"a", b"b"]


# ---------------------------------------------------------------- replies


def test_union_inter_diff(conn, data):
    assert conn.call("ZUNION", "2", "z1", "z2", "WITHSCORES") == [b"a", b"1", b"b", b"3", b"d", b"7", b"c", b"8"]
    assert conn.call("ZUNION", "2", "z1", "z2") == [b"a", b"b", b"d", b"c"]
    assert conn.call("ZINTER", "2", "z1", "z2", "WITHSCORES") == [b"b", b"3", b"c", b"8"]
    assert conn.call("ZDIFF", "2", "z1", "z2", "WITHSCORES") == [b"a", b"1"]
    assert conn.call("ZDIFF", "2", "z2", "z1") == [b"d"]
    assert conn.call("ZINTERCARD", "2", "z1", "z2") == 2
    assert conn.call("ZINTERCARD", "2", "z1", "z2", "LIMIT", "1") == 1
    assert conn.call("ZINTERCARD", "2", "z1", "z2", "limit", "0") == 2


def test_weights_and_aggregate(conn, data):
    r = conn.call("ZUNION", "2", "z1", "z2", "WEIGHTS", "2", "0.5", "WITHSCORES")
    assert r == [b"a", b"2", b"d", b"3.5", b"b", b"4.5", b"c", b"8.5"]
    assert conn.call("ZINTER", "2", "z1", "z2", "AGGREGATE", "MIN", "WITHSCORES") == [b"b", b"1", b"c", b"3"]
    assert conn.call("ZINTER", "2", "z1", "z2", "aggregate", "max", "withscores") == [b"b", b"2", b"c", b"5"]
    assert conn.call("ZUNION", "2", "z1", "z2", "AGGREGATE", "MAX", "WEIGHTS", "1", "-1", "WITHSCORES") == [
        b"d", b"-7", b"a", b"1", b"b", b"2", b"c", b"3"]
    # Options may repeat: the last one wins.
    assert conn.call("ZUNION", "1", "z1", "WEIGHTS", "2", "WEIGHTS", "3", "WITHSCORES", "WITHSCORES") == [
        b"a", b"3", b"b", b"6", b"c", b"9"]


def test_scores_format(conn, server):
    d = server.state.dbs[0].data
    d[b"p"] = zset({b"m": 0.1})
    d[b"q"] = zset({b"m": 0.2})
    assert conn.call("ZUNION", "2", "p", "q", "WITHSCORES") == [b"m", b"0.30000000000000004"]
    conn.hello3()
    assert conn.raw(b"ZUNION 2 p q WITHSCORES\r\n") == b"*1\r\n*2\r\n$1\r\nm\r\n,0.30000000000000004\r\n"


def test_resp_shapes(conn, data):
    assert conn.raw(b"ZINTER 2 z1 z2 WITHSCORES\r\n") == b"*4\r\n$1\r\nb\r\n$1\r\n3\r\n$1\r\nc\r\n$1\r\n8\r\n"
    assert conn.raw(b"ZUNION 1 nosuch WITHSCORES\r\n") == b"*0\r\n"
    conn.hello3()
    assert conn.raw(b"ZINTER 2 z1 z2 WITHSCORES\r\n") == b"*2\r\n*2\r\n$1\r\nb\r\n,3\r\n*2\r\n$1\r\nc\r\n,8\r\n"
    assert conn.raw(b"ZINTER 2 z1 z2\r\n") == b"*2\r\n$1\r\nb\r\n$1\r\nc\r\n"
    assert conn.raw(b"ZUNION 1 nosuch WITHSCORES\r\n") == b"*0\r\n"
    assert conn.raw(b"ZINTERCARD 1 z1\r\n") == b":3\r\n"


def test_set_inputs(conn, data):
    assert conn.call("ZUNION", "2", "z1", "s1", "WITHSCORES") == [b"x", b"1", b"a", b"2", b"b", b"3", b"c", b"3"]
    assert conn.call("ZINTER", "2", "s1", "z2", "WITHSCORES") == [b"b", b"2"]
    assert conn.call("ZDIFF", "2", "s1", "z1", "WITHSCORES") == [b"x", b"1"]
    assert conn.call("ZDIFF", "2", "z1", "s1", "WITHSCORES") == [b"c", b"3"]
    assert conn.call("ZINTERCARD", "2", "s1", "z1") == 2
    data[b"ints"] = RedisSet([b"1", b"2"])  # intset
    assert conn.call("ZUNION", "2", "ints", "s1", "WEIGHTS", "2", "3", "WITHSCORES") == [
        b"1", b"2", b"2", b"2", b"a", b"3", b"b", b"3", b"x", b"3"]


def test_missing_keys(conn, data):
    assert conn.call("ZUNION", "2", "z1", "nosuch") == [b"a", b"b", b"c"]
    assert conn.call("ZINTER", "2", "z1", "nosuch") == []
    assert conn.call("ZINTERCARD", "2", "nosuch", "z1") == 0
    assert conn.call("ZDIFF", "2", "nosuch", "z1") == []
    assert conn.call("ZDIFF", "2", "z1", "nosuch") == [b"a", b"b", b"c"]


def test_same_key_twice(conn, data):
    assert conn.call("ZDIFF", "2", "z1", "z1") == []
    assert conn.call("ZINTER", "2", "z1", "z1", "WEIGHTS", "1", "10", "WITHSCORES") == [
        b"a", b"11", b"b", b"22", b"c", b"33"]
    assert conn.call("ZUNION", "2", "z1", "z1", "WITHSCORES") == [b"a", b"2", b"b", b"4", b"c", b"6"]


def test_infinities(conn, server):
    d = server.state.dbs[0].data
    d[b"zi"] = zset({b"p": 1.0, b"q": float("inf"), b"r": float("-inf")})
    d[b"zj"] = zset({b"p": 1.0, b"q": float("-inf"), b"r": float("inf")})
    # inf + -inf is NaN: zunionInterAggregate makes it 0.
    assert conn.call("ZUNION", "2", "zi", "zj", "WITHSCORES") == [b"q", b"0", b"r", b"0", b"p", b"2"]
    assert conn.call("ZINTER", "2", "zi", "zj", "AGGREGATE", "MIN", "WITHSCORES") == [
        b"q", b"-inf", b"r", b"-inf", b"p", b"1"]
    # inf * 0 is NaN too: a weighted score that is NaN counts as 0.
    assert conn.call("ZUNION", "2", "zi", "zj", "WEIGHTS", "0", "1", "WITHSCORES") == [
        b"q", b"-inf", b"p", b"1", b"r", b"inf"]
    assert conn.call("ZINTER", "2", "zi", "zj", "WEIGHTS", "0", "0", "WITHSCORES") == [
        b"p", b"0", b"q", b"0", b"r", b"0"]
    assert conn.call("ZUNION", "1", "zi", "WEIGHTS", "inf", "WITHSCORES") == [b"r", b"-inf", b"p", b"inf", b"q", b"inf"]


def test_aggregation_order_smallest_first(conn, server):
    """Inputs are visited smallest first, a stable sort: with equal sizes, in argument order."""
    d = server.state.dbs[0].data
    d[b"a"] = zset({b"m": float("inf")})
    d[b"b"] = zset({b"m": float("-inf")})
    d[b"c"] = zset({b"m": 5.0})
    assert conn.call("ZUNION", "3", "a", "b", "c", "WITHSCORES") == [b"m", b"5"]  # (inf-inf)+5
    assert conn.call("ZUNION", "3", "c", "a", "b", "WITHSCORES") == [b"m", b"0"]  # (5+inf)-inf
    assert conn.call("ZINTER", "3", "a", "b", "c", "WITHSCORES") == [b"m", b"5"]
    assert conn.call("ZINTER", "3", "b", "c", "a", "WITHSCORES") == [b"m", b"0"]  # (-inf+5)+inf
    d[b"c"] = zset({b"m": 5.0, b"n": 1.0})  # now the largest: visited last
    assert conn.call("ZUNION", "3", "c", "a", "b", "WITHSCORES") == [b"n", b"1", b"m", b"5"]


def test_negative_zero(conn, server):
    d = server.state.dbs[0].data
    d[b"nz"] = zset({b"a": 0.0})
    assert conn.call("ZUNION", "1", "nz", "WEIGHTS", "-1", "WITHSCORES") == [b"a", b"-0"]
    assert conn.call("ZUNIONSTORE", "out", "1", "nz", "WEIGHTS", "-1") == 1
    assert conn.call("ZSCORE", "out", "a") == b"0"  # a listpack writes -0 as 0
    server.state.config.set("zset-max-listpack-entries", "0")
    assert conn.call("ZUNIONSTORE", "out", "1", "nz", "WEIGHTS", "-1") == 1
    assert conn.call("ZSCORE", "out", "a") == b"-0"  # a skiplist keeps it


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("args,error", [
    (("ZUNIONSTORE", "d", "0", "z1"), "ERR at least 1 input key is needed for 'zunionstore' command"),
    (("ZINTERSTORE", "d", "-1", "z1"), "ERR at least 1 input key is needed for 'zinterstore' command"),
    (("ZDIFFSTORE", "d", "0", "z1"), "ERR at least 1 input key is needed for 'zdiffstore' command"),
    (("ZUNION", "0", "z1"), "ERR at least 1 input key is needed for 'zunion' command"),
    (("ZINTER", "-9223372036854775808", "z1"), "ERR at least 1 input key is needed for 'zinter' command"),
    (("zDiff", "0", "z1"), "ERR at least 1 input key is needed for 'zdiff' command"),
    (("ZINTERCARD", "0", "z1"), "ERR at least 1 input key is needed for 'zintercard' command"),
    (("ZUNION", "x", "z1"), NOT_INT),
    (("ZUNION", "9223372036854775808", "z1"), NOT_INT),
    (("ZUNION", "3", "z1", "z2"), SYNTAX),
    (("ZUNION", "9223372036854775807", "z1"), SYNTAX),
    (("ZUNIONSTORE", "d", "3", "z1", "z2"), SYNTAX),
    (("ZUNION", "2", "z1", "z2", "WEIGHTS", "1"), SYNTAX),
    (("ZUNION", "2", "z1", "z2", "WEIGHTS", "1", "x"), "ERR weight value is not a float"),
    (("ZUNION", "1", "z1", "WEIGHTS", "nan"), "ERR weight value is not a float"),
    (("ZUNION", "1", "z1", "WEIGHTS", "1e400"), "ERR weight value is not a float"),
    (("ZUNION", "1", "z1", "WEIGHTS", "WITHSCORES"), "ERR weight value is not a float"),
    (("ZUNION", "2", "z1", "z2", "AGGREGATE", "avg"), SYNTAX),
    (("ZUNION", "2", "z1", "z2", "AGGREGATE"), SYNTAX),
    (("ZUNIONSTORE", "d", "2", "z1", "z2", "WITHSCORES"), SYNTAX),
    (("ZDIFF", "2", "z1", "z2", "WEIGHTS", "1", "2"), SYNTAX),
    (("ZDIFF", "2", "z1", "z2", "AGGREGATE", "SUM"), SYNTAX),
    (("ZDIFFSTORE", "d", "1", "z1", "WITHSCORES"), SYNTAX),
    (("ZINTERCARD", "2", "z1", "z2", "LIMIT", "-1"), "ERR LIMIT can't be negative"),
    (("ZINTERCARD", "2", "z1", "z2", "LIMIT", "x"), "ERR LIMIT can't be negative"),
    (("ZINTERCARD", "2", "z1", "z2", "LIMIT"), SYNTAX),
    (("ZINTERCARD", "2", "z1", "z2", "WITHSCORES"), SYNTAX),
    (("ZINTERCARD", "1", "z1", "WEIGHTS", "1"), SYNTAX),
    (("ZUNION", "2", "z1", "str"), WRONGTYPE),
    (("ZINTERSTORE", "d", "2", "nosuch", "str"), WRONGTYPE),
    (("ZDIFF", "2", "z1", "str"), WRONGTYPE),
    (("ZUNION", "2", "str", "nosuch", "BOGUS"), WRONGTYPE),  # keys before options
    (("ZINTERCARD", "1", "str"), WRONGTYPE),
    (("ZUNION", "1"), "ERR wrong number of arguments for 'zunion' command"),
    (("ZUNIONSTORE", "d", "1"), "ERR wrong number of arguments for 'zunionstore' command"),
    (("ZMSCORE", "z1"), "ERR wrong number of arguments for 'zmscore' command"),
    (("ZMSCORE", "str", "a"), WRONGTYPE),
    (("ZRANDMEMBER",), "ERR wrong number of arguments for 'zrandmember' command"),
    (("ZRANDMEMBER", "str"), WRONGTYPE),
    (("ZRANDMEMBER", "str", "0"), WRONGTYPE),
    (("ZRANDMEMBER", "z1", "x"), NOT_INT),
    (("ZRANDMEMBER", "nosuch", "x"), NOT_INT),
    (("ZRANDMEMBER", "z1", "-9223372036854775808"),
     "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"),
    (("ZRANDMEMBER", "z1", "1", "foo"), SYNTAX),
    (("ZRANDMEMBER", "nosuch", "1", "foo"), SYNTAX),
    (("ZRANDMEMBER", "z1", "1", "WITHSCORES", "x"), SYNTAX),
    (("ZRANDMEMBER", "z1", "4611686018427387904", "WITHSCORES"), "ERR value is out of range"),
    (("ZRANDMEMBER", "z1", "-4611686018427387904", "WITHSCORES"), "ERR value is out of range"),
    (("ZRANDMEMBER", "z1", "-4294967296"), "ERR value is out of range"),  # ours: Redis runs out of memory
    (("ZSCAN", "z1"), "ERR wrong number of arguments for 'zscan' command"),
    (("ZSCAN", "str", "0"), WRONGTYPE),
    (("ZSCAN", "z1", "x"), "ERR invalid cursor"),
    (("ZSCAN", "z1", "0", "COUNT", "0"), SYNTAX),
    (("ZSCAN", "z1", "0", "COUNT", "x"), NOT_INT),
    (("ZSCAN", "z1", "0", "MATCH"), SYNTAX),
    (("ZSCAN", "z1", "0", "foo", "bar"), SYNTAX),
])
def test_errors(conn, data, args, error):
    assert err(conn.call(*args)) == error


def test_errors_leave_destination(conn, data):
    conn.call("SET", "d", "keep")
    for args in [("ZUNIONSTORE", "d", "2", "z1", "str"), ("ZUNIONSTORE", "d", "1", "z1", "AGGREGATE", "x")]:
        err(conn.call(*args))
        assert conn.call("GET", "d") == b"keep"


# ---------------------------------------------------------------- *STORE


def test_store_replies_and_encoding(conn, data, server):
    assert conn.call("ZUNIONSTORE", "d", "2", "z1", "z2") == 4
    assert conn.call("ZRANGE", "d", "0", "-1", "WITHSCORES") == [b"a", b"1", b"b", b"3", b"d", b"7", b"c", b"8"]
    assert conn.call("OBJECT", "ENCODING", "d") == b"listpack"
    assert conn.call("TYPE", "d") == b"zset"
    assert conn.call("ZINTERSTORE", "d", "2", "z1", "z2", "WEIGHTS", "2", "3") == 2
    assert conn.call("ZRANGE", "d", "0", "-1", "WITHSCORES") == [b"b", b"7", b"c", b"21"]
    assert conn.call("ZDIFFSTORE", "d", "2", "z2", "s1") == 2
    assert conn.call("ZRANGE", "d", "0", "-1", "WITHSCORES") == [b"c", b"5", b"d", b"7"]
    assert conn.call("ZUNIONSTORE", "z1", "2", "z1", "z2") == 4  # the destination as an input
    assert conn.call("ZCARD", "z1") == 4
    # Too many entries, or a member too long: skiplist.
    server.state.config.set("zset-max-listpack-entries", "3")
    assert conn.call("ZUNIONSTORE", "d", "2", "z1", "z2") == 4
    assert conn.call("OBJECT", "ENCODING", "d") == b"skiplist"
    assert conn.call("ZINTERSTORE", "d", "2", "z1", "z2") == 3
    assert conn.call("OBJECT", "ENCODING", "d") == b"listpack"
    server.state.config.set("zset-max-listpack-entries", "128")
    data[b"long"] = zset({b"x" * 65: 1.0}, ht=True)
    assert conn.call("ZUNIONSTORE", "d", "1", "long") == 1
    assert conn.call("OBJECT", "ENCODING", "d") == b"skiplist"
    data[b"long"] = zset({b"x" * 64: 1.0}, ht=True)
    assert conn.call("ZUNIONSTORE", "d", "1", "long") == 1
    assert conn.call("OBJECT", "ENCODING", "d") == b"listpack"


def test_store_replaces_any_type_and_ttl(conn, data):
    conn.call("SET", "d", "v", "EX", "100")
    assert conn.call("ZUNIONSTORE", "d", "1", "z1") == 3
    assert conn.call("TTL", "d") == -1
    assert conn.call("TYPE", "d") == b"zset"


def test_store_side_effects(conn, data, server, events):
    st = server.state
    dirty = st.dirty
    assert conn.call("ZUNIONSTORE", "d", "2", "z1", "z2") == 4
    assert conn.call("ZINTERSTORE", "d", "2", "z1", "z2") == 2
    assert conn.call("ZDIFFSTORE", "d", "2", "z1", "z2") == 1
    assert st.dirty - dirty == 3
    assert events == [("z", b"zunionstore", b"d"), ("z", b"zinterstore", b"d"), ("z", b"zdiffstore", b"d")]
    # An empty result deletes the destination: a del event, dirty only when it existed.
    del events[:]
    assert conn.call("ZINTERSTORE", "d", "2", "z1", "nosuch") == 0
    assert conn.call("EXISTS", "d") == 0
    assert st.dirty - dirty == 4
    assert events == [("g", b"del", b"d")]
    assert conn.call("ZDIFFSTORE", "d", "2", "z1", "z1") == 0
    assert st.dirty - dirty == 4
    assert events == [("g", b"del", b"d")]
    # Read-only forms change nothing.
    conn.call("ZUNION", "2", "z1", "z2")
    conn.call("ZINTERCARD", "2", "z1", "z2")
    assert st.dirty - dirty == 4


def test_store_invalidates_watch(server, conn, data):
    def touched(args) -> bool:
        watcher = server.connect().client
        server.state.watch_key(watcher, b"d")
        conn.call(*args)
        server.state.watched_keys.clear()
        return bool(watcher.flags & CLIENT_DIRTY_CAS)

    assert touched(("ZUNIONSTORE", "d", "1", "z1"))
    assert touched(("ZINTERSTORE", "d", "2", "z1", "nosuch"))  # deletes d
    assert not touched(("ZINTERSTORE", "d", "2", "z1", "nosuch"))  # nothing to delete
    assert touched(("ZDIFFSTORE", "d", "1", "z1"))
    assert not touched(("ZUNION", "1", "d"))


def test_reads_count_keyspace_hits(conn, data, server):
    db = server.state.dbs[0]
    h, m = db.hits, db.misses
    conn.call("ZUNIONSTORE", "d", "3", "z1", "z2", "nosuch")
    assert (db.hits - h, db.misses - m) == (2, 1)


# ---------------------------------------------------------------- ZMSCORE


def test_zmscore(conn, data):
    assert conn.call("ZMSCORE", "z1", "a", "x", "c") == [b"1", None, b"3"]
    assert conn.call("ZMSCORE", "nosuch", "a", "b") == [None, None]
    assert conn.raw(b"ZMSCORE z1 a x\r\n") == b"*2\r\n$1\r\n1\r\n$-1\r\n"
    conn.hello3()
    assert conn.raw(b"ZMSCORE z1 a x\r\n") == b"*2\r\n,1\r\n_\r\n"
    assert conn.raw(b"ZMSCORE nosuch a\r\n") == b"*1\r\n_\r\n"


# ---------------------------------------------------------------- ZRANDMEMBER


def test_zrandmember_single(conn, data, server):
    seen = Counter(conn.call("ZRANDMEMBER", "z1") for _ in range(200))
    assert set(seen) == {b"a", b"b", b"c"}
    assert conn.raw(b"ZRANDMEMBER nosuch\r\n") == b"$-1\r\n"
    conn.hello3()
    assert conn.raw(b"ZRANDMEMBER nosuch\r\n") == b"_\r\n"


def test_zrandmember_counts(conn, data):
    assert conn.call("ZRANDMEMBER", "nosuch", "5") == []
    assert conn.call("ZRANDMEMBER", "nosuch", "-5", "WITHSCORES") == []
    assert conn.call("ZRANDMEMBER", "nosuch", "-9223372036854775807") == []
    assert conn.call("ZRANDMEMBER", "z1", "0") == []
    # A count at least the size: the whole set, from the highest rank down.
    assert conn.call("ZRANDMEMBER", "z1", "3") == [b"c", b"b", b"a"]
    assert conn.call("ZRANDMEMBER", "z1", "9223372036854775807") == [b"c", b"b", b"a"]
    assert conn.call("ZRANDMEMBER", "z1", "5", "WITHSCORES") == [b"c", b"3", b"b", b"2", b"a", b"1"]
    # Fewer: distinct members.
    for _ in range(50):
        r = conn.call("ZRANDMEMBER", "z1", "2")
        assert len(r) == 2 and len(set(r)) == 2 and set(r) <= {b"a", b"b", b"c"}
    # Negative: repeats allowed, exactly |count| answers, every member eventually.
    r = conn.call("ZRANDMEMBER", "z1", "-100")
    assert len(r) == 100 and set(r) == {b"a", b"b", b"c"}
    r = conn.call("ZRANDMEMBER", "z1", "-10", "WITHSCORES")
    assert len(r) == 20
    scores = {b"a": b"1", b"b": b"2", b"c": b"3"}
    assert all(scores[m] == s for m, s in zip(r[::2], r[1::2]))
    r = conn.call("ZRANDMEMBER", "z1", "1", "withscores")
    assert len(r) == 2 and scores[r[0]] == r[1]


def test_zrandmember_resp3(conn, data):
    conn.hello3()
    assert conn.raw(b"ZRANDMEMBER z1 3 WITHSCORES\r\n") == (
        b"*3\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,1\r\n")
    r = conn.call("ZRANDMEMBER", "z1", "-4", "WITHSCORES")
    assert len(r) == 4 and all(len(p) == 2 and isinstance(p[1], float) for p in r)
    assert conn.raw(b"ZRANDMEMBER z1 0 WITHSCORES\r\n") == b"*0\r\n"


def test_zrandmember_distribution_uses_state_random(conn, server):
    server.state.dbs[0].data[b"big"] = zset({b"m%d" % i: float(i) for i in range(300)}, ht=True)
    server.state.random.seed(7)
    a = conn.call("ZRANDMEMBER", "big", "-50")
    b = conn.call("ZRANDMEMBER", "big", "20")
    server.state.random.seed(7)
    assert conn.call("ZRANDMEMBER", "big", "-50") == a
    assert conn.call("ZRANDMEMBER", "big", "20") == b
    assert len(set(b)) == 20
    counts = Counter(conn.call("ZRANDMEMBER", "big", "-30000"))
    assert len(counts) == 300 and max(counts.values()) < 200  # ~100 each


# ---------------------------------------------------------------- ZSCAN


def test_zscan_small(conn, data, server):
    data[b"z"] = zset({b"c": 0.5, b"a": 1.0, b"b": 1.0, b"d": float("inf")})
    assert conn.call("ZSCAN", "z", "0") == [b"0", [b"c", b"0.5", b"a", b"1", b"b", b"1", b"d", b"inf"]]
    assert conn.call("ZSCAN", "z", "12345", "COUNT", "1") == [b"0", [b"c", b"0.5", b"a", b"1", b"b", b"1", b"d", b"inf"]]
    assert conn.call("ZSCAN", "z", "0", "MATCH", "[ab]") == [b"0", [b"a", b"1", b"b", b"1"]]
    assert conn.call("ZSCAN", "nosuch", "0") == [b"0", []]
    conn.hello3()
    assert conn.raw(b"ZSCAN z 0 MATCH a\r\n") == b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"


def test_zscan_big_walk(conn, server):
    members = {b"m%d" % i: i / 10 for i in range(500)}
    server.state.dbs[0].data[b"big"] = zset(members, ht=True)
    seen: dict[bytes, bytes] = {}
    cursor = b"0"
    calls = 0
    while True:
        cursor, items = conn.call("ZSCAN", "big", cursor, "COUNT", "50")
        calls += 1
        for m, s in zip(items[::2], items[1::2]):
            assert m not in seen
            seen[m] = s
        if cursor == b"0":
            break
        assert calls < 100
    assert calls > 1
    assert seen == {m: b"%.17g" % s for m, s in members.items()}


# ---------------------------------------------------------------- blocking and propagation


def test_store_serves_blocked_bzpopmin(server, data):
    prop: list[list[bytes]] = []
    server.state.propagation_targets.append(lambda dbid, argv: prop.append(list(argv)))
    p, w = server.connect(), server.connect()
    w.transport.clear()
    w.send("BZPOPMIN", "d", "0")
    assert w.replies() == [] and w.client.waiting is not None
    assert p.call("ZUNIONSTORE", "d", "2", "z1", "z2", "WEIGHTS", "1", "2") == 4
    assert w.replies() == [[b"d", b"a", b"1"]]
    assert p.call("ZRANGE", "d", "0", "-1") == [b"b", b"c", b"d"]
    # The store goes out as sent; the served pop as ZPOPMIN.
    assert prop == [[b"ZUNIONSTORE", b"d", b"2", b"z1", b"z2", b"WEIGHTS", b"1", b"2"], [b"ZPOPMIN", b"d"]]


def test_read_only_forms_do_not_propagate(server, conn, data):
    prop: list[list[bytes]] = []
    server.state.propagation_targets.append(lambda dbid, argv: prop.append(list(argv)))
    for args in [("ZUNION", "1", "z1"), ("ZINTER", "1", "z1"), ("ZDIFF", "1", "z1"), ("ZINTERCARD", "1", "z1"),
                 ("ZMSCORE", "z1", "a"), ("ZRANDMEMBER", "z1"), ("ZSCAN", "z1", "0")]:
        conn.call(*args)
    assert prop == []
