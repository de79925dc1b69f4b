"""EVAL / EVALSHA / SCRIPT on the FakeServer: what the compat tests cannot show.

Propagation (captured from ``state.propagation_targets``): a script's writes go out as their
own commands wrapped in one MULTI/EXEC (a lone write unwrapped), EVAL itself never; reads
propagate nothing; ``redis.set_repl`` sends ops to the AOF only, the replicas only or nowhere;
a SELECT inside a script moves the ops to that db without moving the caller. The INFO memory
fields of the script cache. math.random's single rand48 state per server (a fresh server's
sequence, read from a fresh redis-server 7.0.15, running on across scripts and SCRIPT FLUSH).
Replies and arguments past the Lua C stack's LUAI_MAXCSTACK. Every reply text here was
compared with redis-server 7.0.15 in tests/compat/test_scripting.py.
"""

from __future__ import annotations

import pytest

from tests.unit.harness import FakeServer, ReplyError
from twistd_redis.scripting.engine import sha1hex


class Targets:
    """Two propagation targets: the AOF's feed (recognised by identity, as redis.set_repl's
    mask needs) and a replica link."""

    def __init__(self, state) -> None:
        self.aof: list[tuple[int, list[bytes]]] = []
        self.repl: list[tuple[int, list[bytes]]] = []

        def aof_feed(dbid: int, argv: list[bytes]) -> None:
            self.aof.append((dbid, list(argv)))

        def repl_feed(dbid: int, argv: list[bytes]) -> None:
            self.repl.append((dbid, list(argv)))

        state.aof.feed = aof_feed
        state.propagation_targets[:] = [aof_feed, repl_feed]

    def clear(self) -> None:
        del self.aof[:]
        del self.repl[:]


@pytest.fixture
def targets(server):
    return Targets(server.state)


def ops(feed: list[tuple[int, list[bytes]]]) -> list[tuple]:
    return [(dbid, *argv) for dbid, argv in feed]


# ---------------------------------------------------------------------------- propagation


def test_writes_wrapped_in_multi_exec_and_eval_never_propagated(conn, targets):
    body = "redis.call('SET', KEYS[1], ARGV[1]) redis.call('INCR', 'n') return redis.call('GET', KEYS[1])"
    assert conn.call("EVAL", body, "1", "k", "v") == b"v"
    expected = [(0, b"MULTI"), (0, b"SET", b"k", b"v"), (0, b"INCR", b"n"), (0, b"EXEC")]
    assert ops(targets.aof) == expected
    assert ops(targets.repl) == expected
    targets.clear()
    sha = conn.call("SCRIPT", "LOAD", body)
    assert conn.call("EVALSHA", sha, "1", "k", "w") == b"w"
    assert ops(targets.repl) == [(0, b"MULTI"), (0, b"SET", b"k", b"w"), (0, b"INCR", b"n"), (0, b"EXEC")]


def test_single_write_unwrapped_reads_nothing(conn, targets):
    assert conn.call("EVAL", "return redis.call('SET', 'k', 'v')", "0") == b"OK"
    assert ops(targets.repl) == [(0, b"SET", b"k", b"v")]
    targets.clear()
    assert conn.call("EVAL", "return redis.call('GET', 'k')", "0") == b"v"
    assert conn.call("EVAL_RO", "return redis.call('GET', 'k')", "0") == b"v"
    assert conn.call("EVAL", "return 1", "0") == 1
    assert conn.call("SCRIPT", "LOAD", "return 2") == sha1hex(b"return 2")
    assert targets.aof == targets.repl == []


def test_write_commands_rewritten_as_their_effects(conn, server, targets):
    # a command that propagates something else (SET EX -> SET PXAT, SPOP -> SREM) keeps its
    # rewrite inside a script
    conn.call("SADD", "s", "only")
    targets.clear()
    assert conn.call("EVAL", "redis.call('SET', 'e', 'v', 'EX', 100) return redis.call('SPOP', 's')", "0") == b"only"
    expiry = b"%d" % (server.state.mstime + 100_000)
    assert ops(targets.repl) == [
        (0, b"MULTI"),
        (0, b"SET", b"e", b"v", b"PXAT", expiry),
        (0, b"SREM", b"s", b"only"),
        (0, b"EXEC"),
    ]


def test_writes_before_an_error_are_propagated(conn, targets):
    with pytest.raises(ReplyError):
        raise conn.call("EVAL", "redis.call('SET', 'a', '1') redis.call('nosuch')", "0")
    assert ops(targets.repl) == [(0, b"SET", b"a", b"1")]
    targets.clear()
    r = conn.call("EVAL", "redis.call('SET', 'b', '1') redis.call('SET', 'c', '1') error('late')", "0")
    assert isinstance(r, ReplyError)
    assert ops(targets.repl) == [(0, b"MULTI"), (0, b"SET", b"b", b"1"), (0, b"SET", b"c", b"1"), (0, b"EXEC")]


