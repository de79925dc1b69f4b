"""The replica side against a scripted master: exact handshake bytes, both RDB framings,
+CONTINUE (with and without a new id), reploff counting (MULTI/EXEC, split reads), ACKs,
reconnection timing, REPLICAOF / SLAVEOF replies and promotion."""

from __future__ import annotations

import io

import pytest
from twisted.internet import defer
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from tests.unit.harness import FakeServer, ReplyError, encode_request
from twistd_redis.persistence.snapshot import write_rdb
from twistd_redis.replication import replica
from twistd_redis.replication.replica import ReplState

MASTER_ID = "a" * 40
NEW_ID = "b" * 40


class _Addr:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port


class LinkTransport(StringTransport):
    """A StringTransport whose loseConnection really ends the connection (next turn)."""

    def __init__(self, clock, port) -> None:
        super().__init__(peerAddress=_Addr("127.0.0.1", port), hostAddress=_Addr("127.0.0.1", 40000))
        self.clock = clock
        self.lost = False

    def loseConnection(self) -> None:
        if not self.lost and not self.disconnecting:
            super().loseConnection()
            self.clock.callLater(0, self.drop)

    def drop(self) -> None:
        if not self.lost:
            self.lost = True
            self.protocol.connectionLost(Failure(ConnectionDone()))


class FakeEndpoint:
    """Each connect() succeeds at once (or fails when ``refuse``) and records the link."""

    def __init__(self, net: Net, host: str, port: int) -> None:
        self.net = net
        self.port = port

    def connect(self, factory):
        self.net.attempts += 1
        if self.net.refuse:
            return defer.fail(ConnectionRefusedErrorLike())
        p = factory.buildProtocol(None)
        t = LinkTransport(self.net.clock, self.port)
        t.protocol = p
        p.makeConnection(t)
        self.net.links.append(t)
        return defer.succeed(p)


class ConnectionRefusedErrorLike(Exception):
    pass


class Net:
    def __init__(self, clock) -> None:
        self.clock = clock
        self.links: list[LinkTransport] = []
        self.attempts = 0
        self.refuse = False

    @property
    def t(self) -> LinkTransport:
        return self.links[-1]

    def take(self) -> bytes:
        """What the replica wrote to the master since the last take."""
        out = self.t.value()
        self.t.clear()
        return out

    def feed(self, data: bytes) -> None:
        self.t.protocol.dataReceived(data)
        self.clock.advance(0)

    def drop(self) -> None:
        self.t.drop()
        self.clock.advance(0)


@pytest.fixture
def rig(monkeypatch):
    srv = FakeServer()
    net = Net(srv.clock)
    monkeypatch.setattr(replica, "ENDPOINT_FACTORY", lambda state, host, port: FakeEndpoint(net, host, port))
    yield srv, net
    srv.stop()


def rdb_bytes(fill) -> bytes:
    src = FakeServer()
    c = src.connect()
    fill(c)
    out = io.BytesIO()
    write_rdb(src.state, out)
    src.stop()
    return out.getvalue()


def handshake(srv, net, expect_psync: bytes | None = None) -> None:
    """REPLICAOF, then answer PING and the REPLCONFs; leaves the link waiting for +FULLRESYNC."""
    assert net.take() == encode_request("PING")
    net.feed(b"+PONG\r\n")
    assert net.take() == encode_request("REPLCONF", "listening-port", "6379") + encode_request(
        "REPLCONF", "capa", "eof", "capa", "psync2"
    )
    net.feed(b"+OK\r\n+OK\r\n")
    psync = net.take()
    if expect_psync is not None:
        assert psync == expect_psync
    assert psync.startswith(b"*3\r\n$5\r\nPSYNC\r\n")


def full_sync(srv, net, payload: bytes, offset: int = 100, eof: bool = False, tail: bytes = b"") -> None:
    if eof:
        mark = b"m" * 40
        body = b"$EOF:" + mark + b"\r\n" + payload + mark
    else:
        body = b"$%d\r\n" % len(payload) + payload
    net.feed(b"+FULLRESYNC %s %d\r\n" % (MASTER_ID.encode(), offset) + b"\n\n" + body + tail)


def become_replica(srv, net, data=lambda c: c.call("SET", "seed", "1"), offset=100, eof=False, tail=b""):
    c = srv.connect()
    assert c.call("REPLICAOF", "127.0.0.1", "6390") == b"OK"
    handshake(srv, net)
    full_sync(srv, net, rdb_bytes(data), offset, eof, tail)
    return c


