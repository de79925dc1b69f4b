"""Fault injection and convergence checks for replication tests.

``LinkProxy`` is a loopback TCP proxy put between a replica and its master (the replica is told
``REPLICAOF 127.0.0.1 <proxy.port>``): ``cut()`` closes both sides of every current connection and
refuses (or, with ``hold=True``, parks unanswered) new ones until ``restore()``; ``silence()`` keeps the current connections open but swallows their bytes (a
dead link only a timeout reveals); ``delay(s)``
holds every forwarded chunk ``s`` seconds; ``bytes_up`` (replica -> master) and ``bytes_down``
(master -> replica) count what went through. Threads and blocking sockets, bounded: at most
``max_conns`` connections at a time, every socket with a short timeout so ``close()`` always ends.

``start_master(kind, tmp_path, *extra)`` / ``start_replica_of(kind, master_port, tmp_path, *extra)``
start a real redis-server (``kind="real"``) or ours (``"ours"``) in its own folder under tmp_path,
with fast replication settings (diskless sync without delay, a PING every second).
``info(client, section)`` reads INFO into a dict of str -> str (redis-py's parser turns ``slave0``
lines into dicts; this keeps Redis's text). ``wait_converged(master, replica)`` waits until the
replica's link is up, its offset equals the master's and ``tests.dataset.capture`` reads the same
data from both (after the writes stopped), and fails naming the keys that differ.
"""

from __future__ import annotations

import itertools
import random
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from tests.dataset import capture
from tests.helpers_proc import HOST, ServerProcess, free_port

KINDS = ("real", "ours")
# (master kind, replica kind) as pytest ids read them: "real-ours" is a real master with our replica
PAIRS = [("real", "real"), ("ours", "real"), ("real", "ours"), ("ours", "ours")]
PAIR_IDS = [f"{m}-{r}" for m, r in PAIRS]

# settings that make replication fast and deterministic enough for tests; both servers know them
FAST = (
    "--repl-diskless-sync-delay", "0",
    "--repl-ping-replica-period", "1",
)

_seq = itertools.count()


# ------------------------------------------------------------------------------------- proxy


