"""Generic key commands (twistd_redis/commands/keys.py). Replies and error texts were checked
against redis-server 7.0.15."""

import random

import pytest

from tests.unit.harness import FakeServer, ReplyError
from twistd_redis.client import CLIENT_DIRTY_CAS
from twistd_redis.commands import keys as keysmod
from twistd_redis.datatypes import TYPES, copy_value, encoding_name, register_type, type_name


@pytest.fixture
def props(server):
    out = []
    server.state.propagation_targets.append(lambda dbid, argv: out.append((dbid, list(argv))))
    return out


def err(reply):
    assert isinstance(reply, ReplyError), reply
    return str(reply)


def hits_misses(server):
    st = server.state.stats
    return st.keyspace_hits, st.keyspace_misses


# ------------------------------------------------------------------ DEL / UNLINK / EXISTS / TOUCH / TYPE


def test_del_unlink_count_and_events(server, conn, events):
    conn.call("MSET", "a", "1", "b", "2", "c", "3")
    assert conn.call("DEL", "a", "a", "nokey", "b") == 2
    assert conn.call("UNLINK", "c", "c") == 1
    assert conn.call("EXISTS", "a", "b", "c") == 0
    assert [e for e in events if e[0] == b"del"] == [(b"del", b"a", 0), (b"del", b"b", 0), (b"del", b"c", 0)]
    assert conn.raw(b"DEL\r\n") == b"-ERR wrong number of arguments for 'del' command\r\n"


def test_exists_counts_duplicates_and_stats(server, conn):
    conn.call("SET", "k", "v")
    h, m = hits_misses(server)
    assert conn.call("EXISTS", "k", "k", "nokey") == 2
    assert hits_misses(server) == (h + 2, m + 1)


def test_type(server, conn):
    conn.call("SET", "k", "v")
    assert conn.raw(b"TYPE k\r\n") == b"+string\r\n"
    assert conn.raw(b"TYPE nokey\r\n") == b"+none\r\n"
    conn.hello3()
    assert conn.raw(b"TYPE k\r\n") == b"+string\r\n"


def test_touch_updates_access_time_exists_and_type_do_not(server, conn):
    conn.call("SET", "k", "v")
    server.advance(30)
    conn.call("EXISTS", "k")
    conn.call("TYPE", "k")
    conn.call("TTL", "k")
    conn.call("OBJECT", "ENCODING", "k")
    assert conn.call("OBJECT", "IDLETIME", "k") == 30
    assert conn.call("TOUCH", "k", "nokey", "k") == 2
    assert conn.call("OBJECT", "IDLETIME", "k") == 0


# ------------------------------------------------------------------ KEYS / SCAN / RANDOMKEY / DBSIZE


def test_keys_patterns_and_empty_key(server, conn):
    conn.call("MSET", "", "e", "hello", "1", "hallo", "2", "hxllo", "3", "x", "4")
    assert sorted(conn.call("KEYS", "*")) == [b"", b"hallo", b"hello", b"hxllo", b"x"]
    # Redis special-cases only the exact "*": "**" goes through stringmatchlen, which
    # never matches the empty string
    assert sorted(conn.call("KEYS", "**")) == [b"hallo", b"hello", b"hxllo", b"x"]
    assert conn.call("KEYS", "") == [b""]
    assert sorted(conn.call("KEYS", "h[ae]llo")) == [b"hallo", b"hello"]
    assert conn.call("KEYS", "h[^ae]llo") == [b"hxllo"]
    assert conn.call("KEYS", "nomatch*") == []


def test_keys_skips_expired_keys_without_deleting(server, conn):
    conn.call("SET", "a", "1")
    conn.call("SET", "b", "2")
    conn.call("PEXPIRE", "b", "100")
    server.state.active_expire_enabled = False
    server.advance(0.2)
    assert conn.call("KEYS", "*") == [b"a"]
    assert conn.call("DBSIZE") == 2  # still there: KEYS uses keyIsExpired, no deletion


