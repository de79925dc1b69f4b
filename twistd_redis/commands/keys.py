"""Generic keyspace commands (Redis's db.c and expire.c): DEL UNLINK EXISTS TYPE KEYS SCAN
RANDOMKEY RENAME RENAMENX COPY MOVE SWAPDB DBSIZE FLUSHDB FLUSHALL TOUCH OBJECT, and the
EXPIRE family with TTL / PTTL / EXPIRETIME / PEXPIRETIME / PERSIST.

SCAN cursors
------------
Redis walks its hash table in reverse-binary bucket order, which guarantees that a key present
during the whole iteration is returned at least once. A Python dict has no stable bucket
cursor, so SCAN here works on snapshots:

* ``SCAN 0`` on a keyspace larger than COUNT takes a snapshot ``list(db.data)`` (one C-level
  copy of the key references, ~10 ms per million keys) and files it under a snapshot id.
* The cursor is a decimal unsigned 64-bit number: ``(snapshot_id << 40) | offset``. Each call
  walks the snapshot from ``offset``, returning the keys still present (COUNT of them, looking
  at no more than 10*COUNT entries so that a stretch of deleted keys cannot make one call
  slow), then MATCH / TYPE / expiry filters apply, as in Redis. When the walk reaches the end
  the reply cursor is 0 and the snapshot is dropped.
* Every key present for the whole scan is in the snapshot, so it is returned exactly once;
  keys added meanwhile may or may not be returned (never, here); deleted keys are not
  returned once gone. This is Redis's guarantee, without its duplicates.
* Snapshots live in a small LRU cache on the server (``SCAN_MAX_SNAPSHOTS`` scans, and at most
  ``SCAN_MAX_SNAPSHOT_KEYS`` key references in all, the newest always kept); FLUSHDB, FLUSHALL
  and SWAPDB drop the snapshots of the databases they replace.
* Fallback: a cursor whose snapshot is unknown (evicted, flushed, from another database or
  another server run, or made up) restarts the scan with a fresh snapshot from offset 0. The
  guarantee still holds (everything present is returned again - SCAN allows duplicates); the
  only cost is the duplicates. Any 64-bit cursor is accepted: it never crashes.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ..blocking import scan_database_for_ready_keys
from ..client import Client
from ..config import NOTIFY_KEY_MISS
from ..datatypes import copy_value, encoding_name, type_name
from ..errors import INVALID_DB, NO_SUCH_KEY, RedisError, not_integer, syntax_error
from ..glob import compile_matcher
from ..keyspace import Database
from ..resp import OK, SimpleString
from .args import LLONG_MAX, parse_int
from .table import DENYOOM, FAST, LOADING, READONLY, STALE, WRITE, command, container, help_reply

LRU_CLOCK_MAX = (1 << 24) - 1
OBJ_SHARED_INTEGERS = 10000
OBJ_SHARED_REFCOUNT = 2147483647
LFU_INIT_VAL = 5
INT_MIN, INT_MAX = -(2**31), 2**31 - 1

SAME_OBJECT = "ERR source and destination objects are the same"

# ------------------------------------------------------------------ helpers


def _lookup_read_notouch(db: Database, key: bytes, notify: bool = True) -> Any:
    """lookupKeyReadWithFlags(LOOKUP_NOTOUCH): lazy expiry and hit/miss stats, but the key's
    access time is left alone; a miss fires ``keymiss`` unless ``notify`` is False
    (LOOKUP_NONOTIFY)."""
    v = db.peek(key)
    if _DB_STATS:
        if v is None:
            db.misses += 1
            if notify and db.state.notify_bits & NOTIFY_KEY_MISS:
                db.state.notify_keyspace_event("m", b"keymiss", key, db.id)
        else:
            db.hits += 1
    else:  # pragma: no cover - the older keyspace kept the counters on Stats
        st = db.state.stats
        if v is None:
            st.keyspace_misses += 1
        else:
            st.keyspace_hits += 1
    return v


# Keyspace hits/misses live on each Database (summed by Stats) when the keyspace has them.
_DB_STATS = "hits" in Database.__slots__


def _get_int_db_index(b: bytes, error: str | None = None) -> int:
    """getIntFromObjectOrReply: an int in C ``int`` range, with Redis's two texts."""
    v = parse_int(b)
    if v is None:
        raise RedisError("ERR " + error) if error else not_integer()
    if v < INT_MIN or v > INT_MAX:
        raise RedisError(
            "ERR " + error if error else "ERR value is out of range, value must between %d and %d" % (INT_MIN, INT_MAX)
        )
    return v


