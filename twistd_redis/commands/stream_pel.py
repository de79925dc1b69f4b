"""Stream commands (Redis 7.0's t_stream.c), part 3: the pending entries list.

XPENDING (summary and extended forms), XCLAIM and XAUTOCLAIM, as Redis 7.0.15 runs them:

* Claiming looks the claiming consumer up (creating it: dirty + ``xgroup-createconsumer``) only
  when an entry is actually claimed, and that lookup refreshes its seen-time; a call that claims
  nothing leaves the consumers alone.
* An ID still pending but deleted from the stream is dropped from the PEL (7.0): XCLAIM skips it
  from the reply, XAUTOCLAIM lists it in its third reply element (and counts it against COUNT).
* Neither command touches WATCH (7.0.15 calls no signalModifiedKey here) nor fires any keyspace
  event besides the consumer creation.
* Propagation: each claimed or dropped NACK goes out as ``streamPropagateXCLAIM`` writes it,
  ``XCLAIM key group <owner> 0 <id> TIME <ms> RETRYCOUNT <n> FORCE JUSTID LASTID <group-last-id>``
  (XCLAIM uses the ID argument as the client typed it, XAUTOCLAIM the formatted ID); an XCLAIM
  whose LASTID raised the group's last ID but claimed nothing propagates ``XGROUP SETID key group
  <id> ENTRIESREAD <n>``. The command itself is never propagated; several ops go out in
  MULTI/EXEC (the state wraps them). ``dirty`` grows by one per op (and per created consumer).

That propagated XCLAIM form (FORCE creates the NACK when the entry exists, TIME and RETRYCOUNT
set the delivery time and count, JUSTID skips the entry read) is also how XREADGROUP's deliveries
reach a replica, so a replica's PEL follows its master's.
"""

from __future__ import annotations

from typing import Any

from ..client import Client
from ..datatypes.stream import RedisStream, StreamCG, StreamConsumer, StreamNACK, format_id
from ..errors import RedisError, WrongTypeError, syntax_error
from ..resp import NULL_ARRAY
from .args import option_word, parse_int
from .streams import decr_id, entry_reply, incr_id, lookup_stream, parse_id, parse_interval_id
from .table import FAST, READONLY, WRITE, command

LONG_MAX = 2**63 - 1
# xautoclaimCommand (7.0.5+): COUNT is capped so count * attempts factor / sizeof(streamID) fit
XAUTOCLAIM_MAX_COUNT = LONG_MAX // max(16, 10)
XAUTOCLAIM_ATTEMPTS_FACTOR = 10


def _cstr(b: bytes) -> str:
    """An argument as Redis's ``%s`` prints it: up to its first NUL byte."""
    return b.split(b"\0", 1)[0].decode("utf-8", "replace")


def _nogroup(key: bytes, group: bytes) -> RedisError:
    return RedisError(f"NOGROUP No such key '{_cstr(key)}' or consumer group '{_cstr(group)}'")


def _lookup_group(c: Client, key: bytes, group: bytes) -> tuple[RedisStream, StreamCG]:
    """lookupKeyRead + checkType + streamLookupCG, or the NOGROUP error."""
    s = lookup_stream(c, key)
    cg = s.groups.get(group) if s is not None else None
    if cg is None:
        raise _nogroup(key, group)
    assert s is not None
    return s, cg


def _claiming_consumer(c: Client, key: bytes, cg: StreamCG, name: bytes, now: int) -> StreamConsumer:
    """streamLookupConsumer(SLC_DEFAULT) refreshing seen-time, else streamCreateConsumer
    (SCC_DEFAULT: dirty and the ``xgroup-createconsumer`` event)."""
    consumer = cg.consumers.get(name)
    if consumer is not None:
        consumer.seen_time = consumer.active_time = now
        return consumer
    consumer = cg.create_consumer(name, now)
    assert consumer is not None
    state = c.state
    state.dirty += 1
    state.notify_keyspace_event("t", b"xgroup-createconsumer", key, c.db.id)
    return consumer


def _xclaim_argv(key: bytes, group: bytes, cg: StreamCG, id_arg: bytes, nack: StreamNACK) -> list[bytes]:
    """streamPropagateXCLAIM: the idempotent XCLAIM that recreates ``nack`` on a replica."""
    assert nack.consumer is not None
    return [
        b"XCLAIM",
        key,
        group,
        nack.consumer.name,
        b"0",
        id_arg,
        b"TIME",
        b"%d" % nack.delivery_time,
        b"RETRYCOUNT",
        b"%d" % nack.delivery_count,
        b"FORCE",
        b"JUSTID",
        b"LASTID",
        format_id(cg.last_id),
    ]


def _transfer(cg: StreamCG, sid: tuple[int, int], nack: StreamNACK, consumer: StreamConsumer) -> None:
    """Move ``nack`` (already in the group PEL) to ``consumer``'s PEL."""
    if nack.consumer is not consumer:
        if nack.consumer is not None:
            nack.consumer.pel.pop(sid, None)
        consumer.pel[sid] = nack
        nack.consumer = consumer


