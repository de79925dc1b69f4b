"""A Redis user's collection code through redis-py (RESP2 and RESP3): a leaderboard, a cache of
hashes, tag sets, a work queue and SORT - written as an application would, replies parsed by
redis-py's own response callbacks (which differ between the two protocols)."""

from __future__ import annotations

import pytest
import redis


def pairs(reply):
    """WITHSCORES replies: redis-py gives tuples in RESP2 and lists in RESP3."""
    return [tuple(p) for p in reply]


def test_leaderboard(rr):
    rr.zadd("board", {"alice": 120, "bob": 95.5, "carol": 130, "dave": 95.5})
    assert rr.zcard("board") == 4
    assert rr.zincrby("board", 10, "bob") == 105.5
    assert pairs(rr.zrevrange("board", 0, 2, withscores=True)) == [(b"carol", 130.0), (b"alice", 120.0), (b"bob", 105.5)]
    assert rr.zrange("board", 0, -1) == [b"dave", b"bob", b"alice", b"carol"]
    assert pairs(rr.zrangebyscore("board", 100, "+inf", withscores=True)) == [
        (b"bob", 105.5),
        (b"alice", 120.0),
        (b"carol", 130.0),
    ]
    assert rr.zrange("board", "(100", 125, byscore=True) == [b"bob", b"alice"]
    assert rr.zrevrank("board", "carol") == 0
    assert rr.zrank("board", "dave") == 0
    assert rr.zscore("board", "alice") == 120.0
    assert rr.zscore("board", "nobody") is None
    assert rr.zmscore("board", ["alice", "nobody"]) == [120.0, None]
    assert rr.zcount("board", 100, 200) == 3
    assert rr.zadd("board", {"alice": 110}, gt=True, ch=True) == 0  # not greater: unchanged
    assert rr.zadd("board", {"alice": 140}, gt=True, ch=True) == 1
    assert pairs(rr.zpopmax("board", 1)) == [(b"alice", 140.0)]
    assert pairs(rr.zpopmin("board", 2)) == [(b"dave", 95.5), (b"bob", 105.5)]
    assert rr.zrem("board", "carol") == 1
    assert rr.exists("board") == 0  # emptied: gone


def test_zset_algebra_and_scan(rr):
    rr.zadd("a", {"x": 1, "y": 2})
    rr.zadd("b", {"y": 10, "z": 3})
    assert rr.zunionstore("u", ["a", "b"]) == 3
    assert pairs(rr.zrange("u", 0, -1, withscores=True)) == [(b"x", 1.0), (b"z", 3.0), (b"y", 12.0)]
    assert rr.zinterstore("i", {"a": 2, "b": 1}, aggregate="MAX") == 1
    assert rr.zscore("i", "y") == 10.0
    assert pairs(rr.zinter(["a", "b"], withscores=True)) == [(b"y", 12.0)]
    assert rr.zdiff(["a", "b"]) == [b"x"]
    rr.zadd("big", {f"m{i}": i for i in range(300)})
    assert rr.object("encoding", "big") == b"skiplist"
    assert sorted(pairs(rr.zscan_iter("big"))) == sorted((f"m{i}".encode(), float(i)) for i in range(300))


def test_hash_cache(rr):
    assert rr.hset("user:1", mapping={"name": "Ada", "visits": "1", "lang": "en"}) == 3
    assert rr.hget("user:1", "name") == b"Ada"
    assert rr.hgetall("user:1") == {b"name": b"Ada", b"visits": b"1", b"lang": b"en"}
    assert rr.hincrby("user:1", "visits", 5) == 6
    assert rr.hincrbyfloat("user:1", "score", 1.5) == 1.5
    assert rr.hmget("user:1", ["name", "nope"]) == [b"Ada", None]
    assert rr.hexists("user:1", "lang")
    assert rr.hdel("user:1", "lang", "nope") == 1
    assert rr.hlen("user:1") == 3
    assert sorted(rr.hkeys("user:1")) == [b"name", b"score", b"visits"]
    assert rr.hstrlen("user:1", "name") == 3
    assert not rr.hsetnx("user:1", "name", "Bob")
    rr.hset("wide", mapping={f"f{i}": i for i in range(1000)})
    assert rr.object("encoding", "wide") == b"hashtable"
    assert dict(rr.hscan_iter("wide", match="f99*")) == {b"f99": b"99", **{f"f99{i}".encode(): f"99{i}".encode() for i in range(10)}}
    assert rr.hrandfield("user:1", 10) is not None and len(rr.hrandfield("user:1", 10)) == 3
    with pytest.raises(redis.ResponseError, match="hash value is not an integer"):
        rr.hincrby("user:1", "name", 1)


def test_tag_sets(rr):
    assert rr.sadd("tags:1", "py", "redis", "twisted") == 3
    rr.sadd("tags:2", "py", "go")
    assert rr.smembers("tags:1") == {b"py", b"redis", b"twisted"}
    assert rr.sinter("tags:1", "tags:2") == {b"py"}
    assert rr.sunion("tags:1", "tags:2") == {b"py", b"redis", b"twisted", b"go"}
    assert rr.sdiff("tags:1", "tags:2") == {b"redis", b"twisted"}
    assert rr.sismember("tags:1", "py")
    assert not rr.sismember("tags:1", "rust")
    assert rr.smismember("tags:1", ["py", "rust"]) == [1, 0]
    assert rr.sintercard(2, ["tags:1", "tags:2"]) == 1
    assert rr.smove("tags:1", "tags:2", "redis")
    assert rr.scard("tags:2") == 3
    assert set(rr.sscan_iter("tags:2")) == {b"py", b"go", b"redis"}
    assert rr.spop("tags:1") in (b"py", b"twisted")
    assert rr.srandmember("tags:2", 2) and len(rr.srandmember("tags:2", 2)) == 2


def test_list_queue_and_sort(rr):
    assert rr.rpush("jobs", "3", "1", "2") == 3
    assert rr.lpush("jobs", "0") == 4
    assert rr.lrange("jobs", 0, -1) == [b"0", b"3", b"1", b"2"]
    assert rr.sort("jobs") == [b"0", b"1", b"2", b"3"]
    assert rr.sort("jobs", desc=True, start=0, num=2) == [b"3", b"2"]
    rr.hset("w_1", "n", "c")
    rr.hset("w_2", "n", "a")
    rr.hset("w_3", "n", "b")
    rr.rpush("ids", "1", "2", "3")
    assert rr.sort("ids", by="w_*->n", alpha=True) == [b"2", b"3", b"1"]
    assert rr.sort("ids", by="nosort", get=["#", "w_*->n"]) == [b"1", b"c", b"2", b"a", b"3", b"b"]
    assert rr.sort("ids", store="sorted") == 3
    assert rr.lrange("sorted", 0, -1) == [b"1", b"2", b"3"]
    popped = rr.blpop(["empty", "jobs"], timeout=1)  # a tuple in RESP2, a list in RESP3 (redis-py)
    assert list(popped) == [b"jobs", b"0"]
    assert rr.lmove("jobs", "done", "LEFT", "RIGHT") == b"3"
    assert rr.lpos("jobs", "2") == 1
    assert rr.lmpop(1, "jobs", direction="RIGHT", count=5) == [b"jobs", [b"2", b"1"]]
    assert rr.exists("jobs") == 0
    assert rr.blpop("empty", timeout=0.05) is None
    assert rr.bzpopmin("nozset", timeout=0.05) is None