# ---------------------------------------------------------------------------- handshake


def test_handshake_order_and_psync_with_own_history(rig):
    srv, net = rig
    st = srv.state
    c = srv.connect()
    c.call("SET", "x", "1")
    myid = st.repl.replid
    off = st.repl.master_repl_offset
    assert c.call("REPLICAOF", "127.0.0.1", "6390") == b"OK"
    link = st.repl.link
    assert link.repl_state == ReplState.RECEIVE_PING_REPLY
    assert net.take() == encode_request("PING")
    net.feed(b"-NOAUTH Authentication required.\r\n")  # accepted, as Redis does
    assert link.repl_state == ReplState.RECEIVE_PORT_REPLY
    assert net.take() == encode_request("REPLCONF", "listening-port", "6379") + encode_request(
        "REPLCONF", "capa", "eof", "capa", "psync2"
    )
    net.feed(b"-ERR unknown command\r\n")  # non critical
    assert link.repl_state == ReplState.RECEIVE_CAPA_REPLY
    net.feed(b"+OK\r\n")
    # replicationCacheMasterUsingMyself: our own id and offset+1
    assert net.take() == encode_request("PSYNC", myid, str(off + 1))
    assert link.repl_state == ReplState.RECEIVE_PSYNC_REPLY
    assert link.state_word() == "handshake"


def test_handshake_auth_announce_ip_port(rig):
    srv, net = rig
    st = srv.state
    for k, v in (
        ("masterauth", "pw"),
        ("masteruser", "repl"),
        ("replica-announce-ip", "10.0.0.9"),
        ("replica-announce-port", "7777"),
    ):
        st.config.set(k, v)
    c = srv.connect()
    c.call("REPLICAOF", "localhost", "6390")
    assert net.take() == encode_request("PING")
    net.feed(b"+PONG\r\n")
    assert net.take() == (
        encode_request("AUTH", "repl", "pw")
        + encode_request("REPLCONF", "listening-port", "7777")
        + encode_request("REPLCONF", "ip-address", "10.0.0.9")
        + encode_request("REPLCONF", "capa", "eof", "capa", "psync2")
    )
    link = st.repl.link
    assert link.repl_state == ReplState.RECEIVE_AUTH_REPLY
    net.feed(b"+OK\r\n")
    assert link.repl_state == ReplState.RECEIVE_PORT_REPLY
    net.feed(b"+OK\r\n")
    assert link.repl_state == ReplState.RECEIVE_IP_REPLY
    net.feed(b"+OK\r\n+OK\r\n")
    assert net.take().startswith(b"*3\r\n$5\r\nPSYNC\r\n")


def test_auth_failure_closes_and_retries_after_a_second(rig):
    srv, net = rig
    st = srv.state
    st.config.set("masterauth", "bad")
    srv.connect().call("REPLICAOF", "127.0.0.1", "6390")
    net.take()
    net.feed(b"+PONG\r\n")
    net.take()
    net.feed(b"-WRONGPASS invalid username-password pair or user is disabled.\r\n")
    assert net.t.lost
    assert st.repl.link.repl_state == ReplState.CONNECT
    assert net.attempts == 1
    srv.advance(0.5)
    assert net.attempts == 1
    srv.advance(0.6)
    assert net.attempts == 2
    assert net.take() == encode_request("PING")


def test_bad_ping_reply_is_an_error(rig):
    srv, net = rig
    srv.connect().call("REPLICAOF", "127.0.0.1", "6390")
    net.take()
    net.feed(b"-ERR something else\r\n")
    assert net.t.lost


# ---------------------------------------------------------------------------- full sync


