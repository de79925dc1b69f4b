#!/usr/bin/env python3
"""Throughput, latency and server CPU per request: twistd-redis beside a real redis-server.

    python benchmarks/run.py [--quick] [--suite strings|collections|streams|scripting|all] [--tests set,get]
                             [--scenarios c50p1,c50p16,c1p1] [--repeat N] [--no-json]

Starts both servers (pinned to core 0 with taskset), runs redis-benchmark (pinned to core 1) once
per test, scenario and server - alternating ours/redis so drift in machine load hits both - and
prints requests/s, p50/p99 latency, server CPU microseconds per request (utime+stime from
/proc/PID/stat around each run) and the ours/redis ratios next to the project's targets.
See benchmarks/README.md for the method and how to read the table.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import resource
import shutil
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
    cpu_seconds,
    free_port,
    have_taskset,
    install_signal_exit,
    pinned,
    send_command,
)

ALL_TESTS = ["ping_mbulk", "set", "get", "incr", "mset"]

# --suite name -> (redis-benchmark -t names, scenarios); --tests / --scenarios override either part.
# "collections" is redis-benchmark's own list/set/hash/zset tests at -c 50, as users run them:
#   redis-benchmark -t lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,lrange_100 -c 50
# (without -r every SADD/HSET/ZADD writes the one member "element:__rand_int__", so SPOP mostly
# pops an empty set, exactly as against real Redis; add --extra '-r 100000' for distinct members).
SUITES: dict[str, tuple[list[str], list[str]]] = {
    "strings": (ALL_TESTS, ["c50p1", "c50p16", "c1p1"]),
    "collections": (["lpush", "rpush", "lpop", "rpop", "sadd", "hset", "spop", "zadd", "lrange_100"], ["c50p1"]),
}
# "streams" has no redis-benchmark -t test: each is a custom command (see STREAM_TESTS), e.g.
#   redis-benchmark -n 100000 XADD mystream '*' field value
SUITES["streams"] = (["xadd", "xadd_maxlen", "xlen", "xrange_10", "xrange_100", "xrevrange_10", "xread_10"],
                     ["c50p1", "c50p16"])
# "scripting": EVALSHA of a script loaded beforehand (SCRIPT LOAD on each server): three commands
# (SET, INCR, GET) per call, and an empty script (the cost of a script call itself).
SUITES["scripting"] = (["evalsha_3cmd", "evalsha_noop"], ["c50p1", "c50p16"])
SUITES["all"] = (SUITES["strings"][0] + SUITES["collections"][0], SUITES["strings"][1])

# redis-benchmark's lrange_N test first runs -n LPUSHes ("LPUSH (needed to benchmark LRANGE)") in the
# same invocation, which would bill their CPU to LRANGE. So for lrange_N we fill `mylist` ourselves
# (600 elements "xxx", what those LPUSHes leave at -d 3) and run the very command that test sends,
# `LRANGE mylist 0 N-1`, as a redis-benchmark custom command: the CPU measured is LRANGE's alone.
LRANGE_TESTS = {"lrange_100": 100, "lrange_300": 300, "lrange_500": 500, "lrange_600": 600}
LRANGE_FILL = 600

# Stream tests: name -> (key prepared before the run: None = deleted / "fill" = STREAM_FILL
# entries "field value" with IDs 1-1 .. STREAM_FILL-1, the custom command redis-benchmark sends).
# XADD's stream is deleted before each run so both servers append to the same fresh stream.
STREAM_FILL = 1000
STREAM_TESTS: dict[str, tuple[str | None, list[str]]] = {
    "xadd": (None, ["XADD", "mystream", "*", "field", "value"]),
    "xadd_maxlen": (None, ["XADD", "mystream", "MAXLEN", "~", "1000", "*", "field", "value"]),
    "xlen": ("fill", ["XLEN", "bigstream"]),
    "xrange_10": ("fill", ["XRANGE", "bigstream", "-", "+", "COUNT", "10"]),
    "xrange_100": ("fill", ["XRANGE", "bigstream", "-", "+", "COUNT", "100"]),
    "xrevrange_10": ("fill", ["XREVRANGE", "bigstream", "+", "-", "COUNT", "10"]),
    "xread_10": ("fill", ["XREAD", "COUNT", "10", "STREAMS", "bigstream", "500-0"]),
}

# Script tests: name -> (script body loaded with SCRIPT LOAD, the custom command; "{sha}" is
# replaced by the loaded script's SHA1).
SCRIPT_TESTS: dict[str, tuple[str, list[str]]] = {
    "evalsha_3cmd": (
        "redis.call('SET', KEYS[1], ARGV[1]) redis.call('INCR', KEYS[2]) return redis.call('GET', KEYS[1])",
        ["EVALSHA", "{sha}", "2", "script:key", "script:counter", "value"],
    ),
    "evalsha_noop": ("return 1", ["EVALSHA", "{sha}", "0"]),
}

# name -> (clients, pipeline, requests full, requests --quick)
SCENARIOS: dict[str, tuple[int, int, int, int]] = {
    "c50p1": (50, 1, 200_000, 40_000),
    "c50p16": (50, 16, 1_000_000, 200_000),
    "c1p1": (1, 1, 100_000, 20_000),
}

# targets (ours/redis): rps ratio floor per scenario; CPU/request ceiling for SET/GET
RPS_TARGET = {"c50p1": 0.65, "c50p16": 0.4}
CPU_TARGET = {"c50p1": 2.5, "c50p16": 2.5}
CPU_TARGET_TESTS = {"set", "get"}


@dataclass
class Run:
    server: str
    scenario: str
    test: str
    requests: int
    ok: bool
    error: str = ""
    rps: float = 0.0
    avg_ms: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    wall_s: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0

    @property
    def cpu_us_per_req(self) -> float:
        return self.server_cpu_s * 1e6 / self.requests if self.requests else 0.0


@dataclass
class Summary:
    """Median over --repeat runs of one (scenario, test, server)."""
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us: float
    server_busy: float  # fraction of a core the server used during the run
    client_busy: float  # fraction of a core redis-benchmark used
    errors: list[str] = field(default_factory=list)


def bench_once(srv: Server, scenario: str, test: str, n: int, client_core: int | None,
               extra: list[str], timeout: float) -> Run:
    clients, pipeline, _, _ = SCENARIOS[scenario]
    srv.ensure_running()
    if test in LRANGE_TESTS:
        prepare_lrange(srv.port)
        what = ["LRANGE", "mylist", "0", str(LRANGE_TESTS[test] - 1)]  # custom command, no -t
    elif test in STREAM_TESTS:
        prep, what = STREAM_TESTS[test]
        prepare_stream(srv.port, prep)
    elif test in SCRIPT_TESTS:
        body, template = SCRIPT_TESTS[test]
        sha = prepare_script(srv.port, body)
        what = [a.replace("{sha}", sha) for a in template]
    else:
        what = ["-t", test]
    cmd = pinned(["redis-benchmark", "-h", "127.0.0.1", "-p", str(srv.port), "-c", str(clients),
                  "-P", str(pipeline), "-n", str(n), "--csv", *extra, *what], client_core)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = cpu_seconds(srv.pid)
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        out, err, rc = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"), p.returncode
    except subprocess.TimeoutExpired as e:
        out, err, rc = "", f"redis-benchmark timed out after {timeout}s", -1
        del e
    wall = time.perf_counter() - t0
    cpu1 = cpu_seconds(srv.pid) if srv.alive() else cpu0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = Run(server=srv.name, scenario=scenario, test=test, requests=n, ok=False, wall_s=wall,
              server_cpu_s=cpu1 - cpu0,
              client_cpu_s=(ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime))
    rows = [r for r in csv.reader(io.StringIO(out)) if r and r[0] != "test"]
    problems = [ln.strip() for ln in (out + "\n" + err).splitlines()
                if ln.strip() and not ln.startswith('"') and "Could not fetch server CONFIG" not in ln]
    if rc == 0 and rows and not problems:
        r = rows[0]
        run.ok = True
        run.rps, run.avg_ms, run.p50_ms, run.p99_ms, run.max_ms = (
            float(r[1]), float(r[2]), float(r[4]), float(r[6]), float(r[7]))
    else:
        run.error = (problems[0] if problems else f"redis-benchmark rc={rc}, no CSV row")[:200]
        if not srv.alive():
            run.error = f"server died ({run.error})"
    return run


def prepare_lrange(port: int) -> None:
    """`mylist` = LRANGE_FILL elements "xxx", as redis-benchmark's own LPUSH phase would leave it."""
    send_command(port, b"DEL", b"mylist")
    reply = send_command(port, b"RPUSH", b"mylist", *[b"xxx"] * LRANGE_FILL)
    if not reply.startswith(b":"):
        raise RuntimeError(f"RPUSH mylist failed: {reply[:100]!r}")


