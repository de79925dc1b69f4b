"""String commands (Redis's t_string.c).

A string value is ``bytes``; once APPEND or SETRANGE modified it in place it is a ``bytearray``
(Redis's "raw" encoding, which makes APPEND amortized O(1)). Every reader accepts both and
replies ``bytes``. Values written whole (SET, INCR, INCRBYFLOAT, ...) are stored as ``bytes``,
so OBJECT ENCODING reads int/embstr/raw from the content as Redis does after those commands.

Propagation follows Redis 7.0: a relative expiry becomes ``SET key value PXAT <ms>``, GETEX
becomes PEXPIREAT / PERSIST / DEL, GETDEL becomes DEL, GETSET becomes SET, SET ... GET loses its
GET, and INCRBYFLOAT becomes ``SET key value KEEPTTL``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from .. import longdouble
from ..client import CLIENT_MASTER, Client
from ..errors import (
    INVALID_EXPIRE,
    NOT_FLOAT,
    OVERFLOW,
    RedisError,
    WrongTypeError,
    not_integer,
    syntax_error,
    wrong_arity,
)
from ..datatypes import EmbStr
from ..resp import OK
from .args import LLONG_MAX, LLONG_MIN, option_word, parse_int
from .table import DENYOOM, FAST, READONLY, WRITE, command

# setGenericCommand / parseExtendedStringArgumentsOrReply flags (OBJ_*).
SET_NX = 1 << 0
SET_XX = 1 << 1
EX = 1 << 2
PX = 1 << 3
KEEPTTL = 1 << 4
SET_GET = 1 << 5
EXAT = 1 << 6
PXAT = 1 << 7
PERSIST = 1 << 8
ANY_EXPIRE = EX | PX | EXAT | PXAT

UNIT_SECONDS = 0
UNIT_MS = 1

COMMAND_GET = 0
COMMAND_SET = 1


def _get_string(c: Client, key: bytes) -> Any:
    """getGenericCommand's lookup: the value as bytes, None if missing; WRONGTYPE otherwise."""
    v = c.db.lookup_read(key)
    if v is None or type(v) is bytes:
        return v
    if type(v) is bytearray or type(v) is EmbStr:
        return bytes(v)
    raise WrongTypeError()


def _check_string_length(c: Client, size: int) -> None:
    """checkStringLength: a result longer than proto-max-bulk-len is refused (not from a master)."""
    if size > c.state.proto_max_bulk_len and not c.flags & CLIENT_MASTER:
        raise RedisError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")


def _parse_extended(argv: list[bytes], command_type: int) -> tuple[int, bytes | None, int]:
    """parseExtendedStringArgumentsOrReply: (flags, expire argument, unit). Every conflict of
    options (NX with XX, two kinds of expiry, KEEPTTL or PERSIST with an expiry) and every
    option missing its value is a syntax error. A repeated option is accepted (the last wins)."""
    flags = 0
    expire: bytes | None = None
    unit = UNIT_SECONDS
    is_set = command_type == COMMAND_SET
    j = 2 if command_type == COMMAND_GET else 3
    argc = len(argv)
    while j < argc:
        opt = option_word(argv[j])
        has_next = j < argc - 1
        if opt == b"nx" and not flags & SET_XX and is_set:
            flags |= SET_NX
        elif opt == b"xx" and not flags & SET_NX and is_set:
            flags |= SET_XX
        elif opt == b"get" and is_set:
            flags |= SET_GET
        elif opt == b"keepttl" and not flags & (PERSIST | ANY_EXPIRE) and is_set:
            flags |= KEEPTTL
        elif opt == b"persist" and not is_set and not flags & (ANY_EXPIRE | KEEPTTL):
            flags |= PERSIST
        elif opt == b"ex" and not flags & (KEEPTTL | PERSIST | EXAT | PX | PXAT) and has_next:
            flags |= EX
            expire = argv[j + 1]
            j += 1
        elif opt == b"px" and not flags & (KEEPTTL | PERSIST | EX | EXAT | PXAT) and has_next:
            flags |= PX
            unit = UNIT_MS
            expire = argv[j + 1]
            j += 1
        elif opt == b"exat" and not flags & (KEEPTTL | PERSIST | EX | PX | PXAT) and has_next:
            flags |= EXAT
            expire = argv[j + 1]
            j += 1
        elif opt == b"pxat" and not flags & (KEEPTTL | PERSIST | EX | EXAT | PX) and has_next:
            flags |= PXAT
            unit = UNIT_MS
            expire = argv[j + 1]
            j += 1
        else:
            raise syntax_error()
        j += 1
    return flags, expire, unit


