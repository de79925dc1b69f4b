"""Stream code as applications write it, through redis-py (RESP2 and RESP3): an event-sourced
aggregate, a job queue with a consumer group (producers XADD; workers XREADGROUP / XACK; a crashed
worker's jobs taken over with XAUTOCLAIM and XCLAIM), blocking workers, and the introspection a
dashboard reads. Replies are parsed by redis-py's own callbacks, which differ per protocol.

``INTEGRATION_AGAINST=redis-server`` runs these same tests against a real redis-server."""

from __future__ import annotations

import threading
import time

import redis


def ids(entries):
    return [e[0] for e in entries]


def _unwrap(v):
    """redis-py 5 parses a RESP3 XREAD map value as [[entries]]."""
    return v[0] if len(v) == 1 and isinstance(v[0], list) else v


def read_group(r, group, consumer, streams, **kw):
    """XREADGROUP as a dict stream -> entries, whichever shape the protocol gives
    (RESP2: [[key, entries]], RESP3: {key: [entries]})."""
    reply = r.xreadgroup(group, consumer, streams, **kw)
    if isinstance(reply, dict):
        return {k: _unwrap(v) for k, v in reply.items()}
    return {k: v for k, v in reply or []}


def read(r, streams, **kw):
    reply = r.xread(streams, **kw)
    if isinstance(reply, dict):
        return {k: _unwrap(v) for k, v in reply.items()}
    return {k: v for k, v in reply or []}


def test_event_sourced_account(rr):
    """Append events, rebuild the state from the log, read only what is new, keep the log bounded."""
    key = "account:42:events"
    events = [("opened", 0), ("deposit", 100), ("withdraw", 30), ("deposit", 5)]
    added = [rr.xadd(key, {"type": t, "amount": a}) for t, a in events]
    assert added == sorted(added) and len(set(added)) == 4  # auto IDs grow
    assert rr.xlen(key) == 4

    def balance(entries):
        b = 0
        for _, f in entries:
            b += int(f[b"amount"]) * (1 if f[b"type"] != b"withdraw" else -1)
        return b

    log = rr.xrange(key)
    assert ids(log) == added
    assert balance(log) == 75
    assert rr.xrevrange(key, count=1)[0][0] == added[-1]  # the latest event

    # a projection that has seen the first two events reads only the rest
    news = read(rr, {key: added[1]})
    assert ids(news[key.encode()]) == added[2:]
    assert read(rr, {key: added[-1]}) == {}  # nothing newer

    # exclusive ranges (6.2+) page through the log two at a time
    page1 = rr.xrange(key, "-", "+", count=2)
    page2 = rr.xrange(key, "(" + page1[-1][0].decode(), "+", count=2)
    assert ids(page1 + page2) == added

    # explicit IDs: an older one is refused with Redis's text
    try:
        rr.xadd(key, {"type": "late"}, id="1-1")
    except redis.ResponseError as e:
        assert "equal or smaller than the target stream top item" in str(e)
    else:
        raise AssertionError("XADD with a smaller ID was accepted")

    # bounded log: exact MAXLEN keeps exactly N; approximate never trims below N
    for i in range(500):
        rr.xadd(key, {"type": "deposit", "amount": 1}, maxlen=250, approximate=True)
    n = rr.xlen(key)
    assert 250 <= n < 350  # ~ trims whole 100-entry nodes only, and never below the threshold
    assert rr.xtrim(key, maxlen=10, approximate=False) == n - 10
    assert rr.xlen(key) == 10
    last = rr.xrevrange(key, count=1)[0][0]
    assert rr.xtrim(key, minid=last, approximate=False) == 9
    assert ids(rr.xrange(key)) == [last]
    assert rr.xdel(key, last) == 1
    assert rr.xlen(key) == 0 and rr.exists(key) == 1  # an emptied stream stays
    assert rr.type(key) == b"stream"