def test_full_sync_bulk_framing_then_stream(rig):
    srv, net = rig
    st = srv.state
    c = srv.connect()
    c.call("SET", "old", "gone")
    assert c.call("REPLICAOF", "127.0.0.1", "6390") == b"OK"
    handshake(srv, net)
    payload = rdb_bytes(
        lambda m: (
            m.call("SET", "k", "v"),
            m.call("RPUSH", "l", "a", "b"),
            m.call("SELECT", "3"),
            m.call("SET", "x", "y"),
        )
    )
    stream = encode_request("SELECT", "0") + encode_request("SET", "k2", "v2")
    link = st.repl.link
    # split the reply, the keepalives, the bulk header and the payload at awkward places
    whole = b"+FULLRESYNC %s 100\r\n\n\n$%d\r\n" % (MASTER_ID.encode(), len(payload)) + payload + stream
    for i in range(0, len(whole), 7):
        net.feed(whole[i : i + 7])
        if link.repl_state == ReplState.TRANSFER:
            assert link.sync_in_progress()
    assert link.connected()
    assert c.call("GET", "old") is None
    assert c.call("GET", "k") == b"v" and c.call("LRANGE", "l", "0", "-1") == [b"a", b"b"]
    assert c.call("GET", "k2") == b"v2"
    c.call("SELECT", "3")
    assert c.call("GET", "x") == b"y"
    assert st.repl.replid == MASTER_ID
    assert st.repl.replid2 == "0" * 40 and st.repl.second_repl_offset == -1
    assert link.reploff == link.read_reploff == 100 + len(stream)
    assert st.repl.master_repl_offset == 100 + len(stream)
    assert st.repl.backlog is not None and st.repl.backlog.histlen == len(stream)
    assert st.repl.backlog.read_from(101) == stream
    assert link.transfer_size == len(payload) and link.transfer_read == len(payload)
    # no ACK right after a disk (bulk) transfer, as Redis
    assert net.take() == b""
    # the received RDB became our dbfilename
    import os

    assert open(os.path.join(st.config["dir"], st.config["dbfilename"]), "rb").read() == payload
    assert link.master_client.id in st.clients
    assert "flags=M" in link.master_client.info_line()


def test_full_sync_eof_framing_acks_at_once(rig):
    srv, net = rig
    st = srv.state
    c = srv.connect()
    c.call("REPLICAOF", "127.0.0.1", "6390")
    handshake(srv, net)
    payload = rdb_bytes(lambda m: m.call("SET", "k", "v"))
    mark = b"0123456789" * 4
    net.feed(b"+FULLRESYNC %s 7\r\n" % MASTER_ID.encode())
    net.feed(b"\n$EOF:" + mark + b"\r\n" + payload[:10])
    assert st.repl.link.transfer_size == -1
    net.feed(payload[10:] + mark[:15])
    assert not st.repl.link.connected()
    net.feed(mark[15:] + encode_request("INCR", "n"))
    assert st.repl.link.connected()
    assert c.call("GET", "k") == b"v" and c.call("GET", "n") == b"1"
    assert net.take() == encode_request("REPLCONF", "ACK", "7")
    assert st.repl.link.reploff == 7 + len(encode_request("INCR", "n"))


def test_corrupt_payload_reconnects(rig):
    srv, net = rig
    srv.connect().call("REPLICAOF", "127.0.0.1", "6390")
    handshake(srv, net)
    net.feed(b"+FULLRESYNC %s 1\r\n$5\r\nREDIS" % MASTER_ID.encode())
    assert net.links[0].lost
    assert net.attempts == 2  # at once, as cancelReplicationHandshake(1)


def test_master_error_during_transfer(rig):
    srv, net = rig
    srv.connect().call("REPLICAOF", "127.0.0.1", "6390")
    handshake(srv, net)
    net.feed(b"+FULLRESYNC %s 1\r\n-ERR no space\r\n" % MASTER_ID.encode())
    assert net.links[0].lost
    assert net.attempts == 2


# ---------------------------------------------------------------------------- the stream


def test_reploff_counts_processed_commands_not_inside_multi(rig):
    srv, net = rig
    st = srv.state
    c = become_replica(srv, net)
    link = st.repl.link
    base = link.reploff
    multi = encode_request("MULTI") + encode_request("SET", "a", "1") + encode_request("INCR", "b")
    net.feed(multi)
    assert link.reploff == base
    assert link.read_reploff == base + len(multi)
    assert st.repl.master_repl_offset == base  # nothing proxied while the MULTI is open
    assert c.call("GET", "a") is None
    ex = encode_request("EXEC")
    net.feed(ex[:5])
    assert link.reploff == base
    net.feed(ex[5:])
    assert link.reploff == base + len(multi) + len(ex)
    assert st.repl.master_repl_offset == link.reploff
    assert st.repl.backlog.read_from(base + 1) == multi + ex
    assert c.call("GET", "a") == b"1" and c.call("GET", "b") == b"1"


