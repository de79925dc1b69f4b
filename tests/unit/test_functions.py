"""Redis 7.0 functions in memory: what the compat scripts cannot see from outside - propagation
and dirty counts, the load timeout (and its waiver for the master link and the AOF), busy
functions with FUNCTION STATS / FUNCTION KILL, the engine of its own (SCRIPT FLUSH and FUNCTION
FLUSH), the libraries in RDB files, DEBUG RELOAD and AOF rewrites, INFO memory fields, MONITOR.
The texts were read from redis-server 7.0.15 (tests/compat/test_functions.py compares the rest).
"""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.harness import FakeConnection, FakeServer, ReplyError, encode_request
from twistd_redis.client import CLIENT_MASTER
from twistd_redis.persistence import rdb
from twistd_redis.persistence.aof import rewrite_commands
from twistd_redis.scripting.functions import (
    FunctionError,
    extract_metadata,
    get_functions,
    verify_name,
)

BUSY_FUNCTION = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
BUSY_EVAL = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
UNKILLABLE = (
    "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait "
    "the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
)
NOTBUSY = "NOTBUSY No scripts in execution right now."

LIB = (
    "#!lua name=lib\n"
    "redis.register_function('set', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n"
    "redis.register_function('set2', function(keys, args)\n"
    "  redis.call('set', keys[1], args[1])\n"
    "  return redis.call('incr', keys[2])\n"
    "end)\n"
    "redis.register_function{function_name='get', callback=function(keys) return redis.call('get', keys[1]) end,"
    " flags={'no-writes'}}\n"
)


def err(x: Any) -> str:
    assert isinstance(x, ReplyError), x
    return str(x)


# ---------------------------------------------------------------- parsing helpers


def test_extract_metadata():
    assert extract_metadata(b"#!lua name=x\nbody") == (b"lua", b"x", b"\nbody")
    assert extract_metadata(b"#!lua  NAME=x  \n") == (b"lua", b"x", b"\n")
    assert extract_metadata(b'#!"l u a" name="a b"\n') == (b"l u a", b"a b", b"\n")
    for code, msg in [
        (b"return", "Missing library metadata"),
        (b"#!lua name=x", "Invalid library metadata"),
        (b"#!lua name=x\0\n", "Invalid library metadata"),
        (b'#!lua name="x\n', "Invalid library metadata"),
        (b"#!lua\n", "Library name was not given"),
        (b"#!lua name=a name=b\n", "Invalid metadata value, name argument was given multiple times"),
        (b"#!lua name=a x\n", "Invalid metadata value given: x"),
    ]:
        with pytest.raises(FunctionError) as e:
            extract_metadata(code)
        assert e.value.msg == msg


def test_verify_name():
    assert verify_name(b"abc_XYZ_019")
    assert not verify_name(b"")
    assert not verify_name(b"a-b")
    assert not verify_name(b"a b")
    assert not verify_name("é".encode())


# ---------------------------------------------------------------- propagation and dirty


def test_admin_commands_propagate_as_themselves(server, conn, seen):
    st = server.state
    dirty = st.dirty
    assert conn.call("FUNCTION", "LOAD", LIB) == b"lib"
    assert conn.call("FUNCTION", "LOAD", "REPLACE", LIB) == b"lib"
    assert st.dirty == dirty + 2
    assert seen == [[b"FUNCTION", b"LOAD", LIB.encode()], [b"FUNCTION", b"LOAD", b"REPLACE", LIB.encode()]]
    seen.clear()
    # failures change nothing and propagate nothing
    assert err(conn.call("FUNCTION", "LOAD", LIB)) == "ERR Library 'lib' already exists"
    assert err(conn.call("FUNCTION", "DELETE", "nosuch")) == "ERR Library not found"
    assert err(conn.call("FUNCTION", "RESTORE", "junk")) == "ERR DUMP payload version or checksum are wrong"
    assert err(conn.call("FUNCTION", "FLUSH", "x")) == "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"
    assert seen == [] and st.dirty == dirty + 2
    payload = conn.call("FUNCTION", "DUMP")
    assert conn.call("FUNCTION", "DELETE", "lib") == b"OK"
    assert conn.call("FUNCTION", "RESTORE", payload) == b"OK"
    assert conn.call("FUNCTION", "FLUSH", "async") == b"OK"
    assert conn.call("FUNCTION", "FLUSH") == b"OK"
    empty = conn.call("FUNCTION", "DUMP")
    assert conn.call("FUNCTION", "RESTORE", empty, "FLUSH") == b"OK"  # nothing restored: still +1
    assert st.dirty == dirty + 7
    assert seen == [
        [b"FUNCTION", b"DELETE", b"lib"],
        [b"FUNCTION", b"RESTORE", payload],
        [b"FUNCTION", b"FLUSH", b"async"],
        [b"FUNCTION", b"FLUSH"],
        [b"FUNCTION", b"RESTORE", empty, b"FLUSH"],
    ]


