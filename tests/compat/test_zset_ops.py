"""Sorted set algebra and sampling (ZUNION/ZINTER/ZDIFF, their *STORE forms, ZINTERCARD,
ZMSCORE, ZRANDMEMBER, ZSCAN), every option and error, compared byte for byte with redis-server
in RESP2 and RESP3. Random replies are compared where they are determined (one member, a count
covering the set, errors) and checked by their properties on both servers otherwise."""

from __future__ import annotations

import pytest

from tests.compat.differ import Skip
from tests.helpers_proc import RawConn

pytestmark = pytest.mark.compat

BIG = "9223372036854775807"
SMALL = "-9223372036854775808"
LONG = "x" * 65  # longer than zset-max-listpack-value

SETUP = [
    ("ZADD", "z1", "1", "a", "2", "b", "3", "c"),
    ("ZADD", "z2", "1", "b", "5", "c", "7", "d"),
    ("SADD", "s1", "a", "b", "x"),
    ("SADD", "ints", "1", "2", "3"),
    ("SET", "str", "v"),
]

SCRIPTS = {
    "union_inter_diff_replies": SETUP + [
        ("ZUNION", "2", "z1", "z2"),
        ("ZUNION", "2", "z1", "z2", "WITHSCORES"),
        ("ZINTER", "2", "z1", "z2"),
        ("ZINTER", "2", "z1", "z2", "WITHSCORES"),
        ("ZDIFF", "2", "z1", "z2"),
        ("ZDIFF", "2", "z2", "z1", "WITHSCORES"),
        ("ZDIFF", "1", "z1", "WITHSCORES"),
        ("ZDIFF", "3", "z2", "z1", "s1", "withscores"),
        ("ZINTERCARD", "2", "z1", "z2"),
        ("ZINTERCARD", "2", "z1", "z2", "LIMIT", "1"),
        ("ZINTERCARD", "2", "z1", "z2", "limit", "0"),
        ("ZINTERCARD", "2", "z1", "z2", "LIMIT", "100"),
        ("ZINTERCARD", "1", "z1"),
        ("ZUNION", "1", "nosuch", "WITHSCORES"),
        ("ZINTER", "2", "z1", "nosuch", "WITHSCORES"),
        ("ZUNION", "2", "z1", "nosuch", "WITHSCORES"),
        ("ZDIFF", "2", "nosuch", "z1"),
        ("ZDIFF", "2", "z1", "nosuch"),
        ("ZINTERCARD", "2", "nosuch", "z1"),
        ("ZDIFF", "2", "z1", "z1"),
        ("ZINTER", "2", "z1", "z1", "WITHSCORES"),
        ("ZUNION", "2", "z1", "z1", "WEIGHTS", "1", "10", "WITHSCORES"),
    ],
    "weights_aggregate": SETUP + [
        ("ZUNION", "2", "z1", "z2", "WEIGHTS", "2", "0.5", "WITHSCORES"),
        ("ZUNION", "2", "z1", "z2", "WEIGHTS", "-1", "1", "AGGREGATE", "MAX", "WITHSCORES"),
        ("ZUNION", "2", "z1", "z2", "AGGREGATE", "MIN", "WITHSCORES"),
        ("ZUNION", "2", "z1", "z2", "aggregate", "sum", "withscores"),
        ("ZINTER", "2", "z1", "z2", "AGGREGATE", "MIN", "WITHSCORES"),
        ("ZINTER", "2", "z1", "z2", "AgGrEgAtE", "mAx", "WeIgHtS", "3", "0.25", "WITHSCORES"),
        ("ZINTER", "2", "z1", "z2", "WEIGHTS", "0.1", "0.2", "WITHSCORES"),
        ("ZUNION", "1", "z1", "WEIGHTS", "2", "WEIGHTS", "3", "WITHSCORES", "WITHSCORES"),
        ("ZUNION", "1", "z1", "AGGREGATE", "MIN", "AGGREGATE", "SUM", "WITHSCORES"),
        ("ZUNION", "1", "z1", "WEIGHTS", "+inf", "WITHSCORES"),
        ("ZUNION", "1", "z1", "WEIGHTS", "-INF", "WITHSCORES"),
        ("ZUNION", "1", "z1", "WEIGHTS", "0x10", "WITHSCORES"),
        ("ZUNION", "1", "z1", "WEIGHTS", "1.5e3", "WITHSCORES"),
        ("ZUNION", "1", "z1", "WEIGHTS", ".5", "WITHSCORES"),
        ("ZUNION", "1", "z1", "WEIGHTS", "-0", "WITHSCORES"),
        ("ZUNION", "1", "z1", "WEIGHTS", "1e-300", "WITHSCORES"),
        ("ZADD", "p", "0.1", "m", "1e308", "big"),
        ("ZADD", "q", "0.2", "m", "1e308", "big"),
        ("ZUNION", "2", "p", "q", "WITHSCORES"),
        ("ZINTER", "2", "p", "q", "WEIGHTS", "3", "7", "WITHSCORES"),
    ],
    "infinities_and_nan_rules": [
        ("ZADD", "zi", "1", "p", "inf", "q", "-inf", "r"),
        ("ZADD", "zj", "1", "p", "-inf", "q", "inf", "r"),
        ("ZUNION", "2", "zi", "zj", "WITHSCORES"),
        ("ZINTER", "2", "zi", "zj", "WITHSCORES"),
        ("ZINTER", "2", "zi", "zj", "AGGREGATE", "MIN", "WITHSCORES"),
        ("ZINTER", "2", "zi", "zj", "AGGREGATE", "MAX", "WITHSCORES"),
        ("ZUNION", "2", "zi", "zj", "WEIGHTS", "0", "1", "WITHSCORES"),
        ("ZUNION", "2", "zi", "zj", "WEIGHTS", "0", "1", "AGGREGATE", "MIN", "WITHSCORES"),
        ("ZINTER", "2", "zi", "zj", "WEIGHTS", "0", "0", "WITHSCORES"),
        ("ZINTER", "2", "zi", "zj", "WEIGHTS", "inf", "-inf", "WITHSCORES"),
        ("ZUNION", "1", "zi", "WEIGHTS", "inf", "WITHSCORES"),
        ("ZUNION", "1", "zi", "WEIGHTS", "-inf", "WITHSCORES"),
        ("ZUNIONSTORE", "dst", "2", "zi", "zj", "WEIGHTS", "0", "1"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        # With three inputs of one size the order of aggregation shows: (inf-inf)+5 vs (5+inf)-inf.
        ("ZADD", "a", "inf", "m"),
        ("ZADD", "b", "-inf", "m"),
        ("ZADD", "c", "5", "m"),
        ("ZUNION", "3", "a", "b", "c", "WITHSCORES"),
        ("ZUNION", "3", "c", "a", "b", "WITHSCORES"),
        ("ZUNION", "3", "b", "c", "a", "WITHSCORES"),
        ("ZINTER", "3", "a", "b", "c", "WITHSCORES"),
        ("ZINTER", "3", "c", "a", "b", "WITHSCORES"),
        ("ZINTER", "3", "b", "c", "a", "WITHSCORES"),
        ("ZADD", "c", "1", "n"),
        ("ZUNION", "3", "c", "a", "b", "WITHSCORES"),
        ("ZINTER", "3", "c", "a", "b", "WITHSCORES"),
        # -0: the read-only forms answer it, a listpack destination writes 0.
        ("ZADD", "nz", "0", "a"),
        ("ZUNION", "1", "nz", "WEIGHTS", "-1", "WITHSCORES"),
        ("ZUNIONSTORE", "out", "1", "nz", "WEIGHTS", "-1"),
        ("ZSCORE", "out", "a"),
        ("ZMSCORE", "out", "a"),
        ("CONFIG", "SET", "zset-max-listpack-entries", "0"),
        ("ZUNIONSTORE", "out", "1", "nz", "WEIGHTS", "-1"),
        ("OBJECT", "ENCODING", "out"),
        ("ZSCORE", "out", "a"),
        ("CONFIG", "SET", "zset-max-listpack-entries", "128"),
    ],
    "set_inputs": SETUP + [
        ("ZUNION", "2", "z1", "s1", "WITHSCORES"),
        ("ZUNION", "3", "ints", "s1", "z2", "WEIGHTS", "2", "3", "4", "WITHSCORES"),
        ("ZINTER", "2", "s1", "z2", "WITHSCORES"),
        ("ZINTER", "2", "s1", "s1", "WITHSCORES"),
        ("ZINTER", "2", "s1", "z1", "AGGREGATE", "MAX", "WITHSCORES"),
        ("ZDIFF", "2", "s1", "z1", "WITHSCORES"),
        ("ZDIFF", "2", "z1", "s1", "WITHSCORES"),
        ("ZDIFF", "2", "ints", "s1", "WITHSCORES"),
        ("ZINTERCARD", "2", "s1", "z1"),
        ("ZINTERCARD", "3", "s1", "z1", "z2", "LIMIT", "1"),
        ("ZUNIONSTORE", "dst", "2", "s1", "ints"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("OBJECT", "ENCODING", "dst"),
        ("TYPE", "dst"),
        ("ZDIFFSTORE", "dst", "1", "s1"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
    ],
    "store_commands": SETUP + [
        ("ZUNIONSTORE", "d", "2", "z1", "z2"),
        ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        ("OBJECT", "ENCODING", "d"),
        ("ZINTERSTORE", "d", "2", "z1", "z2", "WEIGHTS", "2", "3"),
        ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        ("ZINTERSTORE", "d", "2", "z1", "z2", "AGGREGATE", "MAX"),
        ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        ("ZDIFFSTORE", "d", "2", "z2", "z1"),
        ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        # An empty result deletes the destination.
        ("ZINTERSTORE", "d", "2", "z1", "nosuch"),
        ("EXISTS", "d"),
        ("ZDIFFSTORE", "d", "2", "z1", "z1"),
        ("EXISTS", "d"),
        ("ZUNIONSTORE", "d", "1", "nosuch"),
        ("EXISTS", "d"),
        # Any destination type is replaced, its TTL dropped.
        ("SET", "d", "v", "EX", "100"),
        ("ZUNIONSTORE", "d", "1", "z1"),
        ("TTL", "d"),
        ("TYPE", "d"),
        ("RPUSH", "l", "x"),
        ("ZDIFFSTORE", "l", "1", "z2"),
        ("TYPE", "l"),
        # The destination may be an input.
        ("ZUNIONSTORE", "z1", "2", "z1", "z2"),
        ("ZRANGE", "z1", "0", "-1", "WITHSCORES"),
        ("ZINTERSTORE", "z2", "2", "z2", "z2", "WEIGHTS", "1", "1"),
        ("ZRANGE", "z2", "0", "-1", "WITHSCORES"),
        # An error leaves the destination alone.
        ("SET", "keep", "v"),
        ("ZUNIONSTORE", "keep", "2", "z1", "str"),
        ("ZUNIONSTORE", "keep", "1", "z1", "AGGREGATE", "x"),
        ("GET", "keep"),
    ],
    "store_encodings": [
        ("ZADD", "z1", "1", "a", "2", "b", "3", "c"),
        ("ZADD", "z2", "1", "b", "5", "c", "7", "d"),
        ("CONFIG", "SET", "zset-max-listpack-entries", "3"),
        ("ZUNIONSTORE", "d", "2", "z1", "z2"),
        ("OBJECT", "ENCODING", "d"),
        ("ZINTERSTORE", "d", "2", "z1", "z2"),
        ("OBJECT", "ENCODING", "d"),
        ("ZUNIONSTORE", "d2", "1", "d"),
        ("OBJECT", "ENCODING", "d2"),
        ("ZADD", "big", "1", "a", "2", "b", "3", "c", "4", "d"),
        ("OBJECT", "ENCODING", "big"),
        ("ZDIFFSTORE", "d", "2", "big", "z1"),
        ("OBJECT", "ENCODING", "d"),
        ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        ("CONFIG", "SET", "zset-max-listpack-entries", "128"),
        ("ZADD", "long", "1", LONG, "2", "short"),
        ("OBJECT", "ENCODING", "long"),
        ("ZUNIONSTORE", "d", "1", "long"),
        ("OBJECT", "ENCODING", "d"),
        ("ZDIFFSTORE", "d", "2", "long", "z1"),
        ("OBJECT", "ENCODING", "d"),
        ("ZINTERSTORE", "d", "2", "long", "z1"),
        ("EXISTS", "d"),
        ("ZADD", "z1", "9", "short"),
        ("ZINTERSTORE", "d", "2", "long", "z1"),
        ("OBJECT", "ENCODING", "d"),
        ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        ("CONFIG", "SET", "zset-max-listpack-value", "200"),
        ("ZUNIONSTORE", "d", "1", "long"),
        ("OBJECT", "ENCODING", "d"),
        ("CONFIG", "SET", "zset-max-listpack-value", "64"),
    ],
    "errors": SETUP + [
        ("ZUNIONSTORE", "d", "0", "z1"),
        ("ZINTERSTORE", "d", "-1", "z1"),
        ("ZDIFFSTORE", "d", "0", "z1"),
        ("ZUNION", "0", "z1"),
        ("ZINTER", SMALL, "z1"),
        ("zDiff", "0", "z1"),
        ("ZINTERCARD", "0", "z1"),
        ("ZUNION", "x", "z1"),
        ("ZUNION", "1.0", "z1"),
        ("ZUNION", "9223372036854775808", "z1"),
        ("ZUNION", "3", "z1", "z2"),
        ("ZUNION", BIG, "z1"),
        ("ZUNIONSTORE", "d", "3", "z1", "z2"),
        ("ZINTERCARD", "3", "z1", "z2"),
        ("ZUNION", "2", "z1", "z2", "WEIGHTS", "1"),
        ("ZUNION", "2", "z1", "z2", "WEIGHTS", "1", "x"),
        ("ZUNION", "1", "z1", "WEIGHTS", "nan"),
        ("ZUNION", "1", "z1", "WEIGHTS", "1e400"),
        ("ZUNION", "1", "z1", "WEIGHTS", " 1"),
        ("ZUNION", "1", "z1", "WEIGHTS", ""),
        ("ZUNION", "1", "z1", "WEIGHTS", "WITHSCORES"),
        ("ZUNION", "2", "z1", "z2", "AGGREGATE", "avg"),
        ("ZUNION", "2", "z1", "z2", "AGGREGATE"),
        ("ZUNION", "2", "z1", "z2", "BOGUS"),
        ("ZUNIONSTORE", "d", "2", "z1", "z2", "WITHSCORES"),
        ("ZINTERSTORE", "d", "2", "z1", "z2", "WITHSCORES"),
        ("ZDIFF", "2", "z1", "z2", "WEIGHTS", "1", "2"),
        ("ZDIFF", "2", "z1", "z2", "AGGREGATE", "SUM"),
        ("ZDIFFSTORE", "d", "1", "z1", "WITHSCORES"),
        ("ZDIFFSTORE", "d", "1", "z1", "WEIGHTS", "1"),
        ("ZINTERCARD", "2", "z1", "z2", "LIMIT", "-1"),
        ("ZINTERCARD", "2", "z1", "z2", "LIMIT", "x"),
        ("ZINTERCARD", "2", "z1", "z2", "LIMIT", BIG),
        ("ZINTERCARD", "2", "z1", "z2", "LIMIT"),
        ("ZINTERCARD", "2", "z1", "z2", "WITHSCORES"),
        ("ZINTERCARD", "1", "z1", "WEIGHTS", "1"),
        ("ZINTERCARD", "1", "z1", "AGGREGATE", "MIN"),
        ("ZUNION", "2", "z1", "str"),
        ("ZINTER", "2", "str", "z1"),
        ("ZINTERSTORE", "d", "2", "nosuch", "str"),
        ("ZDIFF", "2", "z1", "str"),
        ("ZDIFFSTORE", "d", "2", "str", "z1"),
        ("ZUNION", "2", "str", "nosuch", "BOGUS"),
        ("ZINTERCARD", "1", "str"),
        ("ZUNION", "1"),
        ("ZINTER",),
        ("ZDIFF", "1"),
        ("ZINTERCARD", "1"),
        ("ZUNIONSTORE", "d", "1"),
        ("ZINTERSTORE", "d"),
        ("ZDIFFSTORE", "d", "1"),
        ("EXISTS", "d"),
    ],
    "zmscore": SETUP + [
        ("ZMSCORE", "z1", "a", "x", "c"),
        ("ZMSCORE", "z1", "a", "a"),
        ("ZMSCORE", "nosuch", "a", "b"),
        ("ZMSCORE", "str", "a"),
        ("ZMSCORE", "s1", "a"),
        ("ZMSCORE", "z1"),
        ("ZADD", "f", "0.1", "a", "-inf", "b", "1e300", "c", "-0", "d", "123456789012345678", "e"),
        ("ZMSCORE", "f", "a", "b", "c", "d", "e"),
        ("ZADD", "f", "1", LONG),
        ("ZADD", "f", "-0", "d"),
        ("ZMSCORE", "f", "a", "b", "c", "d", "e", LONG),
    ],
    "zrandmember_determined": SETUP + [
        ("ZRANDMEMBER", "nosuch"),
        ("ZRANDMEMBER", "nosuch", "5"),
        ("ZRANDMEMBER", "nosuch", "-5", "WITHSCORES"),
        ("ZRANDMEMBER", "nosuch", "-" + BIG),
        ("ZRANDMEMBER", "nosuch", "x"),
        ("ZRANDMEMBER", "nosuch", "1", "foo"),
        ("ZRANDMEMBER", "str"),
        ("ZRANDMEMBER", "str", "1"),
        ("ZRANDMEMBER", "str", "0"),
        ("ZRANDMEMBER", "s1", "1"),
        ("ZRANDMEMBER", "z1", "0"),
        ("ZRANDMEMBER", "z1", "0", "WITHSCORES"),
        ("ZRANDMEMBER", "z1", "3"),
        ("ZRANDMEMBER", "z1", "3", "WITHSCORES"),
        ("ZRANDMEMBER", "z1", "10", "withscores"),
        ("ZRANDMEMBER", "z1", BIG),
        ("ZRANDMEMBER", "z1", "4611686018427387903", "WITHSCORES"),
        ("ZRANDMEMBER", "z1", "4611686018427387904", "WITHSCORES"),
        ("ZRANDMEMBER", "z1", "-4611686018427387904", "WITHSCORES"),
        ("ZRANDMEMBER", "z1", SMALL),
        ("ZRANDMEMBER", "z1", "9223372036854775808"),
        ("ZRANDMEMBER", "z1", "1.5"),
        ("ZRANDMEMBER", "z1", "x"),
        ("ZRANDMEMBER", "z1", "1", "foo"),
        ("ZRANDMEMBER", "z1", "1", "WITHSCORES", "x"),
        ("ZRANDMEMBER", "z1", "1", "WITHVALUES"),
        ("ZRANDMEMBER",),
        ("ZADD", "one", "1.5", "m"),
        ("ZRANDMEMBER", "one"),
        ("ZRANDMEMBER", "one", "1"),
        ("ZRANDMEMBER", "one", "1", "WITHSCORES"),
        ("ZRANDMEMBER", "one", "-3"),
        ("ZRANDMEMBER", "one", "-3", "WITHSCORES"),
        ("ZADD", "sk", "1", LONG, "2", "b", "3", "c"),
        ("OBJECT", "ENCODING", "sk"),
        ("ZRANDMEMBER", "sk", "3", "WITHSCORES"),
        ("ZRANDMEMBER", "sk", "100"),
    ],
    "zscan": SETUP + [
        ("ZSCAN", "nosuch", "0"),
        ("ZSCAN", "nosuch", "0", "COUNT", "abc"),
        ("ZSCAN", "nosuch", "0", "BOGUS"),
        ("ZSCAN", "nosuch", "abc"),
        ("ZSCAN", "str", "0"),
        ("ZSCAN", "s1", "0"),
        ("ZSCAN", "z1"),
        ("ZADD", "z", "0.5", "c", "1", "a", "1", "b", "inf", "d", "-inf", "e", "0.1", "f", "1e300", "g"),
        ("ZSCAN", "z", "0"),
        ("ZSCAN", "z", "0", "COUNT", "1"),
        ("ZSCAN", "z", "12345", "COUNT", "1"),
        ("ZSCAN", "z", "-1"),
        ("ZSCAN", "z", "0", "MATCH", "[ab]"),
        ("ZSCAN", "z", "0", "MATCH", "nothing"),
        ("ZSCAN", "z", "0", "match", "*", "count", "5"),
        ("ZSCAN", "z", "0", "COUNT", "0"),
        ("ZSCAN", "z", "0", "COUNT", "-1"),
        ("ZSCAN", "z", "0", "COUNT", "x"),
        ("ZSCAN", "z", "0", "MATCH"),
        ("ZSCAN", "z", "0", "TYPE", "zset"),
        ("ZSCAN", "z", "x"),
        ("ZSCAN", "z", "18446744073709551616"),
        # A skiplist answers in hash order (Redis's seed is random): only its errors compare.
        ("ZADD", "sk", "1", LONG, "2", "b"),
        ("OBJECT", "ENCODING", "sk"),
        Skip(("ZSCAN", "sk", "0", "COUNT", "100")),
        ("ZSCAN", "sk", "0", "COUNT", "0"),
        ("ZSCAN", "sk", "0", "MATCH"),
    ],
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_zset_ops(check, name):
    check(SCRIPTS[name])


# ---------------------------------------------------------------- properties of random replies


def _flat_pairs(reply: list) -> list[tuple]:
    return list(zip(reply[::2], reply[1::2]))


@pytest.mark.parametrize("resp", [2, 3])
def test_zrandmember_properties(servers, resp):
    """The same random requests on both servers: sizes, membership, scores, distinctness."""
    import redis

    scores = {f"m{i}".encode(): float(i) / 4 for i in range(40)}
    for srv in servers:
        r = redis.Redis(port=srv.port, protocol=resp)
        try:
            r.delete("rz", "rbig")
            r.zadd("rz", {m.decode(): s for m, s in scores.items()})
            r.zadd("rbig", {m.decode(): s for m, s in scores.items()} | {"x" * 70: 100.0})
            for key in ("rz", "rbig"):
                all_members = set(scores) | ({b"x" * 70} if key == "rbig" else set())
                one = r.zrandmember(key)
                assert one in all_members
                for count in (1, 2, 13, 30, 39):
                    got = r.zrandmember(key, count)
                    assert len(got) == count and len(set(got)) == count and set(got) <= all_members
                got = r.zrandmember(key, -200)
                assert len(got) == 200 and set(got) <= all_members and len(set(got)) > 20
                raw = r.execute_command("ZRANDMEMBER", key, "-50", "WITHSCORES")
                pairs = _flat_pairs(raw) if resp == 2 else [tuple(p) for p in raw]
                assert len(pairs) == 50
                for m, s in pairs:
                    assert float(s) == (100.0 if m == b"x" * 70 else scores[m])
                raw = r.execute_command("ZRANDMEMBER", key, "20", "WITHSCORES")
                pairs = _flat_pairs(raw) if resp == 2 else [tuple(p) for p in raw]
                assert len({m for m, _s in pairs}) == 20
        finally:
            r.delete("rz", "rbig")
            r.close()


def test_zscan_skiplist_full_walk(servers):
    """A skiplist ZSCAN returns every member exactly once, with its score, on both servers."""
    members = {f"member:{i}": i / 8 for i in range(300)}
    for srv in servers:
        with_scores: dict[bytes, bytes] = {}
        c = RawConn(srv.port)
        try:
            c.call("DEL", "zs")
            args = ["ZADD", "zs"]
            for m, s in members.items():
                args += [repr(s), m]
            c.call(*args)
            assert c.call("OBJECT", "ENCODING", "zs") == b"$8\r\nskiplist\r\n"
            import hiredis

            cursor = b"0"
            for _ in range(1000):
                reader = hiredis.Reader()
                reader.feed(c.call("ZSCAN", "zs", cursor, "COUNT", "25"))
                cursor, items = reader.gets()
                for m, s in _flat_pairs(items):
                    assert m not in with_scores
                    with_scores[m] = s
                if cursor == b"0":
                    break
            assert with_scores == {m.encode(): b"%.17g" % s for m, s in members.items()}
            c.call("DEL", "zs")
        finally:
            c.close()
