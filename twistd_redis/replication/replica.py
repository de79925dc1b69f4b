"""The replica side of replication: the link to our master (Redis 7.0's replication.c, slave half).

``MasterLink`` (``state.repl.link`` while ``repl.masterhost`` is set) owns one client
connection to the master at a time, made by a ``ClientService`` (reconnects on the state's
clock: at once after a link that was streaming or transferring is lost, as
replicationHandleMasterDisconnection / cancelReplicationHandshake(1) do, else after a second,
as replicationCron would). The handshake is an explicit ``ReplState`` walk, Redis's
syncWithMaster:

  CONNECTING -> PING -> RECEIVE_PING_REPLY (+PONG, -NOAUTH, -NOPERM accepted) -> SEND_HANDSHAKE
  (AUTH [masteruser] masterauth, REPLCONF listening-port, [REPLCONF ip-address], REPLCONF capa
  eof capa psync2, written at once) -> RECEIVE_AUTH_REPLY -> RECEIVE_PORT_REPLY ->
  RECEIVE_IP_REPLY -> RECEIVE_CAPA_REPLY -> SEND_PSYNC (PSYNC <cached replid> <offset+1> or
  PSYNC ? -1) -> RECEIVE_PSYNC_REPLY -> +CONTINUE: CONNECTED | +FULLRESYNC (or SYNC after an
  -ERR): TRANSFER ($<len> or $EOF:<mark> framing) -> CONNECTED.

While CONNECTED the bytes are the master's stream: parsed with the exact request parser and
run through ``ServerState.execute`` as the master client (``CLIENT_MASTER``, no replies except
the REPLCONF ACKs written here). ``reploff`` moves once per fully processed command (not
inside MULTI until EXEC, Redis's commandProcessed rule) and the applied bytes are proxied to
``repl.feed_stream`` (our backlog and our own replicas: chained replication). A lost link
leaves a cached master (replid, reploff, db) behind for a PSYNC that continues.
"""

from __future__ import annotations

import enum
import logging
import os
from typing import Any

from twisted.internet import defer
from twisted.internet.protocol import Factory, Protocol

from ..client import CLIENT_CLOSE_AFTER_REPLY, CLIENT_MASTER, CLIENT_MULTI, Client
from ..errors import ProtocolError, RedisError
from ..resp import FastParser, RequestParser, _request_size

log = logging.getLogger("twistd_redis")

EOF_MARK_SIZE = 40  # CONFIG_RUN_ID_SIZE
UNBLOCKED_MASTER_TO_REPLICA = (
    "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)"
)


class ReplState(enum.Enum):
    """Redis's REPL_STATE_* (server.repl_state)."""

    NONE = 0
    CONNECT = 1
    CONNECTING = 2
    RECEIVE_PING_REPLY = 3
    SEND_HANDSHAKE = 4
    RECEIVE_AUTH_REPLY = 5
    RECEIVE_PORT_REPLY = 6
    RECEIVE_IP_REPLY = 7
    RECEIVE_CAPA_REPLY = 8
    SEND_PSYNC = 9
    RECEIVE_PSYNC_REPLY = 10
    TRANSFER = 11
    CONNECTED = 12


_HANDSHAKE_STATES = frozenset(
    [
        ReplState.RECEIVE_PING_REPLY,
        ReplState.SEND_HANDSHAKE,
        ReplState.RECEIVE_AUTH_REPLY,
        ReplState.RECEIVE_PORT_REPLY,
        ReplState.RECEIVE_IP_REPLY,
        ReplState.RECEIVE_CAPA_REPLY,
        ReplState.SEND_PSYNC,
        ReplState.RECEIVE_PSYNC_REPLY,
    ]
)


