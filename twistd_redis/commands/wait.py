"""WAIT and ROLE (Redis 7.0's waitCommand and roleCommand in replication.c).

The waiting itself (the Deferred, GETACK at the end of the turn, wake-up on ACKs) lives in
replication/wait.py; this module parses and answers.
"""

from __future__ import annotations

from typing import Any

from ..blocking import UNIT_MS, parse_timeout
from ..client import CLIENT_DENY_BLOCKING, CLIENT_MULTI, Client
from ..errors import RedisError, not_integer
from ..replication.wait import block_for_replication, count_acks_by_offset
from .args import parse_int
from .table import FAST, LOADING, NOSCRIPT, STALE, command

WAIT_ON_REPLICA = (
    "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a "
    "replica is configured to be writable (which is not the default) writes to replicas are just "
    "local and are not propagated."
)


@command("wait", arity=3, flags=NOSCRIPT, group="generic")
def wait_command(c: Client, argv: list[bytes]) -> Any:
    """WAIT numreplicas timeout"""
    state = c.state
    if state.repl.masterhost is not None:
        raise RedisError(WAIT_ON_REPLICA)
    numreplicas = parse_int(argv[1])
    if numreplicas is None:
        raise not_integer()
    timeout = parse_timeout(argv[2], UNIT_MS)
    offset = c.woff
    # First try without blocking at all (inside MULTI, or a client that may not block, the
    # count is the answer).
    acked = count_acks_by_offset(state, offset)
    if acked >= numreplicas or c.flags & (CLIENT_MULTI | CLIENT_DENY_BLOCKING):
        return acked
    return block_for_replication(c, offset, numreplicas, timeout)


@command("role", arity=1, flags=NOSCRIPT | LOADING | STALE | FAST, group="server")
def role_command(c: Client, argv: list[bytes]) -> Any:
    """ROLE"""
    repl = c.state.repl
    if repl.masterhost is None:
        replicas = []
        for link in repl.replicas:
            if link.repl_state != "online":
                continue  # only online replicas are listed (roleCommand)
            replicas.append([link.ip().encode(), b"%d" % link.listening_port, b"%d" % link.ack_off])
        return [b"master", repl.master_repl_offset, replicas]
    link = repl.link
    if link is None:
        word, off = "none", -1
    else:
        word = link.state_word()
        off = -1
        if link.master_client is not None:  # server.master ? server.master->reploff : -1
            r = link.reploff
            off = r if r is not None else -1
    return [b"slave", repl.masterhost.encode(), repl.masterport, word.encode(), off]


__all__ = ["WAIT_ON_REPLICA", "role_command", "wait_command"]
