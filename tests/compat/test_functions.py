"""Redis 7.0 functions compared byte for byte with redis-server 7.0.15 (RESP2 and RESP3).

FUNCTION LOAD (metadata, names, the load-time environment, every redis.register_function error),
FCALL / FCALL_RO (arguments, replies, errors with their ``script: <name>, on
@user_function:<line>`` suffix, flags), FUNCTION LIST shapes, DELETE, FLUSH, STATS, HELP, DUMP
payload bytes and RESTORE with its policies and errors (payloads built here and by real Redis).

Real Redis lists libraries, and the functions of a library, in the order of dicts hashed with
a per-process seed: libraries are compared with ``Unordered`` and a library of several
functions through ``same_structure`` (the parsed reply, every list sorted).
"""

from __future__ import annotations

import struct

import pytest

from tests.compat.differ import Unordered
from tests.helpers_proc import RawConn, encode_command
from twistd_redis.persistence.crc64 import crc64

pytestmark = pytest.mark.compat

FLUSH = ("FUNCTION", "FLUSH")


def lib(name: str, body: str) -> str:
    return f"#!lua name={name}\n{body}"


def one(name: str, fname: str, ret: str = "return 1", extra: str = "") -> str:
    return lib(name, f"redis.register_function('{fname}', function(keys, args) {ret} end){extra}")


def payload(body: bytes, version: int = 10) -> bytes:
    b = body + struct.pack("<H", version)
    return b + struct.pack("<Q", crc64(b))


def rdb_string(s: bytes) -> bytes:
    n = len(s)
    if n < 64:
        return bytes([n]) + s
    assert n < 16384
    return bytes([0x40 | (n >> 8), n & 0xFF]) + s


CODE_F = one("lib", "f").encode()
RECORD_F = b"\xf5" + rdb_string(CODE_F)


# ---------------------------------------------------------------- FUNCTION LOAD


LOAD_ERRORS = [
    FLUSH,
    ("FUNCTION", "LOAD", "return 1"),
    ("FUNCTION", "LOAD", "#!lua"),
    ("FUNCTION", "LOAD", "#!lua name=x"),
    ("FUNCTION", "LOAD", "#!lua\nx"),
    ("FUNCTION", "LOAD", "#!lua name=x foo=bar\n"),
    ("FUNCTION", "LOAD", "#!lua name=x name=y\n"),
    ("FUNCTION", "LOAD", "#!lua name=\nr"),
    ("FUNCTION", "LOAD", "#!lua name=a-b\n"),
    ("FUNCTION", "LOAD", "#!luaa name=a\n"),
    ("FUNCTION", "LOAD", "#! name=a\n"),
    ("FUNCTION", "LOAD", "#!\n"),
    ("FUNCTION", "LOAD", '#!lua name="q w"\n'),
    ("FUNCTION", "LOAD", '#!lua name="unbalanced\n'),
    ("FUNCTION", "LOAD", "#!lua name=a\n syntax error here"),
    ("FUNCTION", "LOAD", "#!lua name=a\nreturn 5"),
    ("FUNCTION", "LOAD", "#!lua name=a\n"),
    ("FUNCTION", "LOAD", "#!lua NAME=up\nredis.register_function('f1', function() return 1 end)"),
    ("FUNCTION", "LOAD", "#!LUA name=up2\nredis.register_function('f2', function() return 1 end)"),
    ("FUNCTION", "LOAD", "#!lua name=up\nredis.register_function('f3', function() return 1 end)"),
    ("FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('F1', function() return 1 end)"),
    (
        "FUNCTION",
        "LOAD",
        "#!lua name=other\nredis.register_function('x', function() end) redis.register_function('f2', function() end)",
    ),
    ("FCALL", "x", "0"),
    ("FUNCTION", "LOAD"),
    ("FUNCTION", "LOAD", "REPLACE"),
    ("FUNCTION", "LOAD", "foo", "#!lua name=x\n"),
    ("FUNCTION", "LOAD", "replace", "replace", "#!lua name=x\n"),
    ("FUNCTION", "LOAD", "REPLACE", "#!lua name=up\nredis.register_function('f9', function() return 9 end)"),
    ("FCALL", "f9", "0"),
    ("FCALL", "f1", "0"),
    ("FUNCTION", "LOAD", "REPLACE", "#!lua name=up\nredis.register_function('f2', function() return 9 end)"),
    ("FCALL", "f9", "0"),
    ("FUNCTION", "LOAD", "REPLACE", "#!lua name=up\nsyntax error"),
    ("FCALL", "f9", "0"),
    ("FUNCTION", "STATS"),
]