def _drop_nack(cg: StreamCG, sid: tuple[int, int], nack: StreamNACK) -> None:
    """Release a NACK whose entry is gone from the stream (both PELs)."""
    cg.pel.pop(sid, None)
    if nack.consumer is not None:
        nack.consumer.pel.pop(sid, None)


# ------------------------------------------------------------------ XPENDING


@command("xpending", arity=-3, flags=READONLY, keys=(1, 1, 1), group="stream")
def xpending_command(c: Client, argv: list[bytes]) -> Any:
    """XPENDING key group [[IDLE min-idle-time] start end count [consumer]]"""
    argc = len(argv)
    justinfo = argc == 3
    if argc != 3 and (argc < 6 or argc > 9):
        raise syntax_error()
    minidle = 0
    count = 0
    consumername = None
    start = end = (0, 0)
    if argc >= 6:
        startidx = 3
        if option_word(argv[3]) == b"idle":
            v = parse_int(argv[4])
            if v is None:
                raise RedisError("ERR value is not an integer or out of range")
            minidle = v
            if argc < 8:
                raise syntax_error()
            startidx += 2
        v = parse_int(argv[startidx + 2])
        if v is None:
            raise RedisError("ERR value is not an integer or out of range")
        count = max(v, 0)
        start, startex = parse_interval_id(argv[startidx], 0)
        if startex:
            nxt = incr_id(start)
            if nxt is None:
                raise RedisError("ERR invalid start ID for the interval")
            start = nxt
        end, endex = parse_interval_id(argv[startidx + 1], (1 << 64) - 1)
        if endex:
            prv = decr_id(end)
            if prv is None:
                raise RedisError("ERR invalid end ID for the interval")
            end = prv
        if startidx + 3 < argc:
            consumername = argv[startidx + 3]

    _, cg = _lookup_group(c, argv[1], argv[2])
    if justinfo:
        pel = cg.pel
        if not pel:
            return [0, None, None, NULL_ARRAY]
        owners = [[name, b"%d" % len(cons.pel)] for name, cons in cg.consumers.items() if cons.pel]
        return [len(pel), format_id(pel.peekitem(0)[0]), format_id(pel.peekitem(-1)[0]), owners]

    if consumername is not None:
        consumer = cg.consumers.get(consumername)  # SLC_NO_REFRESH: seen-time untouched
        if consumer is None:
            return []
        pel = consumer.pel
    else:
        pel = cg.pel
    now = c.state.mstime
    out: list[Any] = []
    if not count or start > end:
        return out
    for sid in pel.irange(start, end):
        nack = pel[sid]
        if minidle and now - nack.delivery_time < minidle:
            continue
        elapsed = now - nack.delivery_time
        out.append([format_id(sid), nack.consumer.name, max(0, elapsed), nack.delivery_count])
        count -= 1
        if not count:
            break
    return out


# ------------------------------------------------------------------ XCLAIM


def _getll(arg: bytes, error: str) -> int:
    v = parse_int(arg)
    if v is None:
        raise RedisError(error)
    return v


@command("xclaim", arity=-6, flags=WRITE | FAST, keys=(1, 1, 1), group="stream")
def xclaim_command(c: Client, argv: list[bytes]) -> Any:
    """XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-ms]
    [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]"""
    state = c.state
    key, gname, cname = argv[1], argv[2], argv[3]
    s, cg = _lookup_group(c, key, gname)
    minidle = max(_getll(argv[4], "ERR Invalid min-idle-time argument for XCLAIM"), 0)

    # The IDs first (all or nothing): the first argument that is no strict ID starts the options.
    argc = len(argv)
    ids: list[tuple[int, int]] = []
    j = 5
    while j < argc:
        try:
            ids.append(parse_id(argv[j], 0, strict=True))
        except RedisError:
            break
        j += 1

    now = state.mstime
    retrycount = -1
    deliverytime = -1
    force = justid = False
    last_id = (0, 0)
    while j < argc:
        moreargs = argc - 1 - j
        opt = option_word(argv[j])
        if opt == b"force":
            force = True
        elif opt == b"justid":
            justid = True
        elif opt == b"idle" and moreargs:
            j += 1
            deliverytime = now - _getll(argv[j], "ERR Invalid IDLE option argument for XCLAIM")
        elif opt == b"time" and moreargs:
            j += 1
            deliverytime = _getll(argv[j], "ERR Invalid TIME option argument for XCLAIM")
        elif opt == b"retrycount" and moreargs:
            j += 1
            retrycount = _getll(argv[j], "ERR Invalid RETRYCOUNT option argument for XCLAIM")
        elif opt == b"lastid" and moreargs:
            j += 1
            last_id = parse_id(argv[j], 0, strict=True)
        else:
            raise RedisError(f"ERR Unrecognized XCLAIM option '{_cstr(argv[j])}'")
        j += 1

    propagate_last_id = False
    if last_id > cg.last_id:
        cg.last_id = last_id
        propagate_last_id = True

    # A bogus delivery time (negative, or in the future) is "now", as Redis does.
    if deliverytime < 0 or deliverytime > now:
        deliverytime = now

    consumer: StreamConsumer | None = None
    reply: list[Any] = []
    props: list[list[bytes]] = []
    pel = cg.pel
    for n, sid in enumerate(ids):
        id_arg = argv[5 + n]
        nack = pel.get(sid)
        fields = s.entries.get(sid)
        if fields is None:
            # The entry is gone: drop its NACK (7.0), propagating the drop.
            if nack is not None:
                props.append(_xclaim_argv(key, gname, cg, id_arg, nack))
                propagate_last_id = False
                state.dirty += 1
                _drop_nack(cg, sid, nack)
            continue
        if nack is None:
            if not force:
                continue
            nack = StreamNACK(None, now, 1)  # streamCreateNACK(NULL)
            pel[sid] = nack
        # A NACK just made by FORCE has no owner and ignores min-idle-time.
        if nack.consumer is not None and minidle and now - nack.delivery_time < minidle:
            continue
        if consumer is None:
            consumer = _claiming_consumer(c, key, cg, cname, now)
        _transfer(cg, sid, nack, consumer)
        nack.delivery_time = deliverytime
        if retrycount >= 0:
            nack.delivery_count = retrycount
        elif not justid:
            nack.delivery_count += 1
        reply.append(format_id(sid) if justid else entry_reply(sid, fields))
        props.append(_xclaim_argv(key, gname, cg, id_arg, nack))
        propagate_last_id = False
        state.dirty += 1

    if propagate_last_id:
        # streamPropagateGroupID
        props.append([b"XGROUP", b"SETID", key, gname, format_id(cg.last_id), b"ENTRIESREAD", b"%d" % cg.entries_read])
        state.dirty += 1
    state.rewrite_propagation(*props)
    return reply


