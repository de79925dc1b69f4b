"""Server commands: INFO, CONFIG, TIME, DEBUG, MONITOR, SLOWLOG, SHUTDOWN, LATENCY.

INFO mirrors Redis 7.0's genRedisInfoString: the same sections in the same order, the same
field names, "\\r\\n" line endings, a blank line between sections, answered as a verbatim
string. Figures this server does not have (allocator details, forks, replication backlog
before replication exists) show Redis's idle values; persistence and replication modules
expose theirs as ServerState attributes that INFO reads when present.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from typing import Any, Callable

from .. import REDIS_VERSION
from ..client import CLIENT_BLOCKED, CLIENT_MONITOR, CLIENT_SLAVE, Client
from ..config import Config, ConfigError, ConfigSetError, Param
from ..errors import RedisError, err, syntax_error
from ..resp import LLONG_MAX, OK, Raw, SimpleString, Verbatim
from . import table as cmdtable
from .args import parse_int, to_int_range
from ..glob import stringmatchlen
from .table import help_reply
from .table import ADMIN, ALLOW_BUSY, FAST, LOADING, NO_MULTI, NOSCRIPT, STALE, command, container

# ---------------------------------------------------------------- helpers


def bytes_to_human(n: int) -> str:
    """bytesToHuman: B, K, M, G, T, P with two decimals."""
    if n < 1024:
        return "%dB" % n
    for i, unit in enumerate("KMGTP", 1):
        if n < 1024 ** (i + 1) or unit == "P":
            return "%.2f%s" % (n / 1024**i, unit)
    return "%dB" % n  # pragma: no cover


# ---------------------------------------------------------------- INFO

DEFAULT_SECTIONS = (
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
)
ALL_SECTIONS = (
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
)
_TITLES = {"module_list": "Modules", "cpu": "CPU"}


def _multiplexing_api(state: Any) -> str:
    name = type(state.clock).__name__.lower()
    for api in ("epoll", "kqueue", "poll", "select"):
        if api in name:
            return api
    return "epoll" if sys.platform.startswith("linux") else "select"


def _info_server(state: Any) -> list[str]:
    cfg = state.config
    now = state.clock.seconds()
    uptime = int(now - state.start_time)
    u = platform.uname()
    hz = max(1, min(500, cfg["hz"] or 1))
    return [
        f"redis_version:{REDIS_VERSION}",
        "redis_git_sha1:00000000",
        "redis_git_dirty:0",
        "redis_build_id:0",
        "redis_mode:standalone",
        f"os:{u.system} {u.release} {u.machine}",
        "arch_bits:%d" % (64 if sys.maxsize > 2**32 else 32),
        "monotonic_clock:POSIX clock_gettime",
        f"multiplexing_api:{_multiplexing_api(state)}",
        "atomicvar_api:c11-builtin",
        "gcc_version:0.0.0",
        f"process_id:{os.getpid()}",
        "process_supervised:no",
        f"run_id:{state.run_id}",
        f"tcp_port:{cfg['port']}",
        "server_time_usec:%d" % int(now * 1_000_000),
        f"uptime_in_seconds:{uptime}",
        f"uptime_in_days:{uptime // 86400}",
        f"hz:{hz}",
        f"configured_hz:{hz}",
        f"lru_clock:{state.lruclock}",
        f"executable:{os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ''}",
        f"config_file:{cfg.config_file or ''}",
        "io_threads_active:0",
    ]


def _is_replica_client(c: Client) -> bool:
    return bool(c.flags & CLIENT_SLAVE)


def _info_clients(state: Any) -> list[str]:
    clients = list(state.clients.values())
    replicas = sum(1 for c in clients if _is_replica_client(c))
    blocked = sum(1 for c in clients if c.waiting is not None or c.flags & CLIENT_BLOCKED)
    max_in = 0
    max_out = 0
    for c in clients:
        conn = c.conn
        if conn is not None:
            try:
                max_in = max(max_in, conn.query_buffer_len())
                max_out = max(max_out, conn.output_buffer_len())
            except Exception:  # pragma: no cover - a connection without buffers
                pass
    return [
        f"connected_clients:{len(clients) - replicas}",
        "cluster_connections:0",
        f"maxclients:{state.config['maxclients']}",
        f"client_recent_max_input_buffer:{max_in}",
        f"client_recent_max_output_buffer:{max_out}",
        f"blocked_clients:{blocked}",
        "tracking_clients:0",
        "clients_in_timeout_table:0",
    ]


def _total_system_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 0


def _info_memory(state: Any) -> list[str]:
    used = state.used_memory()
    peak = max(getattr(state, "used_memory_peak", 0), used)
    state.used_memory_peak = peak
    startup = getattr(state, "used_memory_startup", 0) or used
    if not getattr(state, "used_memory_startup", 0):
        state.used_memory_startup = used
    dataset = max(0, used - startup)
    net = max(1, used - startup)
    total = _total_system_memory()
    maxmem = state.config["maxmemory"]
    from ..scripting.functions import info_memory_fields
    from .scripting import info_memory_fields as eval_memory_fields

    fm = info_memory_fields(state)
    em = eval_memory_fields(state)
    vm_total = em["used_memory_vm_eval"] + fm["used_memory_vm_functions"]
    scripts_mem = em["used_memory_scripts_eval"] + fm["used_memory_functions"]
    return [
        f"used_memory:{used}",
        f"used_memory_human:{bytes_to_human(used)}",
        f"used_memory_rss:{used}",
        f"used_memory_rss_human:{bytes_to_human(used)}",
        f"used_memory_peak:{peak}",
        f"used_memory_peak_human:{bytes_to_human(peak)}",
        "used_memory_peak_perc:%.2f%%" % (used * 100.0 / peak if peak else 0),
        f"used_memory_overhead:{startup}",
        f"used_memory_startup:{startup}",
        f"used_memory_dataset:{dataset}",
        "used_memory_dataset_perc:%.2f%%" % (dataset * 100.0 / net),
        f"allocator_allocated:{used}",
        f"allocator_active:{used}",
        f"allocator_resident:{used}",
        f"total_system_memory:{total}",
        f"total_system_memory_human:{bytes_to_human(total)}",
        f"used_memory_lua:{em['used_memory_vm_eval']}",
        f"used_memory_vm_eval:{em['used_memory_vm_eval']}",
        f"used_memory_lua_human:{bytes_to_human(em['used_memory_vm_eval'])}",
        f"used_memory_scripts_eval:{em['used_memory_scripts_eval']}",
        f"number_of_cached_scripts:{em['number_of_cached_scripts']}",
        f"number_of_functions:{fm['number_of_functions']}",
        f"number_of_libraries:{fm['number_of_libraries']}",
        f"used_memory_vm_functions:{fm['used_memory_vm_functions']}",
        f"used_memory_vm_total:{vm_total}",
        f"used_memory_vm_total_human:{bytes_to_human(vm_total)}",
        f"used_memory_functions:{fm['used_memory_functions']}",
        f"used_memory_scripts:{scripts_mem}",
        f"used_memory_scripts_human:{bytes_to_human(scripts_mem)}",
        f"maxmemory:{maxmem}",
        f"maxmemory_human:{bytes_to_human(maxmem)}",
        f"maxmemory_policy:{state.config['maxmemory-policy']}",
        "allocator_frag_ratio:1.00",
        "allocator_frag_bytes:0",
        "allocator_rss_ratio:1.00",
        "allocator_rss_bytes:0",
        "rss_overhead_ratio:1.00",
        "rss_overhead_bytes:0",
        "mem_fragmentation_ratio:1.00",
        "mem_fragmentation_bytes:0",
        "mem_not_counted_for_evict:0",
        # the backlog's bytes (Redis counts its block allocations; replicas share them)
        "mem_replication_backlog:%d" % (state.repl.backlog.memory() if state.repl.backlog is not None else 0),
        "mem_total_replication_buffers:%d" % (state.repl.backlog.memory() if state.repl.backlog is not None else 0),
        "mem_clients_slaves:0",
        "mem_clients_normal:0",
        "mem_cluster_links:0",
        "mem_aof_buffer:0",
        "mem_allocator:libc",
        "active_defrag_running:0",
        "lazyfree_pending_objects:0",
        "lazyfreed_objects:0",
    ]


def _info_persistence(state: Any) -> list[str]:
    rdb = state.persistence.info_fields()  # persistence/snapshot.py
    return [
        f"loading:{int(bool(state.loading))}",
        "async_loading:0",
        "current_cow_peak:0",
        "current_cow_size:0",
        "current_cow_size_age:0",
        "current_fork_perc:0.00",
        "current_save_keys_processed:0",
        "current_save_keys_total:0",
        f"rdb_changes_since_last_save:{state.dirty}",
        f"rdb_bgsave_in_progress:{rdb['rdb_bgsave_in_progress']}",
        f"rdb_last_save_time:{rdb['rdb_last_save_time']}",
        f"rdb_last_bgsave_status:{rdb['rdb_last_bgsave_status']}",
        f"rdb_last_bgsave_time_sec:{rdb['rdb_last_bgsave_time_sec']}",
        f"rdb_current_bgsave_time_sec:{rdb['rdb_current_bgsave_time_sec']}",
        f"rdb_saves:{rdb['rdb_saves']}",
        "rdb_last_cow_size:0",
        f"rdb_last_load_keys_expired:{rdb['rdb_last_load_keys_expired']}",
        f"rdb_last_load_keys_loaded:{rdb['rdb_last_load_keys_loaded']}",
        *state.aof.info_fields(),  # persistence/aof.py
        "module_fork_in_progress:0",
        "module_fork_last_cow_size:0",
        *state.aof.info_enabled_fields(),
    ]


def _mean(samples: Any) -> float:
    return sum(samples) / len(samples) if samples else 0.0


def _count(obj: Any) -> int:
    try:
        return len(obj)
    except TypeError:
        return 0


def _info_stats(state: Any) -> list[str]:
    st = state.stats
    return [
        f"total_connections_received:{st.total_connections_received}",
        f"total_commands_processed:{st.total_commands_processed}",
        "instantaneous_ops_per_sec:%d" % int(_mean(st.ops_samples)),
        f"total_net_input_bytes:{st.total_net_input_bytes}",
        f"total_net_output_bytes:{st.total_net_output_bytes}",
        "total_net_repl_input_bytes:0",
        "total_net_repl_output_bytes:0",
        "instantaneous_input_kbps:%.2f" % (_mean(st.in_samples) / 1024),
        "instantaneous_output_kbps:%.2f" % (_mean(st.out_samples) / 1024),
        "instantaneous_input_repl_kbps:0.00",
        "instantaneous_output_repl_kbps:0.00",
        f"rejected_connections:{st.rejected_connections}",
        f"sync_full:{state.repl.stat_sync_full}",
        f"sync_partial_ok:{state.repl.stat_sync_partial_ok}",
        f"sync_partial_err:{state.repl.stat_sync_partial_err}",
        f"expired_keys:{st.expired_keys}",
        "expired_stale_perc:%.2f" % st.expired_stale_perc,
        f"expired_time_cap_reached_count:{st.expired_time_cap_reached_count}",
        f"expire_cycle_cpu_milliseconds:{st.expire_cycle_cpu_milliseconds}",
        f"evicted_keys:{st.evicted_keys}",
        "evicted_clients:0",
        "total_eviction_exceeded_time:0",
        "current_eviction_exceeded_time:0",
        f"keyspace_hits:{st.keyspace_hits}",
        f"keyspace_misses:{st.keyspace_misses}",
        f"pubsub_channels:{_count(getattr(state, 'pubsub_channels', ()))}",
        f"pubsub_patterns:{_count(getattr(state, 'pubsub_patterns', ()))}",
        f"pubsubshard_channels:{_count(getattr(state, 'pubsub_shard_channels', ()))}",
        f"latest_fork_usec:{getattr(st, 'latest_fork_usec', 0)}",
        f"total_forks:{getattr(st, 'total_forks', 0)}",
        "migrate_cached_sockets:0",
        "slave_expires_tracked_keys:0",
        "active_defrag_hits:0",
        "active_defrag_misses:0",
        "active_defrag_key_hits:0",
        "active_defrag_key_misses:0",
        "total_active_defrag_time:0",
        "current_active_defrag_time:0",
        "tracking_total_keys:0",
        "tracking_total_items:0",
        "tracking_total_prefixes:0",
        f"unexpected_error_replies:{st.unexpected_error_replies}",
        f"total_error_replies:{st.total_error_replies}",
        f"dump_payload_sanitizations:{st.dump_payload_sanitizations}",
        f"total_reads_processed:{st.total_reads_processed}",
        f"total_writes_processed:{st.total_writes_processed}",
        "io_threaded_reads_processed:0",
        "io_threaded_writes_processed:0",
        "reply_buffer_shrinks:0",
        "reply_buffer_expands:0",
    ]


def _info_replication(state: Any) -> list[str]:
    from ..replication.info import info_replication

    return info_replication(state)


def _tv(t: float) -> str:
    sec = int(t)
    return "%d.%06d" % (sec, int(round((t - sec) * 1_000_000)))


def _info_cpu(state: Any) -> list[str]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [
        f"used_cpu_sys:{_tv(me.ru_stime)}",
        f"used_cpu_user:{_tv(me.ru_utime)}",
        f"used_cpu_sys_children:{_tv(ch.ru_stime)}",
        f"used_cpu_user_children:{_tv(ch.ru_utime)}",
    ]
    rusage_thread = getattr(resource, "RUSAGE_THREAD", None)
    if rusage_thread is not None:
        th = resource.getrusage(rusage_thread)
        lines.append(f"used_cpu_sys_main_thread:{_tv(th.ru_stime)}")
        lines.append(f"used_cpu_user_main_thread:{_tv(th.ru_utime)}")
    return lines


def _info_commandstats(state: Any) -> list[str]:
    lines = []

    def emit(spec: cmdtable.CommandSpec) -> None:
        if spec.subcommands:
            for sub in spec.subcommands.values():
                emit(sub)
        if not spec.calls and not spec.failed_calls and not spec.rejected_calls:
            return
        lines.append(
            "cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d"
            % (
                spec.fullname,
                spec.calls,
                spec.usec,
                spec.usec / spec.calls if spec.calls else 0.0,
                spec.rejected_calls,
                spec.failed_calls,
            )
        )

    for spec in state.command_rows.values():
        emit(spec)
    return lines


def _info_errorstats(state: Any) -> list[str]:
    # Redis keeps them in a rax: in byte order of the error code
    errors = state.stats.errors
    return ["errorstat_%s:count=%d" % (k, errors[k]) for k in sorted(errors, key=lambda k: k.encode())]


def _info_keyspace(state: Any) -> list[str]:
    lines = []
    for db in state.dbs:
        keys = len(db)
        if keys:
            lines.append(f"db{db.id}:keys={keys},expires={len(db.expires)},avg_ttl={db.avg_ttl}")
    return lines


_SECTION_FUNCS: dict[str, Callable[[Any], list[str]]] = {
    "server": _info_server,
    "clients": _info_clients,
    "memory": _info_memory,
    "persistence": _info_persistence,
    "stats": _info_stats,
    "replication": _info_replication,
    "cpu": _info_cpu,
    "module_list": lambda s: [],
    "commandstats": _info_commandstats,
    "errorstats": _info_errorstats,
    "latencystats": lambda s: [],  # no latency histograms are kept
    "cluster": lambda s: ["cluster_enabled:0"],
    "keyspace": _info_keyspace,
}


def info_sections(args: list[bytes]) -> set[str]:
    """genInfoSectionDict: the requested section names (lowercase), defaults when none."""
    if not args:
        return set(DEFAULT_SECTIONS)
    out: set[str] = set()
    for a in args:
        name = a.decode("latin-1").lower()
        if name == "all":
            out.update(ALL_SECTIONS)
        elif name == "everything":
            out.update(ALL_SECTIONS)
        elif name == "default":
            out.update(DEFAULT_SECTIONS)
        elif name == "modules":
            out.add("module_list")
        else:
            out.add(name)
    return out


def gen_info_string(state: Any, sections: set[str]) -> bytes:
    parts = []
    for name in ALL_SECTIONS:
        if name not in sections:
            continue
        title = _TITLES.get(name, name.capitalize())
        body = "".join(line + "\r\n" for line in _SECTION_FUNCS[name](state))
        parts.append(f"# {title}\r\n{body}")
    return "\r\n".join(parts).encode("utf-8", "replace")


@command("info", arity=-1, flags=LOADING | STALE, group="server")
def info_command(c: Client, argv: list[bytes]):
    """INFO [section [section ...]]"""
    return Verbatim(gen_info_string(c.state, info_sections(argv[1:])))


# ---------------------------------------------------------------- CONFIG

container("config", arity=-2, group="server")

_CONFIG_FLAGS = ADMIN | NOSCRIPT | LOADING | STALE


def _is_local(c: Client) -> bool:
    addr = c.addr or ""
    return addr.startswith(("127.", "[::1]", "::1", "/", "unix:")) or addr == "" or c.conn is None


def _allow_protected(value: str, c: Client) -> bool:
    return value == "yes" or (value == "local" and _is_local(c))


@command("config|get", arity=-3, flags=_CONFIG_FLAGS, group="server")
def config_get_command(c: Client, argv: list[bytes]):
    """CONFIG GET parameter [parameter ...]"""
    cfg: Config = c.state.config
    # keyed case-insensitively by the name shown: an alias is a name of its own
    matches: dict[bytes, tuple[bytes, Param]] = {}
    for pat in argv[2:]:
        if not any(ch in pat for ch in b"[*?"):
            p = cfg.lookup(pat.decode("utf-8", "replace"))
            if p is not None and pat.lower() not in matches:
                matches[pat.lower()] = (pat, p)
            continue
        for name, p in cfg.visible_names():
            key = name.encode()
            if key not in matches and stringmatchlen(pat, key, nocase=True):
                matches[key] = (key, p)
    return {k: cfg.format(p.name).encode("utf-8", "surrogateescape") for k, p in matches.values()}


@command("config|set", arity=-4, flags=_CONFIG_FLAGS, group="server")
def config_set_command(c: Client, argv: list[bytes]):
    """CONFIG SET parameter value [parameter value ...]: all validated, then all applied;
    one failure leaves every value as it was."""
    if len(argv) % 2:
        raise syntax_error()
    state = c.state
    cfg: Config = state.config
    pairs: list[tuple[Param, str]] = []
    error: str | None = None
    for i in range(2, len(argv), 2):
        typed = argv[i].decode("utf-8", "surrogateescape")
        p = cfg.lookup(typed)
        if p is None:
            if error is None:
                error = "ERR Unknown option or number of arguments for CONFIG SET - '%s'" % typed
            continue
        if error is not None:
            continue
        if not p.mutable or (p.protected and not _allow_protected(cfg["enable-protected-configs"], c)):
            reason = "can't set immutable config" if not p.mutable else "can't set protected config"
            error = "ERR CONFIG SET failed (possibly related to argument '%s') - %s" % (typed, reason)
            continue
        if any(q is p for q, _ in pairs):
            error = "ERR CONFIG SET failed (possibly related to argument '%s') - duplicate parameter" % typed
            continue
        pairs.append((p, argv[i + 1].decode("utf-8", "surrogateescape")))
    if error is not None:
        raise RedisError(error)
    changes: list[tuple[Param, Any]] = []
    for p, raw in pairs:
        try:
            changes.append((p, cfg.parse(p, raw)))
        except ConfigError as e:
            raise RedisError(
                "ERR CONFIG SET failed (possibly related to argument '%s') - %s" % (_shown_name(p, argv, raw), e)
            )
    try:
        cfg.apply(changes)
    except ConfigSetError as e:
        raise RedisError("ERR CONFIG SET failed (possibly related to argument '%s') - %s" % (e.param.name, e))
    return OK


def _shown_name(p: Param, argv: list[bytes], raw: str) -> str:
    """The name Redis shows for a refused value: the table entry that matched (the alias
    entry when an alias was typed), lower-case."""
    for i in range(2, len(argv), 2):
        typed = argv[i].decode("utf-8", "surrogateescape").lower()
        if typed in (p.name, p.alias) and argv[i + 1].decode("utf-8", "surrogateescape") == raw:
            return typed
    return p.name


@command("config|resetstat", arity=2, flags=_CONFIG_FLAGS, group="server")
def config_resetstat_command(c: Client, argv: list[bytes]):
    """CONFIG RESETSTAT: INFO stats, commandstats and errorstats back to zero (the slow log
    stays)."""
    state = c.state
    for spec in state.all_specs():
        spec.reset_stats()
    state.stats.reset()
    state.stat_numcommands_at_reset = 0
    repl = state.repl  # resetServerStats: the sync counters too
    repl.stat_sync_full = repl.stat_sync_partial_ok = repl.stat_sync_partial_err = 0
    return OK


@command("config|rewrite", arity=2, flags=_CONFIG_FLAGS, group="server")
def config_rewrite_command(c: Client, argv: list[bytes]):
    """CONFIG REWRITE: write the running configuration into the config file."""
    cfg: Config = c.state.config
    if not cfg.config_file:
        raise err("The server is running without a config file")
    try:
        cfg.rewrite(cfg.config_file)
    except OSError as e:
        raise err("Rewriting config file: %s" % (e.strerror or str(e)))
    return OK


@command("config|help", arity=2, flags=LOADING | STALE, group="server")
def config_help_command(c: Client, argv: list[bytes]):
    """CONFIG HELP"""
    return help_reply(
        "CONFIG",
        [
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    )


# ---------------------------------------------------------------- TIME


@command("time", arity=1, flags=LOADING | STALE | FAST, group="server")
def time_command(c: Client, argv: list[bytes]):
    """TIME: [unix seconds, microseconds] as two bulk strings."""
    us = int(c.state.clock.seconds() * 1_000_000)
    return [b"%d" % (us // 1_000_000), b"%d" % (us % 1_000_000)]


# ---------------------------------------------------------------- DEBUG

DEBUG_NOT_ALLOWED = (
    "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run "
    "it from a local connection, otherwise you need to set this option in the configuration file, and "
    "then restart the server."
)


def _atof(b: bytes) -> float:
    """C's atof: the longest numeric prefix, 0 when there is none."""
    import re

    m = re.match(rb"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", b)
    return float(m.group(0)) if m else 0.0


