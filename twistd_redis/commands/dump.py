"""DUMP and RESTORE (Redis 7.0's cluster.c dumpCommand / restoreCommand).

A DUMP payload is one RDB value (its type byte, then the body, exactly as an RDB file holds it)
followed by a two-byte little-endian RDB version (10) and the CRC-64 of everything before the
CRC, little-endian. The bytes come from the format layer (``persistence.rdb``), so a payload
written here RESTOREs into real Redis and a real Redis payload RESTOREs here; the value read back
is converted to our representation with Redis's encoding rules (an old ziplist hash becomes a
listpack or hashtable hash by the current ``hash-max-listpack-*`` limits, as rdbLoadObject does).

Quirks matched on purpose:

* RESTORE checks, in order: the options (syntax, IDLETIME / FREQ values), the target key
  (BUSYKEY unless REPLACE), the TTL, the payload's version and checksum, then the value itself.
* IDLETIME and FREQ exclude each other only one way round each: a second IDLETIME after FREQ (or
  FREQ after IDLETIME) is a syntax error, repeating the same option is fine.
* A TTL that is already in the past (an ABSTTL timestamp, or a relative one that overflows)
  creates nothing and still answers OK; with REPLACE the old key is deleted and the command
  propagates as ``DEL key`` (without REPLACE nothing changed and nothing propagates).
* A relative TTL propagates as the absolute time with ABSTTL appended, as Redis rewrites it.
* IDLETIME sets the key's LRU access time (OBJECT IDLETIME) unless an LFU policy is on; FREQ sets
  the LFU counter (OBJECT FREQ) only under an LFU policy; the other one is silently ignored.
  The LFU counter lives in ``Database.lfu`` (Redis's lru field under LFU: minutes << 8 |
  counter); OBJECT FREQ decays it by ``lfu-decay-time`` as LFUDecrAndReturn, but later accesses
  do not increment it (Redis's LFULogIncr is not modelled here).
* DUMP compresses strings with LZF only while ``rdbcompression`` is yes (rdbSaveRawString).
"""

from __future__ import annotations

import struct
from typing import Any

from ..client import Client
from ..errors import RedisError, syntax_error
from ..persistence import rdb
from ..resp import OK
from .args import LLONG_MAX, option_word, to_int
from .table import DENYOOM, READONLY, WRITE, command

BUSYKEY = "BUSYKEY Target key name already exists."
BAD_PAYLOAD = "ERR DUMP payload version or checksum are wrong"
BAD_FORMAT = "ERR Bad data format"
LRU_CLOCK_MAX = (1 << 24) - 1


def _wrap64(v: int) -> int:
    """A C ``long long`` result: two's complement wrap-around (Redis does not check)."""
    v &= (1 << 64) - 1
    return v - (1 << 64) if v > LLONG_MAX else v


def load_limits(state: Any) -> dict:
    """The encoding thresholds rdbLoadObject reads from the config."""
    cfg = state.config
    return {name: cfg[name] for name in rdb.DEFAULT_LIMITS}


def restore_value(state: Any, payload: bytes) -> Any:
    """verifyDumpPayload + rdbLoadObjectType + rdbLoadObject: the value, or RESTORE's error.

    The reader spans the whole payload, footer included, as Redis's rioInitWithBuffer does: a
    value may run into the footer bytes and what it leaves unread is ignored (redis-server
    7.0.15 restores ``\\x00\\x09a`` + footer as a 9-byte string)."""
    if not rdb.verify_payload(payload):
        raise RedisError(BAD_PAYLOAD)
    r = rdb.RdbReader(payload)
    try:
        t = r.read_byte()
        if t not in rdb._OBJECT_TYPES:
            raise RedisError(BAD_FORMAT)
        value = rdb.read_value(r, t, load_limits(state))
    except (rdb.RdbError, ValueError, IndexError, OverflowError, struct.error):
        raise RedisError(BAD_FORMAT) from None
    if value is rdb.EMPTY_KEY:
        raise RedisError(BAD_FORMAT)
    return value


