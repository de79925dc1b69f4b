"""Sorted set commands (Redis 7.0's t_zset.c and its part of blocked.c), but for the set
algebra and sampling commands (ZUNION/ZINTER/ZDIFF & co, ZRANDMEMBER, ZSCAN, ZMSCORE: see
zset_ops.py, which uses the helpers here).

A sorted set is a ``RedisZSet`` (dict member -> score + a SortedList of (score, member)):
ranges by rank, score and lex are bisections of the SortedList, O(log N + M).

Quirks matched on purpose:

* Scores reply as Redis 7.0's addReplyDouble: ``%.17g`` (``1.1000000000000001``), ``inf``,
  ``-inf``; a RESP2 bulk string, a RESP3 double. A small (listpack) set stores ``-0`` as ``0``.
* Score ranges (ZRANGEBYSCORE, ZCOUNT, ...) are read with a bare ``strtod``: leading blanks,
  an empty string (0), hex and overflowing exponents (``1e400`` is inf) are accepted there,
  unlike the scores of ZADD. Only NaN and trailing junk are refused.
* ZRANGE WITHSCORES answers [member, score] pairs in RESP3 and a flat array in RESP2; so do
  ZPOPMIN/ZPOPMAX with a count; ZMPOP/BZMPOP answer [key, [[member, score], ...]] in both.
* LIMIT with a negative offset gives an empty range; a negative count means no limit.
* Propagation (checked in a real 7.0.15 AOF): ZMPOP and BZMPOP -> ZPOPMIN|ZPOPMAX key n,
  n the number actually popped (also when served after blocking); BZPOPMIN/BZPOPMAX ->
  ZPOPMIN|ZPOPMAX key; ZPOPMIN/ZPOPMAX propagate as sent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from ..blocking import NOT_READY, block_for_keys, parse_timeout
from ..client import CLIENT_DENY_BLOCKING, Client
from ..datatypes.zset import LEX_MAX, LEX_MIN, RedisZSet
from ..errors import RedisError, WrongTypeError, not_float, syntax_error
from ..resp import NULL_ARRAY
from .args import LLONG_MAX, option_word, parse_float, to_int, to_int_range
from .table import BLOCKING, DENYOOM, FAST, MOVABLE_KEYS, NOSCRIPT, READONLY, WRITE, command

__all__ = [
    "NAN_ERROR",
    "NOT_FLOAT_RANGE",
    "NOT_LEX_RANGE",
    "get_zset_read",
    "get_zset_write",
    "maybe_convert",
    "parse_lex_range",
    "parse_score",
    "parse_score_range",
    "score_reply",
    "scores_reply",
    "zset_add",
]

NAN_ERROR = "ERR resulting score is not a number (NaN)"
NOT_FLOAT_RANGE = "ERR min or max is not a float"
NOT_LEX_RANGE = "ERR min or max not valid string range item"
_POSITIVE = "ERR value is out of range, must be positive"

# zsetAdd input flags (ZADD_IN_*) and output flags (ZADD_OUT_*).
ZADD_IN_INCR = 1 << 0
ZADD_IN_NX = 1 << 1
ZADD_IN_XX = 1 << 2
ZADD_IN_GT = 1 << 3
ZADD_IN_LT = 1 << 4
ZADD_OUT_NOP = 1 << 0
ZADD_OUT_ADDED = 1 << 2
ZADD_OUT_UPDATED = 1 << 3

ZSET_MIN = False
ZSET_MAX = True

# zrange_type / direction
RANGE_AUTO = 0
RANGE_RANK = 1
RANGE_SCORE = 2
RANGE_LEX = 3
DIR_AUTO = 0
DIR_FORWARD = 1
DIR_REVERSE = 2


# ---------------------------------------------------------------- public helpers


def get_zset_read(c: Client, key: bytes) -> RedisZSet | None:
    """lookupKeyRead + checkType: the zset, None if missing, WRONGTYPE for another type."""
    v = c.db.lookup_read(key)
    if v is None or type(v) is RedisZSet:
        return v
    raise WrongTypeError()


def get_zset_write(c: Client, key: bytes) -> RedisZSet | None:
    """lookupKeyWrite + checkType."""
    v = c.db.lookup_write(key)
    if v is None or type(v) is RedisZSet:
        return v
    raise WrongTypeError()


def parse_score(b: bytes) -> float:
    """getDoubleFromObjectOrReply (string2d): ``ERR value is not a valid float`` for junk,
    NaN, blanks, or a value out of a double's range."""
    v = parse_float(b)
    if v is None:
        raise not_float()
    return v


