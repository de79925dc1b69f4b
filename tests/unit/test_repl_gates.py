"""The replication gates of ServerState._slow_gates, in Redis 7.0's order, with its texts:
READONLY on a read-only replica, MASTERDOWN while the link is down and
replica-serve-stale-data is no (commands without the stale flag, PING included), NOREPLICAS
under min-replicas-to-write, and EXEC judged by the flags of what it queued. Expected bytes
were taken from redis-server 7.0.15 started with --replicaof pointing at a closed port."""

from __future__ import annotations

import pytest

READONLY = b"-READONLY You can't write against a read only replica.\r\n"
MASTERDOWN = b"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n"
EXECABORT = b"-EXECABORT Transaction discarded because of previous errors.\r\n"


class _DownLink:
    """A replica link that never came up (the real one is replication/replica.py)."""

    def connected(self) -> bool:
        return False


@pytest.fixture
def replica(server):
    st = server.state
    st.repl.masterhost, st.repl.masterport = "127.0.0.1", 1
    st.repl.link = _DownLink()
    st.update_gates()
    yield server
    st.repl.masterhost, st.repl.link = None, None
    st.update_gates()


def test_read_only_replica_refuses_writes_and_serves_reads(replica, conn):
    assert conn.raw(b"SET a 1\r\n") == READONLY
    assert conn.raw(b"GET a\r\n") == b"$-1\r\n"
    assert conn.raw(b"PING\r\n") == b"+PONG\r\n"


def test_writable_replica_accepts_writes(replica, conn):
    replica.state.config.set("replica-read-only", "no")
    assert conn.raw(b"SET a 1\r\n") == b"+OK\r\n"


def test_stale_data_no_refuses_non_stale_commands(replica, conn):
    replica.state.config.set("replica-serve-stale-data", "no")
    assert conn.raw(b"GET a\r\n") == MASTERDOWN
    assert conn.raw(b"PING\r\n") == MASTERDOWN  # PING has no stale flag in Redis 7.0
    assert conn.raw(b"INFO keyspace\r\n").startswith(b"$")  # INFO has it
    # a write on a read-only replica: READONLY comes first
    assert conn.raw(b"SET a 1\r\n") == READONLY


@pytest.mark.parametrize(
    "stale, script, expected",
    [
        ("no", b"MULTI\r\nSET a 1\r\nEXEC\r\n", b"+OK\r\n" + READONLY + EXECABORT),
        ("no", b"MULTI\r\nGET a\r\nEXEC\r\n", b"+OK\r\n" + MASTERDOWN + EXECABORT),
        ("no", b"MULTI\r\nPING\r\nEXEC\r\n", b"+OK\r\n" + MASTERDOWN + EXECABORT),
        ("yes", b"MULTI\r\nSET a 1\r\nEXEC\r\n", b"+OK\r\n" + READONLY + EXECABORT),
        ("yes", b"MULTI\r\nGET a\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*1\r\n$-1\r\n"),
        ("yes", b"MULTI\r\nPING\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*1\r\n+PONG\r\n"),
    ],
)
def test_transactions_on_a_replica(replica, conn, stale, script, expected):
    replica.state.config.set("replica-serve-stale-data", stale)
    assert conn.raw(script) == expected


def test_master_client_is_obeyed(replica, server):
    from twistd_redis.client import CLIENT_MASTER

    c = server.connect()
    c.client.flags |= CLIENT_MASTER
    c.raw(b"SET a 1\r\n")  # the master gets no reply in real life; here we only need the effect
    assert server.state.dbs[0].data[b"a"] == b"1"


def test_min_replicas_to_write_refuses_writes_without_good_replicas(server, conn):
    st = server.state
    st.config.set("min-replicas-to-write", "1")
    assert conn.raw(b"SET a 1\r\n") == b"-NOREPLICAS Not enough good replicas to write.\r\n"
    assert conn.raw(b"GET a\r\n") == b"$-1\r\n"
    assert conn.raw(b"MULTI\r\nSET a 1\r\nEXEC\r\n") == (
        b"+OK\r\n-NOREPLICAS Not enough good replicas to write.\r\n" + EXECABORT
    )
    st.repl.good_replicas = 1  # what wait.refresh_good_replicas counts
    assert conn.raw(b"SET a 1\r\n") == b"+OK\r\n"
    st.repl.good_replicas = 0
    st.config.set("min-replicas-max-lag", "0")  # a zero lag disables the rule, as in Redis
    assert conn.raw(b"SET b 1\r\n") == b"+OK\r\n"
    st.config.set("min-replicas-to-write", "0")
    assert st.gate_all is False  # back on the fast path
