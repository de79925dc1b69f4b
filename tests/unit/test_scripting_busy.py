"""Busy scripts in memory: a script running past busy-reply-threshold, other connections served
from the count hook (ServerState.process_events_while_blocked), SCRIPT KILL, -BUSY and its
exceptions, SHUTDOWN NOSAVE, timers and blocked clients after the script.

The engine's count hook calls ``state.process_events_while_blocked()`` every 100000 Lua
instructions. Here the test replaces the reactor iteration by ``state.events_while_blocked``
(each call runs the next step: bytes fed to another fake connection) and makes time pass only
while a script runs (``ticking``), so the threshold is crossed after a few hook calls and timers
fall due but run only when the test advances the clock afterwards. The exact texts were read
from redis-server 7.0.15 (tests/integration/test_scripting_busy.py runs the same cases over
real sockets against both servers).
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from tests.unit.harness import FakeConnection, FakeServer, ReplyError, encode_request
from twistd_redis.scripting.engine import sha1hex

BUSY = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
UNKILLABLE = (
    "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait "
    "the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
)
NOTBUSY = "NOTBUSY No scripts in execution right now."
FOREVER = "while true do end"
# one FORLOOP instruction per turn: about 30 hook calls, then the script ends by itself
BOUNDED = "for i = 1, 3000000 do end"


def killed(script: str, line: int) -> str:
    return "ERR Script killed by user with SCRIPT KILL... script: %s, on @user_script:%d." % (
        sha1hex(script.encode()).decode(),
        line,
    )


class Steps:
    """state.events_while_blocked: each call of the hook runs the next step (then nothing);
    ``clock``: move a task.Clock on by ``tick`` seconds per call (no timer runs)."""

    def __init__(self, *steps: Callable[[], Any], clock: Any = None, tick: float = 0.1) -> None:
        self.steps = list(steps)
        self.calls = 0
        self.clock = clock
        self.tick = tick

    def __call__(self) -> None:
        self.calls += 1
        if self.clock is not None:
            self.clock.rightNow += self.tick
        if self.steps:
            self.steps.pop(0)()


def feed(conn: FakeConnection, *args: Any) -> Callable[[], None]:
    """A step: a request arriving on ``conn`` while the script runs (read by the reactor)."""
    return lambda: conn.proto.dataReceived(encode_request(*args))


def ticking(server: FakeServer, step: float = 0.05) -> None:
    """Time passes (``step`` seconds per clock read) only while a script runs."""
    clock = server.clock
    state = server.state

    def seconds() -> float:
        if state.script_run is not None:
            clock.rightNow += step
        return clock.rightNow

    clock.seconds = seconds  # type: ignore[method-assign]


@pytest.fixture
def server():
    srv = FakeServer({"busy-reply-threshold": 100})
    ticking(srv)
    yield srv
    srv.stop()


def run(server: FakeServer, steps: Steps, caller: FakeConnection, *args: Any, turn: bool = True) -> list[Any]:
    """Send a request whose script meets ``steps``; its replies. ``turn=False``: the reactor
    turn has not ended yet (timers due meanwhile have not run)."""
    server.state.events_while_blocked = steps
    try:
        if turn:
            caller.send(*args)
        else:
            caller.proto.dataReceived(encode_request(*args))
    finally:
        server.state.events_while_blocked = None
    return caller.replies()


def err(x: Any) -> str:
    assert isinstance(x, ReplyError), x
    return str(x)


def test_others_get_busy_until_script_kill(server):
    caller, other, late = server.connect(), server.connect(), None
    late_box = []

    def connect_late():
        late_box.append(server.connect())  # a connection accepted while busy
        late_box[0].proto.dataReceived(encode_request("PING"))

    steps = Steps(
        feed(other, "PING"),
        feed(other, "GET", "k"),
        connect_late,
        feed(other, "SCRIPT", "KILL"),
    )
    replies = run(server, steps, caller, "EVAL", FOREVER, 0)
    assert [err(r) for r in replies] == [killed(FOREVER, 1)]
    late = late_box[0]
    assert [err(r) for r in other.replies()[:2]] == [BUSY, BUSY]
    assert err(late.replies()[0]) == BUSY
    assert other.call("PING") == b"PONG"
    assert late.call("PING") == b"PONG"
    assert caller.call("PING") == b"PONG"
    assert server.state.busy_error is None and server.state.script_run is None
    assert steps.calls >= 4


def test_script_kill_reply_and_notbusy(server):
    caller, other = server.connect(), server.connect()
    replies = run(server, Steps(feed(other, "SCRIPT", "KILL")), caller, "EVAL", FOREVER, 0)
    assert other.replies() == [b"OK"]
    assert err(replies[0]).startswith("ERR Script killed")
    assert err(other.call("SCRIPT", "KILL")) == NOTBUSY


def test_below_threshold_no_events(server):
    """Before busy-reply-threshold the hook only checks the time: nobody else is served."""
    server.state.config.set("busy-reply-threshold", "100000")
    caller = server.connect()
    steps = Steps()
    assert run(server, steps, caller, "EVAL", BOUNDED + " return 1", 0) == [1]
    assert steps.calls == 0


def test_threshold_zero_disables_the_hook(server):
    server.state.config.set("lua-time-limit", "0")  # the alias
    assert server.connect().call("CONFIG", "GET", "busy-reply-threshold") == [b"busy-reply-threshold", b"0"]
    caller = server.connect()
    steps = Steps()
    assert run(server, steps, caller, "EVAL", BOUNDED + " return 2", 0) == [2]
    assert steps.calls == 0


def test_unkillable_after_a_write(server):
    caller, other = server.connect(), server.connect()
    script = "redis.call('set', 'k', 'v') " + BOUNDED + " return redis.call('get', 'k')"
    steps = Steps(feed(other, "SCRIPT", "KILL"), feed(other, "GET", "k"))
    assert run(server, steps, caller, "EVAL", script, 0) == [b"v"]
    assert [err(r) for r in other.replies()] == [UNKILLABLE, BUSY]
    assert other.call("GET", "k") == b"v"


def test_pcall_cannot_swallow_the_kill(server):
    caller, other = server.connect(), server.connect()
    script = "local x = 0\nlocal ok, e = pcall(function()\n    while true do x = x + 1 end\n  end)\n\n\nreturn 1"
    replies = run(server, Steps(feed(other, "SCRIPT", "KILL")), caller, "EVAL", script, 0)
    assert [err(r) for r in replies] == [killed(script, 7)]
    script = "local x = 0\nwhile true do\n  pcall(function()\n    while true do x = x + 1 end\n  end)\n  x = 0\nend"
    replies = run(server, Steps(feed(other, "SCRIPT", "KILL")), caller, "EVAL", script, 0)
    assert [err(r) for r in replies] == [killed(script, 6)]
    # redis.pcall does not catch it either, nor does Lua's error handling in a loop
    script = "while true do\n  local ok = pcall(error, 'x')\n  redis.pcall('ping')\nend"
    replies = run(server, Steps(feed(other, "SCRIPT", "KILL")), caller, "EVAL", script, 0)
    assert err(replies[0]).startswith("ERR Script killed by user with SCRIPT KILL... script: ")
    assert caller.call("EVAL", "return pcall(error, 'y')", 0) is None  # the hook is gone: plain pcall again


def test_evalsha_kill_names_the_sha(server):
    caller, other = server.connect(), server.connect()
    sha = caller.call("SCRIPT", "LOAD", FOREVER)
    replies = run(server, Steps(feed(other, "SCRIPT", "KILL")), caller, "EVALSHA", sha, 0)
    assert [err(r) for r in replies] == [killed(FOREVER, 1)]


def test_allow_busy_commands(server):
    """MULTI, WATCH, UNWATCH, DISCARD, HELLO, AUTH-less PING... only the ALLOW_BUSY ones run."""
    caller, other, third = server.connect(), server.connect(), server.connect()
    steps = Steps(
        feed(other, "MULTI"),
        feed(other, "SET", "a", "1"),  # -BUSY, and the transaction is doomed (flagTransaction)
        feed(other, "INCR", "b"),
        feed(third, "WATCH", "a"),
        feed(third, "UNWATCH"),
        feed(third, "HELLO", "3"),
        feed(third, "CLIENT", "ID"),
        feed(third, "FUNCTION", "KILL"),
        feed(third, "SCRIPT", "KILL"),
    )
    run(server, steps, caller, "EVAL", FOREVER, 0)
    r = other.replies()
    assert r[0] == b"OK" and err(r[1]) == BUSY and err(r[2]) == BUSY
    assert err(other.call("EXEC")) == "EXECABORT Transaction discarded because of previous errors."
    assert other.call("GET", "a") is None
    r = third.replies()
    assert r[0] == b"OK" and r[1] == b"OK" and isinstance(r[2], dict | list)
    assert err(r[3]) == BUSY
    assert err(r[4]) == BUSY  # FUNCTION KILL on an EVAL: the eval -BUSY text
    assert r[5] == b"OK"


def test_exec_during_busy_is_aborted(server):
    caller, other = server.connect(), server.connect()
    other.call("MULTI")
    other.call("SET", "a", "1")
    steps = Steps(feed(other, "EXEC"), feed(other, "SCRIPT", "KILL"))
    run(server, steps, caller, "EVAL", FOREVER, 0)
    r = other.replies()
    assert err(r[0]) == "EXECABORT Transaction discarded because of: " + BUSY
    assert r[1] == b"OK"
    assert err(other.call("EXEC")) == "ERR EXEC without MULTI"
    assert other.call("GET", "a") is None


def test_busy_error_counts(server):
    caller, other = server.connect(), server.connect()
    run(server, Steps(feed(other, "PING"), feed(other, "SCRIPT", "KILL")), caller, "EVAL", FOREVER, 0)
    other.replies()
    stats = other.call("INFO", "errorstats").decode()
    assert "errorstat_BUSY:count=1" in stats
    cmdstats = other.call("INFO", "commandstats").decode()
    assert "cmdstat_ping:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0" in cmdstats
    assert "cmdstat_script|kill:calls=1," in cmdstats


def test_killed_script_error_counts(server):
    """7.0.15: errorstat_ERR:count=1 and cmdstat_eval failed_calls=1 after a killed script."""
    caller, other = server.connect(), server.connect()
    run(server, Steps(feed(other, "SCRIPT", "KILL")), caller, "EVAL", FOREVER, 0)
    assert "errorstat_ERR:count=1" in other.call("INFO", "errorstats").decode()
    assert ",rejected_calls=0,failed_calls=1" in other.call("INFO", "commandstats").decode().split("cmdstat_eval:")[1]


def test_shutdown_during_busy(server):
    caller, other = server.connect(), server.connect()
    stopped = []
    server.state.shutdown_callback = lambda: stopped.append(1)
    steps = Steps(
        feed(other, "SHUTDOWN"),
        feed(other, "SHUTDOWN", "SAVE"),
        feed(other, "SHUTDOWN", "NOW"),
        feed(other, "SHUTDOWN", "ABORT"),
        feed(other, "SHUTDOWN", "NOSAVE"),
    )
    script = "redis.call('set', 'k', 'v') " + FOREVER
    propagated = []
    server.state.propagation_targets.append(lambda db, argv: propagated.append(argv))
    assert run(server, steps, caller, "EVAL", script, 0) == []  # no reply: Redis exits
    assert caller.closed
    r = other.replies()
    assert [err(x) for x in r] == [BUSY, BUSY, BUSY, "ERR No shutdown in progress."]
    assert other.closed
    server.advance(0)
    assert stopped == [1]
    assert propagated == []  # the script's SET reached neither the AOF nor the replicas


def test_caller_input_waits(server):
    """The caller's own later requests run after its script, in order."""
    caller, other = server.connect(), server.connect()
    server.state.events_while_blocked = Steps(feed(other, "SCRIPT", "KILL"))
    out = caller.raw(encode_request("EVAL", FOREVER, 0) + encode_request("SET", "x", "1") + encode_request("GET", "x"))
    server.state.events_while_blocked = None
    assert out == b"-" + killed(FOREVER, 1).encode() + b"\r\n+OK\r\n$1\r\n1\r\n"


