"""WAIT and the good-replicas count (helper "wait" fills this module; see __init__.py).

Entry points other modules call (their signatures are fixed):
  replicas_acked(state)              a replica's REPLCONF ACK moved its ack offset (master.py)
  refresh_good_replicas(state)       refreshGoodSlavesCount: repl.good_replicas (cron, ACKs,
                                     replica attach/detach)
"""

from __future__ import annotations

from typing import Any


def replicas_acked(state: Any) -> None:
    return None


def refresh_good_replicas(state: Any) -> None:
    return None
