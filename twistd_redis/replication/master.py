"""The master side of replication: one ``ReplicaLink`` per replica connection, the full and
partial resynchronization (Redis 7.0's syncCommand / masterTryPartialResynchronization /
startBgsaveForReplication / updateSlavesWaitingBgsave), the stream fan-out and replicationCron's
master part.

Entry points other modules call (their signatures are fixed):
  feed_replicas(state, dbid, argv)   a propagation target: encode argv (SELECT first when dbid
                                     differs from repl.slaveseldb; dbid None: no SELECT, as
                                     Redis's PING and GETACK) and repl.feed_stream() it
  write_to_replicas(state, data)     called by repl.feed_stream: send stream bytes to replicas
  master_cron(state)                 once a second from repl.cron
  disconnect_replicas(state)         disconnectSlaves: drop every replica connection

A replica's life, with Redis's states (INFO shows the word in brackets):
  WAIT_BGSAVE_START [wait_bgsave]  PSYNC/SYNC arrived, no RDB child is producing for it yet;
                                   it gets no stream (its +FULLRESYNC offset is the fork's)
  WAIT_BGSAVE_END [wait_bgsave]    +FULLRESYNC <replid> <offset at fork> sent; the child writes
                                   the RDB; the stream from that offset is buffered for it
  SEND_BULK [send_bulk]            disk sync: ``$<len>\\r\\n`` + the file, paced by the transport
                                   draining (never the whole file in memory)
  ONLINE [online]                  the buffered stream, then the live stream, go out through
                                   the RedisProtocol output path, so client-output-buffer-limit
                                   replica closes a replica that cannot keep up. After a
                                   diskless transfer the buffer waits for the first REPLCONF ACK
                                   (repl_start_cmd_stream_on_ack), so the replica can find the
                                   EOF mark at the very end of what it read.

Diskless (repl-diskless-sync yes and the replica said ``capa eof``): the child writes
``$EOF:<40 random bytes>\\r\\n`` + RDB + the same 40 bytes into a pipe; the parent reads the pipe
from the reactor and copies it to every replica of that sync, and stops reading while any of
them has a full transport buffer.
"""

from __future__ import annotations

import io
import os
import weakref
from typing import Any

from ..client import CLIENT_DISCONNECT_HOOKS, CLIENT_SLAVE, Client
from ..obuf import OBUF_CLASS_FLAGS
from ..persistence import child as childmod
from ..resp import _BULK_HDR
from ..serverlog import ServerLog

log = ServerLog("twistd_redis.replication")

# replstate (Redis's SLAVE_STATE_*), internal; ReplicaLink.repl_state is INFO's word for it
WAIT_BGSAVE_START = 0
WAIT_BGSAVE_END = 1
SEND_BULK = 2
ONLINE = 3
RDB_TRANSMITTED = 4
_STATE_WORDS = {
    WAIT_BGSAVE_START: "wait_bgsave",
    WAIT_BGSAVE_END: "wait_bgsave",
    SEND_BULK: "send_bulk",
    ONLINE: "online",
    RDB_TRANSMITTED: "rdb_transmitted",
}

CAPA_EOF = b"eof"
CAPA_PSYNC2 = b"psync2"

BULK_CHUNK = 16 * 1024  # PROTO_IOBUF_LEN: what sendBulkToSlave reads from the file per write
PIPE_CHUNK = 64 * 1024  # PROTO_IOBUF_LEN * 4... rdbPipeReadHandler reads up to this much
RDB_EOF_MARK_SIZE = 40


def _multibulk(argv: list[bytes]) -> bytes:
    """The command as the stream carries it (one join; bulk headers from resp's cache)."""
    try:
        return b"*%d\r\n" % len(argv) + b"\r\n".join([_BULK_HDR[len(a)] + a for a in argv]) + b"\r\n"
    except IndexError:  # an argument of 4 KB or more
        return b"*%d\r\n" % len(argv) + b"".join([b"$%d\r\n%s\r\n" % (len(a), a) for a in argv])