def test_timers_resume_after_the_script(server):
    """BLPOP's timeout and the cron are timers: none runs while the script is busy; after it,
    the BLPOP served by the script's push gets the element once, another times out."""
    caller, blocked, blocked2, other = server.connect(), server.connect(), server.connect(), server.connect()
    blocked.send("BLPOP", "q", 1)
    blocked2.send("BLPOP", "empty", 1)
    assert blocked.replies() == [] and blocked2.replies() == []
    cron = server.state.cronloops
    script = BOUNDED + " redis.call('rpush', 'q', 'a', 'b') " + BOUNDED + " return 1"
    steps = Steps(feed(other, "PING"), clock=server.clock)
    assert run(server, steps, caller, "EVAL", script, 0, turn=False) == [1]
    assert err(other.replies()[0]) == BUSY
    assert steps.calls > 15  # 1.5 s and more
    # the script took far longer than the timeouts, yet the pushed element went to the waiter
    assert blocked.replies() == [[b"q", b"a"]]
    assert server.state.cronloops == cron
    assert blocked2.replies() == []
    server.advance(0)
    assert blocked2.replies() == [None]
    assert server.state.cronloops > cron
    assert caller.call("LRANGE", "q", 0, -1) == [b"b"]
    assert blocked.replies() == []


def test_wait_timeout_after_the_script(server):
    caller, waiter = server.connect(), server.connect()
    waiter.send("WAIT", 1, 100)
    assert run(server, Steps(clock=server.clock), caller, "EVAL", BOUNDED + " return 3", 0, turn=False) == [3]
    assert waiter.replies() == []
    server.advance(0)
    assert waiter.replies() == [0]