def test_load_metadata_and_errors(check):
    check(LOAD_ERRORS)


def load_env(expr: str) -> tuple:
    return ("FUNCTION", "LOAD", f"#!lua name=t\n{expr}")


LOAD_ENV = [
    FLUSH,
    load_env("local x = string.format('%d', 5)"),
    load_env("redis.call('ping')"),
    load_env("redis.pcall('ping')"),
    load_env("redis.setresp(3)"),
    load_env("redis.sha1hex('a')"),
    load_env("redis.error_reply('x')"),
    load_env("redis.status_reply('x')"),
    load_env("redis.set_repl(redis.REPL_ALL)"),
    load_env("error('x')"),
    load_env("local t = {} for k, v in pairs(redis) do end"),
    load_env("local x = KEYS"),
    load_env("local x = cjson"),
    load_env("redis.x = 1"),
    load_env("x = 1"),
    load_env("local a = 1 + nil"),
    load_env("local t = {}; t.x.y = 1"),
    load_env("redis.log(redis.LOG_WARNING, 'hello from a library')"),
    load_env("redis.log(1)"),
    load_env("redis.log('a', 'x')"),
    load_env("redis.log(7, 'x')"),
    load_env("local v = redis.REDIS_VERSION .. redis.REDIS_VERSION_NUM .. redis.LOG_DEBUG .. redis.LOG_NOTICE"),
    load_env(
        "local v = redis.REDIS_VERSION\nredis.register_function('ver', function() return {v, redis.REDIS_VERSION_NUM} end)"
    ),
    ("FCALL", "ver", "0"),
    ("FUNCTION", "DELETE", "t"),
    load_env("local s = 0 for i = 1, 100 do s = s + i end\nredis.register_function('sum', function() return s end)"),
    ("FCALL", "sum", "0"),
    ("FUNCTION", "DELETE", "t"),
    # a library function may keep the load-time API: register_function outside a load fails
    load_env(
        "local reg = redis.register_function\nredis.register_function('late', function() return reg('x', function() end) end)"
    ),
    ("FCALL", "late", "0"),
]


def test_load_time_environment(check):
    check(LOAD_ENV)


def reg(expr: str) -> tuple:
    return ("FUNCTION", "LOAD", "REPLACE", f"#!lua name=t\n{expr}")


REGISTER = [
    FLUSH,
    reg("redis.register_function()"),
    reg("redis.register_function('a')"),
    reg("redis.register_function('a', 'b')"),
    reg("redis.register_function('a', nil)"),
    reg("redis.register_function(1, function() return 'one' end)"),
    ("FCALL", "1", "0"),
    reg("redis.register_function(true, function() end)"),
    reg("redis.register_function('a', function() end, 3)"),
    reg("redis.register_function('a-b', function() end)"),
    reg("redis.register_function('', function() end)"),
    reg("redis.register_function('a.b', function() end)"),
    reg("redis.register_function('1_A', function() end)"),
    reg("redis.register_function('a', function() end) redis.register_function('a', function() end)"),
    reg("redis.register_function({})"),
    reg("redis.register_function(3)"),
    reg("redis.register_function{function_name='a'}"),
    reg("redis.register_function{callback=function() end}"),
    reg("redis.register_function{function_name='a', callback=function() end, flags={'bad'}}"),
    reg("redis.register_function{function_name='a', callback=function() end, flags='no-writes'}"),
    reg("redis.register_function{function_name='a', callback=function() end, foo=1}"),
    reg("redis.register_function{function_name=1, callback=function() end}"),
    reg("redis.register_function{function_name='a', callback=1}"),
    reg("redis.register_function{function_name='a', callback=function() end, description=1}"),
    reg("redis.register_function{function_name='a', callback=function() end, description={}}"),
    reg("redis.register_function{[1]='x'}"),
    reg("redis.register_function{[true]='x'}"),
    reg("redis.register_function{function_name='a', callback=function() end, flags={1}}"),
    reg("redis.register_function{function_name='a', callback=function() end, flags={{}}}"),
    reg("redis.register_function{function_name={}, callback=function() end}"),
    reg("redis.register_function{function_name='a', callback=function() end, flags={'no-writes', 'no-writes'}}"),
    reg("redis.register_function{FUNCTION_NAME='a', CALLBACK=function() return 'A' end, DESCRIPTION='up'}"),
    ("FCALL", "A", "0"),
    ("FUNCTION", "LIST"),
    reg("redis.register_function{function_name='a', callback=function() end, flags={[2]='no-writes'}}"),
    reg("redis.register_function{function_name='a', callback=function() end, flags={'no-writes', nil, 'bad'}}"),
    reg("local f = redis.register_function; f('b', function() return 'b' end)"),
    ("FCALL", "b", "0"),
    reg("redis.register_function('a', function() end) redis.log(1)"),
    reg("redis.register_function{function_name='a', callback=redis.log}"),
    ("FUNCTION", "LIST"),
]


