"""WAIT, ROLE, INFO replication and min-replicas-to-write on the FakeServer, with fake replica
links in ``state.repl.replicas`` (the interface master.py's ReplicaLink offers) and a recorder
in place of master.feed_replicas / write_to_replicas, so the stream and its offsets are real
(replication/backlog.py) while no replica connection exists. Shapes and texts checked against
redis-server 7.0.15 (a real master with real replicas; see tests/integration/test_repl_wait.py)."""

from __future__ import annotations

import pytest

from tests.unit.harness import ReplyError, encode_request
from twistd_redis.client import CLIENT_SLAVE
from twistd_redis.replication import master as master_mod
from twistd_redis.replication import wait as wait_mod
from twistd_redis.replication.replica import MasterLink, ReplState

GETACK = encode_request("REPLCONF", "GETACK", "*")
WAIT_ON_REPLICA = (
    "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a "
    "replica is configured to be writable (which is not the default) writes to replicas are just "
    "local and are not propagated."
)


class FakeLink:
    """What master.py's ReplicaLink offers to wait.py / info.py."""

    def __init__(self, client, port, state="online", ack_off=0, ack_time=0.0, ip="127.0.0.1"):
        self.client = client
        self.repl_state = state
        self.listening_port = port
        self.announced_ip = None
        self.capa = {b"eof", b"psync2"}
        self.ack_off = ack_off
        self.ack_time = ack_time
        self._ip = ip

    def ip(self):
        return self._ip


@pytest.fixture
def stream(server, monkeypatch):
    """Record what enters the replication stream (bytes per feed) and what replicas get."""
    fed: list[bytes] = []
    written: list[bytes] = []

    def feed_replicas(state, dbid, argv):
        if state.repl.masterhost is not None:
            return
        data = b""
        if dbid is not None and dbid != state.repl.slaveseldb:
            data += encode_request("SELECT", str(dbid))
            state.repl.slaveseldb = dbid
        data += encode_request(*argv)
        fed.append(data)
        state.repl.feed_stream(data)

    monkeypatch.setattr(master_mod, "feed_replicas", feed_replicas)
    monkeypatch.setattr(master_mod, "write_to_replicas", lambda state, data: written.append(data))
    monkeypatch.setattr(master_mod, "master_cron", lambda state: None)  # no pings / timeouts
    server.state.repl.create_backlog()  # its propagation target calls master.feed_replicas
    return fed


def add_replicas(server, n, **kw):
    links = []
    for i in range(n):
        rc = server.connect()
        rc.client.flags |= CLIENT_SLAVE
        kw.setdefault("ack_time", server.clock.seconds())
        link = FakeLink(rc.client, 7000 + i, **kw)
        rc.client.repl = link
        server.state.repl.replicas.append(link)
        links.append(link)
    return links


def ack(server, link, off):
    """What master.py's REPLCONF ACK handler does."""
    link.ack_off = off
    link.ack_time = server.clock.seconds()
    wait_mod.replicas_acked(server.state)
    wait_mod.refresh_good_replicas(server.state)


def block(conn, *args):
    conn.transport.clear()
    conn.send(*args)
    assert conn.replies() == [], f"{args} answered at once"
    assert conn.client.waiting is not None


def reply(conn):
    rs = conn.replies()
    assert len(rs) == 1, rs
    return rs[0]


def info(conn, section):
    text = conn.call("INFO", section).decode()
    return [line for line in text.split("\r\n")[1:] if line]


# ------------------------------------------------------------------ arguments and errors


def test_wait_errors(conn):
    assert str(conn.call("WAIT", "x", "0")) == "ERR value is not an integer or out of range"
    assert str(conn.call("WAIT", "1", "abc")) == "ERR timeout is not an integer or out of range"
    assert str(conn.call("WAIT", "1", "1.5")) == "ERR timeout is not an integer or out of range"
    assert str(conn.call("WAIT", "1", "-1")) == "ERR timeout is negative"
    assert str(conn.call("WAIT", "99999999999999999999", "1")) == "ERR value is not an integer or out of range"
    assert str(conn.call("WAIT", "1")) == "ERR wrong number of arguments for 'wait' command"
    assert str(conn.call("ROLE", "x")) == "ERR wrong number of arguments for 'role' command"


