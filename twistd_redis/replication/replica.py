"""The replica side of replication (helper "replica" fills this module; see __init__.py).

Entry points other modules call (their signatures are fixed):
  replica_cron(state)                once a second from repl.cron
  replication_start(state)           from ServerState.startService: connect to the configured
                                     ``replicaof`` master, if any
"""

from __future__ import annotations

from typing import Any


def replica_cron(state: Any) -> None:
    return None


def replication_start(state: Any) -> None:
    return None
