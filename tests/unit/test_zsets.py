"""Sorted set commands against Redis 7.0.15's behaviour: exact reply bytes in RESP2 and RESP3,
error texts, dirty counts, keyspace events, propagation, WATCH, encodings, and the RedisZSet
range search. Expected values were checked on a real redis-server 7.0.15."""

from __future__ import annotations

import random

import pytest

from tests.unit.harness import ReplyError
from twistd_redis.client import CLIENT_DIRTY_CAS
from twistd_redis.commands import zsets
from twistd_redis.commands.table import REGISTRY
from twistd_redis.datatypes.zset import LEX_MAX, LEX_MIN, RedisZSet
from twistd_redis.errors import RedisError

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INT = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"


def pairs(n: int) -> list[str]:
    """score member ... for n members m0..m{n-1} scored 0..n-1."""
    out: list[str] = []
    for i in range(n):
        out += [str(i), f"m{i}"]
    return out


def err(reply) -> str:
    assert isinstance(reply, ReplyError), f"expected an error, got {reply!r}"
    return str(reply)


def db0(server):
    return server.state.dbs[0]



@pytest.fixture
def events(server):
    out: list[tuple[str, bytes, bytes]] = []
    server.state.notify_flags = "KEA"
    server.state.keyspace_notifier = lambda t, ev, key, dbid: out.append((t, ev, key))
    return out


# ---------------------------------------------------------------- command table


def test_rows():
    for name, arity, flags in [
        ("zadd", -4, ["write", "denyoom", "fast"]),
        ("zrangestore", -5, ["write", "denyoom"]),
        ("bzpopmin", -3, ["write", "noscript", "blocking", "fast"]),
        ("bzmpop", -5, ["write", "blocking", "movablekeys"]),
        ("zmpop", -4, ["write", "movablekeys"]),
    ]:
        spec = REGISTRY[name]
        assert (spec.arity, spec.flag_names(), spec.group) == (arity, flags, "sorted-set")


# ---------------------------------------------------------------- public helpers


def test_parse_score():
    assert zsets.parse_score(b"1.5") == 1.5
    assert zsets.parse_score(b"-inf") == float("-inf")
    for bad in (b"nan", b"abc", b" 1", b"1 ", b"", b"1e400"):
        with pytest.raises(RedisError) as e:
            zsets.parse_score(bad)
        assert e.value.message == NOT_FLOAT


def test_parse_score_range_is_strtod():
    p = zsets.parse_score_range
    assert p(b"(1", b"5") == (1.0, True, 5.0, False)
    assert p(b"", b"(") == (0.0, False, 0.0, True)  # strtod("") reads 0 with nothing left
    assert p(b" 1", b"0x10") == (1.0, False, 16.0, False)
    assert p(b"-1e400", b"1e400") == (float("-inf"), False, float("inf"), False)
    for bad in (b"nan", b"(nan", b"1 ", b"x", b"1e", b"0x", b"((1"):
        with pytest.raises(RedisError) as e:
            p(bad, b"1")
        assert e.value.message == "ERR min or max is not a float"


def test_parse_lex_range():
    p = zsets.parse_lex_range
    assert p(b"-", b"+") == (LEX_MIN, True, LEX_MAX, True)
    assert p(b"[a", b"(b") == (b"a", False, b"b", True)
    assert p(b"(", b"[") == (b"", True, b"", False)
    for bad in (b"a", b"-x", b"+x", b""):
        with pytest.raises(RedisError) as e:
            p(bad, b"+")
        assert e.value.message == "ERR min or max not valid string range item"


def test_maybe_convert(server):
    cfg = server.state.config
    z = RedisZSet()
    for i in range(128):
        z.add(b"m%d" % i, i)
        zsets.maybe_convert(z, cfg, 2)
    assert not z.ht
    z.add(b"x", 1)
    zsets.maybe_convert(z, cfg, 1)
    assert z.ht
    z2 = RedisZSet()
    z2.add(b"x" * 65, 1)
    zsets.maybe_convert(z2, cfg, 65)
    assert z2.encoding_name() == b"skiplist"


