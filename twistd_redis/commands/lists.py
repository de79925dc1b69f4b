"""List commands and the blocking list pops (Redis 7.0's t_list.c and its part of blocked.c).

A list value is a ``RedisList`` (a deque of bytes): pushes and pops at both ends are O(1);
LINDEX/LSET walk from the nearer end; LRANGE copies only the requested range.

Side effects follow Redis 7.0 exactly: ``dirty`` grows by the number of elements pushed,
popped, removed or trimmed; keyspace events fire in Redis's order (the pop event, then ``del``
when the list was emptied, which deletes the key).

Blocking commands (BLPOP, BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH) that find data behave as their
non-blocking twin and propagate as it (BLPOP -> LPOP key, BLMPOP -> LPOP key n, BLMOVE -> LMOVE,
BRPOPLPUSH -> RPOPLPUSH). Otherwise they block (blocking.py); when a key becomes ready the
``serve`` closure pops for the waiter, propagates the pop itself, and answers it, as Redis's
serveClientBlockedOnList does - which, unlike the direct path, does not bump ``dirty`` for
BLPOP/BRPOP/BLMOVE (the push that woke them did). A timeout answers a null array, for BLMOVE
and BRPOPLPUSH too (Redis 7.0's replyToBlockedClientTimedOut); inside MULTI BLMOVE and
BRPOPLPUSH answer a null bulk instead.
"""

from __future__ import annotations

from typing import Any

from ..blocking import NOT_READY, block_for_keys, parse_timeout
from ..client import CLIENT_DENY_BLOCKING, Client
from ..datatypes import RedisList
from ..errors import OUT_OF_RANGE, RedisError, WrongTypeError, syntax_error
from ..resp import NULL_ARRAY, OK
from .args import LLONG_MAX, LLONG_MIN, to_int, to_int_range
from .table import BLOCKING, DENYOOM, FAST, MOVABLE_KEYS, NOSCRIPT, READONLY, WRITE, command

LIST_HEAD = True
LIST_TAIL = False

_POSITIVE = "ERR value is out of range, must be positive"


def _where(arg: bytes) -> bool:
    """getListPositionFromObjectOrReply: LEFT or RIGHT, any case."""
    a = arg.lower()
    if a == b"left":
        return LIST_HEAD
    if a == b"right":
        return LIST_TAIL
    raise syntax_error()


def _read(c: Client, key: bytes) -> Any:
    v = c.db.lookup_read(key)
    if v is None or type(v) is RedisList:
        return v
    raise WrongTypeError()


def _write(c: Client, key: bytes) -> Any:
    v = c.db.lookup_write(key)
    if v is None or type(v) is RedisList:
        return v
    raise WrongTypeError()


def _elements_removed(c: Client, key: bytes, head: bool, lst: RedisList, count: int) -> None:
    """listElementsRemoved: the pop event, ``del`` (and the key goes) when emptied, WATCH,
    dirty += count."""
    state = c.state
    db = c.db
    state.notify_keyspace_event("l", b"lpop" if head else b"rpop", key, db.id)
    if not lst:
        db.delete(key)
        state.notify_keyspace_event("g", b"del", key, db.id)
    state.signal_modified_key(db, key)
    state.dirty += count


# ---------------------------------------------------------------- push


def _push_generic(c: Client, argv: list[bytes], head: bool, xx: bool) -> int:
    """pushGenericCommand: LPUSH/RPUSH, and LPUSHX/RPUSHX (``xx``: only an existing list)."""
    key = argv[1]
    db = c.db
    state = c.state
    lst = _write(c, key)
    if lst is None:
        if xx:
            return 0
        lst = RedisList()
        db.add(key, lst)
    elif state.blocking_keys:
        state.signal_key_as_ready(db, key)
    if head:
        lst.extendleft(argv[2:])
    else:
        lst.extend(argv[2:])
    state.dirty += len(argv) - 2
    state.signal_modified_key(db, key)
    state.notify_keyspace_event("l", b"lpush" if head else b"rpush", key, db.id)
    return len(lst)


