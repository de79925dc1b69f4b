"""The master side of replication (helper "master" fills this module; see __init__.py).

Entry points other modules call (their signatures are fixed):
  feed_replicas(state, dbid, argv)   a propagation target: encode argv (SELECT first when dbid
                                     differs from repl.slaveseldb; dbid None: no SELECT, as
                                     Redis's PING and GETACK) and repl.feed_stream() it
  write_to_replicas(state, data)     called by repl.feed_stream: send stream bytes to replicas
  master_cron(state)                 once a second from repl.cron
  disconnect_replicas(state)         disconnectSlaves: drop every replica connection
"""

from __future__ import annotations

from typing import Any


def feed_replicas(state: Any, dbid: int | None, argv: list[bytes]) -> None:
    raise NotImplementedError("replication master side: in progress")


def write_to_replicas(state: Any, data: bytes) -> None:
    raise NotImplementedError("replication master side: in progress")


def master_cron(state: Any) -> None:
    return None


def disconnect_replicas(state: Any) -> None:
    for link in list(state.repl.replicas):
        link.client.kill()
