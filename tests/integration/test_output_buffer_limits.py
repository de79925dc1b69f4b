"""client-output-buffer-limit over real sockets: a client that never reads its replies is
disconnected at its class's limit while the others carry on, and the server's memory stays
bounded. Every scenario runs against twistd-redis and against a real redis-server (the spec):
each server is a child process of this module, so changing its limits disturbs nobody."""

from __future__ import annotations

import socket
import time

import pytest

from tests.helpers_proc import HOST, REDIS_SERVER, RawConn, ServerProcess, encode_command

KB = 1024
BIG = b"v" * 100_000


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@pytest.fixture(scope="module", params=["ours", "redis-server"])
def srv(request, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("obuf"))
    if request.param == "ours":
        proc = ServerProcess.ours(None, "--dir", d, cwd=d)
    else:
        if REDIS_SERVER is None:  # pragma: no cover
            pytest.skip("redis-server is not installed")
        proc = ServerProcess.real(None, cwd=d)
    with proc:
        proc.kind = request.param
        yield proc


@pytest.fixture
def admin(srv):
    with RawConn(srv.port) as c:
        assert c.call("FLUSHALL") == b"+OK\r\n"
        yield c
        c.call("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60")


def slow_socket(port: int) -> socket.socket:
    """A client with a small receive buffer that will never read."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(5)
    s.connect((HOST, port))
    return s


def client_id(s: socket.socket) -> int:
    s.sendall(encode_command("CLIENT", "ID"))
    data = b""
    while not data.endswith(b"\r\n"):
        data += s.recv(64)
    return int(data[1:-2])


def connected_ids(admin: RawConn) -> set[int]:
    listing = admin.call("CLIENT", "LIST").decode()
    return {int(part[3:]) for part in listing.split() if part.startswith("id=")}


def wait_gone(admin: RawConn, cid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cid not in connected_ids(admin):
            return True
        time.sleep(0.05)
    return False


def read_until_closed(s: socket.socket, timeout: float = 5.0) -> tuple[bytes, bool]:
    """Everything the server sent, and whether the connection ended (EOF or reset)."""
    s.settimeout(timeout)
    data = b""
    try:
        while True:
            d = s.recv(1 << 20)
            if not d:
                return data, True
            data += d
    except ConnectionResetError:
        return data, True
    except TimeoutError:
        return data, False


def send_ignoring_reset(s: socket.socket, data: bytes) -> None:
    try:
        s.sendall(data)
    except (ConnectionResetError, BrokenPipeError):
        pass  # the server already dropped us: that is the point


def test_pipeline_that_never_reads_hits_the_normal_hard_limit(srv, admin):
    assert admin.call("SET", "big", BIG) == b"+OK\r\n"
    assert admin.call("CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 256kb 2") == b"+OK\r\n"
    before = rss_kb(srv.proc.pid)
    s = slow_socket(srv.port)
    cid = client_id(s)
    # 3000 GETs of 100 KB: 300 MB of replies if nothing stopped them
    send_ignoring_reset(s, encode_command("GET", "big") * 3000)
    assert wait_gone(admin, cid)
    _, closed = read_until_closed(s)
    assert closed
    s.close()
    assert rss_kb(srv.proc.pid) - before < 100_000
    assert admin.call("PING") == b"+PONG\r\n"
    assert admin.call("STRLEN", "big") == b":100000\r\n"
    if srv.kind == "ours":
        assert "scheduled to be closed ASAP for overcoming of output buffer limits." in srv.output()


def test_normal_limit_spares_a_client_that_reads(srv, admin):
    assert admin.call("SET", "big", BIG) == b"+OK\r\n"
    assert admin.call("CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 256kb 2") == b"+OK\r\n"
    with RawConn(srv.port) as good:
        for _ in range(30):
            assert good.call("GET", "big") == b"$100000\r\n" + BIG + b"\r\n"


def test_quit_behind_a_backlog_flushes_everything_then_closes(srv, admin):
    # no limit: the 10 MB backlog is delivered, then QUIT's +OK, then EOF (our protocol is a
    # paused producer by then: Twisted must still close the connection once it drains)
    assert admin.call("SET", "big", BIG) == b"+OK\r\n"
    s = slow_socket(srv.port)
    s.sendall(encode_command("GET", "big") * 100 + encode_command("QUIT"))
    time.sleep(0.3)
    data, closed = read_until_closed(s)
    s.close()
    assert closed
    assert data.count(b"$100000\r\n") == 100
    assert data.endswith(b"\r\n+OK\r\n")


def test_client_kill_drops_a_backlogged_client(srv, admin):
    assert admin.call("SET", "big", BIG) == b"+OK\r\n"
    s = slow_socket(srv.port)
    cid = client_id(s)
    s.sendall(encode_command("GET", "big") * 100)
    time.sleep(0.3)
    assert admin.call("CLIENT", "KILL", "ID", str(cid)) == b":1\r\n"
    assert wait_gone(admin, cid, 2)
    data, closed = read_until_closed(s)
    s.close()
    assert closed
    assert data.count(b"$100000\r\n") < 100  # the backlog was dropped, not flushed


def _subscriber(srv, channel: str) -> tuple[socket.socket, int]:
    s = slow_socket(srv.port)
    cid = client_id(s)
    s.sendall(encode_command("SUBSCRIBE", channel))
    time.sleep(0.1)
    return s, cid


def _requires_pubsub(admin: RawConn) -> None:
    if admin.call("COMMAND", "INFO", "subscribe").startswith((b"*1\r\n*-1", b"*1\r\n$-1")):
        pytest.skip("SUBSCRIBE is not implemented yet")


def test_slow_subscriber_hits_the_pubsub_hard_limit(srv, admin):
    _requires_pubsub(admin)
    assert admin.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 2mb 1mb 60") == b"+OK\r\n"
    sub, cid = _subscriber(srv, "news")
    with RawConn(srv.port) as reader:  # a subscriber that keeps up is not touched
        reader.send(encode_command("SUBSCRIBE", "news"))
        reader.read_reply()
        before = rss_kb(srv.proc.pid)
        msg = b"m" * KB
        counts = []
        for _ in range(20_000):  # 20 MB offered; the slow subscriber is dropped at 2 MB pending
            counts.append(admin.call("PUBLISH", "news", msg))
            reader.read_reply()
            if counts[-1] == b":1\r\n":
                break
        # the publisher's replies went on; the slow subscriber left the count, the reader stayed
        assert counts[0] == b":2\r\n"
        assert counts[-1] == b":1\r\n"
        assert admin.call("PUBLISH", "news", b"after") == b":1\r\n"
        assert reader.read_reply().endswith(b"$5\r\nafter\r\n")
        assert rss_kb(srv.proc.pid) - before < 50_000
    assert wait_gone(admin, cid)
    _, closed = read_until_closed(sub)
    sub.close()
    assert closed
    if srv.kind == "ours":
        assert " flags=P " in srv.output()


def test_slow_subscriber_hits_the_pubsub_soft_limit_after_its_seconds(srv, admin):
    _requires_pubsub(admin)
    assert admin.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 512kb 1") == b"+OK\r\n"
    sub, cid = _subscriber(srv, "soft")
    msg = b"m" * KB
    # 5 MB at once: more than the kernel's socket buffers take (about 2.5 MB here), so the
    # server holds over 512 KB; the soft limit's timer starts now
    admin.send(encode_command("PUBLISH", "soft", msg) * 5000)
    assert set(admin.read_replies(5000)) == {b":1\r\n"}
    t0 = time.monotonic()
    gone_at = None
    while time.monotonic() - t0 < 6:
        # keep adding a little output: the limits are checked when output is added
        admin.send(encode_command("PUBLISH", "soft", msg) * 10)
        admin.read_replies(10)
        if cid not in connected_ids(admin):
            gone_at = time.monotonic() - t0
            break
        time.sleep(0.05)
    sub.close()
    # dropped once more than one whole second (of the server's clock) has passed, not before
    assert gone_at is not None
    assert 0.9 <= gone_at <= 3.5
