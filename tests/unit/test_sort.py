"""SORT / SORT_RO (commands/sort.py) on the in-memory server: options, errors, STORE side
effects (events, dirty, propagation, WATCH), Redis 7.0's quirks, and the ported pqsort."""

from __future__ import annotations

import math
import random
from functools import cmp_to_key

import pytest

from tests.unit.harness import ReplyError
from twistd_redis.client import CLIENT_DIRTY_CAS
from twistd_redis.commands.sort import pqsort, strtod
from twistd_redis.datatypes import RedisHash, RedisList, RedisSet, RedisZSet

CONV = "ERR One or more scores can't be converted into double"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def err(r):
    assert isinstance(r, ReplyError), r
    return str(r)


@pytest.fixture
def data(server):
    return server.state.dbs[0].data



def zset(pairs):
    z = RedisZSet()
    for m, s in pairs:
        z.add(m, s)
    return z


# ------------------------------------------------------------------ numeric and alpha


def test_numeric_asc_desc(conn, data):
    data[b"l"] = RedisList([b"3", b"1", b"2", b"10", b"1.5", b"-4", b"0x10", b" 7", b"-inf"])
    assert conn.call("SORT", "l") == [b"-inf", b"-4", b"1", b"1.5", b"2", b"3", b" 7", b"10", b"0x10"]
    assert conn.call("SORT", "l", "DESC") == [b"0x10", b"10", b" 7", b"3", b"2", b"1.5", b"1", b"-4", b"-inf"]
    assert conn.call("SORT", "l", "desc", "ASC") == conn.call("SORT", "l")
    assert conn.call("SORT_RO", "l", "LIMIT", "1", "2") == [b"-4", b"1"]


def test_equal_scores_ordered_by_element_bytes(conn, data):
    data[b"l"] = RedisList([b"1.0", b"1", b"01", b"1e0", b"0", b"-0", b""])
    assert conn.call("SORT", "l") == [b"", b"-0", b"0", b"01", b"1", b"1.0", b"1e0"]
    assert conn.call("SORT", "l", "DESC") == [b"1e0", b"1.0", b"1", b"01", b"0", b"-0", b""]


def test_missing_key_is_empty(conn):
    assert conn.call("SORT", "nokey") == []
    assert conn.call("SORT_RO", "nokey", "ALPHA", "DESC", "LIMIT", "0", "5") == []
    assert conn.call("SORT", "nokey", "BY", "nosort", "LIMIT", "1", "1") == []


def test_alpha_bytes_and_nul(conn, data):
    data[b"l"] = RedisList([b"b", b"B", b"a", b"10", b"9", b"\xff", b"\xc3\xa9", b""])
    assert conn.call("SORT", "l", "ALPHA") == [b"", b"10", b"9", b"B", b"a", b"b", b"\xc3\xa9", b"\xff"]
    # strcoll compares C strings: values equal up to a NUL keep their order (a stable sort)...
    data[b"n"] = RedisList([b"a\x00c", b"a\x00b", b"a", b"a\x00a"])
    assert conn.call("SORT", "n", "ALPHA") == [b"a\x00c", b"a\x00b", b"a", b"a\x00a"]
    assert conn.call("SORT", "n", "ALPHA", "DESC") == [b"a\x00c", b"a\x00b", b"a", b"a\x00a"]
    # ... while STORE compares whole values (memcmp)
    assert conn.call("SORT", "n", "ALPHA", "STORE", "d") == 4
    assert list(data[b"d"]) == [b"a", b"a\x00a", b"a\x00b", b"a\x00c"]


# ------------------------------------------------------------------ LIMIT