def test_wait_on_replica_is_refused(server, conn):
    server.state.repl.masterhost = "127.0.0.1"
    server.state.repl.masterport = 1
    server.state.update_gates()
    r = conn.call("WAIT", "0", "0")
    assert isinstance(r, ReplyError) and str(r) == WAIT_ON_REPLICA
    # the replica check comes before argument parsing
    assert str(conn.call("WAIT", "x", "y")) == WAIT_ON_REPLICA


# ------------------------------------------------------------------ no replicas


def test_wait_zero_answers_at_once(conn):
    assert conn.call("WAIT", "0", "0") == 0
    assert conn.call("WAIT", "-5", "100") == 0


def test_wait_without_replicas_times_out_with_zero(server, conn):
    block(conn, "WAIT", "1", "100")
    server.advance(0.099)
    assert conn.replies() == []
    server.advance(0.001)
    assert reply(conn) == 0
    assert conn.client.waiting is None
    assert conn.call("PING") == b"PONG"


def test_wait_without_backlog_feeds_nothing(server, conn):
    # no backlog (no replica ever attached): the GETACK goes nowhere and the offset stays
    block(conn, "WAIT", "1", "10")
    assert server.state.repl.master_repl_offset == 0
    server.advance(0.01)
    assert reply(conn) == 0


def test_wait_timeout_zero_is_forever(server, conn, stream):
    block(conn, "WAIT", "1", "0")
    server.advance(3600)
    assert conn.replies() == []
    assert conn.client.waiting is not None


# ------------------------------------------------------------------ counting acks


def test_wait_counts_acks_and_wakes(server, conn, stream):
    links = add_replicas(server, 3)
    assert conn.call("SET", "k", "v") == b"OK"
    woff = server.state.repl.master_repl_offset
    assert conn.client.woff == woff > 0
    assert stream == [encode_request("SELECT", "0") + encode_request("SET", "k", "v")]
    block(conn, "WAIT", "2", "1000")
    # one GETACK at the end of the turn, part of the stream (it counts in the offset)
    assert stream[-1] == GETACK
    assert server.state.repl.master_repl_offset == woff + len(GETACK)
    ack(server, links[0], woff)
    assert conn.replies() == []
    ack(server, links[1], woff - 1)  # not there yet
    assert conn.replies() == []
    ack(server, links[1], woff + len(GETACK))
    assert reply(conn) == 2
    assert conn.client.waiting is None
    assert server.state.repl.clients_waiting_acks == []
    # all three acknowledged: the next WAIT answers at once and asks for nothing
    ack(server, links[2], woff)
    n = len(stream)
    assert conn.call("WAIT", "3", "1000") == 3
    assert len(stream) == n


def test_wait_times_out_with_count_so_far(server, conn, stream):
    links = add_replicas(server, 3)
    conn.call("INCR", "n")
    woff = conn.client.woff
    block(conn, "WAIT", "3", "100")
    ack(server, links[0], woff)
    ack(server, links[2], woff)
    server.advance(0.05)
    assert conn.replies() == []
    server.advance(0.05)
    assert reply(conn) == 2


def test_woff_is_the_clients_own_last_write(server, stream):
    a, b = server.connect(), server.connect()
    links = add_replicas(server, 1)
    a.call("SET", "a", "1")
    woff_a = a.client.woff
    b.call("SET", "b", "2")
    assert b.client.woff > woff_a
    ack(server, links[0], woff_a)
    assert a.call("WAIT", "1", "100") == 1  # its write is acknowledged
    block(b, "WAIT", "1", "100")  # b's is not
    ack(server, links[0], b.client.woff)
    assert reply(b) == 1
    # as Redis 7.0's processCommand, every command called (a read too) moves woff to the
    # current offset: a's GET now makes a WAIT for b's write too
    a.call("GET", "a")
    assert a.client.woff == server.state.repl.master_repl_offset > b.client.woff


