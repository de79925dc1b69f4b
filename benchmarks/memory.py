#!/usr/bin/env python3
"""Resident memory per key / hash field / sorted-set member: twistd-redis beside a real redis-server.

    python benchmarks/memory.py [--suite strings|collections|all] [--quick] [--keys 1000000]
                                [--value xxx] [--fields 1000000] [--hashes 1] [--members 1000000]
                                [--batch 10000] [--no-json]

Workloads (--suite strings, the default, runs the first; collections the other two; all every one):

  strings  N keys `key:%012d` -> value (SET)                                    bytes per key, target <= 1.6x
  hash     N fields `f:%012d` -> value spread over H hashes `hash:%06d` (HSET)   bytes per field
           (default: one hash of 1,000,000 fields; --hashes 1000 gives 1000 hashes of 1000 fields)
  zset     N members `m:%012d` with score i in one sorted set `zset` (ZADD)      bytes per member

For each workload and server: start a fresh server, read VmRSS from /proc/PID/status, load the
data with pipelined commands over one raw socket (what `redis-cli --pipe` does; the same bytes for
both servers, since DEBUG POPULATE does not exist on ours), let it settle, read VmRSS again, and
print (after - before) / N and the ours/redis ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import REPO, Server, free_port, have_taskset, install_signal_exit, rss_bytes, send_command  # noqa: E402

TARGET = 1.6  # strings only; the project sets no target for hashes and sorted sets


def bulk(b: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(b), b)


@dataclass
class Workload:
    name: str  # strings / hash / zset
    unit: str  # what N counts: key / field / member
    n: int
    command: Callable[[int], bytes]  # RESP bytes of the i-th write
    ok_reply: bytes  # prefix of every expected reply line (each reply is one line)
    describe: str  # for the output and the JSON
    target: float | None = None


def strings_workload(n: int, value: bytes) -> Workload:
    vb = bulk(value)
    # "key:" + 12 digits = 16 bytes
    return Workload("strings", "key", n, lambda i: b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n%s" % (i, vb),
                    b"+OK", f"{n:,} keys key:%012d -> {value.decode(errors='replace')!r} (SET)", TARGET)


def hash_workload(n: int, hashes: int, value: bytes) -> Workload:
    vb = bulk(value)
    per = -(-n // hashes)  # fields per hash, the last one may hold fewer
    # "hash:" + 6 digits = 11 bytes; "f:" + 12 digits = 14 bytes
    return Workload("hash", "field", n,
                    lambda i: b"*4\r\n$4\r\nHSET\r\n$11\r\nhash:%06d\r\n$14\r\nf:%012d\r\n%s" % (i // per, i, vb),
                    b":1", f"{n:,} fields in {hashes:,} hash{'es' if hashes > 1 else ''} hash:%06d of "
                    f"{per:,} fields f:%012d -> {value.decode(errors='replace')!r} (HSET)")


def zset_workload(n: int) -> Workload:
    # "m:" + 12 digits = 14 bytes; score = i (integer)
    def cmd(i: int) -> bytes:
        score = b"%d" % i
        return b"*4\r\n$4\r\nZADD\r\n$4\r\nzset\r\n%s$14\r\nm:%012d\r\n" % (bulk(score), i)
    return Workload("zset", "member", n, cmd, b":1", f"{n:,} members m:%012d with score i in one sorted set (ZADD)")


def load(port: int, w: Workload, batch: int) -> tuple[float, int]:
    """Send w.command(i) for i in range(w.n), `batch` commands per write, reading the replies of
    each batch before the next; returns (seconds, unexpected replies). Every reply to these
    commands is one line (+OK / :1 / -ERR), so counting CRLFs counts replies."""
    errors = 0
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for start in range(0, w.n, batch):
            stop = min(w.n, start + batch)
            s.sendall(b"".join(w.command(i) for i in range(start, stop)))
            want, got, buf = stop - start, 0, b""
            while got < want:
                chunk = s.recv(1 << 20)
                if not chunk:
                    raise RuntimeError("server closed the connection while loading")
                buf += chunk
                lines = buf.split(b"\r\n")
                buf = lines.pop()
                got += len(lines)
                errors += sum(1 for ln in lines if not ln.startswith(w.ok_reply))
    return time.perf_counter() - t0, errors


def reply_int(port: int, *args: bytes) -> int | None:
    try:
        r = send_command(port, *args)
        return int(r[1 : r.index(b"\r\n")]) if r.startswith(b":") else None
    except (OSError, ValueError):
        return None


def reply_bulk(port: int, *args: bytes) -> str | None:
    try:
        r = send_command(port, *args)
        return r.split(b"\r\n")[1].decode() if r.startswith(b"$") and not r.startswith(b"$-1") else None
    except (OSError, ValueError, IndexError):
        return None


def verify(port: int, w: Workload, hashes: int) -> dict:
    """What the server holds after the load: DBSIZE, the size and encoding of the collection(s)."""
    out: dict = {"dbsize": reply_int(port, b"DBSIZE")}
    if w.name == "hash":
        per = -(-w.n // hashes)
        first, last = b"hash:%06d" % 0, b"hash:%06d" % ((w.n - 1) // per)
        out["expected_dbsize"] = (w.n - 1) // per + 1
        out["hlen_first"] = reply_int(port, b"HLEN", first)
        out["hlen_last"] = reply_int(port, b"HLEN", last)
        out["expected_hlen_first"] = min(per, w.n)
        out["expected_hlen_last"] = w.n - ((w.n - 1) // per) * per
        out["encoding"] = reply_bulk(port, b"OBJECT", b"ENCODING", first)
    elif w.name == "zset":
        out["expected_dbsize"] = 1
        out["zcard"] = reply_int(port, b"ZCARD", b"zset")
        out["expected_zcard"] = w.n
        out["encoding"] = reply_bulk(port, b"OBJECT", b"ENCODING", b"zset")
    else:
        out["expected_dbsize"] = w.n
    return out


def problems(r: dict) -> list[str]:
    """Mismatches between what was loaded and what the server reports (should be none)."""
    v = r["verify"]
    bad = [f"{r['error_replies']} unexpected replies"] if r["error_replies"] else []
    for name in ("dbsize", "hlen_first", "hlen_last", "zcard"):
        if name in v and v[name] is not None and v[name] != v.get(f"expected_{name}"):
            bad.append(f"{name.upper()} {v[name]} (expected {v.get(f'expected_{name}')})")
    return bad


def measure(name: str, core: int | None, python: str, src: str | None, w: Workload, hashes: int,
            batch: int, settle: float) -> dict:
    srv = Server(name, name, free_port(), core, python, src)
    try:
        srv.start()
        time.sleep(settle)
        before = rss_bytes(srv.pid)
        secs, errors = load(srv.port, w, batch)
        time.sleep(settle)
        after = rss_bytes(srv.pid)
        return {"server": name, "version": srv.version(), "workload": w.name, "unit": w.unit, "n": w.n,
                "rss_before": before, "rss_after": after, "bytes_per_unit": (after - before) / w.n,
                "load_seconds": secs, "load_rate": w.n / secs, "error_replies": errors,
                "verify": verify(srv.port, w, hashes)}
    finally:
        srv.stop()


SUITES = {"strings": ["strings"], "collections": ["hash", "zset"], "all": ["strings", "hash", "zset"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", default="strings", choices=list(SUITES),
                    help="strings (default): string keys; collections: hash fields and zset members; all: both")
    ap.add_argument("--quick", action="store_true", help="a tenth of every count (100,000 by default)")
    ap.add_argument("--keys", type=int, default=1_000_000, help="strings: number of keys")
    ap.add_argument("--value", default="xxx", help="strings and hash: the value stored")
    ap.add_argument("--fields", type=int, default=1_000_000, help="hash: number of fields in all")
    ap.add_argument("--hashes", type=int, default=1, help="hash: number of hashes the fields are spread over")
    ap.add_argument("--members", type=int, default=1_000_000, help="zset: number of members (one sorted set)")
    ap.add_argument("--batch", type=int, default=10_000, help="commands per pipelined write")
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
    div = 10 if args.quick else 1
    hashes = max(1, args.hashes)
    value = args.value.encode()
    builders = {
        "strings": lambda: strings_workload(max(1, args.keys // div), value),
        "hash": lambda: hash_workload(max(1, args.fields // div), min(hashes, max(1, args.fields // div)), value),
        "zset": lambda: zset_workload(max(1, args.members // div)),
    }
    workloads = [builders[name]() for name in SUITES[args.suite]]
    install_signal_exit()

    report = []
    for w in workloads:
        print(f"== {w.name}: {w.describe}", flush=True)
        results = []
        for nm in names:
            try:
                hashes_used = min(hashes, w.n) if w.name == "hash" else 1
                r = measure(nm, core, args.python, args.ours_src, w, hashes_used, args.batch, args.settle)
            except RuntimeError as e:
                print(f"error: {e}", file=sys.stderr)
                return 2
            results.append(r)
            v = r["verify"]
            extra = "".join(f", {k.upper()} {v[k]}" for k in ("hlen_first", "zcard", "encoding") if k in v)
            print(f"   {nm:<6} loaded {w.n:,} {w.unit}s in {r['load_seconds']:.1f}s "
                  f"({r['load_rate']:,.0f}/s, {r['error_replies']} unexpected replies, DBSIZE {v['dbsize']}{extra})",
                  flush=True)
        by = {r["server"]: r for r in results}
        rat = (by["ours"]["bytes_per_unit"] / by["redis"]["bytes_per_unit"]
               if "ours" in by and "redis" in by and by["redis"]["bytes_per_unit"] > 0 else None)
        report.append({"workload": w.name, "unit": w.unit, "n": w.n, "describe": w.describe,
                       "results": results, "ratio": rat, "target": w.target})

    for item in report:
        unit = f"bytes/{item['unit']}"
        print(f"\n{item['workload']}: {item['describe']}")
        print(f"{'server':<8}{'RSS before':>14}{'RSS after':>14}{unit:>14}")
        for r in item["results"]:
            print(f"{r['server']:<8}{r['rss_before'] / 2**20:>11.1f} MB{r['rss_after'] / 2**20:>11.1f} MB"
                  f"{r['bytes_per_unit']:>14.1f}")
        rat, target = item["ratio"], item["target"]
        if rat is not None:
            verdict = f"target <= {target}: {'ok' if rat <= target else 'MISS'}" if target else "no target set"
            print(f"ratio ours/redis {unit}: {rat:.2f}  ({verdict})")
        for r in item["results"]:
            bad = problems(r)
            if bad:
                print(f"warning: {r['server']}: {'; '.join(bad)}")

    if not args.no_json:
        path = Path(args.json) if args.json else (
            REPO / "benchmarks" / "results" / f"memory-{time.strftime('%Y%m%d-%H%M%S')}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {"argv": sys.argv, "suite": args.suite, "quick": args.quick, "pinned_core": core,
               "value": args.value, "workloads": report, "loadavg": os.getloadavg()}
        strings = next((item for item in report if item["workload"] == "strings"), None)
        if strings is not None:  # the layout of the strings-only version of this script
            doc.update(results=strings["results"], ratio=strings["ratio"], target=TARGET)
        path.write_text(json.dumps(doc, indent=1))
        print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
