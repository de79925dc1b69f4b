"""client-output-buffer-limit (obuf.py + protocol.py) over a transport that keeps its output
unsent, as Twisted's TCP transport does while the peer does not read: the class of a client,
hard and soft limits, the soft-limit timer on task.Clock, CONFIG SET at once, the pause/resume
signals, what is dropped and what other clients see."""

from __future__ import annotations

import logging

import hiredis
import pytest
from twisted.internet.testing import StringTransport

from tests.unit.harness import FakeConnection, FakeServer, ReplyError, _Addr, encode_request
from twistd_redis.client import CLIENT_MASTER, CLIENT_MONITOR, CLIENT_PUBSUB, CLIENT_SLAVE
from twistd_redis.config import Config
from twistd_redis.obuf import OutputBufferLimits, check_output_buffer_limits, client_class

KB = 1024


class SlowTransport(StringTransport):
    """StringTransport that also keeps every write as *unsent*, with the attributes Twisted's
    FileDescriptor has (``_tempDataBuffer``, ``_tempDataLen``, ``dataBuffer``, ``offset``), and
    pauses its streaming producer past ``bufferSize`` on each write, as FileDescriptor.write does.
    ``drain()`` is the peer reading everything: the producer is resumed."""

    bufferSize = 65536

    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self._tempDataBuffer: list[bytes] = []
        self._tempDataLen = 0
        self.dataBuffer = b""
        self.offset = 0
        self.producerPaused = False
        self.aborted = False
        self.connected = True

    def write(self, data: bytes) -> None:
        super().write(data)
        if data:
            self._tempDataBuffer.append(data)
            self._tempDataLen += len(data)
            if self.producer is not None and self.streaming and self._tempDataLen > self.bufferSize:
                self.producerPaused = True
                self.producer.pauseProducing()

    def drain(self) -> None:
        self._tempDataBuffer = []
        self._tempDataLen = 0
        if self.producer is not None and self.producerPaused:
            self.producerPaused = False
            self.producer.resumeProducing()

    def abortConnection(self) -> None:
        self.aborted = True
        super().abortConnection()

    def pending(self) -> int:
        return self._tempDataLen + len(self.dataBuffer) - self.offset


class SlowConnection(FakeConnection):
    def __init__(self, server: FakeServer, port: int) -> None:
        self.server = server
        self.transport = SlowTransport(peerAddress=_Addr("127.0.0.1", port), hostAddress=_Addr("127.0.0.1", 6379))
        self.proto = server.factory.buildProtocol(None)
        self.proto.makeConnection(self.transport)
        self.client = self.proto.client
        self.reader = hiredis.Reader(replyError=ReplyError, notEnoughData=Ellipsis)

    def push(self, n: int, size: int = KB) -> None:
        """``n`` out-of-band messages of ``size`` bytes (what PUBLISH sends a subscriber)."""
        msg = b"x" * size
        for _ in range(n):
            self.proto.send_raw(msg)
        self.proto.state.flush_pending_writes()  # the end of the reactor turn


@pytest.fixture
def slow(server):
    server._port += 1
    return SlowConnection(server, server._port)


@pytest.fixture
def other(server):
    return server.connect()


def set_limits(conn, value: str) -> None:
    assert conn.call("CONFIG", "SET", "client-output-buffer-limit", value) == b"OK"


def client_line(conn, target) -> str:
    return next(ln for ln in conn.call("CLIENT", "LIST").decode().splitlines() if f"id={target.client.id} " in ln)


def gets_executed(server) -> int:
    return server.state.commands[b"get"].calls


# ---------------------------------------------------------------- the rule, as Redis has it


def test_check_rule_hard_limit_is_reached_at_equality():
    assert check_output_buffer_limits((100, 0, 0), 99, None, 5) == (False, None)
    assert check_output_buffer_limits((100, 0, 0), 100, None, 5) == (True, None)


