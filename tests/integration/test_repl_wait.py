"""WAIT, min-replicas-to-write, ROLE and INFO replication with real processes.

The master tests run twice: with a real redis-server 7.0 master (which checks the tests
themselves against the spec) and with ours (once the master side is there: PSYNC registered),
each with three real redis-server replicas. A replica "stopped" is SIGSTOPped: its link stays
up and its acknowledged offset stops moving, as with a replica stuck in a long command.
ROLE and INFO replication of ours as a replica are compared with a real replica of the same
real master: the same field names in the same order, the same values where deterministic."""

from __future__ import annotations

import os
import signal
import time

import pytest
import redis

from tests.helpers_proc import REDIS_SERVER, ServerProcess, free_port, raw_reply, wait_for

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")

FAST = ("--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1")


def ours_proc(d, *extra: str) -> ServerProcess:
    port = free_port()
    d = d / f"ours-{port}"
    d.mkdir()
    return ServerProcess.ours(port, "--dir", str(d), *extra, cwd=str(d))


def real_proc(d, *extra: str) -> ServerProcess:
    port = free_port()
    d = d / f"real-{port}"
    d.mkdir()
    return ServerProcess.real(port, *extra, cwd=str(d))


def cli(srv: ServerProcess) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=srv.port, protocol=2, socket_timeout=10)


def info_lines(c: redis.Redis, section: str = "replication") -> list[str]:
    text = raw_reply(c, "INFO", section)
    return [x for x in text.decode().split("\r\n")[1:] if x]


def info_dict(c: redis.Redis, section: str = "replication") -> dict[str, str]:
    return dict(x.split(":", 1) for x in info_lines(c, section))


def field_names(lines: list[str]) -> list[str]:
    return [x.split(":", 1)[0] for x in lines]


def online_replicas(m: redis.Redis) -> int:
    return sum(1 for v in info_dict(m).values() if ",state=online," in v)


class Cluster:
    def __init__(self, master: ServerProcess, replicas: list[ServerProcess]) -> None:
        self.master = master
        self.replicas = replicas
        self.m = cli(master)

    def stop(self, i: int) -> None:
        os.kill(self.replicas[i].proc.pid, signal.SIGSTOP)

    def cont(self, i: int) -> None:
        os.kill(self.replicas[i].proc.pid, signal.SIGCONT)


@pytest.fixture(scope="module", params=["real", "ours"])
def cluster(request, tmp_path_factory):
    d = tmp_path_factory.mktemp("wait-" + request.param)
    master = (real_proc if request.param == "real" else ours_proc)(d, *FAST)
    master.start()
    procs = [master]
    try:
        m = cli(master)
        if request.param == "ours" and raw_reply(m, "COMMAND", "INFO", "psync") == [None]:
            pytest.skip("the master side of replication (PSYNC) is not there yet")
        replicas = []
        for _ in range(3):
            r = real_proc(d, "--replicaof", f"127.0.0.1 {master.port}", "--repl-diskless-load", "disabled")
            procs.append(r)
            r.start()
            replicas.append(r)
        wait_for(lambda: online_replicas(m) == 3, 20)
        yield Cluster(master, replicas)
    finally:
        for p in procs:
            if p.alive():
                os.kill(p.proc.pid, signal.SIGCONT)
            p.stop()


def test_wait_three_replicas(cluster):
    m = cluster.m
    for i in range(20):
        m.set(f"k{i}", i)
    t = time.monotonic()
    assert raw_reply(m, "WAIT", "3", "5000") == 3
    assert time.monotonic() - t < 2
    # everything acknowledged: WAIT 0 0 and WAIT 3 0 answer at once with the count
    assert raw_reply(m, "WAIT", "0", "0") == 3
    assert raw_reply(m, "WAIT", "3", "0") == 3
    for r in cluster.replicas:
        assert cli(r).get("k19") == b"19"


def test_wait_with_one_replica_stopped(cluster):
    m = cluster.m
    cluster.stop(1)
    try:
        m.set("stopped", "1")
        t = time.monotonic()
        assert raw_reply(m, "WAIT", "3", "100") == 2
        took = time.monotonic() - t
        assert 0.09 <= took < 2
        # WAIT 2 needs no timeout
        t = time.monotonic()
        assert raw_reply(m, "WAIT", "2", "5000") == 2
        assert time.monotonic() - t < 2
    finally:
        cluster.cont(1)
    assert raw_reply(m, "WAIT", "3", "5000") == 3


