"""CONFIG GET of common parameters (both servers start with the same flags), CONFIG SET errors."""

from __future__ import annotations

import pytest

from tests.compat.differ import Pairs

pytestmark = pytest.mark.compat

# port, dir, pidfile, logfile, unixsocket... legitimately differ between the two processes
PARAMS = [
    "maxmemory", "maxmemory-policy", "maxmemory-samples", "databases", "save", "appendonly",
    "appendfsync", "appendfilename", "dbfilename", "requirepass", "timeout", "tcp-keepalive",
    "tcp-backlog", "hz", "dynamic-hz", "loglevel", "maxclients", "proto-max-bulk-len",
    "client-query-buffer-limit", "notify-keyspace-events", "lazyfree-lazy-expire",
    "lazyfree-lazy-user-del", "lazyfree-lazy-user-flush", "active-expire-effort", "bind", "protected-mode",
    "replica-read-only", "replica-serve-stale-data", "repl-backlog-size", "repl-timeout", "repl-diskless-sync",
    "min-replicas-to-write", "slowlog-log-slower-than", "slowlog-max-len", "latency-tracking",
    "hash-max-listpack-entries", "hash-max-listpack-value", "hash-max-ziplist-entries",
    "list-max-listpack-size", "list-compress-depth", "set-max-intset-entries", "zset-max-listpack-entries",
    "stream-node-max-entries", "activerehashing", "lua-time-limit", "busy-reply-threshold",
    "rdbcompression", "rdbchecksum", "stop-writes-on-bgsave-error", "aof-use-rdb-preamble",
    "client-output-buffer-limit", "daemonize", "supervised", "io-threads", "cluster-enabled",
    "enable-debug-command", "enable-protected-configs", "maxmemory-clients", "set-proc-title",
]


@pytest.mark.parametrize("param", PARAMS)
def test_config_get(check, param):
    check([("CONFIG", "GET", param)])


def test_config_get_globs_and_several(check):
    check([
        Pairs(("CONFIG", "GET", "maxmemory*")),
        Pairs(("CONFIG", "GET", "*-max-*-entries")),
        Pairs(("CONFIG", "GET", "hash-max-listpack-entries", "maxmemory", "hash-max-*")),
        ("CONFIG", "GET", "no-such-param"),
        ("CONFIG", "GET", "MAXMEMORY"),
    ])


def test_config_set_and_errors(check):
    check([
        ("CONFIG", "SET", "maxmemory", "10mb"),
        ("CONFIG", "GET", "maxmemory"),
        ("CONFIG", "SET", "maxmemory", "1gb"),
        ("CONFIG", "GET", "maxmemory"),
        ("CONFIG", "SET", "maxmemory", "0"),
        ("CONFIG", "SET", "maxmemory", "abc"),
        ("CONFIG", "SET", "maxmemory", "-1"),
        ("CONFIG", "SET", "maxmemory-policy", "allkeys-lru"),
        ("CONFIG", "GET", "maxmemory-policy"),
        ("CONFIG", "SET", "maxmemory-policy", "bogus"),
        ("CONFIG", "SET", "maxmemory-policy", "noeviction"),
        ("CONFIG", "SET", "hz", "abc"),
        ("CONFIG", "SET", "hz", "500"),
        ("CONFIG", "GET", "hz"),
        ("CONFIG", "SET", "hz", "10"),
        ("CONFIG", "SET", "appendonly", "maybe"),
        ("CONFIG", "SET", "no-such-param", "1"),
        ("CONFIG", "SET", "port"),
        ("CONFIG", "SET", "databases", "32"),
        ("CONFIG", "SET", "daemonize", "yes"),
        ("CONFIG", "SET", "maxmemory", "1mb", "maxmemory", "2mb"),
        ("CONFIG", "SET", "maxmemory", "1mb", "hz", "bad"),
        ("CONFIG", "GET", "maxmemory"),
        ("CONFIG", "SET", "notify-keyspace-events", "KEA"),
        ("CONFIG", "GET", "notify-keyspace-events"),
        ("CONFIG", "SET", "notify-keyspace-events", "Z"),
        ("CONFIG", "SET", "notify-keyspace-events", "bogus!"),
        ("CONFIG", "SET", "notify-keyspace-events", ""),
        ("CONFIG", "SET", "save", "100 10"),
        ("CONFIG", "GET", "save"),
        ("CONFIG", "SET", "save", "100"),
        ("CONFIG", "SET", "save", ""),
        ("CONFIG", "SET", "maxmemory", "0"),
        ("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60"),
        ("CONFIG", "GET", "client-output-buffer-limit"),
        ("CONFIG", "SET", "client-output-buffer-limit", "bogus 1 2 3"),
    ], resp=(2,))