def _db_by_index(c: Client, idx: int) -> Database:
    dbs = c.state.dbs
    if idx < 0 or idx >= len(dbs):
        raise RedisError(INVALID_DB)
    return dbs[idx]


def _key_is_expired(db: Database, key: bytes, now: int) -> bool:
    """keyIsExpired: has a TTL that lies in the past (no deletion); never while loading."""
    when = db.expires.get(key) if db.expires else None
    return when is not None and now > when and not db.state.loading


# ------------------------------------------------------------------ DEL / UNLINK / EXISTS / TOUCH / TYPE


def _del_generic(c: Client, argv: list[bytes]) -> int:
    db = c.db
    state = c.state
    n = 0
    for key in argv[1:]:
        if db.expires:
            db.expire_if_needed(key)
        if db.delete(key):
            state.signal_modified_key(db, key)
            state.notify_keyspace_event("g", b"del", key, db.id)
            state.dirty += 1
            n += 1
    return n


@command("del", arity=-2, flags=WRITE, keys=(1, -1, 1), group="generic")
def del_command(c: Client, argv: list[bytes]):
    """DEL key [key ...]"""
    return _del_generic(c, argv)


@command("unlink", arity=-2, flags=WRITE | FAST, keys=(1, -1, 1), group="generic")
def unlink_command(c: Client, argv: list[bytes]):
    """UNLINK key [key ...] (freeing is synchronous here; the reply and events are DEL's)"""
    return _del_generic(c, argv)


@command("exists", arity=-2, flags=READONLY | FAST, keys=(1, -1, 1), group="generic")
def exists_command(c: Client, argv: list[bytes]):
    """EXISTS key [key ...] (a key named twice counts twice)"""
    db = c.db
    n = 0
    for key in argv[1:]:
        if _lookup_read_notouch(db, key) is not None:
            n += 1
    return n


@command("touch", arity=-2, flags=READONLY | FAST, keys=(1, -1, 1), group="generic")
def touch_command(c: Client, argv: list[bytes]):
    """TOUCH key [key ...]"""
    db = c.db
    n = 0
    for key in argv[1:]:
        if db.lookup_read(key) is not None:
            n += 1
    return n


@command("type", arity=2, flags=READONLY | FAST, keys=(1, 1, 1), group="generic")
def type_command(c: Client, argv: list[bytes]):
    """TYPE key"""
    return SimpleString(type_name(_lookup_read_notouch(c.db, argv[1])))


# ------------------------------------------------------------------ KEYS / SCAN / RANDOMKEY / DBSIZE


@command("keys", arity=2, flags=READONLY, keys=(0, 0, 0), group="generic")
def keys_command(c: Client, argv: list[bytes]):
    """KEYS pattern (expired keys are skipped, not deleted, as Redis's keyIsExpired)"""
    db = c.db
    pattern = argv[1]
    now = c.state.mstime
    keys = list(db.data) if pattern == b"*" else list(filter(compile_matcher(pattern), db.data))
    if db.expires:
        keys = [k for k in keys if not _key_is_expired(db, k, now)]
    return keys


SCAN_OFFSET_BITS = 40
SCAN_OFFSET_MASK = (1 << SCAN_OFFSET_BITS) - 1
SCAN_ID_MAX = (1 << (64 - SCAN_OFFSET_BITS)) - 1
SCAN_MAX_SNAPSHOTS = 32
SCAN_MAX_SNAPSHOT_KEYS = 4_000_000