def score_reply(score: float) -> float:
    """addReplyDouble: the reply value for a score (resp.py writes ``%.17g``, inf, -inf;
    a bulk string in RESP2, a double in RESP3)."""
    return score


def maybe_convert(z: RedisZSet, config: Any, member_len: int) -> None:
    """The listpack -> skiplist rule, one-way. Call it AFTER inserting a new member of
    ``member_len`` bytes: converts when the set now has more than zset-max-listpack-entries
    members or the member is longer than zset-max-listpack-value."""
    if not z.ht and (len(z) > config["zset-max-listpack-entries"] or member_len > config["zset-max-listpack-value"]):
        z.convert_to_skiplist()


def scores_reply(c: Client, items: Iterable[tuple[float, bytes]], withscores: bool) -> list[Any]:
    """Range reply: members; WITHSCORES gives [m, s, ...] in RESP2, [[m, s], ...] in RESP3."""
    if not withscores:
        return [m for _s, m in items]
    if c.resp > 2:
        return [[m, s] for s, m in items]
    out: list[Any] = []
    for s, m in items:
        out.append(m)
        out.append(s)
    return out


def zset_add(z: RedisZSet, score: float, ele: bytes, flags: int, config: Any) -> tuple[int, float]:
    """zsetAdd: (out flags, new score). NaN after an INCR raises NAN_ERROR. A new member
    first converts a listpack that would grow too big (so it keeps a -0 score)."""
    cur = z.dict.get(ele)
    if cur is not None:
        if flags & ZADD_IN_NX:
            return ZADD_OUT_NOP, score
        if flags & ZADD_IN_INCR:
            score += cur
            if math.isnan(score):
                raise RedisError(NAN_ERROR)
        if (flags & ZADD_IN_LT and score >= cur) or (flags & ZADD_IN_GT and score <= cur):
            return ZADD_OUT_NOP, score
        if score != cur:
            z.add(ele, score)
            return ZADD_OUT_UPDATED, score
        return 0, score
    if flags & ZADD_IN_XX:
        return ZADD_OUT_NOP, score
    if not z.ht and (len(z) + 1 > config["zset-max-listpack-entries"] or len(ele) > config["zset-max-listpack-value"]):
        z.convert_to_skiplist()
    z.add(ele, score)
    return ZADD_OUT_ADDED, score


_WS = b" \t\n\v\f\r"
_STRTOD_DEC = re.compile(rb"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity)", re.IGNORECASE)
_STRTOD_HEX = re.compile(rb"([+-]?)(0x(?:[0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(?:p[+-]?\d+)?)", re.IGNORECASE)


def _strtod_full(b: bytes) -> float | None:
    """``strtod(s, &eptr)`` with ``*eptr == '\\0'`` required and NaN refused (zslParseRange):
    the C string ends at a NUL; blanks may lead; "" reads as 0; overflow is +-inf."""
    nul = b.find(b"\0")
    if nul >= 0:
        b = b[:nul]
    if not b:
        return 0.0
    s = b.lstrip(_WS)
    if _STRTOD_DEC.fullmatch(s):
        return float(s)
    m = _STRTOD_HEX.fullmatch(s)
    if m:
        body = m.group(2).decode()
        if "p" not in body.lower():
            body += "p0"
        try:
            v = float.fromhex(body)
        except OverflowError:
            v = float("inf")
        return -v if m.group(1) == b"-" else v
    return None


def parse_score_range(min_b: bytes, max_b: bytes) -> tuple[float, bool, float, bool]:
    """zslParseRange: (min, min exclusive, max, max exclusive); ``(`` makes a bound exclusive.
    Raises ``ERR min or max is not a float``."""
    out: list[Any] = []
    for b in (min_b, max_b):
        ex = b[:1] == b"("
        v = _strtod_full(b[1:] if ex else b)
        if v is None:
            raise RedisError(NOT_FLOAT_RANGE)
        out += [v, ex]
    return out[0], out[1], out[2], out[3]


