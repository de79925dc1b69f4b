"""Random stream command sequences sent to redis-server 7.0.15 and to ours in lockstep.

A Hypothesis RuleBasedStateMachine in the style of test_collections_state_machine.py: each
example picks RESP2 or RESP3 and a node layout (stream-node-max-entries / -max-bytes, small
values so that nodes fill after a few entries), then runs XADD (explicit, increasing IDs; some
``<ms>-*``; some with MAXLEN/MINID, = or ~, LIMIT), XDEL, XTRIM, XRANGE, XREVRANGE, XLEN,
XSETID, and requires byte-identical replies. Whole-node (``~``) trimming shows any difference
in where our listpack nodes begin and end; DUMP (the nodes byte for byte, tombstones included)
is compared too. Derandomized and capped: the same examples every run, in about 20 seconds.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from tests.compat.differ import compare, mask_ids, show
from tests.helpers_proc import RawConn, encode_command

pytestmark = [pytest.mark.compat, pytest.mark.slow]

KEYS = st.sampled_from([b"s1", b"s1", b"s1", b"s2", b"str"])
FIELDS = st.sampled_from([b"f", b"f", b"g", b"1", b"x" * 20])
VALUES = st.sampled_from([b"v", b"1", b"-3", b"100000", b"", b"y" * 30, b"z" * 70, b"007"])
COUNTS = st.sampled_from([None, b"0", b"1", b"2", b"5", b"-1"])


def fmt(sid: tuple[int, int]) -> bytes:
    return b"%d-%d" % sid


class CompareStreams(RuleBasedStateMachine):
    real_port: int = 0
    our_port: int = 0

    def __init__(self) -> None:
        super().__init__()
        self.real = RawConn(self.real_port)
        self.ours = RawConn(self.our_port)
        self.next_ms = {b"s1": 1, b"s2": 1, b"str": 1}
        self.known: dict[bytes, list[tuple[int, int]]] = {b"s1": [], b"s2": [], b"str": []}

    @initialize(
        resp=st.sampled_from([2, 3]),
        max_entries=st.sampled_from([b"100", b"3", b"5", b"1", b"0"]),
        max_bytes=st.sampled_from([b"4096", b"120", b"300", b"0"]),
    )
    def start(self, resp, max_entries, max_bytes) -> None:
        for c in (self.real, self.ours):
            assert c.call("FLUSHALL") == b"+OK\r\n"
            assert c.call("SET", "str", "x") == b"+OK\r\n"
            assert c.call("CONFIG", "SET", "stream-node-max-entries", max_entries) == b"+OK\r\n"
            assert c.call("CONFIG", "SET", "stream-node-max-bytes", max_bytes) == b"+OK\r\n"
        if resp == 3:
            a, b = self.real.call("HELLO", "3"), self.ours.call("HELLO", "3")
            assert mask_ids(a) == mask_ids(b), f"HELLO 3:\n    real: {a!r}\n    ours: {b!r}"

    def teardown(self) -> None:
        for c in (self.real, self.ours):
            c.call("CONFIG", "SET", "stream-node-max-entries", "100")
            c.call("CONFIG", "SET", "stream-node-max-bytes", "4096")
            c.close()

    def same(self, *args: bytes) -> bytes:
        payload = encode_command(*args)
        self.real.send(payload)
        a = self.real.read_reply()
        self.ours.send(payload)
        b = self.ours.read_reply()
        problem = compare(args, args, a, b)
        assert problem is None, f"{show(args)}\n    real: {a!r}\n    ours: {b!r}{problem}"
        return a

    def some_id(self, k: bytes, data) -> bytes:
        ids = self.known[k]
        choice = data.draw(st.integers(0, 5))
        if ids and choice < 4:
            return fmt(ids[data.draw(st.integers(0, len(ids) - 1))])
        if choice == 4:
            return b"%d" % data.draw(st.integers(0, self.next_ms[k] + 2))
        return data.draw(
            st.sampled_from([b"-", b"+", b"0-0", b"bad", b"(3", b"18446744073709551615-18446744073709551615"])
        )

    # ------------------------------------------------------------ writes

    @rule(
        k=KEYS,
        gap=st.sampled_from([0, 1, 1, 2, 5]),
        star=st.booleans(),
        fv=st.lists(st.tuples(FIELDS, VALUES), min_size=1, max_size=3),
        trim=st.sampled_from([None, None, b"MAXLEN", b"MINID"]),
        op=st.sampled_from([b"", b"=", b"~", b"~"]),
        thr=st.integers(0, 12),
        limit=st.sampled_from([None, None, b"0", b"1", b"3"]),
        nomk=st.booleans(),
    )
    def xadd(self, k, gap, star, fv, trim, op, thr, limit, nomk):
        ms = self.next_ms[k] + gap
        args = [b"XADD", k]
        if nomk and gap == 5:
            args.append(b"NOMKSTREAM")
        if trim is not None:
            args.append(trim)
            if op:
                args.append(op)
            args.append(b"%d" % (thr if trim == b"MAXLEN" else max(0, ms - thr)))
            if limit is not None:
                args += [b"LIMIT", limit]
        args.append(b"%d-*" % ms if star else b"%d-%d" % (ms, gap))
        for f, v in fv:
            args += [f, v]
        reply = self.same(*args)
        if reply.startswith(b"$") and not reply.startswith(b"$-1"):
            sid = tuple(int(x) for x in reply.split(b"\r\n")[1].split(b"-"))
            self.known[k].append(sid)  # type: ignore[arg-type]
            self.next_ms[k] = max(self.next_ms[k], sid[0])

    @rule(k=KEYS, data=st.data(), n=st.integers(1, 3))
    def xdel(self, k, data, n):
        self.same(b"XDEL", k, *[self.some_id(k, data) for _ in range(n)])

    @rule(
        k=KEYS,
        trim=st.sampled_from([b"MAXLEN", b"MINID"]),
        op=st.sampled_from([b"", b"=", b"~", b"~"]),
        thr=st.integers(0, 15),
        limit=st.sampled_from([None, None, b"0", b"2", b"-1"]),
    )
    def xtrim(self, k, trim, op, thr, limit):
        args = [b"XTRIM", k, trim, *([op] if op else [])]
        args.append(b"%d" % (thr if trim == b"MAXLEN" else max(0, self.next_ms[k] - thr)))
        if limit is not None:
            args += [b"LIMIT", limit]
        self.same(*args)

    @rule(
        k=KEYS,
        data=st.data(),
        ahead=st.sampled_from([0, 0, 1, 3]),
        ea=st.sampled_from([None, b"0", b"3", b"50"]),
        md=st.sampled_from([None, b"0", b"1", b"2-0"]),
    )
    def xsetid(self, k, data, ahead, ea, md):
        sid = b"%d-%d" % (self.next_ms[k] + ahead, ahead) if data.draw(st.booleans()) else self.some_id(k, data)
        args = [b"XSETID", k, sid]
        if ea is not None:
            args += [b"ENTRIESADDED", ea]
        if md is not None:
            args += [b"MAXDELETEDID", md]
        if self.same(*args) == b"+OK\r\n" and sid[:1].isdigit():
            self.next_ms[k] = max(self.next_ms[k], int(sid.split(b"-")[0]))

    # ------------------------------------------------------------ reads

    @rule(k=KEYS, data=st.data(), rev=st.booleans(), count=COUNTS, ex=st.sampled_from([b"", b"", b"("]))
    def xrange(self, k, data, rev, count, ex):
        a, b = self.some_id(k, data), self.some_id(k, data)
        if ex and a[:1].isdigit():
            a = ex + a
        args = [b"XREVRANGE" if rev else b"XRANGE", k, a, b]
        if count is not None:
            args += [b"COUNT", count]
        self.same(*args)

    @rule(k=KEYS)
    def whole(self, k):
        self.same(b"XLEN", k)
        self.same(b"XRANGE", k, b"-", b"+")
        self.same(b"EXISTS", k)
        self.same(b"DUMP", k)


@pytest.fixture
def machine(servers):
    real, ours = servers
    CompareStreams.real_port = real.port
    CompareStreams.our_port = ours.port
    return CompareStreams


def test_random_stream_sequences_match_redis(machine):
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=300,
            stateful_step_count=60,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
