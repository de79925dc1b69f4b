"""INFO replication, as Redis 7.0's genRedisInfoString prints it (ROLE is in commands/wait.py).

Entry point: info_replication(state) -> list[str], the section's lines in Redis 7.0's order:

  role
  (replica) master_host, master_port, master_link_status, master_last_io_seconds_ago,
            master_sync_in_progress, slave_read_repl_offset, slave_repl_offset,
            master_sync_total_bytes/read_bytes/left_bytes/perc/last_io_seconds_ago (while the
            RDB is transferred), master_link_down_since_seconds (while the link is not up),
            slave_priority, slave_read_only, replica_announced
  connected_slaves
  min_slaves_good_slaves (only while min-replicas-to-write and min-replicas-max-lag are set)
  slaveN:ip=,port=,state=,offset=,lag= (every replica with a state word, attach order)
  master_failover_state, master_replid, master_replid2, master_repl_offset,
  second_repl_offset, repl_backlog_active/size/first_byte_offset/histlen

Seconds are whole seconds differences, as Redis's server.unixtime - <time_t> fields.
"""

from __future__ import annotations

from typing import Any


def _replica_lines(state: Any) -> list[str]:
    repl = state.repl
    cfg = state.config
    link = repl.link
    now = int(state.clock.seconds())
    from .replica import ReplState

    if link is None:  # not expected while masterhost is set; print an idle link
        st = ReplState.NONE
        master_client = None
        reploff = read_reploff = None
    else:
        st = link.repl_state
        master_client = link.master_client
        reploff = link.reploff
        read_reploff = link.read_reploff
    connected = st == ReplState.CONNECTED
    transfer = st == ReplState.TRANSFER
    last_io = (now - int(link.last_io)) if master_client is not None else -1
    lines = [
        f"master_host:{repl.masterhost}",
        f"master_port:{repl.masterport}",
        f"master_link_status:{'up' if connected else 'down'}",
        f"master_last_io_seconds_ago:{last_io}",
        f"master_sync_in_progress:{1 if transfer else 0}",
        # neither a master client nor a cached one: Redis prints 1 for both
        f"slave_read_repl_offset:{read_reploff if read_reploff is not None else 1}",
        f"slave_repl_offset:{reploff if reploff is not None else 1}",
    ]
    if transfer:
        size = link.transfer_size
        read = link.transfer_read
        perc = (read / size) * 100 if size else 0.0
        lines += [
            f"master_sync_total_bytes:{size}",
            f"master_sync_read_bytes:{read}",
            f"master_sync_left_bytes:{size - read}",
            f"master_sync_perc:{perc:.2f}",
            f"master_sync_last_io_seconds_ago:{now - int(link.transfer_last_io)}",
        ]
    if not connected:
        down = link.down_since if link is not None else 0
        lines.append(f"master_link_down_since_seconds:{(now - int(down)) if down else -1}")
    lines += [
        f"slave_priority:{cfg['replica-priority']}",
        f"slave_read_only:{1 if cfg['replica-read-only'] else 0}",
        f"replica_announced:{1 if cfg['replica-announced'] else 0}",
    ]
    return lines


def slave_lines(state: Any) -> list[str]:
    """slaveN:ip=..,port=..,state=..,offset=..,lag=.. (lag only for online replicas, else 0)."""
    out = []
    now = int(state.clock.seconds())
    n = 0
    for link in state.repl.replicas:
        word = link.repl_state
        if word not in ("wait_bgsave", "send_bulk", "online"):
            continue  # replstateToString gives "" for other states: the line is skipped
        lag = now - int(link.ack_time) if word == "online" else 0
        out.append(f"slave{n}:ip={link.ip()},port={link.listening_port},state={word},offset={link.ack_off},lag={lag}")
        n += 1
    return out


def info_replication(state: Any) -> list[str]:
    repl = state.repl
    cfg = state.config
    lines = [f"role:{'master' if repl.masterhost is None else 'slave'}"]
    if repl.masterhost is not None:
        lines += _replica_lines(state)
    lines.append(f"connected_slaves:{len(repl.replicas)}")
    if cfg["min-replicas-to-write"] and cfg["min-replicas-max-lag"]:
        lines.append(f"min_slaves_good_slaves:{repl.good_replicas}")
    if repl.replicas:
        lines += slave_lines(state)
    lines += [
        "master_failover_state:no-failover",
        f"master_replid:{repl.replid}",
        f"master_replid2:{repl.replid2}",
        f"master_repl_offset:{repl.master_repl_offset}",
        f"second_repl_offset:{repl.second_repl_offset}",
        *repl.info_backlog(),
    ]
    return lines


__all__ = ["info_replication", "slave_lines"]