class ReplicaLink:
    """One replica connection (Redis keeps these fields on the client struct)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.state = WAIT_BGSAVE_START  # replstate
        self.listening_port = 0
        self.announced_ip: str | None = None
        self.capa: set[bytes] = set()
        self.ack_off = 0
        self.aof_off = 0
        self.ack_time = client.state.clock.seconds()
        self.pre_psync = False  # CLIENT_PRE_PSYNC: it used SYNC, no ACKs expected
        self.rdb_only = False  # CLIENT_REPL_RDBONLY
        self.initial_offset = 0  # psync_initial_offset
        # the stream produced since its RDB's fork, not yet sent (None: sent as produced)
        self.buffer: list[bytes] | None = None
        self.buffer_len = 0
        self.start_stream_on_ack = False  # repl_start_cmd_stream_on_ack
        self.bulk: _BulkSender | None = None
        self.sync: Any = None  # the _SocketSync it is part of (diskless)
        self.watch: _DrainWatch | None = None
        self.partial_since = 0.0  # repl_last_partial_write: RDB bytes stuck in its transport

    @property
    def repl_state(self) -> str:
        return _STATE_WORDS[self.state]

    def ip(self) -> str:
        if self.announced_ip:
            return self.announced_ip
        addr = self.client.addr
        host = addr.rsplit(":", 1)[0] if ":" in addr else addr
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        return host

    def name(self) -> str:
        """replicationGetSlaveName: ip:listening-port, or the connection's address."""
        if self.listening_port:
            return f"{self.ip()}:{self.listening_port}"
        return self.client.addr

    # -------------------------------------------------------------- raw output

    def transport(self) -> Any:
        conn = self.client.conn
        return None if conn is None or conn.closing else conn.transport

    def write_direct(self, data: bytes) -> None:
        """connWrite: bytes outside the reply path (+FULLRESYNC, the RDB, keepalive newlines)."""
        t = self.transport()
        if t is not None:
            self.client.state.stats.total_net_output_bytes += len(data)
            t.write(data)

    def paused(self) -> bool:
        conn = self.client.conn
        return conn is not None and conn.paused

    def start_stream(self) -> None:
        """replicaStartCommandStream: the stream buffered since the fork goes out, then the
        live stream is written as produced."""
        self.start_stream_on_ack = False
        buf, self.buffer, self.buffer_len = self.buffer, None, 0
        if buf:
            self._send(b"".join(buf))

    def _send(self, data: bytes) -> None:
        conn = self.client.conn
        if conn is not None and not conn.closing:
            conn.send_raw(data)


class _DrainWatch:
    """Stands between the transport and the RedisProtocol as its streaming producer, so the
    replica side learns when the transport's buffer drained (to pace the RDB) while the
    protocol keeps seeing pause/resume for its output limits."""

    def __init__(self, proto: Any, link: ReplicaLink) -> None:
        self.proto = proto
        self.link = link

    def pauseProducing(self) -> None:
        self.proto.pauseProducing()

    def resumeProducing(self) -> None:
        self.proto.resumeProducing()
        _drained(self.link)

    def stopProducing(self) -> None:
        self.proto.stopProducing()


def _install_watch(link: ReplicaLink) -> None:
    conn = link.client.conn
    if conn is None or link.watch is not None:
        return
    t = conn.transport
    if getattr(t, "producer", None) is conn:
        try:
            t.unregisterProducer()
            watch = _DrainWatch(conn, link)
            t.registerProducer(watch, True)
            link.watch = watch
        except Exception:  # pragma: no cover - a transport without producer support
            log.exception("replica drain watch")


def _drained(link: ReplicaLink) -> None:
    link.partial_since = 0.0
    if link.bulk is not None:
        link.bulk.pump()
    if link.sync is not None:
        link.sync.replica_drained()


# ------------------------------------------------------------------ per-server master state


class MasterSide:
    """The master part of Redis's server struct that backlog.py does not hold."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self.cron_loops = 0  # replication_cron_loops
        # REPLCONF options told before PSYNC (Redis keeps them on the client)
        self.handshake: weakref.WeakKeyDictionary[Client, ReplicaLink] = weakref.WeakKeyDictionary()
        self.socket_sync: _SocketSync | None = None
        self.disk_sync_pid = 0  # pid of the BGSAVE started for replication (rdb_child_type DISK)
        self.watched_pid = 0  # an unrelated child whose end starts the pending sync
        self.reactor: Any = None  # addReader/removeReader provider (tests set a fake)


def side(state: Any) -> MasterSide:
    repl = state.repl
    s = getattr(repl, "master_side", None)
    if s is None:
        s = repl.master_side = MasterSide(state)
    return s


def handshake_link(c: Client) -> ReplicaLink:
    """The link REPLCONF fills: the replica's own once it synced, else one kept aside."""
    if c.repl is not None:
        return c.repl
    hs = side(c.state).handshake
    link = hs.get(c)
    if link is None:
        link = hs[c] = ReplicaLink(c)
    return link


