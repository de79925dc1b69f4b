"""In-memory server for unit tests: RedisProtocol over StringTransport, time on task.Clock.

    srv = FakeServer()
    c = srv.connect()
    assert c.call("SET", "k", "v") == b"OK"
    assert c.raw(b"GET k\\r\\n") == b"$1\\r\\nv\\r\\n"
    srv.advance(1.5)          # move the clock (expiry, cron)
"""

from __future__ import annotations

from typing import Any

import hiredis
from twisted.internet import task
from twisted.internet.testing import StringTransport

from twistd_redis.config import Config
from twistd_redis.protocol import RedisServerFactory
from twistd_redis.state import ServerState

START_TIME = 1_700_000_000.0


class ReplyError(Exception):
    pass


def _arg(a: Any) -> bytes:
    if isinstance(a, bytes):
        return a
    if isinstance(a, (int, float)):
        return str(a).encode()
    return str(a).encode()


def encode_request(*args: Any) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        b = _arg(a)
        parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(parts)


class FakeConnection:
    def __init__(self, server: "FakeServer", host: str = "127.0.0.1", port: int = 50000) -> None:
        self.server = server
        self.transport = StringTransport(peerAddress=_Addr(host, port), hostAddress=_Addr("127.0.0.1", 6379))
        self.proto = server.factory.buildProtocol(None)
        self.proto.makeConnection(self.transport)
        self.client = self.proto.client
        self.reader = hiredis.Reader(replyError=ReplyError, notEnoughData=Ellipsis)

    def raw(self, data: bytes) -> bytes:
        """Send bytes, return exactly the bytes written back (and clear them)."""
        self.transport.clear()
        self.proto.dataReceived(data)
        self.server.end_turn()
        out = self.transport.value()
        self.transport.clear()
        return out

    def send(self, *args: Any) -> None:
        self.proto.dataReceived(encode_request(*args))
        self.server.end_turn()

    def replies(self) -> list[Any]:
        """Parse everything written so far into reply values (errors as ReplyError)."""
        self.reader.feed(self.transport.value())
        self.transport.clear()
        out = []
        while True:
            r = self.reader.gets()
            if r is Ellipsis:
                return out
            out.append(r)

    def call(self, *args: Any) -> Any:
        """Send one command, return its one reply (ReplyError instance for an error)."""
        self.transport.clear()
        self.send(*args)
        rs = self.replies()
        assert len(rs) == 1, f"expected one reply, got {rs!r}"
        return rs[0]

    def hello3(self) -> None:
        self.call("HELLO", "3")

    @property
    def closed(self) -> bool:
        return self.transport.disconnecting

    def close(self) -> None:
        self.proto.connectionLost(None)


class _Addr:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port


_UNIT_DIR: list[str] = []


def _unit_dir() -> str:
    """One temporary directory per test process for the files unit-test servers write."""
    if not _UNIT_DIR:
        import atexit
        import shutil
        import tempfile

        d = tempfile.mkdtemp(prefix="twistd-redis-unit-")
        atexit.register(shutil.rmtree, d, True)
        _UNIT_DIR.append(d)
    return _UNIT_DIR[0]


class FakeServer:
    def __init__(self, config: dict[str, str] | None = None, start: bool = True) -> None:
        self.clock = task.Clock()
        self.clock.advance(START_TIME)
        cfg = Config()
        # never the cwd: SHUTDOWN, stop() (SIGTERM) and save points write dump.rdb in ``dir``
        cfg.set("dir", _unit_dir(), startup=True)
        for k, v in (config or {}).items():
            cfg.set(k, str(v), startup=True)
        self.state = ServerState(cfg, clock=self.clock)
        self.factory = RedisServerFactory(self.state)
        self._port = 50000
        if start:
            self.state.startService()

    def connect(self) -> FakeConnection:
        self._port += 1
        return FakeConnection(self, port=self._port)

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def end_turn(self) -> None:
        """What the reactor does after handling a read: run the calls due now (the write of
        queued pushes to other connections, ServerState.flush_pending_writes)."""
        self.clock.advance(0)

    def stop(self) -> None:
        if self.state.running:
            self.state.stopService()
