"""XINFO (commands/stream_info.py): reply shapes and bytes in RESP2 and RESP3, FULL's COUNT
rules, idle times on the server clock, every error text, and radix-tree-keys/-nodes.

The streams are built on the value directly (RedisStream), so these tests do not depend on the
other stream commands. Expected bytes and numbers were taken from redis-server 7.0.15."""

from __future__ import annotations

import struct

import pytest

from tests.unit.harness import ReplyError
from twistd_redis.commands.stream_info import rax_numnodes
from twistd_redis.datatypes.stream import RedisStream

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOKEY = "ERR no such key"
SYNTAX = "ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP."
NOT_INT = "ERR value is not an integer or out of range"


def err(reply) -> str:
    assert isinstance(reply, ReplyError), f"expected an error, got {reply!r}"
    return str(reply)


def put(server, key: bytes, s: RedisStream) -> RedisStream:
    server.state.dbs[0].add(key, s)
    return s


def sample(server, t: int) -> RedisStream:
    """The stream the real server holds after: XADD s 1-1 a 1; XADD s 2-1 b 2 c 3;
    XGROUP CREATE s g 0; XREADGROUP GROUP g alice COUNT 1 STREAMS s > (at time t)."""
    s = RedisStream()
    s.append((1, 1), [b"a", b"1"])
    s.append((2, 1), [b"b", b"2", b"c", b"3"])
    cg = s.create_group(b"g", (0, 0), 0)
    alice = cg.create_consumer(b"alice", t)
    cg.add_pending((1, 1), alice, t)
    cg.last_id = (1, 1)
    cg.entries_read = 1
    return put(server, b"s", s)


# bytes from redis-server 7.0.15 for ``sample`` (T stands for the delivery / seen time)
HEAD = (
    b"$6\r\nlength\r\n:2\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n"
    b"$17\r\nlast-generated-id\r\n$3\r\n2-1\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n"
    b"$13\r\nentries-added\r\n:2\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-1\r\n"
)
FIRST_LAST = (
    b"$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    b"$10\r\nlast-entry\r\n*2\r\n$3\r\n2-1\r\n*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"
)
ENTRIES = (
    b"$7\r\nentries\r\n*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    b"*2\r\n$3\r\n2-1\r\n*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"
)


def full_group(t: int, m: bytes) -> bytes:
    """The group part of FULL; ``m`` is the map header (``*14`` in RESP2, ``%7`` in RESP3)."""
    cm = b"*8" if m == b"*14" else b"%4"
    return (
        b"$6\r\ngroups\r\n*1\r\n" + m + b"\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-1\r\n"
        b"$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:1\r\n$9\r\npel-count\r\n:1\r\n"
        b"$7\r\npending\r\n*1\r\n*4\r\n$3\r\n1-1\r\n$5\r\nalice\r\n:%d\r\n:1\r\n"
        b"$9\r\nconsumers\r\n*1\r\n" % t + cm + b"\r\n$4\r\nname\r\n$5\r\nalice\r\n$9\r\nseen-time\r\n:%d\r\n"
        b"$9\r\npel-count\r\n:1\r\n$7\r\npending\r\n*1\r\n*3\r\n$3\r\n1-1\r\n:%d\r\n:1\r\n" % (t, t)
    )


# ---------------------------------------------------------------- XINFO STREAM


def test_stream_bytes_resp2_and_resp3(server, conn):
    t = server.state.mstime
    sample(server, t)
    groups1 = b"$6\r\ngroups\r\n:1\r\n"
    assert conn.raw(b"XINFO STREAM s\r\n") == b"*20\r\n" + HEAD + groups1 + FIRST_LAST
    assert conn.raw(b"XINFO STREAM s FULL\r\n") == b"*18\r\n" + HEAD + ENTRIES + full_group(t, b"*14")
    conn.hello3()
    assert conn.raw(b"xinfo stream s\r\n") == b"%10\r\n" + HEAD + groups1 + FIRST_LAST
    assert conn.raw(b"XINFO STREAM s full COUNT 0\r\n") == b"%9\r\n" + HEAD + ENTRIES + full_group(t, b"%7")


