"""RDB server layer (persistence/snapshot.py, child.py, commands/persistence.py): SAVE, BGSAVE,
LASTSAVE, save points on task.Clock, the -MISCONF gate, SHUTDOWN / SIGTERM saves, FLUSHALL's
save, DEBUG RELOAD, loading at startup. Texts and counters as Redis 7.0.15."""

from __future__ import annotations

import os
import time

import pytest

from tests.unit.harness import FakeServer, ReplyError
from twistd_redis.persistence import child
from twistd_redis.persistence.snapshot import MISCONF_RDB, StartupError, load_on_startup, rdb_save

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "rdb-samples")


def info(conn) -> dict[str, str]:
    out = {}
    for line in conn.call("INFO", "persistence").decode().split("\r\n"):
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


def reap(srv: FakeServer, timeout: float = 10.0) -> None:
    """Run the cron (clock ticks of 0.1 s) until the forked child has been reaped."""
    deadline = time.monotonic() + timeout
    while child.active_child(srv.state) is not None:
        assert time.monotonic() < deadline, "child did not finish"
        time.sleep(0.01)
        srv.advance(0.1)


def sleeper(srv: FakeServer, kind: str, seconds: float = 30.0, done=None) -> int:
    """A stand-in child that keeps running (an AOF rewrite, or a long BGSAVE)."""
    if done is None:
        done = srv.state.persistence._bgsave_done if kind == "rdb" else (lambda ok: None)
    return child.start_child(srv.state, kind, lambda: time.sleep(seconds), done)


@pytest.fixture
def srv(tmp_path):
    s = FakeServer(config={"dir": str(tmp_path), "save": "", "enable-debug-command": "yes"})
    yield s
    if child.active_child(s.state) is not None:
        child.kill_child(s.state)
    s.stop()


@pytest.fixture
def c(srv):
    return srv.connect()


def dump_path(srv) -> str:
    return os.path.join(srv.state.config["dir"], "dump.rdb")


# ---------------------------------------------------------------- SAVE / LASTSAVE


def test_save_writes_file_resets_dirty_and_counts(srv, c):
    assert c.call("LASTSAVE") == int(srv.clock.seconds())
    c.call("SET", "a", "1")
    c.call("RPUSH", "l", "x", "y")
    assert info(c)["rdb_changes_since_last_save"] == "3"
    srv.advance(7)
    assert c.call("SAVE") == b"OK"
    assert os.path.exists(dump_path(srv))
    assert not [f for f in os.listdir(srv.state.config["dir"]) if f.startswith("temp-")]
    i = info(c)
    assert i["rdb_changes_since_last_save"] == "0"
    assert i["rdb_saves"] == "1"
    assert i["rdb_last_bgsave_status"] == "ok"
    assert c.call("LASTSAVE") == int(srv.clock.seconds())
    assert i["rdb_last_save_time"] == str(int(srv.clock.seconds()))
    with open(dump_path(srv), "rb") as f:
        assert f.read(9) == b"REDIS0010"


def test_save_arity_and_failure_is_bare_err(srv, c):
    assert str(c.call("SAVE", "x")) == "ERR wrong number of arguments for 'save' command"
    assert str(c.call("LASTSAVE", "x")) == "ERR wrong number of arguments for 'lastsave' command"
    os.makedirs(os.path.join(dump_path(srv), "sub"))  # rename over a non-empty directory fails
    c.call("SET", "a", "1")
    assert c.raw(b"SAVE\r\n") == b"-ERR\r\n"
    i = info(c)
    assert i["rdb_saves"] == "1"  # counted, as Redis's saveCommand
    assert i["rdb_last_bgsave_status"] == "ok"  # a failed SAVE leaves the status alone
    assert i["rdb_changes_since_last_save"] == "1"
    assert not [f for f in os.listdir(srv.state.config["dir"]) if f.startswith("temp-")]