def test_get_zset_helpers(server, conn):
    c = conn.client
    assert zsets.get_zset_read(c, b"z") is None
    conn.call("ZADD", "z", "1", "a")
    assert isinstance(zsets.get_zset_write(c, b"z"), RedisZSet)
    conn.call("SET", "s", "v")
    with pytest.raises(RedisError) as e:
        zsets.get_zset_read(c, b"s")
    assert e.value.message == WRONGTYPE


# ---------------------------------------------------------------- score formatting


@pytest.mark.parametrize(
    "score,text",
    [
        ("1.1", b"1.1000000000000001"),
        ("1e300", b"1.0000000000000001e+300"),
        ("inf", b"inf"),
        ("-inf", b"-inf"),
        ("3.0", b"3"),
        ("1e21", b"1e+21"),
        ("1e17", b"1e+17"),
        ("1e16", b"10000000000000000"),
        ("-1e-5", b"-1.0000000000000001e-05"),
        ("123456789012345678", b"1.2345678901234568e+17"),
        ("-0", b"0"),  # a listpack keeps -0 as 0
    ],
)
def test_score_format(conn, score, text):
    conn.call("ZADD", "z", score, "m")
    assert conn.raw(b"ZSCORE z m\r\n") == b"$%d\r\n%s\r\n" % (len(text), text)
    conn.hello3()
    assert conn.raw(b"ZSCORE z m\r\n") == b",%s\r\n" % text


def test_zincrby_float_sum(conn):
    conn.call("ZINCRBY", "z", "0.1", "a")
    assert conn.raw(b"ZINCRBY z 0.2 a\r\n") == b"$19\r\n0.30000000000000004\r\n"
    conn.hello3()
    assert conn.raw(b"ZINCRBY z 0 a\r\n") == b",0.30000000000000004\r\n"


def test_negative_zero_in_skiplist_and_incr_reply(conn):
    conn.call("ZADD", "z", *pairs(130))
    assert conn.call("OBJECT", "ENCODING", "z") == b"skiplist"
    conn.call("ZADD", "z", "-0", "neg")
    assert conn.call("ZSCORE", "z", "neg") == b"-0"
    assert conn.call("ZRANGEBYSCORE", "z", "-1", "0", "WITHSCORES") == [b"m0", b"0", b"neg", b"-0"]
    # In a listpack the stored score loses the sign, but the INCR reply is the computed sum.
    assert conn.call("ZINCRBY", "small", "-0", "y") == b"-0"
    assert conn.call("ZSCORE", "small", "y") == b"0"


# ---------------------------------------------------------------- ZADD


def test_zadd_errors(conn):
    assert (
        err(conn.call("ZADD", "z", "NX", "XX", "1", "a")) == "ERR XX and NX options at the same time are not compatible"
    )
    assert err(conn.call("ZADD", "z", "GT", "LT", "1", "a")) == (
        "ERR GT, LT, and/or NX options at the same time are not compatible"
    )
    assert err(conn.call("ZADD", "z", "GT", "NX", "1", "a")).startswith("ERR GT, LT")
    assert err(conn.call("ZADD", "z", "INCR", "1", "a", "2", "b")) == (
        "ERR INCR option supports a single increment-element pair"
    )
    assert err(conn.call("ZADD", "z", "NX", "XX")) == SYNTAX  # elements checked first
    assert err(conn.call("ZADD", "z", "1", "a", "2")) == SYNTAX
    assert err(conn.call("ZADD", "z", "1", "a", "x", "b")) == NOT_FLOAT
    assert err(conn.call("ZADD", "z", "nan", "a")) == NOT_FLOAT
    assert err(conn.call("ZADD", "z", "1")) == "ERR wrong number of arguments for 'zadd' command"
    assert conn.call("EXISTS", "z") == 0  # nothing added: scores are parsed before any change
    conn.call("SET", "s", "v")
    assert err(conn.call("ZADD", "s", "x", "a")) == NOT_FLOAT  # before the type check
    assert err(conn.call("ZADD", "s", "1", "a")) == WRONGTYPE


