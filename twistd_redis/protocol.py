"""RedisProtocol / RedisServerFactory: bytes in, argv out, replies written once per read.

The protocol never touches data. Each read is parsed (hiredis fast path when the read starts on
a request boundary, the exact parser otherwise), each request is handed to
``ServerState.execute``, the encoded replies are collected, and one ``transport.write`` sends
them all. A command that waits returns a Deferred: the connection then stops processing (its
later pipelined input stays unparsed, as in Redis) until the Deferred fires.
"""

from __future__ import annotations

import logging
from typing import Any

from twisted.internet import defer, tcp
from twisted.internet.protocol import Factory, Protocol
from twisted.python.failure import Failure

from .client import (
    CLIENT_AFTER_REPLY_MASK,
    CLIENT_CLOSE_AFTER_REPLY,
    CLIENT_NEEDS_AUTH,
    CLIENT_REPLY_OFF,
    CLIENT_REPLY_SKIP,
    CLIENT_REPLY_SKIP_NEXT,
    Client,
)
from .errors import ProtocolError, RedisError
from .obuf import OBUF_CLASS_FLAGS, check_output_buffer_limits, limits_for
from .resp import FastParser, RequestParser

log = logging.getLogger("twistd_redis")

# Queued pushes of one connection are handed to the transport at once past this size, so the
# output-limit checks see them (they run on transport writes).
PENDING_FLUSH_BYTES = 1 << 16

PROTO_REPLY_CHUNK_BYTES = 16 * 1024  # Redis's client reply buffer (obl in CLIENT LIST)

_Deferred = defer.Deferred


def _format_addr(a: Any) -> str:
    host = getattr(a, "host", None)
    if host is not None:
        if ":" in host:
            return f"[{host}]:{a.port}" if False else f"{host}:{a.port}"
        return f"{host}:{a.port}"
    name = getattr(a, "name", None)
    if name is not None:
        return f"{name.decode() if isinstance(name, bytes) else name}:0"
    return "?:0"


