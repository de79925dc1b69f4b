"""The append-only file (persistence/aof.py): the exact bytes Redis 7.0.15 writes, the manifest,
rewrites (in a real forked child), loading (the real-Redis samples, truncated and corrupt
files), write errors and INFO persistence - on the in-memory server (FakeServer)."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.unit.harness import FakeServer, ReplyError
from tests.unit.test_rdb_samples import to_json
from twistd_redis.persistence import aof as aofmod
from twistd_redis.persistence.aof import (
    AOF_TRUNCATED,
    AofInfo,
    Manifest,
    load_append_only_files,
)
from twistd_redis.persistence.child import wait_child
from twistd_redis.persistence.snapshot import StartupError

SAMPLES = os.path.join(os.path.dirname(__file__), "..", "data", "rdb-samples")
MANIFEST = "appendonly.aof.manifest"


def cmd(*args: bytes | str) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def select(n: int) -> bytes:
    return cmd("SELECT", str(n))


def read(d, *parts) -> bytes:
    with open(os.path.join(str(d), *parts), "rb") as f:
        return f.read()


def err(reply) -> str:
    assert isinstance(reply, ReplyError), reply
    return str(reply)


def state_json(state) -> dict:
    """The server's contents in the rdb-samples JSON shape."""
    out: dict = {}
    for db in state.dbs:
        for k, v in db.data.items():
            kind, shape = to_json(v)
            out.setdefault(str(db.id), {})[k.decode()] = {"has_ttl": k in db.expires, "type": kind, "value": shape}
    return out


def boot(tmp_path, **config) -> FakeServer:
    """A server started as twistd-redis starts: load from disk (AOF), then serve."""
    cfg = {"dir": str(tmp_path), "appendonly": "yes"}
    cfg.update({k.replace("_", "-"): v for k, v in config.items()})
    srv = FakeServer(cfg, start=False)
    load_append_only_files(srv.state)
    srv.state.startService()
    return srv


@pytest.fixture
def aofdir(tmp_path):
    return tmp_path / "appendonlydir"


# ---------------------------------------------------------------------------------- feed