def test_fcall_propagates_its_effects(server, conn, seen):
    conn.call("FUNCTION", "LOAD", LIB)
    seen.clear()
    dirty = server.state.dirty
    assert conn.call("FCALL", "set", 1, "k", "v") == b"OK"
    assert seen == [[b"set", b"k", b"v"]]  # as the function wrote it
    seen.clear()
    assert conn.call("FCALL", "SET2", 2, "k", "n", "w") == 1
    assert seen == [[b"MULTI"], [b"set", b"k", b"w"], [b"incr", b"n"], [b"EXEC"]]
    assert server.state.dirty == dirty + 3
    seen.clear()
    assert conn.call("FCALL_RO", "get", 1, "k") == b"w"
    assert conn.call("FCALL", "get", 1, "k") == b"w"
    assert err(conn.call("FCALL", "set", 1, "k")) == (
        "ERR Lua redis lib command arguments must be strings or integers script: set, on @user_function:2."
    )
    assert seen == []


def test_fcall_keys_args_and_db(conn):
    conn.call(
        "FUNCTION",
        "LOAD",
        "#!lua name=t\nredis.register_function('t', function(keys, args) "
        "return {#keys, #args, keys, args, redis.call('get', 'x')} end)",
    )
    conn.call("SELECT", 5)
    conn.call("SET", "x", "in5")
    assert conn.call("FCALL", "t", 2, "a", "b", "c") == [2, 1, [b"a", b"b"], [b"c"], b"in5"]
    assert conn.call("FCALL", "t", 0) == [0, 0, [], [], b"in5"]
    assert conn.call("FCALL", "T", "3", "a", "b", "c") == [3, 0, [b"a", b"b", b"c"], [], b"in5"]
    assert err(conn.call("FCALL", "t", "1.0")) == "ERR Bad number of keys provided"
    assert err(conn.call("FCALL", "t", " 1", "a")) == "ERR Bad number of keys provided"


def test_monitor_sees_fcall_before_its_commands(server, conn):
    conn.call("FUNCTION", "LOAD", LIB)
    mon = server.connect()
    assert mon.call("MONITOR") == b"OK"
    conn.call("FCALL", "set", 1, "k", "v")
    lines = mon.transport.value().split(b"\r\n")
    assert b'"FCALL" "set" "1" "k" "v"' in lines[0]
    assert lines[1].endswith(b'[0 lua] "set" "k" "v"')


# ---------------------------------------------------------------- the engine of its own


