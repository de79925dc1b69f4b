"""``state.repl``: replication ids, offsets, the ring backlog and the replication cron.

Redis 7.0's fields, with its names: ``replid`` / ``replid2`` (the id this server's history is
known by, and the one it had before its last promotion), ``master_repl_offset`` (bytes of
replication stream produced or proxied so far), ``second_repl_offset`` (the first offset
``replid2`` is NOT valid for), and the backlog: the last ``repl-backlog-size`` bytes of the
stream, from which a reconnecting replica continues (+CONTINUE) instead of a full resync.

``feed_stream(data)`` is the only way bytes enter the stream: it appends them to the backlog,
moves the offset and hands them to the master side, which writes them to every replica. As in
Redis, nothing is fed (and the offset does not move) while there is no backlog: it is created
when the first replica syncs (or this server becomes a replica) and freed after
``repl-backlog-ttl`` seconds without replicas on a master.
"""

from __future__ import annotations

import logging
import random
from typing import Any

log = logging.getLogger("twistd_redis")

NULL_REPLID = "0" * 40


def random_replid() -> str:
    return "%040x" % random.getrandbits(160)


class ReplBacklog:
    """The last ``size`` bytes of the replication stream. ``offset`` is the stream offset of
    its first byte (Redis's repl_backlog->offset, INFO's repl_backlog_first_byte_offset) and
    ``histlen`` how many bytes it holds. Appending is amortized O(len): the bytearray is
    compacted only once the dropped head exceeds the size."""

    __slots__ = ("size", "buf", "start", "histlen", "offset")

    def __init__(self, size: int, next_offset: int) -> None:
        self.size = max(1, size)
        self.buf = bytearray()
        self.start = 0
        self.histlen = 0
        # no data yet, but virtually the first byte held is the next one the stream produces
        self.offset = next_offset

    def append(self, data: bytes) -> None:
        self.buf += data
        self.histlen += len(data)
        if self.histlen > self.size:
            drop = self.histlen - self.size
            self.start += drop
            self.histlen = self.size
            self.offset += drop
            if self.start > self.size:
                del self.buf[: self.start]
                self.start = 0

    def resize(self, size: int) -> None:
        """repl-backlog-size changed at run time: keep the newest bytes that still fit."""
        self.size = max(1, size)
        if self.histlen > self.size:
            drop = self.histlen - self.size
            self.start += drop
            self.histlen = self.size
            self.offset += drop
        del self.buf[: self.start]
        self.start = 0

    def covers(self, offset: int) -> bool:
        """Can a replica whose next needed byte is ``offset`` continue from here?"""
        return self.offset <= offset <= self.offset + self.histlen

    def read_from(self, offset: int) -> bytes:
        """Every byte held from stream offset ``offset`` on (``covers(offset)`` must hold)."""
        skip = offset - self.offset
        return bytes(self.buf[self.start + skip : self.start + self.histlen])

    def memory(self) -> int:
        return len(self.buf)