def test_check_rule_soft_limit_needs_more_than_the_seconds():
    lim = (0, 100, 10)
    assert check_output_buffer_limits(lim, 100, None, 1000) == (False, 1000)  # first seen: start
    assert check_output_buffer_limits(lim, 500, 1000, 1010) == (False, 1000)  # 10 <= 10
    assert check_output_buffer_limits(lim, 500, 1000, 1011) == (True, 1000)  # 11 > 10
    assert check_output_buffer_limits(lim, 99, 1000, 1011) == (False, None)  # below: reset


def test_check_rule_zero_is_no_limit():
    assert check_output_buffer_limits((0, 0, 0), 10**12, None, 1) == (False, None)
    assert check_output_buffer_limits((0, 0, 5), 10**12, None, 1) == (False, None)


def test_check_rule_soft_zero_seconds_closes_at_the_next_second():
    assert check_output_buffer_limits((0, 100, 0), 100, None, 7) == (False, 7)
    assert check_output_buffer_limits((0, 100, 0), 100, 7, 7) == (False, 7)
    assert check_output_buffer_limits((0, 100, 0), 100, 7, 8) == (True, 7)


@pytest.mark.parametrize(
    "flags, cls",
    [
        (0, "normal"),
        (CLIENT_PUBSUB, "pubsub"),
        (CLIENT_SLAVE, "slave"),
        (CLIENT_SLAVE | CLIENT_PUBSUB, "slave"),
        (CLIENT_MONITOR, "normal"),  # getClientType: a MONITOR client is not a replica
        (CLIENT_SLAVE | CLIENT_MONITOR, "normal"),  # Redis marks monitors SLAVE|MONITOR
        (CLIENT_MONITOR | CLIENT_PUBSUB, "pubsub"),
        (CLIENT_MASTER, "normal"),  # the master link counts as normal
        (CLIENT_MASTER | CLIENT_PUBSUB, "normal"),
    ],
)
def test_client_class(flags, cls):
    assert client_class(flags) == cls


def test_limits_follow_config_and_raise_replica_hard_to_backlog():
    cfg = Config()
    lim = OutputBufferLimits(cfg)
    assert lim.limits[0] == (0, 0, 0) and lim.caps[0] == 0
    assert lim.limits[CLIENT_PUBSUB] == (32 * 1024 * KB, 8 * 1024 * KB, 60)
    assert lim.caps[CLIENT_PUBSUB] == 8 * 1024 * KB
    assert lim.limits[CLIENT_SLAVE] == (256 * 1024 * KB, 64 * 1024 * KB, 60)
    assert lim.low is False
    cfg.set("client-output-buffer-limit", "replica 100kb 50kb 5 normal 0 30kb 1")
    assert lim.limits[CLIENT_SLAVE] == (1024 * KB, 50 * KB, 5)  # repl-backlog-size 1mb wins
    assert lim.limits[0] == (0, 30 * KB, 1) and lim.caps[0] == 30 * KB
    assert lim.low is True  # 30kb is under Twisted's 64 KB buffer
    cfg.set("repl-backlog-size", "10kb")
    assert lim.limits[CLIENT_SLAVE] == (100 * KB, 50 * KB, 5)


# ---------------------------------------------------------------- normal clients


def test_pipelined_big_gets_hit_the_normal_hard_limit_mid_batch(server, slow, other, caplog):
    set_limits(other, "normal 1mb 256kb 2")
    other.call("SET", "big", b"v" * 100_000)
    calls = gets_executed(server)
    with caplog.at_level(logging.WARNING, logger="twistd_redis"):
        slow.proto.dataReceived(encode_request("GET", "big") * 50 + encode_request("SET", "after", "1"))
    # closed once ~1 MB of replies were buffered: the rest of the pipeline never ran
    assert slow.transport.aborted
    assert slow.proto.closing and slow.proto.aborted
    ran = gets_executed(server) - calls
    assert 10 <= ran <= 11
    assert slow.transport.pending() == 0  # nothing of it was queued, nothing kept
    assert other.call("EXISTS", "after") == 0
    [rec] = [r for r in caplog.records if "output buffer limits" in r.getMessage()]
    msg = rec.getMessage()
    assert msg.startswith(f"Client id={slow.client.id} addr=127.0.0.1:")
    assert " cmd=get " in msg and " flags=N " in msg
    assert msg.endswith(" scheduled to be closed ASAP for overcoming of output buffer limits.")
    omem = int(msg.split(" omem=")[1].split()[0])
    assert omem >= 1_000_000
    assert server.state.stats.client_output_buffer_limit_disconnections == 1
    # the other client is unaffected
    assert other.call("PING") == b"PONG"