@command("lpush", arity=-3, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="list")
def lpush_command(c: Client, argv: list[bytes]):
    """LPUSH key element [element ...]"""
    return _push_generic(c, argv, LIST_HEAD, False)


@command("rpush", arity=-3, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="list")
def rpush_command(c: Client, argv: list[bytes]):
    """RPUSH key element [element ...]"""
    return _push_generic(c, argv, LIST_TAIL, False)


@command("lpushx", arity=-3, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="list")
def lpushx_command(c: Client, argv: list[bytes]):
    """LPUSHX key element [element ...]"""
    return _push_generic(c, argv, LIST_HEAD, True)


@command("rpushx", arity=-3, flags=WRITE | DENYOOM | FAST, keys=(1, 1, 1), group="list")
def rpushx_command(c: Client, argv: list[bytes]):
    """RPUSHX key element [element ...]"""
    return _push_generic(c, argv, LIST_TAIL, True)


# ---------------------------------------------------------------- pop


def _pop_generic(c: Client, argv: list[bytes], head: bool) -> Any:
    """popGenericCommand: [LR]POP key [count]. A count makes the reply an array (a null
    array for a missing key, empty for count 0); the count is checked before the key."""
    if len(argv) > 3:
        raise RedisError("ERR wrong number of arguments for '%s' command" % ("lpop" if head else "rpop"))
    hascount = len(argv) == 3
    count = 0
    if hascount:
        count = to_int_range(argv[2], 0, LLONG_MAX, _POSITIVE)
    key = argv[1]
    lst = _write(c, key)
    if lst is None:
        return NULL_ARRAY if hascount else None
    if hascount and not count:
        return []
    if not hascount:
        value = lst.popleft() if head else lst.pop()
        _elements_removed(c, key, head, lst, 1)
        return value
    out = lst.pop_range(head, count)
    _elements_removed(c, key, head, lst, len(out))
    return out


@command("lpop", arity=-2, flags=WRITE | FAST, keys=(1, 1, 1), group="list")
def lpop_command(c: Client, argv: list[bytes]):
    """LPOP key [count]"""
    return _pop_generic(c, argv, LIST_HEAD)


@command("rpop", arity=-2, flags=WRITE | FAST, keys=(1, 1, 1), group="list")
def rpop_command(c: Client, argv: list[bytes]):
    """RPOP key [count]"""
    return _pop_generic(c, argv, LIST_TAIL)


# ---------------------------------------------------------------- reads


@command("llen", arity=2, flags=READONLY | FAST, keys=(1, 1, 1), group="list")
def llen_command(c: Client, argv: list[bytes]):
    """LLEN key"""
    lst = _read(c, argv[1])
    return 0 if lst is None else len(lst)


@command("lrange", arity=4, flags=READONLY, keys=(1, 1, 1), group="list")
def lrange_command(c: Client, argv: list[bytes]):
    """LRANGE key start stop"""
    start = to_int(argv[2])
    end = to_int(argv[3])
    lst = _read(c, argv[1])
    if lst is None:
        return []
    n = len(lst)
    if start < 0:
        start += n
    if end < 0:
        end += n
    start = max(start, 0)
    if start > end or start >= n:
        return []
    if end >= n:
        end = n - 1
    return lst.range(start, end)


@command("lindex", arity=3, flags=READONLY, keys=(1, 1, 1), group="list")
def lindex_command(c: Client, argv: list[bytes]):
    """LINDEX key index (the key is looked up before the index is parsed, as Redis)"""
    lst = _read(c, argv[1])
    if lst is None:
        return None
    index = to_int(argv[2])
    n = len(lst)
    if index < 0:
        index += n
    if index < 0 or index >= n:
        return None
    return lst[index]


