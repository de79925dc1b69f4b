"""Set commands (Redis 7.0's t_set.c).

A set is a ``datatypes.RedisSet`` (a Python set of bytes with Redis's intset/hashtable
encoding flag, see its docstring). Replies follow 7.0.15 exactly:

* SMEMBERS, SINTER, SUNION, SDIFF and SPOP with a count answer a set (RESP3 ``~``);
  SRANDMEMBER with a count answers an array, even when empty or the key is missing.
* Output order is the iteration order of the set Redis walks: SINTER walks the smallest input
  (ties: the first given), SUNION/SDIFF walk the result set they built. An intset walks in
  ascending numeric order, so small integer results come out sorted, as in Redis.
* SPOP propagates as ``SREM key member`` (one per popped member), or as DEL/UNLINK when the
  whole set is popped; its dirty count is the number of members removed.
* The *STORE commands replace the destination whatever its type (dropping its TTL), or delete
  it (and fire ``del``) when the result is empty; the stored set is encoded from its contents
  (a set of few integers is an intset even if its inputs were hashtables).
"""

from __future__ import annotations

from typing import Any

from ..client import Client
from ..datatypes import RedisSet, _is_canonical_int
from ..errors import RedisError, WrongTypeError, not_integer, syntax_error
from ..resp import RespSet
from .args import LLONG_MIN, parse_int
from .keys import parse_scan_cursor
from .scan_collections import EMPTY_SCAN, scan_collection
from .table import DENYOOM, FAST, MOVABLE_KEYS, READONLY, WRITE, command

# t_set.c's strategy constants (they decide encodings and orders, so they matter).
SPOP_MOVE_STRATEGY_MUL = 5

SET_OP_UNION = 0
SET_OP_DIFF = 1

MUST_BE_POSITIVE = "ERR value is out of range, must be positive"


def _max_intset(c: Client) -> int:
    return c.state.config["set-max-intset-entries"]


def _read_set(c: Client, key: bytes) -> RedisSet | None:
    s = c.db.lookup_read(key)
    if s is not None and type(s) is not RedisSet:
        raise WrongTypeError()
    return s


def _write_set(c: Client, key: bytes) -> RedisSet | None:
    s = c.db.lookup_write(key)
    if s is not None and type(s) is not RedisSet:
        raise WrongTypeError()
    return s


def _delete_emptied(c: Client, key: bytes) -> None:
    """A set emptied by a command goes, with a ``del`` event (the caller signals)."""
    c.db.delete(key)
    c.state.notify_keyspace_event("g", b"del", key, c.db.id)


# ---------------------------------------------------------------- single-key commands


@command("sadd", arity=-3, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="set")
def sadd_command(c: Client, argv: list[bytes]) -> Any:
    """SADD key member [member ...]"""
    key = argv[1]
    db = c.db
    s = _write_set(c, key)
    if s is None:
        s = RedisSet()
        db.add(key, s)
    if s.ht:  # no encoding to watch: add in C
        n = len(s)
        s.update(argv[2:])
        added = len(s) - n
    else:
        max_intset = _max_intset(c)
        added = 0
        for m in argv[2:]:
            if s.add_member(m, max_intset):
                added += 1
    if added:
        state = c.state
        state.signal_modified_key(db, key)
        state.notify_keyspace_event("s", b"sadd", key, db.id)
        state.dirty += added
    return added


@command("srem", arity=-3, flags=WRITE | FAST, keys=(1, 1, 1), group="set")
def srem_command(c: Client, argv: list[bytes]) -> Any:
    """SREM key member [member ...]"""
    key = argv[1]
    s = _write_set(c, key)
    if s is None:
        return 0
    deleted = 0
    removed = False
    for m in argv[2:]:
        if m in s:
            s.discard(m)
            deleted += 1
            if not s:
                c.db.delete(key)
                removed = True
                break  # later members are not even looked at (nor counted)
    if deleted:
        state = c.state
        db = c.db
        state.signal_modified_key(db, key)
        state.notify_keyspace_event("s", b"srem", key, db.id)
        if removed:
            state.notify_keyspace_event("g", b"del", key, db.id)
        state.dirty += deleted
    return deleted


