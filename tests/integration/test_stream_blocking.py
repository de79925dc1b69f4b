"""Blocking stream reads over real sockets with redis-py (RESP2 and RESP3): consumers of a group
blocked in XREADGROUP served in the order they blocked, every entry delivered once; XREAD BLOCK 0
woken by an XADD from another connection; a client that disconnects while blocked leaves the
server serving the others."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.integration.conftest import _client

N_ENTRIES = 150
N_CONSUMERS = 3


def _wait_blocked(admin, n: int) -> None:
    deadline = time.time() + 10
    while time.time() < deadline:
        if admin.info("clients")["blocked_clients"] >= n:
            return
        time.sleep(0.01)
    raise AssertionError("clients did not block")


def _entries(reply, protocol: int):
    """[(id, fields)] of XREAD/XREADGROUP's one stream, whatever the protocol's shape."""
    if protocol == 3:  # redis-py 8 wraps the map's value in one more list
        ((_, (entries,)),) = reply.items()
    else:
        ((_, entries),) = reply
    return entries


@pytest.mark.parametrize("protocol", [2, 3])
def test_group_consumers_served_in_arrival_order(ours, protocol):
    admin = _client(ours.port, protocol)
    admin.flushall()
    admin.xadd("s", {"f": "init"}, id="1-1")
    admin.xgroup_create("s", "g", id="$")
    results: dict[str, object] = {}
    clients = [_client(ours.port, protocol) for _ in range(N_CONSUMERS)]

    def reader(i: int) -> None:
        results["c%d" % i] = clients[i].xreadgroup("g", "c%d" % i, {"s": ">"}, count=10, block=0)

    threads = []
    for i in range(N_CONSUMERS):
        t = threading.Thread(target=reader, args=(i,), daemon=True)
        t.start()
        threads.append(t)
        _wait_blocked(admin, i + 1)  # so the arrival order is known
    for i in range(N_CONSUMERS):
        admin.xadd("s", {"n": str(i)}, id="%d-1" % (i + 2))
        threads[i].join(timeout=10)
        assert not threads[i].is_alive(), "consumer %d was not served by entry %d" % (i, i)
    for i in range(N_CONSUMERS):
        entries = _entries(results["c%d" % i], protocol)
        assert [e[0] for e in entries] == [b"%d-1" % (i + 2)]
    pending = admin.xpending("s", "g")
    assert pending["pending"] == N_CONSUMERS
    for c in clients:
        c.close()
    admin.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_group_work_queue_delivers_each_entry_once(ours, protocol):
    admin = _client(ours.port, protocol)
    admin.flushall()
    admin.xgroup_create("q", "g", id="$", mkstream=True)
    got: list[list[int]] = [[] for _ in range(N_CONSUMERS)]
    stop = threading.Event()

    def consumer(i: int) -> None:
        c = _client(ours.port, protocol)
        try:
            while not stop.is_set():
                r = c.xreadgroup("g", "c%d" % i, {"q": ">"}, count=5, block=200)
                if not r:
                    continue
                # a batch may hold more than one STOP: ack the whole batch before leaving, or
                # the second STOP stays pending with a consumer that has gone
                stopped = False
                for sid, fields in _entries(r, protocol):
                    c.xack("q", "g", sid)
                    if fields[b"n"] == b"STOP":
                        stopped = True
                    else:
                        got[i].append(int(fields[b"n"]))
                if stopped:
                    return
        finally:
            c.close()

    threads = [threading.Thread(target=consumer, args=(i,), daemon=True) for i in range(N_CONSUMERS)]
    for t in threads:
        t.start()
    try:
        for n in range(N_ENTRIES):
            admin.xadd("q", {"n": str(n)})
            if n % 50 == 0:
                time.sleep(0.01)
        for _ in range(N_CONSUMERS):
            admin.xadd("q", {"n": "STOP"})
        deadline = time.time() + 20
        while time.time() < deadline and any(t.is_alive() for t in threads):
            time.sleep(0.05)
            # everything delivered and acked; a consumer may still sit on a STOP another one took
            if admin.xpending("q", "g")["pending"] == 0 and sum(map(len, got)) == N_ENTRIES:
                break
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=5)
    delivered = sorted(x for g in got for x in g)
    assert delivered == list(range(N_ENTRIES))
    assert admin.xpending("q", "g")["pending"] == 0
    admin.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_xread_block_forever_woken_by_xadd(ours, protocol):
    admin = _client(ours.port, protocol)
    admin.flushall()
    reader = _client(ours.port, protocol)
    out: list = []
    t = threading.Thread(target=lambda: out.append(reader.xread({"events": "$"}, block=0)), daemon=True)
    t.start()
    _wait_blocked(admin, 1)
    writer = _client(ours.port, protocol)
    sid = writer.xadd("events", {"k": "v"})
    t.join(timeout=10)
    assert not t.is_alive()
    entries = _entries(out[0], protocol)
    assert entries == [(sid, {b"k": b"v"})]
    for c in (admin, reader, writer):
        c.close()


def test_disconnect_while_blocked_leaves_server_fine(ours):
    admin = _client(ours.port, 2)
    admin.flushall()
    admin.xadd("s", {"a": "1"}, id="1-1")
    admin.xgroup_create("s", "g", id="$")
    raw = socket.create_connection(("127.0.0.1", ours.port))
    raw.sendall(b"XREADGROUP GROUP g gone BLOCK 0 STREAMS s >\r\n")
    _wait_blocked(admin, 1)
    raw.close()
    deadline = time.time() + 10
    while admin.info("clients")["blocked_clients"] and time.time() < deadline:
        time.sleep(0.01)
    assert admin.info("clients")["blocked_clients"] == 0
    other = _client(ours.port, 2)
    out: list = []
    t = threading.Thread(target=lambda: out.append(other.xreadgroup("g", "here", {"s": ">"}, block=0)), daemon=True)
    t.start()
    _wait_blocked(admin, 1)
    admin.xadd("s", {"a": "2"}, id="2-1")
    t.join(timeout=10)
    assert out[0] == [[b"s", [(b"2-1", {b"a": b"2"})]]]
    # the disconnected reader got nothing and never became a consumer
    assert [c["name"] for c in admin.xinfo_consumers("s", "g")] == [b"here"]
    assert admin.ping()
    other.close()
    admin.close()