def _lex_item(b: bytes) -> tuple[Any, bool]:
    c = b[:1]
    if c == b"+":
        if len(b) > 1 and b[1] != 0:
            raise RedisError(NOT_LEX_RANGE)
        return LEX_MAX, True
    if c == b"-":
        if len(b) > 1 and b[1] != 0:
            raise RedisError(NOT_LEX_RANGE)
        return LEX_MIN, True
    if c == b"(":
        return b[1:], True
    if c == b"[":
        return b[1:], False
    raise RedisError(NOT_LEX_RANGE)


def parse_lex_range(min_b: bytes, max_b: bytes) -> tuple[Any, bool, Any, bool]:
    """zslParseLexRange: ``[x`` inclusive, ``(x`` exclusive, ``-`` / ``+`` the ends
    (datatypes.zset.LEX_MIN / LEX_MAX). Raises ``ERR min or max not valid string range item``."""
    lo, lo_ex = _lex_item(min_b)
    hi, hi_ex = _lex_item(max_b)
    return lo, lo_ex, hi, hi_ex


def _deleted_if_empty(c: Client, key: bytes, z: RedisZSet) -> bool:
    if len(z):
        return False
    c.db.delete(key)
    return True


# ---------------------------------------------------------------- ZADD, ZINCRBY


def _zadd_generic(c: Client, argv: list[bytes], flags: int) -> Any:
    key = argv[1]
    argc = len(argv)
    scoreidx = 2
    ch = False
    while scoreidx < argc:
        opt = option_word(argv[scoreidx])
        if opt == b"nx":
            flags |= ZADD_IN_NX
        elif opt == b"xx":
            flags |= ZADD_IN_XX
        elif opt == b"ch":
            ch = True
        elif opt == b"incr":
            flags |= ZADD_IN_INCR
        elif opt == b"gt":
            flags |= ZADD_IN_GT
        elif opt == b"lt":
            flags |= ZADD_IN_LT
        else:
            break
        scoreidx += 1
    incr = flags & ZADD_IN_INCR
    nx = flags & ZADD_IN_NX
    xx = flags & ZADD_IN_XX
    gt = flags & ZADD_IN_GT
    lt = flags & ZADD_IN_LT
    elements = argc - scoreidx
    if elements % 2 or not elements:
        raise syntax_error()
    elements //= 2
    if nx and xx:
        raise RedisError("ERR XX and NX options at the same time are not compatible")
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise RedisError("ERR GT, LT, and/or NX options at the same time are not compatible")
    if incr and elements > 1:
        raise RedisError("ERR INCR option supports a single increment-element pair")
    scores = [parse_score(argv[scoreidx + 2 * j]) for j in range(elements)]

    db = c.db
    state = c.state
    config = state.config
    z = get_zset_write(c, key)
    if z is None:
        if xx:
            return None if incr else 0
        z = RedisZSet()
        if config["zset-max-listpack-entries"] == 0 or config["zset-max-listpack-value"] < len(argv[scoreidx + 1]):
            z.convert_to_skiplist()
        db.add(key, z)
        existed = False
    else:
        existed = True
    added = updated = processed = 0
    score = 0.0
    for j in range(elements):
        out, newscore = zset_add(z, scores[j], argv[scoreidx + 1 + 2 * j], flags, config)
        if out & ZADD_OUT_ADDED:
            added += 1
        elif out & ZADD_OUT_UPDATED:
            updated += 1
        if not out & ZADD_OUT_NOP:
            processed += 1
            score = newscore
    if added or updated:
        state.dirty += added + updated
        state.signal_modified_key(db, key)
        state.notify_keyspace_event("z", b"zincr" if incr else b"zadd", key, db.id)
        if existed:
            state.signal_key_as_ready(db, key)
    if incr:
        return score if processed else None
    return added + updated if ch else added


@command("zadd", arity=-4, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="sorted-set")
def zadd_command(c: Client, argv: list[bytes]):
    """ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]"""
    if len(argv) == 4:
        # ZADD key score member, the common form: no option word parses as a float, so a
        # valid score here means no options; anything else takes the general road
        score = parse_float(argv[2])
        if score is not None:
            return _zadd_one(c, argv[1], score, argv[3])
    return _zadd_generic(c, argv, 0)