def test_min_replicas_to_write(cluster):
    m = cluster.m
    m.config_set("min-replicas-max-lag", "2")
    m.config_set("min-replicas-to-write", "3")
    try:
        wait_for(lambda: info_dict(m).get("min_slaves_good_slaves") == "3", 10)
        assert m.set("guarded", "1")
        lines = info_lines(m)
        assert field_names(lines)[:6] == [
            "role",
            "connected_slaves",
            "min_slaves_good_slaves",
            "slave0",
            "slave1",
            "slave2",
        ]
        cluster.stop(2)
        try:

            def refused() -> bool:
                try:
                    m.set("guarded", "2")
                except redis.ResponseError as e:
                    assert str(e) == "NOREPLICAS Not enough good replicas to write."
                    return True
                return False

            wait_for(refused, 10)
            assert info_dict(m)["min_slaves_good_slaves"] == "2"
            assert m.get("guarded") in (b"1", b"2")  # reads go on
            c = redis.Redis(port=cluster.master.port, protocol=2, socket_timeout=10)
            with pytest.raises(redis.ResponseError, match="^NOREPLICAS Not enough good replicas to write.$"):
                c.delete("guarded")
        finally:
            cluster.cont(2)

        def accepted() -> bool:
            try:
                return bool(m.set("guarded", "3"))
            except redis.ResponseError:
                return False

        wait_for(accepted, 10)
        assert info_dict(m)["min_slaves_good_slaves"] == "3"
    finally:
        m.config_set("min-replicas-to-write", "0")
    assert "min_slaves_good_slaves" not in info_dict(m)