def test_zadd_options(conn):
    assert conn.call("ZADD", "z", "XX", "1", "a") == 0
    assert conn.call("ZADD", "z", "XX", "INCR", "1", "a") is None
    assert conn.call("EXISTS", "z") == 0
    assert conn.call("ZADD", "z", "1", "a", "2", "b") == 2
    assert conn.call("ZADD", "z", "NX", "5", "a", "3", "c") == 1
    assert conn.call("ZADD", "z", "CH", "5", "a", "2", "b", "4", "d") == 2
    assert conn.call("ZADD", "z", "GT", "CH", "1", "a", "8", "b") == 1
    assert conn.call("ZADD", "z", "LT", "CH", "9", "a", "1", "b") == 1
    assert conn.call("ZADD", "z", "GT", "INCR", "-1", "a") is None
    assert conn.call("ZADD", "z", "NX", "INCR", "1", "a") is None
    assert conn.call("ZADD", "z", "INCR", "2.5", "a") == b"7.5"
    assert conn.call("ZRANGE", "z", "0", "-1", "WITHSCORES") == [b"b", b"1", b"c", b"3", b"d", b"4", b"a", b"7.5"]


def test_zadd_nan_after_incr(conn, server):
    conn.call("ZADD", "z", "inf", "a")
    d = server.state.dirty
    assert err(conn.call("ZINCRBY", "z", "-inf", "a")) == "ERR resulting score is not a number (NaN)"
    assert err(conn.call("ZADD", "z", "INCR", "-inf", "a")) == "ERR resulting score is not a number (NaN)"
    assert server.state.dirty == d
    assert conn.call("ZSCORE", "z", "a") == b"inf"


def test_zincrby_parses_like_zadd(conn):
    assert err(conn.call("ZINCRBY", "z", "nx", "a")) == SYNTAX
    assert err(conn.call("ZINCRBY", "z", "x", "a")) == NOT_FLOAT


def test_zadd_side_effects(server, conn, events, seen):
    st = server.state
    d = st.dirty
    conn.call("ZADD", "z", "1", "a", "2", "b")
    assert st.dirty - d == 2
    conn.call("ZADD", "z", "1", "a", "3", "b", "1", "c")  # one updated, one added
    assert st.dirty - d == 4
    conn.call("ZADD", "z", "1", "a")  # no change: no event, no dirty, no propagation
    assert st.dirty - d == 4
    conn.call("ZINCRBY", "z", "1", "a")
    conn.call("ZINCRBY", "z", "0", "a")  # unchanged score
    assert events == [("z", b"zadd", b"z"), ("z", b"zadd", b"z"), ("z", b"zincr", b"z")]
    assert seen == [
        [b"ZADD", b"z", b"1", b"a", b"2", b"b"],
        [b"ZADD", b"z", b"1", b"a", b"3", b"b", b"1", b"c"],
        [b"ZINCRBY", b"z", b"1", b"a"],
    ]


def test_writes_invalidate_watch(server, conn):
    conn.call("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f", "7", "g", "8", "h")
    for cmd in (
        ("ZADD", "z", "9", "a"),
        ("ZINCRBY", "z", "1", "a"),
        ("ZREM", "z", "a"),
        ("ZREMRANGEBYRANK", "z", "0", "0"),
        ("ZREMRANGEBYSCORE", "z", "3", "3"),
        ("ZREMRANGEBYLEX", "z", "-", "[d"),
        ("ZPOPMIN", "z"),
        ("ZMPOP", "1", "z", "MAX"),
        ("ZRANGESTORE", "dst", "z", "0", "-1"),
    ):
        key = b"dst" if cmd[0] == "ZRANGESTORE" else b"z"
        watcher = server.connect().client
        server.state.watch_key(watcher, key)
        conn.call(*cmd)
        assert watcher.flags & CLIENT_DIRTY_CAS, cmd
    for cmd in (("ZADD", "z", "XX", "1", "nope"), ("ZREM", "z", "nope"), ("ZPOPMIN", "z", "0")):
        watcher = server.connect().client
        server.state.watch_key(watcher, b"z")
        conn.call(*cmd)
        assert not watcher.flags & CLIENT_DIRTY_CAS, cmd
    server.state.watched_keys.clear()


# ---------------------------------------------------------------- reads and ranges