@command("smove", arity=4, flags=WRITE | FAST, keys=(1, 2, 1), group="set")
def smove_command(c: Client, argv: list[bytes]) -> Any:
    """SMOVE source destination member"""
    src_key, dst_key, m = argv[1], argv[2], argv[3]
    db = c.db
    state = c.state
    src = db.lookup_write(src_key)
    dst = db.lookup_write(dst_key)
    if src is None:  # a missing source answers 0 whatever the destination holds
        return 0
    if type(src) is not RedisSet or (dst is not None and type(dst) is not RedisSet):
        raise WrongTypeError()
    if src is dst:
        return 1 if m in src else 0
    if m not in src:
        return 0
    src.discard(m)
    state.notify_keyspace_event("s", b"srem", src_key, db.id)
    if not src:
        _delete_emptied(c, src_key)
    if dst is None:
        dst = RedisSet()
        db.add(dst_key, dst)
    state.signal_modified_key(db, src_key)
    state.signal_modified_key(db, dst_key)
    state.dirty += 1
    if dst.add_member(m, _max_intset(c)):
        state.dirty += 1
        state.notify_keyspace_event("s", b"sadd", dst_key, db.id)
    return 1


@command("sismember", arity=3, flags=READONLY | FAST, keys=(1, 1, 1), group="set")
def sismember_command(c: Client, argv: list[bytes]) -> Any:
    """SISMEMBER key member"""
    s = _read_set(c, argv[1])
    return 1 if s is not None and argv[2] in s else 0


@command("smismember", arity=-3, flags=READONLY | FAST, keys=(1, 1, 1), group="set")
def smismember_command(c: Client, argv: list[bytes]) -> Any:
    """SMISMEMBER key member [member ...] (a missing key is an empty set: all zeros)"""
    s = _read_set(c, argv[1])
    if s is None:
        return [0] * (len(argv) - 2)
    return [1 if m in s else 0 for m in argv[2:]]


@command("scard", arity=2, flags=READONLY | FAST, keys=(1, 1, 1), group="set")
def scard_command(c: Client, argv: list[bytes]) -> Any:
    """SCARD key"""
    s = _read_set(c, argv[1])
    return 0 if s is None else len(s)


@command("smembers", arity=2, flags=READONLY, keys=(1, 1, 1), group="set")
def smembers_command(c: Client, argv: list[bytes]) -> Any:
    """SMEMBERS key (Redis runs SINTER with one key)"""
    s = _read_set(c, argv[1])
    if s is None:
        return RespSet()
    return RespSet(s.members())


# ---------------------------------------------------------------- random members


@command("spop", arity=-2, flags=WRITE | FAST, keys=(1, 1, 1), group="set")
def spop_command(c: Client, argv: list[bytes]) -> Any:
    """SPOP key [count]"""
    if len(argv) == 3:
        return _spop_with_count(c, argv)
    if len(argv) > 3:
        raise syntax_error()
    key = argv[1]
    s = _write_set(c, key)
    if s is None:
        return None
    state = c.state
    db = c.db
    m = s.pop_random(state.random)
    state.notify_keyspace_event("s", b"spop", key, db.id)
    state.rewrite_propagation([b"SREM", key, m])
    if not s:
        _delete_emptied(c, key)
    state.signal_modified_key(db, key)
    state.dirty += 1
    return m


def _spop_with_count(c: Client, argv: list[bytes]) -> Any:
    """spopWithCountCommand: the count is parsed before the key is looked up."""
    count = parse_int(argv[2])
    if count is None or count < 0:
        raise RedisError(MUST_BE_POSITIVE)
    key = argv[1]
    s = _write_set(c, key)
    if s is None or count == 0:
        return RespSet()
    state = c.state
    db = c.db
    size = len(s)
    state.notify_keyspace_event("s", b"spop", key, db.id)
    if count >= size:
        # The whole set; propagated as DEL (UNLINK with lazyfree-lazy-server-del).
        state.dirty += size
        out = RespSet(s.members())
        _delete_emptied(c, key)
        state.rewrite_propagation([b"UNLINK" if state.config["lazyfree-lazy-server-del"] else b"DEL", key])
        state.signal_modified_key(db, key)
        return out
    state.dirty += count
    rng = state.random
    remaining = size - count
    if remaining * SPOP_MOVE_STRATEGY_MUL > count:
        # CASE 2: pop random members one by one; the set keeps its encoding.
        popped = [s.pop_random(rng) for _ in range(count)]
    else:
        # CASE 3: Redis draws the members to keep into a new set (encoded afresh: a hashtable
        # left with a few integers becomes an intset) and replies the rest in its old order.
        keep = set(rng.sample(s.pool(), remaining))
        popped = [m for m in s.members() if m not in keep]
        s.difference_update(popped)
        s.reencode(_max_intset(c))
    state.rewrite_propagation(*[[b"SREM", key, m] for m in popped])
    state.signal_modified_key(db, key)
    return RespSet(popped)


