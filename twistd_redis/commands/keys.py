"""Generic keyspace commands."""

from __future__ import annotations

from ..client import Client
from .table import WRITE, command


@command("del", arity=-2, flags=WRITE, keys=(1, -1, 1), group="generic")
def del_command(c: Client, argv: list[bytes]):
    """DEL key [key ...]"""
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