def test_scan_small_db_and_options(server, conn):
    conn.call("MSET", "", "e", "a1", "1", "a2", "2", "b1", "3")
    cur, keys = conn.call("SCAN", "0")
    assert cur == b"0" and sorted(keys) == [b"", b"a1", b"a2", b"b1"]
    assert sorted(conn.call("SCAN", "0", "MATCH", "a*")[1]) == [b"a1", b"a2"]
    assert conn.call("SCAN", "0", "MATCH", "")[1] == [b""]
    assert sorted(conn.call("SCAN", "0", "match", "**")[1]) == [b"a1", b"a2", b"b1"]
    assert sorted(conn.call("SCAN", "0", "TYPE", "STRING")[1]) == [b"", b"a1", b"a2", b"b1"]
    assert conn.call("SCAN", "0", "TYPE", "list")[1] == []
    assert conn.call("SCAN", "0", "type", "foo")[1] == []
    assert conn.raw(b"SCAN 0 COUNT 2 MATCH b*\r\n").startswith(b"*2\r\n$")


@pytest.mark.parametrize(
    "args,text",
    [
        (("x",), "ERR invalid cursor"),
        ((" 1",), "ERR invalid cursor"),
        (("1 ",), "ERR invalid cursor"),
        (("18446744073709551616",), "ERR invalid cursor"),
        (("x", "COUNT", "x"), "ERR invalid cursor"),
        (("0", "COUNT", "0"), "ERR syntax error"),
        (("0", "COUNT", "-1"), "ERR syntax error"),
        (("0", "COUNT", "x"), "ERR value is not an integer or out of range"),
        (("0", "COUNT", "5", "COUNT", "x"), "ERR value is not an integer or out of range"),
        (("0", "MATCH"), "ERR syntax error"),
        (("0", "FOO", "bar"), "ERR syntax error"),
    ],
)
def test_scan_errors(conn, args, text):
    assert err(conn.call("SCAN", *args)) == text


def test_scan_cursor_parses_like_strtoul(conn):
    conn.call("SET", "a", "1")
    # all accepted by Redis 7.0 (strtoul): empty, sign, leading zeros, 2**64-1
    for cur in ("", "+0", "000"):  # all mean 0: a small keyspace comes back whole
        reply = conn.call("SCAN", cur)
        assert reply[0] == b"0" and reply[1] == [b"a"], cur
    # all ones is "past the last bucket" for Redis: the scan is over (which keys of that last
    # bucket it shows depends on Redis's random hash seed; the cursor 0 does not)
    for cur in ("-1", "18446744073709551615"):
        assert conn.call("SCAN", cur)[0] == b"0", cur
    assert conn.call("SCAN", "007")[0] == b"0"  # a made-up cursor past the keyspace's size
    assert conn.call("SCAN", "-18446744073709551615")[0] == b"0"
    assert keysmod.parse_scan_cursor(b"-1") == 2**64 - 1
    assert keysmod.parse_scan_cursor(b"-18446744073709551615") == 1
    with pytest.raises(Exception):
        keysmod.parse_scan_cursor(b"+")


def full_scan(conn, count=10, between=None, **opts):
    seen = []
    cursor = b"0"
    extra = []
    for k, v in opts.items():
        extra += [k.upper(), v]
    calls = 0
    while True:
        cursor, keys = conn.call("SCAN", cursor, "COUNT", count, *extra)
        assert int(cursor) < 2**64
        seen.extend(keys)
        calls += 1
        if cursor == b"0":
            return seen, calls
        if between:
            between()
        assert calls < 100000


def test_scan_iterates_everything_with_cursors(server, conn):
    for i in range(0, 1000, 100):
        conn.call("MSET", *[x for j in range(i, i + 100) for x in (f"key:{j}", "v")])
    seen, calls = full_scan(conn, count=10)
    assert sorted(seen) == sorted(f"key:{j}".encode() for j in range(1000))
    assert calls >= 100  # COUNT is honoured as a hint
    seen, _ = full_scan(conn, count=7, match="key:1*")
    assert sorted(seen) == sorted(f"key:{j}".encode() for j in range(1000) if str(j).startswith("1"))


