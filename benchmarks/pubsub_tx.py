#!/usr/bin/env python3
"""PUBLISH fan-out and MULTI/EXEC transactions: twistd-redis beside a real redis-server.

    python benchmarks/pubsub_tx.py [--quick] [--tests pub1,pub100,multi,set] [--repeat N] [--no-json]

Starts both servers (pinned to core 0 with taskset) and, alternating ours/redis, measures:

* pub1 / pub100: `redis-benchmark -c 50 -n N PUBLISH ch hello` (pinned to core 1) while a separate
  subscriber process (also on core 1) holds 1 / 100 raw connections SUBSCRIBEd to `ch` and counts
  the bytes each receives. Reports publisher req/s, server CPU microseconds per PUBLISH (everything
  the server burned from the first PUBLISH until the last message reached the last subscriber),
  deliveries/s and whether every subscriber got all N messages.
* multi / set: a Python load generator (selectors, 50 non-blocking connections, one request in
  flight per connection; core 1) sending `MULTI` + `SET key:<c> value` + `EXEC` in one write per
  round trip, or just `SET key:<c> value`. Reports transactions (or SETs)/s and server CPU
  microseconds per transaction (SET). The client is Python: against real Redis it may be the
  bottleneck (see `cli core`), so the CPU/tx ratio is the fair comparison, not tx/s.

See benchmarks/README.md for the method and how to read the tables.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import (  # noqa: E402
    CLK_TCK,
    REPO,
    Server,
    _die_with_parent,
    cpu_seconds,
    free_port,
    have_taskset,
    install_signal_exit,
    pinned,
    send_command,
)

CHANNEL = b"ch"
MESSAGE = b"hello"
SUB_CMD = b"*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n"
SUB_REPLY = b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
FRAME = b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n"  # what each subscriber gets per PUBLISH

TX_REPLY = b"+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n"
SET_REPLY = b"+OK\r\n"
LOADGEN_CONNS = 50
PUBLISHERS = 50  # redis-benchmark -c

# name -> (kind, subscribers, requests full, requests --quick).
# pub100 sends each subscriber N * 36 bytes; keep N * 36 under Redis's default pubsub soft output
# limit (8 MB) so a briefly lagging subscriber is never disconnected (the run would report it).
TESTS: dict[str, tuple[str, int, int, int]] = {
    "pub1": ("pub", 1, 200_000, 40_000),
    "pub100": ("pub", 100, 80_000, 16_000),
    "multi": ("tx", 0, 300_000, 60_000),
    "set": ("set", 0, 300_000, 60_000),
}
DELIVERY_WAIT = 30.0  # seconds to wait for the subscribers after redis-benchmark is done


# ----------------------------------------------------------------------------------------------
# child processes (run as `python pubsub_tx.py _subscriber ...` / `_loadgen ...`, pinned to core 1)


def _emit(obj: dict) -> None:
    try:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()
    except OSError:  # the parent is gone (killed): nobody to report to
        os._exit(1)


def _self_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def child_subscriber(port: int, conns: int, n: int) -> int:
    """Open `conns` connections, SUBSCRIBE ch on each, confirm, print `ready`, then count bytes
    until every connection has n frames (or stdin says stop / closes). Prints one JSON result."""
    socks: list[socket.socket] = []
    try:
        for _ in range(conns):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(SUB_CMD)
            socks.append(s)
        for s in socks:
            got = b""
            while len(got) < len(SUB_REPLY):
                chunk = s.recv(4096)
                if not chunk:
                    raise OSError("connection closed before the SUBSCRIBE reply")
                got += chunk
            if got != SUB_REPLY:
                raise OSError(f"unexpected SUBSCRIBE reply {got[:80]!r}")
            s.setblocking(False)
    except OSError as e:
        _emit({"error": f"subscribe: {e}"})
        return 1
    _emit({"ready": True})

    flen = len(FRAME)
    expect = n * flen
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        sel.register(s, selectors.EVENT_READ, i)
    sel.register(sys.stdin.fileno(), selectors.EVENT_READ, -1)
    got_bytes = [0] * conns
    closed: list[int] = []
    bad: list[int] = []
    first = last = None
    remaining = conns
    stopped = False
    buf = bytearray(1 << 20)
    cpu0 = _self_cpu()
    mono = time.monotonic
    while remaining and not stopped:
        for key, _ in sel.select():
            i = key.data
            if i < 0:  # parent: stop (or it went away)
                stopped = True
                break
            s = key.fileobj
            try:
                k = s.recv_into(buf)  # type: ignore[union-attr]
            except BlockingIOError:
                continue
            except OSError:
                k = 0
            if k == 0:
                closed.append(i)
                sel.unregister(s)
                remaining -= 1
                continue
            last = mono()
            if first is None:
                first = last
            g = got_bytes[i] + k
            got_bytes[i] = g
            if g >= expect:
                if g > expect or (k >= flen and buf[k - flen:k] != FRAME):
                    bad.append(i)
                sel.unregister(s)
                remaining -= 1
    _emit({"got_bytes": got_bytes, "expect_bytes": expect, "first": first, "last": last,
           "closed": closed, "bad": bad, "stopped": stopped, "cpu_s": _self_cpu() - cpu0})
    for s in socks:
        s.close()
    return 0


def child_loadgen(port: int, conns: int, n: int, mode: str) -> int:
    """`conns` connections, each with one request in flight: MULTI/SET/EXEC (mode tx) or SET
    (mode set), pre-encoded, one write per round trip; the next is sent once the exact reply bytes
    are in. Prints `ready`, waits for `go` on stdin, runs n requests, prints one JSON result."""
    def enc(*args: bytes) -> bytes:
        return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)

    try:
        socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(conns)]
    except OSError as e:
        _emit({"error": f"connect: {e}"})
        return 1
    payloads = []
    for c in range(conns):
        set_cmd = enc(b"SET", b"key:%d" % c, b"value")
        payloads.append(enc(b"MULTI") + set_cmd + enc(b"EXEC") if mode == "tx" else set_cmd)
    expected = TX_REPLY if mode == "tx" else SET_REPLY
    elen = len(expected)
    _emit({"ready": True})
    if sys.stdin.readline().strip() != "go":
        return 1

    sel = selectors.DefaultSelector()
    for c, s in enumerate(socks):
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, c)
    partial = [b""] * conns
    cpu0 = _self_cpu()
    t0 = time.monotonic()
    sent = 0
    for c, s in enumerate(socks):
        if sent < n:
            s.sendall(payloads[c])  # empty socket buffer: never blocks
            sent += 1
    done = 0
    error = ""
    while done < n and not error:
        for key, _ in sel.select():
            c = key.data
            s = key.fileobj
            try:
                data = s.recv(65536)  # type: ignore[union-attr]
            except BlockingIOError:
                continue
            if not data:
                error = f"server closed connection {c}"
                break
            if data != expected:  # slow path: split reply, or wrong bytes
                data = partial[c] + data
                if len(data) < elen:
                    if not expected.startswith(data):
                        error = f"unexpected reply {data[:80]!r}"
                        break
                    partial[c] = data
                    continue
                if data != expected:
                    error = f"unexpected reply {data[:80]!r}"
                    break
                partial[c] = b""
            done += 1
            if sent < n:
                s.send(payloads[c])  # type: ignore[union-attr]  # one small request in flight
                sent += 1
    wall = time.monotonic() - t0
    _emit({"done": done, "wall_s": wall, "cpu_s": _self_cpu() - cpu0, "error": error})
    for s in socks:
        s.close()
    return 0


# ----------------------------------------------------------------------------------------------
# parent: runs and summaries


@dataclass
class Run:
    server: str
    test: str
    requests: int  # PUBLISHes / transactions / SETs
    ok: bool
    error: str = ""
    subscribers: int = 0
    rps: float = 0.0  # publisher req/s (redis-benchmark) or loadgen tx/s
    p50_ms: float = 0.0  # PUBLISH latency from redis-benchmark (pub tests only)
    p99_ms: float = 0.0
    wall_s: float = 0.0  # redis-benchmark / loadgen wall time
    window_s: float = 0.0  # server CPU window: pub = first PUBLISH until last byte delivered
    delivery_s: float = 0.0  # pub: redis-benchmark start until the last byte reached a subscriber
    delivered: int = 0  # pub: complete messages received over all subscribers
    expected: int = 0  # pub: N * subscribers
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0  # redis-benchmark (pub) or the loadgen
    sub_cpu_s: float = 0.0  # the subscriber process (pub)

    @property
    def cpu_us_per_req(self) -> float:
        return self.server_cpu_s * 1e6 / self.requests if self.requests else 0.0

    @property
    def deliveries_per_s(self) -> float:
        return self.delivered / self.delivery_s if self.delivery_s else 0.0


@dataclass
class Summary:
    """Median over --repeat runs of one (test, server)."""
    rps: float
    cpu_us: float
    p50_ms: float
    p99_ms: float
    deliveries_per_s: float
    delivered_frac: float  # worst run: delivered / expected
    server_busy: float
    client_busy: float
    sub_busy: float
    errors: list[str] = field(default_factory=list)


class Child:
    """A helper subprocess of this script (subscriber / loadgen) speaking JSON lines on stdout."""

    def __init__(self, args: list[str], core: int | None) -> None:
        cmd = pinned([sys.executable, str(Path(__file__).resolve()), *args], core)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     preexec_fn=_die_with_parent)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.proc.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
        self._buf = b""

    def read(self, timeout: float) -> dict | None:
        """The next JSON line, or None on timeout / exit without one."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()  # type: ignore[union-attr]
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not self.sel.select(left):
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def say(self, text: str) -> None:
        try:
            self.proc.stdin.write(text.encode() + b"\n")  # type: ignore[union-attr]
            self.proc.stdin.flush()  # type: ignore[union-attr]
        except (BrokenPipeError, OSError):
            pass

    def stop(self) -> None:
        p = self.proc
        if p.poll() is None:
            p.kill()  # this pid only (taskset execs, so it is the Python child itself)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass
        for f in (p.stdin, p.stdout):
            try:
                f and f.close()  # type: ignore[union-attr]
            except OSError:
                pass
        self.sel.close()


