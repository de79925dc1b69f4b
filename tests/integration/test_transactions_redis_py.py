"""Transactions as redis-py users write them (RESP2 and RESP3): ``pipeline(transaction=True)``,
the ``WATCH``/``MULTI``/``EXEC`` optimistic-locking retry loop under real contention from
threads, ``Redis.transaction()``, and the errors redis-py raises for aborted transactions."""

from __future__ import annotations

import threading

import pytest
import redis


def test_pipeline_transaction(rr):
    with rr.pipeline(transaction=True) as p:
        p.set("a", 1).incr("a").incrby("a", 10).get("a").lpush("l", "x", "y").lrange("l", 0, -1)
        assert p.execute() == [True, 2, 12, b"12", 2, [b"y", b"x"]]


def test_runtime_error_inside_is_reported_and_the_rest_applies(rr):
    rr.set("s", "str")
    with rr.pipeline(transaction=True) as p:
        p.incr("n").lpush("s", "x").incr("n")
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            p.execute()
    assert rr.get("n") == b"2"
    with rr.pipeline(transaction=True) as p:
        p.incr("n").lpush("s", "x").incr("n")
        out = p.execute(raise_on_error=False)
    assert out[0] == 3 and isinstance(out[1], redis.ResponseError) and out[2] == 4


def test_queuing_error_aborts_everything(rr):
    with rr.pipeline(transaction=True) as p:
        p.set("a", 1)
        p.execute_command("NOSUCHCOMMAND")
        p.set("b", 2)
        with pytest.raises(redis.ResponseError):
            p.execute()
    assert rr.exists("a", "b") == 0


def test_watch_error_when_another_client_writes(rr, port):
    other = redis.Redis(host="127.0.0.1", port=port)
    rr.set("k", 1)
    with rr.pipeline() as p:
        p.watch("k")
        assert int(p.get("k")) == 1  # immediate mode after WATCH
        other.set("k", 5)
        p.multi()
        p.set("k", 2)
        with pytest.raises(redis.WatchError):
            p.execute()
    assert rr.get("k") == b"5"
    other.close()


def test_transaction_helper_retries_until_it_wins(rr):
    rr.set("counter", 0)

    def double(pipe):
        v = int(pipe.get("counter"))
        pipe.multi()
        pipe.set("counter", v * 2 + 1)

    rr.transaction(double, "counter")
    assert rr.get("counter") == b"1"


def test_watch_retry_loop_under_contention(port):
    """Eight threads increment one counter with WATCH/GET/MULTI/SET/EXEC: every lost race is a
    WatchError and a retry, and no increment is ever lost."""
    threads, per_thread = 8, 40
    setup = redis.Redis(host="127.0.0.1", port=port)
    setup.flushall()
    setup.set("ctr", 0)
    errors = []

    def worker():
        c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=30)
        done = conflicts = 0
        try:
            while done < per_thread and conflicts < 10_000:
                with c.pipeline() as p:
                    try:
                        p.watch("ctr")
                        v = int(p.get("ctr"))
                        p.multi()
                        p.set("ctr", v + 1)
                        p.execute()
                        done += 1
                    except redis.WatchError:
                        conflicts += 1
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            c.close()

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors
    assert int(setup.get("ctr")) == threads * per_thread
    setup.close()


def test_blocking_command_inside_transaction_does_not_block(rr):
    with rr.pipeline(transaction=True) as p:
        p.blpop(["nolist"], timeout=0).rpush("l", "a").blpop(["l"], timeout=0)
        first, pushed, popped = p.execute()
    assert first is None and pushed == 1 and list(popped) == [b"l", b"a"]


def test_discard_and_reset_pipeline(rr):
    with rr.pipeline(transaction=True) as p:
        p.set("a", 1)
        p.reset()
        p.set("b", 1)
        p.execute()
    assert rr.exists("a") == 0 and rr.get("b") == b"1"
