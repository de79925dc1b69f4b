"""DUMP and RESTORE (twistd_redis/commands/dump.py). The payload constants are DUMP replies of
redis-server 7.0.15; replies, error texts and propagation were checked against it (its AOF)."""

import struct

import pytest

from tests.unit.harness import FakeServer, ReplyError
from twistd_redis.client import CLIENT_DIRTY_CAS
from twistd_redis.persistence.crc64 import crc64
from twistd_redis.persistence.rdb import dump_payload, verify_payload

# DUMP replies of redis-server 7.0.15.
REAL = {
    "hello": b"\x00\x05hello\n\x00cr\xdfve4 \n",
    "12345": b"\x00\xc190\n\x00\x9d\x94\xea'\x93\xfc\x08\xb9",
    "-987654321012": b"\x00\r-987654321012\n\x00\x06\x8e\xb9\xd2p\xb0\xb4\xd4",
    "abcdefgh*10": b"\x00\xc3\x10@P\x08abcdefgha\xe0<\x07\x01gh\n\x00\r\xb0\xc4t]\x88\x8f<",
    "abcdefgh*10 uncompressed": b"\x00@P" + b"abcdefgh" * 10 + b"\n\x00\x0f1E6\x8b\xed\x17\x8b",
    "list a b 1": b'\x12\x01\x02\x0f\x0f\x00\x00\x00\x03\x00\x81a\x02\x81b\x02\x01\x01\xff\n\x00\xe0\x1b\xabJG\xceY"',
    "hash f v n 7": b"\x10\x12\x12\x00\x00\x00\x04\x00\x81f\x02\x81v\x02\x81n\x02\x07\x01\xff\n\x00\xb8*\xde\xa8@\x7f\xfa\xa8",
    "zset a 1 b 2.5": b"\x11\x14\x14\x00\x00\x00\x04\x00\x81a\x02\x01\x01\x81b\x02\x832.5\x04\xff\n\x00\xd4Ln\xa4\xf6D\xd9\xd7",
    "intset 3 1 2": b"\x0b\x0e\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00\n\x00\xa5\x02\\\xe2mnM\x1b",
    "set x": b"\x02\x01\x01x\n\x00\xff\xe8\x80\xbav\x0c/\t",
}
HELLO = REAL["hello"]


def err(reply):
    assert isinstance(reply, ReplyError), reply
    return str(reply)


def payload(body: bytes, version: int = 10) -> bytes:
    """A DUMP payload around ``body`` (type byte + value) with a valid footer."""
    b = body + struct.pack("<H", version)
    return b + struct.pack("<Q", crc64(b))


def ziplist(items) -> bytes:
    """A ziplist (Redis < 7 small hashes/zsets/lists) of str items (all encoded as strings)."""
    entries = b""
    prev = 0
    offsets = []
    for it in items:
        data = it.encode() if isinstance(it, str) else it
        assert len(data) < 64
        e = bytes([prev]) + bytes([len(data)]) + data
        offsets.append(10 + len(entries))
        entries += e
        prev = len(e)
    total = 10 + len(entries) + 1
    return struct.pack("<IIH", total, offsets[-1], len(items)) + entries + b"\xff"


def rdb_string(s: bytes) -> bytes:
    assert len(s) < 64
    return bytes([len(s)]) + s


@pytest.fixture
def seen(server):
    out = []
    server.state.propagation_targets.append(lambda dbid, argv: out.append(list(argv)))
    return out


# ------------------------------------------------------------------ DUMP


def test_dump_missing_key_is_null(conn):
    assert conn.call("DUMP", "nokey") is None
    assert conn.raw(b"DUMP nokey\r\n") == b"$-1\r\n"
    conn.hello3()
    assert conn.raw(b"DUMP nokey\r\n") == b"_\r\n"


@pytest.mark.parametrize(
    "setup, name",
    [
        (("SET", "k", "hello"), "hello"),
        (("SET", "k", "12345"), "12345"),
        (("SET", "k", "-987654321012"), "-987654321012"),
        (("SET", "k", "abcdefgh" * 10), "abcdefgh*10"),
        (("RPUSH", "k", "a", "b", "1"), "list a b 1"),
        (("HSET", "k", "f", "v", "n", "7"), "hash f v n 7"),
        (("ZADD", "k", "1", "a", "2.5", "b"), "zset a 1 b 2.5"),
        (("SADD", "k", "3", "1", "2"), "intset 3 1 2"),
        (("SADD", "k", "x"), "set x"),
    ],
)
def test_dump_bytes_equal_real_redis(conn, setup, name):
    conn.call(*setup)
    assert conn.call("DUMP", "k") == REAL[name]