def test_every_split_point(rig):
    srv, net = rig
    st = srv.state
    c = become_replica(srv, net)
    link = st.repl.link
    data = encode_request("SET", "k", "x" * 20) + encode_request("APPEND", "k", "yz") + encode_request("PING")
    for cut in range(1, len(data)):
        before = link.reploff
        net.feed(data[:cut])
        net.feed(data[cut:])
        assert link.reploff == before + len(data)
    assert c.call("GET", "k") == b"x" * 20 + b"yz"


def test_one_read_of_many_commands_keeps_exact_offsets(rig):
    """A whole read parsed at once (hiredis fast path): reploff still moves per command, so a
    GETACK in the middle of the read is answered with the offset before it, a MULTI in the
    middle is counted only at its EXEC, and what is proxied is exactly what was read."""
    srv, net = rig
    st = srv.state
    c = become_replica(srv, net)
    link = st.repl.link
    base = link.reploff
    head = encode_request("SELECT", "1") + encode_request("SET", "k", "v" * 5000)  # a 4 KB+ bulk
    getack = encode_request("REPLCONF", "GETACK", "*")
    tx = encode_request("MULTI") + encode_request("INCR", "n") + encode_request("EXEC")
    tail = encode_request("LPUSH", "l", "a", "b")
    net.take()
    net.feed(head + getack + tx + tail[:7])
    assert net.take() == encode_request("REPLCONF", "ACK", str(base + len(head)))
    assert link.reploff == base + len(head + getack + tx)
    net.feed(tail[7:])
    assert link.reploff == link.read_reploff == base + len(head + getack + tx + tail)
    assert st.repl.backlog.read_from(base + 1) == head + getack + tx + tail
    assert c.call("SELECT", "1") == b"OK" and c.call("GET", "n") == b"1" and c.call("LLEN", "l") == 2


def test_replies_never_reach_the_master_and_ack_every_second(rig):
    srv, net = rig
    st = srv.state
    become_replica(srv, net)
    net.take()
    net.feed(encode_request("SET", "k", "v") + encode_request("GET", "k") + encode_request("LPUSH", "k", "x"))
    assert net.take() == b""  # not even the WRONGTYPE error
    off = st.repl.link.reploff
    srv.advance(1.01)
    assert net.take() == encode_request("REPLCONF", "ACK", str(off))


def test_send_ack_is_the_offset_before_getack(rig):
    """REPLCONF GETACK answers with reploff not yet counting the GETACK itself."""
    srv, net = rig
    st = srv.state
    become_replica(srv, net)
    net.take()
    net.feed(encode_request("SET", "k", "v"))
    off = st.repl.link.reploff
    getack = encode_request("REPLCONF", "GETACK", "*")
    net.feed(getack)
    assert net.take() == encode_request("REPLCONF", "ACK", str(off))
    assert st.repl.link.reploff == off + len(getack)


def test_master_timeout_drops_and_resyncs_partially(rig):
    srv, net = rig
    st = srv.state
    c = become_replica(srv, net)
    st.config.set("repl-timeout", "5")
    net.feed(encode_request("SET", "k", "v"))
    off = st.repl.link.reploff
    srv.advance(3)
    net.feed(b"\n")  # any byte counts as I/O... a newline is an empty inline request
    srv.advance(3)
    assert len(net.links) == 1
    srv.advance(3)  # 6 s without data
    assert len(net.links) == 2
    link = st.repl.link
    assert link.master_client is None and link.cached is not None
    assert link.reploff == off + 1 and link.down_since > 0
    handshake(srv, net, expect_psync=encode_request("PSYNC", MASTER_ID, str(off + 2)))
    assert c.call("GET", "k") == b"v"


# ---------------------------------------------------------------------------- partial resync


def test_link_loss_caches_master_and_continues(rig):
    srv, net = rig
    st = srv.state
    c = become_replica(srv, net)
    net.feed(
        encode_request("SELECT", "5")
        + encode_request("SET", "k", "v")
        + encode_request("MULTI")
        + encode_request("SET", "lost", "1")
    )
    link = st.repl.link
    off = link.reploff
    assert link.read_reploff > off
    net.drop()
    assert link.master_client is None
    assert link.reploff == link.read_reploff == off  # the open MULTI is discarded
    assert st.repl.link.repl_state in (ReplState.CONNECT, ReplState.RECEIVE_PING_REPLY)
    assert net.attempts == 2  # reconnected at once
    handshake(srv, net, expect_psync=encode_request("PSYNC", MASTER_ID, str(off + 1)))
    net.feed(b"+CONTINUE\r\n" + encode_request("SET", "k2", "v2"))
    assert link.connected() and link.down_since == 0
    assert st.repl.replid == MASTER_ID
    c.call("SELECT", "5")
    assert c.call("GET", "k2") == b"v2"  # the cached master's db was kept
    assert c.call("GET", "lost") is None
    assert link.reploff == off + len(encode_request("SET", "k2", "v2"))