def test_woff_covers_getack_after_the_next_command(server, stream):
    # redis-server 7.0.15: SET; WAIT 1 1000 -> 1; WAIT 0 0 -> 1; PING; WAIT 0 0 -> 0 while the
    # replica has acknowledged the SET but not the GETACK that the first WAIT fed
    links = add_replicas(server, 1)
    c = server.connect()
    c.call("SET", "k", "v")
    block(c, "WAIT", "1", "1000")
    set_end = server.state.repl.master_repl_offset - len(GETACK)
    ack(server, links[0], set_end)  # a real replica answers GETACK with the offset before it
    assert reply(c) == 1
    assert c.call("WAIT", "0", "0") == 1  # woff was set when WAIT 1 1000 returned
    assert c.client.woff == set_end + len(GETACK)  # and now covers the GETACK
    assert c.call("PING") == b"PONG"
    assert c.call("WAIT", "0", "0") == 0
    # queued commands do not move it; a rejected command does not either
    n = len(stream)
    c.call("MULTI")
    c.call("PING")
    c.call("DISCARD")
    assert c.client.woff == server.state.repl.master_repl_offset
    assert len(stream) == n


def test_replicas_not_online_do_not_count(server, conn, stream):
    add_replicas(server, 1, state="wait_bgsave", ack_off=10**9)
    add_replicas(server, 1, state="send_bulk", ack_off=10**9)
    assert conn.call("WAIT", "0", "0") == 0
    block(conn, "WAIT", "1", "50")
    server.advance(0.05)
    assert reply(conn) == 0


def test_one_getack_per_turn_for_all_waits(server, stream):
    add_replicas(server, 2)
    conns = [server.connect() for _ in range(3)]
    for c in conns:
        c.call("SET", "k", "v")
    n = len(stream)
    offset = server.state.repl.master_repl_offset
    for c in conns:  # three WAITs in one reactor turn
        c.proto.dataReceived(encode_request("WAIT", "1", "1000"))
    assert len(stream) == n  # not yet: at the end of the turn
    assert server.state.repl.get_ack_pending
    server.end_turn()
    assert stream[n:] == [GETACK]
    assert server.state.repl.master_repl_offset == offset + len(GETACK)
    assert not server.state.repl.get_ack_pending
    # the next turn's WAIT asks again
    block(server.connect(), "WAIT", "3", "1000")
    assert stream[n:] == [GETACK, GETACK]


def test_newest_waiter_served_first_and_shortcut(server, stream):
    links = add_replicas(server, 2)
    a, b = server.connect(), server.connect()
    a.call("SET", "a", "1")
    b.call("SET", "b", "1")
    block(a, "WAIT", "1", "0")
    block(b, "WAIT", "2", "0")
    ack(server, links[0], b.client.woff)
    assert reply(a) == 1 and b.replies() == []
    ack(server, links[1], b.client.woff)
    assert reply(b) == 2


def test_wait_in_multi_answers_at_once(server, conn, stream):
    add_replicas(server, 1)
    conn.call("SET", "k", "v")
    assert conn.call("MULTI") == b"OK"
    assert conn.call("WAIT", "1", "0") == b"QUEUED"
    assert conn.call("EXEC") == [0]


def test_disconnect_cancels_wait(server, stream):
    add_replicas(server, 1)
    c = server.connect()
    c.call("SET", "k", "v")
    block(c, "WAIT", "1", "100")
    other = server.connect()
    assert "blocked_clients:1" in info(other, "clients")
    c.close()
    assert server.state.repl.clients_waiting_acks == []
    assert "blocked_clients:0" in info(other, "clients")
    server.advance(1)  # the timer was stopped: nothing fires on a closed client
    assert server.state.blocked_clients_count == 0