def test_register_function(check):
    check(REGISTER)


FLAG_LIST = [
    FLUSH,
    (
        "FUNCTION",
        "LOAD",
        lib(
            "flags",
            "redis.register_function{function_name='allf', callback=function() return 1 end, "
            "flags={'NO-WRITES','allow-oom','allow-stale','no-cluster','allow-cross-slot-keys'}, description='desc'}",
        ),
    ),
    ("FUNCTION", "LIST"),
    ("FUNCTION", "LIST", "WITHCODE"),
    ("FUNCTION", "LIST", "libraryname", "fl*", "withcode"),
    ("FUNCTION", "LIST", "withcode", "LIBRARYNAME", "FL*"),
    ("FUNCTION", "LIST", "libraryname", "x*"),
    ("FUNCTION", "LIST", "libraryname"),
    ("FUNCTION", "LIST", "withcode", "withcode"),
    ("FUNCTION", "LIST", "libraryname", "a", "libraryname", "b"),
    ("FUNCTION", "LIST", "foo"),
    ("FUNCTION", "LIST", "libraryname", "flags", "foo"),
    ("FUNCTION", "LOAD", one("second", "g", extra="\n-- a comment")),
    (
        "FUNCTION",
        "LOAD",
        lib("third", "redis.register_function{function_name='h', callback=function() end, flags={'allow-oom'}}"),
    ),
    Unordered(("FUNCTION", "LIST")),
    Unordered(("FUNCTION", "LIST", "WITHCODE")),
    Unordered(("FUNCTION", "LIST", "LIBRARYNAME", "*i*")),
    Unordered(("FUNCTION", "LIST", "LIBRARYNAME", "[st]*", "WITHCODE")),
    ("FUNCTION", "STATS"),
]


def test_list_shapes_and_flags(check):
    check(FLAG_LIST)


# ---------------------------------------------------------------- FCALL

CALL_LIB = lib(
    "calls",
    """
local function f(keys, args)
  local cmd = args[1]
  if cmd == 'keys' then return {keys, args} end
  if cmd == 'KEYS' then return KEYS end
  if cmd == 'ARGV' then return ARGV end
  if cmd == 'err' then return error('boom') end
  if cmd == 'errt' then return error({err='MY err'}) end
  if cmd == 'call' then return redis.call('nosuch') end
  if cmd == 'set' then return redis.call('set', keys[1], args[2]) end
  if cmd == 'get' then return redis.call('get', keys[1]) end
  if cmd == 'incr' then return redis.call('incr', keys[1]) end
  if cmd == 'glob' then x = 1 end
  if cmd == 'reg' then return redis.register_function('zz', function() end) end
  if cmd == 'R' then local t = {} for k in pairs(redis) do t[#t+1] = k end table.sort(t) return t end
  if cmd == 'status' then return redis.status_reply('FINE') end
  if cmd == 'errreply' then return redis.error_reply('MYCODE custom') end
  if cmd == 'float' then return 3.99 end
  if cmd == 'bool' then return true end
  if cmd == 'false' then return false end
  if cmd == 'nil' then return nil end
  if cmd == 'nested' then return {1, {2, {'three'}}, 'x'} end
  if cmd == 'resp3' then redis.setresp(3) return redis.call('hgetall', keys[1]) end
  if cmd == 'map' then return {map={a=1}} end
  if cmd == 'double' then return {double=1.5} end
  if cmd == 'pcall' then return redis.pcall('incr', keys[1]) end
  if cmd == 'type' then return type(redis.call) end
  if cmd == 'db' then return redis.call('select', '3') end
  return 'none'
end
redis.register_function('f', f)
redis.register_function{function_name='ro', callback=f, flags={'no-writes'}, description='read only'}
redis.register_function{function_name='oom', callback=f, flags={'allow-oom'}}
""",
)