def test_stream_empty_has_null_entries(server, conn):
    s = put(server, b"e", RedisStream())
    assert conn.raw(b"XINFO STREAM e\r\n").endswith(b"$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n")
    full = conn.call("XINFO", "STREAM", "e", "FULL")
    assert full[full.index(b"entries") + 1] == [] and full[full.index(b"groups") + 1] == []
    conn.hello3()
    assert conn.raw(b"XINFO STREAM e\r\n").endswith(b"$11\r\nfirst-entry\r\n_\r\n$10\r\nlast-entry\r\n_\r\n")
    # an emptied stream keeps its history: last-generated-id, entries-added, max-deleted-entry-id
    s.append((5, 0), [b"f", b"v"])
    s.append((6, 0), [b"f", b"v"])
    s.delete((6, 0))
    s.delete((5, 0))
    info = conn.call("XINFO", "STREAM", "e")
    assert info[b"length"] == 0
    assert info[b"last-generated-id"] == b"6-0"
    assert info[b"max-deleted-entry-id"] == b"6-0"
    assert info[b"entries-added"] == 2
    assert info[b"recorded-first-entry-id"] == b"0-0"


def test_full_count_rules(server, conn):
    s = RedisStream()
    for i in range(1, 16):
        s.append((i, 0), [b"f", b"%d" % i])
    cg = s.create_group(b"g", (15, 0), 15)
    bob = cg.create_consumer(b"bob", 1000)
    for i in range(1, 16):
        cg.add_pending((i, 0), bob, 2000 + i, i)
    put(server, b"t", s)

    def sizes(*count):
        full = conn.call("XINFO", "STREAM", "t", "FULL", *count)
        g = full[full.index(b"groups") + 1][0]
        cons = g[g.index(b"consumers") + 1][0]
        return (
            len(full[full.index(b"entries") + 1]),
            len(g[g.index(b"pending") + 1]),
            len(cons[cons.index(b"pending") + 1]),
            g[g.index(b"pel-count") + 1],
            cons[cons.index(b"pel-count") + 1],
        )

    assert sizes() == (10, 10, 10, 15, 15)  # default COUNT 10
    assert sizes("COUNT", "0") == (15, 15, 15, 15, 15)  # 0 = everything
    assert sizes("COUNT", "3") == (3, 3, 3, 15, 15)
    assert sizes("COUNT", "-5") == (10, 10, 10, 15, 15)  # negative = the default
    assert sizes("COUNT", "9223372036854775807") == (15, 15, 15, 15, 15)
    full = conn.call("XINFO", "STREAM", "t", "FULL", "COUNT", "2")
    g = full[full.index(b"groups") + 1][0]
    assert g[g.index(b"pending") + 1] == [[b"1-0", b"bob", 2001, 1], [b"2-0", b"bob", 2002, 2]]
    cons = g[g.index(b"consumers") + 1][0]
    assert cons[cons.index(b"pending") + 1] == [[b"1-0", 2001, 1], [b"2-0", 2002, 2]]
    assert cons[cons.index(b"seen-time") + 1] == 1000


def test_full_groups_and_consumers_in_name_order_with_lag(server, conn):
    s = RedisStream()
    for i in range(1, 6):
        s.append((i, 0), [b"f", b"v"])
    s.create_group(b"zz", (0, 0), 0)
    s.create_group(b"aa", (3, 0), 3)
    s.create_group(b"mm", (2, 0))  # entries-read unknown
    s.delete((4, 0))  # a tombstone after every group's last id: lag unknown for all
    put(server, b"s", s)
    full = conn.call("XINFO", "STREAM", "s", "FULL")
    rows = full[full.index(b"groups") + 1]
    assert [r[1] for r in rows] == [b"aa", b"mm", b"zz"]
    assert [(r[r.index(b"entries-read") + 1], r[r.index(b"lag") + 1]) for r in rows] == [
        (3, None),
        (None, None),
        (0, None),
    ]
    groups = conn.call("XINFO", "GROUPS", "s")
    assert [g[1] for g in groups] == [b"aa", b"mm", b"zz"]
    assert groups[0] == [
        b"name", b"aa", b"consumers", 0, b"pending", 0, b"last-delivered-id", b"3-0",
        b"entries-read", 3, b"lag", None,
    ]  # fmt: skip