def test_blocked_clients_and_client_list(server, conn, stream):
    add_replicas(server, 1)
    other = server.connect()
    conn.call("SET", "k", "v")
    block(conn, "WAIT", "1", "0")
    assert "blocked_clients:1" in info(other, "clients")
    line = next(x for x in other.call("CLIENT", "LIST").decode().splitlines() if f"id={conn.client.id} " in x)
    assert " flags=b " in line and " cmd=wait " in line
    ack(server, server.state.repl.replicas[0], conn.client.woff)
    assert reply(conn) == 1
    assert "blocked_clients:0" in info(other, "clients")


def test_client_unblock(server, conn, stream):
    links = add_replicas(server, 2)
    conn.call("SET", "k", "v")
    ack(server, links[0], conn.client.woff)
    other = server.connect()
    block(conn, "WAIT", "2", "0")
    assert other.call("CLIENT", "UNBLOCK", conn.client.id, "TIMEOUT") == 1
    assert reply(conn) == 1
    block(conn, "WAIT", "2", "0")
    assert other.call("CLIENT", "UNBLOCK", conn.client.id, "ERROR") == 1
    r = reply(conn)
    assert isinstance(r, ReplyError) and str(r) == "UNBLOCKED client unblocked via CLIENT UNBLOCK"
    assert server.state.repl.clients_waiting_acks == []


def test_pipelined_commands_wait_behind_wait(server, conn, stream):
    links = add_replicas(server, 1)
    conn.transport.clear()
    conn.proto.dataReceived(
        encode_request("SET", "k", "v") + encode_request("WAIT", "1", "0") + encode_request("GET", "k")
    )
    server.end_turn()
    assert conn.replies() == [b"OK"]
    ack(server, links[0], server.state.repl.master_repl_offset)
    server.end_turn()
    assert conn.replies() == [1, b"v"]


# ------------------------------------------------------------------ min-replicas-to-write


def test_noreplicas_gate_follows_good_replicas(server, conn, stream):
    links = add_replicas(server, 2)
    conn.call("CONFIG", "SET", "min-replicas-max-lag", "10")
    conn.call("CONFIG", "SET", "min-replicas-to-write", "2")
    assert server.state.repl.good_replicas == 2  # refreshed when the option changed
    assert conn.call("SET", "k", "v") == b"OK"
    assert "min_slaves_good_slaves:2" in info(conn, "replication")
    # one replica stops acknowledging: after max-lag seconds the cron drops it
    server.advance(10)
    ack(server, links[0], 0)
    server.advance(1.5)
    assert server.state.repl.good_replicas == 1
    r = conn.call("SET", "k", "v")
    assert isinstance(r, ReplyError) and str(r) == "NOREPLICAS Not enough good replicas to write."
    assert conn.call("GET", "k") == b"v"  # reads still served
    # it comes back
    ack(server, links[1], 0)
    assert conn.call("SET", "k", "w") == b"OK"
    # a replica going away
    server.state.repl.replicas.remove(links[1])
    wait_mod.refresh_good_replicas(server.state)
    assert str(conn.call("DEL", "k")).startswith("NOREPLICAS")
    conn.call("CONFIG", "SET", "min-replicas-to-write", "1")
    assert conn.call("DEL", "k") == 1


def test_good_replicas_counts_online_only_within_lag(server, stream):
    now = server.clock.seconds()
    add_replicas(server, 1, ack_time=now)
    add_replicas(server, 1, ack_time=now - 3)
    add_replicas(server, 1, ack_time=now - 4)
    add_replicas(server, 1, state="send_bulk", ack_time=now)
    cfg = server.state.config
    cfg.set("min-replicas-max-lag", "3")
    cfg.set("min-replicas-to-write", "1")
    assert server.state.repl.good_replicas == 2  # lag 0 and lag 3 (<= max-lag)
    # not refreshed while the feature is off (Redis keeps the last count)
    cfg.set("min-replicas-to-write", "0")
    server.state.repl.replicas.clear()
    wait_mod.refresh_good_replicas(server.state)
    assert server.state.repl.good_replicas == 2