def fc(*args: str) -> tuple:
    return ("FCALL", "f", *args)


FCALL = [
    FLUSH,
    ("FUNCTION", "LOAD", CALL_LIB),
    fc("2", "k1", "k2", "keys", "a"),
    fc("0", "KEYS"),
    fc("0", "ARGV"),
    fc("0", "err"),
    fc("0", "errt"),
    fc("0", "call"),
    fc("1", "k", "set", "v"),
    fc("1", "k", "get"),
    fc("1", "k", "incr"),
    fc("1", "n", "incr"),
    fc("1", "n", "pcall"),
    fc("0", "glob"),
    fc("0", "reg"),
    fc("0", "R"),
    fc("0", "status"),
    fc("0", "errreply"),
    fc("0", "float"),
    fc("0", "bool"),
    fc("0", "false"),
    fc("0", "nil"),
    fc("0", "nested"),
    ("HSET", "h", "a", "1"),
    fc("1", "h", "resp3"),
    fc("0", "map"),
    fc("0", "double"),
    fc("0", "type"),
    fc("0", "db"),
    fc("0", "none"),
    ("FCALL", "F", "0", "none"),
    ("FCALL", "nosuch", "0"),
    ("FCALL", "f", "x"),
    ("FCALL", "f", "-1"),
    ("FCALL", "f", "5", "a"),
    ("FCALL", "nosuch", "x"),
    ("FCALL", "f", "1"),
    ("FCALL",),
    ("FCALL", "f"),
    ("FCALL_RO", "f"),
    ("FCALL_RO", "f", "0", "none"),
    ("FCALL_RO", "oom", "0", "none"),
    ("FCALL_RO", "ro", "1", "k", "get"),
    ("FCALL_RO", "ro", "1", "k", "set", "v2"),
    ("FCALL", "ro", "1", "k", "set", "v2"),
    ("FCALL", "ro", "1", "n", "pcall"),
    ("FCALL", "RO", "1", "k", "get"),
    ("FCALL", "oom", "1", "k", "set", "v3"),
    ("GET", "k"),
    ("MULTI",),
    ("FCALL", "f", "1", "k", "incr"),
    ("FCALL", "f", "1", "n", "incr"),
    ("FCALL_RO", "ro", "1", "n", "get"),
    ("EXEC",),
    ("EVAL", "return redis.call('fcall', 'f', 0)", "0"),
    ("EVAL", "return redis.call('function', 'list')", "0"),
    ("FCALL", "f", "0", "type"),
    ("COMMAND", "GETKEYS", "FCALL", "f", "2", "a", "b", "c"),
    ("COMMAND", "GETKEYS", "FCALL_RO", "f", "1", "a"),
]


def test_fcall(check):
    check(FCALL)


GLOBALS = [
    FLUSH,
    (
        "FUNCTION",
        "LOAD",
        lib(
            "g",
            "redis.register_function('g', function() local t = {} for k in pairs(_G) do t[#t+1] = k end table.sort(t) return t end)",
        ),
    ),
    ("FCALL", "g", "0"),
]


def test_fcall_globals(check):
    """The globals a function sees (the scripting libraries cjson, cmsgpack, struct, bit included)."""
    check(GLOBALS)


# ---------------------------------------------------------------- DELETE / FLUSH / STATS / HELP

