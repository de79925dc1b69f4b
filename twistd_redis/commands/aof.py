"""BGREWRITEAOF: start (or schedule) the append-only file rewrite (persistence/aof.py)."""

from __future__ import annotations

from ..client import Client
from ..errors import RedisError
from ..persistence.child import active_child
from ..resp import SimpleString
from .table import ADMIN, NO_ASYNC_LOADING, NOSCRIPT, command


@command("bgrewriteaof", arity=1, flags=ADMIN | NOSCRIPT | NO_ASYNC_LOADING, group="server")
def bgrewriteaof_command(c: Client, argv: list[bytes]):
    """BGREWRITEAOF"""
    state = c.state
    aof = state.aof
    info = active_child(state)
    if info is not None and info.kind == "aof":
        raise RedisError("ERR Background append only file rewriting already in progress")
    if info is not None or state.exec_nesting:
        aof.rewrite_scheduled = True
        # a manual trigger resets the failure count so that it can run at once
        aof.consecutive_failures = 0
        return SimpleString(b"Background append only file rewriting scheduled")
    if aof.rewrite_background():
        return SimpleString(b"Background append only file rewriting started")
    raise RedisError(
        "ERR Can't execute an AOF background rewriting. Please check the server logs for more information."
    )
