"""Script effects in the append-only file, against redis-server 7.0.15.

A script reaches the AOF as its effects (wrapped in MULTI/EXEC when several, EVAL never), with
``redis.set_repl`` deciding per command whether the AOF gets it; a restart with appendonly yes
replays them. For the same scripts, ours and a real server write the same commands in their
incr file (absolute times masked) and hold the same data after a restart; each loads the
other's appendonlydir; both load an AOF that holds EVAL/EVALSHA themselves (as Redis 6 wrote
them under script replication) by running the scripts.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from pathlib import Path

import pytest
import redis

from tests.dataset import capture
from tests.helpers_proc import REDIS_SERVER, RawConn, ServerProcess, encode_command, free_port
from tests.integration.test_scripting_busy import wait_busy
from tests.integration.test_scripting_replication import _parse

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")

_TIME = re.compile(rb"^1\d{12}(-\d+)?$")


def server(kind: str, d: Path, *extra: str) -> ServerProcess:
    d.mkdir(parents=True, exist_ok=True)
    if kind == "real":
        return ServerProcess.real(None, "--appendonly", "yes", *extra, cwd=str(d))
    return ServerProcess.ours(free_port(), "--dir", str(d), "--save", "", "--appendonly", "yes", *extra, cwd=str(d))


def client(srv: ServerProcess) -> redis.Redis:
    return redis.Redis(port=srv.port, socket_timeout=30)


def incr_commands(d: Path) -> list[list[bytes]]:
    """The commands of the incr file(s) named by the manifest, times masked."""
    adir = d / "appendonlydir"
    names = []
    for line in (adir / "appendonly.aof.manifest").read_text().splitlines():
        parts = line.split()
        if parts and parts[parts.index("type") + 1] == "i":
            names.append(parts[parts.index("file") + 1])
    out = []
    for name in names:
        cmds, rest = _parse((adir / name).read_bytes())
        assert rest == b""
        out += [[b"<time>" if _TIME.match(a) else a for a in argv] for argv in cmds]
    return out


def workload(r: redis.Redis) -> list:
    """Scripts whose effects the AOF must hold; the replies, to compare."""
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    put = r.script_load("redis.call('set', KEYS[1], ARGV[1]) return redis.call('incr', KEYS[2])")
    out = [
        r.eval("redis.call('set', 'a', '1')", 0),
        r.eval("redis.call('set', 'b', '1') redis.call('rpush', 'l', 1, 2, 3) return redis.call('llen', 'l')", 0),
        r.evalsha(put, 2, "c", "n", "v"),
        r.eval("return redis.call('get', 'a')", 0),
        r.eval("redis.call('select', 3) redis.call('set', 'in3', '1') redis.call('select', 4) "
               "redis.call('hset', 'h4', 'f', 'v')", 0),
        r.eval("redis.set_repl(redis.REPL_AOF) redis.call('set', 'aof-only', '1') "
               "redis.set_repl(redis.REPL_REPLICA) redis.call('set', 'replica-only', '1') "
               "redis.set_repl(redis.REPL_NONE) redis.call('set', 'nowhere', '1') "
               "redis.set_repl(redis.REPL_ALL) redis.call('set', 'everywhere', '1')", 0),
        r.eval("redis.set_repl(redis.REPL_REPLICA) redis.call('set', 'replica-only2', '1') "
               "redis.set_repl(redis.REPL_ALL) redis.call('set', 'everywhere2', '1')", 0),
        r.eval("redis.call('set', 'e', '1', 'EX', 1000) redis.call('incrbyfloat', 'f', '2.5') "
               "redis.call('expire', 'a', 2000)", 0),
    ]
    r.set("x", "1", px=1)
    time.sleep(0.05)
    out.append(r.eval("redis.call('get', 'x') redis.call('set', 'y', '1')", 0))
    try:
        r.eval("redis.call('set', 'before-error', '1') redis.call('nosuch')", 0)
    except redis.ResponseError as e:
        out.append(str(e).split(" script:")[0])
    p = r.pipeline(transaction=True)
    p.set("m1", "1")
    p.eval("redis.call('set', 'm2', '1') redis.call('set', 'm3', '1')", 0)
    out.append(p.execute())
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    return out


def test_incr_file_same_as_real_and_replayed(tmp_path):
    caps, cmds, replies = {}, {}, {}
    for kind in ("real", "ours"):
        d = tmp_path / kind
        with server(kind, d, "--enable-debug-command", "yes") as srv:
            r = client(srv)
            replies[kind] = workload(r)
            caps[kind] = capture(r)
            r.close()
        cmds[kind] = incr_commands(d)
    assert replies["ours"] == replies["real"]
    assert cmds["ours"] == cmds["real"], "\n".join(map(repr, cmds["real"]))
    flat = [a[0].upper() for a in cmds["ours"]]
    assert b"EVAL" not in flat and b"EVALSHA" not in flat
    # what the AOF holds, and what it does not
    keys = {k for db in caps["ours"].values() for k in db}
    assert {"aof-only", "replica-only", "nowhere", "everywhere"} <= keys
    for kind in ("real", "ours"):  # restart: the AOF replays the effects
        with server(kind, tmp_path / kind, "--enable-debug-command", "yes") as srv:
            r = client(srv)
            after = capture(r)
            r.close()
        expected = {db: {k: v for k, v in ks.items() if k not in ("replica-only", "replica-only2", "nowhere")}
                    for db, ks in caps[kind].items()}
        assert after == expected, kind
    # and each loads the other's appendonlydir
    for kind, other in (("ours", "real"), ("real", "ours")):
        d = tmp_path / f"{kind}-loads-{other}"
        shutil.copytree(tmp_path / other / "appendonlydir", d / "appendonlydir")
        with server(kind, d) as srv:
            r = client(srv)
            after = capture(r)
            r.close()
        assert after == {db: {k: v for k, v in ks.items() if k not in ("replica-only", "replica-only2", "nowhere")}
                         for db, ks in caps[other].items()}


def test_aof_with_eval_commands_loads(tmp_path):
    """An AOF holding the scripts themselves (Redis 6 under script replication): loading runs
    them, with SELECT and EVALSHA after a SCRIPT LOAD; both servers end with the same data."""
    body = "redis.call('set', KEYS[1], ARGV[1]) return redis.call('incr', 'n')"
    sha = hashlib.sha1(body.encode()).hexdigest()
    stream = b"".join([
        encode_command("SELECT", "0"),
        encode_command("EVAL", body, "1", "a", "1"),
        encode_command("SCRIPT", "LOAD", body),
        encode_command("EVALSHA", sha, "1", "b", "2"),
        encode_command("SELECT", "2"),
        encode_command("EVAL", "redis.call('rpush', 'l', 'x', 'y') redis.call('select', 5) "
                               "redis.call('set', 'in5', '1')", "0"),
        encode_command("MULTI"),
        encode_command("EVAL", "redis.call('set', 'm', '1')", "0"),
        encode_command("SET", "m2", "1"),
        encode_command("EXEC"),
    ])
    caps = {}
    for kind in ("real", "ours"):
        d = tmp_path / kind
        adir = d / "appendonlydir"
        adir.mkdir(parents=True)
        (adir / "appendonly.aof.1.base.aof").write_bytes(b"")
        (adir / "appendonly.aof.1.incr.aof").write_bytes(stream)
        (adir / "appendonly.aof.manifest").write_text(
            "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
        )
        with server(kind, d) as srv:
            r = client(srv)
            caps[kind] = capture(r)
            assert r.execute_command("SCRIPT", "EXISTS", sha) == [1]
            r.close()
    assert caps["ours"] == caps["real"]
    assert caps["ours"]["0"]["n"]["value"] == "2"
    assert set(caps["ours"]) == {"0", "2", "5"}


@pytest.mark.parametrize("kind", ["real", "ours"])
def test_killed_and_read_only_scripts_leave_no_trace(tmp_path, kind):
    d = tmp_path / kind
    with server(kind, d, "--busy-reply-threshold", "50") as srv:
        r = client(srv)
        r.set("k", "v")
        r.eval("return redis.call('get', 'k')", 0)
        r.eval_ro("return redis.call('get', 'k')", 0)
        r.eval("#!lua flags=no-writes\nreturn redis.call('get', 'k')", 0)
        r.eval("redis.call('del', 'nosuch')", 0)
        with RawConn(srv.port, timeout=30) as a:
            a.send(encode_command("EVAL", "redis.call('get', 'k') while true do end", "0"))
            with wait_busy(srv.port) as b:
                assert b.call("SCRIPT", "KILL") == b"+OK\r\n"
            assert a.read_reply().startswith(b"-ERR Script killed by user with SCRIPT KILL...")
        r.close()
    assert incr_commands(d) == [[b"SELECT", b"0"], [b"SET", b"k", b"v"]]
