"""A dataset of every type in small and large encodings, and a reader of a whole server's contents.

``fill(client)`` writes, through any redis-py client, the same keys in databases 0, 3 and 9:
strings (short, int-encoded, negative, long compressible, binary, with a TTL), lists (small
listpack and quicklist of several nodes), sets (intset, small listpack-size and hashtable), hashes
(listpack, hashtable, a long value), sorted sets (listpack, skiplist) and, with ``streams=True``,
a stream with deletions, two consumer groups, consumers with and without pending entries, entries
delivered by XREADGROUP, XCLAIM (pinned TIME, RETRYCOUNT) and XAUTOCLAIM, acknowledged ones.

``capture(client)`` reads every database into the shape of tests/data/rdb-samples/*.json: per db
(a str), per key (text), ``{"type", "value", "has_ttl"}``; binary texts as ``{"hex": ...}``, sets
sorted, zsets as [member, score] in rank order with scores as the server prints them, streams as
``{"entries": [[id, [f, v, ...]]], "groups": [XINFO GROUPS rows, values as text], "full": XINFO STREAM
FULL COUNT 0 flattened, without seen-time}``. So "the same
data" is ``capture(a) == capture(b)``.
"""

from __future__ import annotations

from typing import Any

DBS = (0, 3, 9)


def _text(b: bytes) -> Any:
    try:
        return b.decode()
    except UnicodeDecodeError:
        return {"hex": b.hex()}


def fill(client: Any, large: bool = True, streams: bool = False, dbs: tuple[int, ...] = DBS) -> int:
    """Write the dataset; returns the number of keys written (live ones, TTL keys included)."""
    n = 0
    for db in dbs:
        client.execute_command("SELECT", db)
        p = f"db{db}:"
        client.set(p + "short", "hello")
        client.set(p + "int", "12345")
        client.set(p + "neg", "-987654321012")
        client.set(p + "long", "abcdefgh" * 200)  # LZF-compressible
        client.set(p + "bin", b"\x00\x01\xff\r\n")
        client.set(p + "ttl", "v", ex=3600)
        client.set(p + "pttl-far", "w", pxat=4102444800000)  # 2100-01-01
        client.rpush(p + "list-small", *[str(i) for i in range(10)])
        client.sadd(p + "set-int", *range(40))
        client.sadd(p + "set-small", "x", "y", "z")
        client.hset(p + "hash-small", mapping={"a": "1", "b": "two"})
        client.zadd(p + "zset-small", {"a": 1, "b": 2.5, "c": -3})
        client.zadd(p + "zset-inf", {"lo": float("-inf"), "hi": float("inf"), "mid": 0.1})
        n += 13
        if large:
            client.rpush(p + "list-big", *[f"item-{i}" * (1 + i % 7) for i in range(3000)])
            client.sadd(p + "set-big", *[f"m{i}" for i in range(600)])
            client.sadd(p + "set-bigint", *range(0, 2_000_000, 1000))  # past set-max-intset-entries
            client.hset(p + "hash-big", mapping={f"f{i}": "v" * (i % 90) for i in range(600)})
            client.hset(p + "hash-longval", mapping={"k": "x" * 100})  # past hash-max-listpack-value
            client.zadd(p + "zset-big", {f"m{i}": i / 7 for i in range(300)})
            client.zadd(p + "zset-longmember", {"y" * 100: 1})
            n += 7
        if streams:
            s = p + "stream"
            for i in range(1, 50):
                client.xadd(s, {"f": str(i), "g": "x" * (i % 9 + 1)}, id=f"{1000 + i}-{i % 3}")
            client.xdel(s, "1010-1", "1020-2")
            client.xgroup_create(s, "grp", id="0")
            client.xreadgroup("grp", "alice", {s: ">"}, count=5)
            client.xack(s, "grp", "1001-1")
            # a second consumer, an entry claimed away with a pinned delivery time and count,
            # a consumer without pending entries, a group read from a known counter, XAUTOCLAIM
            client.xreadgroup("grp", "bob", {s: ">"}, count=3)
            client.execute_command("XCLAIM", s, "grp", "carol", 0, "1003-0", "TIME", 1600000000000, "RETRYCOUNT", 4)
            client.execute_command("XGROUP", "CREATECONSUMER", s, "grp", "dave")
            client.execute_command("XGROUP", "CREATE", s, "grp2", "1020-0", "ENTRIESREAD", 20)
            client.xreadgroup("grp2", "erin", {s: ">"}, count=4)
            client.execute_command("XAUTOCLAIM", s, "grp2", "frank", 0, "0-0", "COUNT", 1)
            n += 1
    client.execute_command("SELECT", 0)
    return n