def test_dump_honours_rdbcompression(conn):
    conn.call("SET", "k", "abcdefgh" * 10)
    conn.call("CONFIG", "SET", "rdbcompression", "no")
    assert conn.call("DUMP", "k") == REAL["abcdefgh*10 uncompressed"]


def test_dump_wrong_arity(conn):
    assert err(conn.call("DUMP")) == "ERR wrong number of arguments for 'dump' command"
    assert err(conn.call("DUMP", "a", "b")) == "ERR wrong number of arguments for 'dump' command"


def test_dump_counts_a_keyspace_hit_and_touches(server, conn):
    conn.call("SET", "k", "v")
    server.advance(5)
    st = server.state.stats
    h, m = st.keyspace_hits, st.keyspace_misses
    conn.call("DUMP", "k")
    conn.call("DUMP", "nokey")
    assert (st.keyspace_hits, st.keyspace_misses) == (h + 1, m + 1)
    assert conn.call("OBJECT", "IDLETIME", "k") == 0


def test_dump_of_expired_key_is_null(server, conn):
    conn.call("SET", "k", "v", "PX", "100")
    server.advance(0.2)
    assert conn.call("DUMP", "k") is None


def test_verify_payload():
    assert verify_payload(HELLO)
    assert not verify_payload(HELLO[:9])
    assert not verify_payload(HELLO[:-1] + b"x")
    assert not verify_payload(payload(b"\x00\x01a", version=11))
    assert verify_payload(payload(b"\x00\x01a", version=9))
    assert dump_payload(b"hello") == HELLO


# ------------------------------------------------------------------ RESTORE: values


@pytest.mark.parametrize("name", sorted(k for k in REAL if "uncompressed" not in k))
def test_restore_real_payloads_roundtrip(conn, name):
    assert conn.call("RESTORE", "k", "0", REAL[name]) == b"OK"
    assert conn.call("DUMP", "k") == REAL[name]


def test_restore_values_and_encodings(conn):
    assert conn.call("RESTORE", "s", "0", REAL["12345"]) == b"OK"
    assert conn.call("GET", "s") == b"12345"
    assert conn.call("OBJECT", "ENCODING", "s") == b"int"
    assert conn.call("RESTORE", "l", "0", REAL["list a b 1"]) == b"OK"
    assert conn.call("LRANGE", "l", "0", "-1") == [b"a", b"b", b"1"]
    assert conn.call("OBJECT", "ENCODING", "l") == b"quicklist"
    assert conn.call("RESTORE", "h", "0", REAL["hash f v n 7"]) == b"OK"
    assert conn.call("HGETALL", "h") == [b"f", b"v", b"n", b"7"]
    assert conn.call("OBJECT", "ENCODING", "h") == b"listpack"
    assert conn.call("RESTORE", "z", "0", REAL["zset a 1 b 2.5"]) == b"OK"
    assert conn.call("ZRANGE", "z", "0", "-1", "WITHSCORES") == [b"a", b"1", b"b", b"2.5"]
    assert conn.call("OBJECT", "ENCODING", "z") == b"listpack"
    assert conn.call("RESTORE", "i", "0", REAL["intset 3 1 2"]) == b"OK"
    assert conn.call("SMEMBERS", "i") == [b"1", b"2", b"3"]
    assert conn.call("OBJECT", "ENCODING", "i") == b"intset"
    assert conn.call("TYPE", "i") == b"set"


def test_restore_big_values_roundtrip(conn):
    conn.call("RPUSH", "l", *[f"item-{i}" for i in range(2000)])
    conn.call("HSET", "h", *[x for i in range(300) for x in (f"f{i}", f"v{i}")])
    conn.call("ZADD", "z", *[x for i in range(300) for x in (str(i / 7), f"m{i}")])
    conn.call("SADD", "s", *[f"m{i}" for i in range(300)])
    conn.call("SET", "str", "x" * 100000)
    for key in ("l", "h", "z", "s", "str"):
        p = conn.call("DUMP", key)
        enc = conn.call("OBJECT", "ENCODING", key)
        assert conn.call("RESTORE", key + "2", "0", p) == b"OK"
        assert conn.call("OBJECT", "ENCODING", key + "2") == enc
        if key != "s":  # a hashtable set has no defined order
            assert conn.call("DUMP", key + "2") == p
    assert conn.call("LRANGE", "l2", "0", "-1") == conn.call("LRANGE", "l", "0", "-1")
    assert sorted(conn.call("HGETALL", "h2")) == sorted(conn.call("HGETALL", "h"))
    assert conn.call("ZRANGE", "z2", "0", "-1", "WITHSCORES") == conn.call("ZRANGE", "z", "0", "-1", "WITHSCORES")
    assert sorted(conn.call("SMEMBERS", "s2")) == sorted(conn.call("SMEMBERS", "s"))
    assert conn.call("GET", "str2") == b"x" * 100000