# ------------------------------------------------------------------ ROLE


def test_role_master(server, conn, stream):
    assert conn.call("ROLE") == [b"master", 0, []]
    add_replicas(server, 1, ack_off=0)
    add_replicas(server, 1, state="wait_bgsave")
    server.state.repl.replicas[0].listening_port = 6380
    conn.call("SET", "k", "v")
    ack(server, server.state.repl.replicas[0], 5)
    off = server.state.repl.master_repl_offset
    assert conn.call("ROLE") == [b"master", off, [[b"127.0.0.1", b"6380", b"5"]]]
    expect = b"*3\r\n$6\r\nmaster\r\n:%d\r\n*1\r\n*3\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n$1\r\n5\r\n" % off
    assert conn.raw(b"ROLE\r\n") == expect
    conn.hello3()
    assert conn.raw(b"ROLE\r\n") == expect  # the same shape in RESP3


def role_of_replica(server, conn, st, master_client=None, reploff=0):
    repl = server.state.repl
    repl.masterhost = "10.0.0.1"
    repl.masterport = 6379
    link = MasterLink(server.state, "10.0.0.1", 6379)
    link.repl_state = st
    link.master_client = master_client
    link._reploff = reploff
    link._read_reploff = reploff
    repl.link = link
    return conn.call("ROLE")


@pytest.mark.parametrize(
    "st,word",
    [
        (ReplState.NONE, b"none"),
        (ReplState.CONNECT, b"connect"),
        (ReplState.CONNECTING, b"connecting"),
        (ReplState.RECEIVE_PING_REPLY, b"handshake"),
        (ReplState.SEND_HANDSHAKE, b"handshake"),
        (ReplState.RECEIVE_PSYNC_REPLY, b"handshake"),
        (ReplState.TRANSFER, b"sync"),
    ],
)
def test_role_replica_states(server, conn, st, word):
    assert role_of_replica(server, conn, st) == [b"slave", b"10.0.0.1", 6379, word, -1]


def test_role_replica_connected(server, conn):
    mc = server.connect().client
    assert role_of_replica(server, conn, ReplState.CONNECTED, mc, 1234) == [
        b"slave",
        b"10.0.0.1",
        6379,
        b"connected",
        1234,
    ]
    assert conn.raw(b"ROLE\r\n") == b"*5\r\n$5\r\nslave\r\n$8\r\n10.0.0.1\r\n:6379\r\n$9\r\nconnected\r\n:1234\r\n"
    conn.hello3()
    assert conn.raw(b"ROLE\r\n") == b"*5\r\n$5\r\nslave\r\n$8\r\n10.0.0.1\r\n:6379\r\n$9\r\nconnected\r\n:1234\r\n"


# ------------------------------------------------------------------ INFO replication


MASTER_FIELDS = [
    "role",
    "connected_slaves",
    "master_failover_state",
    "master_replid",
    "master_replid2",
    "master_repl_offset",
    "second_repl_offset",
    "repl_backlog_active",
    "repl_backlog_size",
    "repl_backlog_first_byte_offset",
    "repl_backlog_histlen",
]


def fields(lines):
    return [line.split(":", 1)[0] for line in lines]


def test_info_master_no_replicas(conn):
    lines = info(conn, "replication")
    assert fields(lines) == MASTER_FIELDS
    assert lines[0] == "role:master" and lines[1] == "connected_slaves:0"
    assert "second_repl_offset:-1" in lines and "repl_backlog_active:0" in lines


