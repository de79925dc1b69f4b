"""Server commands (twistd_redis/commands/server.py): INFO, TIME, DEBUG, MONITOR, SLOWLOG,
SHUTDOWN, LATENCY - shapes, texts and bytes as Redis 7.0.15 answers them."""

import re

import pytest

from tests.unit.harness import START_TIME, FakeServer, ReplyError


def info_fields(text: bytes) -> dict[str, str]:
    out = {}
    for line in text.decode().split("\r\n"):
        if line and not line.startswith("#"):
            k, _, v = line.partition(":")
            out[k] = v
    return out


def headers(text: bytes) -> list[str]:
    return [ln for ln in text.decode().split("\r\n") if ln.startswith("# ")]


# ---------------------------------------------------------------- INFO


def test_info_default_sections(conn):
    assert headers(conn.call("INFO")) == [
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Replication",
        "# CPU",
        "# Modules",
        "# Errorstats",
        "# Cluster",
        "# Keyspace",
    ]
    assert headers(conn.call("INFO", "default")) == headers(conn.call("INFO"))


def test_info_all_and_everything(conn):
    want = [
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Replication",
        "# CPU",
        "# Modules",
        "# Commandstats",
        "# Errorstats",
        "# Latencystats",
        "# Cluster",
        "# Keyspace",
    ]
    assert headers(conn.call("INFO", "all")) == want
    assert headers(conn.call("INFO", "EVERYTHING")) == want


def test_info_exact_bytes_and_order(conn):
    # sections come in Redis's order whatever the request order; each ends with its lines'
    # "\r\n", a blank line separates them
    out = conn.raw(b"INFO keyspace cluster\r\n")
    assert out == b"$44\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n# Keyspace\r\n\r\n"
    assert conn.raw(b"INFO nosuchsection\r\n") == b"$0\r\n\r\n"
    assert conn.raw(b"INFO CLUSTER cluster\r\n") == b"$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n"


def test_info_resp3_is_verbatim(conn):
    conn.hello3()
    assert conn.raw(b"INFO cluster\r\n") == b"=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n"


def test_info_field_names_and_order_match_redis(conn):
    text = conn.call("INFO", "server", "clients", "persistence", "replication").decode()
    names = [ln.split(":")[0] for ln in text.split("\r\n") if ln and not ln.startswith("#")]
    assert names[:24] == [
        "redis_version",
        "redis_git_sha1",
        "redis_git_dirty",
        "redis_build_id",
        "redis_mode",
        "os",
        "arch_bits",
        "monotonic_clock",
        "multiplexing_api",
        "atomicvar_api",
        "gcc_version",
        "process_id",
        "process_supervised",
        "run_id",
        "tcp_port",
        "server_time_usec",
        "uptime_in_seconds",
        "uptime_in_days",
        "hz",
        "configured_hz",
        "lru_clock",
        "executable",
        "config_file",
        "io_threads_active",
    ]
    assert names[24:32] == [
        "connected_clients",
        "cluster_connections",
        "maxclients",
        "client_recent_max_input_buffer",
        "client_recent_max_output_buffer",
        "blocked_clients",
        "tracking_clients",
        "clients_in_timeout_table",
    ]
    assert "rdb_bgsave_in_progress" in names and "aof_enabled" in names
    assert names[-11:] == [
        "role",
        "connected_slaves",
        "master_failover_state",
        "master_replid",
        "master_replid2",
        "master_repl_offset",
        "second_repl_offset",
        "repl_backlog_active",
        "repl_backlog_size",
        "repl_backlog_first_byte_offset",
        "repl_backlog_histlen",
    ]


def test_info_values(server, conn):
    other = server.connect()
    conn.call("SET", "a", "1")
    conn.call("SET", "b", "2")
    conn.call("EXPIRE", "b", "100")
    conn.call("GET", "a")
    conn.call("GET", "zz")
    server.advance(5)
    f = info_fields(conn.call("INFO", "everything"))
    assert f["redis_version"] == "7.0.15"
    assert f["connected_clients"] == "2"
    assert f["uptime_in_seconds"] == "5"
    assert f["tcp_port"] == "6379"
    assert f["server_time_usec"] == str(int((START_TIME + 5) * 1_000_000))
    assert f["keyspace_hits"] == "1" and f["keyspace_misses"] == "1"
    assert f["role"] == "master"
    assert re.fullmatch("[0-9a-f]{40}", f["master_replid"])
    assert f["master_replid"] == server.state.repl.replid
    assert f["master_repl_offset"] == "0"
    assert f["rdb_changes_since_last_save"] == str(server.state.dirty)
    assert f["aof_enabled"] == "0" and f["rdb_bgsave_in_progress"] == "0"
    assert re.fullmatch(r"keys=2,expires=1,avg_ttl=\d+", f["db0"])
    assert int(f["used_memory"]) > 0
    assert re.fullmatch(r"\d+\.\d\dM", f["used_memory_human"])
    assert re.fullmatch(r"\d+\.\d{6}", f["used_cpu_user"])
    assert f["cmdstat_set"].startswith("calls=2,usec=")
    assert f["cmdstat_set"].endswith(",rejected_calls=0,failed_calls=0")
    assert re.fullmatch(r"calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0", f["cmdstat_expire"])
    other.call("SELECT", "3")
    other.call("SET", "x", "y")
    assert b"db3:keys=1,expires=0,avg_ttl=0\r\n" in conn.call("INFO", "keyspace")


