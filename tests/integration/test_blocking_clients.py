"""Blocking list commands over real sockets: redis-py producers and consumers (threads) against
a twistd-redis child process, in RESP2 and RESP3."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from tests.integration.conftest import _client

N_ITEMS = 200
N_CONSUMERS = 3


def _consumer(port: int, protocol: int, queue: str, out: list, stop: threading.Event) -> None:
    c = _client(port, protocol)
    try:
        while not stop.is_set():
            item = c.blpop([queue], timeout=0.2)
            if item is None:
                continue
            key, value = item
            assert key == queue.encode()
            if value == b"STOP":
                return
            out.append(int(value))
    finally:
        c.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_producer_consumer_queue(ours, protocol):
    """Several BLPOP consumers and one producer: every item is delivered exactly once."""
    admin = _client(ours.port, protocol)
    admin.flushall()
    got: list[list[int]] = [[] for _ in range(N_CONSUMERS)]
    stop = threading.Event()
    threads = [
        threading.Thread(target=_consumer, args=(ours.port, protocol, "jobs", got[i], stop), daemon=True)
        for i in range(N_CONSUMERS)
    ]
    for t in threads:
        t.start()
    producer = _client(ours.port, protocol)
    try:
        for i in range(N_ITEMS):
            producer.rpush("jobs", i)
            if i % 50 == 0:
                time.sleep(0.01)  # let consumers block in between
        producer.rpush("jobs", *["STOP"] * N_CONSUMERS)
        for t in threads:
            t.join(timeout=20)
        assert not any(t.is_alive() for t in threads)
    finally:
        stop.set()
        producer.close()
    delivered = sorted(x for g in got for x in g)
    assert delivered == list(range(N_ITEMS))
    for g in got:
        assert g == sorted(g)  # one queue, FIFO: each consumer sees increasing items
    assert admin.exists("jobs") == 0
    admin.close()


def test_blocked_consumer_is_woken(ours):
    """A consumer blocked first (forever) is served by a later push on another connection."""
    c = _client(ours.port, 2)
    c.flushall()
    result: list = []

    def wait() -> None:
        w = _client(ours.port, 2)
        result.append(w.brpop(["a", "b"], timeout=0))
        w.close()

    t = threading.Thread(target=wait, daemon=True)
    t.start()
    deadline = time.time() + 5
    while int(c.info("clients")["blocked_clients"]) != 1:
        assert time.time() < deadline, "the consumer never blocked"
        time.sleep(0.01)
    c.lpush("b", "x")
    t.join(timeout=5)
    assert result == [(b"b", b"x")]
    assert int(c.info("clients")["blocked_clients"]) == 0
    c.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_reliable_queue_with_blmove(ours, protocol):
    c = _client(ours.port, protocol)
    c.flushall()
    c.rpush("pending", "a", "b")
    assert c.blmove("pending", "working", timeout=0, src="LEFT", dest="RIGHT") == b"a"
    assert c.brpoplpush("pending", "working", timeout=0) == b"b"
    assert c.lrange("working", 0, -1) == [b"b", b"a"]
    t0 = time.time()
    assert c.blmove("pending", "working", timeout=0.1, src="LEFT", dest="RIGHT") is None
    assert c.blpop(["pending"], timeout=0.1) is None
    assert c.blmpop(0.1, 1, "pending", direction="LEFT") is None
    assert time.time() - t0 >= 0.25
    assert c.lmpop(1, "working", direction="RIGHT", count=5) == [b"working", [b"a", b"b"]]
    c.close()


def test_client_unblock(ours):
    c = _client(ours.port, 2)
    c.flushall()
    w = _client(ours.port, 2)
    wid = w.client_id()
    result: list = []

    def wait() -> None:
        try:
            result.append(w.blpop(["never"], timeout=0))
        except redis.ResponseError as e:
            result.append(str(e))

    t = threading.Thread(target=wait, daemon=True)
    t.start()
    deadline = time.time() + 5
    while c.client_unblock(wid, error=True) != 1:
        assert time.time() < deadline
        time.sleep(0.01)
    t.join(timeout=5)
    assert result == ["UNBLOCKED client unblocked via CLIENT UNBLOCK"]
    w.close()
    c.close()
