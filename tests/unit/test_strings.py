"""String commands against Redis 7.0.15's behaviour (replies, error texts, TTLs, propagation,
keyspace events, storage representation). Expected values were checked on a real redis-server."""

from __future__ import annotations

import random

import pytest

from twistd_redis.datatypes import EmbStr

from tests.unit.harness import ReplyError
from twistd_redis.client import CLIENT_DIRTY_CAS
from twistd_redis.commands import strings
from twistd_redis.commands.table import REGISTRY

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INT = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
NOW_MS = 1_700_000_000_000  # the harness clock's start


def err(reply) -> str:
    assert isinstance(reply, ReplyError), f"expected an error, got {reply!r}"
    return str(reply)


def db0(server):
    return server.state.dbs[0]


def plant_list(server, key: bytes = b"l") -> None:
    """A non-string value (lists are another helper's; any non-bytes class is a wrong type)."""
    db0(server).data[key] = [b"a"]


def ttl_ms(server, key: bytes) -> int:
    when = db0(server).get_expire(key)
    return -1 if when == -1 else when - server.state.now_ms()



@pytest.fixture
def events(server):
    out: list[tuple[str, bytes, bytes]] = []
    server.state.notify_flags = "KEA"
    server.state.keyspace_notifier = lambda t, ev, key, dbid: out.append((t, ev, key))
    return out


# ---------------------------------------------------------------- command table


@pytest.mark.parametrize(
    "name,arity,flags,keys",
    [
        # from redis-cli COMMAND INFO on 7.0.15
        ("get", 2, {"readonly", "fast"}, (1, 1, 1)),
        ("set", -3, {"write", "denyoom"}, (1, 1, 1)),
        ("setnx", 3, {"write", "denyoom", "fast"}, (1, 1, 1)),
        ("setex", 4, {"write", "denyoom"}, (1, 1, 1)),
        ("psetex", 4, {"write", "denyoom"}, (1, 1, 1)),
        ("getset", 3, {"write", "denyoom", "fast"}, (1, 1, 1)),
        ("getdel", 2, {"write", "fast"}, (1, 1, 1)),
        ("getex", -2, {"write", "fast"}, (1, 1, 1)),
        ("mget", -2, {"readonly", "fast"}, (1, -1, 1)),
        ("mset", -3, {"write", "denyoom"}, (1, -1, 2)),
        ("msetnx", -3, {"write", "denyoom"}, (1, -1, 2)),
        ("append", 3, {"write", "denyoom", "fast"}, (1, 1, 1)),
        ("strlen", 2, {"readonly", "fast"}, (1, 1, 1)),
        ("incr", 2, {"write", "denyoom", "fast"}, (1, 1, 1)),
        ("decr", 2, {"write", "denyoom", "fast"}, (1, 1, 1)),
        ("incrby", 3, {"write", "denyoom", "fast"}, (1, 1, 1)),
        ("decrby", 3, {"write", "denyoom", "fast"}, (1, 1, 1)),
        ("incrbyfloat", 3, {"write", "denyoom", "fast"}, (1, 1, 1)),
        ("getrange", 4, {"readonly"}, (1, 1, 1)),
        ("substr", 4, {"readonly"}, (1, 1, 1)),
        ("setrange", 4, {"write", "denyoom"}, (1, 1, 1)),
        ("lcs", -3, {"readonly"}, (1, 2, 1)),
    ],
)
def test_command_rows_match_redis(name, arity, flags, keys):
    spec = REGISTRY[name]
    assert spec.arity == arity
    assert set(spec.flag_names()) == flags
    assert (spec.first_key, spec.last_key, spec.step) == keys
    assert spec.group == "string"


# ---------------------------------------------------------------- GET / SET


def test_get_set_basics(conn):
    assert conn.call("GET", "k") is None
    assert conn.raw(b"GET k\r\n") == b"$-1\r\n"
    assert conn.call("SET", "k", b"a\x00b\r\n") == b"OK"
    assert conn.call("GET", "k") == b"a\x00b\r\n"
    conn.hello3()
    assert conn.raw(b"GET nokey\r\n") == b"_\r\n"


def test_get_wrongtype(server, conn):
    plant_list(server)
    assert err(conn.call("GET", "l")) == WRONGTYPE


@pytest.mark.parametrize(
    "args",
    [
        ("NX", "XX"),
        ("XX", "NX"),
        ("EX", "10", "PX", "10"),
        ("PX", "10", "EX", "10"),
        ("EX", "10", "EXAT", "10"),
        ("PXAT", "10", "EX", "10"),
        ("EX",),
        ("PX",),
        ("EXAT",),
        ("PXAT",),
        ("KEEPTTL", "EX", "1"),
        ("EX", "1", "KEEPTTL"),
        ("PERSIST",),
        ("foo",),
        ("NXX",),
        ("GET", "foo"),
    ],
)
def test_set_syntax_errors(conn, args):
    assert err(conn.call("SET", "k", "v", *args)) == SYNTAX
    assert conn.call("GET", "k") is None


