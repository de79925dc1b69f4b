"""Script effects over replication, against redis-server 7.0.15.

Redis 7.0 replicates a script by its effects: the write commands it ran reach the replicas (and
the AOF) as themselves, wrapped in MULTI/EXEC when there are several (one alone goes alone),
EVAL/EVALSHA never; ``redis.set_repl`` picks the targets of each command; a SELECT inside the
script and the lazy deletion of keys it finds expired are part of the effects; a read-only
script propagates nothing.

Two kinds of checks:

* the replication stream itself: a hand-made replica (raw PSYNC, RDB skipped) of a real master
  and of ours records the commands each sends for the same steps, and the two lists must be
  equal (PINGs left out, absolute times masked), with and without the AOF on (an op for a target
  that is off does not count for the MULTI wrapping);
* datasets: ours and a real replica side by side of an ours master and of a real master, after
  a seeded workload of EVAL/EVALSHA writes (set_repl, SELECT, scripts in MULTI, blocked clients
  served by a script's push), hold exactly the same keys; the master differs from them only by
  the keys written under REPL_AOF / REPL_NONE.
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
import time

import pytest
import redis

from tests.dataset import capture
from tests.helpers_proc import REDIS_SERVER, RawConn, encode_command, reply_end
from tests.integration.repl_helpers import (
    client,
    info,
    offsets,
    start_master,
    start_replica_of,
    sync_log,
    wait_link_up,
    wait_until,
)

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")

_TIME = re.compile(rb"^1\d{12}(-\d+)?$")  # a unix time in ms (PXAT, PEXPIREAT) or a stream ID of one


# ------------------------------------------------------------------------------- raw replica


def _parse(buf: bytes) -> tuple[list[list[bytes]], bytes]:
    """Whole RESP arrays of bulks at the front of ``buf``: (argvs, the rest)."""
    out = []
    pos = 0
    while pos < len(buf):
        end = reply_end(buf, pos)
        if end is None:
            break
        lines = buf[pos:end].split(b"\r\n")
        pos = end
        n = int(lines[0][1:])
        argv, i = [], 1
        for _ in range(n):
            argv.append(lines[i + 1])
            i += 2
        out.append(argv)
    return out, buf[pos:]


class RawReplica:
    """A replica by hand: PSYNC ? -1, skip the (diskless) RDB, then read the command stream."""

    def __init__(self, port: int) -> None:
        with RawConn(port) as c:
            assert c.call("CONFIG", "SET", "repl-diskless-sync-delay", "0") == b"+OK\r\n"
        self.conn = c = RawConn(port, timeout=10)
        assert c.call("REPLCONF", "listening-port", "1234") == b"+OK\r\n"
        assert c.call("REPLCONF", "capa", "eof", "capa", "psync2") == b"+OK\r\n"
        c.send(encode_command("PSYNC", "?", "-1"))
        buf = b""
        deadline = time.monotonic() + 15
        while True:
            buf += c.read_pending(0.1)
            i = buf.find(b"$EOF:")
            if i >= 0 and len(buf) >= i + 45:
                mark = buf[i + 5 : i + 45]
                j = buf.find(mark, i + 45)
                if j >= 0:
                    self.rest = buf[j + 40 :]
                    break
            assert time.monotonic() < deadline, f"no RDB: {buf[:200]!r}"
        c.send(encode_command("REPLCONF", "ACK", "0"))

    def read(self, quiet: float = 0.25) -> list[list[bytes]]:
        """The commands received since the last read (PINGs left out, absolute times masked)."""
        cmds, self.rest = _parse(self.rest + self.conn.read_pending(quiet))
        out = []
        for argv in cmds:
            if argv[0].lower() == b"ping":
                continue
            out.append([b"<time>" if _TIME.match(a) else a for a in argv])
        return out

    def close(self) -> None:
        self.conn.close()


# ------------------------------------------------------------------------------- scenarios
# Each scenario is a list of steps run on one connection (db 0 at the start): an argv, or
# ("block", argv) sent on a second connection that waits, or ("sleep", s). The replication
# stream they produce must be the same on both masters.

S_SET = "redis.call('set', KEYS[1], ARGV[1])"

SCENARIOS: dict[str, list] = {
    "single-write-alone": [["EVAL", S_SET, "1", "a", "1"]],
    "two-writes-wrapped": [["EVAL", S_SET + " redis.call('incr', 'n')", "1", "a", "1"]],
    "evalsha": [["SCRIPT", "LOAD", S_SET], ["EVALSHA", hashlib.sha1(S_SET.encode()).hexdigest(), "1", "b", "2"],
                ["EVALSHA", "4c1ebbe6dc7ca6bcd8b2b0b8e3b4cd0c1a3d1a88", "0"]],  # NOSCRIPT
    "read-only-nothing": [["SET", "r", "1"], ["EVAL", "return redis.call('get', 'r')", "0"],
                          ["EVAL_RO", "return redis.call('get', 'r')", "0"],
                          ["EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'r')", "0"]],
    "noop-write-nothing": [["EVAL", "redis.call('del', 'nosuch') redis.call('srem', 'nosuch', 'x')", "0"]],
    "select-inside": [["EVAL", "redis.call('select', 2) redis.call('set', 'x', '1') redis.call('select', 3) "
                               "redis.call('set', 'y', '1')", "0"],
                      ["SET", "z", "1"],
                      ["EVAL", "redis.call('select', 4) redis.call('set', 'x4', '1')", "0"],
                      ["SET", "z2", "1"]],
    "caller-db": [["SELECT", "5"], ["EVAL", S_SET, "1", "d5", "v"], ["EVAL", S_SET + " " + S_SET, "1", "d5", "w"],
                  ["SELECT", "0"], ["SET", "d0", "1"]],
    "set-repl": [["EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('set', 'none', '1') "
                          "redis.set_repl(redis.REPL_AOF) redis.call('set', 'aof', '1') "
                          "redis.set_repl(redis.REPL_REPLICA) redis.call('set', 'rep', '1') "
                          "redis.set_repl(redis.REPL_SLAVE) redis.call('set', 'slave', '1') "
                          "redis.set_repl(redis.REPL_ALL) redis.call('set', 'all', '1')", "0"],
                 ["EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('set', 'none2', '1')", "0"],
                 ["EVAL", "redis.set_repl(redis.REPL_AOF) redis.call('set', 'aof2', '1') "
                          "redis.set_repl(redis.REPL_ALL) redis.call('set', 'all2', '1')", "0"],
                 ["EVAL", "redis.set_repl(redis.REPL_REPLICA) redis.call('set', 'rep2', '1') "
                          "redis.call('set', 'rep3', '1')", "0"],
                 ["EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('set', 'n3', '1') "
                          "redis.set_repl(redis.REPL_ALL) redis.call('set', 'a3', '1') redis.call('set', 'a4', '1')", "0"],
                 ["EVAL", "return redis.set_repl(7)", "0"]],
    "rewritten-commands": [["EVAL", "redis.call('incrbyfloat', 'f', '1.5') redis.call('set', 'e', '1', 'EX', '100') "
                                    "redis.call('expire', 'f', 100) redis.call('setex', 'g', 100, 'v') "
                                    "redis.call('getex', 'g', 'PX', 5000) redis.call('hincrbyfloat', 'h', 'x', '0.5')", "0"],
                           ["EVAL", "redis.call('rpush', 'l', 'a', 'b') redis.call('blpop', 'l', 0) "
                                    "redis.call('brpoplpush', 'l', 'l2', 0) redis.call('expire', 'l2', -1)", "0"],
                           ["EVAL", "redis.call('sadd', 's', 'a') redis.call('spop', 's') "
                                    "redis.call('zadd', 'z', 1, 'a', 2, 'b') redis.call('bzpopmin', 'z', 0) "
                                    "redis.call('zpopmax', 'z')", "0"]],
    "error-after-write": [["EVAL", "redis.call('set', 'w1', '1') redis.call('set', 'w2', '1') "
                                   "redis.call('nosuch')", "0"],
                          ["EVAL", "redis.call('set', 'w3', '1') redis.call('incr', 'w3x') "
                                   "redis.call('hset', 'w3', 'f', 'v')", "0"],
                          ["EVAL", "redis.call('set', 'w4', '1') error('boom')", "0"],
                          ["EVAL", "redis.pcall('incr', 'w4') redis.call('set', 'w5', '1')", "0"]],
    "expired-keys": [["DEBUG", "SET-ACTIVE-EXPIRE", "0"],
                     ["SET", "x1", "1", "PX", "1"], ["SET", "x2", "1", "PX", "1"], ["SET", "x3", "1", "PX", "1"],
                     ("sleep", 0.05),
                     ["EVAL", "return redis.call('get', 'x1')", "0"],
                     ["EVAL", "redis.call('exists', 'x2') redis.call('set', 'w', '1') redis.call('get', 'x3')", "0"],
                     ["SET", "x4", "1", "PX", "1"], ("sleep", 0.05),
                     ["EVAL", "redis.call('set', 'x4', '2')", "0"],
                     ["DEBUG", "SET-ACTIVE-EXPIRE", "1"]],
    "in-multi": [["SELECT", "6"], ["MULTI"], ["EVAL", S_SET, "1", "m1", "1"], ["SET", "m2", "1"],
                 ["EVAL", S_SET + " redis.call('select', 7) " + S_SET, "1", "m3", "1"], ["SET", "m4", "1"], ["EXEC"],
                 ["MULTI"], ["EVAL", "return redis.call('get', 'm2')", "0"], ["GET", "m2"], ["EXEC"],
                 ["MULTI"], ["EVAL", "redis.set_repl(redis.REPL_AOF) redis.call('set', 'q1', '1')", "0"],
                 ["SET", "q2", "1"], ["EXEC"],
                 ["MULTI"], ["EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('set', 'q3', '1')", "0"],
                 ["EVAL", S_SET, "1", "q4", "1"], ["EXEC"],
                 ["SELECT", "0"]],
    "flush-and-streams": [["SET", "gone", "1"],
                          ["EVAL", "redis.call('xadd', 'st', '1-1', 'f', 'v') redis.call('flushdb') "
                                   "redis.call('xadd', 'st2', '*', 'f', 'v')", "0"]],
    "blocked-client-served-after": [("block", ["BLPOP", "q", "0"]), ("block", ["BLPOP", "q", "0"]),
                                    ["EVAL", "redis.call('rpush', 'q', 'a', 'b', 'c') redis.call('set', 'after', '1')", "0"],
                                    ("block", ["BLMOVE", "q2", "q3", "LEFT", "RIGHT", "0"]),
                                    ["EVAL", "redis.call('lpush', 'q2', 'x') redis.call('lpop', 'q2') "
                                             "redis.call('lpush', 'q2', 'y')", "0"]],
}


def run_scenario(port: int, steps: list) -> list[bytes]:
    """Run the steps; the replies (to compare too)."""
    replies = []
    blocked: list[RawConn] = []
    with RawConn(port, timeout=10) as c:
        for step in steps:
            if isinstance(step, tuple) and step[0] == "sleep":
                time.sleep(step[1])
            elif isinstance(step, tuple) and step[0] == "block":
                b = RawConn(port, timeout=10)
                b.send(encode_command(*step[1]))
                blocked.append(b)
                time.sleep(0.05)
            else:
                replies.append(c.call(*step))
        for b in blocked:
            replies.append(b.read_reply())
            b.close()
        c.call("SELECT", "0")
    return replies


def _mask(reply: bytes) -> bytes:
    """Script errors name the script: the same bytes on both servers, nothing to mask but a
    stream ID made of the time."""
    return re.sub(rb"1\d{12}-0", b"<id>", reply)


@pytest.fixture(scope="module")
def masters(tmp_path_factory):
    """A real and an ours master with the DEBUG command, AOF off and on."""
    out = {}
    tmp = tmp_path_factory.mktemp("script-masters")
    for aof in ("no", "yes"):
        for kind in ("real", "ours"):
            srv = start_master(kind, tmp, "--enable-debug-command", "yes", "--appendonly", aof)
            out[(kind, aof)] = (srv, RawReplica(srv.port))
    yield out
    for srv, rep in out.values():
        rep.close()
        srv.stop()


@pytest.mark.parametrize("aof", ["no", "yes"], ids=["aof-off", "aof-on"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_stream_same_as_real(masters, name, aof):
    streams, replies = {}, {}
    for kind in ("real", "ours"):
        srv, rep = masters[(kind, aof)]
        with RawConn(srv.port) as c:
            c.call("FLUSHALL")
            c.call("SCRIPT", "FLUSH")
            c.call("SET", "stream-mark", "1")  # the previous test's stream ends here
        deadline = time.monotonic() + 10
        while [b"SET", b"stream-mark", b"1"] not in rep.read(0.05):
            assert time.monotonic() < deadline, "the replica stream stalled"
        replies[kind] = [_mask(r) for r in run_scenario(srv.port, SCENARIOS[name])]
        streams[kind] = rep.read(0.3)
    assert replies["ours"] == replies["real"]
    assert streams["ours"] == streams["real"], "\n".join(map(repr, streams["real"]))
    for argv in streams["ours"]:  # effects only: a script itself never reaches the replicas
        assert argv[0].upper() not in (b"EVAL", b"EVALSHA", b"EVAL_RO", b"EVALSHA_RO", b"SCRIPT")


def test_stream_shapes(masters):
    """What the comparisons above pin down, spelled out on ours."""
    port = masters[("ours", "no")][0].port
    with RawConn(port) as c:
        c.call("FLUSHALL")
    rep = RawReplica(port)  # a second replica of its own
    try:
        rep.read()
        run_scenario(port, SCENARIOS["single-write-alone"])
        assert rep.read() == [[b"SELECT", b"0"], [b"set", b"a", b"1"]]
        run_scenario(port, SCENARIOS["two-writes-wrapped"])
        assert rep.read() == [[b"MULTI"], [b"set", b"a", b"1"], [b"incr", b"n"], [b"EXEC"]]
        run_scenario(port, SCENARIOS["read-only-nothing"])
        assert rep.read() == [[b"SET", b"r", b"1"]]
        run_scenario(port, [["EVAL", "redis.set_repl(redis.REPL_AOF) redis.call('set', 'aof', '1') "
                                     "redis.set_repl(redis.REPL_ALL) redis.call('set', 'all', '1')", "0"]])
        assert rep.read() == [[b"set", b"all", b"1"]]  # AOF off: the AOF op does not count
    finally:
        rep.close()


# ---------------------------------------------------------------------------- datasets


SCRIPTS = {
    "put": "redis.call('set', KEYS[1], ARGV[1]) return redis.call('incr', KEYS[2])",
    "move": "local v = redis.call('lpop', KEYS[1]) if v then redis.call('rpush', KEYS[2], v) end return v",
    "hash": "redis.call('hset', KEYS[1], ARGV[1], ARGV[2]) redis.call('hincrbyfloat', KEYS[1], 'f', '0.25') "
            "return redis.call('hlen', KEYS[1])",
    "zset": "redis.call('zincrby', KEYS[1], ARGV[1], ARGV[2]) if redis.call('zcard', KEYS[1]) > 5 then "
            "redis.call('zpopmin', KEYS[1]) end return 1",
    "ttl": "redis.call('set', KEYS[1], ARGV[1], 'EX', 3600) redis.call('pexpire', KEYS[2], 7200000) return 1",
    "select": "redis.call('select', ARGV[1]) redis.call('rpush', KEYS[1], ARGV[2]) return 1",
    "aof-only": "redis.set_repl(redis.REPL_AOF) redis.call('set', 'aofonly:' .. KEYS[1], ARGV[1]) "
                "redis.set_repl(redis.REPL_ALL) redis.call('set', KEYS[1], ARGV[1]) return 1",
    "none": "redis.set_repl(redis.REPL_NONE) redis.call('incr', 'none:' .. KEYS[1]) return 1",
    "replica-only": "redis.set_repl(redis.REPL_REPLICA) redis.call('sadd', KEYS[1], ARGV[1]) return 1",
    "read": "return redis.call('get', KEYS[1])",
    "fail": "redis.call('set', KEYS[1], ARGV[1]) return redis.call('incr', KEYS[1] .. ':s')",
}


def script_workload(port: int, seed: int, rounds: int) -> None:
    rnd = random.Random(seed)
    c = redis.Redis(port=port, socket_timeout=10)
    shas = {name: c.script_load(body) for name, body in SCRIPTS.items()}
    c.set("k:s", "not a number")
    for i in range(rounds):
        name = rnd.choice(list(SCRIPTS))
        k1, k2 = f"k:{rnd.randrange(8)}", f"k:{rnd.randrange(8)}"
        if name in ("move",):
            k1, k2 = f"l:{rnd.randrange(3)}", f"l:{rnd.randrange(3)}"
            c.rpush(k1, i)
        args = {
            "put": [str(i)], "move": [], "hash": [f"f{rnd.randrange(5)}", str(i)], "zset": [str(rnd.randrange(9)), f"m{rnd.randrange(8)}"],
            "ttl": [str(i)], "select": [str(rnd.randrange(4)), str(i)], "aof-only": [str(i)], "none": [],
            "replica-only": [str(i)], "read": [], "fail": [str(i)],
        }[name]
        keys = {"hash": [f"h:{rnd.randrange(4)}"], "zset": [f"z:{rnd.randrange(3)}"], "select": [f"sl:{rnd.randrange(3)}"],
                "replica-only": [f"s:{rnd.randrange(3)}"]}.get(name, [k1, k2])
        if name == "fail":
            keys = [f"f:{rnd.randrange(3)}"]
            c.set(keys[0] + ":s", "x")
        try:
            if rnd.random() < 0.5:
                c.evalsha(shas[name], len(keys), *keys, *args)
            else:
                c.eval(SCRIPTS[name], len(keys), *keys, *args)
        except redis.ResponseError as e:
            assert name == "fail", e
        if i % 17 == 0:  # a script inside a transaction, with a plain write around it
            p = c.pipeline(transaction=True)
            p.incr("tx:n")
            p.evalsha(shas["put"], 2, f"tx:{i % 3}", "tx:c", str(i))
            p.execute()
        if i % 23 == 0:  # a client blocked on a list a script pushes to is served once, after it
            b = redis.Redis(port=port, socket_timeout=10)
            got = []
            bq = f"bq:{i}"
            t = threading.Thread(target=lambda: got.append(b.blpop([bq], 5)))
            t.start()
            wait_until(lambda: int(info(c, "clients")["blocked_clients"]) == 1, 5, "not blocked")
            c.eval("redis.call('rpush', KEYS[1], ARGV[1], 'extra') redis.call('set', 'bq:last', ARGV[1])", 1, bq, str(i))
            t.join(5)
            assert got == [(bq.encode(), str(i).encode())]
            assert c.lrange(bq, 0, -1) == [b"extra"]  # served once
            b.close()
    c.close()


def _without(cap: dict, prefixes: tuple[str, ...]) -> dict:
    out = {}
    for db, keys in cap.items():
        kept = {k: v for k, v in keys.items() if not k.startswith(prefixes)}
        if kept:
            out[db] = kept
    return out


def _caught_up(master: redis.Redis, *replicas: redis.Redis) -> bool:
    m = int(info(master)["master_repl_offset"])
    return all(offsets(master, r)[1] == m for r in replicas)


@pytest.mark.parametrize("master_kind", ["ours", "real"])
def test_datasets_ours_replica_equals_real_replica(tmp_path, master_kind):
    master = start_master(master_kind, tmp_path)
    replicas = {kind: start_replica_of(kind, master.port, tmp_path) for kind in ("real", "ours")}
    try:
        m = client(master)
        rs = {kind: client(srv) for kind, srv in replicas.items()}
        for r in rs.values():
            wait_link_up(r)
        m.set("seed", "before the workload")
        script_workload(master.port, seed=7, rounds=300)
        wait_until(lambda: _caught_up(m, *rs.values()), 20,
                   "replicas did not reach the master's offset\n" + sync_log(master, *replicas.values()))
        cap_real, cap_ours = capture(rs["real"]), capture(rs["ours"])
        assert cap_ours == cap_real
        cap_master = capture(m)
        # the replicas lack exactly what set_repl kept from them, and have the REPL_REPLICA
        # writes the master... has too (set_repl changes where a write goes, not the master)
        assert _without(cap_master, ("aofonly:", "none:")) == cap_real
        assert any(k.startswith("aofonly:") for k in cap_master.get("0", {}))
        assert any(k.startswith("none:") for k in cap_master.get("0", {}))
        for name in ("ours", "real"):
            assert "sending an error to its master" not in replicas[name].output()
    finally:
        for srv in replicas.values():
            srv.stop()
        master.stop()
