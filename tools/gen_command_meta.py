#!/usr/bin/env python3
"""Dump what COMMAND INFO and COMMAND DOCS of a real redis-server say, for every command and
subcommand, into ``twistd_redis/commands/redis_meta.json``.

The server's own rows (``twistd_redis/commands/table.py``) give name, arity, flags and key
positions; this file adds what the rows lack: ACL categories, tips, key specs and the
documentation (summary, since, group, complexity, doc flags, history, arguments). Arity, flags
and key positions are stored too, but only so the test suite can check our rows against them.

The data comes from Redis 7.0.15 (https://redis.io, BSD-3-Clause licensed) and is regenerated
with::

    redis-server --port 7785 --save '' --appendonly no --daemonize yes
    python tools/gen_command_meta.py --port 7785

Re-running against the same server version gives the same file, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from typing import Any

import hiredis

OUT = os.path.join(os.path.dirname(__file__), os.pardir, "twistd_redis", "commands", "redis_meta.json")


def request(sock: socket.socket, reader: hiredis.Reader, *args: str) -> Any:
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
    sock.sendall(b"".join(parts))
    while True:
        r = reader.gets()
        if r is not False:
            if isinstance(r, hiredis.ReplyError):
                raise SystemExit(f"{args}: {r}")
            return r
        data = sock.recv(1 << 20)
        if not data:
            raise SystemExit("connection closed")
        reader.feed(data)


def text(v: Any) -> Any:
    """bytes -> str, recursively (maps keep their order; sets arrive as lists, in order)."""
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, list):
        return [text(x) for x in v]
    if isinstance(v, dict):
        return {text(k): text(x) for k, x in v.items()}
    return v


def walk_info(entry: list, out: dict) -> None:
    name, arity, flags, first, last, step, acl, tips, key_specs, subs = entry
    name = name.decode()
    row: dict[str, Any] = {
        "arity": arity,
        "flags": text(flags),
        "keys": [first, last, step],
        "acl": text(acl),
    }
    if tips:
        row["tips"] = text(tips)
    if key_specs:
        row["key_specs"] = text(key_specs)
    out[name] = row
    for sub in subs or []:
        walk_info(sub, out)


def walk_docs(name: str, doc: dict, out: dict) -> None:
    doc = text(doc)
    subs = doc.pop("subcommands", None)
    out[name]["docs"] = doc
    for subname, subdoc in (subs or {}).items():
        walk_docs(subname, subdoc, out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=6379)
    ap.add_argument("--out", default=OUT)
    opts = ap.parse_args()

    sock = socket.create_connection((opts.host, opts.port))
    reader = hiredis.Reader()
    request(sock, reader, "HELLO", "3")
    info = request(sock, reader, "INFO", "server")
    version = next(
        line.split(":", 1)[1] for line in info.decode().splitlines() if line.startswith("redis_version:")
    )
    commands: dict[str, Any] = {}
    for entry in request(sock, reader, "COMMAND", "INFO"):
        walk_info(entry, commands)
    for name, doc in request(sock, reader, "COMMAND", "DOCS").items():
        walk_docs(name.decode(), doc, commands)
    sock.close()

    # Modules' commands would carry "module" in their docs group: a plain server has none.
    data = {
        "source": f"Redis {version} COMMAND INFO / COMMAND DOCS (BSD-3-Clause, https://redis.io)",
        "version": version,
        "commands": dict(sorted(commands.items())),
    }
    with open(opts.out, "w") as f:
        json.dump(data, f, separators=(",", ":"), sort_keys=False)
        f.write("\n")
    print(f"{len(commands)} commands from Redis {version} -> {os.path.normpath(opts.out)}", file=sys.stderr)


if __name__ == "__main__":
    main()
