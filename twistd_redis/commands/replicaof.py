"""REPLICAOF / SLAVEOF host port | NO ONE (Redis 7.0's replicaofCommand).

The work is in replication/replica.py (``set_master`` / ``unset_master``); replies and errors
are Redis 7.0.15's word for word.
"""

from __future__ import annotations

import logging

from ..client import CLIENT_SLAVE, Client
from ..errors import RedisError
from ..resp import OK, SimpleString
from .args import parse_int
from .table import ADMIN, NO_ASYNC_LOADING, NOSCRIPT, STALE, command

log = logging.getLogger("twistd_redis")

ALREADY_CONNECTED = SimpleString(b"OK Already connected to specified master")


def replicaof_generic(c: Client, argv: list[bytes]):
    from ..replication.replica import set_master, unset_master

    state = c.state
    repl = state.repl
    if argv[1].lower() == b"no" and argv[2].lower() == b"one":
        if repl.masterhost is not None:
            unset_master(state)
            log.info("MASTER MODE enabled (user request from '%s')", c.info_line())
        return OK
    if c.flags & CLIENT_SLAVE:
        # the command flushes every replica, this client included
        raise RedisError("ERR Command is not valid when client is a replica.")
    port = parse_int(argv[2])
    if port is None or not 0 <= port <= 65535:
        raise RedisError("ERR Invalid master port")
    host = argv[1].decode("utf-8", "surrogateescape")
    if repl.masterhost is not None and repl.masterhost.lower() == host.lower() and repl.masterport == port:
        log.info(
            "REPLICAOF would result into synchronization with the master we are already connected with. "
            "No operation performed."
        )
        return ALREADY_CONNECTED
    set_master(state, host, port)
    log.info("REPLICAOF %s:%d enabled (user request from '%s')", host, port, c.info_line())
    return OK


@command("replicaof", arity=3, flags=ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING, group="server")
def replicaof_command(c: Client, argv: list[bytes]):
    """REPLICAOF host port | NO ONE"""
    return replicaof_generic(c, argv)


@command("slaveof", arity=3, flags=ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING, group="server")
def slaveof_command(c: Client, argv: list[bytes]):
    """SLAVEOF host port | NO ONE"""
    return replicaof_generic(c, argv)