class LinkProxy:
    """A TCP proxy on 127.0.0.1 (ephemeral port) forwarding to ``127.0.0.1:target_port``."""

    def __init__(self, target_port: int, max_conns: int = 32, chunk: int = 65536) -> None:
        self.target_port = target_port
        self.max_conns = max_conns
        self.chunk = chunk
        self.bytes_up = 0  # client (replica) -> target (master)
        self.bytes_down = 0  # target (master) -> client (replica)
        self.accepted = 0  # connections forwarded to the target
        self.refused = 0  # connections closed at once because the link was cut
        self._delay = 0.0
        self._cut = False
        self._hold = False
        self._held: list[socket.socket] = []
        self._silent: list[tuple[socket.socket, socket.socket]] = []
        self.dropped = 0  # bytes swallowed by silenced connections
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._lsock.bind((HOST, 0))
        self._lsock.listen(16)
        self._lsock.settimeout(0.1)
        self.port: int = self._lsock.getsockname()[1]
        self._spawn(self._accept_loop)

    # -- control
    def cut(self, hold: bool = False) -> None:
        """Close both sides of every current connection; until restore(), new connections are
        closed at once (``hold=False``: the replica sees a connection reset on its handshake)
        or accepted and left unanswered (``hold=True``: only a timeout reveals the dead link)."""
        with self._lock:
            self._cut = True
            self._hold = hold
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            _kill(a)
            _kill(b)

    def silence(self) -> None:
        """A dead link that stays open: current connections swallow everything both ways (no
        FIN, no RST: only a timeout reveals it) and new ones are held unanswered, until
        restore(), which closes the silenced ones."""
        with self._lock:
            self._cut = True
            self._hold = True
            self._silent, self._pairs = self._pairs, []

    def restore(self) -> None:
        """Accept and forward again; held connections are connected to the target now,
        silenced ones are closed."""
        with self._lock:
            self._cut = False
            held, self._held = self._held, []
            silent, self._silent = self._silent, []
        for a, b in silent:
            _kill(a)
            _kill(b)
        for s in held:
            self._forward(s)

    def delay(self, seconds: float) -> None:
        """Hold every chunk ``seconds`` before forwarding it (0: no delay), both ways."""
        self._delay = seconds

    def connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            held, self._held = self._held, []
        for s in held:
            _kill(s)
        self.restore()  # closes silenced connections
        self.cut()
        _kill(self._lsock)
        for t in self._threads:
            t.join(2)

    def __enter__(self) -> LinkProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals
    def _spawn(self, fn: Callable, *args: Any) -> None:
        t = threading.Thread(target=fn, args=args, daemon=True)
        self._threads = [x for x in self._threads if x.is_alive()]
        self._threads.append(t)
        t.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                s, _ = self._lsock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                cut, hold = self._cut, self._hold
                busy = len(self._pairs) + len(self._held) >= self.max_conns
                if cut and hold and not busy:
                    self._held.append(s)
                    continue
            if cut or busy:
                self.refused += 1
                _kill(s)
                continue
            self._forward(s)

    def _forward(self, s: socket.socket) -> None:
        try:
            up = socket.create_connection((HOST, self.target_port), timeout=2)
        except OSError:
            self.refused += 1
            _kill(s)
            return
        for x in (s, up):
            x.settimeout(0.1)
            x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            if self._cut or self._stop.is_set():
                _kill(s)
                _kill(up)
                return
            self._pairs.append((s, up))
            self.accepted += 1
        self._spawn(self._pump, s, up, True)
        self._spawn(self._pump, up, s, False)

    def _pump(self, src: socket.socket, dst: socket.socket, upward: bool) -> None:
        try:
            while not self._stop.is_set():
                try:
                    data = src.recv(self.chunk)
                except TimeoutError:
                    continue
                if not data:
                    break
                if any(src in p for p in self._silent):
                    self.dropped += len(data)
                    continue
                if self._delay:
                    time.sleep(self._delay)
                # Counted before sending: the peer's answer can reach the test before this
                # thread runs again, and the test reads the counters as soon as it has it.
                if upward:
                    self.bytes_up += len(data)
                else:
                    self.bytes_down += len(data)
                dst.settimeout(5)
                dst.sendall(data)
                dst.settimeout(0.1)
        except OSError:
            pass
        with self._lock:
            self._pairs = [p for p in self._pairs if src not in p]
            self._silent = [p for p in self._silent if src not in p]
        _kill(src)
        _kill(dst)


def _kill(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


# ----------------------------------------------------------------------------------- servers


def _dir(tmp_path: Path, role: str) -> Path:
    d = Path(tmp_path) / f"{role}-{next(_seq)}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def start_server(kind: str, tmp_path: Path, *extra: str, role: str = "srv", d: Path | None = None,
                 port: int | None = None, save: str = "") -> ServerProcess:
    """A started server of ``kind`` ("real" / "ours") with FAST settings in its own folder (or
    ``d``); ``extra`` options come last and win; ``save`` is its save points ("" = none, so
    SIGTERM does not save). ``srv.dir`` is its folder, ``srv.kind`` its kind."""
    d = d or _dir(tmp_path, role)
    port = port or free_port()
    if kind == "real":
        # ServerProcess.real passes --save '' first: a later save line adds points to none
        srv = ServerProcess.real(port, *FAST, *(("--save", save) if save else ()), *extra, cwd=str(d))
    elif kind == "ours":
        srv = ServerProcess.ours(port, "--dir", str(d), "--save", save, "--appendonly", "no", *FAST, *extra,
                                 cwd=str(d))
    else:
        raise ValueError(kind)
    srv.dir = d  # type: ignore[attr-defined]
    srv.kind = kind  # type: ignore[attr-defined]
    return srv.start()


def start_master(kind: str, tmp_path: Path, *extra: str, **kw: Any) -> ServerProcess:
    return start_server(kind, tmp_path, *extra, role="master", **kw)


