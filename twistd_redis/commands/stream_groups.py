"""Stream commands (Redis 7.0's t_stream.c), part 2: XREAD, XREADGROUP (both can block),
XGROUP CREATE / SETID / DESTROY / CREATECONSUMER / DELCONSUMER / HELP, and XACK.

Behaviour checked against a real redis-server 7.0.15 (replies, errors, events, dirty,
propagation as seen by a replica):

* XREAD / XREADGROUP serve every key that has something for them at once (XREADGROUP ``>``
  when the stream's last live entry is past the group's last ID; a history ID always). A
  consumer is looked up (seen-time refreshed) or created - ``xgroup-createconsumer``, +1
  dirty - only for a key actually served; each group key served adds 1 to dirty.
* XREADGROUP never propagates itself (Redis's preventCommandPropagation): each delivered
  entry goes out as ``XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID
  id`` (streamPropagateXCLAIM); with NOACK the moved group goes out as ``XGROUP SETID key
  group id ENTRIESREAD n``, preceded by ``XGROUP CREATECONSUMER key group consumer`` when this
  read created the consumer (XCLAIM creates it on the replica otherwise). History reads and
  empty reads propagate nothing. Several ops go out as one MULTI/EXEC (the state wraps them).
* Group and PEL changes do not touch WATCHed keys (7.0.15 calls no signalModifiedKey for
  them; only MKSTREAM's new key does). XACK fires no event.
* Blocking (BLOCK ms, 0 = forever): the client waits on its keys (blocking.py) with the IDs
  resolved at call time (``$`` = the stream's last ID then); an XADD wakes it and
  ``_serve_blocked`` answers as serveClientsBlockedOnStreamKey: one key, at most COUNT entries
  (1000 when COUNT was not given). A blocked XREADGROUP always reads past the group's current
  last ID; when its group is destroyed it gets ``-NOGROUP the consumer group this client was
  blocked on no longer exists``; when its key is deleted, flushed, swapped away or replaced by
  another type it gets ``-UNBLOCKED the stream key no longer exists`` (the Waiter's
  ``serve_deleted`` opt-in). A blocked XREAD stays blocked through all of these. A timeout
  answers a null array (``*-1`` / RESP3 ``_``); inside MULTI nobody blocks.
* RESP2 replies ``[[key, entries], ...]``, RESP3 a map ``key -> entries``.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from ..blocking import NOT_READY, UNIT_MS, block_for_keys, parse_timeout
from ..client import CLIENT_DENY_BLOCKING, CLIENT_SCRIPT, Client
from ..datatypes.stream import (
    MAX_ID,
    SCG_INVALID_ENTRIES_READ,
    RedisStream,
    StreamCG,
    StreamConsumer,
    format_id,
)
from ..errors import RedisError, err, syntax_error
from ..resp import NULL_ARRAY, OK, EntryList, MapPairs
from .args import parse_int, to_int
from .streams import incr_id, lookup_stream, parse_id
from .table import (
    BLOCKING,
    DENYOOM,
    FAST,
    LOADING,
    MOVABLE_KEYS,
    READONLY,
    STALE,
    WRITE,
    command,
    container,
    help_reply,
)

XREAD_BLOCKED_DEFAULT_COUNT = 1000

ERR_NOGROUP_BLOCKED = "NOGROUP the consumer group this client was blocked on no longer exists"
ERR_KEY_DELETED = "UNBLOCKED the stream key no longer exists"


# ------------------------------------------------------------------ reading with a group


class _Read:
    """One XREAD/XREADGROUP call's parsed options (kept by a blocked client)."""

    __slots__ = ("consumer", "count", "group", "ids", "keys", "noack", "xreadgroup")

    def __init__(self) -> None:
        self.count = 0
        self.noack = False
        self.group: bytes | None = None
        self.consumer: bytes | None = None
        self.keys: list[bytes] = []
        self.ids: list[tuple[int, int]] = []
        self.xreadgroup = False


def _lookup_consumer(c: Client, cg: StreamCG, name: bytes, key: bytes) -> tuple[StreamConsumer, bool]:
    """streamLookupConsumer (refreshing seen-time) or streamCreateConsumer (+1 dirty,
    ``xgroup-createconsumer``). Returns (consumer, created)."""
    state = c.state
    consumer = cg.consumers.get(name)
    if consumer is None:
        consumer = cg.create_consumer(name, state.mstime)
        state.dirty += 1
        state.notify_keyspace_event("t", b"xgroup-createconsumer", key, c.db.id)
        return consumer, True
    consumer.seen_time = state.mstime
    return consumer, False