def test_info_errorstats_and_failed_calls(conn):
    conn.call("SET", "k", "v")
    assert isinstance(conn.call("INCR", "k"), ReplyError)
    assert isinstance(conn.call("GET"), ReplyError)
    assert isinstance(conn.call("NOSUCH"), ReplyError)
    text = conn.call("INFO", "errorstats", "commandstats").decode()
    assert "errorstat_ERR:count=3\r\n" in text
    assert re.search(r"cmdstat_incr:calls=1,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=1", text)
    assert re.search(r"cmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0", text)


def test_info_subcommand_stats(conn):
    conn.call("CONFIG", "GET", "hz")
    assert re.search(rb"cmdstat_config\|get:calls=1,", conn.call("INFO", "commandstats"))


def test_info_instantaneous_ops(server, conn):
    for _ in range(3):
        conn.call("PING")
        server.advance(0.1)
    f = info_fields(conn.call("INFO", "stats"))
    assert int(f["instantaneous_ops_per_sec"]) > 0
    assert f["total_commands_processed"] == "3"


# ---------------------------------------------------------------- TIME


def test_time(server, conn):
    assert conn.call("TIME") == [b"1700000000", b"0"]
    server.advance(1.25)
    assert conn.call("TIME") == [b"1700000001", b"250000"]
    assert str(conn.call("TIME", "x")) == "ERR wrong number of arguments for 'time' command"


# ---------------------------------------------------------------- DEBUG


def test_debug_is_protected_by_default(conn):
    r = conn.call("DEBUG", "SLEEP", "0")
    assert str(r).startswith("ERR DEBUG command not allowed. If the enable-debug-command option is set to")


@pytest.fixture
def dbg():
    srv = FakeServer(config={"enable-debug-command": "yes"})
    yield srv
    srv.stop()


def test_debug_subcommands(dbg, monkeypatch):
    c = dbg.connect()
    slept = []
    monkeypatch.setattr("twistd_redis.commands.server.time.sleep", slept.append)
    assert c.call("DEBUG", "SLEEP", "0.5") == b"OK"
    assert c.call("DEBUG", "sleep", "abc") == b"OK"  # atof: 0
    assert slept == [0.5]
    assert c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == b"OK"
    assert dbg.state.active_expire_enabled is False
    assert c.call("DEBUG", "set-active-expire", "1") == b"OK"
    assert dbg.state.active_expire_enabled is True
    assert str(c.call("DEBUG", "foo")) == "ERR unknown subcommand or wrong number of arguments for 'foo'. Try DEBUG HELP."
    assert str(c.call("DEBUG", "sleep")) == (
        "ERR unknown subcommand or wrong number of arguments for 'sleep'. Try DEBUG HELP."
    )
    assert str(c.call("DEBUG")) == "ERR wrong number of arguments for 'debug' command"
    assert str(c.call("DEBUG", "OBJECT", "nokey")) == "ERR no such key"
    c.call("SET", "k", "hello")
    assert c.raw(b"DEBUG OBJECT k\r\n").startswith(b"+Value at:0x")
    h = c.call("DEBUG", "HELP")
    assert h[0] == b"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert b"SLEEP <seconds>" in h and h[-1] == b"    Prints this help."


def test_debug_sleep_blocks(dbg):
    import time as _time

    c = dbg.connect()
    t0 = _time.perf_counter()
    assert c.call("DEBUG", "SLEEP", "0.05") == b"OK"
    assert _time.perf_counter() - t0 >= 0.045


def test_active_expire_switch_stops_the_cron_expiry(dbg):
    c = dbg.connect()
    c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    c.call("SET", "k", "v", "PX", "10")
    dbg.advance(1)
    assert len(dbg.state.dbs[0].expires) == 1  # nobody touched it, nothing expired it
    c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    dbg.advance(1)
    assert len(dbg.state.dbs[0].expires) == 0


