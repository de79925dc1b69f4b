"""twistd-redis as a replica of a real redis-server 7.0: disk and diskless full sync of a real
dataset, the live stream under writes (MULTI/EXEC, expiry, several dbs), partial resync after
the link is cut, REPLICAOF at run time, promotion with REPLICAOF NO ONE, the READONLY error."""

from __future__ import annotations

import time

import pytest
import redis

from tests.dataset import capture, fill
from tests.helpers_proc import REDIS_SERVER, ServerProcess, free_port, wait_for

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")

def ours(tmp_path, *extra: str) -> ServerProcess:
    port = free_port()
    d = tmp_path / ("ours-%d" % port)
    d.mkdir()
    return ServerProcess.ours(port, "--dir", str(d), *extra, cwd=str(d))


def real(tmp_path, *extra: str) -> ServerProcess:
    d = tmp_path / "real"
    d.mkdir(exist_ok=True)
    return ServerProcess.real(None, "--repl-diskless-sync-delay", "0", *extra, cwd=str(d))


def cli(srv: ServerProcess) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=srv.port, protocol=2, socket_timeout=10)


def master_info(m: redis.Redis) -> dict:
    return m.info("replication")


def replica_online(m: redis.Redis) -> bool:
    s = master_info(m).get("slave0")
    return isinstance(s, dict) and s.get("state") == "online"


def converged(m: redis.Redis, r: redis.Redis, timeout: float = 15.0) -> None:
    last: list = [None, None]

    def same() -> bool:
        last[0], last[1] = capture(m), capture(r)
        return last[0] == last[1]

    try:
        wait_for(same, timeout)
    except AssertionError:
        a, b = last
        diff = [(db, k) for db in set(a) | set(b) for k in set(a.get(db, {})) ^ set(b.get(db, {}))][:10]
        raise AssertionError(f"not converged; key differences {diff}") from None


def acked(m: redis.Redis, timeout: float = 10.0) -> None:
    """The replica acknowledged everything the master produced (REPLCONF ACK offsets)."""

    def ok() -> bool:
        info = master_info(m)
        s = info.get("slave0")
        return isinstance(s, dict) and s.get("offset") == info["master_repl_offset"]

    wait_for(ok, timeout)


@pytest.mark.parametrize("diskless", ["no", "yes"])
def test_full_sync_of_a_real_dataset(tmp_path, diskless):
    with real(tmp_path, "--repl-diskless-sync", diskless) as rm:
        m = cli(rm)
        fill(m, streams=True)
        with ours(tmp_path, "--replicaof", "127.0.0.1", str(rm.port)) as ro:
            r = cli(ro)
            wait_for(lambda: replica_online(m), 15)
            converged(m, r)
            acked(m)
            assert m.info("stats")["sync_full"] == 1
            assert m.info("stats")["sync_partial_err"] == 0  # PSYNC ? -1: no cached master at startup
            # the master client is listed with flags=M
            masters = [c for c in r.client_list() if "M" in c["flags"]]
            assert len(masters) == 1 and masters[0]["addr"].endswith(":%d" % rm.port)


def test_stream_under_writes_converges_and_wait(tmp_path):
    with real(tmp_path) as rm:
        m = cli(rm)
        m.set("seed", "1")
        with ours(tmp_path, "--replicaof", "127.0.0.1", str(rm.port)) as ro:
            r = cli(ro)
            wait_for(lambda: replica_online(m), 15)
            for i in range(300):
                db = (0, 3, 9)[i % 3]
                m.execute_command("SELECT", db)
                p = m.pipeline(transaction=(i % 5 == 0))
                p.set(f"k{i}", i)
                p.incrby("counter", i)
                p.rpush("list", i)
                p.hset("h", f"f{i % 17}", i)
                p.zadd("z", {f"m{i % 23}": i / 3})
                p.sadd("s", i % 50)
                if i % 7 == 0:
                    p.expire(f"k{i}", 1000)
                if i % 11 == 0:
                    p.delete(f"k{i - 1}")
                p.execute()
            m.execute_command("SELECT", 0)
            m.eval("redis.call('set', 'lua', 'x'); redis.call('incr', 'counter')", 0)
            converged(m, r)
            acked(m)
            t0 = time.monotonic()
            assert m.execute_command("WAIT", 1, 3000) == 1
            assert time.monotonic() - t0 < 2.5
            # the replica refuses writes with Redis's text
            with pytest.raises(redis.ResponseError) as e:
                r.set("x", "y")
            assert str(e.value) == "You can't write against a read only replica."


def test_partial_resync_after_the_link_is_cut(tmp_path):
    with real(tmp_path) as rm:
        m = cli(rm)
        fill(m, large=False, streams=True)
        with ours(tmp_path, "--replicaof", "127.0.0.1", str(rm.port)) as ro:
            r = cli(ro)
            wait_for(lambda: replica_online(m), 15)
            converged(m, r)
            stats = m.info("stats")
            for round_ in range(2):
                m.execute_command("SELECT", 3)
                assert m.execute_command("CLIENT", "KILL", "TYPE", "replica") == 1
                for i in range(50):
                    m.set(f"after-cut-{round_}-{i}", i)
                wait_for(lambda: replica_online(m), 15)
                converged(m, r)
                acked(m)
            after = m.info("stats")
            assert after["sync_full"] == stats["sync_full"]
            assert after["sync_partial_ok"] == stats["sync_partial_ok"] + 2
            r.execute_command("SELECT", 3)
            assert r.get("after-cut-1-49") == b"49"


def test_replicaof_at_run_time_and_promotion(tmp_path):
    with real(tmp_path) as rm, ours(tmp_path) as ro:
        m, r = cli(rm), cli(ro)
        fill(m, large=False, streams=True)
        r.set("mine", "will be flushed")
        assert r.execute_command("REPLICAOF", "127.0.0.1", rm.port) == b"OK"
        assert r.execute_command("REPLICAOF", "127.0.0.1", rm.port) == b"OK Already connected to specified master"
        wait_for(lambda: replica_online(m), 15)
        converged(m, r)
        assert r.get("mine") is None
        m.set("last", "1")
        acked(m)
        master_id = master_info(m)["master_replid"]
        offset = master_info(m)["master_repl_offset"]
        assert r.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
        assert r.set("now-writable", "1")
        assert r.get("last") == b"1"
        # the former master can continue from the promoted replica's history (PSYNC2)
        assert m.execute_command("REPLICAOF", "127.0.0.1", ro.port) == b"OK"
        r.set("from-new-master", "1")

        def has_it() -> bool:
            try:
                return m.get("from-new-master") == b"1"
            except redis.ResponseError:
                return False

        try:
            wait_for(has_it, 10)
        except AssertionError:
            pytest.skip("our master side (SYNC/PSYNC) is not serving replicas yet")
        converged(r, m)
        _ = (master_id, offset)