def test_save_refused_while_bgsave_child_runs(srv, c):
    sleeper(srv, "rdb")
    assert str(c.call("SAVE")) == "ERR Background save already in progress"
    assert str(c.call("BGSAVE")) == "ERR Background save already in progress"
    assert str(c.call("BGSAVE", "SCHEDULE")) == "ERR Background save already in progress"
    i = info(c)
    assert i["rdb_bgsave_in_progress"] == "1"
    assert i["rdb_current_bgsave_time_sec"] == "0"
    srv.advance(3)
    assert info(c)["rdb_current_bgsave_time_sec"] == "3"
    child.kill_child(srv.state)  # SIGUSR1: not an error
    i = info(c)
    assert i["rdb_bgsave_in_progress"] == "0"
    assert i["rdb_last_bgsave_status"] == "ok"
    assert i["rdb_current_bgsave_time_sec"] == "-1"


# ---------------------------------------------------------------- BGSAVE


def test_bgsave_started_then_reaped_by_cron(srv, c):
    c.call("SET", "a", "1")
    c.call("SET", "b", "2")
    assert c.call("BGSAVE") == b"Background saving started"
    c.call("SET", "c", "3")  # written after the fork: stays dirty
    reap(srv)
    i = info(c)
    assert i["rdb_last_bgsave_status"] == "ok"
    assert i["rdb_changes_since_last_save"] == "1"
    assert i["rdb_saves"] == "1"
    assert i["rdb_last_bgsave_time_sec"] == "0"
    assert os.path.exists(dump_path(srv))


def test_bgsave_syntax_errors(c):
    assert str(c.call("BGSAVE", "foo")) == "ERR syntax error"
    assert str(c.call("BGSAVE", "SCHEDULE", "x")) == "ERR syntax error"


def test_bgsave_with_another_child_and_schedule(srv, c):
    sleeper(srv, "aof", 0.3)
    assert str(c.call("BGSAVE")) == (
        "ERR Another child process is active (AOF?): can't BGSAVE right now. "
        "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
    )
    assert c.call("BGSAVE", "schedule") == b"Background saving scheduled"
    assert srv.state.persistence.bgsave_scheduled
    assert info(c)["rdb_saves"] == "0"
    reap(srv)  # the AOF child ends; the next cron tick starts the scheduled BGSAVE
    srv.advance(0.1)
    assert not srv.state.persistence.bgsave_scheduled
    assert info(c)["rdb_saves"] == "1"
    reap(srv)
    assert info(c)["rdb_last_bgsave_status"] == "ok"


def test_bgsave_inside_multi_is_scheduled(srv, c):
    c.call("MULTI")
    assert c.call("BGSAVE") == b"QUEUED"
    assert c.call("EXEC") == [b"Background saving scheduled"]
    assert child.active_child(srv.state) is None
    srv.advance(0.1)
    assert child.active_child(srv.state) is not None
    reap(srv)


def test_failed_bgsave_misconf_gate(srv, c):
    os.makedirs(os.path.join(dump_path(srv), "sub"))
    c.call("SET", "a", "1")
    assert c.call("BGSAVE") == b"Background saving started"
    reap(srv)
    assert info(c)["rdb_last_bgsave_status"] == "err"
    assert c.call("SET", "b", "1") == b"OK"  # no save points: writes go on, as Redis
    c.call("CONFIG", "SET", "save", "100 1")
    assert str(c.call("SET", "b", "1")) == MISCONF_RDB
    assert str(c.call("PING")) == MISCONF_RDB
    assert c.call("GET", "a") == b"1"
    c.call("CONFIG", "SET", "stop-writes-on-bgsave-error", "no")
    assert c.call("SET", "b", "2") == b"OK"
    c.call("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes")
    assert str(c.call("SET", "b", "3")) == MISCONF_RDB
    assert str(c.call("SHUTDOWN")) == "ERR Errors trying to SHUTDOWN. Check logs."
    assert c.raw(b"DEBUG RELOAD\r\n") == b"-ERR\r\n"
    # the next successful BGSAVE clears the gate
    os.rename(dump_path(srv), dump_path(srv) + ".dir")
    assert c.call("BGSAVE") == b"Background saving started"
    reap(srv)
    assert info(c)["rdb_last_bgsave_status"] == "ok"
    assert c.call("SET", "b", "4") == b"OK"
    assert c.call("PING") == b"PONG"


