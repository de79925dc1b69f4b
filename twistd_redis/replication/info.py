"""INFO replication and ROLE (helper "wait" completes this module; see __init__.py).

Entry point: info_replication(state) -> list[str], the section's lines in Redis 7.0's order.
"""

from __future__ import annotations

from typing import Any


def info_replication(state: Any) -> list[str]:
    repl = state.repl
    return [
        "role:master",
        "connected_slaves:%d" % len(repl.replicas),
        "master_failover_state:no-failover",
        f"master_replid:{repl.replid}",
        f"master_replid2:{repl.replid2}",
        f"master_repl_offset:{repl.master_repl_offset}",
        f"second_repl_offset:{repl.second_repl_offset}",
        *repl.info_backlog(),
    ]
