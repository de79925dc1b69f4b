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
    fill(mc)
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
    fill(mc)
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
    fill(mc)
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