def test_rank_and_counts(conn):
    conn.call("ZADD", "z", "1", "a", "2", "b", "2", "c", "3", "d")
    assert [conn.call("ZRANK", "z", m) for m in "abcd"] == [0, 1, 2, 3]
    assert conn.call("ZREVRANK", "z", "a") == 3
    assert conn.call("ZRANK", "z", "x") is None
    assert err(conn.call("ZRANK", "z", "a", "WITHSCORE")) == "ERR wrong number of arguments for 'zrank' command"
    assert conn.call("ZCOUNT", "z", "(1", "2") == 2
    assert conn.call("ZCOUNT", "z", "2", "(2") == 0
    assert conn.call("ZLEXCOUNT", "z", "-", "+") == 4
    assert err(conn.call("ZCOUNT", "z", "a", "1")) == "ERR min or max is not a float"
    assert err(conn.call("ZLEXCOUNT", "z", "a", "+")) == "ERR min or max not valid string range item"
    conn.hello3()
    assert conn.raw(b"ZRANK z nope\r\n") == b"_\r\n"
    assert conn.raw(b"ZSCORE nokey a\r\n") == b"_\r\n"


def test_range_reply_shapes(conn):
    conn.call("ZADD", "z", "1", "a", "2.5", "b")
    want2 = b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n"
    want3 = b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
    for cmd in (
        b"ZRANGE z 0 -1 WITHSCORES",
        b"ZRANGEBYSCORE z -inf +inf WITHSCORES",
        b"ZRANGE z 0 5 BYSCORE WITHSCORES",
    ):
        assert conn.raw(cmd + b"\r\n") == want2
    assert conn.raw(b"ZRANGE z 0 -1\r\n") == b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    assert conn.raw(b"ZRANGE nokey 0 -1\r\n") == b"*0\r\n"
    conn.hello3()
    for cmd in (
        b"ZRANGE z 0 -1 WITHSCORES",
        b"ZRANGEBYSCORE z -inf +inf WITHSCORES",
        b"ZRANGE z 0 5 BYSCORE WITHSCORES",
    ):
        assert conn.raw(cmd + b"\r\n") == want3
    assert conn.raw(b"ZREVRANGE z 0 0 WITHSCORES\r\n") == b"*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"


def test_range_errors(conn):
    conn.call("ZADD", "z", "1", "a")
    assert err(conn.call("ZRANGE", "z", "0", "-1", "LIMIT", "0", "1")) == (
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    )
    assert err(conn.call("ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES")) == (
        "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
    )
    assert err(conn.call("ZRANGEBYLEX", "z", "-", "+", "WITHSCORES")).startswith("ERR syntax error, WITHSCORES")
    assert err(conn.call("ZRANGE", "z", "a", "b", "BYSCORE")) == "ERR min or max is not a float"
    assert err(conn.call("ZRANGE", "z", "a", "b", "BYLEX")) == "ERR min or max not valid string range item"
    assert err(conn.call("ZRANGE", "z", "a", "b")) == NOT_INT
    assert err(conn.call("ZRANGE", "z", "0", "1", "REV", "REV")) == SYNTAX
    assert err(conn.call("ZRANGEBYSCORE", "z", "0", "1", "REV")) == SYNTAX
    assert err(conn.call("ZRANGESTORE", "d", "z", "0", "1", "WITHSCORES")) == SYNTAX
    assert err(conn.call("ZRANGE", "z", "0", "1", "LIMIT", "x", "1")) == NOT_INT


def test_limit(conn):
    conn.call("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d")
    assert conn.call("ZRANGEBYSCORE", "z", "-inf", "inf", "LIMIT", "1", "2") == [b"b", b"c"]
    assert conn.call("ZRANGEBYSCORE", "z", "-inf", "inf", "LIMIT", "1", "-1") == [b"b", b"c", b"d"]
    assert conn.call("ZRANGEBYSCORE", "z", "-inf", "inf", "LIMIT", "-1", "2") == []
    assert conn.call("ZRANGEBYSCORE", "z", "-inf", "inf", "LIMIT", "0", "0") == []
    assert conn.call("ZREVRANGEBYSCORE", "z", "inf", "-inf", "LIMIT", "1", "2") == [b"c", b"b"]
    assert conn.call("ZRANGEBYLEX", "z", "-", "+", "LIMIT", "3", "9") == [b"d"]