# ------------------------------------------------------------------ the stream


def feed_replicas(state: Any, dbid: int | None, argv: list[bytes]) -> None:
    """replicationFeedSlaves: SELECT when the stream's db changes, then the command, into the
    backlog and to every replica. A replica proxies its master's bytes instead (replica.py)."""
    repl = state.repl
    if repl.masterhost is not None or repl.backlog is None:
        return
    if dbid is not None and dbid != repl.slaveseldb:
        d = b"%d" % dbid
        data = b"*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n" % (len(d), d) + _multibulk(argv)
        repl.slaveseldb = dbid
    else:
        data = _multibulk(argv)
    repl.feed_stream(data)


def write_to_replicas(state: Any, data: bytes) -> None:
    """Stream bytes to the replicas: written to online ones, buffered for those whose RDB is
    in the making (in order), nothing for those whose fork has not happened yet."""
    for link in state.repl.replicas:
        st = link.state
        if st == WAIT_BGSAVE_START or link.rdb_only:
            continue
        buf = link.buffer
        if buf is None:
            link._send(data)
            continue
        buf.append(data)
        link.buffer_len += len(data)
        conn = link.client.conn
        if conn is not None and conn.obuf.limits[link.client.flags & OBUF_CLASS_FLAGS] != (0, 0, 0):
            # the stream held for it counts against client-output-buffer-limit replica
            conn.check_output_limits(link.buffer_len)


def disconnect_replicas(state: Any) -> None:
    """disconnectSlaves."""
    for link in list(state.repl.replicas):
        link.client.kill()


def _replica_gone(state: Any, c: Client) -> None:
    """A CLIENT_DISCONNECT_HOOK: forget the replica (freeClient's slave part)."""
    link = c.repl
    if link is None:
        return
    repl = state.repl
    if link in repl.replicas:
        repl.replicas.remove(link)
        log.info("Connection with replica %s lost.", link.name())
    if link.bulk is not None:
        link.bulk.close()
        link.bulk = None
    if link.sync is not None:
        link.sync.remove(link)
    link.buffer = None
    if not repl.replicas:
        repl.no_replicas_since = state.clock.seconds()
    from .wait import refresh_good_replicas

    refresh_good_replicas(state)


CLIENT_DISCONNECT_HOOKS.append(_replica_gone)


# ------------------------------------------------------------------ SYNC / PSYNC


def try_partial_resync(c: Client, replid: bytes, offset: int) -> bool:
    """masterTryPartialResynchronization: +CONTINUE and the backlog from ``offset``."""
    state = c.state
    repl = state.repl
    rid = replid.decode("latin-1").lower()
    if rid != repl.replid and (rid != repl.replid2 or offset > repl.second_repl_offset):
        if replid[:1] != b"?":
            if rid != repl.replid and rid != repl.replid2:
                log.info(
                    "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '%s', my "
                    "replication IDs are '%s' and '%s')",
                    replid.decode("latin-1"),
                    repl.replid,
                    repl.replid2,
                )
            else:
                log.info(
                    "Partial resynchronization not accepted: Requested offset for second ID was %d, but I can reply "
                    "up to %d",
                    offset,
                    repl.second_repl_offset,
                )
        else:
            log.info("Full resync requested by replica %s", handshake_link(c).name())
        return False
    backlog = repl.backlog
    if backlog is None or not backlog.covers(offset):
        log.info(
            "Unable to partial resync with replica %s for lack of backlog (Replica request was: %d).",
            handshake_link(c).name(),
            offset,
        )
        return False
    link = _attach(c)
    link.state = ONLINE
    link.ack_time = state.clock.seconds()
    link.start_stream_on_ack = False
    link.buffer = None
    if CAPA_PSYNC2 in link.capa:
        link.write_direct(b"+CONTINUE %s\r\n" % repl.replid.encode())
    else:
        link.write_direct(b"+CONTINUE\r\n")
    data = backlog.read_from(offset)
    if data:
        link._send(data)
    log.info(
        "Partial resynchronization request from %s accepted. Sending %d bytes of backlog starting from offset %d.",
        link.name(),
        len(data),
        offset,
    )
    from .wait import refresh_good_replicas

    refresh_good_replicas(state)
    return True


