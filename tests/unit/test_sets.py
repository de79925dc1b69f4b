"""Set commands against Redis 7.0.15's behaviour: replies (RESP2 and RESP3 shapes), error texts,
encodings, keyspace events, dirty counts, propagation and WATCH. Expected values were checked
on a real redis-server 7.0.15 (dirty counts through INFO rdb_changes_since_last_save, propagation
through its AOF, events through a psubscribe on __keyevent@0__:*)."""

from __future__ import annotations

import pytest

from tests.unit.harness import ReplyError
from twistd_redis.datatypes import RedisSet

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INT = "ERR value is not an integer or out of range"
POSITIVE = "ERR value is out of range, must be positive"


def err(reply) -> str:
    assert isinstance(reply, ReplyError), f"expected an error, got {reply!r}"
    return str(reply)


def db0(server):
    return server.state.dbs[0]


def enc(conn, key):
    return conn.call("OBJECT", "ENCODING", key)


@pytest.fixture
def touched(server):
    """Keys given to signal_modified_key (what invalidates WATCH), recorded."""
    out: list[bytes] = []
    orig = server.state.signal_modified_key

    def record(db, key):
        out.append(key)
        orig(db, key)

    server.state.signal_modified_key = record
    server.state.watched_keys[(99, b"unrelated")] = []  # so set_key does not skip signalling
    return out



def dirty_delta(server, conn, *args):
    before = server.state.dirty
    reply = conn.call(*args)
    return reply, server.state.dirty - before


# ---------------------------------------------------------------- SADD / SREM / encodings


def test_sadd_counts_new_members_and_creates(server, conn):
    assert conn.call("SADD", "s", "a", "b", "a") == 2
    assert conn.call("SADD", "s", "b", "c") == 1
    assert conn.call("SADD", "s", "c") == 0
    assert conn.call("TYPE", "s") == b"set"
    assert conn.call("SCARD", "s") == 3
    assert type(db0(server).data[b"s"]) is RedisSet


def test_intset_to_hashtable_is_one_way(conn):
    conn.call("SADD", "s", "3", "1", "2")
    assert enc(conn, "s") == b"intset"
    assert conn.call("SMEMBERS", "s") == [b"1", b"2", b"3"]  # intset: ascending
    conn.call("SADD", "s", "x")
    assert enc(conn, "s") == b"hashtable"
    conn.call("SREM", "s", "x")
    assert enc(conn, "s") == b"hashtable"


@pytest.mark.parametrize("member", ["01", "-0", "+1", " 1", "1.0", "9223372036854775808", "-9223372036854775809", ""])
def test_non_canonical_integers_are_strings(conn, member):
    conn.call("SADD", "s", member)
    assert enc(conn, "s") == b"hashtable"


def test_int64_bounds_stay_intset(conn):
    conn.call("SADD", "s", "9223372036854775807", "-9223372036854775808", "0", "-5")
    assert enc(conn, "s") == b"intset"
    assert conn.call("SMEMBERS", "s") == [b"-9223372036854775808", b"-5", b"0", b"9223372036854775807"]


def test_intset_limit_from_config(conn):
    conn.call("SADD", "s", *range(1, 513))
    assert enc(conn, "s") == b"intset"
    conn.call("SADD", "s", "513")
    assert enc(conn, "s") == b"hashtable"
    conn.call("CONFIG", "SET", "set-max-intset-entries", "1")
    conn.call("SADD", "t", "1")
    assert enc(conn, "t") == b"intset"
    conn.call("SADD", "t", "1")  # not added: no conversion
    assert enc(conn, "t") == b"intset"
    conn.call("SADD", "t", "2")
    assert enc(conn, "t") == b"hashtable"


def test_lowering_the_limit_converts_only_on_the_next_add(conn):
    conn.call("SADD", "s", "1", "2", "3")
    conn.call("CONFIG", "SET", "set-max-intset-entries", "2")
    assert enc(conn, "s") == b"intset"
    conn.call("SREM", "s", "3")
    assert enc(conn, "s") == b"intset"
    conn.call("SADD", "s", "3")
    assert enc(conn, "s") == b"hashtable"