def test_restore_old_ziplist_hash_converts_by_current_limits(conn):
    p = payload(b"\x0d" + rdb_string(ziplist(["a", "1", "b", "2"])), version=9)
    assert conn.call("RESTORE", "h", "0", p) == b"OK"
    assert conn.call("HGETALL", "h") == [b"a", b"1", b"b", b"2"]
    assert conn.call("OBJECT", "ENCODING", "h") == b"listpack"
    conn.call("CONFIG", "SET", "hash-max-listpack-entries", "1")
    assert conn.call("RESTORE", "h2", "0", p) == b"OK"
    assert conn.call("OBJECT", "ENCODING", "h2") == b"hashtable"
    assert sorted(conn.call("HGETALL", "h2")) == [b"1", b"2", b"a", b"b"]


def test_restore_old_ziplist_zset_and_list(conn):
    p = payload(b"\x0c" + rdb_string(ziplist(["a", "1", "b", "2.5"])), version=9)
    assert conn.call("RESTORE", "z", "0", p) == b"OK"
    assert conn.call("ZRANGE", "z", "0", "-1", "WITHSCORES") == [b"a", b"1", b"b", b"2.5"]
    assert conn.call("OBJECT", "ENCODING", "z") == b"listpack"
    p = payload(b"\x0a" + rdb_string(ziplist(["x", "y"])), version=9)
    assert conn.call("RESTORE", "l", "0", p) == b"OK"
    assert conn.call("LRANGE", "l", "0", "-1") == [b"x", b"y"]
    assert conn.call("OBJECT", "ENCODING", "l") == b"quicklist"


def test_restore_big_intset_becomes_hashtable_by_limit(conn):
    conn.call("SADD", "s", *range(20))
    p = conn.call("DUMP", "s")
    conn.call("CONFIG", "SET", "set-max-intset-entries", "10")
    assert conn.call("RESTORE", "s2", "0", p) == b"OK"
    assert conn.call("OBJECT", "ENCODING", "s2") == b"hashtable"
    assert conn.call("SCARD", "s2") == 20


# ------------------------------------------------------------------ RESTORE: errors


@pytest.mark.parametrize(
    "args, text",
    [
        (("n", "0", HELLO, "FOO"), "ERR syntax error"),
        (("n", "0", HELLO, "IDLETIME"), "ERR syntax error"),
        (("n", "0", HELLO, "FREQ"), "ERR syntax error"),
        (("n", "0", HELLO, "IDLETIME", "-1"), "ERR Invalid IDLETIME value, must be >= 0"),
        (("n", "0", HELLO, "IDLETIME", "x"), "ERR value is not an integer or out of range"),
        (("n", "0", HELLO, "FREQ", "256"), "ERR Invalid FREQ value, must be >= 0 and <= 255"),
        (("n", "0", HELLO, "FREQ", "-1"), "ERR Invalid FREQ value, must be >= 0 and <= 255"),
        (("n", "0", HELLO, "FREQ", "1.5"), "ERR value is not an integer or out of range"),
        (("n", "0", HELLO, "FREQ", "1", "IDLETIME", "2"), "ERR syntax error"),
        (("n", "0", HELLO, "IDLETIME", "1", "FREQ", "2"), "ERR syntax error"),
        (("n", "x", HELLO), "ERR value is not an integer or out of range"),
        (("n", "-1", HELLO), "ERR Invalid TTL value, must be >= 0"),
        (("n", "0", b"short"), "ERR DUMP payload version or checksum are wrong"),
        (("n", "0", HELLO[:-1] + b"x"), "ERR DUMP payload version or checksum are wrong"),
        (("n", "0", payload(b"\x00\x01a", version=11)), "ERR DUMP payload version or checksum are wrong"),
        (("n", "0", b"\x00\x05hello\n\x00" + b"\0" * 8), "ERR DUMP payload version or checksum are wrong"),
        (("n", "0", payload(b"\x08\x01a")), "ERR Bad data format"),
        (("n", "0", payload(b"\x63\x01a")), "ERR Bad data format"),
        (("n", "0", payload(b"\x03\x00")), "ERR Bad data format"),
        (("n", "0", payload(b"\x0e\x00")), "ERR Bad data format"),
        (("n", "0", payload(b"")), "ERR Bad data format"),
        (("n", "0", payload(b"\x01\x00")), "ERR Bad data format"),
        (("n", "0", payload(b"\x02\x00")), "ERR Bad data format"),
        (("n", "0", payload(b"\x04\x00")), "ERR Bad data format"),
        (("n", "0", payload(b"\x05\x00")), "ERR Bad data format"),
        (("n",), "ERR wrong number of arguments for 'restore' command"),
        (("n", "0"), "ERR wrong number of arguments for 'restore' command"),
    ],
)
def test_restore_errors(conn, args, text):
    assert err(conn.call("RESTORE", *args)) == text
    assert conn.call("EXISTS", "n") == 0