def test_normal_default_has_no_limit(server, slow, other):
    other.call("SET", "big", b"v" * 100_000)
    slow.proto.dataReceived(encode_request("GET", "big") * 100)  # 10 MB, never read
    assert not slow.proto.closing and not slow.transport.aborted
    assert slow.transport.pending() > 10_000_000
    assert slow.proto.paused


def test_no_check_while_the_transport_keeps_up(server, slow, other):
    # Under the transport's buffer size the limit is not looked at (no pause signal) unless
    # the limit itself is that small; above it, every write is checked.
    set_limits(other, "normal 200kb 0 0")
    slow.push(60)
    assert not slow.proto.paused and not slow.proto.closing
    slow.push(100)
    assert slow.proto.paused and not slow.proto.closing  # 160 KB
    slow.push(40)
    assert slow.proto.closing and slow.transport.aborted  # 200 KB reached


def test_soft_limit_timer_on_the_clock(server, slow, other):
    set_limits(other, "pubsub 0 100kb 10")
    slow.client.flags |= CLIENT_PUBSUB
    slow.push(100)
    assert slow.proto.obuf_soft_since == int(server.clock.seconds())
    server.advance(10)
    slow.push(1)
    assert not slow.proto.closing  # 10 seconds: not more than soft_seconds yet
    server.advance(1)
    slow.push(1)
    assert slow.proto.closing and slow.transport.aborted
    assert slow.transport.pending() == 0


def test_soft_limit_timer_resets_when_the_buffer_drains(server, slow, other):
    set_limits(other, "pubsub 0 100kb 10")
    slow.client.flags |= CLIENT_PUBSUB
    slow.push(100)
    server.advance(8)
    slow.transport.drain()  # the subscriber caught up: resumeProducing
    assert not slow.proto.paused and slow.proto.obuf_soft_since is None
    slow.push(100)
    start = slow.proto.obuf_soft_since
    assert start == int(server.clock.seconds())
    server.advance(9)
    slow.push(1)
    assert not slow.proto.closing  # 9 s since the new start, 17 s since the first
    server.advance(2)
    slow.push(1)
    assert slow.proto.closing


def test_soft_limit_is_not_checked_without_new_output(server, slow, other):
    # as in Redis, the limits are checked when output is added, not by a timer
    set_limits(other, "pubsub 0 100kb 1")
    slow.client.flags |= CLIENT_PUBSUB
    slow.push(100)
    server.advance(30)
    assert not slow.proto.closing
    slow.push(1)
    assert slow.proto.closing


def test_pubsub_hard_limit_on_pushes(server, slow, other, caplog):
    set_limits(other, "pubsub 100000 0 0")
    slow.client.flags |= CLIENT_PUBSUB
    with caplog.at_level(logging.WARNING, logger="twistd_redis"):
        slow.push(97)  # 99328 bytes
        assert not slow.proto.closing
        slow.push(1)  # 100352 >= 100000
    assert slow.proto.closing and slow.transport.aborted
    assert slow.transport.pending() == 0
    slow.push(5)  # later messages are dropped
    assert slow.transport.pending() == 0
    assert any(" flags=P " in r.getMessage() for r in caplog.records)