class ScanSnapshots:
    """The bounded LRU cache of SCAN snapshots (see the module docstring)."""

    def __init__(self) -> None:
        self.entries: OrderedDict[int, tuple[Database, list[bytes]]] = OrderedDict()
        self.total = 0
        self.next_id = 1

    def new(self, db: Database) -> tuple[int, list[bytes]]:
        sid = self.next_id
        self.next_id = sid + 1 if sid < SCAN_ID_MAX else 1
        self.drop(sid)  # a wrapped id still in use by a forgotten scan
        snap = list(db.data)
        self.entries[sid] = (db, snap)
        self.total += len(snap)
        while len(self.entries) > 1 and (
            len(self.entries) > SCAN_MAX_SNAPSHOTS or self.total > SCAN_MAX_SNAPSHOT_KEYS
        ):
            self.drop(next(iter(self.entries)))
        return sid, snap

    def get(self, sid: int, db: Database) -> list[bytes] | None:
        e = self.entries.get(sid)
        if e is None or e[0] is not db:
            return None
        self.entries.move_to_end(sid)
        return e[1]

    def drop(self, sid: int) -> None:
        e = self.entries.pop(sid, None)
        if e is not None:
            self.total -= len(e[1])

    def drop_db(self, db: Database | None) -> None:
        """Forget the scans of ``db`` (None: all), after a flush or swap replaced its keys."""
        for sid in [s for s, e in self.entries.items() if db is None or e[0] is db]:
            self.drop(sid)


def scan_snapshots(state: Any) -> ScanSnapshots:
    s = state.__dict__.get("scan_snapshots")
    if s is None:
        s = state.scan_snapshots = ScanSnapshots()
    return s


def parse_scan_cursor(b: bytes) -> int:
    """parseScanCursorOrReply: C strtoul(base 10) semantics - optional sign (a minus negates
    modulo 2**64), leading zeros, the empty string is 0; a leading space, trailing junk or a
    value over 2**64-1 is ``ERR invalid cursor``."""
    s = b
    if s[:1] in (b"+", b"-"):
        neg = s[:1] == b"-"
        digits = s[1:]
    else:
        neg = False
        digits = s
    if not digits:
        if s:  # a sign alone: strtoul parses nothing, eptr stays on the sign
            raise RedisError("ERR invalid cursor")
        return 0
    if not digits.isdigit() or not digits.isascii():
        raise RedisError("ERR invalid cursor")
    v = int(digits)
    if v > 0xFFFFFFFFFFFFFFFF:
        raise RedisError("ERR invalid cursor")
    return (-v) & 0xFFFFFFFFFFFFFFFF if neg else v


def parse_scan_options(argv: list[bytes], start: int, allow_type: bool = False) -> tuple[int, bytes | None, bytes | None]:
    """scanGenericCommand step 1: (COUNT, MATCH pattern or None when it matches all, TYPE or
    None). TYPE is SCAN's alone: for HSCAN/SSCAN/ZSCAN it is a syntax error like any unknown word."""
    count = 10
    pattern: bytes | None = None
    typename: bytes | None = None
    i = start
    n = len(argv)
    while i < n:
        opt = argv[i].lower()
        if opt == b"count" and n - i >= 2:
            v = parse_int(argv[i + 1])
            if v is None:
                raise RedisError("ERR value is not an integer or out of range")
            if v < 1:
                raise syntax_error()
            count = v
        elif opt == b"match" and n - i >= 2:
            pattern = argv[i + 1]
            if pattern == b"*":
                pattern = None
        elif allow_type and opt == b"type" and n - i >= 2:
            typename = argv[i + 1].lower()
        else:
            raise syntax_error()
        i += 2
    return count, pattern, typename


