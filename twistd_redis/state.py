"""ServerState: the one owner of all server state, and ``execute()``, the one gate every
command passes through.

It owns the databases, the config, the client registry, statistics, the slow log, monitors and
the server cron (a LoopingCall on the injected clock: LRU clock, active expiry, client
timeouts, instantaneous metrics). Commands reach state only through the Client they are given
(``c.state``, ``c.db``). Writes take one road: the command changes data through Database,
which signals the key; ``dirty`` grows; ``execute`` hands the (possibly rewritten) argv to
``propagate()``, the single feed for the AOF and replicas.
"""

from __future__ import annotations

import copy
import logging
import os
import random
import time
from collections import deque
from typing import Any, Callable

from twisted.application.service import Service
from twisted.internet import defer, task

from . import __version__
from .client import (  # the hook lists live in client.py so command modules can import them early
    CLIENT_DIRTY_CAS,
    CLIENT_DIRTY_EXEC,
    CLIENT_DISCONNECT_HOOKS,
    CLIENT_MASTER,
    CLIENT_MONITOR,
    CLIENT_MULTI,
    CLIENT_NEEDS_AUTH,
    CLIENT_PUBSUB,
    CLIENT_RESET_HOOKS,
    Client,
)
from .commands import table as cmdtable  # first: it imports every command module

from .blocking import handle_clients_blocked_on_keys  # after the command modules (import cycle)
from .config import Config
from .errors import NoAuthError, RedisError, unknown_command, unknown_subcommand, wrong_arity
from .keyspace import ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC, Database
from .persistence.snapshot import persistence_cron
from .resp import QUEUED

log = logging.getLogger("twistd_redis")

LRU_CLOCK_MAX = (1 << 24) - 1


class Stats:
    """Counters shown by INFO stats; CONFIG RESETSTAT calls ``reset()``.

    Hot counters live where the hot path already is: keyspace hits/misses on each Database,
    calls per command on its CommandSpec; the totals here are sums of those."""

    FIELDS = (
        "total_connections_received",
        "total_net_input_bytes",
        "total_net_output_bytes",
        "rejected_connections",
        "expired_keys",
        "expired_stale_perc",
        "expired_time_cap_reached_count",
        "evicted_keys",
        "total_error_replies",
        "unexpected_error_replies",
        "dump_payload_sanitizations",
        "total_reads_processed",
        "total_writes_processed",
        "client_query_buffer_limit_disconnections",
        "client_output_buffer_limit_disconnections",
        "expire_cycle_cpu_milliseconds",
    )

    def __init__(self, state: "ServerState | None" = None) -> None:
        self._state = state
        self.reset()

    def reset(self) -> None:
        for f in self.FIELDS:
            setattr(self, f, 0)
        self.errors: dict[str, int] = {}
        self.ops_samples: deque[float] = deque(maxlen=16)
        self.in_samples: deque[float] = deque(maxlen=16)
        self.out_samples: deque[float] = deque(maxlen=16)
        self._last_sample: tuple[float, int, int, int] | None = None
        if self._state is not None:
            for db in self._state.dbs:
                db.hits = db.misses = 0
            self._commands_base = self._commands_sum()

    def _commands_sum(self) -> int:
        if self._state is None or not getattr(self._state, "command_rows", None):
            return 0
        return sum(spec.calls for spec in self._state.all_specs())

    @property
    def total_commands_processed(self) -> int:
        return self._commands_sum() - self._commands_base if self._state is not None else 0

    @property
    def keyspace_hits(self) -> int:
        return sum(db.hits for db in self._state.dbs) if self._state is not None else 0

    @property
    def keyspace_misses(self) -> int:
        return sum(db.misses for db in self._state.dbs) if self._state is not None else 0

    def count_error(self, message: str) -> None:
        self.total_error_replies += 1
        prefix = message.split(" ", 1)[0]
        errors = self.errors
        if prefix in errors or len(errors) < 128:
            errors[prefix] = errors.get(prefix, 0) + 1


class SlowlogEntry:
    __slots__ = ("id", "time", "duration", "argv", "peer", "name")

    def __init__(self, id: int, t: int, duration: int, argv: list[bytes], peer: str, name: bytes) -> None:
        self.id = id
        self.time = t
        self.duration = duration
        self.argv = argv
        self.peer = peer
        self.name = name


SLOWLOG_ENTRY_MAX_ARGC = 32
SLOWLOG_ENTRY_MAX_STRING = 128