def prepare_stream(port: int, prep: str | None) -> None:
    """``None``: no `mystream` (XADD starts a fresh one); ``"fill"``: `bigstream` holds
    STREAM_FILL entries ``field value`` with IDs 1-1 .. N-1 (one pipelined write)."""
    if prep is None:
        send_command(port, b"DEL", b"mystream")
        return
    send_command(port, b"DEL", b"bigstream")
    buf = b"".join(b"*5\r\n$4\r\nXADD\r\n$9\r\nbigstream\r\n$%d\r\n%s\r\n$5\r\nfield\r\n$5\r\nvalue\r\n"
                   % (len(b"%d-1" % i), b"%d-1" % i) for i in range(1, STREAM_FILL + 1))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sk:
        sk.sendall(buf)
        want = sum(len(b"$%d\r\n%d-1\r\n" % (len(b"%d-1" % i), i)) for i in range(1, STREAM_FILL + 1))
        got = b""
        while len(got) < want:
            chunk = sk.recv(65536)
            if not chunk:
                break
            got += chunk
    if not got.startswith(b"$") or len(got) != want:
        raise RuntimeError(f"filling bigstream failed: {got[:100]!r}")
    reply = send_command(port, b"XLEN", b"bigstream")
    if reply != b":%d\r\n" % STREAM_FILL:
        raise RuntimeError(f"XLEN bigstream answered {reply[:100]!r}")


