"""One bad client must not hurt the others: protocol errors, huge length headers, half requests."""

from __future__ import annotations

import socket
import time

import pytest

from tests.helpers_proc import RawConn, ping


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@pytest.mark.parametrize(
    "garbage, error",
    [
        (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\n$x\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n:1\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n"),
        (b"SET \"k v\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    ],
)
def test_protocol_error_closes_only_that_connection(ours, garbage, error):
    with RawConn(ours.port) as good, RawConn(ours.port) as bad:
        assert good.call("SET", "robust", "1") == b"+OK\r\n"
        bad.send(b"*1\r\n$4\r\nPING\r\n" + garbage + b"*1\r\n$4\r\nPING\r\n")
        data, closed = bad.read_until_close(timeout=5)
        assert data == b"+PONG\r\n" + error
        assert closed
        assert good.call("GET", "robust") == b"$1\r\n1\r\n"
        assert good.call("PING") == b"+PONG\r\n"


def test_4gb_bulk_length_is_refused_without_allocating(ours):
    before = rss_kb(ours.proc.pid)
    with RawConn(ours.port) as bad:
        bad.send(b"*2\r\n$3\r\nGET\r\n$4294967296\r\n")
        data, closed = bad.read_until_close(timeout=5)
    assert data == b"-ERR Protocol error: invalid bulk length\r\n"
    assert closed
    with RawConn(ours.port) as bad:
        bad.send(b"*4294967296\r\n")
        data, closed = bad.read_until_close(timeout=5)
    assert data == b"-ERR Protocol error: invalid multibulk length\r\n"
    assert closed
    assert rss_kb(ours.proc.pid) - before < 50_000  # far below the 4 GB announced
    assert ping(ours.port)


def test_large_but_legal_bulk_header_waits_for_data(ours):
    # 100 MB announced (under proto-max-bulk-len), 10 bytes sent, then the client vanishes
    before = rss_kb(ours.proc.pid)
    s = socket.create_connection(("127.0.0.1", ours.port))
    s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000000\r\n0123456789")
    time.sleep(0.2)
    assert ping(ours.port)
    s.close()
    time.sleep(0.1)
    assert ping(ours.port)
    assert rss_kb(ours.proc.pid) - before < 50_000


def test_half_request_and_vanish_does_not_stall_others(ours):
    stalled = [socket.create_connection(("127.0.0.1", ours.port)) for _ in range(5)]
    for i, s in enumerate(stalled):
        s.sendall([b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc", b"*3\r\n", b"SET k", b"*2\r\n$3\r\nGE",
                   b"*1\r\n$4\r\nPI"][i])
    with RawConn(ours.port, timeout=2) as good:
        t0 = time.monotonic()
        for _ in range(20):
            assert good.call("PING") == b"+PONG\r\n"
        assert time.monotonic() - t0 < 2
        for s in stalled[:3]:
            s.close()  # vanish mid-request
        stalled[3].shutdown(socket.SHUT_WR)  # half-close mid-request
        time.sleep(0.1)
        assert good.call("PING") == b"+PONG\r\n"
    # a half request completed later is served normally
    stalled[4].sendall(b"NG\r\n")
    stalled[4].settimeout(5)
    assert stalled[4].recv(100) == b"+PONG\r\n"
    for s in stalled[3:]:
        s.close()
    assert ping(ours.port)


def test_request_split_into_single_bytes(ours):
    with RawConn(ours.port) as c:
        for b in b"*3\r\n$3\r\nSET\r\n$5\r\nsplit\r\n$2\r\nok\r\n*2\r\n$3\r\nGET\r\n$5\r\nsplit\r\n":
            c.send(bytes([b]))
        assert c.read_replies(2) == [b"+OK\r\n", b"$2\r\nok\r\n"]


def test_client_closing_with_unread_replies(ours):
    # a client that pipelines a lot and closes without reading must not hurt the server
    s = socket.create_connection(("127.0.0.1", ours.port))
    s.sendall(b"*2\r\n$4\r\nECHO\r\n$1000\r\n" + b"x" * 1000 + b"\r\n" * 1 + (b"*1\r\n$4\r\nPING\r\n" * 5000))
    s.close()
    time.sleep(0.2)
    assert ping(ours.port)