def _zadd_one(c: Client, key: bytes, score: float, member: bytes) -> int:
    """_zadd_generic for one score/member pair and no options."""
    db = c.db
    state = c.state
    config = state.config
    z = db.lookup_write(key)
    if z is None:
        z = RedisZSet()
        if config["zset-max-listpack-entries"] == 0 or config["zset-max-listpack-value"] < len(member):
            z.convert_to_skiplist()
        db.add(key, z)
        existed = False
    elif type(z) is not RedisZSet:
        raise WrongTypeError()
    else:
        existed = True
    out = zset_add(z, score, member, 0, config)[0]
    if out & (ZADD_OUT_ADDED | ZADD_OUT_UPDATED):
        state.dirty += 1
        if state.watched_keys:
            state.signal_modified_key(db, key)
        if state.notify_flags:
            state.notify_keyspace_event("z", b"zadd", key, db.id)
        if existed and state.blocking_keys:
            state.signal_key_as_ready(db, key)
    return 1 if out & ZADD_OUT_ADDED else 0


@command("zincrby", arity=4, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="sorted-set")
def zincrby_command(c: Client, argv: list[bytes]):
    """ZINCRBY key increment member (ZADD's code: "ZINCRBY k nx m" is a syntax error)"""
    return _zadd_generic(c, argv, ZADD_IN_INCR)


# ---------------------------------------------------------------- reads


@command("zscore", arity=3, flags=READONLY | FAST, keys=(1, 1, 1), group="sorted-set")
def zscore_command(c: Client, argv: list[bytes]):
    """ZSCORE key member"""
    z = get_zset_read(c, argv[1])
    if z is None:
        return None
    return z.dict.get(argv[2])


@command("zcard", arity=2, flags=READONLY | FAST, keys=(1, 1, 1), group="sorted-set")
def zcard_command(c: Client, argv: list[bytes]):
    """ZCARD key"""
    z = get_zset_read(c, argv[1])
    return 0 if z is None else len(z)


@command("zcount", arity=4, flags=READONLY | FAST, keys=(1, 1, 1), group="sorted-set")
def zcount_command(c: Client, argv: list[bytes]):
    """ZCOUNT key min max"""
    rng = parse_score_range(argv[2], argv[3])
    z = get_zset_read(c, argv[1])
    if z is None:
        return 0
    start, stop = z.score_bounds(*rng)
    return stop - start


@command("zlexcount", arity=4, flags=READONLY | FAST, keys=(1, 1, 1), group="sorted-set")
def zlexcount_command(c: Client, argv: list[bytes]):
    """ZLEXCOUNT key min max"""
    rng = parse_lex_range(argv[2], argv[3])
    z = get_zset_read(c, argv[1])
    if z is None:
        return 0
    start, stop = z.lex_bounds(*rng)
    return stop - start


def _rank(c: Client, argv: list[bytes], reverse: bool) -> Any:
    z = get_zset_read(c, argv[1])
    if z is None:
        return None
    r = z.rank(argv[2])
    if r is None:
        return None
    return len(z) - 1 - r if reverse else r


@command("zrank", arity=3, flags=READONLY | FAST, keys=(1, 1, 1), group="sorted-set")
def zrank_command(c: Client, argv: list[bytes]):
    """ZRANK key member (Redis 7.0: no WITHSCORE)"""
    return _rank(c, argv, False)


@command("zrevrank", arity=3, flags=READONLY | FAST, keys=(1, 1, 1), group="sorted-set")
def zrevrank_command(c: Client, argv: list[bytes]):
    """ZREVRANK key member"""
    return _rank(c, argv, True)


# ---------------------------------------------------------------- ranges


def _rank_slice(z: RedisZSet, start: int, end: int, reverse: bool) -> Iterable[tuple[float, bytes]]:
    """genericZrangebyrankCommand's index sanitizing; the (score, member) of the range."""
    llen = len(z)
    if start < 0:
        start += llen
    if end < 0:
        end += llen
    start = max(start, 0)
    if start > end or start >= llen:
        return ()
    if end >= llen:
        end = llen - 1
    if reverse:
        return z.slice(llen - 1 - end, llen - start, reverse=True)
    return z.slice(start, end + 1)