def test_set_repeated_options_are_accepted(server, conn):
    assert conn.call("SET", "k", "v", "ex", "10", "EX", "20") == b"OK"
    assert ttl_ms(server, b"k") == 20000
    assert conn.call("SET", "k", "v", "get", "GET") == b"v"
    assert conn.call("SET", "k", "v", "nx", "nx") is None


@pytest.mark.parametrize(
    "cmd",
    [
        ("SET", "k", "v", "EX", "0"),
        ("SET", "k", "v", "EX", "-1"),
        ("SET", "k", "v", "PX", "0"),
        ("SET", "k", "v", "EXAT", "0"),
        ("SET", "k", "v", "PXAT", "-5"),
        ("SET", "k", "v", "EX", "9223372036854776"),  # seconds * 1000 overflows
        ("SET", "k", "v", "EX", "9223372036854775"),  # fits, but + now overflows
        ("SET", "k", "v", "PX", "9223372036854775807"),  # + now overflows
        ("SETEX", "k", "0", "v"),
        ("SETEX", "k", "-1", "v"),
        ("PSETEX", "k", "0", "v"),
    ],
)
def test_invalid_expire_time(conn, cmd):
    assert err(conn.call(*cmd)) == "ERR invalid expire time in '%s' command" % cmd[0].lower()
    assert conn.call("GET", "k") is None


def test_expire_not_an_integer(conn):
    assert err(conn.call("SET", "k", "v", "EX", "abc")) == NOT_INT
    assert err(conn.call("SET", "k", "v", "PX", "1.5")) == NOT_INT
    assert err(conn.call("SETEX", "k", "abc", "v")) == NOT_INT
    assert err(conn.call("PSETEX", "k", " 1", "v")) == NOT_INT