def test_srem_deletes_emptied_set_and_stops(server, conn, events):
    conn.call("SADD", "s", "1", "2")
    events.clear()
    reply, dirty = dirty_delta(server, conn, "SREM", "s", "1", "9", "2", "1")
    assert (reply, dirty) == (2, 2)
    assert conn.call("EXISTS", "s") == 0
    assert events == [(b"srem", b"s", 0), (b"del", b"s", 0)]
    assert conn.call("SREM", "s", "1") == 0
    reply, dirty = dirty_delta(server, conn, "SREM", "nokey", "a")
    assert (reply, dirty) == (0, 0)


def test_srem_nothing_removed_fires_nothing(server, conn, events):
    conn.call("SADD", "s", "a")
    events.clear()
    assert dirty_delta(server, conn, "SREM", "s", "b") == (0, 0)
    assert events == []


def test_sadd_events_and_dirty(server, conn, events):
    reply, dirty = dirty_delta(server, conn, "SADD", "s", "a", "b", "a")
    assert (reply, dirty) == (2, 2)
    assert dirty_delta(server, conn, "SADD", "s", "a") == (0, 0)
    assert events == [(b"sadd", b"s", 0)]


def test_wrongtype_everywhere(conn):
    conn.call("SET", "str", "v")
    for args in (
        ("SADD", "str", "a"),
        ("SREM", "str", "a"),
        ("SMEMBERS", "str"),
        ("SISMEMBER", "str", "a"),
        ("SMISMEMBER", "str", "a"),
        ("SCARD", "str"),
        ("SPOP", "str"),
        ("SPOP", "str", "1"),
        ("SPOP", "str", "0"),
        ("SRANDMEMBER", "str"),
        ("SRANDMEMBER", "str", "-1"),
        ("SINTER", "nokey", "str"),
        ("SINTERCARD", "2", "nokey", "str"),
        ("SINTERSTORE", "d", "nokey", "str"),
        ("SUNION", "str"),
        ("SUNIONSTORE", "d", "nokey", "str"),
        ("SDIFF", "nokey", "str"),
        ("SDIFFSTORE", "d", "str"),
        ("SSCAN", "str", "0"),
    ):
        assert err(conn.call(*args)) == WRONGTYPE, args
    assert conn.call("GET", "str") == b"v"


def test_membership(conn):
    conn.call("SADD", "s", "1", "a")
    assert conn.call("SISMEMBER", "s", "a") == 1
    assert conn.call("SISMEMBER", "s", "b") == 0
    assert conn.call("SISMEMBER", "nokey", "b") == 0
    assert conn.call("SMISMEMBER", "s", "a", "b", "1") == [1, 0, 1]
    assert conn.call("SMISMEMBER", "nokey", "a", "b") == [0, 0]
    assert conn.call("SCARD", "nokey") == 0


# ---------------------------------------------------------------- reply shapes


def test_resp3_shapes(conn):
    conn.call("SADD", "s", "2", "1")
    assert conn.raw(b"SMEMBERS s\r\n") == b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    assert conn.raw(b"SMEMBERS nokey\r\n") == b"*0\r\n"
    assert conn.raw(b"SPOP nokey\r\n") == b"$-1\r\n"
    conn.hello3()
    assert conn.raw(b"SMEMBERS s\r\n") == b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    assert conn.raw(b"SMEMBERS nokey\r\n") == b"~0\r\n"
    assert conn.raw(b"SINTER s s\r\n") == b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    assert conn.raw(b"SINTER s nokey\r\n") == b"~0\r\n"
    assert conn.raw(b"SUNION s nokey\r\n") == b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    assert conn.raw(b"SDIFF s\r\n") == b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    assert conn.raw(b"SMISMEMBER s 1 3\r\n") == b"*2\r\n:1\r\n:0\r\n"
    # SRANDMEMBER with a count: arrays, always (7.0.15)
    assert conn.raw(b"SRANDMEMBER s 5\r\n") == b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    assert conn.raw(b"SRANDMEMBER s 0\r\n") == b"*0\r\n"
    assert conn.raw(b"SRANDMEMBER nokey 3\r\n") == b"*0\r\n"
    assert conn.raw(b"SRANDMEMBER s -1\r\n")[:4] == b"*1\r\n"
    assert conn.raw(b"SRANDMEMBER nokey\r\n") == b"_\r\n"
    # SPOP with a count: sets
    assert conn.raw(b"SPOP nokey 3\r\n") == b"~0\r\n"
    assert conn.raw(b"SPOP s 0\r\n") == b"~0\r\n"
    assert conn.raw(b"SPOP s 1\r\n")[:4] == b"~1\r\n"
    assert conn.raw(b"SPOP s 9\r\n")[:4] == b"~1\r\n"
    assert conn.raw(b"SPOP nokey\r\n") == b"_\r\n"


