"""The master side of replication over the in-memory harness: a fake replica connection sends
REPLCONF / PSYNC / SYNC and the exact bytes it gets back are checked (+FULLRESYNC, the RDB in
both framings, +CONTINUE, the stream with SELECT placement, PING, offsets)."""

from __future__ import annotations

import time

import pytest

from tests.unit.harness import FakeServer, ReplyError, encode_request
from twistd_redis.client import CLIENT_SLAVE
from twistd_redis.persistence import child as childmod
from twistd_redis.persistence.snapshot import load_rdb
from twistd_redis.replication import master


def req(*args) -> bytes:
    return encode_request(*args)


def cmd_bytes(*args) -> bytes:
    return encode_request(*args)


SELECT0 = cmd_bytes("SELECT", "0")
PING = b"*1\r\n$4\r\nping\r\n"


class FakeReactor:
    def __init__(self) -> None:
        self.readers: set = set()

    def addReader(self, r) -> None:
        self.readers.add(r)

    def removeReader(self, r) -> None:
        self.readers.discard(r)


@pytest.fixture
def srv():
    s = FakeServer({"repl-diskless-sync": "no"})
    yield s
    childmod.wait_child(s.state, 10)
    s.stop()


def finish_child(srv: FakeServer) -> None:
    """Reap the BGSAVE child (what the cron does) and let its done callback run."""
    assert childmod.wait_child(srv.state, 10) is not None
    srv.end_turn()


def split_bulk(data: bytes) -> tuple[bytes, bytes]:
    """``$<len>\\r\\n<rdb>`` + rest -> (rdb, rest)."""
    assert data[:1] == b"$", data[:40]
    nl = data.index(b"\r\n")
    n = int(data[1:nl])
    body = data[nl + 2 : nl + 2 + n]
    assert len(body) == n
    return body, data[nl + 2 + n :]


def full_sync(srv: FakeServer, capa=("psync2",)) -> tuple:
    r = srv.connect()
    for c in capa:
        assert r.raw(req("REPLCONF", "capa", c)) == b"+OK\r\n"
    head = r.raw(req("PSYNC", "?", "-1"))
    return r, head


def test_replconf_replies_and_errors(srv):
    c = srv.connect()
    assert c.raw(req("REPLCONF")) == b"+OK\r\n"
    assert c.raw(req("REPLCONF", "a")) == b"-ERR syntax error\r\n"
    assert c.raw(req("REPLCONF", "foo", "bar")) == b"-ERR Unrecognized REPLCONF option: foo\r\n"
    assert c.raw(req("REPLCONF", "listening-port", "x")) == b"-ERR value is not an integer or out of range\r\n"
    assert c.raw(req("REPLCONF", "listening-port", "6380", "capa", "eof", "capa", "zzz")) == b"+OK\r\n"
    assert c.raw(req("REPLCONF", "rdb-only", "2")) == b"-ERR value is out of range, value must between 0 and 1\r\n"
    assert c.raw(req("REPLCONF", "rdb-only", "x")) == b"-ERR value is not an integer or out of range\r\n"
    assert c.raw(req("REPLCONF", "ip-address", "a" * 256)) == (
        b"-ERR REPLCONF ip-address provided by replica instance is too long: 256 bytes\r\n"
    )
    # ACK from a non-replica and GETACK on a master: no reply at all
    assert c.raw(req("REPLCONF", "ack", "5") + req("REPLCONF", "getack", "*") + req("PING")) == b"+PONG\r\n"
    assert c.raw(req("PSYNC", "?", "x")) == b"-ERR value is not an integer or out of range\r\n"
    assert c.raw(req("SYNC", "x")) == b"-ERR wrong number of arguments for 'sync' command\r\n"
    # the handshake fields wait aside until the connection syncs
    assert c.client.repl is None and not c.client.flags & CLIENT_SLAVE