def test_stream_option_errors(server, conn):
    sample(server, 1)
    for args in (
        ("FULLX",),
        ("x", "y"),
        ("FULL", "COUNT"),
        ("FULL", "x", "1"),
        ("FULL", "COUNT", "1", "x"),
        ("COUNT", "1", "FULL"),
    ):
        assert err(conn.call("XINFO", "STREAM", "s", *args)) == SYNTAX, args
    assert err(conn.call("XINFO", "stream", "s", "x")) == (
        "ERR unknown subcommand or wrong number of arguments for 'stream'. Try XINFO HELP."
    )
    assert err(conn.call("xinfo", "STREAM", "s", "FULL", "COUNT", "x")) == NOT_INT
    assert err(conn.call("XINFO", "STREAM", "s", "FULL", "COUNT", "1.5")) == NOT_INT
    assert err(conn.call("XINFO", "STREAM", "s", "FULL", "COUNT", "9223372036854775808")) == NOT_INT
    # strcasecmp stops at a NUL: "full\0x" reads as FULL
    assert conn.call("XINFO", "STREAM", "s", b"full\0x", b"count\0y", "1")[0] == b"length"


def test_missing_key_and_wrongtype_come_first(server, conn):
    conn.call("SET", "str", "x")
    assert err(conn.call("XINFO", "STREAM", "nokey")) == NOKEY
    assert err(conn.call("XINFO", "STREAM", "nokey", "FULL", "COUNT", "x")) == NOKEY
    assert err(conn.call("XINFO", "STREAM", "nokey", "bogus")) == NOKEY
    assert err(conn.call("XINFO", "GROUPS", "nokey")) == NOKEY
    assert err(conn.call("XINFO", "CONSUMERS", "nokey", "g")) == NOKEY
    for args in (("STREAM", "str"), ("STREAM", "str", "bogus"), ("GROUPS", "str"), ("CONSUMERS", "str", "g")):
        assert err(conn.call("XINFO", *args)) == WRONGTYPE, args
    stats = conn.call("INFO", "stats")
    assert b"keyspace_misses:5" in stats  # lookupKeyRead counts the misses


# ---------------------------------------------------------------- GROUPS / CONSUMERS / HELP


def test_consumers_idle_on_the_clock(server, conn):
    t = server.state.mstime
    s = sample(server, t)
    cg = s.groups[b"g"]
    cg.create_consumer(b"bob", t - 500)
    cg.create_consumer(b"future", t + 10_000)  # a clock that went back: idle is never negative
    server.advance(1.25)
    assert conn.call("XINFO", "CONSUMERS", "s", "g") == [
        [b"name", b"alice", b"pending", 1, b"idle", 1250],
        [b"name", b"bob", b"pending", 0, b"idle", 1750],
        [b"name", b"future", b"pending", 0, b"idle", 0],
    ]
    conn.hello3()
    assert conn.raw(b"XINFO CONSUMERS s g\r\n").startswith(
        b"*3\r\n%3\r\n$4\r\nname\r\n$5\r\nalice\r\n$7\r\npending\r\n:1\r\n$4\r\nidle\r\n:1250\r\n"
    )
    s.create_group(b"empty", (0, 0))
    assert conn.call("XINFO", "CONSUMERS", "s", "empty") == []


def test_consumers_nogroup_text(server, conn):
    sample(server, 1)
    assert err(conn.call("XINFO", "CONSUMERS", "s", "nog")) == "NOGROUP No such consumer group 'nog' for key name 's'"
    # the texts go through %s (cut at NUL) and newlines become spaces
    assert err(conn.call("XINFO", "CONSUMERS", "s", "a\nb")) == "NOGROUP No such consumer group 'a b' for key name 's'"
    assert err(conn.call("XINFO", "CONSUMERS", "s", b"x\0y")) == "NOGROUP No such consumer group 'x' for key name 's'"
    assert err(conn.call("XINFO", "CONSUMERS", "s", "G")) == "NOGROUP No such consumer group 'G' for key name 's'"


def test_groups_resp3_shape(server, conn):
    sample(server, 1)
    conn.hello3()
    assert conn.raw(b"XINFO GROUPS s\r\n") == (
        b"*1\r\n%6\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:1\r\n"
        b"$17\r\nlast-delivered-id\r\n$3\r\n1-1\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:1\r\n"
    )
    put(server, b"nogroups", RedisStream())
    assert conn.call("XINFO", "GROUPS", "nogroups") == []