def test_save_points_fire_from_the_cron(srv, c):
    c.call("CONFIG", "SET", "save", "100 2 10 1000")
    c.call("SET", "a", "1")
    srv.advance(200)
    assert child.active_child(srv.state) is None  # 1 change < 2
    c.call("SET", "b", "1")
    srv.advance(0.1)
    assert child.active_child(srv.state) is not None
    reap(srv)
    assert info(c)["rdb_changes_since_last_save"] == "0"
    c.call("SET", "c", "1")
    c.call("SET", "d", "1")
    srv.advance(100)  # now - lastsave must be > 100, not equal
    assert child.active_child(srv.state) is None
    srv.advance(1)
    assert child.active_child(srv.state) is not None
    reap(srv)
    assert info(c)["rdb_saves"] == "2"


def test_failed_save_point_retries_after_delay(srv, c):
    os.makedirs(os.path.join(dump_path(srv), "sub"))
    c.call("CONFIG", "SET", "save", "1 1")
    c.call("CONFIG", "SET", "stop-writes-on-bgsave-error", "no")
    c.call("SET", "a", "1")
    srv.advance(2)
    assert child.active_child(srv.state) is not None
    reap(srv)
    assert info(c)["rdb_saves"] == "1"
    assert info(c)["rdb_last_bgsave_status"] == "err"
    srv.advance(3)  # within CONFIG_BGSAVE_RETRY_DELAY (5 s): no retry
    assert child.active_child(srv.state) is None
    srv.advance(3)
    assert child.active_child(srv.state) is not None
    reap(srv)
    assert info(c)["rdb_saves"] == "2"


# ---------------------------------------------------------------- SHUTDOWN / SIGTERM


def _shutdown(srv, c, *args) -> bytes:
    stopped = []
    srv.state.shutdown_callback = lambda: stopped.append(1)
    return c.raw(b"SHUTDOWN" + b"".join(b" " + a for a in args) + b"\r\n")


def test_shutdown_saves_with_save_points(srv, c):
    c.call("CONFIG", "SET", "save", "3600 1")
    c.call("SET", "a", "1")
    assert _shutdown(srv, c) == b""
    assert os.path.exists(dump_path(srv))


@pytest.mark.parametrize(
    "save, args, saved",
    [("", [], False), ("", [b"SAVE"], True), ("3600 1", [b"NOSAVE"], False), ("3600 1", [b"NOW"], True)],
)
def test_shutdown_save_nosave(srv, c, save, args, saved):
    c.call("CONFIG", "SET", "save", save)
    c.call("SET", "a", "1")
    assert _shutdown(srv, c, *args) == b""
    assert os.path.exists(dump_path(srv)) is saved


def test_shutdown_failed_save_refuses_unless_force(srv, c):
    os.makedirs(os.path.join(dump_path(srv), "sub"))
    c.call("SET", "a", "1")
    assert str(c.call("SHUTDOWN", "SAVE")) == "ERR Errors trying to SHUTDOWN. Check logs."
    assert c.call("GET", "a") == b"1"
    assert _shutdown(srv, c, b"SAVE", b"FORCE") == b""


def test_shutdown_kills_a_running_bgsave(srv, c):
    pid = sleeper(srv, "rdb")
    assert _shutdown(srv, c, b"NOSAVE") == b""
    assert child.active_child(srv.state) is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_sigterm_stop_service_saves(tmp_path):
    s = FakeServer(config={"dir": str(tmp_path), "save": "3600 1"})
    s.connect().call("SET", "a", "1")
    s.stop()
    assert os.path.exists(tmp_path / "dump.rdb")
    s2 = FakeServer(config={"dir": str(tmp_path), "save": ""})
    load_on_startup(s2.state)
    assert s2.connect().call("GET", "a") == b"1"
    s2.stop()


