"""A real redis-server 7.0 replicating from twistd-redis: full sync on disk and diskless with a
real dataset, the live stream under writes, a partial resync after the link is cut, a second
replica attaching to a running sync. "Converged" is: the replica's offset equals ours and
capture(replica) == capture(ours)."""

from __future__ import annotations

import pytest

from tests.dataset import fill
from tests.helpers_proc import REDIS_SERVER
from tests.integration.repl_helpers import (
    Writer,
    client,
    info,
    start_master,
    start_replica_of,
    sync_log,
    sync_stats,
    wait_converged,
    wait_until,
)

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")


def _sync(tmp_path, diskless: str, *replica_extra: str):
    m = start_master("ours", tmp_path, "--repl-diskless-sync", diskless)
    mc = client(m)
    fill(mc, streams=True)
    r = start_replica_of("real", m.port, tmp_path, *replica_extra)
    return m, mc, r, client(r)


@pytest.mark.parametrize("diskless", ["no", "yes"])
def test_full_sync_then_live_stream(tmp_path, diskless):
    m, mc, r, rc = _sync(tmp_path, diskless)
    try:
        try:
            wait_converged(mc, rc, 20)
        except AssertionError as e:
            raise AssertionError(f"{e}\n{sync_log(m, r)}") from None
        assert sync_stats(mc) == {"sync_full": 1, "sync_partial_ok": 0, "sync_partial_err": 0}
        slave0 = info(mc)["slave0"]
        assert f"port={r.port}" in slave0 and "state=online" in slave0
        # the live stream: every kind of propagation rewrite reaches the replica intact
        mc.set("ex", "1", ex=100)
        mc.incrbyfloat("f", 1.5)
        with mc.pipeline(transaction=True) as p:
            p.incr("n")
            p.lpush("l", "a", "b")
            p.execute()
        w = Writer(m.port, limit=400)
        w.start()
        w.join(30)
        wait_converged(mc, rc, 20)
        assert rc.ttl("ex") > 0 and rc.get("f") == b"1.5"
        assert sync_stats(mc)["sync_full"] == 1
    finally:
        r.stop()
        m.stop()


def test_partial_resync_after_link_cut(tmp_path):
    m, mc, r, rc = _sync(tmp_path, "no")
    try:
        wait_converged(mc, rc, 20)
        rc.execute_command("CLIENT", "KILL", "TYPE", "master")
        mc.set("after-cut", "1")
        mc.rpush("after-list", *range(50))
        wait_until(lambda: sync_stats(mc)["sync_partial_ok"] >= 1, 15, "no partial resync\n" + sync_log(m, r))
        wait_converged(mc, rc, 20)
        st = sync_stats(mc)
        assert st["sync_full"] == 1 and st["sync_partial_ok"] == 1 and st["sync_partial_err"] == 0
        assert rc.get("after-cut") == b"1"
    finally:
        r.stop()
        m.stop()