def test_engines_are_separate(server, conn):
    conn.call("FUNCTION", "LOAD", LIB)
    funcs = get_functions(server.state)
    engine = funcs.engine
    assert conn.call("SCRIPT", "FLUSH") == b"OK"
    assert funcs.engine is engine
    assert conn.call("FCALL", "set", 1, "k", "v") == b"OK"
    # EVAL's sandbox has no register_function; a function's has no breakpoint
    assert conn.call("EVAL", "return type(redis.register_function)", 0) == b"nil"
    conn.call(
        "FUNCTION",
        "LOAD",
        "#!lua name=probe\nredis.register_function('probe', function() "
        "return {type(redis.breakpoint), type(redis.replicate_commands), type(rawget(_G, '__redis__err__handler'))} end)",
    )
    assert conn.call("FCALL", "probe", 0) == [b"nil", b"nil", b"nil"]
    assert conn.call("FUNCTION", "FLUSH") == b"OK"
    assert funcs.engine is not engine
    assert err(conn.call("FCALL", "set", 1, "k", "v")) == "ERR Function not found"
    assert server.state.lua is not None  # FUNCTION FLUSH leaves EVAL's engine alone
    conn.call("FUNCTION", "LOAD", LIB)
    assert conn.call("FCALL", "set", 1, "k", "v2") == b"OK"


def test_replace_keeps_the_old_library_on_failure(conn):
    conn.call("FUNCTION", "LOAD", LIB)
    conn.call("FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('o', function() return 'o' end)")
    bad = "#!lua name=lib\nredis.register_function('o', function() end)"
    assert err(conn.call("FUNCTION", "LOAD", "REPLACE", bad)) == "ERR Function o already exists"
    assert err(conn.call("FUNCTION", "LOAD", "REPLACE", "#!lua name=lib\nx x")).startswith(
        "ERR Error compiling function"
    )
    assert conn.call("FCALL", "set", 1, "k", "v") == b"OK"
    stats = conn.call("FUNCTION", "STATS")
    assert stats[3] == [b"LUA", [b"libraries_count", 2, b"functions_count", 4]]


def test_info_memory_fields(conn):
    def fields() -> dict[bytes, bytes]:
        info = conn.call("INFO", "memory").split(b"\r\n")
        return dict(line.split(b":", 1) for line in info if b":" in line)

    f = fields()
    assert f[b"number_of_functions"] == b"0" and f[b"number_of_libraries"] == b"0"
    conn.call("FUNCTION", "LOAD", LIB)
    conn.call("FUNCTION", "LOAD", "#!lua name=b\nredis.register_function('b', function() end)")
    f = fields()
    assert f[b"number_of_functions"] == b"4" and f[b"number_of_libraries"] == b"2"
    assert int(f[b"used_memory_vm_functions"]) > 10000
    assert int(f[b"used_memory_functions"]) > len(LIB)
    conn.call("FUNCTION", "FLUSH")
    f = fields()
    assert f[b"number_of_functions"] == b"0" and f[b"number_of_libraries"] == b"0"


# ---------------------------------------------------------------- the load timeout


def advancing_clock(server: FakeServer, step: float = 0.01) -> None:
    """Every clock read moves time on by ``step`` seconds (a load's hook reads it)."""
    clock = server.clock

    def seconds() -> float:
        clock.rightNow += step
        return clock.rightNow

    clock.seconds = seconds  # type: ignore[method-assign]


SLOW = "#!lua name=slow\nfor i = 1, 20000000 do end\nredis.register_function('slow', function() return 'loaded' end)"


def test_load_timeout(server, conn):
    advancing_clock(server)
    r = conn.call("FUNCTION", "LOAD", "#!lua name=slow\nwhile true do end")
    assert err(r) == "ERR Error registering functions: ERR FUNCTION LOAD timeout"
    r = conn.call("FUNCTION", "LOAD", "#!lua name=slow\nlocal function f() while true do end end\nf()")
    assert err(r) == "ERR Error registering functions: ERR FUNCTION LOAD timeout"
    assert conn.call("FUNCTION", "LIST") == []
    assert conn.call("PING") == b"PONG"


def test_no_load_timeout_for_the_master_link(server, conn):
    advancing_clock(server)
    assert err(conn.call("FUNCTION", "LOAD", SLOW)) == "ERR Error registering functions: ERR FUNCTION LOAD timeout"
    conn.client.flags |= CLIENT_MASTER
    try:
        assert conn.call("FUNCTION", "LOAD", SLOW) == b"slow"
    finally:
        conn.client.flags &= ~CLIENT_MASTER
    assert conn.call("FCALL", "slow", 0) == b"loaded"