# ---------------------------------------------------------------- MONITOR


def test_monitor_lines(server):
    m = server.connect()
    c = server.connect()
    assert m.call("MONITOR") == b"OK"
    assert server.state.monitors == [m.client]
    c.call("SELECT", "2")
    c.call("SET", "k", 'a\x01"b\\')
    c.call("CONFIG", "GET", "hz")  # admin commands are not shown
    out = m.transport.value()
    port = c.client.addr.rsplit(":", 1)[1]
    assert out == (
        b'+1700000000.000000 [2 127.0.0.1:%s] "SELECT" "2"\r\n'
        b'+1700000000.000000 [2 127.0.0.1:%s] "SET" "k" "a\\x01\\"b\\\\"\r\n' % (port.encode(), port.encode())
    )
    assert "O" in m.client.flag_letters()


def test_monitor_sees_its_own_commands_after_the_reply(server):
    m = server.connect()
    m.call("MONITOR")
    m.transport.clear()
    m.send("PING")
    server.advance(0)
    port = m.client.addr.rsplit(":", 1)[1].encode()
    assert m.transport.value() == b'+PONG\r\n+1700000000.000000 [0 127.0.0.1:%s] "PING"\r\n' % port


def test_monitor_twice_answers_nothing(server):
    m = server.connect()
    m.call("MONITOR")
    assert m.raw(b"MONITOR\r\n") == b""
    assert server.state.monitors == [m.client]
    m.close()
    assert server.state.monitors == []


# ---------------------------------------------------------------- SLOWLOG


def test_slowlog(server, conn):
    assert conn.call("SLOWLOG", "GET") == []
    conn.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
    conn.call("CLIENT", "SETNAME", "foo") if _has_client() else None
    conn.call("SET", "a", "b")
    entries = conn.call("SLOWLOG", "GET", "1")
    assert len(entries) == 1
    e = entries[0]
    assert len(e) == 6
    assert isinstance(e[0], int) and e[1] == 1700000000 and isinstance(e[2], int)
    assert e[3] == [b"SET", b"a", b"b"]
    assert e[4] == conn.client.addr.encode()
    assert e[5] == (b"foo" if _has_client() else b"")
    n = conn.call("SLOWLOG", "LEN")
    assert n >= 2
    assert len(conn.call("SLOWLOG", "GET", "-1")) == n + 1  # the LEN itself was logged
    assert str(conn.call("SLOWLOG", "GET", "-2")) == "ERR count should be greater than or equal to -1"
    assert str(conn.call("SLOWLOG", "GET", "abc")) == "ERR value is not an integer or out of range"
    assert str(conn.call("SLOWLOG", "foo")) == "ERR unknown subcommand 'foo'. Try SLOWLOG HELP."
    assert conn.call("SLOWLOG", "RESET") == b"OK"
    assert conn.call("SLOWLOG", "LEN") <= 1  # only the RESET itself may be logged after it
    conn.call("CONFIG", "SET", "slowlog-log-slower-than", "-1")
    conn.call("SLOWLOG", "RESET")
    conn.call("SET", "a", "b")
    assert conn.call("SLOWLOG", "LEN") == 0


def test_slowlog_default_count_is_ten(conn):
    conn.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
    for i in range(15):
        conn.call("PING")
    assert len(conn.call("SLOWLOG", "GET")) == 10
    ids = [e[0] for e in conn.call("SLOWLOG", "GET", "3")]
    assert ids == sorted(ids, reverse=True)


def test_slowlog_help(conn):
    h = conn.call("SLOWLOG", "HELP")
    assert h[0] == b"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert h[1] == b"GET [<count>]"
    assert len(h) == 12


def _has_client() -> bool:
    from twistd_redis.commands.table import REGISTRY

    return "client" in REGISTRY and b"setname" in (REGISTRY["client"].subcommands or {})


# ---------------------------------------------------------------- SHUTDOWN


def test_shutdown_errors(conn):
    assert str(conn.call("SHUTDOWN", "ABORT")) == "ERR No shutdown in progress."
    assert str(conn.call("SHUTDOWN", "foo")) == "ERR syntax error"
    assert str(conn.call("SHUTDOWN", "NOSAVE", "SAVE")) == "ERR syntax error"
    assert str(conn.call("SHUTDOWN", "ABORT", "NOW")) == "ERR syntax error"


def test_shutdown_runs_hooks_and_closes_without_reply(server, conn):
    calls = []
    server.state.shutdown_hooks.append(lambda: calls.append("hook"))
    server.state.shutdown_callback = lambda: calls.append("stop")
    conn.proto.dataReceived(b"SHUTDOWN NOSAVE\r\n")  # the read alone, before the reactor's next turn
    assert conn.transport.value() == b""
    assert conn.closed
    assert calls == ["hook"]
    server.advance(0)
    assert calls == ["hook", "stop"]
    assert server.state.shutdown_flags["nosave"] is True


