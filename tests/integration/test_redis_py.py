"""redis-py (RESP2 and RESP3) doing real work against a twistd-redis child process."""

from __future__ import annotations

import time

import pytest
import redis

from tests.integration.conftest import requires


def test_ping_echo(rr):
    assert rr.ping() is True
    assert rr.echo(b"hello") == b"hello"


def test_strings(rr):
    assert rr.set("k", "v") is True
    assert rr.get("k") == b"v"
    assert rr.set("k", "w", nx=True) is None
    assert rr.set("k", "w", xx=True) is True
    assert rr.set("k", "x", get=True) == b"w"
    assert rr.get("missing") is None
    assert rr.append("k", "yz") == 3
    assert rr.strlen("k") == 3
    assert rr.getrange("k", 0, 1) == b"xy"
    assert rr.setrange("k", 5, "!") == 6
    assert rr.get("k") == b"xyz\x00\x00!"
    assert rr.incr("n") == 1
    assert rr.incrby("n", 41) == 42
    assert rr.decr("n") == 41
    assert rr.decrby("n", 40) == 1
    assert rr.incrbyfloat("f", 1.5) == 1.5
    assert rr.incrbyfloat("f", "0.1") == pytest.approx(1.6)
    assert rr.get("f") == b"1.6"
    assert rr.mset({"a": "1", "b": "2"}) is True
    assert rr.mget("a", "b", "nope") == [b"1", b"2", None]
    assert rr.msetnx({"a": "9", "c": "3"}) is False
    assert rr.setnx("c", "3") is True
    assert rr.getset("c", "4") == b"3"
    assert rr.getdel("c") == b"4"
    assert rr.exists("c") == 0
    assert rr.lcs("a", "b") == b""
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        rr.incr("k")
    rr.set("big", str(2**63 - 1))
    with pytest.raises(redis.ResponseError, match="increment or decrement would overflow"):
        rr.incr("big")


def test_keys_and_expiry(rr):
    rr.mset({"k1": "a", "k2": "b", "other": "c"})
    assert sorted(rr.keys("k*")) == [b"k1", b"k2"]
    assert rr.dbsize() == 3
    assert rr.type("k1") == b"string"
    assert rr.type("nope") == b"none"
    assert rr.rename("k1", "k3") is True
    assert rr.renamenx("k3", "k2") is False
    assert rr.exists("k1", "k2", "k3") == 2
    assert rr.delete("k2", "k3", "nope") == 2
    assert rr.ttl("other") == -1
    assert rr.ttl("nope") == -2
    assert rr.expire("other", 100) is True
    assert 99 <= rr.ttl("other") <= 100
    assert 99000 <= rr.pttl("other") <= 100000
    assert rr.persist("other") is True
    assert rr.ttl("other") == -1
    assert rr.set("short", "v", px=150) is True
    assert rr.exists("short") == 1
    time.sleep(0.3)
    assert rr.get("short") is None
    assert rr.exists("short") == 0
    rr.set("at", "v")
    assert rr.pexpireat("at", int(time.time() * 1000) + 50_000) is True
    assert 0 < rr.pttl("at") <= 50_000
    assert rr.expiretime("at") >= int(time.time())
    assert rr.getex("at", persist=True) == b"v"
    assert rr.ttl("at") == -1
    assert rr.randomkey() in (b"other", b"at")
    assert rr.copy("at", "at2") is True
    assert rr.get("at2") == b"v"
    assert rr.touch("at", "at2", "nope") == 2
    assert rr.unlink("at", "at2") == 2
    assert rr.object("encoding", "other") in (b"embstr", b"raw")


def test_pipeline_of_1000_commands(rr):
    pipe = rr.pipeline(transaction=False)
    for i in range(1000):
        pipe.set(f"key:{i}", i)
    for i in range(1000):
        pipe.incr(f"key:{i}")
    results = pipe.execute()
    assert results[:1000] == [True] * 1000
    assert results[1000:] == list(range(1, 1001))
    assert rr.dbsize() == 1000
    assert rr.mget([f"key:{i}" for i in range(0, 1000, 100)]) == [str(i + 1).encode() for i in range(0, 1000, 100)]


def test_transaction_pipeline(rr):
    requires(rr, "multi", "exec")
    pipe = rr.pipeline(transaction=True)
    pipe.set("a", 1).incr("a").get("a")
    assert pipe.execute() == [True, 2, b"2"]


def test_large_value_10mb(rr):
    value = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    assert rr.set("big", value) is True
    assert rr.strlen("big") == len(value)
    assert rr.get("big") == value
    assert rr.getrange("big", -3, -1) == value[-3:]


@pytest.mark.parametrize("key", [b"\x00", b"a\r\nb", b"\xff\xfe\x00 \t", b" spaces and \"quotes\" ", "ключ".encode()])
def test_binary_safe_keys_and_values(rr, key):
    value = key[::-1] + b"\x00\r\n"
    assert rr.set(key, value) is True
    assert rr.get(key) == value
    assert rr.keys("*") == [key]
    assert rr.exists(key) == 1
    assert rr.delete(key) == 1


