"""Persistence commands: SAVE, BGSAVE [SCHEDULE], LASTSAVE (Redis 7.0's rdb.c commands).

The work is done by ``state.persistence`` (persistence/snapshot.py); replies and errors are
Redis 7.0.15's word for word: a failed SAVE answers a bare ``-ERR``.
"""

from __future__ import annotations

from ..client import Client
from ..errors import RedisError, syntax_error
from ..persistence import child
from ..resp import OK, SimpleString
from .table import ADMIN, FAST, LOADING, NO_ASYNC_LOADING, NO_MULTI, NOSCRIPT, STALE, command

BGSAVE_IN_PROGRESS = "ERR Background save already in progress"


@command("save", arity=1, flags=ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, group="server")
def save_command(c: Client, argv: list[bytes]):
    """SAVE"""
    mgr = c.state.persistence
    if mgr.rdb_child() is not None:
        raise RedisError(BGSAVE_IN_PROGRESS)
    mgr.rdb_saves += 1
    if not mgr.save():
        raise RedisError("ERR")
    return OK


@command("bgsave", arity=-1, flags=ADMIN | NOSCRIPT | NO_ASYNC_LOADING, group="server")
def bgsave_command(c: Client, argv: list[bytes]):
    """BGSAVE [SCHEDULE]"""
    schedule = False
    if len(argv) > 1:
        if len(argv) == 2 and argv[1].lower() == b"schedule":
            schedule = True
        else:
            raise syntax_error()
    state = c.state
    mgr = state.persistence
    if mgr.rdb_child() is not None:
        raise RedisError(BGSAVE_IN_PROGRESS)
    if child.active_child(state) is not None or state.exec_nesting:
        # inside MULTI/EXEC Redis never forks: the BGSAVE is scheduled (server.in_exec)
        if schedule or state.exec_nesting:
            mgr.bgsave_scheduled = True
            return SimpleString(b"Background saving scheduled")
        raise RedisError(
            "ERR Another child process is active (AOF?): can't BGSAVE right now. "
            "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
        )
    if mgr.bgsave():
        return SimpleString(b"Background saving started")
    raise RedisError("ERR")


@command("lastsave", arity=1, flags=LOADING | STALE | FAST, group="server")
def lastsave_command(c: Client, argv: list[bytes]):
    """LASTSAVE"""
    return c.state.persistence.lastsave