# ---------------------------------------------------------------- busy functions


class Steps:
    """state.events_while_blocked: each hook call runs the next step."""

    def __init__(self, *steps: Callable[[], Any]) -> None:
        self.steps = list(steps)
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if self.steps:
            self.steps.pop(0)()


def feed(conn: FakeConnection, *args: Any) -> Callable[[], None]:
    return lambda: conn.proto.dataReceived(encode_request(*args))


@pytest.fixture
def busy():
    srv = FakeServer({"busy-reply-threshold": 100})
    clock, state = srv.clock, srv.state

    def seconds() -> float:  # time passes only while a script runs
        if state.script_run is not None:
            clock.rightNow += 0.05
        return clock.rightNow

    clock.seconds = seconds  # type: ignore[method-assign]
    yield srv
    srv.stop()


BUSY_LIB = (
    "#!lua name=busy\n"
    "redis.register_function('loop', function(keys, args)\n"
    "  while true do end\n"
    "end)\n"
    "redis.register_function('wloop', function(keys, args)\n"
    "  redis.call('set', 'x', 'y')\n"
    "  for i = 1, 3000000 do end\n"
    "  return redis.call('get', 'x')\n"
    "end)\n"
)


def run(server: FakeServer, steps: Steps, caller: FakeConnection, *args: Any) -> list[Any]:
    server.state.events_while_blocked = steps
    try:
        caller.send(*args)
    finally:
        server.state.events_while_blocked = None
    return caller.replies()


def test_function_stats_and_kill_while_busy(busy):
    caller, other = busy.connect(), busy.connect()
    caller.call("FUNCTION", "LOAD", BUSY_LIB)
    other.call("HELLO", "3")
    steps = Steps(
        feed(other, "FUNCTION", "STATS"),
        feed(other, "SCRIPT", "KILL"),
        feed(other, "FUNCTION", "LIST"),
        feed(other, "PING"),
        feed(other, "FUNCTION", "KILL"),
    )
    replies = run(busy, steps, caller, "FCALL", "loop", 1, "k", "a", "b")
    assert [err(r) for r in replies] == [
        "ERR Script killed by user with SCRIPT KILL... script: loop, on @user_function:3."
    ]
    stats, script_kill, flist, ping, kill = other.replies()
    assert stats[b"running_script"][b"name"] == b"loop"
    assert stats[b"running_script"][b"command"] == [b"FCALL", b"loop", b"1", b"k", b"a", b"b"]
    assert stats[b"running_script"][b"duration_ms"] >= 100
    assert stats[b"engines"] == {b"LUA": {b"libraries_count": 1, b"functions_count": 2}}
    assert [err(script_kill), err(flist), err(ping)] == [BUSY_FUNCTION] * 3
    assert kill == b"OK"
    assert err(other.call("FUNCTION", "KILL")) == NOTBUSY
    assert other.call("FUNCTION", "STATS")[b"running_script"] is None
    assert busy.state.busy_error is None


def test_unkillable_function_after_a_write(busy):
    caller, other = busy.connect(), busy.connect()
    caller.call("FUNCTION", "LOAD", BUSY_LIB)
    replies = run(busy, Steps(feed(other, "FUNCTION", "KILL")), caller, "FCALL", "wloop", 0)
    assert replies == [b"y"]
    assert [err(r) for r in other.replies()] == [UNKILLABLE]


def test_function_commands_while_an_eval_is_busy(busy):
    caller, other = busy.connect(), busy.connect()
    steps = Steps(
        feed(other, "FUNCTION", "STATS"),
        feed(other, "FUNCTION", "KILL"),
        feed(other, "SCRIPT", "KILL"),
    )
    replies = run(busy, steps, caller, "EVAL", "while true do end", 0)
    assert err(replies[0]).startswith("ERR Script killed by user with SCRIPT KILL... script: ")
    stats, fkill, skill = other.replies()
    assert [err(stats), err(fkill)] == [BUSY_EVAL, BUSY_EVAL]
    assert skill == b"OK"