# ---------------------------------------------------------------- SMOVE


def test_smove(server, conn, events):
    conn.call("SADD", "a", "1", "2")
    events.clear()
    assert dirty_delta(server, conn, "SMOVE", "a", "b", "1") == (1, 2)
    assert events == [(b"srem", b"a", 0), (b"sadd", b"b", 0)]
    assert enc(conn, "b") == b"intset"
    conn.call("SADD", "b", "2")
    events.clear()
    # already in the destination: removed from the source only, one dirty
    assert dirty_delta(server, conn, "SMOVE", "a", "b", "2") == (1, 1)
    assert events == [(b"srem", b"a", 0), (b"del", b"a", 0)]
    assert conn.call("EXISTS", "a") == 0
    assert conn.call("SMOVE", "a", "b", "2") == 0
    assert conn.call("SMOVE", "b", "b", "2") == 1
    assert conn.call("SMOVE", "b", "b", "9") == 0
    assert conn.call("SMOVE", "b", "c", "9") == 0
    conn.call("SADD", "h", "x")
    conn.call("SMOVE", "h", "new", "x")
    assert enc(conn, "new") == b"hashtable"


def test_smove_types(conn):
    conn.call("SET", "str", "v")
    conn.call("SADD", "s", "1")
    assert conn.call("SMOVE", "nokey", "str", "1") == 0  # missing source wins
    assert err(conn.call("SMOVE", "str", "nokey", "1")) == WRONGTYPE
    assert err(conn.call("SMOVE", "s", "str", "1")) == WRONGTYPE
    assert err(conn.call("SMOVE", "s", "str", "9")) == WRONGTYPE
    assert conn.call("SMEMBERS", "s") == [b"1"]


def test_smove_signals_both_keys(conn, touched):
    conn.call("SADD", "a", "1")
    touched.clear()
    conn.call("SMOVE", "a", "b", "1")
    assert b"a" in touched and b"b" in touched


# ---------------------------------------------------------------- SPOP


def test_spop_single(server, conn, seen, events):
    conn.call("SADD", "s", "1", "2", "3")
    seen.clear()
    events.clear()
    m, dirty = dirty_delta(server, conn, "SPOP", "s")
    assert m in (b"1", b"2", b"3") and dirty == 1
    assert seen == [[b"SREM", b"s", m]]
    assert events == [(b"spop", b"s", 0)]
    assert conn.call("SISMEMBER", "s", m) == 0
    conn.call("SPOP", "s")
    seen.clear()
    events.clear()
    last = conn.call("SPOP", "s")
    assert seen == [[b"SREM", b"s", last]]
    assert events == [(b"spop", b"s", 0), (b"del", b"s", 0)]
    assert conn.call("EXISTS", "s") == 0
    assert conn.call("SPOP", "s") is None


def test_spop_errors(conn):
    conn.call("SADD", "s", "a")
    assert err(conn.call("SPOP", "s", "-1")) == POSITIVE
    assert err(conn.call("SPOP", "s", "abc")) == POSITIVE
    assert err(conn.call("SPOP", "s", "99999999999999999999")) == POSITIVE
    assert err(conn.call("SPOP", "nokey", "x")) == POSITIVE  # parsed before the lookup
    assert err(conn.call("SPOP", "s", "1", "2")) == SYNTAX
    assert err(conn.call("SPOP")) == "ERR wrong number of arguments for 'spop' command"
    assert conn.call("SCARD", "s") == 1