# ------------------------------------------------------------------ XAUTOCLAIM


@command("xautoclaim", arity=-6, flags=WRITE | FAST, keys=(1, 1, 1), group="stream")
def xautoclaim_command(c: Client, argv: list[bytes]) -> Any:
    """XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]"""
    state = c.state
    key, gname, cname = argv[1], argv[2], argv[3]
    # xautoclaimCommand looks the key up first (a keyspace hit/miss even when an argument is
    # bad), and checks its type only after parsing the arguments.
    o = c.db.lookup_read(key)
    minidle = max(_getll(argv[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM"), 0)
    start, startex = parse_interval_id(argv[5], 0)
    if startex:
        nxt = incr_id(start)
        if nxt is None:
            raise RedisError("ERR invalid start ID for the interval")
        start = nxt

    count = 100
    justid = False
    argc = len(argv)
    j = 6
    while j < argc:
        moreargs = argc - 1 - j
        opt = option_word(argv[j])
        if opt == b"count" and moreargs:
            v = parse_int(argv[j + 1])
            if v is None or v < 1 or v > XAUTOCLAIM_MAX_COUNT:
                raise RedisError("ERR COUNT must be > 0")
            count = v
            j += 1
        elif opt == b"justid":
            justid = True
        else:
            raise syntax_error()
        j += 1

    if o is not None and type(o) is not RedisStream:
        raise WrongTypeError()
    cg = o.groups.get(gname) if o is not None else None
    if cg is None:
        raise _nogroup(key, gname)
    s: RedisStream = o

    attempts = count * XAUTOCLAIM_ATTEMPTS_FACTOR
    now = state.mstime
    pel = cg.pel
    idx = pel.bisect_left(start)
    consumer: StreamConsumer | None = None
    claimed: list[Any] = []
    deleted: list[bytes] = []
    props: list[list[bytes]] = []
    while attempts and count:
        attempts -= 1
        if idx >= len(pel):
            break
        sid, nack = pel.peekitem(idx)
        fields = s.entries.get(sid)
        if fields is None:
            # Gone from the stream: drop the NACK (propagated), report its ID, count it.
            idstr = format_id(sid)
            props.append(_xclaim_argv(key, gname, cg, idstr, nack))
            state.dirty += 1
            _drop_nack(cg, sid, nack)
            deleted.append(idstr)
            count -= 1
            continue  # idx now points at the next PEL entry
        if minidle and now - nack.delivery_time < minidle:
            idx += 1
            continue
        if consumer is None:
            consumer = _claiming_consumer(c, key, cg, cname, now)
        _transfer(cg, sid, nack, consumer)
        nack.delivery_time = now
        if not justid:
            nack.delivery_count += 1
        idstr = format_id(sid)
        claimed.append(idstr if justid else entry_reply(sid, fields))
        count -= 1
        props.append(_xclaim_argv(key, gname, cg, idstr, nack))
        state.dirty += 1
        idx += 1

    cursor = format_id(pel.peekitem(idx)[0]) if idx < len(pel) else b"0-0"
    state.rewrite_propagation(*props)
    return [cursor, claimed, deleted]
