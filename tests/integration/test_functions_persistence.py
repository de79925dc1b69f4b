"""Function libraries through persistence and replication, between twistd-redis and a real
redis-server 7.0.15 both ways.

- RDB: libraries SAVEd by one kind of server load from the file alone in the other (same FUNCTION
  LIST WITHCODE, the functions callable); a restart and DEBUG RELOAD keep them.
- AOF: FUNCTION LOAD / DELETE / RESTORE / FLUSH logged as themselves and replayed at restart;
  a rewrite puts the libraries in the base (an RDB preamble, or FUNCTION LOAD commands first);
  an AOF directory written by one kind of server loads in the other.
- Replication, every (master, replica) pair of kinds: a full sync ships the master's libraries
  inside the RDB and drops the replica's own; later FUNCTION LOAD / DELETE / RESTORE / FLUSH reach
  the replica; functions without ``no-writes`` are refused on the replica, read-only ones run.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import redis

from tests.helpers_proc import ServerProcess
from tests.integration.repl_helpers import (
    PAIR_IDS,
    PAIRS,
    client,
    restart,
    start_master,
    start_replica_of,
    start_server,
    wait_converged,
    wait_until,
)

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")

LIBS = [
    "#!lua name=plain\nredis.register_function('hello', function(keys, args) return 'hello ' .. (args[1] or '') end)",
    (
        "#!lua name=writer\n"
        "redis.register_function('setget', function(keys, args)\n"
        "  redis.call('set', keys[1], args[1])\n"
        "  return redis.call('get', keys[1])\n"
        "end)\n"
        "redis.register_function{function_name='reader', callback=function(keys) return redis.call('get', keys[1]) end,\n"
        "  flags={'no-writes', 'allow-stale'}, description='reads one key'}\n"
        "redis.register_function{function_name='oomok', callback=function() return 1 end, flags={'allow-oom'}}\n"
        "redis.register_function{function_name='strict', callback=function() return 's' end, flags={'no-writes'}}\n"
    ),
    # long enough for LZF in the RDB
    "#!lua name=padded\n"
    + "-- padding padding padding padding padding padding padding padding\n" * 20
    + "redis.register_function('padded', function() return 'p' end)\n",
]


def raw(c: redis.Redis, *args):
    return c.execute_command(*args)


def load_all(c: redis.Redis, libs=LIBS) -> None:
    for code in libs:
        raw(c, "FUNCTION", "LOAD", code)


def canon(v):
    """A parsed reply with every list sorted (libraries and functions come in hash order)."""
    if isinstance(v, list):
        if v and isinstance(v[0], bytes) and v[0] in (b"library_name", b"name") and len(v) % 2 == 0:
            return tuple(sorted((canon(k), canon(x)) for k, x in zip(v[::2], v[1::2])))
        return tuple(sorted((canon(x) for x in v), key=repr))
    return v


def libraries(c: redis.Redis):
    return canon(raw(c, "FUNCTION", "LIST", "WITHCODE"))


def check_callable(c: redis.Redis) -> None:
    assert raw(c, "FCALL", "hello", 0, "you") == b"hello you"
    assert raw(c, "FCALL", "padded", 0) == b"p"


# ---------------------------------------------------------------- RDB


@pytest.mark.parametrize("src,dst", [("ours", "real"), ("real", "ours"), ("ours", "ours")])
def test_rdb_file_carries_the_libraries(tmp_path: Path, src: str, dst: str):
    a = start_server(src, tmp_path, role="src")
    try:
        ca = client(a)
        load_all(ca)
        ca.set("k", "v")
        expected = libraries(ca)
        assert raw(ca, "SAVE")
        dump = Path(a.dir) / "dump.rdb"
        data = dump.read_bytes()
        assert data.index(b"\xf5") < data.index(b"\xfe")  # FUNCTION2 records before SELECTDB
    finally:
        a.stop()
    d = tmp_path / "dst"
    d.mkdir()
    shutil.copy(dump, d / "dump.rdb")
    b = start_server(dst, tmp_path, d=d)
    try:
        cb = client(b)
        assert cb.get("k") == b"v"
        assert libraries(cb) == expected
        check_callable(cb)
        assert raw(cb, "FCALL", "setget", 1, "x", "1") == b"1"
    finally:
        b.stop()


@pytest.mark.parametrize("kind", ["ours", "real"])
def test_restart_and_debug_reload_keep_the_libraries(tmp_path: Path, kind: str):
    srv = start_server(kind, tmp_path, "--enable-debug-command", "yes", save="3600 1")
    try:
        c = client(srv)
        load_all(c)
        expected = libraries(c)
        assert raw(c, "DEBUG", "RELOAD") == b"OK"
        assert libraries(c) == expected
        raw(c, "FUNCTION", "DELETE", "padded")
        expected = libraries(c)
        restart(srv)  # SIGTERM with a save point: saved on the way out
        c = client(srv)
        assert libraries(c) == expected
        assert raw(c, "FCALL", "hello", 0) == b"hello "
        raw(c, "FUNCTION", "FLUSH")
        assert raw(c, "DEBUG", "RELOAD") == b"OK"
        assert raw(c, "FUNCTION", "LIST") == []
    finally:
        srv.stop()


# ---------------------------------------------------------------- AOF


def aof_history(c: redis.Redis) -> None:
    load_all(c)
    payload = raw(c, "FUNCTION", "DUMP")
    raw(c, "FUNCTION", "DELETE", "plain")
    raw(c, "FCALL", "setget", 1, "k", "v1")
    raw(c, "FUNCTION", "RESTORE", payload, "REPLACE")
    raw(c, "FUNCTION", "FLUSH", "ASYNC")
    raw(c, "FUNCTION", "RESTORE", payload)
    raw(c, "FUNCTION", "LOAD", "REPLACE", LIBS[0].replace("'hello '", "'hi '"))


@pytest.mark.parametrize("kind", ["ours", "real"])
@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_aof_replays_function_commands(tmp_path: Path, kind: str, preamble: str):
    srv = start_server(kind, tmp_path, "--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
    try:
        c = client(srv)
        aof_history(c)
        expected = libraries(c)
        assert raw(c, "FCALL", "hello", 0, "x") == b"hi x"
        restart(srv)
        c = client(srv)
        assert libraries(c) == expected
        assert c.get("k") == b"v1"
        # a rewrite puts the libraries in the base file
        raw(c, "BGREWRITEAOF")
        wait_until(lambda: raw(c, "INFO", "persistence").get("aof_rewrite_in_progress") == 0, 15, "rewrite")
        time.sleep(0.2)
        base = [p for p in (Path(srv.dir) / "appendonlydir").iterdir() if ".base." in p.name]
        assert len(base) == 1
        data = base[0].read_bytes()
        if preamble == "yes":
            assert data.startswith(b"REDIS") and b"\xf5" in data
        else:
            assert data.startswith(b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n")
        restart(srv)
        c = client(srv)
        assert libraries(c) == expected
    finally:
        srv.stop()


@pytest.mark.parametrize("src,dst", [("ours", "real"), ("real", "ours")])
@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_aof_directory_loads_in_the_other_server(tmp_path: Path, src: str, dst: str, preamble: str):
    a = start_server(src, tmp_path, "--appendonly", "yes", "--aof-use-rdb-preamble", preamble, role="src")
    try:
        c = client(a)
        raw(c, "FUNCTION", "LOAD", "#!lua name=base\nredis.register_function('base', function() return 'b' end)")
        raw(c, "BGREWRITEAOF")
        wait_until(lambda: raw(c, "INFO", "persistence").get("aof_rewrite_in_progress") == 0, 15, "rewrite")
        time.sleep(0.2)
        aof_history(c)  # after the rewrite: in the incr file
        expected = libraries(c)
    finally:
        a.stop()
    d = tmp_path / "dst"
    d.mkdir()
    shutil.copytree(Path(a.dir) / "appendonlydir", d / "appendonlydir")
    b = start_server(dst, tmp_path, "--appendonly", "yes", d=d)
    try:
        cb = client(b)
        assert libraries(cb) == expected
        assert cb.get("k") == b"v1"
    finally:
        b.stop()


# ---------------------------------------------------------------- replication


@pytest.mark.parametrize("mkind,rkind", PAIRS, ids=PAIR_IDS)
def test_replication_ships_and_follows_the_libraries(tmp_path: Path, mkind: str, rkind: str):
    master = start_master(mkind, tmp_path)
    replica = None
    try:
        m = client(master)
        load_all(m, LIBS[:2])
        # the replica's own library is dropped by the full sync
        replica = start_server(rkind, tmp_path, role="replica")
        r = client(replica)
        raw(r, "FUNCTION", "LOAD", "#!lua name=mine\nredis.register_function('hello', function() return 'mine' end)")
        raw(r, "REPLICAOF", "127.0.0.1", master.port)
        wait_converged(m, r)
        assert libraries(r) == libraries(m)
        # later changes follow
        raw(m, "FUNCTION", "LOAD", LIBS[2])
        payload = raw(m, "FUNCTION", "DUMP")
        raw(m, "FUNCTION", "DELETE", "plain")
        wait_converged(m, r)
        assert libraries(r) == libraries(m)
        raw(m, "FUNCTION", "FLUSH")
        wait_converged(m, r)
        assert raw(r, "FUNCTION", "LIST") == []
        raw(m, "FUNCTION", "RESTORE", payload)
        assert raw(m, "FCALL", "setget", 1, "k", "from-master") == b"from-master"
        wait_converged(m, r)
        assert libraries(r) == libraries(m)
        assert r.get("k") == b"from-master"
        # on the replica: read-only functions run, the others are refused
        assert raw(r, "FCALL", "reader", 1, "k") == b"from-master"
        assert raw(r, "FCALL_RO", "reader", 1, "k") == b"from-master"
        for cmd in ("FCALL", "FCALL_RO"):
            with pytest.raises(redis.ResponseError) as e:
                raw(r, cmd, "hello", 0)
            assert str(e.value) == "You can't write against a read only replica."
    finally:
        for srv in (replica, master):
            if srv is not None:
                srv.stop()


def test_real_and_ours_agree_on_replica_errors(tmp_path: Path):
    """The error texts of function calls refused on a replica, side by side."""
    out = {}
    for kind in ("real", "ours"):
        master = start_master("real", tmp_path)
        replica = start_replica_of(kind, master.port, tmp_path)
        try:
            m, r = client(master), client(replica)
            load_all(m, LIBS[:2])
            wait_converged(m, r)
            got = []
            for args in (
                ("FCALL", "hello", 0),
                ("FCALL_RO", "hello", 0),
                ("FCALL", "reader", 1, "k"),
                ("FUNCTION", "LOAD", LIBS[2]),
                ("FUNCTION", "DELETE", "plain"),
                ("FUNCTION", "FLUSH"),
            ):
                try:
                    got.append(raw(r, *args))
                except redis.ResponseError as e:
                    got.append(("error", str(e)))
            # a stale replica serves only the functions flagged allow-stale
            raw(r, "CONFIG", "SET", "replica-serve-stale-data", "no")
            master.stop()
            wait_until(lambda r=r: raw(r, "INFO", "replication").get("master_link_status") == "down", 10, "link down")
            for args in (
                ("FCALL", "reader", 1, "k"),
                ("FCALL_RO", "reader", 1, "k"),
                ("FCALL", "hello", 0),
                ("FCALL", "strict", 0),
                ("FCALL_RO", "strict", 0),
                ("FCALL", "oomok", 0),
                ("FCALL_RO", "hello", 0),
                ("FCALL", "nosuch", 0),
                ("FUNCTION", "LIST"),
            ):
                try:
                    got.append(raw(r, *args))
                except redis.ResponseError as e:
                    got.append(("error", str(e)))
            out[kind] = got
        finally:
            replica.stop()
            master.stop()
    assert out["ours"] == out["real"]


def test_function_restore_of_a_real_payload(tmp_path: Path):
    """FUNCTION DUMP of several libraries by the real server restores in ours, and back."""
    with ServerProcess.real(None, cwd=str(tmp_path)) as real:
        d = tmp_path / "ours"
        d.mkdir()
        ours = start_server("ours", tmp_path, d=d)
        try:
            cr, co = client(real), client(ours)
            load_all(cr)
            raw(co, "FUNCTION", "RESTORE", raw(cr, "FUNCTION", "DUMP"))
            assert libraries(co) == libraries(cr)
            raw(cr, "FUNCTION", "FLUSH")
            raw(cr, "FUNCTION", "RESTORE", raw(co, "FUNCTION", "DUMP"))
            assert libraries(co) == libraries(cr)
            check_callable(co)
            check_callable(cr)
        finally:
            ours.stop()
