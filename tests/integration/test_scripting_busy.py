"""Busy scripts over real sockets: a script running past ``busy-reply-threshold`` does not stall
the server. Other connections (old and new) are read and answered ``-BUSY`` except for the
ALLOW_BUSY commands; SCRIPT KILL stops a script that has not written, UNKILLABLE once it has;
SHUTDOWN answers -BUSY unless NOSAVE, which exits at once; the caller's own pipelined requests
wait for the script; blocked clients and timers (WAIT, BLPOP timeouts, active expiry) resume
after it; a replica keeps its master's stream for after the script.

Every test runs against our server (``python -m twistd_redis``) and, with
``INTEGRATION_AGAINST=redis-server``, against redis-server 7.0.15: the expectations are the real
server's. Busy scripts are bounded: ``while true do end`` is always killed (the fixture kills
what a failed test left), scripts that write stop by themselves after a TIME-measured delay.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from pathlib import Path

import pytest
import redis

from tests.helpers_proc import RawConn, ServerProcess, encode_command, free_port
from tests.integration.repl_helpers import (
    FAST,
    info,
    start_master,
    start_replica_of,
    wait_converged,
    wait_link_up,
    wait_until,
)

AGAINST_REAL = os.environ.get("INTEGRATION_AGAINST") == "redis-server"

BUSY = b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
UNKILLABLE = (
    b"-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait "
    b"the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n"
)
NOTBUSY = b"-NOTBUSY No scripts in execution right now.\r\n"
FOREVER = "while true do end"


def spin(ms: int) -> str:
    """Lua that runs ``ms`` milliseconds of wall time (TIME advances inside scripts)."""
    return (
        "local s = redis.call('time') local n repeat n = redis.call('time') "
        "until (n[1] - s[1]) * 1000000 + (n[2] - s[2]) > %d\n" % (ms * 1000)
    )


def killed(script: str, line: int) -> bytes:
    sha = hashlib.sha1(script.encode()).hexdigest()
    return b"-ERR Script killed by user with SCRIPT KILL... script: %s, on @user_script:%d.\r\n" % (sha.encode(), line)


def eval_req(script: str, *args: str) -> bytes:
    return encode_command("EVAL", script, "0", *args)


def wait_busy(port: int, timeout: float = 20.0) -> RawConn:
    """A new connection, once the server answers it -BUSY (the script crossed the threshold)."""
    deadline = time.monotonic() + timeout
    c = RawConn(port, timeout=10)
    while True:
        r = c.call("PING")
        if r == BUSY:
            return c
        assert r == b"+PONG\r\n", r
        if time.monotonic() > deadline:
            raise AssertionError("the script never became busy")
        time.sleep(0.02)


@pytest.fixture
def srv(ours):
    """The session server with busy-reply-threshold 50 ms (restored, and any script left by a
    failed test killed, afterwards)."""
    with RawConn(ours.port) as c:
        assert c.call("CONFIG", "SET", "busy-reply-threshold", "50") == b"+OK\r\n"
        c.call("FLUSHALL")
    yield ours
    with RawConn(ours.port, timeout=10) as c:
        deadline = time.monotonic() + 10
        while c.call("SCRIPT", "KILL") != NOTBUSY and time.monotonic() < deadline:
            time.sleep(0.05)
        assert c.call("CONFIG", "SET", "busy-reply-threshold", "5000") == b"+OK\r\n"


def spawn(tmp_path: Path, *extra: str) -> ServerProcess:
    """A server of our own (ours, or redis-server under INTEGRATION_AGAINST) in its own folder."""
    d = tmp_path / f"srv-{free_port()}"
    d.mkdir()
    if AGAINST_REAL:
        return ServerProcess.real(None, "--busy-reply-threshold", "50", *extra, cwd=str(d))
    return ServerProcess.ours(None, "--dir", str(d), "--save", "", "--busy-reply-threshold", "50", *extra, cwd=str(d))


# ------------------------------------------------------------------------------ -BUSY and KILL


def test_busy_other_connections_and_script_kill(srv):
    with RawConn(srv.port, timeout=30) as a:
        a.send(eval_req(FOREVER))
        b = wait_busy(srv.port)
        with b:
            assert b.call("GET", "k") == BUSY
            assert b.call("SET", "k", "v") == BUSY
            assert b.call("EVAL", "return 1", "0") == BUSY
            assert b.call("CLIENT", "LIST") == BUSY
            assert b.call("INFO") == BUSY
            assert b.call("FUNCTION", "KILL") == BUSY  # not a function: the EVAL text
            with RawConn(srv.port) as c:  # connected during the busy period
                assert c.call("PING") == BUSY
                assert c.call("HELLO", "2").startswith(b"*14\r\n$6\r\nserver\r\n")
                assert c.call("SCRIPT", "KILL") == b"+OK\r\n"
                assert a.read_reply() == killed(FOREVER, 1)
                assert c.call("PING") == b"+PONG\r\n"
            assert b.call("SCRIPT", "KILL") == NOTBUSY
            assert b.call("PING") == b"+PONG\r\n"
        assert a.call("PING") == b"+PONG\r\n"


def test_many_connections_while_busy(srv):
    """The re-entrant reactor iterations serve a crowd: pipelines of -BUSY both ways."""
    with RawConn(srv.port, timeout=30) as a:
        a.send(eval_req(FOREVER))
        wait_busy(srv.port).close()
        conns = [RawConn(srv.port, timeout=20) for _ in range(20)]
        try:
            for c in conns:
                c.send(encode_command("PING") * 200)
            for c in conns:
                assert c.read_replies(200) == [BUSY] * 200
            big = encode_command("GET", "x" * 1000) * 3000  # about 3 MB of requests, 300 KB of errors
            conns[0].send(big)
            assert conns[0].read_replies(3000) == [BUSY] * 3000
            assert conns[1].call("SCRIPT", "KILL") == b"+OK\r\n"
            assert a.read_reply() == killed(FOREVER, 1)
            for c in conns:
                assert c.call("PING") == b"+PONG\r\n"
        finally:
            for c in conns:
                c.close()


def test_connections_closing_while_busy(srv):
    """Connections that come and go during the busy period (some with unread replies), and a
    caller that hangs up while its script runs: the server stays whole."""
    a = RawConn(srv.port, timeout=30)
    a.send(eval_req(FOREVER) + encode_command("SET", "after-caller", "1"))
    with wait_busy(srv.port) as b:
        for i in range(30):
            c = RawConn(srv.port)
            c.send(encode_command("PING") * (i % 3) + encode_command("GET", "x") * 50)
            if i % 2:
                c.sock.shutdown(socket.SHUT_WR)
            c.close()
        a.close()  # the caller goes away while its script runs
        time.sleep(0.2)
        assert b.call("PING") == BUSY
        assert b.call("SCRIPT", "KILL") == b"+OK\r\n"
        deadline = time.monotonic() + 10
        while b.call("PING") == BUSY:  # the kill takes effect at the script's next hook
            assert time.monotonic() < deadline
            time.sleep(0.02)
        while b"cmd=eval" in b.call("CLIENT", "LIST"):
            assert time.monotonic() < deadline, "the caller's connection was not reaped"
            time.sleep(0.05)
        # its SET, read with the EVAL, ran after the script all the same
        assert b.call("GET", "after-caller") == b"$1\r\n1\r\n"


def test_caller_pipeline_waits_for_its_script(srv):
    with RawConn(srv.port, timeout=30) as a:
        a.send(eval_req(FOREVER) + encode_command("SET", "x", "1") + encode_command("GET", "x"))
        with wait_busy(srv.port) as b:
            assert a.read_pending(0.3) == b""  # nothing for the caller while its script runs
            assert b.call("SCRIPT", "KILL") == b"+OK\r\n"
        assert a.read_replies(3) == [killed(FOREVER, 1), b"+OK\r\n", b"$1\r\n1\r\n"]
        # requests the caller sends while its script runs are read afterwards, in order
        a.send(eval_req(FOREVER))
        with wait_busy(srv.port) as b:
            a.send(encode_command("INCR", "x") + encode_command("INCR", "x"))
            time.sleep(0.2)
            assert b.call("GET", "x") == BUSY
            assert b.call("SCRIPT", "KILL") == b"+OK\r\n"
        assert a.read_replies(3) == [killed(FOREVER, 1), b":2\r\n", b":3\r\n"]


def test_kill_names_the_line_and_pcall_cannot_swallow_it(srv):
    scripts = [
        ("local x = 0\nwhile true do\n  pcall(function()\n    while true do x = x + 1 end\n  end)\n  x = 0\nend", 6),
        ("local x = 0\nlocal ok, e = pcall(function()\n    while true do x = x + 1 end\n  end)\n\n\nreturn 1", 7),
        ("while true do\n  redis.pcall('get', 'k')\nend", None),
    ]
    for script, line in scripts:
        with RawConn(srv.port, timeout=30) as a:
            a.send(eval_req(script))
            with wait_busy(srv.port) as b:
                assert b.call("SCRIPT", "KILL") == b"+OK\r\n"
            r = a.read_reply()
            if line is None:
                assert r.startswith(killed(script, 1)[:-14]), r
            else:
                assert r == killed(script, line)


def test_evalsha_and_eval_ro_are_killed_alike(srv):
    with RawConn(srv.port, timeout=30) as a:
        sha = a.call("SCRIPT", "LOAD", FOREVER).split(b"\r\n")[1]
        for req in (encode_command("EVALSHA", sha, "0"), encode_command("EVAL_RO", FOREVER, "0"),
                    encode_command("EVALSHA_RO", sha, "0")):
            a.send(req)
            with wait_busy(srv.port) as b:
                assert b.call("SCRIPT", "KILL") == b"+OK\r\n"
            assert a.read_reply() == killed(FOREVER, 1)


BUSY_FUNCTION = b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
LIBRARY = (
    "#!lua name=busylib\n"
    "redis.register_function('spin', function(keys, args)\n  while true do end\nend)\n"
    "redis.register_function{function_name='spinro', callback=function() while true do end end, flags={'no-writes'}}\n"
    "redis.register_function('spinw', function(keys, args)\n  redis.call('set', keys[1], 'v')\n"
    "  local s = redis.call('time') local n repeat n = redis.call('time')\n"
    "  until (n[1] - s[1]) * 1000000 + (n[2] - s[2]) > 600000\n  return redis.call('get', keys[1])\nend)\n"
)


def test_busy_function_and_function_kill(srv):
    """FCALL / FCALL_RO past the threshold: -BUSY with the FUNCTION KILL text, SCRIPT KILL
    refused, FUNCTION STATS shows it, FUNCTION KILL stops it; UNKILLABLE once it wrote."""
    with RawConn(srv.port, timeout=30) as a:
        assert a.call("FUNCTION", "LOAD", "REPLACE", LIBRARY) == b"$7\r\nbusylib\r\n"
        try:
            for cmd, name, line in (("FCALL", "spin", 3), ("FCALL_RO", "spinro", 5)):
                a.send(encode_command(cmd, name, "0"))
                deadline = time.monotonic() + 20
                with RawConn(srv.port) as b:
                    while b.call("PING") != BUSY_FUNCTION:
                        assert time.monotonic() < deadline
                        time.sleep(0.02)
                    assert b.call("SCRIPT", "KILL") == BUSY_FUNCTION
                    assert b.call("SHUTDOWN") == BUSY_FUNCTION
                    stats = b.call("FUNCTION", "STATS")
                    assert stats.startswith(
                        b"*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$%d\r\n%s\r\n$7\r\ncommand\r\n*3\r\n"
                        b"$%d\r\n%s\r\n$%d\r\n%s\r\n$1\r\n0\r\n$11\r\nduration_ms\r\n:"
                        % (len(name), name.encode(), len(cmd), cmd.encode(), len(name), name.encode())
                    ), stats
                    assert b.call("FUNCTION", "KILL") == b"+OK\r\n"
                    assert a.read_reply() == (
                        b"-ERR Script killed by user with SCRIPT KILL... script: %s, on @user_function:%d.\r\n"
                        % (name.encode(), line)
                    )
                    assert b.call("FUNCTION", "KILL") == NOTBUSY
            a.send(encode_command("FCALL", "spinw", "1", "fk"))
            with RawConn(srv.port) as b:
                deadline = time.monotonic() + 20
                while b.call("PING") != BUSY_FUNCTION:
                    assert time.monotonic() < deadline
                    time.sleep(0.02)
                assert b.call("FUNCTION", "KILL") == UNKILLABLE
                assert a.read_reply() == b"$1\r\nv\r\n"
        finally:
            a.call("FUNCTION", "DELETE", "busylib")


def test_unkillable_once_written(srv):
    script = "redis.call('set', 'k', 'v')\n" + spin(800) + "return redis.call('incr', 'n')"
    with RawConn(srv.port, timeout=30) as a:
        a.send(eval_req(script))
        with wait_busy(srv.port) as b:
            assert b.call("SCRIPT", "KILL") == UNKILLABLE
            assert b.call("GET", "k") == BUSY
            assert a.read_reply() == b":1\r\n"
            assert b.call("SCRIPT", "KILL") == NOTBUSY
            assert b.call("MGET", "k", "n") == b"*2\r\n$1\r\nv\r\n$1\r\n1\r\n"
        # any write command counts, even one that changed nothing or failed (SCRIPT_WRITE_DIRTY
        # is set before the call); a refused one (unknown, wrong arity) does not
        for first, killable in (("redis.call('del', 'nosuch')", False), ("redis.pcall('lpush', 'k', 'x')", False),
                                ("redis.pcall('set', 'k')", True), ("redis.pcall('nosuch')", True),
                                ("redis.call('get', 'k')", True)):
            a.send(eval_req(first + "\n" + spin(600) + "return 1"))
            with wait_busy(srv.port) as b:
                assert b.call("SCRIPT", "KILL") == (b"+OK\r\n" if killable else UNKILLABLE), first
                r = a.read_reply()
                assert r.startswith(b"-ERR Script killed") if killable else r == b":1\r\n"


def test_transactions_during_busy(srv):
    with RawConn(srv.port, timeout=30) as a, RawConn(srv.port) as m, RawConn(srv.port) as e:
        assert e.call("MULTI") == b"+OK\r\n"
        assert e.call("SET", "e", "1") == b"+QUEUED\r\n"
        a.send(eval_req(FOREVER))
        with wait_busy(srv.port) as b:
            assert m.call("WATCH", "w") == b"+OK\r\n"
            assert m.call("MULTI") == b"+OK\r\n"
            assert m.call("SET", "w", "1") == BUSY  # flags the transaction
            assert m.call("SCRIPT", "KILL") == b"+QUEUED\r\n"  # inside MULTI it is queued
            assert e.call("EXEC") == b"-EXECABORT Transaction discarded because of: " + BUSY[1:]
            assert b.call("SCRIPT", "KILL") == b"+OK\r\n"
        assert a.read_reply() == killed(FOREVER, 1)
        assert m.call("EXEC") == b"-EXECABORT Transaction discarded because of previous errors.\r\n"
        assert e.call("EXEC") == b"-ERR EXEC without MULTI\r\n"
        assert m.call("MGET", "w", "e") == b"*2\r\n$-1\r\n$-1\r\n"
        # DISCARD / RESET are allowed while busy
        assert e.call("MULTI") == b"+OK\r\n"
        a.send(eval_req(FOREVER))
        with wait_busy(srv.port) as b:
            assert e.call("DISCARD") == b"+OK\r\n"
            assert e.call("RESET") == b"+RESET\r\n"
            assert b.call("SCRIPT", "KILL") == b"+OK\r\n"
        assert a.read_reply() == killed(FOREVER, 1)


def test_redis_py_during_busy(srv):
    """redis-py: a connection made during the busy period raises for BUSY, then works."""
    with RawConn(srv.port, timeout=30) as a:
        a.send(eval_req(FOREVER))
        with wait_busy(srv.port) as b:
            for protocol in (2, 3):
                r = redis.Redis(port=srv.port, protocol=protocol, socket_timeout=10)
                with pytest.raises(redis.exceptions.ResponseError) as ei:
                    r.get("k")
                assert str(ei.value).startswith("BUSY Redis is busy running a script")
                r.close()
            r = redis.Redis(port=srv.port, protocol=3, socket_timeout=10)
            with pytest.raises(redis.exceptions.ResponseError):
                r.ping()
            assert b.call("SCRIPT", "KILL") == b"+OK\r\n"
        assert a.read_reply() == killed(FOREVER, 1)
        assert r.ping() is True
        r.close()


# ------------------------------------------------------------------------ blocked clients, timers


def test_blocked_clients_and_timeouts_after_the_script(srv):
    """BLPOP timeouts do not fire during the script: the waiter of the list the script pushes to
    is served once, after it; the other waiter times out after it; WAIT answers after it."""
    script = spin(100) + "redis.call('rpush', 'q', 'a', 'b')\n" + spin(700) + "return 1"
    with RawConn(srv.port, timeout=30) as a, RawConn(srv.port, timeout=30) as w1, \
            RawConn(srv.port, timeout=30) as w2, RawConn(srv.port, timeout=30) as w3:
        w1.send(encode_command("BLPOP", "q", "0.3"))
        w2.send(encode_command("BLPOP", "empty", "0.3"))
        w3.send(encode_command("WAIT", "1", "300"))
        time.sleep(0.1)
        t0 = time.monotonic()
        a.send(eval_req(script))
        with wait_busy(srv.port) as b:
            assert a.read_reply() == b":1\r\n"
            t_end = time.monotonic()
            assert w1.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\na\r\n"
            assert w2.read_reply() == b"*-1\r\n"
            assert w3.read_reply() == b":0\r\n"
            t_replies = time.monotonic()
            assert t_end - t0 > 0.7
            assert t_replies - t0 > 0.7  # not at their 0.3 s timeouts
            assert b.call("LRANGE", "q", "0", "-1") == b"*1\r\n$1\r\nb\r\n"
        assert w1.read_pending(0.2) == b""  # served once


def test_blocked_client_sees_pushes_of_script_and_others(srv):
    """A client blocked before the script, on a key that only the script pushes to, is served by
    the script's last push state (LPUSH then LPOP in the script leaves nothing: still blocked)."""
    with RawConn(srv.port, timeout=30) as a, RawConn(srv.port, timeout=30) as w:
        w.send(encode_command("BLPOP", "q", "0"))
        time.sleep(0.1)
        script = "redis.call('lpush', 'q', 'x') redis.call('lpop', 'q')\n" + spin(300) + "return 1"
        a.send(eval_req(script))
        with wait_busy(srv.port) as b:
            assert a.read_reply() == b":1\r\n"
            assert w.read_pending(0.3) == b""
            assert b.call("RPUSH", "q", "y") == b":1\r\n"
            assert w.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\ny\r\n"