def test_shutdown_hook_error_aborts_unless_forced(server, conn):
    from twistd_redis.errors import RedisError

    def failing():
        raise RedisError("ERR Errors trying to SHUTDOWN. Check logs.")

    stopped = []
    server.state.shutdown_hooks.append(failing)
    server.state.shutdown_callback = lambda: stopped.append(1)
    assert str(conn.call("SHUTDOWN")) == "ERR Errors trying to SHUTDOWN. Check logs."
    assert not conn.closed
    assert conn.raw(b"SHUTDOWN FORCE\r\n") == b""
    server.advance(0)
    assert stopped == [1]


# ---------------------------------------------------------------- LATENCY


def test_latency(conn):
    assert conn.call("LATENCY", "LATEST") == []
    assert conn.call("LATENCY", "HISTORY", "command") == []
    assert conn.call("LATENCY", "RESET") == 0
    assert str(conn.call("LATENCY", "GRAPH", "command")) == "ERR No samples available for event 'command'"
    assert conn.call("LATENCY", "DOCTOR").startswith(b"I'm sorry, Dave, I can't do that.")
    h = conn.call("LATENCY", "HELP")
    assert h[0] == b"LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    conn.hello3()
    assert conn.raw(b"LATENCY DOCTOR\r\n").startswith(b"=292\r\ntxt:I'm sorry, Dave")


# ---------------------------------------------------------------- command table rows


def test_command_rows_match_redis():
    from twistd_redis.commands.table import REGISTRY

    def row(name):
        if "|" in name:
            parent, sub = name.split("|")
            s = REGISTRY[parent].subcommands[sub.encode()]
        else:
            s = REGISTRY[name]
        return s.arity, s.flag_names()

    assert row("info") == (-1, ["loading", "stale"])
    assert row("config|set") == (-4, ["admin", "noscript", "loading", "stale"])
    assert row("config|get") == (-3, ["admin", "noscript", "loading", "stale"])
    assert row("config|help") == (2, ["loading", "stale"])
    assert row("time") == (1, ["loading", "stale", "fast"])
    assert row("debug") == (-2, ["admin", "noscript", "loading", "stale"])
    assert row("monitor") == (1, ["admin", "noscript", "loading", "stale"])
    assert row("slowlog|get") == (-2, ["admin", "loading", "stale"])
    assert row("shutdown") == (-1, ["admin", "noscript", "loading", "stale", "no_multi", "allow_busy"])
    assert row("latency|reset") == (-2, ["admin", "noscript", "loading", "stale"])


def test_debug_populate_and_change_repl_id():
    """DEBUG POPULATE as redis-server 7.0.15: prefix:N -> value:N (zero-padded / cut to size),
    existing keys kept, counts checked; nothing propagated. DEBUG CHANGE-REPL-ID: new ids."""
    srv = FakeServer({"enable-debug-command": "yes"})
    c = srv.connect()
    props: list = []
    srv.state.propagation_targets.append(lambda db, argv: props.append(argv))
    c.call("SET", "key:1", "keep")
    props.clear()
    assert c.raw(b"DEBUG POPULATE 3\r\n") == b"+OK\r\n"
    assert c.call("GET", "key:0") == b"value:0" and c.call("GET", "key:1") == b"keep"
    assert c.raw(b"DEBUG POPULATE 2 p 10\r\n") == b"+OK\r\n"
    assert c.call("GET", "p:1") == b"value:1\0\0\0"
    assert c.raw(b"DEBUG POPULATE 2 q 3\r\n") == b"+OK\r\n"
    assert c.call("GET", "q:1") == b"val"
    assert c.call("DBSIZE") == 7 and props == []
    for bad in (b"-1", b"abc", b"2 p -1"):
        assert c.raw(b"DEBUG POPULATE " + bad + b"\r\n") == b"-ERR value is out of range, must be positive\r\n"
    assert c.raw(b"DEBUG POPULATE 1 2 3 4\r\n") == (
        b"-ERR unknown subcommand or wrong number of arguments for 'POPULATE'. Try DEBUG HELP.\r\n"
    )
    repl = srv.state.repl
    repl.replid2, repl.second_repl_offset = "a" * 40, 10
    old = repl.replid
    assert c.raw(b"DEBUG CHANGE-REPL-ID\r\n") == b"+OK\r\n"
    assert repl.replid != old and repl.replid2 == "0" * 40 and repl.second_repl_offset == -1