def test_lex_with_mixed_scores_walks_like_a_listpack(conn):
    conn.call("ZADD", "m", "1", "b", "2", "a", "3", "d", "4", "c")
    assert conn.call("ZRANGEBYLEX", "m", "[b", "+") == [b"b", b"a", b"d", b"c"]
    assert conn.call("ZRANGEBYLEX", "m", "[a", "[c") == [b"b", b"a"]
    assert conn.call("ZREVRANGEBYLEX", "m", "[c", "[a") == [b"c", b"d", b"a", b"b"]


def test_lex_mixed_scores_listpack_checks_both_ends(conn):
    """zzlIsInLexRange: the last element must be >= min and the first <= max (Redis 7.0.15)."""
    conn.call("ZADD", "z", "0", "b", "1", "a")
    assert conn.call("OBJECT", "ENCODING", "z") == b"listpack"
    assert conn.call("ZRANGEBYLEX", "z", "(a", "+") == []
    assert conn.call("ZLEXCOUNT", "z", "(a", "+") == 0
    assert conn.call("ZRANGEBYLEX", "z", "-", "+") == [b"b", b"a"]
    assert conn.call("ZRANGEBYLEX", "z", "[a", "+") == [b"b", b"a"]
    assert conn.call("ZREVRANGEBYLEX", "z", "+", "(a") == []
    assert conn.call("ZREVRANGEBYLEX", "z", "[b", "-") == [b"a", b"b"]
    assert conn.call("ZREVRANGEBYLEX", "z", "(b", "-") == []
    assert conn.call("ZRANGE", "z", "-", "(b", "BYLEX") == []
    assert conn.call("ZRANGE", "z", "[b", "-", "BYLEX", "REV") == [b"a", b"b"]
    assert conn.call("ZREMRANGEBYLEX", "z", "(a", "+") == 0
    assert conn.call("ZREMRANGEBYLEX", "z", "[b", "[b") == 0
    assert conn.call("ZCARD", "z") == 2


def test_lex_mixed_scores_listpack_offset_skips_unchecked(conn):
    """LIMIT's offset walks past elements without checking the range, then the range is
    checked again: [a [c on a(0) z(1) b(2) is `a`, but LIMIT 2 1 gives `b` (Redis 7.0.15)."""
    conn.call("ZADD", "z", "0", "a", "1", "z", "2", "b")
    rl = ("ZRANGEBYLEX", "z", "[a", "[c")
    assert conn.call(*rl) == [b"a"]
    assert conn.call(*rl, "LIMIT", "1", "1") == []
    assert conn.call(*rl, "LIMIT", "2", "1") == [b"b"]
    assert conn.call(*rl, "LIMIT", "2", "-1") == [b"b"]
    assert conn.call(*rl, "LIMIT", "2", "0") == []
    assert conn.call(*rl, "LIMIT", "3", "5") == []
    assert conn.call(*rl, "LIMIT", "-1", "5") == []
    assert conn.call("ZLEXCOUNT", "z", "[a", "[c") == 1
    assert conn.call("ZREVRANGEBYLEX", "z", "[c", "[a") == [b"b", b"z", b"a"]
    assert conn.call("ZREVRANGEBYLEX", "z", "+", "[b") == [b"b", b"z"]
    assert conn.call("ZREVRANGEBYLEX", "z", "[c", "-", "LIMIT", "1", "5") == [b"z", b"a"]
    assert conn.call("ZREVRANGEBYLEX", "z", "[y", "(a", "LIMIT", "1", "5") == [b"z"]
    assert conn.call("ZRANGE", "z", "[c", "[a", "BYLEX", "REV", "LIMIT", "1", "1") == [b"z"]
    assert conn.call("ZRANGESTORE", "d", "z", "[a", "[c", "BYLEX", "LIMIT", "2", "1") == 1
    assert conn.call("ZRANGE", "d", "0", "-1", "WITHSCORES") == [b"b", b"2"]
    assert conn.call("ZREMRANGEBYLEX", "z", "[a", "[c") == 1
    assert conn.call("ZRANGE", "z", "0", "-1") == [b"z", b"b"]


def test_lex_mixed_scores_skiplist_keeps_the_plain_walk():
    """A skiplist's mixed-score answer depends on its random levels: no zzlIsInLexRange
    check there, the first element >= min then while <= max."""
    z = RedisZSet()
    z.add(b"b", 0.0)
    z.add(b"a", 1.0)
    assert z.lex_bounds(b"a", True, LEX_MAX, True) == (0, 0)  # listpack: (a + is empty
    z.convert_to_skiplist()
    assert z.lex_bounds(b"a", True, LEX_MAX, True) == (0, 2)
    assert list(z.lex_range(b"a", True, LEX_MAX, True, 0, -1, False)) == [(0.0, b"b"), (1.0, b"a")]