def prepare_script(port: int, body: str) -> str:
    """SCRIPT LOAD ``body``: the SHA1 the server answers."""
    reply = send_command(port, b"SCRIPT", b"LOAD", body.encode())
    if not reply.startswith(b"$40\r\n"):
        raise RuntimeError(f"SCRIPT LOAD failed: {reply[:100]!r}")
    return reply[5:45].decode()


def summarize(runs: list[Run]) -> Summary:
    good = [r for r in runs if r.ok]
    errors = [r.error for r in runs if not r.ok]
    if not good:
        return Summary(0, 0, 0, 0, 0, 0, errors)
    med = statistics.median
    return Summary(
        rps=med(r.rps for r in good), p50_ms=med(r.p50_ms for r in good),
        p99_ms=med(r.p99_ms for r in good), cpu_us=med(r.cpu_us_per_req for r in good),
        server_busy=med(r.server_cpu_s / r.wall_s for r in good),
        client_busy=med(r.client_cpu_s / r.wall_s for r in good), errors=errors)


def ratio(a: float, b: float) -> float | None:
    return a / b if a and b else None


def fmt_ratio(x: float | None) -> str:
    return "   -  " if x is None else f"{x:6.2f}"


def verdict(x: float | None, target: float | None, higher_is_better: bool) -> str:
    if target is None:
        return ""
    sign = ">=" if higher_is_better else "<="
    if x is None:
        return f"{sign}{target} n/a"
    ok = x >= target if higher_is_better else x <= target
    return f"{sign}{target} {'ok' if ok else 'MISS'}"


