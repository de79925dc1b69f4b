"""Send the same input to a real redis-server and to twistd-redis and compare the reply bytes.

A script is a list of steps:

* a tuple of arguments: a command; its reply bytes must be identical;
* ``Sleep(seconds)``: wait (for expiry);
* ``Approx(args, tol)``: integer replies within ``tol`` (TTL/PTTL where timing can differ);
* ``Unordered(args)``: array replies compared as sorted elements (KEYS; hash order differs);
* ``Pairs(args)``: map/flat-map replies compared as a set of pairs (CONFIG GET with a glob);
* ``Skip(args)``: sent to both, reply not compared (state setup whose reply must differ).
* ``Frames(args, n)``: a command answered by ``n`` frames (SUBSCRIBE a b: one per channel);
* ``Drain(wait)``: everything that arrives within ``wait`` seconds of quiet (pub/sub messages,
  pushes), compared byte for byte - also proves that nothing extra arrived;
* ``On(name, step)``: run ``step`` on a second connection ``name`` (opened on first use, after
  HELLO 3 in the RESP3 run): a subscriber beside a publisher, a WATCH beside a writer.
* ``Timed(args, tol, rows)``: a reply that shows clock-dependent milliseconds - a stream
  consumer's ``seen-time`` / ``idle`` fields, or with ``rows=True`` the idle time of each
  XPENDING extended row - byte-identical once those numbers are masked, each within ``tol`` ms.

HELLO replies are compared with the client ``id`` masked: ids count connections per server.
Every mismatch in a script is collected and reported together, with the command that caused it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Iterable

from tests.helpers_proc import RawConn, encode_command, reply_end


@dataclass
class Sleep:
    seconds: float


@dataclass
class Approx:
    args: tuple
    tol: int = 100


@dataclass
class Unordered:
    args: tuple


@dataclass
class Pairs:
    args: tuple


@dataclass
class Skip:
    args: tuple


@dataclass
class Frames:
    args: tuple
    n: int


@dataclass
class Drain:
    wait: float = 0.15


@dataclass
class On:
    conn: str
    step: Any


@dataclass
class Timed:
    args: tuple
    tol: int = 3000
    rows: bool = False


# the number after a "seen-time" / "idle" map key (RESP2 and RESP3 alike), and the idle field of
# an XPENDING extended row: [id, consumer, idle, deliveries]
_TIMED_FIELD = re.compile(rb"(\$9\r\nseen-time\r\n:|\$4\r\nidle\r\n:)(\d+)\r\n")
_TIMED_ROW = re.compile(rb"(\*4\r\n\$\d+\r\n\d+-\d+\r\n\$\d+\r\n[^\r\n]*\r\n:)(\d+)\r\n")


def mask_times(reply: bytes, rows: bool = False) -> tuple[bytes, list[int]]:
    """``reply`` with its clock-dependent numbers replaced by ``<t>``, and those numbers."""
    pattern = _TIMED_ROW if rows else _TIMED_FIELD
    return pattern.sub(rb"\1<t>\r\n", reply), [int(m.group(2)) for m in pattern.finditer(reply)]


def step_args(step: Any) -> tuple | None:
    """The command a step sends (None for Sleep and Drain)."""
    if isinstance(step, On):
        return step_args(step.step)
    if isinstance(step, (Sleep, Drain)):
        return None
    return step if isinstance(step, tuple) else step.args


_HELLO_ID = re.compile(rb"(\$2\r\nid\r\n):\d+\r\n")


def mask_ids(reply: bytes) -> bytes:
    return _HELLO_ID.sub(rb"\1:<id>\r\n", reply)


def elements(reply: bytes) -> list[bytes]:
    """The top-level elements of an aggregate reply, as raw bytes (a map gives keys and values)."""
    head = reply.index(b"\r\n")
    n = int(reply[1:head])
    if reply[:1] in (b"%", b"|"):
        n *= 2
    out, pos = [], head + 2
    for _ in range(max(n, 0)):
        end = reply_end(reply, pos)
        assert end is not None
        out.append(reply[pos:end])
        pos = end
    return out


def _int(reply: bytes) -> int | None:
    return int(reply[1:-2]) if reply[:1] == b":" else None


def show(args: Iterable[Any]) -> str:
    return " ".join(a.decode("latin-1") if isinstance(a, bytes) else str(a) for a in args)[:200]


# Commands whose first argument names a subcommand (COMMAND INFO takes "client|pause").
CONTAINERS = {"client", "config", "object", "command", "debug", "slowlog", "latency", "memory", "pubsub",
              "script", "function", "xinfo", "xgroup", "acl", "cluster", "module"}


def _text(a: Any) -> str:
    return a.decode("latin-1") if isinstance(a, bytes) else str(a)


class Differ:
    def __init__(self, real_port: int, our_port: int) -> None:
        self.real_port = real_port
        self.our_port = our_port
        self._implemented: dict[str, bool] = {}

    # ------------------------------------------------------------------ scope

    def _has(self, port: int, name: str) -> bool:
        with RawConn(port) as c:
            reply = c.call("COMMAND", "INFO", name)
        return not reply.startswith((b"*1\r\n*-1", b"*1\r\n$-1", b"*1\r\n_"))

    def implemented(self, args: tuple) -> bool:
        """False only for a command (or subcommand) real Redis has and ours does not have yet;
        commands unknown to both are compared like any other step (their errors must match)."""
        name = _text(args[0]).lower()
        if name in CONTAINERS and len(args) > 1:
            name = f"{name}|{_text(args[1]).lower()}"
        if name not in self._implemented:
            self._implemented[name] = self._has(self.our_port, name) or not self._has(self.real_port, name)
        return self._implemented[name]

    def in_scope(self, script: list) -> tuple[list, list[str]]:
        """The steps of ``script`` our server can run today, and the commands it lacks.

        A step is left out when its command is not implemented yet, or when it touches a key
        that such a step created (``RPUSH l x`` then ``GET l``: the WRONGTYPE it would show
        needs lists). Both servers run the same remaining steps."""
        kept: list = []
        missing: list[str] = []
        tainted: set[str] = set()
        for step in script:
            args = step_args(step)
            if args is None:
                kept.append(step)
                continue
            words = {_text(a) for a in args[1:]}
            if not self.implemented(args):
                name = _text(args[0]).upper()
                if name not in missing:
                    missing.append(name)
                if len(args) > 1:
                    tainted.add(_text(args[1]))
                continue
            if words & tainted:
                continue
            kept.append(step)
        return kept, missing

    # ------------------------------------------------------------------ connections

    def pair(self, resp: int = 2) -> tuple[RawConn, RawConn]:
        """Fresh connections to (real, ours); after HELLO 3 when ``resp == 3``."""
        real, ours = RawConn(self.real_port), RawConn(self.our_port)
        if resp == 3:
            a, b = real.call("HELLO", "3"), ours.call("HELLO", "3")
            assert mask_ids(a) == mask_ids(b), f"HELLO 3 differs:\n real: {a!r}\n ours: {b!r}"
        return real, ours

    def flushall(self) -> None:
        for port in (self.real_port, self.our_port):
            with RawConn(port) as c:
                c.call("SELECT", "0")
                reply = c.call("FLUSHALL")
                assert reply == b"+OK\r\n", f"FLUSHALL on port {port} answered {reply!r}"

    # ------------------------------------------------------------------ scripts

    def check(self, script: list, resp: tuple[int, ...] = (2, 3)) -> None:
        """Run ``script`` on fresh, flushed servers, once per protocol version; assert no mismatch.

        Steps that need commands our server does not have yet are left out (see in_scope); the
        rest is compared, and then the test is reported as skipped, naming what it could not run,
        so a partial check never passes silently."""
        full = script
        script, missing = self.in_scope(full)
        problems: list[str] = []
        for version in resp:
            self.flushall()
            conns = {"main": self.pair(version)}
            try:
                problems += [f"[RESP{version}] {p}" for p in self._run(script, conns, version)]
            finally:
                for real, ours in conns.values():
                    real.close()
                    ours.close()
        if problems:
            raise AssertionError(f"{len(problems)} mismatch(es) against redis-server:\n" + "\n".join(problems))
        if missing:
            import pytest

            pytest.skip(
                f"compared {len(script)} of {len(full)} steps; the rest need {', '.join(missing)}, "
                "not implemented yet"
            )

    def _run(self, script: list, conns: dict[str, tuple[RawConn, RawConn]], version: int = 2) -> list[str]:
        problems = []
        for step in script:
            name = "main"
            if isinstance(step, On):
                name, step = step.conn, step.step
                if name not in conns:
                    conns[name] = self.pair(version)
            real, ours = conns[name]
            label = "" if name == "main" else f"[{name}] "
            if isinstance(step, Sleep):
                time.sleep(step.seconds)
                continue
            if isinstance(step, Drain):
                a, b = real.read_pending(step.wait), ours.read_pending(step.wait)
                if a != b:
                    problems.append(f"{label}(pending frames)\n    real: {a!r}\n    ours: {b!r}")
                continue
            args = step if isinstance(step, tuple) else step.args
            n = step.n if isinstance(step, Frames) else 1
            payload = encode_command(*args)
            real.send(payload)
            a = b"".join(real.read_replies(n))
            ours.send(payload)
            try:
                b = b"".join(ours.read_replies(n))
            except (ConnectionError, OSError) as e:
                problems.append(f"{label}{show(args)}\n    real: {a!r}\n    ours: connection lost ({e})")
                break
            problem = compare(step, args, a, b)
            if problem is not None:  # "" is a mismatch with nothing to add
                problems.append(f"{label}{show(args)}\n    real: {a!r}\n    ours: {b!r}{problem}")
        return problems

    # ------------------------------------------------------------------ raw bytes

    def raw(self, payload: bytes | list[bytes], replies: int | None = None, resp: int = 2,
            pause: float = 0.0, flush: bool = True) -> None:
        """Send raw bytes (a list is sent piece by piece, ``pause`` apart) to both servers.

        With ``replies=None`` read until the server closes the connection (protocol errors) and
        require both to close; otherwise read that many replies and require both still to answer
        PING afterwards."""
        if flush:
            self.flushall()
        real, ours = self.pair(resp)
        pieces = [payload] if isinstance(payload, bytes) else payload
        try:
            outs = []
            for conn in (real, ours):
                for piece in pieces:
                    conn.send(piece)
                    if pause:
                        time.sleep(pause)
                if replies is None:
                    data, closed = conn.read_until_close(timeout=3)
                    outs.append((data, "closed" if closed else "still open"))
                else:
                    got: list[bytes] = []
                    try:
                        for _ in range(replies):
                            got.append(conn.read_reply())
                        after = conn.call("PING")
                    except (ConnectionError, OSError):
                        # whether the client sees EOF or ECONNRESET after the server closed is a
                        # race in the kernel, not behaviour: compare the bytes and "it closed"
                        got.append(conn.buf)
                        after = b"connection lost"
                    outs.append((b"".join(got), after))
            assert outs[0] == outs[1], f"raw {pieces!r}:\n    real: {outs[0]!r}\n    ours: {outs[1]!r}"
        finally:
            real.close()
            ours.close()


def compare(step: Any, args: tuple, a: bytes, b: bytes) -> str | None:
    """None when replies ``a`` (real) and ``b`` (ours) agree under the step's rule, else a note."""
    if isinstance(step, Skip):
        return None
    if isinstance(step, Timed):
        (ma, va), (mb, vb) = mask_times(a, step.rows), mask_times(b, step.rows)
        if ma == mb and len(va) == len(vb) and all(abs(x - y) <= step.tol for x, y in zip(va, vb)):
            return None
        return f"  (times masked, tolerance {step.tol} ms)"
    if isinstance(step, Approx):
        x, y = _int(a), _int(b)
        if x is None or y is None:
            return None if a == b else ""
        return None if abs(x - y) <= step.tol else f"  (tolerance {step.tol})"
    if isinstance(step, (Unordered, Pairs)):
        if a[:1] != b[:1] or a[:1] not in (b"*", b"%", b"~"):
            return None if a == b else ""
        ea, eb = elements(a), elements(b)
        if isinstance(step, Pairs):
            ea, eb = list(zip(ea[::2], ea[1::2])), list(zip(eb[::2], eb[1::2]))
        return None if sorted(ea) == sorted(eb) else "  (compared unordered)"
    name = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
    if name.lower() == "hello":
        a, b = mask_ids(a), mask_ids(b)
    return None if a == b else ""