def test_set_expiry_options_set_ttl(server, conn):
    assert conn.call("SET", "a", "v", "EX", "100") == b"OK"
    assert ttl_ms(server, b"a") == 100_000
    assert conn.call("SET", "b", "v", "PX", "1500") == b"OK"
    assert ttl_ms(server, b"b") == 1500
    assert conn.call("SET", "c", "v", "EXAT", str(NOW_MS // 1000 + 50)) == b"OK"
    assert db0(server).get_expire(b"c") == NOW_MS + 50_000
    assert conn.call("SET", "d", "v", "PXAT", str(NOW_MS + 777)) == b"OK"
    assert db0(server).get_expire(b"d") == NOW_MS + 777
    # EXAT at the largest seconds value that fits is accepted
    assert conn.call("SET", "e", "v", "EXAT", "9223372036854775") == b"OK"
    assert db0(server).get_expire(b"e") == 9223372036854775000
    server.advance(1.5)  # at the exact expiry time the key still lives (now > when)
    assert conn.call("GET", "b") == b"v"
    server.advance(0.001)
    assert conn.call("GET", "b") is None
    assert conn.call("GET", "a") == b"v"
    server.advance(100)
    assert conn.call("GET", "a") is None
    assert conn.call("GET", "c") is None


def test_set_pxat_in_the_past_sets_then_expires(server, conn):
    assert conn.call("SET", "k", "v", "PXAT", "1") == b"OK"
    assert conn.call("GET", "k") is None
    assert b"k" not in db0(server).data


def test_set_clears_ttl_unless_keepttl(server, conn):
    conn.call("SET", "k", "v", "EX", "100")
    assert conn.call("SET", "k", "w", "KEEPTTL") == b"OK"
    assert ttl_ms(server, b"k") == 100_000
    assert conn.call("SET", "k", "x", "XX") == b"OK"
    assert ttl_ms(server, b"k") == -1
    conn.call("SET", "k", "v", "EX", "100")
    assert conn.call("SET", "k", "y") == b"OK"
    assert ttl_ms(server, b"k") == -1


def test_set_nx_xx(conn):
    assert conn.call("SET", "k", "v", "XX") is None
    assert conn.call("GET", "k") is None
    assert conn.call("SET", "k", "v", "NX") == b"OK"
    assert conn.call("SET", "k", "w", "NX") is None
    assert conn.call("GET", "k") == b"v"
    assert conn.call("SET", "k", "w", "XX") == b"OK"
    assert conn.call("GET", "k") == b"w"
    conn.hello3()
    assert conn.raw(b"SET k z NX\r\n") == b"_\r\n"


def test_set_get(server, conn):
    assert conn.call("SET", "k", "v", "GET") is None
    assert conn.call("SET", "k", "w", "GET") == b"v"
    assert conn.call("SET", "k", "x", "NX", "GET") == b"w"  # returns old, does not set
    assert conn.call("GET", "k") == b"w"
    assert conn.call("SET", "n", "x", "XX", "GET") is None
    assert conn.call("GET", "n") is None
    conn.call("APPEND", "k", "z")  # a bytearray value
    assert conn.call("SET", "k", "y", "GET") == b"wz"
    plant_list(server)
    assert err(conn.call("SET", "l", "v", "GET")) == WRONGTYPE
    assert err(conn.call("SET", "l", "v", "NX", "GET")) == WRONGTYPE
    assert db0(server).data[b"l"] == [b"a"]
    # the expire time is validated before the type
    assert err(conn.call("SET", "l", "v", "EX", "0", "GET")) == "ERR invalid expire time in 'set' command"


def test_set_overwrites_other_types(server, conn):
    plant_list(server)
    assert conn.call("SET", "l", "v") == b"OK"
    assert conn.call("GET", "l") == b"v"
    plant_list(server)
    assert conn.call("SETEX", "l", "10", "v") == b"OK"
    assert conn.call("GET", "l") == b"v"


def test_setnx_setex_psetex(server, conn):
    assert conn.call("SETNX", "k", "v") == 1
    assert conn.call("SETNX", "k", "w") == 0
    assert conn.call("GET", "k") == b"v"
    assert conn.call("SETEX", "k", "10", "w") == b"OK"
    assert conn.call("GET", "k") == b"w"
    assert ttl_ms(server, b"k") == 10_000
    assert conn.call("PSETEX", "k", "250", "x") == b"OK"
    assert ttl_ms(server, b"k") == 250
    server.advance(0.251)
    assert conn.call("GET", "k") is None
    assert err(conn.call("SETNX", "k")) == "ERR wrong number of arguments for 'setnx' command"


# ---------------------------------------------------------------- GETSET / GETDEL / GETEX


def test_getset(server, conn):
    assert conn.call("GETSET", "k", "v") is None
    assert conn.call("GETSET", "k", "w") == b"v"
    db0(server).set_expire(b"k", NOW_MS + 100_000)
    assert conn.call("GETSET", "k", "x") == b"w"
    assert ttl_ms(server, b"k") == -1  # GETSET drops the TTL
    plant_list(server)
    assert err(conn.call("GETSET", "l", "v")) == WRONGTYPE


def test_getdel(server, conn):
    conn.call("SET", "k", "v")
    assert conn.call("GETDEL", "k") == b"v"
    assert conn.call("GETDEL", "k") is None
    assert b"k" not in db0(server).data
    plant_list(server)
    assert err(conn.call("GETDEL", "l")) == WRONGTYPE
    assert b"l" in db0(server).data


def test_getex(server, conn):
    assert conn.call("GETEX", "nokey") is None
    conn.call("SET", "k", "v")
    assert conn.call("GETEX", "k") == b"v"
    assert ttl_ms(server, b"k") == -1
    assert conn.call("GETEX", "k", "EX", "100") == b"v"
    assert ttl_ms(server, b"k") == 100_000
    assert conn.call("GETEX", "k", "PX", "500") == b"v"
    assert ttl_ms(server, b"k") == 500
    assert conn.call("GETEX", "k", "EXAT", str(NOW_MS // 1000 + 9)) == b"v"
    assert ttl_ms(server, b"k") == 9000
    assert conn.call("GETEX", "k", "PXAT", str(NOW_MS + 42)) == b"v"
    assert ttl_ms(server, b"k") == 42
    assert conn.call("GETEX", "k", "PERSIST") == b"v"
    assert ttl_ms(server, b"k") == -1
    assert conn.call("GETEX", "k", "ex", "10", "EX", "30") == b"v"
    assert ttl_ms(server, b"k") == 30_000
    server.advance(30.001)
    assert conn.call("GETEX", "k") is None


def test_getex_absolute_time_in_the_past_deletes(server, conn):
    conn.call("SET", "k", "v")
    assert conn.call("GETEX", "k", "EXAT", "1") == b"v"
    assert b"k" not in db0(server).data
    conn.call("SET", "k", "v")
    assert conn.call("GETEX", "k", "PXAT", str(NOW_MS)) == b"v"
    assert b"k" not in db0(server).data


@pytest.mark.parametrize(
    "args",
    [("PERSIST", "EX", "1"), ("EX", "1", "PERSIST"), ("NX",), ("XX",), ("GET",), ("KEEPTTL",), ("EX",), ("foo",)],
)
def test_getex_syntax_errors(conn, args):
    conn.call("SET", "k", "v")
    assert err(conn.call("GETEX", "k", *args)) == SYNTAX
    assert err(conn.call("GETEX", "nokey", *args)) == SYNTAX


def test_getex_error_order(server, conn):
    # missing key: nil before the expire value is checked
    assert conn.call("GETEX", "nokey", "EX", "0") is None
    conn.call("SET", "k", "v")
    assert err(conn.call("GETEX", "k", "EX", "0")) == "ERR invalid expire time in 'getex' command"
    assert err(conn.call("GETEX", "k", "EX", "x")) == NOT_INT
    plant_list(server)
    assert err(conn.call("GETEX", "l", "EX", "0")) == WRONGTYPE
    assert err(conn.call("GETEX", "l")) == WRONGTYPE


# ---------------------------------------------------------------- MGET / MSET / MSETNX


def test_mget(server, conn):
    conn.call("SET", "a", "1")
    conn.call("APPEND", "b", "x")
    conn.call("APPEND", "b", "y")
    plant_list(server)
    assert conn.call("MGET", "a", "l", "nokey", "b") == [b"1", None, None, b"xy"]
    conn.hello3()
    assert conn.raw(b"MGET a nokey\r\n") == b"*2\r\n$1\r\n1\r\n_\r\n"


def test_mset_msetnx(server, conn):
    assert err(conn.call("MSET", "a")) == "ERR wrong number of arguments for 'mset' command"
    assert err(conn.call("MSET", "a", "1", "b")) == "ERR wrong number of arguments for 'mset' command"
    assert err(conn.call("MSETNX", "a", "1", "b")) == "ERR wrong number of arguments for 'msetnx' command"
    assert conn.call("MSET", "a", "1", "b", "2", "a", "3") == b"OK"
    assert conn.call("MGET", "a", "b") == [b"3", b"2"]
    assert conn.call("MSETNX", "c", "1", "a", "9") == 0
    assert conn.call("MGET", "c", "a") == [None, b"3"]
    assert conn.call("MSETNX", "c", "1", "d", "2") == 1
    assert conn.call("MGET", "c", "d") == [b"1", b"2"]
    db0(server).set_expire(b"a", NOW_MS + 5000)
    conn.call("MSET", "a", "4")
    assert ttl_ms(server, b"a") == -1
    plant_list(server)
    assert conn.call("MSET", "l", "v") == b"OK"
    assert conn.call("GET", "l") == b"v"


def test_msetnx_sees_expired_keys_as_missing(server, conn):
    conn.call("SET", "a", "1", "PX", "100")
    assert conn.call("MSETNX", "a", "2") == 0
    server.advance(0.101)
    assert conn.call("MSETNX", "a", "2") == 1
    assert conn.call("GET", "a") == b"2"


# ---------------------------------------------------------------- APPEND / STRLEN / representation


def test_append_strlen(server, conn):
    assert conn.call("STRLEN", "k") == 0
    assert conn.call("APPEND", "k", "ab") == 2
    assert conn.call("APPEND", "k", "cd") == 4
    assert conn.call("APPEND", "k", "") == 4
    assert conn.call("GET", "k") == b"abcd"
    assert conn.call("STRLEN", "k") == 4
    plant_list(server)
    assert err(conn.call("APPEND", "l", "x")) == WRONGTYPE
    assert err(conn.call("STRLEN", "l")) == WRONGTYPE


def test_append_keeps_ttl(server, conn):
    conn.call("SET", "k", "a", "EX", "10")
    conn.call("APPEND", "k", "b")
    conn.call("APPEND", "k", "c")
    assert ttl_ms(server, b"k") == 10_000
    assert conn.call("GET", "k") == b"abc"


def test_storage_representation_follows_redis_encodings(server, conn):
    """Redis 7.0.15: SET 5 -> int; APPEND to an existing key -> raw; INCR -> int again;
    SETRANGE -> raw; APPEND creating a key -> embstr/int; INCRBYFLOAT -> a plain string."""
    data = db0(server).data
    conn.call("SET", "a", "5")
    assert type(data[b"a"]) is bytes
    conn.call("APPEND", "a", "6")
    assert type(data[b"a"]) is bytearray and data[b"a"] == b"56"
    assert conn.call("INCR", "a") == 57
    assert type(data[b"a"]) is bytes and data[b"a"] == b"57"
    conn.call("SETRANGE", "a", "0", "9")
    assert type(data[b"a"]) is bytearray and data[b"a"] == b"97"
    conn.call("APPEND", "c", "xx")
    assert type(data[b"c"]) is bytes
    conn.call("SETRANGE", "f", "2", "ab")
    assert type(data[b"f"]) is bytearray and data[b"f"] == b"\x00\x00ab"
    conn.call("SET", "g", "123")
    conn.call("SETRANGE", "g", "0", "")
    assert type(data[b"g"]) is bytes  # nothing written: still int-encoded in Redis
    conn.call("SET", "e", "10.5")
    conn.call("INCRBYFLOAT", "e", "0.1")
    assert type(data[b"e"]) is EmbStr  # createStringObjectFromLongDouble: never int-encoded
    conn.call("INCRBYFLOAT", "e2", "0")
    assert conn.call("OBJECT", "ENCODING", "e2") == b"embstr"  # Redis 7.0.15: "0" but embstr
    assert conn.call("GET", "e2") == b"0"
    conn.call("GETSET", "f", "5")
    assert type(data[b"f"]) is bytes


def test_bytearray_values_reply_as_bytes(conn):
    conn.call("APPEND", "k", "ab")
    conn.call("APPEND", "k", "cd")
    assert conn.raw(b"GET k\r\n") == b"$4\r\nabcd\r\n"
    assert conn.raw(b"GETRANGE k 1 2\r\n") == b"$2\r\nbc\r\n"
    assert conn.raw(b"GETDEL k\r\n") == b"$4\r\nabcd\r\n"


def test_in_place_changes_invalidate_watch(server, conn):
    """APPEND/SETRANGE on a bytearray change it in place; WATCH must still see the change."""
    conn.call("APPEND", "k", "a")
    conn.call("APPEND", "k", "b")  # now a bytearray
    for cmd in (("APPEND", "k", "c"), ("SETRANGE", "k", "0", "z")):
        watcher = server.connect().client
        server.state.watch_key(watcher, b"k")
        conn.call(*cmd)
        assert watcher.flags & CLIENT_DIRTY_CAS
    server.state.watched_keys.clear()


# ---------------------------------------------------------------- INCR family


def test_incr_decr(server, conn):
    assert conn.call("INCR", "n") == 1
    assert conn.call("INCRBY", "n", "10") == 11
    assert conn.call("DECR", "n") == 10
    assert conn.call("DECRBY", "n", "-5") == 15
    assert conn.call("INCRBY", "n", "-20") == -5
    assert conn.call("GET", "n") == b"-5"
    assert conn.call("DECRBY", "x", "9223372036854775807") == -9223372036854775807


@pytest.mark.parametrize("value", [" 1", "1 ", "01", "+1", "1.0", "abc", "", "9223372036854775808", "-0"])
def test_incr_not_an_integer(conn, value):
    conn.call("SET", "s", value)
    assert err(conn.call("INCR", "s")) == NOT_INT
    assert conn.call("GET", "s") == value.encode()


def test_incr_errors(server, conn):
    conn.call("SET", "n", "9223372036854775807")
    assert err(conn.call("INCR", "n")) == "ERR increment or decrement would overflow"
    assert conn.call("INCRBY", "n", "-1") == 9223372036854775806
    conn.call("SET", "n", "-9223372036854775808")
    assert err(conn.call("DECR", "n")) == "ERR increment or decrement would overflow"
    assert err(conn.call("DECRBY", "n", "-9223372036854775808")) == "ERR decrement would overflow"
    assert err(conn.call("DECRBY", "x", "-9223372036854775808")) == "ERR decrement would overflow"
    assert err(conn.call("INCRBY", "x", "abc")) == NOT_INT
    assert err(conn.call("INCRBY", "x", "9223372036854775808")) == NOT_INT
    plant_list(server)
    assert err(conn.call("INCR", "l")) == WRONGTYPE
    assert err(conn.call("INCRBY", "l", "abc")) == NOT_INT  # the increment is parsed first
    assert err(conn.call("DECRBY", "l", "-9223372036854775808")) == "ERR decrement would overflow"


def test_incr_keeps_ttl(server, conn):
    conn.call("SET", "n", "5", "EX", "100")
    assert conn.call("INCR", "n") == 6
    assert ttl_ms(server, b"n") == 100_000
    server.advance(100.001)
    assert conn.call("INCR", "n") == 1  # expired: starts from zero
    assert ttl_ms(server, b"n") == -1


def test_incrbyfloat(server, conn):
    conn.call("SET", "k", "10.5")
    # the double 10.6 printed with %.17f would be 10.59999999999999964
    assert conn.call("INCRBYFLOAT", "k", "0.1") == b"10.6"
    assert conn.call("INCRBYFLOAT", "k", "-5") == b"5.6"
    conn.call("SET", "k", "3.0")
    assert conn.call("INCRBYFLOAT", "k", "1.1") == b"4.1"
    assert conn.call("INCRBYFLOAT", "nk", "1e20") == b"100000000000000000000"
    assert conn.call("INCRBYFLOAT", "z", "0x10") == b"16"
    conn.call("SET", "e", "5.0e3")
    assert conn.call("INCRBYFLOAT", "e", "2.0e2") == b"5200"
    conn.hello3()
    assert conn.raw(b"INCRBYFLOAT f 1.5\r\n") == b"$3\r\n1.5\r\n"  # a bulk string, not a double


def test_incrbyfloat_errors(server, conn):
    conn.call("SET", "k", "abc")
    assert err(conn.call("INCRBYFLOAT", "k", "1")) == NOT_FLOAT
    assert err(conn.call("INCRBYFLOAT", "n", "abc")) == NOT_FLOAT
    assert err(conn.call("INCRBYFLOAT", "n", " 1")) == NOT_FLOAT
    assert err(conn.call("INCRBYFLOAT", "n", "1e5000")) == NOT_FLOAT
    assert err(conn.call("INCRBYFLOAT", "n", "nan")) == NOT_FLOAT
    assert err(conn.call("INCRBYFLOAT", "n", "inf")) == "ERR increment would produce NaN or Infinity"
    conn.call("SET", "i", "inf")
    assert err(conn.call("INCRBYFLOAT", "i", "1")) == "ERR increment would produce NaN or Infinity"
    conn.call("SET", "m", "1e4932")
    assert err(conn.call("INCRBYFLOAT", "m", "1e4932")) == "ERR increment would produce NaN or Infinity"
    assert conn.call("GET", "m") == b"1e4932"
    plant_list(server)
    assert err(conn.call("INCRBYFLOAT", "l", "abc")) == WRONGTYPE  # type before the increment


def test_incrbyfloat_keeps_ttl(server, conn):
    conn.call("SET", "k", "1", "PX", "5000")
    assert conn.call("INCRBYFLOAT", "k", "0.5") == b"1.5"
    assert ttl_ms(server, b"k") == 5000


# ---------------------------------------------------------------- GETRANGE / SUBSTR / SETRANGE


@pytest.mark.parametrize(
    "start,end,expected",
    [
        (0, -1, b"hello"),
        (-3, -1, b"llo"),
        (-1, -3, b""),
        (3, 1, b""),
        (10, 20, b""),
        (-100, 100, b"hello"),
        (0, 9223372036854775807, b"hello"),
        (-9223372036854775808, 0, b"h"),
        (1, 2, b"el"),
        (4, 4, b"o"),
        (-1, -1, b"o"),
        (-100, -50, b"h"),  # both clamp to 0
        (5, -100, b""),
        (-5, -5, b"h"),
    ],
)
def test_getrange(conn, start, end, expected):
    conn.call("SET", "s", "hello")
    assert conn.call("GETRANGE", "s", start, end) == expected
    assert conn.call("SUBSTR", "s", start, end) == expected


def test_getrange_edges(server, conn):
    assert conn.call("GETRANGE", "nokey", "0", "1") == b""  # empty bulk, not nil
    conn.hello3()
    assert conn.raw(b"GETRANGE nokey 0 1\r\n") == b"$0\r\n\r\n"
    assert err(conn.call("GETRANGE", "nokey", "a", "1")) == NOT_INT
    assert err(conn.call("GETRANGE", "nokey", "0", "1.5")) == NOT_INT
    plant_list(server)
    assert err(conn.call("GETRANGE", "l", "0", "1")) == WRONGTYPE
    assert err(conn.call("GETRANGE", "l", "x", "1")) == NOT_INT
    conn.call("SET", "e", "")
    assert conn.call("GETRANGE", "e", "0", "-1") == b""
    conn.call("SET", "i", "12345")
    assert conn.call("GETRANGE", "i", "1", "3") == b"234"


def test_setrange(server, conn):
    conn.call("SET", "s", "hello")
    assert conn.call("SETRANGE", "s", "2", "XYZW") == 6
    assert conn.call("GET", "s") == b"heXYZW"
    assert conn.call("SETRANGE", "s", "10", "Q") == 11
    assert conn.call("GET", "s") == b"heXYZW\x00\x00\x00\x00Q"
    assert conn.call("SETRANGE", "s", "1", "") == 11
    assert conn.call("SETRANGE", "n", "3", "ab") == 5
    assert conn.call("GET", "n") == b"\x00\x00\x00ab"
    assert conn.call("SETRANGE", "z", "0", "") == 0  # no key is created
    assert b"z" not in db0(server).data


def test_setrange_errors(server, conn):
    assert err(conn.call("SETRANGE", "s", "-1", "x")) == "ERR offset is out of range"
    assert err(conn.call("SETRANGE", "s", "a", "x")) == NOT_INT
    plant_list(server)
    assert err(conn.call("SETRANGE", "l", "0", "x")) == WRONGTYPE
    assert err(conn.call("SETRANGE", "l", "0", "")) == WRONGTYPE
    assert err(conn.call("SETRANGE", "l", "-1", "x")) == "ERR offset is out of range"
    too_big = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    assert err(conn.call("SETRANGE", "s", "536870912", "x")) == too_big  # 512 MB + 1
    conn.call("SET", "t", "abc")
    assert err(conn.call("SETRANGE", "t", "9223372036854775807", "x")) == too_big
    assert conn.call("SETRANGE", "t", "9223372036854775807", "") == 3
    assert b"s" not in db0(server).data


def test_size_limit_follows_proto_max_bulk_len(server, conn):
    server.state.config.set("proto-max-bulk-len", "1mb")
    too_big = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    assert conn.call("SETRANGE", "s", str(1024 * 1024 - 1), "x") == 1024 * 1024
    assert err(conn.call("SETRANGE", "s", str(1024 * 1024), "x")) == too_big
    assert err(conn.call("APPEND", "s", "x")) == too_big
    assert conn.call("STRLEN", "s") == 1024 * 1024


def test_setrange_keeps_ttl(server, conn):
    conn.call("SET", "s", "abc", "EX", "7")
    conn.call("SETRANGE", "s", "1", "X")
    assert ttl_ms(server, b"s") == 7000
    assert conn.call("GET", "s") == b"aXc"


# ---------------------------------------------------------------- LCS


def test_lcs(server, conn):
    conn.call("MSET", "key1", "ohmytext", "key2", "mynewtext")
    assert conn.call("LCS", "key1", "key2") == b"mytext"
    assert conn.call("LCS", "key1", "key2", "LEN") == 6
    assert conn.call("LCS", "key1", "key2", "len", "len") == 6
    assert conn.call("LCS", "key1", "key2", "WITHMATCHLEN") == b"mytext"
    assert conn.call("LCS", "nokey", "key2") == b""
    assert conn.call("LCS", "nokey", "key2", "LEN") == 0


def test_lcs_idx_exact_bytes(conn):
    conn.call("MSET", "key1", "ohmytext", "key2", "mynewtext")
    matches = b"*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n"
    assert conn.raw(b"LCS key1 key2 IDX\r\n") == b"*4\r\n$7\r\nmatches\r\n" + matches + b"$3\r\nlen\r\n:6\r\n"
    withlen = (
        b"*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n"
    )
    assert (
        conn.raw(b"LCS key1 key2 IDX WITHMATCHLEN\r\n")
        == b"*4\r\n$7\r\nmatches\r\n" + withlen + b"$3\r\nlen\r\n:6\r\n"
    )
    mml = b"*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
    assert (
        conn.raw(b"LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN\r\n")
        == b"*4\r\n$7\r\nmatches\r\n" + mml + b"$3\r\nlen\r\n:6\r\n"
    )
    assert conn.raw(b"LCS nokey key2 IDX\r\n") == b"*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n"
    conn.hello3()
    assert conn.raw(b"LCS key1 key2 IDX\r\n") == b"%2\r\n$7\r\nmatches\r\n" + matches + b"$3\r\nlen\r\n:6\r\n"
    assert conn.raw(b"LCS nokey key2 IDX\r\n") == b"%2\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n"


def test_lcs_errors(server, conn):
    conn.call("SET", "a", "abc")
    both = "ERR If you want both the length and indexes, please just use IDX."
    assert err(conn.call("LCS", "a", "a", "LEN", "IDX")) == both
    assert err(conn.call("LCS", "a", "a", "foo")) == SYNTAX
    assert err(conn.call("LCS", "a", "a", "MINMATCHLEN")) == SYNTAX
    assert err(conn.call("LCS", "a", "a", "MINMATCHLEN", "abc")) == NOT_INT
    assert conn.call("LCS", "a", "a", "MINMATCHLEN", "-5", "IDX") == [b"matches", [[[0, 2], [0, 2]]], b"len", 3]
    plant_list(server)
    # the type check comes before the options
    assert err(conn.call("LCS", "l", "a", "foo")) == "ERR The specified keys must contain string values"
    assert err(conn.call("LCS", "a", "l")) == "ERR The specified keys must contain string values"


def test_lcs_memory_limit(server, conn):
    server.state.config.set("proto-max-bulk-len", "1mb")
    conn.call("SET", "a", "x" * 600)
    conn.call("SET", "b", "y" * 600)
    assert (
        err(conn.call("LCS", "a", "b", "LEN"))
        == "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
    )


def _lcs_dp_len(a: bytes, b: bytes) -> int:
    return strings._lcs_table(a, b)[len(a)][len(b)]


def test_lcs_length_bit_parallel_matches_table():
    rng = random.Random(5)
    for _ in range(300):
        a = bytes(rng.choice(b"abcd") for _ in range(rng.randint(0, 40)))
        b = bytes(rng.choice(b"abcde") for _ in range(rng.randint(0, 40)))
        assert strings.lcs_length(a, b) == _lcs_dp_len(a, b), (a, b)


# ---------------------------------------------------------------- propagation


def test_propagation_argv(server, conn, seen):
    def run(*cmd):
        seen.clear()
        conn.call(*cmd)
        return list(seen)

    now = NOW_MS
    assert run("SET", "a", "1") == [[b"SET", b"a", b"1"]]
    assert run("SET", "a", "1", "EX", "100") == [[b"SET", b"a", b"1", b"PXAT", b"%d" % (now + 100_000)]]
    assert run("SET", "a", "2", "PX", "100") == [[b"SET", b"a", b"2", b"PXAT", b"%d" % (now + 100)]]
    assert run("SET", "a", "3", "EXAT", "2000000000") == [[b"SET", b"a", b"3", b"PXAT", b"2000000000000"]]
    assert run("SET", "a", "3", "PXAT", "2000000000001") == [[b"SET", b"a", b"3", b"PXAT", b"2000000000001"]]
    assert run("SET", "a", "4", "get") == [[b"SET", b"a", b"4"]]
    assert run("SET", "a", "5", "xx", "keepttl", "get", "GET") == [[b"SET", b"a", b"5", b"xx", b"keepttl"]]
    assert run("SET", "a", "6", "GET", "EX", "10") == [[b"SET", b"a", b"6", b"PXAT", b"%d" % (now + 10_000)]]
    assert run("SET", "a", "7", "NX") == []
    assert run("SET", "a", "7", "NX", "GET") == []
    assert run("SETNX", "a", "7") == []
    assert run("SETNX", "b", "7") == [[b"SETNX", b"b", b"7"]]
    assert run("SETEX", "b", "100", "x") == [[b"SET", b"b", b"x", b"PXAT", b"%d" % (now + 100_000)]]
    assert run("PSETEX", "b", "100", "x") == [[b"SET", b"b", b"x", b"PXAT", b"%d" % (now + 100)]]
    assert run("GETSET", "b", "y") == [[b"SET", b"b", b"y"]]
    assert run("GETDEL", "b") == [[b"DEL", b"b"]]
    assert run("GETDEL", "b") == []
    assert run("GETEX", "a") == []
    assert run("GETEX", "a", "EX", "100") == [[b"PEXPIREAT", b"a", b"%d" % (now + 100_000)]]
    assert run("GETEX", "a", "PERSIST") == [[b"PERSIST", b"a"]]
    assert run("GETEX", "a", "PERSIST") == []
    assert run("GETEX", "a", "PXAT", "1") == [[b"DEL", b"a"]]
    assert run("SET", "f", "1.5") == [[b"SET", b"f", b"1.5"]]
    assert run("INCRBYFLOAT", "f", "1") == [[b"SET", b"f", b"2.5", b"KEEPTTL"]]
    assert run("APPEND", "f", "x") == [[b"APPEND", b"f", b"x"]]
    assert run("SETRANGE", "f", "0", "y") == [[b"SETRANGE", b"f", b"0", b"y"]]
    assert run("SETRANGE", "f", "0", "") == []
    assert run("MSET", "x", "1", "y", "2") == [[b"MSET", b"x", b"1", b"y", b"2"]]
    assert run("MSETNX", "x", "1") == []
    assert run("INCRBY", "x", "5") == [[b"INCRBY", b"x", b"5"]]
    assert run("DECR", "x") == [[b"DECR", b"x"]]
    assert run("INCR", "f") == []  # error: nothing propagated
    assert run("GET", "x") == []
    assert run("LCS", "x", "y") == []


def test_propagation_lazyfree_unlink(server, conn, seen):
    server.state.config.set("lazyfree-lazy-user-del", "yes")
    server.state.config.set("lazyfree-lazy-expire", "yes")
    conn.call("SET", "a", "1")
    conn.call("SET", "b", "1")
    seen.clear()
    conn.call("GETDEL", "a")
    conn.call("GETEX", "b", "EXAT", "1")
    assert seen == [[b"UNLINK", b"a"], [b"UNLINK", b"b"]]


def test_lazy_expiry_propagates_del_before_the_write(server, conn, seen):
    conn.call("SET", "c", "v", "PX", "10")
    server.advance(0.011)
    seen.clear()
    conn.call("SET", "c", "w", "GET")
    assert seen == [[b"DEL", b"c"], [b"SET", b"c", b"w"]]


# ---------------------------------------------------------------- keyspace events and stats


def test_keyspace_events(server, conn, events):
    # the same sequence run on Redis 7.0.15 with notify-keyspace-events KEA (psubscribe
    # __keyevent@0__:*); SET NX GET on an existing key, SETNX on one and an empty SETRANGE
    # fire nothing
    for cmd in [
        ("SET", "a", "1", "EX", "100"),
        ("SET", "a", "2", "GET"),
        ("SET", "a", "3", "NX", "GET"),
        ("SETEX", "b", "100", "x"),
        ("GETSET", "b", "y"),
        ("GETDEL", "b"),
        ("GETEX", "a", "EX", "100"),
        ("GETEX", "a", "PERSIST"),
        ("GETEX", "a", "PERSIST"),
        ("GETEX", "a", "PXAT", "1"),
        ("SET", "f", "1.5"),
        ("INCRBYFLOAT", "f", "1"),
        ("SETNX", "f", "2"),
        ("SETNX", "g", "2"),
        ("APPEND", "f", "x"),
        ("APPEND", "h", "x"),
        ("SETRANGE", "f", "0", "y"),
        ("SETRANGE", "f", "0", ""),
        ("MSET", "x", "1", "y", "2"),
        ("INCR", "x"),
        ("DECRBY", "x", "2"),
        ("SETRANGE", "z", "1", "q"),
    ]:
        conn.call(*cmd)
    assert [(t, e.decode()) for t, e, _k in events] == [
        ("$", "set"),
        ("g", "expire"),
        ("$", "set"),
        ("$", "set"),
        ("g", "expire"),
        ("$", "set"),
        ("g", "del"),
        ("g", "expire"),
        ("g", "persist"),
        ("g", "del"),
        ("$", "set"),
        ("$", "incrbyfloat"),
        ("$", "set"),
        ("$", "append"),
        ("$", "append"),
        ("$", "setrange"),
        ("$", "set"),
        ("$", "set"),
        ("$", "incrby"),
        ("$", "incrby"),
        ("$", "setrange"),
    ]
    keys = b"a a a b b b b a a a f f g f h f x y x x z".split()
    assert [k for _t, _e, k in events] == keys


def test_keyspace_hits_and_misses(server, conn):
    stats = server.state.stats
    conn.call("SET", "a", "1")
    base = (stats.keyspace_hits, stats.keyspace_misses)
    conn.call("GET", "a")
    conn.call("GET", "nokey")
    conn.call("MGET", "a", "b", "c")
    conn.call("STRLEN", "a")
    conn.call("GETRANGE", "nokey", "0", "1")
    conn.call("LCS", "a", "nokey")
    conn.call("INCR", "a")  # a write lookup: no stats
    conn.call("SETRANGE", "a", "0", "1")
    assert (stats.keyspace_hits - base[0], stats.keyspace_misses - base[1]) == (4, 5)


def test_dirty_counts(server, conn):
    st = server.state
    d = st.dirty
    conn.call("MSET", "a", "1", "b", "2", "c", "3")
    assert st.dirty - d == 3
    d = st.dirty
    conn.call("SET", "a", "1", "NX")
    conn.call("GETEX", "a")
    conn.call("SETRANGE", "a", "0", "")
    conn.call("MSETNX", "a", "1")
    assert st.dirty == d
    conn.call("GETEX", "a", "PX", "100")
    assert st.dirty - d == 1