def _expire_ms(c: Client, arg: bytes, flags: int, unit: int, name: str) -> int:
    """getExpireMillisecondsOrReply: the absolute expiry in ms. Zero or negative input, a
    seconds value whose ms overflow, or a sum that overflows a signed 64-bit integer (in C it
    wraps negative) is an "invalid expire time"."""
    ms = parse_int(arg)
    if ms is None:
        raise not_integer()
    if ms <= 0 or (unit == UNIT_SECONDS and ms > LLONG_MAX // 1000):
        raise RedisError(INVALID_EXPIRE % name)
    if unit == UNIT_SECONDS:
        ms *= 1000
    if flags & (PX | EX):
        ms += c.state.mstime
    if ms > LLONG_MAX:
        raise RedisError(INVALID_EXPIRE % name)
    return ms


def _set_generic(
    c: Client,
    argv: list[bytes],
    flags: int,
    key: bytes,
    val: bytes,
    expire: bytes | None,
    unit: int,
    ok_reply: Any,
    abort_reply: Any,
    name: str,
) -> Any:
    """setGenericCommand: SET with its options, SETNX, SETEX, PSETEX."""
    state = c.state
    db = c.db
    ms = 0
    if expire is not None:
        ms = _expire_ms(c, expire, flags, unit, name)
    old = None
    if flags & SET_GET:
        old = _get_string(c, key)
    found = db.lookup_write(key) is not None
    if (flags & SET_NX and found) or (flags & SET_XX and not found):
        return old if flags & SET_GET else abort_reply
    db.set_key(key, val, keepttl=bool(flags & KEEPTTL))
    state.dirty += 1
    state.notify_keyspace_event("$", b"set", key, db.id)
    if expire is not None:
        db.set_expire(key, ms)
        state.rewrite_propagation([b"SET", key, val, b"PXAT", b"%d" % ms])
        state.notify_keyspace_event("g", b"expire", key, db.id)
    elif flags & SET_GET:
        # Propagate without the GET argument(s).
        state.rewrite_propagation([a for j, a in enumerate(argv) if j < 3 or option_word(a) != b"get"])
    return old if flags & SET_GET else ok_reply


_STRING_TYPES = (bytes, bytearray, EmbStr)


@command("get", arity=2, flags=READONLY | FAST, keys=(1, 1, 1), group="string")
def get_command(c: Client, argv: list[bytes]):
    """GET key"""
    v = c.db.lookup_read(argv[1])
    if v is None or type(v) is bytes:
        return v
    if type(v) is bytearray or type(v) is EmbStr:
        return bytes(v)
    raise WrongTypeError()


@command("set", arity=-3, flags=WRITE | DENYOOM, keys=(1, 1, 1), group="string")
def set_command(c: Client, argv: list[bytes]):
    """SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ts | KEEPTTL]"""
    if len(argv) == 3:
        db = c.db
        key = argv[1]
        if db.expires:
            db.lookup_write(key)
        db.set_key(key, argv[2])
        c.state.dirty += 1
        c.state.notify_keyspace_event("$", b"set", key, db.id)
        return OK
    flags, expire, unit = _parse_extended(argv, COMMAND_SET)
    return _set_generic(c, argv, flags, argv[1], argv[2], expire, unit, OK, None, "set")


@command("setnx", arity=3, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="string")
def setnx_command(c: Client, argv: list[bytes]):
    """SETNX key value"""
    return _set_generic(c, argv, SET_NX, argv[1], argv[2], None, UNIT_SECONDS, 1, 0, "setnx")


@command("setex", arity=4, flags=WRITE | DENYOOM, keys=(1, 1, 1), group="string")
def setex_command(c: Client, argv: list[bytes]):
    """SETEX key seconds value"""
    return _set_generic(c, argv, EX, argv[1], argv[3], argv[2], UNIT_SECONDS, OK, None, "setex")


@command("psetex", arity=4, flags=WRITE | DENYOOM, keys=(1, 1, 1), group="string")
def psetex_command(c: Client, argv: list[bytes]):
    """PSETEX key milliseconds value"""
    return _set_generic(c, argv, PX, argv[1], argv[3], argv[2], UNIT_MS, OK, None, "psetex")


@command("getex", arity=-2, flags=WRITE | FAST, keys=(1, 1, 1), group="string")
def getex_command(c: Client, argv: list[bytes]):
    """GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
    PXAT unix-time-milliseconds | PERSIST]"""
    flags, expire, unit = _parse_extended(argv, COMMAND_GET)
    key = argv[1]
    v = _get_string(c, key)
    if v is None:
        return None
    state = c.state
    db = c.db
    ms = 0
    if expire is not None:
        ms = _expire_ms(c, expire, flags, unit, "getex")
    if flags & (PXAT | EXAT) and ms <= state.mstime and not state.loading and not state.is_replica():
        # An absolute time already in the past: the key goes now (checkAlreadyExpired).
        db.delete(key)
        lazy = state.config["lazyfree-lazy-expire"]
        state.rewrite_propagation([b"UNLINK" if lazy else b"DEL", key])
        state.signal_modified_key(db, key)
        state.notify_keyspace_event("g", b"del", key, db.id)
        state.dirty += 1
    elif expire is not None:
        db.set_expire(key, ms)
        state.rewrite_propagation([b"PEXPIREAT", key, b"%d" % ms])
        state.signal_modified_key(db, key)
        state.notify_keyspace_event("g", b"expire", key, db.id)
        state.dirty += 1
    elif flags & PERSIST:
        if db.remove_expire(key):
            state.signal_modified_key(db, key)
            state.rewrite_propagation([b"PERSIST", key])
            state.notify_keyspace_event("g", b"persist", key, db.id)
            state.dirty += 1
    return v


@command("getdel", arity=2, flags=WRITE | FAST, keys=(1, 1, 1), group="string")
def getdel_command(c: Client, argv: list[bytes]):
    """GETDEL key"""
    key = argv[1]
    v = _get_string(c, key)
    db = c.db
    if db.delete(key):
        state = c.state
        lazy = state.config["lazyfree-lazy-user-del"]
        state.rewrite_propagation([b"UNLINK" if lazy else b"DEL", key])
        state.signal_modified_key(db, key)
        state.notify_keyspace_event("g", b"del", key, db.id)
        state.dirty += 1
    return v


@command("getset", arity=3, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="string")
def getset_command(c: Client, argv: list[bytes]):
    """GETSET key value"""
    key = argv[1]
    v = _get_string(c, key)
    db = c.db
    if db.expires:
        db.lookup_write(key)
    db.set_key(key, argv[2])
    state = c.state
    state.notify_keyspace_event("$", b"set", key, db.id)
    state.dirty += 1
    state.rewrite_propagation([b"SET", key, argv[2]])
    return v


@command("setrange", arity=4, flags=WRITE | DENYOOM, keys=(1, 1, 1), group="string")
def setrange_command(c: Client, argv: list[bytes]):
    """SETRANGE key offset value"""
    key = argv[1]
    value = argv[3]
    offset = parse_int(argv[2])
    if offset is None:
        raise not_integer()
    if offset < 0:
        raise RedisError("ERR offset is out of range")
    db = c.db
    state = c.state
    v = db.lookup_write(key)
    end = offset + len(value)
    if v is None:
        if not value:
            return 0  # nothing set on a missing key: no key is created
        _check_string_length(c, end)
        ba = bytearray(end)
        ba[offset:] = value
        db.add(key, ba)
    else:
        t = type(v)
        if t is not bytes and t is not bytearray and t is not EmbStr:
            raise WrongTypeError()
        if not value:
            return len(v)
        _check_string_length(c, end)
        if t is not bytearray:
            ba = bytearray(v)
            db.set_key(key, ba, keepttl=True)
        else:
            ba = v
            state.signal_modified_key(db, key)
        if len(ba) < end:
            ba.extend(bytes(end - len(ba)))
        ba[offset:end] = value
    state.notify_keyspace_event("$", b"setrange", key, db.id)
    state.dirty += 1
    return len(ba)


def _getrange(c: Client, argv: list[bytes]) -> bytes:
    start = parse_int(argv[2])
    end = parse_int(argv[3]) if start is not None else None
    if start is None or end is None:
        raise not_integer()
    v = c.db.lookup_read(argv[1])
    if v is None:
        return b""
    t = type(v)
    if t is not bytes and t is not bytearray and t is not EmbStr:
        raise WrongTypeError()
    n = len(v)
    if start < 0 and end < 0 and start > end:
        return b""
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if end < 0:
        end = 0
    if end >= n:
        end = n - 1
    if start > end or n == 0:
        return b""
    return bytes(v[start : end + 1])


@command("getrange", arity=4, flags=READONLY, keys=(1, 1, 1), group="string")
def getrange_command(c: Client, argv: list[bytes]):
    """GETRANGE key start end"""
    return _getrange(c, argv)


@command("substr", arity=4, flags=READONLY, keys=(1, 1, 1), group="string")
def substr_command(c: Client, argv: list[bytes]):
    """SUBSTR key start end"""
    return _getrange(c, argv)


@command("mget", arity=-2, flags=READONLY | FAST, keys=(1, -1, 1), group="string")
def mget_command(c: Client, argv: list[bytes]):
    """MGET key [key ...]"""
    lookup = c.db.lookup_read
    out: list[Any] = []
    for key in argv[1:]:
        v = lookup(key)
        t = type(v)
        if t is bytes:
            out.append(v)
        elif t is bytearray or t is EmbStr:
            out.append(bytes(v))
        else:
            out.append(None)  # missing, or not a string
    return out


def _mset_generic(c: Client, argv: list[bytes], nx: bool) -> Any:
    if len(argv) % 2 == 0:
        raise wrong_arity("msetnx" if nx else "mset")
    db = c.db
    if nx:
        for j in range(1, len(argv), 2):
            if db.lookup_write(argv[j]) is not None:
                return 0
    state = c.state
    notify = state.notify_keyspace_event
    for j in range(1, len(argv), 2):
        key = argv[j]
        if db.expires and key in db.expires:
            db.expire_if_needed(key)
        db.set_key(key, argv[j + 1])
        notify("$", b"set", key, db.id)
    state.dirty += (len(argv) - 1) // 2
    return 1 if nx else OK


@command("mset", arity=-3, flags=WRITE | DENYOOM, keys=(1, -1, 2), group="string")
def mset_command(c: Client, argv: list[bytes]):
    """MSET key value [key value ...]"""
    return _mset_generic(c, argv, False)


@command("msetnx", arity=-3, flags=WRITE | DENYOOM, keys=(1, -1, 2), group="string")
def msetnx_command(c: Client, argv: list[bytes]):
    """MSETNX key value [key value ...]"""
    return _mset_generic(c, argv, True)


def _incr_decr(c: Client, key: bytes, incr: int) -> int:
    """incrDecrCommand: the stored value must be a strict 64-bit integer; the TTL is kept."""
    db = c.db
    v = db.lookup_write(key)
    if v is None:
        value = 0
    else:
        t = type(v)
        if t is not bytes and t is not bytearray and t is not EmbStr:
            raise WrongTypeError()
        value = parse_int(v)
        if value is None:
            raise not_integer()
    value += incr
    if value > LLONG_MAX or value < LLONG_MIN:
        raise RedisError(OVERFLOW)
    db.set_key(key, b"%d" % value, keepttl=True)
    state = c.state
    state.notify_keyspace_event("$", b"incrby", key, db.id)
    state.dirty += 1
    return value


@command("incr", arity=2, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="string")
def incr_command(c: Client, argv: list[bytes]):
    """INCR key"""
    return _incr_decr(c, argv[1], 1)


@command("decr", arity=2, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="string")
def decr_command(c: Client, argv: list[bytes]):
    """DECR key"""
    return _incr_decr(c, argv[1], -1)


@command("incrby", arity=3, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="string")
def incrby_command(c: Client, argv: list[bytes]):
    """INCRBY key increment"""
    incr = parse_int(argv[2])
    if incr is None:
        raise not_integer()
    return _incr_decr(c, argv[1], incr)


@command("decrby", arity=3, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="string")
def decrby_command(c: Client, argv: list[bytes]):
    """DECRBY key decrement"""
    incr = parse_int(argv[2])
    if incr is None:
        raise not_integer()
    if incr == LLONG_MIN:
        # negating LLONG_MIN would overflow
        raise RedisError("ERR decrement would overflow")
    return _incr_decr(c, argv[1], -incr)


@command("incrbyfloat", arity=3, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="string")
def incrbyfloat_command(c: Client, argv: list[bytes]):
    """INCRBYFLOAT key increment

    Computed in x87 long double exactly as Redis does (see longdouble.py) and replicated as
    ``SET key value KEEPTTL`` so replicas and the AOF never redo the float arithmetic."""
    key = argv[1]
    db = c.db
    v = db.lookup_write(key)
    if v is None:
        value: Any = Fraction(0)
    else:
        t = type(v)
        if t is not bytes and t is not bytearray and t is not EmbStr:
            raise WrongTypeError()
        value = longdouble.parse(v)
        if value is None:
            raise RedisError(NOT_FLOAT)
    incr = longdouble.parse(argv[2])
    if incr is None:
        raise RedisError(NOT_FLOAT)
    total = longdouble.add(value, incr)
    if not longdouble.is_finite(total):
        raise RedisError("ERR increment would produce NaN or Infinity")
    new = longdouble.format_human(total)  # type: ignore[arg-type]
    db.set_key(key, EmbStr(new), keepttl=True)  # never int-encoded, as in Redis
    state = c.state
    state.notify_keyspace_event("$", b"incrbyfloat", key, db.id)
    state.dirty += 1
    state.rewrite_propagation([b"SET", key, new, b"KEEPTTL"])
    return new


@command("append", arity=3, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="string")
def append_command(c: Client, argv: list[bytes]):
    """APPEND key value"""
    key = argv[1]
    arg = argv[2]
    db = c.db
    state = c.state
    v = db.lookup_write(key)
    if v is None:
        db.add(key, arg)
        total = len(arg)
    else:
        t = type(v)
        if t is bytearray:
            total = len(v) + len(arg)
            _check_string_length(c, total)
            v += arg
            state.signal_modified_key(db, key)
        elif t is bytes or t is EmbStr:
            total = len(v) + len(arg)
            _check_string_length(c, total)
            ba = bytearray(v)
            ba += arg
            db.set_key(key, ba, keepttl=True)
        else:
            raise WrongTypeError()
    state.notify_keyspace_event("$", b"append", key, db.id)
    state.dirty += 1
    return total


@command("strlen", arity=2, flags=READONLY | FAST, keys=(1, 1, 1), group="string")
def strlen_command(c: Client, argv: list[bytes]):
    """STRLEN key"""
    v = c.db.lookup_read(argv[1])
    if v is None:
        return 0
    t = type(v)
    if t is not bytes and t is not bytearray and t is not EmbStr:
        raise WrongTypeError()
    return len(v)


# ---------------------------------------------------------------- LCS


def lcs_length(a: bytes, b: bytes) -> int:
    """Length of the longest common subsequence, bit-parallel (Allison-Dix / Hyyrö): one
    big-integer step per byte of ``b`` instead of a len(a) x len(b) table."""
    if not a or not b:
        return 0
    masks: dict[int, int] = {}
    for i, ch in enumerate(a):
        masks[ch] = masks.get(ch, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for ch in b:
        m = masks.get(ch)
        if m is not None:
            u = v & m
            v = ((v + u) | (v - u)) & full
    return len(a) - bin(v).count("1")


def _lcs_table(a: bytes, b: bytes) -> list[list[int]]:
    """LCS[i][j] = length of the LCS of a[:i] and b[:j] (Redis's dynamic programming table)."""
    blen = len(b)
    prev = [0] * (blen + 1)
    rows = [prev]
    brange = range(1, blen + 1)
    for ai in a:
        cur = [0] * (blen + 1)
        left = 0
        for j in brange:
            if ai == b[j - 1]:
                left = prev[j - 1] + 1
            else:
                up = prev[j]
                if up > left:
                    left = up
            cur[j] = left
        rows.append(cur)
        prev = cur
    return rows


@command("lcs", arity=-3, flags=READONLY, keys=(1, 2, 1), group="string")
def lcs_command(c: Client, argv: list[bytes]):
    """LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]"""
    db = c.db
    obja = db.lookup_read(argv[1])
    objb = db.lookup_read(argv[2])
    if (obja is not None and type(obja) not in _STRING_TYPES) or (
        objb is not None and type(objb) not in _STRING_TYPES
    ):
        raise RedisError("ERR The specified keys must contain string values")
    a = bytes(obja) if obja is not None else b""
    b = bytes(objb) if objb is not None else b""
    getlen = getidx = withmatchlen = False
    minmatchlen = 0
    j = 3
    argc = len(argv)
    while j < argc:
        opt = option_word(argv[j])
        if opt == b"idx":
            getidx = True
        elif opt == b"len":
            getlen = True
        elif opt == b"withmatchlen":
            withmatchlen = True
        elif opt == b"minmatchlen" and j < argc - 1:
            n = parse_int(argv[j + 1])
            if n is None:
                raise not_integer()
            minmatchlen = max(n, 0)
            j += 1
        else:
            raise syntax_error()
        j += 1
    if getlen and getidx:
        raise RedisError("ERR If you want both the length and indexes, please just use IDX.")
    alen, blen = len(a), len(b)
    if alen >= 0xFFFFFFFF - 1 or blen >= 0xFFFFFFFF - 1:
        raise RedisError("ERR String too long for LCS")
    if (alen + 1) * (blen + 1) * 4 > c.state.proto_max_bulk_len:
        raise RedisError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
    if getlen:
        return lcs_length(a, b)
    table = _lcs_table(a, b)
    idx = table[alen][blen]
    result = bytearray(idx)
    matches: list[Any] = []
    arange_start = alen  # alen: no range open
    arange_end = brange_start = brange_end = 0
    i, j = alen, blen
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            result[idx - 1] = a[i - 1]
            if arange_start == alen:
                arange_start = arange_end = i - 1
                brange_start = brange_end = j - 1
            elif arange_start == i and brange_start == j:
                arange_start -= 1
                brange_start -= 1
            else:
                emit = True
            if arange_start == 0 or brange_start == 0:
                emit = True
            idx -= 1
            i -= 1
            j -= 1
        else:
            if table[i - 1][j] > table[i][j - 1]:
                i -= 1
            else:
                j -= 1
            if arange_start != alen:
                emit = True
        if emit:
            match_len = arange_end - arange_start + 1
            if getidx and (minmatchlen == 0 or match_len >= minmatchlen):
                m: list[Any] = [[arange_start, arange_end], [brange_start, brange_end]]
                if withmatchlen:
                    m.append(match_len)
                matches.append(m)
            arange_start = alen
    if getidx:
        return {b"matches": matches, b"len": table[alen][blen]}
    return bytes(result)
