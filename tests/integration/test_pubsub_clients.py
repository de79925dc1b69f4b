"""Pub/Sub through the clients people use: redis-py's PubSub (get_message, listen in a thread,
run_in_thread; RESP2 and RESP3) and txredisapi's SubscriberProtocol (its reactor in a child
process). Every wait is bounded."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest

from tests.integration.conftest import _client


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def protocol(request):
    return request.param


@pytest.fixture
def pair(ours, protocol):
    """(publisher, subscriber client) in the protocol version under test."""
    pub, subc = _client(ours.port, protocol), _client(ours.port, protocol)
    yield pub, subc
    pub.close()
    subc.close()


def next_message(p, timeout: float = 5.0, ignore_subscribe_messages: bool = True):
    """get_message until one arrives (redis-py returns None on a read timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = p.get_message(ignore_subscribe_messages=ignore_subscribe_messages, timeout=0.2)
        if m is not None:
            return m
    raise AssertionError(f"no message within {timeout:.1f}s")


def wait_numsub(pub, channel: str, n: int, timeout: float = 5.0) -> None:
    """Until the server counts ``n`` subscribers of ``channel`` (a PubSub created with
    ignore_subscribe_messages never shows its confirmation)."""
    deadline = time.monotonic() + timeout
    while pub.pubsub_numsub(channel)[0][1] != n and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pub.pubsub_numsub(channel)[0][1] == n


def test_subscribe_and_get_message(pair):
    pub, subc = pair
    p = subc.pubsub()
    try:
        p.subscribe("news", "sport")
        assert next_message(p, ignore_subscribe_messages=False) == {
            "type": "subscribe",
            "pattern": None,
            "channel": b"news",
            "data": 1,
        }
        assert next_message(p, ignore_subscribe_messages=False)["data"] == 2
        assert pub.publish("news", "hello") == 1
        assert pub.publish("nobody", "x") == 0
        assert next_message(p) == {"type": "message", "pattern": None, "channel": b"news", "data": b"hello"}
        assert pub.pubsub_numsub("news", "sport", "x") == [(b"news", 1), (b"sport", 1), (b"x", 0)]
        assert sorted(pub.pubsub_channels()) == [b"news", b"sport"]
        p.unsubscribe("news")
        assert next_message(p, ignore_subscribe_messages=False) == {
            "type": "unsubscribe",
            "pattern": None,
            "channel": b"news",
            "data": 1,
        }
        assert pub.publish("news", "gone") == 0
        assert pub.publish("sport", "goal") == 1
        assert next_message(p)["data"] == b"goal"
    finally:
        p.close()
    # the server forgets a closed subscriber
    deadline = time.monotonic() + 5
    while pub.pubsub_numsub("sport") != [(b"sport", 0)] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pub.pubsub_numsub("sport") == [(b"sport", 0)]


def test_psubscribe_pmessage(pair):
    pub, subc = pair
    p = subc.pubsub()
    try:
        p.psubscribe("user.*")
        assert next_message(p, ignore_subscribe_messages=False)["type"] == "psubscribe"
        assert pub.pubsub_numpat() == 1
        assert pub.publish("user.42", "login") == 1
        assert next_message(p) == {
            "type": "pmessage",
            "pattern": b"user.*",
            "channel": b"user.42",
            "data": b"login",
        }
        p.punsubscribe()
        assert next_message(p, ignore_subscribe_messages=False)["type"] == "punsubscribe"
        assert pub.pubsub_numpat() == 0
    finally:
        p.close()


def test_sharded_pubsub(pair):
    pub, subc = pair
    p = subc.pubsub()
    try:
        p.ssubscribe("orders")
        assert next_message(p, ignore_subscribe_messages=False)["type"] == "ssubscribe"
        assert pub.execute_command("SPUBLISH", "orders", "o1") == 1
        m = next_message(p)
        assert (m["type"], m["channel"], m["data"]) == ("smessage", b"orders", b"o1")
        assert pub.execute_command("PUBSUB", "SHARDNUMSUB", "orders") == [b"orders", 1]
    finally:
        p.close()


def test_subscriber_keeps_working_after_ping(pair):
    pub, subc = pair
    p = subc.pubsub()
    try:
        p.subscribe("c")
        next_message(p, ignore_subscribe_messages=False)
        p.ping()
        m = next_message(p, ignore_subscribe_messages=False)
        assert m["type"] == "pong"
        assert pub.publish("c", "after") == 1
        assert next_message(p)["data"] == b"after"
    finally:
        p.close()


def test_listen_in_a_thread(pair):
    pub, subc = pair
    p = subc.pubsub(ignore_subscribe_messages=True)
    p.subscribe("jobs")
    wait_numsub(pub, "jobs", 1)
    got: list[bytes] = []

    def consume():
        for m in p.listen():
            if m["type"] != "message":
                continue
            if m["data"] == b"stop":
                return
            got.append(m["data"])

    t = threading.Thread(target=consume, daemon=True)
    t.start()
    for i in range(50):
        assert pub.publish("jobs", str(i)) == 1
    pub.publish("jobs", "stop")
    t.join(timeout=10)
    assert not t.is_alive()
    p.close()
    assert got == [str(i).encode() for i in range(50)]


def test_run_in_thread_with_handlers(pair):
    pub, subc = pair
    p = subc.pubsub(ignore_subscribe_messages=True)
    seen: list[tuple] = []
    done = threading.Event()

    def on_alert(m):
        seen.append(("alert", m["data"]))

    def on_metric(m):
        seen.append((m["pattern"], m["channel"], m["data"]))
        if m["data"] == b"last":
            done.set()

    p.subscribe(alerts=on_alert)
    p.psubscribe(**{"metric.*": on_metric})
    worker = p.run_in_thread(sleep_time=0.01, daemon=True)
    try:
        wait_numsub(pub, "alerts", 1)
        deadline = time.monotonic() + 5
        while pub.pubsub_numpat() != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pub.publish("alerts", "disk") == 1
        assert pub.publish("metric.cpu", "99") == 1
        assert pub.publish("metric.mem", "last") == 1
        assert done.wait(10)
    finally:
        worker.stop()
        worker.join(timeout=5)
        p.close()
    assert seen == [("alert", b"disk"), (b"metric.*", b"metric.cpu", b"99"), (b"metric.*", b"metric.mem", b"last")]


def test_many_subscribers_all_receive(ours, protocol):
    pub = _client(ours.port, protocol)
    subs = []
    try:
        for _ in range(20):
            p = _client(ours.port, protocol).pubsub(ignore_subscribe_messages=True)
            p.subscribe("fanout")
            subs.append(p)
        wait_numsub(pub, "fanout", 20)
        assert pub.publish("fanout", "x" * 10000) == 20
        for p in subs:
            assert next_message(p)["data"] == b"x" * 10000
    finally:
        for p in subs:
            p.close()
        pub.close()


TXREDISAPI_CHILD = r"""
import json, sys
import txredisapi
from twisted.internet import defer, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint

port = int(sys.argv[1])
got = []
waiter = defer.Deferred()


class Sub(txredisapi.SubscriberProtocol):
    def messageReceived(self, pattern, channel, message):
        got.append([pattern, channel, message])
        if len(got) == 3 and not waiter.called:
            waiter.callback(None)


@defer.inlineCallbacks
def main():
    factory = txredisapi.SubscriberFactory()
    factory.protocol = Sub
    factory.reconnect = False
    factory.startConnecting(TCP4ClientEndpoint(reactor, "127.0.0.1", port))
    sub = yield factory.deferred
    yield sub.subscribe("tx.news")
    yield sub.psubscribe("tx.*")
    pub = yield txredisapi.Connection("127.0.0.1", port, reconnect=False)
    n1 = yield pub.publish("tx.news", "one")
    n2 = yield pub.publish("tx.other", "two")
    yield waiter
    yield sub.unsubscribe("tx.news")
    yield sub.punsubscribe("tx.*")
    n3 = yield pub.publish("tx.news", "three")
    numsub = yield pub.execute_command("PUBSUB", "NUMSUB", "tx.news")
    yield pub.disconnect()
    yield sub.disconnect()
    print(json.dumps({"receivers": [n1, n2, n3], "got": got, "numsub": numsub}))


def done(result):
    if hasattr(result, "getTraceback"):
        print(result.getTraceback(), file=sys.stderr)
    reactor.stop()


reactor.callWhenRunning(lambda: main().addBoth(done))
reactor.callLater(20, reactor.stop)
reactor.run()
"""


def test_txredisapi_subscriber(port):
    p = subprocess.run(
        [sys.executable, "-c", TXREDISAPI_CHILD, str(port)], check=False, capture_output=True, timeout=60
    )
    assert p.returncode == 0, p.stderr.decode()
    lines = p.stdout.decode().strip().splitlines()
    assert lines, p.stderr.decode()
    out = json.loads(lines[-1])
    assert out["receivers"] == [2, 1, 0]
    # one message for the channel, then one pmessage per matching publish, in order
    assert out["got"] == [[None, "tx.news", "one"], ["tx.*", "tx.news", "one"], ["tx.*", "tx.other", "two"]]
    assert out["numsub"] == ["tx.news", 0]