def _limited(z: RedisZSet, start: int, stop: int, offset: int, limit: int, reverse: bool):
    """Ranks [start, stop) after LIMIT offset count, walked forwards or backwards."""
    if offset < 0:
        return ()  # Redis skips "offset--" elements until the end: nothing is left
    n = stop - start - offset
    if limit >= 0:
        n = min(n, limit)
    if n <= 0:
        return ()
    if reverse:
        return z.slice(stop - offset - n, stop - offset, reverse=True)
    return z.slice(start + offset, start + offset + n)


def _zrange_generic(c: Client, argv: list[bytes], argc_start: int, store: bool, rangetype: int, direction: int) -> Any:
    """zrangeGenericCommand: every Z[REV]RANGE[BYSCORE|BYLEX] and ZRANGESTORE."""
    key = argv[argc_start]
    minidx = argc_start + 1
    maxidx = argc_start + 2
    withscores = False
    offset = 0
    limit = -1
    argc = len(argv)
    j = argc_start + 3
    while j < argc:
        leftargs = argc - j - 1
        opt = option_word(argv[j])
        if not store and opt == b"withscores":
            withscores = True
        elif opt == b"limit" and leftargs >= 2:
            offset = to_int(argv[j + 1])
            limit = to_int(argv[j + 2])
            j += 2
        elif direction == DIR_AUTO and opt == b"rev":
            direction = DIR_REVERSE
        elif rangetype == RANGE_AUTO and opt == b"bylex":
            rangetype = RANGE_LEX
        elif rangetype == RANGE_AUTO and opt == b"byscore":
            rangetype = RANGE_SCORE
        else:
            raise syntax_error()
        j += 1
    if direction == DIR_AUTO:
        direction = DIR_FORWARD
    if rangetype == RANGE_AUTO:
        rangetype = RANGE_RANK
    if limit != -1 and rangetype == RANGE_RANK:
        raise RedisError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
    if withscores and rangetype == RANGE_LEX:
        raise RedisError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    reverse = direction == DIR_REVERSE
    if reverse and rangetype != RANGE_RANK:
        minidx, maxidx = maxidx, minidx
    if rangetype == RANGE_RANK:
        start = to_int(argv[minidx])
        end = to_int(argv[maxidx])
    elif rangetype == RANGE_SCORE:
        rng: Any = parse_score_range(argv[minidx], argv[maxidx])
    else:
        rng = parse_lex_range(argv[minidx], argv[maxidx])

    z = get_zset_read(c, key)
    if z is None:
        items: Iterable[tuple[float, bytes]] = ()
    elif rangetype == RANGE_RANK:
        items = _rank_slice(z, start, end, reverse)
    elif rangetype == RANGE_SCORE:
        lo, hi = z.score_bounds(*rng)
        items = _limited(z, lo, hi, offset, limit, reverse)
    else:
        items = z.lex_range(*rng, offset, limit, reverse)
    if store:
        return _store_range(c, argv[1], list(items))
    return scores_reply(c, items, withscores)


def _store_range(c: Client, dst: bytes, items: list[tuple[float, bytes]]) -> int:
    """zrangeResultFinalizeStore: store the range in ``dst`` (a listpack until the insert
    rule converts it), or delete ``dst`` when the range is empty."""
    db = c.db
    state = c.state
    if not items:
        if db.delete(dst):
            state.signal_modified_key(db, dst)
            state.notify_keyspace_event("g", b"del", dst, db.id)
            state.dirty += 1
        return 0
    config = state.config
    entries = config["zset-max-listpack-entries"]
    maxval = config["zset-max-listpack-value"]
    # Elements are inserted in emission order; the set turns skiplist at the first insert
    # that would overflow the listpack, and the ones inserted before it had -0 made 0.
    conv = len(items)
    for i, (_s, m) in enumerate(items):
        if i + 1 > entries or len(m) > maxval:
            conv = i
            break
    z = RedisZSet()
    pairs = [(s + 0.0 if i < conv and s == 0 else s, m) for i, (s, m) in enumerate(items)]
    z.dict = {m: s for s, m in pairs}
    z.sl.update(pairs)
    z.ht = conv < len(items)
    db.set_key(dst, z)
    state.notify_keyspace_event("z", b"zrangestore", dst, db.id)
    state.dirty += 1
    return len(items)