@command("lpos", arity=-3, flags=READONLY, keys=(1, 1, 1), group="list")
def lpos_command(c: Client, argv: list[bytes]):
    """LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]"""
    rank = 1
    count = -1
    maxlen = 0
    argc = len(argv)
    j = 3
    while j < argc:
        opt = argv[j].lower()
        moreargs = argc - 1 - j
        if opt == b"rank" and moreargs:
            j += 1
            rank = to_int(argv[j])
            if rank == 0:
                raise RedisError(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
                    "or use negative to start from the end of the list"
                )
        elif opt == b"count" and moreargs:
            j += 1
            count = to_int_range(argv[j], 0, LLONG_MAX, "ERR COUNT can't be negative")
        elif opt == b"maxlen" and moreargs:
            j += 1
            maxlen = to_int_range(argv[j], 0, LLONG_MAX, "ERR MAXLEN can't be negative")
        else:
            raise syntax_error()
        j += 1
    from_tail = False
    # -LONG_MIN wraps to LONG_MIN in C: every match then qualifies and a COUNT never stops
    # the scan (matches - rank + 1 overflows negative). Matched on purpose.
    overflow = rank == LLONG_MIN
    if rank < 0:
        from_tail = True
        if not overflow:
            rank = -rank
    lst = _read(c, argv[1])
    if lst is None:
        return [] if count != -1 else None
    element = argv[2]
    n = len(lst)
    it = reversed(lst) if from_tail else iter(lst)
    matches = 0
    out: list[int] = []
    for index, e in enumerate(it):
        if maxlen and index >= maxlen:
            break
        if e == element:
            matches += 1
            if matches >= rank:
                pos = n - index - 1 if from_tail else index
                if count == -1:
                    return pos
                out.append(pos)
                if count and not overflow and matches - rank + 1 >= count:
                    break
    return out if count != -1 else None


# ---------------------------------------------------------------- in-place writes


@command("lset", arity=4, flags=WRITE | DENYOOM, keys=(1, 1, 1), group="list")
def lset_command(c: Client, argv: list[bytes]):
    """LSET key index element"""
    key = argv[1]
    lst = _write(c, key)
    if lst is None:
        raise RedisError("ERR no such key")
    index = to_int(argv[2])
    n = len(lst)
    if index < 0:
        index += n
    if index < 0 or index >= n:
        raise RedisError(OUT_OF_RANGE)
    lst[index] = argv[3]
    state = c.state
    state.signal_modified_key(c.db, key)
    state.notify_keyspace_event("l", b"lset", key, c.db.id)
    state.dirty += 1
    return OK


@command("linsert", arity=5, flags=WRITE | DENYOOM, keys=(1, 1, 1), group="list")
def linsert_command(c: Client, argv: list[bytes]):
    """LINSERT key BEFORE|AFTER pivot element"""
    where = argv[2].lower()
    if where == b"after":
        after = True
    elif where == b"before":
        after = False
    else:
        raise syntax_error()
    key = argv[1]
    lst = _write(c, key)
    if lst is None:
        return 0
    try:
        i = lst.index(argv[3])
    except ValueError:
        return -1
    lst.insert(i + 1 if after else i, argv[4])
    state = c.state
    db = c.db
    state.signal_modified_key(db, key)
    state.notify_keyspace_event("l", b"linsert", key, db.id)
    state.dirty += 1
    return len(lst)


