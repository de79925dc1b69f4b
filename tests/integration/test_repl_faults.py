"""Replication under faults, converging key by key: every scenario runs with a real redis-server on
both ends first (the control that proves the harness), then with ours as master, as replica and as
both (ids ``<master>-<replica>``; a side of ours is skipped, named, only while our server lacks
PSYNC / REPLICAOF / ROLE).

* the link cut and restored twice during a write load: partial resyncs (sync_partial_ok +2);
* a gap bigger than a 16kb backlog: a full resync (sync_full +1, sync_partial_err +1);
* a silent link (no FIN/RST) noticed by repl-timeout on both ends, then a partial resync;
* the replica SIGKILLed and restarted on the same folder (Redis continues from the RDB its first
  sync left: recorded, not required); the replica SIGTERMed with save points (required: Redis 7.0
  reloads repl-id / repl-offset from its RDB and PSYNCs);
* the master SIGKILLed (comes back empty under a new id: full resync, the replica drops the old
  data) and SIGTERMed with save points (Redis 7.0 reloads its old id as replid2: partial resync);
* a chain A -> B -> C under writes (C converges with A; ours as the middle hop between reals);
* promotion: REPLICAOF NO ONE on one replica, the other one pointed at it continues with a partial
  resync thanks to replid2 (PSYNC2).

Each test is bounded (wait_until / wait_converged with timeouts) and uses small data.
"""

from __future__ import annotations

import time

import pytest
import redis

from tests.helpers_proc import HOST, REDIS_SERVER, RawConn
from tests.integration.repl_helpers import (
    PAIR_IDS,
    PAIRS,
    LinkProxy,
    Writer,
    client,
    info,
    restart,
    start_master,
    start_replica_of,
    start_server,
    sync_log,
    sync_stats,
    wait_converged,
    wait_link_up,
    wait_until,
    write_bulk,
)

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="needs a real redis-server")

_support: dict[str, bool] = {}


def _ours_has(command: str) -> bool:
    """Whether our server knows ``command`` yet (COMMAND INFO; the replication helpers land in
    parallel): probed once per command on a throwaway server."""
    if command not in _support:
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            srv = start_server("ours", d)
            try:
                with RawConn(srv.port) as c:
                    reply = c.call("COMMAND", "INFO", command)
                    _support[command] = not reply.startswith((b"*1\r\n$-1", b"*1\r\n*-1", b"*1\r\n_"))
            finally:
                srv.stop()
    return _support[command]


def need(*kinds_roles: tuple[str, str]) -> None:
    """Skip, naming the missing piece, while ours lacks the side it plays here."""
    for kind, role in kinds_roles:
        if kind != "ours":
            continue
        # ROLE comes with INFO replication's master/replica fields, which these tests read
        for cmd in ("PSYNC" if role == "master" else "REPLICAOF", "ROLE"):
            if not _ours_has(cmd):
                pytest.skip(f"our server has no {cmd} yet (needed for the {role} side)")


@pytest.fixture
def cleanup():
    """Everything a test starts (servers, proxies, writers, clients) is stopped at the end."""
    things: list = []
    yield things
    for t in reversed(things):
        try:
            if isinstance(t, (LinkProxy, redis.Redis)):
                t.close()
            else:
                t.stop()  # Writer, ServerProcess
        except (OSError, AssertionError, redis.RedisError):
            pass  # teardown of what already failed: the test's own error is the one to see


def _pair(kinds, tmp_path, cleanup, master_extra=(), replica_extra=(), proxy=True, **kw):
    mk, rk = kinds
    need((mk, "master"), (rk, "replica"))
    m = start_master(mk, tmp_path, *master_extra, save=kw.get("master_save", ""))
    cleanup.append(m)
    p = None
    target = m.port
    if proxy:
        p = LinkProxy(m.port)
        cleanup.append(p)
        target = p.port
    r = start_replica_of(rk, target, tmp_path, *replica_extra, save=kw.get("replica_save", ""))
    cleanup.append(r)
    mc, rc = client(m), client(r)
    cleanup += [mc, rc]
    wait_link_up(rc)
    return m, r, p, mc, rc


