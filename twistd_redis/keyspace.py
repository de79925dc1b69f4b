"""Database: one numbered keyspace (``data`` + ``expires``), the lookups every command uses,
lazy expiry on access and the active expiry cycle run from the server cron.

Values are stored bare to keep a key cheap: ``bytes`` for a string (``bytearray`` once APPEND or
SETRANGE made it a mutable "raw" string, as in Redis), other types as their own classes.
``expires`` maps a key to its absolute expiry in unix milliseconds, as Redis's expires dict.

Access times (OBJECT IDLETIME) live in ``access``: key -> the LRU clock (seconds, 24 bits, one
shared int object per second). A dict entry per key would cost ~80 bytes/key, more than the key
and value themselves, so ``access`` is bounded: past ``access_cap`` entries the cron drops the
older half and remembers in ``access_floor`` the newest access time it dropped. A key with no
entry was last touched at or before that floor, so its idle time is reported as at least
``now - access_floor`` (exact for every key touched since). Redis keeps 24 bits in each object.
"""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Any

from .config import NOTIFY_KEY_MISS, NOTIFY_NEW

if TYPE_CHECKING:  # pragma: no cover
    from .state import ServerState

# Redis's activeExpireCycle constants.
ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP = 20
ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE = 10  # percent
ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC = 25  # percent of the cron period
LRU_CLOCK_MAX = (1 << 24) - 1


