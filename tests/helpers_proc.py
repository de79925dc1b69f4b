"""Subprocess servers and raw-socket helpers shared by the integration and compat tests.

``ServerProcess`` starts a server as a child process on a free port, waits (bounded) until it
answers PING and kills it afterwards: twistd-redis (``python -m twistd_redis --port P``, or any
argv such as ``twistd -n --pidfile= redis --port P``) and a throwaway real ``redis-server``.
``RawConn`` talks RESP over a plain socket and returns the exact bytes of each reply, so that two
servers can be compared byte for byte.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Sequence

HOST = "127.0.0.1"
REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")


def free_port() -> int:
    """A TCP port that was free a moment ago (bind to 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def ping(port: int | None = None, unix: str | None = None, timeout: float = 0.5) -> bool:
    """True when a server answers ``PING`` with ``+PONG`` (a NOAUTH error also proves it is up)."""
    try:
        if unix:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout)
            s.connect(unix)
        else:
            s = socket.create_connection((HOST, port), timeout=timeout)
    except OSError:
        return False
    try:
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        data = s.recv(64)
        return data.startswith(b"+PONG") or data.startswith(b"-NOAUTH")
    except OSError:
        return False
    finally:
        s.close()


def wait_until_up(
    port: int | None = None,
    unix: str | None = None,
    proc: subprocess.Popen | None = None,
    timeout: float = 15.0,
) -> None:
    """Poll PING until it answers, the process dies, or ``timeout`` passes (bounded loop)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering PING")
        if ping(port, unix):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server on {port or unix} did not answer PING within {timeout}s")


class ServerProcess:
    """A server in a child process. Use as a context manager or call start()/stop()."""

    def __init__(
        self,
        argv: Sequence[str],
        port: int | None = None,
        unix: str | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.argv = list(argv)
        self.port = port
        self.unix = unix
        self.cwd = cwd
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.logfile = tempfile.TemporaryFile()

    @classmethod
    def ours(cls, port: int | None = None, *extra: str, **kw) -> "ServerProcess":
        port = port or free_port()
        return cls([sys.executable, "-m", "twistd_redis", "--port", str(port), *extra], port=port, **kw)

    @classmethod
    def real(cls, port: int | None = None, *extra: str, **kw) -> "ServerProcess":
        if REDIS_SERVER is None:
            raise RuntimeError("redis-server is not installed")
        port = port or free_port()
        argv = [REDIS_SERVER, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no",
                "--dir", kw.pop("cwd", None) or tempfile.gettempdir(), *extra]
        return cls(argv, port=port, **kw)

    def start(self, timeout: float = 15.0) -> "ServerProcess":
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self.logfile,
            stderr=subprocess.STDOUT,
            cwd=self.cwd,
            env=self.env,
        )
        try:
            wait_until_up(self.port, self.unix, self.proc, timeout)
        except Exception as e:
            self.stop()
            raise RuntimeError(f"{e}\nargv: {self.argv}\noutput:\n{self.output()}") from None
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        return self.proc.returncode

    def output(self) -> str:
        self.logfile.seek(0)
        return self.logfile.read().decode("utf-8", "replace")

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()  # the log stays readable (output()) until the object is collected


# ---------------------------------------------------------------------------------- raw RESP


def wait_for(pred, timeout: float = 10.0) -> None:
    """Poll ``pred`` every 50 ms until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def raw_reply(c, *args):
    """A redis-py client's reply without its response callbacks (bytes, ints, lists, None)."""
    conn = c.connection_pool.get_connection()
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        c.connection_pool.release(conn)


def encode_command(*args: bytes | str | int) -> bytes:
    """A RESP multibulk request."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, int):
            a = str(a)
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def reply_end(buf: bytes, pos: int = 0) -> int | None:
    """End offset of the complete RESP2/RESP3 reply starting at ``pos``; None when incomplete."""
    nl = buf.find(b"\r\n", pos)
    if nl < 0:
        return None
    t = buf[pos:pos + 1]
    line = buf[pos + 1:nl]
    after = nl + 2
    if t in (b"+", b"-", b":", b"_", b",", b"#", b"("):
        return after
    if t in (b"$", b"!", b"="):
        n = int(line)
        if n < 0:
            return after
        end = after + n + 2
        return end if len(buf) >= end else None
    if t in (b"*", b"~", b">", b"%", b"|"):
        n = int(line)
        if n < 0:
            return after
        if t in (b"%", b"|"):
            n *= 2
        p = after
        for _ in range(n):
            e = reply_end(buf, p)
            if e is None:
                return None
            p = e
        if t == b"|":  # an attribute precedes the real reply
            return reply_end(buf, p)
        return p
    raise ValueError(f"not a RESP reply at {pos}: {buf[pos:pos + 40]!r}")


class RawConn:
    """A plain socket speaking RESP: send bytes, read whole replies as exact bytes."""

    def __init__(self, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.timeout = timeout

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        data = self.sock.recv(1 << 20)
        if not data:
            return False
        self.buf += data
        return True

    def read_reply(self) -> bytes:
        while True:
            if self.buf:
                end = reply_end(self.buf)
                if end is not None:
                    out, self.buf = self.buf[:end], self.buf[end:]
                    return out
            if not self._fill():
                raise ConnectionError(f"connection closed; unparsed {self.buf!r}")

    def read_replies(self, n: int) -> list[bytes]:
        return [self.read_reply() for _ in range(n)]

    def call(self, *args: bytes | str | int) -> bytes:
        self.send(encode_command(*args))
        return self.read_reply()

    def read_until_close(self, timeout: float | None = None) -> tuple[bytes, bool]:
        """Everything until the server closes: (bytes, closed). ``closed`` is False when the
        connection was still open after ``timeout`` seconds of silence."""
        self.sock.settimeout(timeout if timeout is not None else self.timeout)
        out = self.buf
        self.buf = b""
        try:
            while True:
                data = self.sock.recv(1 << 20)
                if not data:
                    return out, True
                out += data
        except socket.timeout:
            return out, False
        except ConnectionResetError:
            return out, True
        finally:
            self.sock.settimeout(self.timeout)

    def read_pending(self, quiet: float = 0.15) -> bytes:
        """What is buffered plus whatever arrives until ``quiet`` seconds pass without data
        (pub/sub messages, pushes): exact bytes, possibly empty."""
        self.sock.settimeout(quiet)
        out, self.buf = self.buf, b""
        try:
            while True:
                data = self.sock.recv(1 << 20)
                if not data:
                    break
                out += data
        except (socket.timeout, ConnectionResetError):
            pass
        finally:
            self.sock.settimeout(self.timeout)
        return out

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "RawConn":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