def _atoi(b: bytes) -> int:
    import re

    m = re.match(rb"\s*[+-]?\d+", b)
    return int(m.group(0)) if m else 0


def _object_encoding(value: Any) -> str:
    try:
        from .keys import object_encoding  # type: ignore[attr-defined]

        return object_encoding(value)
    except Exception:
        pass
    if isinstance(value, (bytes, bytearray)):
        if parse_int(bytes(value)) is not None:
            return "int"
        return "embstr" if len(value) <= 44 else "raw"
    return type(value).__name__.lower()


def _debug_populate(c: Client, argv: list[bytes]) -> Any:
    """DEBUG POPULATE count [prefix] [size]: keys prefix:N holding "value:N" (zero-padded or
    cut to ``size``); existing keys are skipped. Not a write: nothing is propagated and dirty
    does not move, as in Redis (its keys reach replicas only through a full sync)."""
    positive = "ERR value is out of range, must be positive"
    count = to_int_range(argv[2], 0, LLONG_MAX, positive)
    size = to_int_range(argv[4], 0, LLONG_MAX, positive) if len(argv) == 5 else 0
    prefix = argv[3] if len(argv) >= 4 else b"key"
    db = c.db
    for j in range(count):
        key = (b"%s:%d" % (prefix, j))[:127]  # Redis formats into a 128-byte buffer
        if db.lookup_write(key) is not None:
            continue
        val = b"value:%d" % j
        if size:
            val = val[:size].ljust(size, b"\0")
        db.add(key, val)
    return OK