def test_info_master_with_replicas(server, conn, stream):
    now = server.clock.seconds()
    add_replicas(server, 1, ack_off=100, ack_time=now - 2)
    add_replicas(server, 1, state="wait_bgsave", ack_off=0, ack_time=now - 5)
    add_replicas(server, 1, state="send_bulk", ack_off=0, ack_time=now - 5)
    server.state.repl.replicas[2]._ip = "10.1.2.3"
    conn.call("CONFIG", "SET", "min-replicas-to-write", "1")
    lines = info(conn, "replication")
    assert lines[:6] == [
        "role:master",
        "connected_slaves:3",
        "min_slaves_good_slaves:1",
        "slave0:ip=127.0.0.1,port=7000,state=online,offset=100,lag=2",
        "slave1:ip=127.0.0.1,port=7000,state=wait_bgsave,offset=0,lag=0",
        "slave2:ip=10.1.2.3,port=7000,state=send_bulk,offset=0,lag=0",
    ]
    assert fields(lines[6:]) == MASTER_FIELDS[2:]
    assert "repl_backlog_active:1" in lines
    # without min-replicas-to-write the good count is not shown
    conn.call("CONFIG", "SET", "min-replicas-to-write", "0")
    assert not any(x.startswith("min_slaves_good_slaves") for x in info(conn, "replication"))
    conn.call("CONFIG", "SET", "min-replicas-to-write", "1")
    conn.call("CONFIG", "SET", "min-replicas-max-lag", "0")
    assert not any(x.startswith("min_slaves_good_slaves") for x in info(conn, "replication"))


REPLICA_HEAD = [
    "role",
    "master_host",
    "master_port",
    "master_link_status",
    "master_last_io_seconds_ago",
    "master_sync_in_progress",
    "slave_read_repl_offset",
    "slave_repl_offset",
]
REPLICA_TAIL = ["slave_priority", "slave_read_only", "replica_announced", "connected_slaves"] + MASTER_FIELDS[2:]


def test_info_replica_connected(server, conn):
    mc = server.connect().client
    role_of_replica(server, conn, ReplState.CONNECTED, mc, 500)
    link = server.state.repl.link
    link.last_io = server.clock.seconds() - 3
    link._read_reploff = 600
    lines = info(conn, "replication")
    assert fields(lines) == REPLICA_HEAD + REPLICA_TAIL
    assert lines[:8] == [
        "role:slave",
        "master_host:10.0.0.1",
        "master_port:6379",
        "master_link_status:up",
        "master_last_io_seconds_ago:3",
        "master_sync_in_progress:0",
        "slave_read_repl_offset:600",
        "slave_repl_offset:500",
    ]
    assert lines[8:12] == ["slave_priority:100", "slave_read_only:1", "replica_announced:1", "connected_slaves:0"]
    conn.call("CONFIG", "SET", "replica-priority", "7")
    conn.call("CONFIG", "SET", "replica-read-only", "no")
    assert info(conn, "replication")[8:10] == ["slave_priority:7", "slave_read_only:0"]


def test_info_replica_link_down(server, conn):
    role_of_replica(server, conn, ReplState.CONNECT)
    lines = info(conn, "replication")
    assert fields(lines) == REPLICA_HEAD + ["master_link_down_since_seconds"] + REPLICA_TAIL
    assert lines[3:8] == [
        "master_link_status:down",
        "master_last_io_seconds_ago:-1",
        "master_sync_in_progress:0",
        "slave_read_repl_offset:1",  # neither a master nor a cached master: 1
        "slave_repl_offset:1",
    ]
    assert lines[8] == "master_link_down_since_seconds:-1"  # never up
    server.state.repl.link.down_since = server.clock.seconds() - 21
    assert info(conn, "replication")[8] == "master_link_down_since_seconds:21"