@command("scan", arity=-2, flags=READONLY, keys=(0, 0, 0), group="generic")
def scan_command(c: Client, argv: list[bytes]):
    """SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]"""
    cursor = parse_scan_cursor(argv[1])
    count, pattern, typename = parse_scan_options(argv, 2, allow_type=True)

    db = c.db
    data = db.data
    snaps = scan_snapshots(c.state)
    keys: list[bytes]
    snap = None
    if cursor:
        sid = cursor >> SCAN_OFFSET_BITS
        off = cursor & SCAN_OFFSET_MASK
        snap = snaps.get(sid, db)
        # An unknown cursor whose offset is past the keyspace's size is over (Redis reads a
        # made-up cursor like -1 as "past the last bucket"); any other takes cursor 0's road.
        if snap is None and off >= len(data):
            return [b"0", []]
    if snap is None and len(data) <= count:
        keys = list(data)
        next_cursor = 0
    else:
        if snap is None:
            sid, snap = snaps.new(db)
            off = 0
        keys = []
        end = len(snap)
        limit = min(end, off + count * 10)
        while off < limit and len(keys) < count:
            k = snap[off]
            off += 1
            if k in data:
                keys.append(k)
        if off >= end:
            snaps.drop(sid)
            next_cursor = 0
        else:
            next_cursor = (sid << SCAN_OFFSET_BITS) | off

    if pattern is not None and keys:
        keys = list(filter(compile_matcher(pattern), keys))
    if typename is not None and keys:
        keys = [k for k in keys if type_name(_lookup_read_notouch(db, k)) == typename]
    if db.expires and keys:
        keys = [k for k in keys if not db.expire_if_needed(k)]
    return [b"%d" % next_cursor, keys]


@command("randomkey", arity=1, flags=READONLY, keys=(0, 0, 0), group="generic")
def randomkey_command(c: Client, argv: list[bytes]):
    """RANDOMKEY"""
    return c.db.random_key()


@command("dbsize", arity=1, flags=READONLY | FAST, keys=(0, 0, 0), group="server")
def dbsize_command(c: Client, argv: list[bytes]):
    """DBSIZE (keys logically expired but not yet reclaimed count, as in Redis)"""
    return len(c.db.data)


# ------------------------------------------------------------------ RENAME / COPY / MOVE / SWAPDB


def _rename_generic(c: Client, argv: list[bytes], nx: bool):
    db = c.db
    state = c.state
    src, dst = argv[1], argv[2]
    o = db.lookup_write(src)
    if o is None:
        raise RedisError(NO_SUCH_KEY)
    if src == dst:
        return 0 if nx else OK
    expire = db.get_expire(src)
    if db.lookup_write(dst) is not None:
        if nx:
            return 0
        db.delete(dst)
    db.add(dst, o)
    if expire != -1:
        db.set_expire(dst, expire)
    db.delete(src)
    state.signal_modified_key(db, src)
    state.signal_modified_key(db, dst)
    state.notify_keyspace_event("g", b"rename_from", src, db.id)
    state.notify_keyspace_event("g", b"rename_to", dst, db.id)
    state.dirty += 1
    return 1 if nx else OK


@command("rename", arity=3, flags=WRITE, keys=(1, 2, 1), group="generic")
def rename_command(c: Client, argv: list[bytes]):
    """RENAME key newkey"""
    return _rename_generic(c, argv, False)


@command("renamenx", arity=3, flags=WRITE | FAST, keys=(1, 2, 1), group="generic")
def renamenx_command(c: Client, argv: list[bytes]):
    """RENAMENX key newkey"""
    return _rename_generic(c, argv, True)