def test_full_resync_disk_sends_real_rdb_then_stream(srv):
    a = srv.connect()
    a.call("SET", "k", "v")
    a.call("SELECT", "3")
    a.call("RPUSH", "l", "1", "2")
    r, head = full_sync(srv)
    repl = srv.state.repl
    assert head == b"+FULLRESYNC %s 0\r\n" % repl.replid.encode()
    link = r.client.repl
    assert r.client.flags & CLIENT_SLAVE and repl.replicas == [link]
    assert link.repl_state == "wait_bgsave"
    assert repl.backlog is not None and repl.stat_sync_full == 1 and repl.stat_sync_partial_err == 0
    # writes made while the child saves are buffered for the replica, not written yet
    a.call("SET", "during", "1")
    assert r.transport.value() == b""
    finish_child(srv)
    out = r.transport.value()
    rdb, rest = split_bulk(out)
    assert rdb.startswith(b"REDIS0010")
    assert b"repl-id" in rdb and repl.replid.encode() in rdb and b"repl-offset" in rdb
    # the buffered stream follows the RDB: SELECT (forced after +FULLRESYNC), the SET
    assert rest == cmd_bytes("SELECT", "3") + cmd_bytes("SET", "during", "1")
    assert link.repl_state == "online"
    other = FakeServer(start=False)
    assert load_rdb(other.state, rdb) == 2
    assert other.state.dbs[0].data[b"k"] == b"v" and b"l" in other.state.dbs[3].data
    assert repl.master_repl_offset == len(rest)
    r.transport.clear()
    a.call("SET", "x", "1", "EX", "100")
    srv.end_turn()
    px = b"%d" % (srv.state.now_ms() + 100000)
    assert r.transport.value() == cmd_bytes("SET", "x", "1", "PXAT", px)
    assert repl.master_repl_offset == len(rest) + len(r.transport.value())


def test_stream_select_multi_and_offsets(srv):
    a = srv.connect()
    r, _head = full_sync(srv)
    finish_child(srv)
    r.transport.clear()
    repl = srv.state.repl
    base = repl.master_repl_offset
    a.call("SET", "a", "1")
    a.call("MULTI")
    a.call("INCR", "n")
    a.call("INCR", "n")
    a.call("EXEC")
    a.call("SELECT", "5")
    a.call("DEL", "nothing")  # no change: not propagated
    a.call("SET", "b", "2")
    srv.end_turn()
    expected = (
        SELECT0
        + cmd_bytes("SET", "a", "1")
        + cmd_bytes("MULTI")
        + cmd_bytes("INCR", "n")
        + cmd_bytes("INCR", "n")
        + cmd_bytes("EXEC")
        + cmd_bytes("SELECT", "5")
        + cmd_bytes("SET", "b", "2")
    )
    assert r.transport.value() == expected
    assert repl.master_repl_offset == base + len(expected)
    assert repl.backlog.read_from(base + 1) == expected


def test_sync_old_protocol_has_no_fullresync_line(srv):
    srv.connect().call("SET", "k", "v")
    r = srv.connect()
    assert r.raw(req("SYNC")) == b""
    finish_child(srv)
    rdb, rest = split_bulk(r.transport.value())
    assert rdb.startswith(b"REDIS") and rest == b""
    assert r.client.repl.pre_psync and r.client.repl.repl_state == "online"
    # SYNC again on a replica connection: ignored, no reply
    assert r.raw(req("SYNC") + req("PING")) == b"+PONG\r\n"


def test_partial_resync_continue_from_backlog(srv):
    a = srv.connect()
    r, _head = full_sync(srv)
    finish_child(srv)
    repl = srv.state.repl
    a.call("SET", "a", "1")
    mid = repl.master_repl_offset
    a.call("SET", "b", "2")
    srv.end_turn()
    replid = repl.replid
    r.close()
    assert repl.replicas == []
    r2 = srv.connect()
    r2.raw(req("REPLCONF", "capa", "eof", "capa", "psync2"))
    out = r2.raw(req("PSYNC", replid, str(mid + 1)))
    assert out == b"+CONTINUE %s\r\n" % replid.encode() + cmd_bytes("SET", "b", "2")
    assert repl.stat_sync_partial_ok == 1 and repl.stat_sync_full == 1
    assert r2.client.repl.repl_state == "online"
    # a replica without capa psync2 gets the bare +CONTINUE
    r3 = srv.connect()
    assert r3.raw(req("PSYNC", replid, str(repl.master_repl_offset + 1))) == b"+CONTINUE\r\n"
    # the live stream goes to both
    a.call("SET", "c", "3")
    srv.end_turn()
    assert r2.transport.value() == r3.transport.value() == cmd_bytes("SET", "c", "3")
    assert [link.client for link in repl.replicas] == [r2.client, r3.client]