ADMIN = [
    FLUSH,
    ("FUNCTION", "STATS"),
    ("FUNCTION", "LOAD", one("lib", "f")),
    (
        "FUNCTION",
        "LOAD",
        lib("lib2", "redis.register_function('g', function() end)\nredis.register_function('h', function() end)"),
    ),
    ("FUNCTION", "STATS"),
    ("FUNCTION", "DELETE", "nolib"),
    ("FUNCTION", "DELETE", "LIB"),
    ("FUNCTION", "DELETE"),
    ("FUNCTION", "DELETE", "a", "b"),
    ("FUNCTION", "DELETE", "lib"),
    ("FCALL", "f", "0"),
    ("FUNCTION", "STATS"),
    ("FUNCTION", "DELETE", "lib"),
    ("FUNCTION", "FLUSH", "foo"),
    ("FUNCTION", "FLUSH", "async", "x"),
    ("FUNCTION", "FLUSH", "ASYNC"),
    ("FUNCTION", "STATS"),
    ("FUNCTION", "LIST"),
    ("FUNCTION", "FLUSH", "sync"),
    ("FUNCTION", "FLUSH"),
    ("FUNCTION", "KILL"),
    ("FUNCTION", "KILL", "x"),
    ("FUNCTION", "STATS", "x"),
    ("FUNCTION", "HELP"),
    ("FUNCTION", "help"),
    ("FUNCTION", "HELP", "x"),
    ("FUNCTION", "nosuch"),
    ("FUNCTION",),
    ("FUNCTION", "DUMP", "x"),
    ("FUNCTION", "LIST"),
    # FLUSHALL keeps the libraries; SCRIPT FLUSH too
    ("FUNCTION", "LOAD", one("kept", "k")),
    ("FLUSHALL",),
    ("SCRIPT", "FLUSH"),
    ("FCALL", "k", "0"),
    ("FUNCTION", "LIST"),
]


def test_delete_flush_stats_help(check):
    check(ADMIN)


# ---------------------------------------------------------------- DUMP / RESTORE

LONG = lib(
    "compressible",
    "redis.register_function{function_name='f', callback=function() return 1 end, "
    "flags={'no-writes','allow-oom','allow-stale','no-cluster','allow-cross-slot-keys'}, description='desc'}\n"
    + "-- padding padding padding padding padding padding padding padding\n"
    * 5,
)

DUMP = [
    FLUSH,
    ("FUNCTION", "DUMP"),
    ("FUNCTION", "LOAD", one("lib", "f")),
    ("FUNCTION", "DUMP"),
    FLUSH,
    ("FUNCTION", "LOAD", LONG),
    ("FUNCTION", "DUMP"),
    ("CONFIG", "SET", "rdbcompression", "no"),
    ("FUNCTION", "DUMP"),
    ("CONFIG", "SET", "rdbcompression", "yes"),
    FLUSH,
    ("FUNCTION", "LOAD", "#!lua name=n123\nredis.register_function('n', function() return 1 end)"),
    ("FUNCTION", "DUMP"),
]


def test_dump_bytes(check):
    check(DUMP)


def test_dump_restores_everywhere(differ):
    """A DUMP of several libraries (in each server's own order) restores on the other server."""
    real, ours = differ.pair()
    try:
        libs = [
            one("a", "fa"),
            LONG,
            lib(
                "multi", "redis.register_function('m1', function() end)\nredis.register_function('m2', function() end)"
            ),
        ]
        for c in (real, ours):
            assert c.call("FUNCTION", "FLUSH") == b"+OK\r\n"
            for code in libs:
                c.call("FUNCTION", "LOAD", code)
        dumps = [parse(c.call("FUNCTION", "DUMP")) for c in (real, ours)]
        for c, d in ((real, dumps[1]), (ours, dumps[0])):
            assert c.call("FUNCTION", "FLUSH") == b"+OK\r\n"
            assert c.call("FUNCTION", "RESTORE", d) == b"+OK\r\n"
        same_structure(real.call("FUNCTION", "LIST", "WITHCODE"), ours.call("FUNCTION", "LIST", "WITHCODE"))
        assert parse(real.call("FUNCTION", "LIST", "WITHCODE"))
        for c in (real, ours):
            assert c.call("FCALL", "fa", "0") == b":1\r\n"
    finally:
        real.close()
        ours.close()


def restore(p: bytes, *policy: str) -> tuple:
    return ("FUNCTION", "RESTORE", p, *policy)


CODE_G = one("lib2", "f").encode()