def _xclaim_argv(key: bytes, group: bytes, cg: StreamCG, sid: tuple[int, int], nack: Any) -> list[bytes]:
    """streamPropagateXCLAIM."""
    return [
        b"XCLAIM", key, group, nack.consumer.name, b"0", format_id(sid),
        b"TIME", b"%d" % nack.delivery_time, b"RETRYCOUNT", b"%d" % nack.delivery_count,
        b"FORCE", b"JUSTID", b"LASTID", format_id(cg.last_id),
    ]  # fmt: skip


def _setid_argv(key: bytes, group: bytes, cg: StreamCG) -> list[bytes]:
    """streamPropagateGroupID."""
    return [b"XGROUP", b"SETID", key, group, format_id(cg.last_id), b"ENTRIESREAD", b"%d" % cg.entries_read]


def reply_with_range(
    c: Client,
    s: RedisStream,
    key: bytes,
    start: tuple[int, int],
    count: int,
    group: bytes | None = None,
    cg: StreamCG | None = None,
    consumer: StreamConsumer | None = None,
    noack: bool = False,
    created: bool = False,
    props: list[list[bytes]] | None = None,
) -> list[Any]:
    """streamReplyWithRange for XREAD/XREADGROUP ``>``: entries from ``start`` on (at most
    ``count``, 0 = all); with a group, the group's last ID / entries-read move and each entry
    gets a NACK (unless ``noack``). The ops to propagate are appended to ``props``."""
    entries = s.entries
    if cg is None:  # XREAD: a plain range read
        it = entries.irange(minimum=start)
        return EntryList([[format_id(sid), entries[sid]] for sid in (islice(it, count) if count else it)])
    out: list[Any] = EntryList()
    now = c.state.mstime
    moved = False
    for sid in entries.irange(minimum=start):
        fields = entries[sid]
        if sid > cg.last_id:
            if cg.entries_read != SCG_INVALID_ENTRIES_READ and not s.range_has_tombstones(sid, None):
                cg.entries_read += 1
            elif s.entries_added:
                cg.entries_read = s.estimate_distance_from_first_ever_entry(sid)
            cg.last_id = sid
            if noack:
                moved = True
        out.append([format_id(sid), fields])
        if not noack:
            assert consumer is not None
            # a new NACK, or (XGROUP SETID moved the group back) the pending one reassigned
            # to this consumer with its delivery count reset, as streamReplyWithRange
            nack = cg.add_pending(sid, consumer, now, 1)
            if props is not None:
                props.append(_xclaim_argv(key, group, cg, sid, nack))  # type: ignore[arg-type]
        if count and len(out) == count:
            break
    if moved and props is not None:
        if created:
            props.append([b"XGROUP", b"CREATECONSUMER", key, group, consumer.name])  # type: ignore[list-item,union-attr]
        props.append(_setid_argv(key, group, cg))  # type: ignore[arg-type]
    return out


def reply_from_consumer_pel(
    c: Client, s: RedisStream, start: tuple[int, int], count: int, consumer: StreamConsumer
) -> list[Any]:
    """streamReplyWithRangeFromConsumerPEL: the consumer's pending entries from ``start``;
    a pending ID whose entry is gone shows as ``[id, null]``; each delivery bumps the NACK."""
    out: list[Any] = EntryList()
    now = c.state.mstime
    for sid in list(consumer.pel.irange(minimum=start)):
        if count and len(out) >= count:
            break
        fields = s.entries.get(sid)
        if fields is None:
            out.append([format_id(sid), NULL_ARRAY])
        else:
            nack = consumer.pel[sid]
            nack.delivery_time = now
            nack.delivery_count += 1
            out.append([format_id(sid), fields])
    return out