def test_scan_guarantee_under_concurrent_changes(server, conn):
    """Property: every key present for the whole scan is returned at least once, whatever
    is added and removed between the SCAN calls; removed keys are not returned after they
    are gone."""
    rng = random.Random(1234)
    other = server.connect()
    for trial in range(5):
        conn.call("FLUSHALL")
        stable = [f"s{trial}:{i}".encode() for i in range(300)]
        volatile = [f"v{trial}:{i}".encode() for i in range(300)]
        conn.call("MSET", *[x for k in stable + volatile for x in (k, b"1")])
        deleted = set()
        counter = [0]

        def churn():
            for _ in range(rng.randint(0, 8)):
                k = rng.choice(volatile)
                if rng.random() < 0.5:
                    other.call("DEL", k)
                    deleted.add(k)
                else:
                    other.call("SET", k, "x")
                    deleted.discard(k)
                counter[0] += 1
                other.call("SET", f"new{trial}:{counter[0]}", "y")

        seen, _ = full_scan(conn, count=rng.randint(1, 25), between=churn)
        assert set(stable) <= set(seen)


def test_scan_unknown_cursor_restarts_and_never_crashes(server, conn):
    conn.call("MSET", *[x for j in range(50) for x in (f"k{j}", "v")])
    for cur in ("1", "12345", str(2**64 - 1), str((999 << 40) | 3)):
        reply = conn.call("SCAN", cur, "COUNT", "5")
        assert isinstance(reply, list) and len(reply[1]) <= 5
    # a scan whose snapshot was evicted still returns every key (duplicates allowed)
    cursor, first = conn.call("SCAN", "0", "COUNT", "5")
    server.state.scan_snapshots.drop_db(None)
    seen = list(first)
    while cursor != b"0":
        cursor, keys = conn.call("SCAN", cursor, "COUNT", "5")
        seen.extend(keys)
    assert set(seen) == {f"k{j}".encode() for j in range(50)}


def test_scan_snapshot_cache_is_bounded(server, conn):
    conn.call("MSET", *[x for j in range(50) for x in (f"k{j}", "v")])
    for _ in range(keysmod.SCAN_MAX_SNAPSHOTS + 20):
        conn.call("SCAN", "0", "COUNT", "1")
    assert len(server.state.scan_snapshots.entries) == keysmod.SCAN_MAX_SNAPSHOTS


def test_scan_filters_expired_and_deletes_them(server, conn, events):
    server.state.active_expire_enabled = False
    conn.call("SET", "a", "1")
    conn.call("SET", "b", "1")
    conn.call("PEXPIRE", "b", "10")
    server.advance(0.05)
    assert conn.call("SCAN", "0")[1] == [b"a"]
    assert conn.call("DBSIZE") == 1
    assert (b"expired", b"b", 0) in events


def test_scan_resp3_shape(conn):
    conn.call("SET", "a", "1")
    conn.hello3()
    assert conn.raw(b"SCAN 0\r\n") == b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"


def test_randomkey_and_dbsize(server, conn):
    assert conn.raw(b"RANDOMKEY\r\n") == b"$-1\r\n"
    conn.hello3()
    assert conn.raw(b"RANDOMKEY\r\n") == b"_\r\n"
    conn.call("MSET", "a", "1", "b", "2")
    assert conn.call("RANDOMKEY") in (b"a", b"b")
    assert conn.call("DBSIZE") == 2


# ------------------------------------------------------------------ RENAME / COPY / MOVE / SWAPDB


def test_rename(server, conn, events):
    conn.call("SET", "a", "1")
    conn.call("EXPIRE", "a", "100")
    conn.call("SET", "b", "2")
    assert conn.call("RENAME", "a", "b") == b"OK"
    assert conn.call("GET", "b") == b"1"
    assert conn.call("TTL", "b") == 100
    assert conn.call("EXISTS", "a") == 0
    assert (b"rename_from", b"a", 0) in events and (b"rename_to", b"b", 0) in events
    # renaming onto a key with a TTL drops that TTL when the source has none
    conn.call("SET", "c", "3")
    conn.call("EXPIRE", "b", "50")
    assert conn.call("RENAME", "c", "b") == b"OK"
    assert conn.call("TTL", "b") == -1