@pytest.mark.parametrize(
    "start,count,expected",
    [
        (0, 2, [b"1", b"2"]),
        (1, 2, [b"2", b"3"]),
        (3, 100, [b"4", b"5"]),
        (5, 1, []),
        (50, 1, []),
        (-3, 2, [b"1", b"2"]),
        (1, -1, [b"2", b"3", b"4", b"5"]),
        (1, -100, [b"2", b"3", b"4", b"5"]),
        (0, 0, []),
        (2**63 - 1, 2**63 - 1, []),
        (1, 2**63 - 1, [b"2", b"3", b"4", b"5"]),
    ],
)
def test_limit(conn, data, start, count, expected):
    data[b"l"] = RedisList([b"5", b"3", b"4", b"1", b"2"])
    assert conn.call("SORT", "l", "LIMIT", start, count) == expected


def test_limit_errors(conn, data):
    data[b"l"] = RedisList([b"1"])
    notint = "ERR value is not an integer or out of range"
    assert err(conn.call("SORT", "l", "LIMIT", "a", "1")) == notint
    assert err(conn.call("SORT", "l", "LIMIT", "1", "1.5")) == notint
    assert err(conn.call("SORT", "l", "LIMIT", "9223372036854775808", "1")) == notint
    assert err(conn.call("SORT", "l", "LIMIT", "1")) == "ERR syntax error"
    # options are parsed before the key is looked up
    data[b"s"] = b"v"
    assert err(conn.call("SORT", "s", "LIMIT", "x", "1")) == notint
    assert err(conn.call("SORT", "s", "BOGUS")) == "ERR syntax error"


# ------------------------------------------------------------------ BY nosort