def test_restore_reads_the_footer_and_ignores_trailing_bytes(conn):
    # rdbLoadObject reads from the whole payload buffer: a body may run into the footer, and
    # bytes it leaves unread are ignored (as redis-server 7.0.15 does)
    p = payload(b"\x00\x09a")
    assert conn.call("RESTORE", "a", "0", p) == b"OK"
    assert conn.call("GET", "a") == p[2:11]
    assert conn.call("RESTORE", "b", "0", payload(b"\x00\x01ab")) == b"OK"
    assert conn.call("GET", "b") == b"a"


def test_restore_error_order(conn):
    conn.call("SET", "k", "v")
    # options first, then the existing key, then the TTL, then the payload
    assert err(conn.call("RESTORE", "k", "x", b"zz", "FOO")) == "ERR syntax error"
    assert err(conn.call("RESTORE", "k", "x", b"zz", "IDLETIME", "-1")) == "ERR Invalid IDLETIME value, must be >= 0"
    assert err(conn.call("RESTORE", "k", "x", b"zz")) == "BUSYKEY Target key name already exists."
    assert err(conn.call("RESTORE", "k", "-1", b"zz")) == "BUSYKEY Target key name already exists."
    assert err(conn.call("RESTORE", "k", "-1", b"zz", "REPLACE")) == "ERR Invalid TTL value, must be >= 0"
    assert err(conn.call("RESTORE", "k", "0", b"zz", "REPLACE")) == "ERR DUMP payload version or checksum are wrong"
    assert err(conn.call("RESTORE", "k", "0", payload(b"\x09"), "REPLACE")) == "ERR Bad data format"
    assert conn.call("GET", "k") == b"v"  # a failed RESTORE REPLACE leaves the old key alone


def test_restore_options_repeat_and_case(conn):
    assert (
        conn.call("RESTORE", "n", "0", HELLO, "replace", "REPLACE", "AbsTtl", "idletime", "5", "IDLETIME", "7") == b"OK"
    )
    assert conn.call("OBJECT", "IDLETIME", "n") == 7
    assert conn.call("RESTORE", "m", "0", HELLO, "freq", "5", "FREQ", "6") == b"OK"


def test_restore_busykey_after_lazy_expiry_is_ok(server, conn):
    conn.call("SET", "k", "old", "PX", "100")
    server.advance(0.2)
    assert conn.call("RESTORE", "k", "0", HELLO) == b"OK"
    assert conn.call("GET", "k") == b"hello"


# ------------------------------------------------------------------ RESTORE: TTL, side effects, propagation


def test_restore_relative_ttl_and_propagation(server, conn, seen, events):
    now = int(server.clock.seconds() * 1000)
    assert conn.call("RESTORE", "k", "5000", HELLO) == b"OK"
    assert conn.call("PTTL", "k") == 5000
    assert seen[-1] == [b"RESTORE", b"k", b"%d" % (now + 5000), HELLO, b"ABSTTL"]
    assert (b"restore", b"k", 0) in events
    server.advance(5.001)
    assert conn.call("EXISTS", "k") == 0


def test_restore_no_ttl_propagates_verbatim(server, conn, seen):
    dirty = server.state.dirty
    assert conn.call("RESTORE", "k", "0", HELLO, "IDLETIME", "50") == b"OK"
    assert seen == [[b"RESTORE", b"k", b"0", HELLO, b"IDLETIME", b"50"]]
    assert server.state.dirty == dirty + 1
    assert conn.call("TTL", "k") == -1