def test_rename_errors_and_same_key(server, conn):
    assert err(conn.call("RENAME", "nokey", "x")) == "ERR no such key"
    assert err(conn.call("RENAME", "nokey", "nokey")) == "ERR no such key"
    assert err(conn.call("RENAMENX", "nokey", "nokey")) == "ERR no such key"
    conn.call("SET", "k", "v")
    dirty = server.state.dirty
    assert conn.call("RENAME", "k", "k") == b"OK"
    assert conn.call("RENAMENX", "k", "k") == 0
    assert server.state.dirty == dirty


def test_renamenx(conn):
    conn.call("MSET", "a", "1", "b", "2")
    assert conn.call("RENAMENX", "a", "b") == 0
    assert conn.call("RENAMENX", "a", "c") == 1
    assert conn.call("MGET", "a", "b", "c") == [None, b"2", b"1"]


def test_copy(server, conn, events):
    conn.call("SET", "a", "1")
    conn.call("PEXPIRE", "a", "5000")
    assert conn.call("COPY", "a", "b") == 1
    assert conn.call("PTTL", "b") == 5000
    assert conn.call("COPY", "a", "b") == 0
    conn.call("SET", "a", "2")
    assert conn.call("COPY", "a", "b", "REPLACE") == 1
    assert conn.call("GET", "b") == b"2" and conn.call("TTL", "b") == -1
    assert conn.call("COPY", "a", "a", "DB", "1") == 1
    assert conn.call("COPY", "nokey", "x") == 0
    assert (b"copy_to", b"a", 1) in events
    conn.call("SELECT", "1")
    assert conn.call("GET", "a") == b"2"


def test_copy_makes_independent_mutable_values(server, conn):
    conn.call("SET", "a", "x")
    conn.call("APPEND", "a", "y")  # bytearray (raw) string
    assert conn.call("COPY", "a", "b") == 1
    conn.call("APPEND", "a", "z")
    assert conn.call("GET", "b") == b"xy"


@pytest.mark.parametrize(
    "args,text",
    [
        (("k", "k"), "ERR source and destination objects are the same"),
        (("k", "k", "DB", "0"), "ERR source and destination objects are the same"),
        (("nokey", "nokey"), "ERR source and destination objects are the same"),
        (("k", "k2", "DB"), "ERR syntax error"),
        (("k", "k2", "DB", "x"), "ERR value is not an integer or out of range"),
        (("k", "k2", "DB", "16"), "ERR DB index is out of range"),
        (("k", "k2", "DB", "-1"), "ERR DB index is out of range"),
        (("k", "k2", "DB", "99999999999"), "ERR value is out of range, value must between -2147483648 and 2147483647"),
        (("k", "k2", "foo"), "ERR syntax error"),
        (("nokey", "k", "foo"), "ERR syntax error"),
    ],
)
def test_copy_errors(conn, args, text):
    conn.call("SET", "k", "v")
    assert err(conn.call("COPY", *args)) == text


def test_move(server, conn, events):
    conn.call("SET", "k", "v")
    conn.call("EXPIRE", "k", "100")
    assert conn.call("MOVE", "k", "1") == 1
    assert conn.call("EXISTS", "k") == 0
    assert (b"move_from", b"k", 0) in events and (b"move_to", b"k", 1) in events
    assert conn.call("MOVE", "nokey", "1") == 0
    conn.call("SET", "k", "other")
    assert conn.call("MOVE", "k", "1") == 0  # exists in the target
    conn.call("SELECT", "1")
    assert conn.call("GET", "k") == b"v" and conn.call("TTL", "k") == 100