def _attach(c: Client) -> ReplicaLink:
    """Make the connection a replica: CLIENT_SLAVE, client.repl, repl.replicas (attach order)."""
    state = c.state
    link = side(state).handshake.pop(c, None) or c.repl or ReplicaLink(c)
    c.repl = link
    c.flags |= CLIENT_SLAVE
    if link not in state.repl.replicas:
        state.repl.replicas.append(link)
    _install_watch(link)
    return link


def sync_command_impl(c: Client, argv: list[bytes], offset: int | None) -> None:
    """syncCommand after its checks: partial resync, or a full one (the +FULLRESYNC reply is
    written when the RDB child forks)."""
    state = c.state
    repl = state.repl
    psync = argv[0].lower() == b"psync"
    log.info("Replica %s asks for synchronization", handshake_link(c).name())
    pre_psync = False
    if psync:
        assert offset is not None
        if try_partial_resync(c, argv[1], offset):
            repl.stat_sync_partial_ok += 1
            return
        if argv[1][:1] != b"?":
            repl.stat_sync_partial_err += 1
    else:
        pre_psync = True
    repl.stat_sync_full += 1
    link = _attach(c)
    link.pre_psync = pre_psync
    link.state = WAIT_BGSAVE_START
    if len(repl.replicas) == 1 and repl.backlog is None:
        repl.change_replication_id()
        repl.clear_replication_id2()
        repl.create_backlog()
        log.info("Replication backlog created, my new replication IDs are '%s' and '%s'", repl.replid, repl.replid2)
    s = side(state)
    info = childmod.active_child(state)
    if info is not None and info.kind == "rdb" and s.socket_sync is None:
        # CASE 1: a disk BGSAVE runs: attach if another replica registers the differences
        first = None
        for other in repl.replicas:
            if other is not link and other.state == WAIT_BGSAVE_END and (not other.rdb_only or link.rdb_only):
                first = other
                break
        if first is not None and (link.capa & first.capa) == first.capa and s.disk_sync_pid == info.pid:
            if not link.rdb_only:
                link.buffer = list(first.buffer or [])
                link.buffer_len = first.buffer_len
            _setup_full_resync(link, first.initial_offset)
            log.info("Waiting for end of BGSAVE for SYNC")
        else:
            log.info("Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC")
            _watch_child(state)
    elif info is not None and info.kind == "rdb":
        # CASE 2: the RDB child writes to replica sockets: wait for the next one
        log.info("Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC")
    else:
        cfg = state.config
        if cfg["repl-diskless-sync"] and CAPA_EOF in link.capa and cfg["repl-diskless-sync-delay"]:
            log.info("Delay next BGSAVE for diskless SYNC")
            max_r = cfg["repl-diskless-sync-max-replicas"]
            if max_r and info is None:
                start_pending_fork(state)
        elif info is None:
            start_bgsave_for_replication(state, _capa_of(link), link.rdb_only)
        else:
            log.info("No BGSAVE in progress, but another BG operation is active. BGSAVE for replication delayed")
            _watch_child(state)


def _capa_of(link: ReplicaLink) -> frozenset[bytes]:
    return frozenset(link.capa)


def _watch_child(state: Any) -> None:
    """Start the pending sync as soon as the running (unrelated) child ends."""
    info = childmod.active_child(state)
    s = side(state)
    if info is None or s.watched_pid == info.pid or s.disk_sync_pid == info.pid:
        return
    s.watched_pid = info.pid
    orig = info.done

    def done(ok: bool) -> None:
        orig(ok)
        s.watched_pid = 0
        start_pending_fork(state)

    info.done = done


def _setup_full_resync(link: ReplicaLink, offset: int) -> None:
    """replicationSetupSlaveForFullResync: WAIT_BGSAVE_END, +FULLRESYNC (not after SYNC), and
    the next stream write starts with a SELECT."""
    state = link.client.state
    link.initial_offset = offset
    link.state = WAIT_BGSAVE_END
    if link.buffer is None and not link.rdb_only:
        link.buffer = []
        link.buffer_len = 0
    state.repl.slaveseldb = -1
    if not link.pre_psync:
        link.write_direct(b"+FULLRESYNC %s %d\r\n" % (state.repl.replid.encode(), offset))


