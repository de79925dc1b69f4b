"""The append-only file end to end with real processes: ``twistd -n redis --appendonly yes``
writing an appendonlydir that ``redis-check-aof`` accepts and a real redis-server 7.0 loads, our
server loading the real server's appendonlydir, a corrupt AOF refused at startup, and durability
under ``kill -9`` with a client counting acknowledged writes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time

import pytest
import redis

from tests.dataset import capture, fill
from tests.helpers_proc import REDIS_SERVER, ServerProcess, free_port, wait_for

BIN = os.path.dirname(sys.executable)
TWISTD = os.path.join(BIN, "twistd") if os.path.exists(os.path.join(BIN, "twistd")) else shutil.which("twistd")
CHECK_AOF = shutil.which("redis-check-aof")

pytestmark = pytest.mark.skipif(TWISTD is None, reason="twistd not found next to the interpreter")
needs_real = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")


def ours(d, *extra: str) -> ServerProcess:
    port = free_port()
    argv = [TWISTD, "-n", "--pidfile=", "redis", "--port", str(port), "--dir", str(d), "--save", "", *extra]
    return ServerProcess(argv, port=port, cwd=str(d))


def real(d, *extra: str) -> ServerProcess:
    # ServerProcess.real passes --appendonly no first; a later --appendonly wins
    return ServerProcess.real(None, *extra, cwd=str(d))


def client(srv: ServerProcess) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=srv.port, protocol=2, socket_timeout=30)


def rewrite(r: redis.Redis) -> None:
    assert r.bgrewriteaof() in (True, b"Background append only file rewriting started")
    wait_for(lambda: r.info("persistence")["aof_rewrite_in_progress"] == 0)
    assert r.info("persistence")["aof_last_bgrewrite_status"] == "ok"


def more_writes(r: redis.Redis) -> None:
    r.set("after-rewrite", "1")
    r.incr("counter")
    r.rpush("l2", "a", "b")
    r.execute_command("SELECT", 7)
    r.hset("h7", mapping={"f": "v"})
    r.execute_command("SELECT", 0)
    r.set("ttl-later", "x", ex=5000)


def stop(srv: ServerProcess) -> None:
    srv.stop()
    assert srv.proc.returncode in (0, -15), srv.output()


def manifest(d) -> str:
    return os.path.join(str(d), "appendonlydir", "appendonly.aof.manifest")


@pytest.mark.skipif(CHECK_AOF is None, reason="redis-check-aof is not installed")
@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_redis_check_aof_accepts_our_appendonlydir(tmp_path, preamble):
    with ours(tmp_path, "--appendonly", "yes", "--aof-use-rdb-preamble", preamble) as srv:
        r = client(srv)
        fill(r, large=False, streams=True)
        rewrite(r)
        more_writes(r)
        with r.pipeline(transaction=True) as p:
            p.incr("counter").set("in-multi", "1").execute()
    p = subprocess.run([CHECK_AOF, manifest(tmp_path)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "All AOF files and manifest are valid" in p.stdout
    base = "appendonly.aof.2.base.rdb" if preamble == "yes" else "appendonly.aof.2.base.aof"
    with open(manifest(tmp_path)) as f:
        assert f.read() == f"file {base} seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"


@needs_real
def test_real_redis_loads_our_appendonlydir(tmp_path):
    with ours(tmp_path, "--appendonly", "yes") as srv:
        r = client(srv)
        fill(r, streams=True)
        rewrite(r)
        more_writes(r)
        want = capture(r)
    with real(tmp_path, "--appendonly", "yes") as ref:
        rr = client(ref)
        assert capture(rr) == want
        assert rr.info("persistence")["aof_enabled"] == 1


@needs_real
def test_we_load_the_real_redis_appendonlydir(tmp_path):
    with real(tmp_path, "--appendonly", "yes") as ref:
        rr = client(ref)
        fill(rr, streams=True)
        rewrite(rr)
        more_writes(rr)
        want = capture(rr)
        try:
            rr.execute_command("SHUTDOWN", "NOSAVE")
        except redis.ConnectionError:
            pass
        ref.proc.wait(10)
    with ours(tmp_path, "--appendonly", "yes") as srv:
        r = client(srv)
        assert capture(r) == want
        i = r.info("persistence")
        assert i["aof_enabled"] == 1 and i["aof_base_size"] > 0
        r.set("ours", "1")  # appended to the real server's last incr file
    with open(manifest(tmp_path)) as f:
        lines = f.read().splitlines()
    incr = lines[-1].split()[1]
    with open(os.path.join(str(tmp_path), "appendonlydir", incr), "rb") as f:
        assert f.read().endswith(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$4\r\nours\r\n$1\r\n1\r\n")


@pytest.mark.parametrize("mode", ["yes", "no"])
def test_truncated_aof_at_startup(tmp_path, mode):
    with ours(tmp_path, "--appendonly", "yes") as srv:
        r = client(srv)
        r.set("a", "1")
        r.set("b", "2")
    incr = os.path.join(str(tmp_path), "appendonlydir", "appendonly.aof.1.incr.aof")
    with open(incr, "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$1\r\nc")
    srv = ours(tmp_path, "--appendonly", "yes", "--aof-load-truncated", mode)
    if mode == "yes":
        with srv:
            r = client(srv)
            assert r.get("b") == b"2" and r.get("c") is None
        assert "loaded anyway because aof-load-truncated is enabled" in srv.output()
    else:
        with pytest.raises(RuntimeError) as e:
            srv.start()
        assert "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof" in str(e.value)
        assert srv.proc.returncode not in (0, None)


def test_corrupt_aof_refuses_to_start(tmp_path):
    with ours(tmp_path, "--appendonly", "yes") as srv:
        client(srv).set("a", "1")
    incr = os.path.join(str(tmp_path), "appendonlydir", "appendonly.aof.1.incr.aof")
    with open(incr, "rb") as f:
        data = f.read()
    with open(incr, "wb") as f:
        f.write(data[:5] + b"X" + data[6:])
    srv = ours(tmp_path, "--appendonly", "yes")
    with pytest.raises(RuntimeError) as e:
        srv.start()
    assert "Bad file format reading the append only file appendonly.aof.1.incr.aof" in str(e.value)


def _write_load(port: int, stop_at: float, acked: dict) -> None:
    """INCR a counter and SET a fresh key per step; record what was acknowledged."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    r = redis.Redis(host="127.0.0.1", port=port, protocol=2, socket_timeout=5, retry=Retry(NoBackoff(), 0))
    i = 0
    try:
        while time.monotonic() < stop_at:
            acked["incr"] = r.incr("counter")
            r.set(f"k{i}", i)
            acked["set"] = i
            i += 1
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        pass