def test_pubsub_limits_do_not_apply_to_normal_clients(server, slow, other):
    set_limits(other, "pubsub 100000 0 0")
    slow.push(300)
    assert not slow.proto.closing


def test_monitor_counts_as_normal_not_replica(server, slow, other):
    set_limits(other, "replica 100kb 0 0 normal 2mb 0 0")
    other.call("CONFIG", "SET", "repl-backlog-size", "16kb")
    slow.client.flags |= CLIENT_MONITOR
    slow.push(500)
    assert not slow.proto.closing
    slow.client.flags &= ~CLIENT_MONITOR
    slow.client.flags |= CLIENT_SLAVE
    slow.push(1)
    assert slow.proto.closing


def test_config_set_applies_to_connected_clients_at_once(server, slow, other):
    other.call("SET", "big", b"v" * 100_000)
    slow.proto.dataReceived(encode_request("GET", "big") * 5)
    assert slow.proto.paused and not slow.proto.closing
    set_limits(other, "normal 300kb 0 0")
    slow.push(1)
    assert slow.proto.closing and slow.transport.aborted
    set_limits(other, "normal 0 0 0")


def test_limits_below_the_transport_buffer_are_checked_without_the_pause(server, slow, other):
    set_limits(other, "pubsub 10kb 0 0")
    slow.client.flags |= CLIENT_PUBSUB
    slow.push(9)
    assert not slow.proto.paused and not slow.proto.closing
    slow.push(1)
    assert slow.proto.closing


def test_resp3_subscriber_pipelining_gets_counts_as_pubsub(server, slow, other):
    set_limits(other, "pubsub 300kb 0 0")
    other.call("SET", "big", b"v" * 100_000)
    slow.call("HELLO", "3")
    slow.client.flags |= CLIENT_PUBSUB
    calls = gets_executed(server)
    slow.proto.dataReceived(encode_request("GET", "big") * 20)
    assert slow.proto.closing
    assert gets_executed(server) - calls == 4  # 3 replies: 300033 < 300kb (307200); 4: over


def test_split_pipeline_is_counted_on_the_exact_parser_path_too(server, slow, other):
    set_limits(other, "normal 500kb 0 0")
    other.call("SET", "big", b"v" * 100_000)
    calls = gets_executed(server)
    data = encode_request("GET", "big") * 30
    slow.proto.dataReceived(data[:5])  # a partial request: the rest goes through the exact parser
    slow.proto.dataReceived(data[5:])
    assert slow.proto.closing
    assert gets_executed(server) - calls == 6  # 5 replies: 500055 < 500kb (512000); 6: over


def test_client_list_shows_pending_output(server, slow, other):
    slow.push(100)
    line = client_line(other, slow)
    fields = dict(kv.split("=", 1) for kv in line.split(" "))
    assert fields["omem"] == str(100 * KB)
    assert fields["oll"] == "2"  # the pushes of a turn go out coalesced: 64 KB, then the rest
    assert fields["obl"] == "0"
    assert fields["events"] == "rw"
    assert int(fields["tot-mem"]) >= 100 * KB
    slow.transport.drain()
    line = client_line(other, slow)
    assert " oll=0 omem=0 " in line and " events=r " in line


def test_close_while_paused_completes_after_the_drain(server, slow, other):
    slow.push(100)
    assert slow.proto.paused and slow.transport.producer is slow.proto
    slow.proto.dataReceived(encode_request("QUIT"))  # loseConnection, output still flushing
    assert slow.transport.disconnecting and not slow.transport.aborted
    slow.transport.drain()  # Twisted resumes a paused producer instead of closing: we step aside
    assert slow.transport.producer is None


def test_client_kill_drops_the_pending_output(server, slow, other):
    slow.push(100)
    assert other.call("CLIENT", "KILL", "ID", slow.client.id) == 1
    assert slow.transport.aborted and slow.transport.pending() == 0
    assert server.state.stats.client_output_buffer_limit_disconnections == 0