@command("lrem", arity=4, flags=WRITE, keys=(1, 1, 1), group="list")
def lrem_command(c: Client, argv: list[bytes]):
    """LREM key count element (count > 0 from the head, < 0 from the tail, 0 all)"""
    toremove = to_int(argv[2])
    key = argv[1]
    lst = _write(c, key)
    if lst is None:
        return 0
    element = argv[3]
    limit = abs(toremove) if toremove else -1
    # Find the matches from the chosen end, stopping at the limit (LREM k 1 x near the head
    # walks only that far); delete a few in place, or rebuild once when there are many.
    n = len(lst)
    found: list[int] = []
    if toremove < 0:
        for i, e in enumerate(reversed(lst)):
            if e == element:
                found.append(n - 1 - i)
                if len(found) == limit:
                    break
    else:
        for i, e in enumerate(lst):
            if e == element:
                found.append(i)
                if len(found) == limit:
                    break
    removed = len(found)
    state = c.state
    db = c.db
    if removed:
        if removed <= 16:
            for i in sorted(found, reverse=True):
                del lst[i]  # O(distance to the nearer end)
        else:
            drop = set(found)
            kept = [e for i, e in enumerate(lst) if i not in drop]
            lst.clear()
            lst.extend(kept)
        state.notify_keyspace_event("l", b"lrem", key, db.id)
    if not lst:
        db.delete(key)
        state.notify_keyspace_event("g", b"del", key, db.id)
    if removed:
        state.signal_modified_key(db, key)
        state.dirty += removed
    return removed


@command("ltrim", arity=4, flags=WRITE, keys=(1, 1, 1), group="list")
def ltrim_command(c: Client, argv: list[bytes]):
    """LTRIM key start stop"""
    start = to_int(argv[2])
    end = to_int(argv[3])
    key = argv[1]
    lst = _write(c, key)
    if lst is None:
        return OK
    n = len(lst)
    if start < 0:
        start += n
    if end < 0:
        end += n
    start = max(start, 0)
    if start > end or start >= n:
        ltrim, rtrim = n, 0
    else:
        if end >= n:
            end = n - 1
        ltrim, rtrim = start, n - end - 1
    if ltrim == n:
        lst.clear()
    else:
        for _ in range(ltrim):
            lst.popleft()
        for _ in range(rtrim):
            lst.pop()
    state = c.state
    db = c.db
    state.notify_keyspace_event("l", b"ltrim", key, db.id)
    if not lst:
        db.delete(key)
        state.notify_keyspace_event("g", b"del", key, db.id)
    state.signal_modified_key(db, key)
    state.dirty += ltrim + rtrim
    return OK


# ---------------------------------------------------------------- move


def _lmove_push(c: Client, dstkey: bytes, dst: Any, value: bytes, head: bool) -> None:
    """lmoveHandlePush: create the destination if needed, WATCH, push, the push event."""
    db = c.db
    state = c.state
    if dst is None:
        dst = RedisList()
        db.add(dstkey, dst)
    elif state.blocking_keys:
        state.signal_key_as_ready(db, dstkey)
    state.signal_modified_key(db, dstkey)
    if head:
        dst.appendleft(value)
    else:
        dst.append(value)
    state.notify_keyspace_event("l", b"lpush" if head else b"rpush", dstkey, db.id)


def _lmove_generic(c: Client, src: bytes, dstkey: bytes, wherefrom: bool, whereto: bool) -> Any:
    """lmoveGenericCommand: pop from ``src``, push onto ``dstkey``, reply the element. The
    destination's type is checked before anything moves."""
    lst = _write(c, src)
    if lst is None:
        return None
    dst = c.db.lookup_write(dstkey)
    if dst is not None and type(dst) is not RedisList:
        raise WrongTypeError()
    value = lst.popleft() if wherefrom else lst.pop()
    _lmove_push(c, dstkey, dst, value, whereto)
    state = c.state
    db = c.db
    state.notify_keyspace_event("l", b"lpop" if wherefrom else b"rpop", src, db.id)
    if not lst:
        db.delete(src)
        state.notify_keyspace_event("g", b"del", src, db.id)
    state.signal_modified_key(db, src)
    state.dirty += 1
    return value


def _position(where: bool) -> bytes:
    """getStringObjectFromListPosition: Redis's shared "left" / "right" (lower case) in the
    LMOVE a served BLMOVE propagates."""
    return b"left" if where else b"right"


