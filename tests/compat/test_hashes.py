"""Hash commands, every option and error, compared byte for byte with redis-server (RESP2 and
RESP3). Small hashes iterate in listpack (insertion) order on both servers, so their HGETALL,
HKEYS, HVALS and HSCAN replies are compared exactly; big (hashtable) ones as unordered pairs."""

from __future__ import annotations

import pytest

from tests.compat.differ import Pairs, Unordered

pytestmark = pytest.mark.compat

BIG = "9223372036854775807"
SMALL = "-9223372036854775808"
V64 = "v" * 64
V65 = "v" * 65
F65 = "f" * 65

WRONGTYPE_STEPS = [
    ("HSET", "str", "f", "v"),
    ("HMSET", "str", "f", "v"),
    ("HSETNX", "str", "f", "v"),
    ("HGET", "str", "f"),
    ("HMGET", "str", "f", "g"),
    ("HGETALL", "str"),
    ("HKEYS", "str"),
    ("HVALS", "str"),
    ("HDEL", "str", "f"),
    ("HLEN", "str"),
    ("HSTRLEN", "str", "f"),
    ("HEXISTS", "str", "f"),
    ("HINCRBY", "str", "f", "1"),
    ("HINCRBYFLOAT", "str", "f", "1"),
    ("HRANDFIELD", "str"),
    ("HRANDFIELD", "str", "0"),
    ("HRANDFIELD", "str", "2", "WITHVALUES"),
    ("HSCAN", "str", "0"),
    ("GET", "str"),
]

