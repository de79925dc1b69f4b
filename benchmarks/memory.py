#!/usr/bin/env python3
"""Resident memory per small string key: twistd-redis beside a real redis-server.

    python benchmarks/memory.py [--keys 1000000] [--value xxx] [--batch 10000] [--no-json]

For each server: start it, read VmRSS from /proc/PID/status, load N keys `key:%012d` -> value with
pipelined SETs over one raw socket (big batches; the same loader for both servers, since DEBUG
POPULATE does not exist on ours), let it settle, read VmRSS again, and print
(after - before) / N bytes per key and the ours/redis ratio (target <= 1.6x).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import REPO, Server, free_port, have_taskset, install_signal_exit, rss_bytes, send_command  # noqa: E402

TARGET = 1.6


def load_keys(port: int, n: int, value: bytes, batch: int) -> tuple[float, int]:
    """SET key:%012d value for i in range(n), `batch` commands per write; returns
    (seconds, error replies). Every reply to SET is one line (+OK or -ERR), so counting
    CRLFs counts replies."""
    vhdr = b"$%d\r\n%s\r\n" % (len(value), value)
    errors = 0
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for start in range(0, n, batch):
            stop = min(n, start + batch)
            # "key:" + 12 digits = 16 bytes
            s.sendall(b"".join(b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n%s" % (i, vhdr)
                               for i in range(start, stop)))
            want, got, buf = stop - start, 0, b""
            while got < want:
                chunk = s.recv(1 << 20)
                if not chunk:
                    raise RuntimeError("server closed the connection while loading")
                buf += chunk
                lines = buf.split(b"\r\n")
                buf = lines.pop()
                got += len(lines)
                errors += sum(1 for ln in lines if not ln.startswith(b"+OK"))
    return time.perf_counter() - t0, errors


def dbsize(port: int) -> int | None:
    try:
        r = send_command(port, b"DBSIZE")
        return int(r[1 : r.index(b"\r\n")]) if r.startswith(b":") else None
    except (OSError, ValueError):
        return None


def measure(name: str, core: int | None, python: str, src: str | None, n: int, value: bytes,
            batch: int, settle: float) -> dict:
    srv = Server(name, name, free_port(), core, python, src)
    try:
        srv.start()
        time.sleep(settle)
        before = rss_bytes(srv.pid)
        secs, errors = load_keys(srv.port, n, value, batch)
        time.sleep(settle)
        after = rss_bytes(srv.pid)
        size = dbsize(srv.port)
        return {"server": name, "version": srv.version(), "keys": n, "rss_before": before,
                "rss_after": after, "bytes_per_key": (after - before) / n, "load_seconds": secs,
                "load_rate": n / secs, "error_replies": errors, "dbsize": size}
    finally:
        srv.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--value", default="xxx")
    ap.add_argument("--batch", type=int, default=10_000, help="SETs per pipelined write")
    ap.add_argument("--servers", default="ours,redis")
    ap.add_argument("--server-core", type=int, default=0)
    ap.add_argument("--no-taskset", action="store_true")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds to wait before each RSS read")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--ours-src", default=None, metavar="DIR",
                    help="checkout to run twistd-redis from (default: this repo)")
    ap.add_argument("--json", default=None, metavar="PATH")
    ap.add_argument("--no-json", action="store_true")
    args = ap.parse_args(argv)
    names = [s.strip() for s in args.servers.split(",") if s.strip()]
    core = None if args.no_taskset or not have_taskset((args.server_core,)) else args.server_core
    install_signal_exit()

    results = []
    for nm in names:
        try:
            r = measure(nm, core, args.python, args.ours_src, args.keys, args.value.encode(), args.batch,
                        args.settle)
        except RuntimeError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        results.append(r)
        print(f"{nm:<6} loaded {r['keys']:,} keys in {r['load_seconds']:.1f}s "
              f"({r['load_rate']:,.0f} SET/s, {r['error_replies']} error replies, DBSIZE {r['dbsize']})",
              flush=True)

    print(f"\n{'server':<8}{'RSS before':>14}{'RSS after':>14}{'bytes/key':>11}")
    for r in results:
        print(f"{r['server']:<8}{r['rss_before'] / 2**20:>11.1f} MB{r['rss_after'] / 2**20:>11.1f} MB"
              f"{r['bytes_per_key']:>11.1f}")
    by = {r["server"]: r for r in results}
    rat = None
    if "ours" in by and "redis" in by:
        rat = by["ours"]["bytes_per_key"] / by["redis"]["bytes_per_key"]
        print(f"ratio ours/redis bytes/key: {rat:.2f}  (target <= {TARGET}: "
              f"{'ok' if rat <= TARGET else 'MISS'})")
    for r in results:
        if r["error_replies"] or (r["dbsize"] is not None and r["dbsize"] != r["keys"]):
            print(f"warning: {r['server']} had {r['error_replies']} error replies, "
                  f"DBSIZE {r['dbsize']} (expected {r['keys']})")

    if not args.no_json:
        path = Path(args.json) if args.json else (
            REPO / "benchmarks" / "results" / f"memory-{time.strftime('%Y%m%d-%H%M%S')}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"argv": sys.argv, "pinned_core": core, "value": args.value,
                                    "results": results, "ratio": rat, "target": TARGET,
                                    "loadavg": os.getloadavg()}, indent=1))
        print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