def test_lex_range_same_scores_is_a_slice():
    """Equal scores (the documented use): lex_range slices the bisected bounds, in both
    encodings, with LIMIT, and agrees with a filter over the members."""
    rng = random.Random(7)
    for ht in (False, True):
        z = RedisZSet()
        for i in range(40):
            z.add(b"%02d" % rng.randrange(60), 0.0)
        if ht:
            z.convert_to_skiplist()
        members = [m for _s, m in z]
        for lo, hi in ((b"10", b"40"), (b"00", b"99"), (b"33", b"33"), (b"50", b"20")):
            inside = [m for m in members if lo <= m < hi]
            for offset, limit in ((0, -1), (2, 3), (5, 0), (-1, 3), (100, 1)):
                got = [m for _s, m in z.lex_range(lo, False, hi, True, offset, limit, False)]
                want = [] if offset < 0 else inside[offset:][: limit if limit >= 0 else None]
                assert got == want
                got = [m for _s, m in z.lex_range(lo, False, hi, True, offset, limit, True)]
                want = [] if offset < 0 else inside[::-1][offset:][: limit if limit >= 0 else None]
                assert got == want


# ---------------------------------------------------------------- ZRANGESTORE


def test_zrangestore(server, conn, events, seen):
    conn.call("ZADD", "src", "1", "a", "2", "b", "3", "c")
    events.clear()
    seen.clear()
    d = server.state.dirty
    assert conn.call("ZRANGESTORE", "dst", "src", "0", "1") == 2
    assert conn.call("ZRANGE", "dst", "0", "-1", "WITHSCORES") == [b"a", b"1", b"b", b"2"]
    assert conn.call("ZRANGESTORE", "dst", "src", "5", "9") == 0
    assert conn.call("EXISTS", "dst") == 0
    assert conn.call("ZRANGESTORE", "dst", "nokey", "0", "-1") == 0  # nothing to delete
    assert server.state.dirty - d == 2
    assert events == [("z", b"zrangestore", b"dst"), ("g", b"del", b"dst")]
    assert seen == [[b"ZRANGESTORE", b"dst", b"src", b"0", b"1"], [b"ZRANGESTORE", b"dst", b"src", b"5", b"9"]]
    conn.call("SET", "s", "v", "EX", "100")
    assert conn.call("ZRANGESTORE", "s", "src", "2", "2") == 1
    assert conn.call("TTL", "s") == -1
    assert conn.call("TYPE", "s") == b"zset"
    conn.call("SET", "s2", "v")
    assert err(conn.call("ZRANGESTORE", "x", "s2", "0", "1")) == WRONGTYPE
    assert conn.call("EXISTS", "x") == 0


def test_zrangestore_encoding(conn):
    conn.call("ZADD", "src", *pairs(200))
    conn.call("ZRANGESTORE", "a", "src", "0", "127")
    conn.call("ZRANGESTORE", "b", "src", "0", "128")
    assert conn.call("OBJECT", "ENCODING", "a") == b"listpack"
    assert conn.call("OBJECT", "ENCODING", "b") == b"skiplist"


# ---------------------------------------------------------------- removal


def test_zrem_deletes_empty(server, conn, events, seen):
    conn.call("ZADD", "z", "1", "a", "2", "b")
    events.clear()
    d = server.state.dirty
    assert conn.call("ZREM", "z", "a", "a", "x") == 1
    assert conn.call("ZREM", "z", "b", "c") == 1
    assert conn.call("EXISTS", "z") == 0
    assert conn.call("ZREM", "z", "b") == 0
    assert server.state.dirty - d == 2
    assert events == [("z", b"zrem", b"z"), ("z", b"zrem", b"z"), ("g", b"del", b"z")]