def start_replica_of(kind: str, master_port: int, tmp_path: Path, *extra: str, **kw: Any) -> ServerProcess:
    """A replica of 127.0.0.1:master_port (``--replicaof`` at start, as a config file would)."""
    return start_server(kind, tmp_path, "--replicaof", f"{HOST} {master_port}", *extra, role="replica", **kw)


def restart(srv: ServerProcess, kill: bool = False, timeout: float = 15.0) -> ServerProcess:
    """Stop (SIGTERM: a server with save points saves; ``kill``: SIGKILL) and start the same argv
    (same port, same folder)."""
    if kill and srv.alive():
        srv.proc.kill()
        srv.proc.wait(5)
    else:
        srv.stop()
    return srv.start(timeout)


def client(srv: ServerProcess | int, **kw: Any) -> redis.Redis:
    port = srv if isinstance(srv, int) else srv.port
    return redis.Redis(host=HOST, port=port, protocol=2, socket_timeout=10, **kw)


# -------------------------------------------------------------------------------------- INFO


def info(c: redis.Redis, section: str = "replication") -> dict[str, str]:
    """INFO <section> as Redis prints it: {field: text}; ``slave0`` stays "ip=...,port=...".
    (A raw call: redis-py would parse the values.)"""
    conn = c.connection_pool.get_connection()
    try:
        conn.send_command("INFO", section)
        raw = conn.read_response()
    finally:
        c.connection_pool.release(conn)
    out: dict[str, str] = {}
    for line in raw.decode().split("\r\n"):
        if line and not line.startswith("#") and ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


def info_int(c: redis.Redis, field: str, section: str = "replication") -> int:
    return int(info(c, section)[field])


def sync_stats(c: redis.Redis) -> dict[str, int]:
    """The master's sync_full / sync_partial_ok / sync_partial_err (INFO stats)."""
    i = info(c, "stats")
    return {k: int(i[k]) for k in ("sync_full", "sync_partial_ok", "sync_partial_err")}


def sync_log(*servers: ServerProcess, limit: int = 40) -> str:
    """The replication lines of the servers' logs (for assertion messages): why a PSYNC was
    refused, when a link dropped."""
    words = ("sync", "SYNC", "backlog", "MASTER", "master", "replica", "Replica", "replid")
    out = []
    for srv in servers:
        lines = [ln for ln in srv.output().splitlines() if any(w in ln for w in words)]
        out.append(f"--- {getattr(srv, 'kind', '?')} :{srv.port}\n" + "\n".join(lines[-limit:]))
    return "\n".join(out)


def link_up(replica: redis.Redis) -> bool:
    try:
        return info(replica).get("master_link_status") == "up"
    except redis.RedisError:
        return False


def wait_link_up(replica: redis.Redis, timeout: float = 15.0) -> None:
    wait_until(lambda: link_up(replica), timeout, "replica link never came up")


def wait_until(pred: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if pred():
                return
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, OSError):
            pass
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} (within {timeout}s)")
        time.sleep(every)


def offsets(master: redis.Redis, replica: redis.Redis) -> tuple[int, int]:
    """(master's master_repl_offset, replica's slave_repl_offset), the master's read first."""
    m = int(info(master)["master_repl_offset"])
    r = info(replica)
    return m, int(r.get("slave_repl_offset", "-1"))


def _diff(a: dict, b: dict, limit: int = 8) -> str:
    out = []
    for db in sorted(set(a) | set(b), key=int):
        ka, kb = a.get(db, {}), b.get(db, {})
        for key in sorted(set(ka) | set(kb)):
            if ka.get(key) != kb.get(key):
                out.append(f"db{db} {key}: master={str(ka.get(key))[:120]} replica={str(kb.get(key))[:120]}")
                if len(out) >= limit:
                    return "\n".join(out + ["..."])
    return "\n".join(out)