@command("copy", arity=-3, flags=WRITE | DENYOOM, keys=(1, 2, 1), group="generic")
def copy_command(c: Client, argv: list[bytes]):
    """COPY source destination [DB destination-db] [REPLACE]"""
    src_db = dst_db = c.db
    replace = False
    j = 3
    n = len(argv)
    while j < n:
        opt = argv[j].lower()
        if opt == b"replace":
            replace = True
        elif opt == b"db" and n - j - 1 >= 1:
            dst_db = _db_by_index(c, _get_int_db_index(argv[j + 1]))
            j += 1
        else:
            raise syntax_error()
        j += 1
    key, newkey = argv[1], argv[2]
    if src_db is dst_db and key == newkey:
        raise RedisError(SAME_OBJECT)
    o = src_db.lookup_read(key)
    if o is None:
        return 0
    expire = src_db.get_expire(key)
    delete = False
    if dst_db.lookup_write(newkey) is not None:
        if not replace:
            return 0
        delete = True
    newobj = copy_value(o)
    if delete:
        dst_db.delete(newkey)
    dst_db.add(newkey, newobj)
    if expire != -1:
        dst_db.set_expire(newkey, expire)
    state = c.state
    state.signal_modified_key(dst_db, newkey)
    state.notify_keyspace_event("g", b"copy_to", newkey, dst_db.id)
    state.dirty += 1
    return 1


@command("move", arity=3, flags=WRITE | FAST, keys=(1, 1, 1), group="generic")
def move_command(c: Client, argv: list[bytes]):
    """MOVE key db"""
    src = c.db
    dst = _db_by_index(c, _get_int_db_index(argv[2]))
    if src is dst:
        raise RedisError(SAME_OBJECT)
    key = argv[1]
    o = src.lookup_write(key)
    if o is None:
        return 0
    expire = src.get_expire(key)
    if dst.lookup_write(key) is not None:
        return 0
    dst.add(key, o)
    if expire != -1:
        dst.set_expire(key, expire)
    src.delete(key)
    state = c.state
    state.signal_modified_key(src, key)
    state.signal_modified_key(dst, key)
    state.notify_keyspace_event("g", b"move_from", key, src.id)
    state.notify_keyspace_event("g", b"move_to", key, dst.id)
    state.dirty += 1
    return 1


# What dbSwapDatabases exchanges (dict, expires, avg_ttl, expires_cursor) plus access times.
_SWAPPED_ATTRS = tuple(
    a
    for a in ("data", "expires", "access", "access_floor", "avg_ttl", "_scan_keys", "_scan_pos", "lfu")
    if a in Database.__slots__
)


@command("swapdb", arity=3, flags=WRITE | FAST, keys=(0, 0, 0), group="server")
def swapdb_command(c: Client, argv: list[bytes]):
    """SWAPDB index1 index2

    Like Redis's dbSwapDatabases, the two Database objects exchange their contents (keys,
    TTLs, access times, active-expiry position), so clients keep their selected index and now
    see the other data."""
    id1 = _get_int_db_index(argv[1], "invalid first DB index")
    id2 = _get_int_db_index(argv[2], "invalid second DB index")
    state = c.state
    n = len(state.dbs)
    if id1 < 0 or id1 >= n or id2 < 0 or id2 >= n:
        raise RedisError(INVALID_DB)
    if id1 != id2:
        a, b = state.dbs[id1], state.dbs[id2]
        state.touch_all_watched_keys_in_db(a, b)  # while the keys are still in place
        state.touch_all_watched_keys_in_db(b, a)
        for attr in _SWAPPED_ATTRS:
            va, vb = getattr(a, attr), getattr(b, attr)
            setattr(a, attr, vb)
            setattr(b, attr, va)
        snaps = scan_snapshots(state)
        snaps.drop_db(a)
        snaps.drop_db(b)
        if state.blocking_keys:  # scanDatabaseForReadyKeys: waiters may be servable now
            scan_database_for_ready_keys(state, a)
            scan_database_for_ready_keys(state, b)
    state.dirty += 1
    return OK


# ------------------------------------------------------------------ FLUSHDB / FLUSHALL


def _check_flush_flags(argv: list[bytes]) -> None:
    """getFlushCommandFlags: nothing, SYNC or ASYNC (freeing is synchronous here either way)."""
    if len(argv) == 2 and argv[1].lower() in (b"sync", b"async"):
        return
    if len(argv) != 1:
        raise syntax_error()