def _writer(port, cleanup, **kw) -> Writer:
    w = Writer(port, **kw)
    cleanup.append(w)
    w.start()
    return w


def _ran(w: Writer, n: int, timeout: float = 5.0) -> None:
    """Let the writer do ``n`` more operations."""
    target = w.ops + n
    wait_until(lambda: w.ops >= target, timeout, f"writer stuck at {w.ops} ops ({w.errors} errors)")


def _master_sees_replicas(mc, n: int) -> bool:
    return int(info(mc)["connected_slaves"]) == n


# ------------------------------------------------------------------------------- the harness


def test_proxy_forwards_counts_cuts_holds_and_delays():
    """The proxy itself, against a real redis-server: bytes counted each way, cut() closes live
    connections and refuses new ones, cut(hold=True) parks them until restore(), delay() slows
    every chunk."""
    import socket
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        srv = start_server("real", d)
        try:
            with LinkProxy(srv.port) as p:
                with RawConn(p.port) as c:
                    assert c.call("PING") == b"+PONG\r\n"
                    assert (p.bytes_up, p.bytes_down) == (14, 7)
                    p.cut()
                    out, closed = c.read_until_close(2)
                    assert closed and out == b""
                with RawConn(p.port) as c:  # refused: accepted and closed at once
                    assert c.read_until_close(2) == (b"", True)
                assert p.refused == 1
                p.cut(hold=True)
                s = socket.create_connection((HOST, p.port), timeout=2)
                s.sendall(b"PING\r\n")
                s.settimeout(0.3)
                with pytest.raises(socket.timeout):
                    s.recv(10)  # held: no answer
                p.restore()
                s.settimeout(2)
                assert s.recv(10) == b"+PONG\r\n"  # the held bytes reach the server after restore
                s.close()
                p.delay(0.3)
                with RawConn(p.port) as c:
                    t0 = time.monotonic()
                    assert c.call("PING") == b"+PONG\r\n"
                    assert time.monotonic() - t0 >= 0.6  # one chunk each way
                p.delay(0)
                p.silence()
                wait_until(lambda: p.connections() == 0, 2, "silenced connections still listed")
        finally:
            srv.stop()


# ------------------------------------------------------------------------------- scenarios


@pytest.mark.parametrize("kinds", PAIRS, ids=PAIR_IDS)
def test_cut_and_restore_partial_resync(kinds, tmp_path, cleanup):
    # a backlog that covers the gap by construction: the writer may produce ~1 MB/s and the
    # replica reconnects up to a second after restore()
    m, r, proxy, mc, rc = _pair(kinds, tmp_path, cleanup, master_extra=("--repl-backlog-size", "16mb"))
    w = _writer(m.port, cleanup, pause=0.0005)
    _ran(w, 200)
    wait_until(lambda: _master_sees_replicas(mc, 1), 5, "master does not list its replica")
    base = sync_stats(mc)
    assert base["sync_full"] == 1  # the initial sync
    for cycle in range(2):
        proxy.cut()
        wait_until(lambda: _master_sees_replicas(mc, 0), 5, "master did not notice the cut")
        wait_until(lambda: info(rc)["master_link_status"] == "down", 5, "replica did not notice the cut")
        _ran(w, 150)  # writes the replica misses
        down_before = proxy.bytes_down
        proxy.restore()
        wait_link_up(rc)
        _ran(w, 100)
        assert proxy.bytes_down > down_before
    w.stop()
    wait_converged(mc, rc)
    after = sync_stats(mc)
    assert after["sync_partial_ok"] == base["sync_partial_ok"] + 2, (base, after, sync_log(m, r))
    assert after["sync_full"] == base["sync_full"], (base, after)
    assert after["sync_partial_err"] == base["sync_partial_err"]
    assert w.errors == 0
    # the replica still holds the master's id: it continued the same history
    assert info(rc)["master_replid"] == info(mc)["master_replid"]