@pytest.mark.parametrize("size,count", [(10, 2), (10, 8), (10, 1), (600, 3), (600, 590), (7, 6)])
def test_spop_count_properties(server, conn, seen, size, count):
    members = [str(i).encode() for i in range(size)]
    conn.call("SADD", "s", *members)
    seen.clear()
    events_before = server.state.dirty
    popped = conn.call("SPOP", "s", count)
    assert server.state.dirty - events_before == count
    assert len(popped) == count == len(set(popped))
    assert set(popped) <= set(members)
    rest = set(conn.call("SMEMBERS", "s"))
    assert rest == set(members) - set(popped)
    # several ops of one command propagate as one transaction (propagatePendingCommands)
    if count > 1:
        assert seen[0] == [b"MULTI"] and seen[-1] == [b"EXEC"]
        seen = seen[1:-1]
    assert sorted(seen) == sorted([b"SREM", b"s", m] for m in popped)


def test_spop_count_whole_set(server, conn, seen, events):
    conn.call("SADD", "s", "3", "1", "2")
    seen.clear()
    events.clear()
    reply, dirty = dirty_delta(server, conn, "SPOP", "s", "5")
    assert reply == [b"1", b"2", b"3"]  # intset order
    assert dirty == 3
    assert seen == [[b"DEL", b"s"]]
    assert events == [(b"spop", b"s", 0), (b"del", b"s", 0)]
    assert conn.call("EXISTS", "s") == 0
    conn.call("CONFIG", "SET", "lazyfree-lazy-server-del", "yes")
    conn.call("SADD", "s", "a")
    seen.clear()
    assert conn.call("SPOP", "s", "1") == [b"a"]
    assert seen == [[b"UNLINK", b"s"]]


def test_spop_count_zero_and_missing_change_nothing(server, conn, seen, events):
    conn.call("SADD", "s", "a")
    seen.clear()
    events.clear()
    assert dirty_delta(server, conn, "SPOP", "s", "0") == ([], 0)
    assert dirty_delta(server, conn, "SPOP", "nokey", "3") == ([], 0)
    assert seen == [] and events == []


def test_spop_many_keeps_ttl_and_reencodes_what_is_left(server, conn):
    # CASE 3 (few members left): Redis builds a new set from the kept members, so a hashtable
    # left with only integers becomes an intset, and dbOverwrite keeps the TTL.
    for _ in range(10):
        conn.call("DEL", "h")
        conn.call("SADD", "h", "a", "1", "2", "3", "4", "5")
        conn.call("EXPIRE", "h", "100")
        popped = conn.call("SPOP", "h", "5")
        left = conn.call("SMEMBERS", "h")
        assert len(left) == 1 and left[0] not in popped
        assert enc(conn, "h") == (b"hashtable" if left == [b"a"] else b"intset")
        assert conn.call("TTL", "h") == 100
    # CASE 2 (few popped): the set keeps its encoding
    conn.call("SADD", "k", "a", *range(1, 10))
    conn.call("SPOP", "k", "1")
    assert enc(conn, "k") == b"hashtable"


def test_spop_loop_uses_random(server, conn):
    conn.call("SADD", "s", *range(200))
    server.state.random.seed(1)
    a = [conn.call("SPOP", "s") for _ in range(50)]
    conn.call("DEL", "s")
    conn.call("SADD", "s", *range(200))
    server.state.random.seed(1)
    b = [conn.call("SPOP", "s") for _ in range(50)]
    assert a == b and len(set(a)) == 50
    assert sorted(a, key=int) != a  # not the set's own order


# ---------------------------------------------------------------- SRANDMEMBER


def test_srandmember(server, conn):
    members = {b"a", b"b", b"c", b"1"}
    conn.call("SADD", "s", *members)
    before = server.state.dirty
    assert conn.call("SRANDMEMBER", "s") in members
    assert conn.call("SRANDMEMBER", "nokey") is None
    for n in (1, 2, 3):
        r = conn.call("SRANDMEMBER", "s", n)
        assert len(r) == n == len(set(r)) and set(r) <= members
    assert set(conn.call("SRANDMEMBER", "s", 4)) == members
    assert sorted(conn.call("SRANDMEMBER", "s", 100)) == sorted(members)
    r = conn.call("SRANDMEMBER", "s", -50)
    assert len(r) == 50 and set(r) <= members and len(set(r)) > 1  # repeats allowed
    assert conn.call("SRANDMEMBER", "s", 0) == []
    assert conn.call("SRANDMEMBER", "nokey", -3) == []
    assert server.state.dirty == before
    assert conn.call("SCARD", "s") == 4