def start_pending_fork(state: Any) -> None:
    """replicationStartPendingFork: with no child running, start the BGSAVE replicas in
    WAIT_BGSAVE_START wait for (diskless: once the delay passed or enough replicas came)."""
    if childmod.active_child(state) is not None:
        return
    repl = state.repl
    now = state.clock.seconds()
    waiting = 0
    max_idle = 0
    mincapa: frozenset[bytes] | None = None
    req: bool | None = None
    for link in repl.replicas:
        if link.state != WAIT_BGSAVE_START:
            continue
        if req is None:
            req = link.rdb_only
        elif req != link.rdb_only:
            continue
        idle = int(now) - int(link.client.last_interaction)
        max_idle = max(max_idle, idle)
        waiting += 1
        mincapa = _capa_of(link) if mincapa is None else mincapa & _capa_of(link)
    if not waiting:
        return
    cfg = state.config
    max_r = cfg["repl-diskless-sync-max-replicas"]
    if not cfg["repl-diskless-sync"] or (max_r > 0 and waiting >= max_r) or max_idle >= cfg["repl-diskless-sync-delay"]:
        start_bgsave_for_replication(state, mincapa or frozenset(), bool(req))


def start_bgsave_for_replication(state: Any, mincapa: frozenset[bytes], rdb_only: bool) -> bool:
    """startBgsaveForReplication: a diskless child for replicas with capa eof when
    repl-diskless-sync is on, else a BGSAVE to dir/dbfilename."""
    socket_target = bool(state.config["repl-diskless-sync"]) and CAPA_EOF in mincapa
    log.info("Starting BGSAVE for SYNC with target: %s", "replicas sockets" if socket_target else "disk")
    repl = state.repl
    if socket_target:
        ok = _start_socket_sync(state, rdb_only)
    else:
        ok = _start_disk_sync(state)
    if not ok:
        log.warning("BGSAVE for replication failed")
        for link in list(repl.replicas):
            if link.state == WAIT_BGSAVE_START:
                repl.replicas.remove(link)
                c = link.client
                c.flags &= ~CLIENT_SLAVE
                c.repl = None
                link.write_direct(b"-ERR BGSAVE failed, replication can't continue\r\n")
                c.kill()
        return False
    if not socket_target:
        for link in list(repl.replicas):
            if link.state == WAIT_BGSAVE_START and link.rdb_only == rdb_only:
                _setup_full_resync(link, repl.master_repl_offset)
    return True


# ------------------------------------------------------------------ disk target


def _start_disk_sync(state: Any) -> bool:
    mgr = getattr(state, "persistence", None)
    if mgr is None or not mgr.bgsave():
        return False
    info = childmod.active_child(state)
    if info is None:  # pragma: no cover
        return False
    s = side(state)
    s.disk_sync_pid = info.pid
    orig = info.done

    def done(ok: bool) -> None:
        orig(ok)
        s.disk_sync_pid = 0
        update_replicas_waiting_bgsave(state, ok, "disk")
        start_pending_fork(state)

    info.done = done
    return True


class _BulkSender:
    """sendBulkToSlave: ``$<len>\\r\\n`` then the file, a chunk at a time while the transport
    takes it (its buffer stays around bufferSize however slow the replica is)."""

    def __init__(self, link: ReplicaLink, f: Any, size: int) -> None:
        self.link = link
        self.f = f
        self.size = size
        self.sent = 0
        self.preamble = b"$%d\r\n" % size

    def pump(self) -> None:
        link = self.link
        if self.f is None:
            return
        if self.preamble:
            link.write_direct(self.preamble)
            self.preamble = b""
        while not link.paused():
            if link.transport() is None:
                self.close()
                return
            chunk = self.f.read(BULK_CHUNK)
            if not chunk:
                self.close()
                link.bulk = None
                log.info("Synchronization with replica %s succeeded", link.name())
                if _put_online(link):
                    link.start_stream()
                return
            self.sent += len(chunk)
            link.write_direct(chunk)

    def close(self) -> None:
        if self.f is not None:
            self.f.close()
            self.f = None