def test_killed_read_only_script_propagates_nothing(server):
    caller, other = server.connect(), server.connect()
    propagated = []
    server.state.propagation_targets.append(lambda db, argv: propagated.append(argv))
    caller.call("SET", "k", "v")
    propagated.clear()
    script = "redis.call('get', 'k') " + FOREVER
    run(server, Steps(feed(other, "SCRIPT", "KILL")), caller, "EVAL", script, 0)
    assert propagated == []


def test_busy_state_resets_for_the_next_script(server):
    caller, other = server.connect(), server.connect()
    run(server, Steps(feed(other, "SCRIPT", "KILL")), caller, "EVAL", FOREVER, 0)
    # the next script is not born killed, and starts its own threshold
    steps = Steps()
    server.state.config.set("busy-reply-threshold", "100000")
    assert run(server, steps, caller, "EVAL", BOUNDED + " return 'ok'", 0) == [b"ok"]
    assert steps.calls == 0
    assert other.call("PING") == b"PONG"


def test_client_kill_and_client_list_refused_while_busy(server):
    caller, other = server.connect(), server.connect()
    steps = Steps(
        feed(other, "CLIENT", "KILL", "ID", str(caller.client.id)),
        feed(other, "QUIT"),
    )
    run(server, Steps(*steps.steps, feed(server.connect(), "SCRIPT", "KILL")), caller, "EVAL", FOREVER, 0)
    r = other.replies()
    assert err(r[0]) == BUSY and r[1] == b"OK"
    assert other.closed
    assert not caller.closed