def test_list_nosort_keeps_order(conn, data):
    data[b"l"] = RedisList([b"c", b"a", b"b", b"d"])
    assert conn.call("SORT", "l", "BY", "nosort") == [b"c", b"a", b"b", b"d"]
    assert conn.call("SORT", "l", "BY", "nosort", "DESC") == [b"d", b"b", b"a", b"c"]
    assert conn.call("SORT", "l", "BY", "nosort", "LIMIT", "1", "2") == [b"a", b"b"]
    assert conn.call("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "2") == [b"b", b"a"]
    assert conn.call("SORT", "l", "BY", "nosort", "LIMIT", "9", "2") == []
    # a pattern is constant when it has no '*' before its first NUL
    assert conn.call("SORT", "l", "BY", "w\x00*") == [b"c", b"a", b"b", b"d"]


def test_zset_nosort_rank_order_and_conversion(conn, data):
    data[b"z"] = zset([(b"c", 3), (b"a", 1), (b"b", 2), (b"bb", 2), (b"z", 0)])
    assert conn.call("OBJECT", "ENCODING", "z") == b"listpack"
    assert conn.call("SORT", "z", "BY", "nosort") == [b"z", b"a", b"b", b"bb", b"c"]
    assert conn.call("OBJECT", "ENCODING", "z") == b"skiplist"  # zsetConvert, as Redis
    assert conn.call("SORT", "z", "BY", "nosort", "DESC") == [b"c", b"bb", b"b", b"a", b"z"]
    assert conn.call("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "3") == [b"bb", b"b", b"a"]
    assert conn.call("SORT", "z", "BY", "nosort", "LIMIT", "4", "10") == [b"c"]
    assert conn.call("SORT", "z", "ALPHA", "DESC", "LIMIT", "0", "2") == [b"z", b"c"]
    assert err(conn.call("SORT", "z")) == CONV
    data[b"z2"] = zset([(b"x", 1)])
    conn.call("SORT_RO", "z2", "ALPHA")
    assert data[b"z2"].ht is True


def test_set_nosort(conn, data):
    data[b"i"] = RedisSet([b"5", b"-3", b"9", b"100"])
    assert conn.call("SORT", "i", "BY", "nosort") == [b"-3", b"5", b"9", b"100"]  # intset order
    assert conn.call("SORT", "i", "BY", "nosort", "DESC", "LIMIT", "1", "2") == [b"5", b"9"]  # no sort at all
    # with STORE a set is sorted with ALPHA (BY dropped) so the stored list replicates
    assert conn.call("SORT", "i", "BY", "nosort", "STORE", "d") == 4
    assert list(data[b"d"]) == [b"-3", b"100", b"5", b"9"]
    assert conn.call("SORT", "i", "BY", "nosort", "DESC", "LIMIT", "0", "2", "STORE", "d") == 2
    assert list(data[b"d"]) == [b"9", b"5"]
    h = RedisSet([b"b", b"a", b"c"])
    h.ht = True
    data[b"h"] = h
    assert sorted(conn.call("SORT", "h", "BY", "nosort")) == [b"a", b"b", b"c"]
    assert conn.call("SORT", "h", "ALPHA") == [b"a", b"b", b"c"]


# ------------------------------------------------------------------ BY / GET patterns


def test_by_and_get_patterns(conn, data):
    data[b"l"] = RedisList([b"a", b"b", b"c", b"d"])
    conn.call("MSET", "w_a", "3", "w_b", "1", "w_c", "2", "o_a", "A", "o_b", "B", "o_c", "C")
    # a missing weight is 0; equal weights order by the element
    assert conn.call("SORT", "l", "BY", "w_*") == [b"d", b"b", b"c", b"a"]
    assert conn.call("SORT", "l", "BY", "w_*", "DESC") == [b"a", b"c", b"b", b"d"]
    assert conn.call("SORT", "l", "BY", "w_*", "GET", "#", "GET", "o_*", "GET", "nostar") == [
        b"d", None, None, b"b", b"B", None, b"c", b"C", None, b"a", b"A", None,
    ]
    assert conn.call("SORT", "l", "BY", "w_*", "LIMIT", "1", "2", "GET", "o_*") == [b"B", b"C"]
    # ALPHA BY: a missing value sorts first (last with DESC)
    assert conn.call("SORT", "l", "BY", "o_*", "ALPHA") == [b"d", b"a", b"b", b"c"]
    assert conn.call("SORT", "l", "BY", "o_*", "ALPHA", "DESC") == [b"c", b"b", b"a", b"d"]
    assert err(conn.call("SORT", "l", "BY", "o_*")) == CONV
    # the last BY wins; "#\0..." is "#"; '*' after a NUL is not seen
    assert conn.call("SORT", "l", "BY", "o_*", "BY", "w_*") == [b"d", b"b", b"c", b"a"]
    assert conn.call("SORT", "l", "BY", "nosort", "GET", "#\x00zz", "GET", "o\x00_*") == [
        b"a", None, b"b", None, b"c", None, b"d", None,
    ]
    # a key of another type is no value
    data[b"o_d"] = RedisList([b"x"])
    assert conn.call("SORT", "l", "BY", "nosort", "GET", "o_*")[-1] is None


def test_get_null_resp3(conn, data):
    data[b"l"] = RedisList([b"a"])
    assert conn.raw(b"SORT l BY nosort GET x_*\r\n") == b"*1\r\n$-1\r\n"
    conn.hello3()
    assert conn.raw(b"SORT l ALPHA GET x_* GET #\r\n") == b"*2\r\n_\r\n$1\r\na\r\n"


def test_hash_field_patterns(conn, data):
    data[b"l"] = RedisList([b"1", b"2", b"3", b"4"])
    data[b"h_1"] = RedisHash({b"w": b"30", b"name": b"one"})
    data[b"h_2"] = RedisHash({b"w": b"10", b"name": b"two"})
    data[b"h_3"] = RedisHash({b"w": b"20", b"name": b"three"})
    data[b"h_4"] = RedisHash({b"name": b"four"})
    assert conn.call("SORT", "l", "BY", "h_*->w", "GET", "h_*->name") == [b"four", b"two", b"three", b"one"]
    assert conn.call("SORT", "l", "BY", "h_*->name", "ALPHA", "GET", "#") == [b"4", b"1", b"3", b"2"]
    assert conn.call("SORT", "l", "GET", "h_*->nope", "LIMIT", "0", "1") == [None]
    # "->" with nothing after it is part of the key name; "->" before the '*' is too
    data[b"h_1->"] = b"k"
    assert conn.call("SORT", "l", "GET", "h_*->", "LIMIT", "0", "1") == [b"k"]
    data[b"h->1"] = b"j"
    assert conn.call("SORT", "l", "GET", "h->*", "LIMIT", "0", "1") == [b"j"]
    # the field is everything after the first "->" following the '*'
    data[b"h_1"][b"w->x"] = b"deep"
    assert conn.call("SORT", "l", "GET", "h_*->w->x", "LIMIT", "0", "1") == [b"deep"]
    # a string is no hash
    data[b"s_1"] = b"plain"
    assert conn.call("SORT", "l", "GET", "s_*->w", "LIMIT", "0", "1") == [None]


# ------------------------------------------------------------------ numeric errors


@pytest.mark.parametrize("bad", [b"x", b"5 ", b"nan", b"  ", b"1e", b"0x", b"0x1p", b"infinit", b"1e-310",
                                 b"1e999", b"-1e999", b"4.9e-324x", b"1_0"])
def test_conversion_errors(server, data, bad):
    conn = server.connect()  # a fresh connection: no stale errno from an earlier case
    data[b"l"] = RedisList([bad, b"1"])
    assert err(conn.call("SORT", "l")) == CONV
    assert conn.call("SORT", "l", "ALPHA") == sorted([bad, b"1"])
    assert conn.call("SORT", "l", "BY", "nosort") == [bad, b"1"]
    assert err(conn.call("SORT", "l", "STORE", "dst")) == CONV
    assert b"dst" not in data


def test_stale_erange_until_a_client_connects(server, data):
    conn = server.connect()
    data[b"ok"] = RedisList([b"1.5", b"2"])
    data[b"ints"] = RedisList([b"3", b"1"])
    data[b"big"] = RedisList([b"1", b"1e999"])
    data[b"bad"] = RedisList([b"x"])
    assert err(conn.call("SORT", "bad")) == CONV  # junk does not set errno
    assert conn.call("SORT", "ok") == [b"1.5", b"2"]
    assert err(conn.call("SORT", "big")) == CONV
    assert err(conn.call("SORT", "ok")) == CONV  # errno still says ERANGE
    assert conn.call("SORT", "ints") == [b"1", b"3"]  # integer-encoded: no strtod
    assert conn.call("SORT", "ok", "ALPHA") == [b"1.5", b"2"]
    s = RedisSet([b"3", b"1"])
    data[b"iset"] = s
    assert err(conn.call("SORT", "iset")) == CONV  # set members are sds strings
    server.connect()  # the accept loop leaves EAGAIN in errno
    assert conn.call("SORT", "ok") == [b"1.5", b"2"]


def test_accepted_numbers(server, data):
    conn = server.connect()
    data[b"l"] = RedisList([b"0x.8", b"0X1P3", b"0x1p-1074", b"INFINITY", b"-Infinity", b"0e-5000", b"1\x00junk",
                            b"+.5", b"", b"2.2250738585072014e-308"])
    assert conn.call("SORT", "l") == [b"-Infinity", b"", b"0e-5000", b"0x1p-1074", b"2.2250738585072014e-308",
                                      b"+.5", b"0x.8", b"1\x00junk", b"0X1P3", b"INFINITY"]


def test_strtod():
    assert strtod(b"") == (0.0, True, False)
    assert strtod(b" \t5") == (5.0, True, False)
    assert strtod(b"5 ") == (5.0, False, False)
    assert strtod(b"0x1.8p1") == (3.0, True, False)
    assert strtod(b"0x1p-1074") == (5e-324, True, False)
    assert strtod(b"0x1.8p-1074")[2] is True  # inexact subnormal
    assert strtod(b"1e-400") == (0.0, True, True)
    assert strtod(b"0e-400") == (0.0, True, False)
    assert strtod(b"1e999x") == (math.inf, False, True)
    assert strtod(b"-inf") == (-math.inf, True, False)
    assert strtod(b"infinity") == (math.inf, True, False)
    assert math.isnan(strtod(b"nan(0x1)")[0]) and strtod(b"nan(abc)")[1]
    assert strtod(b"abc") == (0.0, False, False)
    assert strtod(b"2\x00x") == (2.0, True, False)


def test_by_values_integer_encoding_and_stale_errno(server, data):
    conn = server.connect()
    data[b"l"] = RedisList([b"a", b"b"])
    data[b"big"] = RedisList([b"1e999"])
    assert err(conn.call("SORT", "big")) == CONV
    conn.call("MSET", "w_a", "2", "w_b", "1")  # int-encoded strings: no strtod
    assert conn.call("SORT", "l", "BY", "w_*") == [b"b", b"a"]
    conn.call("APPEND", "w_a", "0")  # a raw string now: strtod, and the stale ERANGE
    assert err(conn.call("SORT", "l", "BY", "w_*")) == CONV
    data[b"h_a"] = RedisHash({b"f": b"5"})
    data[b"h_b"] = RedisHash({b"f": b"4"})
    assert conn.call("SORT", "l", "BY", "h_*->f") == [b"b", b"a"]  # listpack integers
    data[b"h_a"].ht = True
    assert err(conn.call("SORT", "l", "BY", "h_*->f")) == CONV


# ------------------------------------------------------------------ STORE


def test_store_events_dirty_propagation(server, conn, data, events, seen):
    data[b"l"] = RedisList([b"2", b"1", b"3"])
    conn.call("SET", "dst", "x", "EX", "100")
    events.clear()
    seen.clear()
    dirty = server.state.dirty
    assert conn.call("SORT", "l", "STORE", "dst") == 3
    assert type(data[b"dst"]) is RedisList and list(data[b"dst"]) == [b"1", b"2", b"3"]
    assert conn.call("TTL", "dst") == -1
    assert server.state.dirty == dirty + 3
    assert events == [(b"sortstore", b"dst", 0)]
    assert seen == [[b"SORT", b"l", b"STORE", b"dst"]]
    # GET patterns: a missing value is stored as ""
    assert conn.call("SORT", "l", "GET", "#", "GET", "o_*", "STORE", "dst") == 6
    assert list(data[b"dst"]) == [b"1", b"", b"2", b"", b"3", b""]
    # an empty result deletes the destination
    events.clear()
    seen.clear()
    dirty = server.state.dirty
    assert conn.call("SORT", "nokey", "STORE", "dst") == 0
    assert b"dst" not in data
    assert events == [(b"del", b"dst", 0)]
    assert server.state.dirty == dirty + 1
    assert seen == [[b"SORT", b"nokey", b"STORE", b"dst"]]
    # ... and nothing happens when there was none
    events.clear()
    seen.clear()
    assert conn.call("SORT", "l", "LIMIT", "9", "1", "STORE", "dst") == 0
    assert events == [] and seen == []
    # the last STORE wins; a read without STORE propagates nothing
    assert conn.call("SORT", "l", "STORE", "a", "STORE", "b") == 3
    assert b"a" not in data and b"b" in data
    seen.clear()
    assert conn.call("SORT", "l") == [b"1", b"2", b"3"]
    assert seen == []


def test_store_into_itself_and_watch(server, conn, data):
    data[b"l"] = RedisList([b"2", b"1"])
    other = server.connect().client
    server.state.watch_key(other, b"l")  # as WATCH l registers it
    server.state.watch_key(other, b"gone")
    assert conn.call("SORT", "l", "DESC", "STORE", "l") == 2
    assert list(data[b"l"]) == [b"2", b"1"]
    assert other.flags & CLIENT_DIRTY_CAS
    other.flags &= ~CLIENT_DIRTY_CAS
    data[b"gone"] = b"x"
    assert conn.call("SORT", "nokey", "STORE", "gone") == 0
    assert other.flags & CLIENT_DIRTY_CAS


def test_sort_ro_refuses_store(conn, data):
    data[b"l"] = RedisList([b"1"])
    assert err(conn.call("SORT_RO", "l", "STORE", "dst")) == "ERR syntax error"
    assert err(conn.call("SORT_RO", "l", "store")) == "ERR syntax error"
    assert err(conn.call("SORT", "l", "STORE")) == "ERR syntax error"
    assert b"dst" not in data


def test_wrongtype_and_arity(conn, data):
    data[b"s"] = b"v"
    data[b"h"] = RedisHash({b"f": b"v"})
    for key in ("s", "h"):
        assert err(conn.call("SORT", key)) == WRONGTYPE
        assert err(conn.call("SORT_RO", key)) == WRONGTYPE
    assert err(conn.call("SORT")) == "ERR wrong number of arguments for 'sort' command"
    assert err(conn.call("SORT_RO")) == "ERR wrong number of arguments for 'sort_ro' command"


def test_lookups_count_keyspace_hits(server, conn, data):
    data[b"l"] = RedisList([b"1", b"2"])
    conn.call("SET", "w_1", "5")
    db = server.state.dbs[0]
    for extra in ((), ("STORE", "d")):
        db.hits = db.misses = 0
        conn.call("SORT", "l", "BY", "w_*", "GET", "w_*", *extra)
        assert (db.hits, db.misses) == (3, 2)


def test_getkeys(conn):
    assert conn.call("COMMAND", "GETKEYS", "SORT", "a", "STORE", "b", "STORE", "c") == [b"a", b"c"]
    assert conn.call("COMMAND", "GETKEYS", "SORT", "a", "LIMIT", "store", "store", "BY", "x") == [b"a"]
    assert conn.call("COMMAND", "GETKEYS", "SORT_RO", "a", "STORE", "b") == [b"a"]


# ------------------------------------------------------------------ pqsort


def _cmp(x, y):
    return (x[0] > y[0]) - (x[0] < y[0])


@pytest.mark.parametrize("n", [0, 1, 6, 7, 8, 40, 41, 200])
def test_pqsort_sorts_the_requested_range(n):
    rng = random.Random(n)
    for _ in range(20):
        a = [(rng.randrange(n // 3 + 1), i) for i in range(n)]
        lo = rng.randrange(n) if n else 0
        hi = min(n - 1, lo + rng.randrange(5))
        b = list(a)
        pqsort(b, _cmp, lo, hi)
        want = sorted(a, key=cmp_to_key(_cmp))
        assert [x[0] for x in b[lo : hi + 1]] == [x[0] for x in want[lo : hi + 1]]
        assert sorted(b) == sorted(a)  # a permutation
        full = list(a)
        pqsort(full, _cmp, 0, n - 1)
        assert [x[0] for x in full] == [x[0] for x in want]


def test_pqsort_ties_like_redis(conn, data):
    # all equal: the Bentley-McIlroy partition swaps the middle pivot to the front and back;
    # real Redis answers 7 1 2 3 4 5 6 to SORT l BY w_* ALPHA LIMIT 0 7 on RPUSH l 0..7
    a = [(0, i) for i in range(8)]
    pqsort(a, _cmp, 0, 6)
    assert [i for _, i in a] == [7, 1, 2, 3, 4, 5, 6, 0]
    data[b"l"] = RedisList([b"%d" % i for i in range(8)])
    assert conn.call("SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", "0", "7") == [b"7", b"1", b"2", b"3", b"4", b"5", b"6"]
    assert conn.call("SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", "0", "8") == [b"%d" % i for i in range(8)]  # qsort