@pytest.mark.parametrize("kinds", PAIRS, ids=PAIR_IDS)
def test_gap_bigger_than_backlog_full_resync(kinds, tmp_path, cleanup):
    m, r, proxy, mc, rc = _pair(kinds, tmp_path, cleanup, master_extra=("--repl-backlog-size", "16kb"))
    w = _writer(m.port, cleanup, pause=0.001)
    _ran(w, 100)
    base = sync_stats(mc)
    proxy.cut()
    wait_until(lambda: _master_sees_replicas(mc, 0), 5, "master did not notice the cut")
    at_cut = int(info(mc)["master_repl_offset"])
    write_bulk(mc, 1500, size=100)  # ~170 KB of stream: far past a 16 KB backlog
    _ran(w, 50)
    i = info(mc)
    # the precondition: the replica's next byte has left the backlog (Redis 7 trims in 16 KB
    # blocks, so histlen may exceed the size by a block)
    assert int(i["repl_backlog_first_byte_offset"]) > at_cut + 1
    assert int(i["repl_backlog_histlen"]) < 64 * 1024
    proxy.restore()
    wait_link_up(rc)
    _ran(w, 50)
    w.stop()
    wait_converged(mc, rc)
    after = sync_stats(mc)
    assert after["sync_full"] == base["sync_full"] + 1, (base, after)
    assert after["sync_partial_ok"] == base["sync_partial_ok"], (base, after, sync_log(m, r))
    # the replica asked to continue (PSYNC <replid> <offset>) and was refused: counted as an error
    assert after["sync_partial_err"] == base["sync_partial_err"] + 1, (base, after)
    assert rc.get("bulk:1499").startswith(b"1499:")


@pytest.mark.parametrize("kinds", PAIRS, ids=PAIR_IDS)
def test_replica_killed_and_restarted(kinds, tmp_path, cleanup):
    m, r, _proxy, mc, rc = _pair(kinds, tmp_path, cleanup, proxy=False)
    w = _writer(m.port, cleanup, pause=0.001)
    _ran(w, 200)
    base = sync_stats(mc)
    r.proc.kill()  # SIGKILL: no save on the way out
    r.proc.wait(5)
    _ran(w, 100)
    restart(r)
    rc.close()
    rc = client(r)
    cleanup.append(rc)
    wait_link_up(rc)
    _ran(w, 100)
    w.stop()
    wait_converged(mc, rc)
    after = sync_stats(mc)
    # one sync more, whichever kind: a replica that kept the RDB of its first sync (Redis keeps
    # it: repl-diskless-load disabled, rdb-del-sync-files no) and read repl-id / repl-offset
    # from it PSYNCs, otherwise it resyncs in full
    assert after["sync_full"] + after["sync_partial_ok"] == base["sync_full"] + base["sync_partial_ok"] + 1, (
        base, after, sync_log(m, r))
    _record(kinds, "replica SIGKILL+restart", base, after)


@pytest.mark.parametrize("kinds", PAIRS, ids=PAIR_IDS)
def test_replica_shutdown_save_restart_psync(kinds, tmp_path, cleanup):
    """A replica with save points saves on SIGTERM, its RDB carries repl-id / repl-offset, and
    after the restart it continues with a partial resync (Redis 7's PSYNC after restart)."""
    m, r, _proxy, mc, rc = _pair(kinds, tmp_path, cleanup, proxy=False, replica_save="3600 1")
    w = _writer(m.port, cleanup, pause=0.001)
    _ran(w, 200)
    w.stop()  # SHUTDOWN saves the replica's offset: writes after it are the gap to continue from
    base = sync_stats(mc)
    restart(r)  # SIGTERM
    assert "DB saved on disk" in r.output() or "Saving the final RDB" in r.output()
    rc.close()
    rc = client(r)
    cleanup.append(rc)
    mc.set("after-restart", "1")
    wait_link_up(rc)
    wait_converged(mc, rc)
    after = sync_stats(mc)
    assert after["sync_partial_ok"] == base["sync_partial_ok"] + 1, (base, after, sync_log(m, r))
    assert after["sync_full"] == base["sync_full"], (base, after)
    assert rc.get("after-restart") == b"1"