@pytest.mark.parametrize(
    "arg,text",
    [
        ("x", "ERR value is not an integer or out of range"),
        ("99999999999", "ERR value is out of range, value must between -2147483648 and 2147483647"),
        ("-1", "ERR DB index is out of range"),
        ("16", "ERR DB index is out of range"),
        ("0", "ERR source and destination objects are the same"),
    ],
)
def test_move_errors(conn, arg, text):
    conn.call("SET", "k", "v")
    assert err(conn.call("MOVE", "k", arg)) == text
    assert err(conn.call("MOVE", "nokey", arg)) == text


def test_swapdb_swaps_contents_clients_keep_index(server, conn):
    other = server.connect()
    other.call("SELECT", "1")
    conn.call("SET", "in0", "a")
    conn.call("EXPIRE", "in0", "100")
    other.call("SET", "in1", "b")
    assert conn.call("SWAPDB", "0", "1") == b"OK"
    assert conn.call("KEYS", "*") == [b"in1"]
    assert other.call("KEYS", "*") == [b"in0"]
    assert other.call("TTL", "in0") == 100
    assert conn.client.db.id == 0 and other.client.db.id == 1
    dirty = server.state.dirty
    assert conn.call("SWAPDB", "3", "3") == b"OK"
    assert server.state.dirty == dirty + 1


@pytest.mark.parametrize(
    "a,b,text",
    [
        ("x", "1", "ERR invalid first DB index"),
        ("1", "x", "ERR invalid second DB index"),
        ("99999999999", "0", "ERR invalid first DB index"),
        ("0", "16", "ERR DB index is out of range"),
        ("-1", "0", "ERR DB index is out of range"),
    ],
)
def test_swapdb_errors(conn, a, b, text):
    assert err(conn.call("SWAPDB", a, b)) == text


def test_swapdb_and_flush_touch_watched_keys(server, conn):
    """touchAllWatchedKeysInDb: a WATCH on a key that exists (in the flushed db, or in the
    db swapped in) is dirtied; a WATCH on a key that exists in neither is not."""
    watcher = server.connect()
    for cmd in (("SWAPDB", "0", "1"), ("FLUSHDB",), ("FLUSHALL",)):
        conn.call("SET", "w", "1")
        assert watcher.call("WATCH", "w", "missing") == b"OK"
        conn.call(*cmd)
        assert watcher.client.flags & CLIENT_DIRTY_CAS, cmd
        assert watcher.call("UNWATCH") == b"OK"
        conn.call("FLUSHALL")
        assert watcher.call("WATCH", "missing") == b"OK"
        conn.call(*cmd)
        assert not watcher.client.flags & CLIENT_DIRTY_CAS, cmd
        watcher.call("UNWATCH")
    # SWAPDB brings a key into the watched db: dirty too
    conn.call("SELECT", "1")
    conn.call("SET", "w", "1")
    watcher.call("WATCH", "w")
    conn.call("SWAPDB", "0", "1")
    assert watcher.client.flags & CLIENT_DIRTY_CAS


# ------------------------------------------------------------------ FLUSHDB / FLUSHALL


def test_flushdb_flushall(server, conn, props):
    conn.call("SET", "a", "1")
    conn.call("SELECT", "1")
    conn.call("SET", "b", "1")
    assert conn.call("FLUSHDB") == b"OK"
    assert conn.call("DBSIZE") == 0
    conn.call("SELECT", "0")
    assert conn.call("DBSIZE") == 1
    assert conn.call("FLUSHDB", "ASYNC") == b"OK"
    assert conn.call("FLUSHALL", "sync") == b"OK"
    assert conn.call("FLUSHDB") == b"OK"  # empty: still propagated (forceCommandPropagation)
    assert [a for _, a in props if a[0].upper().startswith(b"FLUSH")] == [
        [b"FLUSHDB"],
        [b"FLUSHDB", b"ASYNC"],
        [b"FLUSHALL", b"sync"],
        [b"FLUSHDB"],
    ]
    for args in (("FLUSHDB", "x"), ("FLUSHDB", "ASYNC", "x"), ("FLUSHALL", "lazy")):
        assert err(conn.call(*args)) == "ERR syntax error"