@command("flushdb", arity=-1, flags=WRITE, keys=(0, 0, 0), group="server")
def flushdb_command(c: Client, argv: list[bytes]):
    """FLUSHDB [ASYNC | SYNC]"""
    _check_flush_flags(argv)
    state = c.state
    db = c.db
    state.touch_all_watched_keys_in_db(db)
    state.dirty += db.flush()
    scan_snapshots(state).drop_db(db)
    state.rewrite_propagation(list(argv))  # forceCommandPropagation: even when db was empty
    return OK


@command("flushall", arity=-1, flags=WRITE, keys=(0, 0, 0), group="server")
def flushall_command(c: Client, argv: list[bytes]):
    """FLUSHALL [ASYNC | SYNC]"""
    _check_flush_flags(argv)
    state = c.state
    state.dirty += state.flushall()  # signals every db (WATCH)
    scan_snapshots(state).drop_db(None)
    # flushAllDataAndResetRDB (7.0.15): kill a BGSAVE, save with save points (dirty resets to
    # 0, and nothing is added after it); propagation is forced even when nothing was removed
    state.persistence.flushall_save()
    state.rewrite_propagation(list(argv))
    return OK


# ------------------------------------------------------------------ OBJECT

container("object", arity=-2, group="generic")

OBJECT_HELP = [  # between help_reply's header and its HELP entry
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
]


def _is_lfu(c: Client) -> bool:
    return c.state.config["maxmemory-policy"].endswith("-lfu")


def _object_lookup(c: Client, key: bytes) -> Any:
    """objectCommandLookup: LOOKUP_NOTOUCH | LOOKUP_NONOTIFY (stats are still counted)."""
    return _lookup_read_notouch(c.db, key, notify=False)


def _idle_seconds(c: Client, key: bytes) -> int:
    db = c.db
    f = getattr(db, "idle_seconds", None)
    if f is not None:
        return f(key)
    lru = c.state.lruclock  # pragma: no cover - older keyspace without idle_seconds()
    return estimate_idle_seconds(lru, db.access.get(key, lru))


def estimate_idle_seconds(lruclock: int, access: int) -> int:
    """estimateObjectIdleTime / 1000, with the 24-bit LRU clock's wraparound."""
    if lruclock >= access:
        return lruclock - access
    return lruclock + (LRU_CLOCK_MAX - access)


@command("object|encoding", arity=3, flags=READONLY, keys=(2, 2, 1), group="generic")
def object_encoding_command(c: Client, argv: list[bytes]):
    """OBJECT ENCODING key"""
    o = _object_lookup(c, argv[2])
    return None if o is None else encoding_name(o)


@command("object|refcount", arity=3, flags=READONLY, keys=(2, 2, 1), group="generic")
def object_refcount_command(c: Client, argv: list[bytes]):
    """OBJECT REFCOUNT key

    Redis shares the integer objects 0..9999 (refcount INT_MAX) unless maxmemory is set with
    an LRU/LFU policy (each key then needs its own LRU field)."""
    o = _object_lookup(c, argv[2])
    if o is None:
        return None
    if type(o) is bytes and len(o) <= 4 and o.isdigit() and (o == b"0" or o[0] != 48):
        cfg = c.state.config
        policy = cfg["maxmemory-policy"]
        if not cfg["maxmemory"] or not (policy.endswith("-lru") or policy.endswith("-lfu")):
            return OBJ_SHARED_REFCOUNT
    return 1


@command("object|idletime", arity=3, flags=READONLY, keys=(2, 2, 1), group="generic")
def object_idletime_command(c: Client, argv: list[bytes]):
    """OBJECT IDLETIME key"""
    key = argv[2]
    o = _object_lookup(c, key)
    if o is None:
        return None
    if _is_lfu(c):
        raise RedisError(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
            "switching between policies at runtime LRU and LFU data will take some time to adjust."
        )
    return _idle_seconds(c, key)


