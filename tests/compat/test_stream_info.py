"""XINFO STREAM [FULL [COUNT n]] / GROUPS / CONSUMERS / HELP compared byte for byte with
redis-server 7.0.15, in RESP2 and RESP3.

Everything a script shows is deterministic (explicit IDs; PEL delivery times pinned with
``XCLAIM ... TIME``) except a consumer's ``seen-time`` (XINFO STREAM FULL) and ``idle``
(XINFO CONSUMERS): those steps are ``Timed``: the two replies must be byte-identical once
those numbers are masked, and the numbers themselves must agree within a tolerance."""

from __future__ import annotations

import pytest

from tests.compat import differ as D

pytestmark = pytest.mark.compat


def xadds(key: str, ids, *fields: str) -> list[tuple]:
    fv = fields or ("f", "v")
    return [("XADD", key, f"{i[0]}-{i[1]}" if isinstance(i, tuple) else i, *fv) for i in ids]


STREAM = ("XINFO", "STREAM", "s")
FULL = ("XINFO", "STREAM", "s", "FULL")
OLD = "1000000"  # an XCLAIM TIME in the past: pins a delivery time exactly

SCRIPTS = {
    "stream_basic": [
        ("XADD", "s", "1-1", "a", "1"),
        STREAM,
        FULL,
        ("XADD", "s", "2-1", "b", "2", "c", "3"),
        ("XADD", "s", "2-5", "a", "1"),
        STREAM,
        FULL,
        ("xinfo", "stream", "s", "full", "count", "1"),
        ("XDEL", "s", "2-1"),
        STREAM,
        ("XDEL", "s", "1-1"),
        STREAM,
        ("XTRIM", "s", "MAXLEN", "0"),
        STREAM,
        FULL,
        ("XADD", "s", "9-9", "x", "y"),
        STREAM,
        ("XSETID", "s", "100-0", "ENTRIESADDED", "50", "MAXDELETEDID", "20-0"),
        STREAM,
        ("XADD", "m", "MAXLEN", "0", "5-5", "f", "v"),  # created empty
        ("XINFO", "STREAM", "m"),
        ("XINFO", "STREAM", "m", "FULL"),
        ("XINFO", "GROUPS", "m"),
    ],
    "full_count": [
        *xadds("s", [(i, 0) for i in range(1, 16)]),
        FULL,
        (*FULL, "COUNT", "0"),
        (*FULL, "COUNT", "3"),
        (*FULL, "COUNT", "-5"),
        (*FULL, "COUNT", "-1"),
        (*FULL, "COUNT", "9223372036854775807"),
        (*FULL, "COUNT", "15"),
        (*FULL, "COUNT", "16"),
        ("XINFO", "STREAM", "s", b"full\0x", b"count\0y", "2"),
    ],
    "groups_without_consumers": [
        *xadds("s", [(i, 0) for i in range(1, 8)]),
        ("XGROUP", "CREATE", "s", "zz", "0"),
        ("XGROUP", "CREATE", "s", "aa", "3-0"),
        ("XGROUP", "CREATE", "s", "mm", "$"),
        ("XGROUP", "CREATE", "s", "ee", "2-0", "ENTRIESREAD", "2"),
        ("XGROUP", "CREATE", "s", "ff", "0", "ENTRIESREAD", "5"),
        ("XINFO", "GROUPS", "s"),
        FULL,
        ("XDEL", "s", "5-0"),  # a tombstone: lag unknown behind it
        ("XINFO", "GROUPS", "s"),
        FULL,
        ("XGROUP", "SETID", "s", "aa", "6-0"),
        ("XGROUP", "SETID", "s", "zz", "7-0", "ENTRIESREAD", "7"),
        ("XINFO", "GROUPS", "s"),
        ("XDEL", "s", "1-0"),
        ("XINFO", "GROUPS", "s"),
        ("XTRIM", "s", "MINID", "7"),
        ("XINFO", "GROUPS", "s"),
        FULL,
        ("XADD", "s", "8-0", "f", "v"),
        ("XINFO", "GROUPS", "s"),
        ("XGROUP", "DESTROY", "s", "mm"),
        ("XINFO", "GROUPS", "s"),
        STREAM,
    ],
    "pel_and_consumers": [
        *xadds("s", [(i, 0) for i in range(1, 13)]),
        ("XGROUP", "CREATE", "s", "g", "0"),
        ("XGROUP", "CREATE", "s", "h", "0"),
        ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "5", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "bob", "COUNT", "4", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "h", "carol", "STREAMS", "s", ">"),
        # pin every delivery time and count
        *[
            ("XCLAIM", "s", "g", owner, "0", f"{i}-0", "TIME", OLD, "RETRYCOUNT", str(i), "JUSTID")
            for i, owner in [(1, "alice"), (2, "alice"), (3, "alice"), (4, "alice"), (5, "alice")]
            + [(6, "bob"), (7, "bob"), (8, "bob"), (9, "bob")]
        ],
        *[("XCLAIM", "s", "h", "carol", "0", f"{i}-0", "TIME", str(2000000 + i), "JUSTID") for i in range(1, 13)],
        ("XCLAIM", "s", "g", "bob", "0", "2-0", "TIME", OLD, "RETRYCOUNT", "7", "JUSTID"),  # moves to bob
        ("XACK", "s", "g", "3-0", "8-0"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "dave"),
        ("XINFO", "GROUPS", "s"),
        D.Timed(FULL),
        D.Timed((*FULL, "COUNT", "2")),
        D.Timed((*FULL, "COUNT", "0")),
        D.Timed(("XINFO", "CONSUMERS", "s", "g")),
        D.Timed(("XINFO", "CONSUMERS", "s", "h")),
        ("XDEL", "s", "4-0"),
        ("XINFO", "GROUPS", "s"),
        D.Timed(FULL),
        ("XGROUP", "DELCONSUMER", "s", "g", "alice"),
        D.Timed(("XINFO", "CONSUMERS", "s", "g")),
        D.Timed(FULL),
        ("XPENDING", "s", "g"),  # the summary: the extended form shows idle times
        STREAM,
    ],
    "errors": [
        ("XINFO",),
        ("XINFO", "foo"),
        ("XINFO", "foo", "bar"),
        ("XINFO", "HELP"),
        ("xinfo", "help"),
        ("XINFO", "HELP", "x"),
        ("XINFO", "STREAM"),
        ("XINFO", "GROUPS"),
        ("XINFO", "GROUPS", "s", "x"),
        ("XINFO", "CONSUMERS", "s"),
        ("XINFO", "CONSUMERS", "s", "g", "x"),
        ("XINFO", "STREAM", "nokey"),
        ("XINFO", "STREAM", "nokey", "FULL", "COUNT", "x"),
        ("XINFO", "STREAM", "nokey", "bogus"),
        ("XINFO", "GROUPS", "nokey"),
        ("XINFO", "CONSUMERS", "nokey", "g"),
        ("SET", "str", "x"),
        ("XINFO", "STREAM", "str"),
        ("XINFO", "STREAM", "str", "FULL", "COUNT", "x"),
        ("XINFO", "GROUPS", "str"),
        ("XINFO", "CONSUMERS", "str", "g"),
        ("XADD", "s", "1-1", "a", "1"),
        ("XINFO", "CONSUMERS", "s", "nog"),
        ("XINFO", "CONSUMERS", "s", "a\nb"),
        ("XINFO", "CONSUMERS", "s", "x\0y"),
        ("XGROUP", "CREATE", "s", "g", "0"),
        ("XINFO", "CONSUMERS", "s", "G"),
        ("XINFO", "CONSUMERS", "s", "g"),
        ("XINFO", "STREAM", "s", "FULLX"),
        ("XINFO", "STREAM", "s", "x", "y"),
        ("XINFO", "STREAM", "s", "FULL", "COUNT"),
        ("XINFO", "STREAM", "s", "FULL", "x", "1"),
        ("XINFO", "STREAM", "s", "FULL", "COUNT", "1", "x"),
        ("XINFO", "STREAM", "s", "COUNT", "1", "FULL"),
        ("XINFO", "stream", "s", "bogus"),
        ("XINFO", "STREAM", "s", "FULL", "COUNT", "x"),
        ("XINFO", "STREAM", "s", "FULL", "COUNT", "1.5"),
        ("XINFO", "STREAM", "s", "FULL", "COUNT", "9223372036854775808"),
        ("XINFO", "STREAM", "s", "FULL", "COUNT", " 1"),
        ("XINFO", "STREAM", "s", "FULL", "COUNT", "01"),
        ("TYPE", "s"),
        ("OBJECT", "ENCODING", "s"),
    ],
}


