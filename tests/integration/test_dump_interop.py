"""DUMP / RESTORE between a real redis-server 7.0 and ours, both ways, over real sockets.

Every type in small and large encodings (tests/dataset.py ``fill``), in databases 0, 3 and 9 with
TTLs: DUMP on the real server -> RESTORE here gives the same contents (``capture``), the same
OBJECT ENCODING and, where Redis's encoding has a defined order, the same DUMP bytes; DUMP here ->
RESTORE on the real server gives the same contents again. Streams (no stream commands here yet)
go real -> ours -> real and are compared on the real server (XRANGE, XINFO GROUPS / STREAM FULL,
XPENDING).
"""

from __future__ import annotations

import shutil

import pytest
import redis

from tests.dataset import DBS, capture, fill
from tests.helpers_proc import ServerProcess
from tests.helpers_proc import raw_reply as raw

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


def _client(port: int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=30, protocol=2)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    d_real = str(tmp_path_factory.mktemp("dump-real"))
    d_ours = str(tmp_path_factory.mktemp("dump-ours"))
    with ServerProcess.real(None, cwd=d_real) as real, ServerProcess.ours(None, "--dir", d_ours, cwd=d_ours) as ours:
        a, b = _client(real.port), _client(ours.port)
        yield a, b
        a.close()
        b.close()


@pytest.fixture
def real(servers):
    servers[0].flushall()
    return servers[0]


@pytest.fixture
def ours(servers):
    servers[1].flushall()
    return servers[1]


def transfer(src: redis.Redis, dst: redis.Redis, dbs=DBS) -> dict[tuple[int, bytes], bytes]:
    """DUMP every key of ``src`` and RESTORE it into the same db of ``dst`` with its TTL;
    returns the payloads by (db, key)."""
    payloads = {}
    for db in dbs:
        src.execute_command("SELECT", db)
        dst.execute_command("SELECT", db)
        for key in src.scan_iter(count=1000):
            p = src.dump(key)
            pttl = src.pttl(key)
            assert raw(dst, "RESTORE", key, max(pttl, 0), p) == b"OK", key
            payloads[(db, key)] = p
    src.execute_command("SELECT", 0)
    dst.execute_command("SELECT", 0)
    return payloads


def encodings(c: redis.Redis, dbs=DBS) -> dict[tuple[int, bytes], bytes]:
    out = {}
    for db in dbs:
        c.execute_command("SELECT", db)
        for key in c.scan_iter(count=1000):
            out[(db, key)] = raw(c, "OBJECT", "ENCODING", key)
    c.execute_command("SELECT", 0)
    return out


def ordered(c: redis.Redis, db: int, key: bytes) -> bool:
    """True when the key's encoding has one byte layout for its contents (a hashtable set or
    hash iterates in hash order, which differs between servers)."""
    c.execute_command("SELECT", db)
    try:
        return raw(c, "OBJECT", "ENCODING", key) != b"hashtable"
    finally:
        c.execute_command("SELECT", 0)


def test_real_to_ours(real, ours):
    n = fill(real, large=True)
    payloads = transfer(real, ours)
    assert len(payloads) == n
    want = capture(real)
    assert capture(ours) == want
    assert encodings(ours) == encodings(real)
    same = differ = 0
    for (db, key), p in payloads.items():
        if not ordered(real, db, key):
            differ += 1
            continue
        ours.execute_command("SELECT", db)
        assert ours.dump(key) == p, (db, key)
        same += 1
    ours.execute_command("SELECT", 0)
    assert same >= 13 * len(DBS) and differ >= 3 * len(DBS)


def test_ours_to_real(real, ours):
    n = fill(ours, large=True)
    payloads = transfer(ours, real)
    assert len(payloads) == n
    assert capture(real) == capture(ours)
    assert encodings(real) == encodings(ours)
    # and back: what real Redis now DUMPs restores here to the same contents again
    ours.flushall()
    transfer(real, ours)
    assert capture(ours) == capture(real)


def test_small_only_ours_to_real(real, ours):
    fill(ours, large=False, dbs=(0,))
    payloads = transfer(ours, real, dbs=(0,))
    for (db, key), p in payloads.items():
        if ordered(ours, db, key):
            assert real.dump(key) == p, key
    assert capture(real) == capture(ours)