def test_restore_replace_with_ttl_rewrites_options_in_place(server, conn, seen):
    now = int(server.clock.seconds() * 1000)
    conn.call("SET", "k", "v")
    assert conn.call("RESTORE", "k", "7000", HELLO, "REPLACE", "IDLETIME", "5") == b"OK"
    assert seen[-1] == [b"RESTORE", b"k", b"%d" % (now + 7000), HELLO, b"REPLACE", b"IDLETIME", b"5", b"ABSTTL"]


def test_restore_absttl(server, conn, seen):
    when = int(server.clock.seconds() * 1000) + 99999
    assert conn.call("RESTORE", "k", str(when), HELLO, "ABSTTL") == b"OK"
    assert conn.call("PEXPIRETIME", "k") == when
    assert seen[-1] == [b"RESTORE", b"k", b"%d" % when, HELLO, b"ABSTTL"]


def test_restore_absttl_in_the_past_creates_nothing(server, conn, seen, events):
    dirty = server.state.dirty
    assert conn.call("RESTORE", "k", "1000", HELLO, "ABSTTL") == b"OK"
    assert conn.call("EXISTS", "k") == 0
    assert seen == [] and server.state.dirty == dirty
    assert not [e for e in events if e[1] == b"k"]


def test_restore_absttl_in_the_past_replacing_propagates_del(server, conn, seen, events):
    conn.call("SET", "k", "v")
    seen.clear()
    events.clear()
    dirty = server.state.dirty
    assert conn.call("RESTORE", "k", "1000", HELLO, "ABSTTL", "REPLACE") == b"OK"
    assert conn.call("EXISTS", "k") == 0
    assert seen == [[b"DEL", b"k"]]
    assert server.state.dirty == dirty + 1
    assert [e for e in events if e[1] == b"k"] == [(b"del", b"k", 0)]


def test_restore_ttl_overflow_is_already_expired(conn):
    assert conn.call("RESTORE", "k", "9223372036854775807", HELLO) == b"OK"
    assert conn.call("EXISTS", "k") == 0


def test_restore_replace(server, conn, events):
    conn.call("RPUSH", "k", "a")
    conn.call("EXPIRE", "k", "100")
    assert conn.call("RESTORE", "k", "0", HELLO, "REPLACE") == b"OK"
    assert conn.call("GET", "k") == b"hello"
    assert conn.call("TTL", "k") == -1
    assert [e[0] for e in events if e[1] == b"k"][-1] == b"restore"


def test_restore_invalidates_watch(server, conn):
    other = server.connect()
    conn.call("WATCH", "k")
    other.call("RESTORE", "k", "0", HELLO)
    assert conn.client.flags & CLIENT_DIRTY_CAS
    conn.call("MULTI")
    conn.call("GET", "k")
    assert conn.call("EXEC") is None


def test_restore_wakes_blocked_clients(server, conn):
    waiter = server.connect()
    waiter.send("BLPOP", "l", "0")
    assert conn.call("RESTORE", "l", "0", REAL["list a b 1"]) == b"OK"
    assert waiter.replies() == [[b"l", b"a"]]


def test_restore_keyspace_event_via_pubsub(server, conn):
    sub = server.connect()
    conn.call("CONFIG", "SET", "notify-keyspace-events", "Eg")
    sub.call("SUBSCRIBE", "__keyevent@0__:restore")
    conn.call("RESTORE", "k", "0", HELLO)
    assert sub.replies() == [[b"message", b"__keyevent@0__:restore", b"k"]]


def test_restore_inside_multi_propagates_in_the_transaction(server, conn, seen):
    now = int(server.clock.seconds() * 1000)
    conn.call("MULTI")
    conn.call("RESTORE", "a", "0", HELLO)
    conn.call("RESTORE", "b", "1000", HELLO)
    assert conn.call("EXEC") == [b"OK", b"OK"]
    assert seen == [
        [b"MULTI"],
        [b"RESTORE", b"a", b"0", HELLO],
        [b"RESTORE", b"b", b"%d" % (now + 1000), HELLO, b"ABSTTL"],
        [b"EXEC"],
    ]


# ------------------------------------------------------------------ IDLETIME / FREQ


def test_restore_idletime(server, conn):
    assert conn.call("RESTORE", "k", "0", HELLO, "IDLETIME", "1000") == b"OK"
    assert conn.call("OBJECT", "IDLETIME", "k") == 1000
    server.advance(10)
    assert conn.call("OBJECT", "IDLETIME", "k") == 1010
    conn.call("GET", "k")
    assert conn.call("OBJECT", "IDLETIME", "k") == 0