def _parse_read(c: Client, argv: list[bytes], xreadgroup: bool) -> tuple[_Read, int]:
    """xreadCommand's argument loop. Returns the options and the timeout (-1: no BLOCK)."""
    r = _Read()
    r.xreadgroup = xreadgroup
    timeout = -1
    streams_arg = 0
    argc = len(argv)
    i = 1
    while i < argc:
        moreargs = argc - i - 1
        o = argv[i].lower()
        if o == b"block" and moreargs:
            if c.flags & CLIENT_SCRIPT:  # BLOCK makes no sense in a script (kept apart from DENY_BLOCKING)
                raise err("%s command is not allowed with BLOCK option from scripts" % argv[0].decode("utf-8", "replace"))
            i += 1
            timeout = parse_timeout(argv[i], UNIT_MS)
        elif o == b"count" and moreargs:
            i += 1
            r.count = max(to_int(argv[i]), 0)
        elif o == b"streams" and moreargs:
            streams_arg = i + 1
            n = argc - streams_arg
            if n % 2:
                # 7.0.15 says XREAD and '$' for XREADGROUP too
                raise err("Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
            n //= 2
            r.keys = argv[streams_arg : streams_arg + n]
            break
        elif o == b"group" and moreargs >= 2:
            if not xreadgroup:
                raise err("The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
            r.group = argv[i + 1]
            r.consumer = argv[i + 2]
            i += 2
        elif o == b"noack":
            if not xreadgroup:
                raise err("The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
            r.noack = True
        else:
            raise syntax_error()
        i += 1
    if not streams_arg:
        raise syntax_error()
    if xreadgroup and r.group is None:
        raise err("Missing GROUP option for XREADGROUP")
    return r, timeout


def _xread_generic(c: Client, argv: list[bytes], xreadgroup: bool) -> Any:
    """xreadCommand."""
    r, timeout = _parse_read(c, argv, xreadgroup)
    state = c.state
    state.rewrite_propagation()  # only the ops of streamReplyWithRange go out
    nkeys = len(r.keys)
    id_args = argv[len(argv) - nkeys :]
    streams: list[RedisStream | None] = []
    groups: list[StreamCG | None] = []
    for key, arg in zip(r.keys, id_args):
        s = lookup_stream(c, key)
        cg = None
        if r.group is not None and (s is None or (cg := s.groups.get(r.group)) is None):
            raise RedisError(
                "NOGROUP No such key '%s' or consumer group '%s' in XREADGROUP with GROUP option"
                % (key.decode("utf-8", "replace"), r.group.decode("utf-8", "replace"))
            )
        streams.append(s)
        groups.append(cg)
        if arg == b"$":
            if xreadgroup:
                raise err(
                    "The $ ID is meaningless in the context of XREADGROUP: you want to read the history of "
                    "this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID "
                    "would just return an empty result set."
                )
            r.ids.append(s.last_id if s is not None else (0, 0))
        elif arg == b">":
            if not xreadgroup:
                raise err(
                    "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
                )
            r.ids.append(MAX_ID)
        else:
            r.ids.append(parse_id(arg, 0, strict=True))

    resp2 = c.resp == 2
    served: list[Any] = [] if resp2 else MapPairs()  # RESP3: a map, one pair per requested key
    props: list[list[bytes]] = []
    for idx, key in enumerate(r.keys):
        s = lookup_stream(c, key)  # lookupKeyRead again, as Redis (stats count twice)
        if s is None:
            continue
        gt = r.ids[idx]
        cg = groups[idx]
        history = False
        serve = False
        if cg is not None:
            if gt != MAX_ID:
                serve = history = True
            elif s.entries and s.entries.peekitem(-1)[0] > cg.last_id:
                serve = True
                gt = cg.last_id
        elif s.entries and s.entries.peekitem(-1)[0] > gt:
            serve = True
        if not serve:
            continue
        start = incr_id(gt) or (0, 0)
        if cg is not None:
            consumer, created = _lookup_consumer(c, cg, r.consumer, key)  # type: ignore[arg-type]
            if history:
                entries = reply_from_consumer_pel(c, s, start, r.count, consumer)
            else:
                entries = reply_with_range(c, s, key, start, r.count, r.group, cg, consumer, r.noack, created, props)
            state.dirty += 1
        else:
            entries = reply_with_range(c, s, key, start, r.count)
        served.append([key, entries] if resp2 else (key, entries))
    if props:
        state.rewrite_propagation(*props)
    if served:
        return served
    if timeout == -1:
        return NULL_ARRAY
    if c.flags & CLIENT_DENY_BLOCKING:
        return NULL_ARRAY
    count = r.count or XREAD_BLOCKED_DEFAULT_COUNT
    ids = dict(zip(reversed(r.keys), reversed(r.ids)))  # a key given twice waits for its first ID

    def serve_blocked(key: bytes) -> Any:
        return _serve_blocked(c, r, ids, count, key)

    d = block_for_keys(c, r.keys, timeout, serve_blocked, NULL_ARRAY)
    if r.group is not None:
        waiter = getattr(d, "waiter", None)
        if waiter is not None:
            waiter.serve_deleted = True
    return d


def _serve_blocked(c: Client, r: _Read, ids: dict[bytes, tuple[int, int]], count: int, key: bytes) -> Any:
    """serveClientsBlockedOnStreamKey for one waiter (runs as the blocked client)."""
    state = c.state
    db = c.db
    s = db.peek(key)
    if type(s) is not RedisStream:
        if r.group is not None:
            return RedisError(ERR_KEY_DELETED)
        return NOT_READY
    gt = ids[key]
    cg = None
    if r.group is not None:
        cg = s.groups.get(r.group)
        if cg is None:
            return RedisError(ERR_NOGROUP_BLOCKED)
        gt = cg.last_id
    if not s.last_id > gt:
        return NOT_READY
    start = incr_id(gt) or (0, 0)
    props: list[list[bytes]] = []
    if cg is not None:
        consumer, created = _lookup_consumer(c, cg, r.consumer, key)  # type: ignore[arg-type]
        entries = reply_with_range(c, s, key, start, count, r.group, cg, consumer, r.noack, created, props)
    else:
        entries = reply_with_range(c, s, key, start, count)
    if props:
        if len(props) > 1:
            props = [[b"MULTI"], *props, [b"EXEC"]]
        for argv in props:
            state.propagate(db.id, argv)
    if c.resp == 2:
        return [[key, entries]]
    return {key: entries}


@command("xread", arity=-4, flags=READONLY | BLOCKING | MOVABLE_KEYS, keys=(0, 0, 0), group="stream")
def xread_command(c: Client, argv: list[bytes]):
    """XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]"""
    return _xread_generic(c, argv, False)


@command("xreadgroup", arity=-7, flags=WRITE | BLOCKING | MOVABLE_KEYS, keys=(0, 0, 0), group="stream")
def xreadgroup_command(c: Client, argv: list[bytes]):
    """XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK]
    STREAMS key [key ...] id [id ...]"""
    return _xread_generic(c, argv, True)


# ------------------------------------------------------------------ XACK


@command("xack", arity=-4, flags=WRITE | FAST, keys=(1, 1, 1), group="stream")
def xack_command(c: Client, argv: list[bytes]):
    """XACK key group id [id ...]"""
    s = lookup_stream(c, argv[1])
    cg = s.groups.get(argv[2]) if s is not None else None
    if cg is None:
        return 0
    ids = [parse_id(a, 0, strict=True) for a in argv[3:]]  # all or nothing
    acked = 0
    for sid in ids:
        if cg.ack(sid):
            acked += 1
    c.state.dirty += acked
    return acked


# ------------------------------------------------------------------ XGROUP

container("xgroup", arity=-2, group="stream")

XGROUP_HELP = [
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
]


def _subcommand_syntax_error(argv: list[bytes]) -> RedisError:
    """addReplySubcommandSyntaxError: the subcommand as the user typed it."""
    return err(
        "unknown subcommand or wrong number of arguments for '%.128s'. Try XGROUP HELP."
        % argv[1].decode("utf-8", "replace")
    )


def _xgroup_prologue(c: Client, argv: list[bytes]) -> tuple[RedisStream | None, StreamCG | None, bool, int]:
    """xgroupCommand's common part: options (MKSTREAM, ENTRIESREAD), the key (it must exist
    unless MKSTREAM), the group (it must exist for SETID, CREATECONSUMER, DELCONSUMER)."""
    opt = argv[1].lower()
    create = opt == b"create"
    setid = opt == b"setid"
    mkstream = False
    entries_read = SCG_INVALID_ENTRIES_READ
    argc = len(argv)
    i = 5
    while i < argc:
        a = argv[i].lower()
        if create and a == b"mkstream":
            mkstream = True
            i += 1
        elif (create or setid) and a == b"entriesread" and i + 1 < argc:
            v = parse_int(argv[i + 1])
            if v is None:
                raise RedisError("ERR value is not an integer or out of range")
            if v < 0 and v != SCG_INVALID_ENTRIES_READ:
                raise err("value for ENTRIESREAD must be positive or -1")
            entries_read = v
            i += 2
        else:
            raise _subcommand_syntax_error(argv)
    key = argv[2]
    s = lookup_stream(c, key, write=True)
    cg = None
    if not mkstream:
        if s is None:
            raise err(
                "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use "
                "the MKSTREAM option to create an empty stream automatically."
            )
        cg = s.groups.get(argv[3])
        if cg is None and opt in (b"setid", b"createconsumer", b"delconsumer"):
            raise RedisError(
                "NOGROUP No such consumer group '%s' for key name '%s'"
                % (argv[3].decode("utf-8", "replace"), key.decode("utf-8", "replace"))
            )
    elif s is not None:
        cg = s.groups.get(argv[3])
    return s, cg, mkstream, entries_read


@command("xgroup|create", arity=-5, flags=WRITE | DENYOOM, keys=(2, 2, 1), group="stream")
def xgroup_create_command(c: Client, argv: list[bytes]):
    """XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries_read]"""
    s, _, _, entries_read = _xgroup_prologue(c, argv)
    if len(argv) > 8:
        raise _subcommand_syntax_error(argv)
    key = argv[2]
    if argv[4] == b"$":
        sid = s.last_id if s is not None else (0, 0)
    else:
        sid = parse_id(argv[4], 0, strict=True)
    state = c.state
    if s is None:
        s = RedisStream()
        c.db.add(key, s)  # signals the key as modified (WATCH) as Redis's dbAdd + signalModifiedKey
    if s.create_group(argv[3], sid, entries_read) is None:
        raise RedisError("BUSYGROUP Consumer Group name already exists")
    state.dirty += 1
    state.notify_keyspace_event("t", b"xgroup-create", key, c.db.id)
    return OK


@command("xgroup|setid", arity=-5, flags=WRITE, keys=(2, 2, 1), group="stream")
def xgroup_setid_command(c: Client, argv: list[bytes]):
    """XGROUP SETID key group id|$ [ENTRIESREAD entries_read]"""
    s, cg, _, entries_read = _xgroup_prologue(c, argv)
    if len(argv) not in (5, 7):
        raise _subcommand_syntax_error(argv)
    assert s is not None and cg is not None
    if argv[4] == b"$":
        sid = s.last_id
    else:
        sid = parse_id(argv[4], 0)
    cg.last_id = sid
    cg.entries_read = entries_read
    state = c.state
    state.dirty += 1
    state.notify_keyspace_event("t", b"xgroup-setid", argv[2], c.db.id)
    return OK


@command("xgroup|destroy", arity=4, flags=WRITE, keys=(2, 2, 1), group="stream")
def xgroup_destroy_command(c: Client, argv: list[bytes]):
    """XGROUP DESTROY key group"""
    s, cg, _, _ = _xgroup_prologue(c, argv)
    if cg is None:
        return 0
    assert s is not None
    del s.groups[argv[3]]
    state = c.state
    state.dirty += 1
    state.notify_keyspace_event("t", b"xgroup-destroy", argv[2], c.db.id)
    state.signal_key_as_ready(c.db, argv[2])  # blocked XREADGROUPs get -NOGROUP
    return 1


@command("xgroup|createconsumer", arity=5, flags=WRITE | DENYOOM, keys=(2, 2, 1), group="stream")
def xgroup_createconsumer_command(c: Client, argv: list[bytes]):
    """XGROUP CREATECONSUMER key group consumer"""
    _, cg, _, _ = _xgroup_prologue(c, argv)
    assert cg is not None
    state = c.state
    if cg.create_consumer(argv[4], state.mstime) is None:
        return 0
    state.dirty += 1
    state.notify_keyspace_event("t", b"xgroup-createconsumer", argv[2], c.db.id)
    return 1


@command("xgroup|delconsumer", arity=5, flags=WRITE, keys=(2, 2, 1), group="stream")
def xgroup_delconsumer_command(c: Client, argv: list[bytes]):
    """XGROUP DELCONSUMER key group consumer"""
    _, cg, _, _ = _xgroup_prologue(c, argv)
    assert cg is not None
    consumer = cg.consumers.get(argv[4])
    if consumer is None:
        return 0
    pending = cg.delete_consumer(consumer)
    state = c.state
    state.dirty += 1
    state.notify_keyspace_event("t", b"xgroup-delconsumer", argv[2], c.db.id)
    return pending


@command("xgroup|help", arity=2, flags=LOADING | STALE, keys=(0, 0, 0), group="stream")
def xgroup_help_command(c: Client, argv: list[bytes]):
    """XGROUP HELP"""
    return help_reply("XGROUP", XGROUP_HELP)


__all__ = ["reply_from_consumer_pel", "reply_with_range"]