SCRIPTS = {
    "hset_hmset_hsetnx": [
        ("HSET", "h", "a", "1"),
        ("HSET", "h", "a", "2", "b", "3", "c", "4"),
        ("HSET", "h", "a", "2", "a", "5"),
        ("HGETALL", "h"),
        ("HMSET", "h", "d", "6", "a", "7"),
        ("HGETALL", "h"),
        ("HSETNX", "h", "a", "x"),
        ("HSETNX", "h", "z", "x"),
        ("HSETNX", "new", "f", "v"),
        ("HGETALL", "new"),
        ("HSET", "h", "empty", ""),
        ("HGET", "h", "empty"),
        ("HSET", "h", "", "emptyfield"),
        ("HGET", "h", ""),
        ("HKEYS", "h"),
        ("HVALS", "h"),
        ("HLEN", "h"),
        ("TYPE", "h"),
        ("OBJECT", "ENCODING", "h"),
        ("HSET", "h"),
        ("HSET", "h", "a"),
        ("HSET", "h", "a", "b", "c"),
        ("HMSET", "h", "a"),
        ("HMSET", "h", "a", "b", "c"),
        ("HSETNX", "h", "a"),
        ("HSETNX", "h", "a", "b", "c"),
        ("HSET",),
        ("EXISTS", "h2"),
        ("HSET", "h2", "a", "b", "c"),
        ("EXISTS", "h2"),
        ("hset", "h", "MiXeD", "case"),
        ("hget", "h", "MiXeD"),
        ("HGET", "h", "mixed"),
    ],
    "hget_hmget_hexists_hlen_hstrlen": [
        ("HGET", "nokey", "f"),
        ("HMGET", "nokey", "a", "b"),
        ("HLEN", "nokey"),
        ("HSTRLEN", "nokey", "f"),
        ("HEXISTS", "nokey", "f"),
        ("HSET", "h", "a", "hello", "n", "-12345", "big", BIG),
        ("HGET", "h", "a"),
        ("HGET", "h", "nofield"),
        ("HMGET", "h", "a", "nofield", "n", "a"),
        ("HEXISTS", "h", "a"),
        ("HEXISTS", "h", "nofield"),
        ("HLEN", "h"),
        ("HSTRLEN", "h", "a"),
        ("HSTRLEN", "h", "n"),
        ("HSTRLEN", "h", "big"),
        ("HSTRLEN", "h", "nofield"),
        ("HGET", "h"),
        ("HGET", "h", "a", "b"),
        ("HMGET", "h"),
        ("HLEN",),
        ("HLEN", "h", "x"),
        ("HSTRLEN", "h"),
        ("HEXISTS", "h"),
    ],
    "hgetall_hkeys_hvals": [
        ("HGETALL", "nokey"),
        ("HKEYS", "nokey"),
        ("HVALS", "nokey"),
        ("HSET", "h", "z", "1", "y", "2", "x", "3", "w", "4"),
        ("HGETALL", "h"),
        ("HKEYS", "h"),
        ("HVALS", "h"),
        ("HDEL", "h", "y"),
        ("HSET", "h", "y", "5"),
        ("HGETALL", "h"),
        ("HGETALL",),
        ("HGETALL", "h", "x"),
        ("HKEYS", "h", "x"),
        ("HVALS",),
    ],
    "hdel_and_empty_deletion": [
        ("HDEL", "nokey", "f"),
        ("HSET", "h", "a", "1", "b", "2", "c", "3"),
        ("HDEL", "h", "x"),
        ("HDEL", "h", "a", "a", "x"),
        ("HGETALL", "h"),
        ("HDEL", "h", "b", "c", "b"),
        ("EXISTS", "h"),
        ("TYPE", "h"),
        ("HLEN", "h"),
        ("HGETALL", "h"),
        ("HSET", "h", "a", "1"),
        ("HDEL", "h", "a", "z"),
        ("EXISTS", "h"),
        ("HDEL", "h"),
        ("HDEL",),
    ],
    "hincrby": [
        ("HINCRBY", "h", "f", "5"),
        ("HINCRBY", "h", "f", "-7"),
        ("HGET", "h", "f"),
        ("HINCRBY", "h", "f", "0"),
        ("HSET", "h", "max", BIG, "min", SMALL),
        ("HINCRBY", "h", "max", "1"),
        ("HINCRBY", "h", "max", "0"),
        ("HINCRBY", "h", "max", "-1"),
        ("HINCRBY", "h", "min", "-1"),
        ("HINCRBY", "h", "min", "1"),
        ("HINCRBY", "h", "g", SMALL),
        ("HINCRBY", "h", "g", "-1"),
        ("HINCRBY", "h", "f", "9223372036854775808"),
        ("HINCRBY", "h", "f", "abc"),
        ("HINCRBY", "h", "f", "1.5"),
        ("HINCRBY", "h", "f", " 1"),
        ("HINCRBY", "h", "f", "+1"),
        ("HINCRBY", "h", "f", "01"),
        ("HINCRBY", "h", "f", ""),
        ("HSET", "h", "s", "abc", "sp", " 1", "fl", "1.5", "lz", "01", "e", "", "ov", "99999999999999999999"),
        ("HINCRBY", "h", "s", "1"),
        ("HINCRBY", "h", "sp", "1"),
        ("HINCRBY", "h", "fl", "1"),
        ("HINCRBY", "h", "lz", "1"),
        ("HINCRBY", "h", "e", "1"),
        ("HINCRBY", "h", "ov", "1"),
        ("HINCRBY", "nokey", "f", "abc"),
        ("EXISTS", "nokey"),
        ("HINCRBY", "h", "f"),
        ("HINCRBY", "h", "f", "1", "2"),
        ("HGETALL", "h"),
    ],
    "hincrbyfloat": [
        ("HINCRBYFLOAT", "h", "f", "10.5"),
        ("HINCRBYFLOAT", "h", "f", "0.1"),
        ("HINCRBYFLOAT", "h", "f", "-5.0e3"),
        ("HINCRBYFLOAT", "h", "f", "5e3"),
        ("HINCRBYFLOAT", "h", "i", "3"),
        ("HINCRBYFLOAT", "h", "i", "1.5"),
        ("HINCRBYFLOAT", "h", "i", "-4.5"),
        ("HGETALL", "h"),
        ("HSET", "h", "n", BIG),
        ("HINCRBYFLOAT", "h", "n", "1"),
        ("HINCRBYFLOAT", "h", "n", "1e4932"),
        ("HINCRBYFLOAT", "h", "n", "1e4932"),
        ("HINCRBYFLOAT", "h", "f", "inf"),
        ("HINCRBYFLOAT", "h", "f", "-inf"),
        ("HINCRBYFLOAT", "h", "f", "nan"),
        ("HINCRBYFLOAT", "h", "f", "abc"),
        ("HINCRBYFLOAT", "h", "f", ""),
        ("HINCRBYFLOAT", "h", "f", " 1"),
        ("HINCRBYFLOAT", "h", "f", "1e5000"),
        ("HINCRBYFLOAT", "h", "f", "0x10"),
        ("HSET", "h", "s", "abc", "sp", " 1", "inf", "inf", "hex", "0x1p3", "e", ""),
        ("HINCRBYFLOAT", "h", "s", "1"),
        ("HINCRBYFLOAT", "h", "sp", "1"),
        ("HINCRBYFLOAT", "h", "e", "1"),
        ("HINCRBYFLOAT", "h", "inf", "1"),
        ("HINCRBYFLOAT", "h", "hex", "1"),
        ("HINCRBYFLOAT", "nokey", "f", "abc"),
        ("HINCRBYFLOAT", "nokey", "f", "inf"),
        ("EXISTS", "nokey"),
        ("HINCRBYFLOAT", "h", "f"),
        Pairs(("HGETALL", "h")),
        ("OBJECT", "ENCODING", "h"),
    ],
    "hrandfield": [
        ("HRANDFIELD", "nokey"),
        ("HRANDFIELD", "nokey", "5"),
        ("HRANDFIELD", "nokey", "-5", "WITHVALUES"),
        ("HRANDFIELD", "nokey", "1", "foo"),
        ("HRANDFIELD", "nokey", "x"),
        ("HSET", "one", "f", "v"),
        ("HRANDFIELD", "one"),
        ("HRANDFIELD", "one", "1"),
        ("HRANDFIELD", "one", "-3"),
        ("HRANDFIELD", "one", "-3", "WITHVALUES"),
        ("HRANDFIELD", "one", "1", "withvalues"),
        ("HRANDFIELD", "one", "0"),
        ("HRANDFIELD", "one", "0", "WITHVALUES"),
        ("HSET", "h", "a", "1", "b", "2", "c", "3"),
        ("HRANDFIELD", "h", "3"),
        ("HRANDFIELD", "h", "10"),
        ("HRANDFIELD", "h", "10", "WITHVALUES"),
        ("HRANDFIELD", "h", "4611686018427387903", "WITHVALUES"),
        ("HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"),
        ("HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"),
        ("HRANDFIELD", "h", SMALL),
        ("HRANDFIELD", "h", "9223372036854775808"),
        ("HRANDFIELD", "h", "1.5"),
        ("HRANDFIELD", "h", "1", "WITHVALUES", "x"),
        ("HRANDFIELD", "h", "1", "WITHSCORES"),
        ("HRANDFIELD",),
    ],
    "hscan_small": [
        ("HSCAN", "nokey", "0"),
        ("HSCAN", "nokey", "0", "COUNT", "abc"),
        ("HSCAN", "nokey", "0", "BOGUS"),
        ("HSCAN", "nokey", "abc"),
        ("HSET", "h", "a1", "1", "b1", "2", "a2", "3", "c", "4", "10", "int"),
        ("HSCAN", "h", "0"),
        ("HSCAN", "h", "0", "COUNT", "1"),
        ("HSCAN", "h", "12345", "COUNT", "1"),
        ("HSCAN", "h", "-1"),
        ("HSCAN", "h", "0", "MATCH", "a*"),
        ("HSCAN", "h", "0", "match", "*1", "count", "2"),
        ("HSCAN", "h", "0", "MATCH", "1*"),
        ("HSCAN", "h", "0", "MATCH", "*"),
        ("HSCAN", "h", "0", "MATCH", "nomatch"),
        ("HSCAN", "h", "0", "MATCH", "a*", "MATCH", "c"),
        ("HSCAN", "h", "0", "COUNT", "0"),
        ("HSCAN", "h", "0", "COUNT", "-1"),
        ("HSCAN", "h", "0", "COUNT", "abc"),
        ("HSCAN", "h", "0", "COUNT", BIG),
        ("HSCAN", "h", "0", "COUNT"),
        ("HSCAN", "h", "0", "MATCH"),
        ("HSCAN", "h", "0", "TYPE", "string"),
        ("HSCAN", "h", "0", "BOGUS", "x"),
        ("HSCAN", "h", "abc"),
        ("HSCAN", "h", "1x"),
        ("HSCAN", "h", "18446744073709551616"),
        ("HSCAN", "h", "18446744073709551615"),
        ("HSCAN", "h"),
        ("HSCAN",),
    ],
    "hscan_big_complete": [
        ("HSET", "h", F65, "x", "a", "1"),
        ("OBJECT", "ENCODING", "h"),
        ("HSCAN", "h", "0", "MATCH", "a"),
        ("HSCAN", "h", "0", "MATCH", "zz*"),
    ],
    "encoding_by_value_length": [
        ("HSET", "h", "f", V64),
        ("OBJECT", "ENCODING", "h"),
        ("HSET", "h", "f" * 64, "v"),
        ("OBJECT", "ENCODING", "h"),
        ("HSETNX", "h", "f", V65),
        ("OBJECT", "ENCODING", "h"),
        ("HGET", "h", "f"),
        ("HSET", "h", "g", V65),
        ("OBJECT", "ENCODING", "h"),
        ("HSET", "h", "g", "short"),
        ("OBJECT", "ENCODING", "h"),
        ("HDEL", "h", "g"),
        ("OBJECT", "ENCODING", "h"),
        Pairs(("HGETALL", "h")),
        # hashTypeTryConversion looks at every argument, even a field that will not change.
        ("HSET", "h2", "a", "1"),
        ("HSET", "h2", F65, "1"),
        ("OBJECT", "ENCODING", "h2"),
        ("HMSET", "h3", "a", "1", "b", V65),
        ("OBJECT", "ENCODING", "h3"),
        ("HSETNX", "h4", F65, "v"),
        ("OBJECT", "ENCODING", "h4"),
        ("HINCRBY", "h5", F65, "1"),
        ("OBJECT", "ENCODING", "h5"),
        ("HINCRBYFLOAT", "h6", F65, "1.5"),
        ("OBJECT", "ENCODING", "h6"),
        ("HSET", "h7", "f", "1"),
        ("HINCRBYFLOAT", "h7", "f", "0.00000000000000000000000000000000000000000000000000000000001"),
        ("OBJECT", "ENCODING", "h7"),
        ("HGET", "h7", "f"),
        ("HSET", "h8", "a", "1"),
        ("HSETNX", "h8", "a", V65),
        ("OBJECT", "ENCODING", "h8"),
        ("TYPE", "h8"),
    ],
    "encoding_by_entries": [
        ("CONFIG", "SET", "hash-max-listpack-entries", "4"),
        ("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"),
        ("OBJECT", "ENCODING", "h"),
        ("HSET", "h", "a", "9"),
        ("OBJECT", "ENCODING", "h"),
        ("HGETALL", "h"),
        ("HSET", "h", "e", "5"),
        ("OBJECT", "ENCODING", "h"),
        ("HDEL", "h", "e", "d"),
        ("OBJECT", "ENCODING", "h"),
        Pairs(("HGETALL", "h")),
        Unordered(("HKEYS", "h")),
        Unordered(("HVALS", "h")),
        ("HLEN", "h"),
        ("HSET", "h2", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"),
        ("OBJECT", "ENCODING", "h2"),
        ("HRANDFIELD", "h2", "0"),
        Unordered(("HRANDFIELD", "h2", "5")),
        Unordered(("HRANDFIELD", "h2", "100")),
        ("HSCAN", "h2", "0", "MATCH", "c"),
        ("HDEL", "h2", "a", "b", "c", "d", "e"),
        ("EXISTS", "h2"),
        ("CONFIG", "SET", "hash-max-listpack-entries", "0"),
        ("HSET", "h3", "a", "1"),
        ("OBJECT", "ENCODING", "h3"),
        ("HINCRBY", "h4", "a", "1"),
        ("OBJECT", "ENCODING", "h4"),
        ("CONFIG", "SET", "hash-max-listpack-entries", "512"),
        ("CONFIG", "SET", "hash-max-listpack-value", "3"),
        ("HSET", "h5", "abc", "abc"),
        ("OBJECT", "ENCODING", "h5"),
        ("HSET", "h5", "abcd", "1"),
        ("OBJECT", "ENCODING", "h5"),
        ("HSET", "h6", "f", "1"),
        ("HINCRBY", "h6", "f", "999"),
        ("OBJECT", "ENCODING", "h6"),
        ("CONFIG", "SET", "hash-max-listpack-value", "64"),
    ],
    "wrongtype": [("SET", "str", "v")] + WRONGTYPE_STEPS,
}


@pytest.mark.parametrize("name", SCRIPTS)
def test_hashes(check, name):
    check(SCRIPTS[name])


def _walk(conn, key: str, *opts: str) -> tuple[list[bytes], int]:
    """A full HSCAN walk: the flat [field, value, ...] elements seen and the number of calls."""
    from tests.compat.differ import elements

    out: list[bytes] = []
    cursor = b"0"
    calls = 0
    for _ in range(10000):
        reply = conn.call("HSCAN", key, cursor, *opts)
        calls += 1
        cur, arr = elements(reply)
        cursor = cur.split(b"\r\n")[1]
        out.extend(e.split(b"\r\n")[1] for e in elements(arr))
        if cursor == b"0":
            break
    return out, calls


def test_hscan_walks_every_field(differ):
    """HSCAN cursors of a big hash differ between implementations; the fields and values a full
    walk returns must not (each pair once, here; Redis may repeat none while not rehashing)."""
    from tests.helpers_proc import RawConn

    differ.flushall()
    seen = []
    for port in (differ.real_port, differ.our_port):
        with RawConn(port) as c:
            c.call("HSET", "h", *[x for i in range(600) for x in (f"f{i}", f"v{i}")])
            c.call("HSET", "h", "other", "x")
            assert c.call("OBJECT", "ENCODING", "h") == b"$9\r\nhashtable\r\n"
            flat, calls = _walk(c, "h", "MATCH", "f*", "COUNT", "7")
            assert calls > 1
            pairs = list(zip(flat[::2], flat[1::2]))
            assert len(pairs) == 601 - 1
            seen.append(set(pairs))
            everything, _ = _walk(c, "h", "COUNT", "100000")
            assert len(everything) == 2 * 601
    assert seen[0] == seen[1] == {(f"f{i}".encode(), f"v{i}".encode()) for i in range(600)}


def test_hscan_small_ignores_cursor_and_count(differ):
    """A listpack hash is answered whole, with cursor 0, whatever the cursor and COUNT."""
    from tests.helpers_proc import RawConn

    differ.flushall()
    replies = []
    for port in (differ.real_port, differ.our_port):
        with RawConn(port) as c:
            c.call("HSET", "h", *[x for i in range(100) for x in (f"f{i}", f"v{i}")])
            replies.append([c.call("HSCAN", "h", cur, "COUNT", "1") for cur in ("0", "7", "1099511627777")])
    assert replies[0] == replies[1]
    assert replies[0][0].startswith(b"*2\r\n$1\r\n0\r\n*200\r\n")