class Database:
    __slots__ = (
        "id",
        "data",
        "expires",
        "access",
        "access_floor",
        "access_cap",
        "lruclock",
        "hits",
        "misses",
        "state",
        "_scan_keys",
        "_scan_pos",
        "avg_ttl",
        "lfu",
    )

    def __init__(self, state: "ServerState", id: int) -> None:
        self.id = id
        self.state = state
        self.data: dict[bytes, Any] = {}
        self.expires: dict[bytes, int] = {}
        self.access: dict[bytes, int] = {}
        self.lruclock = state.lruclock
        self.access_floor = state.lruclock
        self.access_cap = 65536
        self.hits = 0
        self.misses = 0
        self._scan_keys: list[bytes] = []
        self._scan_pos = 0
        self.avg_ttl = 0
        # LFU counters set explicitly (RESTORE FREQ, an RDB's FREQ opcode): key -> Redis's lru
        # field under LFU, (minutes << 8) | counter. Other keys answer OBJECT FREQ from their
        # access time. An overwrite keeps the entry (dbSetValue keeps lru under LFU).
        self.lfu: dict[bytes, int] = {}

    def __len__(self) -> int:
        return len(self.data)

    # ------------------------------------------------------------ lookups

    def lookup_read(self, key: bytes) -> Any:
        """lookupKeyRead: the value or None, expiring the key if its time has come; counts
        keyspace hits and misses and refreshes the key's access time."""
        expires = self.expires
        if expires and key in expires and self.expire_if_needed(key):
            self.misses += 1
            if self.state.notify_bits & NOTIFY_KEY_MISS:
                self.state.notify_keyspace_event("m", b"keymiss", key, self.id)
            return None
        v = self.data.get(key)
        if v is None:
            self.misses += 1
            if self.state.notify_bits & NOTIFY_KEY_MISS:  # only when 'm' is on: no cost otherwise
                self.state.notify_keyspace_event("m", b"keymiss", key, self.id)
        else:
            self.hits += 1
            self.access[key] = self.lruclock
        return v

    def lookup_write(self, key: bytes) -> Any:
        """lookupKeyWrite: the value or None after lazy expiry; no hit/miss stats."""
        expires = self.expires
        if expires and key in expires:
            self.expire_if_needed(key)
        v = self.data.get(key)
        if v is not None:
            self.access[key] = self.lruclock
        return v

    def peek(self, key: bytes) -> Any:
        """The value with lazy expiry but no stats and no access-time update (LOOKUP_NOTOUCH)."""
        expires = self.expires
        if expires and key in expires and self.expire_if_needed(key):
            return None
        return self.data.get(key)

    def exists(self, key: bytes) -> bool:
        return self.peek(key) is not None

    # ------------------------------------------------------------ writes

    def set_key(self, key: bytes, value: Any, keepttl: bool = False) -> None:
        """setKey: store ``value`` under ``key``, dropping its TTL unless ``keepttl``, and signal
        the modification (WATCH, blocked clients). The caller bumps dirty and notifies (a new
        key fires ``new`` here when the 'n' class is on, as setKey's dbAdd)."""
        state = self.state
        new = state.notify_bits & NOTIFY_NEW and key not in self.data
        self.data[key] = value
        self.access[key] = self.lruclock
        if not keepttl and self.expires:
            self.expires.pop(key, None)
        if state.watched_keys:
            state.signal_modified_key(self, key)
        if state.blocking_keys:
            state.signal_key_as_ready(self, key)
        if new:
            state.notify_keyspace_event("n", b"new", key, self.id)

    def add(self, key: bytes, value: Any) -> None:
        """dbAdd: the key must not exist. Fires ``new`` when the 'n' class is on."""
        self.data[key] = value
        self.access[key] = self.lruclock
        state = self.state
        if state.watched_keys:
            state.signal_modified_key(self, key)
        if state.blocking_keys:
            state.signal_key_as_ready(self, key)
        if state.notify_bits & NOTIFY_NEW:
            state.notify_keyspace_event("n", b"new", key, self.id)

    def delete(self, key: bytes) -> bool:
        """dbDelete: remove key, value and TTL; True if it existed. Does not signal."""
        if self.data.pop(key, None) is None:
            return False
        if self.state.blocking_keys:  # signalDeletedKeyAsReady (a blocked XREADGROUP is unblocked)
            self.state.signal_key_as_ready(self, key)
        self.access.pop(key, None)
        if self.expires:
            self.expires.pop(key, None)
        if self.lfu:
            self.lfu.pop(key, None)
        return True

    def idle_seconds(self, key: bytes) -> int:
        """Seconds since the key was last accessed (estimateObjectIdleTime), see the module
        docstring for keys older than the tracked window."""
        lru = self.access.get(key, self.access_floor)
        now = self.lruclock
        if now >= lru:
            return now - lru
        return (LRU_CLOCK_MAX - lru) + now  # the 24-bit clock wrapped

    def prune_access(self) -> None:
        """Drop the older half of the tracked access times (run by the cron)."""
        times = sorted(set(self.access.values()))
        cut = times[len(times) // 2] if len(times) > 1 else times[0]
        if cut == self.lruclock and len(times) > 1:
            cut = times[-2]
        old = [k for k, t in self.access.items() if t <= cut]
        for k in old:
            del self.access[k]
        self.access_floor = cut

    def set_expire(self, key: bytes, when_ms: int) -> None:
        self.expires[key] = when_ms

    def get_expire(self, key: bytes) -> int:
        """Absolute expiry in ms, or -1."""
        return self.expires.get(key, -1) if self.expires else -1

    def remove_expire(self, key: bytes) -> bool:
        return self.expires.pop(key, None) is not None if self.expires else False

    def flush(self) -> int:
        n = len(self.data)
        if self.state.blocking_keys:  # signalDeletedKeyAsReady for every waited-on key
            for dbid, key in self.state.blocking_keys:
                if dbid == self.id and key in self.data:
                    self.state.ready_keys[(dbid, key)] = None
        self.data = {}
        self.expires = {}
        self.access = {}
        self.lfu = {}
        self._scan_keys = []
        self._scan_pos = 0
        self.avg_ttl = 0
        return n

    # ------------------------------------------------------------ expiry

    def key_is_expired(self, key: bytes) -> bool:
        """keyIsExpired: past its TTL (never while loading); nothing is deleted."""
        when = self.expires.get(key) if self.expires else None
        return when is not None and when < self.state.mstime and not self.state.loading

    def expire_if_needed(self, key: bytes) -> bool:
        """expireIfNeeded: True if the key is logically expired. On a master it is deleted and
        the deletion propagated as DEL; a replica only reports it (the master's DEL comes)."""
        when = self.expires.get(key)
        if when is None:
            return False
        state = self.state
        if when >= state.mstime:  # keyIsExpired: expired once now > when
            return False
        if state.is_replica() and not state.loading:
            # the master's own commands see the key as it is: its DEL comes in the stream
            return not state.applying_master
        self._expire_key(key)
        return True

    def _expire_key(self, key: bytes) -> None:
        state = self.state
        self.delete(key)
        state.stats.expired_keys += 1
        state.notify_keyspace_event("x", b"expired", key, self.id)
        state.signal_modified_key(self, key)
        state.propagate(self.id, [b"DEL", key])

    def active_expire_cycle(self, now_ms: int, deadline: float, timer: Any) -> bool:
        """Sample keys with a TTL, 20 at a time, deleting the expired ones; go on while more
        than 10% of a sample was expired and time remains. Walks a snapshot of the keys so the
        whole set is visited over successive cycles. Returns False if it ran out of time."""
        expires = self.expires
        while expires:
            if self._scan_pos >= len(self._scan_keys):
                self._scan_keys = list(expires)
                self._scan_pos = 0
            batch = self._scan_keys[self._scan_pos : self._scan_pos + ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP]
            self._scan_pos += len(batch)
            sampled = expired = 0
            ttl_sum = 0
            for key in batch:
                when = expires.get(key)
                if when is None:
                    continue
                sampled += 1
                if when < now_ms:  # activeExpireCycleTryExpire: now > when
                    self._expire_key(key)
                    expired += 1
                else:
                    ttl_sum += when - now_ms
            if sampled - expired > 0:
                avg = ttl_sum // (sampled - expired)
                self.avg_ttl = avg if not self.avg_ttl else (self.avg_ttl // 50) * 49 + avg // 50
            if timer() > deadline:
                return False
            if sampled == 0:
                if not batch:
                    break
                continue  # a stale stretch of the snapshot: keys already gone
            if expired * 100 // sampled <= ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE:
                break
        return True

    def random_key(self) -> bytes | None:
        """A random existing key (expired ones are deleted and another is tried)."""
        rng = self.state.random
        for _ in range(100):
            n = len(self.data)
            if not n:
                return None
            idx = rng.randrange(n)
            key = next(islice(iter(self.data), idx, None))
            if self.expires and key in self.expires and self.expire_if_needed(key):
                continue
            return key
        return next(iter(self.data), None)
