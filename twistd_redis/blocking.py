"""Blocking on keys: BLPOP, BLMOVE, BLMPOP, BZPOPMIN & co (Redis 7.0's blocked.c).

A blocking command that finds nothing to serve calls ``block_for_keys(c, keys, timeout, serve,
timeout_reply)`` and returns the Deferred it gets. The connection then stops reading (its later
pipelined input stays unparsed) until the Deferred fires.

* The wait is registered under ``(db id, key)`` in ``state.blocking_keys``, a deque per key:
  waiters on one key are served in the order they blocked.
* A write that may make a key servable (``Database.add`` / ``set_key``, or a command pushing into
  an existing value, which calls ``state.signal_key_as_ready(db, key)``) records the key in
  ``state.ready_keys`` when somebody waits on it.
* After each top-level command (``ServerState.execute``; EXEC and scripts call it once they end,
  see ``exec_nesting``) ``handle_clients_blocked_on_keys`` walks the ready keys and calls each
  waiter's ``serve(key)`` in arrival order. ``serve`` runs as the blocked client: it does the
  pop, its notifications and its propagation (a BLPOP served by a push propagates as LPOP), and
  returns the reply, or ``NOT_READY`` to stay blocked (the key has the wrong type for it, as
  Redis 7.0 leaves a BLPOP blocked when the key becomes a zset).
* A timeout (a relative ``timeout`` in ms; 0 = forever) fires the Deferred with
  ``timeout_reply`` on the injected clock. ``CLIENT UNBLOCK id TIMEOUT|ERROR`` goes through the
  Deferred's ``on_unblock``. A client that disconnects cancels its Deferred: the canceller
  drops the wait, and nothing was taken from the key for it.
* A client with ``CLIENT_DENY_BLOCKING`` (inside MULTI/EXEC or a script) never blocks: it gets
  the timeout reply at once.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from typing import TYPE_CHECKING, Any, Callable

from twisted.internet import defer

from . import longdouble
from .client import CLIENT_BLOCKED, CLIENT_DENY_BLOCKING, Client
from .commands.args import LLONG_MAX, parse_int
from .errors import RedisError
from .resp import NULL_ARRAY

if TYPE_CHECKING:  # pragma: no cover
    from .keyspace import Database
    from .state import ServerState

log = logging.getLogger("twistd_redis")

UNIT_SECONDS = 0
UNIT_MS = 1


class _NotReady:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_READY"


NOT_READY: Any = _NotReady()


class Waiter:
    """One blocked client: the keys it waits on, how to serve it, its Deferred and timer."""

    __slots__ = ("client", "db", "keys", "serve", "deferred", "timer", "timeout_reply", "done", "serve_deleted")

    def __init__(
        self,
        client: Client,
        db: "Database",
        keys: list[bytes],
        serve: Callable[[bytes], Any],
        timeout_reply: Any,
    ) -> None:
        self.client = client
        self.db = db
        self.keys = keys
        self.serve = serve
        self.timeout_reply = timeout_reply
        self.deferred: defer.Deferred = defer.Deferred(self._cancel)
        self.timer: Any = None
        self.done = False
        # opt-in (a blocked XREADGROUP): serve(key) is called even when the key is gone, as
        # Redis 7.0.15 unblocks it with -UNBLOCKED on a deleted key; others are skipped then
        self.serve_deleted = False

    def _cancel(self, d: defer.Deferred) -> None:
        """Deferred canceller (the client disconnected): forget the wait."""
        self.unregister()

    def unregister(self) -> None:
        """Drop this wait from every key queue and stop its timer."""
        if self.done:
            return
        self.done = True
        state = self.client.state
        dbid = self.db.id
        bk = state.blocking_keys
        for key in self.keys:
            q = bk.get((dbid, key))
            if q is not None:
                try:
                    q.remove(self)
                except ValueError:
                    pass
                if not q:
                    del bk[(dbid, key)]
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None
        self.client.flags &= ~CLIENT_BLOCKED
        state.blocked_clients_count -= 1

    def finish(self, reply: Any) -> None:
        """Unregister and deliver ``reply`` to the client."""
        self.unregister()
        d = self.deferred
        if not d.called:
            d.callback(reply)

    def _timed_out(self) -> None:
        self.timer = None
        reply = self.timeout_reply
        self.finish(reply() if callable(reply) else reply)

    def _on_unblock(self, error: RedisError | None) -> None:
        """CLIENT UNBLOCK: TIMEOUT answers as a timeout would, ERROR with the UNBLOCKED error."""
        if error is not None:
            self.finish(error)
        else:
            self._timed_out()


def parse_timeout(arg: bytes, unit: int = UNIT_SECONDS) -> int:
    """getTimeoutFromObjectOrReply: the timeout in milliseconds (0 = forever), relative.

    Seconds are a long double (decimals, exponents, hex as strtold reads them) rounded up to
    whole milliseconds; ``inf`` and huge values overflow the C cast and read as negative.
    Redis 7.0.15 does not check that now + timeout fits (a 9223372036854775 s wait blocks)."""
    if unit == UNIT_SECONDS:
        v = longdouble.parse(arg)
        if v is None:
            raise RedisError("ERR timeout is not a float or out of range")
        if not longdouble.is_finite(v):
            raise RedisError("ERR timeout is negative")  # the C cast of +-inf gives LLONG_MIN
        tval = math.ceil(v * 1000)  # (long long) ceill(ftval * 1000.0): 0.0001 s waits 1 ms
        if tval > LLONG_MAX or tval < -(2**63):
            tval = -(2**63)  # out of the cast's range: x86 gives LLONG_MIN
    else:
        tval = parse_int(arg)  # type: ignore[assignment]
        if tval is None:
            raise RedisError("ERR timeout is not an integer or out of range")
    if tval < 0:
        raise RedisError("ERR timeout is negative")
    return tval


# Longer waits than this (31 years) are "forever": no timer, as no poll timeout can hold them.
MAX_TIMER_MS = 10**12


def block_for_keys(
    c: Client,
    keys: list[bytes],
    timeout_ms: int,
    serve: Callable[[bytes], Any],
    timeout_reply: Any = NULL_ARRAY,
) -> Any:
    """Block ``c`` on ``keys`` (in its current db) for ``timeout_ms`` (0 = forever).

    Returns the Deferred to hand back from the command, or - when the client may not block
    (MULTI/EXEC, scripts) - the timeout reply itself. ``serve(key)`` is called when ``key`` may
    be servable; it returns the reply (the client is unblocked with it) or ``NOT_READY``.
    ``timeout_reply`` may be a callable producing the reply."""
    if c.flags & CLIENT_DENY_BLOCKING:
        return timeout_reply() if callable(timeout_reply) else timeout_reply
    state = c.state
    w = Waiter(c, c.db, list(dict.fromkeys(keys)), serve, timeout_reply)
    dbid = c.db.id
    bk = state.blocking_keys
    for key in w.keys:
        q = bk.get((dbid, key))
        if q is None:
            q = bk[(dbid, key)] = deque()
        q.append(w)
    if 0 < timeout_ms < MAX_TIMER_MS:
        w.timer = state.clock.callLater(timeout_ms / 1000.0, w._timed_out)
    c.flags |= CLIENT_BLOCKED
    state.blocked_clients_count += 1
    d = w.deferred
    d.on_unblock = w._on_unblock  # type: ignore[attr-defined]
    d.waiter = w  # type: ignore[attr-defined]
    return d


def handle_clients_blocked_on_keys(state: "ServerState") -> None:
    """handleClientsBlockedOnKeys: serve the waiters of every ready key, in arrival order.

    Replies are delivered after the walk, so a served client's pipelined commands (run as its
    Deferred fires) never re-enter the walk; keys they make ready are served by the loop in
    ``execute`` that called us."""
    if state.serving_blocked or state.exec_nesting:
        return
    state.serving_blocked = True
    served: list[tuple[Waiter, Any]] = []
    try:
        while state.ready_keys:
            ready = state.ready_keys
            state.ready_keys = {}
            for dbid, key in ready:
                q = state.blocking_keys.get((dbid, key))
                if not q:
                    continue
                for w in list(q):
                    if w.done:
                        continue
                    if w.db.peek(key) is None and not w.serve_deleted:
                        continue  # the key is gone: nothing to serve this waiter from
                    state.update_time()
                    try:
                        reply = w.serve(key)
                    except RedisError as e:
                        reply = e
                    except Exception:
                        log.exception("serving a blocked client failed")
                        reply = RedisError("ERR internal error while serving a blocked client")
                    if reply is NOT_READY:
                        continue
                    w.unregister()
                    served.append((w, reply))
    finally:
        state.serving_blocked = False
    for w, reply in served:
        if isinstance(reply, RedisError):
            state.stats.count_error(reply.message)
        d = w.deferred
        if not d.called:
            d.callback(reply)


def scan_database_for_ready_keys(state: "ServerState", db: "Database") -> None:
    """scanDatabaseForReadyKeys + scanDatabaseForDeletedKeys (SWAPDB): every waited-on key of
    ``db`` is ready (a missing one only matters to ``serve_deleted`` waiters)."""
    for dbid, key in list(state.blocking_keys):
        if dbid == db.id:
            state.ready_keys[(dbid, key)] = None


__all__ = [
    "NOT_READY",
    "UNIT_MS",
    "UNIT_SECONDS",
    "Waiter",
    "block_for_keys",
    "handle_clients_blocked_on_keys",
    "parse_timeout",
    "scan_database_for_ready_keys",
]