@pytest.mark.parametrize(
    "cmd,event",
    [
        (("ZREMRANGEBYRANK", "z", "0", "-1"), b"zremrangebyrank"),
        (("ZREMRANGEBYSCORE", "z", "-inf", "+inf"), b"zremrangebyscore"),
        (("ZREMRANGEBYLEX", "z", "-", "+"), b"zremrangebylex"),
    ],
)
def test_zremrange_events_and_deletion(server, conn, events, cmd, event):
    conn.call("ZADD", "z", "0", "a", "0", "b", "0", "c")
    events.clear()
    d = server.state.dirty
    assert conn.call(*cmd) == 3
    assert server.state.dirty - d == 3
    assert events == [("z", event, b"z"), ("g", b"del", b"z")]
    assert conn.call("EXISTS", "z") == 0
    assert conn.call(*cmd) == 0
    assert events == [("z", event, b"z"), ("g", b"del", b"z")]


# ---------------------------------------------------------------- pops


def test_zpop_shapes(conn):
    conn.call("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d")
    assert conn.raw(b"ZPOPMIN z\r\n") == b"*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert conn.raw(b"ZPOPMAX z 1\r\n") == b"*2\r\n$1\r\nd\r\n$1\r\n4\r\n"
    assert conn.raw(b"ZPOPMIN nokey\r\n") == b"*0\r\n"
    assert conn.raw(b"ZPOPMIN z 0\r\n") == b"*0\r\n"
    assert conn.raw(b"ZPOPMIN z -1\r\n") == b"-ERR value is out of range, must be positive\r\n"
    assert conn.raw(b"ZPOPMIN z 1 2\r\n") == b"-ERR syntax error\r\n"
    assert conn.raw(b"ZMPOP 1 nokey MIN\r\n") == b"*-1\r\n"
    assert conn.raw(b"ZMPOP 1 z MIN\r\n") == b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    conn.call("ZADD", "z", "1", "a", "2", "b", "4", "d")
    conn.hello3()
    assert conn.raw(b"ZPOPMIN z\r\n") == b"*2\r\n$1\r\na\r\n,1\r\n"
    assert conn.raw(b"ZPOPMIN z 1\r\n") == b"*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    assert conn.raw(b"ZMPOP 1 nokey MIN\r\n") == b"_\r\n"
    assert conn.raw(b"ZMPOP 1 z MAX COUNT 5\r\n") == (
        b"*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\nc\r\n,3\r\n"
    )
    assert conn.call("EXISTS", "z") == 0


def test_zpop_side_effects(server, conn, events, seen):
    conn.call("ZADD", "z", "1", "a", "2", "b", "3", "c")
    events.clear()
    seen.clear()
    d = server.state.dirty
    conn.call("ZPOPMIN", "z", "2")
    assert server.state.dirty - d == 2
    conn.call("ZMPOP", "1", "z", "MAX", "COUNT", "10")
    assert events == [("z", b"zpopmin", b"z"), ("z", b"zpopmax", b"z"), ("g", b"del", b"z")]
    # Redis 7.0.15 propagates the number popped, not the COUNT asked (seen in its AOF).
    assert seen == [[b"ZPOPMIN", b"z", b"2"], [b"ZPOPMAX", b"z", b"1"]]
    conn.call("ZPOPMIN", "z")  # nothing popped: nothing propagated
    conn.call("ZADD", "y", "1", "a")
    conn.call("ZMPOP", "2", "nokey", "y", "MIN")
    assert seen[-1] == [b"ZPOPMIN", b"y", b"1"]


def test_zmpop_errors(conn):
    conn.call("ZADD", "z", "1", "a")
    assert err(conn.call("ZMPOP", "0", "z", "MIN")) == "ERR numkeys should be greater than 0"
    assert err(conn.call("ZMPOP", "1", "z", "MIN", "COUNT", "0")) == "ERR count should be greater than 0"
    assert err(conn.call("ZMPOP", "2", "z", "MIN")) == SYNTAX
    assert err(conn.call("ZMPOP", "1", "z", "FOO")) == SYNTAX
    assert err(conn.call("ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1")) == SYNTAX
    conn.call("SET", "s", "v")
    assert err(conn.call("ZMPOP", "2", "nokey", "s", "MIN")) == WRONGTYPE


# ---------------------------------------------------------------- encodings