@command("srandmember", arity=-2, flags=READONLY, keys=(1, 1, 1), group="set")
def srandmember_command(c: Client, argv: list[bytes]) -> Any:
    """SRANDMEMBER key [count]"""
    if len(argv) == 3:
        return _srandmember_with_count(c, argv)
    if len(argv) > 3:
        raise syntax_error()
    s = _read_set(c, argv[1])
    if s is None:
        return None
    return s.random_member(c.state.random)


def _srandmember_with_count(c: Client, argv: list[bytes]) -> Any:
    """srandmemberWithCountCommand: a negative count may repeat members. Every reply is an
    array in 7.0.15 (RESP3 included), even the empty one for a missing key."""
    n = parse_int(argv[2])
    if n is None:
        raise not_integer()
    if n == LLONG_MIN:  # getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX)
        raise RedisError(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
        )
    s = _read_set(c, argv[1])
    if s is None or n == 0:
        return []
    rng = c.state.random
    if n < 0 or n == 1:
        pool = s.pool()
        size = len(pool)
        return [pool[rng.randrange(size)] for _ in range(-n if n < 0 else 1)]
    if n >= len(s):
        return s.members()
    return rng.sample(s.pool(), n)


# ---------------------------------------------------------------- multi-key operations


def _lookup_all(c: Client, keys: list[bytes]) -> list[RedisSet | None]:
    """Every key is looked up and type-checked (a WRONGTYPE anywhere wins over a missing key).
    The *STORE variants read their sources with lookupKeyRead too (keyspace hits/misses)."""
    lookup = c.db.lookup_read
    out = []
    for k in keys:
        s = lookup(k)
        if s is not None and type(s) is not RedisSet:
            raise WrongTypeError()
        out.append(s)
    return out


def _intersection(sets: list[RedisSet], limit: int = 0) -> list[bytes]:
    """sinterGenericCommand's walk: the smallest set (the first of equal ones) in its own
    order, kept where every other set has the member; stop at ``limit`` members if nonzero."""
    ordered = sorted(sets, key=len)
    first = ordered[0]
    others = [s for s in ordered[1:] if s is not first]
    if not limit:  # the whole result: C-level intersection, then the walk's order
        common = first.intersection(*others)
        return sorted(common, key=int) if not first.ht else list(common)
    walk = first.members() if not first.ht else first
    out = []
    for m in walk:
        for s in others:
            if m not in s:
                break
        else:
            out.append(m)
            if limit and len(out) >= limit:
                break
    return out


def _store(c: Client, dst: bytes, members: Any, event: bytes, built: RedisSet | None = None) -> int:
    """Store a *STORE result (setKey: any old value and its TTL go) or delete the destination
    when the result is empty."""
    state = c.state
    db = c.db
    s = built if built is not None else RedisSet.from_members(members, _max_intset(c))
    if s:
        db.set_key(dst, s)
        state.notify_keyspace_event("s", event, dst, db.id)
        state.dirty += 1
        return len(s)
    if db.delete(dst):
        state.dirty += 1
        state.signal_modified_key(db, dst)
        state.notify_keyspace_event("g", b"del", dst, db.id)
    return 0


def _sinter_generic(c: Client, keys: list[bytes], dst: bytes | None) -> Any:
    sets = _lookup_all(c, keys)
    if any(s is None for s in sets):  # intersecting with an empty set
        if dst is None:
            return RespSet()
        db = c.db
        if db.delete(dst):
            c.state.signal_modified_key(db, dst)
            c.state.notify_keyspace_event("g", b"del", dst, db.id)
            c.state.dirty += 1
        return 0
    result = _intersection(sets)  # type: ignore[arg-type]
    if dst is None:
        return RespSet(result)
    return _store(c, dst, result, b"sinterstore")


@command("sinter", arity=-2, flags=READONLY, keys=(1, -1, 1), group="set")
def sinter_command(c: Client, argv: list[bytes]) -> Any:
    """SINTER key [key ...]"""
    return _sinter_generic(c, argv[1:], None)


@command("sinterstore", arity=-3, flags=WRITE | DENYOOM, keys=(1, -1, 1), group="set")
def sinterstore_command(c: Client, argv: list[bytes]) -> Any:
    """SINTERSTORE destination key [key ...]"""
    return _sinter_generic(c, argv[2:], argv[1])