def test_time_frozen_in_script_then_active_expiry_resumes(srv):
    """A key that expires while the script runs still exists for the script (its time is its
    start's); no cron runs during it; afterwards active expiry removes the key untouched."""
    with RawConn(srv.port, timeout=30) as a, RawConn(srv.port) as b:
        b.call("CONFIG", "SET", "hz", "100")
        try:
            expired = int(info(redis.Redis(port=srv.port), "stats")["expired_keys"])
            b.call("SET", "gone", "1", "PX", "100")
            a.send(eval_req(spin(400) + "return {redis.call('exists', 'gone'), redis.call('get', 'gone')}"))
            assert a.read_reply() == b"*2\r\n:1\r\n$1\r\n1\r\n"
            wait_until(lambda: b.call("DBSIZE") == b":0\r\n", 10, "active expiry did not resume")
            assert int(info(redis.Redis(port=srv.port), "stats")["expired_keys"]) == expired + 1
        finally:
            b.call("CONFIG", "SET", "hz", "10")


# --------------------------------------------------------------------------------------- SHUTDOWN


def test_shutdown_during_busy(tmp_path):
    """SHUTDOWN [SAVE|NOW|FORCE] answers -BUSY; NOSAVE exits at once: the caller gets no reply,
    and the script's write reaches neither the AOF nor an RDB."""
    with spawn(tmp_path, "--appendonly", "yes") as s:
        a = RawConn(s.port, timeout=30)
        assert a.call("SET", "before", "1") == b"+OK\r\n"
        a.send(eval_req("redis.call('set', 'during', '1')\n" + FOREVER))
        with wait_busy(s.port) as b:
            assert b.call("SHUTDOWN", "ABORT") == b"-ERR No shutdown in progress.\r\n"
            assert b.call("SHUTDOWN", "FOO") == b"-ERR syntax error\r\n"
            assert b.call("SHUTDOWN", "SAVE", "NOSAVE") == b"-ERR syntax error\r\n"
            for args in (["SHUTDOWN"], ["SHUTDOWN", "SAVE"], ["SHUTDOWN", "NOW"], ["SHUTDOWN", "FORCE"]):
                assert b.call(*args) == BUSY, args
            assert b.call("SCRIPT", "KILL") == UNKILLABLE
            b.send(encode_command("SHUTDOWN", "NOSAVE"))
            assert b.read_until_close(10) == (b"", True)
        assert a.read_until_close(10) == (b"", True)
        s.proc.wait(15)
        assert s.proc.returncode == 0, s.output()
        a.close()
        s.start()
        with RawConn(s.port) as c:
            assert c.call("MGET", "before", "during") == b"*2\r\n$1\r\n1\r\n$-1\r\n"


