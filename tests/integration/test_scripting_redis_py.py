"""Script code as applications write it, through redis-py (RESP2 and RESP3): redis-py's own
``Lock`` (acquire / release / extend / reacquire, all Lua scripts run with EVALSHA and the
NOSCRIPT fallback to EVAL), ``register_script`` objects, scripts in pipelines and transactions,
a token-bucket rate limiter and a reliable queue, as people write them.

``INTEGRATION_AGAINST=redis-server`` runs these same tests against a real redis-server."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from redis.exceptions import LockError, LockNotOwnedError, NoScriptError, ResponseError


def test_lock_acquire_release_extend(rr):
    rr.script_flush()
    lock = rr.lock("lock:report", timeout=5, blocking=False)
    assert lock.acquire()
    token = rr.get("lock:report")
    assert token is not None and rr.pttl("lock:report") > 4000
    assert lock.owned() and lock.locked()
    other = rr.lock("lock:report", timeout=5, blocking=False)
    assert not other.acquire()  # held
    assert lock.extend(10)  # adds to the remaining time
    assert 14000 < rr.pttl("lock:report") <= 15000
    assert lock.extend(3, replace_ttl=True)
    assert 2000 < rr.pttl("lock:report") <= 3000
    assert lock.reacquire()
    assert 4000 < rr.pttl("lock:report") <= 5000
    lock.release()
    assert rr.exists("lock:report") == 0
    assert other.acquire()  # free now
    lock.local.token = token  # a stale owner still holding the old token
    with pytest.raises(LockNotOwnedError):
        lock.release()  # the release script compares tokens and answers 0
    lock.local.token = token  # (release cleared it)
    with pytest.raises(LockNotOwnedError):
        lock.extend(5)  # the extend script too
    assert other.owned()
    other.release()


def test_lock_scripts_survive_script_flush(rr):
    """redis-py runs its Lock scripts with EVALSHA; after SCRIPT FLUSH the server answers NOSCRIPT
    and redis-py loads them again."""
    lock = rr.lock("lock:flush", timeout=5, blocking=False)
    assert lock.acquire()
    rr.script_flush()
    lock.release()  # NOSCRIPT -> EVAL fallback inside redis-py
    assert rr.exists("lock:flush") == 0


def test_lock_context_manager_and_blocking_waits(rr):
    lock = rr.lock("lock:ctx", timeout=2, blocking_timeout=3, sleep=0.02)
    got_at = []

    def contender() -> None:
        kw = rr.connection_pool.connection_kwargs
        r2 = redis.Redis(host=kw["host"], port=kw["port"])
        try:
            with r2.lock("lock:ctx", timeout=2, blocking_timeout=3, sleep=0.02):
                got_at.append(time.monotonic())
        finally:
            r2.close()

    with lock:
        t = threading.Thread(target=contender)
        t.start()
        time.sleep(0.2)
        released_at = time.monotonic()
    t.join(5)
    assert got_at and got_at[0] >= released_at  # the contender got it only after our release
    with pytest.raises(LockError):
        rr.lock("lock:none", timeout=1).release()  # never acquired


def test_register_script(rr):
    rr.script_flush()
    incr_by = rr.register_script(
        "local v = redis.call('INCRBY', KEYS[1], ARGV[1]) "
        "redis.call('EXPIRE', KEYS[1], ARGV[2]) "
        "return v"
    )
    assert incr_by(keys=["counter"], args=[5, 100]) == 5  # NOSCRIPT, then EVAL
    assert incr_by(keys=["counter"], args=[2, 100]) == 7  # EVALSHA now
    assert 0 < rr.ttl("counter") <= 100
    assert rr.script_exists(incr_by.sha) == [True]
    assert incr_by.sha == rr.script_load(incr_by.script)
    with pytest.raises(NoScriptError):
        rr.evalsha("0" * 40, 0)
    # in a pipeline: redis-py loads the script first when the server does not know it
    rr.script_flush()
    pipe = rr.pipeline()
    incr_by(keys=["counter"], args=[1, 100], client=pipe)
    pipe.get("counter")
    assert pipe.execute() == [8, b"8"]


def test_script_errors_surface_as_response_errors(rr):
    failing = rr.register_script("return redis.call('LPUSH', KEYS[1], 'x')")
    rr.set("plain", "v")
    with pytest.raises(ResponseError) as e:
        failing(keys=["plain"])
    assert str(e.value).startswith("WRONGTYPE Operation against a key holding the wrong kind of value script:")
    with pytest.raises(ResponseError) as e:
        rr.eval("return redis.call('NOSUCH')", 0)
    assert "Unknown Redis command called from script" in str(e.value)


def test_rate_limiter_token_bucket(rr):
    bucket = rr.register_script(
        """
        local key, rate, burst, now, want = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        local state = redis.call('HMGET', key, 'tokens', 'ts')
        local tokens = tonumber(state[1]) or burst
        local ts = tonumber(state[2]) or now
        tokens = math.min(burst, tokens + (now - ts) * rate)
        local allowed = tokens >= want
        if allowed then tokens = tokens - want end
        redis.call('HSET', key, 'tokens', tokens, 'ts', now)
        redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000))
        return {allowed and 1 or 0, tostring(tokens)}
        """
    )
    results = [bucket(keys=["bucket:u1"], args=[1, 3, 1000, 1]) for _ in range(5)]
    assert [a for a, _ in results] == [1, 1, 1, 0, 0]
    assert results[2][1] == b"0"
    # two seconds later two tokens came back
    assert bucket(keys=["bucket:u1"], args=[1, 3, 1002, 2]) == [1, b"0"]
    assert rr.hgetall("bucket:u1") == {b"tokens": b"0", b"ts": b"1002"}


def test_reliable_queue_move_and_ack(rr):
    """Take a job atomically into a processing list with a deadline, then acknowledge it."""
    take = rr.register_script(
        """
        local job = redis.call('RPOPLPUSH', KEYS[1], KEYS[2])
        if not job then return false end
        redis.call('ZADD', KEYS[3], ARGV[1], job)
        return job
        """
    )
    ack = rr.register_script(
        """
        local removed = redis.call('LREM', KEYS[1], 1, ARGV[1])
        redis.call('ZREM', KEYS[2], ARGV[1])
        return removed
        """
    )
    rr.lpush("q:pending", "job1", "job2")  # RPOPLPUSH takes the oldest from the right
    assert take(keys=["q:pending", "q:processing", "q:deadlines"], args=[100]) == b"job1"
    assert take(keys=["q:pending", "q:processing", "q:deadlines"], args=[200]) == b"job2"
    assert take(keys=["q:pending", "q:processing", "q:deadlines"], args=[300]) is None
    assert [tuple(x) for x in rr.zrange("q:deadlines", 0, -1, withscores=True)] == [(b"job1", 100.0), (b"job2", 200.0)]
    assert ack(keys=["q:processing", "q:deadlines"], args=["job1"]) == 1
    assert ack(keys=["q:processing", "q:deadlines"], args=["job1"]) == 0
    assert rr.lrange("q:processing", 0, -1) == [b"job2"]


def test_scripts_in_transactions_and_watch(rr):
    rr.set("balance", 10)
    with rr.pipeline() as pipe:
        pipe.watch("balance")
        rr.eval("redis.call('INCRBY', KEYS[1], 5)", 1, "balance")  # another client's script writes
        pipe.multi()
        pipe.eval("return redis.call('DECRBY', KEYS[1], 3)", 1, "balance")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert rr.get("balance") == b"15"
    with rr.pipeline() as pipe:
        pipe.eval("return redis.call('DECRBY', KEYS[1], 3)", 1, "balance")
        pipe.eval_ro("return redis.call('GET', KEYS[1])", 1, "balance")
        assert pipe.execute() == [12, b"12"]


def test_resp3_shapes_through_redis_py(rr):
    rr.hset("profile", mapping={"name": "ada"})
    reply = rr.eval("redis.setresp(3); return redis.call('HGETALL', KEYS[1])", 1, "profile")
    if rr.connection_pool.connection_kwargs.get("protocol") == 3:
        assert reply == {b"name": b"ada"}
    else:
        assert reply == [b"name", b"ada"]
    assert rr.eval("return {1, 2, {3, 'four'}, false}", 0) == [1, 2, [3, b"four"], None]
    assert rr.eval("return redis.status_reply('FINE')", 0) in (b"FINE", "FINE", True)