@command("sintercard", arity=-3, flags=READONLY | MOVABLE_KEYS, group="set")
def sintercard_command(c: Client, argv: list[bytes]) -> Any:
    """SINTERCARD numkeys key [key ...] [LIMIT limit]"""
    numkeys = parse_int(argv[1])
    if numkeys is None or numkeys < 1:
        raise RedisError("ERR numkeys should be greater than 0")
    if numkeys > len(argv) - 2:
        raise RedisError("ERR Number of keys can't be greater than number of args")
    limit = 0
    j = 2 + numkeys
    argc = len(argv)
    while j < argc:
        if argv[j].lower() == b"limit" and j < argc - 1:
            j += 1
            limit = parse_int(argv[j])  # type: ignore[assignment]
            if limit is None or limit < 0:
                raise RedisError("ERR LIMIT can't be negative")
        else:
            raise syntax_error()
        j += 1
    sets = _lookup_all(c, argv[2 : 2 + numkeys])
    if any(s is None for s in sets):
        return 0
    return len(_intersection(sets, limit))  # type: ignore[arg-type]


def _sunion_diff_generic(c: Client, keys: list[bytes], dst: bytes | None, op: int) -> Any:
    """sunionDiffGenericCommand: the result is a new set (its encoding, and so an intset's
    sorted order, follows how Redis builds it)."""
    sets = _lookup_all(c, keys)
    max_intset = _max_intset(c)
    if op == SET_OP_UNION:
        result = RedisSet()
        for s in sets:
            if s:
                result.update(s)
        result.reencode(max_intset)
    else:
        result = _diff(sets, max_intset)
    if dst is None:
        return RespSet(result.members())
    return _store(c, dst, None, b"sunionstore" if op == SET_OP_UNION else b"sdiffstore", built=result)


def _diff(sets: list[RedisSet | None], max_intset: int) -> RedisSet:
    first = sets[0]
    if not first:
        return RedisSet()
    if any(s is first for s in sets[1:]):
        return RedisSet()
    # Redis picks one of two algorithms by the work each would do; they differ in encoding:
    # algorithm 2 copies the first set then removes, so a result that shrank back under the
    # intset limit stays a hashtable if the copy went over it (or held a non-integer).
    algo_one_work = 0
    algo_two_work = 0
    for s in sets:
        if s is None:
            continue
        algo_one_work += len(first)
        algo_two_work += len(s)
    algo_one_work //= 2
    others = [s for s in sets[1:] if s]
    result = RedisSet(first.difference(*others))
    if algo_one_work <= algo_two_work:
        result.reencode(max_intset)
    else:
        result.ht = len(first) > max_intset or not all(map(_is_canonical_int, first))
    return result


@command("sunion", arity=-2, flags=READONLY, keys=(1, -1, 1), group="set")
def sunion_command(c: Client, argv: list[bytes]) -> Any:
    """SUNION key [key ...]"""
    return _sunion_diff_generic(c, argv[1:], None, SET_OP_UNION)


@command("sunionstore", arity=-3, flags=WRITE | DENYOOM, keys=(1, -1, 1), group="set")
def sunionstore_command(c: Client, argv: list[bytes]) -> Any:
    """SUNIONSTORE destination key [key ...]"""
    return _sunion_diff_generic(c, argv[2:], argv[1], SET_OP_UNION)


@command("sdiff", arity=-2, flags=READONLY, keys=(1, -1, 1), group="set")
def sdiff_command(c: Client, argv: list[bytes]) -> Any:
    """SDIFF key [key ...]"""
    return _sunion_diff_generic(c, argv[1:], None, SET_OP_DIFF)


@command("sdiffstore", arity=-3, flags=WRITE | DENYOOM, keys=(1, -1, 1), group="set")
def sdiffstore_command(c: Client, argv: list[bytes]) -> Any:
    """SDIFFSTORE destination key [key ...]"""
    return _sunion_diff_generic(c, argv[2:], argv[1], SET_OP_DIFF)


# ---------------------------------------------------------------- SSCAN


@command("sscan", arity=-3, flags=READONLY, keys=(1, 1, 1), group="set")
def sscan_command(c: Client, argv: list[bytes]) -> Any:
    """SSCAN key cursor [MATCH pattern] [COUNT count]"""
    cursor = parse_scan_cursor(argv[2])
    s = _read_set(c, argv[1])
    if s is None:
        return EMPTY_SCAN()
    return scan_collection(c, argv, cursor, s, not s.ht, s.members)