def test_job_queue_with_consumer_group(rr):
    q = "jobs"
    assert rr.xgroup_create(q, "workers", id="0", mkstream=True) is True
    jobs = [rr.xadd(q, {"job": str(i)}) for i in range(12)]

    # two workers share the jobs: each delivery goes to exactly one of them
    got_a = read_group(rr, "workers", "a", {q: ">"}, count=5)[q.encode()]
    got_b = read_group(rr, "workers", "b", {q: ">"}, count=5)[q.encode()]
    assert ids(got_a) == jobs[:5] and ids(got_b) == jobs[5:10]
    assert rr.xack(q, "workers", *ids(got_a)) == 5  # a finished its jobs; b crashed
    assert rr.xack(q, "workers", *ids(got_a)) == 0  # acking twice counts nothing

    summary = rr.xpending(q, "workers")
    assert summary["pending"] == 5
    assert summary["min"] == jobs[5] and summary["max"] == jobs[9]
    assert [(c["name"], int(c["pending"])) for c in summary["consumers"]] == [(b"b", 5)]

    # a third worker takes over b's jobs once they have been idle long enough
    time.sleep(0.05)
    claimed = rr.xautoclaim(q, "workers", "c", min_idle_time=20, start_id="0-0", count=3)
    assert ids(claimed[1]) == jobs[5:8]
    assert claimed[0] == jobs[8]  # where the next scan starts
    claimed = rr.xautoclaim(q, "workers", "c", min_idle_time=20, start_id=claimed[0], count=3, justid=True)
    assert claimed == jobs[8:10]  # redis-py gives JUSTID replies as the bare ID list
    assert rr.xack(q, "workers", *jobs[5:10]) == 5
    assert rr.xpending(q, "workers")["pending"] == 0

    # the remaining jobs, then the queue is drained
    rest = read_group(rr, "workers", "c", {q: ">"})[q.encode()]
    assert ids(rest) == jobs[10:]
    assert read_group(rr, "workers", "c", {q: ">"}) == {}

    # c's pending list, a manual XCLAIM back to a, delivery counts
    pend = rr.xpending_range(q, "workers", min="-", max="+", count=10, consumername="c")
    assert [p["message_id"] for p in pend] == jobs[10:]
    assert all(p["times_delivered"] == 1 for p in pend)
    moved = rr.xclaim(q, "workers", "a", min_idle_time=0, message_ids=[jobs[10]])
    assert ids(moved) == [jobs[10]]
    pend = rr.xpending_range(q, "workers", min="-", max="+", count=10)
    assert [(p["message_id"], p["consumer"], p["times_delivered"]) for p in pend] == [
        (jobs[10], b"a", 2),
        (jobs[11], b"c", 1),
    ]

    groups = rr.xinfo_groups(q)
    assert len(groups) == 1
    g = groups[0]
    assert (g["name"], g["consumers"], g["pending"], g["last-delivered-id"]) == (b"workers", 3, 2, jobs[-1])
    assert (g["entries-read"], g["lag"]) == (12, 0)
    consumers = rr.xinfo_consumers(q, "workers")
    assert [(c["name"], c["pending"]) for c in consumers] == [(b"a", 1), (b"b", 0), (b"c", 1)]
    assert rr.xgroup_delconsumer(q, "workers", "b") == 0
    assert rr.xgroup_createconsumer(q, "workers", "d") == 1
    assert rr.xgroup_destroy(q, "workers") == 1
    assert rr.xinfo_groups(q) == []


def test_stream_info_for_a_dashboard(rr):
    s = "metrics"
    for i in range(1, 6):
        rr.xadd(s, {"cpu": str(i * 10)}, id=f"{i}-0")
    rr.xdel(s, "3-0")
    rr.xgroup_create(s, "g", id="0")
    read_group(rr, "g", "w", {s: ">"}, count=2)
    info = rr.xinfo_stream(s)
    assert info["length"] == 4
    assert info["last-generated-id"] == b"5-0"
    assert info["max-deleted-entry-id"] == b"3-0"
    assert info["entries-added"] == 5
    assert info["recorded-first-entry-id"] == b"1-0"
    assert info["groups"] == 1
    assert info["first-entry"] == (b"1-0", {b"cpu": b"10"})
    assert info["last-entry"] == (b"5-0", {b"cpu": b"50"})
    full = rr.xinfo_stream(s, full=True)
    assert list(full["entries"]) == [b"1-0", b"2-0", b"4-0", b"5-0"]  # redis-py: a dict id -> fields
    (g,) = full["groups"]
    assert g["name"] == b"g" and g["last-delivered-id"] == b"2-0" and g["pel-count"] == 2
    # a deleted entry inside the group's range: neither entries-read nor lag can be known
    assert g["entries-read"] is None and g["lag"] is None
    # redis-py keeps RESP3 consumer maps with bytes keys, RESP2 ones with str keys
    assert [c.get("name", c.get(b"name")) for c in g["consumers"]] == [b"w"]


def test_blocking_workers_are_served_in_order(ours):
    """Three workers block on an empty group; each XADD wakes the longest-waiting one."""
    port = ours.port
    admin = redis.Redis(host="127.0.0.1", port=port)
    admin.flushall()
    admin.xgroup_create("tasks", "g", id="$", mkstream=True)
    results: dict[str, list] = {}
    threads = []
    clients = []
    for name in ("w1", "w2", "w3"):
        c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=20)
        clients.append(c)

        def work(c=c, name=name):
            results[name] = c.xreadgroup("g", name, {"tasks": ">"}, count=1, block=10_000)

        t = threading.Thread(target=work)
        t.start()
        threads.append(t)
        # the next worker blocks only once this one is waiting
        deadline = time.monotonic() + 10
        while int(admin.info("clients")["blocked_clients"]) < len(threads):
            assert time.monotonic() < deadline, "worker did not block"
            time.sleep(0.01)
    sent = [admin.xadd("tasks", {"n": str(i)}) for i in range(3)]
    for t in threads:
        t.join(15)
        assert not t.is_alive()
    got = {name: r[0][1][0][0] for name, r in results.items()}
    assert got == {"w1": sent[0], "w2": sent[1], "w3": sent[2]}
    assert admin.xpending("tasks", "g")["pending"] == 3

    # a plain XREAD BLOCK 0 is woken by the next XADD from another connection
    box = {}
    reader = redis.Redis(host="127.0.0.1", port=port, socket_timeout=20)
    t = threading.Thread(target=lambda: box.update(r=reader.xread({"tasks": "$"}, block=0)))
    t.start()
    deadline = time.monotonic() + 10
    while int(admin.info("clients")["blocked_clients"]) < 1:
        assert time.monotonic() < deadline, "reader did not block"
        time.sleep(0.01)
    new = admin.xadd("tasks", {"n": "last"})
    t.join(15)
    assert box["r"][0][1][0][0] == new
    # a blocked reader with a short timeout gets nothing and no error
    assert reader.xread({"tasks": "$"}, block=50) == []
    for c in (*clients, reader, admin):
        c.close()