@command("zrange", arity=-4, flags=READONLY, keys=(1, 1, 1), group="sorted-set")
def zrange_command(c: Client, argv: list[bytes]):
    """ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]"""
    return _zrange_generic(c, argv, 1, False, RANGE_AUTO, DIR_AUTO)


@command("zrangestore", arity=-5, flags=WRITE | DENYOOM, keys=(1, 2, 1), group="sorted-set")
def zrangestore_command(c: Client, argv: list[bytes]):
    """ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]"""
    return _zrange_generic(c, argv, 2, True, RANGE_AUTO, DIR_AUTO)


@command("zrevrange", arity=-4, flags=READONLY, keys=(1, 1, 1), group="sorted-set")
def zrevrange_command(c: Client, argv: list[bytes]):
    """ZREVRANGE key start stop [WITHSCORES]"""
    return _zrange_generic(c, argv, 1, False, RANGE_RANK, DIR_REVERSE)


@command("zrangebyscore", arity=-4, flags=READONLY, keys=(1, 1, 1), group="sorted-set")
def zrangebyscore_command(c: Client, argv: list[bytes]):
    """ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]"""
    return _zrange_generic(c, argv, 1, False, RANGE_SCORE, DIR_FORWARD)


@command("zrevrangebyscore", arity=-4, flags=READONLY, keys=(1, 1, 1), group="sorted-set")
def zrevrangebyscore_command(c: Client, argv: list[bytes]):
    """ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]"""
    return _zrange_generic(c, argv, 1, False, RANGE_SCORE, DIR_REVERSE)


@command("zrangebylex", arity=-4, flags=READONLY, keys=(1, 1, 1), group="sorted-set")
def zrangebylex_command(c: Client, argv: list[bytes]):
    """ZRANGEBYLEX key min max [LIMIT offset count]"""
    return _zrange_generic(c, argv, 1, False, RANGE_LEX, DIR_FORWARD)


@command("zrevrangebylex", arity=-4, flags=READONLY, keys=(1, 1, 1), group="sorted-set")
def zrevrangebylex_command(c: Client, argv: list[bytes]):
    """ZREVRANGEBYLEX key max min [LIMIT offset count]"""
    return _zrange_generic(c, argv, 1, False, RANGE_LEX, DIR_REVERSE)


# ---------------------------------------------------------------- removal


@command("zrem", arity=-3, flags=WRITE | FAST, keys=(1, 1, 1), group="sorted-set")
def zrem_command(c: Client, argv: list[bytes]):
    """ZREM key member [member ...]"""
    key = argv[1]
    z = get_zset_write(c, key)
    if z is None:
        return 0
    deleted = 0
    removed = False
    for m in argv[2:]:
        if z.remove(m):
            deleted += 1
        if not len(z):
            c.db.delete(key)
            removed = True
            break
    if deleted:
        state = c.state
        state.notify_keyspace_event("z", b"zrem", key, c.db.id)
        if removed:
            state.notify_keyspace_event("g", b"del", key, c.db.id)
        state.signal_modified_key(c.db, key)
        state.dirty += deleted
    return deleted


def _zremrange_generic(c: Client, argv: list[bytes], rangetype: int) -> int:
    """zremrangeGenericCommand: ZREMRANGEBYRANK / BYSCORE / BYLEX."""
    key = argv[1]
    if rangetype == RANGE_RANK:
        event = b"zremrangebyrank"
        start = to_int(argv[2])
        end = to_int(argv[3])
    elif rangetype == RANGE_SCORE:
        event = b"zremrangebyscore"
        rng: Any = parse_score_range(argv[2], argv[3])
    else:
        event = b"zremrangebylex"
        rng = parse_lex_range(argv[2], argv[3])
    z = get_zset_write(c, key)
    if z is None:
        return 0
    if rangetype == RANGE_RANK:
        llen = len(z)
        if start < 0:
            start += llen
        if end < 0:
            end += llen
        start = max(start, 0)
        if start > end or start >= llen:
            return 0
        if end >= llen:
            end = llen - 1
        lo, hi = start, end + 1
    elif rangetype == RANGE_SCORE:
        lo, hi = z.score_bounds(*rng)
    else:
        lo, hi = z.lex_bounds(*rng)
    deleted = z.delete_range(lo, hi)
    db = c.db
    state = c.state
    if deleted:
        removed = _deleted_if_empty(c, key, z)
        state.signal_modified_key(db, key)
        state.notify_keyspace_event("z", event, key, db.id)
        if removed:
            state.notify_keyspace_event("g", b"del", key, db.id)
    state.dirty += deleted
    return deleted


