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

from collections.abc import Iterable
from typing import Any

from ..client import Client
from ..datatypes.stream import MAX_ID, UINT64_MAX, RedisStream, format_id
from ..errors import RedisError, WrongTypeError

ERR_INVALID_ID = "ERR Invalid stream ID specified as stream command argument"


# ------------------------------------------------------------------ shared helpers


def _string2ull(s: bytes) -> int | None:
    """string2ull: string2ll (no sign games, no spaces) and, failing that, strtoull's
    leniency (leading spaces, a ``+``); negative values are refused."""
    try:
        v = int(s)
    except ValueError:
        return None
    if not s:
        return None
    # int() accepts forms strtoull does not (underscores, trailing spaces): be strict on them
    if b"_" in s or s[-1:].isspace():
        return None
    if v < 0 or v > UINT64_MAX:
        return None
    return v


def parse_id(arg: bytes, missing_seq: int = 0, strict: bool = False) -> tuple[int, int]:
    """streamGenericParseIDOrReply (no ``<ms>-*``): see the module docstring."""
    if len(arg) > 127:
        raise RedisError(ERR_INVALID_ID)
    if arg == b"-":
        if strict:
            raise RedisError(ERR_INVALID_ID)
        return (0, 0)
    if arg == b"+":
        if strict:
            raise RedisError(ERR_INVALID_ID)
        return MAX_ID
    ms_part, dash, seq_part = arg.partition(b"-")
    ms = _string2ull(ms_part)
    if ms is None:
        raise RedisError(ERR_INVALID_ID)
    if dash:
        seq = _string2ull(seq_part)
        if seq is None:
            raise RedisError(ERR_INVALID_ID)
    else:
        seq = missing_seq
    return (ms, seq)


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
    return [[format_id(sid), fields] for sid, fields in pairs]


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
