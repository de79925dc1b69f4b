"""WAIT and the good-replicas count (Redis 7.0's replication.c "SYNCHRONOUS REPLICATION" and
"MIN-SLAVES-TO-WRITE" parts).

Entry points other modules call (their signatures are fixed):
  replicas_acked(state)              a replica's REPLCONF ACK moved its ack offset (master.py):
                                     processClientsWaitingReplicas
  refresh_good_replicas(state)       refreshGoodSlavesCount: repl.good_replicas (cron, ACKs,
                                     replica attach/detach)

WAIT (commands/wait.py) counts the online replicas whose acknowledged offset reached the
client's ``woff`` (the stream offset right after its last write). When too few did, the
client blocks on a Deferred kept in ``clients_waiting_acks`` (newest first, as Redis's
listAddNodeHead) and a ``REPLCONF GETACK *`` is fed into the stream once at the end of the
reactor turn (beforeSleep), for every WAIT of that turn together. The GETACK is part of the
stream: it moves master_repl_offset like any write, as in Redis. The Deferred fires with the
count when enough ACKs arrived, or at the timeout (on ``state.clock``) with the count so far;
a disconnect cancels it; CLIENT UNBLOCK answers the count (TIMEOUT) or -UNBLOCKED (ERROR).
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from ..blocking import MAX_TIMER_MS
from ..client import CLIENT_BLOCKED, Client

GETACK_ARGV = [b"REPLCONF", b"GETACK", b"*"]


def _waiters(state: Any) -> list[WaitRequest]:
    """server.clients_waiting_acks (kept on state.repl)."""
    repl = state.repl
    w = repl.__dict__.get("clients_waiting_acks")
    if w is None:
        w = repl.__dict__["clients_waiting_acks"] = []
    return w


def count_acks_by_offset(state: Any, offset: int) -> int:
    """replicationCountAcksByOffset: online replicas that acknowledged ``offset``."""
    n = 0
    for link in state.repl.replicas:
        if link.repl_state == "online" and link.ack_off >= offset:
            n += 1
    return n


def request_ack_from_replicas(state: Any) -> None:
    """replicationRequestAckFromSlaves: one REPLCONF GETACK * at the end of this reactor turn,
    shared by every WAIT that blocked during it (Redis sends it from beforeSleep)."""
    repl = state.repl
    if repl.get_ack_pending:
        return
    repl.get_ack_pending = True
    state.clock.callLater(0, send_getack, state)


def send_getack(state: Any) -> None:
    """beforeSleep's GETACK: fed through the replication stream (no SELECT: dbid None)."""
    repl = state.repl
    if not repl.get_ack_pending:
        return
    repl.get_ack_pending = False
    if repl.masterhost is not None or repl.backlog is None:
        # a replica's stream is its master's; without a backlog nothing is fed (and the
        # offset does not move), as replicationFeedSlaves returns early
        return
    from .master import feed_replicas

    feed_replicas(state, None, list(GETACK_ARGV))


class WaitRequest:
    """One client blocked in WAIT: the offset it needs, how many replicas, its Deferred/timer."""

    __slots__ = ("client", "deferred", "done", "numreplicas", "offset", "timer")

    def __init__(self, client: Client, offset: int, numreplicas: int) -> None:
        self.client = client
        self.offset = offset
        self.numreplicas = numreplicas
        self.deferred: defer.Deferred = defer.Deferred(self._cancel)
        self.timer: Any = None
        self.done = False

    def _cancel(self, d: defer.Deferred) -> None:
        self.unregister()

    def unregister(self) -> None:
        """unblockClientWaitingReplicas: out of the waiting list, timer stopped."""
        if self.done:
            return
        self.done = True
        state = self.client.state
        try:
            _waiters(state).remove(self)
        except ValueError:
            pass
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None
        self.client.flags &= ~CLIENT_BLOCKED
        state.blocked_clients_count -= 1

    def finish(self, reply: Any) -> None:
        self.unregister()
        if not self.deferred.called:
            self.deferred.callback(reply)

    def _timed_out(self) -> None:
        """replyToBlockedClientTimedOut (BLOCKED_WAIT): the acks counted now."""
        self.timer = None
        self.finish(count_acks_by_offset(self.client.state, self.offset))

    def _on_unblock(self, error: Any) -> None:
        """CLIENT UNBLOCK: TIMEOUT answers as the timeout would, ERROR with -UNBLOCKED."""
        if error is not None:
            self.finish(error)
        else:
            self._timed_out()


def block_for_replication(c: Client, offset: int, numreplicas: int, timeout_ms: int) -> defer.Deferred:
    """Block ``c`` until ``numreplicas`` replicas acknowledged ``offset`` (0 ms = forever)."""
    state = c.state
    w = WaitRequest(c, offset, numreplicas)
    _waiters(state).insert(0, w)  # listAddNodeHead
    if 0 < timeout_ms < MAX_TIMER_MS:
        w.timer = state.clock.callLater(timeout_ms / 1000.0, w._timed_out)
    c.flags |= CLIENT_BLOCKED
    state.blocked_clients_count += 1
    d = w.deferred
    d.on_unblock = w._on_unblock  # type: ignore[attr-defined]
    d.waiter = w  # type: ignore[attr-defined]
    request_ack_from_replicas(state)
    return d


def replicas_acked(state: Any) -> None:
    """processClientsWaitingReplicas: wake every WAIT whose offset enough replicas reached.
    As Redis, a satisfied (offset, count) pair answers later waiters asking for no more
    without counting again."""
    waiters = _waiters(state)
    if not waiters:
        return
    if state.busy_error is not None:
        # Redis runs this in beforeSleep, never while a script is busy (an ACK read meanwhile
        # waits): ServerState.script_timed_out_ends calls it again after the script
        return
    last_offset = 0
    last_num = 0
    ready: list[tuple[WaitRequest, int]] = []
    for w in list(waiters):
        if w.done:
            continue
        if last_offset and last_offset >= w.offset and last_num >= w.numreplicas:
            ready.append((w, last_num))
            w.unregister()
            continue
        n = count_acks_by_offset(state, w.offset)
        if n >= w.numreplicas:
            last_offset = w.offset
            last_num = n
            ready.append((w, n))
            w.unregister()
    for w, n in ready:
        if not w.deferred.called:
            w.deferred.callback(n)


def refresh_good_replicas(state: Any) -> None:
    """refreshGoodSlavesCount: online replicas whose last ACK is at most min-replicas-max-lag
    seconds old (whole seconds, as Redis's server.unixtime - repl_ack_time). Only kept up to
    date while both min-replicas options are set, as in Redis."""
    cfg = state.config
    max_lag = cfg["min-replicas-max-lag"]
    if not cfg["min-replicas-to-write"] or not max_lag:
        return
    now = int(state.clock.seconds())
    good = 0
    for link in state.repl.replicas:
        if link.repl_state == "online" and now - int(link.ack_time) <= max_lag:
            good += 1
    state.repl.good_replicas = good


__all__ = [
    "GETACK_ARGV",
    "WaitRequest",
    "block_for_replication",
    "count_acks_by_offset",
    "refresh_good_replicas",
    "replicas_acked",
    "request_ack_from_replicas",
    "send_getack",
]