@command("lmove", arity=5, flags=WRITE | DENYOOM, keys=(1, 2, 1), group="list")
def lmove_command(c: Client, argv: list[bytes]):
    """LMOVE source destination LEFT|RIGHT LEFT|RIGHT"""
    wherefrom = _where(argv[3])
    whereto = _where(argv[4])
    return _lmove_generic(c, argv[1], argv[2], wherefrom, whereto)


@command("rpoplpush", arity=3, flags=WRITE | DENYOOM, keys=(1, 2, 1), group="list")
def rpoplpush_command(c: Client, argv: list[bytes]):
    """RPOPLPUSH source destination"""
    return _lmove_generic(c, argv[1], argv[2], LIST_TAIL, LIST_HEAD)


# ---------------------------------------------------------------- LMPOP


def _parse_mpop(argv: list[bytes], numkeys_idx: int) -> tuple[list[bytes], bool, int]:
    """lmpopGenericCommand's parsing: (keys, where, count)."""
    numkeys = to_int_range(argv[numkeys_idx], 1, LLONG_MAX, "ERR numkeys should be greater than 0")
    where_idx = numkeys_idx + numkeys + 1
    argc = len(argv)
    if where_idx >= argc:
        raise syntax_error()
    where = _where(argv[where_idx])
    count = -1
    j = where_idx + 1
    while j < argc:
        if count == -1 and argv[j].lower() == b"count" and argc - 1 - j:
            j += 1
            count = to_int_range(argv[j], 1, LLONG_MAX, "ERR count should be greater than 0")
        else:
            raise syntax_error()
        j += 1
    if count == -1:
        count = 1
    return argv[numkeys_idx + 1 : where_idx], where, count


def _pop_range_with_key(c: Client, key: bytes, lst: RedisList, head: bool, count: int) -> list[Any]:
    """listPopRangeAndReplyWithKey (+ the [LR]POP key n propagation of the direct path)."""
    n = min(count, len(lst))
    c.state.rewrite_propagation([b"LPOP" if head else b"RPOP", key, b"%d" % n])
    out = lst.pop_range(head, n)
    _elements_removed(c, key, head, lst, n)
    return [key, out]


@command("lmpop", arity=-4, flags=WRITE | MOVABLE_KEYS, keys=(0, 0, 0), group="list")
def lmpop_command(c: Client, argv: list[bytes]):
    """LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]"""
    keys, where, count = _parse_mpop(argv, 1)
    for key in keys:
        lst = _write(c, key)
        if lst:
            return _pop_range_with_key(c, key, lst, where, count)
    return NULL_ARRAY


# ---------------------------------------------------------------- blocking


def _blocking_pop(c: Client, keys: list[bytes], head: bool, timeout_arg: bytes, count: int) -> Any:
    """blockingPopGenericCommand: BLPOP/BRPOP (count -1) and BLMPOP (count >= 1)."""
    timeout = parse_timeout(timeout_arg)
    state = c.state
    for key in keys:
        lst = _write(c, key)
        if not lst:
            continue
        if count != -1:
            return _pop_range_with_key(c, key, lst, head, count)
        value = lst.popleft() if head else lst.pop()
        _elements_removed(c, key, head, lst, 1)
        state.rewrite_propagation([b"LPOP" if head else b"RPOP", key])
        return [key, value]
    if c.flags & CLIENT_DENY_BLOCKING:
        return NULL_ARRAY

    def serve(key: bytes) -> Any:
        db = c.db
        lst = db.peek(key)
        if type(lst) is not RedisList or not lst:
            return NOT_READY  # Redis 7.0 keeps a list waiter blocked on a key of another type
        pop = b"LPOP" if head else b"RPOP"
        if count != -1:
            n = min(count, len(lst))
            state.propagate(db.id, [pop, key, b"%d" % n])
            out = lst.pop_range(head, n)
            _elements_removed(c, key, head, lst, n)
            return [key, out]
        state.propagate(db.id, [pop, key])
        value = lst.popleft() if head else lst.pop()
        state.notify_keyspace_event("l", b"lpop" if head else b"rpop", key, db.id)
        if not lst:
            db.delete(key)
            state.notify_keyspace_event("g", b"del", key, db.id)
        return [key, value]

    return block_for_keys(c, keys, timeout, serve, NULL_ARRAY)