def test_partial_resync_refused_falls_back_to_full(srv):
    _r, _head = full_sync(srv)
    finish_child(srv)
    repl = srv.state.repl
    srv.connect().call("SET", "a", "1")
    # offset past the backlog's end, a wrong replid, "?": full resyncs; only the first two count
    # as partial errors
    for replid, off in ((repl.replid, repl.master_repl_offset + 2), ("f" * 40, 1), ("?", -1)):
        x = srv.connect()
        x.raw(req("REPLCONF", "capa", "psync2"))
        assert x.raw(req("PSYNC", replid, str(off))).startswith(b"+FULLRESYNC %s " % repl.replid.encode())
        finish_child(srv)
    assert repl.stat_sync_partial_err == 2 and repl.stat_sync_full == 4 and repl.stat_sync_partial_ok == 0
    # the exact end of the backlog is still covered: +CONTINUE with nothing after it
    y = srv.connect()
    assert y.raw(req("PSYNC", repl.replid, str(repl.master_repl_offset + 1))) == b"+CONTINUE\r\n"


def test_replid2_accepted_up_to_second_offset(srv):
    _r, _head = full_sync(srv)
    finish_child(srv)
    repl = srv.state.repl
    a = srv.connect()
    a.call("SET", "a", "1")
    old = repl.replid
    repl.shift_replication_id()  # a promotion: old history valid up to here
    second = repl.second_repl_offset
    assert repl.replid2 == old
    a.call("SET", "b", "2")
    srv.end_turn()
    x = srv.connect()
    x.raw(req("REPLCONF", "capa", "psync2"))
    assert x.raw(req("PSYNC", old, str(second))) == b"+CONTINUE %s\r\n" % repl.replid.encode() + cmd_bytes(
        "SET", "b", "2"
    )
    y = srv.connect()
    assert y.raw(req("PSYNC", old, str(second + 1))).startswith(b"+FULLRESYNC")
    finish_child(srv)
    assert repl.stat_sync_partial_ok == 1 and repl.stat_sync_partial_err == 1


def test_second_replica_attaches_to_running_bgsave(srv):
    a = srv.connect()
    a.call("SET", "k", "v")
    r1, head1 = full_sync(srv)
    a.call("SET", "w1", "1")
    r2, head2 = full_sync(srv)
    # same fork, same offset; r2 got r1's buffered stream copied
    assert head1 == head2 == b"+FULLRESYNC %s 0\r\n" % srv.state.repl.replid.encode()
    a.call("SET", "w2", "2")
    finish_child(srv)
    out1, out2 = r1.transport.value(), r2.transport.value()
    assert out1 == out2
    _rdb, rest = split_bulk(out1)
    # the second +FULLRESYNC forces a SELECT again (replicationSetupSlaveForFullResync resets
    # slaveseldb), as Redis does
    assert rest == SELECT0 + cmd_bytes("SET", "w1", "1") + SELECT0 + cmd_bytes("SET", "w2", "2")
    assert srv.state.repl.stat_sync_full == 2


def test_unrelated_bgsave_delays_replication_bgsave(srv):
    a = srv.connect()
    a.call("SET", "k", "v")
    assert a.call("BGSAVE") == b"Background saving started"
    r, head = full_sync(srv)
    assert head == b""  # waits for the next BGSAVE: no +FULLRESYNC yet
    a.call("SET", "w", "1")  # not buffered: its RDB is not forked yet
    assert r.client.repl.repl_state == "wait_bgsave"
    finish_child(srv)  # the user's BGSAVE ends: the replication one starts at once
    assert r.transport.value() == b"+FULLRESYNC %s %d\r\n" % (
        srv.state.repl.replid.encode(),
        srv.state.repl.master_repl_offset,
    )
    r.transport.clear()
    finish_child(srv)
    rdb, rest = split_bulk(r.transport.value())
    other = FakeServer(start=False)
    load_rdb(other.state, rdb)
    assert other.state.dbs[0].data[b"w"] == b"1" and rest == b""


