"""Sorted set algebra and sampling (Redis 7.0's t_zset.c zunionInterDiffGenericCommand,
zrandmemberCommand, zmscoreCommand, and db.c's scanGenericCommand for ZSCAN).

ZUNION / ZINTER / ZDIFF / ZINTERCARD and their *STORE forms read sorted sets AND plain sets (a
set member scores 1.0); a missing key is an empty input; any other type is WRONGTYPE.

Quirks matched on purpose:

* Argument checks run in Redis's order: numkeys (not an integer; below 1: ``at least 1 input key
  is needed for '<cmd>' command``; more than the arguments left: syntax error), then every key
  is looked up (the first wrong type answers WRONGTYPE, before any option is read), then the
  options. ``WEIGHTS`` needs numkeys values after it (fewer: syntax error); WITHSCORES is a
  syntax error for the *STORE forms, WEIGHTS/AGGREGATE for ZDIFF and ZINTERCARD; a LIMIT that is
  not an integer or negative answers ``LIMIT can't be negative``.
* Inputs are visited from the smallest to the largest (a stable sort by size, as glibc's
  qsort), and each member's score is aggregated in that order: a weighted score that is NaN
  (``inf * 0``) counts as 0, and a SUM of ``inf`` and ``-inf`` is 0 (zunionInterAggregate), so
  with three inputs the order can change the result, as in Redis.
* ZDIFF keeps the first input's scores unweighted.
* The *STORE forms build a skiplist and turn it into a listpack when it is small enough
  (zsetConvertToListpackIfNeeded: entries and the longest member within the listpack limits),
  which writes a ``-0`` score as ``0``; the read-only forms reply the raw ``-0``. An empty result
  deletes the destination (a "del" event, dirty only when it existed); otherwise the
  destination (of any type) is replaced and loses its TTL, with a zunionstore / zinterstore /
  zdiffstore event.
* ZRANDMEMBER with a count: negative = with repeats, in random order; a count at least the
  size answers the whole set from the highest rank down (Redis's zset iterators start at the
  tail); a smaller positive count answers distinct members in rank order. WITHSCORES bounds the
  count to +-LONG_MAX/2 (``ERR value is out of range``). Redis would try to build a reply of
  billions of repeats until it runs out of memory; we refuse such counts with that same error.
* ZSCAN of a small (listpack) set answers everything at once, in rank order, cursor 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from sortedcontainers import SortedList

from ..client import Client
from ..datatypes import RedisSet, RedisZSet
from ..errors import RedisError, WrongTypeError, not_integer, syntax_error
from .args import option_word, parse_float, parse_int
from .keys import parse_scan_cursor
from .scan_collections import EMPTY_SCAN, format_score, scan_collection
from .table import DENYOOM, FAST, MOVABLE_KEYS, READONLY, WRITE, command
from .zsets import get_zset_read, scores_reply

LONG_MAX = 2**63 - 1
# ZRANDMEMBER negative counts beyond this could never be delivered (Redis runs out of memory).
MAX_REPEATS = 1 << 31

SET_OP_UNION = 0
SET_OP_INTER = 1
SET_OP_DIFF = 2

AGGR_SUM = 0
AGGR_MIN = 1
AGGR_MAX = 2

_STORE_EVENTS = {SET_OP_UNION: b"zunionstore", SET_OP_INTER: b"zinterstore", SET_OP_DIFF: b"zdiffstore"}


def _aggregate(target: float, val: float, aggregate: int) -> float:
    """zunionInterAggregate (C's comparisons: a NaN never replaces the target)."""
    if aggregate == AGGR_SUM:
        target = target + val
        return 0.0 if math.isnan(target) else target
    # min/max keep the first argument unless the second compares lower/higher: C's ternary.
    if aggregate == AGGR_MIN:
        return min(target, val)
    return max(target, val)


def _items(v: Any) -> Iterable[tuple[bytes, float]]:
    """(member, score) of one input; a set's members score 1.0."""
    if type(v) is RedisZSet:
        return v.dict.items()
    return ((m, 1.0) for m in v)


def _find(v: Any, member: bytes) -> float | None:
    """zuiFind: the member's score in an input, None when absent."""
    if type(v) is RedisZSet:
        return v.dict.get(member)
    return 1.0 if member in v else None


def _zset_op(c: Client, argv: list[bytes], dstkey: bytes | None, numkeys_index: int, op: int,
             cardinality_only: bool = False) -> Any:
    """zunionInterDiffGenericCommand."""
    setnum = parse_int(argv[numkeys_index])
    if setnum is None:
        raise not_integer()
    if setnum < 1:
        name = argv[0].decode("latin-1").lower()
        raise RedisError(f"ERR at least 1 input key is needed for '{name}' command")
    argc = len(argv)
    if setnum > argc - (numkeys_index + 1):
        raise syntax_error()

    db = c.db
    first = numkeys_index + 1
    values: list[Any] = []
    for key in argv[first:first + setnum]:
        v = db.lookup_read(key)
        if v is not None and type(v) is not RedisZSet and type(v) is not RedisSet:
            raise WrongTypeError()
        values.append(v)
    weights = [1.0] * setnum

    aggregate = AGGR_SUM
    withscores = False
    limit = 0
    j = first + setnum
    while j < argc:
        remaining = argc - j
        opt = option_word(argv[j])
        if op != SET_OP_DIFF and not cardinality_only and remaining >= setnum + 1 and opt == b"weights":
            j += 1
            for i in range(setnum):
                w = parse_float(argv[j])
                if w is None:
                    raise RedisError("ERR weight value is not a float")
                weights[i] = w
                j += 1
        elif op != SET_OP_DIFF and not cardinality_only and remaining >= 2 and opt == b"aggregate":
            a = option_word(argv[j + 1])
            if a == b"sum":
                aggregate = AGGR_SUM
            elif a == b"min":
                aggregate = AGGR_MIN
            elif a == b"max":
                aggregate = AGGR_MAX
            else:
                raise syntax_error()
            j += 2
        elif dstkey is None and not cardinality_only and opt == b"withscores":
            withscores = True
            j += 1
        elif cardinality_only and remaining >= 2 and opt == b"limit":
            n = parse_int(argv[j + 1])
            if n is None or n < 0:
                raise RedisError("ERR LIMIT can't be negative")
            limit = n
            j += 2
        else:
            raise syntax_error()

    # (value or None, weight), smallest first for union and intersection (a stable sort).
    srcs = [(v if v is not None else (), w) for v, w in zip(values, weights)]
    if op != SET_OP_DIFF:
        srcs.sort(key=lambda s: len(s[0]))

    result: dict[bytes, float] = {}
    if op == SET_OP_INTER:
        v0, w0 = srcs[0]
        if len(v0):
            rest = srcs[1:]
            cardinality = 0
            for m, s in _items(v0):
                score = w0 * s
                if math.isnan(score):
                    score = 0.0
                for v, w in rest:
                    if v is v0:
                        val = s * w
                    else:
                        found = _find(v, m)
                        if found is None:
                            break
                        val = found * w
                    score = _aggregate(score, val, aggregate)
                else:
                    if cardinality_only:
                        cardinality += 1
                        if limit and cardinality >= limit:
                            break
                    else:
                        result[m] = score
            if cardinality_only:
                return cardinality
        elif cardinality_only:
            return 0
    elif op == SET_OP_UNION:
        for v, w in srcs:
            for m, s in _items(v):
                score = w * s
                if math.isnan(score):
                    score = 0.0
                old = result.get(m)
                result[m] = score if old is None else _aggregate(old, score, aggregate)
    else:
        v0 = srcs[0][0]
        if len(v0):
            others = [v for v, _w in srcs[1:]]
            if not any(v is v0 for v in others):
                for m, s in _items(v0):
                    for v in others:
                        if _find(v, m) is not None:
                            break
                    else:
                        result[m] = s

    if dstkey is not None:
        return _store(c, dstkey, result, op)
    items = sorted((s, m) for m, s in result.items())
    return scores_reply(c, items, withscores)


def _store(c: Client, dstkey: bytes, result: dict[bytes, float], op: int) -> int:
    db = c.db
    state = c.state
    if not result:
        if db.delete(dstkey):
            state.signal_modified_key(db, dstkey)
            state.notify_keyspace_event("g", b"del", dstkey, db.id)
            state.dirty += 1
        return 0
    z = RedisZSet()
    z.dict = result
    z.sl = SortedList((s, m) for m, s in result.items())
    z.ht = True
    config = state.config
    if (len(result) <= config["zset-max-listpack-entries"]
            and max(map(len, result)) <= config["zset-max-listpack-value"]):
        z.convert_to_listpack()
    db.set_key(dstkey, z)
    state.notify_keyspace_event("z", _STORE_EVENTS[op], dstkey, db.id)
    state.dirty += 1
    return len(result)


# ---------------------------------------------------------------- the algebra


@command("zunionstore", arity=-4, flags=WRITE | DENYOOM | MOVABLE_KEYS, keys=(1, 1, 1), group="sorted-set")
def zunionstore_command(c: Client, argv: list[bytes]):
    """ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]"""
    return _zset_op(c, argv, argv[1], 2, SET_OP_UNION)


@command("zinterstore", arity=-4, flags=WRITE | DENYOOM | MOVABLE_KEYS, keys=(1, 1, 1), group="sorted-set")
def zinterstore_command(c: Client, argv: list[bytes]):
    """ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]"""
    return _zset_op(c, argv, argv[1], 2, SET_OP_INTER)


@command("zdiffstore", arity=-4, flags=WRITE | DENYOOM | MOVABLE_KEYS, keys=(1, 1, 1), group="sorted-set")
def zdiffstore_command(c: Client, argv: list[bytes]):
    """ZDIFFSTORE destination numkeys key [key ...]"""
    return _zset_op(c, argv, argv[1], 2, SET_OP_DIFF)


@command("zunion", arity=-3, flags=READONLY | MOVABLE_KEYS, keys=(0, 0, 0), group="sorted-set")
def zunion_command(c: Client, argv: list[bytes]):
    """ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]"""
    return _zset_op(c, argv, None, 1, SET_OP_UNION)


@command("zinter", arity=-3, flags=READONLY | MOVABLE_KEYS, keys=(0, 0, 0), group="sorted-set")
def zinter_command(c: Client, argv: list[bytes]):
    """ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]"""
    return _zset_op(c, argv, None, 1, SET_OP_INTER)


@command("zintercard", arity=-3, flags=READONLY | MOVABLE_KEYS, keys=(0, 0, 0), group="sorted-set")
def zintercard_command(c: Client, argv: list[bytes]):
    """ZINTERCARD numkeys key [key ...] [LIMIT limit]"""
    return _zset_op(c, argv, None, 1, SET_OP_INTER, cardinality_only=True)


@command("zdiff", arity=-3, flags=READONLY | MOVABLE_KEYS, keys=(0, 0, 0), group="sorted-set")
def zdiff_command(c: Client, argv: list[bytes]):
    """ZDIFF numkeys key [key ...] [WITHSCORES]"""
    return _zset_op(c, argv, None, 1, SET_OP_DIFF)


# ---------------------------------------------------------------- ZMSCORE / ZRANDMEMBER / ZSCAN


@command("zmscore", arity=-3, flags=READONLY | FAST, keys=(1, 1, 1), group="sorted-set")
def zmscore_command(c: Client, argv: list[bytes]):
    """ZMSCORE key member [member ...] (a double or a null per member)"""
    z = get_zset_read(c, argv[1])
    if z is None:
        return [None] * (len(argv) - 2)
    get = z.dict.get
    return [get(m) for m in argv[2:]]


@command("zrandmember", arity=-2, flags=READONLY, keys=(1, 1, 1), group="sorted-set")
def zrandmember_command(c: Client, argv: list[bytes]):
    """ZRANDMEMBER key [count [WITHSCORES]]"""
    if len(argv) >= 3:
        count = parse_int(argv[2])
        if count is None:
            raise not_integer()
        if count < -LONG_MAX:
            raise RedisError(f"ERR value is out of range, value must between {-LONG_MAX} and {LONG_MAX}")
        if len(argv) > 4 or (len(argv) == 4 and option_word(argv[3]) != b"withscores"):
            raise syntax_error()
        withscores = len(argv) == 4
        if withscores and (count < -(LONG_MAX // 2) or count > LONG_MAX // 2):  # C's -LONG_MAX/2
            raise RedisError("ERR value is out of range")
        return _zrandmember_count(c, argv[1], count, withscores)
    z = get_zset_read(c, argv[1])
    if z is None:
        return None
    return z.sl[c.state.random.randrange(len(z))][1]


def _zrandmember_count(c: Client, key: bytes, count: int, withscores: bool) -> Any:
    """zrandmemberWithCountCommand."""
    z = get_zset_read(c, key)
    if z is None or count == 0:
        return []
    rnd = c.state.random
    size = len(z)
    sl = z.sl
    if count < 0 or count == 1:
        n = -count if count < 0 else 1
        if n > MAX_REPEATS:
            raise RedisError("ERR value is out of range")
        picked = [sl[i] for i in rnd.choices(range(size), k=n)]
    elif count >= size:
        picked = list(reversed(sl))  # CASE 2: the whole set, from the tail as zuiNext walks
    else:
        picked = [sl[i] for i in sorted(rnd.sample(range(size), count))]
    return scores_reply(c, picked, withscores)


@command("zscan", arity=-3, flags=READONLY, keys=(1, 1, 1), group="sorted-set")
def zscan_command(c: Client, argv: list[bytes]):
    """ZSCAN key cursor [MATCH pattern] [COUNT count]"""
    cursor = parse_scan_cursor(argv[2])
    z = get_zset_read(c, argv[1])
    if z is None:
        return EMPTY_SCAN()
    d = z.dict
    if not z.ht:
        return scan_collection(c, argv, cursor, z, True, lambda: [m for _s, m in z.sl],
                               lambda m: format_score(d[m]))
    return scan_collection(c, argv, cursor, z, False, lambda: list(d),
                           lambda m: None if (s := d.get(m)) is None else format_score(s))