@pytest.mark.parametrize("fsync", ["always", "everysec"])
def test_kill_9_loses_no_acknowledged_write(tmp_path, fsync):
    srv = ours(tmp_path, "--appendonly", "yes", "--appendfsync", fsync).start()
    acked: dict = {}
    t = threading.Thread(target=_write_load, args=(srv.port, time.monotonic() + 10, acked))
    t.start()
    try:
        wait_for(lambda: acked.get("set", -1) >= 200, timeout=10)
        srv.proc.kill()  # SIGKILL while the client writes
        srv.proc.wait(10)
    finally:
        t.join(15)
    assert srv.proc.returncode == -9
    with ours(tmp_path, "--appendonly", "yes") as again:
        r = client(again)
        counter = int(r.get("counter"))
        # every acknowledged INCR is there (one more may have been written but not acknowledged)
        assert acked["incr"] <= counter <= acked["incr"] + 1
        last = acked["set"]
        assert r.get(f"k{last}") == str(last).encode()
        values = r.mget([f"k{i}" for i in range(last + 1)])
        assert [i for i, v in enumerate(values) if v != str(i).encode()] == []


@needs_real
def test_command_form_rewrite_matches_redis_byte_for_byte(tmp_path):
    """aof-use-rdb-preamble no: the same keys (moved over with DUMP/RESTORE, streams with a
    consumer group, pending entries and an idle consumer included) rewrite to the same bytes."""
    (tmp_path / "real").mkdir()
    (tmp_path / "ours").mkdir()
    pre = ("--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    with real(tmp_path / "real", *pre) as ref, ours(tmp_path / "ours", *pre) as srv:
        rr, r = client(ref), client(srv)
        rr.xadd("s", {"f": "1", "g": "two"}, id="5-1")
        rr.xadd("s", {"f": "2"}, id="6-0")
        rr.xadd("s", {"f": "3"}, id="7-3")
        rr.xdel("s", "6-0")
        rr.xgroup_create("s", "grp", id="0")
        rr.xreadgroup("grp", "alice", {"s": ">"}, count=1)
        rr.xgroup_createconsumer("s", "grp", "bob")
        rr.xadd("empty", {"a": "b"}, id="3-3")
        rr.xdel("empty", "3-3")
        rr.set("str", "v")
        rr.rpush("list", "a", "b")
        rr.hset("hash", mapping={"f": "v"})
        rr.zadd("zset", {"m": 1.25})
        rr.sadd("set", "only")
        rr.pexpireat("str", 4102444800000)
        for key in (b"s", b"empty", b"str", b"list", b"hash", b"zset", b"set"):
            r.restore(key, 0, rr.dump(key), replace=True)
        r.pexpireat("str", 4102444800000)
        for c, d in ((rr, tmp_path / "real"), (r, tmp_path / "ours")):
            rewrite(c)

        def base(d) -> bytes:
            with open(manifest(d)) as f:
                name = f.read().split()[1]
            with open(os.path.join(str(d), "appendonlydir", name), "rb") as f:
                return f.read()

        def commands(data: bytes) -> list[bytes]:
            """The base split into its commands (key order is hash order: compare as a multiset
            keyed by each key's group of commands)."""
            out, pos = [], 0
            while pos < len(data):
                argc = int(data[pos + 1 : data.index(b"\r\n", pos)])
                start = pos
                pos = data.index(b"\r\n", pos) + 2
                for _ in range(argc):
                    n = int(data[pos + 1 : data.index(b"\r\n", pos)])
                    pos = data.index(b"\r\n", pos) + 2 + n + 2
                out.append(data[start:pos])
            return out

        want = sorted(commands(base(tmp_path / "real")))
        assert any(b"XCLAIM" in c for c in want) and any(b"CREATECONSUMER" in c for c in want)
        assert any(b"MAXLEN" in c for c in want) and any(b"PEXPIREAT" in c for c in want)
        assert sorted(commands(base(tmp_path / "ours"))) == want