class Replication:
    """Replication state of one server (``state.repl``). The master side (master.py) keeps
    ``replicas``; the replica side (replica.py) keeps ``masterhost``/``masterport`` and
    ``link``; both share the ids, the offset and the backlog kept here."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self.replid = random_replid()
        self.replid2 = NULL_REPLID
        self.master_repl_offset = 0
        self.second_repl_offset = -1
        self.backlog: ReplBacklog | None = None
        self.no_replicas_since: float = state.clock.seconds()  # repl_no_slaves_since
        # master side (master.py): one ReplicaLink per replica connection, in attach order
        # (INFO's slave0, slave1, ...); the db the stream last SELECTed (-1: send SELECT)
        self.replicas: list[Any] = []
        self.slaveseldb = -1
        self.good_replicas = 0  # repl_good_slaves_count (wait.py), behind min-replicas-to-write
        self.get_ack_pending = False  # WAIT asked for REPLCONF GETACK at the end of this turn
        # replica side (replica.py): where the master is, and the link to it (None on a master)
        self.masterhost: str | None = None
        self.masterport = 0
        self.link: Any = None
        # (replid, offset, db) from the RDB loaded at startup by a configured replica
        self.startup_cached_master: tuple[str, int, int] | None = None
        # stats (INFO stats): sync_full, sync_partial_ok, sync_partial_err
        self.stat_sync_full = 0
        self.stat_sync_partial_ok = 0
        self.stat_sync_partial_err = 0
        self._cron_last = state.clock.seconds()
        from . import master

        self._master = master  # imported once: the feed below is on every write's path
        state.config.on_change("repl-backlog-size", self._backlog_size_changed)

    # ------------------------------------------------------------ ids (PSYNC2)

    def change_replication_id(self) -> None:
        """changeReplicationId: a new history starts (a fresh master, a full resync's end)."""
        self.replid = random_replid()

    def clear_replication_id2(self) -> None:
        self.replid2 = NULL_REPLID
        self.second_repl_offset = -1

    def shift_replication_id(self) -> None:
        """shiftReplicationId (a replica promoted): the old id stays valid up to the current
        offset as replid2, so the old master's other replicas can continue from us."""
        self.replid2 = self.replid
        self.second_repl_offset = self.master_repl_offset + 1
        self.change_replication_id()
        log.info(
            "Setting secondary replication ID to %s, valid up to offset: %d. New replication ID is %s",
            self.replid2,
            self.second_repl_offset,
            self.replid,
        )

    def restore_from_rdb(self, replid: str, offset: int, stream_db: int, replica: bool) -> None:
        """loadDataFromDisk with the RDB's repl-id / repl-offset / repl-stream-db. A replica
        takes the id and offset as its own and keeps them as the cached master its first
        PSYNC continues from (replication_start); a master keeps them as replid2 /
        second_repl_offset with a backlog starting right after, so the replicas of its former
        life continue with +CONTINUE."""
        if replica:
            self.replid = replid
            self.master_repl_offset = offset
            self.startup_cached_master = (replid, offset, stream_db)
            return
        self.replid2 = replid
        self.second_repl_offset = offset + 1
        self.master_repl_offset += offset
        self.free_backlog()
        self.create_backlog()
        self.no_replicas_since = self.state.clock.seconds()

    # ------------------------------------------------------------ backlog

    def create_backlog(self) -> None:
        """createReplicationBacklog, and start feeding replicas from propagate()."""
        if self.backlog is not None:
            return
        self.backlog = ReplBacklog(self.state.config["repl-backlog-size"], self.master_repl_offset + 1)
        targets = self.state.propagation_targets
        if self._feed_target not in targets:
            targets.append(self._feed_target)

    def _feed_target(self, dbid: int, argv: list[bytes]) -> None:
        """The propagation target while a backlog exists (state.propagate calls it)."""
        self._master.feed_replicas(self.state, dbid, argv)

    def free_backlog(self) -> None:
        """freeReplicationBacklog: propagate() stops feeding the stream."""
        self.backlog = None
        targets = self.state.propagation_targets
        if self._feed_target in targets:
            targets.remove(self._feed_target)

    def _backlog_size_changed(self, value: Any) -> None:
        if self.backlog is not None:
            self.backlog.resize(self.state.config["repl-backlog-size"])

    def feed_stream(self, data: bytes) -> None:
        """feedReplicationBuffer: ``data`` (encoded commands, or bytes proxied from our own
        master) joins the stream: backlog, offset, then every replica (master.py)."""
        backlog = self.backlog
        if backlog is None:
            return
        backlog.append(data)
        self.master_repl_offset += len(data)
        if self.replicas:
            self._master.write_to_replicas(self.state, data)

    # ------------------------------------------------------------ cron

    def cron(self) -> None:
        """replicationCron, once a second: the replica link (reconnect, ACK, timeouts), the
        master side (PING, replica timeouts), the backlog TTL, the good-replicas count."""
        now = self.state.clock.seconds()
        if now - self._cron_last < 1.0:
            return
        self._cron_last = now
        from .master import master_cron
        from .replica import replica_cron
        from .wait import refresh_good_replicas

        replica_cron(self.state)
        master_cron(self.state)
        if self.replicas:
            self.no_replicas_since = now
        else:
            ttl = self.state.config["repl-backlog-ttl"]
            if ttl and self.backlog is not None and self.masterhost is None and now - self.no_replicas_since > ttl:
                # a new id: replicas that reconnect must not continue from a history that is
                # gone (Redis frees the backlog this way after repl-backlog-ttl)
                self.change_replication_id()
                self.clear_replication_id2()
                self.free_backlog()
                log.info("Replication backlog freed after %d seconds without connected replicas.", ttl)
        refresh_good_replicas(self.state)

    def info_backlog(self) -> list[str]:
        b = self.backlog
        if b is None:
            return [
                "repl_backlog_active:0",
                "repl_backlog_size:%d" % self.state.config["repl-backlog-size"],
                "repl_backlog_first_byte_offset:0",
                "repl_backlog_histlen:0",
            ]
        return [
            "repl_backlog_active:1",
            "repl_backlog_size:%d" % b.size,
            "repl_backlog_first_byte_offset:%d" % b.offset,
            "repl_backlog_histlen:%d" % b.histlen,
        ]