def test_hello(ours):
    c = redis.Redis(host="127.0.0.1", port=ours.port, protocol=2)
    try:
        conn = c.connection_pool.get_connection()
        conn.send_command("HELLO", "3")
        reply = conn.read_response()
        assert reply[b"server"] == b"redis"
        assert reply[b"version"] == b"7.0.15"
        assert reply[b"proto"] == 3
        assert isinstance(reply[b"id"], int)
        assert reply[b"mode"] == b"standalone"
        assert reply[b"role"] == b"master"
        assert reply[b"modules"] == []
        conn.send_command("HELLO", "4")
        with pytest.raises(redis.ResponseError, match="NOPROTO unsupported protocol version"):
            conn.read_response()
        c.connection_pool.release(conn)
    finally:
        c.close()


def test_resp3_types(r3):
    # RESP3 maps and doubles come through as Python dicts and floats
    r3.set("n", "1.5")
    assert r3.incrbyfloat("n", 1) == 2.5
    hello = r3.execute_command("HELLO", "3")
    assert hello[b"proto"] == 3
    assert isinstance(r3.config_get("maxmemory"), dict)


def test_client_setname_and_list(rr):
    assert rr.client_setname("itest") is True
    assert rr.client_getname() == b"itest" or rr.client_getname() == "itest"
    me = [c for c in rr.client_list() if c["name"] == "itest"]
    assert len(me) == 1
    assert int(me[0]["id"]) == rr.client_id()
    assert me[0]["cmd"] == "client|list"
    assert me[0]["db"] == "0"
    assert me[0]["addr"].startswith("127.0.0.1:")
    with pytest.raises(redis.ResponseError, match="Client names cannot contain spaces"):
        rr.client_setname("bad name")
    info = rr.client_info()
    assert info["name"] == "itest"


def test_info_parsing(rr):
    info = rr.info()
    assert info["redis_version"] == "7.0.15"
    assert info["tcp_port"] == rr.connection_pool.connection_kwargs["port"]
    assert info["connected_clients"] >= 1
    assert isinstance(info["used_memory"], int)
    assert info["role"] == "master"
    rr.set("a", 1)
    rr.set("b", 2, ex=100)
    ks = rr.info("keyspace")
    assert ks["db0"]["keys"] == 2
    assert ks["db0"]["expires"] == 1
    stats = rr.info("stats")
    assert stats["total_commands_processed"] > 0
    everything = rr.info("all")
    assert "redis_version" in everything and "used_cpu_sys" in everything
    assert "cmdstat_set" in rr.info("commandstats")


def test_config_get_set(rr):
    assert rr.config_get("maxmemory") == {"maxmemory": "0"}
    old = rr.config_get("maxmemory-policy")["maxmemory-policy"]
    try:
        assert rr.config_set("maxmemory-policy", "allkeys-lru") is True
        assert rr.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
    finally:
        rr.config_set("maxmemory-policy", old)
    got = rr.config_get("*max-*-entries*")
    assert "hash-max-listpack-entries" in got
    with pytest.raises(redis.ResponseError, match="Unknown option or number of arguments for CONFIG SET"):
        rr.config_set("no-such-parameter", "1")
    assert rr.config_get("no-such-parameter") == {}


def test_scan_iter(rr):
    rr.mset({f"user:{i}": i for i in range(500)})
    rr.mset({f"other:{i}": i for i in range(50)})
    assert sorted(rr.scan_iter(match="user:*", count=37)) == sorted(f"user:{i}".encode() for i in range(500))
    assert len(set(rr.scan_iter())) == 550
    cursor, keys = rr.scan(0, count=10)
    assert isinstance(cursor, int) and len(keys) >= 1
    assert list(rr.scan_iter(_type="list")) == []


def test_select_and_flushdb(rr):
    rr.set("k", "0")
    rr.execute_command("SELECT", 1)
    assert rr.get("k") is None
    rr.set("k", "1")
    rr.flushdb()
    assert rr.dbsize() == 0
    rr.execute_command("SELECT", 0)
    assert rr.get("k") == b"0"
    with pytest.raises(redis.ResponseError, match="DB index is out of range"):
        rr.execute_command("SELECT", 16)


def test_wrongtype(rr):
    requires(rr, "lpush")
    rr.lpush("list", "a")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE Operation against a key holding the wrong kind of value"):
        rr.get("list")


def test_many_connections(ours):
    clients = [redis.Redis(host="127.0.0.1", port=ours.port, protocol=2) for _ in range(50)]
    try:
        for i, c in enumerate(clients):
            c.set(f"conn:{i}", i)
        assert [int(c.get(f"conn:{i}")) for i, c in enumerate(clients)] == list(range(50))
        assert clients[0].info("clients")["connected_clients"] >= 50
    finally:
        for c in clients:
            c.close()