def test_info_replica_syncing(server, conn):
    role_of_replica(server, conn, ReplState.TRANSFER)
    link = server.state.repl.link
    link.transfer_size = 1000
    link.transfer_read = 250
    link.transfer_last_io = server.clock.seconds() - 1
    lines = info(conn, "replication")
    assert fields(lines) == (
        REPLICA_HEAD
        + [
            "master_sync_total_bytes",
            "master_sync_read_bytes",
            "master_sync_left_bytes",
            "master_sync_perc",
            "master_sync_last_io_seconds_ago",
            "master_link_down_since_seconds",
        ]
        + REPLICA_TAIL
    )
    assert lines[5] == "master_sync_in_progress:1"
    assert lines[8:13] == [
        "master_sync_total_bytes:1000",
        "master_sync_read_bytes:250",
        "master_sync_left_bytes:750",
        "master_sync_perc:25.00",
        "master_sync_last_io_seconds_ago:1",
    ]
    # diskless ($EOF:) transfer: the size is unknown (-1), Redis prints what its formula gives
    link.transfer_size = -1
    lines = info(conn, "replication")
    assert lines[8:12] == [
        "master_sync_total_bytes:-1",
        "master_sync_read_bytes:250",
        "master_sync_left_bytes:-251",
        "master_sync_perc:-25000.00",
    ]


def test_getack_fed_with_backlog_and_no_replicas(server, conn, stream):
    # as redis-server 7.0.15: WAIT 1 10 on a master with a backlog and no replica moves
    # master_repl_offset by the 37 bytes of REPLCONF GETACK *; WAIT 0 asks for nothing
    assert len(GETACK) == 37
    before = server.state.repl.master_repl_offset
    block(conn, "WAIT", "1", "10")
    assert server.state.repl.master_repl_offset == before + 37
    server.advance(0.01)
    assert reply(conn) == 0
    assert conn.call("WAIT", "0", "10") == 0
    assert server.state.repl.master_repl_offset == before + 37


def test_wait_on_a_master_turned_replica_before_the_turn_ends(server, stream):
    add_replicas(server, 1)
    c = server.connect()
    c.call("SET", "k", "v")
    n = len(stream)
    c.proto.dataReceived(encode_request("WAIT", "1", "10"))
    server.state.repl.masterhost = "10.0.0.1"  # REPLICAOF in the same turn
    server.end_turn()
    assert len(stream) == n  # no GETACK from a replica


def test_info_memory_backlog_and_resetstat(server, conn, stream):
    conn.call("SET", "k", "v")
    mem = {line.split(":")[0]: line.split(":")[1] for line in info(conn, "memory")}
    held = server.state.repl.backlog.memory()
    assert held > 0
    assert mem["mem_replication_backlog"] == str(held)
    assert mem["mem_total_replication_buffers"] == str(held)
    repl = server.state.repl
    repl.stat_sync_full, repl.stat_sync_partial_ok, repl.stat_sync_partial_err = 3, 2, 1
    assert {"sync_full:3", "sync_partial_ok:2", "sync_partial_err:1"} <= set(info(conn, "stats"))
    assert conn.call("CONFIG", "RESETSTAT") == b"OK"
    assert {"sync_full:0", "sync_partial_ok:0", "sync_partial_err:0"} <= set(info(conn, "stats"))


def test_becoming_a_replica_unblocks_wait(server, stream):
    # replicationSetMaster -> disconnectAllBlockedClients (replica.py) goes through the
    # Deferred's on_unblock: the WAIT gets -UNBLOCKED and leaves the waiting list
    from twistd_redis.replication.replica import UNBLOCKED_MASTER_TO_REPLICA, disconnect_all_blocked_clients

    add_replicas(server, 1)
    c = server.connect()
    c.call("SET", "k", "v")
    block(c, "WAIT", "1", "0")
    disconnect_all_blocked_clients(server.state)
    server.end_turn()
    r = reply(c)
    assert isinstance(r, ReplyError) and str(r) == UNBLOCKED_MASTER_TO_REPLICA
    assert server.state.repl.clients_waiting_acks == []
    assert server.state.blocked_clients_count == 0