def test_flushall_dirty(server, conn):
    conn.call("MSET", "a", "1", "b", "2")
    dirty = server.state.dirty
    conn.call("FLUSHALL")
    # Redis 7.0.15's flushAllDataAndResetRDB: with save points set (the default config) the
    # RDB save resets dirty; without them dirty grows by the keys removed, nothing more
    assert server.state.dirty == 0
    conn.call("CONFIG", "SET", "save", "")
    conn.call("MSET", "a", "1", "b", "2")
    dirty = server.state.dirty
    conn.call("FLUSHALL")
    assert server.state.dirty == dirty + 2


# ------------------------------------------------------------------ OBJECT


def test_object_encoding(conn):
    cases = {
        "123": b"int",
        "-9223372036854775808": b"int",
        "9223372036854775808": b"embstr",
        "0123": b"embstr",
        "+1": b"embstr",
        " 1": b"embstr",
        "x" * 44: b"embstr",
        "x" * 45: b"raw",
    }
    for i, (v, enc) in enumerate(cases.items()):
        conn.call("SET", f"k{i}", v)
        assert conn.call("OBJECT", "ENCODING", f"k{i}") == enc, v
    conn.call("SET", "a", "1")
    conn.call("APPEND", "a", "1")
    assert conn.call("OBJECT", "ENCODING", "a") == b"raw"
    assert conn.raw(b"OBJECT ENCODING nokey\r\n") == b"$-1\r\n"
    conn.hello3()
    assert conn.raw(b"OBJECT ENCODING nokey\r\n") == b"_\r\n"


def test_object_refcount(server, conn):
    for v, rc in (("0", 2147483647), ("9999", 2147483647), ("10000", 1), ("-1", 1), ("01", 1), ("abc", 1)):
        conn.call("SET", "k", v)
        assert conn.call("OBJECT", "REFCOUNT", "k") == rc, v
    conn.call("SET", "k", "5")
    conn.call("APPEND", "k", "")
    assert conn.call("OBJECT", "REFCOUNT", "k") == 1
    assert conn.call("OBJECT", "REFCOUNT", "nokey") is None


def test_object_idletime_and_wraparound(server, conn):
    conn.call("SET", "k", "v")
    server.advance(12)
    assert conn.call("OBJECT", "IDLETIME", "k") == 12
    assert conn.call("OBJECT", "IDLETIME", "k") == 12  # OBJECT does not touch
    assert keysmod.estimate_idle_seconds(5, 10) == 5 + (2**24 - 1 - 10)
    assert keysmod.estimate_idle_seconds(10, 5) == 5


LFU_FREQ_ERR = (
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust."
)
LFU_IDLE_ERR = (
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching "
    "between policies at runtime LRU and LFU data will take some time to adjust."
)


def test_object_freq_and_lfu_policy(server, conn):
    conn.call("SET", "k", "v")
    assert err(conn.call("OBJECT", "FREQ", "k")) == LFU_FREQ_ERR
    assert conn.call("OBJECT", "FREQ", "nokey") is None
    server.state.config.set("maxmemory-policy", "allkeys-lfu")
    assert err(conn.call("OBJECT", "IDLETIME", "k")) == LFU_IDLE_ERR
    assert conn.call("OBJECT", "IDLETIME", "nokey") is None
    assert isinstance(conn.call("OBJECT", "FREQ", "k"), int)


def test_object_help_and_errors(conn):
    help_ = conn.call("OBJECT", "HELP")
    assert help_[0] == b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert len(help_) == 15 and help_[-1] == b"    Prints this help."
    assert conn.raw(b"OBJECT HELP\r\n").startswith(b"*15\r\n+OBJECT <subcommand>")
    assert err(conn.call("OBJECT", "foo")) == "ERR unknown subcommand 'foo'. Try OBJECT HELP."
    assert err(conn.call("OBJECT")) == "ERR wrong number of arguments for 'object' command"
    assert err(conn.call("OBJECT", "ENCODING")) == "ERR wrong number of arguments for 'object|encoding' command"