def test_aof_replies_while_busy(tmp_path):
    """With appendonly on, the caller's write before its script leaves the AOF buffer full during
    the turn: replies to others (deferred behind the AOF write) still go out while busy."""
    with spawn(tmp_path, "--appendonly", "yes", "--appendfsync", "always") as s:
        with RawConn(s.port, timeout=30) as a:
            a.send(encode_command("SET", "w", "1") + eval_req(FOREVER))
            with wait_busy(s.port) as b:
                t = time.monotonic()
                assert b.call("GET", "w") == BUSY
                assert time.monotonic() - t < 2
                # the caller is protected: even the reply of its SET waits for the script
                assert a.read_pending(0.3) == b""
                assert b.call("SCRIPT", "KILL") == b"+OK\r\n"
            assert a.read_replies(2) == [b"+OK\r\n", killed(FOREVER, 1)]
            assert a.call("GET", "w") == b"$1\r\n1\r\n"


# ------------------------------------------------------------------------------------ replication


def test_wait_satisfied_by_an_ack_read_while_busy(tmp_path):
    """A replica's REPLCONF ACK read during the busy period does not answer WAIT before the
    script ends (processClientsWaitingReplicas runs in beforeSleep); it does right after."""
    with spawn(tmp_path, "--repl-diskless-sync-delay", "0") as s:
        rep = RawConn(s.port, timeout=10)  # a hand-made replica: we decide when it ACKs
        assert rep.call("REPLCONF", "listening-port", "1234") == b"+OK\r\n"
        assert rep.call("REPLCONF", "capa", "eof", "capa", "psync2") == b"+OK\r\n"
        rep.send(encode_command("PSYNC", "?", "-1"))
        payload = b""
        deadline = time.monotonic() + 10
        while b"$EOF:" not in payload or payload.count(payload[payload.index(b"$EOF:") + 5:][:40]) < 2:
            payload += rep.read_pending(0.2)
            assert time.monotonic() < deadline, payload[:200]
        rep.send(encode_command("REPLCONF", "ACK", "0"))
        with RawConn(s.port, timeout=30) as a, RawConn(s.port, timeout=30) as w:
            wait_until(lambda: b"state=online" in RawConn(s.port).call("INFO", "replication"), 10, "replica online")
            w.send(encode_command("SET", "x", "1") + encode_command("WAIT", "1", "0") + encode_command("GET", "x"))
            assert w.read_reply() == b"+OK\r\n"
            a.send(eval_req(FOREVER))
            with wait_busy(s.port) as b:
                rep.send(encode_command("REPLCONF", "ACK", "100000000"))
                time.sleep(0.3)
                assert b.call("PING") == BUSY  # the ACK was read in the meantime
                assert w.read_pending(0.3) == b""
                assert b.call("SCRIPT", "KILL") == b"+OK\r\n"
            assert a.read_reply() == killed(FOREVER, 1)
            # the pipelined GET ran after the script, not refused -BUSY
            assert w.read_replies(2) == [b":1\r\n", b"$1\r\n1\r\n"]
        rep.close()


