"""The cursor scan of one collection value: HSCAN, SSCAN and ZSCAN (Redis's scanGenericCommand
with a value object).

Use from a command (the cursor is parsed BEFORE the key lookup, and a missing key answers the
empty scan without looking at the options, as Redis's hscanCommand / sscanCommand / zscanCommand)::

    from .keys import parse_scan_cursor
    from .scan_collections import EMPTY_SCAN, scan_collection

    @command("hscan", arity=-3, flags=READONLY, keys=(1, 1, 1), group="hash")
    def hscan_command(c, argv):
        cursor = parse_scan_cursor(argv[2])
        h = c.db.lookup_read(argv[1])
        if h is None:
            return EMPTY_SCAN()
        if type(h) is not RedisHash:
            raise WrongTypeError()
        return scan_collection(c, argv, cursor, h, not h.ht, lambda: list(h), h.get)

    # SSCAN:  scan_collection(c, argv, cursor, s, not s.ht, s.members)              (no lookup)
    # ZSCAN:  scan_collection(c, argv, cursor, z, not z.ht, lambda: list(z.dict),
    #                         lambda m: None if (d := z.dict.get(m)) is None else format_score(d))

``scan_collection(c, argv, cursor, value, small, items, lookup=None) -> [cursor_bytes, flat_list]``

* ``argv``: the whole command; options start at ``argv[3]``: ``MATCH pattern``, ``COUNT n``
  (not an integer: ``ERR value is not an integer or out of range``; below 1: syntax error),
  anything else (TYPE included, an option missing its value too): ``ERR syntax error``.
* ``cursor``: from ``keys.parse_scan_cursor(argv[2])``.
* ``value``: the collection object itself; its identity names the scan's snapshot, and for a
  set-like scan (``lookup`` None) ``elem in value`` tells whether an element is still there.
* ``small``: True when the value is in its small encoding (listpack / intset). Redis then answers
  every element in one reply with cursor 0, whatever the cursor and COUNT.
* ``items()``: the elements (fields / members) in the value's iteration order (called once per
  scan for a big value, once per call for a small one).
* ``lookup(elem)``: for pair scans (hash, zset) the element's current value as ``bytes``
  (a zset score formatted as Redis: ``format_score``), or None when the element is gone. The
  reply is then flat ``[field, value, field, value, ...]`` and MATCH applies to fields only.

Big encodings walk a snapshot, as keys.py's SCAN does: a nonzero cursor is
``(snapshot_id << 40) | offset`` into ``items()`` taken when the scan started (cursor 0). Each call
returns up to COUNT elements still present (looking at no more than 10*COUNT snapshot entries),
then MATCH filters. Every element present for the whole scan is returned exactly once; an unknown
cursor (evicted snapshot, other value, made up) restarts from a fresh snapshot, or ends the scan
when its offset is past the value's size. Snapshots live in a small LRU on the server state.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ..client import Client
from ..glob import compile_matcher
from .keys import parse_scan_options

__all__ = ["EMPTY_SCAN", "format_score", "scan_collection"]

OFFSET_BITS = 40
OFFSET_MASK = (1 << OFFSET_BITS) - 1
ID_MAX = (1 << (64 - OFFSET_BITS)) - 1
MAX_SNAPSHOTS = 32
MAX_SNAPSHOT_ITEMS = 4_000_000


def EMPTY_SCAN() -> list[Any]:
    """shared.emptyscan: the reply for a missing key (a fresh list each time)."""
    return [b"0", []]


def format_score(d: float) -> bytes:
    """A zset score as ZSCAN shows it (listpack d2string / skiplist ld2string LD_STR_AUTO,
    which agree for doubles): ``%.17g``, integers without a point, ``inf`` / ``-inf``."""
    if d == float("inf"):
        return b"inf"
    if d == float("-inf"):
        return b"-inf"
    return b"%.17g" % d


class CollectionScans:
    """The bounded LRU of scan snapshots: id -> (value object, items list)."""

    def __init__(self) -> None:
        self.entries: OrderedDict[int, tuple[Any, list[bytes]]] = OrderedDict()
        self.total = 0
        self.next_id = 1

    def new(self, value: Any, items: list[bytes]) -> int:
        sid = self.next_id
        self.next_id = sid + 1 if sid < ID_MAX else 1
        self.drop(sid)
        self.entries[sid] = (value, items)
        self.total += len(items)
        while len(self.entries) > 1 and (len(self.entries) > MAX_SNAPSHOTS or self.total > MAX_SNAPSHOT_ITEMS):
            self.drop(next(iter(self.entries)))
        return sid

    def get(self, sid: int, value: Any) -> list[bytes] | None:
        e = self.entries.get(sid)
        if e is None or e[0] is not value:
            return None
        self.entries.move_to_end(sid)
        return e[1]

    def drop(self, sid: int) -> None:
        e = self.entries.pop(sid, None)
        if e is not None:
            self.total -= len(e[1])


def _scans(state: Any) -> CollectionScans:
    s = state.__dict__.get("collection_scans")
    if s is None:
        s = state.collection_scans = CollectionScans()
    return s


def scan_collection(
    c: Client,
    argv: list[bytes],
    cursor: int,
    value: Any,
    small: bool,
    items: Callable[[], list[bytes]],
    lookup: Callable[[bytes], bytes | None] | None = None,
) -> list[Any]:
    """scanGenericCommand for one collection value; see the module docstring."""
    count, pattern, _ = parse_scan_options(argv, 3)
    elems: list[bytes]
    next_cursor = 0
    if small:
        elems = items()
    else:
        scans = _scans(c.state)
        snap = None
        sid = off = 0
        if cursor:
            sid = cursor >> OFFSET_BITS
            off = cursor & OFFSET_MASK
            snap = scans.get(sid, value)
            if snap is None and off >= len(value):
                return [b"0", []]
        if snap is None and len(value) <= count:
            elems = items()
        else:
            if snap is None:
                snap = items()
                sid = scans.new(value, snap)
                off = 0
            elems = []
            end = len(snap)
            limit = min(end, off + count * 10)
            if lookup is None:
                while off < limit and len(elems) < count:
                    e = snap[off]
                    off += 1
                    if e in value:
                        elems.append(e)
            else:
                while off < limit and len(elems) < count:
                    e = snap[off]
                    off += 1
                    if lookup(e) is not None:
                        elems.append(e)
            if off >= end:
                scans.drop(sid)
            else:
                next_cursor = (sid << OFFSET_BITS) | off
    if pattern is not None and elems:
        elems = list(filter(compile_matcher(pattern), elems))
    if lookup is None:
        return [b"%d" % next_cursor, elems]
    out: list[bytes] = []
    for e in elems:
        out.append(e)
        out.append(lookup(e))  # type: ignore[arg-type]
    return [b"%d" % next_cursor, out]