MASTER_FIELDS = [
    "role",
    "connected_slaves",
    "slave0",
    "slave1",
    "slave2",
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


def test_role_and_info_on_the_master(cluster):
    m = cluster.m
    m.set("x", "y")
    assert raw_reply(m, "WAIT", "3", "5000") == 3
    role = raw_reply(m, "ROLE")
    assert role[0] == b"master" and isinstance(role[1], int)
    ports = sorted(int(e[1]) for e in role[2])
    assert ports == sorted(r.port for r in cluster.replicas)
    for ip, port, off in role[2]:
        assert ip == b"127.0.0.1" and port.isdigit() and off.isdigit() and int(off) <= role[1]
    lines = info_lines(m)
    assert field_names(lines) == MASTER_FIELDS
    d = dict(x.split(":", 1) for x in lines)
    assert d["role"] == "master" and d["connected_slaves"] == "3"
    assert d["master_failover_state"] == "no-failover"
    assert d["repl_backlog_active"] == "1"
    for i in range(3):
        parts = dict(p.split("=") for p in d[f"slave{i}"].split(","))
        assert list(parts) == ["ip", "port", "state", "offset", "lag"]
        assert parts["ip"] == "127.0.0.1" and parts["state"] == "online"
        assert int(parts["port"]) in ports and int(parts["offset"]) <= int(d["master_repl_offset"])
        assert 0 <= int(parts["lag"]) <= 2
    # the stream: first byte offset 1, histlen = offset while the backlog holds it all
    assert d["repl_backlog_first_byte_offset"] == "1"
    assert d["repl_backlog_histlen"] == d["master_repl_offset"]


def test_getack_counts_in_the_offset(cluster):
    m = cluster.m
    m.set("g", "1")
    assert raw_reply(m, "WAIT", "3", "5000") == 3
    cluster.stop(0)
    try:
        before = int(info_dict(m)["master_repl_offset"])
        m.set("g", "2")
        # the two running replicas answer the GETACK at once with the offset after the SET
        # (before the GETACK): WAIT 3 gets 2 at its timeout
        assert raw_reply(m, "WAIT", "3", "200") == 2
        # a WAIT that asks feeds REPLCONF GETACK * (37 bytes) into the stream; pings may add
        # to it meanwhile, so the offset grows by at least that
        after = int(info_dict(m)["master_repl_offset"])
        assert after - before >= len(b"*3\r\n$3\r\nSET\r\n$1\r\ng\r\n$1\r\n2\r\n") + 37
    finally:
        cluster.cont(0)
    m.set("g", "3")
    assert raw_reply(m, "WAIT", "3", "5000") == 3


def test_wait_errors_and_no_replicas(tmp_path):
    for make in (real_proc, ours_proc):
        with make(tmp_path) as srv:
            c = cli(srv)
            assert raw_reply(c, "WAIT", "0", "0") == 0
            t = time.monotonic()
            assert raw_reply(c, "WAIT", "1", "100") == 0
            assert 0.09 <= time.monotonic() - t < 2
            for args, msg in [
                (("x", "0"), "value is not an integer or out of range"),
                (("1", "x"), "timeout is not an integer or out of range"),
                (("1", "-1"), "timeout is negative"),
            ]:
                with pytest.raises(redis.ResponseError, match=f"^{msg}$"):
                    raw_reply(c, "WAIT", *args)
            assert raw_reply(c, "ROLE") == [b"master", 0, []]
            assert field_names(info_lines(c)) == [
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


# ---------------------------------------------------------------------- ours as a replica

DETERMINISTIC = [
    "role",
    "master_host",
    "master_port",
    "master_link_status",
    "master_sync_in_progress",
    "slave_priority",
    "slave_read_only",
    "replica_announced",
    "connected_slaves",
    "master_failover_state",
    "master_replid",
    "master_replid2",
    "repl_backlog_active",
    "repl_backlog_size",
]


def test_replica_role_and_info_against_a_real_replica(tmp_path):
    master = real_proc(tmp_path, *FAST)
    procs = [master]
    try:
        master.start()
        m = cli(master)
        m.set("a", "1")
        theirs = real_proc(tmp_path, "--replicaof", f"127.0.0.1 {master.port}")
        ours = ours_proc(tmp_path, "--replicaof", f"127.0.0.1 {master.port}")
        procs += [theirs, ours]
        theirs.start()
        ours.start()
        t, o = cli(theirs), cli(ours)
        wait_for(lambda: online_replicas(m) == 2, 20)
        m.set("b", "2")
        assert raw_reply(m, "WAIT", "2", "5000") == 2
        wait_for(lambda: o.get("b") == b"2", 10)

        lt, lo = info_lines(t), info_lines(o)
        assert field_names(lo) == field_names(lt)
        dt, do = dict(x.split(":", 1) for x in lt), dict(x.split(":", 1) for x in lo)
        for k in DETERMINISTIC:
            assert do[k] == dt[k], k
        assert do["master_link_status"] == "up" and do["master_replid"] == info_dict(m)["master_replid"]
        assert 0 <= int(do["master_last_io_seconds_ago"]) <= 2

        # ROLE: ["slave", host, port, "connected", offset]
        rt, ro = raw_reply(t, "ROLE"), raw_reply(o, "ROLE")
        assert ro[:4] == rt[:4] == [b"slave", b"127.0.0.1", master.port, b"connected"]
        assert isinstance(ro[4], int) and ro[4] > 0
        with pytest.raises(redis.ResponseError, match="^WAIT cannot be used with replica instances"):
            raw_reply(o, "WAIT", "0", "0")

        # the master goes away: both report the link down the same way
        master.stop()
        wait_for(lambda: info_dict(o)["master_link_status"] == "down", 10)
        wait_for(lambda: info_dict(t)["master_link_status"] == "down", 10)
        lt, lo = info_lines(t), info_lines(o)
        assert field_names(lo) == field_names(lt)
        assert "master_link_down_since_seconds" in field_names(lo)
        do = dict(x.split(":", 1) for x in lo)
        assert do["master_last_io_seconds_ago"] == "-1"
        assert 0 <= int(do["master_link_down_since_seconds"]) <= 5
        rt, ro = raw_reply(t, "ROLE"), raw_reply(o, "ROLE")
        assert ro[:3] == rt[:3]
        assert ro[3] in (b"connect", b"connecting") and rt[3] in (b"connect", b"connecting")
        assert ro[4] == rt[4] == -1
    finally:
        for p in procs:
            p.stop()