def print_table(scenario: str, n: int, tests: list[str], res: dict[tuple[str, str, str], Summary],
                names: list[str]) -> None:
    clients, pipeline, _, _ = SCENARIOS[scenario]
    print(f"\n=== -c {clients} -P {pipeline}   (-n {n} per test) ===")
    hdr = (f"{'test':<13}{'server':<7}{'req/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'CPU us/req':>12}"
           f"{'srv core':>9}{'cli core':>9}")
    print(hdr)
    print("-" * len(hdr))
    for test in tests:
        for name in names:
            s = res[(scenario, test, name)]
            if s.rps:
                print(f"{test:<13}{name:<7}{s.rps:>11,.0f}{s.p50_ms:>9.3f}{s.p99_ms:>9.3f}"
                      f"{s.cpu_us:>12.2f}{s.server_busy:>8.0%}{s.client_busy:>9.0%}")
            else:
                err = s.errors[0] if s.errors else "?"
                print(f"{test:<13}{name:<7}  FAILED: {err[:80]}{'...' if len(err) > 80 else ''}")
        if len(names) == 2:
            ours, red = res[(scenario, test, "ours")], res[(scenario, test, "redis")]
            rr, cr = ratio(ours.rps, red.rps), ratio(ours.cpu_us, red.cpu_us)
            rps_v = verdict(rr, RPS_TARGET.get(scenario), True)
            cpu_v = verdict(cr, CPU_TARGET.get(scenario) if test in CPU_TARGET_TESTS else None, False)
            print(f"{'':<13}{'ratio':<7}  rps ours/redis {fmt_ratio(rr)} {rps_v:<14}"
                  f"  CPU/req ours/redis {fmt_ratio(cr)} {cpu_v}")
        print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer requests (about 5x less); noisier")
    ap.add_argument("--suite", default="strings", choices=sorted(SUITES),
                    help="named set of tests and scenarios: strings (default: "
                         f"{','.join(SUITES['strings'][0])} in every scenario), collections "
                         f"({','.join(SUITES['collections'][0])} at -c 50 -P 1), all (both, every scenario)")
    ap.add_argument("--tests", default=None,
                    help="comma-separated redis-benchmark -t names (default: the suite's)")
    ap.add_argument("--scenarios", default=None,
                    help=f"comma-separated subset of {','.join(SCENARIOS)} (default: the suite's)")
    ap.add_argument("--servers", default="ours,redis", help="ours,redis (or just one of them)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per cell; the table shows medians")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every -n by this")
    ap.add_argument("--server-core", type=int, default=0)
    ap.add_argument("--client-core", type=int, default=1)
    ap.add_argument("--no-taskset", action="store_true", help="do not pin processes to cores")
    ap.add_argument("--python", default=sys.executable, help="interpreter for twistd-redis")
    ap.add_argument("--ours-src", default=None, metavar="DIR",
                    help="checkout to run twistd-redis from (default: this repo), e.g. a `git archive` snapshot")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per redis-benchmark run")
    ap.add_argument("--json", default=None, metavar="PATH",
                    help="where to write results (default benchmarks/results/run-<time>.json)")
    ap.add_argument("--no-json", action="store_true", help="do not write a JSON file")
    ap.add_argument("--extra", default="", help="extra redis-benchmark args, e.g. '-r 100000 -d 16'")
    args = ap.parse_args(argv)

    suite_tests, suite_scenarios = SUITES[args.suite]
    tests = ([t.strip().lower() for t in args.tests.split(",") if t.strip()] if args.tests is not None
             else list(suite_tests))
    scenarios = ([s.strip().lower() for s in args.scenarios.split(",") if s.strip()] if args.scenarios is not None
                 else list(suite_scenarios))
    names = [s.strip() for s in args.servers.split(",") if s.strip()]
    for s in scenarios:
        if s not in SCENARIOS:
            ap.error(f"unknown scenario {s!r}; choose from {', '.join(SCENARIOS)}")
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
    extra = args.extra.split()

    install_signal_exit()
    servers: dict[str, Server] = {}
    all_runs: list[Run] = []
    res: dict[tuple[str, str, str], Summary] = {}
    load0 = os.getloadavg()
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    try:
        for nm in names:
            servers[nm] = Server(nm, nm, free_port(), srv_core, args.python, args.ours_src)
            try:
                servers[nm].start()
            except RuntimeError as e:
                print(f"error: {e}", file=sys.stderr)
                return 2
        versions = {nm: s.version() for nm, s in servers.items()}
        for s in servers.values():  # warm-up: first connections, imports, allocator growth
            bench_once(s, "c50p1", "ping_mbulk", 20_000, cli_core, [], args.timeout)
        print(f"twistd-redis vs redis-server {versions.get('redis', '')}; "
              f"pinning: {'server core %d, client core %d' % (args.server_core, args.client_core) if pin else 'none'}; "
              f"{os.cpu_count()} CPUs; loadavg {load0[0]:.2f}; CLK_TCK {CLK_TCK}")
        print("ports: " + ", ".join(f"{nm}={s.port} (pid {s.pid})" for nm, s in servers.items()))
        for scenario in scenarios:
            c, p, n_full, n_quick = SCENARIOS[scenario]
            n = max(1000, int((n_quick if args.quick else n_full) * args.scale))
            for test in tests:
                cell: dict[str, list[Run]] = {nm: [] for nm in names}
                for i in range(args.repeat):
                    # alternate the order each repeat so neither server always runs "second"
                    for nm in (names if i % 2 == 0 else names[::-1]):
                        r = bench_once(servers[nm], scenario, test, n, cli_core, extra, args.timeout)
                        cell[nm].append(r)
                        all_runs.append(r)
                        ticks = round(r.server_cpu_s * CLK_TCK)
                        coarse = f"  (only {ticks} clock ticks: CPU/req +-{100 / max(ticks, 1):.0f}%)" if ticks < 100 else ""
                        status = (f"{r.rps:>11,.0f} rps  {r.cpu_us_per_req:6.2f} us/req{coarse}" if r.ok
                                  else f"FAILED: {r.error}")
                        print(f"  [{scenario} {test:<12} {nm:<5} #{i + 1}] {status}", flush=True)
                for nm in names:
                    res[(scenario, test, nm)] = summarize(cell[nm])
            print_table(scenario, n, tests, res, names)
    finally:
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
            REPO / "benchmarks" / "results" / f"run-{time.strftime('%Y%m%d-%H%M%S')}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "started": started, "argv": sys.argv, "suite": args.suite, "tests": tests, "quick": args.quick,
            "pinned": pin,
            "server_core": srv_core, "client_core": cli_core, "cpus": os.cpu_count(),
            "loadavg_before": load0, "loadavg_after": load1, "python": args.python,
            "platform": platform.platform(), "versions": versions, "restarts": restarts,
            "summary": [
                {"scenario": sc, "test": t, "server": nm, **asdict(s)} for (sc, t, nm), s in res.items()
            ],
            "ratios": [
                {"scenario": sc, "test": t,
                 "rps_ratio": ratio(res[(sc, t, "ours")].rps, res[(sc, t, "redis")].rps),
                 "cpu_ratio": ratio(res[(sc, t, "ours")].cpu_us, res[(sc, t, "redis")].cpu_us),
                 "rps_target": RPS_TARGET.get(sc),
                 "cpu_target": CPU_TARGET.get(sc) if t in CPU_TARGET_TESTS else None}
                for (sc, t, nm) in res if nm == "ours" and (sc, t, "redis") in res
            ],
            "runs": [{**asdict(r), "cpu_us_per_req": r.cpu_us_per_req} for r in all_runs],
        }
        path.write_text(json.dumps(doc, indent=1))
        print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