def test_srandmember_intset_whole_set_is_sorted(conn):
    conn.call("SADD", "s", "5", "-1", "3")
    assert conn.call("SRANDMEMBER", "s", 3) == [b"-1", b"3", b"5"]


def test_srandmember_errors(conn):
    conn.call("SADD", "s", "a")
    assert err(conn.call("SRANDMEMBER", "s", "x")) == NOT_INT
    assert err(conn.call("SRANDMEMBER", "nokey", "x")) == NOT_INT
    assert err(conn.call("SRANDMEMBER", "s", "-9223372036854775808")) == (
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    )
    assert err(conn.call("SRANDMEMBER", "s", "1", "2")) == SYNTAX
    assert conn.call("SRANDMEMBER", "s", "-92") == [b"a"] * 92


# ---------------------------------------------------------------- SINTER / SINTERCARD / SINTERSTORE


def test_sinter(conn):
    conn.call("SADD", "a", "1", "2", "3", "4")
    conn.call("SADD", "b", "4", "3", "x", "2")
    conn.call("SADD", "c", "3", "2", "9")
    assert conn.call("SINTER", "a", "b", "c") == [b"2", b"3"]  # smallest set c is an intset
    assert sorted(conn.call("SINTER", "b", "b")) == sorted([b"2", b"3", b"4", b"x"])
    assert conn.call("SINTER", "a", "nokey") == []
    assert conn.call("SINTER", "a") == [b"1", b"2", b"3", b"4"]


def test_sintercard(conn):
    conn.call("SADD", "a", "1", "2", "3", "4")
    conn.call("SADD", "b", "4", "3", "x", "2")
    assert conn.call("SINTERCARD", "2", "a", "b") == 3
    assert conn.call("SINTERCARD", "2", "a", "b", "LIMIT", "2") == 2
    assert conn.call("SINTERCARD", "2", "a", "b", "limit", "0") == 3
    assert conn.call("SINTERCARD", "2", "a", "b", "LIMIT", "9", "LIMIT", "1") == 1
    assert conn.call("SINTERCARD", "1", "a") == 4
    assert conn.call("SINTERCARD", "2", "a", "nokey") == 0
    errors = {
        ("0", "a"): "ERR numkeys should be greater than 0",
        ("-1", "a"): "ERR numkeys should be greater than 0",
        ("x", "a"): "ERR numkeys should be greater than 0",
        ("3", "a", "b"): "ERR Number of keys can't be greater than number of args",
        ("1", "a", "LIMIT", "-1"): "ERR LIMIT can't be negative",
        ("1", "a", "LIMIT", "x"): "ERR LIMIT can't be negative",
        ("1", "a", "LIMIT"): SYNTAX,
        ("1", "a", "b"): SYNTAX,
    }
    for args, text in errors.items():
        assert err(conn.call("SINTERCARD", *args)) == text, args
    conn.call("SET", "str", "v")
    # options are checked before any key
    assert err(conn.call("SINTERCARD", "1", "str", "LIMIT", "-1")) == "ERR LIMIT can't be negative"


def test_sinterstore(server, conn, events):
    conn.call("SADD", "a", "x", "1", "2", "3")
    conn.call("SADD", "b", "y", "1", "2")
    conn.call("SET", "dst", "string")
    conn.call("EXPIRE", "dst", "100")
    events.clear()
    assert dirty_delta(server, conn, "SINTERSTORE", "dst", "a", "b") == (2, 1)
    assert events == [(b"sinterstore", b"dst", 0)]
    assert conn.call("TYPE", "dst") == b"set"
    assert enc(conn, "dst") == b"intset"  # built afresh: integers only
    assert conn.call("TTL", "dst") == -1
    events.clear()
    assert dirty_delta(server, conn, "SINTERSTORE", "dst", "a", "nokey") == (0, 1)
    assert events == [(b"del", b"dst", 0)]
    assert conn.call("EXISTS", "dst") == 0
    events.clear()
    assert dirty_delta(server, conn, "SINTERSTORE", "dst", "a", "nokey") == (0, 0)
    conn.call("SADD", "c", "z")
    events.clear()
    assert dirty_delta(server, conn, "SINTERSTORE", "dst", "a", "c") == (0, 0)
    assert events == []
    conn.call("SINTERSTORE", "dst", "a", "a")
    assert enc(conn, "dst") == b"hashtable"