def test_second_replica_attaches_during_sync(tmp_path):
    # a delay gathers both real replicas into one diskless transfer; on disk the second
    # attaches to the running BGSAVE or starts the next one: both converge either way
    m = start_master("ours", tmp_path, "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "1")
    mc = client(m)
    fill(mc, streams=True)
    r1 = start_replica_of("real", m.port, tmp_path)
    r2 = start_replica_of("real", m.port, tmp_path)
    try:
        w = Writer(m.port, limit=300)
        w.start()
        w.join(30)
        for r in (r1, r2):
            try:
                wait_converged(mc, client(r), 25)
            except AssertionError as e:
                raise AssertionError(f"{e}\n{sync_log(m, r1, r2)}") from None
        i = info(mc)
        assert i["connected_slaves"] == "2"
        assert sync_stats(mc)["sync_full"] == 2
    finally:
        r1.stop()
        r2.stop()
        m.stop()


def test_disk_sync_with_concurrent_writes_attaches(tmp_path):
    m = start_master("ours", tmp_path, "--repl-diskless-sync", "no")
    mc = client(m)
    fill(mc, streams=True)
    w = Writer(m.port, limit=2000)
    w.start()
    try:
        r1 = start_replica_of("real", m.port, tmp_path)
        r2 = start_replica_of("real", m.port, tmp_path)
        w.join(60)
        for r in (r1, r2):
            wait_converged(mc, client(r), 25)
        assert sync_stats(mc)["sync_full"] == 2
    finally:
        w.join(5)
        for r in (locals().get("r1"), locals().get("r2")):
            if r is not None:
                r.stop()
        m.stop()


# the same writes on a real redis-server master and on ours, each watched by a raw PSYNC
# replica: the streams must be the same bytes (absolute times aside) and the offsets equal
STREAM_SCRIPT = [
    ("SET", "k", "1", "EX", "10"),
    ("EXPIRE", "k", "100"),
    ("INCRBYFLOAT", "f", "1.5"),
    ("SETEX", "s", "10", "v"),
    ("GETEX", "k", "PERSIST"),
    ("SPOP", "nokey"),
    ("SADD", "s2", "a", "b"),
    ("SPOP", "s2", "2"),
    ("SELECT", "3"),
    ("MULTI",),
    ("INCR", "n"),
    ("RPUSH", "l", "x", "y"),
    ("EXEC",),
    ("MULTI",),
    ("INCR", "n"),
    ("EXEC",),
    ("DEL", "missing"),
    ("HSET", "h", "a", "1"),
    ("HINCRBYFLOAT", "h", "a", "0.5"),
    ("SELECT", "0"),
    ("SET", "e", "1", "PX", "1"),
    ("SLEEP", "0.05"),
    ("GET", "e"),  # lazy expiry: DEL e
    ("LPUSH", "q", "a"),
    ("LPOP", "q"),
    ("FLUSHDB",),
]


def _stream_of(port: int, n_bytes_hint: float = 0.5) -> tuple[bytes, int]:
    import re
    import time

    from tests.helpers_proc import RawConn, encode_command

    rep = RawConn(port)
    rep.send(encode_command("PSYNC", "?", "-1"))
    # +FULLRESYNC line (keepalive newlines may come first), then $len + RDB
    buf = b""
    rep.sock.settimeout(5)
    while b"\r\n" not in buf.lstrip(b"\n") or not re.search(rb"\$\d+\r\n", buf):
        buf += rep.sock.recv(1 << 20)
    buf = buf.lstrip(b"\n")
    line, buf = buf.split(b"\r\n", 1)
    assert line.startswith(b"+FULLRESYNC ")
    start = int(line.split()[2])
    buf = buf.lstrip(b"\n")
    m = re.match(rb"\$(\d+)\r\n", buf)
    while m is None:
        buf += rep.sock.recv(1 << 20)
        buf = buf.lstrip(b"\n")
        m = re.match(rb"\$(\d+)\r\n", buf)
    end = m.end() + int(m.group(1))
    while len(buf) < end:
        buf += rep.sock.recv(1 << 20)
    stream = buf[end:]
    c = RawConn(port)
    for args in STREAM_SCRIPT:
        if args[0] == "SLEEP":
            time.sleep(float(args[1]))
            continue
        c.call(*args)
    off = int(re.search(rb"master_repl_offset:(\d+)", c.call("INFO", "replication")).group(1))
    rep.sock.settimeout(0.3)
    try:
        while True:
            d = rep.sock.recv(1 << 20)
            if not d:
                break
            stream += d
    except TimeoutError:
        pass
    return stream, off - start


def test_raw_stream_bytes_match_real_redis(tmp_path):
    import re

    opts = ("--repl-diskless-sync", "no", "--repl-ping-replica-period", "3600")
    real = start_master("real", tmp_path, *opts)
    ours = start_master("ours", tmp_path, *opts)
    try:
        s_real, n_real = _stream_of(real.port)
        s_ours, n_ours = _stream_of(ours.port)
        norm = lambda s: re.sub(rb"\$13\r\n\d{13}\r\n", b"$13\r\nTIME\r\n", s)
        assert b"MULTI" in s_real and b"PXAT" in s_real and b"FLUSHDB" in s_real
        assert norm(s_ours) == norm(s_real)
        assert n_ours == n_real == len(s_real)
    finally:
        real.stop()
        ours.stop()


def test_replica_that_stops_reading_is_dropped_by_output_limit(tmp_path):
    import socket

    from tests.helpers_proc import RawConn, encode_command

    m = start_master(
        "ours", tmp_path, "--repl-diskless-sync", "no", "--client-output-buffer-limit", "replica 1mb 256kb 1"
    )
    mc = client(m)
    try:
        rep = RawConn(m.port)
        rep.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        assert rep.call("REPLCONF", "capa", "psync2") == b"+OK\r\n"
        rep.send(encode_command("PSYNC", "?", "-1"))
        wait_until(lambda: info(mc).get("slave0", "").find("state=online") >= 0, 10, "replica not online")
        big = b"x" * 100_000
        for i in range(60):  # 6 MB the replica never reads
            mc.set(f"big{i}", big)
        wait_until(lambda: info(mc)["connected_slaves"] == "0", 10, "slow replica still connected")
        try:
            _, closed = rep.read_until_close(5)
        except ConnectionResetError:  # the output dropped: a reset, not a clean close
            closed = True
        assert closed
        assert "overcoming of output buffer limits" in m.output()
        assert mc.ping()
    finally:
        m.stop()