def test_set_repl_masks(conn, targets):
    body = """
    redis.call('SET', 'all1', '1')
    redis.set_repl(redis.REPL_AOF)
    redis.call('SET', 'aof', '1')
    redis.set_repl(redis.REPL_REPLICA)
    redis.call('SET', 'replica', '1')
    redis.set_repl(redis.REPL_NONE)
    redis.call('SET', 'none', '1')
    redis.set_repl(redis.REPL_ALL)
    redis.call('SET', 'all2', '1')
    return redis.call('DBSIZE')
    """
    assert conn.call("EVAL", body, "0") == 5
    assert ops(targets.aof) == [
        (0, b"MULTI"),
        (0, b"SET", b"all1", b"1"),
        (0, b"SET", b"aof", b"1"),
        (0, b"SET", b"all2", b"1"),
        (0, b"EXEC"),
    ]
    assert ops(targets.repl) == [
        (0, b"MULTI"),
        (0, b"SET", b"all1", b"1"),
        (0, b"SET", b"replica", b"1"),
        (0, b"SET", b"all2", b"1"),
        (0, b"EXEC"),
    ]
    targets.clear()
    # REPL_NONE for the whole script: nothing at all; the mask does not outlive the script
    assert conn.call("EVAL", "redis.set_repl(redis.REPL_NONE) return redis.call('SET', 'x', '1')", "0") == b"OK"
    assert targets.aof == targets.repl == []
    assert conn.call("SET", "after", "1") == b"OK"
    assert ops(targets.repl) == [(0, b"SET", b"after", b"1")]
    assert ops(targets.aof) == [(0, b"SET", b"after", b"1")]


def test_set_repl_only_aof_single_op(conn, targets):
    assert conn.call("EVAL", "redis.set_repl(redis.REPL_AOF) return redis.call('SET', 'x', '1')", "0") == b"OK"
    assert ops(targets.aof) == [(0, b"SET", b"x", b"1")]
    assert targets.repl == []


def test_select_inside_script(conn, targets):
    conn.call("SELECT", "2")
    targets.clear()
    body = (
        "redis.call('SET', 'a', '1') redis.call('SELECT', 5) redis.call('SET', 'b', '1') return redis.call('GET', 'b')"
    )
    assert conn.call("EVAL", body, "0") == b"1"
    assert ops(targets.repl) == [(2, b"MULTI"), (2, b"SET", b"a", b"1"), (5, b"SET", b"b", b"1"), (5, b"EXEC")]
    # the caller stays in its own db; the next script starts there again
    assert conn.call("GET", "a") == b"1"
    assert conn.call("GET", "b") is None
    assert conn.call("EVAL", "return redis.call('GET', 'a')", "0") == b"1"
    conn.call("SELECT", "5")
    assert conn.call("GET", "b") == b"1"


def test_eval_inside_multi_one_transaction(conn, targets):
    conn.call("MULTI")
    conn.call("SET", "a", "1")
    conn.call("EVAL", "redis.call('SET', 'b', '1') return redis.call('SET', 'c', '1')", "0")
    conn.call("EVAL", "return redis.call('GET', 'a')", "0")
    assert conn.call("EXEC") == [b"OK", b"OK", b"1"]
    assert ops(targets.repl) == [
        (0, b"MULTI"),
        (0, b"SET", b"a", b"1"),
        (0, b"SET", b"b", b"1"),
        (0, b"SET", b"c", b"1"),
        (0, b"EXEC"),
    ]


def test_dirty_counts_the_script_writes(conn, server):
    before = server.state.dirty
    conn.call("EVAL", "redis.call('SET', 'a', '1') redis.call('RPUSH', 'l', 1, 2, 3) return 1", "0")
    assert server.state.dirty - before == 4  # SET 1 + RPUSH 3; EVAL itself adds nothing
    before = server.state.dirty
    conn.call("EVAL", "return redis.call('GET', 'a')", "0")
    assert server.state.dirty == before


# ---------------------------------------------------------------------------- INFO memory


def info(conn, section: str) -> dict[bytes, bytes]:
    out = {}
    for line in conn.call("INFO", section).split(b"\r\n"):
        if b":" in line:
            k, v = line.split(b":", 1)
            out[k] = v
    return out


