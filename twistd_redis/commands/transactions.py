"""MULTI, EXEC, DISCARD, WATCH, UNWATCH (multi.c).

Queueing happens in ``ServerState._slow_gates``: once ``CLIENT_MULTI`` is set, every command
but EXEC/DISCARD/MULTI/WATCH/QUIT/RESET passes the usual checks (unknown command, arity,
NO_MULTI...) and is kept with its row; a rejected one dooms the transaction
(``CLIENT_DIRTY_EXEC``, set by ``ServerState.reject``). EXEC runs the queue through the normal
``execute`` path, inside ``begin_atomic``/``end_atomic``: nothing else interleaves (one reactor
turn), blocking commands answer at once (``CLIENT_DENY_BLOCKING``), the writes reach the AOF and
the replicas as one MULTI ... EXEC, and blocked clients are served after the whole transaction.

WATCH bookkeeping lives in ServerState (``watch_key``, ``signal_modified_key``,
``touch_all_watched_keys_in_db``, ``is_watched_key_expired``): any write to a watched key,
its expiry, FLUSHDB/FLUSHALL/SWAPDB make EXEC answer a null array.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.python.failure import Failure

from ..client import CLIENT_DENY_BLOCKING, CLIENT_DIRTY_CAS, CLIENT_DIRTY_EXEC, CLIENT_MULTI, Client
from ..errors import RedisError
from ..resp import NULL_ARRAY, OK
from .table import ALLOW_BUSY, FAST, LOADING, NOSCRIPT, SKIP_SLOWLOG, STALE, command

EXECABORT = "EXECABORT Transaction discarded because of previous errors."


@command("multi", arity=1, flags=NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, group="transactions")
def multi_command(c: Client, argv: list[bytes]):
    if c.flags & CLIENT_MULTI:  # an error of its own: it does not doom the transaction
        raise RedisError("ERR MULTI calls can not be nested")
    c.multi_queue = []
    c.flags |= CLIENT_MULTI
    return OK


@command("discard", arity=1, flags=NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, group="transactions")
def discard_command(c: Client, argv: list[bytes]):
    if not c.flags & CLIENT_MULTI:
        raise RedisError("ERR DISCARD without MULTI")
    c.state.discard_transaction(c)
    return OK


@command("exec", arity=1, flags=NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG, group="transactions")
def exec_command(c: Client, argv: list[bytes]):
    if not c.flags & CLIENT_MULTI:
        raise RedisError("ERR EXEC without MULTI")
    state = c.state
    if state.is_watched_key_expired(c):
        c.flags |= CLIENT_DIRTY_CAS
    if c.flags & (CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC):
        doomed = c.flags & CLIENT_DIRTY_EXEC
        c.state.discard_transaction(c)
        if doomed:
            raise RedisError(EXECABORT)
        return NULL_ARRAY
    queue = c.multi_queue
    had_deny = c.flags & CLIENT_DENY_BLOCKING
    c.flags |= CLIENT_DENY_BLOCKING
    state.unwatch_all(c)  # unwatch at once: our own writes need not touch our WATCHes
    replies = []
    execute = state.execute
    state.begin_atomic()
    try:
        for cmd_argv in queue:
            reply = execute(c, cmd_argv, False)
            if isinstance(reply, defer.Deferred):  # nothing may wait inside a transaction
                if reply.called and not isinstance(reply.result, (defer.Deferred, Failure)):
                    reply = reply.result
                else:
                    reply.cancel()
                    reply = RedisError("ERR internal error: a command tried to wait inside EXEC")
            replies.append(reply)
    finally:
        state.end_atomic()
        if not had_deny:
            c.flags &= ~CLIENT_DENY_BLOCKING
        c.state.discard_transaction(c)
    return replies


@command("watch", arity=-2, flags=NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, keys=(1, -1, 1), group="transactions")
def watch_command(c: Client, argv: list[bytes]):
    if c.flags & CLIENT_MULTI:  # an error of its own: it does not doom the transaction
        raise RedisError("ERR WATCH inside MULTI is not allowed")
    # (WATCH after a watched key was touched keeps the client dirty: EXEC still fails)
    for key in argv[1:]:
        c.state.watch_key(c, key)
    return OK


@command("unwatch", arity=1, flags=NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, group="transactions")
def unwatch_command(c: Client, argv: list[bytes]):
    c.state.unwatch_all(c)
    c.flags &= ~CLIENT_DIRTY_CAS
    return OK