def test_continue_with_a_new_replid_shifts_ids(rig):
    srv, net = rig
    st = srv.state
    become_replica(srv, net)
    off = st.repl.master_repl_offset
    net.drop()
    handshake(srv, net)
    net.feed(b"+CONTINUE %s\r\n" % NEW_ID.encode())
    assert st.repl.replid == NEW_ID
    assert st.repl.replid2 == MASTER_ID
    assert st.repl.second_repl_offset == off + 1


def test_try_later_replies(rig):
    srv, net = rig
    srv.connect().call("REPLICAOF", "127.0.0.1", "6390")
    handshake(srv, net)
    net.feed(b"\n-LOADING Redis is loading the dataset in memory\r\n")
    assert net.t.lost
    srv.advance(1.01)
    assert net.attempts == 2
    handshake(srv, net)
    net.feed(b"-NOMASTERLINK Can't SYNC while not connected with my master\r\n")
    assert net.t.lost


def test_psync_err_falls_back_to_sync(rig):
    srv, net = rig
    st = srv.state
    c = srv.connect()
    c.call("REPLICAOF", "127.0.0.1", "6390")
    handshake(srv, net)
    net.feed(b"-ERR unknown command 'PSYNC'\r\n")
    assert net.take() == b"SYNC\r\n"
    payload = rdb_bytes(lambda m: m.call("SET", "k", "v"))
    net.feed(b"$%d\r\n" % len(payload) + payload)
    assert st.repl.link.connected()
    assert c.call("GET", "k") == b"v"
    srv.advance(1.01)
    assert net.take() == b""  # no ACKs to a pre-PSYNC master


# ---------------------------------------------------------------------------- REPLICAOF


def test_replicaof_replies_and_errors(rig):
    srv, _net = rig
    c = srv.connect()
    for args, err in [
        (("REPLICAOF",), "ERR wrong number of arguments for 'replicaof' command"),
        (("SLAVEOF", "a"), "ERR wrong number of arguments for 'slaveof' command"),
        (("REPLICAOF", "127.0.0.1", "70000"), "ERR Invalid master port"),
        (("REPLICAOF", "127.0.0.1", "abc"), "ERR Invalid master port"),
        (("REPLICAOF", "127.0.0.1", "-1"), "ERR Invalid master port"),
        (("REPLICAOF", "127.0.0.1", "+6390"), "ERR Invalid master port"),
    ]:
        r = c.call(*args)
        assert isinstance(r, ReplyError) and str(r) == err, args
    assert c.raw(encode_request("REPLICAOF", "no", "one")) == b"+OK\r\n"  # a master already: OK
    assert c.raw(encode_request("SLAVEOF", "127.0.0.1", "6390")) == b"+OK\r\n"
    assert c.raw(encode_request("REPLICAOF", "127.0.0.1", "6390")) == b"+OK Already connected to specified master\r\n"
    assert c.raw(encode_request("REPLICAOF", "LOCALHOST", "6390")) == b"+OK\r\n"
    assert c.raw(encode_request("replicaof", "localhost", "6390")) == b"+OK Already connected to specified master\r\n"
    assert c.raw(encode_request("SET", "a", "b")) == b"-READONLY You can't write against a read only replica.\r\n"
    assert c.call("CONFIG", "GET", "replicaof") == [b"replicaof", b"LOCALHOST 6390"]
    assert c.raw(encode_request("REPLICAOF", "NO", "ONE")) == b"+OK\r\n"
    assert c.call("SET", "a", "b") == b"OK"
    assert srv.state.repl.link is None
    assert c.call("CONFIG", "GET", "replicaof") == [b"replicaof", b""]