def test_help_arity_and_unknown_subcommand(conn):
    assert conn.raw(b"XINFO HELP\r\n") == (
        b"*9\r\n+XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
        b"+CONSUMERS <key> <groupname>\r\n+    Show consumers of <groupname>.\r\n"
        b"+GROUPS <key>\r\n+    Show the stream consumer groups.\r\n"
        b"+STREAM <key> [FULL [COUNT <count>]\r\n+    Show information about the stream.\r\n"
        b"+HELP\r\n+    Prints this help.\r\n"
    )
    assert err(conn.call("XINFO", "HELP", "x")) == "ERR wrong number of arguments for 'xinfo|help' command"
    assert err(conn.call("XINFO", "foo")) == "ERR unknown subcommand 'foo'. Try XINFO HELP."
    assert err(conn.call("XINFO")) == "ERR wrong number of arguments for 'xinfo' command"
    assert err(conn.call("XINFO", "STREAM")) == "ERR wrong number of arguments for 'xinfo|stream' command"
    assert err(conn.call("XINFO", "GROUPS", "s", "x")) == "ERR wrong number of arguments for 'xinfo|groups' command"
    assert err(conn.call("XINFO", "CONSUMERS", "s")) == "ERR wrong number of arguments for 'xinfo|consumers' command"


def test_xinfo_is_read_only(server, conn):
    sample(server, 1)
    dirty = server.state.dirty
    conn.call("XINFO", "STREAM", "s", "FULL")
    conn.call("XINFO", "GROUPS", "s")
    conn.call("XINFO", "CONSUMERS", "s", "g")
    assert server.state.dirty == dirty


# ---------------------------------------------------------------- radix tree


def enc(ids):
    return [struct.pack(">QQ", ms, seq) for ms, seq in ids]


@pytest.mark.parametrize(
    "ids,nodes",
    [  # numnodes redis-server 7.0.15 reports for these rax keys (stream-node-max-entries 1)
        ([], 1),
        ([(1, 0)], 2),
        ([(1, 0), (1, 1)], 4),
        ([(1, 0), (2**56, 0)], 5),
        ([(5, 255), (5, 256)], 6),
        ([(i, 0) for i in range(1, 301)], 604),
        ([(2**64 - 2, 0), (2**64 - 1, 0), (2**64 - 1, 2**64 - 1)], 9),
        ([(1000 * i + 7, i * i) for i in range(1, 120)], 242),
    ],
)
def test_rax_numnodes_matches_redis(ids, nodes):
    assert rax_numnodes(enc(ids)) == nodes
    assert rax_numnodes(list(reversed(enc(ids)))) == nodes  # the order given does not matter


def _tree(conn, key):
    flat = conn.call("XINFO", "STREAM", key)
    info = dict(zip(flat[::2], flat[1::2]))
    return info[b"length"], info[b"radix-tree-keys"], info[b"radix-tree-nodes"]


def test_radix_tree_numbers_follow_the_nodes(server, conn):
    """Values redis-server 7.0.15 gives for the same appends (default node limits)."""
    s = RedisStream()
    for i in range(1, 1001):
        s.append((i, 0), [b"f", b"v"])
    put(server, b"s", s)
    assert _tree(conn, "s") == (1000, 10, 26)

    s1 = put(server, b"one", RedisStream())
    s1.append((1, 1), [b"a", b"1"])
    assert _tree(conn, "one") == (1, 1, 2)

    big = RedisStream()  # 300-byte values: stream-node-max-bytes (4096) opens a node after 13
    for i in range(1, 21):
        big.append((i, 0), [b"f", b"x" * 300])
    put(server, b"b", big)
    assert _tree(conn, "b") == (20, 2, 6)


def test_radix_tree_with_one_entry_per_node(server, conn):
    """Through the commands (redis-server 7.0.15 gives the same numbers): with one entry per
    node the rax holds every live ID; XDEL of a node's last entry removes its key."""
    conn.call("CONFIG", "SET", "stream-node-max-entries", "1")
    for i in range(1, 301):
        conn.call("XADD", "s", f"{i}-0", "f", "v")
    assert _tree(conn, "s") == (300, 300, 604)
    conn.call("XDEL", "s", *[f"{i}-0" for i in range(1, 301, 7)])
    assert _tree(conn, "s") == (257, 257, 518)
    conn.call("XTRIM", "s", "MAXLEN", "100")
    assert _tree(conn, "s") == (100, 100, 204)