class ServerState(Service):
    """The single owner of the dataset and everything around it.

    ``ServerState(config=None, clock=reactor)``; tests pass a ``task.Clock``. Code reads time
    through ``self.mstime`` (cached at each command, like Redis's ``server.mstime``) or
    ``now_ms()``.
    """

    name = "twistd-redis-state"

    def __init__(self, config: Config | None = None, clock: Any = None) -> None:
        if clock is None:
            from twisted.internet import reactor as clock  # type: ignore[no-redef]
        self.clock = clock
        self.config = config or Config()
        self.random = random.Random()
        self.run_id = "%040x" % random.getrandbits(160)
        self.start_time = clock.seconds()
        self.mstime = int(self.start_time * 1000)
        self.lruclock = int(self.start_time) & LRU_CLOCK_MAX
        self.dbs = [Database(self, i) for i in range(self.config["databases"])]
        self.clients: dict[int, Client] = {}
        self.next_client_id = 1
        self.stats = Stats(self)
        self.dirty = 0
        self.loading = False
        self.applying_master = False  # running our master's stream (replication/replica.py)
        # writeCommandsDeniedByDiskError: set by persistence (a failed BGSAVE with
        # stop-writes-on-bgsave-error, an AOF write error) to the -MISCONF error that write
        # commands and PING get until it clears; None on the fast path
        self.write_denied: RedisError | None = None
        # every client passes _slow_gates while this is set (update_gates): a disk error, a
        # replica's read-only / stale-data rules, min-replicas-to-write
        self.gate_all = False
        self.disk_errors: dict[str, RedisError] = {}  # "rdb" / "aof" -> its MISCONF error
        self.active_expire_enabled = True
        self.slowlog: deque[SlowlogEntry] = deque()
        self.slowlog_next_id = 0
        self.monitors: list[Client] = []
        self.pending_writes: list[Any] = []  # connections with queued pushes (want_flush)
        self.also_propagate: list[tuple[int, list[bytes]]] = []  # ops held during EXEC/scripts
        self.propagation_targets: list[Callable[[int, list[bytes]], None]] = []
        self.propagate_override: list[list[bytes]] | None = None
        self.watched_keys: dict[tuple[int, bytes], list[Client]] = {}
        # Blocking (blocking.py): waiters per (db id, key) in arrival order, keys made ready by
        # the current command, and a nesting count EXEC/scripts raise to defer serving.
        self.blocking_keys: dict[tuple[int, bytes], deque] = {}
        self.ready_keys: dict[tuple[int, bytes], None] = {}
        self.blocked_clients_count = 0
        self.serving_blocked = False
        self.exec_nesting = 0
        # Scripting (scripting/engine.py): the EVAL / FCALL running now (Redis's curr_run_ctx),
        # the -BUSY error everyone else gets once it ran past busy-reply-threshold, the
        # propagation targets of its commands (redis.set_repl: 1 AOF, 2 replicas) and the
        # engines themselves (created on first use)
        self.script_run: Any = None
        self.busy_error: RedisError | None = None
        self.propagate_mask = 3
        self.events_while_blocked: Callable[[], Any] | None = None  # tests: instead of the reactor
        self.lua: Any = None
        self.functions: Any = None
        self.shutdown_hooks: list[Callable[[], Any]] = []
        self.shutdown_callback: Callable[[], Any] = self._stop_reactor  # SHUTDOWN's last step
        self.listening_ports: list[Any] = []
        self.stat_numcommands_at_reset = 0
        self.cron: task.LoopingCall | None = None
        self.cronloops = 0
        self.commands: dict[bytes, cmdtable.CommandSpec] = {}
        self._load_commands()
        self._apply_config()
        from .notify import install_notifier

        install_notifier(self)  # keyspace_notifier + notify_bits (notify.py)
        from .persistence.snapshot import SnapshotManager

        self.persistence = SnapshotManager(self)  # RDB: save points, BGSAVE status (snapshot.py)
        from .persistence.aof import AppendOnlyFile

        self.aof = AppendOnlyFile(self)  # the append-only file; sets self.aof_buf (aof.py)
        from .replication.backlog import Replication

        self.repl = Replication(self)  # ids, offsets, backlog, replicas, master link (replication/)
        for name in ("min-replicas-to-write", "min-replicas-max-lag"):
            self.config.on_change(name, self._min_replicas_changed)
        self.update_gates()

    # ------------------------------------------------------------ setup

    def _load_commands(self) -> None:
        """Build this server's dispatch dict from the registry. Each server gets its own copy of
        every row, so its commandstats are its own (two servers in one process, or tests)."""
        from . import commands  # noqa: F401  (imports every command module: fills REGISTRY)

        self.command_rows: dict[str, cmdtable.CommandSpec] = {}
        for name, spec in cmdtable.REGISTRY.items():
            own = copy.copy(spec)
            own.reset_stats()
            if spec.subcommands is not None:
                own.subcommands = {}
                for subname, sub in spec.subcommands.items():
                    own_sub = copy.copy(sub)
                    own_sub.reset_stats()
                    own_sub.parent = own
                    own.subcommands[subname] = own_sub
            self.command_rows[name] = own
            self.commands[name.encode()] = own
            self.commands[name.upper().encode()] = own

    def all_specs(self) -> list[cmdtable.CommandSpec]:
        """This server's rows, subcommands included (commandstats, RESETSTAT)."""
        out = []
        for spec in self.command_rows.values():
            out.append(spec)
            if spec.subcommands:
                out.extend(spec.subcommands.values())
        return out

    def _apply_config(self) -> None:
        cfg = self.config
        self.requirepass = cfg["requirepass"]
        self.slowlog_threshold = cfg["slowlog-log-slower-than"]
        self.slowlog_max_len = cfg["slowlog-max-len"]
        self.proto_max_bulk_len = cfg["proto-max-bulk-len"]
        self.query_buffer_limit = cfg["client-query-buffer-limit"]
        self.maxclients = cfg["maxclients"]
        self.notify_flags = cfg["notify-keyspace-events"]

        def setter(attr: str) -> Callable[[Any], None]:
            def fn(v: Any) -> None:
                setattr(self, attr, v)

            return fn

        cfg.on_change("requirepass", setter("requirepass"))
        cfg.on_change("slowlog-log-slower-than", self._set_slowlog_threshold)
        self._set_slowlog_threshold(self.slowlog_threshold)
        cfg.on_change("slowlog-max-len", self._set_slowlog_max_len)
        cfg.on_change("proto-max-bulk-len", setter("proto_max_bulk_len"))
        cfg.on_change("client-query-buffer-limit", setter("query_buffer_limit"))
        cfg.on_change("maxclients", setter("maxclients"))
        cfg.on_change("notify-keyspace-events", setter("notify_flags"))
        cfg.on_change("hz", lambda v: self._start_cron() if self.running else None)

    def _set_slowlog_threshold(self, v: int) -> None:
        self.slowlog_threshold = v
        # negative disables the slow log; compared in nanoseconds on the command path
        self.slowlog_threshold_ns = v * 1000 if v >= 0 else float("inf")

    def _set_slowlog_max_len(self, v: int) -> None:
        self.slowlog_max_len = v
        while len(self.slowlog) > v:
            self.slowlog.pop()

    # ------------------------------------------------------------ Service

    def startService(self) -> None:
        Service.startService(self)
        self.aof.open_on_server_start()  # no-op when the startup load opened it (aof.py)
        self._start_cron()
        from .replication.replica import replication_start

        replication_start(self)  # connect to the configured replicaof master, if any

    def stopService(self) -> Any:
        Service.stopService(self)
        if self.cron is not None and self.cron.running:
            self.cron.stop()
        for hook in list(self.shutdown_hooks):
            hook()
        return None

    def _stop_reactor(self) -> None:
        """Default shutdown_callback: stop the global reactor if it runs."""
        from twisted.internet import reactor

        if reactor.running:  # type: ignore[attr-defined]
            reactor.stop()  # type: ignore[attr-defined]

    def _start_cron(self) -> None:
        if self.cron is not None and self.cron.running:
            self.cron.stop()
        hz = max(1, min(500, self.config["hz"] or 1))
        self.cron = task.LoopingCall(self.server_cron)
        self.cron.clock = self.clock
        self.cron.start(1.0 / hz, now=False)

    # ------------------------------------------------------------ time

    def now_ms(self) -> int:
        return int(self.clock.seconds() * 1000)

    def is_replica(self) -> bool:
        """server.masterhost != NULL: this server replicates another (replication/replica.py)."""
        return self.repl.masterhost is not None

    # ------------------------------------------------------------ clients

    def connect(self, conn: Any, addr: str = "", laddr: str = "") -> Client:
        c = Client(self, conn, self.next_client_id, addr, laddr)
        self.next_client_id += 1
        self.clients[c.id] = c
        self.stats.total_connections_received += 1
        return c

    def disconnect(self, c: Client) -> None:
        """Forget a client: its blocked wait is cancelled, its watches and subscriptions go."""
        self.clients.pop(c.id, None)
        if c.flags & CLIENT_MONITOR and c in self.monitors:
            self.monitors.remove(c)
        if c.waiting is not None:
            d, c.waiting = c.waiting, None
            d.cancel()
        self.discard_transaction(c)
        for hook in CLIENT_DISCONNECT_HOOKS:
            hook(self, c)
        c.conn = None

    def want_flush(self, proto: Any) -> None:
        """A connection queued out-of-band output (pushes, MONITOR lines): write it once at the
        end of this reactor turn, with everything else queued for it meanwhile."""
        if not self.pending_writes:
            self.clock.callLater(0, self.flush_pending_writes)
        self.pending_writes.append(proto)

    def flush_pending_writes(self) -> None:
        """handleClientsWithPendingWrites: one write per connection with queued output."""
        if self.aof_buf:  # flushAppendOnlyFile: the AOF first, then the replies it covers
            self.aof.flush_before_reply()
        protos, self.pending_writes = self.pending_writes, []
        for p in protos:
            p.flush_pending()

    def client_by_id(self, id: int) -> Client | None:
        return self.clients.get(id)

    # ------------------------------------------------------------ the gate

    def lookup_command(self, argv: list[bytes]) -> cmdtable.CommandSpec | RedisError:
        """The row for ``argv`` (subcommand resolved), or the error Redis gives."""
        name = argv[0]
        spec = self.commands.get(name)
        if spec is None:
            spec = self.commands.get(name.lower())
            if spec is None:
                return unknown_command(argv)
        if spec.subcommands is not None and (len(argv) > 1 or spec.func is None):
            # a container with a function of its own (COMMAND) runs it when called bare
            if len(argv) == 1:
                return wrong_arity(spec.fullname)
            sub = spec.subcommands.get(argv[1].lower())
            if sub is None:
                return unknown_subcommand(argv[1], spec.name)
            spec = sub
        if not spec.arity_ok(len(argv)):
            return wrong_arity(spec.fullname)
        return spec

    def execute(self, c: Client, argv: list[bytes], gates: bool = True) -> Any:
        """Run one request for client ``c``: Redis's processCommand + call().

        Gates in Redis's order (unknown command, arity, then - only when the client has any
        flag set - auth, pubsub context, MULTI queueing), the call, its stats and slow log,
        propagation of the writes it made, and the MONITOR feed. Returns the reply value (a
        Deferred when the command waits). The fast path is flat on purpose: GET/SET pay for a
        dict lookup, an arity test, one flags test, two clock reads and a few counters."""
        spec = self.commands.get(argv[0])
        if spec is None or spec.subcommands is not None:
            spec = self.lookup_command(argv)
            if type(spec) is not cmdtable.CommandSpec:
                return self.reject(c, None, spec)
        else:
            arity = spec.arity
            if (len(argv) != arity) if arity > 0 else (len(argv) < -arity):
                return self.reject(c, spec, wrong_arity(spec.fullname))
        if (c.flags or self.gate_all) and gates:
            r = self._slow_gates(c, spec, argv)
            if r is not None:
                return r
        dirty = self.dirty
        t0 = _ns()
        try:
            reply = spec.func(c, argv)
        except RedisError as e:
            reply = e
            spec.failed_calls += 1
            self.stats.count_error(e.message)
        except Exception:
            log.exception("command %r failed", spec.fullname)
            reply = RedisError("ERR internal error in '%s' (see the server log)" % spec.fullname)
            spec.failed_calls += 1
            self.stats.count_error(reply.message)
        duration = _ns() - t0
        spec.calls += 1
        spec.nsec += duration
        c.last_cmd = spec.fullname
        if duration >= self.slowlog_threshold_ns and not spec.flags & cmdtable.SKIP_SLOWLOG:
            self.slowlog_push(c, argv, duration // 1000)
        if self.dirty != dirty or self.propagate_override is not None:
            self._propagate_call(c, spec, argv)
        # the offset WAIT waits for: Redis 7.0's processCommand sets it after EVERY command it
        # calls (not queued or rejected ones), so it also covers PINGs / GETACKs fed meanwhile
        c.woff = self.repl.master_repl_offset
        if self.monitors and not spec.flags & (cmdtable.SKIP_MONITOR | cmdtable.ADMIN):
            self.feed_monitors(c, argv)
        if self.ready_keys:
            handle_clients_blocked_on_keys(self)
        return reply

    def update_time(self) -> None:
        """Refresh the cached time (``mstime``) once per read, timer and cron tick, as Redis
        refreshes server.mstime around each call."""
        self.mstime = int(self.clock.seconds() * 1000)

    def _slow_gates(self, c: Client, spec: cmdtable.CommandSpec, argv: list[bytes]) -> Any:
        """processCommand's gates after arity, in Redis 7.0's order: auth, disk error (MISCONF),
        min-replicas-to-write (NOREPLICAS), read-only replica (READONLY), RESP2 pubsub context,
        stale replica (MASTERDOWN), MULTI queueing. EXEC counts as a write when it holds one,
        as Redis's ``c->mstate.cmd_flags``."""
        if c.flags & CLIENT_NEEDS_AUTH and not spec.flags & cmdtable.NO_AUTH:
            return self.reject(c, spec, NoAuthError())
        if self.gate_all and not c.flags & CLIENT_MASTER:
            flags = spec.flags
            if spec.fullname == "exec" and c.multi_queue:
                flags = self._queued_flags(c)
            is_write = flags & cmdtable.WRITE
            repl = self.repl
            if (
                self.write_denied is not None
                and (is_write or spec.fullname == "ping")
                and repl.masterhost is None
            ):
                return self.reject(c, spec, self.write_denied)
            if is_write and repl.masterhost is None:
                need = self.config["min-replicas-to-write"]
                if need and self.config["min-replicas-max-lag"] and repl.good_replicas < need:
                    return self.reject(c, spec, RedisError("NOREPLICAS Not enough good replicas to write."))
            if is_write and repl.masterhost is not None and self.config["replica-read-only"]:
                return self.reject(c, spec, RedisError("READONLY You can't write against a read only replica."))
        if c.flags & CLIENT_PUBSUB and c.resp == 2 and spec.fullname not in _PUBSUB_ALLOWED:
            return self.reject(
                c,
                spec,
                RedisError(
                    "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
                    "are allowed in this context" % spec.fullname
                ),
            )
        if self.gate_all and self.repl.masterhost is not None and not self.config["replica-serve-stale-data"]:
            link = self.repl.link
            if (link is None or not link.connected()) and not c.flags & CLIENT_MASTER:
                stale_ok = spec.flags & cmdtable.STALE
                if spec.fullname == "exec" and c.multi_queue:
                    stale_ok = all(s.flags & cmdtable.STALE for s in self._queued_specs(c))
                if not stale_ok:
                    return self.reject(
                        c,
                        spec,
                        RedisError("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."),
                    )
        if self.busy_error is not None and not spec.flags & cmdtable.ALLOW_BUSY:
            return self.reject(c, spec, self.busy_error)
        if c.flags & CLIENT_MULTI:
            if spec.flags & cmdtable.NO_MULTI:
                return self.reject(c, spec, RedisError("ERR Command not allowed inside a transaction"))
            if spec.fullname not in _MULTI_IMMEDIATE:
                return self.queue_multi(c, spec, argv)
        return None

    def _queued_specs(self, c: Client) -> list[cmdtable.CommandSpec]:
        specs = []
        for argv in c.multi_queue or ():
            spec = self.lookup_command(argv)
            if type(spec) is cmdtable.CommandSpec:
                specs.append(spec)
        return specs

    def _queued_flags(self, c: Client) -> int:
        """c->mstate.cmd_flags: the union of the queued commands' flags."""
        flags = 0
        for spec in self._queued_specs(c):
            flags |= spec.flags
        return flags

    def _min_replicas_changed(self, value: Any) -> None:
        from .replication.wait import refresh_good_replicas

        self.update_gates()
        refresh_good_replicas(self)  # updateGoodSlaves

    def update_gates(self) -> None:
        """Decide whether every client must pass _slow_gates (Redis checks these per command;
        we skip them on the fast path while none can apply)."""
        cfg = self.config
        repl = getattr(self, "repl", None)
        self.gate_all = (
            self.write_denied is not None
            or self.busy_error is not None
            or (repl is not None and repl.masterhost is not None)
            or bool(cfg["min-replicas-to-write"] and cfg["min-replicas-max-lag"])
        )

    def set_disk_error(self, source: str, error: RedisError | None) -> None:
        """Persistence reports (or clears, with None) the disk error of ``source`` ("rdb" or
        "aof"). The gate shows the RDB one first, as writeCommandsDeniedByDiskError checks the
        last BGSAVE before the AOF's last write."""
        if error is None:
            self.disk_errors.pop(source, None)
        else:
            self.disk_errors[source] = error
        errs = self.disk_errors
        self.write_denied = errs.get("rdb") or errs.get("aof")
        self.update_gates()

    def queue_multi(self, c: Client, spec: cmdtable.CommandSpec, argv: list[bytes]) -> Any:
        """queueMultiCommand: keep the command for EXEC and answer +QUEUED (a transaction
        already doomed - DIRTY_CAS or DIRTY_EXEC - stops collecting but still answers)."""
        if not c.flags & (CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC):
            c.multi_queue.append(argv)
        return QUEUED

    def reject(self, c: Client, spec: cmdtable.CommandSpec | None, error: RedisError) -> RedisError:
        """rejectCommand: count it (rejected_calls, errorstats), doom an open transaction
        (flagTransaction: EXEC will answer EXECABORT) and answer the error."""
        if spec is not None:
            spec.rejected_calls += 1
            if spec.fullname == "exec":  # execCommandAbort: EXEC itself rejected ends the transaction
                msg = error.message[4:] if error.message.startswith("ERR ") else error.message
                error = RedisError("EXECABORT Transaction discarded because of: " + msg)
                self.discard_transaction(c)
        if c.flags & CLIENT_MULTI:
            c.flags |= CLIENT_DIRTY_EXEC
        self.stats.count_error(error.message)
        return error

    def discard_transaction(self, c: Client) -> None:
        """discardTransaction: drop the queue, leave MULTI, forget the WATCHes."""
        c.multi_queue = None
        c.flags &= ~(CLIENT_MULTI | CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC)
        self.unwatch_all(c)

    # ------------------------------------------------------------ propagation

    def _propagate_call(self, c: Client, spec: cmdtable.CommandSpec, argv: list[bytes]) -> None:
        override, self.propagate_override = self.propagate_override, None
        if not self.propagation_targets:
            return
        if override is not None:
            if len(override) > 1 and not self.exec_nesting:
                # propagatePendingCommands: several ops of one command reach the AOF and the
                # replicas as one transaction (SPOP with a count -> MULTI, SREM..., EXEC)
                override = [[b"MULTI"], *override, [b"EXEC"]]
            for a in override:
                self.propagate(c.db.id, a)
        elif spec.flags & (cmdtable.WRITE | cmdtable.MAY_REPLICATE):
            self.propagate(c.db.id, argv)

    def rewrite_propagation(self, *argvs: list[bytes]) -> None:
        """Propagate these argvs for the current command instead of its own (SET EX -> SET
        PXAT, INCRBYFLOAT -> SET KEEPTTL, ...). An empty call propagates nothing."""
        if self.propagate_override is None:
            self.propagate_override = []
        self.propagate_override.extend(argvs)

    def propagate(self, dbid: int, argv: list[bytes]) -> None:
        """The single feed of the AOF and the replicas. Inside EXEC (or a script) the ops are
        kept and go out together when it ends (``end_atomic``), as Redis's also_propagate."""
        if self.exec_nesting:
            mask = self.propagate_mask
            if mask == 3:
                self.also_propagate.append((dbid, argv))
            elif mask and self._masked_targets(mask):  # redis.set_repl: AOF or replicas only
                # shouldPropagate: an op only for a target that is off (no AOF, no replication
                # backlog) is not kept, so it does not count for the MULTI/EXEC wrapping either
                self.also_propagate.append((dbid, argv, mask))
            return
        for target in self.propagation_targets:
            target(dbid, argv)

    def begin_atomic(self) -> None:
        """EXEC and scripts: no blocked client is served and nothing is propagated until the
        matching ``end_atomic``."""
        self.exec_nesting += 1

    def end_atomic(self) -> None:
        """propagatePendingCommands: the ops of the whole EXEC go out as one MULTI ... EXEC
        (a single op alone, as Redis 7.0 does); blocked clients are served by ``execute``."""
        self.exec_nesting -= 1
        if self.exec_nesting:
            return
        ops, self.also_propagate = self.also_propagate, []
        if len(ops) > 1:
            ops = [(ops[0][0], [b"MULTI"]), *ops, (ops[-1][0], [b"EXEC"])]
        for op in ops:
            if len(op) == 2:
                for target in self.propagation_targets:
                    target(*op)
                continue
            dbid, argv, mask = op
            for target in self._masked_targets(mask):
                target(dbid, argv)

    def _masked_targets(self, mask: int) -> list[Callable[[int, list[bytes]], None]]:
        """The propagation targets a redis.set_repl mask keeps (1: the AOF, 2: the replicas)."""
        aof_feed = self.aof.feed
        return [t for t in self.propagation_targets if ((mask & 1) if t == aof_feed else (mask & 2))]

    # ------------------------------------------------------------ long scripts

    def script_timed_out_starts(self, run: Any) -> None:
        """enterScriptTimedoutMode + protectClient: others get -BUSY, and the caller's
        connection is not read until the script ends (its input stays queued in the kernel)."""
        from .scripting.engine import BUSY_EVAL, BUSY_FUNCTION

        self.busy_error = RedisError(BUSY_EVAL if run.flags & 1 else BUSY_FUNCTION)
        self.update_gates()
        t = getattr(run.caller.conn, "transport", None)
        if t is not None and hasattr(t, "stopReading"):
            t.stopReading()

    def script_timed_out_ends(self, run: Any) -> None:
        self.busy_error = None
        self.update_gates()
        link = self.repl.link
        if link is not None:  # our master's stream, held while busy, runs on the next turn
            self.clock.callLater(0, link.resume_after_busy)
        if self.repl.replicas:  # WAITs that replicas' ACKs read while busy satisfied
            from .replication.wait import replicas_acked

            self.clock.callLater(0, replicas_acked, self)
        conn = run.caller.conn
        t = getattr(conn, "transport", None)
        if t is not None and hasattr(t, "startReading") and not getattr(conn, "closing", False) and t.connected:
            t.startReading()

    def process_events_while_blocked(self) -> None:
        """processEventsWhileBlocked: let the reactor read and answer other connections while
        a script runs past busy-reply-threshold (they get -BUSY, or run an ALLOW_BUSY command
        such as SCRIPT KILL). Timers do not run; the script's frozen time is kept."""
        saved = self.mstime
        try:
            hook = self.events_while_blocked
            if hook is not None:
                hook()
            else:
                it = getattr(self.clock, "doIteration", None)
                if it is not None and getattr(self.clock, "running", False):
                    it(0)
            self.flush_pending_writes()
        finally:
            self.mstime = saved

    # ------------------------------------------------------------ keyspace side effects

    def signal_modified_key(self, db: Database, key: bytes) -> None:
        """signalModifiedKey / touchWatchedKey: invalidate WATCHes on the key. A key that was
        already expired when WATCHed and is now gone is no logical change (Redis 7.0)."""
        if self.watched_keys:
            clients = self.watched_keys.get((db.id, key))
            if clients:
                wk = (db.id, key)
                for wc in clients:
                    if wc.watched_keys[wk] and key not in db.data:
                        wc.watched_keys[wk] = False
                        continue
                    wc.flags |= CLIENT_DIRTY_CAS

    def signal_key_as_ready(self, db: Database, key: bytes) -> None:
        """signalKeyAsReady: a client blocked on ``key`` may be servable now (a push into an
        existing list, a ZADD...). ``Database.add``/``set_key`` call this themselves."""
        if (db.id, key) in self.blocking_keys:
            self.ready_keys[(db.id, key)] = None

    def touch_all_watched_keys_in_db(self, emptied: Database, replaced_with: Database | None = None) -> None:
        """touchAllWatchedKeysInDb: FLUSHDB/FLUSHALL (``replaced_with`` None) and SWAPDB
        (the other db) dirty the WATCHes on keys that exist in ``emptied`` or in its
        replacement. Called while the keys are still there."""
        if not self.watched_keys:
            return
        for (wdb, key), clients in self.watched_keys.items():
            if wdb != emptied.id:
                continue
            in_emptied = key in emptied.data
            in_replaced = replaced_with is not None and key in replaced_with.data
            if not (in_emptied or in_replaced):
                continue
            for wc in clients:
                wk = (wdb, key)
                if wc.watched_keys[wk]:
                    if not in_replaced:  # an expired key now deleted: no logical change
                        wc.watched_keys[wk] = False
                        continue
                    if replaced_with.key_is_expired(key):  # expired, and still expired
                        continue
                elif not in_emptied and replaced_with.key_is_expired(key):
                    wc.watched_keys[wk] = True  # a missing key replaced by an expired one
                    continue
                wc.flags |= CLIENT_DIRTY_CAS

    def watch_key(self, c: Client, key: bytes) -> None:
        """watchForKey: remember whether the key is already logically expired."""
        wk = (c.db.id, key)
        if c.watched_keys is None:
            c.watched_keys = {}
        elif wk in c.watched_keys:
            return
        c.watched_keys[wk] = c.db.key_is_expired(key)
        self.watched_keys.setdefault(wk, []).append(c)

    def is_watched_key_expired(self, c: Client) -> bool:
        """isWatchedKeyExpired: a watched key that has expired since WATCH dooms EXEC."""
        if c.watched_keys:
            for (dbid, key), was_expired in c.watched_keys.items():
                if not was_expired and self.dbs[dbid].key_is_expired(key):
                    return True
        return False

    def unwatch_all(self, c: Client) -> None:
        if c.watched_keys:
            for k in c.watched_keys:
                lst = self.watched_keys.get(k)
                if lst and c in lst:
                    lst.remove(c)
                    if not lst:
                        del self.watched_keys[k]
        c.watched_keys = None

    def reset_client(self, c: Client) -> None:
        """clearClientConnectionState (RESET): db 0, RESP2, default user (unauthenticated when a
        password is set), no MULTI/WATCH, no subscriptions, no name, MONITOR off, CLIENT REPLY
        ON, no READONLY/NO-EVICT. Modules owning more per-client state (pub/sub registries,
        transactions, tracking) append ``hook(state, client)`` to ``CLIENT_RESET_HOOKS``."""
        from .client import CLIENT_NO_EVICT, CLIENT_READONLY, REPLY_ON

        if c.flags & CLIENT_MONITOR:
            if c in self.monitors:
                self.monitors.remove(c)
            c.flags &= ~CLIENT_MONITOR
        for hook in CLIENT_RESET_HOOKS:
            hook(self, c)
        c.select(0)
        c.set_resp(2)
        c.user = "default"
        c.authenticated = not self.requirepass
        self.discard_transaction(c)
        c.pubsub_channels.clear()
        c.pubsub_patterns.clear()
        c.pubsub_shard_channels.clear()
        c.name = None
        c.flags &= ~(CLIENT_READONLY | CLIENT_PUBSUB | CLIENT_NO_EVICT)
        c.reply_mode = REPLY_ON

    def notify_keyspace_event(self, type_flag: str, event: bytes, key: bytes, dbid: int) -> None:
        """notifyKeyspaceEvent: publish __keyspace@/__keyevent@ messages when enabled by
        notify-keyspace-events (delivered by the pub/sub module once it is loaded)."""
        if self.notify_flags and self.keyspace_notifier is not None:
            self.keyspace_notifier(type_flag, event, key, dbid)

    keyspace_notifier: Callable[[str, bytes, bytes, int], None] | None = None
    notify_bits = 0  # notify-keyspace-events as bits, kept by notify.install_notifier

    # ------------------------------------------------------------ slow log and monitors

    def slowlog_push(self, c: Client, argv: list[bytes], duration: int) -> None:
        args = []
        argc = min(len(argv), SLOWLOG_ENTRY_MAX_ARGC)
        for j in range(argc):
            if argc != len(argv) and j == argc - 1:
                args.append(b"... (%d more arguments)" % (len(argv) - argc + 1))
                break
            a = argv[j]
            if len(a) > SLOWLOG_ENTRY_MAX_STRING:
                a = a[:SLOWLOG_ENTRY_MAX_STRING] + b"... (%d more bytes)" % (len(a) - SLOWLOG_ENTRY_MAX_STRING)
            args.append(a)
        self.slowlog.appendleft(
            SlowlogEntry(self.slowlog_next_id, int(self.clock.seconds()), duration, args, c.addr, c.name or b"")
        )
        self.slowlog_next_id += 1
        while len(self.slowlog) > self.slowlog_max_len:
            self.slowlog.pop()

    def feed_monitors(self, c: Client, argv: list[bytes]) -> None:
        """replicationFeedMonitors: ``+<time> [<db> <addr>] "arg" ...`` to each monitor."""
        from .resp import Raw

        now = self.clock.seconds()
        addr = c.addr if c.conn is not None else "lua"
        parts = [b"+%.6f [%d %s]" % (now, c.db.id, addr.encode())]
        for a in argv:
            parts.append(b'"' + repr_bytes(a) + b'"')
        line = Raw(b" ".join(parts) + b"\r\n")
        for m in self.monitors:
            if m is not c:
                m.send(line)
            else:  # a monitor sees its own commands too, after their reply (as Redis)
                self.clock.callLater(0, m.send, line)

    # ------------------------------------------------------------ cron

    def server_cron(self) -> None:
        """serverCron: LRU clock, active expiry, client timeouts, metrics; runs ``hz`` times a
        second on the injected clock."""
        self.cronloops += 1
        now = self.clock.seconds()
        self.lruclock = int(now) & LRU_CLOCK_MAX
        self.mstime = int(now * 1000)
        for db in self.dbs:
            db.lruclock = self.lruclock
            if len(db.access) > db.access_cap:
                db.prune_access()
        if self.active_expire_enabled and not self.is_replica():
            self.active_expire_cycle()
        self._sample_metrics(now)
        persistence_cron(self)  # reap a finished child, save points, scheduled BGSAVE
        self.aof.cron()  # AOF: reap/schedule/auto rewrite, flush, everysec fsync (aof.py)
        self.repl.cron()  # replicationCron, once a second (replication/backlog.py)
        timeout = self.config["timeout"]
        if timeout:
            for c in list(self.clients.values()):
                if (
                    c.conn is not None
                    and not c.flags & (CLIENT_MONITOR | CLIENT_PUBSUB)
                    and c.waiting is None
                    and now - c.last_interaction > timeout
                ):
                    c.kill()

    def active_expire_cycle(self) -> None:
        hz = max(1, self.config["hz"])
        budget = (1.0 / hz) * ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC / 100.0
        start = _timer()
        deadline = start + budget
        now = self.mstime
        for db in self.dbs:
            if db.expires and not db.active_expire_cycle(now, deadline, _timer):
                self.stats.expired_time_cap_reached_count += 1
                break
        self.stats.expire_cycle_cpu_milliseconds += int((_timer() - start) * 1000)

    def _sample_metrics(self, now: float) -> None:
        st = self.stats
        cur = (now, st.total_commands_processed, st.total_net_input_bytes, st.total_net_output_bytes)
        last = st._last_sample
        if last is not None and now - last[0] >= 0.1:
            dt = now - last[0]
            st.ops_samples.append((cur[1] - last[1]) / dt)
            st.in_samples.append((cur[2] - last[2]) / dt)
            st.out_samples.append((cur[3] - last[3]) / dt)
            st._last_sample = cur
        elif last is None:
            st._last_sample = cur

    # ------------------------------------------------------------ misc

    def flushall(self) -> int:
        n = 0
        for db in self.dbs:
            self.touch_all_watched_keys_in_db(db)
            n += db.flush()
        return n

    def used_memory(self) -> int:
        """Resident set size of this process in bytes (Python has no allocator stats of
        Redis's kind; RSS is the honest figure)."""
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:  # pragma: no cover
            return 0

    def version(self) -> str:
        return __version__


_timer = time.perf_counter

_ns = time.perf_counter_ns

_PUBSUB_ALLOWED = frozenset(
    ["ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe", "quit", "reset"]
)
_MULTI_IMMEDIATE = frozenset(["exec", "discard", "multi", "watch", "quit", "reset"])


def repr_bytes(a: bytes) -> bytes:
    """sdscatrepr: printable bytes as they are, the rest escaped, as MONITOR shows them."""
    out = bytearray()
    for ch in a:
        if ch == 92 or ch == 34:
            out += b"\\" + bytes([ch])
        elif ch == 10:
            out += b"\\n"
        elif ch == 13:
            out += b"\\r"
        elif ch == 9:
            out += b"\\t"
        elif ch == 7:
            out += b"\\a"
        elif ch == 8:
            out += b"\\b"
        elif 32 <= ch < 127:
            out.append(ch)
        else:
            out += b"\\x%02x" % ch
    return bytes(out)


def succeed(value: Any) -> defer.Deferred:
    return defer.succeed(value)