@command("debug", arity=-2, flags=ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def debug_command(c: Client, argv: list[bytes]):
    """DEBUG SLEEP|SET-ACTIVE-EXPIRE|OBJECT|HELP ... (protected by enable-debug-command)"""
    state = c.state
    if not _allow_protected(state.config["enable-debug-command"], c):
        raise RedisError(DEBUG_NOT_ALLOWED)
    sub = argv[1].lower()
    n = len(argv)
    if sub == b"help" and n == 2:
        return help_reply(
            "DEBUG",
            [
                "CHANGE-REPL-ID",
                "    Change the replication IDs of the instance.",
                "    Dangerous: should be used only for testing the replication subsystem.",
                "OBJECT <key>",
                "    Show low level info about `key` and associated value.",
                "POPULATE <count> [<prefix>] [<size>]",
                "    Create <count> string keys named key:<num>. If <prefix> is specified then",
                "    it is used instead of the 'key' prefix. These are not propagated to",
                "    replicas. Cluster slots are not respected so keys not belonging to the",
                "    current node can be created in cluster mode.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
            ],
        )
    if sub == b"sleep" and n == 3:
        # Redis blocks its event loop here; so do we, on purpose.
        secs = _atof(argv[2])
        if secs > 0:
            time.sleep(secs)
        return OK
    if sub == b"reload":  # DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE] (persistence/snapshot.py)
        state.persistence.debug_reload(argv[2:])
        return OK
    if sub == b"populate" and 3 <= n <= 5:
        return _debug_populate(c, argv)
    if sub == b"change-repl-id" and n == 2:
        state.repl.change_replication_id()
        state.repl.clear_replication_id2()
        return OK
    if sub == b"set-active-expire" and n == 3:
        state.active_expire_enabled = bool(_atoi(argv[2]))
        return OK
    if sub == b"object" and n == 3:
        value = c.db.peek(argv[2]) if hasattr(c.db, "peek") else c.db.data.get(argv[2])
        if value is None:
            raise err("no such key")
        line = "Value at:0x%x refcount:1 encoding:%s serializedlength:0 lru:%d lru_seconds_idle:0" % (
            id(value),
            _object_encoding(value),
            state.lruclock,
        )
        return SimpleString(line.encode())
    raise err(
        "unknown subcommand or wrong number of arguments for '%s'. Try DEBUG HELP."
        % argv[1].decode("utf-8", "replace")
    )


# ---------------------------------------------------------------- MONITOR


@command("monitor", arity=1, flags=ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def monitor_command(c: Client, argv: list[bytes]):
    """MONITOR: stream every command the server runs to this client."""
    if c.flags & (CLIENT_SLAVE | CLIENT_MONITOR):
        return Raw(b"")  # Redis ignores MONITOR from a replica or a monitor: no reply at all
    c.flags |= CLIENT_MONITOR
    c.state.monitors.append(c)
    return OK


# ---------------------------------------------------------------- SLOWLOG

container("slowlog", arity=-2, group="server")


@command("slowlog|get", arity=-2, flags=ADMIN | LOADING | STALE, group="server")
def slowlog_get_command(c: Client, argv: list[bytes]):
    """SLOWLOG GET [count]: newest first; count -1 = all, default 10."""
    if len(argv) > 3:
        raise err("unknown subcommand or wrong number of arguments for 'get'. Try SLOWLOG HELP.")
    count = 10
    if len(argv) == 3:
        v = parse_int(argv[2])
        if v is None:
            raise err("value is not an integer or out of range")
        if v < -1:
            raise err("count should be greater than or equal to -1")
        count = v
    entries = list(c.state.slowlog)
    if count != -1:
        entries = entries[:count]
    return [
        [e.id, e.time, e.duration, list(e.argv), e.peer.encode(), bytes(e.name or b"")] for e in entries
    ]


@command("slowlog|len", arity=2, flags=ADMIN | LOADING | STALE, group="server")
def slowlog_len_command(c: Client, argv: list[bytes]):
    """SLOWLOG LEN"""
    return len(c.state.slowlog)


@command("slowlog|reset", arity=2, flags=ADMIN | LOADING | STALE, group="server")
def slowlog_reset_command(c: Client, argv: list[bytes]):
    """SLOWLOG RESET"""
    c.state.slowlog.clear()
    return OK


@command("slowlog|help", arity=2, flags=LOADING | STALE, group="server")
def slowlog_help_command(c: Client, argv: list[bytes]):
    """SLOWLOG HELP"""
    return help_reply(
        "SLOWLOG",
        [
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    )


# ---------------------------------------------------------------- SHUTDOWN


@command(
    "shutdown",
    arity=-1,
    flags=ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
    group="server",
)
def shutdown_command(c: Client, argv: list[bytes]):
    """SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]: run the shutdown hooks (persistence
    registers its final save there), stop the server, close without a reply."""
    save = nosave = now = force = abort = False
    for a in argv[1:]:
        o = a.lower()
        if o == b"nosave":
            nosave = True
        elif o == b"save":
            save = True
        elif o == b"now":
            now = True
        elif o == b"force":
            force = True
        elif o == b"abort":
            abort = True
        else:
            raise syntax_error()
    if (abort and len(argv) != 2) or (save and nosave):
        raise syntax_error()
    state = c.state
    if abort:
        # shutdowns here are immediate: there is never one in progress to abort
        raise err("No shutdown in progress.")
    if state.busy_error is not None and not nosave:
        raise state.busy_error  # a script past busy-reply-threshold: only SHUTDOWN NOSAVE
    state.shutdown_flags = {"save": save, "nosave": nosave, "now": now, "force": force}
    failed = None
    for hook in list(state.shutdown_hooks):
        try:
            hook()
        except RedisError as e:
            failed = e
        except Exception as e:  # pragma: no cover - a hook's own bug
            failed = err("Errors trying to SHUTDOWN. Check logs.")
            import logging

            logging.getLogger("twistd_redis").error("shutdown hook failed: %r", e)
    if failed is not None and not force:
        return failed
    state.shutdown_hooks.clear()  # run once: stopService must not run them again
    if state.script_run is not None:  # SHUTDOWN NOSAVE during a busy script (engine.py)
        from ..scripting.engine import stop_script_for_shutdown

        stop_script_for_shutdown(state)
    c.close_after_reply()
    cb = getattr(state, "shutdown_callback", None)
    if cb is not None:
        state.clock.callLater(0, cb)
    return Raw(b"")


# ---------------------------------------------------------------- LATENCY
# The latency monitor records nothing while latency-monitor-threshold is 0 (the default),
# and this server keeps no samples: the empty answers are the honest ones.

container("latency", arity=-2, group="server")
_LAT_FLAGS = ADMIN | NOSCRIPT | LOADING | STALE


@command("latency|latest", arity=2, flags=_LAT_FLAGS, group="server")
def latency_latest_command(c: Client, argv: list[bytes]):
    """LATENCY LATEST"""
    return []


@command("latency|history", arity=3, flags=_LAT_FLAGS, group="server")
def latency_history_command(c: Client, argv: list[bytes]):
    """LATENCY HISTORY event"""
    return []


@command("latency|reset", arity=-2, flags=_LAT_FLAGS, group="server")
def latency_reset_command(c: Client, argv: list[bytes]):
    """LATENCY RESET [event ...]: the number of event series reset."""
    return 0


_DOCTOR_DISABLED = (
    "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may "
    'use "CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it. If we weren\'t '
    "in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
)
_DOCTOR_NO_SPIKES = (
    "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the "
    "slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think "
    "things over.\n"
)


@command("latency|doctor", arity=2, flags=_LAT_FLAGS, group="server")
def latency_doctor_command(c: Client, argv: list[bytes]):
    """LATENCY DOCTOR: the report (verbatim text)."""
    if not c.state.config["latency-monitor-threshold"]:
        return Verbatim(_DOCTOR_DISABLED.encode())
    return Verbatim(_DOCTOR_NO_SPIKES.encode())


@command("latency|graph", arity=3, flags=_LAT_FLAGS, group="server")
def latency_graph_command(c: Client, argv: list[bytes]):
    """LATENCY GRAPH event"""
    raise err("No samples available for event '%s'" % argv[2].decode("utf-8", "replace"))


@command("latency|help", arity=2, flags=LOADING | STALE, group="server")
def latency_help_command(c: Client, argv: list[bytes]):
    """LATENCY HELP"""
    return help_reply(
        "LATENCY",
        [
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
        ],
    )