def test_promotion_keeps_data_backlog_and_history(rig):
    srv, net = rig
    st = srv.state
    c = become_replica(srv, net)
    net.feed(encode_request("SET", "k", "v"))
    off = st.repl.master_repl_offset
    backlog = st.repl.backlog
    assert c.call("REPLICAOF", "NO", "ONE") == b"OK"
    assert net.t.lost or net.t.disconnecting
    assert st.repl.masterhost is None and not st.is_replica()
    assert st.repl.replid2 == MASTER_ID and st.repl.second_repl_offset == off + 1
    assert st.repl.replid != MASTER_ID
    assert st.repl.backlog is backlog and st.repl.master_repl_offset == off
    assert c.call("GET", "k") == b"v"
    assert c.call("SET", "w", "1") == b"OK"
    srv.advance(2)
    assert len(net.links) == 1  # no reconnection


def test_becoming_replica_unblocks_blocked_clients(rig):
    srv, _net = rig
    c = srv.connect()
    b = srv.connect()
    b.send("BLPOP", "q", "0")
    assert b.transport.value() == b""
    c.call("REPLICAOF", "127.0.0.1", "6390")
    srv.advance(0)
    assert b.transport.value() == (
        b"-UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)\r\n"
    )
    assert b.closed


def test_switching_master_keeps_the_cached_master(rig):
    srv, net = rig
    st = srv.state
    c = become_replica(srv, net)
    off = st.repl.link.reploff
    assert c.call("REPLICAOF", "127.0.0.1", "6391") == b"OK"
    srv.advance(0)
    handshake(srv, net, expect_psync=encode_request("PSYNC", MASTER_ID, str(off + 1)))


def test_stale_data_gate_follows_the_link(rig):
    srv, net = rig
    st = srv.state
    st.config.set("replica-serve-stale-data", "no")
    c = srv.connect()
    c.call("REPLICAOF", "127.0.0.1", "6390")
    r = c.call("GET", "k")
    assert isinstance(r, ReplyError) and str(r).startswith("MASTERDOWN Link with MASTER is down")
    handshake(srv, net)
    full_sync(srv, net, rdb_bytes(lambda m: m.call("SET", "k", "v")))
    assert c.call("GET", "k") == b"v"
    net.drop()
    assert isinstance(c.call("GET", "k"), ReplyError)


def test_replica_does_not_expire_keys_itself(rig):
    srv, net = rig
    st = srv.state
    c = become_replica(srv, net)
    now_ms = st.now_ms()
    net.feed(encode_request("SET", "t", "v", "PXAT", str(now_ms + 1000)))
    assert c.call("GET", "t") == b"v"
    srv.advance(2)
    assert c.call("GET", "t") is None  # logically expired for readers
    assert b"t" in st.dbs[0].data  # but still there until the master's DEL
    assert c.call("DBSIZE") == 2
    net.feed(encode_request("DEL", "t"))
    assert b"t" not in st.dbs[0].data


def test_master_commands_see_keys_the_replica_thinks_expired(rig):
    """Clock skew: the master's own commands act on the key as it is (Redis 7.0's
    expireIfNeeded returns 0 for server.master), readers see it expired."""
    srv, net = rig
    st = srv.state
    c = become_replica(srv, net)
    net.feed(encode_request("SET", "t", "v", "PXAT", str(st.now_ms() + 1000)))
    srv.advance(2)
    net.feed(encode_request("APPEND", "t", "x"))
    assert st.dbs[0].data[b"t"] == b"vx"
    assert c.call("GET", "t") is None


def test_replication_start_from_config(monkeypatch):
    from tests.unit.harness import FakeServer as FS

    srv = FS({"replicaof": "127.0.0.1 6390"}, start=False)
    net = Net(srv.clock)
    monkeypatch.setattr(replica, "ENDPOINT_FACTORY", lambda state, host, port: FakeEndpoint(net, host, port))
    srv.state.startService()
    try:
        assert srv.state.repl.masterhost == "127.0.0.1" and srv.state.repl.masterport == 6390
        # no cached master of our own at startup: PSYNC ? -1
        handshake(srv, net, expect_psync=encode_request("PSYNC", "?", "-1"))
    finally:
        srv.stop()


def test_connection_refused_retries_every_second(rig):
    srv, net = rig
    net.refuse = True
    srv.connect().call("REPLICAOF", "127.0.0.1", "6390")
    assert net.attempts == 1
    assert srv.state.repl.link.repl_state == ReplState.CONNECT
    srv.advance(1.01)
    assert net.attempts == 2
    net.refuse = False
    srv.advance(1.01)
    assert net.take() == encode_request("PING")