def _put_online(link: ReplicaLink) -> bool:
    """replicaPutOnline: False for an rdb-only replica, which is closed instead."""
    state = link.client.state
    if link.rdb_only:
        link.state = RDB_TRANSMITTED
        log.info("RDB transfer completed, rdb only replica (%s) should be disconnected asap", link.name())
        link.client.close_after_reply()
        conn = link.client.conn
        if conn is not None:
            conn.close_now()
        return False
    link.state = ONLINE
    link.ack_time = state.clock.seconds()
    from .wait import refresh_good_replicas

    refresh_good_replicas(state)
    return True


def update_replicas_waiting_bgsave(state: Any, ok: bool, kind: str) -> None:
    """updateSlavesWaitingBgsave."""
    from ..persistence.snapshot import rdb_filename

    for link in list(state.repl.replicas):
        if link.state != WAIT_BGSAVE_END:
            continue
        if not ok:
            log.warning("SYNC failed. BGSAVE child returned an error")
            link.client.kill()
            continue
        if kind == "socket":
            log.info(
                "Streamed RDB transfer with replica %s succeeded (socket). Waiting for REPLCONF ACK from replica to "
                "enable streaming",
                link.name(),
            )
            link.sync = None
            if _put_online(link):
                link.start_stream_on_ack = True
            continue
        try:
            f = open(rdb_filename(state), "rb")  # noqa: SIM115 - closed by the _BulkSender
            size = os.fstat(f.fileno()).st_size
        except OSError as e:
            log.warning("SYNC failed. Can't open/stat DB after BGSAVE: %s", e.strerror)
            link.client.kill()
            continue
        link.state = SEND_BULK
        link.bulk = _BulkSender(link, f, size)
        link.bulk.pump()


# ------------------------------------------------------------------ socket target (diskless)


class _SocketSync:
    """rdbSaveToSlavesSockets and rdbPipeReadHandler: one child streaming to a set of replicas."""

    def __init__(self, state: Any, links: list[ReplicaLink], read_fd: int, reactor: Any) -> None:
        self.state = state
        self.links = links
        self.fd = read_fd
        self.reactor = reactor
        self.reading = False
        self.eof = False
        self.child_done: bool | None = None
        self.pid = 0

    # IReadDescriptor for reactor.addReader
    def fileno(self) -> int:
        return self.fd

    def logPrefix(self) -> str:
        return "rdb-pipe"

    def connectionLost(self, reason: Any) -> None:
        """The reactor saw the pipe hang up with nothing left to read (EPOLLHUP): EOF."""
        if self.fd >= 0:
            self._on_eof()

    def doRead(self) -> None:
        if self.fd < 0:
            return
        try:
            data = os.read(self.fd, PIPE_CHUNK)
        except BlockingIOError:
            return
        except OSError as e:
            log.warning("Diskless rdb transfer, read error sending DB to replicas: %s", e.strerror)
            data = b""
        if not data:
            self._on_eof()
            return
        for link in list(self.links):
            link.write_direct(data)
        stuck = [link for link in self.links if link.paused()]
        if stuck:
            now = self.state.clock.seconds()
            for link in stuck:
                if not link.partial_since:
                    link.partial_since = now
            self._stop_reading()

    def _on_eof(self) -> None:
        self._stop_reading()
        os.close(self.fd)
        self.fd = -1
        self.eof = True
        log.info("Diskless rdb transfer, done reading from pipe, %d replicas still up.", len(self.links))
        self._maybe_finish()

    def start_reading(self) -> None:
        if not self.reading and self.fd >= 0:
            self.reading = True
            self.reactor.addReader(self)

    def _stop_reading(self) -> None:
        if self.reading:
            self.reading = False
            self.reactor.removeReader(self)

    def replica_drained(self) -> None:
        if not self.eof and not any(link.paused() for link in self.links):
            self.start_reading()

    def remove(self, link: ReplicaLink) -> None:
        if link in self.links:
            self.links.remove(link)
        link.sync = None
        if not self.links and not self.eof and self.child_done is None:
            log.warning("Diskless rdb transfer, last replica dropped, killing fork child.")
            info = childmod.active_child(self.state)
            if info is not None and info.pid == self.pid:
                childmod.kill_child(self.state)
        elif not self.eof:
            self.replica_drained()

    def child_finished(self, ok: bool) -> None:
        if ok:
            log.info("Background RDB transfer terminated with success")
        else:
            log.warning("Background transfer error")
        self.child_done = ok
        if not ok and not self.eof:
            # nothing more worth reading: drop the pipe
            self._stop_reading()
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1
            self.eof = True
        self._maybe_finish()

    def _maybe_finish(self) -> None:
        if not self.eof or self.child_done is None:
            return
        s = side(self.state)
        if s.socket_sync is self:
            s.socket_sync = None
        update_replicas_waiting_bgsave(self.state, self.child_done, "socket")
        start_pending_fork(self.state)