def test_ping_every_period_counts_in_offset(srv):
    srv.state.config.set("repl-ping-replica-period", "2")
    r, _head = full_sync(srv)
    finish_child(srv)
    repl = srv.state.repl
    r.transport.clear()
    start = repl.master_repl_offset
    srv.advance(1)
    srv.advance(1)
    srv.advance(1)
    srv.advance(1)
    got = r.transport.value()
    assert got in (PING * 2, PING)
    assert repl.master_repl_offset == start + len(got)
    # PING carries no SELECT and does not reset the stream's db
    r.transport.clear()
    srv.connect().call("SET", "a", "1")
    srv.end_turn()
    assert r.transport.value() == SELECT0 + cmd_bytes("SET", "a", "1")


def test_ack_updates_link_and_timeout_disconnects(srv):
    srv.state.config.set("repl-timeout", "5")
    r, _head = full_sync(srv)
    finish_child(srv)
    link = r.client.repl
    srv.advance(3)
    assert r.raw(req("REPLCONF", "ACK", "40", "FACK", "30")) == b""
    assert link.ack_off == 40 and link.aof_off == 30 and link.ack_time == srv.clock.seconds()
    r.raw(req("REPLCONF", "ACK", "10"))
    assert link.ack_off == 40  # never moves back
    for _ in range(5):
        srv.advance(1)
    assert not r.closed
    for _ in range(3):
        srv.advance(1)
    assert r.closed
    r.close()  # the transport reports the connection lost
    assert srv.state.repl.replicas == []


def test_pending_output_refused(srv):
    r = srv.connect()
    out = r.raw(req("PING") + req("PSYNC", "?", "-1"))
    assert out == b"+PONG\r\n-ERR SYNC and PSYNC are invalid with pending output\r\n"
    assert srv.state.repl.replicas == []


def test_diskless_sync_eof_framing_and_online_on_ack():
    srv = FakeServer({"repl-diskless-sync": "yes", "repl-diskless-sync-delay": "0"})
    fake = FakeReactor()
    master.side(srv.state).reactor = fake
    try:
        a = srv.connect()
        a.call("SET", "k", "v")
        a.call("HSET", "h", "f", "1")
        r, head = full_sync(srv, capa=("eof", "psync2"))
        repl = srv.state.repl
        assert head == b"+FULLRESYNC %s 0\r\n" % repl.replid.encode()
        (sync,) = fake.readers
        a.call("SET", "during", "1")
        deadline = time.monotonic() + 10
        while not sync.eof and time.monotonic() < deadline:
            sync.doRead()
            time.sleep(0.001)
        assert sync.eof and not fake.readers
        finish_child(srv)
        out = r.transport.value()
        assert out[:5] == b"$EOF:"
        mark = out[5:45]
        assert out[45:47] == b"\r\n" and out.endswith(mark)
        rdb = out[47:-40]
        other = FakeServer(start=False)
        assert load_rdb(other.state, rdb) == 2
        link = r.client.repl
        # online, but the stream waits for the first ACK
        assert link.repl_state == "online"
        r.transport.clear()
        a.call("SET", "after", "2")
        srv.end_turn()
        assert r.transport.value() == b""
        out = r.raw(req("REPLCONF", "ACK", "0"))
        assert out == SELECT0 + cmd_bytes("SET", "during", "1") + cmd_bytes("SET", "after", "2")
    finally:
        childmod.wait_child(srv.state, 10)
        srv.stop()


def test_diskless_delay_gathers_replicas():
    srv = FakeServer({"repl-diskless-sync": "yes", "repl-diskless-sync-delay": "2"})
    fake = FakeReactor()
    master.side(srv.state).reactor = fake
    try:
        r1, h1 = full_sync(srv, capa=("eof", "psync2"))
        r2, h2 = full_sync(srv, capa=("eof", "psync2"))
        assert h1 == h2 == b""
        srv.advance(1)
        assert not fake.readers
        srv.advance(1)
        srv.advance(1)
        assert len(fake.readers) == 1
        (sync,) = fake.readers
        assert len(sync.links) == 2
        # keepalive newlines while they waited, then +FULLRESYNC at the fork
        for r in (r1, r2):
            assert r.transport.value().lstrip(b"\n").startswith(b"+FULLRESYNC")
            assert r.transport.value().startswith(b"\n")
        deadline = time.monotonic() + 10
        while not sync.eof and time.monotonic() < deadline:
            sync.doRead()
            time.sleep(0.001)
        finish_child(srv)
        assert r1.client.repl.repl_state == r2.client.repl.repl_state == "online"
    finally:
        childmod.wait_child(srv.state, 10)
        srv.stop()


