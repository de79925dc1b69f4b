"""RDB persistence end to end with real processes: ``twistd -n redis`` writing and reading
dump.rdb across restarts, SIGTERM saves, save points firing a BGSAVE while the server answers,
corrupt and truncated files refused at startup, expired keys not loaded, and interop with a real
redis-server 7.0 both ways (plus ``redis-check-rdb`` on our file)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
import redis

from tests.dataset import capture, fill
from tests.helpers_proc import REDIS_SERVER, ServerProcess, free_port, wait_for

BIN = os.path.dirname(sys.executable)
TWISTD = os.path.join(BIN, "twistd") if os.path.exists(os.path.join(BIN, "twistd")) else shutil.which("twistd")
CHECK_RDB = shutil.which("redis-check-rdb")

pytestmark = pytest.mark.skipif(TWISTD is None, reason="twistd not found next to the interpreter")


def twistd_argv(port: int, d, *extra: str) -> list[str]:
    return [TWISTD, "-n", "--pidfile=", "redis", "--port", str(port), "--dir", str(d), *extra]


def ours(d, *extra: str) -> ServerProcess:
    port = free_port()
    return ServerProcess(twistd_argv(port, d, *extra), port=port, cwd=str(d))


def real(d, *extra: str) -> ServerProcess:
    return ServerProcess.real(None, *extra, cwd=str(d))


def client(srv: ServerProcess) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=srv.port, protocol=2, socket_timeout=30)


def info(r: redis.Redis) -> dict:
    return r.info("persistence")


def has_streams(r: redis.Redis) -> bool:
    """The dataset's stream part needs XADD/XGROUP/XREADGROUP/XINFO on our side."""
    try:
        r.execute_command("XINFO", "HELP")
        r.execute_command("XLEN", "probe")
    except redis.ResponseError:
        return False
    return True


def shutdown(r: redis.Redis, *args: str) -> None:
    try:
        r.execute_command("SHUTDOWN", *args)
    except redis.ConnectionError:
        pass


def test_shutdown_restart_same_dataset(tmp_path):
    with ours(tmp_path) as srv:
        r = client(srv)
        fill(r, streams=True)
        before = capture(r)
        shutdown(r)  # the default save points: SHUTDOWN saves
        srv.proc.wait(10)
        assert srv.proc.returncode in (0, -15), srv.output()
    assert (tmp_path / "dump.rdb").exists()
    with ours(tmp_path, "--save", "") as srv:
        r = client(srv)
        assert capture(r) == before
        i = info(r)
        assert i["rdb_last_load_keys_loaded"] == sum(len(v) for v in before.values())
        assert i["rdb_changes_since_last_save"] == 0
        assert "DB loaded from disk" in srv.output()


def test_sigterm_with_save_points_saves(tmp_path):
    with ours(tmp_path, "--save", "3600 1") as srv:
        r = client(srv)
        r.set("k", "v")
        r.rpush("l", *range(10))
    assert srv.proc.returncode in (0, -15), srv.output()
    assert "Saving the final RDB snapshot before exiting." in srv.output()
    assert "DB saved on disk" in srv.output()
    with ours(tmp_path, "--save", "") as srv:
        r = client(srv)
        assert r.get("k") == b"v"
        assert r.lrange("l", 0, -1) == [str(i).encode() for i in range(10)]


def test_sigterm_without_save_points_does_not_save(tmp_path):
    with ours(tmp_path, "--save", "") as srv:
        client(srv).set("k", "v")
    assert not (tmp_path / "dump.rdb").exists()


def test_save_point_triggers_bgsave_while_serving(tmp_path):
    with ours(tmp_path, "--save", "1 1") as srv:
        r = client(srv)
        for i in range(2000):
            r.set(f"k{i}", i)
        wait_for(lambda: info(r)["rdb_saves"] >= 1 and r.ping())
        wait_for(lambda: info(r)["rdb_bgsave_in_progress"] == 0)
        i = info(r)
        assert i["rdb_last_bgsave_status"] == "ok"
        assert i["rdb_changes_since_last_save"] < 2000
        assert r.get("k1999") == b"1999"
        out = srv.output()
        assert "changes in 1 seconds. Saving..." in out
        assert "Background saving started by pid" in out
        assert "Background saving terminated with success" in out
    assert (tmp_path / "dump.rdb").exists()


