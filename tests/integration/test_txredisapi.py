"""txredisapi, the Twisted Redis client, against twistd-redis (its reactor runs in a child process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(__file__), "txredisapi_script.py")


def test_txredisapi_client(port):
    p = subprocess.run([sys.executable, SCRIPT, str(port)], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    out = json.loads(p.stdout.decode().strip().splitlines()[-1])
    assert out == {
        "ping": "PONG",
        "set": "OK",
        "get": "v",
        "incr": 1,
        "incrby": 42,
        "mset": "OK",
        "mget": [1, 2, None],  # txredisapi converts numeric strings
        "expire": 1,
        "ttl": 100,
        "exists": 1,
        "delete": 2,
        "type": "string",
        "error": "ERR wrong number of arguments for 'get' command",
        "pipelined": True,
        "pool": 50,
    }
