"""SAVE, BGSAVE [SCHEDULE], LASTSAVE, the -MISCONF gate, SHUTDOWN's failed save, FLUSHALL's save
and DEBUG RELOAD, compared byte for byte with redis-server 7.0.15 (RESP2 and RESP3).

The pair of servers here is this module's own: each writes into its own directory (the shared
compat servers share one), with protected configs and DEBUG enabled, so that a script can point
both at the same broken directory (a ``dump.rdb`` that is a non-empty directory: the rename
fails even for root) and each can be pointed back at its own afterwards."""

from __future__ import annotations

import pytest

from tests.compat.conftest import COMMON
from tests.compat.differ import Approx, Differ, Sleep
from tests.helpers_proc import REDIS_SERVER, RawConn, ServerProcess

pytestmark = pytest.mark.compat

EXTRA = ("--enable-protected-configs", "yes", "--enable-debug-command", "yes")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    rd = str(tmp_path_factory.mktemp("real"))
    od = str(tmp_path_factory.mktemp("ours"))
    bad = tmp_path_factory.mktemp("bad")
    (bad / "dump.rdb" / "sub").mkdir(parents=True)
    with ServerProcess.real(None, *EXTRA, cwd=rd) as real:
        with ServerProcess.ours(None, *COMMON, "--dir", od, *EXTRA, cwd=od) as ours:
            yield Differ(real.port, ours.port), (real.port, rd), (ours.port, od), str(bad)


def _each(pair, *args) -> list[bytes]:
    _, (rp, rd), (op, od), _ = pair
    out = []
    for port, d in ((rp, rd), (op, od)):
        with RawConn(port) as c:
            out.append(c.call(*[d if a == "{dir}" else a for a in args]))
    return out


def _reset(pair) -> None:
    """Each server back in its own dir, no save points, and a good BGSAVE status."""
    assert _each(pair, "CONFIG", "SET", "dir", "{dir}") == [b"+OK\r\n"] * 2
    assert _each(pair, "CONFIG", "SET", "save", "") == [b"+OK\r\n"] * 2
    assert _each(pair, "SAVE") == [b"+OK\r\n"] * 2


SCRIPTS = {
    "save_bgsave_lastsave": [
        ("SET", "k", "v"),
        ("SAVE",),
        ("SAVE", "x"),
        ("BGSAVE", "foo"),
        ("BGSAVE", "SCHEDULE", "x"),
        ("BGSAVE", "schedule", "schedule"),
        ("LASTSAVE", "x"),
        Approx(("LASTSAVE",), 2),
        ("BGSAVE",),
        Sleep(0.6),
        ("MULTI",),
        ("BGSAVE",),
        ("BGSAVE", "SCHEDULE"),
        ("EXEC",),
        Sleep(0.8),
        ("BGSAVE", "SCHEDULE"),
        Sleep(0.6),
        ("DBSIZE",),
        ("GET", "k"),
    ],
    "flushall_with_save_points": [
        ("CONFIG", "SET", "save", "3600 1"),
        ("SET", "a", "1"),
        ("FLUSHALL",),
        ("DBSIZE",),
        ("DEBUG", "RELOAD", "NOSAVE"),  # the file FLUSHALL wrote is empty
        ("DBSIZE",),
        ("CONFIG", "SET", "save", ""),
    ],
    "debug_reload": [
        ("SET", "s", "hello"),
        ("SET", "n", "12345"),
        ("SET", "t", "x", "EX", "1000"),
        ("RPUSH", "l", "a", "b", "c"),
        ("HSET", "h", "f", "v", "g", "w"),
        ("SADD", "si", "1", "2", "3"),
        ("SADD", "ss", "x", "y"),
        ("ZADD", "z", "1", "a", "2.5", "b"),
        ("DEBUG", "RELOAD"),
        ("GET", "s"),
        ("OBJECT", "ENCODING", "n"),
        Approx(("TTL", "t"), 2),
        ("LRANGE", "l", "0", "-1"),
        ("HGETALL", "h"),
        ("OBJECT", "ENCODING", "h"),
        ("OBJECT", "ENCODING", "si"),
        ("OBJECT", "ENCODING", "ss"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
        ("OBJECT", "ENCODING", "z"),
        ("DEBUG", "RELOAD", "BOGUS"),
        ("DEBUG", "RELOAD", "NOSAVE"),
        ("DEBUG", "RELOAD", "MERGE", "NOFLUSH", "NOSAVE"),
        ("DBSIZE",),
        ("SET", "extra", "1"),
        ("DEBUG", "RELOAD", "NOSAVE"),  # the file does not have it
        ("EXISTS", "extra"),
    ],
}


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_script(pair, name):
    differ = pair[0]
    _reset(pair)
    try:
        differ.check(SCRIPTS[name])
    finally:
        _reset(pair)


FAILING = [
    ("SET", "a", "1"),
    ("SAVE",),  # a bare -ERR
    ("BGSAVE",),
    Sleep(0.6),
    ("SET", "b", "1"),  # no save points: no MISCONF
    ("PING",),
    ("CONFIG", "SET", "save", "100 1"),
    ("SET", "b", "1"),
    ("PING",),
    ("GET", "a"),
    ("CONFIG", "SET", "stop-writes-on-bgsave-error", "no"),
    ("SET", "b", "2"),
    ("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"),
    ("SET", "b", "3"),
    ("SHUTDOWN",),
    ("SHUTDOWN", "NOW"),
    ("DEBUG", "RELOAD"),
    ("FLUSHALL",),
    ("BGSAVE", "SCHEDULE"),
    Sleep(0.3),
    ("CONFIG", "SET", "save", ""),
    ("SET", "c", "1"),
]


def test_failing_dir_misconf_and_shutdown(pair):
    differ, _, _, bad = pair
    _reset(pair)
    try:
        assert _each(pair, "CONFIG", "SET", "dir", bad) == [b"+OK\r\n"] * 2
        differ.check(FAILING)
    finally:
        _reset(pair)
    # a good save clears the status on both
    assert _each(pair, "SET", "z", "1") == [b"+OK\r\n"] * 2