def test_encoding_transitions(conn):
    conn.call("ZADD", "z", *pairs(128))
    assert conn.call("OBJECT", "ENCODING", "z") == b"listpack"
    conn.call("ZADD", "z", "5", "m0")  # an update never converts
    assert conn.call("OBJECT", "ENCODING", "z") == b"listpack"
    conn.call("ZADD", "z", "1", "new")
    assert conn.call("OBJECT", "ENCODING", "z") == b"skiplist"
    conn.call("ZREMRANGEBYRANK", "z", "0", "-3")
    assert conn.call("OBJECT", "ENCODING", "z") == b"skiplist"  # one-way
    conn.call("ZADD", "long", "1", "x" * 65)
    assert conn.call("OBJECT", "ENCODING", "long") == b"skiplist"
    conn.call("ZADD", "dup", *(["1", "a"] * 130))  # 130 pairs, one member
    assert conn.call("OBJECT", "ENCODING", "dup") == b"listpack"
    conn.call("CONFIG", "SET", "zset-max-listpack-entries", "0")
    conn.call("ZADD", "zero", "1", "a")
    assert conn.call("OBJECT", "ENCODING", "zero") == b"skiplist"


def test_big_zadd_does_not_copy(server, conn):
    conn.call("ZADD", "z", *pairs(2000))
    z = db0(server).data[b"z"]
    sl = z.sl
    conn.call("ZADD", "z", "0.5", "new")
    assert db0(server).data[b"z"] is z and z.sl is sl
    assert conn.call("ZRANK", "z", "new") == 1


# ---------------------------------------------------------------- RedisZSet against a naive model


def _naive_score_range(items, lo, lo_ex, hi, hi_ex):
    return [(s, m) for s, m in items if (s > lo if lo_ex else s >= lo) and (s < hi if hi_ex else s <= hi)]


def test_redis_zset_bounds_match_a_scan():
    rng = random.Random(7)
    z = RedisZSet()
    z.ht = True
    for i in range(400):
        z.add(b"m%03d" % rng.randrange(300), float(rng.randrange(-20, 20)) / 2)
    items = list(z)
    assert items == sorted(items)
    values = [float("-inf"), float("inf"), 0.0, -0.0] + [x / 2 for x in range(-22, 23)]
    for _ in range(500):
        lo, hi = rng.choice(values), rng.choice(values)
        lo_ex, hi_ex = rng.random() < 0.5, rng.random() < 0.5
        start, stop = z.score_bounds(lo, lo_ex, hi, hi_ex)
        assert items[start:stop] == _naive_score_range(items, lo, lo_ex, hi, hi_ex)
    lex = RedisZSet()
    for i in range(100):
        lex.add(b"%02d" % rng.randrange(60), 1.0)
    members = [m for _s, m in lex]
    points = [LEX_MIN, LEX_MAX] + [b"%02d" % i for i in range(0, 62, 3)] + [b"", b"5"]
    for lo in points:
        for hi in points:
            for lo_ex in (False, True):
                for hi_ex in (False, True):
                    start, stop = lex.lex_bounds(lo, lo_ex, hi, hi_ex)

                    def ok(m, lo=lo, hi=hi, lo_ex=lo_ex, hi_ex=hi_ex):
                        a = lo is LEX_MIN or (lo is not LEX_MAX and (m > lo if lo_ex else m >= lo))
                        b = hi is LEX_MAX or (hi is not LEX_MIN and (m < hi if hi_ex else m <= hi))
                        return a and b

                    assert members[start:stop] == [m for m in members if ok(m)]


def test_redis_zset_delete_range_and_pop():
    z = RedisZSet()
    for i in range(10):
        z.add(b"m%d" % i, float(i))
    assert z.delete_range(2, 5) == 3
    assert [m for _s, m in z] == [b"m0", b"m1", b"m5", b"m6", b"m7", b"m8", b"m9"]
    assert b"m3" not in z
    assert z.pop(True) == (9.0, b"m9")
    assert z.pop(False) == (0.0, b"m0")
    assert len(z) == 5 and len(z.sl) == 5


def test_convert_to_listpack_drops_negative_zero():
    z = RedisZSet()
    z.ht = True
    z.add(b"a", -0.0)
    assert str(z.score(b"a")) == "-0.0"
    z.convert_to_listpack()
    assert str(z.score(b"a")) == "0.0" and not z.ht