# ---------------------------------------------------------------- RDB, DEBUG RELOAD, AOF rewrite


def test_rdb_holds_the_libraries(server, conn):
    conn.call("FUNCTION", "LOAD", LIB)
    conn.call("SET", "k", "v")
    out = io.BytesIO()
    from twistd_redis.persistence.snapshot import load_rdb, write_rdb

    write_rdb(server.state, out)
    data = out.getvalue()
    events = [ev for ev in rdb.load(data) if ev[0] in ("function", "db", "key")]
    assert events[0] == ("function", LIB.encode())  # before the databases, as 7.0 writes them
    assert events[1][0] == "db"
    other = FakeServer()
    try:
        load_rdb(other.state, data)
        c2 = other.connect()
        assert c2.call("FCALL", "set", 1, "k2", "v2") == b"OK"
        assert c2.call("FUNCTION", "LIST", "WITHCODE")[0][-1] == LIB.encode()
        # a second load of the same file replaces (RDBFLAGS_ALLOW_DUP); without it, it fails
        load_rdb(other.state, data)
        with pytest.raises(rdb.RdbError, match="Failed loading library, Library 'lib' already exists"):
            load_rdb(other.state, data, replace=False)
    finally:
        other.stop()


def test_debug_reload_keeps_and_resets_libraries():
    server = FakeServer({"enable-debug-command": "yes"})
    conn = server.connect()
    conn.call("FUNCTION", "LOAD", LIB)
    assert conn.call("DEBUG", "RELOAD") == b"OK"
    assert conn.call("FCALL", "set", 1, "k", "v") == b"OK"
    # a library loaded after the save is gone after a reload without saving
    assert conn.call("SAVE") == b"OK"
    conn.call("FUNCTION", "LOAD", "#!lua name=late\nredis.register_function('late', function() end)")
    assert conn.call("DEBUG", "RELOAD", "NOSAVE") == b"OK"
    assert [lib[1] for lib in conn.call("FUNCTION", "LIST")] == [b"lib"]
    # MERGE NOFLUSH: the file's libraries replace the ones in memory
    conn.call("FUNCTION", "LOAD", "#!lua name=late\nredis.register_function('late', function() end)")
    assert conn.call("DEBUG", "RELOAD", "MERGE", "NOFLUSH", "NOSAVE") == b"OK"
    assert sorted(lib[1] for lib in conn.call("FUNCTION", "LIST")) == [b"late", b"lib"]
    os.unlink(os.path.join(server.state.config["dir"], server.state.config["dbfilename"]))
    server.stop()


def test_aof_rewrite_loads_the_libraries_first(server, conn):
    conn.call("SET", "k", "v")
    conn.call("FUNCTION", "LOAD", LIB)
    out = io.BytesIO()
    rewrite_commands(server.state, out)
    data = out.getvalue()
    code = LIB.encode()
    assert data.startswith(b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n$%d\r\n%s\r\n*2\r\n$6\r\nSELECT" % (len(code), code))


def test_restore_reads_into_the_footer():
    """A record may read into the version and CRC bytes, as Redis's rio buffer allows."""
    from twistd_redis.scripting.functions import Functions

    srv = FakeServer()
    try:
        funcs = Functions(srv.state)
        import struct

        from twistd_redis.persistence.crc64 import crc64

        body = b"\xf5\x05ab" + struct.pack("<H", 10)
        p = body + struct.pack("<Q", crc64(body))
        with pytest.raises(FunctionError) as e:
            funcs.restore(p, "append")
        assert e.value.msg == "Missing library metadata"
    finally:
        srv.stop()


def test_fcall_counts_and_names(conn):
    conn.call("FUNCTION", "LOAD", LIB)
    counter = itertools.count()
    for _ in range(3):
        conn.call("FCALL", "set", 1, "k", str(next(counter)))
    info = conn.call("INFO", "commandstats")
    assert b"cmdstat_fcall:calls=3," in info
    assert b"cmdstat_function|load:calls=1," in info