class RedisProtocol(Protocol):
    """One client connection."""

    factory: "RedisServerFactory"
    client: Client

    def __init__(self) -> None:
        self.parser = RequestParser()
        self.fast = FastParser()
        self.batch: list[bytes] | None = None
        self.pending: list[list[bytes]] = []
        self.closing = False
        self.in_loop = False
        self._sock: Any = None
        # Output limits (obuf.py): ``paused`` is the transport's signal that its write buffer
        # passed its bufferSize (pauseProducing) and has not drained since (resumeProducing);
        # ``obuf_batch``/``obuf_counted`` size the replies of the batch being built when the
        # client's class has a limit; ``aborted`` is Redis's CLIENT_CLOSE_ASAP.
        # Pushes and MONITOR lines written outside a batch wait here until the end of the
        # reactor turn (ServerState.flush_pending_writes, Redis's beforeSleep write): a PUBLISH
        # fan-out costs one list append per subscriber, and one send per subscriber per turn.
        self.pending_out: list[bytes] | None = None
        self.pending_len = 0
        self.paused = False
        self.aborted = False
        self.obuf_soft_since: int | None = None
        self.obuf_cap = 0
        self.obuf_batch = 0
        self.obuf_counted = 0

    # ------------------------------------------------------------ connection events

    def connectionMade(self) -> None:
        state = self.factory.state
        self.state = state
        try:
            self.transport.setTcpNoDelay(True)
        except Exception:  # unix sockets, test transports
            pass
        if isinstance(self.transport, tcp.Connection):  # TCP and unix sockets; TLS wraps them
            self._sock = self.transport.socket
        addr = _format_addr(self.transport.getPeer())
        laddr = _format_addr(self.transport.getHost())
        if len(state.clients) >= state.maxclients:
            state.stats.rejected_connections += 1
            self.transport.write(b"-ERR max number of clients reached\r\n")
            self.closing = True
            self.transport.loseConnection()
            self.client = Client(state, None, 0, addr, laddr)
            return
        self.client = state.connect(self, addr, laddr)
        self.parser.max_bulk_len = state.proto_max_bulk_len
        self.obuf = limits_for(state)
        self.obuf_caps = self.obuf.caps
        if hasattr(self.transport, "_tempDataLen"):
            # Transports that keep Twisted's FileDescriptor write buffer (TCP, UNIX): be their
            # streaming producer so they tell us when output backs up. (TLS keeps its own buffer
            # and would hold loseConnection until the producer is unregistered: not registered.)
            self.transport.registerProducer(self, True)

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        self.closing = True
        if self.client.conn is self:
            self.state.disconnect(self.client)

    # ------------------------------------------------------------ input

    def dataReceived(self, data: bytes) -> None:
        state = self.state
        state.stats.total_net_input_bytes += len(data)
        state.stats.total_reads_processed += 1
        client = self.client
        now = state.clock.seconds()
        client.last_interaction = now
        state.mstime = int(now * 1000)
        if self.closing:
            return
        if client.waiting is not None:
            self.parser.feed(data)
            self._check_query_buffer()
            return
        out = self.pending_out  # pushes queued earlier in this turn go out first, in order
        if out is None:
            out = []
        else:
            self.pending_out = None
        self.batch = out
        self.in_loop = True
        # the smallest output limit of the client's class (0: none): replies are counted only then
        cap = self.obuf_caps[client.flags & OBUF_CLASS_FLAGS]
        if cap:
            self.obuf_cap = cap
            self.obuf_batch = self.obuf_counted = 0
        try:
            parser = self.parser
            if (
                parser.multibulklen == 0
                and parser.pos >= len(parser.buf)
                and not self.pending
                and not client.flags & CLIENT_NEEDS_AUTH  # the exact parser enforces the pre-AUTH limits
            ):
                r = self.fast.parse(data)
                if r is not None:
                    reqs, consumed = r
                    if consumed < len(data):
                        parser.feed(data[consumed:])
                    execute = state.execute
                    i = 0
                    for argv in reqs:
                        i += 1
                        if not argv:
                            continue
                        reply = execute(client, argv)
                        if client.flags & CLIENT_AFTER_REPLY_MASK:
                            if not self._deliver(reply, out):
                                self.pending = reqs[i:]
                                return
                            continue
                        try:
                            # client.encode is read after the call: HELLO answers in the new protocol
                            out.append(client.encode(reply))
                        except TypeError:
                            if not self._deliver(reply, out):
                                self.pending = reqs[i:]
                                return
                        if cap and self._obuf_batch_full(out):
                            return
                else:
                    parser.feed(data)
            else:
                parser.feed(data)
            self._process(out, cap)
        finally:
            self.in_loop = False
            self.batch = None
            if out:
                self._write(out)
            if self.closing and self.transport is not None and not self.aborted:
                self.transport.loseConnection()

    def _process(self, out: list[bytes], cap: int) -> None:
        """Run pending requests, then whatever the parser holds, until done, blocked or closing.
        ``cap``: the output size from which the batch's replies are checked (0: never)."""
        client = self.client
        execute = self.state.execute
        while self.pending:
            argv = self.pending.pop(0)
            if argv and not self._deliver(execute(client, argv), out):
                return
            if cap and self._obuf_batch_full(out):
                return
        parser = self.parser
        while not self.closing and client.waiting is None:
            parser.unauth = bool(client.flags & CLIENT_NEEDS_AUTH)
            try:
                argv = parser.next_request()
            except ProtocolError as e:
                self.state.stats.count_error(e.message)
                out.append(client.encode(e))
                self.closing = True
                return
            if argv is None:
                break
            if argv:
                if not self._deliver(execute(client, argv), out):
                    return
                if cap and self._obuf_batch_full(out):
                    return
        self._check_query_buffer()

    def _deliver(self, reply: Any, out: list[bytes]) -> bool:
        """Append one reply honouring CLIENT REPLY modes; False if the connection must stop
        processing input (it waits on a Deferred, or closes after this reply)."""
        client = self.client
        if isinstance(reply, _Deferred):
            if reply.called and not isinstance(reply.result, Failure) and not isinstance(reply.result, _Deferred):
                reply = reply.result
            else:
                client.waiting = reply
                reply.addBoth(self._unblocked, reply)
                if client.waiting is reply:
                    return False
                return not self.closing
        flags = client.flags
        if not flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP_NEXT | CLIENT_REPLY_SKIP):
            out.append(client.encode(reply))
        elif flags & CLIENT_REPLY_SKIP_NEXT:  # CLIENT REPLY SKIP itself: silent, skip the next
            client.flags = (flags & ~CLIENT_REPLY_SKIP_NEXT) | CLIENT_REPLY_SKIP
        elif flags & CLIENT_REPLY_SKIP:
            client.flags = flags & ~CLIENT_REPLY_SKIP
        if client.flags & CLIENT_CLOSE_AFTER_REPLY:
            self.closing = True
            return False
        return True

    def _unblocked(self, result: Any, d: defer.Deferred) -> None:
        client = self.client
        if client.waiting is d:
            client.waiting = None
        if self.closing or client.conn is not self:
            if isinstance(result, Failure):
                result.trap(defer.CancelledError)
            return None
        if isinstance(result, Failure):
            if result.check(defer.CancelledError):
                return None
            log.error("blocked command failed: %s", result.getTraceback())
            result = RedisError("ERR internal error while the command waited")
        if self.in_loop:
            self._deliver(result, self.batch if self.batch is not None else [])
            return None
        self.state.update_time()
        out = self.pending_out
        if out is None:
            out = []
        else:
            self.pending_out = None
        self.batch = out
        self.in_loop = True
        cap = self.obuf_caps[self.client.flags & OBUF_CLASS_FLAGS]
        if cap:
            self.obuf_cap = cap
            self.obuf_batch = self.obuf_counted = 0
        try:
            if self._deliver(result, out):
                self._process(out, cap)
        finally:
            self.in_loop = False
            self.batch = None
            if out:
                self._write(out)
            if self.closing and self.transport is not None and not self.aborted:
                self.transport.loseConnection()
        return None

    def _check_query_buffer(self) -> None:
        if self.parser.pending() > self.state.query_buffer_limit:
            log.warning("Closing client that reached max query buffer length: %s", self.client.addr)
            self.closing = True
            self.parser.buf = bytearray()
            self.parser.pos = 0
            if self.transport is not None and not self.in_loop and not self.aborted:
                self.transport.loseConnection()

    # ------------------------------------------------------------ output

    def _write(self, out: list[bytes]) -> None:
        """Send a read's replies. Twisted's ``transport.write`` only buffers: it registers for
        EPOLLOUT and sends on a later reactor iteration, two epoll_ctl calls and a loop turn per
        reply batch. When the transport holds nothing unsent, send right away instead (what
        Redis's writeToClient does before it installs a write handler) and give Twisted only
        the part the kernel did not take."""
        if self.state.aof_buf:  # writes wait in the AOF buffer (persistence/aof.py)
            aof = self.state.aof
            if not self.closing and aof.last_write_ok:
                # Redis's beforeSleep: the replies of this reactor turn go out at its end, after
                # one write() (and under appendfsync always one fsync) of the AOF covering every
                # client served in the turn - not one fsync per client
                self._defer(out)
                return
            # closing (the reply cannot wait for the turn), or the file is failing: try it again
            # and reply anyway, as Redis does under everysec/no (always exits on a write error)
            aof.flush_before_reply()
        data = b"".join(out)
        if not data:
            return
        self.state.stats.total_net_output_bytes += len(data)
        t = self.transport
        sock = self._sock
        if sock is not None and not t._tempDataLen and not t.dataBuffer and t.connected and not t.disconnecting:
            try:
                sent = sock.send(data)
            except OSError:  # EAGAIN, or an error Twisted's own write path will report
                sent = 0
            if sent == len(data):
                return
            data = data[sent:]
        elif self.aborted:
            return
        t.write(data)
        if self.paused or self.obuf.low:  # the transport holds output: check the limits
            self.check_output_limits()

    def _defer(self, out: list[bytes]) -> None:
        """Queue output behind anything already pending, for the end of the reactor turn."""
        pending = self.pending_out
        if pending is None:
            self.pending_out = list(out)
            self.pending_len = sum(map(len, out))
            self.state.want_flush(self)
        else:
            pending.extend(out)
            self.pending_len += sum(map(len, out))

    def send_raw(self, data: bytes) -> None:
        """Out-of-band output (pushes, MONITOR): queued behind the current batch's replies."""
        if self.batch is not None:
            self.batch.append(data)
        elif not self.closing:
            pending = self.pending_out
            if pending is None:
                self.pending_out = [data]
                self.pending_len = len(data)
                self.state.want_flush(self)
            else:
                pending.append(data)
                self.pending_len += len(data)
                if self.pending_len > PENDING_FLUSH_BYTES:  # a big fan-out: hand it over now
                    self.flush_pending()

    def flush_pending(self) -> None:
        """Write the queued pushes (end of the reactor turn, or when they grow big)."""
        pending = self.pending_out
        if pending is None:
            return
        self.pending_out = None
        if not self.closing and self.transport is not None:
            self._write(pending)

    def close_now(self) -> None:
        """freeClient (CLIENT KILL, idle timeout): output the transport still holds is dropped,
        as Redis frees the reply list, so a client that does not read cannot keep the
        connection (and its buffer) alive; otherwise the connection closes cleanly."""
        if self.transport is not None and not self.in_loop and not self.aborted and self.output_buffer_len(False):
            self._abort()
            return
        self.closing = True
        if self.transport is not None and not self.in_loop and not self.aborted:
            self.transport.loseConnection()

    # ------------------------------------------------------------ output limits (obuf.py)

    def pauseProducing(self) -> None:
        """IPushProducer, called by the transport: its write buffer passed its bufferSize.
        Only output is concerned: the connection keeps reading requests, as Redis does."""
        self.paused = True

    def resumeProducing(self) -> None:
        """The transport's write buffer drained completely: below every limit again."""
        self.paused = False
        self.obuf_soft_since = None
        t = self.transport
        if t is not None and t.disconnecting:
            # a paused producer keeps a closing transport open (Twisted resumes it instead of
            # closing on drain): step aside so loseConnection completes
            t.unregisterProducer()

    def stopProducing(self) -> None:
        """The transport lost its connection; connectionLost follows."""

    def check_output_limits(self, extra: int = 0) -> bool:
        """closeClientOnOutputBufferLimitReached(c, async): check the pending output (what the
        transport holds, plus ``extra`` bytes of replies not yet written) against the limits of
        the client's class; when reached, close the connection at once, dropping its output.
        True if the client is being closed."""
        if self.aborted:
            return False
        client = self.client
        limits = self.obuf.limits[client.flags & OBUF_CLASS_FLAGS]
        if not (limits[0] or limits[1]):
            return False
        used = self.output_buffer_len(False) + extra
        if not used:  # nothing pending (Redis: reply_bytes == 0): no check
            return False
        reached, self.obuf_soft_since = check_output_buffer_limits(
            limits, used, self.obuf_soft_since, int(self.state.clock.seconds())
        )
        if not reached:
            return False
        log.warning("Client %s scheduled to be closed ASAP for overcoming of output buffer limits.", client.info_line())
        self.state.stats.client_output_buffer_limit_disconnections += 1
        self._abort()
        return True

    def _obuf_batch_full(self, out: list[bytes]) -> bool:
        """Count the replies added to ``out`` since the last call; once the batch reaches the
        class's smallest limit, check the limits as Redis does after each reply it buffers.
        True (and ``out`` emptied) if the client is being closed."""
        n = len(out)
        i = self.obuf_counted
        if n > i:
            size = self.obuf_batch
            for j in range(i, n):
                size += len(out[j])
            self.obuf_batch = size
            self.obuf_counted = n
            if size >= self.obuf_cap and self.check_output_limits(size):
                del out[:]
                return True
        return False

    def _abort(self) -> None:
        """freeClientAsync for a client over its output limits: stop processing its input, drop
        the output Twisted still holds (the memory is released now, not after a flush, unlike
        loseConnection) and reset the connection."""
        self.aborted = True
        self.closing = True
        self.pending_out = None
        if self.batch is not None:
            del self.batch[:]
        t = self.transport
        if t is None:
            return
        if self._sock is not None or hasattr(t, "_tempDataLen"):
            t._tempDataBuffer = []
            t._tempDataLen = 0
            t.dataBuffer = b""
            t.offset = 0
        self._sock = None  # no direct send from now on
        t.abortConnection()

    # ------------------------------------------------------------ introspection (CLIENT LIST)

    def query_buffer_len(self) -> int:
        return self.parser.pending()

    def output_buffer_len(self, with_batch: bool = True) -> int:
        """Output not yet handed to the kernel: what the transport holds, plus (``with_batch``)
        the replies of the batch being processed (Redis counts a reply once it is buffered)."""
        t = self.transport
        n = sum(map(len, self.batch)) if with_batch and self.batch else 0
        buf = getattr(t, "dataBuffer", None)
        if buf is not None:
            try:
                n += len(buf) - getattr(t, "offset", 0)
            except TypeError:
                pass
        n += getattr(t, "_tempDataLen", 0) or 0
        return max(0, n)

    def output_stats(self) -> tuple[int, int, int, int]:
        """CLIENT LIST (obl, oll, omem, bytes the transport holds). As in Redis, replies not
        written yet fill a 16 KB buffer first (obl) and the rest counts as reply blocks (oll
        items, omem bytes); output the transport holds (the kernel did not take it: Redis's
        write handler is installed, events=rw) is in oll/omem too, one block per chunk."""
        t = self.transport
        writing = self.output_buffer_len(False)
        oll = len(getattr(t, "_tempDataBuffer", ()) or ())
        buf = getattr(t, "dataBuffer", None)
        if buf and len(buf) > getattr(t, "offset", 0):
            oll += 1
        obl = 0
        omem = writing
        for reply in self.batch or ():
            if obl + len(reply) <= PROTO_REPLY_CHUNK_BYTES and not omem - writing:
                obl += len(reply)
            else:
                omem += len(reply)
                oll += 1
        return obl, oll, omem, writing

    def fileno(self) -> int:
        try:
            return self.transport.getHandle().fileno()
        except Exception:
            return -1


class RedisServerFactory(Factory):
    """Listen on any endpoint with ``RedisServerFactory(state)``."""

    protocol = RedisProtocol

    def __init__(self, state: Any) -> None:
        self.state = state

    def buildProtocol(self, addr: Any) -> RedisProtocol:
        p = self.protocol()
        p.factory = self
        return p