def test_info_memory_script_fields(conn):
    m = info(conn, "memory")
    lua = int(m[b"used_memory_lua"])
    assert lua > 0 and lua % 1024 == 0  # the Lua heap in whole KB, as lua_gc(LUA_GCCOUNT)
    assert m[b"used_memory_vm_eval"] == m[b"used_memory_lua"]
    assert m[b"number_of_cached_scripts"] == b"0"
    assert m[b"used_memory_scripts_eval"] == b"0"
    assert int(m[b"used_memory_vm_total"]) == lua + int(m[b"used_memory_vm_functions"])
    conn.call("SCRIPT", "LOAD", "return 1")
    conn.call("EVAL", "return 2", "0")
    conn.call("EVAL", "return 2", "0")  # cached: counted once
    m = info(conn, "memory")
    assert m[b"number_of_cached_scripts"] == b"2"
    # per script: SHA sds 48 + embedded body 16 + dict entry 24 + luaScript 16, 4 buckets of 8
    assert m[b"used_memory_scripts_eval"] == b"%d" % (2 * (48 + 16 + 24 + 16) + 4 * 8)
    assert int(m[b"used_memory_scripts"]) == int(m[b"used_memory_scripts_eval"]) + int(m[b"used_memory_functions"])
    conn.call("SCRIPT", "FLUSH")
    m = info(conn, "memory")
    assert m[b"number_of_cached_scripts"] == b"0"
    assert m[b"used_memory_scripts_eval"] == b"0"


def test_info_memory_lua_heap_grows(conn):
    before = int(info(conn, "memory")[b"used_memory_lua"])
    for i in range(200):
        conn.call("SCRIPT", "LOAD", "return '%s'" % ("x" * 500 + str(i)))
    assert int(info(conn, "memory")[b"used_memory_lua"]) > before


# ---------------------------------------------------------------------------- math.random


def test_math_random_one_state_per_server():
    """A fresh server's sequence (redis-server 7.0.15 gives the same): the rand48 state is the
    server's, never reseeded by EVAL, SCRIPT FLUSH or the script cache, only by randomseed."""
    srv = FakeServer()
    c = srv.connect()
    body = "local t = {} for i = 1, 5 do t[i] = math.random(1000) end return t"
    assert c.call("EVAL", body, "0") == [397, 841, 354, 447, 319]
    assert c.call("EVAL", "return {math.random(1000), tostring(math.random())}", "0") == [887, b"0.015582849278852"]
    assert c.call("SCRIPT", "FLUSH") == b"OK"
    assert c.call("EVAL", "return math.random(1000)", "0") == 585
    assert c.call("EVAL", "math.randomseed(7) return {math.random(1000), math.random(1000)}", "0") == [267, 683]
    assert c.call("EVAL", "return math.random(1000)", "0") == 266
    srv.state.stopService()


def test_math_random_shared_by_connections():
    srv = FakeServer()
    a, b = srv.connect(), srv.connect()
    assert a.call("EVAL", "return math.random(1000)", "0") == 397
    assert b.call("EVAL", "return math.random(1000)", "0") == 841
    srv.state.stopService()


# ---------------------------------------------------------------------------- big arguments and replies


def test_keys_and_argv_past_the_lua_c_stack(conn):
    keys = [b"k%d" % i for i in range(9000)]
    args = [b"a%d" % i for i in range(20000)]
    r = conn.call("EVAL", "return {#KEYS, #ARGV, KEYS[9000], ARGV[20000], ARGV[1]}", str(len(keys)), *keys, *args)
    assert r == [9000, 20000, b"k8999", b"a19999", b"a0"]


def test_big_replies_to_lua_and_back(conn):
    for i in range(0, 30000, 5000):
        conn.call("RPUSH", "l", *range(i, i + 5000))
        conn.call("HSET", "h", *[x for j in range(i, i + 5000) for x in (b"f%d" % j, j)])
        conn.call("SADD", "s", *range(i, i + 5000))
    assert conn.call("EVAL", "local r = redis.call('LRANGE', 'l', 0, -1) return {#r, r[1], r[30000]}", "0") == [
        30000,
        b"0",
        b"29999",
    ]
    assert len(conn.call("EVAL", "return redis.call('LRANGE', 'l', 0, -1)", "0")) == 30000
    r3 = "redis.setresp(3) local r = redis.call('HGETALL', 'h') local n = 0 for k in pairs(r.map) do n = n + 1 end return {n, r.map.f29999}"
    assert conn.call("EVAL", r3, "0") == [30000, b"29999"]
    r2 = "local r = redis.call('HGETALL', 'h') return #r"
    assert conn.call("EVAL", r2, "0") == 60000
    s3 = "redis.setresp(3) local r = redis.call('SMEMBERS', 's') local n = 0 for k in pairs(r.set) do n = n + 1 end return {n, tostring(r.set['7'])}"
    assert conn.call("EVAL", s3, "0") == [30000, b"true"]
    big = "local t = {} for i = 1, 50000 do t[i] = i end return t"
    assert conn.call("EVAL", big, "0") == list(range(1, 50001))