@command("object|freq", arity=3, flags=READONLY, keys=(2, 2, 1), group="generic")
def object_freq_command(c: Client, argv: list[bytes]):
    """OBJECT FREQ key

    Access counts are not tracked per key; under an LFU policy this answers Redis's initial
    counter (LFU_INIT_VAL, 5) decayed by one per ``lfu-decay-time`` minutes since the key's
    last access - an approximation of LFUDecrAndReturn."""
    key = argv[2]
    o = _object_lookup(c, key)
    if o is None:
        return None
    if not _is_lfu(c):
        raise RedisError(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
            "that when switching between policies at runtime LRU and LFU data will take some time to adjust."
        )
    decay = c.state.config["lfu-decay-time"]
    lfu = getattr(c.db, "lfu", None)
    if lfu and key in lfu:  # a counter set by RESTORE FREQ / an RDB: LFUDecrAndReturn
        field = lfu[key]
        now = (c.state.mstime // 60000) & 65535
        ldt = field >> 8
        elapsed = now - ldt if now >= ldt else 65535 - ldt + now
        periods = elapsed // decay if decay else 0
        return max(0, (field & 255) - periods)
    idle = _idle_seconds(c, key)
    periods = idle // 60 // decay if decay else 0
    return max(0, LFU_INIT_VAL - periods)


@command("object|help", arity=2, flags=LOADING | STALE, keys=(0, 0, 0), group="generic")
def object_help_command(c: Client, argv: list[bytes]):
    """OBJECT HELP"""
    return help_reply("OBJECT", OBJECT_HELP)


# ------------------------------------------------------------------ EXPIRE family

EXPIRE_NX, EXPIRE_XX, EXPIRE_GT, EXPIRE_LT = 1, 2, 4, 8
_EXPIRE_OPTS = {b"nx": EXPIRE_NX, b"xx": EXPIRE_XX, b"gt": EXPIRE_GT, b"lt": EXPIRE_LT}


def _parse_expire_flags(argv: list[bytes]) -> int:
    """parseExtendedExpireArgumentsOrReply"""
    flags = 0
    for opt in argv[3:]:
        f = _EXPIRE_OPTS.get(opt.lower())
        if f is None:
            raise RedisError("ERR Unsupported option %s" % opt.decode("utf-8", "replace"))
        flags |= f
    if flags & EXPIRE_NX and flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT):
        raise RedisError("ERR NX and XX, GT or LT options at the same time are not compatible")
    if flags & EXPIRE_GT and flags & EXPIRE_LT:
        raise RedisError("ERR GT and LT options at the same time are not compatible")
    return flags


def _expire_generic(c: Client, argv: list[bytes], basetime: int, seconds: bool, name: str):
    """expireGenericCommand: options, overflow checks, NX/XX/GT/LT, then either delete (a time
    already past, on a master, propagated as DEL/UNLINK) or set the TTL (propagated as
    PEXPIREAT <absolute ms> with the options kept)."""
    flags = _parse_expire_flags(argv)
    when = parse_int(argv[2])
    if when is None:
        raise not_integer()
    if seconds:
        if when > LLONG_MAX // 1000 or when < -(LLONG_MAX // 1000):  # C's LLONG_MIN/1000 truncates
            raise RedisError("ERR invalid expire time in '%s' command" % name)
        when *= 1000
    if when > LLONG_MAX - basetime:
        raise RedisError("ERR invalid expire time in '%s' command" % name)
    when += basetime
    db = c.db
    key = argv[1]
    state = c.state
    if db.lookup_write(key) is None:
        return 0
    if flags:
        current = db.get_expire(key)
        if flags & EXPIRE_NX and current != -1:
            return 0
        if flags & EXPIRE_XX and current == -1:
            return 0
        if flags & EXPIRE_GT and (when <= current or current == -1):
            return 0
        if flags & EXPIRE_LT and current != -1 and when >= current:
            return 0
    if when <= state.mstime and not state.loading and not state.is_replica():
        # checkAlreadyExpired: delete now, replicate as an explicit DEL (UNLINK if lazy)
        db.delete(key)
        state.dirty += 1
        lazy = state.config["lazyfree-lazy-expire"]
        state.rewrite_propagation([b"UNLINK" if lazy else b"DEL", key])
        state.signal_modified_key(db, key)
        state.notify_keyspace_event("g", b"del", key, db.id)
        return 1
    db.set_expire(key, when)
    if name != "pexpireat":
        prop = list(argv)
        prop[0] = b"PEXPIREAT"
        prop[2] = b"%d" % when
        state.rewrite_propagation(prop)
    state.signal_modified_key(db, key)
    state.notify_keyspace_event("g", b"expire", key, db.id)
    state.dirty += 1
    return 1


