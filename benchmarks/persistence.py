#!/usr/bin/env python3
"""Persistence: twistd-redis beside a real redis-server.

    python benchmarks/persistence.py [--keys N] [--tests save_load,bgsave,aof] [--quick] [--no-json]

* save_load: fill N small string keys (``key:<i>`` -> ``value:<i>``, what DEBUG POPULATE writes)
  with pipelined MSETs, then time SAVE (wall time of the call) and sample the server's RSS every
  5 ms while it runs (peak above the RSS before it); then stop the server and start a fresh one on
  the same dump.rdb: the load time is the time to the first PONG minus the same server's start time
  on an empty folder, the load memory its VmHWM (peak RSS) once loaded. Both servers are checked
  to hold N keys after the load.
* bgsave: with the N keys loaded, one client sends GET back to back for a second (the baseline),
  then BGSAVE is started from a second connection and the GETs go on until INFO reports the save
  done. Reports p50 / p99 / max GET latency in both windows and how long the BGSAVE took.
* aof: ``redis-benchmark -t set -n M -c 50`` against servers started with ``--appendonly yes``
  and ``--appendfsync always`` / ``everysec``: req/s and the ratio ours/redis for each.

Servers are pinned to core 0, the clients to core 1 (taskset), as in the other benchmarks.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import (  # noqa: E402
    REPO,
    Server,
    free_port,
    have_taskset,
    install_signal_exit,
    mset_fill,
    pinned,
    rss_bytes,
    send_command,
)

CHUNK = 1000  # keys per MSET


def vm_hwm(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def fill(port: int, n: int) -> None:
    """N keys key:<i> = value:<i>, MSETs of CHUNK keys, 50 in flight."""
    mset_fill(port, n, CHUNK)


def dbsize(port: int) -> int:
    r = send_command(port, b"DBSIZE")
    return int(r[1:r.index(b"\r\n")])


def info_field(port: int, section: bytes, name: str) -> str:
    for line in send_command(port, b"INFO", section).decode().split("\r\n"):
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    return ""


def start_time(srv: Server) -> float:
    t0 = time.perf_counter()
    srv.start(timeout=600)
    return time.perf_counter() - t0


def save_load(kind: str, n: int, python: str, core: int | None) -> dict:
    port = free_port()
    srv = Server(kind, kind, port, core, python)
    out: dict = {"server": kind, "keys": n}
    try:
        out["empty_start_s"] = start_time(srv)
        t0 = time.perf_counter()
        fill(port, n)
        out["fill_s"] = time.perf_counter() - t0
        assert dbsize(port) == n
        before = rss_bytes(srv.pid)
        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                try:
                    peak[0] = max(peak[0], rss_bytes(srv.pid))
                except (OSError, RuntimeError):
                    pass
                time.sleep(0.005)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        t0 = time.perf_counter()
        r = send_command(port, b"SAVE", timeout=600)
        out["save_s"] = time.perf_counter() - t0
        done.set()
        th.join()
        if not r.startswith(b"+OK"):
            raise RuntimeError(f"SAVE answered {r!r}")
        out["rss_before_save"] = before
        out["save_peak_extra_rss"] = peak[0] - before
        out["rdb_bytes"] = os.path.getsize(os.path.join(srv.workdir, "dump.rdb"))
        srv.stop(keep=True)
        srv2 = Server(kind, kind, free_port(), core, python, workdir=srv.workdir)
        try:
            out["loaded_start_s"] = start_time(srv2)
            out["load_s"] = out["loaded_start_s"] - out["empty_start_s"]
            out["load_peak_rss"] = vm_hwm(srv2.pid)
            out["rss_after_load"] = rss_bytes(srv2.pid)
            out["keys_after_load"] = dbsize(srv2.port)
        finally:
            srv2.stop()
    finally:
        srv.stop()
    return out


def _percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def bgsave(kind: str, n: int, python: str, core: int | None) -> dict:
    port = free_port()
    srv = Server(kind, kind, port, core, python)
    out: dict = {"server": kind, "keys": n}
    try:
        srv.start()
        fill(port, n)
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            req = b"*2\r\n$3\r\nGET\r\n$7\r\nkey:123\r\n"

            def one() -> float:
                t = time.perf_counter()
                s.sendall(req)
                got = b""
                while not got.endswith(b"\r\n") or got.count(b"\r\n") < 2:
                    got += s.recv(4096)
                return time.perf_counter() - t

            base = []
            end = time.perf_counter() + 1.0
            while time.perf_counter() < end:
                base.append(one())
            during = []
            t0 = time.perf_counter()
            r = send_command(port, b"BGSAVE")
            if not r.startswith(b"+Background saving started"):
                raise RuntimeError(f"BGSAVE answered {r!r}")
            next_poll = 0.0
            while True:
                during.append(one())
                now = time.perf_counter()
                if now >= next_poll:
                    next_poll = now + 0.05
                    if info_field(port, b"persistence", "rdb_bgsave_in_progress") == "0":
                        break
                if now - t0 > 600:
                    raise RuntimeError("BGSAVE did not finish")
            out["bgsave_s"] = time.perf_counter() - t0
            out["bgsave_status"] = info_field(port, b"persistence", "rdb_last_bgsave_status")
        for name, xs in (("idle", base), ("during_bgsave", during)):
            out[name] = {"gets": len(xs), "p50_ms": statistics.median(xs) * 1000,
                         "p99_ms": _percentile(xs, 0.99) * 1000, "max_ms": max(xs) * 1000}
    finally:
        srv.stop()
    return out


def aof(kind: str, fsync: str, requests: int, python: str, core: int | None, client_core: int | None) -> dict:
    port = free_port()
    srv = Server(kind, kind, port, core, python, extra=["--appendonly", "yes", "--appendfsync", fsync])
    try:
        srv.start()
        cmd = pinned(["redis-benchmark", "-p", str(port), "-t", "set", "-n", str(requests), "-c", "50",
                      "-q", "--csv"], client_core)
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        line = [ln for ln in res.stdout.splitlines() if ln.startswith('"SET"')]
        rps = float(line[0].split(",")[1].strip('"')) if line else 0.0
        aof_dir = os.path.join(srv.workdir, "appendonlydir")
        size = sum(os.path.getsize(os.path.join(aof_dir, f)) for f in os.listdir(aof_dir)) if os.path.isdir(aof_dir) else 0
        return {"server": kind, "appendfsync": fsync, "requests": requests, "rps": rps, "aof_bytes": size,
                "status": info_field(port, b"persistence", "aof_last_write_status")}
    finally:
        srv.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=100_000, help="redis-benchmark -n for the aof test")
    ap.add_argument("--tests", default="save_load,bgsave,aof")
    ap.add_argument("--quick", action="store_true", help="100k keys, 20k requests")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--no-json", action="store_true")
    args = ap.parse_args(argv)
    install_signal_exit()
    if args.quick:
        args.keys, args.requests = 100_000, 20_000
    core, client_core = (0, 1) if have_taskset((0, 1)) else (None, None)
    tests = args.tests.split(",")
    report: dict = {"keys": args.keys, "when": time.strftime("%Y-%m-%d %H:%M:%S")}

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}" if b else "n/a"

    if "save_load" in tests:
        rows = {k: save_load(k, args.keys, args.python, core) for k in ("ours", "redis")}
        report["save_load"] = rows
        o, r = rows["ours"], rows["redis"]
        print(f"\nSAVE / load of {args.keys:,} string keys")
        print(f"{'':24}{'ours':>12}{'redis':>12}{'ratio':>8}")
        for name, unit, scale in (("save_s", "s", 1), ("save_peak_extra_rss", "MB", 1e-6), ("rdb_bytes", "MB", 1e-6),
                                  ("load_s", "s", 1), ("load_peak_rss", "MB", 1e-6), ("rss_after_load", "MB", 1e-6),
                                  ("keys_after_load", "", 1)):
            print(f"{name + ' (' + unit + ')' if unit else name:24}{o[name] * scale:>12.2f}{r[name] * scale:>12.2f}"
                  f"{ratio(o[name], r[name]):>8}")
    if "bgsave" in tests:
        rows = {k: bgsave(k, args.keys, args.python, core) for k in ("ours", "redis")}
        report["bgsave"] = rows
        print(f"\nGET latency (ms) before and during BGSAVE of {args.keys:,} keys")
        for k, row in rows.items():
            for w in ("idle", "during_bgsave"):
                x = row[w]
                print(f"  {k:6}{w:15} gets={x['gets']:>7} p50={x['p50_ms']:.3f} p99={x['p99_ms']:.3f} max={x['max_ms']:.2f}")
            print(f"  {k:6}BGSAVE took {row['bgsave_s']:.2f}s, status {row['bgsave_status']}")
    if "aof" in tests:
        rows = []
        for fsync in ("always", "everysec"):
            pair = {k: aof(k, fsync, args.requests, args.python, core, client_core) for k in ("ours", "redis")}
            rows.append(pair)
        report["aof"] = rows
        print(f"\nredis-benchmark -t set -n {args.requests} -c 50 with appendonly yes")
        for pair in rows:
            o, r = pair["ours"], pair["redis"]
            print(f"  appendfsync {o['appendfsync']:9} ours {o['rps']:>10.0f} rps  redis {r['rps']:>10.0f} rps"
                  f"  ratio {ratio(o['rps'], r['rps'])}  (aof bytes {o['aof_bytes']} / {r['aof_bytes']})")
    if not args.no_json:
        path = REPO / "benchmarks" / "results" / f"persistence-{time.strftime('%Y%m%d-%H%M%S')}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(report, indent=1))
        print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