@command("blpop", arity=-3, flags=WRITE | NOSCRIPT | BLOCKING, keys=(1, -2, 1), group="list")
def blpop_command(c: Client, argv: list[bytes]):
    """BLPOP key [key ...] timeout"""
    return _blocking_pop(c, argv[1:-1], LIST_HEAD, argv[-1], -1)


@command("brpop", arity=-3, flags=WRITE | NOSCRIPT | BLOCKING, keys=(1, -2, 1), group="list")
def brpop_command(c: Client, argv: list[bytes]):
    """BRPOP key [key ...] timeout"""
    return _blocking_pop(c, argv[1:-1], LIST_TAIL, argv[-1], -1)


@command("blmpop", arity=-5, flags=WRITE | BLOCKING | MOVABLE_KEYS, keys=(0, 0, 0), group="list")
def blmpop_command(c: Client, argv: list[bytes]):
    """BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]"""
    keys, where, count = _parse_mpop(argv, 2)
    return _blocking_pop(c, keys, where, argv[1], count)


def _blmove_generic(c: Client, argv: list[bytes], wherefrom: bool, whereto: bool, timeout: int, rpoplpush: bool) -> Any:
    """blmoveGenericCommand: LMOVE when the source has data, else block on the source."""
    src, dstkey = argv[1], argv[2]
    state = c.state
    if _write(c, src) is not None:
        value = _lmove_generic(c, src, dstkey, wherefrom, whereto)
        if rpoplpush:
            state.rewrite_propagation([b"RPOPLPUSH", src, dstkey])
        else:
            state.rewrite_propagation([b"LMOVE", src, dstkey, argv[3], argv[4]])
        return value
    if c.flags & CLIENT_DENY_BLOCKING:
        return None

    def serve(key: bytes) -> Any:
        db = c.db
        lst = db.peek(key)
        if type(lst) is not RedisList or not lst:
            return NOT_READY
        dst = db.lookup_write(dstkey)
        if dst is not None and type(dst) is not RedisList:
            return WrongTypeError()  # nothing moves; the client is unblocked with the error
        value = lst.popleft() if wherefrom else lst.pop()
        _lmove_push(c, dstkey, dst, value, whereto)
        if rpoplpush:
            state.propagate(db.id, [b"RPOPLPUSH", key, dstkey])
        else:
            state.propagate(db.id, [b"LMOVE", key, dstkey, _position(wherefrom), _position(whereto)])
        state.notify_keyspace_event("l", b"lpop" if wherefrom else b"rpop", key, db.id)
        if not lst:
            db.delete(key)
            state.notify_keyspace_event("g", b"del", key, db.id)
        return value

    return block_for_keys(c, [src], timeout, serve, NULL_ARRAY)


@command("blmove", arity=6, flags=WRITE | DENYOOM | NOSCRIPT | BLOCKING, keys=(1, 2, 1), group="list")
def blmove_command(c: Client, argv: list[bytes]):
    """BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout"""
    wherefrom = _where(argv[3])
    whereto = _where(argv[4])
    timeout = parse_timeout(argv[5])
    return _blmove_generic(c, argv, wherefrom, whereto, timeout, False)


@command("brpoplpush", arity=4, flags=WRITE | DENYOOM | NOSCRIPT | BLOCKING, keys=(1, 2, 1), group="list")
def brpoplpush_command(c: Client, argv: list[bytes]):
    """BRPOPLPUSH source destination timeout"""
    timeout = parse_timeout(argv[3])
    return _blmove_generic(c, argv, LIST_TAIL, LIST_HEAD, timeout, True)