def encode_command(*args: bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class CachedMaster:
    """server.cached_master: what a PSYNC needs to continue (the master client's replid,
    applied offset and selected db; Redis keeps the whole client)."""

    __slots__ = ("dbid", "pre_psync", "replid", "reploff")

    def __init__(self, replid: str, reploff: int, dbid: int = 0, pre_psync: bool = False) -> None:
        self.replid = replid
        self.reploff = reploff
        self.dbid = dbid
        self.pre_psync = pre_psync


# --------------------------------------------------------------------------- connection


class MasterLinkProtocol(Protocol):
    """One TCP connection to the master. It is also the master client's ``conn`` (CLIENT
    LIST, CLIENT KILL): the master gets no replies, so ``send_raw`` drops them."""

    link: MasterLink

    def __init__(self) -> None:
        self.parser: RequestParser | None = None  # the stream parser, once CONNECTED
        self.held: bytearray | None = None  # input read while a script was busy (resume_after_busy)

    def connectionMade(self) -> None:
        try:
            self.transport.setTcpNoDelay(True)
        except Exception:
            pass
        self.link.connection_made(self)

    def dataReceived(self, data: bytes) -> None:
        self.link.data_received(self, data)

    def connectionLost(self, reason: Any = None) -> None:
        self.link.connection_lost(self)

    # ---- the Client.conn surface
    def send_raw(self, data: bytes) -> None:
        return None

    def flush_pending(self) -> None:
        return None

    def close_now(self) -> None:
        if self.transport is not None:
            self.transport.loseConnection()

    def query_buffer_len(self) -> int:
        return self.parser.pending() if self.parser is not None else 0

    def output_buffer_len(self, with_batch: bool = True) -> int:
        return 0

    def output_stats(self) -> tuple[int, int, int, int]:
        return 0, 0, 0, 0

    def fileno(self) -> int:
        try:
            return self.transport.getHandle().fileno()
        except Exception:
            return -1


class _LinkFactory(Factory):
    noisy = False

    def __init__(self, link: MasterLink) -> None:
        self.link = link

    def buildProtocol(self, addr: Any) -> MasterLinkProtocol:
        p = MasterLinkProtocol()
        p.link = self.link
        p.factory = self
        return p


class _TrackingEndpoint:
    """Wraps the real endpoint: each attempt puts the link in CONNECTING (connectWithMaster)
    and a failed one back in CONNECT."""

    def __init__(self, link: MasterLink, endpoint: Any) -> None:
        self.link = link
        self.endpoint = endpoint

    def connect(self, factory: Any) -> defer.Deferred:
        link = self.link
        link.repl_state = ReplState.CONNECTING
        link.transfer_last_io = link.now()
        log.info("MASTER <-> REPLICA sync started")
        d = self.endpoint.connect(factory)

        def failed(f: Any) -> Any:
            if link.repl_state == ReplState.CONNECTING:
                link.repl_state = ReplState.CONNECT
            log.warning("Error condition on socket for SYNC: %s", f.getErrorMessage())
            return f

        d.addErrback(failed)
        return d


def default_endpoint(state: Any, host: str, port: int) -> Any:
    """The TCP endpoint to the master (tests replace ``ENDPOINT_FACTORY``)."""
    from twisted.internet import reactor
    from twisted.internet.endpoints import TCP4ClientEndpoint, TCP6ClientEndpoint

    timeout = max(1, int(state.config["repl-timeout"]))
    if ":" in host:
        return TCP6ClientEndpoint(reactor, host, port, timeout=timeout)
    return TCP4ClientEndpoint(reactor, host, port, timeout=timeout)


ENDPOINT_FACTORY = default_endpoint


# --------------------------------------------------------------------------- the link


class MasterLink:
    """The replica's view of its master (``state.repl.link``)."""

    def __init__(self, state: Any, host: str, port: int) -> None:
        self.state = state
        self.host = host
        self.port = port
        self.repl_state = ReplState.CONNECT
        self.proto: MasterLinkProtocol | None = None
        self.service: Any = None
        self.master_client: Client | None = None
        self.cached: CachedMaster | None = None
        self.last_io = 0.0  # master client's lastinteraction
        self.down_since = 0.0  # repl_down_since (0: never up, or up now)
        self.transfer_size = -1
        self.transfer_read = 0
        self.transfer_last_io = 0.0
        self.master_replid = "?"
        self.master_initial_offset = -1
        self._reploff = 0
        self._read_reploff = 0
        self._pre_psync = False
        self._buf = bytearray()  # handshake lines, RDB payload
        self._eofmark: bytes | None = None
        self._unapplied = bytearray()  # stream bytes read and not yet proxied
        self._fast = FastParser()  # hiredis over reads that start on a request boundary
        self._reconnect_now = False

    # ------------------------------------------------------------ fields other modules read

    def now(self) -> float:
        return self.state.clock.seconds()

    def connected(self) -> bool:
        return self.repl_state == ReplState.CONNECTED

    def sync_in_progress(self) -> bool:
        return self.repl_state == ReplState.TRANSFER

    def in_handshake(self) -> bool:
        return self.repl_state in _HANDSHAKE_STATES

    @property
    def reploff(self) -> int | None:
        if self.master_client is not None:
            return self._reploff
        if self.cached is not None:
            return self.cached.reploff
        return None

    @property
    def read_reploff(self) -> int | None:
        if self.master_client is not None:
            return self._read_reploff
        if self.cached is not None:
            return self.cached.reploff
        return None

    def state_word(self) -> str:
        """ROLE's word for the link state."""
        if self.in_handshake():
            return "handshake"
        return {
            ReplState.NONE: "none",
            ReplState.CONNECT: "connect",
            ReplState.CONNECTING: "connecting",
            ReplState.TRANSFER: "sync",
            ReplState.CONNECTED: "connected",
        }.get(self.repl_state, "unknown")

    # ------------------------------------------------------------ connecting

    def _retry_policy(self, attempt: int) -> float:
        if self._reconnect_now:
            self._reconnect_now = False
            return 0.0
        return 1.0

    def start(self) -> None:
        """connectWithMaster, then keep reconnecting until ``stop``."""
        from twisted.application.internet import ClientService

        endpoint = _TrackingEndpoint(self, ENDPOINT_FACTORY(self.state, self.host, self.port))
        self.repl_state = ReplState.CONNECT
        log.info("Connecting to MASTER %s:%d", self.host, self.port)
        self.service = ClientService(
            endpoint, _LinkFactory(self), retryPolicy=self._retry_policy, clock=self.state.clock
        )
        self.service.startService()

    def stop(self) -> None:
        """Stop connecting; drop the current connection without caching (the caller decided
        what to keep)."""
        service, self.service = self.service, None
        proto, self.proto = self.proto, None
        if self.master_client is not None:
            self._free_master_client()
        if service is not None:
            service.stopService()
        if proto is not None and proto.transport is not None:
            proto.transport.loseConnection()
        self._buf = bytearray()
        self._unapplied = bytearray()
        self.repl_state = ReplState.NONE

    def cancel_handshake(self) -> None:
        """cancelReplicationHandshake(1): close the connection now and reconnect at once."""
        if self.proto is not None and self.proto.transport is not None:
            self._reconnect_now = True
            self.proto.transport.loseConnection()

    # ------------------------------------------------------------ protocol events

    def connection_made(self, proto: MasterLinkProtocol) -> None:
        if self.service is None:  # REPLICAOF NO ONE happened meanwhile
            proto.transport.loseConnection()
            return
        self.proto = proto
        self._buf = bytearray()
        log.info("Non blocking connect for SYNC fired the event.")
        self.transfer_last_io = self.now()
        self.repl_state = ReplState.RECEIVE_PING_REPLY
        proto.transport.write(encode_command(b"PING"))

    def connection_lost(self, proto: MasterLinkProtocol) -> None:
        if proto is not self.proto:
            return
        self.proto = None
        if self.master_client is not None:
            # freeClient(server.master) -> replicationCacheMaster
            log.warning("Connection with master lost.")
            protocol_error = proto.parser is not None and getattr(proto, "protocol_error", False)
            if protocol_error:
                self._free_master_client()
            else:
                self._cache_master()
            self.down_since = self.now()
            self._reconnect_now = True
            log.info("Reconnecting to MASTER %s:%d", self.host, self.port)
        elif self.repl_state == ReplState.TRANSFER:
            self._reconnect_now = True
        self._buf = bytearray()
        self._eofmark = None
        if self.service is not None:
            self.repl_state = ReplState.CONNECT

    def data_received(self, proto: MasterLinkProtocol, data: bytes) -> None:
        if proto is not self.proto:
            return
        now = self.now()
        st = self.repl_state
        held = proto.held
        if held is not None or self.state.busy_error is not None:
            # processInputBuffer: while a script is busy (past busy-reply-threshold) the master's
            # input is read but not processed, its commands would get -BUSY; the script's end
            # runs it (resume_after_busy, Redis's queueClientForReprocessing)
            if st == ReplState.CONNECTED:
                self.last_io = now
            else:
                self.transfer_last_io = now
            if held is None:
                proto.held = held = bytearray()
            held += data
            return
        self.state.mstime = int(now * 1000)
        if st == ReplState.CONNECTED:
            self.last_io = now
            self._stream(proto, data)
            return
        self.transfer_last_io = now
        self._buf += data
        try:
            self._advance(proto)
        except _LinkError as e:
            log.warning("%s", e)
            if self.proto is proto and proto.transport is not None:
                proto.transport.loseConnection()

    def resume_after_busy(self) -> None:
        """A busy script ended (ServerState.script_timed_out_ends, a turn later): process what
        the master sent meanwhile."""
        proto = self.proto
        if proto is None or proto.held is None or self.state.busy_error is not None:
            return
        data, proto.held = bytes(proto.held), None
        self.data_received(proto, data)

    # ------------------------------------------------------------ the handshake

    def _line(self) -> bytes | None:
        buf = self._buf
        nl = buf.find(b"\n")
        if nl < 0:
            return None
        line = bytes(buf[:nl])
        del buf[: nl + 1]
        if line.endswith(b"\r"):
            line = line[:-1]
        return line

    def _advance(self, proto: MasterLinkProtocol) -> None:
        while self.proto is proto:
            st = self.repl_state
            if st == ReplState.TRANSFER:
                self._transfer(proto)
                return
            if st == ReplState.CONNECTED:
                rest, self._buf = bytes(self._buf), bytearray()
                if rest:
                    self._stream(proto, rest)
                return
            line = self._line()
            if line is None:
                return
            self._handshake_reply(proto, st, line)

    def _handshake_reply(self, proto: MasterLinkProtocol, st: ReplState, line: bytes) -> None:
        cfg = self.state.config
        if st == ReplState.RECEIVE_PING_REPLY:
            if not (
                line[:1] == b"+"
                or line.startswith(b"-NOAUTH")
                or line.startswith(b"-NOPERM")
                or line.startswith(b"-ERR operation not permitted")
            ):
                raise _LinkError("Error reply to PING from master: '%s'" % line.decode("utf-8", "replace"))
            log.info("Master replied to PING, replication can continue...")
            self.repl_state = ReplState.SEND_HANDSHAKE
            self._send_handshake(proto)
            return
        if st == ReplState.RECEIVE_AUTH_REPLY:
            if line[:1] == b"-":
                raise _LinkError("Unable to AUTH to MASTER: %s" % line.decode("utf-8", "replace"))
            self.repl_state = ReplState.RECEIVE_PORT_REPLY
            return
        if st == ReplState.RECEIVE_PORT_REPLY:
            if line[:1] == b"-":
                log.info("(Non critical) Master does not understand REPLCONF listening-port: %s", line.decode())
            self.repl_state = ReplState.RECEIVE_IP_REPLY if cfg["replica-announce-ip"] else ReplState.RECEIVE_CAPA_REPLY
            return
        if st == ReplState.RECEIVE_IP_REPLY:
            if line[:1] == b"-":
                log.info("(Non critical) Master does not understand REPLCONF ip-address: %s", line.decode())
            self.repl_state = ReplState.RECEIVE_CAPA_REPLY
            return
        if st == ReplState.RECEIVE_CAPA_REPLY:
            if line[:1] == b"-":
                log.info("(Non critical) Master does not understand REPLCONF capa: %s", line.decode())
            self.repl_state = ReplState.SEND_PSYNC
            self._send_psync(proto)
            return
        if st == ReplState.RECEIVE_PSYNC_REPLY:
            self._psync_reply(proto, line)
            return
        raise _LinkError("syncWithMaster(): state machine error, state is %s" % st.name)

    def _send_handshake(self, proto: MasterLinkProtocol) -> None:
        cfg = self.state.config
        out = []
        auth = cfg["masterauth"]
        if auth:
            user = cfg["masteruser"]
            args = [b"AUTH"] + ([user.encode()] if user else []) + [auth.encode()]
            out.append(encode_command(*args))
        port = cfg["replica-announce-port"] or self._listening_port()
        out.append(encode_command(b"REPLCONF", b"listening-port", b"%d" % port))
        ip = cfg["replica-announce-ip"]
        if ip:
            out.append(encode_command(b"REPLCONF", b"ip-address", ip.encode()))
        out.append(encode_command(b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"))
        proto.transport.write(b"".join(out))
        self.repl_state = ReplState.RECEIVE_AUTH_REPLY if auth else ReplState.RECEIVE_PORT_REPLY

    def _listening_port(self) -> int:
        for p in getattr(self.state, "listening_ports", ()) or ():
            try:
                h = p.getHost()
            except Exception:
                continue
            port = getattr(h, "port", None)
            if port:
                return int(port)
        try:
            return int(self.state.config["port"])
        except Exception:
            return 0

    def _send_psync(self, proto: MasterLinkProtocol) -> None:
        """slaveTryPartialResynchronization, writing half."""
        self.master_initial_offset = -1
        c = self.cached
        if c is not None and not c.pre_psync:
            replid, off = c.replid.encode(), b"%d" % (c.reploff + 1)
            log.info("Trying a partial resynchronization (request %s:%s).", c.replid, off.decode())
        else:
            log.info("Partial resynchronization not possible (no cached master)")
            replid, off = b"?", b"-1"
        proto.transport.write(encode_command(b"PSYNC", replid, off))
        self.repl_state = ReplState.RECEIVE_PSYNC_REPLY

    def _psync_reply(self, proto: MasterLinkProtocol, line: bytes) -> None:
        """slaveTryPartialResynchronization, reading half."""
        if not line:
            return  # newlines the master sends before its reply: keepalive
        text = line.decode("utf-8", "replace")
        if line.startswith(b"+FULLRESYNC"):
            parts = text.split(" ")
            if len(parts) >= 3 and len(parts[1]) == EOF_MARK_SIZE:
                self.master_replid = parts[1]
                try:
                    self.master_initial_offset = int(parts[2])
                except ValueError:
                    self.master_initial_offset = -1
                log.info("Full resync from master: %s:%d", self.master_replid, self.master_initial_offset)
            else:
                log.warning("Master replied with wrong +FULLRESYNC syntax.")
                self.master_replid = "0" * EOF_MARK_SIZE
            self._pre_psync = False
            self._start_transfer()
            return
        if line.startswith(b"+CONTINUE"):
            log.info("Successful partial resynchronization with master.")
            repl = self.state.repl
            cached = self.cached
            new = text[10:].strip()
            if cached is not None and len(new) == EOF_MARK_SIZE and new != cached.replid:
                log.warning("Master replication ID changed to %s", new)
                repl.replid2 = cached.replid
                repl.second_repl_offset = repl.master_repl_offset + 1
                repl.replid = new
                cached.replid = new
                from .master import disconnect_replicas

                disconnect_replicas(self.state)
            self._resurrect_cached_master(proto)
            if repl.backlog is None:
                repl.create_backlog()
            log.info("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.")
            return
        if line.startswith(b"-NOMASTERLINK") or line.startswith(b"-LOADING"):
            raise _LinkError("Master is currently unable to PSYNC but should be in the future: %s" % text)
        if not line.startswith(b"-ERR"):
            log.warning("Unexpected reply to PSYNC from master: %s", text)
        else:
            log.info("Master does not support PSYNC or is in error state (reply: %s)", text)
        self.cached = None  # replicationDiscardCachedMaster
        log.info("Retrying with SYNC...")
        proto.transport.write(b"SYNC\r\n")
        self.master_initial_offset = -1
        self._pre_psync = True
        self._start_transfer()

    # ------------------------------------------------------------ the RDB transfer

    def _start_transfer(self) -> None:
        self.repl_state = ReplState.TRANSFER
        self.transfer_size = -1
        self.transfer_read = 0
        self.transfer_last_io = self.now()
        self._eofmark = None
        self._in_payload = False

    def _transfer(self, proto: MasterLinkProtocol) -> None:
        """readSyncBulkPayload."""
        if not self._in_payload:
            while True:
                line = self._line()
                if line is None:
                    return
                if line[:1] == b"-":
                    raise _LinkError(
                        "MASTER aborted replication with an error: %s" % line[1:].decode("utf-8", "replace")
                    )
                if not line:
                    continue  # a newline keepalive before the payload
                if line[:1] != b"$":
                    raise _LinkError(
                        "Bad protocol from MASTER, the first byte is not '$' (we received '%s'), are you sure "
                        "the host and port are right?" % line.decode("utf-8", "replace")
                    )
                break
            if line.startswith(b"$EOF:") and len(line) - 5 >= EOF_MARK_SIZE:
                self._eofmark = line[5 : 5 + EOF_MARK_SIZE]
                self.transfer_size = -1
                log.info("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk")
            else:
                try:
                    self.transfer_size = int(line[1:])
                except ValueError:
                    raise _LinkError("Bad protocol from MASTER: bulk length %r" % line) from None
                log.info("MASTER <-> REPLICA sync: receiving %d bytes from master to disk", self.transfer_size)
            self._in_payload = True
            self._payload = bytearray()
            self._scanned = 0
        buf = self._buf
        if self._eofmark is not None:
            mark = self._eofmark
            # the mark is searched only in bytes not scanned yet (minus a mark's length overlap)
            start = max(0, self._scanned - EOF_MARK_SIZE)
            pos = buf.find(mark, start)
            if pos < 0:
                self._scanned = len(buf)
                self.transfer_read = len(buf)
                return
            payload = bytes(buf[:pos])
            rest = bytes(buf[pos + EOF_MARK_SIZE :])
            self.transfer_read = pos + EOF_MARK_SIZE
        else:
            if len(buf) < self.transfer_size:
                self.transfer_read = len(buf)
                return
            payload = bytes(buf[: self.transfer_size])
            rest = bytes(buf[self.transfer_size :])
            self.transfer_read = self.transfer_size
        self._buf = bytearray()
        self._in_payload = False
        self._load_payload(proto, payload, usemark=self._eofmark is not None)
        if self.proto is proto and self.repl_state == ReplState.CONNECTED and rest:
            self._stream(proto, rest)

    def _load_payload(self, proto: MasterLinkProtocol, payload: bytes, usemark: bool) -> None:
        from ..persistence import rdb
        from ..persistence.aof import AOF_OFF
        from ..persistence.snapshot import load_rdb, rdb_filename
        from .master import disconnect_replicas

        state = self.state
        repl = state.repl
        aof = getattr(state, "aof", None)
        if aof is not None and aof.status != AOF_OFF:
            aof.stop()
        mgr = getattr(state, "persistence", None)
        if mgr is not None and mgr.rdb_child() is not None:
            log.info(
                "Replica is about to load the RDB file received from the master, but there is a pending RDB "
                "child running. Killing process and removing its temp file to avoid any race"
            )
            mgr.kill_rdb_child()
        # replicationAttachToNewMaster: no more PSYNC from the old history, ours or our replicas'
        self.cached = None
        disconnect_replicas(state)
        repl.free_backlog()
        log.info("MASTER <-> REPLICA sync: Flushing old data")
        state.flushall()
        from ..scripting.functions import clear_functions

        clear_functions(state)  # emptyData(-1, ...): the master's libraries replace ours
        if state.config["repl-diskless-load"] == "disabled":
            self._save_file(payload, rdb_filename(state))
        log.info("MASTER <-> REPLICA sync: Loading DB in memory")
        try:
            load_rdb(state, payload, replace=True)
            stream_db = self._repl_stream_db(payload)
        except rdb.RdbError as e:
            log.warning("Failed trying to load the MASTER synchronization DB from disk: %s", e)
            state.flushall()
            raise _LinkError("MASTER <-> REPLICA sync: loading failed") from None
        # replicationCreateMasterClient
        self._create_master_client(proto, stream_db)
        self._reploff = self._read_reploff = self.master_initial_offset
        self.repl_state = ReplState.CONNECTED
        self.down_since = 0.0
        repl.replid = self.master_replid if self.master_replid != "?" else repl.replid
        repl.master_repl_offset = self.master_initial_offset
        repl.clear_replication_id2()
        if repl.backlog is None:
            repl.create_backlog()
        log.info("MASTER <-> REPLICA sync: Finished with success")
        if usemark:
            self.send_ack()
        if aof is not None and state.config["appendonly"] and aof.status == AOF_OFF:
            aof.start()

    def _repl_stream_db(self, payload: bytes) -> int:
        """The RDB's repl-stream-db aux field (the db the master's stream has SELECTed)."""
        from ..persistence import rdb

        try:
            for ev in rdb.load(payload, checksum=False):
                if ev[0] != "aux":
                    break
                if ev[1] == b"repl-stream-db":
                    db = int(ev[2])
                    return db if 0 <= db < len(self.state.dbs) else 0
        except Exception:
            pass
        return 0

    def _save_file(self, payload: bytes, path: str) -> None:
        """Disk load: the received RDB becomes our dbfilename, as Redis renames its temp file."""
        tmp = os.path.join(os.path.dirname(path) or ".", "temp-%d.%d.rdb" % (int(self.now()), os.getpid()))
        try:
            with open(tmp, "wb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as e:
            log.warning("Failed trying to save the MASTER synchronization DB to %s: %s", path, e)
            try:
                os.unlink(tmp)
            except OSError:
                pass

    # ------------------------------------------------------------ the master client

    def _create_master_client(self, proto: MasterLinkProtocol, dbid: int) -> Client:
        state = self.state
        peer = proto.transport.getPeer()
        host = proto.transport.getHost()
        c = Client(
            state,
            proto,
            state.next_client_id,
            "%s:%s" % (getattr(peer, "host", self.host), getattr(peer, "port", self.port)),
            "%s:%s" % (getattr(host, "host", "?"), getattr(host, "port", 0)),
        )
        state.next_client_id += 1
        state.clients[c.id] = c
        c.flags = CLIENT_MASTER  # authenticated, no other flag
        c.select(dbid)
        proto.parser = RequestParser(max_bulk_len=state.proto_max_bulk_len)
        proto.protocol_error = False
        self.master_client = c
        self.last_io = self.now()
        self._unapplied = bytearray()
        self._fast = FastParser()
        return c

    def _resurrect_cached_master(self, proto: MasterLinkProtocol) -> None:
        cached = self.cached
        assert cached is not None
        self.cached = None
        self._create_master_client(proto, cached.dbid)
        self._reploff = self._read_reploff = cached.reploff
        self._pre_psync = cached.pre_psync
        self.repl_state = ReplState.CONNECTED
        self.down_since = 0.0
        rest, self._buf = bytes(self._buf), bytearray()
        if rest:
            self._stream(proto, rest)

    def _cache_master(self) -> None:
        """replicationCacheMaster: keep replid / applied offset / db; drop unapplied input
        and an open transaction."""
        c = self.master_client
        assert c is not None
        self.cached = CachedMaster(self.state.repl.replid, self._reploff, c.db.id, self._pre_psync)
        log.info("Caching the disconnected master state.")
        self._free_master_client()

    def _free_master_client(self) -> None:
        c, self.master_client = self.master_client, None
        if c is not None:
            self.state.disconnect(c)
        self._unapplied = bytearray()
        self.repl_state = ReplState.CONNECT if self.service is not None else ReplState.NONE

    def _stream(self, proto: MasterLinkProtocol, data: bytes) -> None:
        """The master's command stream: execute each command as the master client, count
        reploff per processed command (not inside MULTI), proxy the applied bytes.

        A read that starts on a request boundary is parsed by hiredis at once (the exact
        parser cost over half of a replica's CPU under a write load). Offsets then come from
        each request's canonical size (a Redis master encodes every command that way), checked
        against what hiredis consumed when the read ends on a boundary."""
        c = self.master_client
        parser = proto.parser
        if c is None or parser is None:
            return
        self._read_reploff += len(data)
        self._unapplied += data
        if parser.multibulklen == 0 and parser.pos >= len(parser.buf):
            r = self._fast.parse(data)
            if r is not None:
                reqs, consumed = r
                sizes = [_request_size(a) for a in reqs]
                if sum(sizes) == consumed:
                    if consumed < len(data):
                        parser.feed(data[consumed:])
                    left = len(data)  # bytes of this read not yet processed
                    for argv, size in zip(reqs, sizes):
                        left -= size
                        if argv and not self._apply(c, argv):
                            return
                        if not c.flags & CLIENT_MULTI:
                            self._applied_up_to(self._read_reploff - left)
                    return
        parser.feed(data)
        while self.master_client is c:
            try:
                argv = parser.next_request()
            except ProtocolError as e:
                log.warning("Protocol error from MASTER: %s", e.message)
                proto.protocol_error = True
                if proto.transport is not None:
                    proto.transport.loseConnection()
                return
            if argv is None:
                break
            if argv and not self._apply(c, argv):
                return
            if not c.flags & CLIENT_MULTI:
                self._applied_up_to(self._read_reploff - parser.pending())

    def _apply(self, c: Client, argv: list[bytes]) -> bool:
        """Run one command of the stream as the master client (no reply goes back); False
        when the master client went away meanwhile (the rest of the read is dropped)."""
        state = self.state
        c.last_interaction = self.last_io
        state.applying_master = True
        try:
            reply = state.execute(c, argv)
        finally:
            state.applying_master = False
        if isinstance(reply, RedisError) and reply.message.split(" ", 1)[0] not in ("NOSCRIPT",):
            log.warning(
                "== CRITICAL == This replica is sending an error to its master: '%s' after processing "
                "the command '%s'",
                reply.message,
                argv[0].decode("utf-8", "replace"),
            )
        return self.master_client is c

    def _applied_up_to(self, new_off: int) -> None:
        """commandProcessed: reploff moves to ``new_off`` and the bytes applied since the last
        move are proxied to our backlog and replicas (chained replication)."""
        applied = new_off - self._reploff
        if applied > 0:
            chunk = bytes(self._unapplied[:applied])
            del self._unapplied[:applied]
            self._reploff = new_off
            self.state.repl.feed_stream(chunk)

    def send_ack(self) -> None:
        """replicationSendAck: REPLCONF ACK <reploff> (the one reply the master gets)."""
        proto = self.proto
        if self.master_client is None or proto is None or proto.transport is None:
            return
        proto.transport.write(encode_command(b"REPLCONF", b"ACK", b"%d" % self._reploff))

    # ------------------------------------------------------------ cron

    def cron(self) -> None:
        now = self.now()
        timeout = self.state.config["repl-timeout"]
        st = self.repl_state
        if (st == ReplState.CONNECTING or self.in_handshake()) and now - self.transfer_last_io > timeout:
            log.warning("Timeout connecting to the MASTER...")
            self._drop_connection(reconnect=True)
        elif st == ReplState.TRANSFER and now - self.transfer_last_io > timeout:
            log.warning(
                "Timeout receiving bulk data from MASTER... If the problem persists try to set the "
                "'repl-timeout' parameter in redis.conf to a larger value."
            )
            self._drop_connection(reconnect=True)
        elif st == ReplState.CONNECTED and now - self.last_io > timeout:
            log.warning("MASTER timeout: no data nor PING received...")
            self._drop_connection(reconnect=True)
        if self.master_client is not None and not self._pre_psync and self.repl_state == ReplState.CONNECTED:
            self.send_ack()

    def _drop_connection(self, reconnect: bool) -> None:
        proto = self.proto
        if proto is not None and proto.transport is not None:
            self._reconnect_now = reconnect
            proto.transport.loseConnection()
        elif self.repl_state == ReplState.CONNECTING and self.service is not None:
            # a connect attempt that hangs: restart the service
            self.service.stopService()
            self.service.startService()


class _LinkError(Exception):
    """A handshake / transfer failure: logged, the connection is closed and retried."""


# --------------------------------------------------------------------------- entry points


def replica_cron(state: Any) -> None:
    link = state.repl.link
    if link is not None and state.repl.masterhost is not None:
        link.cron()


def replication_start(state: Any) -> None:
    """startService: connect to the configured ``replicaof`` master, if any."""
    value = state.config["replicaof"]
    if not value or state.repl.masterhost is not None:
        return
    host, _, port = value.rpartition(" ")
    try:
        set_master(state, host, int(port), from_config=True)
    except ValueError:
        log.warning("Invalid replicaof setting: %r", value)


def replication_send_ack(state: Any) -> None:
    """REPLCONF GETACK from our master: answer with the offset applied so far (the GETACK
    itself is not counted yet, as in Redis)."""
    link = state.repl.link
    if state.repl.masterhost is not None and link is not None and link.master_client is not None:
        link.send_ack()


def disconnect_all_blocked_clients(state: Any) -> None:
    """disconnectAllBlockedClients: every client waiting (BLPOP, WAIT, ...) gets -UNBLOCKED
    and is closed after that reply. A client pause is left alone."""
    err = RedisError(UNBLOCKED_MASTER_TO_REPLICA)
    for c in list(state.clients.values()):
        d = c.waiting
        if d is None or d.called or getattr(d, "unblockable", True) is False:
            continue
        c.flags |= CLIENT_CLOSE_AFTER_REPLY
        hook = getattr(d, "on_unblock", None)
        if hook is not None:
            hook(err)
        else:
            d.callback(err)
        state.stats.count_error(err.message)


def set_master(state: Any, host: str, port: int, from_config: bool = False) -> None:
    """replicationSetMaster (REPLICAOF host port)."""
    repl = state.repl
    was_master = repl.masterhost is None
    link = repl.link
    repl.masterhost = None
    if link is not None:
        if link.master_client is not None:
            link._cache_master()  # freeClient(server.master) caches it
        link.stop()
    if not from_config:
        disconnect_all_blocked_clients(state)
    repl.masterhost = host
    repl.masterport = port
    new = MasterLink(state, host, port)
    if link is not None:
        new.cached = link.cached
        new.down_since = link.down_since
    if was_master and not from_config:
        # replicationCacheMasterUsingMyself: our own history, so a former master can PSYNC
        # into the new master's history
        new.cached = CachedMaster(repl.replid, repl.master_repl_offset, 0)
        log.info(
            "Before turning into a replica, using my own master parameters to synthesize a cached master: "
            "I may be able to synchronize with the new master with just a partial transfer."
        )
    if from_config and repl.startup_cached_master is not None:
        # the RDB loaded at startup named our place in the master's history
        replid, offset, dbid = repl.startup_cached_master
        repl.startup_cached_master = None
        new.cached = CachedMaster(replid, offset, dbid)
    repl.link = new
    _config_replicaof(state, "%s %d" % (host, port))
    state.update_gates()
    new.start()


def _config_replicaof(state: Any, value: str) -> None:
    """CONFIG GET replicaof shows the current master (Redis reads server.masterhost)."""
    try:
        state.config.values["replicaof"] = value
    except Exception:
        pass


def unset_master(state: Any) -> None:
    """replicationUnsetMaster (REPLICAOF NO ONE): keep the data and the backlog; our history
    gets a new id, the old one stays valid as replid2 up to our offset (PSYNC2)."""
    from ..persistence.aof import AOF_OFF
    from .master import disconnect_replicas

    repl = state.repl
    if repl.masterhost is None:
        return
    link = repl.link
    repl.masterhost = None
    if link is not None:
        link.cached = None
        link.stop()
    repl.shift_replication_id()
    disconnect_replicas(state)
    repl.slaveseldb = -1
    repl.no_replicas_since = state.clock.seconds()
    repl.link = None
    _config_replicaof(state, "")
    state.update_gates()
    aof = getattr(state, "aof", None)
    if aof is not None and state.config["appendonly"] and aof.status == AOF_OFF:
        aof.start()