@pytest.mark.parametrize("master_kind,replica_kind", [("real", "ours"), ("ours", "ours"), ("real", "real")],
                         ids=["real-ours", "ours-ours", "real-real"])
def test_replica_holds_the_stream_while_busy(tmp_path, master_kind, replica_kind):
    """A busy read-only script on a replica: the master's writes meanwhile are applied after it
    (not refused -BUSY), the replica converges, and its log has no error sent to the master."""
    if AGAINST_REAL and replica_kind == "ours":
        pytest.skip("spec run: real servers only")
    master = start_master(master_kind, tmp_path)
    replica = start_replica_of(replica_kind, master.port, tmp_path, "--busy-reply-threshold", "50")
    try:
        m = redis.Redis(port=master.port, socket_timeout=10)
        rc = redis.Redis(port=replica.port, socket_timeout=10)
        wait_link_up(rc)
        m.set("before", "1")
        wait_until(lambda: rc.get("before") == b"1", 10, "first write not replicated")
        with RawConn(replica.port, timeout=30) as a:
            a.send(eval_req(FOREVER))
            with wait_busy(replica.port) as b:
                for i in range(50):
                    m.set(f"k{i}", i)
                m.rpush("l", *range(100))
                m.execute_command("MULTI")
                m.incr("n")
                m.execute_command("EXEC")
                time.sleep(0.5)  # the stream reached the replica while busy
                assert b.call("GET", "k1") == BUSY
                assert b.call("SCRIPT", "KILL") == b"+OK\r\n"
            assert a.read_reply() == killed(FOREVER, 1)
        wait_converged(m, rc)
        assert rc.get("n") == b"1" and rc.llen("l") == 100
        log = replica.output()
        assert "sending an error to its master" not in log, log[-2000:]
        m.close()
        rc.close()
    finally:
        replica.stop()
        master.stop()