def test_sigterm_honours_shutdown_on_sigterm_nosave(tmp_path):
    s = FakeServer(config={"dir": str(tmp_path), "save": "3600 1", "shutdown-on-sigterm": "nosave"})
    s.connect().call("SET", "a", "1")
    s.stop()
    assert not os.path.exists(tmp_path / "dump.rdb")


# ---------------------------------------------------------------- FLUSHALL


def test_flushall_saves_when_save_points_set(srv, c):
    c.call("CONFIG", "SET", "save", "3600 1")
    c.call("SET", "a", "1")
    assert c.call("FLUSHALL") == b"OK"
    assert os.path.exists(dump_path(srv))
    i = info(c)
    assert i["rdb_changes_since_last_save"] == "0"  # as redis-server 7.0.15
    assert i["rdb_saves"] == "0"
    s2 = FakeServer(config={"dir": srv.state.config["dir"], "save": ""})
    load_on_startup(s2.state)
    assert s2.connect().call("DBSIZE") == 0
    s2.stop()


def test_flushall_without_save_points_writes_nothing(srv, c):
    c.call("FLUSHALL")
    assert info(c)["rdb_changes_since_last_save"] == "0"  # nothing removed: no change
    c.call("SET", "a", "1")
    c.call("SET", "b", "1")
    c.call("FLUSHALL")
    assert info(c)["rdb_changes_since_last_save"] == "4"
    assert not os.path.exists(dump_path(srv))


# ---------------------------------------------------------------- DEBUG RELOAD and loading


def _snapshot(c) -> dict:
    out = {}
    for db in (0, 5):
        c.call("SELECT", db)
        for k in sorted(c.call("KEYS", "*")):
            t = c.call("TYPE", k)
            v = {
                b"string": lambda k=k: c.call("GET", k),
                b"list": lambda k=k: c.call("LRANGE", k, 0, -1),
                b"hash": lambda k=k: sorted(c.call("HGETALL", k)),
                b"set": lambda k=k: sorted(c.call("SMEMBERS", k)),
                b"zset": lambda k=k: c.call("ZRANGE", k, 0, -1, "WITHSCORES"),
            }[t]()
            out[(db, k)] = (t, v, c.call("OBJECT", "ENCODING", k), c.call("PTTL", k) > 0)
    c.call("SELECT", 0)
    return out


def _fill(c) -> None:
    for db in (0, 5):
        c.call("SELECT", db)
        c.call("SET", "s", "hello")
        c.call("SET", "i", "12345")
        c.call("SET", "long", "ab" * 300)
        c.call("SET", "ttl", "v", "EX", "1000")
        c.call("RPUSH", "l", *[str(i) * (i % 5 + 1) for i in range(300)])
        c.call("HSET", "h", "a", "1", "b", "2")
        c.call("HSET", "hbig", *[x for i in range(200) for x in (f"f{i}", f"v{i}")])
        c.call("SADD", "si", *range(20))
        c.call("SADD", "ss", "x", "y")
        c.call("ZADD", "z", "1", "a", "2.5", "b", "-inf", "c")
        c.call("ZADD", "zbig", *[x for i in range(200) for x in (str(i / 3), f"m{i}")])
    c.call("SELECT", 0)


@pytest.mark.parametrize("opts", [[], ["NOSAVE"], ["MERGE", "NOFLUSH"]])
def test_debug_reload_keeps_every_key(srv, c, opts):
    _fill(c)
    before = _snapshot(c)
    if opts == ["NOSAVE"]:
        assert c.call("SAVE") == b"OK"
    assert c.call("DEBUG", "RELOAD", *opts) == b"OK"
    assert _snapshot(c) == before