RESTORE = [
    FLUSH,
    restore(b"x"),
    restore(b"\x0a\x00" + b"\x00" * 8),
    restore(b"a", "b", "c"),
    restore(b"a", "bad"),
    restore(b"a", "flush"),
    ("FUNCTION", "RESTORE"),
    restore(payload(b"")),
    restore(payload(RECORD_F)),
    ("FCALL", "f", "0"),
    ("FUNCTION", "STATS"),
    FLUSH,
    restore(payload(b"\xf5\x05ab")),
    restore(payload(b"\xf5")),
    restore(payload(b"\xf6" + rdb_string(b"lib") + rdb_string(b"LUA") + b"\x00" + rdb_string(b"x"))),
    restore(
        payload(
            b"\xf6"
            + rdb_string(b"old")
            + rdb_string(b"LUA")
            + b"\x01"
            + rdb_string(b"a description")
            + rdb_string(b"redis.register_function('old', function() return 'old' end)")
        )
    ),
    ("FCALL", "old", "0"),
    ("FUNCTION", "LIST", "WITHCODE"),
    FLUSH,
    restore(payload(b"\xf6" + rdb_string(b"lib"))),
    restore(payload(b"\xf6")),
    restore(payload(b"\x00" + rdb_string(b"k") + rdb_string(b"v"))),
    restore(payload(b"\xf5" + rdb_string(b"return 1"))),
    restore(payload(b"\xf5" + rdb_string(b"#!lua name=x\nlocal a = 1"))),
    restore(payload(RECORD_F, 11)),
    restore(payload(RECORD_F, 9)),
    FLUSH,
    restore(payload(RECORD_F + RECORD_F)),
    restore(payload(b"\xff")),
    restore(payload(b"\xfa" + rdb_string(b"a") + rdb_string(b"b"))),
    restore(payload(RECORD_F)[:-1] + b"\x00"),
    ("FUNCTION", "STATS"),
    # policies and collisions
    ("FUNCTION", "LOAD", CODE_G.decode()),
    restore(payload(RECORD_F)),
    restore(payload(RECORD_F), "replace"),
    restore(payload(RECORD_F), "APPEND"),
    ("FUNCTION", "LIST", "WITHCODE"),
    restore(payload(RECORD_F), "flush"),
    ("FUNCTION", "LIST", "WITHCODE"),
    restore(payload(RECORD_F)),
    restore(payload(RECORD_F), "append"),
    restore(payload(b"\xf5" + rdb_string(one("lib", "other", "return 'replaced'").encode())), "REPLACE"),
    ("FCALL", "f", "0"),
    ("FCALL", "other", "0"),
    ("FUNCTION", "LIST", "WITHCODE"),
    ("FUNCTION", "LOAD", one("lib3", "g3")),
    restore(payload(b"\xf5" + rdb_string(one("lib", "g3").encode())), "replace"),
    ("FUNCTION", "LIST", "LIBRARYNAME", "lib"),
    restore(payload(b"\xf5" + rdb_string(one("newlib", "G3").encode()))),
    ("FUNCTION", "STATS"),
]


def test_restore_policies_and_errors(check):
    check(RESTORE)


# ---------------------------------------------------------------- helpers


def parse(reply: bytes):
    """A RESP reply as Python values (bulk strings as bytes, errors as ('ERR', text))."""
    from twistd_redis.scripting.engine import parse_resp

    return parse_resp(reply)


def _canon(v):
    from twistd_redis.resp import MapPairs

    if isinstance(v, MapPairs):
        return ("map", tuple(sorted(((_canon(k), _canon(x)) for k, x in v), key=repr)))
    if isinstance(v, list):
        if len(v) % 2 == 0 and v and all(type(k) is bytes for k in v[::2]) and v[0] in (b"library_name", b"name"):
            # a RESP2 map: keep its pairs
            return ("map", tuple(sorted(((_canon(k), _canon(x)) for k, x in zip(v[::2], v[1::2])), key=repr)))
        items = [_canon(x) for x in v]
        return ("list", tuple(sorted(items, key=repr)))
    if isinstance(v, (bytes, int)) or v is None:
        return v
    return repr(v)


def same_structure(a: bytes, b: bytes) -> None:
    assert a[:1] == b[:1], (a, b)
    assert _canon(parse(a)) == _canon(parse(b)), f"\n real: {a!r}\n ours: {b!r}"


