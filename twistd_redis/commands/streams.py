"""Stream commands (Redis 7.0's t_stream.c), part 1: the shared helpers every stream command
module uses, and XADD XLEN XRANGE XREVRANGE XDEL XTRIM XSETID.

The other stream modules import their ID parsing and reply shapes from here:

* ``stream_groups.py``  XREAD XREADGROUP (blocking) XGROUP * XACK
* ``stream_pel.py``     XPENDING XCLAIM XAUTOCLAIM
* ``stream_info.py``    XINFO STREAM [FULL [COUNT n]] / GROUPS / CONSUMERS / HELP

The value is a ``datatypes.stream.RedisStream`` (entries in a SortedDict by ``(ms, seq)``,
groups, consumers, PELs). Keyspace events use the type letter ``"t"``.

Shared helpers (stable interface):

``parse_id(arg, missing_seq=0, strict=False) -> (ms, seq)``
    streamGenericParseIDOrReply without the ``<ms>-*`` form: ``-`` is 0-0, ``+`` is the max
    ID (refused with ``strict``), ``<ms>`` alone takes ``missing_seq``. Raises
    ``RedisError(ERR_INVALID_ID)``.
``parse_interval_id(arg, missing_seq) -> ((ms, seq), exclusive)``
    streamParseIntervalIDOrReply: a leading ``(`` (on an argument longer than one byte) makes
    the bound exclusive and the rest is parsed strictly.
``incr_id(sid)`` / ``decr_id(sid)``
    streamIncrID / streamDecrID: the next / previous ID, ``None`` past the ends.
``lookup_stream(c, key, write=False) -> RedisStream | None``
    lookupKeyRead / lookupKeyWrite + the type check (WRONGTYPE).
``entry_reply(sid, fields)`` / ``entries_reply(pairs)``
    one entry as ``[b"ms-seq", [f1, v1, ...]]``, the same in RESP2 and RESP3.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import islice
from typing import Any

from ..client import CLIENT_MASTER, Client
from ..datatypes.stream import MAX_ID, MIN_ID, UINT64_MAX, RedisStream, format_id
from ..errors import RedisError, WrongTypeError, syntax_error
from ..resp import NULL_ARRAY, OK, EntryList
from .args import parse_int, to_int
from .table import DENYOOM, FAST, READONLY, WRITE, command

ERR_INVALID_ID = "ERR Invalid stream ID specified as stream command argument"


# ------------------------------------------------------------------ shared helpers


_STRTOULL = re.compile(rb"[ \t\n\v\f\r]*([+-]?)([0-9]+)")


def _cstr(b: bytes) -> bytes:
    """The argument as C code sees it through ``ptr``: cut at the first NUL."""
    n = b.find(b"\0")
    return b if n < 0 else b[:n]


def _string2ull(s: bytes) -> int | None:
    """util.c string2ull: string2ll (negative values refused) and, failing that, strtoull's
    leniency (leading whitespace, a sign: ``+5`` is 5, `` -1`` wraps to 2**64-1, ``-0`` is 0);
    None when out of range or with trailing junk."""
    v = parse_int(s)
    if v is not None:
        return None if v < 0 else v
    m = _STRTOULL.fullmatch(s)
    if m is None:
        return None
    v = int(m.group(2))
    if v > UINT64_MAX:
        return None  # ERANGE
    if m.group(1) == b"-":
        v = -v & UINT64_MAX
    return v


def _parse_id(arg: bytes, missing_seq: int, strict: bool, seq_star: bool) -> tuple[tuple[int, int], bool]:
    """streamGenericParseIDOrReply: (id, seq_given). ``seq_star`` allows ``<ms>-*`` (XADD)."""
    if len(arg) > 127:
        raise RedisError(ERR_INVALID_ID)
    buf = _cstr(arg)
    if buf == b"-" or buf == b"+":
        if strict:
            raise RedisError(ERR_INVALID_ID)
        return ((0, 0) if buf == b"-" else MAX_ID), True
    ms_part, dash, seq_part = buf.partition(b"-")
    ms = _string2ull(ms_part)
    if ms is None:
        raise RedisError(ERR_INVALID_ID)
    if not dash:
        return (ms, missing_seq), True
    if seq_star and seq_part == b"*":
        return (ms, 0), False
    seq = _string2ull(seq_part)
    if seq is None:
        raise RedisError(ERR_INVALID_ID)
    return (ms, seq), True


def parse_id(arg: bytes, missing_seq: int = 0, strict: bool = False) -> tuple[int, int]:
    """streamGenericParseIDOrReply (no ``<ms>-*``): see the module docstring. The argument is
    read as a C string (cut at a NUL), at most 127 bytes; each part parses as string2ull."""
    return _parse_id(arg, missing_seq, strict, False)[0]


def parse_interval_id(arg: bytes, missing_seq: int) -> tuple[tuple[int, int], bool]:
    """streamParseIntervalIDOrReply: ``(id`` is exclusive."""
    if len(arg) > 1 and arg[:1] == b"(":
        return parse_id(arg[1:], missing_seq, strict=True), True
    return parse_id(arg, missing_seq), False


def incr_id(sid: tuple[int, int]) -> tuple[int, int] | None:
    """streamIncrID: None when ``sid`` is the max ID."""
    ms, seq = sid
    if seq == UINT64_MAX:
        if ms == UINT64_MAX:
            return None
        return (ms + 1, 0)
    return (ms, seq + 1)


def decr_id(sid: tuple[int, int]) -> tuple[int, int] | None:
    """streamDecrID: None when ``sid`` is 0-0."""
    ms, seq = sid
    if seq == 0:
        if ms == 0:
            return None
        return (ms - 1, UINT64_MAX)
    return (ms, seq - 1)


def lookup_stream(c: Client, key: bytes, write: bool = False) -> RedisStream | None:
    """lookupKeyRead/lookupKeyWrite + checkType(OBJ_STREAM)."""
    o = c.db.lookup_write(key) if write else c.db.lookup_read(key)
    if o is None:
        return None
    if type(o) is not RedisStream:
        raise WrongTypeError()
    return o


def entry_reply(sid: tuple[int, int], fields: list[bytes]) -> list[Any]:
    """One stream entry: ``[id, [field, value, ...]]``."""
    return [format_id(sid), fields]


def entries_reply(pairs: Iterable[tuple[tuple[int, int], list[bytes]]]) -> list[Any]:
    """Entries as XRANGE replies them."""
    return EntryList([[format_id(sid), fields] for sid, fields in pairs])


__all__ = [
    "ERR_INVALID_ID",
    "decr_id",
    "entries_reply",
    "entry_reply",
    "incr_id",
    "lookup_stream",
    "parse_id",
    "parse_interval_id",
]


# ------------------------------------------------------------------ XADD / XTRIM arguments

CLIENT_ID_AOF = (1 << 64) - 1  # the AOF loading client (persistence/aof.py)

TRIM_NONE = 0
TRIM_MAXLEN = 1
TRIM_MINID = 2


class _AddTrimArgs:
    """streamAddTrimArgs."""

    __slots__ = (
        "approx",
        "arg_idx",
        "id",
        "id_given",
        "idpos",
        "limit",
        "maxlen",
        "minid",
        "no_mkstream",
        "seq_given",
        "strategy",
    )

    def __init__(self) -> None:
        self.approx = False
        self.arg_idx = 0
        self.id = MIN_ID
        self.id_given = False
        self.idpos = 0
        self.limit = 0
        self.maxlen = -1
        self.minid = MIN_ID
        self.no_mkstream = False
        self.seq_given = False
        self.strategy = TRIM_NONE


_ERR_BOTH = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"


def _parse_add_trim(c: Client, argv: list[bytes], xadd: bool) -> _AddTrimArgs:
    """streamParseAddOrTrimArgsOrReply (Redis 7.0.15): options from argv[2] on; for XADD
    stops at the ID (``idpos``)."""
    a = _AddTrimArgs()
    n = len(argv)
    i = 2
    limit_given = False
    while i < n:
        moreargs = n - 1 - i
        opt = _cstr(argv[i])
        if xadd and opt == b"*":
            break  # the common case, auto ID
        lopt = opt.lower()
        if lopt == b"maxlen" and moreargs:
            if a.strategy != TRIM_NONE:
                raise RedisError(_ERR_BOTH)
            a.approx = False
            nxt = _cstr(argv[i + 1])
            if moreargs >= 2 and nxt == b"~":
                a.approx = True
                i += 1
            elif moreargs >= 2 and nxt == b"=":
                i += 1
            a.maxlen = to_int(argv[i + 1])
            if a.maxlen < 0:
                raise RedisError("ERR The MAXLEN argument must be >= 0.")
            i += 1
            a.strategy = TRIM_MAXLEN
            a.arg_idx = i
        elif lopt == b"minid" and moreargs:
            if a.strategy != TRIM_NONE:
                raise RedisError(_ERR_BOTH)
            a.approx = False
            nxt = _cstr(argv[i + 1])
            if moreargs >= 2 and nxt == b"~":
                a.approx = True
                i += 1
            elif moreargs >= 2 and nxt == b"=":
                i += 1
            a.minid = parse_id(argv[i + 1], 0, strict=True)
            i += 1
            a.strategy = TRIM_MINID
            a.arg_idx = i
        elif lopt == b"limit" and moreargs:
            a.limit = to_int(argv[i + 1])
            if a.limit < 0:
                raise RedisError("ERR The LIMIT argument must be >= 0.")
            limit_given = True
            i += 1
        elif xadd and lopt == b"nomkstream":
            a.no_mkstream = True
        elif xadd:
            a.id, a.seq_given = _parse_id(argv[i], 0, True, True)
            a.id_given = True
            break
        else:
            raise syntax_error()
        i += 1
    a.idpos = i
    if a.limit and a.strategy == TRIM_NONE:
        raise RedisError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
    if not xadd and a.strategy == TRIM_NONE:
        raise RedisError("ERR syntax error, XTRIM must be called with a trimming strategy")
    if c.flags & CLIENT_MASTER or c.id == CLIENT_ID_AOF:
        # mustObeyClient: the master/AOF argv was rewritten to trim exactly what we must
        a.limit = 0
    elif limit_given:
        if not a.approx:
            raise RedisError("ERR syntax error, LIMIT cannot be used without the special ~ option")
    elif a.approx:
        limit = 100 * c.state.config["stream-node-max-entries"]
        if limit <= 0:
            limit = 10000
        limit = min(limit, 1000000)
        a.limit = limit
    else:
        a.limit = 0
    return a


_AUTO_ID_ARGS = _AddTrimArgs()
_AUTO_ID_ARGS.idpos = 2


def _trim(s: RedisStream, a: _AddTrimArgs) -> int:
    if a.strategy == TRIM_MAXLEN:
        return s.trim(maxlen=a.maxlen, approx=a.approx, limit=a.limit)
    return s.trim(minid=a.minid, approx=a.approx, limit=a.limit)


def _rewrite_trim(argv: list[bytes], s: RedisStream, a: _AddTrimArgs) -> None:
    """streamRewriteApproxSpecifier + streamRewriteTrimArgument: ``~`` becomes ``=`` and the
    threshold what the stream now holds (its length; its first node entry, tombstones
    included, or the max ID when empty)."""
    argv[a.arg_idx - 1] = b"="
    if a.strategy == TRIM_MAXLEN:
        argv[a.arg_idx] = b"%d" % len(s)
    else:
        first = s.first_node_id()
        argv[a.arg_idx] = format_id(MAX_ID if first is None else first)


# ------------------------------------------------------------------ commands

_ERR_EDOM = "ERR The ID specified in XADD is equal or smaller than the target stream top item"


@command("xadd", arity=-5, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="stream")
def xadd_command(c: Client, argv: list[bytes]) -> Any:
    """XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value
    [field value ...]"""
    # the common case, no option before ``*``: the defaults (never mutated)
    a = _AUTO_ID_ARGS if argv[2] == b"*" else _parse_add_trim(c, argv, True)
    idpos = a.idpos
    field_pos = idpos + 1
    nfv = len(argv) - field_pos
    if nfv < 2 or nfv & 1:
        raise RedisError("ERR wrong number of arguments for 'xadd' command")
    if a.id_given and a.seq_given and a.id == MIN_ID:
        raise RedisError("ERR The ID specified in XADD must be greater than 0-0")
    key = argv[1]
    db = c.db
    state = c.state
    s = lookup_stream(c, key, write=True)
    if s is None:
        if a.no_mkstream:
            return None
        s = RedisStream()
        db.add(key, s)
    last = s.last_id
    if last == MAX_ID:
        raise RedisError("ERR The stream has exhausted the last possible ID, unable to add more items")
    if not a.id_given:
        # streamNextID: the clock, or last + 1 when the clock is not ahead
        ms = state.mstime
        sid = (ms, 0) if ms > last[0] else incr_id(last)
    elif a.seq_given:
        sid = a.id
    elif a.id[0] == last[0]:
        if last[1] == UINT64_MAX:
            raise RedisError("ERR Elements are too large to be stored")
        sid = (last[0], last[1] + 1)
    else:
        sid = a.id
    if sid <= last:  # type: ignore[operator]
        raise RedisError(_ERR_EDOM)
    cfg = state.config
    s.append(sid, argv[field_pos:], cfg["stream-node-max-entries"], cfg["stream-node-max-bytes"])
    reply = format_id(sid)
    state.signal_modified_key(db, key)
    state.notify_keyspace_event("t", b"xadd", key, db.id)
    state.dirty += 1
    prop = None
    if a.strategy != TRIM_NONE:
        if _trim(s, a):
            state.notify_keyspace_event("t", b"xtrim", key, db.id)
        if a.approx:
            prop = list(argv)
            _rewrite_trim(prop, s, a)
    if not a.id_given or not a.seq_given:
        if prop is None:
            prop = list(argv)
        prop[idpos] = reply
    if prop is not None:
        state.rewrite_propagation(prop)
    if state.blocking_keys:
        state.signal_key_as_ready(db, key)
    return reply


@command("xlen", arity=2, flags=READONLY | FAST, keys=(1, 1, 1), group="stream")
def xlen_command(c: Client, argv: list[bytes]) -> int:
    """XLEN key"""
    s = lookup_stream(c, argv[1])
    return 0 if s is None else len(s)


def _xrange_generic(c: Client, argv: list[bytes], rev: bool) -> Any:
    """xrangeGenericCommand."""
    startarg, endarg = (argv[3], argv[2]) if rev else (argv[2], argv[3])
    start, startex = parse_interval_id(startarg, 0)
    if startex:
        start = incr_id(start)  # type: ignore[assignment]
        if start is None:
            raise RedisError("ERR invalid start ID for the interval")
    end, endex = parse_interval_id(endarg, UINT64_MAX)
    if endex:
        end = decr_id(end)  # type: ignore[assignment]
        if end is None:
            raise RedisError("ERR invalid end ID for the interval")
    count = -1
    n = len(argv)
    j = 4
    while j < n:
        if _cstr(argv[j]).lower() == b"count" and n - j - 1 >= 1:
            count = max(to_int(argv[j + 1]), 0)
            j += 2
        else:
            raise syntax_error()
    s = lookup_stream(c, argv[1])
    if s is None:
        return []
    if count == 0:
        return NULL_ARRAY
    if start > end:
        return []
    entries = s.entries
    it = entries.irange(start, end, reverse=rev)
    return EntryList([[format_id(sid), entries[sid]] for sid in (it if count < 0 else islice(it, count))])


@command("xrange", arity=-4, flags=READONLY, keys=(1, 1, 1), group="stream")
def xrange_command(c: Client, argv: list[bytes]) -> Any:
    """XRANGE key start end [COUNT count]"""
    return _xrange_generic(c, argv, False)


@command("xrevrange", arity=-4, flags=READONLY, keys=(1, 1, 1), group="stream")
def xrevrange_command(c: Client, argv: list[bytes]) -> Any:
    """XREVRANGE key end start [COUNT count]"""
    return _xrange_generic(c, argv, True)


@command("xdel", arity=-3, flags=WRITE | FAST, keys=(1, 1, 1), group="stream")
def xdel_command(c: Client, argv: list[bytes]) -> int:
    """XDEL key id [id ...]"""
    key = argv[1]
    s = lookup_stream(c, key, write=True)
    if s is None:
        return 0
    # every ID is checked before anything is deleted
    ids = [parse_id(a, 0, strict=True) for a in argv[2:]]
    deleted = 0
    for sid in ids:
        if s.delete(sid):
            deleted += 1
    if deleted:
        db = c.db
        state = c.state
        state.signal_modified_key(db, key)
        state.notify_keyspace_event("t", b"xdel", key, db.id)
        state.dirty += deleted
    return deleted


@command("xtrim", arity=-4, flags=WRITE, keys=(1, 1, 1), group="stream")
def xtrim_command(c: Client, argv: list[bytes]) -> int:
    """XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]"""
    a = _parse_add_trim(c, argv, False)
    key = argv[1]
    s = lookup_stream(c, key, write=True)
    if s is None:
        return 0
    deleted = _trim(s, a)
    if deleted:
        db = c.db
        state = c.state
        state.notify_keyspace_event("t", b"xtrim", key, db.id)
        if a.approx:
            prop = list(argv)
            _rewrite_trim(prop, s, a)
            state.rewrite_propagation(prop)
        state.signal_modified_key(db, key)
        state.dirty += deleted
    return deleted


@command("xsetid", arity=-3, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="stream")
def xsetid_command(c: Client, argv: list[bytes]) -> Any:
    """XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]"""
    sid = parse_id(argv[2], 0, strict=True)
    entries_added = -1
    max_xdel = MIN_ID
    n = len(argv)
    i = 3
    while i < n:
        moreargs = n - 1 - i
        opt = _cstr(argv[i]).lower()
        if opt == b"entriesadded" and moreargs:
            entries_added = to_int(argv[i + 1])
            if entries_added < 0:
                raise RedisError("ERR entries_added must be positive")
            i += 2
        elif opt == b"maxdeletedid" and moreargs:
            max_xdel = parse_id(argv[i + 1], 0, strict=True)
            if sid < max_xdel:
                raise RedisError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
            i += 2
        else:
            raise syntax_error()
    key = argv[1]
    s = lookup_stream(c, key, write=True)
    if s is None:
        raise RedisError("ERR no such key")
    if len(s):
        if sid < s.last_valid_id():
            raise RedisError("ERR The ID specified in XSETID is smaller than the target stream top item")
        if entries_added != -1 and len(s) > entries_added:
            raise RedisError("ERR The entries_added specified in XSETID is smaller than the target stream length")
    s.last_id = sid
    if entries_added != -1:
        s.entries_added = entries_added
    if max_xdel != MIN_ID:
        s.max_deleted_entry_id = max_xdel
    db = c.db
    state = c.state
    state.signal_modified_key(db, key)
    state.notify_keyspace_event("t", b"xsetid", key, db.id)
    state.dirty += 1
    return OK