def test_debug_reload_errors(srv, c):
    assert (
        str(c.call("DEBUG", "RELOAD", "BOGUS"))
        == "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."
    )
    assert str(c.call("DEBUG", "RELOAD", "NOSAVE")) == "ERR Error trying to load the RDB dump"  # no file


def test_expired_keys_not_loaded(srv, c):
    c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    c.call("SET", "gone", "v", "PX", "500")
    c.call("SET", "kept", "v", "EX", "100")
    c.call("SET", "plain", "v")
    srv.advance(1)
    assert c.call("DEBUG", "RELOAD") == b"OK"
    assert c.call("DBSIZE") == 2
    i = info(c)
    assert i["rdb_last_load_keys_loaded"] == "2"
    assert i["rdb_last_load_keys_expired"] == "1"


def test_rdb_save_explicit_path_and_load_on_startup(tmp_path):
    s = FakeServer(config={"dir": str(tmp_path), "save": ""})
    s.connect().call("SET", "k", "v")
    rdb_save(s.state)
    s.stop()
    s2 = FakeServer(config={"dir": str(tmp_path), "save": ""})
    load_on_startup(s2.state)
    assert s2.state.dirty == 0
    assert s2.connect().call("GET", "k") == b"v"
    s2.stop()


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_corrupt_file_raises_startup_error_and_loads_nothing(tmp_path, damage):
    s = FakeServer(config={"dir": str(tmp_path), "save": ""})
    c = s.connect()
    for i in range(50):
        c.call("SET", f"key:{i}", f"value-{i}")
    rdb_save(s.state)
    s.stop()
    path = tmp_path / "dump.rdb"
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    else:
        data = data[: len(data) // 2]
    path.write_bytes(bytes(data))
    s2 = FakeServer(config={"dir": str(tmp_path), "save": ""})
    with pytest.raises(StartupError) as e:
        load_on_startup(s2.state)
    assert str(path) in str(e.value)
    assert "offset" in str(e.value)
    assert all(len(db.data) == 0 for db in s2.state.dbs)
    s2.stop()


def test_load_real_redis_sample(tmp_path):
    import json
    import shutil

    shutil.copy(os.path.join(DATA, "encodings.rdb"), tmp_path / "dump.rdb")
    s = FakeServer(config={"dir": str(tmp_path), "save": ""})
    load_on_startup(s.state)
    with open(os.path.join(DATA, "encodings.json")) as f:
        expected = json.load(f)
    n = sum(len(keys) for keys in (expected.get("dbs") or expected).values() if isinstance(keys, dict))
    total = sum(len(db.data) for db in s.state.dbs)
    assert total > 0
    assert total <= n or n == 0
    s.stop()


def test_missing_file_loads_nothing(tmp_path):
    s = FakeServer(config={"dir": str(tmp_path), "save": ""})
    load_on_startup(s.state)
    assert s.connect().call("DBSIZE") == 0
    s.stop()


def test_reply_error_type_is_harness(c):
    assert isinstance(c.call("BGSAVE", "x"), ReplyError)


def test_rdb_and_aof_disk_errors_are_kept_apart(srv, c):
    """Both sides may deny writes at once: the RDB error shows first (as
    writeCommandsDeniedByDiskError checks it first) and clearing it leaves the AOF's in force."""
    from twistd_redis.errors import RedisError

    state = srv.state
    aof_err = RedisError("MISCONF Errors writing to the AOF file: No space left on device")
    state.set_disk_error("aof", aof_err)
    os.makedirs(os.path.join(dump_path(srv), "sub"))
    c.call("CONFIG", "SET", "save", "100 1")
    assert c.call("BGSAVE") == b"Background saving started"
    reap(srv)
    assert str(c.call("SET", "b", "1")) == MISCONF_RDB
    c.call("CONFIG", "SET", "stop-writes-on-bgsave-error", "no")  # the RDB side clears...
    assert str(c.call("SET", "b", "1")) == str(aof_err)  # ...the AOF error is still there
    state.set_disk_error("aof", None)
    assert c.call("SET", "b", "1") == b"OK"