@command("expire", arity=-3, flags=WRITE | FAST, keys=(1, 1, 1), group="generic")
def expire_command(c: Client, argv: list[bytes]):
    """EXPIRE key seconds [NX | XX | GT | LT]"""
    return _expire_generic(c, argv, c.state.mstime, True, "expire")


@command("pexpire", arity=-3, flags=WRITE | FAST, keys=(1, 1, 1), group="generic")
def pexpire_command(c: Client, argv: list[bytes]):
    """PEXPIRE key milliseconds [NX | XX | GT | LT]"""
    return _expire_generic(c, argv, c.state.mstime, False, "pexpire")


@command("expireat", arity=-3, flags=WRITE | FAST, keys=(1, 1, 1), group="generic")
def expireat_command(c: Client, argv: list[bytes]):
    """EXPIREAT key unix-time-seconds [NX | XX | GT | LT]"""
    return _expire_generic(c, argv, 0, True, "expireat")


@command("pexpireat", arity=-3, flags=WRITE | FAST, keys=(1, 1, 1), group="generic")
def pexpireat_command(c: Client, argv: list[bytes]):
    """PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]"""
    return _expire_generic(c, argv, 0, False, "pexpireat")


def _ttl_generic(c: Client, key: bytes, ms: bool, absolute: bool) -> int:
    """ttlGenericCommand: -2 no key, -1 no TTL, else the (rounded) remaining or absolute time."""
    db = c.db
    if _lookup_read_notouch(db, key) is None:
        return -2
    expire = db.get_expire(key)
    if expire == -1:
        return -1
    ttl = expire if absolute else expire - c.state.mstime
    if ttl < 0:
        ttl = 0
    return ttl if ms else (ttl + 500) // 1000


@command("ttl", arity=2, flags=READONLY | FAST, keys=(1, 1, 1), group="generic")
def ttl_command(c: Client, argv: list[bytes]):
    """TTL key"""
    return _ttl_generic(c, argv[1], False, False)


@command("pttl", arity=2, flags=READONLY | FAST, keys=(1, 1, 1), group="generic")
def pttl_command(c: Client, argv: list[bytes]):
    """PTTL key"""
    return _ttl_generic(c, argv[1], True, False)


@command("expiretime", arity=2, flags=READONLY | FAST, keys=(1, 1, 1), group="generic")
def expiretime_command(c: Client, argv: list[bytes]):
    """EXPIRETIME key"""
    return _ttl_generic(c, argv[1], False, True)


@command("pexpiretime", arity=2, flags=READONLY | FAST, keys=(1, 1, 1), group="generic")
def pexpiretime_command(c: Client, argv: list[bytes]):
    """PEXPIRETIME key"""
    return _ttl_generic(c, argv[1], True, True)


@command("persist", arity=2, flags=WRITE | FAST, keys=(1, 1, 1), group="generic")
def persist_command(c: Client, argv: list[bytes]):
    """PERSIST key"""
    db = c.db
    key = argv[1]
    if db.lookup_write(key) is None or not db.remove_expire(key):
        return 0
    state = c.state
    state.signal_modified_key(db, key)
    state.notify_keyspace_event("g", b"persist", key, db.id)
    state.dirty += 1
    return 1

