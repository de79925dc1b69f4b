#!/usr/bin/env python3
"""Replication: twistd-redis beside a real redis-server, as ratios ours/redis.

    python benchmarks/replication.py [--quick] [--tests throughput,fullsync] [--requests N]
                                     [--keys N] [--replicas 0,1,3]

* throughput: ``redis-benchmark -t set -c 50 -n N`` against a master with 0, 1 and 3 replicas
  (replicas of the same kind as the master, attached and ``state=online`` before the run).
  Reports req/s, the master's CPU per request, and the replication lag during the run: a thread
  samples the master's ``master_repl_offset`` and every replica's ``slave_repl_offset`` (INFO
  replication) every 20 ms; lag = master offset - replica offset in bytes, max and mean over the
  samples and replicas. "catch-up" is the time from redis-benchmark's exit until every replica's
  offset equals the master's, then every replica's DBSIZE is checked against the master's.
* fullsync: the master gets K keys (``DEBUG POPULATE K``: ``key:<i>`` -> ``value:<i>``; a
  pipelined MSET loader when DEBUG POPULATE is missing), then a fresh empty server of the same
  kind is sent ``REPLICAOF``; the time runs from that command until the replica says
  ``master_link_status:up`` and its DBSIZE equals the master's. Defaults of both servers
  (diskless sync, ``repl-diskless-load disabled``) except ``repl-diskless-sync-delay 0``.

Pinning: the master on core 0, redis-benchmark on core 1 (taskset); replicas are NOT pinned: a
replica pinned beside redis-benchmark is starved by it (the lag then grows through the whole run,
for redis-server as much as for ours), so the scheduler places them. On a 2-core machine they take
CPU from the master too, for both servers alike. Nothing is written into the repository: the
servers live in temporary folders, removed at the end.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import (  # noqa: E402
    Server,
    cpu_seconds,
    free_port,
    have_taskset,
    install_signal_exit,
    mset_fill,
    pinned,
    send_command,
)

KINDS = ("ours", "redis")
FAST = ["--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1"]


def info(port: int, section: bytes = b"replication", timeout: float = 5.0) -> dict[str, str]:
    raw = send_command(port, b"INFO", section, timeout=timeout).decode(errors="replace")
    out = {}
    for line in raw.split("\r\n")[1:]:
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


def dbsize(port: int) -> int:
    r = send_command(port, b"DBSIZE")
    return int(r[1:r.index(b"\r\n")])


def wait(pred, timeout: float, what: str, every: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if pred():
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(every)
    raise RuntimeError(f"timed out after {timeout}s: {what}")


def online_replicas(master_port: int) -> int:
    i = info(master_port)
    return sum(1 for k, v in i.items() if k.startswith("slave") and k[5:].isdigit() and "state=online" in v)


def start(kind: str, core: int | None, python: str, extra: list[str] | None = None) -> Server:
    debug = ["--enable-debug-command", "local"]  # DEBUG POPULATE (both default to "no")
    srv = Server(kind, kind, free_port(), core, python, extra=FAST + debug + list(extra or []))
    srv.start()
    return srv


def populate(port: int, n: int) -> str:
    """``key:<i>`` -> ``value:<i>`` for i < n; returns how ("DEBUG POPULATE" or "MSET")."""
    r = send_command(port, b"DEBUG", b"POPULATE", str(n).encode(), timeout=600)
    if r.startswith(b"+OK"):
        return "DEBUG POPULATE"
    mset_fill(port, n, 1000)
    return "MSET"


class LagSampler(threading.Thread):
    """master_repl_offset - slave_repl_offset for every replica, every ``every`` seconds."""

    def __init__(self, master: int, replicas: list[int], every: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.master, self.replicas, self.every = master, replicas, every
        self.samples: list[int] = []
        self.missing = False  # a replica without slave_repl_offset in INFO
        self.stop_ev = threading.Event()

    def run(self) -> None:
        while not self.stop_ev.is_set():
            try:
                mo = int(info(self.master)["master_repl_offset"])
                for p in self.replicas:
                    ro = info(p).get("slave_repl_offset")
                    if ro is None:
                        self.missing = True
                        continue
                    self.samples.append(max(0, mo - int(ro)))
            except (OSError, ValueError, KeyError):
                pass
            self.stop_ev.wait(self.every)


def throughput(kind: str, nrep: int, n: int, python: str, core: int | None, side: int | None) -> dict:
    out: dict = {"server": kind, "replicas": nrep, "requests": n}
    master = start(kind, core, python)
    reps: list[Server] = []
    try:
        for _ in range(nrep):
            reps.append(start(kind, None, python, ["--replicaof", f"127.0.0.1 {master.port}"]))
        if nrep:
            wait(lambda: online_replicas(master.port) == nrep, 60, f"{nrep} replicas online")
            # "online" is not yet streaming: after a diskless sync Redis 7.0 starts the stream on
            # the replica's first REPLCONF ACK (up to a second later); a write seen on every
            # replica proves the stream flows
            send_command(master.port, b"SET", b"bench:ready", b"1")
            wait(lambda: all(send_command(r.port, b"GET", b"bench:ready").startswith(b"$1\r\n1")
                             for r in reps), 30, "the stream reaches every replica")
        sampler = LagSampler(master.port, [r.port for r in reps]) if nrep else None
        cmd = pinned(["redis-benchmark", "-p", str(master.port), "-t", "set", "-n", str(n), "-c", "50",
                      "-q", "--csv"], side)
        cpu0 = cpu_seconds(master.pid)
        if sampler:
            sampler.start()
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        t_end = time.perf_counter()
        cpu1 = cpu_seconds(master.pid)
        line = [ln for ln in res.stdout.splitlines() if ln.startswith('"SET"')]
        if not line:
            raise RuntimeError(f"redis-benchmark: {res.stdout[-300:]} {res.stderr[-300:]}")
        f = line[0].split(",")
        out["rps"] = float(f[1].strip('"'))
        out["wall_s"] = t_end - t0
        out["cpu_us_per_req"] = (cpu1 - cpu0) / n * 1e6
        if sampler:
            def caught_up() -> bool:
                mo = int(info(master.port)["master_repl_offset"])
                return all(int(info(r.port).get("slave_repl_offset", -1)) >= mo for r in reps)
            try:
                wait(caught_up, 120, "replicas caught up", every=0.01)
                out["catchup_s"] = time.perf_counter() - t_end
            except RuntimeError:
                out["catchup_s"] = None
            sampler.stop_ev.set()
            sampler.join(5)
            s = sampler.samples
            out["lag_max"] = max(s) if s else None
            out["lag_mean"] = statistics.fmean(s) if s else None
            out["lag_samples"] = len(s)
            if sampler.missing:
                out["note"] = "replica INFO has no slave_repl_offset"
            want = dbsize(master.port)
            wait(lambda: all(dbsize(r.port) == want for r in reps), 60, "replica DBSIZE == master's")
            out["keys"] = want
    finally:
        for r in reps:
            r.stop()
        master.stop()
    return out


def fullsync(kind: str, keys: int, python: str, core: int | None, side: int | None) -> dict:
    out: dict = {"server": kind, "keys": keys}
    master = start(kind, core, python)
    replica = None
    try:
        t0 = time.perf_counter()
        out["fill"] = populate(master.port, keys)
        out["fill_s"] = time.perf_counter() - t0
        if dbsize(master.port) != keys:
            raise RuntimeError(f"master holds {dbsize(master.port)} keys, not {keys}")
        replica = start(kind, None, python)
        t0 = time.perf_counter()
        r = send_command(replica.port, b"REPLICAOF", b"127.0.0.1", str(master.port).encode())
        if not r.startswith(b"+OK"):
            raise RuntimeError(f"REPLICAOF answered {r!r}")
        wait(lambda: info(replica.port, timeout=30).get("master_link_status") == "up", 600, "link up", every=0.01)
        out["link_up_s"] = time.perf_counter() - t0
        wait(lambda: dbsize(replica.port) == keys, 600, "replica DBSIZE", every=0.01)
        out["sync_s"] = time.perf_counter() - t0
        out["sync_full"] = int(info(master.port, b"stats")["sync_full"])
    finally:
        if replica:
            replica.stop()
        master.stop()
    return out


def ratio(a, b) -> str:
    return f"{a / b:.2f}" if a is not None and b else "n/a"


def num(x, fmt: str = ",.0f") -> str:
    return "n/a" if x is None else format(x, fmt)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tests", default="throughput,fullsync")
    ap.add_argument("--requests", type=int, default=200_000, help="redis-benchmark -n")
    ap.add_argument("--keys", type=int, default=1_000_000, help="keys for the full sync")
    ap.add_argument("--replicas", default="0,1,3")
    ap.add_argument("--quick", action="store_true", help="20k requests, 100k keys")
    ap.add_argument("--servers", default="ours,redis", help="which to run (ratios need both)")
    ap.add_argument("--python", default=sys.executable)
    args = ap.parse_args(argv)
    install_signal_exit()
    if args.quick:
        args.requests, args.keys = 20_000, 100_000
    core, side = (0, 1) if have_taskset((0, 1)) else (None, None)
    tests = args.tests.split(",")
    kinds = [k for k in KINDS if k in args.servers.split(",")]
    failed = 0

    if "throughput" in tests:
        print(f"\nredis-benchmark -t set -c 50 -n {args.requests:,} on a master with replicas of its kind")
        print(f"{'replicas':>8} {'server':6} {'req/s':>9} {'CPU us/req':>10} {'lag max B':>10} {'lag mean B':>10}"
              f" {'catch-up s':>10}")
        for nrep in [int(x) for x in args.replicas.split(",")]:
            rows = {}
            for kind in kinds:
                try:
                    rows[kind] = throughput(kind, nrep, args.requests, args.python, core, side)
                except Exception as e:  # one side failing must not end the run
                    failed += 1
                    print(f"{nrep:>8} {kind:6} FAILED: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
                    continue
                x = rows[kind]
                print(f"{nrep:>8} {kind:6} {x['rps']:>9,.0f} {x['cpu_us_per_req']:>10.2f} {num(x.get('lag_max')):>10}"
                      f" {num(x.get('lag_mean')):>10} {num(x.get('catchup_s'), '.3f'):>10}"
                      + (f"  ({x['note']})" if x.get("note") else ""))
            if len(rows) == 2:
                o, r = rows["ours"], rows["redis"]
                print(f"{'':8} {'ratio':6} {ratio(o['rps'], r['rps']):>9} {ratio(o['cpu_us_per_req'], r['cpu_us_per_req']):>10}"
                      f" {ratio(o.get('lag_max'), r.get('lag_max')):>10} {ratio(o.get('lag_mean'), r.get('lag_mean')):>10}"
                      f" {ratio(o.get('catchup_s'), r.get('catchup_s')):>10}")

    if "fullsync" in tests:
        print(f"\nfull sync of {args.keys:,} keys to a fresh replica (REPLICAOF until link up and DBSIZE equal)")
        rows = {}
        for kind in kinds:
            try:
                rows[kind] = x = fullsync(kind, args.keys, args.python, core, side)
            except Exception as e:
                failed += 1
                print(f"  {kind:6} FAILED: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
                continue
            print(f"  {kind:6} fill {x['fill_s']:.2f}s ({x['fill']})  link up {x['link_up_s']:.2f}s"
                  f"  synced {x['sync_s']:.2f}s  sync_full={x['sync_full']}")
        if len(rows) == 2:
            print(f"  ratio  sync time ours/redis {ratio(rows['ours']['sync_s'], rows['redis']['sync_s'])}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