@command("zremrangebyrank", arity=4, flags=WRITE, keys=(1, 1, 1), group="sorted-set")
def zremrangebyrank_command(c: Client, argv: list[bytes]):
    """ZREMRANGEBYRANK key start stop"""
    return _zremrange_generic(c, argv, RANGE_RANK)


@command("zremrangebyscore", arity=4, flags=WRITE, keys=(1, 1, 1), group="sorted-set")
def zremrangebyscore_command(c: Client, argv: list[bytes]):
    """ZREMRANGEBYSCORE key min max"""
    return _zremrange_generic(c, argv, RANGE_SCORE)


@command("zremrangebylex", arity=4, flags=WRITE, keys=(1, 1, 1), group="sorted-set")
def zremrangebylex_command(c: Client, argv: list[bytes]):
    """ZREMRANGEBYLEX key min max"""
    return _zremrange_generic(c, argv, RANGE_LEX)


# ---------------------------------------------------------------- pops


def _pop(c: Client, key: bytes, z: RedisZSet, where: bool, count: int) -> list[tuple[bytes, float]]:
    """The removal part of genericZpopCommand: pops min(count, len) elements (count >= 1),
    dirty++ each, the zpopmin/zpopmax event once, then ``del`` if the set is emptied."""
    db = c.db
    state = c.state
    out = []
    for _ in range(min(count, len(z))):
        s, m = z.pop(where)
        out.append((m, s))
    state.dirty += len(out)
    state.notify_keyspace_event("z", b"zpopmax" if where else b"zpopmin", key, db.id)
    state.signal_modified_key(db, key)
    if not len(z):
        db.delete(key)
        state.notify_keyspace_event("g", b"del", key, db.id)
    return out


def _first_zset(c: Client, keys: list[bytes]) -> tuple[bytes, RedisZSet] | None:
    """The first existing key; WRONGTYPE stops the search at a key of another type."""
    for key in keys:
        z = get_zset_write(c, key)
        if z is not None:
            return key, z
    return None


def _zpop_command(c: Client, argv: list[bytes], where: bool) -> Any:
    """zpopMinMaxCommand: ZPOPMIN/ZPOPMAX key [count]."""
    if len(argv) > 3:
        raise syntax_error()
    count = -1
    if len(argv) == 3:
        count = to_int_range(argv[2], 0, LLONG_MAX, _POSITIVE)
    nested = c.resp > 2 and count != -1
    found = _first_zset(c, argv[1:2])
    if found is None or count == 0:
        return []
    key, z = found
    popped = _pop(c, key, z, where, 1 if count == -1 else count)
    if nested:
        return [[m, s] for m, s in popped]
    return [x for pair in popped for x in pair]


@command("zpopmin", arity=-2, flags=WRITE | FAST, keys=(1, 1, 1), group="sorted-set")
def zpopmin_command(c: Client, argv: list[bytes]):
    """ZPOPMIN key [count]"""
    return _zpop_command(c, argv, ZSET_MIN)


@command("zpopmax", arity=-2, flags=WRITE | FAST, keys=(1, 1, 1), group="sorted-set")
def zpopmax_command(c: Client, argv: list[bytes]):
    """ZPOPMAX key [count]"""
    return _zpop_command(c, argv, ZSET_MAX)