def _reactor(state: Any) -> Any:
    s = side(state)
    if s.reactor is None:
        from twisted.internet import reactor

        s.reactor = reactor
    return s.reactor


def _start_socket_sync(state: Any, rdb_only: bool) -> bool:
    repl = state.repl
    links = [
        link
        for link in repl.replicas
        if link.state == WAIT_BGSAVE_START and link.rdb_only == rdb_only and CAPA_EOF in link.capa
    ]
    if not links:
        return False
    r, w = os.pipe()
    # +FULLRESYNC before the fork: the offset is the one the child's RDB holds
    for link in links:
        _setup_full_resync(link, repl.master_repl_offset)
    mark = os.urandom(RDB_EOF_MARK_SIZE // 2).hex().encode()

    def work() -> None:
        from ..persistence.snapshot import write_rdb

        os.close(r)
        with os.fdopen(w, "wb", buffering=0) as raw:
            out = io.BufferedWriter(raw, PIPE_CHUNK)  # type: ignore[arg-type]
            out.write(b"$EOF:" + mark + b"\r\n")
            write_rdb(state, out)
            out.write(mark)
            out.flush()

    sync = _SocketSync(state, links, r, _reactor(state))
    try:
        pid = childmod.start_child(state, "rdb", work, sync.child_finished)
    except (OSError, RuntimeError) as e:
        log.warning("Can't save in background: fork: %s", getattr(e, "strerror", None) or e)
        os.close(r)
        os.close(w)
        for link in links:
            link.client.kill()
        return True  # the replicas were told +FULLRESYNC already: they are dropped instead
    os.close(w)
    os.set_blocking(r, False)
    sync.pid = pid
    for link in links:
        link.sync = sync
    side(state).socket_sync = sync
    log.info("Background RDB transfer started by pid %d", pid)
    sync.start_reading()
    return True


# ------------------------------------------------------------------ REPLCONF ACK


def replconf_ack(c: Client, offset: int, aof_off: int | None) -> None:
    link = c.repl
    state = c.state
    link.ack_off = max(link.ack_off, offset)
    if aof_off is not None and aof_off > link.aof_off:
        link.aof_off = aof_off
    link.ack_time = state.clock.seconds()
    if link.state == WAIT_BGSAVE_END and childmod.active_child(state) is not None:
        childmod.check_children(state)
    if link.start_stream_on_ack and link.state == ONLINE:
        link.start_stream()
    from .wait import refresh_good_replicas, replicas_acked

    replicas_acked(state)
    refresh_good_replicas(state)


# ------------------------------------------------------------------ cron


def master_cron(state: Any) -> None:
    """replicationCron's master part: PING the replicas every repl-ping-replica-period (it is
    part of the stream and counts in offsets), a newline to replicas still waiting for their
    RDB, drop online replicas silent for repl-timeout, start pending syncs."""
    s = side(state)
    repl = state.repl
    cfg = state.config
    if repl.replicas and s.cron_loops % cfg["repl-ping-replica-period"] == 0:
        feed_replicas(state, None, [b"ping"])  # shared.ping: lower case, as Redis writes it
    for link in list(repl.replicas):
        if link.state == WAIT_BGSAVE_START or (link.state == WAIT_BGSAVE_END and link.sync is None):
            link.write_direct(b"\n")
    now = int(state.clock.seconds())
    timeout = cfg["repl-timeout"]
    for link in list(repl.replicas):
        if link.state == ONLINE and not link.pre_psync and now - int(link.ack_time) > timeout:
            log.warning("Disconnecting timedout replica (streaming sync): %s", link.name())
            link.client.kill()
        # a diskless replica that takes no RDB bytes holds back the child and the other
        # replicas of its transfer (disk replicas do not: only those are spared)
        if (
            link.state == WAIT_BGSAVE_END
            and link.sync is not None
            and link.partial_since
            and now - int(link.partial_since) > timeout
        ):
            log.warning("Disconnecting timedout replica (full sync): %s", link.name())
            link.client.kill()
    start_pending_fork(state)
    s.cron_loops += 1