def test_sinterstore_large_integer_result_is_hashtable(conn):
    conn.call("SADD", "a", *range(600))
    conn.call("SADD", "b", *range(100, 700))
    assert conn.call("SINTERSTORE", "d", "a", "b") == 500
    assert enc(conn, "d") == b"intset"
    conn.call("SADD", "b", *range(100))
    assert conn.call("SINTERSTORE", "d", "a", "b") == 600
    assert enc(conn, "d") == b"hashtable"


# ---------------------------------------------------------------- SUNION / SDIFF (STORE)


def test_sunion_sdiff(conn):
    conn.call("SADD", "a", "1", "2", "3")
    conn.call("SADD", "b", "3", "4")
    conn.call("SADD", "h", "x", "1")
    assert conn.call("SUNION", "a", "b", "nokey") == [b"1", b"2", b"3", b"4"]
    assert conn.call("SDIFF", "a", "b") == [b"1", b"2"]
    assert conn.call("SDIFF", "a", "nokey") == [b"1", b"2", b"3"]
    assert conn.call("SDIFF", "nokey", "a") == []
    assert conn.call("SDIFF", "a", "a") == []
    assert sorted(conn.call("SUNION", "a", "h")) == [b"1", b"2", b"3", b"x"]
    assert conn.call("SDIFF", "h", "a") == [b"x"]
    conn.call("SREM", "h", "x")  # a hashtable holding integers only: the union is an intset
    conn.call("SADD", "h", "0")
    assert conn.call("SUNION", "h") == [b"0", b"1"]


def test_store_encodings(conn):
    conn.call("SADD", "a", *range(1, 601))
    conn.call("SADD", "b", *range(1, 101))
    conn.call("SADD", "c", "x")
    # algorithm 1 (only adds): 500 integers are an intset
    assert conn.call("SDIFFSTORE", "d", "a", "b") == 500
    assert conn.call("OBJECT", "ENCODING", "d") == b"intset"
    # algorithm 2 (copy the first set, then remove): went past 512 entries, stays a hashtable
    assert conn.call("SDIFFSTORE", "d", "a", "b", "c") == 500
    assert conn.call("OBJECT", "ENCODING", "d") == b"hashtable"
    conn.call("SADD", "e", "1", "2", "x")
    conn.call("SREM", "e", "x")
    assert conn.call("SUNIONSTORE", "f", "e") == 2
    assert enc(conn, "f") == b"intset"
    assert conn.call("SUNIONSTORE", "f", "e", "c") == 3
    assert enc(conn, "f") == b"hashtable"


def test_sunionstore_sdiffstore_events(server, conn, events):
    conn.call("SADD", "a", "1", "2")
    conn.call("SET", "u", "v")
    events.clear()
    assert dirty_delta(server, conn, "SUNIONSTORE", "u", "a", "nokey") == (2, 1)
    assert dirty_delta(server, conn, "SDIFFSTORE", "u", "a", "a") == (0, 1)
    assert dirty_delta(server, conn, "SDIFFSTORE", "u", "a", "a") == (0, 0)
    assert dirty_delta(server, conn, "SDIFFSTORE", "u", "a") == (2, 1)
    assert events == [(b"sunionstore", b"u", 0), (b"del", b"u", 0), (b"sdiffstore", b"u", 0)]
    assert conn.call("SMEMBERS", "u") == [b"1", b"2"]
    assert conn.call("SUNIONSTORE", "a", "a", "u") == 2  # the destination may be a source


def test_store_signals_watchers(conn, touched):
    conn.call("SADD", "a", "1")
    touched.clear()
    conn.call("SUNIONSTORE", "d", "a")
    assert touched == [b"d"]
    touched.clear()
    conn.call("SINTERSTORE", "d", "nokey")
    assert touched == [b"d"]
    touched.clear()
    conn.call("SINTERSTORE", "d", "nokey")  # nothing to delete: nothing signalled
    assert touched == []