def test_bgsave_reply_and_lastsave(tmp_path):
    with ours(tmp_path, "--save", "") as srv:
        r = client(srv)
        r.set("a", "1")
        t0 = r.lastsave()
        assert r.bgsave() is True  # redis-py maps "+Background saving started" to True
        wait_for(lambda: info(r)["rdb_bgsave_in_progress"] == 0)
        assert info(r)["rdb_last_bgsave_status"] == "ok"
        assert r.lastsave() >= t0
        assert (tmp_path / "dump.rdb").exists()


def _saved_file(tmp_path) -> bytes:
    with ours(tmp_path, "--save", "") as srv:
        r = client(srv)
        for i in range(200):
            r.set(f"key:{i}", f"value-{i}" * 3)
        r.save()
    return (tmp_path / "dump.rdb").read_bytes()


@pytest.mark.parametrize("damage", ["corrupt", "truncated"])
def test_bad_dump_refuses_to_start(tmp_path, damage):
    data = bytearray(_saved_file(tmp_path))
    if damage == "corrupt":
        data[len(data) // 2] ^= 0x5A
        data[len(data) // 2 + 1] ^= 0xA5
    else:
        data = data[: len(data) // 2]
    path = tmp_path / "dump.rdb"
    path.write_bytes(bytes(data))
    port = free_port()
    p = subprocess.run(
        twistd_argv(port, tmp_path), cwd=tmp_path, capture_output=True, timeout=60, stdin=subprocess.DEVNULL
    )
    out = (p.stdout + p.stderr).decode()
    assert p.returncode != 0, out
    assert str(path) in out, out
    assert "offset" in out, out
    assert "Traceback" not in out, out
    # python -m twistd_redis refuses the same way: one line, exit 1, nothing listening
    p = subprocess.run(
        [sys.executable, "-m", "twistd_redis", "--port", str(port), "--dir", str(tmp_path)],
        capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    out = (p.stdout + p.stderr).decode()
    assert p.returncode == 1, out
    assert f"twistd-redis: Bad RDB file {path}" in out and "offset" in out, out
    assert "Traceback" not in out, out


def test_expired_keys_not_loaded(tmp_path):
    with ours(tmp_path, "--save", "") as srv:
        r = client(srv)
        r.set("gone", "v", px=400)
        r.set("kept", "v", ex=1000)
        r.set("plain", "v")
        r.save()
        shutdown(r, "NOSAVE")
        srv.proc.wait(10)
    time.sleep(0.5)
    with ours(tmp_path, "--save", "") as srv:
        r = client(srv)
        assert sorted(r.keys()) == [b"kept", b"plain"]
        i = info(r)
        assert i["rdb_last_load_keys_loaded"] == 2
        assert i["rdb_last_load_keys_expired"] == 1
        assert r.ttl("kept") > 900


# ---------------------------------------------------------------- interop with redis-server 7.0

needs_real = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")


@needs_real
def test_real_redis_dump_loads_into_ours(tmp_path):
    rd = tmp_path / "real"
    od = tmp_path / "ours"
    rd.mkdir()
    od.mkdir()
    with ours(od, "--save", "") as probe:
        streams = has_streams(client(probe))
    with real(rd) as rs:
        r = client(rs)
        fill(r, streams=streams)
        expected = capture(r)
        assert r.save()
    shutil.copy(rd / "dump.rdb", od / "dump.rdb")
    with ours(od, "--save", "") as srv:
        assert capture(client(srv)) == expected


@needs_real
def test_our_dump_loads_into_real_redis_and_passes_check_rdb(tmp_path):
    rd = tmp_path / "real"
    od = tmp_path / "ours"
    rd.mkdir()
    od.mkdir()
    with ours(od, "--save", "") as srv:
        r = client(srv)
        fill(r, streams=has_streams(r))
        expected = capture(r)
        assert r.save()
    if CHECK_RDB:
        p = subprocess.run([CHECK_RDB, str(od / "dump.rdb")], capture_output=True, timeout=60)
        assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()
    shutil.copy(od / "dump.rdb", rd / "dump.rdb")
    with real(rd) as rs:
        assert capture(client(rs)) == expected