@command("dump", arity=2, flags=READONLY, keys=(1, 1, 1), group="generic")
def dump_command(c: Client, argv: list[bytes]):
    """DUMP key"""
    o = c.db.lookup_read(argv[1])
    if o is None:
        return None
    return rdb.dump_payload(o, compress=bool(c.state.config["rdbcompression"]))


@command("restore", arity=-4, flags=WRITE | DENYOOM, keys=(1, 1, 1), group="generic")
def restore_command(c: Client, argv: list[bytes]):
    """RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]"""
    state = c.state
    db = c.db
    replace = absttl = False
    lfu_freq = lru_idle = -1
    lru_clock = -1
    n = len(argv)
    j = 4
    while j < n:
        opt = option_word(argv[j])
        additional = n - j - 1
        if opt == b"replace":
            replace = True
        elif opt == b"absttl":
            absttl = True
        elif opt == b"idletime" and additional >= 1 and lfu_freq == -1:
            lru_idle = to_int(argv[j + 1])
            if lru_idle < 0:
                raise RedisError("ERR Invalid IDLETIME value, must be >= 0")
            lru_clock = state.lruclock
            j += 1
        elif opt == b"freq" and additional >= 1 and lru_idle == -1:
            lfu_freq = to_int(argv[j + 1])
            if lfu_freq < 0 or lfu_freq > 255:
                raise RedisError("ERR Invalid FREQ value, must be >= 0 and <= 255")
            j += 1
        else:
            raise syntax_error()
        j += 1

    key = argv[1]
    if not replace and db.lookup_write(key) is not None:
        raise RedisError(BUSYKEY)

    ttl = to_int(argv[2])
    if ttl < 0:
        raise RedisError("ERR Invalid TTL value, must be >= 0")

    obj = restore_value(state, argv[3])

    deleted = False
    if replace:  # a plain dbDelete: a logically expired key counts as deleted here
        deleted = db.delete(key)

    if ttl and not absttl:
        ttl = _wrap64(ttl + state.mstime)
    if ttl and ttl <= state.mstime and not state.loading and not state.is_replica():
        # checkAlreadyExpired: nothing is created; a replaced key is gone, which replicas
        # and the AOF learn as a DEL.
        if deleted:
            state.rewrite_propagation([b"DEL", key])
            state.signal_modified_key(db, key)
            state.notify_keyspace_event("g", b"del", key, db.id)
            state.dirty += 1
        return OK

    db.add(key, obj)
    if ttl:
        db.set_expire(key, ttl)
        if not absttl:
            state.rewrite_propagation([*argv[:2], b"%d" % ttl, *argv[3:], b"ABSTTL"])
    _set_lru_or_lfu(c, db, key, lfu_freq, lru_idle, lru_clock)
    state.signal_modified_key(db, key)
    state.notify_keyspace_event("g", b"restore", key, db.id)
    state.dirty += 1
    return OK


def _set_lru_or_lfu(c: Client, db: Any, key: bytes, lfu_freq: int, lru_idle: int, lru_clock: int) -> None:
    """objectSetLRUOrLFU(obj, lfu_freq, lru_idle, lru_clock, 1000)."""
    state = c.state
    if state.config["maxmemory-policy"].endswith("-lfu"):
        if lfu_freq >= 0:
            lfu = getattr(db, "lfu", None)
            if lfu is not None:
                minutes = (int(state.mstime // 1000) // 60) & 65535
                lfu[key] = (minutes << 8) | lfu_freq
    elif lru_idle >= 0:
        scaled = _wrap64(lru_idle * 1000)  # lru_idle*1000/LRU_CLOCK_RESOLUTION in C
        lru_idle = -(-scaled // 1000) if scaled < 0 else scaled // 1000
        lru_abs = _wrap64(lru_clock - lru_idle)
        if lru_abs < 0:  # the wrapping clock is behind the idle time
            lru_abs += LRU_CLOCK_MAX
        db.access[key] = lru_abs & LRU_CLOCK_MAX  # the 24-bit lru field