def _master_restart(kinds, tmp_path, cleanup, kill: bool):
    m, _r, _p, mc, rc = _pair(kinds, tmp_path, cleanup, proxy=False, master_save="3600 1")
    w = _writer(m.port, cleanup, pause=0.001)
    _ran(w, 200)
    w.stop()
    data = wait_converged(mc, rc)
    mc.set("old-marker", "1")  # after any RDB the first sync may have left on disk
    wait_until(lambda: rc.get("old-marker") == b"1", 5, "marker not replicated")
    before = info(mc)
    restart(m, kill=kill)  # the same port and folder
    mc.close()
    mc = client(m)
    cleanup.append(mc)
    wait_until(lambda: info(rc)["master_link_status"] == "up" and _master_sees_replicas(mc, 1), 20,
               "replica did not reconnect to the restarted master")
    w2 = _writer(m.port, cleanup, seed=2, pause=0.001)
    _ran(w2, 200)
    w2.stop()
    wait_converged(mc, rc)
    return data, before, mc, rc


@pytest.mark.parametrize("kinds", PAIRS, ids=PAIR_IDS)
def test_master_killed_and_restarted(kinds, tmp_path, cleanup):
    """SIGKILL: the master comes back empty (no save on the way out, no dump yet) under a new
    replid; the replica must follow it to the empty dataset plus the new writes."""
    _data, before, mc, rc = _master_restart(kinds, tmp_path, cleanup, kill=True)
    after = info(mc)
    assert after["master_replid"] != before["master_replid"]
    assert after["master_replid2"] == "0" * 40
    # the replica asked to continue the old history; the new master does not know it
    assert sync_stats(mc) == {"sync_full": 1, "sync_partial_ok": 0, "sync_partial_err": 1}
    assert rc.get("old-marker") is None  # the replica dropped what the master lost
    _record(kinds, "master SIGKILL+restart", {"replid": before["master_replid"]}, sync_stats(mc))


@pytest.mark.parametrize("kinds", PAIRS, ids=PAIR_IDS)
def test_master_shutdown_save_restart_psync(kinds, tmp_path, cleanup):
    """SIGTERM with save points: the master saves its RDB with repl-id / repl-offset, reloads it
    and (Redis 7.0's loadDataFromDisk) takes the old id as replid2 with second_repl_offset =
    offset + 1, so its replica continues with a partial resync; the replid itself is new."""
    _data, before, mc, rc = _master_restart(kinds, tmp_path, cleanup, kill=False)
    after = info(mc)
    stats = sync_stats(mc)
    _record(kinds, "master SIGTERM-save+restart", {"replid": before["master_replid"]}, stats)
    assert after["master_replid"] != before["master_replid"]
    assert after["master_replid2"] == before["master_replid"]
    # PINGs and the shutdown's REPLCONF GETACK still move the offset after ``before`` was read
    assert int(before["master_repl_offset"]) < int(after["second_repl_offset"]) <= int(after["master_repl_offset"])
    assert stats["sync_partial_ok"] == 1 and stats["sync_full"] == 0, stats
    assert info(rc)["master_replid"] == after["master_replid"]
    assert rc.get("old-marker") == b"1"


@pytest.mark.parametrize("kinds", PAIRS, ids=PAIR_IDS)
def test_silent_link_timeout_then_partial_resync(kinds, tmp_path, cleanup):
    """The link goes silent (no FIN, no RST): with repl-timeout 2 both ends drop it (the replica
    after 2 s without a byte from the master, the master after 2 s without an ACK), the replica's
    new connection hangs in the proxy; after restore() it continues with a partial resync."""
    m, r, proxy, mc, rc = _pair(kinds, tmp_path, cleanup, master_extra=("--repl-timeout", "2", "--repl-backlog-size", "16mb"),
                                replica_extra=("--repl-timeout", "2"))
    w = _writer(m.port, cleanup, pause=0.002)
    _ran(w, 100)
    base = sync_stats(mc)
    t0 = time.monotonic()
    proxy.silence()
    wait_until(lambda: info(rc)["master_link_status"] == "down", 6, "replica did not time the master out")
    wait_until(lambda: _master_sees_replicas(mc, 0), 6, "master did not time the replica out")
    assert time.monotonic() - t0 >= 1.5  # noticed by the timeout, not by a closed socket
    assert proxy.dropped > 0  # PINGs / writes / ACKs went into the void
    proxy.restore()
    wait_link_up(rc)
    _ran(w, 100)
    w.stop()
    wait_converged(mc, rc)
    after = sync_stats(mc)
    assert after["sync_partial_ok"] == base["sync_partial_ok"] + 1, (base, after, sync_log(m, r))
    assert after["sync_full"] == base["sync_full"], (base, after)