@pytest.mark.parametrize(
    "idle, clock, expected",  # checked against redis-server 7.0.15 (LRU clock 87855)
    [
        (99999999999999999, 87855, 11057232),
        (9223372036854775807, 87855, 16777214),
        (20000000, 87855, 3222784),
        (16777215, 87855, 0),
        (16777216, 87855, 1),
        (8388608, 87855, 8388608),
    ],
)
def test_restore_idletime_wraps_like_redis(server, conn, idle, clock, expected):
    server.state.lruclock = clock
    for db in server.state.dbs:
        db.lruclock = clock
    assert conn.call("RESTORE", "k", "0", HELLO, "IDLETIME", str(idle)) == b"OK"
    assert conn.call("OBJECT", "IDLETIME", "k") == expected


def test_restore_idletime_ignored_under_lfu(conn):
    conn.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    assert conn.call("RESTORE", "k", "0", HELLO, "IDLETIME", "100") == b"OK"
    assert conn.call("OBJECT", "FREQ", "k") == 5
    assert err(conn.call("OBJECT", "IDLETIME", "k")).startswith("ERR An LFU maxmemory policy is selected")


def test_restore_freq(server, conn):
    assert conn.call("RESTORE", "k", "0", HELLO, "FREQ", "100") == b"OK"  # ignored: no LFU policy
    assert err(conn.call("OBJECT", "FREQ", "k")).startswith("ERR An LFU maxmemory policy is not selected")
    assert conn.call("OBJECT", "IDLETIME", "k") == 0
    conn.call("CONFIG", "SET", "maxmemory-policy", "volatile-lfu")
    assert conn.call("RESTORE", "f", "0", HELLO, "FREQ", "100") == b"OK"
    assert conn.call("OBJECT", "FREQ", "f") == 100
    assert conn.call("RESTORE", "g", "0", HELLO, "FREQ", "0") == b"OK"
    assert conn.call("OBJECT", "FREQ", "g") == 0
    conn.call("SET", "f", "overwritten")  # dbSetValue keeps the LFU field
    assert conn.call("OBJECT", "FREQ", "f") == 100
    assert conn.call("RESTORE", "f", "0", HELLO, "REPLACE", "FREQ", "7") == b"OK"
    assert conn.call("OBJECT", "FREQ", "f") == 7
    assert conn.call("RESTORE", "f", "0", HELLO, "REPLACE") == b"OK"  # a new object: LFU_INIT_VAL
    assert conn.call("OBJECT", "FREQ", "f") == 5
    server.advance(120)  # lfu-decay-time 1: one less per minute
    assert conn.call("OBJECT", "FREQ", "g") == 0
    conn.call("RESTORE", "h", "0", HELLO, "FREQ", "50")
    server.advance(180)
    assert conn.call("OBJECT", "FREQ", "h") == 47
    conn.call("DEL", "h")
    conn.call("SET", "h", "v")
    assert conn.call("OBJECT", "FREQ", "h") == 5


def test_restore_all_types_payload_from_our_dump_survives_a_second_server(conn):
    conn.call("SET", "s", "abc" * 50)
    conn.call("RPUSH", "l", "1", "2", "three")
    conn.call("HSET", "h", "a", "b")
    conn.call("ZADD", "z", "-inf", "lo", "inf", "hi", "0.1", "mid")
    conn.call("SADD", "st", "x", "y", "-5")
    dumps = {k: conn.call("DUMP", k) for k in ("s", "l", "h", "z", "st")}
    other = FakeServer()
    try:
        c2 = other.connect()
        for k, p in dumps.items():
            assert c2.call("RESTORE", k, "0", p) == b"OK"
        assert c2.call("GET", "s") == b"abc" * 50
        assert c2.call("LRANGE", "l", "0", "-1") == [b"1", b"2", b"three"]
        assert c2.call("HGETALL", "h") == [b"a", b"b"]
        assert c2.call("ZRANGE", "z", "0", "-1", "WITHSCORES") == conn.call("ZRANGE", "z", "0", "-1", "WITHSCORES")
        assert sorted(c2.call("SMEMBERS", "st")) == [b"-5", b"x", b"y"]
        assert c2.call("OBJECT", "ENCODING", "st") == b"hashtable"
    finally:
        other.stop()
