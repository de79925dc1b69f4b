"""XINFO (Redis 7.0.15's t_stream.c xinfoCommand / xinfoReplyWithStreamInfo).

  XINFO STREAM key [FULL [COUNT n]]
  XINFO GROUPS key
  XINFO CONSUMERS key group
  XINFO HELP

Replies are maps (flat arrays in RESP2) in Redis's field order. Two fields describe Redis's
memory layout rather than the data: ``radix-tree-keys`` is the number of listpack nodes (the
stream's rax holds one key per node, its master ID) and ``radix-tree-nodes`` is that rax's
``numnodes``. The rax shape of a set of equal-length keys does not depend on the insertion and
removal history (raxInsert splits a compressed node only where a new branch starts; raxRemove
frees the dead chain and re-compresses the single-child chain around the removal point), so it
is computed from the node master IDs alone (``rax_numnodes``); checked against redis-server
7.0.15 with one node per entry over random inserts, XDELs and trims.

7.0.15 has no ``active-time`` / ``inactive`` fields (7.2 added them): consumers show
``seen-time`` (FULL) and ``idle`` (CONSUMERS), both from the consumer's last interaction.
"""

from __future__ import annotations

import struct
from typing import Any

from ..client import Client
from ..datatypes.stream import SCG_INVALID_ENTRIES_READ, RedisStream, format_id
from ..errors import RedisError
from .args import option_word, to_int
from .streams import entries_reply, lookup_stream
from .table import LOADING, READONLY, STALE, command, container, help_reply

__all__ = ["rax_numnodes"]

container("xinfo", arity=-2, group="stream")

XINFO_HELP = [
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
]

_ID = struct.Struct(">QQ")  # streamEncodeID: ms and seq, big endian


# ------------------------------------------------------------------ rax shape


def rax_numnodes(keys: list[bytes]) -> int:
    """rax->numnodes of a rax holding ``keys`` (all of one length, no duplicates).

    Every rax has its head node. Below a position where the remaining keys share a prefix of
    k >= 1 bytes, rax keeps one node for it (compressed, or a plain one-child node when k is 1);
    where they differ it keeps one branching node with a child position per distinct byte; a
    key ends in its own (empty) key node."""
    if not keys:
        return 1
    ks = sorted(keys)
    klen = len(ks[0])

    def count(lo: int, hi: int, depth: int) -> int:
        if depth == klen:
            return 1  # the key node
        first, last = ks[lo], ks[hi - 1]  # sorted: their common prefix is the range's
        k = depth
        while k < klen and first[k] == last[k]:
            k += 1
        if k > depth:
            return 1 + count(lo, hi, k)
        n = 1
        i = lo
        while i < hi:
            b = ks[i][depth]
            j = i + 1
            while j < hi and ks[j][depth] == b:
                j += 1
            n += count(i, j, depth + 1)
            i = j
        return n

    return count(0, len(ks), 0)


# ------------------------------------------------------------------ helpers


def _syntax(argv: list[bytes]) -> RedisError:
    """addReplySubcommandSyntaxError"""
    return RedisError(
        "ERR unknown subcommand or wrong number of arguments for '{:.128}'. Try {} HELP.".format(
            argv[1].decode("utf-8", "replace"), argv[0].decode("utf-8", "replace").upper()
        )
    )


def _cstr(b: bytes) -> str:
    """A ``%s`` of an sds in an error: cut at the first NUL."""
    n = b.find(b"\0")
    return (b if n < 0 else b[:n]).decode("utf-8", "replace")


def _lookup(c: Client, key: bytes) -> RedisStream:
    """lookupKeyReadOrReply(shared.nokeyerr) + checkType."""
    s = lookup_stream(c, key)
    if s is None:
        raise RedisError("ERR no such key")
    return s


# ------------------------------------------------------------------ commands


@command("xinfo|help", arity=2, flags=LOADING | STALE, keys=(0, 0, 0), group="stream")
def xinfo_help_command(c: Client, argv: list[bytes]):
    """XINFO HELP"""
    return help_reply("XINFO", XINFO_HELP)