def test_replica_without_eof_uses_disk_even_when_diskless():
    srv = FakeServer({"repl-diskless-sync": "yes", "repl-diskless-sync-delay": "0"})
    try:
        r, head = full_sync(srv, capa=("psync2",))
        assert head.startswith(b"+FULLRESYNC")
        finish_child(srv)
        rdb, _rest = split_bulk(r.transport.value())
        assert rdb.startswith(b"REDIS")
    finally:
        childmod.wait_child(srv.state, 10)
        srv.stop()


def test_no_feed_on_a_replica(srv):
    _r, _head = full_sync(srv)
    finish_child(srv)
    repl = srv.state.repl
    off = repl.master_repl_offset
    repl.masterhost = "127.0.0.1"
    try:
        master.feed_replicas(srv.state, 0, [b"SET", b"a", b"1"])
        assert repl.master_repl_offset == off
    finally:
        repl.masterhost = None


def test_replconf_errors_are_replies_not_exceptions(srv):
    c = srv.connect()
    assert isinstance(c.call("REPLCONF", "nope", "1"), ReplyError)


def test_disk_bulk_is_paced_by_the_transport_draining(srv, monkeypatch):
    a = srv.connect()
    a.call("SET", "big", "x" * 300_000)  # an RDB of ~300 KB (rdbcompression on a run of x: small)
    srv.state.config.set("rdbcompression", "no")
    r, _head = full_sync(srv)
    link = r.client.repl
    written: list[int] = []
    paused = {"v": False}

    def paused_fn() -> bool:
        return paused["v"]

    monkeypatch.setattr(link, "paused", paused_fn)
    orig = link.write_direct

    def write(data: bytes) -> None:
        written.append(len(data))
        orig(data)
        if sum(written) > 64 * 1024:
            paused["v"] = True  # the transport's buffer passed its bufferSize

    monkeypatch.setattr(link, "write_direct", write)
    finish_child(srv)
    assert link.repl_state == "send_bulk"
    assert 64 * 1024 < sum(written) <= 64 * 1024 + master.BULK_CHUNK + 16
    # each drain lets another window through, until the file is sent and the replica is online
    for _ in range(100):
        if link.repl_state == "online":
            break
        written.clear()
        paused["v"] = False
        master._drained(link)
    srv.end_turn()
    assert link.repl_state == "online"
    rdb, _rest = split_bulk(r.transport.value())
    other = FakeServer(start=False)
    load_rdb(other.state, rdb)
    assert len(other.state.dbs[0].data[b"big"]) == 300_000


def test_diskless_replica_taking_no_bytes_times_out(monkeypatch):
    srv = FakeServer({"repl-diskless-sync": "yes", "repl-diskless-sync-delay": "0", "repl-timeout": "3"})
    fake = FakeReactor()
    master.side(srv.state).reactor = fake
    try:
        srv.connect().call("SET", "k", "v")
        r, _head = full_sync(srv, capa=("eof", "psync2"))
        link = r.client.repl
        monkeypatch.setattr(link, "paused", lambda: True)
        (sync,) = fake.readers
        deadline = time.monotonic() + 10
        while not link.partial_since and time.monotonic() < deadline:
            sync.doRead()
            time.sleep(0.001)
        assert link.partial_since and not fake.readers  # reading stopped for the stuck replica
        for _ in range(3):
            srv.advance(1)
        assert not r.closed
        srv.advance(1)
        srv.advance(1)
        assert r.closed
        r.close()
        assert srv.state.repl.replicas == []
    finally:
        childmod.wait_child(srv.state, 10)
        srv.stop()