CHAINS = [("real", "real", "real"), ("real", "ours", "real"), ("ours", "real", "ours"), ("ours", "ours", "ours")]


@pytest.mark.parametrize("kinds", CHAINS, ids=["-".join(c) for c in CHAINS])
def test_chain_converges(kinds, tmp_path, cleanup):
    ak, bk, ck = kinds
    need((ak, "master"), (bk, "master"), (bk, "replica"), (ck, "replica"))
    a = start_master(ak, tmp_path)
    cleanup.append(a)
    b = start_replica_of(bk, a.port, tmp_path)
    cleanup.append(b)
    c = start_replica_of(ck, b.port, tmp_path)
    cleanup.append(c)
    ac, bc, cc = client(a), client(b), client(c)
    cleanup += [ac, bc, cc]
    wait_link_up(bc)
    wait_link_up(cc)
    w = _writer(a.port, cleanup, pause=0.001)
    _ran(w, 400)
    w.stop()
    data = wait_converged(ac, bc)
    assert wait_converged(ac, cc) == data
    # the middle hop proxies A's stream as is: one history, one replid, the same offsets
    ia, ib, ic = info(ac), info(bc), info(cc)
    assert ia["master_replid"] == ib["master_replid"] == ic["master_replid"]
    assert ib["role"] == "slave" and ib["connected_slaves"] == "1"
    assert int(ic["slave_repl_offset"]) == int(ia["master_repl_offset"])
    # C's writes are refused (read-only replica), A's keep flowing through B
    with pytest.raises(redis.ReadOnlyError):
        cc.set("x", "y")
    ac.set("tail", "end")
    wait_until(lambda: cc.get("tail") == b"end", 5, "C did not get a write made on A")


@pytest.mark.parametrize("kinds", PAIRS, ids=PAIR_IDS)
def test_promotion_psync2(kinds, tmp_path, cleanup):
    mk, rk = kinds
    need((mk, "master"), (rk, "replica"), (rk, "master"))
    m = start_master(mk, tmp_path)
    cleanup.append(m)
    r1 = start_replica_of(rk, m.port, tmp_path)
    r2 = start_replica_of(rk, m.port, tmp_path)
    cleanup += [r1, r2]
    mc, c1, c2 = client(m), client(r1), client(r2)
    cleanup += [mc, c1, c2]
    wait_link_up(c1)
    wait_link_up(c2)
    w = _writer(m.port, cleanup, pause=0.001)
    _ran(w, 300)
    w.stop()
    wait_converged(mc, c1)
    wait_converged(mc, c2)
    old_id = info(mc)["master_replid"]
    assert c1.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    i1 = info(c1)
    assert i1["role"] == "master"
    assert i1["master_replid2"] == old_id and i1["master_replid"] != old_id
    assert int(i1["second_repl_offset"]) == int(i1["master_repl_offset"]) + 1
    base = sync_stats(c1)
    assert c2.execute_command("REPLICAOF", HOST, r1.port) == b"OK"
    wait_until(lambda: info(c2)["master_link_status"] == "up" and info(c2)["master_port"] == str(r1.port),
               15, "the other replica did not attach to the promoted one")
    w2 = _writer(r1.port, cleanup, seed=3, pause=0.001)
    _ran(w2, 200)
    w2.stop()
    wait_converged(c1, c2)
    after = sync_stats(c1)
    assert after["sync_partial_ok"] == base["sync_partial_ok"] + 1, (base, after, sync_log(r1, r2))
    assert after["sync_full"] == base["sync_full"], (base, after)
    assert info(c2)["master_replid"] == info(c1)["master_replid"]


# what happened where the spec leaves a choice (printed with -s / shown on failure)
RECORD: list[str] = []


def _record(kinds, what, base, after) -> None:
    line = f"{'-'.join(kinds)} {what}: before {base} after {after}"
    RECORD.append(line)
    print(line)


def teardown_module(module) -> None:
    if RECORD:
        print("\n" + "\n".join(RECORD))