def test_rdbcompression_no_both_ways(real, ours):
    real.set("long", "abcdefgh" * 100)
    ours.set("long", "abcdefgh" * 100)
    real.config_set("rdbcompression", "no")
    ours.config_set("rdbcompression", "no")
    try:
        p = real.dump("long")
        assert ours.dump("long") == p
        assert len(p) > 800
    finally:
        real.config_set("rdbcompression", "yes")
        ours.config_set("rdbcompression", "yes")
    assert ours.dump("long") == real.dump("long")
    assert len(real.dump("long")) < 100


STREAM_VIEWS = (
    ("XRANGE", "{k}", "-", "+"),
    ("XINFO", "GROUPS", "{k}"),
    ("XINFO", "STREAM", "{k}", "FULL"),
    ("XINFO", "STREAM", "{k}"),
    ("XPENDING", "{k}", "grp"),
    ("XPENDING", "{k}", "grp", "-", "+", "100"),
)


def _stream_view(c: redis.Redis, key: str) -> list:
    out = []
    for cmd in STREAM_VIEWS:
        reply = raw(c, *[a.format(k=key) for a in cmd])
        if cmd[0] == "XPENDING" and len(cmd) > 3:  # [id, consumer, idle ms, deliveries]
            reply = [[row[0], row[1], row[3]] for row in reply]
        out.append(_mask_times(reply))
    return out


def _mask_times(v):
    """Delivery and seen times are wall-clock; keep the structure and everything else."""
    if isinstance(v, list):
        out = []
        skip_next = False
        for i, x in enumerate(v):
            if skip_next:
                out.append("<time>")
                skip_next = False
                continue
            if x in (b"seen-time", b"delivery-time", b"active-time"):
                skip_next = True
            out.append(_mask_times(x))
        return out
    return v


def test_stream_real_to_ours_to_real(real, ours):
    fill(real, large=False, streams=True, dbs=(0,))
    key = "db0:stream"
    p = real.dump(key)
    assert raw(ours, "RESTORE", key, 0, p) == b"OK"
    assert raw(ours, "TYPE", key) == b"stream"
    back = ours.dump(key)
    assert raw(real, "RESTORE", "copy", 0, back) == b"OK"
    assert _stream_view(real, "copy") == _stream_view(real, key)
    # what we DUMP is what real Redis DUMPs for the same stream once it restored ours
    assert real.dump("copy") == back


def test_stream_large_real_to_ours_to_real(real, ours):
    key = "big-stream"
    for i in range(1, 1200):
        real.xadd(key, {"f": str(i), "payload": "z" * (i % 70)}, id=f"{5000 + i}-0")
    real.xdel(key, "5100-0", "5200-0")
    real.xgroup_create(key, "grp", id="0")
    real.xreadgroup("grp", "c1", {key: ">"}, count=50)
    real.xreadgroup("grp", "c2", {key: ">"}, count=7)
    p = real.dump(key)
    assert raw(ours, "RESTORE", key, 0, p) == b"OK"
    assert raw(real, "RESTORE", "copy", 0, ours.dump(key)) == b"OK"
    assert _stream_view(real, "copy") == _stream_view(real, key)


def test_restore_options_agree(real, ours):
    """TTL forms, REPLACE, IDLETIME: same observable state on both servers from one payload."""
    real.rpush("l", *range(100))
    p = real.dump("l")
    for c in (real, ours):
        assert raw(c, "RESTORE", "a", 100000, p) == b"OK"
        assert raw(c, "RESTORE", "b", 4102444800000, p, "ABSTTL") == b"OK"
        assert raw(c, "RESTORE", "c", 1000, p, "ABSTTL") == b"OK"
        assert raw(c, "RESTORE", "d", 0, p, "IDLETIME", 3600) == b"OK"
    for c in (real, ours):
        assert 99000 <= c.pttl("a") <= 100000
        assert raw(c, "PEXPIRETIME", "b") == 4102444800000
        assert c.exists("c") == 0
        assert 3600 <= raw(c, "OBJECT", "IDLETIME", "d") <= 3601
        assert c.lrange("d", 0, -1) == real.lrange("l", 0, -1)