def _parse_mpop(argv: list[bytes], numkeys_idx: int) -> tuple[list[bytes], bool, int]:
    """zmpopGenericCommand's parsing: (keys, where, count)."""
    numkeys = to_int_range(argv[numkeys_idx], 1, LLONG_MAX, "ERR numkeys should be greater than 0")
    where_idx = numkeys_idx + numkeys + 1
    argc = len(argv)
    if where_idx >= argc:
        raise syntax_error()
    w = option_word(argv[where_idx])
    if w == b"min":
        where = ZSET_MIN
    elif w == b"max":
        where = ZSET_MAX
    else:
        raise syntax_error()
    count = -1
    j = where_idx + 1
    while j < argc:
        if count == -1 and option_word(argv[j]) == b"count" and argc - 1 - j:
            j += 1
            count = to_int_range(argv[j], 1, LLONG_MAX, "ERR count should be greater than 0")
        else:
            raise syntax_error()
        j += 1
    if count == -1:
        count = 1
    return argv[numkeys_idx + 1 : where_idx], where, count


def _pop_name(where: bool) -> bytes:
    return b"ZPOPMAX" if where else b"ZPOPMIN"


@command("zmpop", arity=-4, flags=WRITE | MOVABLE_KEYS, keys=(0, 0, 0), group="sorted-set")
def zmpop_command(c: Client, argv: list[bytes]):
    """ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]"""
    keys, where, count = _parse_mpop(argv, 1)
    found = _first_zset(c, keys)
    if found is None:
        return NULL_ARRAY
    key, z = found
    popped = _pop(c, key, z, where, count)
    c.state.rewrite_propagation([_pop_name(where), key, b"%d" % len(popped)])
    return [key, [[m, s] for m, s in popped]]


# ---------------------------------------------------------------- blocking pops


def _blocking_zpop(c: Client, keys: list[bytes], where: bool, timeout_arg: bytes, count: int) -> Any:
    """blockingGenericZpopCommand: BZPOPMIN/BZPOPMAX (count -1) and BZMPOP (count >= 1)."""
    timeout = parse_timeout(timeout_arg)
    state = c.state
    for key in keys:
        z = get_zset_write(c, key)
        if not z:
            continue
        if count == -1:
            ((m, s),) = _pop(c, key, z, where, 1)
            state.rewrite_propagation([_pop_name(where), key])
            return [key, m, s]
        popped = _pop(c, key, z, where, count)
        state.rewrite_propagation([_pop_name(where), key, b"%d" % len(popped)])
        return [key, [[m, s] for m, s in popped]]
    if c.flags & CLIENT_DENY_BLOCKING:
        return NULL_ARRAY

    def serve(key: bytes) -> Any:
        """serveClientsBlockedOnSortedSet: pop for the waiter, propagate the pop it did."""
        db = c.db
        z = db.peek(key)
        if type(z) is not RedisZSet or not z:
            return NOT_READY
        if count == -1:
            ((m, s),) = _pop(c, key, z, where, 1)
            state.propagate(db.id, [_pop_name(where), key])
            return [key, m, s]
        popped = _pop(c, key, z, where, count)
        state.propagate(db.id, [_pop_name(where), key, b"%d" % len(popped)])
        return [key, [[m, s] for m, s in popped]]

    return block_for_keys(c, keys, timeout, serve, NULL_ARRAY)


@command("bzpopmin", arity=-3, flags=WRITE | NOSCRIPT | BLOCKING | FAST, keys=(1, -2, 1), group="sorted-set")
def bzpopmin_command(c: Client, argv: list[bytes]):
    """BZPOPMIN key [key ...] timeout"""
    return _blocking_zpop(c, argv[1:-1], ZSET_MIN, argv[-1], -1)


@command("bzpopmax", arity=-3, flags=WRITE | NOSCRIPT | BLOCKING | FAST, keys=(1, -2, 1), group="sorted-set")
def bzpopmax_command(c: Client, argv: list[bytes]):
    """BZPOPMAX key [key ...] timeout"""
    return _blocking_zpop(c, argv[1:-1], ZSET_MAX, argv[-1], -1)


@command("bzmpop", arity=-5, flags=WRITE | BLOCKING | MOVABLE_KEYS, keys=(0, 0, 0), group="sorted-set")
def bzmpop_command(c: Client, argv: list[bytes]):
    """BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]"""
    keys, where, count = _parse_mpop(argv, 2)
    return _blocking_zpop(c, keys, where, argv[1], count)
