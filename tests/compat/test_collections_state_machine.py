"""Random command sequences over lists, hashes, sets and sorted sets, sent to redis-server and to ours.

A Hypothesis RuleBasedStateMachine in the style of test_state_machine.py: every step sends one
command to both servers (one connection each for the whole example, RESP2 or RESP3 chosen per
example) and requires the same reply bytes. Four keys are shared by every type, so commands hit
the wrong type, empty containers get deleted, and OBJECT ENCODING / TYPE / EXISTS see each
transition. Members come from small alphabets so that commands collide; a few long values (> 64
bytes) push hashes and sorted sets to their big encodings, and non-integer members turn intsets
into hashtables.

Replies whose order depends on Redis's hash table (SMEMBERS of a hashtable set, HGETALL of a
hashtable hash, SINTER & co) are compared as unordered; the encoding is read from the real
server first, so listpack hashes and intsets are compared byte for byte. Nothing random (no
SRANDMEMBER / HRANDFIELD / ZRANDMEMBER; SPOP only with a count that takes the whole set).

Derandomized and capped: the same examples run every time, in well under 30 seconds.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from tests.compat.differ import Pairs, Unordered, compare, mask_ids, show
from tests.helpers_proc import RawConn, encode_command

pytestmark = [pytest.mark.compat, pytest.mark.slow]

LONG = b"x" * 70  # over the 64-byte listpack value limits: hashtable hash, skiplist zset

# Each type mostly uses its own two keys (so containers grow), sometimes the shared key "x" or a
# key of another type (WRONGTYPE); the generic rules (DEL, COPY, RENAME, TYPE ...) use any key.
LKEYS = st.sampled_from([b"l1", b"l2", b"l1", b"l2", b"l1", b"l2", b"x", b"h1"])
HKEYS = st.sampled_from([b"h1", b"h2", b"h1", b"h2", b"h1", b"h2", b"x", b"s1"])
SKEYS = st.sampled_from([b"s1", b"s2", b"s1", b"s2", b"s1", b"s2", b"x", b"z1"])
ZKEYS = st.sampled_from([b"z1", b"z2", b"z1", b"z2", b"z1", b"z2", b"x", b"l1"])
KEYS = st.sampled_from([b"l1", b"l2", b"h1", b"h2", b"s1", b"s2", b"z1", b"z2", b"x"])
KEY_LISTS = st.lists(KEYS, min_size=1, max_size=3)
SKEY_LISTS = st.lists(SKEYS, min_size=1, max_size=3)
# ZUNIONSTORE & co take sets as well as sorted sets
ZSKEY_LISTS = st.lists(st.one_of(ZKEYS, ZKEYS, SKEYS), min_size=1, max_size=3)
COUNTS = st.sampled_from([b"0", b"1", b"2", b"3", b"10", b"-1", b"abc"])
INDEXES = st.sampled_from([b"0", b"1", b"2", b"-1", b"-2", b"5", b"-100", b"100", b"abc"])

LIST_VALUES = st.sampled_from([b"a", b"b", b"c", b"1", b"2", b"", LONG])
END = st.sampled_from([b"LEFT", b"RIGHT", b"left", b"UP"])

FIELDS = st.sampled_from([b"f1", b"f2", b"f3", b"1", b""])
HASH_VALUES = st.sampled_from([
    b"v", b"1", b"-5", b"10", b"abc", b"1.5", b"9223372036854775807", b"", b"1e3", LONG,
])
INTS = st.sampled_from([b"0", b"1", b"-1", b"7", b"100", b"9223372036854775807", b"-9223372036854775808",
                        b"abc", b"1.5", b""])
FLOATS = st.sampled_from([b"0", b"1", b"-1.5", b"0.1", b"1e3", b"abc", b"inf", b"nan", b"", b"3.0e2"])

# mostly integers: sets stay intsets (SMEMBERS in a deterministic order) until "a"/"01" arrives
SET_MEMBERS = st.sampled_from([b"1", b"2", b"3", b"-7", b"10", b"0", b"9223372036854775807", b"1", b"2",
                               b"a", b"01"])

ZMEMBERS = st.sampled_from([b"a", b"b", b"c", b"d", b"e", LONG])
SCORES = st.sampled_from([b"0", b"1", b"1", b"-1", b"2.5", b"inf", b"-inf", b"+inf", b"1e3", b"0.1",
                          b"-0", b"abc", b"nan", b"(1"])
SCORE_BOUNDS = st.sampled_from([b"-inf", b"+inf", b"0", b"1", b"(1", b"2.5", b"(2.5", b"-1", b"inf", b"(-inf",
                                b"-inf", b"+inf", b"1e3", b"0.1", b"(0", b"abc", b"((1"])
LEX_BOUNDS = st.sampled_from([b"-", b"+", b"[a", b"(a", b"[c", b"(c", b"[e", b"[x", b"-", b"+", b"(b", b"[b",
                              b"[d", b"(e", b"[", b"(", b"a"])
ZADD_FLAGS = st.sampled_from([
    (), (), (b"NX",), (b"XX",), (b"GT",), (b"LT",), (b"CH",), (b"XX", b"CH"), (b"GT", b"CH"), (b"INCR",),
    (b"NX", b"INCR"), (b"XX", b"GT", b"CH"), (b"nx", b"gt"), (b"NX", b"XX"), (b"LT", b"GT"),
])
AGGREGATE = st.sampled_from([(), (b"AGGREGATE", b"SUM"), (b"AGGREGATE", b"MIN"), (b"AGGREGATE", b"MAX"),
                             (b"AGGREGATE", b"AVG")])
WEIGHTS = st.sampled_from([b"1", b"2", b"0", b"-1", b"0.5", b"inf", b"abc"])
LIMITS = st.sampled_from([(), (), (), (b"LIMIT", b"0", b"2"), (b"LIMIT", b"1", b"-1"), (b"LIMIT", b"-1", b"1"),
                          (b"LIMIT", b"1", b"0"), (b"LIMIT", b"2", b"5"), (b"LIMIT", b"x", b"1")])
WITHSCORES = st.sampled_from([(), (b"WITHSCORES",)])
RARE_LIMITS = st.sampled_from([(), (), (), (), (), (b"LIMIT", b"0", b"1")])
RARE_WITHSCORES = st.sampled_from([(), (), (), (), (), (b"WITHSCORES",)])


class CompareCollections(RuleBasedStateMachine):
    real_port: int = 0
    our_port: int = 0

    def __init__(self) -> None:
        super().__init__()
        self.real = RawConn(self.real_port)
        self.ours = RawConn(self.our_port)
        # a second client per server that WATCHes keys and runs MULTI/EXEC: every write rule
        # is then also checked for touching (or not) the watched keys as Redis does
        self.wreal = RawConn(self.real_port)
        self.wours = RawConn(self.our_port)

    @initialize(resp=st.sampled_from([2, 3]))
    def start_empty(self, resp) -> None:
        for c in (self.real, self.ours):
            assert c.call("FLUSHALL") == b"+OK\r\n"
        if resp == 3:
            for real, ours in ((self.real, self.ours), (self.wreal, self.wours)):
                a, b = real.call("HELLO", "3"), ours.call("HELLO", "3")
                assert mask_ids(a) == mask_ids(b), f"HELLO 3:\n    real: {a!r}\n    ours: {b!r}"

    def teardown(self) -> None:
        for c in (self.real, self.ours, self.wreal, self.wours):
            c.close()

    def same(self, *args: bytes, step=None, watcher: bool = False) -> None:
        real, ours = (self.wreal, self.wours) if watcher else (self.real, self.ours)
        payload = encode_command(*args)
        real.send(payload)
        a = real.read_reply()
        ours.send(payload)
        b = ours.read_reply()
        problem = compare(step if step is not None else args, args, a, b)
        assert problem is None, f"{show(args)}\n    real: {a!r}\n    ours: {b!r}{problem}"

    def audit(self, *keys: bytes) -> None:
        """After a write: compare the whole value, TYPE and OBJECT ENCODING of each touched key, so
        that every change is checked even when no read rule runs in this example."""
        for k in dict.fromkeys(keys):
            self.same(b"TYPE", k)
            kind = self.real.call("TYPE", k)[1:-2]
            enc = self.real_encoding(k)
            read = {b"list": (b"LRANGE", k, b"0", b"-1"), b"hash": (b"HGETALL", k), b"set": (b"SMEMBERS", k),
                    b"zset": (b"ZRANGE", k, b"0", b"-1", b"WITHSCORES"), b"string": (b"GET", k)}.get(kind)
            if read is None:
                continue
            if enc == b"hashtable":  # Redis's hash order
                self.same(*read, step=Pairs(read) if kind == b"hash" else Unordered(read))
            else:
                self.same(*read)
            self.same(b"OBJECT", b"ENCODING", k)

    def lex_defined(self, key: bytes) -> bool:
        """Lex ranges are meaningful only when every member has the same score (Redis documents the
        result as unspecified otherwise). A listpack's answer with mixed scores is still
        deterministic (its linear walk, which we follow); a skiplist's depends on its random
        levels. So lex commands run on listpack sorted sets, on skiplist ones with one score
        everywhere, and on keys that are not sorted sets (errors)."""
        if self.real_encoding(key) == b"listpack":
            return True
        lo = self.real.call("ZRANGE", key, "0", "0", "WITHSCORES")
        hi = self.real.call("ZRANGE", key, "-1", "-1", "WITHSCORES")
        return lo == hi or lo[:1] == b"-" or lo.startswith((b"*0", b"~0"))

    def real_encoding(self, key: bytes) -> bytes:
        """OBJECT ENCODING of ``key`` on the real server only (does not change its data)."""
        reply = self.real.call("OBJECT", "ENCODING", key)
        return reply.split(b"\r\n")[1] if reply.startswith(b"$") and not reply.startswith(b"$-1") else b""

    # ------------------------------------------------------------ WATCH from a second client

    @rule(keys=KEY_LISTS)
    def watch(self, keys):
        self.same(b"WATCH", *keys, watcher=True)

    @rule(k=KEYS)
    def watched_exec(self, k):
        """EXEC answers null when a write since WATCH touched a watched key (and unwatches)."""
        for cmd in ((b"MULTI",), (b"EXISTS", k), (b"EXEC",)):
            self.same(*cmd, watcher=True)

    # ------------------------------------------------------------ generic

    @rule(k=KEYS, cmd=st.sampled_from([b"TYPE", b"EXISTS"]))
    def type_exists(self, k, cmd):
        self.same(cmd, k)

    @rule(k=KEYS)
    def object_encoding(self, k):
        self.same(b"OBJECT", b"ENCODING", k)

    @rule(keys=KEY_LISTS)
    def delete(self, keys):
        self.same(b"DEL", *keys)
        self.audit(*keys)

    @rule()
    def dbsize(self):
        self.same(b"DBSIZE")

    @rule(k=KEYS, v=st.sampled_from([b"s", b"1"]))
    def set_string(self, k, v):
        """A string under a key: every collection command on it must fail with WRONGTYPE."""
        self.same(b"SET", k, v)
        self.audit(k)

    @rule(src=KEYS, dst=KEYS, replace=st.booleans())
    def copy(self, src, dst, replace):
        self.same(b"COPY", src, dst, *((b"REPLACE",) if replace else ()))
        self.audit(src, dst)

    @rule(src=KEYS, dst=KEYS)
    def rename(self, src, dst):
        self.same(b"RENAME", src, dst)
        self.audit(src, dst)

    # ------------------------------------------------------------ lists

    @rule(k=LKEYS, vals=st.lists(LIST_VALUES, min_size=1, max_size=4), cmd=st.sampled_from([b"LPUSH", b"RPUSH"]))
    def push(self, k, vals, cmd):
        self.same(cmd, k, *vals)
        self.audit(k)

    @rule(k=LKEYS, vals=st.lists(LIST_VALUES, min_size=1, max_size=2), cmd=st.sampled_from([b"LPUSHX", b"RPUSHX"]))
    def pushx(self, k, vals, cmd):
        self.same(cmd, k, *vals)
        self.audit(k)

    @rule(k=LKEYS, cmd=st.sampled_from([b"LPOP", b"RPOP"]), count=st.one_of(st.just(None), COUNTS))
    def pop(self, k, cmd, count):
        self.same(cmd, k, *(() if count is None else (count,)))
        self.audit(k)

    @rule(k=LKEYS, start=INDEXES, stop=INDEXES)
    def lrange(self, k, start, stop):
        self.same(b"LRANGE", k, start, stop)

    @rule(k=LKEYS, i=INDEXES)
    def llen_lindex(self, k, i):
        self.same(b"LLEN", k)
        self.same(b"LINDEX", k, i)

    @rule(k=LKEYS, i=INDEXES, v=LIST_VALUES)
    def lset(self, k, i, v):
        self.same(b"LSET", k, i, v)
        self.audit(k)

    @rule(k=LKEYS, where=st.sampled_from([b"BEFORE", b"AFTER", b"after", b"MIDDLE"]), pivot=LIST_VALUES,
          v=LIST_VALUES)
    def linsert(self, k, where, pivot, v):
        self.same(b"LINSERT", k, where, pivot, v)
        self.audit(k)

    @rule(k=LKEYS, count=st.sampled_from([b"0", b"1", b"-1", b"2", b"-2", b"abc"]), v=LIST_VALUES)
    def lrem(self, k, count, v):
        self.same(b"LREM", k, count, v)
        self.audit(k)

    @rule(k=LKEYS, start=INDEXES, stop=INDEXES)
    def ltrim(self, k, start, stop):
        self.same(b"LTRIM", k, start, stop)
        self.audit(k)

    @rule(src=LKEYS, dst=LKEYS, wf=END, wt=END)
    def lmove(self, src, dst, wf, wt):
        self.same(b"LMOVE", src, dst, wf, wt)
        self.audit(src, dst)

    @rule(src=LKEYS, dst=LKEYS)
    def rpoplpush(self, src, dst):
        self.same(b"RPOPLPUSH", src, dst)
        self.audit(src, dst)

    @rule(k=LKEYS, v=LIST_VALUES, opts=st.lists(st.sampled_from([
        (b"RANK", b"1"), (b"RANK", b"-1"), (b"RANK", b"2"), (b"RANK", b"0"), (b"COUNT", b"0"), (b"COUNT", b"2"),
        (b"MAXLEN", b"2"), (b"MAXLEN", b"0"), (b"COUNT", b"-1"), (b"BOGUS", b"1"),
    ]), max_size=3))
    def lpos(self, k, v, opts):
        self.same(b"LPOS", k, v, *[x for o in opts for x in o])

    @rule(keys=st.lists(LKEYS, min_size=1, max_size=2), where=st.sampled_from([b"LEFT", b"RIGHT", b"UP"]),
          count=st.sampled_from([(), (b"COUNT", b"1"), (b"COUNT", b"3"), (b"COUNT", b"0"), (b"COUNT", b"x")]))
    def lmpop(self, keys, where, count):
        self.same(b"LMPOP", b"%d" % len(keys), *keys, where, *count)
        self.audit(*keys)

    # ------------------------------------------------------------ hashes

    @rule(k=HKEYS, pairs=st.lists(st.tuples(FIELDS, HASH_VALUES), min_size=1, max_size=3),
          cmd=st.sampled_from([b"HSET", b"HMSET"]))
    def hset(self, k, pairs, cmd):
        self.same(cmd, k, *[x for p in pairs for x in p])
        self.audit(k)

    @rule(k=HKEYS)
    def hset_many(self, k):
        """Past hash-max-listpack-entries (128): the listpack becomes a hashtable."""
        self.same(b"HSET", k, *[x for i in range(130) for x in (b"g%d" % i, b"%d" % i)])
        self.audit(k)

    @rule(k=HKEYS, f=FIELDS, v=HASH_VALUES)
    def hsetnx(self, k, f, v):
        self.same(b"HSETNX", k, f, v)
        self.audit(k)

    @rule(k=HKEYS, fields=st.lists(FIELDS, min_size=1, max_size=3))
    def hdel(self, k, fields):
        self.same(b"HDEL", k, *fields)
        self.audit(k)

    @rule(k=HKEYS, f=FIELDS, n=INTS)
    def hincrby(self, k, f, n):
        self.same(b"HINCRBY", k, f, n)
        self.audit(k)

    @rule(k=HKEYS, f=FIELDS, x=FLOATS)
    def hincrbyfloat(self, k, f, x):
        self.same(b"HINCRBYFLOAT", k, f, x)
        self.audit(k)

    @rule(k=HKEYS, f=FIELDS, cmd=st.sampled_from([b"HGET", b"HEXISTS", b"HSTRLEN"]))
    def hget(self, k, f, cmd):
        self.same(cmd, k, f)

    @rule(k=HKEYS, fields=st.lists(FIELDS, min_size=1, max_size=3))
    def hmget(self, k, fields):
        self.same(b"HMGET", k, *fields)

    @rule(k=HKEYS)
    def hlen(self, k):
        self.same(b"HLEN", k)

    @rule(k=HKEYS, cmd=st.sampled_from([b"HGETALL", b"HKEYS", b"HVALS"]))
    def hgetall(self, k, cmd):
        """A listpack hash replies in insertion order (compared exactly); a hashtable in hash order."""
        if self.real_encoding(k) == b"hashtable":
            args = (cmd, k)
            self.same(*args, step=Pairs(args) if cmd == b"HGETALL" else Unordered(args))
        else:
            self.same(cmd, k)

    # ------------------------------------------------------------ sets

    @rule(k=SKEYS, ints=st.booleans())
    def sadd_many(self, k, ints):
        """Past set-max-intset-entries (512): the intset becomes a hashtable."""
        self.same(b"SADD", k, *[(b"%d" if ints else b"m%d") % i for i in range(520 if ints else 20)])
        self.audit(k)

    @rule(k=SKEYS, members=st.lists(SET_MEMBERS, min_size=1, max_size=4))
    def sadd(self, k, members):
        self.same(b"SADD", k, *members)
        self.audit(k)

    @rule(k=SKEYS, members=st.lists(SET_MEMBERS, min_size=1, max_size=3))
    def srem(self, k, members):
        self.same(b"SREM", k, *members)
        self.audit(k)

    @rule(k=SKEYS)
    def smembers(self, k):
        """An intset replies in ascending order (compared exactly); a hashtable in hash order."""
        if self.real_encoding(k) == b"hashtable":
            self.same(b"SMEMBERS", k, step=Unordered((b"SMEMBERS", k)))
        else:
            self.same(b"SMEMBERS", k)

    @rule(k=SKEYS, m=SET_MEMBERS)
    def scard_sismember(self, k, m):
        self.same(b"SCARD", k)
        self.same(b"SISMEMBER", k, m)

    @rule(k=SKEYS, members=st.lists(SET_MEMBERS, min_size=1, max_size=3))
    def smismember(self, k, members):
        self.same(b"SMISMEMBER", k, *members)

    @rule(src=SKEYS, dst=SKEYS, m=SET_MEMBERS)
    def smove(self, src, dst, m):
        self.same(b"SMOVE", src, dst, m)
        self.audit(src, dst)

    @rule(keys=SKEY_LISTS, cmd=st.sampled_from([b"SINTER", b"SUNION", b"SDIFF"]))
    def set_algebra(self, keys, cmd):
        args = (cmd, *keys)
        self.same(*args, step=Unordered(args))

    @rule(dst=SKEYS, keys=SKEY_LISTS, cmd=st.sampled_from([b"SINTERSTORE", b"SUNIONSTORE", b"SDIFFSTORE"]))
    def set_algebra_store(self, dst, keys, cmd):
        self.same(cmd, dst, *keys)
        self.audit(dst)

    @rule(keys=SKEY_LISTS, numkeys=st.sampled_from([None, b"0", b"5", b"x"]),
          limit=st.sampled_from([(), (b"LIMIT", b"1"), (b"LIMIT", b"0"), (b"LIMIT", b"-1")]))
    def sintercard(self, keys, numkeys, limit):
        self.same(b"SINTERCARD", numkeys if numkeys is not None else b"%d" % len(keys), *keys, *limit)

    @rule(k=SKEYS)
    def spop_all(self, k):
        """SPOP with a count >= the size takes the whole set: no randomness in the reply's content."""
        args = (b"SPOP", k, b"1000")  # sets here hold at most 531 members
        self.same(*args, step=Unordered(args))
        self.audit(k)

    # ------------------------------------------------------------ sorted sets

    @rule(k=ZKEYS, flags=ZADD_FLAGS, pairs=st.lists(st.tuples(SCORES, ZMEMBERS), min_size=1, max_size=3))
    def zadd(self, k, flags, pairs):
        self.same(b"ZADD", k, *flags, *[x for p in pairs for x in p])
        self.audit(k)

    @rule(k=ZKEYS)
    def zadd_many(self, k):
        """Past zset-max-listpack-entries (128): the listpack becomes a skiplist."""
        self.same(b"ZADD", k, *[x for i in range(130) for x in (b"0", b"n%d" % i)])
        self.audit(k)

    @rule(k=ZKEYS)
    def zadd_flat(self, k):
        """Every member of the alphabet at score 0: lex ranges become defined (see lex_defined)."""
        self.same(b"ZADD", k, *[x for m in (b"a", b"b", b"c", b"d", b"e", LONG) for x in (b"0", m)])
        self.audit(k)

    @rule(k=ZKEYS, scores=st.lists(st.sampled_from([b"0", b"1", b"2", b"-1"]), min_size=5, max_size=5))
    def zadd_mixed(self, k, scores):
        """Members a..e at mixed scores in a listpack: lex ranges follow its linear walk (see
        lex_defined)."""
        self.same(b"ZADD", k, *[x for s, m in zip(scores, (b"a", b"b", b"c", b"d", b"e")) for x in (s, m)])
        self.audit(k)

    @rule(k=ZKEYS, incr=SCORES, m=ZMEMBERS)
    def zincrby(self, k, incr, m):
        self.same(b"ZINCRBY", k, incr, m)
        self.audit(k)

    @rule(k=ZKEYS, members=st.lists(ZMEMBERS, min_size=1, max_size=3))
    def zrem(self, k, members):
        self.same(b"ZREM", k, *members)
        self.audit(k)

    @rule(k=ZKEYS, rng=st.one_of(
        st.tuples(INDEXES, INDEXES, st.just(()), RARE_LIMITS, WITHSCORES),
        st.tuples(SCORE_BOUNDS, SCORE_BOUNDS, st.just((b"BYSCORE",)), LIMITS, WITHSCORES),
        st.tuples(LEX_BOUNDS, LEX_BOUNDS, st.just((b"BYLEX",)), LIMITS, RARE_WITHSCORES),
    ), rev=st.sampled_from([(), (b"REV",)]))
    def zrange(self, k, rng, rev):
        """LIMIT without BYSCORE/BYLEX and WITHSCORES with BYLEX are errors: sometimes."""
        lo, hi, by, limit, ws = rng
        if by == (b"BYLEX",) and not self.lex_defined(k):
            return
        self.same(b"ZRANGE", k, lo, hi, *by, *rev, *limit, *ws)

    @rule(k=ZKEYS, lo=SCORE_BOUNDS, hi=SCORE_BOUNDS, rev=st.booleans(), limit=LIMITS, ws=WITHSCORES)
    def zrangebyscore(self, k, lo, hi, rev, limit, ws):
        self.same(b"ZREVRANGEBYSCORE" if rev else b"ZRANGEBYSCORE", k, lo, hi, *ws, *limit)

    @rule(k=ZKEYS, lo=LEX_BOUNDS, hi=LEX_BOUNDS, rev=st.booleans(), limit=LIMITS)
    def zrangebylex(self, k, lo, hi, rev, limit):
        if not self.lex_defined(k):
            return
        self.same(b"ZREVRANGEBYLEX" if rev else b"ZRANGEBYLEX", k, lo, hi, *limit)

    @rule(dst=ZKEYS, src=ZKEYS, lo=SCORE_BOUNDS, hi=SCORE_BOUNDS, rev=st.sampled_from([(), (b"REV",)]))
    def zrangestore(self, dst, src, lo, hi, rev):
        self.same(b"ZRANGESTORE", dst, src, lo, hi, b"BYSCORE", *rev)
        self.audit(dst)

    @rule(k=ZKEYS, lo=SCORE_BOUNDS, hi=SCORE_BOUNDS, llo=LEX_BOUNDS, lhi=LEX_BOUNDS)
    def zcounts(self, k, lo, hi, llo, lhi):
        self.same(b"ZCARD", k)
        self.same(b"ZCOUNT", k, lo, hi)
        if self.lex_defined(k):
            self.same(b"ZLEXCOUNT", k, llo, lhi)

    @rule(k=ZKEYS, m=ZMEMBERS, cmd=st.sampled_from([b"ZSCORE", b"ZRANK", b"ZREVRANK"]))
    def zscore_rank(self, k, m, cmd):
        self.same(cmd, k, m)

    @rule(k=ZKEYS, members=st.lists(ZMEMBERS, min_size=1, max_size=3))
    def zmscore(self, k, members):
        self.same(b"ZMSCORE", k, *members)

    @rule(k=ZKEYS, cmd=st.sampled_from([b"ZPOPMIN", b"ZPOPMAX"]), count=st.one_of(st.just(None), COUNTS))
    def zpop(self, k, cmd, count):
        self.same(cmd, k, *(() if count is None else (count,)))
        self.audit(k)

    @rule(keys=st.lists(ZKEYS, min_size=1, max_size=2), where=st.sampled_from([b"MIN", b"MAX", b"min", b"UP"]),
          count=st.sampled_from([(), (b"COUNT", b"1"), (b"COUNT", b"3"), (b"COUNT", b"0"), (b"COUNT", b"x")]))
    def zmpop(self, keys, where, count):
        self.same(b"ZMPOP", b"%d" % len(keys), *keys, where, *count)
        self.audit(*keys)

    @rule(k=ZKEYS, start=INDEXES, stop=INDEXES, ws=WITHSCORES)
    def zrevrange(self, k, start, stop, ws):
        self.same(b"ZREVRANGE", k, start, stop, *ws)

    @rule(keys=ZSKEY_LISTS, limit=st.sampled_from([(), (b"LIMIT", b"1"), (b"LIMIT", b"0"), (b"LIMIT", b"-1")]))
    def zintercard(self, keys, limit):
        self.same(b"ZINTERCARD", b"%d" % len(keys), *keys, *limit)

    @rule(k=ZKEYS, which=st.one_of(
        st.tuples(st.just(b"ZREMRANGEBYRANK"), INDEXES, INDEXES),
        st.tuples(st.just(b"ZREMRANGEBYSCORE"), SCORE_BOUNDS, SCORE_BOUNDS),
        st.tuples(st.just(b"ZREMRANGEBYLEX"), LEX_BOUNDS, LEX_BOUNDS),
    ))
    def zremrange(self, k, which):
        cmd, lo, hi = which
        if cmd == b"ZREMRANGEBYLEX" and not self.lex_defined(k):
            return
        self.same(cmd, k, lo, hi)
        self.audit(k)

    @rule(dst=ZKEYS, keys=ZSKEY_LISTS, cmd=st.sampled_from([b"ZUNIONSTORE", b"ZINTERSTORE", b"ZDIFFSTORE"]),
          numkeys=st.sampled_from([None, None, None, b"0", b"9", b"x"]),
          weights=st.one_of(st.just(()), st.lists(WEIGHTS, min_size=1, max_size=3)), agg=AGGREGATE)
    def zstore(self, dst, keys, cmd, numkeys, weights, agg):
        """Sets are valid inputs (every member scores 1); ZDIFFSTORE takes no WEIGHTS/AGGREGATE."""
        opts = () if cmd == b"ZDIFFSTORE" else ((b"WEIGHTS", *weights) if weights else ()) + agg
        self.same(cmd, dst, numkeys if numkeys is not None else b"%d" % len(keys), *keys, *opts)
        self.audit(dst)

    @rule(keys=ZSKEY_LISTS, cmd=st.sampled_from([b"ZUNION", b"ZINTER", b"ZDIFF"]), agg=AGGREGATE, ws=WITHSCORES)
    def zalgebra(self, keys, cmd, agg, ws):
        opts = agg if cmd != b"ZDIFF" else ()
        self.same(cmd, b"%d" % len(keys), *keys, *opts, *ws)

    # ------------------------------------------------------------ SCAN of one value

    @rule(k=KEYS, cmd=st.sampled_from([b"HSCAN", b"SSCAN", b"ZSCAN"]),
          opts=st.sampled_from([(), (b"COUNT", b"2"), (b"MATCH", b"*1*"), (b"MATCH", b"f?"), (b"COUNT", b"0")]))
    def scan_compact(self, k, cmd, opts):
        """A listpack or intset is returned whole by the first call (cursor 0), in its own order;
        a hashtable's cursor walk depends on Redis's hash function, so only compact values."""
        if self.real_encoding(k) in (b"listpack", b"intset", b""):
            self.same(cmd, k, b"0", *opts)

    # ------------------------------------------------------------ SORT

    @rule(k=KEYS, alpha=st.booleans(), desc=st.booleans(),
          limit=st.sampled_from([(), (b"LIMIT", b"0", b"2"), (b"LIMIT", b"1", b"10")]),
          store=st.one_of(st.just(()), st.tuples(st.just(b"STORE"), KEYS)))
    def sort(self, k, alpha, desc, limit, store):
        """SORT breaks ties between equal numbers by comparing the strings: deterministic for sets too."""
        self.same(b"SORT", k, *((b"ALPHA",) if alpha else ()), *((b"DESC",) if desc else ()), *limit, *store)
        self.audit(k, *store[1:])


@pytest.fixture
def machine(servers):
    real, ours = servers
    CompareCollections.real_port = real.port
    CompareCollections.our_port = ours.port
    return CompareCollections


def test_random_collection_sequences_match_redis(machine):
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=250,
            stateful_step_count=50,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