CHILDREN: list[Child] = []  # alive helpers, killed in main's finally


def start_child(args: list[str], core: int | None) -> Child:
    ch = Child(args, core)
    CHILDREN.append(ch)
    return ch


def end_child(ch: Child) -> None:
    ch.stop()
    if ch in CHILDREN:
        CHILDREN.remove(ch)


def numsub(port: int) -> int | None:
    reply = send_command(port, b"PUBSUB", b"NUMSUB", CHANNEL)
    # *2\r\n$2\r\nch\r\n:K\r\n
    tail = reply.rstrip(b"\r\n").rsplit(b"\r\n", 1)[-1]
    return int(tail[1:]) if tail.startswith(b":") else None


def bench_pub(srv: Server, test: str, n: int, subs: int, cli_core: int | None, timeout: float) -> Run:
    srv.ensure_running()
    run = Run(server=srv.name, test=test, requests=n, ok=False, subscribers=subs, expected=n * subs)
    sub = start_child(["_subscriber", str(srv.port), str(subs), str(n)], cli_core)
    try:
        hello = sub.read(30.0)
        if not hello or not hello.get("ready"):
            run.error = (hello or {}).get("error", "subscriber did not get ready")
            return run
        k = None
        for _ in range(100):  # subscriptions are registered before the reply; allow a moment anyway
            k = numsub(srv.port)
            if k == subs:
                break
            time.sleep(0.05)
        if k != subs:
            run.error = f"PUBSUB NUMSUB ch = {k}, expected {subs}"
            return run
        cmd = pinned(["redis-benchmark", "-h", "127.0.0.1", "-p", str(srv.port), "-c", str(PUBLISHERS),
                      "-n", str(n), "--csv", "PUBLISH", CHANNEL.decode(), MESSAGE.decode()], cli_core)
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the subscriber is not reaped yet
        cpu0 = cpu_seconds(srv.pid)
        t0 = time.monotonic()
        try:
            p = subprocess.run(cmd, check=False, capture_output=True, timeout=timeout,
                               stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
            out, err, rc = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"), p.returncode
        except subprocess.TimeoutExpired:
            out, err, rc = "", f"redis-benchmark timed out after {timeout}s", -1
        run.wall_s = time.monotonic() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        run.client_cpu_s = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        rows = [r for r in csv.reader(io.StringIO(out)) if r and r[0] != "test"]
        problems = [ln.strip() for ln in (out + "\n" + err).splitlines()
                    if ln.strip() and not ln.startswith('"') and "Could not fetch server CONFIG" not in ln]
        if rc == 0 and rows and not problems:
            r = rows[0]
            run.rps, run.p50_ms, run.p99_ms = float(r[1]), float(r[4]), float(r[6])
        else:
            run.error = (problems[0] if problems else f"redis-benchmark rc={rc}, no CSV row")[:200]
        # the subscriber exits once every connection has its n frames; no point waiting if PUBLISH failed
        res = sub.read(5.0 if run.error else DELIVERY_WAIT)
        if res is None:
            sub.say("stop")
            res = sub.read(5.0)
        t1 = time.monotonic()
        cpu1 = cpu_seconds(srv.pid) if srv.alive() else cpu0
        run.server_cpu_s = cpu1 - cpu0
        if res is None:
            run.error = run.error or "subscriber gave no result"
            run.window_s = t1 - t0
            return run
        flen = len(FRAME)
        run.delivered = sum(min(g, res["expect_bytes"]) // flen for g in res["got_bytes"])
        run.sub_cpu_s = res["cpu_s"]
        if res["last"] is not None:
            run.delivery_s = res["last"] - t0  # CLOCK_MONOTONIC is system-wide
        complete = run.delivered == run.expected and not res["bad"] and not res["closed"]
        run.window_s = run.delivery_s if complete else t1 - t0
        if not run.error and not complete:
            run.error = (f"delivered {run.delivered}/{run.expected} messages"
                         + (f"; {len(res['closed'])} subscriber(s) disconnected" if res["closed"] else "")
                         + (f"; {len(res['bad'])} with wrong/extra bytes" if res["bad"] else "")
                         + (f" (gave up after {DELIVERY_WAIT:.0f}s)" if res["stopped"] else ""))
        run.ok = not run.error
        if not srv.alive():
            run.error = f"server died ({run.error})"
            run.ok = False
        return run
    finally:
        end_child(sub)


def bench_loadgen(srv: Server, test: str, n: int, cli_core: int | None, timeout: float) -> Run:
    srv.ensure_running()
    mode = "tx" if TESTS[test][0] == "tx" else "set"
    run = Run(server=srv.name, test=test, requests=n, ok=False)
    gen = start_child(["_loadgen", str(srv.port), str(LOADGEN_CONNS), str(n), mode], cli_core)
    try:
        hello = gen.read(30.0)
        if not hello or not hello.get("ready"):
            run.error = (hello or {}).get("error", "load generator did not get ready")
            return run
        cpu0 = cpu_seconds(srv.pid)
        t0 = time.monotonic()
        gen.say("go")
        res = gen.read(timeout)
        run.window_s = time.monotonic() - t0
        run.server_cpu_s = (cpu_seconds(srv.pid) if srv.alive() else cpu0) - cpu0
        if res is None:
            run.error = f"load generator gave no result within {timeout:.0f}s"
        elif res.get("error") or res["done"] != n:
            run.error = (res.get("error") or f"only {res['done']}/{n} done")[:200]
        else:
            run.ok = True
            run.wall_s, run.client_cpu_s = res["wall_s"], res["cpu_s"]
            run.rps = n / run.wall_s
        if not srv.alive():
            run.error, run.ok = f"server died ({run.error})", False
        return run
    finally:
        end_child(gen)


def summarize(runs: list[Run]) -> Summary:
    good = [r for r in runs if r.ok]
    errors = [r.error for r in runs if not r.ok]
    if not good:
        worst = min((r.delivered / r.expected for r in runs if r.expected), default=0.0)
        return Summary(0, 0, 0, 0, 0, worst, 0, 0, 0, errors)
    med = statistics.median
    return Summary(
        rps=med(r.rps for r in good), cpu_us=med(r.cpu_us_per_req for r in good),
        p50_ms=med(r.p50_ms for r in good), p99_ms=med(r.p99_ms for r in good),
        deliveries_per_s=med(r.deliveries_per_s for r in good),
        delivered_frac=min((r.delivered / r.expected for r in good if r.expected), default=1.0),
        server_busy=med(r.server_cpu_s / r.window_s for r in good if r.window_s),
        client_busy=med(r.client_cpu_s / (r.window_s if r.subscribers else r.wall_s) for r in good),
        sub_busy=med(r.sub_cpu_s / r.window_s for r in good if r.window_s), errors=errors)


def ratio(a: float, b: float) -> float | None:
    return a / b if a and b else None


def fmt_ratio(x: float | None) -> str:
    return "   -  " if x is None else f"{x:6.2f}"


def failed_line(label: str, name: str, s: Summary) -> str:
    err = s.errors[0] if s.errors else "?"
    return f"{label:<8}{name:<7}  FAILED: {err[:90]}{'...' if len(err) > 90 else ''}"


def print_pub(tests: list[str], ns: dict[str, int], res: dict[tuple[str, str], Summary],
              names: list[str]) -> None:
    pub = [t for t in tests if TESTS[t][0] == "pub"]
    if not pub:
        return
    print(f"\n=== PUBLISH ch hello   (redis-benchmark -c {PUBLISHERS} -n N; subscribers count bytes) ===")
    hdr = (f"{'test':<8}{'server':<7}{'N':>8}{'pub req/s':>11}{'p50 ms':>8}{'CPU us/pub':>11}"
           f"{'deliv/s':>12}{'delivered':>10}{'srv core':>9}{'pub core':>9}{'sub core':>9}")
    print(hdr)
    print("-" * len(hdr))
    for t in pub:
        for nm in names:
            s = res[(t, nm)]
            if s.rps:
                print(f"{t:<8}{nm:<7}{ns[t]:>8}{s.rps:>11,.0f}{s.p50_ms:>8.3f}{s.cpu_us:>11.2f}"
                      f"{s.deliveries_per_s:>12,.0f}{s.delivered_frac:>10.1%}{s.server_busy:>9.0%}"
                      f"{s.client_busy:>9.0%}{s.sub_busy:>9.0%}")
            else:
                print(failed_line(t, nm, s))
        if len(names) == 2:
            o, r = res[(t, "ours")], res[(t, "redis")]
            print(f"{'':<8}{'ratio':<7}  rps ours/redis {fmt_ratio(ratio(o.rps, r.rps))}"
                  f"    CPU/pub ours/redis {fmt_ratio(ratio(o.cpu_us, r.cpu_us))}"
                  f"    deliv/s ours/redis {fmt_ratio(ratio(o.deliveries_per_s, r.deliveries_per_s))}")
        print()


def print_tx(tests: list[str], ns: dict[str, int], res: dict[tuple[str, str], Summary],
             names: list[str]) -> None:
    txt = [t for t in tests if TESTS[t][0] in ("tx", "set")]
    if not txt:
        return
    print(f"\n=== MULTI/SET/EXEC vs plain SET   (Python client, {LOADGEN_CONNS} connections,"
          f" 1 round trip in flight each) ===")
    hdr = f"{'test':<8}{'server':<7}{'N':>8}{'req/s':>11}{'CPU us/req':>12}{'srv core':>9}{'cli core':>9}"
    print(hdr)
    print("-" * len(hdr))
    for t in txt:
        for nm in names:
            s = res[(t, nm)]
            if s.rps:
                print(f"{t:<8}{nm:<7}{ns[t]:>8}{s.rps:>11,.0f}{s.cpu_us:>12.2f}{s.server_busy:>9.0%}"
                      f"{s.client_busy:>9.0%}")
            else:
                print(failed_line(t, nm, s))
        if len(names) == 2:
            o, r = res[(t, "ours")], res[(t, "redis")]
            print(f"{'':<8}{'ratio':<7}  rps ours/redis {fmt_ratio(ratio(o.rps, r.rps))}"
                  f"    CPU/req ours/redis {fmt_ratio(ratio(o.cpu_us, r.cpu_us))}")
        print()
    if "multi" in txt and "set" in txt:
        parts = [f"{nm} {fmt_ratio(ratio(res[('multi', nm)].cpu_us, res[('set', nm)].cpu_us)).strip()}x"
                 for nm in names]
        print("server CPU of one MULTI/SET/EXEC / one plain SET: " + ", ".join(parts))
    print("(req/s here is a Python client's: when `cli core` is near 100% the client, not the server,\n"
          " sets the pace - typically against Redis - so compare CPU us/req, not req/s)")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("_subscriber", "_loadgen"):
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C: die quietly; the parent cleans up
    if argv and argv[0] == "_subscriber":
        return child_subscriber(int(argv[1]), int(argv[2]), int(argv[3]))
    if argv and argv[0] == "_loadgen":
        return child_loadgen(int(argv[1]), int(argv[2]), int(argv[3]), argv[4])

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer requests (about 5x less); noisier")
    ap.add_argument("--tests", default=",".join(TESTS), help=f"comma-separated subset of {','.join(TESTS)}")
    ap.add_argument("--servers", default="ours,redis", help="ours,redis (or just one of them)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per cell; the tables show medians")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every N by this")
    ap.add_argument("--server-core", type=int, default=0)
    ap.add_argument("--client-core", type=int, default=1)
    ap.add_argument("--no-taskset", action="store_true", help="do not pin processes to cores")
    ap.add_argument("--python", default=sys.executable, help="interpreter for twistd-redis")
    ap.add_argument("--ours-src", default=None, metavar="DIR",
                    help="checkout to run twistd-redis from (default: this repo)")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per publisher / load generator run")
    ap.add_argument("--json", default=None, metavar="PATH",
                    help="where to write results (default benchmarks/results/pubsub_tx-<time>.json)")
    ap.add_argument("--no-json", action="store_true", help="do not write a JSON file")
    args = ap.parse_args(argv)

    tests = [t.strip().lower() for t in args.tests.split(",") if t.strip()]
    names = [s.strip() for s in args.servers.split(",") if s.strip()]
    for t in tests:
        if t not in TESTS:
            ap.error(f"unknown test {t!r}; choose from {', '.join(TESTS)}")
    for nm in names:
        if nm not in ("ours", "redis"):
            ap.error(f"unknown server {nm!r}")
    for tool in ("redis-benchmark", "redis-server"):
        if shutil.which(tool) is None:
            ap.error(f"{tool} not found on PATH")
    pin = not args.no_taskset and have_taskset((args.server_core, args.client_core))
    if not pin and not args.no_taskset:
        print("note: taskset unavailable or too few cores; running unpinned", file=sys.stderr)
    srv_core = args.server_core if pin else None
    cli_core = args.client_core if pin else None
    ns = {t: max(1000, int((TESTS[t][3] if args.quick else TESTS[t][2]) * args.scale)) for t in tests}

    install_signal_exit()
    servers: dict[str, Server] = {}
    all_runs: list[Run] = []
    res: dict[tuple[str, str], Summary] = {}
    load0 = os.getloadavg()
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    versions: dict[str, str] = {}
    try:
        for nm in names:
            servers[nm] = Server(nm, nm, free_port(), srv_core, args.python, args.ours_src)
            try:
                servers[nm].start()
            except RuntimeError as e:
                print(f"error: {e}", file=sys.stderr)
                return 2
        versions = {nm: s.version() for nm, s in servers.items()}
        for s in servers.values():  # warm-up: imports, first connections, allocator growth
            bench_loadgen(s, "set", 5_000, cli_core, args.timeout)
            bench_loadgen(s, "multi", 5_000, cli_core, args.timeout)
            bench_pub(s, "pub1", 5_000, 1, cli_core, args.timeout)
        print(f"twistd-redis vs redis-server {versions.get('redis', '')}; "
              f"pinning: {f'server core {args.server_core}, clients core {args.client_core}' if pin else 'none'}; "
              f"{os.cpu_count()} CPUs; loadavg {load0[0]:.2f}; CLK_TCK {CLK_TCK}")
        print("ports: " + ", ".join(f"{nm}={s.port} (pid {s.pid})" for nm, s in servers.items()))
        for t in tests:
            kind, subs, _, _ = TESTS[t]
            cell: dict[str, list[Run]] = {nm: [] for nm in names}
            for i in range(args.repeat):
                for nm in (names if i % 2 == 0 else names[::-1]):  # alternate who goes first
                    if kind == "pub":
                        r = bench_pub(servers[nm], t, ns[t], subs, cli_core, args.timeout)
                    else:
                        r = bench_loadgen(servers[nm], t, ns[t], cli_core, args.timeout)
                    cell[nm].append(r)
                    all_runs.append(r)
                    ticks = round(r.server_cpu_s * CLK_TCK)
                    coarse = (f"  (only {ticks} clock ticks: CPU/req +-{100 / max(ticks, 1):.0f}%)"
                              if ticks < 100 else "")
                    if r.ok:
                        status = f"{r.rps:>11,.0f} req/s  {r.cpu_us_per_req:7.2f} us/req"
                        if kind == "pub":
                            status += f"  {r.deliveries_per_s:>11,.0f} deliveries/s"
                        status += coarse
                    else:
                        status = f"FAILED: {r.error}"
                    print(f"  [{t:<7} {nm:<5} #{i + 1}] {status}", flush=True)
            for nm in names:
                res[(t, nm)] = summarize(cell[nm])
        print_pub(tests, ns, res, names)
        print_tx(tests, ns, res, names)
    finally:
        for ch in list(CHILDREN):  # end_child removes from CHILDREN  # noqa: PERF101
            end_child(ch)
        for s in servers.values():
            s.stop()
    load1 = os.getloadavg()
    print(f"loadavg before {load0[0]:.2f}, after {load1[0]:.2f} "
          f"(other work on the {os.cpu_count()} cores makes numbers noisy)")
    restarts = {nm: s.restarts for nm, s in servers.items() if s.restarts}
    if restarts:
        print(f"server restarts after crashes: {restarts}")

    if not args.no_json:
        path = Path(args.json) if args.json else (
            REPO / "benchmarks" / "results" / f"pubsub_tx-{time.strftime('%Y%m%d-%H%M%S')}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "started": started, "argv": sys.argv, "tests": tests, "quick": args.quick, "requests": ns,
            "pinned": pin, "server_core": srv_core, "client_core": cli_core, "cpus": os.cpu_count(),
            "loadavg_before": load0, "loadavg_after": load1, "python": args.python,
            "platform": platform.platform(), "versions": versions, "restarts": restarts,
            "publishers": PUBLISHERS, "loadgen_connections": LOADGEN_CONNS,
            "summary": [{"test": t, "server": nm, **asdict(s)} for (t, nm), s in res.items()],
            "ratios": [
                {"test": t,
                 "rps_ratio": ratio(res[(t, "ours")].rps, res[(t, "redis")].rps),
                 "cpu_ratio": ratio(res[(t, "ours")].cpu_us, res[(t, "redis")].cpu_us),
                 "deliveries_ratio": ratio(res[(t, "ours")].deliveries_per_s,
                                           res[(t, "redis")].deliveries_per_s)
                 if TESTS[t][0] == "pub" else None}
                for (t, nm) in res if nm == "ours" and (t, "redis") in res
            ],
            "runs": [{**asdict(r), "cpu_us_per_req": r.cpu_us_per_req,
                      "deliveries_per_s": r.deliveries_per_s} for r in all_runs],
        }
        path.write_text(json.dumps(doc, indent=1))
        print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
