"""XPENDING, XCLAIM, XAUTOCLAIM compared byte for byte with redis-server 7.0.15 (RESP2 and RESP3).

Every option and error of the three commands, consumer creation, deleted entries dropped from
the PEL, XAUTOCLAIM's cursor / attempts limit / deleted IDs, keyspace events and WATCH.

Idle times are clock-dependent. The scripts give the pending entries delivery times far apart
with ``XCLAIM ... IDLE <ms>`` (relative to each server's own clock) so min-idle-time filters
select the same entries on both servers; the replies that *show* an idle time (XPENDING's
extended form, XINFO CONSUMERS) use the ``Idle`` step below: everything compared exactly except
those idle numbers, which must agree within a tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import hiredis
import pytest

from tests.compat.differ import Drain, Frames, On, Sleep

pytestmark = pytest.mark.compat

NOGROUP_CASES = [
    ("XPENDING", "nokey", "g"),
    ("XPENDING", "nokey", "g", "-", "+", "10"),
    ("XCLAIM", "nokey", "g", "c", "0", "1-1"),
    ("XAUTOCLAIM", "nokey", "g", "c", "0", "0"),
]


@dataclass
class Idle:
    """A reply with idle times: XPENDING's extended rows (``kind="pending"``: the third field of
    every row) or XINFO CONSUMERS (``kind="consumers"``: the value after ``idle``). The idle
    numbers must agree within ``tol`` ms, everything else exactly."""

    args: tuple
    kind: str = "pending"
    tol: int = 150


def _parse(raw: bytes):
    r = hiredis.Reader(replyError=lambda m: ("ERROR", m))
    r.feed(raw)
    return r.gets()


def _split_idle(value, kind: str):
    """(the reply with idle numbers replaced by a marker, the idle numbers in order)."""
    idles: list[int] = []
    if kind == "pending":
        if not isinstance(value, list):
            return value, idles
        rows = []
        for row in value:
            assert isinstance(row, list) and len(row) == 4 and isinstance(row[2], int), row
            idles.append(row[2])
            rows.append([row[0], row[1], "IDLE", row[3]])
        return rows, idles
    out = []
    for cons in value if isinstance(value, list) else []:
        if isinstance(cons, dict):
            idles.append(cons[b"idle"])
            out.append({k: ("IDLE" if k == b"idle" else v) for k, v in cons.items()})
        else:
            i = cons.index(b"idle") + 1
            idles.append(cons[i])
            out.append([*cons[:i], "IDLE", *cons[i + 1 :]])
    return (out if isinstance(value, list) else value), idles


def run(differ, script: list, resp: tuple[int, ...] = (2, 3)) -> None:
    """Differ.check with ``Idle`` steps (other steps go through the differ unchanged)."""
    full = script
    script, missing = differ.in_scope(full)
    problems: list[str] = []
    for version in resp:
        differ.flushall()
        conns = {"main": differ.pair(version)}
        try:
            for step in script:
                if isinstance(step, Idle):
                    real, ours = conns["main"]
                    a, b = real.call(*step.args), ours.call(*step.args)
                    (sa, ia), (sb, ib) = _split_idle(_parse(a), step.kind), _split_idle(_parse(b), step.kind)
                    if sa != sb or len(ia) != len(ib) or any(abs(x - y) > step.tol for x, y in zip(ia, ib)):
                        shown = " ".join(str(x) for x in step.args)
                        problems.append(f"[RESP{version}] {shown}\n    real: {a!r}\n    ours: {b!r}")
                else:
                    problems += [f"[RESP{version}] {p}" for p in differ._run([step], conns, version)]
        finally:
            for real, ours in conns.values():
                real.close()
                ours.close()
    if problems:
        raise AssertionError(f"{len(problems)} mismatch(es) against redis-server:\n" + "\n".join(problems))
    if missing:
        pytest.skip(f"compared {len(script)} of {len(full)} steps; the rest need {', '.join(missing)}")


def stream(n: int = 6, key: str = "s") -> list:
    """Entries i-1 (f=i) for i in 1..n and group g at 0."""
    return [*[("XADD", key, f"{i}-1", "f", str(i)) for i in range(1, n + 1)], ("XGROUP", "CREATE", key, "g", "0")]


SCRIPTS = {
    "xpending_summary": [
        *stream(),
        ("XPENDING", "s", "g"),
        ("XPENDING", "s", "g", "-", "+", "10"),
        ("XCLAIM", "s", "g", "alice", "0", "1-1", "2-1", "3-1", "FORCE", "JUSTID"),
        ("XCLAIM", "s", "g", "bob", "0", "5-1", "FORCE"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "aaa"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "zzz"),
        ("XPENDING", "s", "g"),
        ("xpending", "s", "g"),
        ("XACK", "s", "g", "5-1"),
        ("XPENDING", "s", "g"),
        ("XACK", "s", "g", "1-1", "2-1", "3-1"),
        ("XPENDING", "s", "g"),
    ],
    "xpending_extended": [
        *stream(),
        ("XCLAIM", "s", "g", "alice", "0", "1-1", "2-1", "3-1", "FORCE", "IDLE", "100000"),
        ("XCLAIM", "s", "g", "bob", "0", "4-1", "5-1", "FORCE", "JUSTID", "IDLE", "50000", "RETRYCOUNT", "7"),
        Idle(("XPENDING", "s", "g", "-", "+", "10")),
        Idle(("XPENDING", "s", "g", "-", "+", "2")),
        Idle(("XPENDING", "s", "g", "(1-1", "+", "10")),
        Idle(("XPENDING", "s", "g", "-", "(3-1", "10")),
        Idle(("XPENDING", "s", "g", "(1-1", "(3-1", "10")),
        Idle(("XPENDING", "s", "g", "2", "4", "10")),
        Idle(("XPENDING", "s", "g", "2-1", "2-1", "10")),
        Idle(("XPENDING", "s", "g", "-", "+", "10", "bob")),
        Idle(("XPENDING", "s", "g", "(4-1", "+", "10", "bob")),
        ("XPENDING", "s", "g", "3", "2", "10"),
        ("XPENDING", "s", "g", "(2-1", "(3-1", "10"),
        ("XPENDING", "s", "g", "-", "+", "0"),
        ("XPENDING", "s", "g", "-", "+", "-5"),
        ("XPENDING", "s", "g", "-", "+", "10", "nobody"),
        ("XPENDING", "s", "g", "6-1", "+", "10"),
        Idle(("XPENDING", "s", "g", "-", "+", "9223372036854775807")),
        Idle(("XPENDING", "s", "g", "-", "18446744073709551615-18446744073709551615", "10")),
        Idle(("XPENDING", "s", "g", "0", "18446744073709551615", "10")),
    ],
    "xpending_idle_filter": [
        *stream(),
        ("XCLAIM", "s", "g", "alice", "0", "1-1", "FORCE", "IDLE", "100000"),
        ("XCLAIM", "s", "g", "alice", "0", "2-1", "FORCE", "IDLE", "50000"),
        ("XCLAIM", "s", "g", "bob", "0", "3-1", "FORCE", "IDLE", "1000"),
        ("XCLAIM", "s", "g", "bob", "0", "4-1", "FORCE", "IDLE", "200000"),
        Idle(("XPENDING", "s", "g", "IDLE", "20000", "-", "+", "10")),
        Idle(("XPENDING", "s", "g", "idle", "75000", "-", "+", "1")),
        Idle(("XPENDING", "s", "g", "IdLe", "75000", "2", "+", "1")),
        Idle(("XPENDING", "s", "g", "IDLE", "75000", "-", "+", "10", "bob")),
        Idle(("XPENDING", "s", "g", "IDLE", "0", "-", "+", "10")),
        Idle(("XPENDING", "s", "g", "IDLE", "-100", "-", "+", "10")),
        ("XPENDING", "s", "g", "IDLE", "999999999", "-", "+", "10"),
        ("XPENDING", "s", "g", "IDLE", "75000", "-", "+", "10", "nobody"),
    ],
    "xpending_errors": [
        ("XPENDING",),
        ("XPENDING", "s"),
        *NOGROUP_CASES[:2],
        ("XPENDING", "s", "g", "-"),
        ("XPENDING", "s", "g", "-", "+"),
        ("XPENDING", "s", "g", "IDLE", "1", "-", "+", "1", "c", "x"),
        ("XPENDING", "s", "g", "IDLE", "1", "-", "+"),
        ("XPENDING", "s", "g", "IDLE", "x", "-", "+", "1"),
        ("XPENDING", "s", "g", "IDLE", "1.5", "-", "+", "1"),
        ("XPENDING", "s", "g", "-", "+", "x"),
        ("XPENDING", "s", "g", "-", "+", "99999999999999999999"),
        ("XPENDING", "s", "g", "x", "+", "1"),
        ("XPENDING", "s", "g", "-", "y", "1"),
        ("XPENDING", "s", "g", "(-", "+", "1"),
        ("XPENDING", "s", "g", "-", "(+", "1"),
        ("XPENDING", "s", "g", "(", "+", "1"),
        ("XPENDING", "s", "g", "(18446744073709551615-18446744073709551615", "+", "1"),
        ("XPENDING", "s", "g", "-", "(0-0", "1"),
        ("XPENDING", "s", "g", "-", "(0", "1"),
        ("XPENDING", "s", "g", "1-2-3", "+", "1"),
        ("XPENDING", "s", "g", "18446744073709551616", "+", "1"),
        ("SET", "str", "v"),
        ("XPENDING", "str", "g"),
        ("XPENDING", "str", "g", "-", "+", "1"),
        ("XPENDING", "str", "g", "-", "+", "x"),
        *stream(),
        ("XPENDING", "s", "nog"),
        ("XPENDING", "s", "nog", "IDLE", "5", "-", "+", "1", "c"),
        ("XPENDING", b"s\x00x", "g"),
        ("XPENDING", "s", b"nog\x00x"),
        ("XPENDING", "s", "g", "-", "+", "1", "c"),
    ],
    "xclaim_basic": [
        *stream(),
        ("XCLAIM", "s", "g", "alice", "0", "1-1", "2-1", "3-1", "4-1", "FORCE", "IDLE", "100000", "RETRYCOUNT", "3"),
        ("XPENDING", "s", "g"),
        ("XCLAIM", "s", "g", "bob", "50000", "1-1", "2-1"),
        ("XCLAIM", "s", "g", "carol", "50000", "1-1"),
        ("XCLAIM", "s", "g", "carol", "0", "1-1", "JUSTID"),
        ("XCLAIM", "s", "g", "carol", "0", "1-1", "1-1", "JUSTID"),
        ("XPENDING", "s", "g"),
        Idle(("XPENDING", "s", "g", "-", "+", "10")),
        Idle(("XINFO", "CONSUMERS", "s", "g"), kind="consumers"),
        ("XCLAIM", "s", "g", "bob", "0", "5-1"),
        ("XCLAIM", "s", "g", "bob", "0", "9-1", "FORCE"),
        ("XCLAIM", "s", "g", "bob", "99999999", "5-1", "FORCE"),
        ("XCLAIM", "s", "g", "bob", "0", "6-1", "FORCE", "JUSTID"),
        Idle(("XPENDING", "s", "g", "5-1", "+", "10")),
        ("XCLAIM", "s", "g", "dave", "0", "3-1", "RETRYCOUNT", "0"),
        ("XCLAIM", "s", "g", "dave", "0", "4-1", "RETRYCOUNT", "-3"),
        ("XCLAIM", "s", "g", "dave", "0", "4-1", "retrycount", "9", "justid"),
        Idle(("XPENDING", "s", "g", "-", "+", "10", "dave")),
        ("XCLAIM", "s", "g", "dave", "0", "3", "4", "5"),
        ("XCLAIM", "s", "g", "dave", "0", "JUSTID"),
        ("XCLAIM", "s", "g", "dave", "0", "FORCE", "IDLE", "5"),
        ("XPENDING", "s", "g"),
    ],
    "xclaim_idle_time": [
        *stream(),
        ("XCLAIM", "s", "g", "alice", "0", "1-1", "2-1", "3-1", "4-1", "FORCE", "JUSTID"),
        # IDLE and TIME set the delivery time; the min-idle-time test reads it
        ("XCLAIM", "s", "g", "bob", "0", "1-1", "IDLE", "300000"),
        ("XCLAIM", "s", "g", "bob", "0", "2-1", "TIME", "1000"),
        ("XCLAIM", "s", "g", "bob", "0", "3-1", "IDLE", "-5"),
        ("XCLAIM", "s", "g", "bob", "0", "4-1", "TIME", "99999999999999"),
        ("XCLAIM", "s", "g", "carol", "200000", "1-1", "2-1", "3-1", "4-1", "JUSTID"),
        ("XCLAIM", "s", "g", "bob", "0", "1-1", "TIME", "-1", "JUSTID"),
        ("XCLAIM", "s", "g", "carol", "200000", "1-1", "JUSTID"),
        ("XCLAIM", "s", "g", "bob", "0", "1-1", "TIME", "5", "IDLE", "400000", "JUSTID"),
        ("XCLAIM", "s", "g", "carol", "350000", "1-1", "JUSTID"),
        ("XCLAIM", "s", "g", "bob", "0", "1-1", "IDLE", "400000", "TIME", "99999999999999", "JUSTID"),
        ("XCLAIM", "s", "g", "carol", "5000", "1-1", "JUSTID"),
        ("XCLAIM", "s", "g", "carol", "-100", "1-1", "JUSTID"),
        ("XCLAIM", "s", "g", "bob", "0", "2-1", "IDLE", "-9223372036854775808", "JUSTID"),
        ("XCLAIM", "s", "g", "bob", "0", "2-1", "IDLE", "9223372036854775807", "JUSTID"),
        ("XCLAIM", "s", "g", "carol", "1000", "2-1", "JUSTID"),
        Idle(("XPENDING", "s", "g", "-", "+", "10")),
    ],
    "xclaim_deleted_entries": [
        *stream(),
        ("XCLAIM", "s", "g", "alice", "0", "1-1", "2-1", "3-1", "4-1", "FORCE", "JUSTID"),
        ("XDEL", "s", "2-1", "4-1"),
        ("XPENDING", "s", "g"),
        ("XCLAIM", "s", "g", "bob", "0", "1-1", "2-1", "3-1"),
        ("XPENDING", "s", "g"),
        ("XCLAIM", "s", "g", "bob", "9999999", "4-1"),
        ("XPENDING", "s", "g"),
        ("XCLAIM", "s", "g", "bob", "0", "4-1", "FORCE"),
        ("XTRIM", "s", "MAXLEN", "0"),
        ("XCLAIM", "s", "g", "carol", "0", "1-1", "3-1", "JUSTID"),
        ("XPENDING", "s", "g"),
        Idle(("XINFO", "CONSUMERS", "s", "g"), kind="consumers"),
    ],
    "xclaim_lastid": [
        *stream(),
        ("XINFO", "GROUPS", "s"),
        ("XCLAIM", "s", "g", "bob", "0", "9-1", "LASTID", "3-1"),
        ("XINFO", "GROUPS", "s"),
        ("XCLAIM", "s", "g", "bob", "0", "9-1", "LASTID", "2-1"),
        ("XINFO", "GROUPS", "s"),
        ("XCLAIM", "s", "g", "bob", "0", "1-1", "FORCE", "JUSTID", "lastid", "5-1"),
        ("XINFO", "GROUPS", "s"),
        ("XCLAIM", "s", "g", "bob", "0", "1-1", "LASTID", "4", "LASTID", "6"),
        ("XINFO", "GROUPS", "s"),
        ("XCLAIM", "s", "g", "bob", "0", "1-1", "LASTID", "99-0", "BOGUS"),
        ("XINFO", "GROUPS", "s"),
    ],
    "xclaim_consumers": [
        *stream(),
        ("XCLAIM", "s", "g", "alice", "0", "1-1", "2-1", "FORCE", "JUSTID"),
        ("XCLAIM", "s", "g", "bob", "0", "9-1", "5-1"),
        ("XCLAIM", "s", "g", "bob", "999999", "1-1"),
        Idle(("XINFO", "CONSUMERS", "s", "g"), kind="consumers"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "carol"),
        Sleep(0.4),
        ("XCLAIM", "s", "g", "carol", "0", "9-1"),
        ("XCLAIM", "s", "g", "carol", "999999", "1-1"),
        ("XAUTOCLAIM", "s", "g", "carol", "999999", "0"),
        ("XPENDING", "s", "g", "-", "+", "10", "carol"),
        Idle(("XINFO", "CONSUMERS", "s", "g"), kind="consumers"),
        ("XCLAIM", "s", "g", "carol", "0", "1-1", "JUSTID"),
        Idle(("XINFO", "CONSUMERS", "s", "g"), kind="consumers"),
    ],
    "xclaim_errors": [
        ("XCLAIM", "s", "g", "c", "0"),
        ("XCLAIM", "s", "g", "c", "x", "1-1"),
        NOGROUP_CASES[2],
        ("SET", "str", "v"),
        ("XCLAIM", "str", "g", "c", "x", "1-1"),
        *stream(),
        ("XCLAIM", "s", "nog", "c", "x", "1-1"),
        ("XCLAIM", "s", b"nog\x00x", "c", "0", "1-1"),
        ("XCLAIM", "s", "g", "c", "x", "1-1"),
        ("XCLAIM", "s", "g", "c", "1.5", "1-1"),
        ("XCLAIM", "s", "g", "c", "", "1-1"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "IDLE", "x"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "IDLE", "99999999999999999999"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "TIME", "1.5"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "RETRYCOUNT", ""),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "LASTID", "x"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "LASTID", "+"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "LASTID", "-"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "IDLE"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "TIME"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "RETRYCOUNT"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "LASTID"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "FORCE", "2-1"),
        ("XCLAIM", "s", "g", "c", "0", "+"),
        ("XCLAIM", "s", "g", "c", "0", "-"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "(2-1"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "BOGUS"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", b"bad\x00x"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "FORCE", "LASTID", "9-9", "BOGUS"),
        ("XPENDING", "s", "g"),
        ("XINFO", "GROUPS", "s"),
    ],
    "xautoclaim": [
        *stream(8),
        ("XAUTOCLAIM", "s", "g", "bob", "0", "0"),
        ("XCLAIM", "s", "g", "alice", "0", "1-1", "2-1", "3-1", "4-1", "5-1", "6-1", "FORCE", "IDLE", "100000"),
        ("XCLAIM", "s", "g", "alice", "0", "7-1", "8-1", "FORCE"),
        ("XAUTOCLAIM", "s", "g", "bob", "50000", "0", "COUNT", "2"),
        ("XAUTOCLAIM", "s", "g", "bob", "50000", "3-1", "COUNT", "2", "JUSTID"),
        ("XAUTOCLAIM", "s", "g", "bob", "50000", "(4-1", "justid", "count", "5"),
        ("XAUTOCLAIM", "s", "g", "carol", "0", "-", "COUNT", "3"),
        ("XAUTOCLAIM", "s", "g", "carol", "0", "+"),
        ("XAUTOCLAIM", "s", "g", "carol", "0", "(7-1", "JUSTID"),
        ("XAUTOCLAIM", "s", "g", "carol", "0", "9-0"),
        ("XAUTOCLAIM", "s", "g", "dave", "0", "5", "COUNT", "1", "COUNT", "2"),
        ("XAUTOCLAIM", "s", "g", "erin", "99999999", "0"),
        ("XAUTOCLAIM", "s", "g", "erin", "-5", "7-1", "JUSTID", "JUSTID"),
        ("XPENDING", "s", "g"),
        Idle(("XPENDING", "s", "g", "-", "+", "10")),
    ],
    "xautoclaim_deleted": [
        *stream(8),
        ("XCLAIM", "s", "g", "alice", "0", "1-1", "2-1", "3-1", "4-1", "5-1", "6-1", "7-1", "FORCE", "JUSTID"),
        ("XDEL", "s", "2-1", "3-1", "5-1"),
        ("XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "2"),
        ("XPENDING", "s", "g"),
        ("XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "1"),
        ("XAUTOCLAIM", "s", "g", "carol", "0", "0", "JUSTID"),
        ("XPENDING", "s", "g"),
        ("XDEL", "s", "1-1", "7-1"),
        ("XAUTOCLAIM", "s", "g", "dave", "999999", "0", "JUSTID"),
        ("XPENDING", "s", "g"),
        ("XTRIM", "s", "MAXLEN", "0"),
        ("XAUTOCLAIM", "s", "g", "dave", "0", "0"),
        ("XPENDING", "s", "g"),
        Idle(("XINFO", "CONSUMERS", "s", "g"), kind="consumers"),
    ],
    "xautoclaim_attempts": [
        *stream(30),
        ("XCLAIM", "s", "g", "alice", "0", *[f"{i}-1" for i in range(1, 26)], "FORCE", "JUSTID"),
        ("XCLAIM", "s", "g", "alice", "0", *[f"{i}-1" for i in range(26, 31)], "FORCE", "JUSTID", "IDLE", "100000"),
        ("XAUTOCLAIM", "s", "g", "bob", "50000", "0", "COUNT", "2", "JUSTID"),
        ("XAUTOCLAIM", "s", "g", "bob", "50000", "21-1", "COUNT", "2", "JUSTID"),
        ("XAUTOCLAIM", "s", "g", "bob", "50000", "0", "COUNT", "3"),
        ("XAUTOCLAIM", "s", "g", "bob", "50000", "0", "JUSTID"),
        ("XAUTOCLAIM", "s", "g", "bob", "50000", "0", "COUNT", "1", "JUSTID"),
        ("XPENDING", "s", "g"),
    ],
    "xautoclaim_errors": [
        ("XAUTOCLAIM", "s", "g", "c", "0"),
        ("XAUTOCLAIM", "s", "g", "c", "x", "0"),
        ("XAUTOCLAIM", "s", "g", "c", "1.0", "0"),
        ("XAUTOCLAIM", "s", "g", "c", "0", "x"),
        ("XAUTOCLAIM", "s", "g", "c", "0", "(+"),
        ("XAUTOCLAIM", "s", "g", "c", "0", "(-"),
        ("XAUTOCLAIM", "s", "g", "c", "0", "("),
        ("XAUTOCLAIM", "s", "g", "c", "0", "(18446744073709551615-18446744073709551615"),
        ("XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "0"),
        ("XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "-1"),
        ("XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "x"),
        ("XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "576460752303423488"),
        ("XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "576460752303423487"),
        ("XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "9223372036854775807"),
        ("XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT"),
        ("XAUTOCLAIM", "s", "g", "c", "0", "0", "JUSTID", "COUNT"),
        ("XAUTOCLAIM", "s", "g", "c", "0", "0", "FOO"),
        ("XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "5", "FOO"),
        NOGROUP_CASES[3],
        ("XAUTOCLAIM", "nokey", "g", "c", "-5", "+", "justid", "count", "3"),
        ("SET", "str", "v"),
        ("XAUTOCLAIM", "str", "g", "c", "0", "0"),
        ("XAUTOCLAIM", "str", "g", "c", "x", "0"),
        *stream(),
        ("XAUTOCLAIM", "s", "nog", "c", "0", "0"),
        ("XAUTOCLAIM", b"s\x00x", "g", "c", "0", "0"),
    ],
    "with_xreadgroup": [
        *stream(),
        ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "4", "STREAMS", "s", ">"),
        ("XPENDING", "s", "g"),
        ("XCLAIM", "s", "g", "bob", "0", "1-1", "2-1"),
        ("XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "1"),
        ("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0"),
        ("XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", "0"),
        ("XACK", "s", "g", "1-1"),
        ("XAUTOCLAIM", "s", "g", "dave", "0", "0", "JUSTID"),
        ("XPENDING", "s", "g"),
        Idle(("XPENDING", "s", "g", "-", "+", "10")),
        ("XREADGROUP", "GROUP", "g", "dave", "STREAMS", "s", "0"),
        ("XDEL", "s", "3-1"),
        ("XREADGROUP", "GROUP", "g", "dave", "STREAMS", "s", "0"),
        ("XAUTOCLAIM", "s", "g", "erin", "0", "0"),
        ("XPENDING", "s", "g"),
    ],
    "events": [
        ("CONFIG", "SET", "notify-keyspace-events", "KEA"),
        On("sub", Frames(("PSUBSCRIBE", "__key*@*__:*"), 1)),
        *stream(),
        On("sub", Drain(0.05)),
        ("XCLAIM", "s", "g", "alice", "0", "9-1"),
        ("XAUTOCLAIM", "s", "g", "bob", "0", "0"),
        On("sub", Drain(0.05)),
        ("XCLAIM", "s", "g", "alice", "0", "1-1", "2-1", "FORCE"),
        ("XCLAIM", "s", "g", "alice", "0", "2-1", "LASTID", "5-1"),
        ("XCLAIM", "s", "g", "bob", "0", "9-1", "LASTID", "6-1"),
        On("sub", Drain(0.05)),
        ("XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "1"),
        ("XDEL", "s", "2-1"),
        ("XAUTOCLAIM", "s", "g", "dave", "0", "2-1", "JUSTID"),
        ("XPENDING", "s", "g"),
        On("sub", Drain(0.05)),
        ("CONFIG", "SET", "notify-keyspace-events", ""),
    ],
    "watch": [
        *stream(),
        On("w", ("WATCH", "s")),
        ("XCLAIM", "s", "g", "alice", "0", "1-1", "2-1", "FORCE", "LASTID", "4-1"),
        ("XCLAIM", "s", "g", "alice", "0", "9-1", "LASTID", "5-1"),
        ("XAUTOCLAIM", "s", "g", "bob", "0", "0"),
        ("XPENDING", "s", "g"),
        On("w", ("MULTI",)),
        On("w", ("XPENDING", "s", "g")),
        On("w", ("EXEC",)),
        On("w", ("WATCH", "s")),
        ("XADD", "s", "9-1", "a", "b"),
        On("w", ("MULTI",)),
        On("w", ("PING",)),
        On("w", ("EXEC",)),
    ],
    "inside_multi": [
        *stream(),
        ("MULTI",),
        ("XCLAIM", "s", "g", "alice", "0", "1-1", "2-1", "FORCE", "JUSTID"),
        ("XAUTOCLAIM", "s", "g", "bob", "0", "0", "COUNT", "1", "JUSTID"),
        ("XPENDING", "s", "g"),
        ("XCLAIM", "s", "g", "c", "x", "1-1"),
        ("XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "0"),
        ("EXEC",),
        ("MULTI",),
        ("XPENDING", "s"),
        ("EXEC",),
    ],
}


@pytest.mark.parametrize("name", SCRIPTS)
def test_stream_pel(differ, name):
    run(differ, SCRIPTS[name])