def test_object_counts_stats_without_touching(server, conn):
    conn.call("SET", "k", "v")
    h, m = hits_misses(server)
    conn.call("OBJECT", "ENCODING", "k")
    conn.call("OBJECT", "ENCODING", "nokey")
    assert hits_misses(server) == (h + 1, m + 1)


# ------------------------------------------------------------------ command table rows


def test_command_rows_match_redis():
    from twistd_redis.commands.table import REGISTRY

    expected = {
        "del": (-2, {"write"}, (1, -1, 1)),
        "unlink": (-2, {"write", "fast"}, (1, -1, 1)),
        "exists": (-2, {"readonly", "fast"}, (1, -1, 1)),
        "type": (2, {"readonly", "fast"}, (1, 1, 1)),
        "keys": (2, {"readonly"}, (0, 0, 0)),
        "scan": (-2, {"readonly"}, (0, 0, 0)),
        "randomkey": (1, {"readonly"}, (0, 0, 0)),
        "rename": (3, {"write"}, (1, 2, 1)),
        "renamenx": (3, {"write", "fast"}, (1, 2, 1)),
        "copy": (-3, {"write", "denyoom"}, (1, 2, 1)),
        "move": (3, {"write", "fast"}, (1, 1, 1)),
        "swapdb": (3, {"write", "fast"}, (0, 0, 0)),
        "dbsize": (1, {"readonly", "fast"}, (0, 0, 0)),
        "flushdb": (-1, {"write"}, (0, 0, 0)),
        "flushall": (-1, {"write"}, (0, 0, 0)),
        "touch": (-2, {"readonly", "fast"}, (1, -1, 1)),
        "object": (-2, set(), (0, 0, 0)),
        "expire": (-3, {"write", "fast"}, (1, 1, 1)),
        "pexpire": (-3, {"write", "fast"}, (1, 1, 1)),
        "expireat": (-3, {"write", "fast"}, (1, 1, 1)),
        "pexpireat": (-3, {"write", "fast"}, (1, 1, 1)),
        "ttl": (2, {"readonly", "fast"}, (1, 1, 1)),
        "pttl": (2, {"readonly", "fast"}, (1, 1, 1)),
        "expiretime": (2, {"readonly", "fast"}, (1, 1, 1)),
        "pexpiretime": (2, {"readonly", "fast"}, (1, 1, 1)),
        "persist": (2, {"write", "fast"}, (1, 1, 1)),
    }
    for name, (arity, flags, keys) in expected.items():
        spec = REGISTRY[name]
        assert (spec.arity, set(spec.flag_names()), (spec.first_key, spec.last_key, spec.step)) == (
            arity,
            flags,
            keys,
        ), name
    subs = REGISTRY["object"].subcommands
    for sub in (b"encoding", b"freq", b"idletime", b"refcount"):
        s = subs[sub]
        assert (s.arity, s.flag_names(), (s.first_key, s.last_key, s.step)) == (3, ["readonly"], (2, 2, 1))
    assert (subs[b"help"].arity, set(subs[b"help"].flag_names())) == (2, {"loading", "stale"})


# ------------------------------------------------------------------ datatypes registry


def test_datatypes_registry():
    assert type_name(b"x") == b"string" and type_name(bytearray(b"x")) == b"string"
    assert type_name(None) == b"none"
    assert encoding_name(b"12") == b"int" and encoding_name(bytearray(b"12")) == b"raw"
    ba = bytearray(b"ab")
    assert copy_value(ba) == ba and copy_value(ba) is not ba

    class Dummy(list):
        pass

    register_type(Dummy, b"list", encoding=b"quicklist")
    d = Dummy([1, [2]])
    assert type_name(d) == b"list" and encoding_name(d) == b"quicklist"
    assert copy_value(d) == d and copy_value(d) is not d
    with pytest.raises(TypeError):
        type_name(object())
    TYPES.pop(Dummy)


def test_fake_server_isolated():
    # sanity: a fresh server has empty dbs (fixtures above do not leak)
    srv = FakeServer()
    try:
        assert srv.connect().call("DBSIZE") == 0
    finally:
        srv.stop()