def wait_converged(master: redis.Redis, replica: redis.Redis, timeout: float = 15.0) -> dict:
    """Wait until the replica's link is up, its slave_repl_offset equals the master's
    master_repl_offset and both hold the same data (capture, key by key). Returns the capture.
    Call it after the writers stopped: the master's PINGs move the offset, not the data."""
    deadline = time.monotonic() + timeout
    last = "never checked"
    while True:
        try:
            if link_up(replica):
                mo, ro = offsets(master, replica)
                if mo == ro:
                    a = capture(master)
                    b = capture(replica)
                    if a == b:
                        return a
                    last = f"offsets equal ({mo}) but data differs:\n{_diff(a, b)}"
                else:
                    last = f"master_repl_offset {mo} != slave_repl_offset {ro}"
            else:
                last = "master_link_status is not up"
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, OSError) as e:
            last = f"{type(e).__name__}: {e}"
        if time.monotonic() >= deadline:
            raise AssertionError(f"not converged within {timeout}s: {last}")
        time.sleep(0.1)


# ------------------------------------------------------------------------------------ writer


class Writer(threading.Thread):
    """A write load through redis-py: SET / INCR / LPUSH+LTRIM / HSET / ZADD / EXPIRE / DEL /
    MULTI-EXEC over dbs ``dbs``, on ``keys`` keys each, until ``stop()`` (or ``limit`` ops).
    Errors (the master went away) are counted, the client reconnects and goes on. A fixed seed
    keeps runs reproducible; the pace is bounded by ``pause`` between operations."""

    def __init__(self, port: int, dbs: tuple[int, ...] = (0, 1, 5), keys: int = 40, seed: int = 1,
                 pause: float = 0.0, limit: int = 1_000_000, value_size: int = 16) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.dbs = dbs
        self.keys = keys
        self.rnd = random.Random(seed)
        self.pause = pause
        self.limit = limit
        self.value = b"v" * value_size
        self.ops = 0
        self.errors = 0
        self._stop_ev = threading.Event()
        self.clients = {db: redis.Redis(host=HOST, port=port, db=db, protocol=2, socket_timeout=5)
                        for db in dbs}

    def one(self) -> None:
        rnd = self.rnd
        c = self.clients[rnd.choice(self.dbs)]
        k = rnd.randrange(self.keys)
        op = rnd.randrange(9)
        if op == 0:
            c.set(f"s:{k}", self.value + str(self.ops).encode())
        elif op == 1:
            c.incr(f"n:{k}")
        elif op == 2:
            c.lpush(f"l:{k}", self.ops, b"x")
            c.ltrim(f"l:{k}", 0, 30)
        elif op == 3:
            c.hset(f"h:{k}", f"f{rnd.randrange(20)}", self.ops)
        elif op == 4:
            c.zadd(f"z:{k}", {f"m{rnd.randrange(20)}": rnd.randrange(-1000, 1000) / 8})
        elif op == 5:
            c.expire(f"s:{k}", 3600 + rnd.randrange(100))  # long TTLs: nothing expires mid-test
        elif op == 6:
            c.delete(f"{rnd.choice('snlhz')}:{k}")
        elif op == 7:
            p = c.pipeline(transaction=True)  # MULTI ... EXEC
            p.incrby(f"n:{k}", 7)
            p.sadd(f"t:{k}", rnd.randrange(50))
            p.set(f"s:{k}", b"tx%d" % self.ops, px=5_000_000)
            p.execute()
        else:
            c.append(f"s:{k}", b"+")

    def run(self) -> None:
        while not self._stop_ev.is_set() and self.ops < self.limit:
            try:
                self.one()
                self.ops += 1
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                self.errors += 1
                self._stop_ev.wait(0.05)
            except redis.ResponseError:
                self.errors += 1  # e.g. -LOADING / -READONLY: the test decides if that matters
                self._stop_ev.wait(0.05)
            if self.pause:
                self._stop_ev.wait(self.pause)

    def stop(self) -> int:
        self._stop_ev.set()
        self.join(10)
        assert not self.is_alive(), "writer thread did not stop"
        for c in self.clients.values():
            c.close()
        return self.ops


def write_bulk(c: redis.Redis, n: int, size: int = 100, prefix: str = "bulk") -> None:
    """``n`` SETs of ``size``-byte values, pipelined (fills the stream / backlog fast)."""
    p = c.pipeline(transaction=False)
    for i in range(n):
        p.set(f"{prefix}:{i}", b"%d:" % i + b"b" * size)
        if i % 500 == 499:
            p.execute()
    p.execute()
