"""Hash commands (Redis 7.0's t_hash.c): HSET HSETNX HMSET HGET HMGET HGETALL HKEYS HVALS HDEL
HLEN HSTRLEN HEXISTS HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.

A hash is a ``RedisHash`` (a dict in insertion order, which is a listpack's order). Its ``ht``
flag is Redis's one-way switch to the hashtable encoding, taken as Redis takes it:

* before a write, when any argument of HSET/HMSET/HSETNX is longer than hash-max-listpack-value
  (hashTypeTryConversion looks at every field and value of the command, even those that will
  not be stored);
* in hashTypeSet, when the field or value it stores is too long (the HINCRBY* road);
* after an insert, when the hash has more than hash-max-listpack-entries fields.

HINCRBYFLOAT computes in x87 long double (longdouble.py) and is propagated as
``HSET key field value``, as Redis does.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from .. import longdouble
from ..client import Client
from ..datatypes import RedisHash
from ..errors import NOT_FLOAT, RedisError, WrongTypeError, not_integer, syntax_error, wrong_arity
from ..resp import OK
from .args import LLONG_MAX, LLONG_MIN, parse_int
from .keys import parse_scan_cursor
from .scan_collections import EMPTY_SCAN, scan_collection
from .table import DENYOOM, FAST, READONLY, WRITE, command

LONG_MAX = 2**63 - 1
MAX_REPEATS = 1 << 31  # HRANDFIELD negative count: beyond this, no reply could be delivered


# ------------------------------------------------------------------ helpers


def _read(c: Client, key: bytes) -> RedisHash | None:
    """lookupKeyRead + checkType(OBJ_HASH)."""
    h = c.db.lookup_read(key)
    if h is None or type(h) is RedisHash:
        return h
    raise WrongTypeError()


def _write_or_create(c: Client, key: bytes) -> RedisHash:
    """hashTypeLookupWriteOrCreate: the hash at ``key``, created (dbAdd) when missing."""
    db = c.db
    h = db.lookup_write(key)
    if h is None:
        h = RedisHash()
        db.add(key, h)
        return h
    if type(h) is not RedisHash:
        raise WrongTypeError()
    return h


def _try_conversion(c: Client, h: RedisHash, args: list[bytes]) -> None:
    """hashTypeTryConversion: any argument longer than hash-max-listpack-value converts."""
    if h.ht:
        return
    limit = c.state.config["hash-max-listpack-value"]
    for a in args:
        if len(a) > limit:
            h.ht = True
            return


def _set(c: Client, h: RedisHash, field: bytes, value: bytes) -> bool:
    """hashTypeSet: store; True when the field was updated (existed), False when added."""
    cfg = c.state.config
    if not h.ht:
        limit = cfg["hash-max-listpack-value"]
        if len(field) > limit or len(value) > limit:
            h.ht = True
    update = field in h
    h[field] = value
    if not h.ht and not update and len(h) > cfg["hash-max-listpack-entries"]:
        h.ht = True
    return update


# ------------------------------------------------------------------ writes


def _hset_generic(c: Client, argv: list[bytes], hmset: bool) -> Any:
    n = len(argv)
    if n % 2 == 1:
        raise wrong_arity("hmset" if hmset else "hset")
    key = argv[1]
    db = c.db
    h = db.lookup_write(key)
    if h is None:
        h = RedisHash()
        db.add(key, h)
    elif type(h) is not RedisHash:
        raise WrongTypeError()
    state = c.state
    # hashTypeTryConversion + hashTypeSet, flattened: any argument longer than
    # hash-max-listpack-value converts first; the field count is checked after the adds
    # (HSET only grows the hash, and the switch is one-way, so once at the end is the same).
    small = not h.ht
    if small:
        limit = state.config["hash-max-listpack-value"]
        for i in range(2, n):
            if len(argv[i]) > limit:
                h.ht = True
                small = False
                break
    before = len(h)
    if n == 4:
        h[argv[2]] = argv[3]
    else:
        for i in range(2, n, 2):
            h[argv[i]] = argv[i + 1]
    created = len(h) - before
    if small and created and len(h) > state.config["hash-max-listpack-entries"]:
        h.ht = True
    if state.watched_keys:
        state.signal_modified_key(db, key)
    if state.notify_flags:
        state.notify_keyspace_event("h", b"hset", key, db.id)
    state.dirty += (n - 2) // 2
    return OK if hmset else created


@command("hset", arity=-4, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="hash")
def hset_command(c: Client, argv: list[bytes]):
    """HSET key field value [field value ...]"""
    return _hset_generic(c, argv, False)


@command("hmset", arity=-4, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="hash")
def hmset_command(c: Client, argv: list[bytes]):
    """HMSET key field value [field value ...]"""
    return _hset_generic(c, argv, True)


@command("hsetnx", arity=4, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="hash")
def hsetnx_command(c: Client, argv: list[bytes]):
    """HSETNX key field value"""
    key = argv[1]
    h = _write_or_create(c, key)
    if argv[2] in h:
        return 0
    _try_conversion(c, h, argv[2:4])
    _set(c, h, argv[2], argv[3])
    state = c.state
    db = c.db
    state.signal_modified_key(db, key)
    state.notify_keyspace_event("h", b"hset", key, db.id)
    state.dirty += 1
    return 1


@command("hdel", arity=-3, flags=WRITE | FAST, keys=(1, 1, 1), group="hash")
def hdel_command(c: Client, argv: list[bytes]):
    """HDEL key field [field ...]"""
    key = argv[1]
    db = c.db
    h = db.lookup_write(key)
    if h is None:
        return 0
    if type(h) is not RedisHash:
        raise WrongTypeError()
    deleted = 0
    removed = False
    for f in argv[2:]:
        if h.pop(f, None) is not None:
            deleted += 1
            if not h:
                db.delete(key)
                removed = True
                break
    if deleted:
        state = c.state
        state.signal_modified_key(db, key)
        state.notify_keyspace_event("h", b"hdel", key, db.id)
        if removed:
            state.notify_keyspace_event("g", b"del", key, db.id)
        state.dirty += deleted
    return deleted


@command("hincrby", arity=4, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="hash")
def hincrby_command(c: Client, argv: list[bytes]):
    """HINCRBY key field increment"""
    incr = parse_int(argv[3])
    if incr is None:
        raise not_integer()
    key = argv[1]
    h = _write_or_create(c, key)
    old = h.get(argv[2])
    if old is None:
        value = 0
    else:
        v = parse_int(old)
        if v is None:
            raise RedisError("ERR hash value is not an integer")
        value = v
    if (incr < 0 and value < 0 and incr < LLONG_MIN - value) or (incr > 0 and value > 0 and incr > LLONG_MAX - value):
        raise RedisError("ERR increment or decrement would overflow")
    value += incr
    _set(c, h, argv[2], b"%d" % value)
    state = c.state
    db = c.db
    state.signal_modified_key(db, key)
    state.notify_keyspace_event("h", b"hincrby", key, db.id)
    state.dirty += 1
    return value


@command("hincrbyfloat", arity=4, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="hash")
def hincrbyfloat_command(c: Client, argv: list[bytes]):
    """HINCRBYFLOAT key field increment

    Long double arithmetic as INCRBYFLOAT; replicated as ``HSET key field value``."""
    incr = longdouble.parse(argv[3])
    if incr is None:
        raise RedisError(NOT_FLOAT)
    if not longdouble.is_finite(incr):
        raise RedisError("ERR value is NaN or Infinity")
    key = argv[1]
    field = argv[2]
    h = _write_or_create(c, key)
    old = h.get(field)
    if old is None:
        value: Any = Fraction(0)
    else:
        value = longdouble.parse(old)
        if value is None:
            raise RedisError("ERR hash value is not a float")
    total = longdouble.add(value, incr)
    if not longdouble.is_finite(total):
        raise RedisError("ERR increment would produce NaN or Infinity")
    new = longdouble.format_human(total)  # type: ignore[arg-type]
    _set(c, h, field, new)
    state = c.state
    db = c.db
    state.signal_modified_key(db, key)
    state.notify_keyspace_event("h", b"hincrbyfloat", key, db.id)
    state.dirty += 1
    state.rewrite_propagation([b"HSET", key, field, new])
    return new


# ------------------------------------------------------------------ reads


@command("hget", arity=3, flags=READONLY | FAST, keys=(1, 1, 1), group="hash")
def hget_command(c: Client, argv: list[bytes]):
    """HGET key field"""
    h = _read(c, argv[1])
    if h is None:
        return None
    return h.get(argv[2])


@command("hmget", arity=-3, flags=READONLY | FAST, keys=(1, 1, 1), group="hash")
def hmget_command(c: Client, argv: list[bytes]):
    """HMGET key field [field ...] (a missing key reads as an empty hash)"""
    h = _read(c, argv[1])
    if h is None:
        return [None] * (len(argv) - 2)
    get = h.get
    return [get(f) for f in argv[2:]]


@command("hlen", arity=2, flags=READONLY | FAST, keys=(1, 1, 1), group="hash")
def hlen_command(c: Client, argv: list[bytes]):
    """HLEN key"""
    h = _read(c, argv[1])
    return 0 if h is None else len(h)


@command("hstrlen", arity=3, flags=READONLY | FAST, keys=(1, 1, 1), group="hash")
def hstrlen_command(c: Client, argv: list[bytes]):
    """HSTRLEN key field"""
    h = _read(c, argv[1])
    if h is None:
        return 0
    v = h.get(argv[2])
    return 0 if v is None else len(v)


@command("hexists", arity=3, flags=READONLY | FAST, keys=(1, 1, 1), group="hash")
def hexists_command(c: Client, argv: list[bytes]):
    """HEXISTS key field"""
    h = _read(c, argv[1])
    return 1 if h is not None and argv[2] in h else 0


@command("hkeys", arity=2, flags=READONLY, keys=(1, 1, 1), group="hash")
def hkeys_command(c: Client, argv: list[bytes]):
    """HKEYS key"""
    h = _read(c, argv[1])
    return [] if h is None else list(h)


@command("hvals", arity=2, flags=READONLY, keys=(1, 1, 1), group="hash")
def hvals_command(c: Client, argv: list[bytes]):
    """HVALS key"""
    h = _read(c, argv[1])
    return [] if h is None else list(h.values())


@command("hgetall", arity=2, flags=READONLY, keys=(1, 1, 1), group="hash")
def hgetall_command(c: Client, argv: list[bytes]):
    """HGETALL key (a map in RESP3, flat in RESP2)"""
    h = _read(c, argv[1])
    return {} if h is None else dict(h)


# ------------------------------------------------------------------ HRANDFIELD / HSCAN


@command("hrandfield", arity=-2, flags=READONLY, keys=(1, 1, 1), group="hash")
def hrandfield_command(c: Client, argv: list[bytes]):
    """HRANDFIELD key [count [WITHVALUES]]

    RESP3 answers WITHVALUES as an array of [field, value] pairs, RESP2 flat."""
    if len(argv) >= 3:
        count = parse_int(argv[2])
        if count is None:
            raise not_integer()
        if count < -LONG_MAX:
            raise RedisError(f"ERR value is out of range, value must between {-LONG_MAX} and {LONG_MAX}")
        withvalues = False
        if len(argv) > 4 or (len(argv) == 4 and argv[3].lower() != b"withvalues"):
            raise syntax_error()
        if len(argv) == 4:
            withvalues = True
            if count < -(LONG_MAX // 2) or count > LONG_MAX // 2:  # C's -LONG_MAX/2 truncates
                raise RedisError("ERR value is out of range")
        return _hrandfield_count(c, argv[1], count, withvalues)
    h = _read(c, argv[1])
    if h is None:
        return None
    return c.state.random.choice(list(h))


def _hrandfield_count(c: Client, key: bytes, count: int, withvalues: bool) -> Any:
    h = _read(c, key)
    if h is None or count == 0:
        return []
    rnd = c.state.random
    resp3 = c.resp >= 3
    if count < 0 or count == 1:
        if -count > MAX_REPEATS:
            # Redis would build this reply until memory runs out (its own thread stuck
            # meanwhile); refuse what cannot be answered rather than hang the server.
            raise RedisError("ERR value is out of range")
        fields = list(h)
        picked = rnd.choices(fields, k=-count if count < 0 else 1)
    elif count >= len(h):
        picked = list(h)  # CASE 2: the whole hash, in its iteration order
    else:
        picked = rnd.sample(list(h), count)
    if not withvalues:
        return picked
    if resp3:
        return [[f, h[f]] for f in picked]
    out: list[bytes] = []
    for f in picked:
        out.append(f)
        out.append(h[f])
    return out


@command("hscan", arity=-3, flags=READONLY, keys=(1, 1, 1), group="hash")
def hscan_command(c: Client, argv: list[bytes]):
    """HSCAN key cursor [MATCH pattern] [COUNT count]"""
    cursor = parse_scan_cursor(argv[2])
    h = _read(c, argv[1])
    if h is None:
        return EMPTY_SCAN()
    return scan_collection(c, argv, cursor, h, not h.ht, lambda: list(h), h.get)