def test_writes_signal_watchers(conn, touched):
    conn.call("SADD", "s", "1", "2", "3")
    for args in (("SADD", "s", "4"), ("SREM", "s", "4"), ("SPOP", "s"), ("SPOP", "s", "1")):
        touched.clear()
        conn.call(*args)
        assert b"s" in touched, args
    (m,) = conn.call("SMEMBERS", "s")
    touched.clear()
    assert conn.call("SMOVE", "s", "t", m) == 1
    assert set(touched) == {b"s", b"t"}
    conn.call("SADD", "t", "1")
    touched.clear()
    for args in (("SADD", "t", "1"), ("SREM", "t", "9"), ("SPOP", "t", "0"), ("SMOVE", "t", "u", "9")):
        conn.call(*args)  # nothing changed: nothing signalled
    assert touched == []


def test_arity_errors(conn):
    for args in (("SADD", "s"), ("SREM", "s"), ("SMEMBERS",), ("SISMEMBER", "s"), ("SMISMEMBER", "s"),
                 ("SCARD",), ("SRANDMEMBER",), ("SMOVE", "a", "b"), ("SINTER",), ("SINTERCARD", "1"),
                 ("SINTERSTORE", "d"), ("SUNION",), ("SUNIONSTORE", "d"), ("SDIFF",), ("SDIFFSTORE", "d"),
                 ("SSCAN", "s")):
        assert err(conn.call(*args)) == f"ERR wrong number of arguments for '{args[0].lower()}' command"


# ---------------------------------------------------------------- SSCAN


def test_sscan_intset_in_one_call(conn):
    conn.call("SADD", "s", *range(20))
    assert conn.call("SSCAN", "s", "0") == [b"0", [str(i).encode() for i in range(20)]]
    assert conn.call("SSCAN", "s", "0", "MATCH", "1*") == [b"0", [b"1"] + [str(i).encode() for i in range(10, 20)]]
    assert conn.call("SSCAN", "nokey", "0") == [b"0", []]
    assert err(conn.call("SSCAN", "s", "x")) == "ERR invalid cursor"
    assert err(conn.call("SSCAN", "s", "0", "COUNT", "0")) == SYNTAX


def test_sscan_hashtable_full_iteration(conn):
    members = {f"m{i}".encode() for i in range(100)}
    conn.call("SADD", "s", *members)
    cursor, seen_members, calls = b"0", [], 0
    while True:
        cursor, batch = conn.call("SSCAN", "s", cursor, "COUNT", "7")
        seen_members += batch
        calls += 1
        if cursor == b"0":
            break
    assert calls > 1
    assert sorted(seen_members) == sorted(members)


# ---------------------------------------------------------------- value class


def test_redisset_random_pool_follows_changes():
    import random

    s = RedisSet([b"a", b"b"])
    rng = random.Random(3)
    assert s.random_member(rng) in s
    s.discard(b"a")
    s.add(b"c")  # same size: the stale mirror is caught when it yields a removed member
    got = {s.random_member(rng) for _ in range(50)}
    assert got <= {b"b", b"c"}
    while s:
        s.pop_random(rng)
    assert s._pool == []
    c = RedisSet([b"1"])
    c.ht = True
    assert c.copy().ht is True and c.copy() == c


def test_keyspace_hits_and_misses(server, conn):
    """As 7.0.15's INFO stats: the *STORE commands read their sources with lookupKeyRead; SMOVE
    and SPOP look up for writing (no stats)."""
    db = db0(server)
    conn.call("SADD", "a", "1")
    steps = [
        (("SUNIONSTORE", "d", "a", "nokey"), 1, 1),
        (("SDIFFSTORE", "d", "a", "nokey"), 1, 1),
        (("SINTERSTORE", "d", "a", "a"), 2, 0),
        (("SINTER", "a", "nokey"), 1, 1),
        (("SMOVE", "a", "b", "1"), 0, 0),
        (("SPOP", "nokey", "2"), 0, 0),
        (("SRANDMEMBER", "nokey", "2"), 0, 1),
        (("SMISMEMBER", "nokey", "2"), 0, 1),
        (("SSCAN", "nokey", "0"), 0, 1),
        (("SINTERCARD", "2", "nokey", "b"), 1, 1),
    ]
    for args, hits, misses in steps:
        h, m = db.hits, db.misses
        conn.call(*args)
        assert (db.hits - h, db.misses - m) == (hits, misses), args
