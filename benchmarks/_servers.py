"""Shared plumbing for the benchmark scripts: start twistd-redis and a real redis-server as
subprocesses (each in its own process group, optionally pinned to a core with taskset), wait until
they answer PING, read their CPU time and RSS from /proc, and always tear them down.

Not a library: run.py and memory.py import it from the same folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port the kernel says is free right now (small race; fine for a local bench)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def have_taskset(cores: tuple[int, ...]) -> bool:
    return shutil.which("taskset") is not None and all(c < (os.cpu_count() or 1) for c in cores)


def pinned(cmd: list[str], core: int | None) -> list[str]:
    """Prefix cmd with `taskset -c core` (taskset execs, so the pid stays the server's)."""
    return cmd if core is None else ["taskset", "-c", str(core), *cmd]


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all threads) from /proc/PID/stat, in seconds."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    # the command name (field 2) may hold spaces/parens: split after the last ')'
    fields = data[data.rindex(b")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / CLK_TCK


def rss_bytes(pid: int) -> int:
    """VmRSS from /proc/PID/status, in bytes."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def send_command(port: int, *args: bytes, timeout: float = 5.0) -> bytes:
    """One RESP request on a fresh connection; returns the raw first reply line (+ body if bulk)."""
    req = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(req)
        buf = b""
        while b"\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        if buf.startswith(b"$") and not buf.startswith(b"$-1"):
            n = int(buf[1 : buf.index(b"\r\n")])
            need = buf.index(b"\r\n") + 2 + n + 2
            while len(buf) < need:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        return buf


def mset_fill(port: int, n: int, chunk: int = 1000) -> None:
    """``key:<i>`` = ``value:<i>`` for i < n: pipelined MSETs of ``chunk`` keys, 50 in flight."""
    with socket.create_connection(("127.0.0.1", port), timeout=600) as s:
        pending = 0
        buf = b""
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            parts = [b"*%d\r\n$4\r\nMSET\r\n" % (1 + 2 * (stop - start))]
            for i in range(start, stop):
                k, v = b"key:%d" % i, b"value:%d" % i
                parts.append(b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
            s.sendall(b"".join(parts))
            pending += 1
            while pending >= 50 or (stop == n and pending):
                buf += s.recv(65536)
                got = buf.count(b"\r\n")
                if got:
                    if buf.replace(b"+OK\r\n", b""):
                        raise RuntimeError(f"MSET answered {buf[:100]!r}")
                    pending -= got
                    buf = b""


def _die_with_parent() -> None:
    """preexec_fn: ask Linux to SIGTERM the server if the bench script itself is SIGKILLed
    (PR_SET_PDEATHSIG survives the exec of taskset and of the server)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
    except Exception:
        pass


class Server:
    """One server subprocess in its own session/process group; stop() kills the whole group."""

    def __init__(self, name: str, kind: str, port: int, core: int | None, python: str,
                 src: str | None = None, extra: list[str] | None = None,
                 workdir: str | None = None) -> None:
        self.name = name  # label in output: "ours" / "redis"
        self.kind = kind
        self.port = port
        self.core = core
        self.python = python
        self.src = src or str(REPO)  # checkout that `python -m twistd_redis` imports from
        self.proc: subprocess.Popen[bytes] | None = None
        self.extra = list(extra or [])  # more server options (``--appendonly yes``...), after ours
        self.workdir = workdir or tempfile.mkdtemp(prefix=f"bench-{name}-")
        self.logpath = os.path.join(self.workdir, "server.log")
        self.restarts = 0

    def command(self) -> list[str]:
        if self.kind == "ours":
            cmd = [self.python, "-m", "twistd_redis", "--port", str(self.port),
                   "--dir", self.workdir, "--save", "", "--appendonly", "no"]
        else:
            cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                   "--save", "", "--appendonly", "no", "--daemonize", "no",
                   "--dir", self.workdir, "--logfile", ""]
        return pinned(cmd + self.extra, self.core)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 20.0) -> None:
        log = open(self.logpath, "ab")
        # never a PIPE: a server blocked on a full stdout pipe would skew (or hang) the bench
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.workdir,
                                     start_new_session=True, preexec_fn=_die_with_parent,
                                     env={**os.environ, "PYTHONPATH": self.src}
                                     if self.kind == "ours" else None)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} at start:\n"
                                   + self.log_tail())
            try:
                if send_command(self.port, b"PING", timeout=1.0).startswith(b"+PONG"):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer PING within {timeout}s:\n" + self.log_tail())

    def ensure_running(self) -> None:
        """Restart a server that died mid-bench (counted, reported) so one crash does not end the run."""
        if not self.alive():
            print(f"  !! {self.name} server is not running (rc={self.proc and self.proc.returncode});"
                  f" restarting. log tail:\n{self.log_tail()}", file=sys.stderr)
            self.restarts += 1
            self.start()

    def log_tail(self, n: int = 15) -> str:
        try:
            with open(self.logpath, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            return "\n".join("    " + line for line in lines[-n:])
        except OSError:
            return "    (no log)"

    def stop(self, keep: bool = False) -> None:
        """Stop the server (SIGTERM, then SIGKILL); remove its folder unless ``keep``."""
        p = self.proc
        if p is not None and p.poll() is None:
            for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(p.pid, sig)  # its own group (start_new_session): only this server
                except ProcessLookupError:
                    break
                try:
                    p.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if not keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def version(self) -> str:
        try:
            info = send_command(self.port, b"INFO", b"server")
            for line in info.split(b"\r\n"):
                if line.startswith(b"redis_version:"):
                    return line.split(b":", 1)[1].decode()
        except OSError:
            pass
        return "?"


def install_signal_exit() -> None:
    """Turn SIGTERM/SIGHUP into SystemExit so every `finally` (server teardown) runs."""
    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, handler)