def _radix_script() -> list:
    """radix-tree-keys / -nodes over many node layouts (they follow Redis's listpack nodes)."""
    out: list = []
    out += xadds("s", [(i, 0) for i in range(1, 1001)])
    out += [STREAM, ("XTRIM", "s", "MAXLEN", "~", "550"), STREAM]
    out += [("XDEL", "s", *[f"{k}-0" for k in range(601, 701)]), STREAM]  # a whole node goes
    out += [("XDEL", "s", *[f"{k}-0" for k in range(801, 850)]), STREAM]  # half a node
    out += [("XTRIM", "s", "MAXLEN", "5"), STREAM, ("XTRIM", "s", "MAXLEN", "0"), STREAM]
    out += xadds("s", [(5000, 0)]) + [STREAM]
    # large IDs: keys that differ in their first bytes
    out += xadds("big", [(2**63 + 7, 0), (2**64 - 2, 5), (2**64 - 1, 0), (2**64 - 1, 2**64 - 1)])
    out += [("XINFO", "STREAM", "big")]
    # one entry per node: the rax holds every live ID
    out += [("CONFIG", "SET", "stream-node-max-entries", "1")]
    out += xadds("one", [(i * 977, i % 3) for i in range(1, 301)])
    out += [("XINFO", "STREAM", "one")]
    out += [("XDEL", "one", *[f"{i * 977}-{i % 3}" for i in range(1, 301, 7)]), ("XINFO", "STREAM", "one")]
    out += [("XTRIM", "one", "MAXLEN", "100"), ("XINFO", "STREAM", "one")]
    out += xadds("one", [(2**40 + i, 0) for i in range(50)]) + [("XINFO", "STREAM", "one")]
    out += [("CONFIG", "SET", "stream-node-max-entries", "7")]
    out += xadds("seven", [(1, i) for i in range(200)]) + [("XINFO", "STREAM", "seven")]
    out += [("XTRIM", "seven", "MINID", "~", "1-100"), ("XINFO", "STREAM", "seven")]
    # the byte limit opens nodes too
    out += [("CONFIG", "SET", "stream-node-max-entries", "100"), ("CONFIG", "SET", "stream-node-max-bytes", "300")]
    out += xadds("bytes", [(i, 0) for i in range(1, 60)], "field", "x" * 40) + [("XINFO", "STREAM", "bytes")]
    out += [("CONFIG", "SET", "stream-node-max-bytes", "4096")]
    out += xadds("b2", [(i, 0) for i in range(1, 21)], "f", "x" * 300) + [("XINFO", "STREAM", "b2")]
    return out


SCRIPTS["radix_tree"] = _radix_script()


@pytest.fixture
def restore_node_limits(differ):
    yield
    for port in (differ.real_port, differ.our_port):
        with D.RawConn(port) as c:
            c.call("CONFIG", "SET", "stream-node-max-entries", "100")
            c.call("CONFIG", "SET", "stream-node-max-bytes", "4096")


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script(differ, restore_node_limits, name):
    differ.check(SCRIPTS[name])