def test_resp3_null_holes_like_redis(conn):
    """MGET of missing keys after redis.setresp(3): nils in the array, built by successive
    assignments as Redis's parser does, so # is Redis's border (compared with redis-server for
    small arrays in the compat tests; the same path serves big ones)."""
    conn.call("SET", "x", "1")
    conn.call("SET", "y", "2")
    body = "redis.setresp(3) local r = redis.call('MGET', 'x', 'missing', 'y') return {#r, r[1], tostring(r[2]), r[3]}"
    assert conn.call("EVAL", body, "0") == [1, b"1", b"nil", b"2"]
    keys = [b"x" if i % 2 == 0 else b"nope%d" % i for i in range(6000)]
    body = "redis.setresp(3) local r = redis.call('MGET', unpack(ARGV)) return {r[1], tostring(r[2]), r[5999]}"
    assert conn.call("EVAL", body, "0", *keys) == [b"1", b"nil", b"1"]


# ---------------------------------------------------------------------------- misc


def test_script_flush_makes_a_new_runtime(conn, server):
    conn.call("SCRIPT", "LOAD", "return 1")
    old = server.state.lua
    assert old is not None
    assert conn.call("SCRIPT", "FLUSH", "ASYNC") == b"OK"
    assert server.state.lua is None
    assert conn.call("SCRIPT", "EXISTS", sha1hex(b"return 1")) == [0]
    assert conn.call("EVAL", "return 1", "0") == 1
    assert server.state.lua is not old


def test_redis_log_levels(conn, server, monkeypatch):
    logged = []
    from twistd_redis.scripting import engine

    monkeypatch.setattr(engine.log, "warning", lambda fmt, *a: logged.append(("warning", fmt % a)))
    monkeypatch.setattr(engine.log, "info", lambda fmt, *a: logged.append(("info", fmt % a)))
    assert (
        conn.call("EVAL", "redis.log(redis.LOG_WARNING, 'w', 1, 1.5, {}, 'x') redis.log(redis.LOG_DEBUG, 'd')", "0")
        is None
    )
    assert logged == [("warning", "w 1 1.5 x")]
    conn.call("CONFIG", "SET", "loglevel", "debug")
    conn.call("EVAL", "redis.log(redis.LOG_DEBUG, nil, 'after a nil')", "0")
    assert logged[-1] == ("info", " after a nil")  # the skipped argument still leaves its space


def test_monitor_sees_eval_then_its_commands(server):
    mon, c = server.connect(), server.connect()
    assert mon.call("MONITOR") == b"OK"
    c.call("EVAL", "return redis.call('SET', 'k', 'v')", "0")
    lines = [r for r in mon.replies()]
    assert len(lines) == 2
    assert b"\"EVAL\" \"return redis.call('SET', 'k', 'v')\" \"0\"" in lines[0]
    assert lines[1].endswith(b'[0 lua] "SET" "k" "v"')


def test_error_stats_counted_once(conn):
    conn.call("CONFIG", "RESETSTAT")
    conn.call("SET", "s", "v")
    assert isinstance(conn.call("EVAL", "return redis.call('INCR', 's')", "0"), ReplyError)
    assert conn.call("EVAL", "redis.pcall('nosuch') return 1", "0") == 1
    stats = info(conn, "errorstats")
    assert stats[b"errorstat_ERR"] == b"count=2"
    cmd = info(conn, "commandstats")
    assert cmd[b"cmdstat_eval"].endswith(b"rejected_calls=0,failed_calls=1")
    assert cmd[b"cmdstat_incr"].endswith(b"rejected_calls=0,failed_calls=1")


def test_nothing_kept_between_scripts(conn):
    """Every way a script could leave a value for the next one fails as in Redis (globals and
    library tables are read-only, raw writes included): the next script sees a clean sandbox."""
    attempts = [
        "x = 1",
        "_G.x = 1",
        "rawset(_G, 'x', 1)",
        "table.insert(_G, 1)",
        "redis.x = 1",
        "rawset(redis, 'x', 1)",
        "table.insert(redis, 1)",
        "string.x = 1",
        "table.insert(string, 1)",
        "getmetatable('').x = 1",
        "rawset(getmetatable(''), 'x', 1)",
        "setmetatable(_G, {})",
        "getmetatable(_G).__index = function() return 1 end",
        "math.random = function() return 4 end",
    ]
    for body in attempts:
        r = conn.call("EVAL", body, "0")
        assert isinstance(r, ReplyError) and "Attempt to modify a readonly table" in str(r), (body, r)
    check = (
        "local n = 0 for k in pairs(_G) do n = n + 1 end "
        "return {n, #_G, rawget(_G, 'x') == nil, rawget(redis, 'x') == nil, #redis, rawget(string, 'x') == nil, "
        "#string, rawget(getmetatable(''), 'x') == nil, type(math.random), math.random(1000) ~= 4}"
    )
    assert conn.call("EVAL", check, "0") == [35, 0, 1, 1, 0, 1, 0, 1, b"function", 1]