def test_client_kill_of_a_client_with_nothing_pending_closes_cleanly(server, slow, other):
    assert other.call("CLIENT", "KILL", "ID", slow.client.id) == 1
    assert slow.transport.disconnecting and not slow.transport.aborted


def test_quit_after_output_backlog_is_not_an_abort(server, slow, other):
    other.call("SET", "big", b"v" * 100_000)
    slow.proto.dataReceived(encode_request("GET", "big") * 3 + encode_request("QUIT"))
    assert slow.transport.disconnecting and not slow.transport.aborted
    assert slow.transport.pending() > 300_000


def test_plain_string_transport_is_not_registered(server, other):
    # FakeServer's ordinary StringTransport has no Twisted write buffer: nothing registered
    assert other.transport.producer is None


# ---------------------------------------------------------------- Pub/Sub


def test_subscriber_that_never_reads_is_dropped_at_the_pubsub_hard_limit(server, slow, other):
    set_limits(other, "pubsub 2mb 1mb 60")
    slow.send("SUBSCRIBE", "news")
    assert slow.client.flags & CLIENT_PUBSUB
    reader = server.connect()
    reader.call("SUBSCRIBE", "news")
    msg = b"m" * KB
    counts = []
    while not slow.proto.closing and len(counts) < 5000:
        counts.append(other.call("PUBLISH", "news", msg))
        reader.replies()
    # SUBSCRIBE's reply (33 bytes) + 1060 bytes per message: the first count reaching 2 MB
    frame = len(b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$1024\r\n" + msg + b"\r\n")
    assert frame == 1060
    assert len(counts) == -(-(2 * 1024 * KB - 33) // frame) == 1979
    assert set(counts) == {2}  # the publisher's replies go on, the slow one counted until it left
    assert slow.transport.aborted and slow.transport.pending() == 0
    assert server.state.stats.client_output_buffer_limit_disconnections == 1
    slow.close()  # the reactor's connectionLost: the subscription goes with the client
    assert other.call("PUBLISH", "news", msg) == 1
    assert other.call("PUBSUB", "NUMSUB", "news") == [b"news", 1]


def test_subscriber_dropped_by_the_soft_limit_after_its_seconds(server, slow, other):
    set_limits(other, "pubsub 0 1mb 5")
    slow.send("SUBSCRIBE", "news")
    msg = b"m" * KB
    for _ in range(1100):
        other.call("PUBLISH", "news", msg)
    assert slow.proto.obuf_soft_since is not None and not slow.proto.closing
    for _ in range(5):
        server.advance(1)
        other.call("PUBLISH", "news", msg)
        assert not slow.proto.closing
    server.advance(1)
    assert other.call("PUBLISH", "news", msg) == 1
    assert slow.proto.closing and slow.transport.aborted


def test_resp3_subscriber_pushes_count_too(server, slow, other):
    set_limits(other, "pubsub 100kb 0 0")
    slow.call("HELLO", "3")
    slow.send("SUBSCRIBE", "news")
    for _ in range(100):
        other.call("PUBLISH", "news", b"m" * KB)
    assert slow.proto.closing


def test_unsubscribed_client_is_normal_again(server, slow, other):
    set_limits(other, "pubsub 100kb 0 0")
    slow.send("SUBSCRIBE", "news")
    slow.send("UNSUBSCRIBE", "news")
    assert not slow.client.flags & CLIENT_PUBSUB
    slow.push(300)
    assert not slow.proto.closing


def test_client_list_of_itself_in_a_pipeline_shows_the_unwritten_reply_in_obl(server, slow):
    # as redis-server 7.0.15: PING's reply waits in the 16 KB reply buffer, nothing is queued
    slow.transport.clear()
    slow.proto.dataReceived(b"PING\r\n" + encode_request("CLIENT", "LIST", "ID", slow.client.id))
    out = slow.transport.value()
    assert out.startswith(b"+PONG\r\n$")
    assert b" obl=7 oll=0 omem=0 " in out and b" events=r " in out