@command("xinfo|consumers", arity=4, flags=READONLY, keys=(2, 2, 1), group="stream")
def xinfo_consumers_command(c: Client, argv: list[bytes]):
    """XINFO CONSUMERS key group"""
    key, group = argv[2], argv[3]
    s = _lookup(c, key)
    cg = s.groups.get(group)
    if cg is None:
        raise RedisError(f"NOGROUP No such consumer group '{_cstr(group)}' for key name '{_cstr(key)}'")
    now = c.state.mstime
    out = []
    for name, consumer in cg.consumers.items():
        out.append({b"name": name, b"pending": len(consumer.pel), b"idle": max(0, now - consumer.seen_time)})
    return out


@command("xinfo|groups", arity=3, flags=READONLY, keys=(2, 2, 1), group="stream")
def xinfo_groups_command(c: Client, argv: list[bytes]):
    """XINFO GROUPS key"""
    return _lookup(c, argv[2]).groups_info()


@command("xinfo|stream", arity=-3, flags=READONLY, keys=(2, 2, 1), group="stream")
def xinfo_stream_command(c: Client, argv: list[bytes]):
    """XINFO STREAM key [FULL [COUNT count]]"""
    s = _lookup(c, argv[2])
    opts = argv[3:]
    full = bool(opts)
    count = 10  # so a big stream does not block the server
    if opts:
        if len(opts) not in (1, 3) or option_word(opts[0]) != b"full":
            raise _syntax(argv)
        if len(opts) == 3:
            if option_word(opts[1]) != b"count":
                raise _syntax(argv)
            count = to_int(opts[2])
            if count < 0:
                count = 10
    node_ids = s.node_ids()  # the listpack nodes' master IDs: the rax keys
    reply: dict[bytes, Any] = {
        b"length": len(s.entries),
        b"radix-tree-keys": len(node_ids),
        b"radix-tree-nodes": rax_numnodes([_ID.pack(*m) for m in node_ids]),
        b"last-generated-id": format_id(s.last_id),
        b"max-deleted-entry-id": format_id(s.max_deleted_entry_id),
        b"entries-added": s.entries_added,
        b"recorded-first-entry-id": format_id(s.first_id),
    }
    if not full:
        first, last = s.first_entry(), s.last_entry()
        reply[b"groups"] = len(s.groups)
        reply[b"first-entry"] = None if first is None else [format_id(first[0]), first[1]]
        reply[b"last-entry"] = None if last is None else [format_id(last[0]), last[1]]
        return reply
    reply[b"entries"] = entries_reply(s.range(count=count or None))
    reply[b"groups"] = [_group_full(s, name, cg, count) for name, cg in s.groups.items()]
    return reply


def _group_full(s: RedisStream, name: bytes, cg: Any, count: int) -> dict[bytes, Any]:
    """One group of XINFO STREAM FULL: its PEL and consumers, each list cut at ``count``
    (0 = all)."""
    pending = []
    for sid, nack in cg.pel.items():
        if count and len(pending) >= count:
            break
        owner = nack.consumer.name if nack.consumer is not None else b""
        pending.append([format_id(sid), owner, nack.delivery_time, nack.delivery_count])
    consumers = []
    for cname, consumer in cg.consumers.items():
        cpel = []
        for sid, nack in consumer.pel.items():
            if count and len(cpel) >= count:
                break
            cpel.append([format_id(sid), nack.delivery_time, nack.delivery_count])
        consumers.append(
            {
                b"name": cname,
                b"seen-time": consumer.seen_time,
                b"pel-count": len(consumer.pel),
                b"pending": cpel,
            }
        )
    return {
        b"name": name,
        b"last-delivered-id": format_id(cg.last_id),
        b"entries-read": None if cg.entries_read == SCG_INVALID_ENTRIES_READ else cg.entries_read,
        b"lag": s.group_lag(cg),
        b"pel-count": len(cg.pel),
        b"pending": pending,
        b"consumers": consumers,
    }