def test_multi_function_library_list(differ):
    """A library of several functions: the same functions, flags and descriptions (real Redis
    lists them in its dict's hash order), RESP2 and RESP3."""
    code = lib(
        "many",
        "for i = 1, 6 do redis.register_function{function_name='fn' .. i, callback=function() return i end, "
        "description='d' .. i, flags=(i % 2 == 0) and {'no-writes'} or {}} end",
    )
    for resp in (2, 3):
        real, ours = differ.pair(resp)
        try:
            for c in (real, ours):
                c.call("FUNCTION", "FLUSH")
                assert c.call("FUNCTION", "LOAD", code) == b"$4\r\nmany\r\n"
            for args in (("FUNCTION", "LIST"), ("FUNCTION", "LIST", "WITHCODE")):
                same_structure(real.call(*args), ours.call(*args))
            for i in range(1, 7):
                assert real.call("FCALL", f"FN{i}", "0") == ours.call("FCALL", f"FN{i}", "0") == b":%d\r\n" % i
            assert real.call("FUNCTION", "STATS") == ours.call("FUNCTION", "STATS")
        finally:
            for c in (real, ours):
                c.call("FUNCTION", "FLUSH")
                c.close()


def test_load_timeout(differ):
    """A library whose load runs past 500 ms is refused ("FUNCTION LOAD timeout")."""
    for port in (differ.real_port, differ.our_port):
        with RawConn(port, timeout=20) as c:
            c.call("FUNCTION", "FLUSH")
            r = c.call("FUNCTION", "LOAD", "#!lua name=slow\nwhile true do end")
            assert r == b"-ERR Error registering functions: ERR FUNCTION LOAD timeout\r\n", (port, r)
            assert c.call("FUNCTION", "LIST") == b"*0\r\n"


BUSY_LIB = (
    "#!lua name=busy\n"
    "redis.register_function('loop', function(keys, args) while true do end end)\n"
    "redis.register_function('wloop', function(keys, args)\n"
    "  redis.call('set', keys[1], 'x')\n"
    "  local t = redis.call('time')[1] + 1\n"
    "  while tonumber(redis.call('time')[1]) <= tonumber(t) do end\n"
    "  return 'done'\n"
    "end)\n"
)


def _busy_session(port: int, resp: int) -> list[bytes]:
    """A function running past busy-reply-threshold, seen from a second connection: FUNCTION
    STATS (duration masked), the refusals, FUNCTION KILL; then the caller's reply."""
    import re
    import time

    out = []
    with RawConn(port, timeout=20) as caller, RawConn(port, timeout=20) as other:
        if resp == 3:
            other.call("HELLO", "3")
        other.call("FUNCTION", "FLUSH")
        other.call("FLUSHALL")
        other.call("CONFIG", "SET", "busy-reply-threshold", "100")
        try:
            other.call("FUNCTION", "LOAD", BUSY_LIB)
            for fname, key in (("loop", "k"), ("wloop", "w")):
                caller.send(encode_command("FCALL", fname, "1", key, "arg"))
                deadline = time.monotonic() + 10
                while True:
                    r = other.call("PING")
                    if r.startswith(b"-BUSY") or time.monotonic() > deadline:
                        break
                    time.sleep(0.02)
                out.append(r)
                stats = other.call("FUNCTION", "STATS")
                out.append(re.sub(rb"(duration_ms\r\n:)\d+", rb"\1<ms>", stats))
                for args in (("SCRIPT", "KILL"), ("FUNCTION", "LIST"), ("GET", key), ("FUNCTION", "KILL")):
                    out.append(other.call(*args))
                out.append(caller.read_reply())
                out.append(other.call("FUNCTION", "KILL"))
                out.append(other.call("GET", key))
        finally:
            other.call("CONFIG", "SET", "busy-reply-threshold", "5000")
            other.call("FUNCTION", "FLUSH")
    return out


@pytest.mark.parametrize("resp", [2, 3])
def test_busy_function_stats_and_kill(differ, resp):
    real = _busy_session(differ.real_port, resp)
    ours = _busy_session(differ.our_port, resp)
    assert real[0].startswith(b"-BUSY") and b"FUNCTION KILL" in real[0]
    assert ours == real