def _flat(v: Any) -> Any:
    """A reply as RESP2 shapes it (maps flattened), values as text; ``seen-time`` (a consumer's
    last interaction: a replica sets it when it replays the command) is left out."""
    if isinstance(v, dict):
        v = [x for kv in v.items() for x in kv]
    if isinstance(v, list):
        out = []
        i = 0
        while i < len(v):
            if v[i] == b"seen-time":
                i += 2
                continue
            out.append(_flat(v[i]))
            i += 1
        return out
    if isinstance(v, bytes):
        return _text(v)
    return v if v is None else str(v)


def _stream(client: Any, key: bytes) -> dict:
    entries = [[i.decode(), [_text(x) for kv in fields.items() for x in kv]] for i, fields in client.xrange(key)]
    groups = []
    for row in client.execute_command("XINFO", "GROUPS", key):
        if isinstance(row, dict):
            row = [x for kv in row.items() for x in kv]
        groups.append([x.decode() if isinstance(x, bytes) else None if x is None else str(x) for x in row])
    # everything else XINFO STREAM FULL shows: stream metadata, node counts, PELs with delivery
    # times and counts, consumers
    full = _flat(client.execute_command("XINFO", "STREAM", key, "FULL", "COUNT", 0))
    return {"entries": entries, "groups": groups, "full": full}


def _value(client: Any, key: bytes, kind: str) -> Any:
    if kind == "string":
        return _text(client.get(key))
    if kind == "list":
        return [_text(x) for x in client.lrange(key, 0, -1)]
    if kind == "set":
        return sorted((_text(x) for x in client.smembers(key)), key=lambda v: str(v))
    if kind == "hash":
        return {k.decode(): _text(v) for k, v in client.hgetall(key).items()}
    if kind == "zset":
        flat = client.execute_command("ZRANGE", key, 0, -1, "WITHSCORES")
        if flat and isinstance(flat[0], list):  # RESP3 pairs
            flat = [x for pair in flat for x in pair]
        out = []
        for i in range(0, len(flat), 2):
            score = flat[i + 1]
            if isinstance(score, bytes):
                score = score.decode()
            elif score in (float("inf"), float("-inf")):  # a RESP3 double: print it as RESP2 does
                score = "inf" if score > 0 else "-inf"
            else:
                score = "%.17g" % score
            out.append([_text(flat[i]), score])
        return out
    if kind == "stream":
        return _stream(client, key)
    raise AssertionError(f"capture: unexpected type {kind!r} for {key!r}")


def capture(client: Any, databases: int = 16) -> dict:
    """Every key of every database: {db: {key: {"type", "value", "has_ttl"}}}, empty dbs left out.
    The client must not decode responses (``decode_responses=False``)."""
    out: dict = {}
    for db in range(databases):
        client.execute_command("SELECT", db)
        keys = {}
        for key in client.scan_iter(count=1000):
            kind = client.type(key).decode()
            keys[key.decode()] = {
                "has_ttl": client.pttl(key) >= 0,
                "type": kind,
                "value": _value(client, key, kind),
            }
        if keys:
            out[str(db)] = keys
    client.execute_command("SELECT", 0)
    return out
