"""The ring backlog and the replication ids (replication/backlog.py)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from twistd_redis.replication.backlog import NULL_REPLID, ReplBacklog


def test_new_backlog_starts_at_the_next_offset():
    b = ReplBacklog(16, 101)
    assert (b.offset, b.histlen) == (101, 0)
    assert b.covers(101) and not b.covers(100) and not b.covers(102)
    assert b.read_from(101) == b""


def test_backlog_keeps_the_last_size_bytes():
    b = ReplBacklog(10, 1)
    b.append(b"abcdef")
    b.append(b"ghijkl")
    assert (b.offset, b.histlen) == (3, 10)
    assert b.read_from(3) == b"cdefghijkl"
    assert b.read_from(10) == b"jkl"
    assert b.covers(13) and not b.covers(2) and not b.covers(14)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 64), st.lists(st.binary(max_size=40), max_size=30))
def test_backlog_equals_the_tail_of_the_stream(size, chunks):
    b = ReplBacklog(size, 1)
    stream = b""
    for c in chunks:
        b.append(c)
        stream += c
        tail = stream[-size:] if stream else b""
        assert b.histlen == len(tail)
        assert b.offset == len(stream) - len(tail) + 1
        start = random.randint(b.offset, b.offset + b.histlen)
        assert b.read_from(start) == stream[start - 1 :]
        assert b.memory() <= 2 * size + max((len(x) for x in chunks), default=0)


def test_resize_keeps_the_newest_bytes():
    b = ReplBacklog(10, 1)
    b.append(b"0123456789")
    b.resize(4)
    assert (b.offset, b.histlen, b.read_from(7)) == (7, 4, b"6789")
    b.resize(100)
    b.append(b"ab")
    assert b.read_from(7) == b"6789ab"


def test_backlog_lifecycle_and_feed(server):
    repl = server.state.repl
    assert repl.backlog is None
    repl.feed_stream(b"ignored")  # no backlog: nothing is fed, the offset stays
    assert repl.master_repl_offset == 0
    repl.create_backlog()
    assert repl.backlog.offset == 1
    repl.feed_stream(b"*1\r\n$4\r\nPING\r\n")
    assert repl.master_repl_offset == 14 and repl.backlog.read_from(1) == b"*1\r\n$4\r\nPING\r\n"
    server.state.config.set("repl-backlog-size", "16kb")
    assert repl.backlog.size == 16384
    repl.free_backlog()
    assert repl.backlog is None


def test_shift_replication_id_keeps_the_old_one_as_replid2(server):
    repl = server.state.repl
    old = repl.replid
    repl.master_repl_offset = 500
    repl.shift_replication_id()
    assert repl.replid2 == old and repl.second_repl_offset == 501 and repl.replid != old
    repl.clear_replication_id2()
    assert (repl.replid2, repl.second_repl_offset) == (NULL_REPLID, -1)


def test_backlog_freed_after_ttl_without_replicas(server):
    repl = server.state.repl
    server.state.config.set("repl-backlog-ttl", "10")
    repl.create_backlog()
    old = repl.replid
    server.advance(5)
    assert repl.backlog is not None
    server.advance(7)
    assert repl.backlog is None and repl.replid != old  # a new history: nobody may continue the old one


def test_restore_from_rdb_as_a_master_keeps_the_history_as_replid2(server):
    """What redis-server 7.0.15 shows after restarting from an RDB saved with repl-id X and
    repl-offset 50: replid2 X valid up to 51, offset 50, an empty backlog starting at 51."""
    repl = server.state.repl
    repl.restore_from_rdb("b" * 40, 50, 0, replica=False)
    assert (repl.replid2, repl.second_repl_offset, repl.master_repl_offset) == ("b" * 40, 51, 50)
    assert repl.replid != "b" * 40
    assert (repl.backlog.offset, repl.backlog.histlen) == (51, 0)


def test_restore_from_rdb_as_a_replica_takes_the_history_as_its_own(server):
    repl = server.state.repl
    repl.restore_from_rdb("c" * 40, 70, 3, replica=True)
    assert (repl.replid, repl.master_repl_offset, repl.backlog) == ("c" * 40, 70, None)
    assert repl.startup_cached_master == ("c" * 40, 70, 3)  # the first PSYNC continues from it