def test_start_creates_base_and_incr_as_redis(tmp_path, aofdir):
    srv = boot(tmp_path)
    assert sorted(os.listdir(aofdir)) == ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof", MANIFEST]
    assert read(aofdir, MANIFEST) == (
        b"file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    )
    base = read(aofdir, "appendonly.aof.1.base.rdb")
    assert base.startswith(b"REDIS0010") and b"\x08aof-base\xc0\x01" in base and base[-9] == 0xFF
    assert read(aofdir, "appendonly.aof.1.incr.aof") == b""
    srv.stop()


def test_feed_bytes_select_multi_exec_pxat(tmp_path, aofdir):
    srv = boot(tmp_path)
    c = srv.connect()
    assert c.call("set", "a", "1") == b"OK"
    c.call("SELECT", "3")
    c.call("SET", "b", "x", "EX", "100")
    c.call("MULTI")
    c.call("INCR", "n")
    c.call("LPUSH", "l", "p", "q")
    assert c.call("EXEC") == [1, 2]
    c.call("MULTI")
    c.call("SET", "one", "op")
    c.call("EXEC")  # a single op goes out alone, as 7.0 does
    c.call("SELECT", "0")
    c.call("GET", "a")  # reads are not written
    c.call("DEL", "missing")  # neither are writes that change nothing
    c.call("SET", "c", "2")
    expire_at = b"%d" % (int(srv.clock.seconds() * 1000) + 100000)
    assert read(aofdir, "appendonly.aof.1.incr.aof") == b"".join(
        [
            select(0),
            cmd("set", "a", "1"),
            select(3),
            cmd("SET", "b", "x", "PXAT", expire_at),
            cmd("MULTI"),
            cmd("INCR", "n"),
            cmd("LPUSH", "l", "p", "q"),
            cmd("EXEC"),
            cmd("SET", "one", "op"),
            select(0),
            cmd("SET", "c", "2"),
        ]
    )
    srv.stop()


def test_expired_key_is_written_as_del(tmp_path, aofdir):
    srv = boot(tmp_path)
    c = srv.connect()
    c.call("SET", "k", "v", "PX", "50")
    start = len(read(aofdir, "appendonly.aof.1.incr.aof"))
    srv.advance(0.2)
    assert c.call("GET", "k") is None
    assert read(aofdir, "appendonly.aof.1.incr.aof")[start:] == cmd("DEL", "k")
    srv.stop()


def test_write_reaches_the_file_before_the_reply(tmp_path, aofdir):
    """The reply's bytes leave only after the command is in the file (fsynced when always)."""
    srv = boot(tmp_path, appendfsync="always")
    c = srv.connect()
    synced = []
    orig = aofmod._fsync
    aofmod._fsync = lambda fd: synced.append(os.fstat(fd).st_size)
    seen = []
    real_write = c.transport.write

    def write(data):
        seen.append(len(read(aofdir, "appendonly.aof.1.incr.aof")))
        real_write(data)

    c.transport.write = write
    c.proto._sock = None
    try:
        c.call("SET", "k", "v")
    finally:
        aofmod._fsync = orig
    n = len(select(0) + cmd("SET", "k", "v"))
    assert seen == [n] and synced == [n]
    srv.stop()


def test_one_fsync_covers_every_client_of_a_reactor_turn(tmp_path, aofdir):
    """appendfsync always fsyncs once per reactor turn (Redis's beforeSleep), not once per
    client: three clients' writes read in one turn share one write+fsync, and none of the three
    replies leaves before it."""
    srv = boot(tmp_path, appendfsync="always")
    conns = [srv.connect() for _ in range(3)]
    synced = []
    orig = aofmod._fsync
    aofmod._fsync = lambda fd: synced.append(os.fstat(fd).st_size)
    try:
        for i, c in enumerate(conns):
            c.transport.clear()
            c.proto.dataReceived(cmd("SET", f"k{i}", "v"))  # the reads of one turn
        assert synced == [] and all(c.transport.value() == b"" for c in conns)
        srv.end_turn()
    finally:
        aofmod._fsync = orig
    body = select(0) + b"".join(cmd("SET", f"k{i}", "v") for i in range(3))
    assert synced == [len(body)]
    assert read(aofdir, "appendonly.aof.1.incr.aof") == body
    assert [c.transport.value() for c in conns] == [b"+OK\r\n"] * 3
    srv.stop()


def test_everysec_fsyncs_from_the_cron_at_most_once_a_second(tmp_path):
    srv = boot(tmp_path, appendfsync="everysec")
    c = srv.connect()
    calls = []
    orig = aofmod._fsync
    aofmod._fsync = lambda fd: calls.append(fd)
    try:
        for i in range(5):
            c.call("SET", "k", str(i))
        assert calls == []  # not on the reply path
        srv.advance(1.05)
        assert len(calls) == 1
        c.call("SET", "k", "x")
        srv.advance(0.5)
        assert len(calls) == 1  # within the same second: not yet
        srv.advance(1.0)
        assert len(calls) == 2
        srv.advance(3)
        assert len(calls) == 2  # nothing new: no fsync
    finally:
        aofmod._fsync = orig
    srv.stop()


def test_timestamp_annotations(tmp_path, aofdir):
    srv = boot(tmp_path, aof_timestamp_enabled="yes")
    c = srv.connect()
    c.call("SET", "a", "1")
    c.call("SET", "b", "1")
    now = int(srv.clock.seconds())
    assert read(aofdir, "appendonly.aof.1.incr.aof") == (
        b"#TS:%d\r\n" % now + select(0) + cmd("SET", "a", "1") + cmd("SET", "b", "1")
    )
    srv.stop()


# ---------------------------------------------------------------------------------- manifest


def test_manifest_format_and_quoting():
    am = Manifest()
    am.new_base_name("appendonly.aof", True)
    am.new_incr_name("appendonly.aof")
    am.new_incr_name("appendonly.aof")
    am.history.append(AofInfo("appendonly.aof.1.incr.aof", 1, "h"))
    assert am.to_string() == (
        "file appendonly.aof.1.base.rdb seq 1 type b\n"
        "file appendonly.aof.1.incr.aof seq 1 type h\n"
        "file appendonly.aof.1.incr.aof seq 1 type i\n"
        "file appendonly.aof.2.incr.aof seq 2 type i\n"
    )
    assert AofInfo('my file"x.aof', 3, "i").format() == 'file "my file\\"x.aof" seq 3 type i\n'
    assert AofInfo("a\nb", 1, "b").format() == 'file "a\\nb" seq 1 type b\n'
    back = Manifest.parse(b'# comment\nfile "my file.aof" seq 4 type b\nfile x.1.incr.aof seq 7 type i\n')
    assert back.base.file_name == "my file.aof" and back.curr_base_file_seq == 4
    assert [a.file_name for a in back.incrs] == ["x.1.incr.aof"] and back.curr_incr_file_seq == 7
    # keys in any order, case-insensitive, unknown keys ignored (forward compatibility)
    m = Manifest.parse(b"TYPE b SEQ 2 FILE b.rdb extra 1\n")
    assert (m.base.file_name, m.base.file_seq) == ("b.rdb", 2)


@pytest.mark.parametrize(
    "text, error",
    [
        (b"", "Found an empty AOF manifest"),
        (b"file a seq 1\n", "Invalid AOF manifest file format"),
        (b"\n", "Invalid AOF manifest file format"),
        (b"file a seq 1 type b\nfile b seq 2 type b\n", "Found duplicate base file information"),
        (b"file a seq 2 type i\nfile b seq 2 type i\n", "Found a non-monotonic sequence number"),
        (b"file a seq 1 type x\n", "Unknown AOF file type"),
        (b"file d/a seq 1 type b\n", "File can't be a path, just a filename"),
        (b"file a seq 0 type b\n", "Invalid AOF manifest file format"),
        (b"file " + b"a" * 1100 + b" seq 1 type b\n", "The AOF manifest file contains too long line"),
    ],
)
def test_manifest_errors(text, error):
    with pytest.raises(ValueError) as e:
        Manifest.parse(text)
    assert e.value.args[0] == error


def test_bad_manifest_refuses_to_start(tmp_path, aofdir):
    aofdir.mkdir()
    (aofdir / MANIFEST).write_bytes(b"file a seq 1 type z\n")
    srv = FakeServer({"dir": str(tmp_path), "appendonly": "yes"}, start=False)
    with pytest.raises(StartupError, match="Unknown AOF file type"):
        load_append_only_files(srv.state)


# ---------------------------------------------------------------------------------- rewrite


def test_bgrewriteaof_keeps_writes_made_during_it(tmp_path, aofdir):
    srv = boot(tmp_path)
    c = srv.connect()
    c.call("SET", "before", "1")
    c.call("RPUSH", "l", *[str(i) for i in range(200)])
    assert c.call("BGREWRITEAOF") == b"Background append only file rewriting started"
    assert err(c.call("BGREWRITEAOF")) == "ERR Background append only file rewriting already in progress"
    # the new incr file is in the manifest before the child is done
    assert read(aofdir, MANIFEST) == (
        b"file appendonly.aof.1.base.rdb seq 1 type b\n"
        b"file appendonly.aof.1.incr.aof seq 1 type i\n"
        b"file appendonly.aof.2.incr.aof seq 2 type i\n"
    )
    c.call("SET", "during", "2")
    c.call("DEL", "before")
    assert read(aofdir, "appendonly.aof.2.incr.aof") == select(0) + cmd("SET", "during", "2") + cmd("DEL", "before")
    assert b"aof_rewrite_in_progress:1" in c.call("INFO", "persistence")
    info = wait_child(srv.state, 10)
    assert info is not None and info.exitcode == 0
    assert sorted(os.listdir(aofdir)) == ["appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", MANIFEST]
    assert read(aofdir, MANIFEST) == (
        b"file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    )
    assert not [f for f in os.listdir(tmp_path) if f.startswith("temp-")]
    c.call("SET", "after", "3")  # SELECT again after the rewrite
    assert read(aofdir, "appendonly.aof.2.incr.aof").endswith(select(0) + cmd("SET", "after", "3"))
    want = state_json(srv.state)
    info = c.call("INFO", "persistence").decode()
    assert "aof_rewrites:1" in info and "aof_last_bgrewrite_status:ok" in info
    srv.stop()
    again = boot(tmp_path)
    assert state_json(again.state) == want
    assert set(want["0"]) == {"l", "during", "after"}
    again.stop()


def test_rewrite_without_preamble_writes_commands(tmp_path, aofdir):
    srv = boot(tmp_path, aof_use_rdb_preamble="no")
    assert read(aofdir, MANIFEST).startswith(b"file appendonly.aof.1.base.aof seq 1 type b\n")
    assert read(aofdir, "appendonly.aof.1.base.aof") == b""
    c = srv.connect()
    c.call("SET", "s", "v")
    c.call("PEXPIRE", "s", "100000")
    c.call("SADD", "set", *[str(i) for i in range(70)])
    c.call("HSET", "h", "f", "v", "g", "w")
    c.call("ZADD", "z", "1.5", "a", "inf", "b", "-2", "c")
    c.call("SELECT", "4")
    c.call("RPUSH", "l", "x", "y")
    when = int(srv.clock.seconds() * 1000) + 100000
    assert c.call("BGREWRITEAOF") == b"Background append only file rewriting started"
    wait_child(srv.state, 10)
    base = read(aofdir, "appendonly.aof.2.base.aof")
    assert base.startswith(select(0))
    assert cmd("SET", "s", "v") + cmd("PEXPIREAT", "s", str(when)) in base
    assert cmd("HMSET", "h", "f", "v", "g", "w") in base
    assert cmd("ZADD", "z", "-2", "c", "1.5", "a", "inf", "b") in base
    assert base.count(b"$4\r\nSADD\r\n") == 2 and b"*66\r\n$4\r\nSADD\r\n" in base  # 64 + 6 members
    assert base.endswith(select(4) + cmd("RPUSH", "l", "x", "y"))
    want = state_json(srv.state)
    srv.stop()
    again = boot(tmp_path, aof_use_rdb_preamble="no")
    assert state_json(again.state) == want
    again.stop()


def test_bgrewriteaof_scheduled_while_bgsave_runs(tmp_path, aofdir):
    srv = boot(tmp_path, rdb_key_save_delay="200000")
    c = srv.connect()
    c.call("SET", "k", "v")
    assert c.call("BGSAVE") == b"Background saving started"
    assert c.call("BGREWRITEAOF") == b"Background append only file rewriting scheduled"
    info = c.call("INFO", "persistence").decode()
    assert "aof_rewrite_scheduled:1" in info and "aof_pending_rewrite:1" in info
    wait_child(srv.state, 10)
    srv.advance(0.1)  # the cron starts the scheduled rewrite
    assert b"aof_rewrite_in_progress:1" in c.call("INFO", "persistence")
    wait_child(srv.state, 10)
    assert read(aofdir, MANIFEST).startswith(b"file appendonly.aof.2.base.rdb seq 2 type b\n")
    srv.stop()


def test_bgrewriteaof_with_aof_off_writes_only_a_base(tmp_path, aofdir):
    srv = FakeServer({"dir": str(tmp_path)})
    c = srv.connect()
    c.call("SET", "k", "v")
    assert c.call("BGREWRITEAOF") == b"Background append only file rewriting started"
    wait_child(srv.state, 10)
    assert read(aofdir, MANIFEST) == b"file appendonly.aof.1.base.rdb seq 1 type b\n"
    assert b"aof_enabled:0" in c.call("INFO", "persistence")
    srv.stop()


def test_config_set_appendonly_at_run_time(tmp_path, aofdir):
    srv = FakeServer({"dir": str(tmp_path)})
    c = srv.connect()
    c.call("SET", "old", "1")
    assert c.call("CONFIG", "SET", "appendonly", "yes") == b"OK"
    # a rewrite first; writes meanwhile go to the temporary incr file
    assert sorted(os.listdir(aofdir)) == ["temp-appendonly.aof.incr"]
    c.call("SET", "new", "2")
    assert read(aofdir, "temp-appendonly.aof.incr") == select(0) + cmd("SET", "new", "2")
    assert b"aof_enabled:1" in c.call("INFO", "persistence")
    wait_child(srv.state, 10)
    assert sorted(os.listdir(aofdir)) == ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof", MANIFEST]
    assert read(aofdir, MANIFEST) == (
        b"file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    )
    c.call("SET", "later", "3")
    assert read(aofdir, "appendonly.aof.1.incr.aof") == select(0) + cmd("SET", "new", "2") + select(0) + cmd(
        "SET", "later", "3"
    )
    assert c.call("CONFIG", "SET", "appendonly", "no") == b"OK"
    c.call("SET", "off", "4")
    assert not read(aofdir, "appendonly.aof.1.incr.aof").endswith(cmd("SET", "off", "4"))
    assert srv.state.aof.feed not in srv.state.propagation_targets
    srv.stop()
    again = boot(tmp_path)
    assert sorted(state_json(again.state)["0"]) == ["later", "new", "old"]
    again.stop()


def test_config_set_appendonly_no_kills_the_rewrite(tmp_path, aofdir):
    srv = boot(tmp_path, rdb_key_save_delay="1000000")
    c = srv.connect()
    c.call("SET", "k", "v")
    c.call("BGREWRITEAOF")
    pid = srv.state.child_info.pid
    assert c.call("CONFIG", "SET", "appendonly", "no") == b"OK"
    assert srv.state.child_info is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    info = c.call("INFO", "persistence").decode()
    assert "aof_enabled:0" in info and "aof_rewrite_in_progress:0" in info
    assert "aof_last_bgrewrite_status:ok" in info and "aof_current_size" not in info
    srv.stop()


def test_auto_rewrite_on_growth(tmp_path, aofdir, caplog):
    caplog.set_level("INFO", logger="twistd_redis")
    srv = boot(tmp_path, auto_aof_rewrite_min_size="1kb", auto_aof_rewrite_percentage="100")
    c = srv.connect()
    for i in range(10):
        c.call("SET", "key%d" % i, "x" * 20)
    srv.advance(0.1)
    assert srv.state.aof.rewrites == 0  # below auto-aof-rewrite-min-size
    for i in range(20):
        c.call("SET", "key%d" % i, "x" * 20)
    srv.advance(0.1)
    assert srv.state.aof.rewrites == 1
    assert any(r.getMessage().startswith("Starting automatic rewriting of AOF on ") for r in caplog.records)
    wait_child(srv.state, 10)
    size = srv.state.aof.current_size
    assert srv.state.aof.rewrite_base_size == size > 0
    srv.advance(0.1)
    assert srv.state.aof.rewrites == 1  # no growth since
    srv.stop()


def test_shutdown_flushes_and_fsyncs(tmp_path, aofdir):
    srv = boot(tmp_path, appendfsync="no")
    c = srv.connect()
    c.send("CLIENT", "REPLY", "OFF")
    c.send("SET", "quiet", "1")  # no reply: nothing flushed it yet
    srv.stop()
    assert read(aofdir, "appendonly.aof.1.incr.aof").endswith(cmd("SET", "quiet", "1"))


# ---------------------------------------------------------------------------------- write errors


def test_write_error_denies_writes_with_misconf_until_it_clears(tmp_path, aofdir):
    srv = boot(tmp_path)
    c = srv.connect()
    aof = srv.state.aof
    good = aof.fd
    aof.fd = os.open("/dev/full", os.O_WRONLY)
    try:
        assert c.call("SET", "a", "1") == b"OK"  # the write is done; the file write failed
        misconf = "MISCONF Errors writing to the AOF file: No space left on device"
        assert err(c.call("SET", "b", "1")) == misconf
        assert err(c.call("PING")) == misconf
        assert c.call("GET", "a") == b"1"
        assert b"aof_last_write_status:err" in c.call("INFO", "persistence")
    finally:
        os.close(aof.fd)
        aof.fd = good
    srv.advance(1.1)  # the cron retries once a second
    assert c.call("PING") == b"PONG"
    assert c.call("SET", "b", "2") == b"OK"
    assert b"aof_last_write_status:ok" in c.call("INFO", "persistence")
    assert read(aofdir, "appendonly.aof.1.incr.aof") == select(0) + cmd("SET", "a", "1") + cmd("SET", "b", "2")
    srv.stop()


def test_write_error_with_always_exits(tmp_path):
    srv = boot(tmp_path, appendfsync="always")
    c = srv.connect()
    aof = srv.state.aof
    exits = []
    aof._fatal_exit = lambda: exits.append(1)
    good = aof.fd
    aof.fd = os.open("/dev/full", os.O_WRONLY)
    try:
        c.call("SET", "a", "1")
    finally:
        os.close(aof.fd)
        aof.fd = good
    assert exits == [1]
    srv.stop()


# ---------------------------------------------------------------------------------- loading


def _json(name):
    import json

    with open(os.path.join(SAMPLES, name)) as f:
        return json.load(f)


def test_load_real_redis_appendonlydir(tmp_path, aofdir):
    shutil.copytree(os.path.join(SAMPLES, "appendonlydir-7.0"), aofdir)
    srv = boot(tmp_path)
    assert state_json(srv.state) == _json("appendonlydir-7.0.json")
    info = srv.connect().call("INFO", "persistence").decode()
    base = os.path.getsize(aofdir / "appendonly.aof.2.base.rdb")
    incr = os.path.getsize(aofdir / "appendonly.aof.2.incr.aof")
    assert f"aof_current_size:{base + incr}" in info and f"aof_base_size:{base}" in info
    # appends go on in the last incr file
    srv.connect().call("SET", "x", "1")
    assert read(aofdir, "appendonly.aof.2.incr.aof").endswith(select(0) + cmd("SET", "x", "1"))
    srv.stop()


def test_legacy_preamble_aof_is_migrated(tmp_path, aofdir):
    shutil.copy(os.path.join(SAMPLES, "rdb-preamble.aof"), tmp_path / "appendonly.aof")
    srv = boot(tmp_path)
    assert state_json(srv.state) == _json("rdb-preamble-aof.json")
    assert not (tmp_path / "appendonly.aof").exists()
    assert read(aofdir, MANIFEST) == (
        b"file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    )
    srv.stop()
    again = boot(tmp_path)
    assert state_json(again.state) == _json("rdb-preamble-aof.json")
    again.stop()


def _commands_only_dir(aofdir, incr: bytes) -> None:
    aofdir.mkdir()
    (aofdir / MANIFEST).write_bytes(
        b"file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    )
    (aofdir / "appendonly.aof.1.base.aof").write_bytes(select(0) + cmd("SET", "base", "1"))
    (aofdir / "appendonly.aof.1.incr.aof").write_bytes(incr)


GOOD = select(0) + cmd("SET", "a", "1") + cmd("SET", "b", "2")


@pytest.mark.parametrize("cut", [1, 5, 9, 14])
def test_truncated_tail_loaded_and_cut_with_aof_load_truncated(tmp_path, aofdir, cut, caplog):
    tail = cmd("SET", "c", "3")[:cut]
    _commands_only_dir(aofdir, GOOD + tail)
    srv = boot(tmp_path)
    assert sorted(state_json(srv.state)["0"]) == ["a", "b", "base"]
    assert read(aofdir, "appendonly.aof.1.incr.aof") == GOOD
    msgs = [r.getMessage() for r in caplog.records]
    assert "!!! Warning: short read while loading the AOF file appendonly.aof.1.incr.aof!!!" in msgs
    assert "!!! Truncating the AOF appendonly.aof.1.incr.aof at offset %d !!!" % len(GOOD) in msgs
    assert "AOF appendonly.aof.1.incr.aof loaded anyway because aof-load-truncated is enabled" in msgs
    srv.stop()


def test_truncated_tail_refused_without_aof_load_truncated(tmp_path, aofdir):
    _commands_only_dir(aofdir, GOOD + cmd("SET", "c", "3")[:-3])
    srv = FakeServer({"dir": str(tmp_path), "appendonly": "yes", "aof-load-truncated": "no"}, start=False)
    with pytest.raises(
        StartupError, match="Unexpected end of file reading the append only file appendonly.aof.1.incr.aof"
    ):
        load_append_only_files(srv.state)
    assert read(aofdir, "appendonly.aof.1.incr.aof") == GOOD + cmd("SET", "c", "3")[:-3]


def test_incomplete_multi_is_reverted(tmp_path, aofdir, caplog):
    _commands_only_dir(aofdir, GOOD + cmd("MULTI") + cmd("SET", "x", "1"))
    srv = boot(tmp_path)
    assert sorted(state_json(srv.state)["0"]) == ["a", "b", "base"]
    assert read(aofdir, "appendonly.aof.1.incr.aof") == GOOD
    assert any("Revert incomplete MULTI/EXEC transaction" in r.getMessage() for r in caplog.records)
    srv.stop()


def test_multi_exec_replayed(tmp_path, aofdir):
    _commands_only_dir(
        aofdir,
        GOOD + cmd("MULTI") + cmd("INCR", "n") + cmd("INCR", "n") + cmd("EXEC") + select(5) + cmd("SET", "in5", "x"),
    )
    srv = boot(tmp_path)
    got = state_json(srv.state)
    assert got["0"]["n"]["value"] == "2" and got["5"]["in5"]["value"] == "x"
    srv.stop()


def test_truncated_file_that_is_not_the_last_refuses(tmp_path, aofdir):
    aofdir.mkdir()
    (aofdir / MANIFEST).write_bytes(
        b"file appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    )
    (aofdir / "appendonly.aof.1.incr.aof").write_bytes(GOOD + b"*2\r\n$3\r\nDEL")
    (aofdir / "appendonly.aof.2.incr.aof").write_bytes(GOOD)
    srv = FakeServer({"dir": str(tmp_path), "appendonly": "yes"}, start=False)
    with pytest.raises(StartupError, match="truncated file"):
        load_append_only_files(srv.state)


@pytest.mark.parametrize(
    "bad, message",
    [
        (
            GOOD + b"garbage\r\n" + cmd("SET", "c", "3"),
            "Bad file format reading the append only file appendonly.aof.1.incr.aof",
        ),
        (GOOD + b"*2\r\n%3\r\nGET\r\n$1\r\na\r\n", "Bad file format reading the append only file"),
        (GOOD + b"*0\r\n", "Bad file format reading the append only file"),
        (
            GOOD + cmd("NOSUCHCMD", "x") + GOOD,
            "Unknown command 'NOSUCHCMD' reading the append only file appendonly.aof.1.incr.aof",
        ),
    ],
)
def test_corrupt_middle_refuses_to_start(tmp_path, aofdir, bad, message):
    _commands_only_dir(aofdir, bad)
    srv = FakeServer({"dir": str(tmp_path), "appendonly": "yes"}, start=False)
    with pytest.raises(StartupError, match=message):
        load_append_only_files(srv.state)


def test_missing_listed_file_refuses(tmp_path, aofdir):
    _commands_only_dir(aofdir, GOOD)
    os.unlink(aofdir / "appendonly.aof.1.base.aof")
    srv = FakeServer({"dir": str(tmp_path), "appendonly": "yes"}, start=False)
    with pytest.raises(StartupError, match="appendonly.aof.1.base.aof"):
        load_append_only_files(srv.state)


def test_annotations_skipped_on_load(tmp_path, aofdir):
    _commands_only_dir(aofdir, b"#TS:1700000000\r\n" + GOOD)
    srv = boot(tmp_path)
    assert sorted(state_json(srv.state)["0"]) == ["a", "b", "base"]
    srv.stop()


def test_load_status_is_truncated(tmp_path, aofdir):
    _commands_only_dir(aofdir, GOOD + b"*1\r\n")
    srv = FakeServer({"dir": str(tmp_path), "appendonly": "yes"}, start=False)
    assert load_append_only_files(srv.state) == AOF_TRUNCATED


def test_info_fields_when_off_and_on(tmp_path):
    srv = FakeServer({"dir": str(tmp_path)})
    info = srv.connect().call("INFO", "persistence").decode().split("\r\n")
    i = info.index("aof_enabled:0")
    assert info[i : i + 13] == [
        "aof_enabled:0",
        "aof_rewrite_in_progress:0",
        "aof_rewrite_scheduled:0",
        "aof_last_rewrite_time_sec:-1",
        "aof_current_rewrite_time_sec:-1",
        "aof_last_bgrewrite_status:ok",
        "aof_rewrites:0",
        "aof_rewrites_consecutive_failures:0",
        "aof_last_write_status:ok",
        "aof_last_cow_size:0",
        "module_fork_in_progress:0",
        "module_fork_last_cow_size:0",
        "",
    ]
    srv.stop()
    (tmp_path / "on").mkdir()
    on = boot(tmp_path / "on")
    c = on.connect()
    c.call("SET", "a", "1")
    info = c.call("INFO", "persistence").decode().split("\r\n")
    i = info.index("module_fork_last_cow_size:0")
    assert info[i + 1 : i + 8] == [
        "aof_current_size:%d" % len(select(0) + cmd("SET", "a", "1")),
        "aof_base_size:0",
        "aof_pending_rewrite:0",
        "aof_buffer_length:0",
        "aof_pending_bio_fsync:0",
        "aof_delayed_fsync:0",
        "",
    ]
    on.stop()


def test_bgrewriteaof_inside_multi_is_scheduled(tmp_path):
    srv = boot(tmp_path)
    c = srv.connect()
    c.call("MULTI")
    c.call("BGREWRITEAOF")
    assert c.call("EXEC") == [b"Background append only file rewriting scheduled"]
    assert srv.state.aof.rewrite_scheduled
    srv.advance(0.1)
    assert wait_child(srv.state, 10).exitcode == 0
    assert srv.state.aof.rewrites == 1 and not srv.state.aof.rewrite_scheduled
    srv.stop()


def test_failed_rewrite_keeps_the_incr_files(tmp_path, aofdir, monkeypatch):
    srv = boot(tmp_path)
    c = srv.connect()
    c.call("SET", "a", "1")
    monkeypatch.setattr(aofmod, "rewrite_append_only_file", lambda state, name: False)  # the child fails
    assert c.call("BGREWRITEAOF") == b"Background append only file rewriting started"
    c.call("SET", "b", "2")
    assert wait_child(srv.state, 10).exitcode == 1
    info = c.call("INFO", "persistence").decode()
    assert "aof_last_bgrewrite_status:err" in info and "aof_rewrites_consecutive_failures:1" in info
    assert read(aofdir, MANIFEST) == (
        b"file appendonly.aof.1.base.rdb seq 1 type b\n"
        b"file appendonly.aof.1.incr.aof seq 1 type i\n"
        b"file appendonly.aof.2.incr.aof seq 2 type i\n"
    )
    monkeypatch.undo()
    srv.stop()
    again = boot(tmp_path)
    assert sorted(state_json(again.state)["0"]) == ["a", "b"]
    again.stop()
